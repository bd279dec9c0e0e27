"""Matrix functions and products: matrix_exp (one op; its rules are the exponential of a block
matrix, as PyTorch's), matrix_power, multi_dot, cross, diagonal, vecdot, vander, tensorinv,
tensorsolve and lstsq."""

from __future__ import annotations

import math

import numpy as np

from ..ops import linalg as ML
from ..ops import reductions as R
from ..ops import registry as _registry
from ..ops import shape as S
from ..ops.registry import apply
from . import _core as C
from ._core import mT
from .solvers import inv, pinv, solve

# ---------------------------------------------------------------------------------------------
# matrix_exp

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


@C.batchable()
def _expm(a: np.ndarray) -> np.ndarray:
    """The matrix exponential by scaling and squaring with the [13/13] Pade approximant
    (Higham, 2005), per matrix of a batch."""
    n = a.shape[-1]
    if a.size == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    norm1 = np.abs(a).sum(axis=-2).max(axis=-1)
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(np.maximum(norm1, 1e-300) / _THETA13))).astype(int)
    s = np.where(np.isfinite(norm1), s, 0)
    x = (a / (2.0 ** s)[..., None, None]).astype(a.dtype)
    b = _PADE13
    ident = np.eye(n, dtype=a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2
             + b[1] * ident)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 \
        + b[0] * ident
    r = np.linalg.solve(v - u, v + u)
    for i in range(int(s.max()) if s.size else 0):
        r = np.where((i < s)[..., None, None], r @ r, r)
    return r.astype(a.dtype, copy=False)


def _block_exp(xp, top_left, top_right):
    """``exp([[X, Y], [0, X]])[:n, n:]``: the derivative of ``exp`` at ``X`` in direction
    ``Y``."""
    n = top_left.shape[-1]
    batch = tuple(np.broadcast_shapes(top_left.shape[:-2], top_right.shape[:-2]))
    tl = xp.broadcast_to(top_left, batch + (n, n))
    tr = xp.broadcast_to(top_right, batch + (n, n))
    zero = C.c(xp, np.zeros(batch + (n, n), dtype=C._dt(top_left)))
    big = xp.concatenate([xp.concatenate([tl, tr], axis=-1),
                          xp.concatenate([zero, tl], axis=-1)], axis=-2)
    full = matrix_exp(big) if C.diff(xp) else _expm(big)
    return full[..., :n, n:]


MATRIX_EXP = _registry.declare(
    "linalg_matrix_exp", lambda xp, a: _expm(a),
    lambda xp, g, out, a: _block_exp(xp, mT(a), g),
    lambda xp, t, out, a: _block_exp(xp, a, t),
    saves=(0,), node_name="LinalgMatrixExpBackward0",
    explain="exp([[A^T, grad], [0, A^T]]) upper right block")


def matrix_exp(A):
    """The matrix exponential of square matrices (batches too).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.matrix_exp(gradwalk.zeros(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    C.matrix_in(A, "linalg.matrix_exp", square=True)
    return apply(MATRIX_EXP, A)


def matrix_power(A, n: int):
    """``A`` to the integer power ``n`` (``n < 0``: of the inverse; ``n = 0``: identity).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.matrix_power(gradwalk.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    C.matrix_in(A, "linalg.matrix_power", square=True)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power(): argument 'n' must be int, not "
                        f"{type(n).__name__}")
    if n == 0:
        ident = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape).copy()
        return C.zero_grad_like(ident, A)
    base = inv(A) if n < 0 else A
    n = abs(n)
    if n == 1:
        return base.clone()
    result = z = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = base if z is None else z @ z
        if bit:
            result = z if result is None else result @ z
    return result


