"""Reductions at their edges, against PyTorch (recorded): ``var``/``std`` with no degree of
freedom left give NaN values, gradients and tangents, never a Python ``ZeroDivisionError``."""

import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

CASES = [("var", [2.0], 1), ("std", [2.0], 1), ("var", [2.0], 2), ("std", [2.0], 2),
         ("var", [[1.0, 3.0]], 1), ("std", [[1.0, 3.0]], 1)]


def _run(lib, name, data, correction):
    x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
    y = getattr(x, name)(dim=0, correction=correction)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name,data,correction", CASES)
def test_no_degree_of_freedom_left_matches_pytorch(name, data, correction):
    def ref(torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns "degrees of freedom is <= 0"
            return _run(torch, name, data, correction)

    expected = oracle(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and gradwalk's internals stay quiet
        got = _run(gradwalk, name, data, correction)
    for g, t in zip(got, expected):
        np.testing.assert_array_equal(g, t)


def test_tangent_is_nan_too():
    fw = gradwalk.autograd.forward_ad
    with fw.dual_level():
        x = fw.make_dual(gradwalk.tensor([2.0], dtype=gradwalk.float64),
                         gradwalk.tensor([1.0], dtype=gradwalk.float64))
        assert np.isnan(fw.unpack_dual(x.var()).tangent.numpy()).all()


# ------------------------------------------------------------ Note [mean on NumPy]
MEAN_CASES = [((16, 1), None, False), ((3, 4, 5), None, True), ((3, 4, 5), 1, False),
              ((3, 4, 5), (0, 2), True), ((), None, False), ((7,), 0, True)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim,keepdim", MEAN_CASES)
def test_mean_has_np_means_bits(shape, dim, keepdim, dtype):
    a = np.random.default_rng(3).standard_normal(shape).astype(dtype) * 1e3
    x = gradwalk.tensor(a, requires_grad=True)
    y = x.mean() if dim is None and not keepdim else x.mean(
        dim=dim if dim is not None else tuple(range(a.ndim)), keepdim=keepdim)
    axis = dim if dim is not None else None
    want = np.mean(a, axis=axis, keepdims=keepdim)
    assert y.dtype == x.dtype and y.shape == np.shape(want)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    y.sum().backward()
    n = a.size // max(np.size(want), 1)
    want_grad = np.broadcast_to(np.ones((), dtype), a.shape) / n
    assert x.grad._data.dtype == dtype and x.grad._data.flags.writeable
    np.testing.assert_array_equal(x.grad.numpy(), want_grad)


def test_mean_gradient_of_everything_is_g_over_n_in_every_element():
    x = gradwalk.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x.mean() * 3.0).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0 / 6))
    x.grad = None
    gx, = gradwalk.autograd.grad(x.mean(), x, create_graph=True)  # the Tensor path
    np.testing.assert_array_equal(gx.detach().numpy(), np.full((2, 3), 1.0 / 6))
