"""More layer modules with PyTorch's arguments, ``repr`` and ``state_dict`` keys: padding,
channel dropout, pixel and channel shuffles, ``Bilinear``, instance norms and upsampling."""

from __future__ import annotations

import math

import numpy as np

from ... import creation
from ...tensor import Tensor
from .. import functional_layers as L
from .. import init
from ..functional import pad
from ..parameter import Parameter
from .dropout import Dropout
from .module import Module


def _tuple(padding, n: int) -> tuple[int, ...]:
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(int(p) for p in padding)
    if len(padding) != 2 * n:
        raise ValueError(f"expected {2 * n} padding values, got {len(padding)}")
    return padding


class _Pad(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _tuple(padding, self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _pad_class(name: str, base, mode: str, dims: int, doc: str):
    return type(name, (base,), {"_mode": mode, "_dims": dims, "__doc__": doc,
                                "__module__": __name__})


_PAD_DOC = """{what} the last {dims} dimension(s) by ``padding`` (one int, or a tuple of
    {n}: left, right{more}).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.nn.{name}({args})(gradwalk.ones({shape})).shape)
        {out}
    """

ZeroPad1d = _pad_class("ZeroPad1d", _Pad, "constant", 1, _PAD_DOC.format(
    what="Zero-pad", dims=1, n=2, more="", name="ZeroPad1d", args="2", shape="1, 3",
    out="(1, 7)"))
ZeroPad2d = _pad_class("ZeroPad2d", _Pad, "constant", 2, _PAD_DOC.format(
    what="Zero-pad", dims=2, n=4, more=", top, bottom", name="ZeroPad2d", args="1",
    shape="1, 2, 2", out="(1, 4, 4)"))
ZeroPad3d = _pad_class("ZeroPad3d", _Pad, "constant", 3, _PAD_DOC.format(
    what="Zero-pad", dims=3, n=6, more=", top, bottom, front, back", name="ZeroPad3d",
    args="1", shape="1, 1, 1, 1", out="(1, 3, 3, 3)"))
ReflectionPad1d = _pad_class("ReflectionPad1d", _Pad, "reflect", 1, _PAD_DOC.format(
    what="Reflect-pad", dims=1, n=2, more="", name="ReflectionPad1d", args="1",
    shape="1, 3", out="(1, 5)"))
ReflectionPad2d = _pad_class("ReflectionPad2d", _Pad, "reflect", 2, _PAD_DOC.format(
    what="Reflect-pad", dims=2, n=4, more=", top, bottom", name="ReflectionPad2d", args="1",
    shape="1, 3, 3", out="(1, 5, 5)"))
ReflectionPad3d = _pad_class("ReflectionPad3d", _Pad, "reflect", 3, _PAD_DOC.format(
    what="Reflect-pad", dims=3, n=6, more=", top, bottom, front, back",
    name="ReflectionPad3d", args="1", shape="1, 2, 2, 2", out="(1, 4, 4, 4)"))
ReplicationPad1d = _pad_class("ReplicationPad1d", _Pad, "replicate", 1, _PAD_DOC.format(
    what="Edge-pad", dims=1, n=2, more="", name="ReplicationPad1d", args="1", shape="1, 3",
    out="(1, 5)"))
ReplicationPad2d = _pad_class("ReplicationPad2d", _Pad, "replicate", 2, _PAD_DOC.format(
    what="Edge-pad", dims=2, n=4, more=", top, bottom", name="ReplicationPad2d", args="1",
    shape="1, 2, 2", out="(1, 4, 4)"))
ReplicationPad3d = _pad_class("ReplicationPad3d", _Pad, "replicate", 3, _PAD_DOC.format(
    what="Edge-pad", dims=3, n=6, more=", top, bottom, front, back",
    name="ReplicationPad3d", args="1", shape="1, 1, 1, 1", out="(1, 3, 3, 3)"))
CircularPad1d = _pad_class("CircularPad1d", _Pad, "circular", 1, _PAD_DOC.format(
    what="Circular-pad", dims=1, n=2, more="", name="CircularPad1d", args="1", shape="1, 3",
    out="(1, 5)"))
CircularPad2d = _pad_class("CircularPad2d", _Pad, "circular", 2, _PAD_DOC.format(
    what="Circular-pad", dims=2, n=4, more=", top, bottom", name="CircularPad2d", args="1",
    shape="1, 2, 2", out="(1, 4, 4)"))
CircularPad3d = _pad_class("CircularPad3d", _Pad, "circular", 3, _PAD_DOC.format(
    what="Circular-pad", dims=3, n=6, more=", top, bottom, front, back",
    name="CircularPad3d", args="1", shape="1, 2, 2, 2", out="(1, 4, 4, 4)"))
ConstantPad1d = _pad_class("ConstantPad1d", _ConstantPad, "constant", 1, _PAD_DOC.format(
    what="Pad with ``value``", dims=1, n=2, more="", name="ConstantPad1d", args="2, 3.5",
    shape="1, 3", out="(1, 7)"))
ConstantPad2d = _pad_class("ConstantPad2d", _ConstantPad, "constant", 2, _PAD_DOC.format(
    what="Pad with ``value``", dims=2, n=4, more=", top, bottom", name="ConstantPad2d",
    args="1, 0.0", shape="1, 2, 2", out="(1, 4, 4)"))
ConstantPad3d = _pad_class("ConstantPad3d", _ConstantPad, "constant", 3, _PAD_DOC.format(
    what="Pad with ``value``", dims=3, n=6, more=", top, bottom, front, back",
    name="ConstantPad3d", args="1, 0.0", shape="1, 1, 1, 1", out="(1, 3, 3, 3)"))


class Dropout1d(Dropout):
    """Zero whole channels of ``(N, C, L)`` inputs in training.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Dropout1d(0.5).eval()(gradwalk.ones(1, 2, 3)).sum()
        tensor(6.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return L.dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of ``(N, C, H, W)`` inputs in training.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Dropout2d().eval()(gradwalk.ones(1, 2, 2, 2)).sum()
        tensor(8.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return L.dropout2d(input, self.p, self.training)


class Dropout3d(Dropout):
    """Zero whole channels of ``(N, C, D, H, W)`` inputs in training.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Dropout3d().eval()(gradwalk.ones(1, 1, 1, 1, 2)).sum()
        tensor(2.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return L.dropout3d(input, self.p, self.training)


class AlphaDropout(Dropout):
    """Dropout for SELU networks (keeps their mean and variance).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AlphaDropout(0.2).eval()(gradwalk.ones(3)).sum()
        tensor(3.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return L.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """``AlphaDropout`` of whole channels.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.FeatureAlphaDropout().eval()(gradwalk.ones(1, 2, 2)).sum()
        tensor(4.)
    """

    def forward(self, input: Tensor) -> Tensor:
        return L.feature_alpha_dropout(input, self.p, self.training)


class PixelShuffle(Module):
    """``(*, C*r*r, H, W)`` to ``(*, C, H*r, W*r)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.PixelShuffle(2)(gradwalk.ones(1, 8, 3, 3)).shape
        gradwalk.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return L.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H*r, W*r)`` to ``(*, C*r*r, H, W)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.PixelUnshuffle(2)(gradwalk.ones(1, 1, 4, 4)).shape
        gradwalk.Size([1, 4, 2, 2])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return L.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.ChannelShuffle(2)(gradwalk.ones(1, 4, 2)).shape
        gradwalk.Size([1, 4, 2])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return L.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with ``weight`` ``(out, in1, in2)``, initialized
    ``U(-1/sqrt(in1), 1/sqrt(in1))`` as in PyTorch.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Bilinear(2, 3, 4)(gradwalk.ones(5, 2), gradwalk.ones(5, 3)).shape
        gradwalk.Size([5, 4])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in1_features, in2_features),
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty((out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weights (and bias) from ``U(-1/sqrt(in1), 1/sqrt(in1))``."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return L.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class _InstanceNorm(Module):
    _dims = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype))
            self.bias = Parameter(creation.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, input: Tensor) -> Tensor:
        expected = self._dims + 2
        if input.dim() not in (expected - 1, expected):
            raise ValueError(f"{type(self).__name__}: expected {expected - 1}D or {expected}D "
                             f"input (got {input.dim()}D input)")
        unbatched = input.dim() == expected - 1
        x = input.unsqueeze(0) if unbatched else input
        use_stats = self.training or not self.track_running_stats
        # PyTorch's InstanceNorm keeps num_batches_tracked at 0 (only BatchNorm counts)
        out = L.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_stats, self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Normalize each channel of each ``(N, C, L)`` sample over ``L``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.InstanceNorm1d(2)(gradwalk.randn(3, 2, 5)).shape
        gradwalk.Size([3, 2, 5])
    """

    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalize each channel of each ``(N, C, H, W)`` sample over ``H, W``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.InstanceNorm2d(2)(gradwalk.randn(1, 2, 3, 3)).shape
        gradwalk.Size([1, 2, 3, 3])
    """

    _dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Normalize each channel of each ``(N, C, D, H, W)`` sample.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.InstanceNorm3d(1)(gradwalk.randn(1, 1, 2, 2, 2)).shape
        gradwalk.Size([1, 1, 2, 2, 2])
    """

    _dims = 3


class Upsample(Module):
    """Resize by ``size`` or ``scale_factor`` with ``interpolate``'s modes.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Upsample(scale_factor=2)(gradwalk.ones(1, 1, 2, 2)).shape
        gradwalk.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return L.interpolate(input, self.size, self.scale_factor, self.mode,
                             self.align_corners, self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of ``(N, C, H, W)`` inputs.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.UpsamplingNearest2d(scale_factor=2)(gradwalk.ones(1, 1, 1, 1)).shape
        gradwalk.Size([1, 1, 2, 2])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (as PyTorch's).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.UpsamplingBilinear2d(scale_factor=2)(gradwalk.ones(1, 1, 2, 2)).shape
        gradwalk.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d", "Dropout1d", "Dropout2d", "Dropout3d",
           "AlphaDropout", "FeatureAlphaDropout", "PixelShuffle", "PixelUnshuffle",
           "ChannelShuffle", "Bilinear", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
