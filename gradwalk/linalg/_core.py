"""What the linear-algebra ops share: input checks, the error type, the two array namespaces the
rules compute in, and the packing of several outputs into one node.

Note [linalg rules in two modes]
    A reverse or forward rule runs on NumPy arrays (first order) or on Tensors with ``xp`` the
    differentiable namespace (``create_graph=True``: double backward). The rules of this package
    need solves, inverses and triangular solves that ``dxp`` does not have, so each rule asks
    ``ns(xp)`` for a namespace: ``NP`` (NumPy's functions) or ``GW`` (the public gradwalk.linalg
    functions, which record their own nodes). Constants (identity matrices, masks) enter a rule
    through ``c(xp, array)``, which wraps them as Tensors under ``GW``, so that a Tensor is never
    the right operand of an ndarray (NumPy would turn it into an array and drop the graph).

Note [packed outputs]
    ``svd``, ``eigh`` and ``qr`` have several differentiable outputs. Each is one registry op
    whose forward returns the outputs flattened and concatenated along the last axis
    (``pack``); the public function slices and reshapes that one Tensor into the outputs
    (``unpack``), with ordinary differentiable views. So the decomposition is one node with one
    reverse rule and one forward rule, forward-mode AD, anomaly mode and double backward see an
    ordinary single-output op, and an output nobody uses sends a zero gradient. Rules detect an
    all-zero part (``allzero``) and skip its terms, as PyTorch skips an undefined gradient: this
    keeps e.g. ``svdvals`` finite at repeated singular values, where the terms of ``U`` and
    ``Vh`` divide by zero.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops import dxp as _dxp
from ..ops import elementwise as E
from ..ops import registry as _registry
from ..ops import shape as S


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (a singular or non positive-definite
    matrix), as ``torch.linalg.LinAlgError``; a ``RuntimeError``.

    Example:
        >>> import gradwalk
        >>> try:
        ...     gradwalk.linalg.inv(gradwalk.zeros(2, 2))
        ... except gradwalk.linalg.LinAlgError as e:
        ...     print(str(e)[:40])
        linalg.inv: The diagonal element 1 is ze
    """


# ---------------------------------------------------------------------------------------------
# input checks


def tensor_in(x, op: str):
    if not isinstance(x, _registry.Tensor):
        raise TypeError(f"{op}(): expected a Tensor, got {type(x).__name__}")
    return x


def float_in(x, op: str, what: str = "input"):
    tensor_in(x, op)
    kind = x._data.dtype.kind
    if kind not in "fc":
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as {what}. Got "
            f"{_dtype_name(x)} (convert it first, e.g. {what}.double())")
    if kind == "c":
        raise NotImplementedError(f"{op}: complex tensors are not supported by gradwalk")
    return x


def _dtype_name(x) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(str(x._data.dtype), str(x._data.dtype))


def matrix_in(x, op: str, what: str = "A", square: bool = False):
    float_in(x, op, "input" if what == "A" else what)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {what} must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{op}: {what} must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    return x


def same_dtype(a, b, op: str):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{a.dtype} and B of type {b.dtype} instead")


def batch_msg(batch_index: tuple, nbatch: int) -> str:
    """PyTorch's ``(Batch element k): `` prefix for a failure in a batch of matrices."""
    if not nbatch:
        return ""
    return f"(Batch element {batch_index}): "


def flat_index(shape: tuple, idx: tuple) -> int:
    return int(np.ravel_multi_index(idx, shape)) if shape else 0


# ---------------------------------------------------------------------------------------------
# the two namespaces (Note [linalg rules in two modes])


def diff(xp) -> bool:
    return getattr(xp, "IS_DIFFERENTIABLE", False)


def c(xp, a):
    """A constant array, as a Tensor under the differentiable namespace."""
    return _registry.wrap(np.asarray(a)) if diff(xp) else a


def mT(x):
    return x.mT if isinstance(x, _registry.Tensor) else np.swapaxes(x, -1, -2)


def eye(xp, n: int, dtype=np.float64):
    return c(xp, np.eye(n, dtype=dtype))


def diag(xp, a):
    """The main diagonal of square matrices ``a``."""
    n = a.shape[-1]
    return xp.sum(a * eye(xp, n, _dt(a)), axis=-1)


def diag_embed(xp, v):
    """Square matrices with ``v`` on the diagonal."""
    return xp.expand_dims(v, -1) * eye(xp, v.shape[-1], _dt(v))


