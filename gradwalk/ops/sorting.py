"""Sorting and selection (``sort``, ``argsort``, ``msort``, ``topk``, ``kthvalue``, ``median``,
``nanmedian``, ``mode``) and the counting ops with integer results (``unique``,
``unique_consecutive``, ``bincount``, ``histc``, ``histogram``, ``bucketize``, ``searchsorted``,
``argwhere``, ``unravel_index``).

The selections compute their indices on the data and take the values with ``gather``, so the
gradient goes to the selected positions and the tangent is read from them, as PyTorch's
``value_selecting_reduction_backward`` does. The whole-tensor ``median``/``nanmedian`` is a
declaration of its own: PyTorch spreads its gradient evenly over every element equal to the
median (Note [median ties]).

Note [sort order]
    Indices follow PyTorch's CPU choices: ``sort`` and ``argsort`` are stable whatever
    ``stable`` says (ties keep their order, descending too) and NaN sorts above every number
    (last ascending, first descending); ``kthvalue``, ``median`` and ``nanmedian`` along a dim
    read the stable ascending order (``median`` takes the lower of the two middle values, and
    the first NaN of a slice that has one; ``nanmedian`` skips NaN, and of a slice of NaN only
    gives index 0, where PyTorch's index depends on its selection algorithm); ``mode`` takes
    the smallest of the most frequent values and the last index where it occurs. ``topk`` takes
    the first ``k`` of the stable order; PyTorch's partial sort may pick another index among
    values tied at the boundary (the values agree; the gradient then goes to a different one
    of the tied positions).

Note [median ties]
    ``median(x)`` (no dim) sends ``grad / m`` to each of the ``m`` elements equal to the result
    (to the NaN elements when the result is NaN), and its tangent is the mean of theirs.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from itertools import accumulate

import numpy as np

from . import indexing as I
from . import kernels as K
from . import registry as R
from . import shape as S
from .registry import apply1, declare

_Ret = namedtuple("return_types", ["values", "indices"])
_Hist = namedtuple("histogram", ["hist", "bin_edges"])


_check = K.check_tensor


_dim = K.dim_of


def _stable_order(a, axis, descending):
    """Note [sort order]: stable, NaN above every number."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    flipped = np.flip(a, axis=axis)
    order = np.argsort(flipped, axis=axis, kind="stable")
    return np.flip(n - 1 - order, axis=axis)


def _take(input, axis, idx, keepdim=True):
    """``input``'s values at ``idx`` along ``axis`` (differentiable through ``gather``)."""
    values = I.gather(input, axis, R.wrap(idx))
    return values if keepdim else S.squeeze(values, axis)


def _zero_d(input):
    return _Ret(input.clone(), R.wrap(np.zeros((), dtype=np.int64)))


def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """``(values, indices)`` sorted along ``dim`` (Note [sort order]: stable, NaN largest).

    Example:
        >>> import gradwalk
        >>> gradwalk.sort(gradwalk.tensor([3.0, 1.0, 2.0]))
        return_types(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
    """
    K.real_only("sort", input)
    _check(input, "sort")
    if isinstance(dim, bool):  # sort(x, True): PyTorch's positional ``descending`` overload
        dim, descending = -1, dim
    axis = _dim(input, dim, "sort")
    if input.ndim == 0:
        return _zero_d(input)
    idx = _stable_order(input._data, axis, descending)
    return _Ret(_take(input, axis, idx), R.wrap(idx.astype(np.int64)))


def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``).

    Example:
        >>> import gradwalk
        >>> gradwalk.argsort(gradwalk.tensor([3.0, 1.0, 2.0]), descending=True)
        tensor([0, 2, 1])
    """
    K.real_only("argsort", input)
    _check(input, "argsort")
    axis = _dim(input, dim, "argsort")
    if input.ndim == 0:
        return R.wrap(np.zeros((), dtype=np.int64))
    return R.wrap(_stable_order(input._data, axis, descending).astype(np.int64))


def msort(input):
    """``input`` sorted along its first dim.

    Example:
        >>> import gradwalk
        >>> gradwalk.msort(gradwalk.tensor([[2.0, 1.0], [1.0, 3.0]]))
        tensor([[1., 1.],
                [2., 3.]])
    """
    K.real_only("msort", input)
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``, in
    order (Note [sort order] on ties).

    Example:
        >>> import gradwalk
        >>> gradwalk.topk(gradwalk.tensor([1.0, 5.0, 3.0]), 2)
        return_types(values=tensor([5., 3.]), indices=tensor([1, 2]))
    """
    K.real_only("topk", input)
    _check(input, "topk")
    axis = _dim(input, dim, "topk")
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k ({k}) out of range: the dim {dim} has "
                           f"{n} elements")
    if input.ndim == 0:
        if k == 0:
            return _Ret(S.reshape(input, (1,))[0:0], R.wrap(np.zeros((0,), dtype=np.int64)))
        return _zero_d(input)
    idx = np.take(_stable_order(input._data, axis, largest), np.arange(k), axis=axis)
    return _Ret(_take(input, axis, idx), R.wrap(idx.astype(np.int64)))


