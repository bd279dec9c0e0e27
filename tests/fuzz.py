"""A differential fuzzer: random autograd programs run in gradwalk and in PyTorch, compared.

A program is a list of steps over a pool of values. It starts from a few leaves (float64, or
float32 with ``mixed``; shapes that broadcast against each other; some NaN or inf entries with
``nonfinite``) and applies random ops: elementwise functions, arithmetic with tensors and
Python scalars (broadcasting), reductions with ``dim``/``keepdim``, shape ops and views,
advanced indexing with repeated indices, ``where``/``clamp``, and in-place ops on non-leaves and
on views (``zero_``/``fill_``/``copy_``, values of other tensors written in, views made before the
change, a base whose retained gradient is compared). Then one of the modes runs: ``backward`` (a random cotangent), ``retain`` (two
backwards through a retained graph), ``hook`` (a tensor hook that doubles the gradient),
``double`` (``grad`` of ``grad`` with ``create_graph``) or ``jvp`` (forward mode).

Both libraries run the same program (``run(program, lib)`` with ``lib`` the module); the
results (values, dtypes, shapes, gradients) must agree. An exception on both sides counts as
agreement; an exception on one side only is a disagreement.

Run a long campaign with ``python -m tests.fuzz --cases 10000`` (prints the agreement rate and
the first disagreements); ``tests/test_fuzz.py`` runs a bounded, seeded share in the suite.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass

import numpy as np

SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (4, 2, 3)]
UNARY = ["exp", "tanh", "sin", "sigmoid", "relu", "abs", "neg", "square", "cos", "atan",
         "softplus", "sqrt_pos", "log_pos"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow_pos"]
REDUCE = ["sum", "mean", "amax", "prod", "logsumexp", "std"]
SHAPE_OPS = ["t", "unsqueeze", "flatten", "expand", "index", "slice", "flip", "cat", "stack"]
INPLACE = ["mul_", "add_", "clamp_", "view_mul_", "setitem", "zero_", "fill_", "copy_",
           "view_add_", "setitem_t", "sibling_", "retained_"]
#: in-place ops that read a second value of the pool
INPLACE2 = ("copy_", "view_add_", "setitem_t")
OTHER = ["where", "clamp", "clamp_min"]
MODES = ["backward", "retain", "hook", "double", "jvp"]


@dataclass
class Program:
    seed: int
    leaves: list  # (array, requires_grad)
    steps: list  # (op, args (pool indices), params)
    mode: str


def generate(seed: int, n_steps: int = 6) -> Program:
    """A random program (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    mixed = rng.random() < 0.15
    nonfinite = rng.random() < 0.1
    leaves = []
    for _ in range(int(rng.integers(1, 4))):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        a = rng.standard_normal(shape)
        if nonfinite and a.size:
            a.reshape(-1)[int(rng.integers(a.size))] = [np.nan, np.inf, -np.inf][
                int(rng.integers(3))]
        if mixed and rng.random() < 0.5:
            a = a.astype(np.float32)
        leaves.append((a, True))
    shapes = [np.shape(a) for a, _ in leaves]
    steps = []
    for _ in range(n_steps):
        kind = rng.choice(["unary", "binary", "reduce", "shape", "inplace", "other"],
                          p=[0.25, 0.25, 0.12, 0.18, 0.1, 0.1])
        i = int(rng.integers(len(shapes)))
        s = shapes[i]
        if kind == "unary":
            steps.append((str(rng.choice(UNARY)), (i,), {}))
            shapes.append(s)
        elif kind == "binary":
            op = str(rng.choice(BINARY))
            if rng.random() < 0.3:
                steps.append((op, (i,), {"scalar": float(rng.choice([2.0, -0.5, 3]))}))
                shapes.append(s)
            else:
                j = int(rng.integers(len(shapes)))
                try:
                    out = np.broadcast_shapes(s, shapes[j])
                except ValueError:
                    continue
                steps.append((op, (i, j), {}))
                shapes.append(out)
        elif kind == "reduce":
            op = str(rng.choice(REDUCE))
            if s and rng.random() < 0.7:
                d = int(rng.integers(-len(s), len(s)))
                keep = bool(rng.random() < 0.5)
                steps.append((op, (i,), {"dim": d, "keepdim": keep}))
                out = list(s)
                if keep:
                    out[d] = 1
                else:
                    del out[d]
                shapes.append(tuple(out))
            else:
                steps.append((op, (i,), {}))
                shapes.append(())
        elif kind == "shape":
            op = str(rng.choice(SHAPE_OPS))
            if op == "t" and len(s) == 2:
                steps.append((op, (i,), {}))
                shapes.append(s[::-1])
            elif op == "unsqueeze":
                d = int(rng.integers(-len(s) - 1, len(s) + 1))
                steps.append((op, (i,), {"dim": d}))
                out = list(s)
                out.insert(d if d >= 0 else len(s) + 1 + d, 1)
                shapes.append(tuple(out))
            elif op == "flatten":
                steps.append((op, (i,), {}))
                shapes.append((int(np.prod(s)),) if s else (1,))
            elif op == "expand" and s and 1 in s:
                out = tuple(4 if k == 1 else k for k in s)
                steps.append((op, (i,), {"size": out}))
                shapes.append(out)
            elif op == "index" and s:
                idx = [int(v) for v in rng.integers(0, s[0], size=int(rng.integers(1, 5)))]
                steps.append((op, (i,), {"idx": idx}))
                shapes.append((len(idx), *s[1:]))
            elif op == "slice" and s and s[0] > 1:
                steps.append((op, (i,), {"start": 1}))
                shapes.append((s[0] - 1, *s[1:]))
            elif op == "flip" and s:
                steps.append((op, (i,), {"dims": (0,)}))
                shapes.append(s)
            elif op in ("cat", "stack") and s:
                j = [k for k, t in enumerate(shapes) if t == s]
                j = j[int(rng.integers(len(j)))]
                steps.append((op, (i, j), {}))
                shapes.append((2 * s[0], *s[1:]) if op == "cat" else (2, *s))
        elif kind == "inplace":
            op = str(rng.choice(INPLACE))
            if op in ("view_mul_", "setitem", "view_add_", "setitem_t") and not s:
                continue
            if op in INPLACE2:
                j = int(rng.integers(len(shapes)))
                if op == "copy_":
                    try:
                        if np.broadcast_shapes(s, shapes[j]) != s:
                            continue
                    except ValueError:
                        continue
                steps.append((op, (i, j), {}))
            else:
                steps.append((op, (i,), {"value": float(rng.choice([2.0, -1.5, 0.5]))}))
            shapes.append(s)
        else:
            op = str(rng.choice(OTHER))
            if op == "where":
                j = int(rng.integers(len(shapes)))
                try:
                    out = np.broadcast_shapes(s, shapes[j])
                except ValueError:
                    continue
                steps.append((op, (i, j), {}))
                shapes.append(out)
            else:
                steps.append((op, (i,), {"min": -0.5, "max": 0.7}))
                shapes.append(s)
    return Program(seed, leaves, steps, str(rng.choice(MODES)))


def _apply(lib, op, xs, p, retained=None):
    """One step, written once for both libraries (PyTorch's API, which gradwalk copies);
    ``retained`` collects the tensors that ``retain_grad`` (their ``.grad`` is compared)."""
    retained = [] if retained is None else retained
    x = xs[0]
    F = lib.nn.functional
    if op == "sqrt_pos":
        return (x.abs() + 1).sqrt()
    if op == "log_pos":
        return (x * x + 0.5).log()
    if op == "softplus":
        return F.softplus(x)
    if op in UNARY:
        return getattr(x, op)() if op != "relu" else lib.relu(x)
    if op in BINARY:
        y = p["scalar"] if "scalar" in p else xs[1]
        if op == "pow_pos":
            return (x.abs() + 0.5) ** (y if "scalar" in p else y.tanh())
        if op in ("maximum", "minimum"):
            y = y if "scalar" not in p else lib.tensor(y, dtype=x.dtype)
            return getattr(lib, op)(x, y)
        return getattr(lib, op)(x, y)
    if op in REDUCE:
        if op == "amax":
            return x.amax(dim=p.get("dim", ()), keepdim=p.get("keepdim", False)) \
                if "dim" in p else x.amax()
        if op == "std" and x.numel() < 2:
            return x.sum()
        return getattr(x, op)(**p) if "dim" in p else (
            getattr(x, op)() if op != "logsumexp" else x.flatten().logsumexp(0))
    if op == "t":
        return x.t()
    if op == "unsqueeze":
        return x.unsqueeze(p["dim"])
    if op == "flatten":
        return x.flatten() if x.dim() else x.reshape(1)
    if op == "expand":
        return x.expand(*p["size"])
    if op == "index":
        return x[lib.tensor(p["idx"])]
    if op == "slice":
        return x[p["start"]:]
    if op == "flip":
        return x.flip(p["dims"])
    if op == "cat":
        return lib.cat([x, xs[1]])
    if op == "stack":
        return lib.stack([x, xs[1]])
    if op == "where":
        return lib.where(x > 0, x, xs[1])
    if op == "clamp":
        return x.clamp(p["min"], p["max"])
    if op == "clamp_min":
        return x.clamp(min=p["min"])
    # in-place ops act on a non-leaf copy (or a view of one), as user code does
    y = x.clone()
    if op == "mul_":
        y.mul_(p["value"])
    elif op == "add_":
        y.add_(p["value"])
    elif op == "clamp_":
        y.clamp_(-p["value"], abs(p["value"]))
    elif op == "view_mul_":
        y[:1].mul_(p["value"])
    elif op == "setitem":
        y[0] = p["value"]
    elif op == "zero_":
        y.zero_()
    elif op == "fill_":
        y.fill_(p["value"])
    elif op == "copy_":
        y.copy_(xs[1])
    elif op == "view_add_":
        y[:1].add_(xs[1].sum())
    elif op == "setitem_t":
        y[-1] = xs[1].sum() * 0.5
    elif op == "sibling_":
        w = y.unsqueeze(0)  # a view made before the change: it must see it
        y.mul_(p["value"])
        # torch 2.13 crashes (segmentation fault) in ``register_hook`` on such a view of a 0-d
        # base unless its grad_fn was regenerated first; reading it does that (no other effect)
        _ = w.grad_fn
        return w
    elif op == "retained_":
        if y.requires_grad:
            y.retain_grad()
            retained.append(y)
        y.reshape(-1)[:1].mul_(p["value"])  # through a view: the base's retained grad
    return y


def run(program: Program, lib):
    """Run ``program`` with ``lib`` (torch or gradwalk); NumPy results, or the exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _run(program, lib)
    except Exception as e:  # both sides raising counts as agreement
        return e


def _run(program, lib):
    rng = np.random.default_rng(program.seed + 1)
    leaves = [lib.tensor(a.copy(), requires_grad=r) for a, r in program.leaves]
    mode = program.mode
    if mode == "jvp":
        return _run_jvp(program, lib, leaves, rng)
    pool = list(leaves)
    retained: list = []
    for op, args, p in program.steps:
        pool.append(_apply(lib, op, [pool[i] for i in args], p, retained))
    out = pool[-1]
    res = [_np(out)]
    if mode == "hook" and out.requires_grad:
        out.register_hook(lambda g: g * 2)
    cot = lib.tensor(rng.standard_normal(tuple(out.shape)), dtype=out.dtype)
    if not out.requires_grad:
        return res
    loss = (out * cot).sum()
    if mode == "double":
        gs = lib.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
        res += [_np(g) for g in gs]
        # whether a gradient that is constant in the leaves records a graph is not compared:
        # its second derivative is zero either way
        live = [g for g in gs if g is not None and g.requires_grad]
        if not live:
            return res + [None] * len(leaves)
        total = sum((g * g).sum() for g in live)
        g2 = lib.autograd.grad(total, leaves, allow_unused=True)
        return res + [_np(g) for g in g2]
    loss.backward(retain_graph=(mode == "retain"))
    if mode == "retain":
        loss.backward()
    return res + [_np(t.grad) for t in leaves] + [_np(t.grad) for t in retained]


def _np(t):
    """A tensor of either library as a NumPy copy (torch's symbolic zero tensors included)."""
    if t is None:
        return None
    t = t.detach()
    try:
        return t.numpy().copy()
    except RuntimeError:  # torch's ZeroTensor
        return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])


