"""Note [rules' own calls] in ops/dxp.py: the differentiable namespace's direct paths give the
public functions' results (values, views, nodes), and double backward through them is right."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import dxp
from gradwalk.ops import linalg as L
from gradwalk.ops import shape as S


def _t(*shape, grad=True):
    rng = np.random.default_rng(len(shape))
    return gradwalk.tensor(rng.standard_normal(shape), requires_grad=grad)


CASES = [
    (lambda a: dxp.expand_dims(a, -1), lambda a: S.unsqueeze(a, -1), (3, 4)),
    (lambda a: dxp.expand_dims(a, 0), lambda a: S.unsqueeze(a, 0), (3,)),
    (lambda a: dxp.squeeze(a, -1), lambda a: S.squeeze(a, -1), (3, 1)),
    (lambda a: dxp.squeeze(a, 0), lambda a: S.squeeze(a, 0), (3, 2)),  # not of size 1: kept
    (lambda a: dxp.swapaxes(a, -1, -2), lambda a: S.transpose(a, -1, -2), (2, 3)),
    (lambda a: dxp.transpose(a, (1, 0, 2)), lambda a: S.permute(a, (1, 0, 2)), (2, 3, 4)),
    (lambda a: dxp.transpose(a), lambda a: S.permute(a, (1, 0)), (2, 3)),
    (lambda a: dxp.broadcast_to(a, (4, 3)), lambda a: S.expand(a, (4, 3)), (3,)),
    (lambda a: dxp.broadcast_to(a, (2, 3)), lambda a: S.expand(a, (2, 3)), (2, 1)),
    (lambda a: dxp.matmul(a, _t(4, 2, grad=False)), lambda a: L.matmul(a, _t(4, 2, grad=False)),
     (3, 4)),
    (lambda a: dxp.matmul(a, _t(4, grad=False)), lambda a: L.matmul(a, _t(4, grad=False)),
     (3, 4)),
    (lambda a: dxp.matmul(a, _t(3, grad=False)), lambda a: L.matmul(a, _t(3, grad=False)), (3,)),
]


@pytest.mark.parametrize("k", range(len(CASES)))
def test_direct_paths_match_the_public_functions(k):
    fast, public, shape = CASES[k]
    a = _t(*shape)
    r, ref = fast(a), public(a)
    assert r.shape == ref.shape and r.grad_fn.name() == ref.grad_fn.name()
    np.testing.assert_array_equal(r.detach().numpy(), ref.detach().numpy())
    if ref._extra is not None and ref._extra.base is not None:  # a view stays a view
        assert r._extra.base is a and r._vc is a._vc
    (r * r).sum().backward()
    g = a.grad.numpy().copy()
    a.grad = None
    (ref * ref).sum().backward()
    np.testing.assert_array_equal(g, a.grad.numpy())


def test_unusual_calls_take_the_public_functions():
    a = _t(2, 3)
    with pytest.raises(IndexError):
        dxp.expand_dims(a, 5)
    with pytest.raises(RuntimeError, match="expand"):
        dxp.broadcast_to(a, (4, 3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        dxp.matmul(a, _t(2, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        dxp.matmul(a, a.T.to(gradwalk.float32))


def test_hessian_vector_product_by_double_backward():
    rng = np.random.default_rng(3)
    n = 8
    A = rng.standard_normal((n, n)) / 3
    x0, v0 = rng.standard_normal(n), rng.standard_normal(n)
    a, x, v = gradwalk.tensor(A), gradwalk.tensor(x0, requires_grad=True), gradwalk.tensor(v0)
    (g,) = gradwalk.autograd.grad(gradwalk.tanh(a @ x).sum(), x, create_graph=True)
    (h,) = gradwalk.autograd.grad(g @ v, x)
    t = np.tanh(A @ x0)
    expected = A.T @ (-2 * t * (1 - t * t) * (A @ v0))
    np.testing.assert_allclose(h.numpy(), expected, rtol=1e-12, atol=1e-14)
