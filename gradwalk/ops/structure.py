"""Structural ops built on the shape and index ops: atleast_nd, the stacks and splits, tile,
roll, rot90, fliplr/flipud, repeat_interleave, unflatten, meshgrid, cartesian_prod,
combinations, block_diag, kron, tensordot, broadcast_tensors/broadcast_shapes, sum_to_size.

Each is a composition of differentiable ops (``reshape``, ``cat``, ``index_select``,
``flip``...), so its gradient, tangent and double backward are theirs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import registry as _registry
from .arrays import wrap_dim
from .indexing import index_select
from .linalg import matmul
from .reductions import sum as _sum
from .shape import cat, expand, flip, pad, permute, repeat, reshape, split, stack, transpose


def _seq(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0]), True
    return list(tensors), len(tensors) != 1


def _atleast(tensors, fn):
    ts, many = _seq(tensors)
    out = tuple(fn(t) for t in ts)
    return out if many else out[0]


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a tuple for several).

    Example:
        >>> import gradwalk
        >>> gradwalk.atleast_1d(gradwalk.tensor(1.0)).shape
        gradwalk.Size([1])
    """
    return _atleast(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (new leading dims).

    Example:
        >>> import gradwalk
        >>> gradwalk.atleast_2d(gradwalk.ones(3)).shape
        gradwalk.Size([1, 3])
    """
    return _atleast(tensors, lambda t: t.reshape((1,) * (2 - t.ndim) + tuple(t.shape))
                    if t.ndim < 2 else t)


def _to_3d(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, t.shape[0], 1)
    if t.ndim == 2:
        return t.reshape(*t.shape, 1)
    return t


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims (NumPy's layout: ``(n,)`` -> ``(1, n, 1)``).

    Example:
        >>> import gradwalk
        >>> gradwalk.atleast_3d(gradwalk.ones(3)).shape
        gradwalk.Size([1, 3, 1])
    """
    return _atleast(tensors, _to_3d)


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-d tensors).

    Example:
        >>> import gradwalk
        >>> gradwalk.hstack([gradwalk.ones(2), gradwalk.zeros(1)])
        tensor([1., 1., 0.])
    """
    ts = [atleast_1d(t) for t in tensors]
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, 1-d tensors as rows.

    Example:
        >>> import gradwalk
        >>> gradwalk.vstack([gradwalk.ones(2), gradwalk.zeros(2)]).shape
        gradwalk.Size([2, 2])
    """
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2 (after ``atleast_3d``).

    Example:
        >>> import gradwalk
        >>> gradwalk.dstack([gradwalk.ones(2), gradwalk.zeros(2)]).shape
        gradwalk.Size([1, 2, 2])
    """
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    """Join along dim 1, 0-d and 1-d tensors as columns.

    Example:
        >>> import gradwalk
        >>> gradwalk.column_stack([gradwalk.ones(2), gradwalk.zeros(2)]).shape
        gradwalk.Size([2, 2])
    """
    return cat([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in tensors], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal pieces (the first ones one longer), or at the given
    indices, along ``dim`` (views).

    Example:
        >>> import gradwalk
        >>> [p.tolist() for p in gradwalk.arange(5).tensor_split(3)]
        [[0, 1], [2, 3], [4]]
    """
    axis = wrap_dim(dim, input.ndim, "tensor_split")
    n = input.shape[axis]
    ios = indices_or_sections
    if isinstance(ios, _registry.Tensor):
        if ios._data.dtype.kind not in "iu" or ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor of dtype long")
        ios = int(ios._data) if ios.ndim == 0 else [int(v) for v in ios._data]
    lead = (slice(None),) * axis
    if isinstance(ios, (list, tuple)):
        bounds = [0] + [int(i) for i in ios] + [n]
    else:
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        bounds = [0]
        for i in range(k):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    out = []
    for a, b in itertools.pairwise(bounds):
        a = min(max(a + n if a < 0 else a, 0), n)
        b = min(max(b + n if b < 0 else b, 0), n)
        out.append(input[lead + (slice(a, max(a, b)),)])
    return tuple(out)


