"""Indexing: ``x[index]``, ``x[index] = v``, gather/scatter, index_select, masked_fill; and the
in-place machinery (``apply_inplace``) that all ``op_`` methods use."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.node import MultiNode, copy_edge, output_nr
from ..dtypes import from_numpy_dtype
from . import arrays as _arrays
from . import elementwise as E
from . import inplace_views
from . import kernels as K
from . import registry as _registry
from .registry import apply, apply1, declare
from .shape import _view

# --------------------------------------------------------------------------------------------
# x[index]


def _getitem_vjp(xp, g, out, x, index, shape):
    return K.index_add_into(xp, shape, index, g)


def _getitem_jvp(xp, t, out, x, index, shape):
    return t[index]


def _getitem_fwd(xp, x, index, shape):
    return x[index]


SELECT = declare("select", _getitem_fwd, _getitem_vjp, _getitem_jvp, saves=(),
                 explain="grad placed at the selected index, 0 elsewhere")
SLICE = declare("slice", _getitem_fwd, _getitem_vjp, _getitem_jvp, saves=(),
                explain="grad placed in the slice, 0 elsewhere")
INDEX = declare("index", _getitem_fwd, _getitem_vjp, _getitem_jvp, saves=(),
                explain="grad added at the indexed positions, 0 elsewhere")


def _index_put_fwd(xp, x, value, index):
    if getattr(value, "_gw_batched", False) and not getattr(x, "_gw_batched", False):
        out = K._zeros(xp, x.shape, x.dtype, value) + x  # vmap: a copy of x per sample
    else:
        out = x.copy()
    out[index] = value
    return out


def _index_put_vjp(xp, g, out, x, value, index, *, needs):
    gx = None
    if needs[0]:
        mask = np.ones(g.shape, dtype=bool)
        mask[index] = False
        gx = xp.where(mask, g, 0.0)  # a select: an overwritten NaN or inf gradient gives 0
    gv = g[index] if needs[1] else None
    return gx, gv


def _index_put_jvp(xp, t, out, x, value, index):
    tx, tv = t
    base = tx if tx is not None else None
    if base is None:
        base = xp.zeros_like(out)
    return K.index_put(xp, base, index, 0.0 if tv is None else tv)


INDEX_PUT = declare("index_put", _index_put_fwd, _index_put_vjp, _index_put_jvp,
                    inputs=("self", "values"), saves=(), node_name="IndexPutBackward0")


def _is_seq_index(i) -> bool:
    """Whether a list element makes the list a tuple of indices (PyTorch's rule for
    ``x[[0, [1, 2]]]``: a sequence holding sequences, slices, None, Ellipsis or tensors)."""
    return isinstance(i, (list, tuple, range, slice, _registry.Tensor, np.ndarray)) or (
        i is None or i is Ellipsis)


def _as_index_array(i, op="index"):
    a = np.asarray(list(i) if isinstance(i, range) else i)
    if a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)  # an empty list selects nothing
    if a.dtype.kind not in "iub":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors, got "
                         f"{a.dtype}")
    return a


def _normalize_index(x, index):
    """Turn a user index into one NumPy understands, with PyTorch's checks, errors and placement
    of the advanced dims (Note [advanced index placement])."""
    if isinstance(index, list) and any(_is_seq_index(i) for i in index):
        index = tuple(index)  # PyTorch reads such a list as a tuple of indices
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    advanced = False
    for i in index:
        if isinstance(i, _registry.Tensor):
            a = i._data
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 f"tensors, got {i.dtype}")
            batched = hasattr(a, "_gw_batched")  # vmap: a different index per sample
            if a.dtype.kind == "b":
                if a.ndim == 0 and not batched:
                    out.append(bool(a))
                    advanced = True
                    continue
                out.append(a)
            else:
                out.append(a.astype(np.int64, copy=False) if a.ndim or batched else int(a))
                if a.ndim == 0 and not batched:
                    continue
            advanced = True
        elif isinstance(i, (list, tuple, range, np.ndarray)):
            out.append(_as_index_array(i))
            advanced = True
        elif isinstance(i, (bool, np.bool_)):
            out.append(bool(i))
            advanced = True
        elif isinstance(i, (int, np.integer)) or i is None or i is Ellipsis or isinstance(
                i, slice):
            out.append(i)
        else:
            raise TypeError(f"index of type {type(i).__name__} is not supported; use ints, "
                            "slices, None, Ellipsis, lists or integer/bool tensors")
    _check_bounds(x.shape, out)
    if not advanced:
        if Ellipsis not in out:
            out.append(Ellipsis)  # keeps integer indexing a view (a 0-d array, not a scalar)
        return tuple(out), False
    if x.ndim == 0 or _numpy_places_as_torch(out):
        return tuple(out), True
    return _torch_coords(x.shape, *_two_steps(x.ndim, out)), True


# Note [advanced index placement]
#     PyTorch applies the integers of an index first (``select``, which drops the dim) and
#     only then the tensors (advanced indices): their broadcast dims go where the first tensor
#     was when the tensors are adjacent, else in front. NumPy counts integers as advanced
#     indices, so ``x[1, :, idx]`` has ``idx``'s dims in front in NumPy and after the slice in
#     PyTorch. A Python bool is a new dim indexed by ``[0]`` (True) or ``[]`` (False).
#     When the two placements agree (``_numpy_places_as_torch``) the index goes to NumPy as
#     it is; otherwise ``_two_steps`` splits it into PyTorch's two steps (the basic index,
#     then the advanced one on its result) and ``_torch_coords`` turns them into one index
#     of coordinate arrays, one per dim of ``x``, of the result's shape: a single NumPy index
#     that reads, writes and backpropagates with PyTorch's layout.


def _is_array(i) -> bool:
    return isinstance(i, np.ndarray) or hasattr(i, "_gw_batched")


def _numpy_places_as_torch(items) -> bool:
    """Whether NumPy puts the advanced dims of ``items`` where PyTorch does."""
    n_bool = sum(isinstance(i, bool) for i in items)
    if n_bool:  # one bool alone among basic indices: NumPy's new dim of size 1 (or 0) too
        return n_bool == 1 and not any(
            _is_array(i) or isinstance(i, (int, np.integer)) and not isinstance(i, bool)
            for i in items)
    kinds = ["a" if _is_array(i) else "i" if isinstance(i, (int, np.integer)) else "b"
             for i in items]
    if "i" not in kinds:
        return True
    np_run = [k != "b" for k in kinds]
    first = np_run.index(True)
    last = len(np_run) - 1 - np_run[::-1].index(True)
    if all(np_run[first:last + 1]):
        return True  # one run of advanced indices: NumPy keeps it in place, as PyTorch does
    torch_kinds = [k for k in kinds if k != "i"]
    first = torch_kinds.index("a")
    last = len(torch_kinds) - 1 - torch_kinds[::-1].index("a")
    if not all(k == "a" for k in torch_kinds[first:last + 1]):
        return True  # not adjacent in either: both put the advanced dims in front
    return first == 0  # adjacent for PyTorch only: the same only when they lead


def _two_steps(ndim, items):
    """PyTorch's basic index (ints, slices, None) and the advanced index on its result."""
    n_real = _count_real(items)
    basic, adv = [], []
    for i in items:
        if i is Ellipsis:
            basic += [slice(None)] * (ndim - n_real)
            adv += [slice(None)] * (ndim - n_real)
        elif isinstance(i, bool):
            basic.append(None)
            adv.append(np.zeros(int(i), dtype=np.int64))
        elif isinstance(i, (int, np.integer)):
            basic.append(i)
        elif i is None or isinstance(i, slice):
            basic.append(i)
            adv.append(slice(None))
        else:
            k = i.ndim if i.dtype.kind == "b" else 1
            basic += [slice(None)] * k
            adv.append(i)
    return tuple(basic) + (Ellipsis,), tuple(adv)


