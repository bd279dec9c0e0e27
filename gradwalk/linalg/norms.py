"""Norms: vector_norm (one op with PyTorch's ``norm_backward``/``norm_jvp``: zero gradients at
zero vectors), matrix_norm and norm built from it and from the singular values, cond and
matrix_rank."""

from __future__ import annotations

import math

import numpy as np

from ..ops import reductions as R
from ..ops import registry as _registry
from ..ops import shape as S
from ..ops.registry import apply
from . import _core as C
from .decompositions import svdvals
from .solvers import inv

# ---------------------------------------------------------------------------------------------
# vector_norm


def _vn_fwd(xp, x, ord, axes, keepdim):
    a = np.abs(x)
    if ord == math.inf:
        return (a.max(axis=axes, keepdims=keepdim))
    if ord == -math.inf:
        return (a.min(axis=axes, keepdims=keepdim))
    if ord == 0:
        return (a != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
    if ord == 1:
        return (a.sum(axis=axes, keepdims=keepdim))
    if ord == 2:
        return (np.sqrt((a * a).sum(axis=axes, keepdims=keepdim)))
    with np.errstate(divide="ignore"):
        return ((a ** ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord))


def _unsq(xp, v, axes, ndim, keepdim):
    if keepdim or ndim == 0:
        return v
    for ax in sorted(range(ndim) if axes is None else [a % ndim for a in axes]):
        v = xp.expand_dims(v, ax)
    return v


def _data(x):
    return x._data if isinstance(x, _registry.Tensor) else np.asarray(x)


def _mfill(xp, mask, v):
    """``v`` with exact zeros where ``mask`` (a constant) holds, as ``masked_fill``."""
    if not np.any(mask):
        return v
    zeros = C.c(xp, np.zeros(np.shape(mask), dtype=_data(v).dtype))
    return xp.where(C.c(xp, mask), zeros, v)


def _vn_vjp(xp, g, out, x, ord, axes, keepdim):
    nd = x.ndim
    g = _unsq(xp, g, axes, nd, keepdim)
    norm = _unsq(xp, out, axes, nd, keepdim)
    p = ord
    xd, nz = _data(x), _data(norm) == 0
    if p == 0:
        return x * 0.0
    if p == 1:
        return xp.sign(x) * g
    if p == 2:
        return g * _mfill(xp, np.broadcast_to(nz, xd.shape), x / norm)
    if math.isinf(p):
        mask = (np.abs(xd) == _data(norm)) | np.isnan(xd)
        count = mask.sum(axis=axes, keepdims=True)
        return xp.sign(x) * ((g / C.c(xp, count.astype(xd.dtype))) * C.c(xp, mask.astype(
            xd.dtype)))
    if p < 1:
        scaled = xp.sign(x) * _mfill(xp, xd == 0, xp.abs(x) ** (p - 1))
        return scaled * g * norm ** (1 - p)
    if p < 2:
        scaled = xp.sign(x) * xp.abs(x) ** (p - 1)
    else:
        scaled = x * xp.abs(x) ** (p - 2)
    return scaled * _mfill(xp, nz, g / norm ** (p - 1))


def _vn_jvp(xp, t, out, x, ord, axes, keepdim):
    p = ord
    xd = _data(x)
    ax = axes

    def red(v):
        return xp.sum(v, axis=ax, keepdims=keepdim)

    nz = _data(out) == 0
    if p == 0:
        return out * 0.0
    if p == 1:
        return red(xp.sign(x) * t)
    if p == 2:
        return _mfill(xp, nz, red(x * t) / out)
    if math.isinf(p):
        norm = _unsq(xp, out, axes, x.ndim, keepdim)
        mask = ((np.abs(xd) == _data(norm)) | (np.isnan(xd) & np.isnan(_data(norm)))).astype(
            xd.dtype)
        count = mask.sum(axis=axes, keepdims=True)
        return red(xp.sign(x) * t * C.c(xp, mask) / C.c(xp, count))
    if p < 1:
        s = red(_mfill(xp, xd == 0, xp.abs(x) ** (p - 1)) * (xp.sign(x) * t))
        return s * out ** (1 - p)
    if p < 2:
        s = red(xp.abs(x) ** (p - 1) * (xp.sign(x) * t))
    else:
        s = red(xp.abs(x) ** (p - 2) * (x * t))
    return _mfill(xp, nz, s / out ** (p - 1))


VECTOR_NORM = _registry.declare(
    "linalg_vector_norm", _vn_fwd, _vn_vjp, _vn_jvp, saves=(0,), save_out=True,
    node_name="LinalgVectorNormBackward0",
    explain="grad * sign(x) |x|^(p-1) / norm^(p-1) (0 where the norm is 0)")


def _dims(dim, ndim, op):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        out.append(d % max(ndim, 1))
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {list(dims)} appears multiple times in the list of dims")
    return tuple(out)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (all entries by default): ``inf`` the largest
    magnitude, ``0`` the count of nonzeros. Its gradient at a zero vector is zero.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.vector_norm(gradwalk.tensor([3.0, -4.0]))
        tensor(5.)
    """
    C.tensor_in(x, "linalg.vector_norm")
    if dtype is not None:
        x = x.to(dtype)
    C.float_in(x, "linalg.vector_norm", "input")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use "
                           "linalg.matrix_norm for 'fro' and 'nuc'")
    ord = float(ord)
    axes = _dims(dim, x.ndim, "linalg.vector_norm")
    if x.ndim == 0:
        axes = None
    if axes == ():
        axes = None
    if math.isinf(ord) and x._data.size == 0:
        sizes = x.shape if axes is None else [x.shape[a] for a in axes]
        if 0 in sizes:
            raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty "
                               "tensor because the operation does not have an identity")
    return apply(VECTOR_NORM, x, params={"ord": ord, "axes": axes, "keepdim": bool(keepdim)})


# ---------------------------------------------------------------------------------------------
# matrix_norm, norm


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):
    """The matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'``, ``2``/``-2`` (largest/
    smallest singular value), ``1``/``-1`` (column sums), ``inf``/``-inf`` (row sums).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.matrix_norm(gradwalk.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
        tensor(6.)
    """
    C.tensor_in(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    C.float_in(A, "linalg.matrix_norm", "A")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions, got {A.ndim}")
    d = _dims(dim, A.ndim, "linalg.matrix_norm")
    if d is None or len(d) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = d
    if ord == "fro":
        return vector_norm(A, 2, d, keepdim)
    if ord == "nuc" or ord in (2, -2):
        moved = S.movedim(A, (d0, d1), (-2, -1))
        s = svdvals(moved)
        if ord == "nuc":
            r = R.sum(s, -1)
        else:
            r = R.amax(s, -1) if ord == 2 else R.amin(s, -1)
        if keepdim:
            r = S.unsqueeze(S.unsqueeze(r, min(d0, d1)), max(d0, d1))
        return r
    if isinstance(ord, str) or abs(ord) not in (1, math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if abs(ord) == math.inf:
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    v = vector_norm(A, 1, (d0,), keepdim)
    return R.amax(v, d1, keepdim) if ord > 0 else R.amin(v, d1, keepdim)


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """``vector_norm`` or ``matrix_norm`` by ``dim`` and ``ord`` (all entries, 2-norm, when
    both are None), as ``torch.linalg.norm``.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.norm(gradwalk.tensor([[1.0, 2.0], [2.0, 4.0]]))
        tensor(5.)
    """
    C.tensor_in(A, "linalg.norm")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A.ndim}D.")


# ---------------------------------------------------------------------------------------------
# cond, matrix_rank


def cond(A, p=None):
    """The condition number in the norm ``p`` (``None``: the 2-norm, ``s_max / s_min``).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.cond(gradwalk.tensor([[2.0, 0.0], [0.0, 0.5]]))
        tensor(4.)
    """
    C.matrix_in(A, "linalg.cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    C.matrix_in(A, "linalg.cond", square=True)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def matrix_rank(A, tol=None, hermitian: bool = False, *, atol=None, rtol=None):
    """The number of singular values above ``max(atol, rtol * s_max)`` (int64).

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.matrix_rank(gradwalk.tensor([[1.0, 2.0], [2.0, 4.0]]))
        tensor(1)
    """
    C.matrix_in(A, "linalg.matrix_rank")
    m, n = A.shape[-2:]
    if tol is not None:
        atol, rtol = tol, 0.0
    data = A._data
    at = 0.0 if atol is None else np.asarray(getattr(atol, "data", atol), dtype=data.dtype)
    if rtol is None:
        rt = 0.0 if atol is not None and np.all(np.asarray(at) > 0) else \
            np.finfo(data.dtype).eps * max(m, n)
    else:
        rt = np.asarray(getattr(rtol, "data", rtol), dtype=data.dtype)
    if data.size == 0:
        return _registry.wrap(np.zeros(A.shape[:-2], dtype=np.int64))
    s = np.abs(np.linalg.eigvalsh(data)) if hermitian else np.linalg.svd(data, compute_uv=False)
    smax = s.max(axis=-1)
    tolv = np.maximum(at, rt * smax)
    return _registry.wrap(np.asarray((s > tolv[..., None]).sum(axis=-1), dtype=np.int64))
