"""Run one linear-algebra computation in gradwalk or torch: values, gradients, JVPs."""

from __future__ import annotations

import numpy as np


def _np(t):
    if t is None:
        return None
    if hasattr(t, "_is_zerotensor") and t._is_zerotensor():
        return t.detach().numpy(force=True)
    return np.array(t.detach().numpy(), copy=True)


def outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def run(m, fn, xs, seed=0, jvp=True, double=False):
    """``fn(m, *tensors)`` on float64 copies of ``xs``: the outputs, the gradient of random
    cotangents (every float output), optionally the JVP of random tangents and the gradient of
    ``<grad, w>`` (double backward). All as NumPy arrays."""
    rng = np.random.default_rng(seed)
    ts = [m.tensor(x, dtype=m.float64, requires_grad=True) for x in xs]
    outs = [o for o in outputs(fn(m, *ts)) if o.dtype == m.float64 and o.requires_grad]
    cots = [m.tensor(rng.standard_normal(tuple(o.shape)), dtype=m.float64) for o in outs]
    grads = m.autograd.grad(outs, ts, cots, allow_unused=True, create_graph=double)
    res = {"out": [_np(o) for o in outs], "grad": [_np(g) for g in grads]}
    if double:
        ws = [m.tensor(rng.standard_normal(x.shape), dtype=m.float64) for x in xs]
        total = sum((g * w).sum() for g, w in zip(grads, ws) if g is not None)
        res["double"] = [_np(g) for g in m.autograd.grad(total, ts, allow_unused=True)]
    if jvp:
        fw = m.autograd.forward_ad
        tangents = [rng.standard_normal(x.shape) for x in xs]
        with fw.dual_level():
            duals = [fw.make_dual(m.tensor(x, dtype=m.float64),
                                  m.tensor(t, dtype=m.float64)) for x, t in zip(xs, tangents)]
            douts = [o for o in outputs(fn(m, *duals)) if o.dtype == m.float64]
            res["jvp"] = [_np(fw.unpack_dual(o).tangent) for o in douts]
    return res


def assert_same(ours, ref, rtol=1e-7, atol=1e-9):
    for key in ref:
        assert len(ours[key]) == len(ref[key]), key
        for i, (a, b) in enumerate(zip(ours[key], ref[key])):
            if a is None or b is None:
                other = a if b is None else b
                assert other is None or not np.any(other), f"{key} {i}: one side is None"
                continue
            b = np.asarray(b)
            assert a.shape == b.shape, f"{key} {i}: shape {a.shape} vs {b.shape}"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{key} {i}")
