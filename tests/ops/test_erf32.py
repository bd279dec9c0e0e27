"""float32 GELU by PyTorch's own formula (Note [float32 gelu]): values and gradients against
PyTorch over the whole range and at special values, the derivative kept by the forward, and the
kept state used only for the input it came from."""

import numpy as np

import gradwalk
from gradwalk.ops import erf32
from gradwalk.ops import nn as N
from tests.fixtures.oracle import oracle

SPECIAL = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, -6.0, -5.5, 6.0, 1e-30, -1e-40,
                    1e-3, -1e-3, 3.0, -3.0], dtype=np.float32)


def _run(m, x, shape):
    t = m.tensor(x.reshape(shape), requires_grad=True)
    y = m.nn.functional.gelu(t)
    g = np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(shape)
    y.backward(m.tensor(g))
    return [y.detach().numpy(), t.grad.numpy()]


def test_float32_gelu_and_gradient_match_torch_on_random_and_special_values():
    x = np.concatenate([np.random.default_rng(3).standard_normal(250).astype(np.float32) * 3,
                        SPECIAL, np.zeros(1, np.float32)]).astype(np.float32)
    shape = (5, 53)
    got, want = _run(gradwalk, x, shape), oracle(lambda torch: _run(torch, x, shape))
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        # same formula, same float32 rounding except where PyTorch fuses a multiply-add
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6, equal_nan=True)
    assert got[0][np.isfinite(got[0])].size == want[0][np.isfinite(want[0])].size


def test_gelu32_is_exactly_zero_far_left_and_the_identity_far_right():
    y, dx = erf32.gelu32(np.array([-8.0, -5.6, 8.0, 20.0], np.float32), True)
    assert y[0] == 0.0 and y[1] == 0.0 and y[2] == 8.0 and y[3] == 20.0
    assert dx[2] == 1.0 and dx[3] == 1.0


def test_gelu32_matches_the_exact_formula_to_float32_rounding():
    x = np.linspace(-7, 7, 2001).astype(np.float32)
    y, dx = erf32.gelu32(x, True)
    xd = x.astype(np.float64)
    erf = np.vectorize(__import__("math").erf)
    cdf = 0.5 * (1 + erf(xd / np.sqrt(2)))
    np.testing.assert_allclose(y, xd * cdf, rtol=0, atol=5e-7 * 7)
    np.testing.assert_allclose(dx, cdf + xd * np.exp(-xd * xd / 2) / np.sqrt(2 * np.pi),
                               rtol=0, atol=1e-6)


def test_the_kept_derivative_serves_only_its_own_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    other = rng.standard_normal((4, 6)).astype(np.float32)
    kept: list = []
    N._gelu_fwd(np, x, "none", kept)
    assert kept[0] is x
    N._gelu_fwd(np, other, "none", kept)  # the params reused for another input
    g = np.ones_like(x)
    got = N.GELU.vjp(np, g, None, x, "none", kept)
    want = N.GELU.vjp(np, g, None, x, "none", None)  # recomputed
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_no_derivative_is_kept_without_a_backward():
    x = gradwalk.randn(3, 4)
    y = gradwalk.nn.functional.gelu(x)  # no input requires grad
    assert y.grad_fn is None
    with gradwalk.no_grad():
        y = gradwalk.nn.functional.gelu(gradwalk.randn(3, 4, requires_grad=True))
    assert y.grad_fn is None


def test_float32_gelu_double_backward_matches_torch():
    x0 = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)

    def second(m):
        x = m.tensor(x0, requires_grad=True)
        (g,) = m.autograd.grad(m.nn.functional.gelu(x).sum(), (x,), create_graph=True)
        return [g.detach().numpy(), m.autograd.grad((g * g).sum(), (x,))[0].numpy()]

    for a, b in zip(second(gradwalk), oracle(second)):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
