"""Strided views and their scatters: diagonal, Tensor.unfold, diag, diag_embed, diagflat,
diagonal_scatter, select_scatter, slice_scatter, trace, tril_indices, triu_indices.

Note [strided views]
    ``diagonal`` and ``Tensor.unfold`` are views in PyTorch: writing into the result writes
    into the input. Here they are one op each, ``STRIDED`` under two names, whose forward is
    a NumPy ``as_strided`` view of the input's memory (from a basic-indexed start, so it stays
    writable) and whose params also hold ``coords``, the input position of every element of
    the result, one array per input dim. The reverse rule adds the gradient at ``coords``
    (overlapping windows accumulate), the forward rule is the forward itself (the op is
    linear), and on Tensors (``create_graph``) the forward is ``x[coords]``. The results are
    marked as views (``shape._view``), so in-place changes rebase the input's graph.
"""

from __future__ import annotations

import numpy as np

from . import kernels as K
from . import registry as _registry
from .arrays import wrap_dim
from .indexing import index_put
from .registry import declare_each
from .shape import _view


def _strided_fwd(xp, x, coords, start, shape, steps):
    if type(x) is not np.ndarray:  # Tensors (create_graph), vmap's batched arrays, CuPy
        return x[coords]
    base = x[start]
    strides = tuple(sum(s * b for s, b in zip(step, base.strides)) for step in steps)
    return np.lib.stride_tricks.as_strided(base, shape, strides)


def _strided_vjp(xp, g, out, x, coords, start, shape, steps, in_shape):
    return K.index_add_into(xp, in_shape, coords, g)


DIAGONAL, UNFOLD = declare_each(
    ("diagonal", "unfold"),
    lambda xp, x, coords, start, shape, steps, in_shape: _strided_fwd(xp, x, coords, start,
                                                                       shape, steps),
    _strided_vjp, saves=(), linear=True,
    explain={"diagonal": "grad placed on the diagonal, 0 elsewhere",
             "unfold": "grad of each window added back at its positions"})


def _grids(shape):
    nd = len(shape)
    return [np.broadcast_to(np.arange(n).reshape((n,) + (1,) * (nd - d - 1)), shape)
            for d, n in enumerate(shape)]


