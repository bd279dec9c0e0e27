"""Decompositions: eigh, svd, qr (each one packed op, Note [packed outputs] in ``_core.py``)
and the LU family (lu_factor, lu, lu_unpack, lu_solve), with PyTorch's reverse and forward
rules."""

from __future__ import annotations

import math

import numpy as np

from ..ops import indexing as I
from ..ops import registry as _registry
from ..ops import shape as S
from ..ops.registry import apply
from . import _core as C
from ._core import allzero, diag, diag_embed, eye, mT, ns, pack, unpack
from .solvers import solve_triangular

# ---------------------------------------------------------------------------------------------
# eigh


def _eigh_shapes(n):
    return [(n,), (n, n)]


@C.batchable()
def _eigh_fwd(xp, a, uplo, shape):
    batch, n = a.shape[:-2], a.shape[-1]
    if a.size == 0:
        return np.zeros(batch + (n + n * n,), dtype=a.dtype)
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return pack(np, [w, v], batch)


def _gaps(xp, L):
    """``E[i, j] = L[j] - L[i]``, with ones on the diagonal."""
    n = L.shape[-1]
    return xp.expand_dims(L, -2) - xp.expand_dims(L, -1) + eye(xp, n, C._dt(L))


def _eigh_vjp(xp, g, out, a, uplo, shape):
    batch, n = shape[:-2], shape[-1]
    L, V = unpack(xp, out, batch, _eigh_shapes(n))
    gL, gV = unpack(xp, g, batch, _eigh_shapes(n))
    inner = diag_embed(xp, gL)
    if not allzero(gV):
        VhgV = xp.matmul(mT(V), gV)
        VhgV = 0.5 * (VhgV - mT(VhgV))
        inner = inner + VhgV / _gaps(xp, L)
    return xp.matmul(V, xp.matmul(inner, mT(V)))


def _eigh_jvp(xp, t, out, a, uplo, shape):
    batch, n = shape[:-2], shape[-1]
    L, V = unpack(xp, out, batch, _eigh_shapes(n))
    dP = xp.matmul(xp.matmul(mT(V), t), V)
    dL = diag(xp, dP)
    off = C.c(xp, 1.0 - np.eye(n))
    dV = xp.matmul(V, dP / _gaps(xp, L) * off)
    return pack(xp, [dL, dV], batch)


EIGH = _registry.declare(
    "linalg_eigh", _eigh_fwd, _eigh_vjp, _eigh_jvp, saves=(), save_out=True,
    node_name="LinalgEighBackward0",
    explain="V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T")


