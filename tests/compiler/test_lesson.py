"""The lesson's examples (``gradwalk.lesson``) compiled against eager: every tensor and number
they return equal bit for bit, on the first call and the cached second; the printed lesson
equal but for the node names of printed tensors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradwalk
from gradwalk import lesson


def _values(obj):
    """The numbers of a lesson result (tensors as arrays, with their requires_grad)."""
    if isinstance(obj, dict):
        return {k: _values(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_values(v) for v in obj]
    if isinstance(obj, gradwalk.Tensor):
        return (np.array(obj.detach().numpy(), copy=True), obj.requires_grad)
    return obj


def _same(a, b, what):
    if isinstance(a, dict):
        assert list(a) == list(b), what
        for k in a:
            _same(a[k], b[k], f"{what}[{k!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), what
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{what}[{k}]")
    elif isinstance(a, tuple):
        (x, rx), (y, ry) = a, b
        assert rx == ry and x.dtype == y.dtype and x.shape == y.shape, what
        np.testing.assert_array_equal(x, y, err_msg=what)
    else:
        assert a == b, f"{what}: {a!r} != {b!r}"


EXAMPLES = {
    "first_gradient": lambda: lesson.first_gradient(),
    "chain_rule": lambda: lesson.chain_rule(),
    "regression_data": lambda: lesson.regression_data(),
    "linear_regression": lambda: lesson.linear_regression(steps=4),
    "exercise": lambda: lesson.exercise(),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_lesson_example_compiled_equals_eager(name):
    want = _values(EXAMPLES[name]())
    compiled = gradwalk.compile(EXAMPLES[name])
    for n in range(2):
        _same(_values(compiled()), want, f"{name}, call {n}")
    if name != "regression_data":  # made from NumPy: no op to trace
        assert compiled.programs


def test_the_printed_lesson_compiled_is_eagers():
    grad_fn = re.compile(r", grad_fn=<\w+>")
    want, got = [], []
    lesson.run(want.append)
    gradwalk.compile(lesson.run)(got.append)
    assert [grad_fn.sub("", s) for s in got] == [grad_fn.sub("", s) for s in want]
    assert len(want) > 10
