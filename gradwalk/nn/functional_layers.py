"""More layer functions of ``gradwalk.nn.functional``, composed from primitive ops: channel
dropout, alpha dropout, pixel and channel shuffles, ``bilinear``, ``instance_norm`` and
``interpolate``.

``interpolate`` resizes one spatial dimension at a time (all its modes are separable): the
source coordinate of every output position is PyTorch's (``align_corners``, ``scale_factor``
versus a recomputed scale, the clamp at the border), and the output is a weighted sum of
``index_select`` gathers, so the gradient scatters back through the same gathers.
"""

from __future__ import annotations

import math

import numpy as np

from ..creation import _rng
from ..ops.linalg import einsum
from ..tensor import Tensor
from .functional_sampling import _interpolate_area


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _feature_dropout(input: Tensor, p: float, training: bool, spatial: int,
                     name: str) -> Tensor:
    _check_p(p)
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D input, but "
                           f"received a {input.dim()}D input")
    if not training or p == 0.0:
        return input
    batched = input.dim() == spatial + 2
    shape = tuple(input.shape[:2] if batched else input.shape[:1]) + (1,) * spatial
    keep = _rng().random(shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return input * Tensor._wrap((keep * scale).astype(input.detach().numpy().dtype))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of a ``(N, C, L)`` or ``(C, L)`` input with probability ``p``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.ones(1, 4, 3)
        >>> gradwalk.nn.functional.dropout1d(x, 0.5, training=False) is x
        True
    """
    return _feature_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of a ``(N, C, H, W)`` or ``(C, H, W)`` input with probability ``p``.

    Example:
        >>> import gradwalk
        >>> y = gradwalk.nn.functional.dropout2d(gradwalk.ones(2, 8, 3, 3), 0.5)
        >>> sorted(set(y.flatten().tolist()))
        [0.0, 2.0]
    """
    return _feature_dropout(input, p, training, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of a ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.dropout3d(gradwalk.ones(1, 2, 1, 1, 1), 0.0).sum()
        tensor(2.)
    """
    return _feature_dropout(input, p, training, 3, "dropout3d")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _alpha_dropout(input: Tensor, p: float, training: bool, feature: bool) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5
    b = -a * alpha_p * p
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature else tuple(input.shape)
    keep = (_rng().random(shape) >= p).astype(input.detach().numpy().dtype)
    keep_t = Tensor._wrap(keep)
    return input * (keep_t * a) + Tensor._wrap((1 - keep) * alpha_p * a + b)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps the self-normalizing mean and variance of SELU networks.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.ones(3)
        >>> gradwalk.nn.functional.alpha_dropout(x, 0.5) is x
        True
    """
    return _alpha_dropout(input, p, training, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.ones(1, 2, 3)
        >>> gradwalk.nn.functional.feature_alpha_dropout(x, 0.5) is x
        True
    """
    return _alpha_dropout(input, p, training, True)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C*r*r, H, W)`` into ``(*, C, H*r, W*r)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.pixel_shuffle(gradwalk.arange(4.0).reshape(1, 4, 1, 1), 2)
        tensor([[[[0., 1.],
                  [2., 3.]]]])
    """
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange ``(*, C, H*r, W*r)`` into ``(*, C*r*r, H, W)`` (``pixel_shuffle``'s inverse).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(4.0).reshape(1, 1, 2, 2)
        >>> gradwalk.nn.functional.pixel_unshuffle(x, 2).flatten()
        tensor([0., 1., 2., 3.])
    """
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but got {h} and {w} for {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups: ``(N, g*k, ...)`` as ``(N, k*g, ...)``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(4.0).reshape(1, 4, 1)
        >>> gradwalk.nn.functional.channel_shuffle(x, 2).flatten()
        tensor([0., 2., 1., 3.])
    """
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``y_k = x1 @ W_k @ x2 + b_k`` for each output feature ``k``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.ones(1, 2, 2)
        >>> gradwalk.nn.functional.bilinear(gradwalk.ones(1, 2), gradwalk.ones(1, 2), w)
        tensor([[4.]])
    """
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), got "
                           f"{list(weight.shape)}")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input1 {list(input1.shape)} and input2 "
                           f"{list(input2.shape)} do not match weight {list(weight.shape)}")
    lead = tuple(input1.shape[:-1])
    a = input1.reshape(-1, input1.shape[-1])
    b = input2.reshape(-1, input2.shape[-1])
    out = einsum("bi,kij,bj->bk", a, weight, b).reshape(*lead, weight.shape[0])
    return out if bias is None else out + bias


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its spatial positions.

    Example:
        >>> import gradwalk
        >>> y = gradwalk.nn.functional.instance_norm(gradwalk.arange(6.0).reshape(1, 2, 3))
        >>> [round(v, 4) for v in y[0, 0].tolist()]
        [-1.2247, 0.0, 1.2247]
    """
    if input.dim() < 3:
        raise ValueError(f"instance_norm: expected a 3D or more input (N, C, ...), got "
                         f"{input.dim()}D")
    axes = tuple(range(2, input.dim()))
    shape = (1, input.shape[1]) + (1,) * (input.dim() - 2)
    if use_input_stats:
        mean = input.mean(dim=axes, keepdim=True)
        var = ((input - mean) ** 2).mean(dim=axes, keepdim=True)
        if running_mean is not None or running_var is not None:
            count = int(np.prod([input.shape[a] for a in axes]))
            batch_mean = mean.detach().mean(dim=0).reshape(-1)
            batch_var = var.detach().mean(dim=0).reshape(-1) * count / max(count - 1, 1)
            if running_mean is not None:
                running_mean._data[...] = ((1 - momentum) * running_mean.detach()
                                          + momentum * batch_mean).numpy()
            if running_var is not None:
                running_var._data[...] = ((1 - momentum) * running_var.detach()
                                         + momentum * batch_var).numpy()
    else:
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _source_scale(n_in: int, n_out: int, align_corners: bool, scale: float | None) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _along(x: Tensor, dim: int, idx: np.ndarray) -> Tensor:
    return x.index_select(dim, Tensor._wrap(idx.astype(np.int64)))


def _weights(w: np.ndarray, x: Tensor, dim: int) -> Tensor:
    shape = [1] * x.dim()
    shape[dim] = len(w)
    return Tensor._wrap(w.astype(x.detach().numpy().dtype).reshape(shape))


def _cubic(t: np.ndarray) -> list[np.ndarray]:
    """The four cubic-convolution weights (A = -0.75) for offsets -1, 0, 1, 2."""
    a = -0.75

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _resize_dim(x: Tensor, dim: int, n_out: int, mode: str, align_corners: bool,
                scale: float | None) -> Tensor:
    n_in = x.shape[dim]
    s = _source_scale(n_in, n_out, align_corners, scale)
    dst = np.arange(n_out, dtype=np.float64)
    if mode == "nearest":
        src = np.minimum(np.floor(dst * (n_in / n_out if scale is None else 1.0 / scale)),
                         n_in - 1)
        return _along(x, dim, src)
    if mode == "nearest-exact":
        src = np.minimum(np.floor((dst + 0.5) * (n_in / n_out if scale is None else 1.0 / scale)),
                         n_in - 1)
        return _along(x, dim, src)
    src = dst * s if align_corners else s * (dst + 0.5) - 0.5
    if mode == "bicubic":
        i0 = np.floor(src)
        t = src - i0
        out = None
        for k, w in zip(range(-1, 3), _cubic(t)):
            idx = np.clip(i0 + k, 0, n_in - 1)
            term = _along(x, dim, idx) * _weights(w, x, dim)
            out = term if out is None else out + term
        return out
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    return _along(x, dim, i0) * _weights(1 - lam, x, dim) + \
        _along(x, dim, i1) * _weights(lam, x, dim)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions (all but the first two) of ``input``.

    ``mode`` is ``"nearest"``, ``"nearest-exact"``, ``"linear"`` (3-D input), ``"bilinear"``
    or ``"bicubic"`` (4-D) or ``"trilinear"`` (5-D); give ``size`` or ``scale_factor``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[[0.0, 1.0]]])
        >>> gradwalk.nn.functional.interpolate(x, scale_factor=2, mode="linear")
        tensor([[[0.0000, 0.2500, 0.7500, 1.0000]]])
    """
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    if mode == "area":
        return _interpolate_area(input, size, scale_factor)
    spatial = input.dim() - 2
    if spatial < 1:
        raise ValueError(f"interpolate(): expected at least a 3-D input (N, C, ...), got "
                         f"{input.dim()}-D")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != spatial:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{_MODE_DIMS[mode] + 2}D input")
    if mode not in ("nearest", "nearest-exact", *_MODE_DIMS):
        raise NotImplementedError(f"interpolate(): mode {mode!r} is not supported; use "
                                  "nearest, nearest-exact, linear, bilinear, bicubic or "
                                  "trilinear")
    if align_corners is not None and mode in ("nearest", "nearest-exact"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    align = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined, not both"
                         if size is not None else "either size or scale_factor should be "
                         "defined")
    in_sizes = list(input.shape[2:])
    if size is not None:
        sizes = [int(size)] * spatial if isinstance(size, int) else [int(s) for s in size]
        if len(sizes) != spatial:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{in_sizes} and output size of {sizes}.")
        scales: list[float | None] = [None] * spatial
    else:
        factors = [float(scale_factor)] * spatial if isinstance(scale_factor, int | float) \
            else [float(f) for f in scale_factor]
        if len(factors) != spatial:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{in_sizes} and scale_factor of shape {factors}.")
        sizes = [math.floor(n * f) for n, f in zip(in_sizes, factors)]
        scales = [None] * spatial if recompute_scale_factor else factors
    out = input
    for k in range(spatial):
        if sizes[k] != in_sizes[k] or scales[k] not in (None, 1.0) or mode == "bicubic":
            out = _resize_dim(out, 2 + k, sizes[k], mode, align, scales[k])
    return out


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """``interpolate`` under its old name.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.upsample(gradwalk.ones(1, 1, 1), scale_factor=2).shape
        gradwalk.Size([1, 1, 2])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "bilinear", "instance_norm",
           "interpolate", "upsample"]