def _torch_coords(shape, basic, adv):
    """One coordinate array per dim of ``shape``: where each element of ``x[basic][adv]``
    comes from (Note [advanced index placement])."""
    nd = len(shape)
    coords = []
    for d, n in enumerate(shape):
        grid = np.broadcast_to(np.arange(n).reshape((n,) + (1,) * (nd - d - 1)), shape)
        coords.append(np.ascontiguousarray(grid[basic][adv]))
    return tuple(coords)


def _check_bounds(shape, index) -> None:
    dim = 0
    n_real = _count_real(index)
    if n_real > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    for k, i in enumerate(index):
        if i is Ellipsis:
            dim = len(shape) - (n_real - _count_real(index[:k]))
            continue
        if i is None or isinstance(i, bool):
            continue
        if isinstance(i, (int, np.integer)):
            n = shape[dim]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {n}")
            dim += 1
        elif isinstance(i, np.ndarray):
            if i.dtype.kind == "b":
                if i.shape != tuple(shape[dim:dim + i.ndim]):
                    raise IndexError(
                        f"The shape of the mask {list(i.shape)} at index {k} does not match the "
                        f"shape of the indexed tensor {list(shape[dim:dim + i.ndim])}")
                dim += i.ndim
            else:
                n = shape[dim]
                if i.size and (i.max() >= n or i.min() < -n):
                    bad = int(i.max()) if i.max() >= n else int(i.min())
                    raise IndexError(
                        f"index {bad} is out of bounds for dimension {dim} with size {n}")
                dim += 1
        else:
            dim += 1


