"""Samples of the ``gradwalk.linalg`` ops (inverses, solves, determinants, decompositions,
norms, matrix_exp, diagonal), picked up by ``op_samples.py``.

Decompositions are checked through outputs that do not depend on the sign of a singular or
eigenvector (``U * U``): finite differences must not cross a sign flip. Ops defined on
symmetric (``cholesky``, ``eigh``) or triangular (``cholesky_solve``'s factor) matrices draw
their tangents in that space (``tangent_space``): PyTorch's forward rules, which these follow,
are the derivatives there.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from .op_samples import Sample, distinct, nonzero, normal
except ImportError:  # tests/ops is not a package: pytest put this directory on sys.path
    from op_samples import Sample, distinct, nonzero, normal


def wellcond(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Square matrices with a dominant diagonal (well conditioned, any sign pattern)."""
    n = shape[-1]
    signs = rng.choice([-1.0, 1.0], shape[:-1])[..., None]
    return rng.standard_normal(shape) + 3.0 * np.eye(n) * signs


def _sym(k, t):
    return (t + np.swapaxes(t, -1, -2)) / 2


def _lower_second(k, t):
    return np.tril(t) if k == 1 else t


def _spd(m, x):
    return x @ x.mT + 3.0 * m.eye(x.shape[-1], dtype=x.dtype)


def _spd_np(x):
    return x @ np.swapaxes(x, -1, -2) + 3.0 * np.eye(x.shape[-1])


def _eigh_gw(m, x):
    if m.__name__ == "torch":
        w, v = m.linalg.eigh(x + x.mT)
    else:
        w, v = m.linalg.decompositions.eigh(x + x.mT)
    return v * v * w.unsqueeze(-2)


def _eigh_ref(x):
    w, v = np.linalg.eigh(x + np.swapaxes(x, -1, -2))
    return v * v * w[..., None, :]


def _svd_call(full):
    def call(m, a):
        U, S, Vh = m.linalg.svd(a, full_matrices=full)
        k = S.shape[-1]
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        return (U * U * S.unsqueeze(-2)) @ (Vh * Vh)
    return call


def _svd_ref(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * u * s[..., None, :]) @ (vh * vh)


def _qr_call(m, a):
    Q, R = m.linalg.qr(a)
    return (Q * Q) @ R


def _qr_ref(a):
    q, r = np.linalg.qr(a)
    return (q * q) @ r


def _lu_call(m, a):
    P, L, U = m.linalg.lu(a)
    return P @ ((L * L) @ U)


def _lu_ref(a):
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = a.copy()
    perm = np.arange(m)
    for j in range(k):
        p = j + int(np.argmax(np.abs(lu[j:, j])))
        lu[[j, p]] = lu[[p, j]]
        perm[[j, p]] = perm[[p, j]]
        lu[j + 1:, j] /= lu[j, j]
        lu[j + 1:, j + 1:] -= np.outer(lu[j + 1:, j], lu[j, j + 1:])
    L = np.tril(lu, -1)[:, :k] + np.eye(m, k)
    U = np.triu(lu)[:k]
    P = np.eye(m)[perm].T
    return P @ ((L * L) @ U)


def _expm_ref(a):
    r = np.eye(a.shape[-1])
    term = np.eye(a.shape[-1])
    for k in range(1, 40):
        term = term @ a / k
        r = r + term
    return r


def _scatter_call(m, a):
    if not a.requires_grad:
        a = a.detach().requires_grad_()
    v = a[0, :3] * a[0, :3]
    return m.autograd.grad(m.linalg.diagonal(a, offset=1), a, v, create_graph=True)[0]


def _scatter_ref(a):
    out = np.zeros_like(a)
    out[np.arange(3), np.arange(3) + 1] = a[0, :3] ** 2
    return out


def _vnorm_ref(ord, axis=None):
    def ref(x):
        a = np.abs(x)
        if ord == math.inf:
            return a.max(axis=axis)
        if ord == 0:
            return (a != 0).sum(axis=axis).astype(np.float64)
        return (a ** ord).sum(axis=axis) ** (1.0 / ord)
    return ref


def _chol_solve_call(upper):
    def call(m, b, x):
        L = m.linalg.cholesky(_spd(m, x), upper=upper)
        return m.cholesky_solve(b, L, upper=upper)
    return call


def _tangent_upper_second(k, t):
    return np.triu(t) if k == 1 else t