def _select(input, axis, pos, keepdim):
    """The values and indices at sorted position ``pos`` (an array broadcasting against the
    slices) along ``axis``."""
    order = _stable_order(input._data, axis, False)
    idx = np.take_along_axis(order, pos, axis=axis)
    values = _take(input, axis, idx, keepdim)
    return _Ret(values, R.wrap(idx.astype(np.int64) if keepdim else
                               np.squeeze(idx, axis).astype(np.int64)))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """``(values, indices)`` of the ``k``-th smallest element along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.kthvalue(gradwalk.tensor([3.0, 1.0, 2.0]), 2)
        return_types(values=tensor(2.), indices=tensor(2))
    """
    K.real_only("kthvalue", input)
    _check(input, "kthvalue")
    axis = _dim(input, dim, "kthvalue")
    n = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}: "
                           f"k = {k}, but the dim has {n} elements")
    if input.ndim == 0:
        return _zero_d(input)
    shape = list(input.shape)
    shape[axis] = 1
    return _select(input, axis, np.full(shape, k - 1, dtype=np.int64), keepdim)


# --------------------------------------------------------------------------------------------
# median


def _raw(v):
    return v._data if isinstance(v, R.Tensor) else v


def _median_fwd(xp, x, ignore_nan):
    flat = xp.sort(x.reshape(-1))
    if ignore_nan:
        m = int((~xp.isnan(flat)).sum())
        return flat[max(m - 1, 0) // 2] if m else xp.asarray(xp.nan, dtype=x.dtype)
    if flat.size and xp.isnan(flat[-1]):
        return xp.asarray(xp.nan, dtype=x.dtype)
    return flat[(flat.size - 1) // 2]


def _median_hits(xp, out, x):
    """Note [median ties]: where the result is found (as floats), and their count."""
    xd, od = _raw(x), _raw(out)
    hit = np.isnan(xd) if np.isnan(od) else (xd == od)
    hit = hit.astype(xd.dtype)
    return (R.wrap(hit) if K.is_dxp(xp) else hit), hit.sum()


def _median_vjp(xp, g, out, x, ignore_nan):
    hit, count = _median_hits(xp, out, x)
    return g * hit / count


def _median_jvp(xp, t, out, x, ignore_nan):
    hit, count = _median_hits(xp, out, x)
    return xp.sum(t * hit) / count


MEDIAN = declare("median", _median_fwd, _median_vjp, _median_jvp, save_out=True,
                 explain="grad / m to each of the m elements equal to the median")


def _median(input, dim, keepdim, ignore_nan, name):
    _check(input, name)
    if dim is None:
        if input._data.size == 0:
            raise IndexError(f"{name}() input tensor cannot be empty")
        return apply1(MEDIAN, input, {"ignore_nan": ignore_nan})
    axis = _dim(input, dim, name)
    if input.ndim == 0:
        return _zero_d(input)
    a = input._data
    n = a.shape[axis]
    if n == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    nan = np.isnan(a) if a.dtype.kind in "fc" else np.zeros(a.shape, dtype=bool)
    count = np.sum(~nan, axis=axis, keepdims=True)
    if ignore_nan:
        pos = np.maximum(count - 1, 0) // 2
    else:  # the first NaN of a slice: position ``count`` of the stable order
        pos = np.where(count < n, count, (n - 1) // 2)
    return _select(input, axis, pos.astype(np.int64), keepdim)


def median(input, dim=None, keepdim: bool = False):
    """The median (the lower of the two middle values); with ``dim``, ``(values, indices)``
    along it. NaN if the elements hold a NaN.

    Example:
        >>> import gradwalk
        >>> gradwalk.median(gradwalk.tensor([3.0, 1.0, 2.0, 4.0]))
        tensor(2.)
    """
    K.real_only("median", input)
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim: bool = False):
    """``median`` of the elements that are not NaN.

    Example:
        >>> import gradwalk
        >>> gradwalk.nanmedian(gradwalk.tensor([3.0, float("nan"), 1.0]))
        tensor(1.)
    """
    K.real_only("nanmedian", input)
    return _median(input, dim, keepdim, True, "nanmedian")


def mode(input, dim: int = -1, keepdim: bool = False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest on a tie)
    and the last index where it occurs.

    Example:
        >>> import gradwalk
        >>> gradwalk.mode(gradwalk.tensor([2.0, 1.0, 2.0, 1.0, 3.0]))
        return_types(values=tensor(1.), indices=tensor(3))
    """
    K.real_only("mode", input)
    _check(input, "mode")
    axis = _dim(input, dim, "mode")
    if input.ndim == 0:
        return _zero_d(input)
    a = np.moveaxis(input._data, axis, -1)
    rows = a.reshape(-1, a.shape[-1])
    if rows.shape[-1] == 0:
        raise IndexError("mode(): Expected reduction dim to have non-zero size.")
    best = np.empty(rows.shape[0], dtype=np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True)
        v = values[np.argmax(counts)]
        best[r] = np.flatnonzero(row == v)[-1] if v == v else np.flatnonzero(row != row)[-1]
    idx = np.moveaxis(best.reshape(a.shape[:-1] + (1,)), -1, axis)
    values = _take(input, axis, idx, keepdim)
    return _Ret(values, R.wrap(idx if keepdim else np.squeeze(idx, axis)))


# --------------------------------------------------------------------------------------------
# counting: integer results, no gradient


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct elements (or slices along ``dim``), sorted; with ``return_inverse`` where
    each element went, with ``return_counts`` how often each occurs.

    Example:
        >>> import gradwalk
        >>> gradwalk.unique(gradwalk.tensor([3, 1, 3, 2]), return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    K.real_only("unique", input)
    _check(input, "unique")
    a = input._data
    axis = None if dim is None else _dim(input, dim, "unique")
    if axis is not None and a.ndim == 0:
        raise IndexError("unique(): a 0-d tensor has no dim to take slices along")
    vals, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
    out = [R.wrap(np.asarray(vals))]
    if return_inverse:
        inv = np.asarray(inverse, dtype=np.int64)
        out.append(R.wrap(inv.reshape(a.shape) if axis is None else inv.reshape(-1)))
    if return_counts:
        out.append(R.wrap(np.asarray(counts, dtype=np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """``input`` with each run of equal consecutive elements (or slices along ``dim``)
    collapsed to one.

    Example:
        >>> import gradwalk
        >>> gradwalk.unique_consecutive(gradwalk.tensor([1, 1, 2, 2, 1]))
        tensor([1, 2, 1])
    """
    K.real_only("unique_consecutive", input)
    _check(input, "unique_consecutive")
    a = input._data
    if dim is None:
        flat, axis = a.reshape(-1), 0
    else:
        axis = _dim(input, dim, "unique_consecutive")
        flat = a
    n = flat.shape[axis] if flat.ndim else 0
    moved = np.moveaxis(flat, axis, 0).reshape(n, -1)
    change = np.ones(n, dtype=bool)
    if n > 1:
        change[1:] = np.any(moved[1:] != moved[:-1], axis=1)
    starts = np.flatnonzero(change)
    out = [R.wrap(np.take(flat, starts, axis=axis))]
    if return_inverse:
        inv = (np.cumsum(change) - 1).astype(np.int64)
        out.append(R.wrap(inv.reshape(a.shape) if dim is None else inv))
    if return_counts:
        out.append(R.wrap(np.diff(np.append(starts, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength: int = 0):
    """How often each value ``0..max`` occurs in the 1-D non-negative integer ``input`` (the
    sums of ``weights`` with them).

    Example:
        >>> import gradwalk
        >>> gradwalk.bincount(gradwalk.tensor([0, 2, 2]))
        tensor([1, 0, 2])
    """
    _check(input, "bincount")
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "biu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got a "
                           f"{a.ndim}-d {input.dtype} tensor")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    if weights is None:
        return R.wrap(np.bincount(a, minlength=minlength).astype(np.int64))
    w = _raw(weights)
    if w.shape != a.shape:
        raise RuntimeError(f"weights should be 1-d and have the same length as input: "
                           f"{list(w.shape)} and {list(a.shape)}")
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return R.wrap(np.bincount(a, weights=w, minlength=minlength).astype(dt))


def histc(input, bins: int = 100, min=0, max=0):
    """Counts of ``input`` in ``bins`` equal bins over ``[min, max]`` (the data's range when
    both are 0); values outside are ignored.

    Example:
        >>> import gradwalk
        >>> gradwalk.histc(gradwalk.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    _check(input, "histc")
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"torch.histc: input tensor dtype must be floating point, got "
                           f"{input.dtype}")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc: max must be larger than min, got min {min} and "
                           f"max {max}")
    v = a.reshape(-1)
    v = v[(v >= lo) & (v <= hi)]
    pos = ((v - lo) * bins / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)
    return R.wrap(np.bincount(pos, minlength=bins).astype(a.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False):
    """``(hist, bin_edges)``: counts (or ``weight`` sums) of ``input`` in ``bins`` equal bins
    (or between the edges of a ``bins`` tensor); ``density`` normalizes to unit area.

    Example:
        >>> import gradwalk
        >>> gradwalk.histogram(gradwalk.tensor([1.0, 2.0, 1.0]), bins=2)
        histogram(hist=tensor([2., 1.]), bin_edges=tensor([1.0000, 1.5000, 2.0000]))
    """
    K.real_only("histogram", input)
    _check(input, "histogram")
    a = input._data
    b = _raw(bins)
    w = None if weight is None else _raw(weight)
    hist, edges = np.histogram(a.reshape(-1), bins=b, range=range,
                               weights=None if w is None else w.reshape(-1), density=density)
    return _Hist(R.wrap(hist.astype(a.dtype)), R.wrap(edges.astype(a.dtype)))


def _search(seq, values, side, out_int32, name):
    dt = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return np.asarray(np.searchsorted(seq, values, side=side)).astype(dt)
    if values.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(
            f"torch.{name}(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    s2 = seq.reshape(-1, seq.shape[-1])
    v2 = values.reshape(-1, values.shape[-1])
    out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(s2, v2)]) if len(s2) else \
        np.zeros(v2.shape, dtype=dt)
    return out.reshape(values.shape).astype(dt)


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter=None):
    """Where ``input``'s values would be inserted into the last dim of ``sorted_sequence`` to
    keep it sorted (``right``/``side="right"``: after equal values).

    Example:
        >>> import gradwalk
        >>> gradwalk.searchsorted(gradwalk.tensor([1.0, 3.0, 5.0]), gradwalk.tensor([3.0, 4.0]))
        tensor([1, 2])
    """
    K.real_only("searchsorted", sorted_sequence, input)
    _check(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites,"
                               " got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, _raw(sorter).astype(np.int64), axis=-1)
    values = np.asarray(_raw(input))
    return R.wrap(_search(seq, values, "right" if right else "left", out_int32, "searchsorted"))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):
    """The bucket of each value among the 1-D sorted ``boundaries`` (``right``: a value equal
    to a boundary goes to the bucket above it).

    Example:
        >>> import gradwalk
        >>> gradwalk.bucketize(gradwalk.tensor([1.0, 4.0]), gradwalk.tensor([1.0, 3.0, 5.0]))
        tensor([0, 2])
    """
    K.real_only("bucketize", input, boundaries)
    _check(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    values = np.asarray(_raw(input))
    return R.wrap(_search(boundaries._data, values, "right" if right else "left", out_int32,
                          "bucketize"))


def argwhere(input):
    """The indices of the nonzero elements, one row per element.

    Example:
        >>> import gradwalk
        >>> gradwalk.argwhere(gradwalk.tensor([[0.0, 1.0], [2.0, 0.0]]))
        tensor([[0, 1],
                [1, 0]])
    """
    _check(input, "argwhere")
    return R.wrap(np.argwhere(input._data).astype(np.int64))


def unravel_index(indices, shape):
    """The coordinates in a tensor of ``shape`` of flat ``indices``: one tensor per dim.

    Example:
        >>> import gradwalk
        >>> gradwalk.unravel_index(gradwalk.tensor([4, 1]), (3, 2))
        (tensor([2, 0]), tensor([0, 1]))
    """
    _check(indices, "unravel_index", "indices")
    a = indices._data
    if a.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    if not all(isinstance(d, (int, np.integer)) for d in shape):
        raise TypeError(f"expected 'shape' sequence to only contain ints, but got {shape}")
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = list(reversed(list(accumulate(reversed(shape[1:] + (1,)), func=operator.mul))))
    try:
        c = np.asarray(coefs, dtype=np.int64)
    except OverflowError:
        raise RuntimeError(f"unravel_index(): the shape {shape} has more elements than int64 "
                           "can count") from None
    dims = np.asarray(shape, dtype=np.int64)
    with np.errstate(divide="ignore"):
        r = np.floor_divide(a.astype(np.int64)[..., None], np.where(c == 0, 1, c))
        r = np.mod(r, np.where(dims == 0, 1, dims))
    return tuple(R.wrap(np.array(r[..., k])) for k in range(len(shape)))

