"""``BatchedArray``: the array type that carries ``vmap``'s batch dim through every computation.

Note [batching at the array level]
    Every gradwalk op computes through an array namespace (``xp``, see Note [rules] in
    ``ops/registry.py``): forwards, reverse rules, forward rules and the engine's central
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
    same way. A Tensor whose ``_data`` is a ``BatchedArray`` is a batched tensor.

    The batching code sits in ``gradwalk.func``, above the ops: it reaches the layers below only
    through the registry's one hook, ``registry._Batched`` (the registry keeps results of this
    type as they are), set when this module loads. Three modules, by domain: this one (the type,
    its elementwise and indexing rules), ``_batching_rules`` (the ``_RULES`` table of NumPy
    functions: reductions, shape functions, products) and ``_levels`` (vmap levels and the two
    ops that enter and leave one).

A call the rules do not cover raises ``RuntimeError`` naming the NumPy function and, where it
happens inside an op, the op. Reading a batched value into Python (``item()``, ``bool()``, an
``if`` on a tensor, ``numpy()``) raises too: the value differs per sample.

Example:
    >>> import numpy as np
    >>> from gradwalk.func._batched_array import BatchedArray
    >>> a = BatchedArray(np.arange(6.0).reshape(2, 3), level=1)
    >>> a.shape, np.sum(a).shape, np.sum(a)._a
    ((3,), (), array([ 3., 12.]))
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..ops import registry as _registry
from ..ops.registry import Op

# NumPy function -> batching rule ``rule(level, *args, **kwargs)``; filled by ``_batching_rules``
# (which ``func._vmap`` imports), read by ``BatchedArray.__array_function__``.
_RULES: dict = {}


class BatchedArray(NDArrayOperatorsMixin):
    """A physical array whose dim 0 is the batch dim of vmap ``level``; shows the logical shape.

    Example:
        >>> import numpy as np
        >>> from gradwalk.func._batched_array import BatchedArray
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
    def T(self):  # NumPy's name
        return np.transpose(self)

    @property
    def mT(self):
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

    def clip(self, min=None, max=None, **kw):  # NumPy's names
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
                return _RULES[np.matmul](level, *inputs, **kwargs)
            return _elementwise(ufunc, level, inputs, kwargs)
        if method == "at":
            return _ufunc_at(ufunc, level, *inputs)
        if method == "reduce":
            a = inputs[0]
            axis = kwargs.pop("axis", 0)
            p, _ = _un(a, level)
            kwargs.pop("out", None)
            return _wrap(ufunc.reduce(p, axis=_shift_axes(axis, p.ndim - 1), **kwargs), level)
        if method == "accumulate":  # logaddexp.accumulate: logcumsumexp's forward
            p, _ = _un(inputs[0], level)
            axis = kwargs.pop("axis", 0)
            kwargs.pop("out", None)
            return _wrap(ufunc.accumulate(p, axis=_shift_axes(axis, p.ndim - 1), **kwargs),
                         level)
        raise _unsupported(f"{ufunc.__name__}.{method}")

    def __array_function__(self, func, types, args, kwargs):
        rule = _RULES.get(func)
        if rule is None:
            raise _unsupported(getattr(func, "__name__", str(func)))
        level = _max_level(args, tuple(kwargs.values()))
        return rule(level, *args, **kwargs)


_registry._Batched = BatchedArray  # the registry keeps batched results as they are (its hook)

# ------------------------------------------------------------------------------------------
# helpers


def is_batched(x) -> bool:
    """True for a ``BatchedArray`` (the ``_data`` of a tensor inside ``vmap``)."""
    return type(x) is BatchedArray


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
        "gradwalk.func._batching_rules, so this op cannot run on batched tensors. Call the "
        "function once per sample instead (a Python loop), or add a rule for it to _RULES.")


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


def _ufunc_at(ufunc, level, a, indices, b=None):
    p, batched = _un(a, level)
    if not batched:
        raise _unsupported(f"{ufunc.__name__}.at into an unbatched array")
    pidx, perm = _physical_index(a, indices, level)
    args = (p, pidx) if b is None else (p, pidx, _align_value(b, level,
                                                               _indexed_ndim(p, pidx) - 1, perm))
    ufunc.at(*args)


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