def _count_real(index) -> int:
    n = 0
    for i in index:
        if i is None or i is Ellipsis or isinstance(i, bool):
            continue
        n += i.ndim if isinstance(i, np.ndarray) and i.dtype.kind == "b" else 1
    return n


def getitem(x, index):
    """``x[index]``: ints, slices, None, Ellipsis, integer and bool tensors; basic indexing gives
    a view. Duplicate advanced indices accumulate their gradients.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(6.0).reshape(2, 3)
        >>> x[1, 1:], x[:, [0, 0]]
        (tensor([4., 5.]), tensor([[0., 0.],
                [3., 3.]]))
    """
    idx, advanced = _normalize_index(x, index)
    if advanced:
        op = INDEX
    elif any(isinstance(i, (int, np.integer)) for i in idx):
        op = SELECT
    else:
        op = SLICE
    params = {"index": idx, "shape": x.shape}
    if advanced:
        return apply1(op, x, params)
    return _view(op, x, params)


def index_put(x, index, value):
    """Out-of-place ``x[index] = value`` (``__setitem__`` applies it in place)."""
    idx, _ = _normalize_index(x, index)
    if not isinstance(value, _registry.Tensor):
        value = _registry.wrap(np.asarray(value, dtype=x._data.dtype))
    elif value._data.dtype != x._data.dtype:
        value = value.to(x._data.dtype)
    target = np.empty(x.shape, dtype=bool)[idx].shape
    try:
        np.broadcast_to(np.empty(value.shape), target)
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
            f"indexing result of shape {list(target)}") from None
    return apply(INDEX_PUT, x, value, params={"index": idx})


def setitem(x, index, value) -> None:
    """``x[index] = value``, in place and versioned."""
    apply_inplace(x, index_put, index, value)


# --------------------------------------------------------------------------------------------
# the in-place machinery


