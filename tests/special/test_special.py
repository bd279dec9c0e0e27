"""gradwalk.special against PyTorch (recorded oracle) and against mpmath, over wide grids.

Note [special-function accuracy] in gradwalk/ops/special_common.py: the kernels aim at about
1e-12 relative. PyTorch's own ``airy_ai``, ``bessel_j1`` and ``bessel_y0`` are less accurate
than that (up to ~3e-6 absolute for ``airy_ai`` near -2.1), so those are checked against mpmath
at 1e-10 and against PyTorch on the OpInfo range only (``tests/ops/test_opinfo_parity.py``).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

_RNG = np.random.default_rng(10)
GRID = np.concatenate([_RNG.uniform(-10.0, 10.0, 48), _RNG.uniform(0.0, 3.0, 16),
                       _RNG.uniform(-60.0, 60.0, 8),
                       [0.0, 0.5, 1.0, 2.0, -0.5, -1.5, 1e-8, 30.0, 35.0, 14.5]])
PROBS = np.concatenate([_RNG.uniform(0.0, 1.0, 24), [1e-12, 1e-5, 0.25, 0.5, 0.75, 1 - 1e-9]])
POSITIVE = np.concatenate([_RNG.uniform(0.0, 12.0, 40), [1e-6, 0.5, 1.0, 2.0, 100.0]])

UNARY = {  # name -> (grid, rtol)
    "erfc": (GRID, 1e-12), "erfcx": (GRID[np.abs(GRID) < 25], 1e-11),
    "erfinv": (2 * PROBS - 1, 1e-12), "ndtr": (GRID, 1e-12), "ndtri": (PROBS, 1e-11),
    "log_ndtr": (GRID, 1e-11), "entr": (POSITIVE, 1e-12), "sinc": (GRID, 1e-12),
    "expit": (GRID, 1e-12), "gammaln": (GRID, 1e-10), "digamma": (GRID, 1e-10),
    "i0": (GRID, 1e-12), "i0e": (GRID, 1e-12), "i1": (GRID, 1e-12), "i1e": (GRID, 1e-12),
    "modified_bessel_i0": (GRID, 1e-12), "modified_bessel_i1": (GRID, 1e-12),
    "modified_bessel_k0": (POSITIVE, 1e-9), "modified_bessel_k1": (POSITIVE, 1e-9),
    "scaled_modified_bessel_k0": (POSITIVE, 1e-9),
    "scaled_modified_bessel_k1": (POSITIVE, 1e-9),
    "spherical_bessel_j0": (GRID, 1e-12), "exp2": (GRID, 1e-12),
}
DIFFERENTIABLE = ["erfc", "erfcx", "erfinv", "ndtr", "ndtri", "log_ndtr", "entr", "sinc",
                  "gammaln", "digamma", "i0", "i0e", "i1", "i1e", "exp2"]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_match_torch(name):
    x, rtol = UNARY[name]
    ours = getattr(gradwalk.special, name)(gradwalk.tensor(x)).numpy()
    ref = oracle(lambda torch: getattr(torch.special, name)(torch.tensor(x)))
    # absolute noise near zeros (lgamma(2) = 0), and PyTorch's ndtr is good to ~1e-17 only in
    # absolute terms far in the tail
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_match_torch(name):
    x, rtol = UNARY[name]
    x = x[np.isfinite(x) & (np.abs(x) < 9.5) & (x != 0) & (np.abs(x) < 0.9999 if name in (
        "erfinv",) else True)]
    if name == "ndtri":
        x = x[(x > 0) & (x < 1)]
    w = np.linspace(-1.0, 1.0, x.size)

    def grad(m):
        t = m.tensor(x, requires_grad=True)
        (getattr(m.special, name)(t) * m.tensor(w)).sum().backward()
        return t.grad

    np.testing.assert_allclose(grad(gradwalk).numpy(), oracle(grad), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["gammaln", "erfinv", "i1e", "log_ndtr"])
def test_forward_mode_matches_torch(name):
    x = np.array([0.3, -0.7, 0.9, 0.05]) if name != "gammaln" else np.array([0.3, 2.5, -1.5])

    def jvp(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(m.tensor(x), m.tensor(np.ones_like(x) * 0.5))
            return fw.unpack_dual(getattr(m.special, name)(d)).tangent

    np.testing.assert_allclose(jvp(gradwalk).numpy(), oracle(jvp), rtol=1e-10)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 6])
def test_polygamma_matches_torch_with_its_gradient(n):
    x = GRID[(np.abs(GRID) < 9.5) & (GRID != np.round(GRID))]

    def run(m):
        t = m.tensor(x, requires_grad=True)
        y = m.polygamma(n, t)
        y.sum().backward()
        return y.detach(), t.grad

    (y, g), (ry, rg) = run(gradwalk), oracle(run)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-9)
    np.testing.assert_allclose(g.numpy(), rg, rtol=1e-9)


@pytest.mark.parametrize("p", [1, 3, 5])
def test_mvlgamma_and_multigammaln_match_torch(p):
    x = np.linspace(2.6, 9.0, 7)

    def run(m):
        t = m.tensor(x, requires_grad=True)
        y = m.mvlgamma(t, p)
        y.sum().backward()
        return y.detach(), t.grad, m.special.multigammaln(m.tensor(x), p)

    ours, ref = run(gradwalk), oracle(run)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-10)


def test_mvlgamma_below_its_domain_computes_as_torch_does():
    x = np.array([0.4, 3.0, -0.4])

    def run(m):
        return m.mvlgamma(m.tensor(x), 3)

    np.testing.assert_allclose(run(gradwalk).numpy(), oracle(run), rtol=1e-10)
    assert oracle(lambda torch: error_of(lambda: torch.mvlgamma(torch.tensor(x), 0)))[0] == \
        "RuntimeError"
    with pytest.raises(RuntimeError, match="greater than or equal to 1"):
        gradwalk.mvlgamma(gradwalk.tensor(x), 0)


BINARY = ["xlogy", "xlog1py", "zeta", "gammainc", "gammaincc", "chebyshev_polynomial_t",
          "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
          "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
          "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
          "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
          "legendre_polynomial_p"]


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_match_torch(name):
    rng = np.random.default_rng(len(name))
    a = np.concatenate([rng.uniform(-9, 9, 30), [0.0, 1.0, -1.0, 0.0, 2.0, 0.5]])
    b = np.concatenate([rng.uniform(-9, 9, 30), [0.0, 0.0, 3.0, -1.0, 7.0, 1.0]])
    if "polynomial" in name:
        a, b = a / 4.0, np.abs(b)
    ours = getattr(gradwalk.special, name)(gradwalk.tensor(a), gradwalk.tensor(b)).numpy()
    ref = oracle(lambda torch: getattr(torch.special, name)(torch.tensor(a), torch.tensor(b)))
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_gradients_match_torch_at_zero(name):
    x = np.array([0.0, 0.0, 1.5, -2.0, 0.0])
    y = np.array([0.0, -1.0, 2.0, 0.5, 3.0])

    def run(m):
        a, b = m.tensor(x, requires_grad=True), m.tensor(y, requires_grad=True)
        getattr(m.special, name)(a, b).sum().backward()
        return a.grad, b.grad

    for g, r in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-12)


def test_logit_with_eps_matches_torch():
    x = np.array([0.01, 0.3, 0.5, 0.97])

    def run(m):
        t = m.tensor(x, requires_grad=True)
        y = m.logit(t, eps=0.05)
        y.sum().backward()
        return y.detach(), t.grad

    for g, r in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-12)


@pytest.mark.parametrize("name", ["airy_ai", "bessel_j1", "bessel_y0"])
def test_bessel_and_airy_against_mpmath(name):
    x = GRID[GRID > 0] if name == "bessel_y0" else GRID
    fn = {"airy_ai": mp.airyai, "bessel_j1": lambda t: mp.besselj(1, t),
          "bessel_y0": lambda t: mp.bessely(0, t)}[name]
    ref = np.array([float(fn(mp.mpf(float(v)))) for v in x])
    ours = getattr(gradwalk.special, name)(gradwalk.tensor(x)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-13)


def test_dtypes_follow_torch():
    ours = [gradwalk.special.erfc(gradwalk.tensor([1.0])).dtype,
            gradwalk.special.gammaln(gradwalk.tensor([1, 2])).dtype,
            gradwalk.special.xlogy(2, gradwalk.tensor([1.0], dtype=gradwalk.float64)).dtype,
            gradwalk.special.i0e(gradwalk.tensor([1.0], dtype=gradwalk.float64)).dtype]
    ref = oracle(lambda torch: [str(torch.special.erfc(torch.tensor([1.0])).dtype),
                                str(torch.special.gammaln(torch.tensor([1, 2])).dtype),
                                str(torch.special.xlogy(2, torch.tensor([1.0],
                                                                       dtype=torch.float64)).dtype),
                                str(torch.special.i0e(torch.tensor([1.0],
                                                                   dtype=torch.float64)).dtype)])
    assert [str(d).split(".")[-1] for d in ours] == [r.split(".")[-1] for r in ref]


def test_methods_and_top_level_names():
    x = gradwalk.tensor([0.5, 2.5])
    np.testing.assert_allclose(x.lgamma().numpy(), gradwalk.special.gammaln(x).numpy())
    np.testing.assert_allclose(x.polygamma(2).numpy(), gradwalk.polygamma(2, x).numpy())
    np.testing.assert_allclose(x.digamma().numpy(), gradwalk.special.psi(x).numpy())
    y = x.clone()
    y.erfc_()
    np.testing.assert_allclose(y.numpy(), gradwalk.erfc(x).numpy())
    for name in ("lgamma", "digamma", "polygamma", "mvlgamma", "erfc", "erfinv", "i0",
                 "igamma", "igammac"):
        assert callable(getattr(gradwalk, name)), name


def test_the_graph_names_the_torch_nodes():
    x = gradwalk.tensor([0.5], requires_grad=True)
    assert gradwalk.lgamma(x).grad_fn.name() == "LgammaBackward0"
    assert gradwalk.special.erfinv(x).grad_fn.name() == "ErfinvBackward0"


def test_double_backward_of_digamma_matches_torch():
    x = np.array([0.7, 1.9, -0.4])

    def run(m):
        t = m.tensor(x, requires_grad=True)
        (g,) = m.autograd.grad(m.digamma(t).sum(), t, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), t)
        return g.detach(), h

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-9)


def test_forward_only_functions_do_not_require_grad():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = gradwalk.special.modified_bessel_k0(x)
    assert not y.requires_grad
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="must be a Tensor"):
        gradwalk.special.erfc([1.0])
    with pytest.raises(RuntimeError, match="negative n"):
        gradwalk.polygamma(-1, gradwalk.tensor([1.0]))
    with pytest.raises(TypeError, match="at least one Tensor"):
        gradwalk.special.xlogy(1.0, 2.0)


def test_special_round_softmax_logsumexp():
    x = np.array([1.2345, -2.5, 0.125])

    def run(m):
        t = m.tensor(x)
        return (m.special.round(t, decimals=2), m.special.softmax(t, 0),
                m.special.log_softmax(t, 0), m.special.logsumexp(t, 0),
                m.special.expm1(t), m.special.log1p(m.special.expit(t)))

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12)


def test_polynomial_degrees_as_torch_reads_them():
    x = np.array([0.3, -1.2, 2.0, 0.5, 1.0, -1.0])
    n = np.array([600.0, 3.7, 2.0, -2.0, 9.0, 9.0])

    def run(m):
        s = m.special
        return [f(m.tensor(x), m.tensor(n)) for f in (
            s.hermite_polynomial_h, s.hermite_polynomial_he, s.chebyshev_polynomial_t,
            s.chebyshev_polynomial_u, s.chebyshev_polynomial_v, s.chebyshev_polynomial_w,
            s.legendre_polynomial_p, s.laguerre_polynomial_l)] + [
            s.chebyshev_polynomial_t(m.tensor(x), 3), s.zeta(m.tensor([2.0, 3.5]), 1.0)]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-14)
