"""Rules of the hot one-input ops of ``ops/unary.py``: relu's bit-mask rule, tanh's one-node
rule under ``create_graph`` (Note [tanh's double backward])."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import unary


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_rule_has_the_bits_of_where(dtype):
    rng = np.random.default_rng(0)
    out = np.maximum(rng.standard_normal((8, 9)), 0).astype(dtype)
    g = rng.standard_normal((8, 9)).astype(dtype)
    out.flat[:4] = [np.nan, 0.0, -0.0, 1.0]
    g.flat[:4] = [-2.0, np.inf, -0.0, np.nan]
    got = unary._relu_vjp(np, g, out, None)
    want = np.where(out <= 0, 0.0, g)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    for o, t in ((np.array(-1.0, dtype), np.array(2.0, dtype)), (np.array(3.0, dtype),
                                                                   np.array(2.0, dtype))):
        np.testing.assert_array_equal(unary._relu_vjp(np, t, o, None), np.where(o <= 0, 0.0, t))
    gt = g.T  # a strided gradient
    np.testing.assert_array_equal(unary._relu_vjp(np, gt, out.T.copy(), None),
                                  np.where(out.T <= 0, 0.0, gt))


def test_relu_gradient_matches_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    x = np.array([[-1.0, 0.0, 2.0, np.nan, 3.0, -0.0]], np.float32)
    g = np.array([[np.inf, -1.0, np.nan, 5.0, -0.0, 2.0]], np.float32)
    a = gradwalk.tensor(x, requires_grad=True)
    gradwalk.relu(a).backward(gradwalk.tensor(g))
    b = torch.tensor(x, requires_grad=True)
    torch.relu(b).backward(torch.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy().view(np.uint8), b.grad.numpy().view(np.uint8))


def test_tanh_double_backward_is_one_node_with_the_old_bits():
    rng = np.random.default_rng(1)
    a0, x0, v0 = rng.standard_normal((6, 6)) / 4, rng.standard_normal(6), rng.standard_normal(6)
    a, x, v = gradwalk.tensor(a0), gradwalk.tensor(x0, requires_grad=True), gradwalk.tensor(v0)
    y = gradwalk.tanh(a @ x)
    (g,) = gradwalk.autograd.grad(y, x, v, create_graph=True)
    names = set()
    stack = [g.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node.name() not in names:
            names.add(node.name())
            stack += [e[0] if type(e) is tuple else e for e in node.edges]
    assert "TanhBackwardBackward0" in names and "RsubBackward1" not in names
    (h,) = gradwalk.autograd.grad(g.sum(), x)
    # the three-node graph it replaces: g * (1 - out * out), differentiated by the engine
    xs = gradwalk.tensor(x0, requires_grad=True)
    out = gradwalk.tanh(gradwalk.tensor(a0) @ xs)
    gx = (gradwalk.tensor(v0) * (1.0 - out * out)) @ gradwalk.tensor(a0)
    (h_ref,) = gradwalk.autograd.grad(gx.sum(), xs)
    np.testing.assert_allclose(h.numpy(), h_ref.numpy(), rtol=1e-14, atol=1e-15)
