"""``gradwalk.compile``'s bookkeeping (api.py): what counts as a recompile (Note [recompiles])."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradwalk


def _loop(x, n):
    """``n`` segments, each different (a read after each: a graph break)."""
    for k in range(n):
        x = x * float(k + 1) + x.sum(0)  # the same ops on a growing shape would recompile...
        x = x.reshape(-1)[: 2 + k].reshape(-1)  # ...so each segment has its own shapes
        float(x.sum())
    return x


def test_many_segments_in_one_call_are_compiles_not_recompiles():
    cf = gradwalk.compile(_loop)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "recompiled 8 times" warning
        for _ in range(3):
            got = cf(gradwalk.arange(12.0), 12)
            np.testing.assert_array_equal(got.numpy(), _loop(gradwalk.arange(12.0), 12).numpy())
    assert cf.recompiles == [] and not cf.gave_up
    assert cf.segments_seen >= 12
    n = cf.compiles
    cf(gradwalk.arange(12.0), 12)
    assert cf.compiles == n  # the fourth call hits every segment


def test_a_changed_shape_in_a_later_call_is_a_recompile():
    cf = gradwalk.compile(_loop)
    cf(gradwalk.arange(12.0), 3)
    assert cf.recompiles == []
    cf(gradwalk.arange(13.0), 3)
    assert cf.recompiles and "input 0 changed" in cf.recompiles[0][1]


def test_dynamic_true_raises_and_says_why():
    f = lambda x: x * 2.0  # noqa: E731
    with pytest.raises(NotImplementedError) as err:
        gradwalk.compile(f, dynamic=True)
    msg = str(err.value)
    assert "dynamic=True" in msg and "shape rule per op" in msg and "dynamic=None or False" in msg
    for dynamic in (None, False):
        cf = gradwalk.compile(f, dynamic=dynamic)
        cf(gradwalk.ones(2))
        cf(gradwalk.ones(3))
        assert len(cf.recompiles) == 1  # a new size is a recompile: programs are per shape
