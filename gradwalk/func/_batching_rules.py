"""``vmap``'s batching rules for NumPy functions: reductions, axis and shape functions, joins,
gathers, factories and products, keyed by NumPy function in ``_RULES`` (Note [batching at the
array level] in ``_batched_array.py``). Each rule is ``rule(level, *args, **kwargs)``: it takes
the logical arguments of the call and returns the batched result.

Example:
    >>> import numpy as np
    >>> from gradwalk.func._batched_array import BatchedArray
    >>> from gradwalk.func import _batching_rules  # fills the table
    >>> np.moveaxis(BatchedArray(np.zeros((4, 2, 3)), level=1), 0, 1).shape
    (3, 2)
"""

from __future__ import annotations

import numpy as np

from ._batched_array import (
    _RULES,
    _aligned,
    _batch_size,
    _data_dependent,
    _lift,
    _materialize,
    _nd,
    _norm_axis,
    _shift_axes,
    _un,
    _unsupported,
    _wrap,
)

# ------------------------------------------------------------------------------------------
# elementwise functions (ufuncs go through BatchedArray.__array_ufunc__)


def _where(level, cond, *ab):
    if not ab:
        raise _data_dependent("take np.where(condition) (nonzero)")
    return _wrap(np.where(*_aligned(level, (cond,) + ab)), level)


def _clip(level, a, a_min=None, a_max=None, **kw):
    return _wrap(np.clip(*_aligned(level, (a, a_min, a_max)), **kw), level)


def _round(level, a, decimals=0, out=None):
    return _wrap(np.round(_un(a, level)[0], decimals), level)


def _isclose(level, a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    pa, pb = _aligned(level, (a, b))
    return _wrap(np.isclose(pa, pb, rtol=rtol, atol=atol, equal_nan=equal_nan), level)


# ------------------------------------------------------------------------------------------
# reductions and axis functions


def _reduction(func):
    def rule(level, a, axis=None, *args, **kw):
        p, _ = _un(a, level)
        return _wrap(func(p, _shift_axes(axis, p.ndim - 1), *args, **kw), level)

    return rule


def _argreduce(func):
    def rule(level, a, axis=None, out=None, **kw):
        p, _ = _un(a, level)
        nd = p.ndim - 1
        if axis is None:
            r = func(np.reshape(p, (p.shape[0], -1)), axis=1)
            if kw.get("keepdims"):
                r = np.reshape(r, (p.shape[0],) + (1,) * nd)
            return _wrap(r, level)
        return _wrap(func(p, axis=_shift_axes(axis, nd), **kw), level)

    return rule


def _cumsum(level, a, axis=None, dtype=None, out=None, _f=np.cumsum):
    p, _ = _un(a, level)
    if axis is None:
        return _wrap(_f(np.reshape(p, (p.shape[0], -1)), axis=1, dtype=dtype), level)
    return _wrap(_f(p, axis=_shift_axes(axis, p.ndim - 1), dtype=dtype), level)


def _cumprod(level, a, axis=None, dtype=None, out=None):
    return _cumsum(level, a, axis, dtype, out, _f=np.cumprod)


def _expand_dims(level, a, axis):
    p, _ = _un(a, level)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out_nd = p.ndim - 1 + len(axes)
    return _wrap(np.expand_dims(p, tuple(_norm_axis(x, out_nd) + 1 for x in axes)), level)


def _squeeze(level, a, axis=None):
    p, _ = _un(a, level)
    nd = p.ndim - 1
    if axis is None:
        axis = tuple(k for k in range(nd) if p.shape[k + 1] == 1)
    return _wrap(np.squeeze(p, _shift_axes(axis, nd)), level)


def _reshape(level, a, shape=None, order="C", **kw):
    if shape is None:
        shape = kw.pop("newshape")
    p, _ = _un(a, level)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    return _wrap(np.reshape(p, (p.shape[0],) + shape, order=order), level)


def _transpose(level, a, axes=None):
    p, _ = _un(a, level)
    nd = p.ndim - 1
    if axes is None:
        axes = tuple(range(nd - 1, -1, -1))
    return _wrap(np.transpose(p, (0,) + tuple(_norm_axis(x, nd) + 1 for x in axes)), level)


def _swapaxes(level, a, axis1, axis2):
    p, _ = _un(a, level)
    nd = p.ndim - 1
    return _wrap(np.swapaxes(p, _norm_axis(axis1, nd) + 1, _norm_axis(axis2, nd) + 1), level)


def _moveaxis(level, a, source, destination):
    p, _ = _un(a, level)
    nd = p.ndim - 1
    return _wrap(np.moveaxis(p, _shift_axes(source, nd), _shift_axes(destination, nd)), level)


def _broadcast_to(level, a, shape, subok=False):
    p, _ = _un(a, level)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    p = _lift(p, len(shape) - (p.ndim - 1))
    return _wrap(np.broadcast_to(p, (p.shape[0],) + shape), level)


def _flip(level, a, axis=None):
    p, _ = _un(a, level)
    return _wrap(np.flip(p, _shift_axes(axis, p.ndim - 1)), level)


def _tri(func):
    def rule(level, m, k=0):
        p, _ = _un(m, level)
        if p.ndim < 3:
            raise _unsupported(f"{func.__name__} of a batched array of fewer than 2 dims")
        return _wrap(func(p, k), level)

    return rule


def _tile(level, a, reps):
    p, _ = _un(a, level)
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    nd = p.ndim - 1
    if len(reps) < nd:
        reps = (1,) * (nd - len(reps)) + reps
    p = _lift(p, len(reps) - nd)
    return _wrap(np.tile(p, (1,) + reps), level)


def _pad(level, array, pad_width, mode="constant", **kw):
    p, _ = _un(array, level)
    nd = p.ndim - 1
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (nd, 2)).tolist()
    return _wrap(np.pad(p, [(0, 0)] + widths, mode=mode, **kw), level)


