"""The pending values of a compiled region (Note [lazy arrays]): metadata without computing,
everything else computes the pending part first."""

from __future__ import annotations

import numpy as np

import gradwalk
from gradwalk.compiler.lazy import LazyArray


def test_shape_and_dtype_are_read_without_running_the_pending_part():
    seen = {}

    def f(x):
        y = (x * 2.0).exp()
        seen["type"] = type(y._data)
        seen["meta"] = (tuple(y.shape), y.dtype, y._data.ndim, y._data.size)
        return y

    cf = gradwalk.compile(f)
    x = gradwalk.ones(2, 3)
    cf(x)  # the first call computes as it traces
    out = cf(x)  # the second records lazily
    assert seen["type"] is LazyArray
    assert seen["meta"] == ((2, 3), gradwalk.float32, 2, 6)
    assert type(out._data) is np.ndarray  # the end of the call ran the program
    assert not cf.breaks


def test_any_other_read_runs_the_pending_part_once():
    def f(x):
        y = x + 1.0
        a = np.asarray(y._data).sum()  # a NumPy call: a graph break
        return y * float(a)

    cf = gradwalk.compile(f)
    for _ in range(3):
        np.testing.assert_array_equal(cf(gradwalk.ones(2)).numpy(), f(gradwalk.ones(2)).numpy())
    assert sum(cf.breaks.values()) == 3
    assert len(cf.programs) == 2  # the part before the read and the part after it
