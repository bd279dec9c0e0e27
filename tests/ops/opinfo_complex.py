"""PyTorch's op database run through gradwalk on complex128 samples (Note [complex ops] in
gradwalk/ops/complex.py): every entry gradwalk implements that supports complex128.

Per sample, in both libraries: the forward (shape, dtype, values), then the gradient of the
real loss ``Re(sum(conj(c) * out))`` for a random complex cotangent ``c`` (PyTorch's convention:
a complex input's gradient is complex, a real input's real). A sample on which gradwalk raises
while torch computes is a gap (``raises``); different numbers are ``wrong``, which must never
happen. Samples whose torch backward refuses the cotangent (``linalg.eig``: a loss that depends
on the eigenvectors' phases) compare the forward only::

    python -m tests.ops.opinfo_complex            # one line per entry: status, samples, problem
    python -m tests.ops.opinfo_complex --summary  # the totals only (about a minute)
"""

from __future__ import annotations

import argparse
import warnings

import gradwalk
from tests.ops import opinfo

MAX_SAMPLES = 6


def _plain(t, torch):
    """A torch tensor without its lazy conjugate or negative bit (gradwalk has neither)."""
    return t.resolve_conj().resolve_neg() if isinstance(t, torch.Tensor) else t


def to_gw(obj, torch):
    if isinstance(obj, tuple):
        return tuple(to_gw(o, torch) for o in obj)
    if isinstance(obj, list):
        return [to_gw(o, torch) for o in obj]
    if isinstance(obj, dict):
        return {k: to_gw(v, torch) for k, v in obj.items()}
    return opinfo.to_gw(_plain(obj, torch), torch)


def _compare(t, g, what, torch, values=True):
    return opinfo._compare(_plain(t, torch), g, what, values)


def _differentiable(outs, torch):
    return [t for t in outs if t.requires_grad and (t.dtype.is_floating_point
                                                    or t.dtype.is_complex)]


def check_sample(o, fn, sample, torch, rng):
    """("pass"|"wrong"|"raises"|"skip", message) for one complex128 sample."""
    targs, tkw = (sample.input, *sample.args), dict(sample.kwargs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tout = o.op(*targs, **tkw)
    except Exception:
        return "skip", ""
    try:
        gargs, gkw = to_gw(targs, torch), to_gw(tkw, torch)
        gout = fn(*gargs, **gkw)
    except Exception as e:
        return "raises", f"forward: {type(e).__name__}: {str(e)[:100]}"
    touts, gouts = opinfo._outputs(tout, torch.Tensor), opinfo._outputs(gout, gradwalk.Tensor)
    if not touts:
        return ("pass", "") if isinstance(tout, torch.Tensor) or tout == gout else (
            "wrong", f"forward: {gout!r}, torch {tout!r}")
    if len(touts) != len(gouts):
        return "wrong", f"forward: {len(gouts)} outputs, torch {len(touts)}"
    for k, (t, g) in enumerate(zip(touts, gouts)):
        d = _compare(t, g, f"output {k}", torch, values=o.name not in opinfo.RANDOM)
        if d:
            return "wrong", "forward " + d
    tin = [t for t in opinfo._leaves(targs, torch.Tensor) + opinfo._leaves(tkw, torch.Tensor)
           if t.requires_grad]
    gin = [t for t in opinfo._leaves(gargs, gradwalk.Tensor) + opinfo._leaves(gkw, gradwalk.Tensor)
           if t.requires_grad]
    touts = _differentiable(touts, torch)
    if not (o.supports_autograd and tin and touts) or o.name in opinfo.RANDOM:
        return "pass", ""
    cots = []
    for t in touts:
        c = rng.standard_normal(tuple(t.shape))
        if t.dtype.is_complex:
            c = c + 1j * rng.standard_normal(tuple(t.shape))
        cots.append(torch.tensor(c).to(t.dtype))
    try:
        tg = torch.autograd.grad(touts, tin, cots, allow_unused=True)
    except Exception:  # torch refuses the cotangent (eig's phases): the forward was compared
        return "pass", ""
    try:
        gouts = [g for g, t in zip(opinfo._outputs(gout, gradwalk.Tensor),
                                   opinfo._outputs(tout, torch.Tensor))
                 if t.requires_grad and (t.dtype.is_floating_point or t.dtype.is_complex)]
        gg = gradwalk.autograd.grad(gouts, gin, [gradwalk.tensor(c.numpy()) for c in cots],
                                    allow_unused=True)
    except Exception as e:
        return "raises", f"backward: {type(e).__name__}: {str(e)[:100]}"
    for k, (a, b) in enumerate(zip(tg, gg)):
        if a is None and b is None:
            continue
        a = torch.zeros_like(tin[k]) if a is None else a
        b = gradwalk.zeros_like(gin[k]) if b is None else b
        d = _compare(a, b, f"grad of input {k}", torch)
        if d:
            return "wrong", d
    return "pass", ""


def check_entry(o, torch, max_samples: int = MAX_SAMPLES) -> opinfo.Result:
    return opinfo.check_entry(o, torch, max_samples, torch.complex128, check_sample)


def entries_present(op_db) -> list:
    import torch

    return [o for o in op_db if opinfo.resolve(o) is not None
            and o.supports_dtype(torch.complex128, "cpu")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="gradwalk against PyTorch's op database, complex")
    ap.add_argument("--summary", action="store_true", help="print the totals only")
    args = ap.parse_args(argv)
    import torch

    present = entries_present(opinfo.load_op_db())
    counts = {"pass": 0, "raises": 0, "wrong": 0, "no-samples": 0}
    for o in present:
        r = check_entry(o, torch)
        counts[r.status] += 1
        if not args.summary:
            first = (r.wrong or r.raises or [(None, "")])[0][1]
            print(f"{r.name:40s} {r.status:10s} {r.passed}/{r.samples}  {first}")
    print(f"entries with complex128 samples present in gradwalk: {len(present)}; passing: "
          f"{counts['pass']}; raising on some sample: {counts['raises']}; wrong on some "
          f"sample: {counts['wrong']}; no samples: {counts['no-samples']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
