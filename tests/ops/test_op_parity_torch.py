"""PyTorch parity for every op sample with a PyTorch counterpart: the same call, in float64, gives
the same values, the same gradients, and the same second-order gradients in both engines. Torch's
results come from the recorded oracle (Note [Recorded oracle] in tests/fixtures/oracle.py)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

try:
    from . import op_samples
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    import op_samples

PAIRED = [s for s in op_samples.SAMPLES if s.torch_call() is not None]
# Second derivatives on a kink do not exist: there PyTorch gives NaN (norm at 0) where
# gradwalk's where-safe rules give 0, so second-order parity is checked on smooth samples.
SECOND = [s for s in PAIRED if s.double and s.smooth]

RTOL, ATOL = 1e-9, 1e-12


def _rng(sample, salt):
    return np.random.default_rng(zlib.crc32(f"{sample.name}/torch/{salt}".encode()))


def _gw(xs, requires_grad=False):
    return [gradwalk.tensor(x, requires_grad=requires_grad) for x in xs]


def _th(torch, xs, requires_grad=False):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad) for x in xs]


def _np_gw(grads, like):
    return [np.zeros(a.shape) if g is None else np.asarray(g._data) for g, a in zip(grads, like)]


def _np_th(grads, like):
    # force=True: PyTorch may return a ZeroTensor (a symbolic zero) from double backward
    return [np.zeros(a.shape) if g is None else g.detach().numpy(force=True)
            for g, a in zip(grads, like)]


def _check(ours, theirs, sample, what, rtol=RTOL):
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape, f"{sample.name}: {what} {i}: shape {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=ATOL,
                                   err_msg=f"{sample.name} ({sample.op}): {what} {i}")


@pytest.mark.parametrize("sample", PAIRED, ids=[s.name for s in PAIRED])
def test_values_match_torch(sample):
    xs = sample.inputs()
    ours = sample.call(gradwalk, *_gw(xs))

    def theirs(torch):
        out = sample.torch_call()(torch, *_th(torch, xs))
        assert out.dtype == torch.float64
        return out

    _check([np.asarray(ours._data)], [oracle(theirs)], sample, "value")


@pytest.mark.parametrize("sample", PAIRED, ids=[s.name for s in PAIRED])
def test_gradients_match_torch(sample):
    xs = sample.inputs()
    ts = _gw(xs, True)
    out = sample.call(gradwalk, *ts)
    v = _rng(sample, "v").standard_normal(out.shape)
    ours = gradwalk.autograd.grad(out, ts, gradwalk.tensor(v), allow_unused=True)

    def theirs(torch):
        pts = _th(torch, xs, True)
        pout = sample.torch_call()(torch, *pts)
        return _np_th(torch.autograd.grad(pout, pts, torch.tensor(v), allow_unused=True), xs)

    _check(_np_gw(ours, xs), oracle(theirs), sample, "gradient of input")


def _second_order(m, leaves, call, v, ws):
    """Gradients of ``sum_i <d<v, f>/dx_i, w_i>`` in the inputs and in ``v``, in engine ``m``."""
    out = call(m, *leaves)
    vt = m.tensor(v, requires_grad=True)
    grads = m.autograd.grad(out, leaves, vt, create_graph=True, allow_unused=True)
    s = None
    for g, w in zip(grads, ws):
        if g is not None and g.requires_grad:
            term = (g * m.tensor(w)).sum()
            s = term if s is None else s + term
    if s is None:
        return [None] * (len(leaves) + 1)
    return list(m.autograd.grad(s, list(leaves) + [vt], allow_unused=True))


@pytest.mark.parametrize("sample", SECOND, ids=[s.name for s in SECOND])
def test_second_order_gradients_match_torch(sample):
    xs = sample.inputs()
    rng = _rng(sample, "second")
    shape = sample.call(gradwalk, *_gw(xs)).shape
    v = rng.standard_normal(shape)
    ws = [rng.standard_normal(x.shape) for x in xs]
    ours = _second_order(gradwalk, _gw(xs, True), sample.call, v, ws)
    like = xs + [v]
    theirs = oracle(lambda torch: _np_th(_second_order(torch, _th(torch, xs, True),
                                                       sample.torch_call(), v, ws), like))
    # PyTorch keeps some scalars of its double-backward formulas in float32 (log(2) of
    # ``2.0 ** x``, the slope of leaky_relu): its results there are ~1e-8 off, hence 1e-7
    _check(_np_gw(ours, like), theirs, sample, "second-order gradient of input",
           rtol=1e-7)
