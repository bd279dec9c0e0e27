"""Scans and finite differences along a dim: ``cumprod``, ``logcumsumexp``, ``cummax``/
``cummin``, ``diff``, ``gradient``, ``trapezoid``/``trapz``/``cumulative_trapezoid``.

``cumprod`` and ``logcumsumexp`` are declarations with rules of their own (Note [scan
Jacobians]); ``cummax``/``cummin`` pick indices with PyTorch's conventions and take the values
with ``gather`` (whose rules are the scatter of the gradient to those indices, as PyTorch's);
the rest are PyTorch's decompositions over differentiable ops.

Note [scan Jacobians]
    Output ``j`` of a scan along a dim of length ``n`` depends on inputs ``k <= j``. Both rules
    build the ``n x n`` Jacobian block ``W[k, j]`` along the dim (two adjacent axes ``k, j`` in
    place of the dim) and contract it: the vjp sums ``W * g[j]`` over ``j``, the jvp sums
    ``W * t[k]`` over ``k``. For ``cumprod``, ``W[k, j] = prod(x[i] for i <= j, i != k)``,
    computed as the cumulative product of ``x`` with ``x[k]`` replaced by 1: exact at zeros,
    where ``grad * out / x`` is 0/0 (the first-order rule uses that cheaper form when ``x``
    has no zero). For ``logcumsumexp``, ``W[k, j] = exp(x[k] - out[j])`` with ``x[k] <=
    out[j]``: no overflow. The forward rule of ``logcumsumexp`` is PyTorch's instead,
    ``cumsum(exp(x - max) * t) / (cumsum(exp(x - max)) + 1e-13)`` with the max over the whole
    dim: it loses precision where early elements lie far below the max (4e-7 off the exact
    tangent on PyTorch's own samples), and gradwalk gives the tangent PyTorch gives. All these
    forms use only ``xp`` functions, so double backward records its graph through the same
    rules. The block costs ``n`` times the input's memory.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..dtypes import get_default_dtype
from . import elementwise as E
from . import indexing as I
from . import kernels as K
from . import reductions as Rd
from . import registry as R
from . import shape as S
from .registry import apply1, declare

_Ret = namedtuple("return_types", ["values", "indices"])


_check = K.check_tensor


_dim = K.dim_of


def _block_masks(n, axis, ndim):
    """The ``k == j`` and ``j >= k`` masks of the ``n x n`` block at axes ``axis, axis + 1``."""
    shape = (1,) * axis + (n, n) + (1,) * (ndim - axis - 1)
    eye = np.eye(n, dtype=bool).reshape(shape)
    upper = np.triu(np.ones((n, n), dtype=bool)).reshape(shape)
    return eye, upper


def _xp_cumprod(xp, a, axis):
    return cumprod(a, axis) if K.is_dxp(xp) else xp.cumprod(a, axis=axis)


def _cumprod_block(xp, x, axis):
    """``W[k, j]`` of Note [scan Jacobians] for ``cumprod``, zero where ``j < k``."""
    n = x.shape[axis]
    eye, upper = _block_masks(n, axis, x.ndim)
    full = tuple(x.shape[:axis]) + (n, n) + tuple(x.shape[axis + 1:])
    xj = xp.broadcast_to(xp.expand_dims(x, axis), full)
    y = xp.where(np.broadcast_to(eye, full), 1.0, xj)
    return xp.where(np.broadcast_to(upper, full), _xp_cumprod(xp, y, axis + 1), 0.0)


def _cumprod_vjp(xp, g, out, x, axis):
    if not K.is_dxp(xp) and xp is np and x.shape[axis] and np.all(x != 0):
        return xp.flip(xp.cumsum(xp.flip(g * out, axis=axis), axis=axis), axis=axis) / x
    w = _cumprod_block(xp, x, axis)
    return xp.sum(w * xp.expand_dims(g, axis), axis=axis + 1)


def _cumprod_jvp(xp, t, out, x, axis):
    w = _cumprod_block(xp, x, axis)
    return xp.sum(w * xp.expand_dims(t, axis + 1), axis=axis)


CUMPROD = declare("cumprod", lambda xp, x, axis: xp.cumprod(x, axis=axis), _cumprod_vjp,
                  _cumprod_jvp, save_out=True,
                  explain="sum over j >= k of grad[j] * prod(x[i] for i <= j, i != k)")


def _logcumsumexp_fwd(xp, x, axis):
    return xp.logaddexp.accumulate(x, axis=axis)


def _lcse_block(xp, out, x, axis):
    n = x.shape[axis]
    _, upper = _block_masks(n, axis, x.ndim)
    full = tuple(x.shape[:axis]) + (n, n) + tuple(x.shape[axis + 1:])
    d = xp.expand_dims(x, axis + 1) - xp.expand_dims(out, axis)
    mask = np.broadcast_to(upper, full)
    return xp.where(mask, xp.exp(xp.where(mask, d, 0.0)), 0.0)


def _lcse_vjp(xp, g, out, x, axis):
    return xp.sum(_lcse_block(xp, out, x, axis) * xp.expand_dims(g, axis), axis=axis + 1)


def _lcse_jvp(xp, t, out, x, axis):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))  # Note [scan Jacobians]: torch's form
    return xp.cumsum(e * t, axis=axis) / (xp.cumsum(e, axis=axis) + 1e-13)


LOGCUMSUMEXP = declare("logcumsumexp", _logcumsumexp_fwd, _lcse_vjp, _lcse_jvp, save_out=True,
                       explain="sum over j >= k of grad[j] * exp(x[k] - out[j])")


def _scan(op, input, dim, name):
    _check(input, name)
    axis = _dim(input, dim, name)
    if input.ndim == 0:
        return S.reshape(apply1(op, S.reshape(input, (1,)), {"axis": 0}), ())
    return apply1(op, input, {"axis": axis})


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim`` (the gradient is exact where ``input`` holds zeros).

    Example:
        >>> import gradwalk
        >>> gradwalk.cumprod(gradwalk.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([1., 2., 6.])
    """
    _check(input, "cumprod")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bi" and input._data.dtype != np.int64:
        input = E.cast(input, np.int64)
    return _scan(CUMPROD, input, dim, "cumprod")


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.logcumsumexp(gradwalk.tensor([0.0, 0.0]), dim=0)
        tensor([0.0000, 0.6931])
    """
    _check(input, "logcumsumexp")
    if input._data.dtype.kind not in "fc":
        input = E.cast(input, get_default_dtype().np)
    return _scan(LOGCUMSUMEXP, input, dim, "logcumsumexp")


def _cum_indices(a, axis, greater: bool):
    """PyTorch's running arg-extreme: a later element replaces the current one when it is NaN
    or, the current one not NaN, when it is ``>=`` (cummax) or ``<=`` (cummin) it: ties go to
    the latest index, NaN propagates."""
    m = np.moveaxis(a, axis, -1)
    idx = np.zeros(m.shape, dtype=np.int64)
    if m.shape[-1] == 0:
        return np.moveaxis(idx, -1, axis)
    cur = m[..., 0].copy()
    ci = np.zeros(m.shape[:-1], dtype=np.int64)
    for i in range(m.shape[-1]):
        v = m[..., i]
        with np.errstate(invalid="ignore"):
            better = (v >= cur) if greater else (v <= cur)
        take = np.isnan(v) | (~np.isnan(cur) & better) if m.dtype.kind in "fc" else better
        cur = np.where(take, v, cur)
        ci = np.where(take, i, ci)
        idx[..., i] = ci
    return np.moveaxis(idx, -1, axis)


def _cumextreme(input, dim, greater, name):
    _check(input, name)
    axis = _dim(input, dim, name)
    if input.ndim == 0:
        return _Ret(input.clone(), R.wrap(np.zeros((), dtype=np.int64)))
    idx = R.wrap(_cum_indices(input._data, axis, greater))
    return _Ret(I.gather(input, axis, idx), idx)


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and where it was found (ties
    and NaN: the latest index, as PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.cummax(gradwalk.tensor([1.0, 3.0, 2.0, 3.0]), dim=0)
        return_types(values=tensor([1., 3., 3., 3.]), indices=tensor([0, 1, 1, 3]))
    """
    K.real_only("cummax", input)
    return _cumextreme(input, dim, True, "cummax")


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim`` and where it was found.

    Example:
        >>> import gradwalk
        >>> gradwalk.cummin(gradwalk.tensor([3.0, 1.0, 2.0]), dim=0).values
        tensor([3., 1., 1.])
    """
    K.real_only("cummin", input)
    return _cumextreme(input, dim, False, "cummin")


# --------------------------------------------------------------------------------------------
# differences and integrals


def _slice(x, axis, start, stop):
    n = x.shape[axis]
    start = start % n if start < 0 else start
    stop = n + stop if stop <= 0 else stop
    return S.narrow(x, axis, start, max(stop - start, 0))


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``, after joining ``prepend`` and ``append``.

    Example:
        >>> import gradwalk
        >>> gradwalk.diff(gradwalk.tensor([1.0, 4.0, 9.0, 16.0]))
        tensor([3., 5., 7.])
    """
    _check(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = _dim(input, dim, "diff")
    parts = [t for t in (prepend, input, append) if t is not None]
    if len(parts) > 1:
        parts = [p if isinstance(p, R.Tensor) else R.wrap(np.asarray(p, input._data.dtype))
                 for p in parts]
        parts = [S.broadcast_to(p, input.shape[:axis] + (1,) + input.shape[axis + 1:])
                 if p.ndim == 0 else p for p in parts]
        input = S.cat(parts, axis)
    for _ in range(n):
        if input.shape[axis] == 0:
            break
        if input._data.dtype.kind == "b":
            input = E.logical_xor(_slice(input, axis, 1, 0), _slice(input, axis, 0, -1))
        else:
            input = E.sub(_slice(input, axis, 1, 0), _slice(input, axis, 0, -1))
    return input


def _dx_along(x, y, axis):
    """The spacings ``diff(x)`` shaped to broadcast against ``y``'s slices along ``axis``."""
    if x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise RuntimeError(
                f"trapezoid: There must be one `x` value for each sample point, got x of "
                f"size {x.shape[0]} for {y.shape[axis]} points along dim {axis}")
        shape = [1] * y.ndim
        shape[axis] = max(x.shape[0] - 1, 0)
        return S.reshape(diff(x), tuple(shape))
    xa = axis - y.ndim + x.ndim if x.ndim < y.ndim else axis
    return diff(x, dim=xa)


def _trapezoid_parts(y, x, dx, dim, name):
    _check(y, name)
    if y.ndim == 0:
        raise IndexError(f"{name}(): Dimension out of range (expected to be in range of "
                         f"[-1, 0], but got {dim})")
    axis = _dim(y, dim, name)
    if y._data.dtype.kind not in "fc":
        y = E.cast(y, get_default_dtype().np)
    left, right = _slice(y, axis, 0, -1), _slice(y, axis, 1, 0)
    if x is not None:
        if dx is not None:
            raise TypeError(f"{name}(): give either x or dx, not both")
        if not isinstance(x, R.Tensor):
            raise TypeError(f"{name}(): x must be a Tensor, not {type(x).__name__}")
        return axis, E.mul(_dx_along(x, y, axis), E.add(left, right)), 0.5
    return axis, E.add(left, right), 0.5 * (1.0 if dx is None else dx)


def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The trapezoid rule's integral of ``y`` along ``dim``, at points ``x`` (a tensor) or
    spaced ``dx`` apart (1 by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.trapezoid(gradwalk.tensor([1.0, 2.0, 3.0]))
        tensor(4.)
    """
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        x, dx = None, x
    axis, terms, scale = _trapezoid_parts(y, x, dx, dim, "trapezoid")
    return E.mul(Rd.sum(terms, axis), scale)


def trapz(y, x=None, *, dx=None, dim: int = -1):
    """``trapezoid`` under its older name.

    Example:
        >>> import gradwalk
        >>> gradwalk.trapz(gradwalk.tensor([1.0, 2.0, 3.0]), dx=2.0)
        tensor(8.)
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The running trapezoid-rule integral of ``y`` along ``dim`` (one value fewer).

    Example:
        >>> import gradwalk
        >>> gradwalk.cumulative_trapezoid(gradwalk.tensor([1.0, 2.0, 3.0]))
        tensor([1.5000, 4.0000])
    """
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        x, dx = None, x
    axis, terms, scale = _trapezoid_parts(y, x, dx, dim, "cumulative_trapezoid")
    return Rd.cumsum(E.mul(terms, scale), axis)


def _gradient_dim(f, axis, h, edge_order):
    """numpy.gradient's second-order accurate differences along one axis; ``h`` a number
    (uniform spacing) or a 1-D array of coordinates."""
    n = f.shape[axis]
    if n < edge_order + 1:
        raise RuntimeError(
            f"torch.gradient expected each dimension size to be at least edge_order+1, but "
            f"dimension {axis} has size {n} for edge_order {edge_order}")

    def at(k):
        return S.narrow(f, axis, k % n, 1)

    def mid(start, stop):
        return _slice(f, axis, start, stop)

    def col(v):
        shape = [1] * f.ndim
        shape[axis] = -1
        return R.wrap(np.asarray(v, dtype=f._data.dtype).reshape(shape))

    if np.ndim(h) == 0:
        h = float(h)
        inner = (mid(2, 0) - mid(0, -2)) * (1.0 / (2.0 * h))
        if edge_order == 1:
            first = (at(1) - at(0)) * (1.0 / h)
            last = (at(-1) - at(-2)) * (1.0 / h)
        else:
            first = (at(0) * -1.5 + at(1) * 2.0 - at(2) * 0.5) * (1.0 / h)
            last = (at(-3) * 0.5 - at(-2) * 2.0 + at(-1) * 1.5) * (1.0 / h)
        return S.cat([first, inner, last], axis)
    d = np.diff(np.asarray(h, dtype=np.float64))
    if d.shape[0] != n - 1:
        raise RuntimeError(f"torch.gradient expected spacing coordinates of size {n} along "
                           f"dimension {axis}, got {d.shape[0] + 1}")
    d1, d2 = d[:-1], d[1:]
    a = -d2 / (d1 * (d1 + d2))
    b = (d2 - d1) / (d1 * d2)
    c = d1 / (d2 * (d1 + d2))
    inner = mid(0, -2) * col(a) + mid(1, -1) * col(b) + mid(2, 0) * col(c)
    if edge_order == 1:
        first = (at(1) - at(0)) * (1.0 / d[0])
        last = (at(-1) - at(-2)) * (1.0 / d[-1])
    else:
        p, q = d[0], d[1]
        first = (at(0) * (-(2 * p + q) / (p * (p + q))) + at(1) * ((p + q) / (p * q))
                 + at(2) * (-p / (q * (p + q))))
        p, q = d[-2], d[-1]
        last = (at(-3) * (q / (p * (p + q))) + at(-2) * (-(q + p) / (p * q))
                + at(-1) * ((2 * q + p) / (q * (p + q))))
    return S.cat([first, inner, last], axis)


def gradient(input, *, spacing=None, dim=None, edge_order: int = 1):
    """Estimates of the derivative of ``input`` along each of ``dim`` (all dims by default) by
    central differences, one-sided at the edges (``edge_order`` 1 or 2). ``spacing`` is a
    number, one number per dim, or one 1-D coordinate tensor per dim. A tuple of tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.gradient(gradwalk.tensor([1.0, 4.0, 9.0, 16.0]))
        (tensor([3., 4., 6., 7.]),)
    """
    _check(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, "
                           f"got {edge_order}")
    if input._data.dtype.kind not in "fc":
        input = E.cast(input, get_default_dtype().np)
    if dim is None:
        dims = list(range(input.ndim))
    elif isinstance(dim, int):
        dims = [dim]
    else:
        dims = list(dim)
    dims = [_dim(input, d, "gradient") for d in dims]
    if spacing is None:
        spacing = 1.0
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or a list of "
                f"length {len(dims)} (one per dim), but got a list of length {len(spacing)}")
        hs = [np.asarray(s._data) if isinstance(s, R.Tensor) else s for s in spacing]
    else:
        if isinstance(spacing, R.Tensor):
            spacing = spacing.item()
        hs = [spacing] * len(dims)
    return tuple(_gradient_dim(input, a, h, edge_order) for a, h in zip(dims, hs))