def _split_at(input, ios, dim, op):
    if input.ndim <= dim:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {dim + 1} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    if isinstance(ios, int) and (ios <= 0 or input.shape[dim] % ios):
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {ios}!")
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for a 1-d tensor); sections must divide evenly.

    Example:
        >>> import gradwalk
        >>> [p.shape for p in gradwalk.zeros(2, 4).hsplit(2)]
        [gradwalk.Size([2, 2]), gradwalk.Size([2, 2])]
    """
    return _split_at(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0; sections must divide evenly.

    Example:
        >>> import gradwalk
        >>> [p.shape for p in gradwalk.zeros(4, 2).vsplit([1])]
        [gradwalk.Size([1, 2]), gradwalk.Size([3, 2])]
    """
    return _split_at(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2; sections must divide evenly.

    Example:
        >>> import gradwalk
        >>> len(gradwalk.zeros(1, 1, 4).dsplit(2))
        2
    """
    return _split_at(input, indices_or_sections, 2, "dsplit")


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the given sizes along ``dim``.

    Example:
        >>> import gradwalk
        >>> [p.shape for p in gradwalk.zeros(5).split_with_sizes([2, 3])]
        [gradwalk.Size([2]), gradwalk.Size([3])]
    """
    return split(input, list(split_sizes), dim)


def unsafe_split(input, split_size, dim=0):
    """``split`` (PyTorch's variant without view tracking).

    Example:
        >>> import gradwalk
        >>> len(gradwalk.zeros(5).unsafe_split(2))
        3
    """
    return split(input, split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (PyTorch's variant without view tracking).

    Example:
        >>> import gradwalk
        >>> len(gradwalk.zeros(6).unsafe_chunk(3))
        3
    """
    from .shape import chunk

    return chunk(input, chunks, dim)


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(2, 6).unflatten(1, (2, -1)).shape
        gradwalk.Size([2, 2, 3])
    """
    axis = wrap_dim(dim, input.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input.shape[axis]
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or n % known:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {dim} ({n}) in the input tensor")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({n}) in the input tensor")
    return reshape(input, input.shape[:axis] + sizes + input.shape[axis + 1:])


def tile(input, dims):
    """Repeat the tensor ``dims[k]`` times along each dim (ones prepended to ``dims`` or to
    the shape as needed).

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([[1, 2]]).tile((2,)).tolist()
        [[1, 2, 1, 2]]
    """
    dims = tuple(int(d) for d in dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def roll(input, shifts, dims=None):
    """Shift the elements along ``dims`` circularly (over the flattened tensor without dims).

    Example:
        >>> import gradwalk
        >>> gradwalk.roll(gradwalk.arange(4), 1).tolist()
        [3, 0, 1, 2]
    """
    shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
    if dims is None or (isinstance(dims, (list, tuple)) and not dims):
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): with no dims, shifts must be one number, got {shifts}")
        return roll(input.reshape(-1), shifts, 0).reshape(input.shape)
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    out = input
    for s, d in zip(shifts, dims):
        axis = wrap_dim(d, max(input.ndim, 1), "roll")
        n = out.shape[axis] if out.ndim else 1
        if n == 0 or int(s) % n == 0:
            continue
        out = index_select(out, axis, (np.arange(n) - int(s)) % n)
    return out if out is not input else input.clone()


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the
    second).

    Example:
        >>> import gradwalk
        >>> gradwalk.rot90(gradwalk.tensor([[1, 2], [3, 4]])).tolist()
        [[2, 4], [1, 3]]
    """
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dim(dims[0], input.ndim, "rot90"), wrap_dim(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return input.clone()


def fliplr(input):
    """Reverse dim 1 (a copy).

    Example:
        >>> import gradwalk
        >>> gradwalk.fliplr(gradwalk.tensor([[1, 2]])).tolist()
        [[2, 1]]
    """
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Reverse dim 0 (a copy).

    Example:
        >>> import gradwalk
        >>> gradwalk.flipud(gradwalk.tensor([1, 2])).tolist()
        [2, 1]
    """
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or slice along ``dim``) ``repeats`` times; a lone integer tensor
    gives the index that repeats each position by its value.

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([1, 2]).repeat_interleave(2).tolist()
        [1, 1, 2, 2]
    """
    if repeats is None:  # torch.repeat_interleave(repeats)
        r = input._data
        if r.ndim > 1 or r.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 0-d or 1-d integer tensor")
        return _registry.wrap(np.repeat(np.arange(r.size), r.reshape(-1)).astype(np.int64))
    if dim is None:
        input = input.reshape(-1)
        axis = 0
    else:
        axis = wrap_dim(dim, max(input.ndim, 1), "repeat_interleave")
        if input.ndim == 0:
            input = input.reshape(1)
    n = input.shape[axis]
    r = repeats._data if isinstance(repeats, _registry.Tensor) else np.asarray(repeats)
    if r.ndim > 1 or (r.ndim == 1 and r.size not in (1, n)):
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                           f"along dim, but got repeats.size(0) = {r.size} and input.size"
                           f"({axis}) = {n}")
    if r.size and r.min() < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    index = np.repeat(np.arange(n), np.broadcast_to(r.reshape(-1), (n,)))
    if output_size is not None and index.size != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"total {index.size}")
    return index_select(input, axis, index)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-d tensors (``indexing="ij"`` or ``"xy"``), as expanded views.

    Example:
        >>> import gradwalk
        >>> [g.shape for g in gradwalk.meshgrid(gradwalk.ones(2), gradwalk.ones(3))]
        [gradwalk.Size([2, 3]), gradwalk.Size([2, 3])]
    """
    ts, _ = _seq(tensors)
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t.ndim}D")
    flat = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    nd = len(flat)
    out = [expand(t.reshape((1,) * k + (t.shape[0],) + (1,) * (nd - k - 1)), shape)
           for k, t in enumerate(flat)]
    if swap:  # "xy": the grids of the first two swapped, in "ij" order, swapped back
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    """All tuples of one element from each 1-d tensor, as rows (a 1-d tensor alone is
    returned as is).

    Example:
        >>> import gradwalk
        >>> gradwalk.cartesian_prod(gradwalk.tensor([1, 2]), gradwalk.tensor([3])).tolist()
        [[1, 3], [2, 3]]
    """
    ts, _ = _seq(tensors)
    if len(ts) == 1:
        return ts[0]
    return stack([g.reshape(-1) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The ``r``-element combinations of a 1-d tensor's elements, as rows.

    Example:
        >>> import gradwalk
        >>> gradwalk.combinations(gradwalk.tensor([1, 2, 3])).tolist()
        [[1, 2], [1, 3], [2, 3]]
    """
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input[:0]
    pick = (itertools.combinations_with_replacement if with_replacement
            else itertools.combinations)
    rows = list(pick(range(input.shape[0]), r))
    if not rows:
        return input[:0].reshape(0, r)
    index = np.asarray(rows, dtype=np.int64)
    return input[index.reshape(-1)].reshape(len(rows), r)


def block_diag(*tensors):
    """The tensors (0-d, 1-d as a row, or 2-d) as the blocks of a block-diagonal matrix.

    Example:
        >>> import gradwalk
        >>> gradwalk.block_diag(gradwalk.ones(1, 1), gradwalk.tensor([[2.0]])).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    ts = []
    for k, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {k} has {t.ndim} dimensions")
        ts.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not ts:
        return _registry.wrap(np.zeros((1, 0), dtype=np.float32))
    dt = np.result_type(*[t._data.dtype for t in ts])
    ts = [t if t._data.dtype == dt else t.to(dt) for t in ts]
    width = sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        rows.append(pad(t, (left, width - left - t.shape[1])))
        left += t.shape[1]
    return cat(rows, 0)


def kron(input, other):
    """The Kronecker product (``a[i] * b`` blocks along every dim).

    Example:
        >>> import gradwalk
        >>> gradwalk.kron(gradwalk.tensor([1, 2]), gradwalk.tensor([1, 10])).tolist()
        [1, 10, 2, 20]
    """
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    sa = [s for n in a.shape for s in (n, 1)]
    sb = [s for n in b.shape for s in (1, n)]
    out = a.reshape(sa) * b.reshape(sb)
    return out.reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def tensordot(a, b, dims=2, out=None):
    """Sum of products over ``dims`` (a count of trailing/leading dims, or two lists).

    Example:
        >>> import gradwalk
        >>> gradwalk.tensordot(gradwalk.ones(2, 3), gradwalk.ones(3, 4), dims=1).shape
        gradwalk.Size([2, 4])
    """
    if out is not None:
        raise NotImplementedError("tensordot(out=) is not supported; assign the result")
    if isinstance(dims, _registry.Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [wrap_dim(d, b.ndim, "tensordot") for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y] and b.shape[y] == 1:  # PyTorch sums the other side
            a = _sum(a, dim=x, keepdim=True)
        elif a.shape[x] != b.shape[y] and a.shape[x] == 1:
            b = _sum(b, dim=y, keepdim=True)
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in "
                               f"dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    am = permute(a, tuple(fa + da)).reshape(math.prod(a.shape[d] for d in fa), k)
    bm = permute(b, tuple(db + fb)).reshape(k, math.prod(b.shape[d] for d in fb))
    return matmul(am, bm).reshape(tuple(a.shape[d] for d in fa) + tuple(b.shape[d] for d in fb))


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to.

    Example:
        >>> import gradwalk
        >>> gradwalk.broadcast_shapes((2, 1), (3,))
        (2, 3)
    """
    norm = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{[list(s) for s in norm]}") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views).

    Example:
        >>> import gradwalk
        >>> [t.shape for t in gradwalk.broadcast_tensors(gradwalk.ones(2, 1), gradwalk.ones(3))]
        [gradwalk.Size([2, 3]), gradwalk.Size([2, 3])]
    """
    ts, _ = _seq(tensors)
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(expand(t, shape) for t in ts)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (which it must broadcast from).

    Example:
        >>> import gradwalk
        >>> gradwalk.ones(2, 3).sum_to_size(1, 3).tolist()
        [[2.0, 2.0, 2.0]]
    """
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple)) else size
    size = tuple(int(s) for s in size)
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {list(size)} is not expandable to size {list(shape)}.")
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(size)
                                      if s == 1 and shape[lead + k] != 1)
    if not axes:
        return input
    out = _sum(input, dim=axes, keepdim=True)
    return out.reshape(size) if lead else out


METHODS = ("tensor_split hsplit vsplit dsplit split_with_sizes unsafe_split unsafe_chunk "
           "unflatten tile roll rot90 fliplr flipud repeat_interleave kron sum_to_size")
INPLACE = ""
