"""Sampling at coordinates: ``grid_sample``, ``affine_grid`` and ``interpolate``'s area mode.

All of it is composed from differentiable gradwalk ops (``gather``, arithmetic, ``clamp``,
``where``, ``matmul``, adaptive average pooling), so the input and the grid get gradients and
JVPs from those ops.

Note [grid_sample as gathers]
    A grid point's normalized coordinate ``g`` in [-1, 1] becomes a pixel coordinate (``(g+1)/2
    * (size-1)`` with ``align_corners``, else ``((g+1) * size - 1) / 2``), then goes through the
    padding mode (``border`` clamps, ``reflection`` folds it back into the image, ``zeros``
    leaves it). Bilinear/trilinear sampling gathers the ``2**d`` neighbouring pixels (integer
    positions from the raw coordinates: no gradient) and weights them by the fractional parts
    (the only path from the grid to the output); a neighbour outside the image reads zero.
    ``nearest`` rounds half to even as PyTorch's ``nearbyint``; ``bicubic`` weights 4x4
    neighbours with the cubic convolution kernel (A = -0.75), each neighbour's integer position
    going through the padding mode, as PyTorch does.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..ops.conv import adaptive_avg_pool1d, adaptive_avg_pool2d
from ..ops.elementwise import where
from ..tensor import Tensor
from .functional_pooling import _raw, adaptive_avg_pool3d

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_A = -0.75  # PyTorch's cubic convolution coefficient


def _interpolate_area(input: Tensor, size, scale_factor) -> Tensor:
    """``interpolate(mode="area")``: adaptive average pooling to the output size."""
    spatial = input.ndim - 2
    if spatial not in (1, 2, 3):
        raise NotImplementedError(f"interpolate(): area mode supports 3-D, 4-D or 5-D input, "
                                  f"got {input.ndim}-D")
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined, not both"
                         if size is not None else "either size or scale_factor should be "
                         "defined")
    if size is not None:
        sizes = [int(size)] * spatial if isinstance(size, (int, np.integer)) else \
            [int(s) for s in size]
    else:
        factors = [float(scale_factor)] * spatial if isinstance(scale_factor, (int, float)) \
            else [float(f) for f in scale_factor]
        sizes = [math.floor(n * f) for n, f in zip(input.shape[2:], factors)]
    if len(sizes) != spatial:
        raise ValueError(f"Input and output must have the same number of spatial dimensions, "
                         f"but got input with spatial dimensions of {list(input.shape[2:])} "
                         f"and output size of {sizes}.")
    pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[spatial - 1]
    return pool(input, tuple(sizes))


def _unnormalize(g: Tensor, size: int, align: bool) -> Tensor:
    if align:
        return (g + 1.0) * ((size - 1) / 2.0)
    return ((g + 1.0) * size - 1.0) / 2.0


def _reflect(c: Tensor, twice_low: int, twice_high: int) -> Tensor:
    if twice_low == twice_high:
        return c * 0.0
    low = twice_low / 2.0
    span = (twice_high - twice_low) / 2.0
    a = (c - low).abs()
    flips = np.floor(_raw(a) / span)
    extra = a - Tensor._wrap(flips * span)
    even = Tensor._wrap(flips % 2 == 0)
    return where(even, extra + low, (span - extra) + low)


def _pad_coord(c: Tensor, size: int, padding: str, align: bool) -> Tensor:
    if padding == "zeros":
        return c
    if padding == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align else _reflect(c, -1, 2 * size - 1)
    return c.clamp(0, size - 1)


def _reflect_np(c: np.ndarray, twice_low: int, twice_high: int) -> np.ndarray:
    if twice_low == twice_high:
        return np.zeros_like(c)
    low = twice_low / 2.0
    span = (twice_high - twice_low) / 2.0
    a = np.abs(c - low)
    flips = np.floor(a / span)
    extra = a - flips * span
    return np.where(flips % 2 == 0, extra + low, span - extra + low)


def _pad_index(c: np.ndarray, size: int, padding: str, align: bool) -> np.ndarray:
    """The padding mode applied to integer tap positions (bicubic)."""
    if padding == "zeros":
        return c
    c = c.astype(np.float64)
    if padding == "reflection":
        c = _reflect_np(c, 0, 2 * (size - 1)) if align else _reflect_np(c, -1, 2 * size - 1)
    return np.clip(c, 0, size - 1)


class _Sampler:
    """Reads ``input`` (N, C, *sizes) at integer positions, zero outside the image."""

    def __init__(self, input: Tensor, out_shape: tuple[int, ...]):
        self.n, self.c = input.shape[0], input.shape[1]
        self.sizes = tuple(input.shape[2:])
        self.flat = input.reshape(self.n, self.c, -1)
        self.out_shape = out_shape
        self.dtype = _raw(input).dtype

    def __call__(self, pos: list[np.ndarray]) -> Tensor:
        valid = np.ones(pos[0].shape, dtype=bool)
        flat = np.zeros(pos[0].shape, dtype=np.int64)
        for p, size in zip(pos, self.sizes):
            p = p.astype(np.int64)
            valid &= (p >= 0) & (p < size)
            flat = flat * size + np.clip(p, 0, size - 1)
        idx = np.ascontiguousarray(np.broadcast_to(
            flat.reshape(self.n, 1, -1), (self.n, self.c, flat[0].size)))
        vals = self.flat.gather(2, Tensor._wrap(idx)).reshape(self.n, self.c, *self.out_shape)
        if valid.all():
            return vals
        return vals * Tensor._wrap(valid.astype(self.dtype)).unsqueeze(1)


def _cubic_weights(t: Tensor) -> list[Tensor]:
    def far(x):  # |x| in [1, 2)
        return ((x * _A - 5.0 * _A) * x + 8.0 * _A) * x - 4.0 * _A

    def near(x):  # |x| < 1
        return ((x * (_A + 2.0)) - (_A + 3.0)) * x * x + 1.0

    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalized ``grid`` positions
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), last dim (x, y[, z]) in [-1, 1].

    ``mode`` is ``"bilinear"`` (trilinear on 5-D), ``"nearest"`` or ``"bicubic"`` (4-D);
    ``padding_mode`` is ``"zeros"``, ``"border"`` or ``"reflection"``. Gradients reach both
    the input and the grid; see Note [grid_sample as gathers].

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> x = gradwalk.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
        >>> F.grid_sample(x, gradwalk.zeros(1, 1, 1, 2), align_corners=True)
        tensor([[[[1.5000]]]])
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sample(): expected a 4-D or 5-D input and a grid of the same "
                           f"number of dims, got input {list(input.shape)} and grid "
                           f"{list(grid.shape)}")
    d = input.ndim - 2
    if grid.shape[0] != input.shape[0] or grid.shape[-1] != d:
        raise RuntimeError(f"grid_sample(): expected grid of shape [N, *out, {d}] with N = "
                           f"{input.shape[0]} (the input's batch), got {list(grid.shape)}")
    if mode == "bicubic" and d != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if any(s == 0 for s in input.shape[2:]):
        raise RuntimeError(f"grid_sample(): expected input to have non-empty spatial "
                           f"dimensions, but input has sizes {list(input.shape)}")
    align = bool(align_corners)
    sizes = tuple(input.shape[2:])
    out_shape = tuple(grid.shape[1:-1])
    sample = _Sampler(input, out_shape)
    # spatial dim k (D, H, W order) reads grid component d-1-k (grid is x, y[, z])
    coords = [_unnormalize(grid[..., d - 1 - k], sizes[k], align) for k in range(d)]
    if mode == "bicubic":
        base = [np.floor(_raw(c)) for c in coords]
        weights = [_cubic_weights(c - Tensor._wrap(b)) for c, b in zip(coords, base)]
        out = None
        for i, j in itertools.product(range(4), range(4)):
            pos = [_pad_index(base[0] - 1 + i, sizes[0], padding_mode, align),
                   _pad_index(base[1] - 1 + j, sizes[1], padding_mode, align)]
            term = (weights[0][i] * weights[1][j]).unsqueeze(1) * sample(pos)
            out = term if out is None else out + term
        return out
    coords = [_pad_coord(c, s, padding_mode, align) for c, s in zip(coords, sizes)]
    if mode == "nearest":
        return sample([np.rint(_raw(c)) for c in coords])
    base = [np.floor(_raw(c)) for c in coords]
    frac = [c - Tensor._wrap(b) for c, b in zip(coords, base)]
    out = None
    for corner in itertools.product((0, 1), repeat=d):
        w = None
        for k, bit in enumerate(corner):
            wk = frac[k] if bit else 1.0 - frac[k]
            w = wk if w is None else w * wk
        term = w.unsqueeze(1) * sample([b + bit for b, bit in zip(base, corner)])
        out = term if out is None else out + term
    return out


def _base_coords(n: int, align: bool) -> np.ndarray:
    if n <= 1:
        return np.zeros(max(n, 0))
    c = np.linspace(-1.0, 1.0, n)
    return c if align else c * (n - 1) / n


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W), or (N, 3, 4) for (N, C, D, H, W): what ``grid_sample`` takes.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> theta = gradwalk.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(theta, (1, 1, 1, 2), align_corners=True)
        tensor([[[[-1.,  0.],
                  [ 1.,  0.]]]])
    """
    size = tuple(int(s) for s in size)
    align = bool(align_corners)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    d = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape) != (size[0], d, d + 1):
        raise ValueError(f"Expected a batch of {d}D affine matrices of shape Nx{d}x{d + 1} "
                         f"for size {list(size)}. Got {list(theta.shape)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    spatial = size[2:]
    axes = [_base_coords(n, align) for n in spatial]  # D, H, W order
    mesh = np.meshgrid(*axes, indexing="ij")
    # columns x, y[, z], 1: x runs along the last spatial dim
    cols = [mesh[d - 1 - k] for k in range(d)] + [np.ones(spatial)]
    base = np.stack(cols, axis=-1).reshape(-1, d + 1).astype(_raw(theta).dtype)
    grid = Tensor._wrap(base) @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, d)
