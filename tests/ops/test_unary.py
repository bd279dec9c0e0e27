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


_SPECIALS = [0.0, -0.0, 1.0, -1.0, np.nan, -np.nan, np.inf, -np.inf, 1e-45, -1e-45, 3.0, -2.5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4), (128, 256), (7, 33, 5)])
def test_relu_forward_has_torchs_bits(dtype, shape):
    # Note [relu against a zeros array]: -0.0 stays -0.0, NaN of either sign passes, as in torch
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[: len(_SPECIALS)] = _SPECIALS
    x.flat[::17] = -0.0
    for a in (x, x.T, x[..., ::2]):  # contiguous (the zeros-array path) and strided inputs
        got = gradwalk.relu(gradwalk.tensor(a)).numpy()
        want = torch.relu(torch.tensor(np.ascontiguousarray(a))).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(np.ascontiguousarray(got).view(np.uint8),
                                      want.view(np.uint8))


def test_relu_zeros_buffer_is_read_only_and_grows():
    z = unary._zeros(np.dtype(np.float32), 10)
    assert not z.flags.writeable and not z.any()
    n = unary._ZEROS[np.dtype(np.float32)].size + 1  # one more than the buffer holds
    big = unary._zeros(np.dtype(np.float32), n)
    assert big.size == n and unary._ZEROS[np.dtype(np.float32)].size >= n
    assert not big.flags.writeable and not big.any()
    with pytest.raises(ValueError):
        big[0] = 1.0
    x = np.full((300,), -1.0, np.float32)
    y = unary._relu_fwd(np, x)
    assert y.flags.writeable and y.base is None and not y.any()  # a fresh result
    y += 1.0
    assert not unary._zeros(np.dtype(np.float32), 300).any()


def test_relu_gradient_through_a_layer_matches_torch():
    # the forward's and the rule's fast paths inside a training step, float32, and its
    # double backward (the rule with Tensors)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((64, 40)).astype(np.float32)
    w0 = rng.standard_normal((48, 40)).astype(np.float32) / 6
    got = []
    for m in (gradwalk, torch):
        x = m.tensor(x0, requires_grad=True)
        w = m.tensor(w0, requires_grad=True)
        h = m.relu(x @ w.T)
        (gx,) = m.autograd.grad((h * h).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        got.append((h.detach().numpy(), gx.detach().numpy(), w.grad.numpy()))
    for a, b in zip(*got):  # float32 sums of 40 to 64 terms: errors relative to the largest
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * np.abs(b).max())