def _join(func):
    def rule(level, arrays, axis=0, **kw):
        arrays = list(arrays)
        size = _batch_size(level, arrays)
        phys = [_materialize(x, level, size) for x in arrays]
        if func is np.stack:
            nd = phys[0].ndim - 1 + 1
        else:
            nd = phys[0].ndim - 1
        if axis is None:
            phys = [np.reshape(x, (size, -1)) for x in phys]
            return _wrap(func(phys, axis=1, **kw), level)
        return _wrap(func(phys, axis=_norm_axis(axis, nd) + 1, **kw), level)

    return rule


def _take_along_axis(level, arr, indices, axis=-1):
    pa, ba = _un(arr, level)
    pi, bi = _un(indices, level)
    if axis is None:
        raise _unsupported("take_along_axis with axis=None")
    nd = (pa.ndim - 1) if ba else _nd(pa)
    pa = pa if ba else np.expand_dims(pa, 0)
    pi = pi if bi else np.expand_dims(pi, 0)
    return _wrap(np.take_along_axis(pa, pi, axis=_norm_axis(axis, nd) + 1), level)


def _put_along_axis(level, arr, indices, values, axis):
    pa, ba = _un(arr, level)
    if not ba:
        raise _unsupported("put_along_axis of batched values into an unbatched array")
    pi, bi = _un(indices, level)
    nd = pa.ndim - 1
    pi = pi if bi else np.expand_dims(pi, 0)
    pv, bv = _un(values, level)
    if bv:
        pv = _lift(pv, nd - (pv.ndim - 1))
    np.put_along_axis(pa, pi, pv, axis=_norm_axis(axis, nd) + 1)


def _take(level, a, indices, axis=None, out=None, mode="raise"):
    pa, ba = _un(a, level)
    pi, bi = _un(indices, level)
    if bi and ba:
        raise _unsupported("take of a batched array at batched indices")
    if bi:  # unbatched array, batched indices: the batch dim lands where the indices go
        r = np.take(pa, pi, axis=axis, mode=mode)
        k = 0 if axis is None else _norm_axis(axis, _nd(pa))
        return _wrap(np.moveaxis(r, k, 0) if k else r, level)
    if axis is None:
        return _wrap(np.take(np.reshape(pa, (pa.shape[0], -1)), pi, axis=1, mode=mode), level)
    return _wrap(np.take(pa, pi, axis=_norm_axis(axis, pa.ndim - 1) + 1, mode=mode), level)


def _like(func):
    def rule(level, a, *args, dtype=None, order="K", subok=True, shape=None, **kw):
        p, _ = _un(a, level)
        if shape is None:
            shape = p.shape[1:]
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        return _wrap(func(p, *args, dtype=dtype, shape=(p.shape[0],) + shape), level)

    return rule


