"""3-D pooling, adaptive max pooling and max unpooling (``gradwalk.nn.functional``).

Built from the existing N-d pooling kernels and from differentiable composites (``gather``,
``scatter``), so gradients and JVPs come from the ops they are made of.

Note [adaptive max pooling by gather]
    The maxima's positions are found on the raw array (no gradient flows through an argmax);
    the output is then ``gather`` of the input at those flat positions, so the whole gradient of
    a window goes to its first maximum in row-major order, as PyTorch's kernel does (it keeps
    the first ``>`` maximum while scanning the window). A NaN in a window wins, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..creation import zeros
from ..ops import conv as _C
from ..tensor import Tensor


def _raw(t: Tensor) -> np.ndarray:
    """The ndarray behind ``t``."""
    return t._data


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-D max pooling over (N, C, D, H, W); the gradient goes to the first maximum of a window.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> gradwalk.nn.functional.max_pool3d(x, 2)
        tensor([[[[[7.]]]]])
    """
    return _C._max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode,
                          return_indices, 3, "max_pool3d")


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling over (N, C, D, H, W).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> gradwalk.nn.functional.avg_pool3d(x, 2)
        tensor([[[[[3.5000]]]]])
    """
    return _C._avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override, 3, "avg_pool3d")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, D, H, W) to ``output_size`` (an int, a triple, None keeps a dim).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.adaptive_avg_pool3d(gradwalk.ones(1, 2, 3, 4, 5), 1).shape
        gradwalk.Size([1, 2, 1, 1, 1])
    """
    return _C._adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_sizes(x: Tensor, output_size, d: int, op: str) -> tuple[int, ...]:
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * d
    output_size = tuple(output_size)
    if len(output_size) != d:
        raise ValueError(f"{op}(): output_size must have {d} elements, got {output_size}")
    sizes = tuple(n if o is None else int(o) for n, o in zip(x.shape[2:], output_size))
    if any(o <= 0 for o in sizes):
        raise RuntimeError(f"{op}(): elements of output_size must be greater than 0, got "
                           f"{sizes}")
    if any(n == 0 for n in x.shape[2:]):
        raise RuntimeError(f"{op}(): expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(x.shape)}")
    return sizes


def _adaptive_argmax(a: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Flat plane index of the first (row-major) maximum of every adaptive window of ``a``
    (N, C, *spatial); see Note [adaptive max pooling by gather]."""
    d = len(sizes)
    spatial = a.shape[2:]
    ranges = []
    for n, o in zip(spatial, sizes):
        ranges.append([((i * n) // o, -(-((i + 1) * n) // o)) for i in range(o)])
    out = np.zeros(a.shape[:2] + tuple(sizes), dtype=np.int64)
    for pos in np.ndindex(*sizes):
        win = tuple(slice(*ranges[i][p]) for i, p in enumerate(pos))
        block = a[(slice(None), slice(None)) + win]
        bshape = block.shape[2:]
        b = block.reshape(block.shape[:2] + (-1,))
        nan = np.isnan(b)
        arg = np.where(nan.any(-1), nan.argmax(-1), b.argmax(-1))
        local = np.unravel_index(arg, bshape)
        idx = np.zeros(arg.shape, dtype=np.int64)
        for i in range(d):
            idx = idx * spatial[i] + (ranges[i][pos[i]][0] + local[i])
        out[(slice(None), slice(None)) + pos] = idx
    return out


def _adaptive_max(input: Tensor, output_size, return_indices: bool, d: int, op: str):
    unbatched = _C._check_input(input, d, op)
    x = input.unsqueeze(0) if unbatched else input
    sizes = _adaptive_sizes(x, output_size, d, op)
    idx = _adaptive_argmax(_raw(x), sizes)
    n, c = x.shape[0], x.shape[1]
    index = Tensor._wrap(idx.reshape(n, c, -1))
    y = x.reshape(n, c, -1).gather(2, index).reshape(n, c, *sizes)
    ind = Tensor._wrap(idx)
    if unbatched:
        y, ind = y.squeeze(0), ind.squeeze(0)
    return (y, ind) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) to ``output_size`` positions over PyTorch's adaptive windows.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.adaptive_max_pool1d(gradwalk.tensor([[[1.0, 4.0, 3.0, 2.0]]]), 2)
        tensor([[[4., 3.]]])
    """
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, H, W) to ``output_size``; ``return_indices`` gives the flat
    position of each maximum in its plane (what ``max_unpool2d`` takes).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.adaptive_max_pool2d(gradwalk.arange(16.0).reshape(1, 1, 4, 4), 1)
        tensor([[[[15.]]]])
    """
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, D, H, W) to ``output_size`` over PyTorch's adaptive windows.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.adaptive_max_pool3d(gradwalk.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
        tensor([[[[[7.]]]]])
    """
    return _adaptive_max(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def _unpool_size(x: Tensor, kernel_size, stride, padding, output_size, d: int, op: str):
    k = _C._tuple(kernel_size, d, "kernel_size", op)
    s = k if stride is None else _C._tuple(stride, d, "stride", op)
    p = _C._tuple(padding, d, "padding", op)
    default = tuple((n - 1) * si - 2 * pi + ki
                    for n, si, pi, ki in zip(x.shape[-d:], s, p, k))
    if output_size is None:
        return default
    size = tuple(int(v) for v in output_size)
    if len(size) == d + 2 or len(size) == d + 1:
        size = size[-d:]
    if len(size) != d:
        raise ValueError(f"{op}(): output_size should be a sequence of {d} or {d + 2} "
                         f"elements, got {list(output_size)}")
    for v, dv, si in zip(size, default, s):
        if not dv - si < v < dv + si:
            raise ValueError(f"{op}(): invalid output_size {list(size)} (dim {d}) must be "
                             f"between {[a - b + 1 for a, b in zip(default, s)]} and "
                             f"{[a + b - 1 for a, b in zip(default, s)]}")
    return size


def _max_unpool(input: Tensor, indices: Tensor, kernel_size, stride, padding, output_size,
                d: int, op: str) -> Tensor:
    unbatched = _C._check_input(input, d, op)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}(): expected shape of indices to be the same as that of the "
                           f"input, got {list(indices.shape)} and {list(input.shape)}")
    if _raw(indices).dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): indices must be an integer tensor, got {indices.dtype}")
    x = input.unsqueeze(0) if unbatched else input
    ind = indices.unsqueeze(0) if unbatched else indices
    size = _unpool_size(x, kernel_size, stride, padding, output_size, d, op)
    n, c = x.shape[0], x.shape[1]
    plane = int(np.prod(size))
    iv = _raw(ind)
    if iv.size and (int(iv.min()) < 0 or int(iv.max()) >= plane):
        raise RuntimeError(f"{op}(): found an invalid max index {int(iv.max())} (indices "
                           f"must lie in [0, {plane}) for output size {list(size)})")
    base = zeros(n, c, plane, dtype=x.dtype)
    y = base.scatter(2, ind.reshape(n, c, -1), x.reshape(n, c, -1)).reshape(n, c, *size)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool1d``: every value goes back to the position ``indices``
    names, the rest is zero.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> y, i = F.max_pool1d(gradwalk.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
        >>> F.max_unpool1d(y, i, 2)
        tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool2d`` (non-maxima are zero).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> y, i = F.max_pool2d(gradwalk.arange(4.0).reshape(1, 1, 2, 2), 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2)
        tensor([[[[0., 0.],
                  [0., 3.]]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool3d`` (non-maxima are zero).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> x = gradwalk.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> y, i = F.max_pool3d(x, 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).sum()
        tensor(7.)
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                       "max_unpool3d")