def _dt(a):
    return a._data.dtype if isinstance(a, _registry.Tensor) else a.dtype


def data_of(x):
    """The array of a Tensor, or the array itself."""
    return x._data if isinstance(x, _registry.Tensor) else np.asarray(x)


def allzero(x) -> bool:
    """True when every entry of ``x`` (an array or Tensor) is exactly zero."""
    data = x._data if isinstance(x, _registry.Tensor) else x
    return not np.any(data)


def np_solve_tri(a, b, upper: bool, unit: bool = False):
    """``a x = b`` for triangular ``a`` (only its triangle is read) with NumPy."""
    n = a.shape[-1]
    t = np.triu(a, 1 if unit else 0) if upper else np.tril(a, -1 if unit else 0)
    if unit:
        t = t + np.eye(n, dtype=a.dtype)
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if 0 in shape or n == 0 or b.shape[-1] == 0:
        return np.zeros(shape + b.shape[-2:], dtype=np.result_type(a, b))
    t = np.broadcast_to(t, shape + t.shape[-2:])
    b = np.broadcast_to(b, shape + b.shape[-2:])
    with np.errstate(all="ignore"):
        diag_ = np.diagonal(t, axis1=-2, axis2=-1)
        if np.all(diag_ != 0):
            try:
                return np.linalg.solve(t, b)
            except np.linalg.LinAlgError:
                pass
        return _back_substitute(t, b, upper)


