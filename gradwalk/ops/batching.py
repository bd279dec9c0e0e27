"""Batching for ``vmap``: a batched array carries a batch dim through every array operation.

Note [batching at the array level]
    Every gradwalk op computes through an array namespace (``xp``, see Note [rules] in
    ``registry.py``): forwards, reverse rules, forward rules and the engine's central
    unbroadcasting all call NumPy functions on the tensors' arrays. ``vmap`` therefore batches
    one level down, where all of them meet: a ``BatchedArray`` holds a physical array whose dim 0
    is the batch dim and shows the *logical* (per-sample) shape to everything above it. NumPy
    hands every function call on it to ``__array_function__`` / ``__array_ufunc__``, where a
    batching rule rewrites the call onto the physical array (elementwise: align ranks and
    broadcast; reductions and shape functions: shift ``axis`` by one; ``matmul``/``einsum``: an
    extra batch dim; indexing: a batch index). Rules are keyed by NumPy function in ``_RULES``.

    Because the engine and the rules only see arrays, ``grad`` inside ``vmap`` needs nothing
    special: the backward pass runs on batched arrays and yields per-sample gradients, with the
    same op rules, in one pass over the graph (no loop over samples). Forward mode works the
    same way. A Tensor whose ``data`` is a ``BatchedArray`` is a batched tensor.

Note [levels]
    Each ``vmap`` call gets a fresh level number (never reused). A ``BatchedArray`` of level L may
    wrap a batched array of a lower level (``vmap`` of ``vmap``): a function call is batched at
    the highest level among its arguments, and the physical arrays it passes on to NumPy are
    batched again at the lower levels. Arrays of lower levels are plain values to a higher level.

A call the rules do not cover raises ``RuntimeError`` naming the NumPy function and, where it
happens inside an op, the op. Reading a batched value into Python (``item()``, ``bool()``, an
``if`` on a tensor, ``numpy()``) raises too: the value differs per sample.

Example:
    >>> import numpy as np
    >>> from gradwalk.ops.batching import BatchedArray
    >>> a = BatchedArray(np.arange(6.0).reshape(2, 3), level=1)
    >>> a.shape, np.sum(a).shape, np.sum(a)._a
    ((3,), (), array([ 3., 12.]))
"""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from . import registry as _registry
from .registry import Op, apply1

_levels = itertools.count(1)
_active: list = []  # the levels of the vmap calls running now, innermost last


def new_level() -> int:
    """A fresh vmap level (monotonic, never reused)."""
    return next(_levels)


class active_level:  # noqa: N801 - a context manager named like a function
    """Marks ``level`` as running for the duration of a vmap call (see ``sum_finished``)."""

    def __init__(self, level: int) -> None:
        self.level = level

    def __enter__(self) -> int:
        from ..autograd import engine

        engine.listen(_SUM_FINISHED)
        _active.append(self.level)
        return self.level

    def __exit__(self, *exc) -> None:
        _active.remove(self.level)


