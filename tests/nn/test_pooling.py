"""Pooling layers: PyTorch parity of values and input gradients, indices, repr, second order."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from gradwalk.autograd import gradcheck, gradgradcheck
from tests.fixtures.oracle import oracle

from .parity import check_layer


def _distinct(shape, seed=0):
    """Values without ties, so every window has one maximum."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 3.0


MAX_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
             dict(kernel_size=(2, 3), stride=(1, 2)), dict(kernel_size=3, stride=2, dilation=2),
             dict(kernel_size=2, ceil_mode=True), dict(kernel_size=3, stride=2, padding=1,
                                                        ceil_mode=True)]


@pytest.mark.parametrize("kw", MAX_CASES, ids=[str(c) for c in MAX_CASES])
def test_max_pool2d_matches_torch(kw):
    x = _distinct((2, 3, 7, 8))
    check_layer(lambda m: m.nn.MaxPool2d(**kw), x)


def test_max_pool2d_return_indices_match_torch():
    x = _distinct((2, 2, 7, 7), seed=1)
    kw = dict(kernel_size=3, stride=2, padding=1, return_indices=True)
    _, ti = oracle(lambda torch: torch.nn.MaxPool2d(**kw)(torch.tensor(x)))
    _, gi = nn.MaxPool2d(**kw)(gradwalk.tensor(x))
    np.testing.assert_array_equal(gi.numpy(), ti)


def test_max_pool1d_matches_torch():
    x = _distinct((2, 3, 9), seed=2)
    check_layer(lambda m: m.nn.MaxPool1d(3, 2, 1), x)


AVG_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
             dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
             dict(kernel_size=(2, 3), stride=1, divisor_override=5)]


@pytest.mark.parametrize("kw", AVG_CASES, ids=[str(c) for c in AVG_CASES])
def test_avg_pool2d_matches_torch(kw):
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 7))
    check_layer(lambda m: m.nn.AvgPool2d(**kw), x)


def test_avg_pool1d_matches_torch():
    x = np.random.default_rng(4).standard_normal((2, 3, 9))
    check_layer(lambda m: m.nn.AvgPool1d(3, 2, 1), x)


@pytest.mark.parametrize("size", [1, (1, 1), (3, 2), (None, 3), 4])
def test_adaptive_avg_pool2d_matches_torch(size):
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 5))
    check_layer(lambda m: m.nn.AdaptiveAvgPool2d(size), x)


def test_adaptive_avg_pool1d_matches_torch():
    x = np.random.default_rng(6).standard_normal((2, 3, 10))
    check_layer(lambda m: m.nn.AdaptiveAvgPool1d(4), x)


@pytest.mark.parametrize("cls,args", [("MaxPool2d", (2,)), ("MaxPool2d", (3, 2, 1)),
                                      ("AvgPool2d", (2,)), ("AvgPool2d", (3, 1, 1)),
                                      ("AdaptiveAvgPool2d", ((1, 1),)), ("MaxPool1d", (2,)),
                                      ("AdaptiveAvgPool2d", (3,))])
def test_pool_repr_matches_torch(cls, args):
    assert repr(getattr(nn, cls)(*args)) == oracle(lambda torch: repr(getattr(torch.nn, cls)(*args)))


def test_pool_second_order_gradients():
    x = gradwalk.tensor(_distinct((1, 2, 5, 5), seed=7), requires_grad=True)
    F = nn.functional
    for f in (lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True),
              lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
              lambda t: F.adaptive_avg_pool2d(t, (2, 3))):
        assert gradcheck(f, (x,))
        assert gradgradcheck(f, (x,))


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        nn.MaxPool2d(2, padding=2)(gradwalk.zeros(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="3D .*or 4D"):
        nn.MaxPool2d(2)(gradwalk.zeros(4, 4))