def apply_inplace(self, fn, *args, **kwargs):
    """Run ``fn(self, *args)`` and write the result into ``self``'s memory.

    The tensor then stands for the new value: its ``grad_fn`` becomes the op's node, and its
    version counter (shared with its views) goes up by one, so saved copies of the old value are
    known to be stale. A leaf that requires grad may only be changed under ``no_grad``.
    """
    if _registry._trace is not None:  # inside a compiled region (compiler/trace.py)
        return _registry._trace.inplace(apply_inplace, self, fn, args, kwargs)
    dual = inplace_views.dual_hooks  # forward AD's, while a dual level is active
    if (dual is None and (not kwargs or list(kwargs) == ["alpha"]) and len(args) == 1 and not (
            is_grad_enabled() and (self._requires_grad or (isinstance(args[0], _registry.Tensor)
                                                           and args[0]._requires_grad)))
            and inplace_views.inplace_ufunc(self, fn, args[0], kwargs.get("alpha", 1), E)):
        return self  # no graph to record: written straight into self's memory
    flags = getattr(self._data, "flags", None)
    if flags is not None and not flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            f"single memory location (an expanded or broadcast view of shape {list(self.shape)})"
            ". Please clone() the tensor before performing the operation.")
    recording = is_grad_enabled()
    if recording and isinstance(self.grad_fn, MultiNode):
        _check_multi_output(self)
    if recording and self._requires_grad and self.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Wrap the "
            "update in `with gradwalk.no_grad():` (as optimizers do), or work on a copy: "
            "x = x.clone().")
    base = self._extra.base if self._extra is not None else None
    if recording and base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Wrap it in `with gradwalk.no_grad():` or clone the leaf first.")
    needs_graph = recording and (self._requires_grad or any(
        isinstance(a, _registry.Tensor) and a._requires_grad for a in args))
    if needs_graph:
        old = _registry._make(self._data.copy(), self.grad_fn)
        old._requires_grad = self._requires_grad
        copy_edge(self, old)
        if self.grad_fn is None and self._requires_grad:
            old = self  # unreachable: leaves are refused above
    else:
        old = _registry.wrap(self._data)
    token = None if dual is None else dual[0](self, base, old)  # old carries self's tangent
    if needs_graph:
        res = fn(old, *args, **kwargs)
    else:
        with no_grad():
            res = fn(old, *args, **kwargs)
    _check_cast(res, self, fn)
    if res._data is not self._data:
        if self._data.ndim == 0 and res._data.ndim == 0:
            self._data[...] = res._data
        else:
            self._data[...] = res._data
    self._vc[0] += 1
    if needs_graph:
        node = res.grad_fn
        old_fn = self.grad_fn
        self.grad_fn = node
        self._requires_grad = True
        if node is not None and node.out_vc is not None:
            node.out_vc = self._vc
            node.out_ver = self._vc[0]
        if old_fn is not None and old_fn.retains is not None and node is not None:
            node.retains = old_fn.retains  # retain_grad follows the tensor to its new value
            old_fn.retains = None
        if base is not None and base is not self:
            _rebase_view(self, base, node)
        inplace_views.refresh_views(base if base is not None else self, self)
    if token is not None:
        dual[1](token, self, base, res)  # the new tangent of self (and of its base)
    return self


def _check_multi_output(t) -> None:
    """PyTorch's refusal to change a piece of ``unbind``/``split``/``chunk`` in place (Note
    [multi-output views] in ops/shape.py)."""
    node = t.grad_fn
    if node.views:
        raise RuntimeError(
            f"Output {output_nr(t)} of {node.name()} is a view and is being modified inplace. "
            "This view is the output of a function that returns multiple views. Such functions "
            "do not allow the output views to be modified inplace. You should replace the "
            "inplace operation by an out-of-place one (e.g. x = x * 2), or clone() the piece.")


def _rebase_view(view, base, node) -> None:
    """An in-place op through a view changes the base too; its gradient flows through the view's
    new node. (Full view/base rebasing is part of the in-place work in gradwalk.autograd.)"""
    inplace_views.rebase(view, base, node)


def _check_cast(res, self, fn) -> None:
    a, b = res._data.dtype, self._data.dtype
    if a != b and not np.can_cast(a, b, casting="same_kind"):
        raise RuntimeError(
            f"result type {from_numpy_dtype(a).name.capitalize()} can't be cast to the desired "
            f"output type {from_numpy_dtype(b).name.capitalize()} in in-place "
            f"{getattr(fn, '__name__', 'op')}; convert the tensor first, e.g. x = x.float()")
    if res._data.shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(res._data.shape)} in in-place {getattr(fn, '__name__', 'op')}")



# --------------------------------------------------------------------------------------------
# gather / scatter / index_select / masked_fill


def _gather_vjp(xp, g, out, x, index, axis, shape):
    return K.scatter_add_into(xp, shape, axis, index, g)


GATHER = declare("gather", lambda xp, x, index, axis, shape: xp.take_along_axis(x, index, axis),
                 _gather_vjp,
                 lambda xp, t, out, x, index, axis, shape: K.take_along(xp, t, index, axis),
                 saves=(),
                 explain="grad scattered back to the gathered positions")


def _scatter_add_fwd(xp, x, src, index, axis):
    out = x.copy()
    K.np_scatter_add(xp, out, axis, index, src)
    return out


def _scatter_add_vjp(xp, g, out, x, src, index, axis, *, needs):
    return (g if needs[0] else None, g[_coords(index, axis)] if needs[1] else None)


