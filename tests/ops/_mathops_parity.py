"""Shared by the mathops parity tests: run one function with gradwalk and with PyTorch (recorded)
and compare the trees of arrays it returns: the same structure, dtypes, shapes and values."""

from __future__ import annotations

import numpy as np

import gradwalk
from tests.fixtures.oracle import oracle


def np_of(v):
    """A tensor of either library (or a nest of them) as NumPy arrays; other values as they are."""
    if isinstance(v, (tuple, list)):
        return [np_of(x) for x in v]
    if getattr(v, "_is_zerotensor", None) is not None and v._is_zerotensor():
        return np.zeros(tuple(v.shape), dtype=str(v.dtype).split(".")[-1])  # torch's ZeroTensor
    if hasattr(v, "detach"):
        return np.array(v.detach().numpy())
    return v


def assert_same(got, expected, path="result"):
    if isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected), path
        for k, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{path}[{k}]")
        return
    if isinstance(expected, np.ndarray):
        got = np.asarray(got)
        assert got.shape == expected.shape, f"{path}: shape {got.shape}, torch {expected.shape}"
        assert got.dtype == expected.dtype, f"{path}: dtype {got.dtype}, torch {expected.dtype}"
        if expected.dtype.kind in "fc":
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, equal_nan=True,
                                       err_msg=path)
        else:
            np.testing.assert_array_equal(got, expected, err_msg=path)
        return
    assert got == expected, f"{path}: {got!r}, torch {expected!r}"


def check(fn):
    """``fn(lib)`` with gradwalk equals ``fn(torch)`` (live, or its recorded result)."""
    expected = oracle(lambda torch: np_of(fn(torch)))
    assert_same(np_of(fn(gradwalk)), expected)


def grad_of(lib, out, x):
    """The gradient of ``sum(out * w)`` in ``x`` for a fixed weight ``w``."""
    w = lib.tensor(np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape)),
                   dtype=out.dtype)
    (g,) = lib.autograd.grad((out * w).sum(), x)
    return g
