"""Multi-output nodes: the backward of ``unbind`` per row, for 100, 1,000 and 10,000 rows.

``x`` (rows x 16, float64) is unbound into its rows, each row is summed, and the row sums are
stacked and summed. ``unbind`` records one node per call whose rule stacks the rows' gradients,
so the backward costs the same per row at every size (linear in the rows). For comparison:
the per-piece graph (one slice node per row, each sending a full-size gradient: quadratic),
which gradwalk still builds while a forward hook is installed, and PyTorch.

Run: ``python3 benchmarks/bench_unbind.py [--quick] [--json out.json]``.
Target: per-row backward cost flat (10,000 rows within 2x of 100 rows).
"""

from __future__ import annotations

import common

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402
from gradwalk.ops import registry  # noqa: E402

torch = common.try_import_torch()

SIZES = (100, 1000, 10_000)
PER_PIECE_MAX = 1000  # the quadratic path is not run beyond this (10,000 rows: minutes)
WIDTH = 16
TARGET_FLAT = 2.0


def _graph(mod, x0: np.ndarray):
    x = mod.tensor(x0, requires_grad=True)
    loss = mod.stack([r.sum() for r in x.unbind(0)]).sum()
    return x, loss


def backward_fn(mod, x0: np.ndarray, per_piece: bool = False):
    """A function that backpropagates through the unbind graph once (the graph is kept)."""
    hook = None
    if per_piece:  # a no-op forward hook makes unbind take the per-piece path
        def hook(op, args, res, params):
            return None
        registry._forward_hooks.append(hook)
    try:
        x, loss = _graph(mod, x0)
    finally:
        if hook is not None:
            registry._forward_hooks.remove(hook)

    def run():
        x.grad = None
        loss.backward(retain_graph=True)

    return run, x


def sanity_check(n: int) -> bool:
    x0 = np.random.default_rng(0).standard_normal((n, WIDTH))
    pairs = []
    ref = None
    if torch is not None:
        run, xt = backward_fn(torch, x0)
        run()
        ref = xt.grad.numpy()
    for per_piece in (False, True):
        run, x = backward_fn(gradwalk, x0, per_piece)
        run()
        pairs.append((x.grad.numpy(), ref if ref is not None else np.ones_like(x0)))
    return common.check(f"unbind {n} rows grads (gradwalk vs torch)", pairs, common.RTOL_FLOAT64)


def main(argv: list[str] | None = None) -> int:
    ap = common.base_parser(__doc__.splitlines()[0])
    args = ap.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    info = common.limit_threads(torch)
    common.print_env(info)
    ok = sanity_check(50)
    rows, results = [], {}
    for n in SIZES:
        x0 = np.random.default_rng(n).standard_normal((n, WIDTH))
        fns = {"gradwalk": backward_fn(gradwalk, x0)[0]}
        if n <= PER_PIECE_MAX:
            fns["per-piece"] = backward_fn(gradwalk, x0, per_piece=True)[0]
        if torch is not None:
            fns["torch"] = backward_fn(torch, x0)[0]
        ts = common.measure_interleaved(fns, warmup=1, repeat=repeat)
        us = {k: t.best / n * 1e6 for k, t in ts.items()}
        results[n] = us
        rows.append([f"{n:,}", us["gradwalk"], us.get("per-piece", "-"), us.get("torch", "-"),
                     common.ratio(us["gradwalk"], us.get("torch"))])
    print(f"\nunbind of n rows x {WIDTH} (float64), backward only, us/row (best of {repeat})")
    print(common.table(["rows", "gradwalk", "per-piece nodes", "torch", "gw/torch"], rows))
    growth = results[SIZES[-1]]["gradwalk"] / results[SIZES[0]]["gradwalk"]
    print(f"target per-row cost flat ({SIZES[-1]:,} rows / {SIZES[0]:,} rows <= {TARGET_FLAT}): "
          f"{common.fmt(growth)} -> {common.verdict(growth, TARGET_FLAT)}")
    common.write_json(args.json, {"bench": "unbind", "threads": info, "repeat": repeat,
                                  "sanity_ok": ok, "us_per_row": results, "growth": growth})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