def _scatter_add_jvp(xp, t, out, x, src, index, axis):
    tx, ts = t
    r = tx
    if ts is not None:
        add = K.scatter_add_into(xp, tuple(out.shape), axis, index, ts)
        r = add if r is None else r + add
    return r


SCATTER_ADD = declare("scatter_add", _scatter_add_fwd, _scatter_add_vjp, _scatter_add_jvp,
                      inputs=("self", "src"), saves=())


def _coords(index, axis):
    """The positions ``scatter``/``gather`` touch, one array per dim: ``index`` along ``axis``,
    the index's own position along the others (never broadcast against the input, which may
    be larger than the index)."""
    idx = list(np.indices(index.shape, sparse=True))
    idx[axis] = index
    return tuple(idx)


def _scatter_fwd(xp, x, src, index, axis):
    out = x.copy()
    out[_coords(index, axis)] = src
    return out


def _scatter_vjp(xp, g, out, x, src, index, axis, *, needs):
    mask = np.ones(tuple(g.shape), dtype=bool)
    where = _coords(index, axis)
    mask[where] = False
    gx = xp.where(mask, g, 0.0) if needs[0] else None  # a select, not a product (NaN-safe)
    gs = g[where] if needs[1] else None
    return gx, gs


def _scatter_jvp(xp, t, out, x, src, index, axis):
    tx, ts = t
    mask = np.ones(tuple(out.shape), dtype=bool)
    where = _coords(index, axis)
    mask[where] = False
    r = None if tx is None else tx * mask
    if ts is not None:
        put = K.index_put(xp, K._zeros(xp, tuple(out.shape), ts.dtype, ts) if not K.is_dxp(xp)
                          else _registry.wrap(np.zeros(tuple(out.shape), ts._data.dtype)),
                          where, ts)
        r = put if r is None else r + put
    return r


SCATTER = declare("scatter", _scatter_fwd, _scatter_vjp, _scatter_jvp, inputs=("self", "src"),
                  saves=())


def _index_select_fwd(xp, x, index, axis, shape):
    return xp.take(x, index, axis=axis)


def _index_select_vjp(xp, g, out, x, index, axis, shape):
    full = (slice(None),) * axis + (index,)
    return K.index_add_into(xp, shape, full, g)


INDEX_SELECT = declare("index_select", _index_select_fwd, _index_select_vjp,
                       lambda xp, t, out, x, index, axis, shape: t[(slice(None),) * axis
                                                                   + (index,)],
                       saves=(),
                       explain="grad added back at the selected indices")


def _masked_fill_fwd(xp, x, value, mask):
    return xp.where(mask, value, x)


def _masked_fill_vjp(xp, g, out, x, value, mask, *, needs):
    gx = K.where_grad(xp, mask, g, False) if needs[0] else None
    gv = xp.sum(K.where_grad(xp, mask, g, True)) if needs[1] else None
    return gx, gv


MASKED_FILL = declare(
    "masked_fill", _masked_fill_fwd, _masked_fill_vjp,
    lambda xp, t, out, x, value, mask: xp.where(mask, 0.0 if t[1] is None else t[1],
                                                0.0 if t[0] is None else t[0]),
    inputs=("self", "value"), saves=(),
                      explain=("grad where not mask, else 0", "sum of grad where mask"))


def _index_add_fwd(xp, x, src, index, axis, alpha):
    out = x.copy()
    xp.add.at(out, (slice(None),) * axis + (index,), src * alpha)
    return out


def _index_add_vjp(xp, g, out, x, src, index, axis, alpha, *, needs):
    gs = g[(slice(None),) * axis + (index,)] * alpha if needs[1] else None
    return (g if needs[0] else None), gs


INDEX_ADD = declare("index_add", _index_add_fwd, _index_add_vjp,
                    lambda xp, t, out, x, src, index, axis, alpha: _index_add_jvp(
                        xp, t, out, index, axis, alpha),
                    inputs=("self", "source"), saves=())


def _index_add_jvp(xp, t, out, index, axis, alpha):
    tx, ts = t
    r = tx
    if ts is not None:
        add = K.index_add_into(xp, tuple(out.shape), (slice(None),) * axis + (index,),
                               ts * alpha)
        r = add if r is None else r + add
    return r


