"""Per-sample gradients of a small MLP: ``vmap(grad(loss))`` vs one batched backward.

A 32-64-10 MLP (tanh, softmax cross-entropy), float32, 256 samples. Three ways:

* ``vmap(grad)``: ``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)``: the per-sample
  gradients, all samples in one pass (the batch dim is carried through every op);
* ``batched``: one forward and ``backward()`` of the mean loss over the batch: the cost of one
  ordinary training step, which yields only the averaged gradient (the 3x target's reference);
* ``loop``: ``grad(loss)`` called once per sample (what ``vmap`` replaces);

plus ``torch.func.vmap(torch.func.grad(...))`` when PyTorch is installed. The per-sample
gradients are checked against the loop (and PyTorch), and their mean against the batched one.

Run: ``python3 benchmarks/bench_per_sample_grads.py [--quick] [--json out.json]``.
Target: ``vmap(grad)`` <= 3x the batched backward.
"""

from __future__ import annotations

import common

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402
import gradwalk.nn.functional as gF  # noqa: E402
from gradwalk.func import grad, vmap  # noqa: E402

torch = common.try_import_torch()

SIZES = (32, 64, 10)
BATCH = 256
TARGET = 3.0


def make_data(batch: int = BATCH, seed: int = 0):
    """Parameters (``W: (out, in)``), inputs and labels as NumPy arrays (float32 / int64).

    Example:
        >>> ps, X, y = make_data(4)
        >>> sorted(ps), X.shape, y.shape
        (['W0', 'W1', 'b0', 'b1'], (4, 32), (4,))
    """
    rng = np.random.default_rng(seed)
    ps = {}
    for k, (fi, fo) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        ps[f"W{k}"] = (rng.standard_normal((fo, fi)) / np.sqrt(fi)).astype(np.float32)
        ps[f"b{k}"] = (0.1 * rng.standard_normal(fo)).astype(np.float32)
    X = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=batch).astype(np.int64)
    return ps, X, y


def loss_fn(F, p, x, y):
    """The MLP's cross-entropy for one sample (``x: (in,)``, ``y: ()``) or a batch (mean).

    A sample is made a batch of one: ``linear`` then computes its weight gradient as an outer
    product by ``matmul``, which vmap runs as one ``einsum`` for all samples.
    """
    if x.ndim == 1:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    h = F.linear(x, p["W0"], p["b0"]).tanh()
    return F.cross_entropy(F.linear(h, p["W1"], p["b1"]), y)


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    info = common.limit_threads(torch)
    common.print_env(info)
    repeat = args.repeat or (3 if args.quick else 10)
    ps, X, y = make_data()
    gp = {k: gradwalk.tensor(v) for k, v in ps.items()}
    gX, gy = gradwalk.tensor(X), gradwalk.tensor(y)
    per_sample = vmap(grad(lambda p, x, t: loss_fn(gF, p, x, t)), in_dims=(None, 0, 0))

    def run_vmap():
        return per_sample(gp, gX, gy)

    leaves = {k: gradwalk.tensor(v, requires_grad=True) for k, v in ps.items()}

    def run_batched():
        for t in leaves.values():
            t.grad = None
        loss_fn(gF, leaves, gX, gy).backward()
        return {k: t.grad for k, t in leaves.items()}

    g1 = grad(lambda p, x, t: loss_fn(gF, p, x, t))

    def run_loop():
        outs = [g1(gp, gX[i], gy[i]) for i in range(BATCH)]
        return {k: gradwalk.stack([o[k] for o in outs]) for k in ps}

    fns = {"vmap(grad)": run_vmap, "batched backward": run_batched, "loop of grad": run_loop}
    if torch is not None:
        import torch.nn.functional as tF

        tp = {k: torch.tensor(v) for k, v in ps.items()}
        tX, ty = torch.tensor(X), torch.tensor(y)
        t_per = torch.func.vmap(torch.func.grad(lambda p, x, t: loss_fn(tF, p, x, t)),
                                in_dims=(None, 0, 0))
        fns["torch vmap(grad)"] = lambda: t_per(tp, tX, ty)

    # correctness first
    got = run_vmap()
    ref = run_loop()
    ok = common.check("vmap(grad) vs loop", [(got[k].numpy(), ref[k].numpy()) for k in ps],
                      common.RTOL_FLOAT32)
    mean = run_batched()
    ok &= common.check("mean of per-sample vs batched",
                       [(got[k].numpy().mean(0), mean[k].numpy()) for k in ps],
                       common.RTOL_FLOAT32)
    if torch is not None:
        tref = fns["torch vmap(grad)"]()
        ok &= common.check("vmap(grad) vs torch", [(got[k].numpy(), tref[k].numpy())
                                                   for k in ps], common.RTOL_FLOAT32)

    # the loop is ~50x slower: timed on its own so that it does not dominate the round-robin
    loop = fns.pop("loop of grad")
    ts = common.measure_interleaved(fns, warmup=1, repeat=repeat)
    ts["loop of grad"] = common.measure(loop, warmup=0, repeat=min(repeat, 3))
    base = ts["batched backward"].best
    rows = [[name, common.fmt(t.best * 1e3), common.fmt(t.median * 1e3),
             common.fmt(common.ratio(t.best, base))] for name, t in ts.items()]
    print(f"\nper-sample gradients, MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32")
    print(common.table(["method", "best ms", "median ms", "x batched backward"], rows))
    r = common.ratio(ts["vmap(grad)"].best, base)
    print(f"\nvmap(grad) / batched backward = {common.fmt(r)} (target <= {TARGET}x: "
          f"{common.verdict(r, TARGET)}); loop / vmap(grad) = "
          f"{common.fmt(common.ratio(ts['loop of grad'].best, ts['vmap(grad)'].best))}")
    if not ok:
        print("WARNING: gradients do not match")
    common.write_json(args.json, {"timings": ts, "ratio_vs_batched": r, "correct": ok})


if __name__ == "__main__":
    main()