def _run_jvp(program, lib, leaves, rng):
    fwd = lib.autograd.forward_ad
    tangents = [rng.standard_normal(tuple(t.shape)) for t in leaves]
    with fwd.dual_level():
        pool = [fwd.make_dual(t.detach(), lib.tensor(v, dtype=t.dtype))
                for t, v in zip(leaves, tangents)]
        for op, args, p in program.steps:
            pool.append(_apply(lib, op, [pool[i] for i in args], p))
        primal, tangent = fwd.unpack_dual(pool[-1])
        return [_np(primal), _np(tangent)]


def agree(a, b, rtol: float = 1e-6, atol: float = 1e-6) -> str | None:
    """None when the two results agree, else what differs."""
    if isinstance(a, Exception) or isinstance(b, Exception):
        if isinstance(a, Exception) and isinstance(b, Exception):
            return None
        bad = a if isinstance(a, Exception) else b
        side = "torch" if isinstance(a, Exception) else "gradwalk"
        return f"only {side} raised: {type(bad).__name__}: {str(bad)[:150]}"
    if len(a) != len(b):
        return f"{len(b)} results, torch {len(a)}"
    for k, (x, y) in enumerate(zip(a, b)):
        if x is None or y is None:
            if x is None and y is None:
                continue
            other = y if x is None else x
            if np.all(other == 0):
                continue  # no gradient and a zero gradient are the same numbers
            return f"result {k}: {'None' if y is None else 'a value'} where torch has " \
                   f"{'None' if x is None else 'a value'}"
        if x.shape != y.shape:
            return f"result {k}: shape {list(y.shape)}, torch {list(x.shape)}"
        if x.dtype != y.dtype:
            return f"result {k}: dtype {y.dtype}, torch {x.dtype}"
        # float32 results: torch.testing's float32 tolerances (rtol 1.3e-6, atol 1e-5); two
        # summation orders differ by a few float32 ulps
        r_tol, a_tol = (max(rtol, 1.3e-6), max(atol, 1e-5)) if x.dtype == np.float32 else (
            rtol, atol)
        if not np.allclose(y, x, rtol=r_tol, atol=a_tol, equal_nan=True):
            return f"result {k}: values differ"
    return None