def _diag_params(shape, offset, d1, d2):
    nd = len(shape)
    d1, d2 = wrap_dim(d1, nd, "diagonal"), wrap_dim(d2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {d1}, {d2}")
    coords = tuple(np.ascontiguousarray(np.diagonal(g, offset, d1, d2)) for g in _grids(shape))
    length = coords[0].shape[-1] if coords else 0
    start = [slice(None)] * nd
    if length:
        start[d1] = slice(max(-offset, 0), None)
        start[d2] = slice(max(offset, 0), None)
    else:
        start[d1] = slice(0, 0)
    others = [d for d in range(nd) if d not in (d1, d2)]
    steps = [tuple(int(d == k) for d in range(nd)) for k in others]
    steps.append(tuple(int(d in (d1, d2)) for d in range(nd)))
    out_shape = tuple(shape[k] for k in others) + (length,)
    return {"coords": coords, "start": tuple(start), "shape": out_shape, "steps": tuple(steps),
            "in_shape": tuple(shape)}


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the ``dim1``, ``dim2`` planes (a view, moved to the last dim).

    Example:
        >>> import gradwalk
        >>> gradwalk.arange(9.0).reshape(3, 3).diagonal(1)
        tensor([1., 5.])
    """
    if input.ndim < 2:
        raise RuntimeError(f"diagonal(): expected a tensor of at least 2 dims, got "
                           f"{input.ndim}")
    return _view(DIAGONAL, input, _diag_params(tuple(input.shape), offset, dim1, dim2))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on the diagonal that ``diagonal`` reads.

    Example:
        >>> import gradwalk
        >>> gradwalk.diagonal_scatter(gradwalk.zeros(2, 2), gradwalk.ones(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    p = _diag_params(tuple(input.shape), offset, dim1, dim2)
    if tuple(src.shape) != p["shape"]:
        raise RuntimeError(f"diagonal_scatter(): expected src to have a size equal to the "
                           f"diagonal {list(p['shape'])}, got {list(src.shape)}")
    return index_put(input, p["coords"], src)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose ``dim1``, ``dim2`` planes have the last dim of ``input`` on their
    ``offset`` diagonal, zeros elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.diag_embed(gradwalk.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    nd = input.ndim + 1
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = list(input.shape[:-1])
    shape = []
    for k in range(nd):
        shape.append(n if k in (d1, d2) else rest.pop(0))
    zeros = _registry.wrap(np.zeros(shape, dtype=input._data.dtype))
    return diagonal_scatter(zeros, input if input.ndim else input.reshape(1), offset, d1, d2)


def diag(input, diagonal=0):
    """A 1-d tensor as a diagonal matrix, or the ``diagonal`` of a matrix (a copy).

    Example:
        >>> import gradwalk
        >>> gradwalk.diag(gradwalk.tensor([[1, 2], [3, 4]]))
        tensor([1, 4])
    """
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input, offset=0):
    """The flattened ``input`` on the ``offset`` diagonal of a matrix.

    Example:
        >>> import gradwalk
        >>> gradwalk.diagflat(gradwalk.tensor([[1, 2]])).shape
        gradwalk.Size([2, 2])
    """
    return diag_embed(input.reshape(-1), offset, 0, 1)


def trace(input):
    """The sum of a matrix's diagonal.

    Example:
        >>> import gradwalk
        >>> gradwalk.trace(gradwalk.arange(9.0).reshape(3, 3))
        tensor(12.)
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def unfold(input, dimension, size, step):
    """The windows of ``size`` elements every ``step`` along ``dimension`` (a view; the window
    is the new last dim). ``Tensor.unfold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.arange(5.0).unfold(0, 2, 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    nd = input.ndim
    d = wrap_dim(dimension, nd, "unfold")
    n = input.shape[d] if nd else 1
    if size > n or size < 0:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    windows = (n - size) // step + 1
    shape = tuple(input.shape)
    if nd == 0:
        return input.reshape(1)
    grids = _grids(shape)
    sel = (np.arange(windows) * step)[:, None] + np.arange(size)
    index = (slice(None),) * d + (sel,)
    coords = tuple(np.ascontiguousarray(np.moveaxis(g[index], d + 1, -1)) for g in grids)
    out_shape = shape[:d] + (windows,) + shape[d + 1:] + (size,)
    steps = [tuple(int(k == j) * (step if j == d else 1) for k in range(nd)) for j in range(nd)]
    steps.append(tuple(int(k == d) for k in range(nd)))
    return _view(UNFOLD, input, {"coords": coords, "start": (Ellipsis,), "shape": out_shape,
                                 "steps": tuple(steps), "in_shape": shape})


def select(input, dim, index):
    """The slice at ``index`` of ``dim`` (a view, one dim fewer).

    Example:
        >>> import gradwalk
        >>> gradwalk.arange(6).reshape(2, 3).select(1, -1)
        tensor([2, 5])
    """
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.ndim, "select")
    n = input.shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return input[(slice(None),) * d + (index,)]


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``index`` of ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.select_scatter(gradwalk.zeros(2, 2), gradwalk.ones(2), 0, 1)
        tensor([[0., 0.],
                [1., 1.]])
    """
    d = wrap_dim(dim, input.ndim, "select_scatter")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    want = input.shape[:d] + input.shape[d + 1:]
    if tuple(src.shape) != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(want)}")
    return index_put(input, (slice(None),) * d + (index,), src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written at ``start:end:step`` of ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.slice_scatter(gradwalk.zeros(4), gradwalk.ones(2), start=2)
        tensor([0., 0., 1., 1.])
    """
    d = wrap_dim(dim, input.ndim, "slice_scatter")
    index = (slice(None),) * d + (slice(start, end, step),)
    want = np.empty(input.shape, dtype=bool)[index].shape
    if tuple(src.shape) != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(want)}")
    return index_put(input, index, src)


def _indices(fn, row, col, offset, dtype):
    from ..dtypes import to_numpy_dtype

    r, c = fn(row, offset, col)
    npd = np.int64 if dtype is None else to_numpy_dtype(dtype)
    return _registry.wrap(np.stack([r, c]).astype(npd).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The coordinates (2 x N, row-major) of the lower triangle of a ``row`` x ``col`` matrix.

    Example:
        >>> import gradwalk
        >>> gradwalk.tril_indices(2, 2)
        tensor([[0, 1, 1],
                [0, 0, 1]])
    """
    return _indices(np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The coordinates (2 x N, row-major) of the upper triangle of a ``row`` x ``col`` matrix.

    Example:
        >>> import gradwalk
        >>> gradwalk.triu_indices(2, 2)
        tensor([[0, 0, 1],
                [0, 1, 1]])
    """
    return _indices(np.triu_indices, row, col, offset, dtype)


METHODS = "select diagonal diagonal_scatter diag_embed diag diagflat trace unfold select_scatter " \
          "slice_scatter"
INPLACE = ""
