"""Inverses, solves and determinants: inv, solve, solve_triangular, det, slogdet, cholesky,
cholesky_solve, pinv, each one registry op with PyTorch's reverse and forward rules (the
formulas of its ``FunctionsManual.cpp``), and the functions built from them."""

from __future__ import annotations

import numpy as np

from ..ops import elementwise as E
from ..ops import registry as _registry
from ..ops import shape as S
from ..ops.registry import apply
from . import _core as C
from ._core import LinAlgError, diag, diag_embed, mT, ns

# ---------------------------------------------------------------------------------------------
# inv


@C.batchable()
def _inv_fwd(xp, a):
    if a.size == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _singular(a, "linalg.inv") from None


def _singular(a, op):
    lu, _, _ = C.getrf(a)
    found = C.first_zero_pivot(lu)
    b, k = found if found is not None else (0, 1)
    return LinAlgError(
        f"{op}: {C.batch_msg(b, a.ndim - 2)}The diagonal element {k} is zero, the inversion "
        "could not be completed because the input matrix is singular.")


INV = _registry.declare(
    "linalg_inv", _inv_fwd,
    lambda xp, g, out, a: -xp.matmul(xp.matmul(mT(out), g), mT(out)),
    lambda xp, t, out, a: -xp.matmul(xp.matmul(out, t), out),
    saves=(), save_out=True, node_name="LinalgInvExBackward0",
    explain="-inv(A).T @ grad @ inv(A).T")


def inv(A):
    """The inverse of square matrices (batches too); ``LinAlgError`` when one is singular.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.inv(gradwalk.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    C.matrix_in(A, "linalg.inv", square=True)
    return apply(INV, A)


def inv_ex(A, *, check_errors: bool = False):
    """``(inverse, info)``: ``info`` is 0, or the 1-based index of a zero pivot.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.inv_ex(gradwalk.eye(2)).info
        tensor(0, dtype=gradwalk.int32)
    """
    C.matrix_in(A, "linalg.inv_ex", square=True)
    info = _info(A._data)
    if check_errors or not np.any(info):
        return _Ex(inv(A), _registry.wrap(info), "inverse")
    out = np.full(A.shape, np.nan, dtype=A._data.dtype)
    return _Ex(_registry.wrap(out), _registry.wrap(info), "inverse")


def _info(a):
    lu, _, _ = C.getrf(a) if a.size else (a, None, None)
    d = np.diagonal(lu, axis1=-2, axis2=-1)
    zero = d == 0
    k = np.where(zero.any(axis=-1), np.argmax(zero, axis=-1) + 1, 0) if d.shape[-1] else \
        np.zeros(d.shape[:-1], dtype=np.int64)
    return np.asarray(k, dtype=np.int32)


class _Ex(tuple):
    """A named pair ``(result, info)`` as PyTorch's ``*_ex`` functions return."""

    def __new__(cls, result, info, name="result"):
        self = super().__new__(cls, (result, info))
        self._name = name
        return self

    def __getattr__(self, name):
        if name == "info":
            return self[1]
        if name == getattr(self, "_name", None) or name in ("result", "L", "inverse"):
            return self[0]
        raise AttributeError(name)


# ---------------------------------------------------------------------------------------------
# solve


@C.batchable()
def _solve_fwd(xp, a, b):
    try:
        return C._NP.solve(a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is "
                          "singular.") from None


def _solve_vjp(xp, g, out, a, b, *, needs):
    gb = ns(xp).solve(mT(a), g)
    ga = -xp.matmul(gb, mT(out)) if needs[0] else None
    return ga, gb if needs[1] else None


def _solve_jvp(xp, t, out, a, b):
    ta, tb = t
    rhs = tb
    if ta is not None:
        term = -xp.matmul(ta, out)
        rhs = term if rhs is None else rhs + term
    return ns(xp).solve(a, rhs)


