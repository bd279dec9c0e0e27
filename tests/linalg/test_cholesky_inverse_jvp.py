"""cholesky_inverse's forward-mode tangent is the derivative of L -> (L L^T)^-1 (of U -> (U^T
U)^-1 with ``upper=True``), ``dX = -X (dL L^T + L dL^T) X`` for the triangle the forward reads.

PyTorch's forward-AD rule for cholesky_inverse disagrees with PyTorch's own finite differences
(``test_pytorchs_forward_rule_is_not_its_derivative``), so the reference here is what PyTorch
computes by reverse mode (``torch.autograd.functional.jvp``, the double-vjp trick) and central
finite differences."""

import numpy as np
import pytest

import gradwalk
import gradwalk.autograd.forward_ad as gfw
from tests.fixtures.oracle import oracle


def _factor(upper, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((3, 3))
    a = a @ a.T + 3 * np.eye(3)
    low = np.linalg.cholesky(a)
    d = rng.standard_normal((3, 3))
    return (low.T, np.triu(d)) if upper else (low, np.tril(d))


def _tangent(L, dL, upper):
    with gfw.dual_level():
        x = gfw.make_dual(gradwalk.tensor(L), gradwalk.tensor(dL))
        return gfw.unpack_dual(gradwalk.cholesky_inverse(x, upper=upper)).tangent.numpy()


def _fd(L, dL, upper, eps=1e-6):
    f = lambda m: gradwalk.cholesky_inverse(gradwalk.tensor(m), upper=upper).numpy()  # noqa: E731
    return (f(L + eps * dL) - f(L - eps * dL)) / (2 * eps)


@pytest.mark.parametrize("upper", [False, True])
def test_tangent_is_the_reverse_mode_derivative_of_pytorch(upper):
    L, dL = _factor(upper)
    ref = oracle(lambda torch: torch.autograd.functional.jvp(
        lambda m: torch.cholesky_inverse(m, upper=upper), torch.tensor(L), torch.tensor(dL))[1])
    np.testing.assert_allclose(_tangent(L, dL, upper), ref, rtol=1e-10, atol=1e-12)
    X = np.linalg.inv(L.T @ L if upper else L @ L.T)
    dK = dL.T @ L if upper else dL @ L.T
    np.testing.assert_allclose(_tangent(L, dL, upper), -X @ (dK + dK.T) @ X, rtol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_tangent_matches_finite_differences_for_any_direction(upper):
    L, _ = _factor(upper)
    dL = np.random.default_rng(5).standard_normal((3, 3))  # not triangular: the forward reads
    np.testing.assert_allclose(_tangent(L, dL, upper), _fd(L, dL, upper), atol=1e-8)


def test_pytorchs_forward_rule_is_not_its_derivative():
    """Why PyTorch's forward AD is not the reference: its tangent is far from its own finite
    difference (gradwalk's is not)."""
    L, dL = _factor(False)

    def gap(torch):
        import torch.autograd.forward_ad as fw
        t, d = torch.tensor(L), torch.tensor(dL)
        with fw.dual_level():
            tan = fw.unpack_dual(torch.cholesky_inverse(fw.make_dual(t, d))).tangent
        fd = (torch.cholesky_inverse(t + 1e-6 * d) - torch.cholesky_inverse(t - 1e-6 * d)) / 2e-6
        return float((tan - fd).abs().max())

    assert oracle(gap) > 1e-2
    assert np.abs(_tangent(L, dL, False) - _fd(L, dL, False)).max() < 1e-8
