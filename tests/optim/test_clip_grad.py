"""Gradient clipping (gradwalk.nn.utils) against PyTorch."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _params(lib, scale):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 4)) * scale, rng.standard_normal(5) * scale]
    ps = [lib.tensor(a, requires_grad=True) for a in arrays]
    (sum((p * p).sum() for p in ps)).backward()
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("scale", [0.01, 1.0])
def test_clip_grad_norm_matches_pytorch(norm_type, scale):
    def clip(torch):
        ref = _params(torch, scale)
        n2 = torch.nn.utils.clip_grad_norm_(ref, max_norm=1.0, norm_type=norm_type)
        return n2.item(), [p.grad for p in ref]

    ours = _params(gradwalk, scale)
    n1 = gradwalk.nn.utils.clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    n2, ref = oracle(clip)
    assert isinstance(n1, gradwalk.Tensor) and n1.shape == ()
    np.testing.assert_allclose(n1.item(), n2, rtol=1e-12)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b, rtol=1e-12)


def test_clip_grad_norm_skips_missing_grads_and_errors_on_nonfinite():
    a = gradwalk.tensor([3.0, 4.0], requires_grad=True)
    b = gradwalk.zeros(2, requires_grad=True)
    (a * a).sum().backward()
    total = gradwalk.nn.utils.clip_grad_norm_([a, b], 5.0)
    assert total.item() == pytest.approx(10.0)
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0], rtol=1e-5)
    a.grad = gradwalk.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        gradwalk.nn.utils.clip_grad_norm_(a, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    def clip(torch):
        ref = _params(torch, 1.0)
        torch.nn.utils.clip_grad_value_(ref, 0.5)
        return [p.grad for p in ref]

    ours = _params(gradwalk, 1.0)
    gradwalk.nn.utils.clip_grad_value_(ours, 0.5)
    for a, b in zip(ours, oracle(clip), strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b)
        assert np.abs(a.grad.numpy()).max() <= 0.5
