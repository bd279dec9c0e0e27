"""Recurrent layers: an ``nn.LSTM`` and an ``nn.GRU`` training step, gradwalk vs PyTorch (CPU).

2 layers, hidden 256, sequence 64, batch 32, input 256, float32: forward, a mean-squared loss on
the output sequence, backward (every weight's gradient), ``zero_grad``. Three engines in one
process with the same threads, timed round-robin: gradwalk's fused layers (one graph node per
layer and direction), gradwalk's composite path (one ``linear`` per step and the gate arithmetic,
what ``nn.LSTM`` recorded before the fused op; the path it still takes under forward-mode AD) and
PyTorch. All start from PyTorch's weights; the gradients are checked against PyTorch's first.
The printed ratios are gradwalk's time over PyTorch's (target: at most 2).

``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are removed from this process's environment before
NumPy loads, so OpenBLAS runs its native kernel (threadpoolctl's report is printed).

Run: ``python3 benchmarks/bench_rnn.py [--quick] [--repeat N] [--json out.json]``.
"""

from __future__ import annotations

import os

import common

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)
common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402
from gradwalk.nn.modules import rnn as g_rnn  # noqa: E402
from gradwalk.ops.rnn import composite_layer  # noqa: E402

torch = common.try_import_torch()

LAYERS, HIDDEN, SEQ, BATCH, INPUT = 2, 256, 64, 32, 256


def _blas_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return ", ".join(f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} "
                     f"({d.get('num_threads')} thr)" for d in threadpool_info()
                     if d.get("user_api") == "blas")


def _composite(fn):
    """Run ``fn`` with the module's layers on the composite path."""
    def run():
        saved = g_rnn.rnn_layer
        g_rnn.rnn_layer = composite_layer
        try:
            return fn()
        finally:
            g_rnn.rnn_layer = saved
    return run


def case(kind: str, repeat: int, seq: int) -> list:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((seq, BATCH, INPUT)).astype(np.float32)
    target = rng.standard_normal((seq, BATCH, HIDDEN)).astype(np.float32)
    g_mod = getattr(gradwalk.nn, kind)(INPUT, HIDDEN, num_layers=LAYERS)
    gx, gt = gradwalk.tensor(x), gradwalk.tensor(target)

    def gw_step():
        out, _ = g_mod(gx)
        loss = ((out - gt) ** 2).mean()
        loss.backward()
        grads = [p.grad for p in g_mod.parameters()]
        g_mod.zero_grad()
        return loss, grads

    fns = {"fused": gw_step, "composite": _composite(gw_step)}
    if torch is not None:
        t_mod = getattr(torch.nn, kind)(INPUT, HIDDEN, num_layers=LAYERS)
        g_mod.load_state_dict({k: v.detach().numpy().copy()
                               for k, v in t_mod.state_dict().items()})
        tx, tt = torch.tensor(x), torch.tensor(target)

        def torch_step():
            out, _ = t_mod(tx)
            loss = ((out - tt) ** 2).mean()
            loss.backward()
            grads = [p.grad.clone() for p in t_mod.parameters()]
            t_mod.zero_grad()
            return loss, grads

        fns["torch"] = torch_step
        t_loss, t_grads = torch_step()
        for name in ("fused", "composite"):
            loss, grads = fns[name]()
            common.check(f"{kind} {name}", [(loss.item(), t_loss.item())]
                         + [(g.numpy(), t.numpy()) for g, t in zip(grads, t_grads)],
                         common.RTOL_FLOAT32)
    ts = common.measure_interleaved(fns, warmup=1, repeat=repeat)
    ms = {k: (v.best * 1e3, v.median * 1e3) for k, v in ts.items()}
    t = ms.get("torch", (None, None))
    return [f"{kind} {LAYERS}x{HIDDEN}, seq {seq}, batch {BATCH}",
            ms["fused"][0], ms["composite"][0], t[0],
            common.ratio(ms["fused"][0], t[0]), common.ratio(ms["fused"][1], t[1]),
            common.ratio(ms["composite"][0], t[0])]


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    info = common.limit_threads(torch)
    common.print_env(info)
    print("BLAS:", _blas_kernel())
    repeat = args.repeat or (3 if args.quick else 7)
    seq = 16 if args.quick else SEQ
    rows = [case("LSTM", repeat, seq), case("GRU", repeat, seq)]
    print(f"\nTraining step: forward, MSE loss, backward, float32 (ms, best of {repeat})")
    print(common.table(["case", "fused ms", "composite ms", "torch ms", "fused/torch",
                        "fused/torch (median)", "composite/torch"], rows))
    for row in rows:
        print(f"{row[0]}: fused/torch {common.fmt(row[4])} (target 2.0: "
              f"{common.verdict(row[4], 2.0)})")
    common.write_json(args.json, {"rnn": rows, "threads": info})


if __name__ == "__main__":
    main()