class _Named(tuple):
    _fields: tuple = ()

    def __getattr__(self, name):
        try:
            return self[self._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None


class _Eigh(_Named):
    _fields = ("eigenvalues", "eigenvectors")


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def eigh(A, UPLO: str = "L"):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices; only the ``UPLO``
    triangle of ``A`` is read.

    Example:
        >>> import gradwalk
        >>> A = gradwalk.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> gradwalk.linalg.decompositions.eigh(A).eigenvalues
        tensor([1., 3.])
    """
    C.matrix_in(A, "linalg.eigh", square=True)
    n = A.shape[-1]
    packed = apply(EIGH, A, params={"uplo": _uplo(UPLO), "shape": tuple(A.shape)})
    return _Eigh(C.unpack_tensor(packed, A.shape[:-2], _eigh_shapes(n)))


def eigvalsh(A, UPLO: str = "L"):
    """The eigenvalues (ascending) of symmetric matrices.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.eigvalsh(gradwalk.tensor([[2.0, 1.0], [1.0, 2.0]]))
        tensor([1., 3.])
    """
    C.matrix_in(A, "linalg.eigvalsh", square=True)
    return eigh(A, UPLO)[0]


# ---------------------------------------------------------------------------------------------
# svd


def _svd_shapes(m, n, full):
    k = min(m, n)
    return [(m, m if full else k), (k,), (n if full else k, n)]


@C.batchable()
def _svd_fwd(xp, a, full, shape):
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    shapes = _svd_shapes(m, n, full)
    if a.size == 0:
        parts = [np.zeros(batch + s, dtype=a.dtype) for s in shapes]
        if full:
            parts[0] = np.broadcast_to(np.eye(m, dtype=a.dtype), batch + (m, m))
            parts[2] = np.broadcast_to(np.eye(n, dtype=a.dtype), batch + (n, n))
        return pack(np, parts, batch)
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    return pack(np, [u, s, vh], batch)


def _svd_parts(xp, packed, shape, full):
    batch, (m, n) = shape[:-2], shape[-2:]
    k = min(m, n)
    U, Sv, Vh = unpack(xp, packed, batch, _svd_shapes(m, n, full))
    if full:
        U, Vh = U[..., :, :k], Vh[..., :k, :]
    return U, Sv, Vh


def _svd_vjp(xp, g, out, a, full, shape):
    m, n = shape[-2:]
    U, Sv, Vh = _svd_parts(xp, out, shape, full)
    gU, gS, gVh = _svd_parts(xp, g, shape, full)
    mm = xp.matmul
    hasU, hasV = not allzero(gU), not allzero(gVh)
    if not hasU and not hasV:
        return mm(U * xp.expand_dims(gS, -2), Vh)
    k = min(m, n)
    S2 = Sv * Sv
    E = xp.expand_dims(S2, -2) - xp.expand_dims(S2, -1) + eye(xp, k, C._dt(Sv))
    row, col = xp.expand_dims(Sv, -2), xp.expand_dims(Sv, -1)
    UhgU = mm(mT(U), gU)
    UhgU = UhgU - mT(UhgU)
    VhgV = mm(Vh, mT(gVh))
    VhgV = VhgV - mT(VhgV)
    inner = (UhgU * row + col * VhgV) / E + diag_embed(xp, gS)
    if m > n and hasU:
        gA = mm(U, inner)
        gUS = gU / row
        gA = gA + gUS - mm(U, mm(mT(U), gUS))
        return mm(gA, Vh)
    if m < n and hasV:
        gA = mm(inner, Vh)
        SgV = gVh / col
        gA = gA + SgV - mm(mm(SgV, mT(Vh)), Vh)
        return mm(U, gA)
    return mm(U, mm(inner, Vh))


def _svd_jvp(xp, t, out, a, full, shape):
    batch, (m, n) = shape[:-2], shape[-2:]
    k = min(m, n)
    U, Sv, Vh = _svd_parts(xp, out, shape, full)
    V = mT(Vh)
    mm = xp.matmul
    dP = mm(mT(U), mm(t, V))
    dS = diag(xp, dP)
    dP = dP - diag_embed(xp, dS)
    S2 = Sv * Sv
    E = xp.expand_dims(S2, -2) - xp.expand_dims(S2, -1) + eye(xp, k, C._dt(Sv))
    row, col = xp.expand_dims(Sv, -2), xp.expand_dims(Sv, -1)
    X = dP * row
    dU = mm(U, (X + mT(X)) / E)
    Y = col * dP
    dV = mm(V, (Y + mT(Y)) / E)
    if m > n:
        dAVS = mm(t, V / row)
        dU = dU + dAVS - mm(U, mm(mT(U), dAVS))
        if full:
            dU = xp.concatenate([dU, C.c(xp, np.zeros(batch + (m, m - n)))], axis=-1)
    elif m < n:
        dAUS = mm(mT(t), U / row)
        dV = dV + dAUS - mm(V, mm(mT(V), dAUS))
        if full:
            dV = xp.concatenate([dV, C.c(xp, np.zeros(batch + (n, n - m)))], axis=-1)
    return pack(xp, [dU, dS, mT(dV)], batch)


SVD = _registry.declare(
    "linalg_svd", _svd_fwd, _svd_vjp, _svd_jvp, saves=(), save_out=True,
    node_name="LinalgSvdBackward0",
    explain="U [(skew(U^T gU) S + S skew(V^T gV)) / (S_j^2 - S_i^2) + diag(gS)] V^T (+ the "
            "parts outside the span of U or V)")


class _Svd(_Named):
    _fields = ("U", "S", "Vh")


def svd(A, full_matrices: bool = True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``, singular values descending.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.svd(gradwalk.tensor([[3.0, 0.0], [0.0, -2.0]])).S
        tensor([3., 2.])
    """
    C.matrix_in(A, "linalg.svd")
    if driver is not None:
        raise RuntimeError("linalg.svd: keyword argument `driver=` is only supported on CUDA "
                           "inputs with cuSOLVER backend.")
    m, n = A.shape[-2:]
    packed = apply(SVD, A, params={"full": bool(full_matrices), "shape": tuple(A.shape)})
    return _Svd(C.unpack_tensor(packed, A.shape[:-2], _svd_shapes(m, n, bool(full_matrices))))


def svdvals(A, *, driver=None):
    """The singular values, descending.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.svdvals(gradwalk.tensor([[3.0, 0.0], [0.0, -2.0]]))
        tensor([3., 2.])
    """
    C.matrix_in(A, "linalg.svdvals")
    return svd(A, full_matrices=False)[1]


class _SvdV(_Named):
    _fields = ("U", "S", "V")


def svd_torch(input, some: bool = True, compute_uv: bool = True):
    """``torch.svd``: ``(U, S, V)`` with ``input = U @ diag(S) @ V.mT`` (reduced when
    ``some``); without ``compute_uv``, ``U`` and ``V`` are zero matrices.

    Example:
        >>> import gradwalk
        >>> gradwalk.svd(gradwalk.tensor([[3.0, 0.0], [0.0, -2.0]])).S
        tensor([3., 2.])
    """
    C.matrix_in(input, "svd", "input")
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = input.shape[:-2]
        dt = input._data.dtype
        return _SvdV((_registry.wrap(np.zeros(batch + (m, m), dt)), svdvals(input),
                      _registry.wrap(np.zeros(batch + (n, n), dt))))
    U, Sv, Vh = svd(input, full_matrices=not some)
    return _SvdV((U, Sv, mT(Vh)))


# ---------------------------------------------------------------------------------------------
# qr


def _qr_shapes(m, n, mode):
    k = min(m, n)
    if mode == "complete":
        return [(m, m), (m, n)]
    return [(m, k), (k, n)]


@C.batchable()
def _qr_fwd(xp, a, mode):
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    shapes = _qr_shapes(m, n, mode)
    if a.size == 0:
        parts = [np.zeros(batch + s, dtype=a.dtype) for s in shapes]
        if mode == "complete":
            parts[0] = np.broadcast_to(np.eye(m, dtype=a.dtype), batch + (m, m))
        return pack(np, parts, batch)
    q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    return pack(np, [q, r], batch)


def _copyltu(xp, M):
    L = ns(xp)
    return L.tril(M) + mT(L.tril(M, -1))


def _qr_square_vjp(xp, gQ, gR, Q, R):
    """m >= n: ``gA = (gQ + Q copyltu(M)) R^{-T}``, ``M = R gR^T - gQ^T Q``."""
    mm = xp.matmul
    M = mm(R, mT(gR)) - mm(mT(gQ), Q)
    B = gQ + mm(Q, _copyltu(xp, M))
    return mT(ns(xp).solve_tri(R, mT(B), True))


def _qr_vjp(xp, g, out, a, mode):
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    Q, R = unpack(xp, out, batch, _qr_shapes(m, n, mode))
    gQ, gR = unpack(xp, g, batch, _qr_shapes(m, n, mode))
    if m >= n:
        return _qr_square_vjp(xp, gQ, gR, Q, R)
    Y = a[..., :, m:]
    U, gU, gV = R[..., :, :m], gR[..., :, :m], gR[..., :, m:]
    gX = _qr_square_vjp(xp, gQ + xp.matmul(Y, mT(gV)), gU, Q, U)
    gY = xp.matmul(Q, gV)
    return xp.concatenate([gX, gY], axis=-1)


def _qr_square_jvp(xp, dA, Q, R):
    L = ns(xp)
    dAR = mT(L.solve_tri(mT(R), mT(dA), False))  # dA R^{-1}
    B = xp.matmul(mT(Q), dAR)
    low = L.tril(B, -1)
    W = B - (low - mT(low))  # dR R^{-1}, upper triangular
    return dAR - xp.matmul(Q, W), xp.matmul(W, R)


def _qr_jvp(xp, t, out, a, mode):
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    Q, R = unpack(xp, out, batch, _qr_shapes(m, n, mode))
    if m >= n:
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        dQ, dR = _qr_square_jvp(xp, t, Q, R)
        return pack(xp, [dQ, dR], batch)
    U, V = R[..., :, :m], R[..., :, m:]
    dQ, dU = _qr_square_jvp(xp, t[..., :, :m], Q, U)
    dV = xp.matmul(mT(Q), t[..., :, m:] - xp.matmul(dQ, V))
    return pack(xp, [dQ, xp.concatenate([dU, dV], axis=-1)], batch)


QR = _registry.declare(
    "linalg_qr", _qr_fwd, _qr_vjp, _qr_jvp, saves=(0,), save_out=True,
    node_name="LinalgQrBackward0",
    explain="(gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T (wide matrices: split A = [X | Y])")


class _Qr(_Named):
    _fields = ("Q", "R")


def qr(A, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q @ R``, ``Q`` orthonormal columns, ``R`` upper triangular;
    ``mode`` is ``'reduced'``, ``'complete'`` or ``'r'`` (``Q`` empty).

    Example:
        >>> import gradwalk
        >>> Q, R = gradwalk.linalg.qr(gradwalk.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> bool(gradwalk.allclose(Q @ R, gradwalk.tensor([[3.0, 1.0], [4.0, 2.0]])))
        True
    """
    C.matrix_in(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = A.shape[-2:]
    packed = apply(QR, A, params={"mode": "complete" if mode == "complete" else "reduced"})
    Q, R = C.unpack_tensor(packed, A.shape[:-2], _qr_shapes(m, n, mode))
    if mode == "r":
        Q = _registry.wrap(np.zeros((0,), dtype=A._data.dtype))
    return _Qr((Q, R))


def qr_torch(input, some: bool = True):
    """``torch.qr``: ``linalg.qr(input, 'reduced' if some else 'complete')``.

    Example:
        >>> import gradwalk
        >>> gradwalk.qr(gradwalk.eye(2)).R
        tensor([[1., 0.],
                [0., 1.]])
    """
    return qr(input, "reduced" if some else "complete")


# ---------------------------------------------------------------------------------------------
# LU: the factorization of the row-permuted matrix, without pivoting (the pivots are chosen
# on the data first, outside the graph)


@C.batchable()
def _lu_fwd(xp, b, shape):
    return C.getrf(b, pivot=False)[0]


def _lu_parts(xp, lu, m, n):
    k = min(m, n)
    L = ns(xp).tril(lu, -1)[..., :, :k] + eye(xp, m, C._dt(lu))[:, :k]
    U = ns(xp).triu(lu)[..., :k, :]
    return L, U


def _lu_vjp(xp, g, out, b, shape):
    m, n = shape[-2:]
    T = ns(xp)
    L, U = _lu_parts(xp, out, m, n)
    gL, gU = T.tril(g, -1)[..., :, :min(m, n)], T.triu(g)[..., :min(m, n), :]
    mm = xp.matmul
    if m == n:
        return _lu_square_vjp(xp, L, U, gL, mm(gU, mT(U)))
    if m > n:
        L1, L2, gL1, gL2 = L[..., :n, :], L[..., n:, :], gL[..., :n, :], gL[..., n:, :]
        gB1 = _lu_square_vjp(xp, L1, U, gL1, mm(gU, mT(U)) - mm(mT(L2), gL2))
        gB2 = mT(T.solve_tri(U, mT(gL2), True))  # gL2 U^{-T}
        return xp.concatenate([gB1, gB2], axis=-2)
    U1, U2, gU1, gU2 = U[..., :, :m], U[..., :, m:], gU[..., :, :m], gU[..., :, m:]
    gB2 = T.solve_tri(mT(L), gU2, True, True)  # L^{-T} gU2
    gB1 = _lu_square_vjp(xp, L, U1, gL - mm(gB2, mT(U2)), mm(gU1, mT(U1)))
    return xp.concatenate([gB1, gB2], axis=-1)


def _lu_square_vjp(xp, L, U, gL, gUUt):
    """``L^{-T} (tril(L^T gL, -1) + triu(gU U^T)) U^{-T}`` (``gUUt`` is ``gU U^T``)."""
    T = ns(xp)
    phi = T.tril(xp.matmul(mT(L), gL), -1) + T.triu(gUUt)
    X = T.solve_tri(mT(L), phi, True, True)  # L^{-T} phi
    return mT(T.solve_tri(U, mT(X), True))  # X U^{-T}


def _lu_square_jvp(xp, L, U, dB):
    T = ns(xp)
    X = T.solve_tri(L, dB, False, True)  # L^{-1} dB
    X = mT(T.solve_tri(mT(U), mT(X), False))  # (L^{-1} dB) U^{-1}
    return xp.matmul(L, T.tril(X, -1)), xp.matmul(T.triu(X), U)


def _lu_jvp(xp, t, out, b, shape):
    m, n = shape[-2:]
    T = ns(xp)
    L, U = _lu_parts(xp, out, m, n)
    if m == n:
        dL, dU = _lu_square_jvp(xp, L, U, t)
        return dL + dU
    if m > n:
        L1, L2 = L[..., :n, :], L[..., n:, :]
        dL1, dU = _lu_square_jvp(xp, L1, U, t[..., :n, :])
        dL2 = mT(T.solve_tri(mT(U), mT(t[..., n:, :] - xp.matmul(L2, dU)), False))
        return xp.concatenate([dL1 + dU, dL2], axis=-2)
    U1, U2 = U[..., :, :m], U[..., :, m:]
    dL, dU1 = _lu_square_jvp(xp, L, U1, t[..., :, :m])
    dU2 = T.solve_tri(L, t[..., :, m:] - xp.matmul(dL, U2), False, True)
    return xp.concatenate([dL + dU1, dU2], axis=-1)


LU = _registry.declare(
    "linalg_lu", _lu_fwd, _lu_vjp, _lu_jvp, saves=(), save_out=True,
    node_name="LinalgLuFactorExBackward0",
    explain="L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T (tall and wide: the extra block)")


def _factor(A, pivot, op):
    C.matrix_in(A, op)
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")
    lu, perm, ipiv = C.getrf(A._data)
    m = A.shape[-2]
    if getattr(A._data, "_gw_batched", False):  # vmap: the permutation as a product
        B = _registry.wrap(np.swapaxes(_perm_matrix(perm, m, A._data.dtype), -1, -2)) @ A
    elif A._data.size and m:
        index = np.broadcast_to(perm[..., :, None], A.shape).astype(np.int64)
        B = I.gather(A, -2, _registry.wrap(index))
    else:
        B = A
    LUt = apply(LU, B, params={"shape": tuple(A.shape)})
    return LUt, ipiv, perm


class _LuFactor(_Named):
    _fields = ("LU", "pivots")


def lu_factor(A, *, pivot: bool = True):
    """``(LU, pivots)``: ``L`` and ``U`` packed in one matrix, LAPACK's 1-based row swaps.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.lu_factor(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
        tensor([2, 2], dtype=gradwalk.int32)
    """
    LUt, ipiv, _ = _factor(A, pivot, "torch.linalg.lu_factor")
    found = C.first_zero_pivot(LUt._data) if LUt._data.size else None
    if found is not None:
        b, k = found
        raise RuntimeError(
            f"torch.linalg.lu_factor: {C.batch_msg(b, A.ndim - 2)}U[{k},{k}] is zero and using "
            "it on lu_solve would result in a division by zero. If you still want to perform "
            "the factorization, consider calling linalg.lu(A, pivot) or "
            "linalg.lu_factor_ex(A, pivot)")
    return _LuFactor((LUt, _registry.wrap(ipiv)))


class _LuFactorEx(_Named):
    _fields = ("LU", "pivots", "info")


def lu_factor_ex(A, *, pivot: bool = True, check_errors: bool = False):
    """``(LU, pivots, info)``; ``info`` is the 1-based index of the first zero of ``U``'s
    diagonal, or 0.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.lu_factor_ex(gradwalk.eye(2)).info
        tensor(0, dtype=gradwalk.int32)
    """
    LUt, ipiv, _ = _factor(A, pivot, "torch.linalg.lu_factor_ex")
    d = np.diagonal(LUt._data, axis1=-2, axis2=-1)
    zero = d == 0
    info = np.where(zero.any(axis=-1), np.argmax(zero, axis=-1) + 1, 0) if d.shape[-1] else \
        np.zeros(d.shape[:-1], dtype=np.int64)
    return _LuFactorEx((LUt, _registry.wrap(ipiv), _registry.wrap(np.asarray(info, np.int32))))


def _perm_from_pivots(ipiv: np.ndarray, m: int) -> np.ndarray:
    batch = ipiv.shape[:-1]
    perm = np.broadcast_to(np.arange(m), batch + (m,)).copy()
    flat_p = perm.reshape(-1, m)
    flat_i = ipiv.reshape(-1, ipiv.shape[-1]).astype(np.int64) - 1
    for b in range(flat_p.shape[0]):
        for j, p in enumerate(flat_i[b]):
            if p != j:
                flat_p[b, [j, p]] = flat_p[b, [p, j]]
    return flat_p.reshape(batch + (m,))


@C.batchable()
def _perm_matrix(perm: np.ndarray, m: int, dtype) -> np.ndarray:
    return np.swapaxes(np.eye(m, dtype=dtype)[perm], -1, -2)


class _Lu(_Named):
    _fields = ("P", "L", "U")


def lu(A, *, pivot: bool = True):
    """``(P, L, U)`` with ``A = P @ L @ U``: ``P`` a permutation, ``L`` unit lower
    triangular, ``U`` upper triangular.

    Example:
        >>> import gradwalk
        >>> P, L, U = gradwalk.linalg.lu(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> U
        tensor([[3.0000, 4.0000],
                [0.0000, 0.6667]])
    """
    LUt, ipiv, perm = _factor(A, pivot, "linalg.lu")
    m, n = A.shape[-2:]
    L, U = _lu_parts(C._dxp, LUt, m, n) if A._data.size else _empty_lu(A)
    P = _registry.wrap(_perm_matrix(perm, m, A._data.dtype))
    return _Lu((P, L, U))


def _empty_lu(A):
    m, n = A.shape[-2:]
    k = min(m, n)
    batch, dt = A.shape[:-2], A._data.dtype
    L = np.broadcast_to(np.eye(m, k, dtype=dt), batch + (m, k)).copy()
    return _registry.wrap(L), _registry.wrap(np.zeros(batch + (k, n), dt))


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True):
    """``(P, L, U)`` from ``lu_factor``'s packed result.

    Example:
        >>> import gradwalk
        >>> LU, piv = gradwalk.linalg.lu_factor(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> gradwalk.lu_unpack(LU, piv).P
        tensor([[0., 1.],
                [1., 0.]])
    """
    C.matrix_in(LU_data, "lu_unpack", "LU_data")
    m, n = LU_data.shape[-2:]
    empty = _registry.wrap(np.zeros((0,), dtype=LU_data._data.dtype))
    P = L = U = empty
    if unpack_data:
        L, U = _lu_parts(C._dxp, LU_data, m, n) if LU_data._data.size else _empty_lu(LU_data)
    if unpack_pivots:
        perm = _perm_from_pivots(np.asarray(LU_pivots._data), m)
        P = _registry.wrap(_perm_matrix(perm, m, LU_data._data.dtype))
    return _Lu((P, L, U))


def lu_solve(LU, pivots, B, *, left: bool = True, adjoint: bool = False):
    """``X`` with ``A @ X = B`` from ``lu_factor(A)`` (``adjoint``: ``A.mT``; ``left=False``:
    ``X @ A = B``).

    Example:
        >>> import gradwalk
        >>> A = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> LU, piv = gradwalk.linalg.lu_factor(A)
        >>> gradwalk.linalg.lu_solve(LU, piv, gradwalk.tensor([[5.0], [11.0]]))
        tensor([[1.],
                [2.]])
    """
    C.matrix_in(LU, "linalg.lu_solve", "LU", square=True)
    C.matrix_in(B, "linalg.lu_solve", "B")
    C.same_dtype(LU, B, "linalg.lu_solve")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return mT(lu_solve(LU, pivots, mT(B), left=True, adjoint=not adjoint))
    n = LU.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    perm = _perm_from_pivots(np.asarray(pivots._data), n)
    P = _registry.wrap(_perm_matrix(perm, n, LU._data.dtype))
    Pm = S.expand(P, tuple(P.shape)) if P.ndim else P
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        Y = solve_triangular(LU, Pm.mT @ B, upper=False, unitriangular=True)
        return solve_triangular(LU, Y, upper=True)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B
    Y = solve_triangular(LU.mT, B, upper=False)
    Y = solve_triangular(LU.mT, Y, upper=True, unitriangular=True)
    return Pm @ Y


def lu_solve_torch(b, LU_data, LU_pivots):
    """``torch.lu_solve``: ``linalg.lu_solve(LU_data, LU_pivots, b)``.

    Example:
        >>> import gradwalk
        >>> LU, piv = gradwalk.linalg.lu_factor(gradwalk.eye(2))
        >>> gradwalk.lu_solve(gradwalk.ones(2, 1), LU, piv)
        tensor([[1.],
                [1.]])
    """
    return lu_solve(LU_data, LU_pivots, b)


def lu_torch(A, pivot: bool = True, get_infos: bool = False):
    """``torch.lu``: ``(LU, pivots)``, with ``infos`` when ``get_infos``.

    Example:
        >>> import gradwalk
        >>> gradwalk.lu(gradwalk.eye(2))[1]
        tensor([1, 2], dtype=gradwalk.int32)
    """
    LUt, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LUt, piv, info) if get_infos else (LUt, piv)


def householder_product(A, tau):
    """The first ``n`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` with ``v_i``
    the ``i``-th column of ``A`` below the diagonal (a unit diagonal entry above it).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.householder_product(gradwalk.zeros(2, 2), gradwalk.zeros(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    C.matrix_in(A, "torch.linalg.householder_product", "input")
    C.float_in(tau, "torch.linalg.householder_product", "tau")
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if k > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    dt = A._data.dtype
    V = S.tril(A, -1) + _registry.wrap(np.eye(m, n, dtype=dt))
    batch = np.broadcast_shapes(A.shape[:-2], tau.shape[:-1])
    Q = _registry.wrap(np.broadcast_to(np.eye(m, dtype=dt), batch + (m, m)).copy())
    for i in range(k):
        v = V[..., :, i:i + 1]
        t = S.unsqueeze(S.unsqueeze(tau[..., i], -1), -1)
        Q = Q - (Q @ v) * t @ v.mT
    if k == 0 or not math.prod(Q.shape):  # no reflector: the identity, still on the graph
        return C.zero_grad_like(Q._data[..., :, :n], A if A.requires_grad else tau)
    return Q[..., :, :n]