class BatchedArray(NDArrayOperatorsMixin):
    """A physical array whose dim 0 is the batch dim of vmap ``level``; shows the logical shape.

    Example:
        >>> import numpy as np
        >>> from gradwalk.ops.batching import BatchedArray
        >>> b = BatchedArray(np.ones((4, 2, 3)), level=1)
        >>> b.shape, (b + np.ones(3)).shape, b.sum(axis=0).shape
        ((2, 3), (2, 3), (3,))
    """

    __slots__ = ("_a", "_level", "__weakref__")
    _gw_batched = True  # registry/elementwise keep such arrays as they are (no np.asarray)

    def __init__(self, a, level: int) -> None:
        self._a = a
        self._level = level

    # ---------------------------------------------------------------- metadata (logical)
    @property
    def shape(self) -> tuple:
        return tuple(self._a.shape[1:])

    @property
    def ndim(self) -> int:
        return self._a.ndim - 1

    @property
    def size(self) -> int:
        return math.prod(self._a.shape[1:])

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self._a.itemsize

    @property
    def base(self):
        return None

    @property
    def flags(self):
        return self._a.flags

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return np.transpose(self)

    @property
    def mT(self):  # noqa: N802
        return np.swapaxes(self, -1, -2)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d batched array")
        return self._a.shape[1]

    def __repr__(self) -> str:
        return f"BatchedArray(level={self._level}, bdim=0, value={self._a!r})"

    # ---------------------------------------------------------------- values per sample: refused
    def __array__(self, dtype=None, copy=None):
        raise _data_dependent("convert it to a NumPy array")

    def __bool__(self) -> bool:
        raise _data_dependent("use its value as a Python bool (an `if` on a tensor)")

    def __float__(self) -> float:
        raise _data_dependent("convert it to a Python float")

    def __int__(self) -> int:
        raise _data_dependent("convert it to a Python int")

    __index__ = __int__

    def item(self, *args):
        raise _data_dependent("read it with item()")

    def tolist(self):
        raise _data_dependent("read it with tolist()")

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    # ---------------------------------------------------------------- ndarray methods
    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return BatchedArray(self._a.astype(dtype, copy=copy), self._level)

    def copy(self, order="C"):
        return BatchedArray(self._a.copy(), self._level)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return np.transpose(self, axes or None)

    def swapaxes(self, a1, a2):
        return np.swapaxes(self, a1, a2)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def ravel(self, order="C"):
        return np.reshape(self, (-1,))

    flatten = ravel

    def clip(self, min=None, max=None, **kw):  # noqa: A002 - NumPy's names
        return np.clip(self, min, max, **kw)

    def round(self, decimals=0):
        return np.round(self, decimals)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False):
        return np.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, out=None, keepdims=False):
        return np.all(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, out=None, keepdims=False):
        return np.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return np.argmin(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return np.cumsum(self, axis=axis, dtype=dtype)

    def fill(self, value) -> None:
        self._a.fill(value)

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        pidx, perm = _physical_index(self, index, self._level)
        r = self._a[pidx]
        if perm is not None:
            r = np.transpose(r, perm)
        return BatchedArray(r, self._level)

    def __setitem__(self, index, value) -> None:
        pidx, perm = _physical_index(self, index, self._level)
        target_nd = _indexed_ndim(self._a, pidx) - 1
        self._a[pidx] = _align_value(value, self._level, target_nd, perm)

    # ---------------------------------------------------------------- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not kwargs and method == "__call__" and len(inputs) == 2 and ufunc is not np.matmul:
            # the common case, written out: a binary elementwise call
            a, b = inputs
            ta, tb = type(a), type(b)
            if ta is BatchedArray and tb is BatchedArray:
                if a._level == b._level:
                    pa, pb = a._a, b._a
                    da, db = pa.ndim, pb.ndim
                    if da < db:
                        pa = _lift(pa, db - da)
                    elif db < da:
                        pb = _lift(pb, da - db)
                    return BatchedArray(ufunc(pa, pb), a._level)
            elif ta is BatchedArray and (tb is float or tb is int or (
                    tb is np.ndarray and b.ndim <= a._a.ndim - 1)):
                return BatchedArray(ufunc(a._a, b), a._level)
            elif tb is BatchedArray and (ta is float or ta is int or (
                    ta is np.ndarray and a.ndim <= b._a.ndim - 1)):
                return BatchedArray(ufunc(a, b._a), b._level)
        level = _max_level(inputs, kwargs.get("out", ()))
        if method == "__call__":
            if ufunc is np.matmul:
                return _matmul(level, *inputs, **kwargs)
            return _elementwise(ufunc, level, inputs, kwargs)
        if method == "at":
            return _ufunc_at(ufunc, level, *inputs)
        if method == "reduce":
            a = inputs[0]
            axis = kwargs.pop("axis", 0)
            p, _ = _un(a, level)
            kwargs.pop("out", None)
            return _wrap(ufunc.reduce(p, axis=_shift_axes(axis, p.ndim - 1), **kwargs), level)
        raise _unsupported(f"{ufunc.__name__}.{method}")

    def __array_function__(self, func, types, args, kwargs):
        rule = _RULES.get(func)
        if rule is None:
            raise _unsupported(getattr(func, "__name__", str(func)))
        level = _max_level(args, tuple(kwargs.values()))
        return rule(level, *args, **kwargs)


_registry._Batched = BatchedArray  # the registry keeps batched results as they are


# ------------------------------------------------------------------------------------------
# helpers


def is_batched(x) -> bool:
    """True for a ``BatchedArray`` (the ``data`` of a tensor inside ``vmap``)."""
    return type(x) is BatchedArray


def all_samples(x):
    """The plain array holding every sample of a batched array (all vmap levels), for checks
    that validate values (class indices in range...); ``x`` itself when it is not batched.

    Example:
        >>> import numpy as np
        >>> from gradwalk.ops.batching import BatchedArray, all_samples
        >>> all_samples(BatchedArray(np.arange(3), level=1))
        array([0, 1, 2])
    """
    while type(x) is BatchedArray:
        x = x._a
    return x


def _max_level(args, more=()) -> int:
    """The highest vmap level among the arrays in ``args``/``more`` (one level of nesting)."""
    level = 0
    for group in (args, more):
        for a in group:
            t = type(a)
            if t is BatchedArray:
                if a._level > level:
                    level = a._level
            elif t is list or t is tuple:
                for b in a:
                    if type(b) is BatchedArray and b._level > level:
                        level = b._level
    return level


def _un(x, level):
    """``(physical, True)`` for an array batched at ``level``, else ``(x, False)``."""
    if type(x) is BatchedArray and x._level == level:
        return x._a, True
    return x, False


def _wrap(p, level):
    return BatchedArray(p, level)


def _nd(x) -> int:
    return x.ndim if hasattr(x, "ndim") else np.ndim(x)


def _norm_axis(axis, nd: int, fn: str = "") -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{fn}: axis must be an int, got {type(axis).__name__}")
    if not -max(nd, 1) <= axis < max(nd, 1):
        raise np.exceptions.AxisError(axis, nd)
    return int(axis) % max(nd, 1)


def _shift_axes(axis, nd: int):
    """Logical ``axis`` (None, int or tuple) on a rank-``nd`` value -> physical axes."""
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(_norm_axis(a, nd) + 1 for a in axis)
    return _norm_axis(axis, nd) + 1


def _batch_size(level, values) -> int:
    for v in values:
        if type(v) is BatchedArray and v._level == level:
            return v._a.shape[0]
        if type(v) in (list, tuple):
            for w in v:
                if type(w) is BatchedArray and w._level == level:
                    return w._a.shape[0]
    raise AssertionError("no batched value")


def _lift(p, k: int):
    """Insert ``k`` size-1 dims right after the batch dim of physical ``p``."""
    if k <= 0:
        return p
    return np.reshape(p, (p.shape[0],) + (1,) * k + tuple(p.shape[1:]))


def _materialize(x, level, size):
    """Physical form of ``x`` at ``level``: batched as is, unbatched broadcast to ``size``."""
    p, b = _un(x, level)
    if b:
        return p
    x = np.asarray(x) if not hasattr(x, "shape") else x
    return np.broadcast_to(np.expand_dims(x, 0), (size,) + tuple(x.shape))


def _current_op() -> str | None:
    """The op whose rule is running (for error messages: walks the Python frames, looking for
    the registry's or the engine's ``op``/``node`` local)."""
    f = sys._getframe(1)
    while f is not None:
        if f.f_globals.get("__name__", "").startswith("gradwalk.") and f.f_code.co_name not in (
                "_current_op", "_unsupported", "_data_dependent"):
            loc = f.f_locals
            op = loc.get("op")
            if not isinstance(op, Op) and "node" in loc:
                op = getattr(loc["node"], "op", None)
            if isinstance(op, Op):
                mod = f.f_globals["__name__"]
                if mod.endswith("engine"):
                    return f"{op.name!r} (its reverse rule)"
                if mod.endswith("forward_ad"):
                    return f"{op.name!r} (its forward rule)"
                return repr(op.name)
        f = f.f_back
    return None


def _unsupported(fn: str) -> RuntimeError:
    op = _current_op()
    inside = f" (called by op {op})" if op else ""
    return RuntimeError(
        f"vmap: the NumPy function '{fn}'{inside} has no batching rule in "
        "gradwalk.ops.batching, so this op cannot run on batched tensors. Call the function "
        "once per sample instead (a Python loop), or add a rule for it to _RULES.")


def _data_dependent(what: str) -> RuntimeError:
    op = _current_op()
    inside = f" in op {op}" if op else ""
    return RuntimeError(
        f"vmap: cannot {what}{inside}: inside vmap a tensor holds a different value for every "
        "sample, so its value cannot be read into Python or NumPy. Data-dependent control "
        "flow is not supported under vmap; use gradwalk.where(...) instead of `if`, or run the "
        "function per sample.")


# ------------------------------------------------------------------------------------------
# elementwise


def _elementwise(ufunc, level, inputs, kwargs):
    out = kwargs.pop("out", None)
    phys = _aligned(level, inputs)
    if out is not None:
        outs = []
        for o in out:
            p, b = _un(o, level)
            if not b:
                raise _unsupported(f"{ufunc.__name__} writing a batched result into an "
                                   "unbatched array (out=)")
            outs.append(p)
        kwargs["out"] = tuple(outs)
        ufunc(*phys, **kwargs)
        return out[0] if len(out) == 1 else out
    r = ufunc(*phys, **kwargs)
    if isinstance(r, tuple):
        return tuple(_wrap(x, level) for x in r)
    return _wrap(r, level)


def _aligned(level, inputs):
    """Physical inputs of an elementwise call: batched ones lifted to the common rank."""
    unw = [_un(x, level) for x in inputs]
    nd = 0
    for p, b in unw:
        k = p.ndim - 1 if b else _nd(p)
        if k > nd:
            nd = k
    return [_lift(p, nd - (p.ndim - 1)) if b else p for p, b in unw]


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


def _ufunc_at(ufunc, level, a, indices, b=None):
    p, batched = _un(a, level)
    if not batched:
        raise _unsupported(f"{ufunc.__name__}.at into an unbatched array")
    pidx, perm = _physical_index(a, indices, level)
    args = (p, pidx) if b is None else (p, pidx, _align_value(b, level,
                                                               _indexed_ndim(p, pidx) - 1, perm))
    ufunc.at(*args)


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


def _cumsum(level, a, axis=None, dtype=None, out=None):
    p, _ = _un(a, level)
    if axis is None:
        return _wrap(np.cumsum(np.reshape(p, (p.shape[0], -1)), axis=1, dtype=dtype), level)
    return _wrap(np.cumsum(p, axis=_shift_axes(axis, p.ndim - 1), dtype=dtype), level)


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
# indexing


def _is_array_index(i) -> bool:
    return type(i) is BatchedArray or isinstance(i, (np.ndarray, list))


def _physical_index(a, index, level):
    """The physical index for ``a[index]`` (``a`` batched at ``level``), and the permutation
    that puts the result's dims in the order ``(batch, per-sample dims...)`` (None when they
    already are): NumPy moves advanced-index dims to the front in some cases."""
    nd = a.ndim
    idx = index if isinstance(index, tuple) else (index,)
    # bool masks (unbatched) become integer arrays; lists become arrays
    expanded = []
    for i in idx:
        if type(i) is BatchedArray:
            if i._level == level and i.dtype == np.bool_:
                raise _data_dependent("index with a batched boolean mask")
            expanded.append(i)
        elif isinstance(i, list):
            i = np.asarray(i)
            expanded.extend(np.nonzero(i) if i.dtype == np.bool_ else (i,))
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            expanded.extend(np.nonzero(i))
        else:
            expanded.append(i)
    idx = expanded
    consumed = sum(0 if (i is None or i is Ellipsis) else 1 for i in idx)
    if any(i is Ellipsis for i in idx):
        k = next(j for j, i in enumerate(idx) if i is Ellipsis)
        idx = idx[:k] + [slice(None)] * (nd - consumed) + idx[k + 1:]
    arrays = [j for j, i in enumerate(idx) if _is_array_index(i)]
    if not arrays:
        return (slice(None),) + tuple(idx), None
    adv = [j for j, i in enumerate(idx) if _is_array_index(i) or isinstance(i, (int, np.integer))]
    contiguous = adv == list(range(adv[0], adv[0] + len(adv)))
    nb = len(np.broadcast_shapes(*[tuple(idx[j].shape) if hasattr(idx[j], "shape")
                                   else np.shape(idx[j]) for j in arrays]))
    # result dims (per sample) that come from the index entries before the advanced block
    before = sum(1 for i in idx[:adv[0]] if i is None or isinstance(i, slice))
    batched = [j for j in arrays if _un(idx[j], level)[1]]
    if not batched:
        pidx = (slice(None),) + tuple(idx)
        if contiguous:
            return pidx, None
        # NumPy put the advanced dims first: (bcast..., batch, rest...)
        total = _indexed_ndim(a._a, pidx)
        return pidx, (nb,) + tuple(range(nb)) + tuple(range(nb + 1, total))
    size = _batch_size(level, [idx[j] for j in batched])
    new = list(idx)
    for j in batched:
        p = idx[j]._a
        new[j] = _lift(p, nb - (p.ndim - 1))
    barange = np.arange(size).reshape((size,) + (1,) * nb)
    pidx = (barange,) + tuple(new)
    if not contiguous or before == 0:
        return pidx, None  # (batch, bcast..., rest...) is the per-sample order already
    # per sample the advanced dims sit after ``before`` sliced dims: move them there
    total = _indexed_ndim(a._a, pidx)
    perm = ((0,) + tuple(range(1 + nb, 1 + nb + before)) + tuple(range(1, 1 + nb))
            + tuple(range(1 + nb + before, total)))
    return pidx, perm


def _indexed_ndim(p, pidx) -> int:
    """The rank of ``p[pidx]`` without computing it."""
    arrays = [i for i in pidx if not (i is None or isinstance(i, (slice, int, np.integer)))]
    n_none = sum(1 for i in pidx if i is None)
    n_slice = sum(1 for i in pidx if isinstance(i, slice))
    rest = p.ndim - sum(1 for i in pidx if i is not None)  # dims the index does not reach
    n_adv = len(np.broadcast_shapes(*[np.shape(i) for i in arrays])) if arrays else 0
    return n_adv + n_slice + n_none + rest  # integers drop their dim


def _align_value(value, level, target_nd: int, perm):
    """A value to assign into a batched target region of logical rank ``target_nd``, laid out
    like the physical region (``perm`` from ``_physical_index``)."""
    p, b = _un(value, level)
    if not b:
        if perm is None or _nd(p) == 0:
            return p
        # unbatched value: broadcast to the logical region, then to the physical order
        p = np.expand_dims(np.asarray(p) if not hasattr(p, "shape") else p, 0)
        p = _lift(p, target_nd - (p.ndim - 1))
        return np.transpose(p, tuple(np.argsort(perm)))
    p = _lift(p, target_nd - (p.ndim - 1))
    if perm is not None:
        p = np.transpose(p, tuple(np.argsort(perm)))
    return p


# ------------------------------------------------------------------------------------------
# the rule table: NumPy function -> batching rule ``rule(level, *args, **kwargs)``

_RULES: dict = {
    np.where: _where,
    np.clip: _clip,
    np.round: _round,
    np.around: _round,
    np.isclose: _isclose,
    np.cumsum: _cumsum,
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
}
for _f in (np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.var, np.std, np.any,
           np.all, np.nansum, np.nanmax, np.nanmin):
    _RULES[_f] = _reduction(_f)
del _f


# ------------------------------------------------------------------------------------------
# entering and leaving a vmap level: two differentiable ops (not in REGISTRY: they take a
# level, which only means something inside a vmap call)


def _wrap_at(x, level, dim):
    """``x`` (logical view) with its dim ``dim`` made the batch dim of ``level``. Keeps the
    nesting order of Note [levels]: wrappers of higher levels stay outside."""
    if type(x) is BatchedArray and x._level > level:
        return BatchedArray(_wrap_at(x._a, level, dim + 1), x._level)
    return BatchedArray(np.moveaxis(x, dim, 0) if dim else x, level)


def _unwrap_at(x, level, dim, size):
    """``x`` without the batch of ``level``, its samples stacked along (logical) dim ``dim``;
    a value not batched at ``level`` is the same for every sample and is expanded."""
    if type(x) is BatchedArray:
        if x._level > level:
            return BatchedArray(_unwrap_at(x._a, level, dim + 1, size), x._level)
        if x._level == level:
            return np.moveaxis(x._a, 0, dim) if dim else x._a
    x = np.asarray(x) if not hasattr(x, "shape") else x
    x = np.expand_dims(x, dim)
    shape = list(x.shape)
    shape[dim] = size
    return np.broadcast_to(x, tuple(shape)).copy()


def _add_fwd(xp, x, level, dim, size):
    return _wrap_at(x, level, dim)


def _remove_fwd(xp, x, level, dim, size):
    return _unwrap_at(x, level, dim, size)


def _add_vjp(xp, g, out, x, level, dim, size):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return apply1(REMOVE_BATCH_DIM, g, {"level": level, "dim": dim, "size": size})
    return _unwrap_at(g, level, dim, size)


def _add_jvp(xp, t, out, x, level, dim, size):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return apply1(ADD_BATCH_DIM, t, {"level": level, "dim": dim, "size": size})
    return _wrap_at(t, level, dim)


def _levels_of(x) -> list:
    out = []
    while type(x) is BatchedArray:
        out.append(x._level)
        x = x._a
    return out


def sum_finished(g, like):
    """``g`` summed over the batch of every vmap level that has returned and that ``like`` (the
    array of the tensor the gradient is for) does not have.

    A tensor from outside a vmap call (a closure, or an input with ``in_dims=None``) is shared
    by all samples, so the gradient it gets from a backward pass run *after* the call is the sum
    over the samples (``grad(vmap(f))``). While the call runs, the batch is kept: that is
    ``vmap(grad(f))``, per-sample gradients.

    Example:
        >>> import numpy as np
        >>> from gradwalk.ops.batching import BatchedArray, sum_finished, new_level
        >>> sum_finished(BatchedArray(np.ones((4, 2)), new_level()), np.zeros(2))
        array([4., 4.])
    """
    mine = set(_levels_of(like))
    for lv in _levels_of(g):
        if lv not in mine and lv not in _active:
            g = _unwrap_at(g, lv, 0, 0).sum(axis=0)
    return g


def _sum_finished_filter(g, tensor, create_graph):
    """The engine listener's ``filter_grad`` (Note [listeners] in ``autograd/engine.py``)."""
    if create_graph:
        if type(g.data) is not BatchedArray:
            return g
        mine = set(_levels_of(tensor.data))
        for lv in _levels_of(g.data):
            if lv not in mine and lv not in _active:
                g = apply1(REMOVE_BATCH_DIM, g, {"level": lv, "dim": 0, "size": 0}).sum(0)
        return g
    if type(g) is not BatchedArray:
        return g
    return sum_finished(g, tensor.data)


class _SumFinished:
    """The engine listener that sums gradients over the batch of finished vmap calls."""

    filter_grad = staticmethod(_sum_finished_filter)


_SUM_FINISHED = _SumFinished()

ADD_BATCH_DIM = Op("add_batch_dim", _add_fwd, _add_vjp, _add_jvp, inputs=("self",), saves=(),
                   save_out=False, node_name="AddBatchDimBackward0", elementwise=False)
REMOVE_BATCH_DIM = Op("remove_batch_dim", _remove_fwd, _add_jvp, _add_vjp, inputs=("self",),
                      saves=(), save_out=False, node_name="RemoveBatchDimBackward0",
                      elementwise=False)


def add_batch_dim(t, level: int, dim: int, size: int):
    """The batched tensor (level ``level``) whose samples are ``t``'s slices along ``dim``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops.batching import add_batch_dim, new_level
        >>> add_batch_dim(gradwalk.zeros(5, 3), new_level(), 0, 5).shape
        (3,)
    """
    return apply1(ADD_BATCH_DIM, t, {"level": level, "dim": dim, "size": size})


def remove_batch_dim(t, level: int, dim: int, size: int):
    """The plain tensor holding ``t``'s samples (of level ``level``) stacked along ``dim``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops.batching import add_batch_dim, remove_batch_dim, new_level
        >>> lv = new_level()
        >>> remove_batch_dim(add_batch_dim(gradwalk.zeros(5, 3), lv, 1, 3), lv, 0, 3).shape
        (3, 5)
    """
    return apply1(REMOVE_BATCH_DIM, t, {"level": level, "dim": dim, "size": size})