SOLVE = _registry.declare(
    "linalg_solve", _solve_fwd, _solve_vjp, _solve_jvp, inputs=("A", "B"), saves=(0,),
    save_out=True, node_name="LinalgSolveExBackward0",
    explain=("-solve(A.T, grad) @ X.T", "solve(A.T, grad)"))


def is_vector_rhs(A, B) -> bool:
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left: bool = True):
    """``X`` with ``A @ X = B`` (``X @ A = B`` when ``left=False``); ``B`` may be a vector.

    Example:
        >>> import gradwalk
        >>> A = gradwalk.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> gradwalk.linalg.solve(A, gradwalk.tensor([2.0, 2.0]))
        tensor([1.0000, 0.5000])
    """
    C.matrix_in(A, "linalg.solve", square=True)
    C.float_in(B, "linalg.solve", "B")
    C.same_dtype(A, B, "linalg.solve")
    vector = is_vector_rhs(A, B)
    if vector:
        B = S.unsqueeze(B, -1 if left else -2)
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
            f"{'x'.join(map(str, B.shape[-2:]))})")
    _batches(A, B, "linalg.solve")
    if left:
        X = apply(SOLVE, A, B)
    else:
        X = mT(apply(SOLVE, mT(A), mT(B)))
    return S.squeeze(X, -1 if left else -2) if vector else X


def _batches(A, B, op):
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dimensions of A {list(A.shape[:-2])} and B "
                           f"{list(B.shape[:-2])} do not broadcast") from None


def solve_ex(A, B, *, left: bool = True, check_errors: bool = False):
    """``(result, info)`` of ``solve``; ``info`` is 0 for invertible matrices.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.solve_ex(gradwalk.eye(2), gradwalk.ones(2)).info
        tensor(0, dtype=gradwalk.int32)
    """
    C.matrix_in(A, "linalg.solve_ex", square=True)
    info = _info(A._data)
    return _Ex(solve(A, B, left=left), _registry.wrap(info))


# ---------------------------------------------------------------------------------------------
# triangular solve


def _tri(xp, a, upper, unit):
    L = ns(xp)
    return L.triu(a, 1 if unit else 0) if upper else L.tril(a, -1 if unit else 0)


def _trisolve_vjp(xp, g, out, a, b, *, upper, unit, project, tangent_mT, needs):
    gb = ns(xp).solve_tri(mT(a), g, not upper, unit)
    ga = -_tri(xp, xp.matmul(gb, mT(out)), upper, unit) if needs[0] else None
    return ga, gb if needs[1] else None


def _trisolve_jvp(xp, t, out, a, b, *, upper, unit, project, tangent_mT):
    ta, tb = t
    rhs = tb
    if ta is not None:
        if tangent_mT:  # torch.triangular_solve(transpose=True) pairs A^T with dA, not dA^T
            ta = mT(ta)
        term = -xp.matmul(_tri(xp, ta, upper, unit) if project else ta, out)
        rhs = term if rhs is None else rhs + term
    return ns(xp).solve_tri(a, rhs, upper, unit)


SOLVE_TRIANGULAR = _registry.declare(
    "linalg_solve_triangular",
    lambda xp, a, b, *, upper, unit, project, tangent_mT: C.np_solve_tri(a, b, upper, unit),
    _trisolve_vjp, _trisolve_jvp, inputs=("self", "B"), saves=(0,), save_out=True,
    node_name="LinalgSolveTriangularBackward0",
    explain=("-triangle(solve(A.T, grad) @ X.T)", "solve(A.T, grad)"))