def _index_tensor(index, op, ndim_expected=None):
    if isinstance(index, _registry.Tensor):
        a = index._data
    else:
        a = np.asarray(index)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {a.dtype}")
    return a.astype(np.int64, copy=False)


def _dim(x, dim, op):
    return _arrays.wrap_dim(dim, max(x.ndim, 1), op)


def _check_gather_index(x, index, axis, op, src=None):
    if index.ndim != max(x.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input "
                           f"tensor ({op}: index has {index.ndim}, input has {x.ndim})")
    n = x.shape[axis] if x.ndim else 1
    if index.size and (index.max() >= n or index.min() < -n):
        bad = int(index.max()) if index.max() >= n else int(index.min())
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {axis} with "
                           f"size {n}")
    for k in range(index.ndim):
        if k != axis and index.shape[k] > x.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(index.shape)} to be "
                f"smaller than self {list(x.shape)} apart from dimension {axis}")
    if src is not None:
        for k in range(index.ndim):
            if index.shape[k] > src.shape[k]:
                raise RuntimeError(
                    f"Size does not match at dimension {k} expected index {list(index.shape)} "
                    f"to be smaller than src {list(src.shape)}")


def gather(input, dim, index):
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[i][index[i][j]]``
    for dim 1.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> gradwalk.gather(x, 1, gradwalk.tensor([[1], [0]]))
        tensor([[2.],
                [3.]])
    """
    axis = _dim(input, dim, "gather")
    idx = _index_tensor(index, "gather")
    if idx.size == 0:  # PyTorch checks nothing more and returns the index's (empty) shape
        return input.reshape(-1)[:0].reshape(idx.shape)
    if input.ndim == 0:
        if idx.ndim > 1:
            _check_gather_index(input, idx, axis, "gather")
        return gather(input.reshape(1), 0, idx.reshape(-1)).reshape(idx.shape)
    _check_gather_index(input, idx, axis, "gather")
    if any(n != m for k, (n, m) in enumerate(zip(idx.shape, input.shape)) if k != axis):
        # PyTorch reads only the leading part of the other dims; take_along_axis would broadcast
        input = input[tuple(slice(0, n) if k != axis else slice(None)
                            for k, n in enumerate(idx.shape))]
    return apply1(GATHER, input, {"index": idx, "axis": axis, "shape": input.shape})


def scatter_add(input, dim, index, src):
    """Add ``src`` into a copy of ``input`` at ``index`` along ``dim`` (duplicates accumulate).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(3).scatter_add(0, gradwalk.tensor([0, 0, 2]), gradwalk.ones(3))
        tensor([2., 0., 1.])
    """
    axis = _dim(input, dim, "scatter_add")
    idx = _index_tensor(index, "scatter_add")
    if not isinstance(src, _registry.Tensor):
        src = _registry.wrap(np.asarray(src, dtype=input._data.dtype))
    if input.ndim == 0:
        return scatter_add(input.reshape(1), 0, idx.reshape(-1), src.reshape(-1)).reshape(())
    _check_gather_index(input, idx, axis, "scatter_add", src)
    if src.shape != idx.shape:
        src = src[tuple(slice(0, n) for n in idx.shape)]
    return apply(SCATTER_ADD, input, src, params={"index": idx, "axis": axis})


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """Write ``src`` (or a scalar ``value``) into a copy of ``input`` at ``index`` along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(3).scatter(0, gradwalk.tensor([2]), gradwalk.tensor([5.0]))
        tensor([0., 0., 5.])
    """
    if reduce is not None:  # add/multiply: gradwalk.ops.scatter (no gradient, as in PyTorch)
        return _scatter_reduced(input, dim, index, src, value, reduce=reduce)
    axis = _dim(input, dim, "scatter")
    idx = _index_tensor(index, "scatter")
    if src is None:
        src = value
    if not isinstance(src, _registry.Tensor):
        src = _registry.wrap(np.full(idx.shape, src, dtype=input._data.dtype))
    if input.ndim == 0:
        return scatter(input.reshape(1), 0, idx.reshape(-1), src.reshape(-1)).reshape(())
    _check_gather_index(input, idx, axis, "scatter", src)
    if src.shape != idx.shape:
        src = src[tuple(slice(0, n) for n in idx.shape)]
    return apply(SCATTER, input, src, params={"index": idx, "axis": axis})


def _check_vector_index(input, idx, axis, op) -> None:
    """A 1-D index within the size of ``input`` along ``axis`` (PyTorch's IndexError if not)."""
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    n = input.shape[axis] if input.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexError(f"index out of range in self: index {bad} for dimension {axis} with "
                         f"size {n} in {op}()")


def index_select(input, dim, index):
    """The slices of ``input`` at ``index`` (1-D) along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.index_select(gradwalk.tensor([[1, 2], [3, 4]]), 0, gradwalk.tensor([1, 1]))
        tensor([[3, 4],
                [3, 4]])
    """
    axis = _dim(input, dim, "index_select")
    idx = _index_tensor(index, "index_select")
    _check_vector_index(input, idx, axis, "index_select")
    if input.ndim == 0:  # PyTorch keeps the 0-d shape
        return index_select(input.reshape(1), 0, idx).reshape(())
    return apply1(INDEX_SELECT, input, {"index": idx.reshape(-1), "axis": axis,
                                        "shape": input.shape})


def index_add(input, dim, index, source, *, alpha=1):
    """Add ``alpha * source`` into a copy of ``input`` at ``index`` along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(3).index_add(0, gradwalk.tensor([0, 0]), gradwalk.ones(2))
        tensor([2., 0., 0.])
    """
    axis = _dim(input, dim, "index_add")
    idx = _index_tensor(index, "index_add")
    _check_vector_index(input, idx, axis, "index_add")
    if input.ndim == 0:
        source = source.reshape(-1) if isinstance(source, _registry.Tensor) else source
        return index_add(input.reshape(1), 0, idx.reshape(-1), source, alpha=alpha).reshape(())
    m = source.shape[axis] if getattr(source, "ndim", 0) else 1
    if idx.size != m:
        raise RuntimeError(f"index_add(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({m}), for dim: {axis}")
    return apply(INDEX_ADD, input, source, params={"index": idx, "axis": axis, "alpha": alpha})


def masked_fill(input, mask, value):
    """``value`` where ``mask`` (a bool tensor that broadcasts) is True.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0, 2.0])
        >>> gradwalk.masked_fill(x, x > 1, 0.0)
        tensor([1., 0.])
    """
    m = mask._data if isinstance(mask, _registry.Tensor) else np.asarray(mask)
    if m.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill(): the shape of the mask {list(m.shape)} must broadcast to the shape of "
            f"the tensor {list(input.shape)}") from None
    if shape != tuple(input.shape):  # out of place, PyTorch broadcasts the input to the mask
        input = input.expand(*shape)
    if isinstance(value, _registry.Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s).")
        if value._data.dtype != input._data.dtype:
            value = value.to(input._data.dtype)
    return apply(MASKED_FILL, input, value, params={"mask": m})


def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements, one row per element (no gradient).

    Example:
        >>> import gradwalk
        >>> gradwalk.nonzero(gradwalk.tensor([0.0, 1.0, 2.0]))
        tensor([[1],
                [2]])
    """
    a = input._data
    if a.ndim == 0:  # PyTorch reads a 0-d tensor as one element with no coordinates
        if as_tuple:
            return (_registry.wrap(np.zeros(int(bool(a)), dtype=np.int64)),)
        return _registry.wrap(np.zeros((int(bool(a)), 0), dtype=np.int64))
    idx = np.nonzero(a)
    if as_tuple:
        return tuple(_registry.wrap(i.astype(np.int64)) for i in idx)
    return _registry.wrap(np.stack(idx, axis=1).astype(np.int64))


def _scatter_reduced(input, dim, index, src, value, *, reduce):
    from .scatter import scatter_reduced  # ops/scatter.py is built on this module

    return scatter_reduced(input, dim, index, src, value, reduce=reduce)


def take_along_dim(input, indices, dim=None):
    """``gradwalk.take_along_dim`` (in ``ops/scatter.py``, built on this module)."""
    from .scatter import take_along_dim as f

    return f(input, indices, dim)