def _back_substitute(t, b, upper):
    """Substitution row by row: inf/nan where a diagonal entry is zero, as LAPACK's trtrs."""
    n = t.shape[-1]
    x = np.zeros(np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:],
                 dtype=np.result_type(t, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(all="ignore"):
        for i in order:
            s = b[..., i, :] - np.einsum("...j,...jk->...k", t[..., i, :], x)
            x[..., i, :] = s / t[..., i, i][..., None]
    return x


class _NP:
    """First-order rules: NumPy."""

    @staticmethod
    def solve(a, b):
        if 0 in a.shape or 0 in b.shape:
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
            return np.zeros(shape, dtype=np.result_type(a, b))
        return np.linalg.solve(a, b)

    @staticmethod
    def solve_tri(a, b, upper, unit=False):
        return np_solve_tri(a, b, upper, unit)

    @staticmethod
    def inv(a):
        return np.linalg.inv(a) if a.size else np.zeros(a.shape, a.dtype)

    tril = staticmethod(np.tril)
    triu = staticmethod(np.triu)


class _GW:
    """Rules under ``create_graph``: the differentiable public functions (bound by the package
    ``__init__``, below the functions' own modules)."""

    solve = None
    solve_tri = None
    inv = None
    tril = staticmethod(S.tril)
    triu = staticmethod(S.triu)


def ns(xp):
    return _GW if diff(xp) else _NP


# ---------------------------------------------------------------------------------------------
# packed outputs (Note [packed outputs])


def pack(xp, arrays: list, batch: tuple):
    flat = [xp.reshape(a, tuple(batch) + (math.prod(a.shape[len(batch):]),)) for a in arrays]
    return xp.concatenate(flat, axis=-1)


def unpack(xp, packed, batch: tuple, shapes: list) -> list:
    outs, start = [], 0
    for shp in shapes:
        size = math.prod(shp)
        piece = packed[(Ellipsis, slice(start, start + size))]
        outs.append(xp.reshape(piece, tuple(batch) + tuple(shp)))
        start += size
    return outs


def unpack_tensor(packed, batch: tuple, shapes: list) -> list:
    """The outputs of a packed op's result, as differentiable views of it."""
    return unpack(_dxp, packed, batch, shapes)


def zero_grad_like(value: np.ndarray, anchor):
    """``value`` as a Tensor that requires grad when ``anchor`` does, with a zero gradient.

    PyTorch's non-differentiable float outputs of a differentiable op (``slogdet``'s sign, the
    identity of ``matrix_power(A, 0)``) still report ``requires_grad`` and carry a zero
    tangent in forward mode.
    """
    const = _registry.wrap(value if getattr(value, "_gw_batched", False) else np.asarray(value))
    zero = S.reshape(anchor, (-1,))[:0].sum() * 0.0  # an empty sum: exactly 0, never NaN
    return E.add(const, zero)


# ---------------------------------------------------------------------------------------------
# LU with partial pivoting (LAPACK's getrf, which NumPy does not expose)


def getrf(a: np.ndarray, pivot: bool = True):
    """``(lu, perm, ipiv)`` of a batch of matrices: ``a[..., perm, :] = L @ U`` with ``L`` unit
    lower and ``U`` upper packed in ``lu``; ``ipiv`` are LAPACK's 1-based row swaps (int32).

    Partial pivoting picks the first entry of largest magnitude in each column, as LAPACK's
    ``idamax``; a zero pivot leaves its column unscaled (LAPACK's ``info > 0``).
    """
    lu = np.array(a, dtype=np.result_type(a, np.float64) if a.dtype.kind != "f" else a.dtype)
    *batch, m, n = lu.shape
    k = min(m, n)
    perm = np.broadcast_to(np.arange(m), tuple(batch) + (m,)).copy()
    ipiv = np.zeros(tuple(batch) + (k,), dtype=np.int32)
    bidx = np.indices(tuple(batch)) if batch else None
    for j in range(k):
        if pivot:
            p = j + np.argmax(np.abs(lu[..., j:, j]), axis=-1)
        else:
            p = np.full(tuple(batch), j)
        ipiv[..., j] = p + 1
        if pivot and np.any(p != j):
            if batch:
                rows_j = lu[..., j, :].copy()
                idx = (*bidx, p)
                lu[..., j, :] = lu[idx]
                lu[idx] = rows_j
                pj = perm[..., j].copy()
                perm[..., j] = perm[idx]
                perm[idx] = pj
            else:
                pi = int(p)
                lu[[j, pi]] = lu[[pi, j]]
                perm[[j, pi]] = perm[[pi, j]]
        piv = lu[..., j, j]
        safe = np.where(piv == 0, 1.0, piv)
        lu[..., j + 1:, j] /= safe[..., None]
        lu[..., j + 1:, j + 1:] -= lu[..., j + 1:, j:j + 1] * lu[..., j:j + 1, j + 1:]
    return lu, perm, ipiv


def first_zero_pivot(lu: np.ndarray):
    """``(batch index, 1-based k)`` of the first matrix whose ``U[k, k]`` is zero, or None."""
    d = np.diagonal(lu, axis1=-2, axis2=-1)
    bad = d == 0
    if not np.any(bad):
        return None
    flat = bad.reshape(-1, bad.shape[-1])
    b = int(np.argmax(flat.any(axis=-1)))
    k = int(np.argmax(flat[b])) + 1
    return b, k


# ---------------------------------------------------------------------------------------------
# vmap


def batchable(axis_params: tuple = (), shape_params: tuple = ()):
    """Let a NumPy computation over leading batch dims run on ``vmap``'s batched arrays.

    Note [linalg under vmap]
        Every routine here treats the leading dims of its arrays as a batch, so a batched array
        of ``vmap`` (physical array ``_a`` with the batch at dim 0, Note [batching at the array
        level] in ``gradwalk/func/_batched_array.py``) runs as one more leading dim: the
        wrapper hands the physical arrays to the routine (unbatched arrays broadcast along the
        batch) and wraps the results back at the same level. Parameters that name dims
        (``axis_params``, non-negative) shift by one, and logical shapes (``shape_params``)
        gain the batch.
    """

    def deco(fn):
        def wrapper(*args, **kw):
            batched = [a for a in args if getattr(a, "_gw_batched", False)]
            if not batched:
                return fn(*args, **kw)
            level = batched[0]._level
            if any(a._level != level for a in batched):
                raise RuntimeError(f"vmap: {fn.__name__} got arrays of different vmap levels")
            cls, size = type(batched[0]), batched[0]._a.shape[0]
            phys = []
            for a in args:
                if getattr(a, "_gw_batched", False):
                    phys.append(a._a)
                elif isinstance(a, np.ndarray):
                    phys.append(np.broadcast_to(a, (size,) + a.shape))
                else:
                    phys.append(a)
            for name in axis_params:
                if name in kw:
                    kw[name] = kw[name] + 1  # non-negative dims
            for name in shape_params:
                if name in kw:
                    kw[name] = (size,) + tuple(kw[name])
            out = fn(*phys, **kw)
            if isinstance(out, tuple):
                return tuple(cls(o, level) for o in out)
            return cls(out, level)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return deco


getrf = batchable()(getrf)
np_solve_tri = batchable()(np_solve_tri)
_NP.solve = staticmethod(batchable()(_NP.solve.__func__ if hasattr(_NP.solve, "__func__")
                                     else _NP.solve))
_NP.inv = staticmethod(batchable()(_NP.inv.__func__ if hasattr(_NP.inv, "__func__")
                                   else _NP.inv))
