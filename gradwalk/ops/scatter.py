"""Scatters and index writes: scatter_reduce (and scatter with ``reduce=``), index_copy,
index_fill, index_put, masked_select, masked_scatter, take, put, take_along_dim.

Each is written with the differentiable ops of ``indexing`` and ``reductions`` (index writes,
gathers, reductions over a dim), so its gradient, its forward-mode tangent and its double
backward come from theirs.

Note [scatter_reduce as a dense reduction]
    ``scatter_reduce`` lays the values that land on each output position out in one row of a
    dense ``(numel, 1 + most values on one position)`` tensor (the position's own value first
    when ``include_self``, then the scattered values, padded with the reduction's identity)
    and reduces the rows with ``sum``/``prod``/``amax``/``amin``. Positions that receive
    nothing keep their value. The rows' reductions carry PyTorch's gradients: ``prod`` handles
    zeros, ``amax``/``amin`` share the gradient evenly among ties (self and sources together),
    ``mean`` divides by the count.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from . import dxp
from . import indexing as _I
from . import registry as _registry
from .elementwise import where
from .indexing import _coords, _dim, _index_tensor, gather, scatter, scatter_add
from .shape import cat


def _as_tensor(v, like):
    if isinstance(v, _registry.Tensor):
        return v
    return _registry.wrap(np.asarray(v, dtype=like._data.dtype))


def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim``; the other dims broadcast (``dim=None``:
    along the flattened input).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[10.0, 30.0, 20.0], [60.0, 40.0, 50.0]])
        >>> gradwalk.take_along_dim(x, gradwalk.tensor([[0], [2]]), dim=1)
        tensor([[10.],
                [50.]])
    """
    idx = _index_tensor(indices, "take_along_dim")
    if dim is None:
        return gather(input.reshape(-1), 0, idx.reshape(-1))
    if idx.ndim != input.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but input has {input.ndim} dimensions and indices has {idx.ndim} "
            "dimensions")
    axis = _dim(input, dim, "take_along_dim")
    if input.ndim == 0:
        return gather(input, 0, idx)
    try:
        shape = np.broadcast_shapes(
            tuple(1 if k == axis else n for k, n in enumerate(input.shape)),
            tuple(1 if k == axis else n for k, n in enumerate(idx.shape)))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): the shapes of input {list(input.shape)} and indices "
            f"{list(idx.shape)} do not broadcast outside dim {axis}") from None
    in_shape = tuple(input.shape[axis] if k == axis else n for k, n in enumerate(shape))
    ix_shape = tuple(idx.shape[axis] if k == axis else n for k, n in enumerate(shape))
    if tuple(input.shape) != in_shape:
        input = input.expand(*in_shape)
    return gather(input, axis, np.ascontiguousarray(np.broadcast_to(idx, ix_shape)))


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _pad_value(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into a copy of ``input`` at ``index`` along ``dim`` with ``reduce``
    (``"sum"``, ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``); ``include_self=False`` leaves
    the input's own values out at the positions that receive values.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0, 2.0, 3.0])
        >>> x.scatter_reduce(0, gradwalk.tensor([0, 0, 2]), gradwalk.tensor([5.0, 7.0, 4.0]),
        ...                  "amax")
        tensor([7., 2., 4.])
    """
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    axis = _dim(input, dim, "scatter_reduce")
    idx = _index_tensor(index, "scatter_reduce")
    src = _as_tensor(src, input)
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype, "
                           f"got {input.dtype} and {src.dtype}")
    if input.ndim == 0:
        return scatter_reduce(input.reshape(1), 0, idx.reshape(-1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(())
    _I._check_gather_index(input, idx, axis, "scatter_reduce", src)
    shape = tuple(input.shape)
    n_out = int(np.prod(shape))
    dtype = input._data.dtype
    pos = np.ravel_multi_index(tuple(np.broadcast_to(c, idx.shape) for c in _coords(idx, axis)),
                               shape).reshape(-1) if idx.size else np.zeros(0, np.int64)
    counts = np.bincount(pos, minlength=n_out)
    width = int(counts.max()) if pos.size else 0
    order = np.argsort(pos, kind="stable")
    starts = np.cumsum(counts) - counts
    slot = np.empty_like(pos)
    slot[order] = np.arange(pos.size) - starts[pos[order]]
    values = src[tuple(slice(0, n) for n in idx.shape)].reshape(-1)
    pad = _pad_value(reduce, dtype)
    rows = _registry.wrap(np.full((n_out, width), pad, dtype=dtype))
    if pos.size:
        rows = _I.index_put(rows, (pos, slot), values)
    flat = input.reshape(n_out, 1)
    if include_self:
        rows = cat([flat, rows], 1)
    elif width == 0:
        return input.clone()
    elif reduce in ("amax", "amin"):
        # PyTorch shares the gradient among the ties with the input's value even where it is
        # left out: a detached copy of it where it ties takes (and drops) its share
        best = rows._data.max(1) if reduce == "amax" else rows._data.min(1)
        tie = np.where(flat._data[:, 0] == best, flat._data[:, 0], pad).astype(dtype)
        rows = cat([_registry.wrap(tie.reshape(n_out, 1)), rows], 1)
    total = counts + (1 if include_self else 0)
    if reduce in ("sum", "mean"):
        r = rows.sum(1)
        if reduce == "mean":
            div = _registry.wrap(np.maximum(total, 1).astype(dtype))
            r = r // div if dtype.kind in "iub" else r / div
    elif reduce == "prod":
        r = rows.prod(1)
    else:
        r = rows.amax(1) if reduce == "amax" else rows.amin(1)
    if not include_self:
        r = where(_registry.wrap(counts > 0), r, flat.reshape(-1))
    return r.reshape(shape)


def _scatter_with_reduce(input, dim, index, src=None, value=None, reduce=None):
    """``scatter(..., reduce="add"|"multiply")``: no gradient, as in PyTorch."""
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    idx = _index_tensor(index, "scatter")
    if not isinstance(src, _registry.Tensor):
        src = _registry.wrap(np.full(idx.shape, value if src is None else src,
                                     dtype=input._data.dtype))
    with no_grad():
        return scatter_reduce(input, dim, idx, _as_tensor(src, input),
                              "sum" if reduce == "add" else "prod")


def scatter_reduced(input, dim, index, src=None, value=None, *, reduce=None):
    """``scatter`` with ``reduce="add"`` or ``"multiply"`` (no gradient, as in PyTorch); without
    ``reduce``, plain ``scatter``.

    Example:
        >>> import gradwalk
        >>> gradwalk.ones(3).scatter(0, gradwalk.tensor([0, 0]), gradwalk.tensor([2.0, 3.0]),
        ...                          reduce="multiply")
        tensor([6., 1., 1.])
    """
    if reduce is not None:
        return _scatter_with_reduce(input, dim, index, src, value, reduce)
    return scatter(input, dim, index, src, value)


def _full_index(input, axis, idx):
    return (slice(None),) * axis + (idx,)


def _vector_index(input, dim, index, op):
    axis = _dim(input, dim, op)
    idx = _index_tensor(index, op)
    _I._check_vector_index(input, idx, axis, op)
    return axis, idx.reshape(-1)


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices at ``index`` along ``dim`` replaced by ``source``.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(3).index_copy(0, gradwalk.tensor([2, 0]), gradwalk.tensor([5.0, 6.0]))
        tensor([6., 0., 5.])
    """
    axis, idx = _vector_index(input, dim, index, "index_copy")
    source = _as_tensor(source, input)
    if input.ndim == 0:
        return index_copy(input.reshape(1), 0, idx, source.reshape(-1)).reshape(())
    want = input.shape[:axis] + (idx.size,) + input.shape[axis + 1:]
    if source.ndim != 0 and tuple(source.shape) != want:
        raise RuntimeError(
            f"index_copy_(): Source/destination tensor must have same slice shapes. "
            f"Destination slice shape: {list(want)} and source slice shape: "
            f"{list(source.shape)}")
    return _I.index_put(input, _full_index(input, axis, idx), source)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` at ``index`` along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(2, 3).index_fill(1, gradwalk.tensor([0, 2]), 1.0)
        tensor([[1., 0., 1.],
                [1., 0., 1.]])
    """
    axis, idx = _vector_index(input, dim, index, "index_fill")
    if isinstance(value, _registry.Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    if input.ndim == 0:
        return index_fill(input.reshape(1), 0, idx, value).reshape(())
    return _I.index_put(input, _full_index(input, axis, np.unique(idx % max(
        input.shape[axis], 1))), _as_tensor(value, input))


def index_put(input, indices, values, accumulate=False):
    """``input[indices] = values`` out of place (``indices`` a tuple of index tensors);
    ``accumulate=True`` adds, duplicates included.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(3).index_put((gradwalk.tensor([0, 0]),), gradwalk.tensor(1.0),
        ...                             accumulate=True)
        tensor([2., 0., 0.])
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be a tuple of Tensors, not "
                        f"{type(indices).__name__}")
    index = tuple(slice(None) if i is None else i for i in indices)
    values = _as_tensor(values, input)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype} for the destination and {values.dtype} for the "
                           "source.")
    if not accumulate:
        return _I.index_put(input, index, values)
    idx, _ = _I._normalize_index(input, index)
    target = np.empty(input.shape, dtype=bool)[idx].shape
    try:
        np.broadcast_shapes(tuple(values.shape), target)
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to "
            f"indexing result of shape {list(target)}") from None
    return input + dxp.index_add_into(input.shape, idx, values.expand(*target))


def _broadcast_mask(input, mask, op):
    m = mask._data if isinstance(mask, _registry.Tensor) else np.asarray(mask)
    if m.dtype.kind != "b":
        raise RuntimeError(f"{op}: expected BoolTensor for mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, tuple(input.shape))
    except ValueError:
        raise RuntimeError(f"{op}(): the shape of the mask {list(m.shape)} and the shape of the "
                           f"tensor {list(input.shape)} do not broadcast") from None
    return m, shape


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast together) is True, as one dim.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[1.0, -2.0], [-3.0, 4.0]])
        >>> gradwalk.masked_select(x, x > 0)
        tensor([1., 4.])
    """
    m, shape = _broadcast_mask(input, mask, "masked_select")
    if tuple(input.shape) != shape:
        input = input.expand(*shape)
    return input[np.broadcast_to(m, shape)]


def masked_scatter(input, mask, source):
    """A copy of ``input`` with the elements of ``source``, in order, where ``mask`` is True.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.zeros(4)
        >>> x.masked_scatter(gradwalk.tensor([True, False, True, False]),
        ...                  gradwalk.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([1., 0., 2., 0.])
    """
    m, shape = _broadcast_mask(input, mask, "masked_scatter")
    if tuple(input.shape) != shape:
        input = input.expand(*shape).clone()
    m = np.broadcast_to(m, shape)
    k = int(m.sum())
    source = _as_tensor(source, input)
    if source.numel() < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements "
                           f"(the True entries of the mask), got {source.numel()}")
    return _I.index_put(input, (m,), source.reshape(-1)[:k])


def take(input, index):
    """The elements of the flattened ``input`` at ``index`` (any shape; the result has it).

    Example:
        >>> import gradwalk
        >>> gradwalk.take(gradwalk.tensor([[4.0, 3.0], [5.0, 6.0]]), gradwalk.tensor([0, 3]))
        tensor([4., 6.])
    """
    idx = _index_tensor(index, "take")
    n = input.numel()
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexError(f"take(): index {bad} out of range for tensor of size "
                         f"{list(input.shape)}.")
    if idx.size == 0:
        return input.reshape(-1)[:0].reshape(idx.shape)
    return input.reshape(-1)[idx]


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written at ``index`` of the flattened input
    (``accumulate=True`` adds).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(2, 2).put(gradwalk.tensor([1, 2]), gradwalk.tensor([9.0, 8.0]))
        tensor([[0., 9.],
                [8., 0.]])
    """
    idx = _index_tensor(index, "put").reshape(-1)
    source = _as_tensor(source, input)
    if source.numel() != idx.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, index.numel() "
                           f"= {idx.size}")
    n = input.numel()
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexError(f"put_(): index {bad} out of range for tensor of size "
                         f"{list(input.shape)}.")
    out = index_put(input.reshape(-1), (_registry.wrap(idx),), source.reshape(-1),
                    accumulate=accumulate)
    return out.reshape(input.shape)


#: Tensor methods (the tensor is the first argument) and those with an in-place twin.
METHODS = ("take_along_dim scatter_reduce index_copy index_fill index_put masked_select "
           "masked_scatter take put argwhere nonzero_static")
INPLACE = "scatter_reduce index_copy index_fill index_put masked_scatter put"
__all__ = METHODS.split() + ["scatter_add"]


def argwhere(input):
    """The coordinates of the nonzero elements, one row each (``nonzero``).

    Example:
        >>> import gradwalk
        >>> gradwalk.argwhere(gradwalk.tensor([0, 3, 5])).tolist()
        [[1], [2]]
    """
    return _I.nonzero(input)


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero`` cut or padded (with ``fill_value``) to ``size`` rows.

    Example:
        >>> import gradwalk
        >>> gradwalk.nonzero_static(gradwalk.tensor([0, 3]), size=2).tolist()
        [[1], [-1]]
    """
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    rows = _I.nonzero(input)._data[:size]
    out = np.full((size, rows.shape[1]), fill_value, dtype=np.int64)
    out[:rows.shape[0]] = rows
    return _registry.wrap(out)


def install(tensor_type: type, *modules) -> None:
    """Give Tensor the methods named by each module's ``METHODS`` (the public function as it
    is) and in-place twins for its ``INPLACE`` names, unless the class writes them out."""
    from .surface import _install, inplace_method

    for module in modules:
        for name in module.METHODS.split():
            _install(tensor_type, name, getattr(module, name))
        for name in module.INPLACE.split():
            _install(tensor_type, name + "_", inplace_method(getattr(module, name), name))
        for name, fn in getattr(module, "PROPERTIES", {}).items():
            _install(tensor_type, name, property(fn))
