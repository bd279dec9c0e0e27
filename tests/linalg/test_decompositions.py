"""gradwalk.linalg's decompositions against PyTorch (recorded oracle): svd, qr, the LU family,
householder_product and eigh's sign-free results."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

from .helpers import assert_same, run


def _x(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def _eigh(m, x):
    s = x + x.mT
    if m.__name__ == "torch":
        w, v = m.linalg.eigh(s)
    else:
        w, v = m.linalg.decompositions.eigh(s)
    return w, v * v  # the squares do not depend on the eigenvectors' signs


def _sign_free(outs):
    # a singular vector's sign is LAPACK's choice (MKL's and NumPy's differ at times)
    U, S, V = outs
    k = S.shape[-1]
    return U[..., :, :k] * U[..., :, :k], S, V * V


CASES = {
    "svd_tall": (lambda m, a: _sign_free(m.linalg.svd(a, full_matrices=False)),
                 [_x(0, (4, 3))]),
    "svd_wide": (lambda m, a: _sign_free(m.linalg.svd(a, full_matrices=False)),
                 [_x(1, (2, 3, 4))]),
    "svd_full": (lambda m, a: _sign_free(m.linalg.svd(a)), [_x(2, (4, 3))]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [_x(3, (3, 5))]),
    "torch_svd": (lambda m, a: _sign_free(m.svd(a)), [_x(4, (4, 3))]),
    "qr_tall": (lambda m, a: m.linalg.qr(a), [_x(5, (4, 3))]),
    "qr_wide": (lambda m, a: m.linalg.qr(a), [_x(6, (3, 5))]),
    "qr_complete_square": (lambda m, a: m.linalg.qr(a, mode="complete"), [_x(7, (2, 3, 3))]),
    "lu": (lambda m, a: m.linalg.lu(a), [_x(8, (4, 4))]),
    "lu_tall": (lambda m, a: m.linalg.lu(a), [_x(9, (5, 3))]),
    "lu_wide": (lambda m, a: m.linalg.lu(a), [_x(10, (2, 3, 5))]),
    "lu_factor": (lambda m, a: m.linalg.lu_factor(a), [_x(11, (4, 4))]),
    "lu_solve": (lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b),
                 [_x(12, (3, 3)), _x(13, (3, 2))]),
    "lu_solve_adjoint_right": (
        lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, left=False, adjoint=True),
        [_x(14, (3, 3)), _x(15, (2, 3))]),
    "householder_product": (lambda m, a, t: m.linalg.householder_product(a, t),
                            [_x(16, (5, 3)), _x(17, (3,))]),
    "eigh_sign_free": (_eigh, [_x(18, (4, 4))]),
    "eigvalsh": (lambda m, x: m.linalg.eigvalsh(x + x.mT), [_x(19, (2, 3, 3))]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, xs = CASES[name]
    ref = oracle(lambda torch: run(torch, fn, xs, double=True))
    assert_same(run(gradwalk, fn, xs, double=True), ref)


def test_pivots_match_torch():
    a = _x(20, (3, 4, 4))
    ref = oracle(lambda torch: torch.linalg.lu_factor(torch.tensor(a)).pivots)
    piv = gradwalk.linalg.lu_factor(gradwalk.tensor(a)).pivots
    assert piv.dtype == gradwalk.int32 and np.array_equal(piv.numpy(), ref)


def test_svdvals_gradient_at_repeated_singular_values():
    # U and V are not unique at repeated singular values; the values' gradient is finite
    a = gradwalk.eye(3, dtype=gradwalk.float64).requires_grad_()
    gradwalk.linalg.svdvals(a).sum().backward()
    assert np.allclose(a.grad.numpy(), np.eye(3))


def test_qr_complete_tall_is_not_differentiable():
    a = gradwalk.tensor(_x(21, (4, 2)), requires_grad=True)
    Q, R = gradwalk.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="not differentiable"):
        Q.sum().backward()
