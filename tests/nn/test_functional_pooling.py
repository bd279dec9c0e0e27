"""3-D pooling, adaptive max pooling and max unpooling against PyTorch (values, indices,
gradients), and their errors."""

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import gradcheck
from tests.fixtures.oracle import error_of, oracle

from .fn_parity import check_fn

rng = np.random.default_rng(0)


def _distinct(shape, seed=0):
    r = np.random.default_rng(seed)
    return r.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 2.0


X5 = _distinct((2, 2, 4, 5, 6))
X4 = _distinct((2, 3, 5, 7), 1)
X3 = _distinct((2, 3, 9), 2)

POOL3D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
          dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), ceil_mode=True)]


@pytest.mark.parametrize("kw", POOL3D, ids=str)
def test_max_pool3d_and_indices_match_torch(kw):
    check_fn(lambda F, x: F.max_pool3d(x, return_indices=True, **kw), [0], X5)


@pytest.mark.parametrize("kw", POOL3D + [dict(kernel_size=3, stride=2, padding=1,
                                              count_include_pad=False),
                                         dict(kernel_size=2, divisor_override=3)], ids=str)
def test_avg_pool3d_matches_torch(kw):
    check_fn(lambda F, x: F.avg_pool3d(x, **kw), [0], X5)


@pytest.mark.parametrize("size", [1, (3, 2, 4), (None, 3, 5)], ids=str)
def test_adaptive_avg_pool3d_matches_torch(size):
    check_fn(lambda F, x: F.adaptive_avg_pool3d(x, size), [0], X5)


@pytest.mark.parametrize("fn,x,size", [
    ("adaptive_max_pool1d", X3, 4), ("adaptive_max_pool1d", X3[0], 9),
    ("adaptive_max_pool2d", X4, (3, 4)), ("adaptive_max_pool2d", X4, (None, 2)),
    ("adaptive_max_pool2d", X4[0], 3), ("adaptive_max_pool3d", X5, (3, 2, 4))],
    ids=lambda v: str(v.shape) if isinstance(v, np.ndarray) else str(v))
def test_adaptive_max_pool_and_indices_match_torch(fn, x, size):
    check_fn(lambda F, t: getattr(F, fn)(t, size, return_indices=True), [0], x)


def test_adaptive_max_pool_gradient_is_the_finite_difference():
    x = gradwalk.tensor(_distinct((1, 2, 5, 4)), requires_grad=True)
    assert gradcheck(lambda t: gradwalk.nn.functional.adaptive_max_pool2d(t, (2, 3)), (x,))


@pytest.mark.parametrize("d,x,kw", [
    (1, X3, dict(kernel_size=2)), (1, X3, dict(kernel_size=3, stride=2, padding=1)),
    (2, X4, dict(kernel_size=2)), (2, X4, dict(kernel_size=3, stride=2, padding=1)),
    (3, X5, dict(kernel_size=2))],
    ids=lambda v: str(v.shape) if isinstance(v, np.ndarray) else str(v))
def test_max_unpool_inverts_max_pool_as_torch(d, x, kw):
    def fn(F, t):
        y, i = getattr(F, f"max_pool{d}d")(t, return_indices=True, **kw)
        return getattr(F, f"max_unpool{d}d")(y, i, output_size=tuple(t.shape[2:]), **kw)
    check_fn(fn, [0], x)


def test_max_unpool2d_output_size_matches_torch():
    def fn(F, t):
        y, i = F.max_pool2d(t, 2, return_indices=True)
        return F.max_unpool2d(y, i, 2, output_size=(5, 7))
    check_fn(fn, [0], X4)


def test_max_unpool_refuses_a_bad_output_size_and_indices():
    x = gradwalk.tensor(X4)
    y, i = gradwalk.nn.functional.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match="output_size"):
        gradwalk.nn.functional.max_unpool2d(y, i, 2, output_size=(9, 9))
    with pytest.raises(RuntimeError, match="same as that of the input"):
        gradwalk.nn.functional.max_unpool2d(y, i[:, :, :1], 2)
    ref = oracle(lambda torch: error_of(lambda: torch.nn.functional.adaptive_max_pool2d(
        torch.tensor(X4), 0), torch))
    with pytest.raises(RuntimeError):
        gradwalk.nn.functional.adaptive_max_pool2d(x, 0)
    assert ref is not None
