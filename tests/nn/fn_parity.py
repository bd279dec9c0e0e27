"""PyTorch parity of ``gradwalk.nn.functional`` composites: values and gradients, float64.

``check_fn(fn, grads, *arrays)`` calls ``fn(F, *tensors)`` with ``F`` the functional module of
torch (through the recorded oracle, Note [Recorded oracle] in ``tests/fixtures/oracle.py``) and
of gradwalk, on the same NumPy ``arrays``; the arrays whose positions are in ``grads`` require
grad. It compares every output and, for a seeded random cotangent, the gradients of those inputs
(a missing gradient counts as zeros: PyTorch returns zeros where gradwalk's graph has no path).
"""

from __future__ import annotations

import numpy as np

import gradwalk
from tests.fixtures.oracle import oracle


def _outs(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _outs(o)]
    return [out]


def run_fn(lib, fn, grads, arrays, seed=0) -> dict:
    xs = [lib.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    outs = _outs(fn(lib.nn.functional, *xs))
    rng = np.random.default_rng(seed)
    total = None
    for t in outs:
        if t.requires_grad:
            term = (t * lib.tensor(rng.standard_normal(tuple(t.shape)))).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return {"outs": [t.detach().numpy() for t in outs],
            "grads": [np.zeros(xs[i].shape) if xs[i].grad is None else xs[i].grad.numpy()
                      for i in sorted(grads)] if total is not None else []}


def check_fn(fn, grads, *arrays, rtol=1e-8, atol=1e-10, key=None) -> dict:
    """Compare gradwalk's ``fn`` with torch's; returns torch's results."""
    ref = oracle(lambda torch: run_fn(torch, fn, set(grads), arrays), key=key)
    ours = run_fn(gradwalk, fn, set(grads), arrays)
    assert len(ours["outs"]) == len(ref["outs"])
    for g, t in zip(ours["outs"], ref["outs"]):
        assert g.shape == t.shape, f"shape {t.shape} vs {g.shape}"
        assert g.dtype == t.dtype, f"dtype {t.dtype} vs {g.dtype}"
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg="forward")
    assert len(ours["grads"]) == len(ref["grads"])
    for i, (g, t) in enumerate(zip(ours["grads"], ref["grads"])):
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=f"grad of input {i}")
    return ref