def campaign(cases: int, start: int = 0):
    """Run ``cases`` programs; returns (agreements, list of (seed, mode, difference))."""
    import torch

    import gradwalk

    diffs = []
    for seed in range(start, start + cases):
        prog = generate(seed)
        d = agree(run(prog, torch), run(prog, gradwalk))
        if d is not None:
            diffs.append((seed, prog.mode, d))
    return cases - len(diffs), diffs


def describe(program: Program) -> str:
    """The program as readable lines (for a disagreement report)."""
    lines = [f"seed {program.seed}, mode {program.mode}"]
    for k, (a, _) in enumerate(program.leaves):
        lines.append(f"  v{k} = leaf {a.dtype} {list(a.shape)}")
    n = len(program.leaves)
    for k, (op, args, p) in enumerate(program.steps):
        lines.append(f"  v{n + k} = {op}({', '.join(f'v{i}' for i in args)}"
                     f"{', ' if p else ''}{', '.join(f'{kk}={v}' for kk, v in p.items())})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="gradwalk against PyTorch on random programs")
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--start", type=int, default=0, help="the first seed")
    ap.add_argument("--show", type=int, default=10, help="disagreements to print")
    args = ap.parse_args(argv)
    ok, diffs = campaign(args.cases, args.start)
    print(f"{ok} of {args.cases} programs agree ({100 * ok / args.cases:.2f}%)")
    for seed, _mode, d in diffs[:args.show]:
        print(f"\n{describe(generate(seed))}\n  -> {d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