def solve_triangular(A, B, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     _project: bool = True, _tangent_mT: bool = False):
    """``X`` with ``A @ X = B`` for triangular ``A`` (only its triangle is read).

    Example:
        >>> import gradwalk
        >>> A = gradwalk.tensor([[2.0, 1.0], [0.0, 1.0]])
        >>> gradwalk.linalg.solve_triangular(A, gradwalk.tensor([[3.0], [1.0]]), upper=True)
        tensor([[1.],
                [1.]])
    """
    C.matrix_in(A, "linalg.solve_triangular", square=True)
    C.matrix_in(B, "linalg.solve_triangular", "B")
    C.same_dtype(A, B, "linalg.solve_triangular")
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
            f"{'x'.join(map(str, B.shape[-2:]))})")
    _batches(A, B, "linalg.solve_triangular")
    # torch.triangular_solve's forward rule uses the whole tangent of A (``_project=False``)
    params = {"upper": bool(upper), "unit": bool(unitriangular), "project": _project,
              "tangent_mT": _tangent_mT}
    if left:
        return apply(SOLVE_TRIANGULAR, A, B, params=params)
    params["upper"] = not upper
    return mT(apply(SOLVE_TRIANGULAR, mT(A), mT(B), params=params))


# ---------------------------------------------------------------------------------------------
# det, slogdet


@C.batchable()
def _np_cofactor(a, det):
    """The matrix of cofactors ``det(A) A^{-T}``; through the SVD where ``det == 0``, as
    PyTorch's ``linalg_det_backward``."""
    out = np.zeros(a.shape, dtype=a.dtype)
    if a.size == 0:
        return out
    det = np.asarray(det)
    sing = det == 0
    if not np.all(sing):
        ok = ~sing
        aa = a[ok] if a.ndim > 2 else a
        out_ok = det[ok][..., None, None] * np.swapaxes(np.linalg.inv(aa), -1, -2) if a.ndim > 2 \
            else det * np.linalg.inv(aa).T
        if a.ndim > 2:
            out[ok] = out_ok
        else:
            out = out_ok
    if np.any(sing):
        aa = a[sing] if a.ndim > 2 else a
        u, s, vh = np.linalg.svd(aa)
        alpha = np.linalg.det(u) * np.linalg.det(vh)
        n = s.shape[-1]
        d = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
        cof = np.matmul(u * (alpha[..., None] * d)[..., None, :], vh)
        if a.ndim > 2:
            out[sing] = cof
        else:
            out = cof
    return out


def _cofactor(xp, a, det):
    if C.diff(xp) and np.all(det._data != 0):
        return xp.expand_dims(xp.expand_dims(det, -1), -1) * mT(ns(xp).inv(a))
    data = _np_cofactor(C.data_of(a), C.data_of(det))
    return C.c(xp, data)


def _det_vjp(xp, g, out, a):
    return xp.expand_dims(xp.expand_dims(g, -1), -1) * _cofactor(xp, a, out)


def _det_jvp(xp, t, out, a):
    return xp.sum(xp.sum(_cofactor(xp, a, out) * t, axis=-1), axis=-1)


@C.batchable()
def _det_fwd(xp, a):
    return np.asarray(np.linalg.det(a)) if a.size else np.ones(a.shape[:-2], dtype=a.dtype)


DET = _registry.declare(
    "linalg_det", _det_fwd, _det_vjp, _det_jvp, saves=(0,), save_out=True,
    node_name="LinalgDetBackward0", explain="grad * cofactor(A) (the SVD where det = 0)")


def det(A):
    """The determinant of square matrices (batches too); differentiable at singular ones.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.det(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(-2.)
    """
    C.matrix_in(A, "linalg.det", square=True)
    return apply(DET, A)


@C.batchable()
def _logabsdet_fwd(xp, a):
    if a.size == 0:
        return np.zeros(a.shape[:-2], dtype=a.dtype)
    return np.asarray(np.linalg.slogdet(a)[1])


def _inv_t(xp, a):
    return mT(ns(xp).inv(a))


LOGABSDET = _registry.declare(
    "linalg_logabsdet", _logabsdet_fwd,
    lambda xp, g, out, a: xp.expand_dims(xp.expand_dims(g, -1), -1) * _inv_t(xp, a),
    lambda xp, t, out, a: xp.sum(xp.sum(_inv_t(xp, a) * t, axis=-1), axis=-1),
    saves=(0,), node_name="LinalgSlogdetBackward0", explain="grad * inv(A).T")


class _Slogdet(tuple):
    @property
    def sign(self):
        return self[0]

    @property
    def logabsdet(self):
        return self[1]