def multi_dot(tensors):
    """The product of a chain of matrices (the first and last may be vectors).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.multi_dot([gradwalk.ones(2), gradwalk.ones(2, 3), gradwalk.ones(3)])
        tensor(6.)
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for k, t in enumerate(ts):
        C.float_in(t, "multi_dot", f"tensors[{k}]")
        want = (1, 2) if k in (0, len(ts) - 1) else (2,)
        if t.ndim not in want:
            raise RuntimeError(f"multi_dot(): tensor {k} must be "
                               f"{'1D or 2D' if len(want) == 2 else '2D'} but got {t.ndim}D")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = S.unsqueeze(ts[0], 0)
    if last_vec:
        ts[-1] = S.unsqueeze(ts[-1], -1)
    out = ts[0]
    for t in ts[1:]:
        out = ML.matmul(out, t)
    if first_vec:
        out = S.squeeze(out, 0)
    if last_vec:
        out = S.squeeze(out, -1)
    return out


# ---------------------------------------------------------------------------------------------
# diagonal (two linear ops, each the other's reverse rule)


def _diag_positions(shape, offset, d1, d2):
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        return np.arange(length), np.arange(length) + offset
    length = max(0, min(n1 + offset, n2))
    return np.arange(length) - offset, np.arange(length)


@C.batchable(axis_params=("d1", "d2"), shape_params=("shape",))
def _scatter_fwd(xp, g, shape, offset, d1, d2):
    z = np.zeros(shape, dtype=g.dtype)
    rows, cols = _diag_positions(shape, offset, d1, d2)
    np.moveaxis(z, (d1, d2), (-2, -1))[..., rows, cols] = g
    return z


def _diagonal_any(xp, a, offset, d1, d2):
    if C.diff(xp):
        return apply(DIAGONAL, a, params={"offset": offset, "d1": d1, "d2": d2,
                                          "shape": tuple(a.shape)})
    return _diagonal_fwd(xp, a, offset=offset, d1=d1, d2=d2, shape=tuple(a.shape))


def _scatter_any(xp, g, shape, offset, d1, d2):
    if C.diff(xp):
        return apply(DIAG_SCATTER, g, params={"shape": shape, "offset": offset, "d1": d1,
                                              "d2": d2})
    return _scatter_fwd(xp, g, shape=shape, offset=offset, d1=d1, d2=d2)


@C.batchable(axis_params=("d1", "d2"))
def _diagonal_fwd(xp, a, offset, d1, d2, shape):
    return np.diagonal(a, offset, d1, d2).copy()


DIAGONAL = _registry.declare(
    "linalg_diagonal", _diagonal_fwd,
    lambda xp, g, out, a, offset, d1, d2, shape: _scatter_any(xp, g, shape, offset, d1, d2),
    lambda xp, t, out, a, offset, d1, d2, shape: _diagonal_any(xp, t, offset, d1, d2),
    saves=(), node_name="DiagonalBackward0", explain="grad placed on the diagonal")
DIAG_SCATTER = _registry.declare(
    "linalg_diagonal_backward", _scatter_fwd,
    lambda xp, g, out, a, shape, offset, d1, d2: _diagonal_any(xp, g, offset, d1, d2),
    lambda xp, t, out, a, shape, offset, d1, d2: _scatter_any(xp, t, shape, offset, d1, d2),
    saves=(), node_name="DiagonalBackwardBackward0", explain="the diagonal of grad")


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The diagonal ``offset`` of the matrices in dims ``dim1``, ``dim2``, as the last dim.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.diagonal(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([1., 4.])
    """
    C.tensor_in(A, "linalg.diagonal")
    nd = A.ndim
    if nd < 2:
        raise RuntimeError(f"linalg.diagonal: expected a tensor of at least 2 dimensions, got "
                           f"{nd}")
    d1, d2 = dim1 % nd, dim2 % nd
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(DIAGONAL, A, params={"offset": int(offset), "d1": d1, "d2": d2,
                                      "shape": tuple(A.shape)})


# ---------------------------------------------------------------------------------------------
# products of vectors


def cross(input, other, *, dim: int = -1):
    """The cross product of 3-vectors along ``dim`` (the inputs broadcast).

    Example:
        >>> import gradwalk
        >>> e1, e2 = gradwalk.tensor([1.0, 0.0, 0.0]), gradwalk.tensor([0.0, 1.0, 0.0])
        >>> gradwalk.linalg.cross(e1, e2)
        tensor([0., 0., 1.])
    """
    C.float_in(input, "linalg.cross", "input")
    C.float_in(other, "linalg.cross", "other")
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, "
                           f"got {input.ndim} and {other.ndim}")
    shape = np.broadcast_shapes(input.shape, other.shape)
    d = dim % len(shape)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    a = S.expand(input, tuple(shape))
    b = S.expand(other, tuple(shape))

    def at(t, k):
        idx = [slice(None)] * len(shape)
        idx[d] = k
        return t[tuple(idx)]

    parts = [at(a, (k + 1) % 3) * at(b, (k + 2) % 3) - at(a, (k + 2) % 3) * at(b, (k + 1) % 3)
             for k in range(3)]
    return S.stack(parts, d)


def vecdot(x, y, *, dim: int = -1):
    """The dot product of vectors along ``dim`` (the inputs broadcast).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.vecdot(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0, 4.0]))
        tensor(11.)
    """
    C.float_in(x, "linalg.vecdot", "x")
    C.float_in(y, "linalg.vecdot", "y")
    return R.sum(x * y, dim)


