"""Every op sample of the registry compiled against eager: forward values, first-order
gradients and (where the sample checks it) the double backward, bit for bit, on the first call
(the trace computes as it records) and on the second (the cached program runs)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gradwalk
from tests.ops import op_samples

SAMPLES = op_samples.SAMPLES


def _tensors(sample, requires_grad=True):
    return [gradwalk.tensor(x.copy(), requires_grad=requires_grad) for x in sample.inputs()]


def _outputs(out):
    if isinstance(out, gradwalk.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, gradwalk.Tensor)]
    return []


def _run(sample, fn, create_graph=False):
    """Forward values, gradients (and the gradients' own gradients) of ``fn`` on the sample."""
    ts = _tensors(sample)
    outs = _outputs(fn(*ts))
    values = [o.detach().numpy().copy() for o in outs]
    diff = [o for o in outs if o.requires_grad]
    grads = dgrads = None
    if diff:
        rng = np.random.default_rng(zlib.crc32(sample.name.encode()))
        vs = [gradwalk.tensor(rng.standard_normal(o.shape).astype(o.detach().numpy().dtype)) for o in diff]
        grads = gradwalk.autograd.grad(diff, ts, vs, allow_unused=True,
                                       create_graph=create_graph)
        if create_graph:
            live = [g for g in grads if g is not None and g.requires_grad]
            if live:
                total = sum((g * g).sum() for g in live)
                dgrads = gradwalk.autograd.grad(total, ts, allow_unused=True)
                dgrads = [None if g is None else g.detach().numpy().copy() for g in dgrads]
        grads = [None if g is None else g.detach().numpy().copy() for g in grads]
    return values, grads, dgrads


def _same(a, b, what, rtol=0.0):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    assert len(a) == len(b), what
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None, what
            continue
        assert x.shape == y.shape and x.dtype == y.dtype, what
        if rtol:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol, err_msg=what)
        else:
            np.testing.assert_array_equal(x, y, err_msg=what)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_compiled_sample_equals_eager(sample):
    def call(*ts):
        return sample.call(gradwalk, *ts)

    compiled = gradwalk.compile(call)
    with np.errstate(all="ignore"):
        want = _run(sample, call)
        for n in range(2):  # the first call traces, the second runs the cached program
            got = _run(sample, compiled)
            _same(got[0], want[0], f"forward, call {n}")
            _same(got[1], want[1], f"first-order gradient, call {n}")


DOUBLE = [s for s in SAMPLES if s.double]


@pytest.mark.parametrize("sample", DOUBLE, ids=[s.name for s in DOUBLE])
def test_compiled_sample_double_backward_equals_eager(sample):
    def call(*ts):
        return sample.call(gradwalk, *ts)

    compiled = gradwalk.compile(call)
    with np.errstate(all="ignore"):
        want = _run(sample, call, create_graph=True)
        got = _run(sample, compiled, create_graph=True)
    _same(got[1], want[1], "first-order gradient under create_graph")
    # Under create_graph the region's ops run again as an eager graph of their own (aliases of
    # the inputs, one engine walk), so the second-order sums may add in another order: equal to
    # the last bits, not bit for bit. The first order above is bit for bit.
    _same(got[2], want[2], "double backward", rtol=1e-13)