def slogdet(A):
    """``(sign, logabsdet)``: the sign of the determinant and the log of its magnitude.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.slogdet(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])).sign
        tensor(-1.)
    """
    C.matrix_in(A, "linalg.slogdet", square=True)
    sign = _sign_of_det(A._data)
    return _Slogdet((C.zero_grad_like(sign, A), apply(LOGABSDET, A)))


@C.batchable()
def _sign_of_det(a):
    if a.size == 0:
        return np.ones(a.shape[:-2], dtype=a.dtype)
    return np.asarray(np.linalg.slogdet(a)[0]).astype(a.dtype)


def logdet(A):
    """``log(det(A))``: NaN where the determinant is negative.

    Example:
        >>> import gradwalk
        >>> gradwalk.logdet(gradwalk.tensor([[2.0, 0.0], [0.0, 3.0]]))
        tensor(1.7918)
    """
    C.matrix_in(A, "logdet", square=True)
    sign, logabs = slogdet(A)
    nan = _registry.wrap(np.full(logabs.shape, np.nan, dtype=A._data.dtype))
    return E.where(_registry.wrap(sign._data == -1), nan, logabs)


# ---------------------------------------------------------------------------------------------
# cholesky


@C.batchable()
def _chol_fwd(xp, a, upper):
    m = np.swapaxes(a, -1, -2) if upper else a
    if a.size == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    try:
        L = np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        raise _not_pd(m, "linalg.cholesky") from None
    return np.swapaxes(L, -1, -2) if upper else L