def vander(x, *, N: int | None = None):
    """The Vandermonde matrix ``[1, x, x**2, ..., x**(N-1)]`` (increasing powers, last dim).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.vander(gradwalk.tensor([2.0, 3.0]))
        tensor([[1., 2.],
                [1., 3.]])
    """
    C.tensor_in(x, "linalg.vander")
    if x.ndim == 0:
        x = S.unsqueeze(x, 0)
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    ones = np.ones(x.shape, dtype=x._data.dtype)
    cols = [C.zero_grad_like(ones, x) if x._data.dtype.kind == "f" else _registry.wrap(ones)]
    for _ in range(1, n):
        cols.append(x if len(cols) == 1 else cols[-1] * x)
    return S.stack(cols[:n], -1)


# ---------------------------------------------------------------------------------------------
# tensors as matrices


def tensorinv(A, ind: int = 2):
    """The inverse of ``A`` seen as a matrix of ``prod(shape[:ind])`` rows.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.tensorinv(gradwalk.eye(4).reshape(4, 2, 2), ind=1).shape
        gradwalk.Size([2, 2, 4])
    """
    C.float_in(A, "linalg.tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return S.reshape(inv(S.reshape(A, (rows, cols))), tuple(A.shape[ind:] + A.shape[:ind]))


def tensorsolve(A, B, dims=None):
    """``X`` with ``tensordot(A, X, X.ndim) = B``; ``dims`` of ``A`` move to the end first.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.tensorsolve(gradwalk.eye(4).reshape(2, 2, 4), gradwalk.ones(2, 2)).shape
        gradwalk.Size([4])
    """
    C.float_in(A, "linalg.tensorsolve", "A")
    C.float_in(B, "linalg.tensorsolve", "B")
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = S.movedim(A, tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim:])
    rows, cols = math.prod(B.shape), math.prod(rest)
    if rows != cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    X = solve(S.reshape(A, (rows, cols)), S.reshape(B, (rows,)))
    return S.reshape(X, rest)


# ---------------------------------------------------------------------------------------------
# lstsq


class _Lstsq(tuple):
    _fields = ("solution", "residuals", "rank", "singular_values")

    def __getattr__(self, name):
        try:
            return self[self._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares (minimum-norm) solution of ``A @ X = B``:
    ``(solution, residuals, rank, singular_values)`` as ``torch.linalg.lstsq`` fills them for
    each ``driver`` (default ``'gelsy'``). The gradient is that of ``pinv(A) @ B``.

    Example:
        >>> import gradwalk
        >>> A = gradwalk.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> gradwalk.linalg.lstsq(A, gradwalk.tensor([[1.0], [2.0], [3.0]])).solution
        tensor([[1.],
                [2.]])
    """
    C.matrix_in(A, "torch.linalg.lstsq", "input")
    C.float_in(B, "torch.linalg.lstsq", "other")
    C.same_dtype(A, B, "torch.linalg.lstsq")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"{_DRIVERS}")
    vector = B.ndim == A.ndim - 1
    if vector:
        B = S.unsqueeze(B, -1)
    m, n = A.shape[-2:]
    if B.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), "
                           f"got {m} and {B.shape[-2]}")
    X = ML.matmul(pinv(A), B)
    dt = A._data.dtype
    batch = tuple(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]))
    sv = np.linalg.svd(A._data, compute_uv=False) if A._data.size else np.zeros(
        A.shape[:-2] + (0,), dt)
    eps = np.finfo(dt).eps * max(m, n) if rcond is None else rcond
    rank = (sv > eps * sv.max(axis=-1, keepdims=True)).sum(axis=-1) if sv.shape[-1] else \
        np.zeros(A.shape[:-2], np.int64)
    res = C.zero_grad_like(np.zeros((0,), dt), A if A.requires_grad else B)
    if driver != "gelsy" and m > n and np.all(rank == n):
        r = ML.matmul(A, X) - B
        res = R.sum(r * r, -2)
        if vector:
            res = S.squeeze(res, -1)
    solution = S.squeeze(X, -1) if vector else X
    rank_t = np.zeros((0,), np.int64) if driver == "gels" else np.broadcast_to(
        np.asarray(rank, np.int64), batch).copy()
    sv_t = sv if driver in ("gelsd", "gelss") else np.zeros((0,), dt)
    return _Lstsq((solution, res, _registry.wrap(rank_t),
                   _registry.wrap(np.asarray(sv_t))))

