"""layer_norm's NumPy path (Note [layer_norm on NumPy]) against PyTorch: float32 and float64,
one and two normalized dims, with and without weight and bias, strided inputs; the kept
statistics used only for the input they came from, and none kept without a backward."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import norm as Nm
from tests.fixtures.oracle import oracle

CASES = {
    "f32_affine": (np.float32, (4, 5, 8), (8,), True, True, False),
    "f64_affine": (np.float64, (4, 5, 8), (8,), True, True, False),
    "f32_two_dims": (np.float32, (3, 4, 6), (4, 6), True, True, False),
    "f64_weight_only": (np.float64, (6, 7), (7,), True, False, False),
    "f32_plain": (np.float32, (2, 3, 5), (5,), False, False, False),
    "f64_strided": (np.float64, (5, 3, 8), (8,), True, True, True),
}


def _run(m, dt, shape, nshape, has_w, has_b, strided):
    rng = np.random.default_rng(11)
    x0 = (rng.standard_normal(shape) * 2 + 0.5).astype(dt)
    w0 = rng.standard_normal(nshape).astype(dt)
    b0 = rng.standard_normal(nshape).astype(dt)
    x = m.tensor(x0, requires_grad=True)
    w = m.tensor(w0, requires_grad=True) if has_w else None
    b = m.tensor(b0, requires_grad=True) if has_b else None
    xin = x.transpose(0, 1).transpose(0, 1) if not strided else x[:, ::2]
    y = m.nn.functional.layer_norm(xin, nshape, w, b)
    g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dt)
    y.backward(m.tensor(g))
    out = [y.detach().numpy(), x.grad.numpy()]
    out += [t.grad.numpy() for t in (w, b) if t is not None]
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_layer_norm_matches_torch(name):
    args = CASES[name]
    got, want = _run(gradwalk, *args), oracle(lambda torch: _run(torch, *args))
    rtol, atol = (1e-4, 1e-5) if args[0] == np.float32 else (1e-10, 1e-12)
    for a, b in zip(got, want):
        assert a.dtype == args[0]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_kept_statistics_serve_only_their_own_input():
    rng = np.random.default_rng(2)
    x, other = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    w, b, g = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((2, 3, 4))
    params = {"axes": (2,), "waxes": (2,), "eps": 1e-5}
    kept: list = []
    Nm.LAYER_NORM.forward(np, x, w, b, saved=kept, **params)
    Nm.LAYER_NORM.forward(np, other, w, b, saved=kept, **params)
    needs = (True, True, True)
    got = Nm.LAYER_NORM.vjp(np, g, None, x, w, b, saved=kept, needs=needs, **params)
    want = Nm._norm_vjp(np, g, None, x, w, b, needs=needs, **params)
    for a, c in zip(got, want):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_nothing_is_kept_without_a_backward():
    x = gradwalk.randn(2, 3)
    y = gradwalk.nn.functional.layer_norm(x, (3,))
    assert y.grad_fn is None
    np.testing.assert_allclose(y.numpy().mean(-1), 0, atol=1e-6)


def test_layer_norm_double_backward_matches_torch():
    x0 = np.random.default_rng(4).standard_normal((3, 5))
    w0 = np.random.default_rng(5).standard_normal(5)

    def second(m):
        x, w = m.tensor(x0, requires_grad=True), m.tensor(w0, requires_grad=True)
        y = m.nn.functional.layer_norm(x, (5,), w)
        (gx,) = m.autograd.grad((y * y.detach().cos()).sum(), (x,), create_graph=True)
        return [t.numpy() for t in m.autograd.grad((gx * gx).sum(), (x, w))]

    for a, b in zip(second(gradwalk), oracle(second)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