SAMPLES = [
    Sample("linalg_inv", "linalg_inv", lambda m, a: m.linalg.inv(a), ((3, 3),),
           np.linalg.inv, wellcond),
    Sample("linalg_inv_batched", "linalg_inv", lambda m, a: m.linalg.inv(a), ((2, 3, 3),),
           np.linalg.inv, wellcond),
    Sample("linalg_solve", "linalg_solve", lambda m, a, b: m.linalg.solve(a, b),
           ((3, 3), (3, 2)), np.linalg.solve, (wellcond, normal)),
    Sample("linalg_solve_right_batched", "linalg_solve",
           lambda m, a, b: m.linalg.solve(a, b, left=False), ((2, 3, 3), (2, 2, 3)),
           lambda a, b: np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2),
                                                    np.swapaxes(b, -1, -2)), -1, -2),
           (wellcond, normal)),
    Sample("linalg_solve_vector", "linalg_solve", lambda m, a, b: m.linalg.solve(a, b),
           ((3, 3), (3,)), lambda a, b: np.linalg.solve(a, b[:, None])[:, 0],
           (wellcond, normal)),
    Sample("linalg_solve_triangular", "linalg_solve_triangular",
           lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), ((3, 3), (3, 2)),
           lambda a, b: np.linalg.solve(np.triu(a), b), (wellcond, normal)),
    Sample("linalg_solve_triangular_right_unit", "linalg_solve_triangular",
           lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False,
                                                     unitriangular=True),
           ((3, 3), (2, 3)),
           lambda a, b: b @ np.linalg.inv(np.tril(a, -1) + np.eye(3)), (wellcond, normal)),
    Sample("linalg_det", "linalg_det", lambda m, a: m.linalg.det(a), ((3, 3),),
           np.linalg.det),
    Sample("linalg_det_batched", "linalg_det", lambda m, a: m.linalg.det(a), ((2, 3, 3),),
           np.linalg.det, wellcond),
    Sample("linalg_slogdet", "linalg_logabsdet", lambda m, a: m.linalg.slogdet(a)[1],
           ((3, 3),), lambda a: np.linalg.slogdet(a)[1], wellcond),
    Sample("linalg_cholesky", "linalg_cholesky",
           lambda m, x: m.linalg.cholesky(_spd(m, x)), ((3, 3),),
           lambda x: np.linalg.cholesky(_spd_np(x)), tangent_space=_sym),
    Sample("linalg_cholesky_upper", "linalg_cholesky",
           lambda m, x: m.linalg.cholesky(_spd(m, x), upper=True), ((2, 3, 3),),
           lambda x: np.swapaxes(np.linalg.cholesky(_spd_np(x)), -1, -2), tangent_space=_sym),
    Sample("linalg_cholesky_solve", "linalg_cholesky_solve", _chol_solve_call(False),
           ((3, 2), (3, 3)), lambda b, x: np.linalg.solve(_spd_np(x), b),
           tangent_space=_lower_second),
    Sample("linalg_cholesky_solve_upper", "linalg_cholesky_solve", _chol_solve_call(True),
           ((3, 2), (3, 3)), lambda b, x: np.linalg.solve(_spd_np(x), b),
           tangent_space=_tangent_upper_second),
    Sample("linalg_pinv_tall", "linalg_pinv", lambda m, a: m.linalg.pinv(a), ((4, 3),),
           np.linalg.pinv),
    Sample("linalg_pinv_wide", "linalg_pinv", lambda m, a: m.linalg.pinv(a), ((2, 3),),
           np.linalg.pinv),
    Sample("linalg_eigh", "linalg_eigh", _eigh_gw, ((4, 4),), _eigh_ref, tangent_space=_sym),
    Sample("linalg_svd_tall", "linalg_svd", _svd_call(False), ((4, 3),), _svd_ref),
    Sample("linalg_svd_wide", "linalg_svd", _svd_call(False), ((3, 4),), _svd_ref),
    Sample("linalg_svd_batched", "linalg_svd", _svd_call(False), ((2, 3, 3),), _svd_ref),
    Sample("linalg_qr_tall", "linalg_qr", _qr_call, ((4, 3),), _qr_ref),
    Sample("linalg_qr_wide", "linalg_qr", _qr_call, ((3, 4),), _qr_ref),
    Sample("linalg_lu_square", "linalg_lu", _lu_call, ((3, 3),), _lu_ref),
    Sample("linalg_lu_tall", "linalg_lu", _lu_call, ((4, 3),), _lu_ref),
    Sample("linalg_lu_wide", "linalg_lu", _lu_call, ((3, 4),), _lu_ref),
    Sample("linalg_matrix_exp", "linalg_matrix_exp",
           lambda m, a: m.linalg.matrix_exp(a * 0.5), ((3, 3),), lambda a: _expm_ref(a * 0.5)),
    Sample("linalg_diagonal", "linalg_diagonal",
           lambda m, a: m.linalg.diagonal(a, offset=1), ((3, 4),),
           lambda a: np.diagonal(a, 1).copy()),
    Sample("linalg_diagonal_dims", "linalg_diagonal",
           lambda m, a: m.linalg.diagonal(a, offset=-1, dim1=0, dim2=2), ((3, 2, 4),),
           lambda a: np.diagonal(a, -1, 0, 2).copy()),
    Sample("linalg_diagonal_backward", "linalg_diagonal_backward", _scatter_call, ((3, 4),),
           _scatter_ref),
    Sample("linalg_vector_norm_2", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, dim=1), ((2, 3),), _vnorm_ref(2, 1)),
    Sample("linalg_vector_norm_1", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, 1), ((2, 3),), _vnorm_ref(1), nonzero),
    Sample("linalg_vector_norm_3", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, 3, dim=0), ((2, 3),), _vnorm_ref(3, 0),
           nonzero),
    Sample("linalg_vector_norm_half", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, 0.5), ((4,),), _vnorm_ref(0.5), nonzero),
    Sample("linalg_vector_norm_1_5", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, 1.5), ((4,),), _vnorm_ref(1.5), nonzero),
    Sample("linalg_vector_norm_inf", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, math.inf), ((2, 3),), _vnorm_ref(math.inf),
           distinct),
    Sample("linalg_vector_norm_0", "linalg_vector_norm",
           lambda m, x: m.linalg.vector_norm(x, 0), ((2, 3),), _vnorm_ref(0), nonzero),
]
