"""``backend="numba"`` (gradwalk/compiler/numba_backend.py): fused loops against eager within
the documented tolerance (Note [numba's tolerance]). The tests that run numba skip only when
numba is not installed (``pip install gradwalk[compile]``); the error without numba is tested
always."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradwalk
from gradwalk.compiler import numba_backend

needs_numba = pytest.mark.skipif(
    __import__("importlib").util.find_spec("numba") is None,
    reason="numba is not installed (pip install gradwalk[compile]): the numba backend's "
           "fused loops cannot be run")


def test_without_numba_the_backend_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # ``import numba`` raises ImportError
    monkeypatch.setattr(numba_backend, "_numba", None)
    with pytest.raises(ImportError, match=r"pip install gradwalk\[compile\]"):
        gradwalk.compile(lambda x: x + 1.0, backend="numba")


def _close(got, want, dtype):
    np.testing.assert_allclose(got, want, rtol=numba_backend.RTOL[np.dtype(dtype)],
                               atol=numba_backend.ATOL[np.dtype(dtype)])


def _compare(fn, arrays, dtype, calls=3):
    cf = gradwalk.compile(fn, backend="numba")
    results = []
    for f in [fn] + [cf] * calls:
        ts = [gradwalk.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = f(*ts)
        out.sum().backward()
        results.append((out.detach().numpy().copy(), [t.grad.numpy().copy() for t in ts]))
    for val, grads in results[1:]:
        assert val.dtype == results[0][0].dtype and val.shape == results[0][0].shape
        _close(val, results[0][0], dtype)
        for g, h in zip(grads, results[0][1]):
            _close(g, h, dtype)
    return cf, results


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(37,), (6, 7)])
def test_fused_chain_equals_eager_within_the_tolerance(dtype, shape):
    def f(x, w):
        y = (x * 1.0001 + 0.001).sin().tanh()
        return ((y * w - x) / (w * w + 1.0)).exp().relu() + y.neg()

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(shape), rng.standard_normal(shape)
    cf, _ = _compare(f, [x, w], dtype)
    text = cf.explain()
    assert "(numba)" in text and "= F" in text


@needs_numba
def test_mixed_programs_fuse_only_the_elementwise_runs():
    def f(x, w):
        h = (x @ w).relu() * 0.5 + 1.0  # matmul stays NumPy; the elementwise run is one loop
        return (h.sum(1, keepdim=True) * h).tanh()

    rng = np.random.default_rng(1)
    cf, _ = _compare(f, [rng.standard_normal((8, 5)), rng.standard_normal((5, 4))], np.float64)
    assert "(numba)" in cf.explain()


@needs_numba
def test_results_are_fresh_and_0d_steps_stay_numpy():
    cf = gradwalk.compile(lambda x: (x * 2.0 + 1.0).sin(), backend="numba")
    a = cf(gradwalk.tensor([0.5, 1.0]))
    a_copy = a.numpy().copy()
    b = cf(gradwalk.tensor([2.0, 3.0]))
    np.testing.assert_array_equal(a.numpy(), a_copy)
    assert not np.shares_memory(a.numpy(), b.numpy())
    s = gradwalk.compile(lambda x: (x * 2.0 + 1.0).sin(), backend="numba")
    for _ in range(2):
        x = gradwalk.tensor(0.25, dtype=gradwalk.float64)
        assert s(x).item() == ((x * 2.0 + 1.0).sin()).item()  # 0-d: NumPy scalars, eager's bits
