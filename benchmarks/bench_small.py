"""Fixed per-step cost: a 2-16-16-1 MLP training step and a Hessian-vector product, vs PyTorch.

Workloads (float64, one thread, gradwalk and PyTorch interleaved rep by rep in one process):

- ``mlp add_``: a 2-16-16-1 tanh MLP on a batch of 16, mean squared error, ``backward()``, then
  SGD written out: ``p.add_(p.grad, alpha=-lr)`` for the 6 parameters under ``no_grad``;
- ``mlp SGD``: the same step with ``optim.SGD(params, lr).step()`` and ``zero_grad()``;
- ``hvp``: a Hessian-vector product by double backward, ``f(x) = sum(tanh(A x))`` with ``n = 64``:
  ``g = grad(f, x, create_graph=True)``, then ``grad(g @ v, x)``.

Each timed rep runs the step ``--inner`` times; the printed numbers are microseconds per step,
best of the reps, and the range of the per-rep ratios gradwalk/torch (the machine may be shared:
the best-of ratio is the headline, the range shows the noise). The benchmark unsets
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` for its own process (NumPy's BLAS then runs its
native kernel).

Run: ``python3 benchmarks/bench_small.py [--quick] [--json out.json]``.
Targets: MLP step at most 0.8x PyTorch (both SGD styles); HVP at most 1.0x.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import common  # noqa: E402

common.pin_thread_env()

import numpy as np  # noqa: E402

import gradwalk  # noqa: E402

torch = common.try_import_torch()

TARGETS = {"mlp add_": 0.8, "mlp SGD": 0.8, "hvp": 1.0}
LR = 0.01


def _mlp(mod, optimizer: bool):
    """The step function of the 2-16-16-1 MLP in ``mod`` (gradwalk or torch), and its params."""
    rng = np.random.default_rng(0)
    shapes = [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    params = [mod.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]
    w1, b1, w2, b2, w3, b3 = params
    x = mod.tensor(rng.standard_normal((16, 2)))
    y = mod.tensor(rng.standard_normal((16, 1)))
    linear = mod.nn.functional.linear
    opt = mod.optim.SGD(params, lr=LR) if optimizer else None

    def loss_fn():
        h = mod.tanh(linear(x, w1, b1))
        h = mod.tanh(linear(h, w2, b2))
        return ((linear(h, w3, b3) - y) ** 2).mean()

    if optimizer:
        def step():
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
    else:
        def step():
            for p in params:
                p.grad = None
            loss_fn().backward()
            with mod.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-LR)
    return step, params


def _hvp(mod):
    rng = np.random.default_rng(1)
    n = 64
    a = mod.tensor(rng.standard_normal((n, n)) / 8)
    x = mod.tensor(rng.standard_normal(n), requires_grad=True)
    v = mod.tensor(rng.standard_normal(n))

    def step():
        (g,) = mod.autograd.grad(mod.tanh(a @ x).sum(), x, create_graph=True)
        (h,) = mod.autograd.grad(g @ v, x)
        return h

    return step


def _make(name: str, mod):
    if name == "hvp":
        return _hvp(mod)
    return _mlp(mod, optimizer=name == "mlp SGD")[0]


def sanity_check() -> bool:
    """The parameters after 3 steps, and the HVP, against PyTorch's."""
    if torch is None:
        return True
    pairs = []
    for optimizer in (False, True):
        (sg, pg), (st, pt) = _mlp(gradwalk, optimizer), _mlp(torch, optimizer)
        for _ in range(3):
            sg()
            st()
        pairs += [(a.detach().numpy(), b.detach().numpy()) for a, b in zip(pg, pt)]
    pairs.append((_hvp(gradwalk)().numpy(), _hvp(torch)().numpy()))
    return common.check("mlp params after 3 steps and hvp (gradwalk vs torch)", pairs,
                        common.RTOL_FLOAT64)


def _looped(fn, inner: int):
    def run():
        for _ in range(inner):
            fn()
    return run


def main(argv: list[str] | None = None) -> int:
    ap = common.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--inner", type=int, default=None, help="steps per timed rep")
    args = ap.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 15)
    inner = args.inner or (50 if args.quick else 200)
    info = common.limit_threads(torch)
    common.print_env(info)
    ok = sanity_check()
    rows, results = [], {}
    for name, target in TARGETS.items():
        fns = {"gradwalk": _looped(_make(name, gradwalk), inner)}
        if torch is not None:
            fns["torch"] = _looped(_make(name, torch), inner)
        ts = common.measure_interleaved(fns, warmup=1, repeat=repeat)
        us = {k: t.best / inner * 1e6 for k, t in ts.items()}
        r = common.ratio(us["gradwalk"], us.get("torch"))
        per_rep = ([a / b for a, b in zip(ts["gradwalk"].times, ts["torch"].times)]
                   if torch is not None else [])
        lo, hi = (min(per_rep), max(per_rep)) if per_rep else (None, None)
        results[name] = {"us": us, "ratio_best": r, "ratio_range": [lo, hi], "target": target}
        rows.append([name, us["gradwalk"], us.get("torch"), r,
                     f"{common.fmt(lo)}-{common.fmt(hi)}", target, common.verdict(r, target)])
    print(f"\nsmall steps, us per step (best of {repeat} reps of {inner} steps)")
    print(common.table(["workload", "gradwalk", "torch", "gw/torch", "per-rep range", "target",
                        "verdict"], rows))
    common.write_json(args.json, {"bench": "small", "threads": info, "repeat": repeat,
                                  "inner": inner, "sanity_ok": ok, "results": results})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
