"""Anomaly detection: the first NaN/Inf, the op and the user's line that created it."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import engine
from gradwalk.ops import registry


def _line_of(marker: str) -> int:
    src, start = inspect.getsourcelines(inspect.currentframe().f_back.f_code)
    for k, line in enumerate(src):
        if marker in line:
            return start + k
    raise AssertionError(marker)


def test_backward_nan_names_op_line_shapes_and_count():
    x = gradwalk.tensor([0.0, 1.0, 4.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        r = x.sqrt()  # MARK-SQRT
        y = (r * 0.0).sum()
        with pytest.raises(RuntimeError) as info:
            y.backward()
    msg = str(info.value)
    # d sqrt(x)/dx = 1 / (2 sqrt(x)) is inf at 0; grad 0 * inf = nan in 1 of 3 elements
    assert msg.startswith("Function 'SqrtBackward0' returned nan values in its 0th output "
                          "(1 of 3 elements).")
    assert f"{__file__}:{_line_of('MARK-SQRT')}" in msg
    assert "r = x.sqrt()  # MARK-SQRT" in msg
    assert "input shapes: [3]" in msg


def test_backward_inf_counts_every_bad_element():
    x = gradwalk.tensor([0.0, 0.0, 1.0, -0.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"'LogBackward0' returned .*forward output"):
            x.log()  # the forward is checked first: turn it off to reach the backward
    with gradwalk.autograd.detect_anomaly(check_forward=False):
        y = (x.log() * 1.0).sum()
        with pytest.raises(RuntimeError, match=r"LogBackward0' returned inf values .*\(3 of 4"):
            y.backward()


def test_forward_nan_is_caught_at_the_op():
    x = gradwalk.tensor([1.0, -1.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            gradwalk.log(x)  # MARK-LOG
    msg = str(info.value)
    assert msg.startswith("Function 'LogBackward0' returned nan values in its forward output "
                          "(1 of 2 elements).")
    assert f"{__file__}:{_line_of('MARK-LOG')}" in msg


def test_forward_check_ignores_ops_without_graph():
    x = gradwalk.tensor([-1.0])
    with gradwalk.autograd.detect_anomaly():
        assert np.isnan(gradwalk.log(x).item())  # no grad needed: not part of a backward


def test_creation_site_is_recorded_in_metadata():
    x = gradwalk.tensor(1.0, requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        y = x.exp()  # MARK-EXP
    file, line, func = y.grad_fn.metadata["anomaly_site"]
    assert (file, line) == (__file__, _line_of("MARK-EXP"))
    assert func == "test_creation_site_is_recorded_in_metadata"


def test_hooks_only_while_enabled():
    assert not gradwalk.autograd.is_anomaly_enabled()
    n_hooks, n_obs = len(registry._forward_hooks), len(engine.observers)
    with gradwalk.autograd.detect_anomaly():
        assert gradwalk.autograd.is_anomaly_enabled()
        assert len(registry._forward_hooks) == n_hooks + 1
        assert len(engine.observers) == n_obs + 1
    assert len(registry._forward_hooks) == n_hooks and len(engine.observers) == n_obs
    x = gradwalk.tensor(1.0, requires_grad=True)
    assert x.exp().grad_fn.meta is None  # nothing recorded outside the mode


def test_set_detect_anomaly_and_nesting():
    gradwalk.autograd.set_detect_anomaly(True)
    try:
        with gradwalk.autograd.detect_anomaly(check_nan=False):
            assert gradwalk.autograd.is_anomaly_enabled()
        assert gradwalk.autograd.is_anomaly_enabled()  # restored to the outer setting
    finally:
        gradwalk.autograd.set_detect_anomaly(False)
    assert not gradwalk.autograd.is_anomaly_enabled()
    assert registry._forward_hooks.count(gradwalk.autograd.anomaly_mode._forward_hook) == 0


def test_check_nan_false_lets_nan_through():
    x = gradwalk.tensor([0.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly(check_nan=False, check_forward=False):
        (x.sqrt() * 0.0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_decorator_form():
    @gradwalk.autograd.detect_anomaly()
    def f(x):
        return (x.sqrt() * 0.0).sum()

    x = gradwalk.tensor([0.0], requires_grad=True)
    y = f(x)
    assert y.grad_fn.next_functions[0][0].metadata.get("anomaly_site") is not None
    assert not gradwalk.autograd.is_anomaly_enabled()


def test_where_safe_gradients_pass_anomaly_mode():
    x = gradwalk.tensor([-1.0, 4.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly(check_forward=False):
        gradwalk.where(x > 0, x.sqrt(), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25])


def test_finite_run_unchanged():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])),
                               rtol=1e-6)


def test_forward_message_says_whether_inputs_were_finite():
    x = gradwalk.tensor([1.0, -1.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="inputs were all finite"):
            x.log()
    bad = gradwalk.tensor([float("nan"), 1.0], requires_grad=True)
    with gradwalk.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"input\(s\) \[0\] already held nan/inf"):
            bad * 2.0