def _full_like(level, a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    pa, ba = _un(a, level)
    pf, bf = _un(fill_value, level)
    if shape is None:
        shape = tuple(a.shape)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    dtype = dtype if dtype is not None else a.dtype
    if not bf:
        size = _batch_size(level, [a])
        return _wrap(np.full_like(pa if ba else a, pf, dtype=dtype, shape=(size,) + shape), level)
    pf = _lift(pf, len(shape) - (pf.ndim - 1))
    return _wrap(np.broadcast_to(pf, (pf.shape[0],) + shape).astype(dtype), level)


def _sliding_window_view(level, x, window_shape, axis=None, *, subok=False, writeable=False):
    p, _ = _un(x, level)
    nd = p.ndim - 1
    ws = tuple(window_shape) if isinstance(window_shape, (tuple, list)) else (window_shape,)
    if axis is None:
        axis = tuple(range(nd))
    return _wrap(np.lib.stride_tricks.sliding_window_view(
        p, ws, axis=_shift_axes(axis, nd), writeable=writeable), level)


def _copy(level, a, order="K", subok=False):
    p, _ = _un(a, level)
    return _wrap(np.copy(p), level)


def _astype(level, x, dtype, /, *, copy=True, device=None):
    p, _ = _un(x, level)
    return _wrap(p.astype(dtype, copy=copy), level)


def _shape(level, a):
    return a.shape


def _ndim(level, a):
    return a.ndim


def _size(level, a, axis=None):
    return a.size if axis is None else a.shape[axis]


def _may_share_memory(level, a, b, max_work=None):
    return np.may_share_memory(_un(a, level)[0], _un(b, level)[0])


def _refuse(what):
    def rule(level, *args, **kw):
        raise _data_dependent(what)

    return rule


# ------------------------------------------------------------------------------------------
# products


def _matmul(level, a, b, **kw):
    if kw.get("out") is not None:
        raise _unsupported("matmul with out=")
    kw.pop("out", None)
    pa, ba = _un(a, level)
    pb, bb = _un(b, level)
    la = pa.ndim - 1 if ba else _nd(pa)
    lb = pb.ndim - 1 if bb else _nd(pb)
    if la == 0 or lb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    # Fast paths: fold the batch into the rows of one matrix product (NumPy's broadcast matmul
    # would run one small product per sample).
    if ba and not bb and lb == 2:
        k = pa.shape[-1]
        r = np.matmul(np.reshape(pa, (-1, k)), pb, **kw)
        return _wrap(np.reshape(r, tuple(pa.shape[:-1]) + (pb.shape[-1],)), level)
    if bb and not ba and lb == 1 and la == 2:
        return _wrap(np.matmul(pb, np.swapaxes(pa, -1, -2), **kw), level)
    # promote vectors to matrices (logical), remember which dims to drop again
    if la == 1:
        pa = np.expand_dims(pa, -2)
    if lb == 1:
        pb = np.expand_dims(pb, -1)
    na, nb = max(la, 2), max(lb, 2)
    n = max(na, nb)
    if ba:
        pa = _lift(pa, n - na)
    if bb:
        pb = _lift(pb, n - nb)
    if pa.shape[-1] == 1 and ba and bb and not kw:  # outer products (per-sample weight grads)
        r = np.einsum("...ik,...kj->...ij", pa, pb)  # faster than matmul's loop or multiply
    else:
        r = np.matmul(pa, pb, **kw)
    if la == 1:
        r = np.squeeze(r, -2)
    if lb == 1:
        r = np.squeeze(r, -1)
    return _wrap(r, level)


def _einsum(level, subscripts, *operands, **kw):
    if not isinstance(subscripts, str):
        raise _unsupported("einsum in the sublist format")
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins = spec
        letters = [c for c in ins if c.isalpha()]
        out = ("..." if "..." in ins else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    specs = ins.split(",")
    used = set(spec)
    bl = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in used)
    phys = []
    for k, x in enumerate(operands):
        p, b = _un(x, level)
        phys.append(p)
        if b:
            specs[k] = bl + specs[k]
    eq = ",".join(specs) + "->" + bl + out
    return _wrap(np.einsum(eq, *phys, **kw), level)


# ------------------------------------------------------------------------------------------
# the rule table: NumPy function -> batching rule ``rule(level, *args, **kwargs)``

_RULES.update({
    np.where: _where,
    np.clip: _clip,
    np.round: _round,
    np.around: _round,
    np.isclose: _isclose,
    np.cumsum: _cumsum,
    np.cumprod: _cumprod,
    np.argmax: _argreduce(np.argmax),
    np.argmin: _argreduce(np.argmin),
    np.expand_dims: _expand_dims,
    np.squeeze: _squeeze,
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.swapaxes: _swapaxes,
    np.moveaxis: _moveaxis,
    np.broadcast_to: _broadcast_to,
    np.flip: _flip,
    np.triu: _tri(np.triu),
    np.tril: _tri(np.tril),
    np.tile: _tile,
    np.pad: _pad,
    np.concatenate: _join(np.concatenate),
    np.stack: _join(np.stack),
    np.take_along_axis: _take_along_axis,
    np.put_along_axis: _put_along_axis,
    np.take: _take,
    np.zeros_like: _like(np.zeros_like),
    np.ones_like: _like(np.ones_like),
    np.empty_like: _like(np.empty_like),
    np.full_like: _full_like,
    np.lib.stride_tricks.sliding_window_view: _sliding_window_view,
    np.copy: _copy,
    np.astype: _astype,
    np.shape: _shape,
    np.ndim: _ndim,
    np.size: _size,
    np.may_share_memory: _may_share_memory,
    np.shares_memory: _may_share_memory,
    np.einsum: _einsum,
    np.matmul: _matmul,
    np.nonzero: _refuse("take nonzero() (its size differs per sample)"),
    np.allclose: _refuse("reduce it to one Python bool with allclose()"),
    np.array_equal: _refuse("reduce it to one Python bool with array_equal()"),
})
for _f in (np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.var, np.std, np.any,
           np.all, np.nansum, np.nanmax, np.nanmin):
    _RULES[_f] = _reduction(_f)
del _f