def _not_pd(m, op):
    flat = m.reshape((-1,) + m.shape[-2:])
    for b, mat in enumerate(flat):
        for k in range(1, mat.shape[-1] + 1):
            try:
                np.linalg.cholesky(mat[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(
                    f"{op}: {C.batch_msg(b, m.ndim - 2)}The factorization could not be "
                    "completed because the input is not positive-definite (the leading minor "
                    f"of order {k} is not positive-definite).")
    return LinAlgError(f"{op}: the input is not positive-definite.")


def _chol_vjp(xp, g, out, a, upper):
    L = ns(xp)
    Lm = mT(out) if upper else out
    gL = mT(g) if upper else g
    gA = L.tril(xp.matmul(mT(Lm), gL))
    gA = 0.5 * (gA + mT(L.tril(gA, -1)))
    gA = L.solve_tri(mT(Lm), gA, True)
    return mT(L.solve_tri(mT(Lm), mT(gA), True))


def _chol_jvp(xp, t, out, a, upper):
    L = ns(xp)
    Lm = mT(out) if upper else out
    dL = L.solve_tri(Lm, t, False)
    dL = mT(L.solve_tri(Lm, mT(dL), False))
    dL = L.tril(dL) - 0.5 * diag_embed(xp, diag(xp, dL))
    dL = xp.matmul(Lm, dL)
    return mT(dL) if upper else dL


CHOLESKY = _registry.declare(
    "linalg_cholesky", _chol_fwd, _chol_vjp, _chol_jvp, saves=(), save_out=True,
    node_name="LinalgCholeskyExBackward0",
    explain="L^-T phi(L^T grad) L^-1, symmetrized (phi: lower triangle, half diagonal)")


def cholesky(A, *, upper: bool = False):
    """The Cholesky factor ``L`` (``A = L @ L.mT``) of symmetric positive-definite matrices;
    ``upper=True`` gives ``L.mT``. Only the lower (upper) triangle of ``A`` is read.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.cholesky(gradwalk.tensor([[4.0, 2.0], [2.0, 2.0]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    C.matrix_in(A, "linalg.cholesky", square=True)
    return apply(CHOLESKY, A, params={"upper": bool(upper)})


def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False):
    """``(L, info)``: ``info`` is 0, or the order of the first leading minor that is not
    positive-definite (``L`` is then NaN).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.cholesky_ex(gradwalk.eye(2)).info
        tensor(0, dtype=gradwalk.int32)
    """
    C.matrix_in(A, "linalg.cholesky_ex", square=True)
    try:
        return _Ex(cholesky(A, upper=upper), _registry.wrap(
            np.zeros(A.shape[:-2], dtype=np.int32)), "L")
    except LinAlgError:
        if check_errors:
            raise
    m = np.swapaxes(A._data, -1, -2) if upper else A._data
    flat = m.reshape((-1,) + m.shape[-2:])
    info = np.zeros(len(flat), dtype=np.int32)
    for b, mat in enumerate(flat):
        for k in range(1, mat.shape[-1] + 1):
            try:
                np.linalg.cholesky(mat[:k, :k])
            except np.linalg.LinAlgError:
                info[b] = k
                break
    out = np.full(A.shape, np.nan, dtype=A._data.dtype)
    return _Ex(_registry.wrap(out), _registry.wrap(info.reshape(A.shape[:-2])), "L")


@C.batchable()
def _chol_solve_fwd(xp, b, l, upper, project=False):
    lo = np.swapaxes(np.triu(l), -1, -2) if upper else np.tril(l)
    y = C.np_solve_tri(lo, b, False)
    return C.np_solve_tri(np.swapaxes(lo, -1, -2), y, True)


def _chol_solve_vjp(xp, g, out, b, l, *, upper, project, needs):
    gb = _chol_solve_any(xp, g, l, upper)
    gl = None
    if needs[1]:
        common = xp.matmul(gb, mT(out))
        common = common + mT(common)
        gl = -xp.matmul(l, common) if upper else -xp.matmul(common, l)
    return gb if needs[0] else None, gl


def _chol_solve_any(xp, b, l, upper):
    if C.diff(xp):
        return cholesky_solve(b, l, upper=upper)
    return _chol_solve_fwd(xp, b, l, upper)


def _chol_solve_jvp(xp, t, out, b, l, *, upper, project):
    tb, tl = t
    rhs = tb
    if tl is not None:
        if project:  # cholesky_inverse's forward rule reads only the factor's triangle
            tl = ns(xp).triu(tl) if upper else ns(xp).tril(tl)
        dk = xp.matmul(mT(tl), l) if upper else xp.matmul(tl, mT(l))
        term = -xp.matmul(dk + mT(dk), out)
        rhs = term if rhs is None else rhs + term
    return _chol_solve_any(xp, rhs, l, upper)


CHOLESKY_SOLVE = _registry.declare(
    "linalg_cholesky_solve", _chol_solve_fwd, _chol_solve_vjp, _chol_solve_jvp,
    inputs=("self", "input2"), saves=(1,), save_out=True,
    node_name="CholeskySolveBackward0",
    explain=("cholesky_solve(grad, L)", "-(G X^T + X G^T) @ L"))


def cholesky_solve(B, L, upper: bool = False, *, _project: bool = False):
    """``X`` with ``(L @ L.mT) @ X = B`` from the Cholesky factor ``L`` (``upper``: ``U.mT @
    U``).

    Example:
        >>> import gradwalk
        >>> L = gradwalk.tensor([[2.0, 0.0], [1.0, 1.0]])
        >>> gradwalk.cholesky_solve(gradwalk.tensor([[4.0], [2.0]]), L)
        tensor([[1.],
                [0.]])
    """
    C.matrix_in(B, "cholesky_solve", "B")
    C.matrix_in(L, "cholesky_solve", "L", square=True)
    C.same_dtype(B, L, "cholesky_solve")
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"cholesky_solve: Incompatible matrix sizes for B "
                           f"{list(B.shape)} and L {list(L.shape)}")
    _batches(B, L, "cholesky_solve")
    return apply(CHOLESKY_SOLVE, B, L, params={"upper": bool(upper), "project": _project})


def cholesky_inverse(L, upper: bool = False):
    """The inverse of ``L @ L.mT`` (``U.mT @ U`` when ``upper``) from its Cholesky factor.

    Example:
        >>> import gradwalk
        >>> gradwalk.cholesky_inverse(gradwalk.tensor([[2.0, 0.0], [0.0, 1.0]]))
        tensor([[0.2500, 0.0000],
                [0.0000, 1.0000]])
    """
    C.matrix_in(L, "cholesky_inverse", "L", square=True)
    eye = _registry.wrap(np.broadcast_to(np.eye(L.shape[-1], dtype=L._data.dtype),
                                         L.shape).copy())
    return cholesky_solve(eye, L, upper, _project=True)


# ---------------------------------------------------------------------------------------------
# pinv


@C.batchable()
def _pinv_fwd(xp, a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if hermitian:
        w, v = np.linalg.eigh(a)
        s = np.abs(w)
        smax = s.max(axis=-1)
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        smax = s[..., 0]
    tol = np.maximum(atol, rtol * smax)[..., None]
    keep = s > tol
    with np.errstate(divide="ignore"):
        if hermitian:
            sinv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
            return np.matmul(v * sinv[..., None, :], np.swapaxes(v, -1, -2))
        sinv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        return np.matmul(np.swapaxes(vh, -1, -2) * sinv[..., None, :], np.swapaxes(u, -1, -2))


def _pinv_vjp(xp, g, out, a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    p, ph, gh = out, mT(out), mT(g)
    mm = xp.matmul
    if m <= n:
        K = mm(gh, p)
        KpH = mm(K, ph)
        return -mT(mm(p, K)) + KpH - mm(mm(a, p), KpH) + mm(mm(ph, p), gh - mm(K, a))
    K = mm(p, gh)
    phK = mm(ph, K)
    return -mT(mm(K, p)) + mm(mm(gh - mm(a, K), p), ph) + phK - mm(mm(phK, p), a)


def _pinv_jvp(xp, t, out, a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    p, ph, th = out, mT(out), mT(t)
    mm = xp.matmul
    if m <= n:
        K = mm(ph, th)
        return mm(p, K - mT(K) - mm(K, mm(a, p))) + mm(th - mm(p, mm(a, th)), mm(ph, p))
    K = mm(p, t)
    Kh = mT(K)
    return mm(Kh - K - mm(mm(p, a), Kh), p) + mm(mm(p, ph), th - mm(mm(th, a), p))


PINV = _registry.declare(
    "linalg_pinv", _pinv_fwd, _pinv_vjp, _pinv_jvp, saves=(0,), save_out=True,
    node_name="LinalgPinvBackward0",
    explain="the derivative of the pseudoinverse at constant rank (Golub and Pereyra)")


def _tol(x, A, name):
    if x is None:
        return None
    if isinstance(x, _registry.Tensor):
        return np.asarray(x._data, dtype=A._data.dtype)
    return np.asarray(float(x), dtype=A._data.dtype)


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False):
    """The Moore-Penrose pseudoinverse; singular values at most ``max(atol, rtol * s_max)``
    count as zero (default ``rtol``: ``eps * max(m, n)``).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.pinv(gradwalk.tensor([[1.0, 0.0], [0.0, 0.0]]))
        tensor([[1., 0.],
                [0., 0.]])
    """
    C.matrix_in(A, "linalg.pinv")
    if hermitian and A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.pinv(hermitian=True): A must be batches of square matrices")
    at, rt = _tol(atol, A, "atol"), _tol(rtol, A, "rtol")
    if rt is None:
        eps = np.finfo(A._data.dtype).eps * max(A.shape[-2:])
        rt = np.asarray(0.0 if at is not None and np.all(at > 0) else eps, dtype=A._data.dtype)
    if at is None:
        at = np.asarray(0.0, dtype=A._data.dtype)
    return apply(PINV, A, params={"atol": at, "rtol": rt, "hermitian": bool(hermitian)})


def pinverse(input, rcond: float = 1e-15):
    """``linalg.pinv(input, rtol=rcond)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.pinverse(gradwalk.tensor([[2.0]]))
        tensor([[0.5000]])
    """
    return pinv(input, rtol=rcond)
