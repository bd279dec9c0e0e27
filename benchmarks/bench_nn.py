"""Layers and a training step: gradwalk vs PyTorch (CPU), in one process, same threads.

1. ``Conv2d`` forward + backward (input, weight and bias gradients) at a few sizes.
2. A training step of the demo's network: ``python -m gradwalk demo``'s MLP on the bundled digits
   (64 -> 64 -> 64 -> 10, ReLU, cross-entropy, Adam, batch 32), forward, backward, ``step()``,
   ``zero_grad()``; and the same step of a small CNN on the digits (``examples/cnn_digits.py``'s
   shape: Conv 1->8 3x3, ReLU, MaxPool 2, Conv 8->16 3x3, ReLU, Linear, batch 64).

Both engines start from the same weights (copied from the PyTorch modules through
``load_state_dict``). The engines run interleaved, rep by rep; the tables give each engine's
best time, the ratio of the bests and the range of the per-rep ratios (a shared machine is
noisy). ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are unset for this process (NumPy's BLAS
then runs its native kernel, printed from threadpoolctl when it is installed).

Run: ``python3 benchmarks/bench_nn.py [--quick] [--repeat N] [--json out.json]``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import common  # noqa: E402

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402
from gradwalk import nn as gnn  # noqa: E402

torch = common.try_import_torch()

CONV_CASES = [  # (batch, in_ch, out_ch, H, W, kernel, stride, padding)
    (16, 3, 16, 32, 32, 3, 1, 1),
    (64, 16, 32, 16, 16, 3, 1, 1),
    (8, 32, 64, 28, 28, 5, 2, 2),
]


def _state(module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def conv_case(case, repeat: int) -> list:
    b, cin, cout, h, w, k, s, p = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((b, cin, h, w)).astype(np.float32)
    g_conv = gnn.Conv2d(cin, cout, k, stride=s, padding=p)
    gx = gradwalk.tensor(x, requires_grad=True)
    fns = {}

    def gw_step():
        out = g_conv(gx)
        out.sum().backward()
        gx.grad = None
        g_conv.zero_grad()

    fns["gradwalk"] = gw_step
    if torch is not None:
        t_conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p)
        g_conv.load_state_dict(_state(t_conv))
        tx = torch.tensor(x, requires_grad=True)

        def torch_step():
            out = t_conv(tx)
            out.sum().backward()
            tx.grad = None
            t_conv.zero_grad()

        fns["torch"] = torch_step
        # sanity: same output and gradients
        go = g_conv(gx)
        go.sum().backward()
        to = t_conv(tx)
        to.sum().backward()
        common.check(f"conv {case}", [(go.detach().numpy(), to.detach().numpy()),
                                      (gx.grad.numpy(), tx.grad.numpy()),
                                      (g_conv.weight.grad.numpy(), t_conv.weight.grad.numpy())],
                     common.RTOL_FLOAT32)
        gx.grad = None
        tx.grad = None
    ts = common.measure_interleaved(fns, warmup=2, repeat=repeat)
    label = f"{b}x{cin}x{h}x{w}, {cin}->{cout}, k{k} s{s} p{p}"
    return _row(label, ts)


def _row(label: str, ts: dict) -> list:
    """label, the bests (ms), their ratio and the range of the per-rep ratios."""
    g = ts["gradwalk"].best * 1e3
    if "torch" not in ts:
        return [label, g, None, None, "n/a"]
    t = ts["torch"].best * 1e3
    per = [a / b for a, b in zip(ts["gradwalk"].times, ts["torch"].times)]
    return [label, g, t, common.ratio(g, t), f"{min(per):.2f}-{max(per):.2f}"]


def _threadpool_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return ", ".join(f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()
                     if i.get("user_api") == "blas") or "no BLAS found"


def _digits(batch: int):
    from gradwalk.data import load_digits

    x, y = load_digits()
    x = x.numpy().astype(np.float32)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return x[:batch], y.numpy()[:batch]


def _train_step_fns(make_g, make_t, x, y, lr=1e-3):
    g_model = make_g()
    g_opt = gradwalk.optim.Adam(g_model.parameters(), lr=lr)
    g_loss = gnn.CrossEntropyLoss()
    gx, gy = gradwalk.tensor(x), gradwalk.tensor(y)

    def gw_step():
        loss = g_loss(g_model(gx), gy)
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()

    fns = {"gradwalk": gw_step}
    if torch is not None:
        t_model = make_t()
        g_model.load_state_dict(_state(t_model))
        t_opt = torch.optim.Adam(t_model.parameters(), lr=lr)
        t_loss = torch.nn.CrossEntropyLoss()
        tx, ty = torch.tensor(x), torch.tensor(y)
        common.check("initial loss", [(g_loss(g_model(gx), gy).item(),
                                       t_loss(t_model(tx), ty).item())], common.RTOL_FLOAT32)

        def torch_step():
            loss = t_loss(t_model(tx), ty)
            t_opt.zero_grad()
            loss.backward()
            t_opt.step()

        fns["torch"] = torch_step
    return fns


def mlp_step(repeat: int) -> list:
    x, y = _digits(32)

    def make_g():
        return gnn.Sequential(gnn.Linear(64, 64), gnn.ReLU(), gnn.Linear(64, 64), gnn.ReLU(),
                              gnn.Linear(64, 10))

    def make_t():
        tn = torch.nn
        return tn.Sequential(tn.Linear(64, 64), tn.ReLU(), tn.Linear(64, 64), tn.ReLU(),
                             tn.Linear(64, 10))

    ts = common.measure_interleaved(_train_step_fns(make_g, make_t, x, y), warmup=3,
                                    repeat=repeat)
    return _row("demo MLP step (64-64-64-10, Adam, batch 32)", ts)


def cnn_step(repeat: int) -> list:
    x, y = _digits(64)
    x = x.reshape(-1, 1, 8, 8)

    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(16 * 4 * 4, 10))

    ts = common.measure_interleaved(
        _train_step_fns(lambda: build(gnn), lambda: build(torch.nn), x, y), warmup=3,
        repeat=repeat)
    return _row("digits CNN step (conv-pool-conv-linear, Adam, batch 64)", ts)


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    info = common.limit_threads(torch)
    common.print_env(info)
    print(f"# BLAS kernel: {_threadpool_kernel()}")
    repeat = args.repeat or (5 if args.quick else 20)
    rows = [conv_case(c, repeat) for c in (CONV_CASES[:1] if args.quick else CONV_CASES)]
    print("\nConv2d forward + backward (ms, best of", repeat, ")")
    print(common.table(["case", "gradwalk ms", "torch ms", "gradwalk/torch", "per-rep ratios"],
                       rows))
    steps = [mlp_step(repeat * 5), cnn_step(repeat)]
    print("\nTraining steps (ms, best of", repeat, "or more)")
    print(common.table(["step", "gradwalk ms", "torch ms", "gradwalk/torch", "per-rep ratios"],
                       steps))
    common.write_json(args.json, {"conv2d": rows, "steps": steps, "threads": info})


if __name__ == "__main__":
    main()
