"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ... import creation
from ...creation import DTypeLike
from ...ops import conv as C
from ...ops import shape as S
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .module import Module

_IntOrTuple = int | tuple[int, ...]  # a size given once for every dim, or per dim


class _ConvNd(Module):
    _dims = 0
    _fn = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _IntOrTuple,
                 stride: _IntOrTuple = 1, padding: _IntOrTuple | str = 0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        d = self._dims
        name = type(self).__name__
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                             f"'circular', but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = C._tuple(kernel_size, d, "kernel_size", name)
        self.stride = C._tuple(stride, d, "stride", name)
        self.dilation = C._tuple(dilation, d, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = C._tuple(padding, d, "padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter(creation.empty(
            (out_channels, in_channels // groups) + self.kernel_size, dtype=dtype,
            device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the parameters with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias) -> Tensor:
        fn = type(self)._fn
        if self.padding_mode != "zeros":
            pads = C._conv_padding(self.padding, self.kernel_size, self.dilation, self.stride,
                                   type(self).__name__)
            flat = []
            for lo, hi in reversed(pads):
                flat += [lo, hi]
            x = S.pad(input, tuple(flat), mode=self.padding_mode)
            return fn(x, weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.kernel_size):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) with weight (C_out, C_in/groups, k).

    Example:
        >>> import gradwalk
        >>> conv = gradwalk.nn.Conv1d(3, 8, 3, padding=1)
        >>> conv(gradwalk.zeros(2, 3, 10)).shape
        gradwalk.Size([2, 8, 10])
        >>> conv
        Conv1d(3, 8, kernel_size=(3,), stride=(1,), padding=(1,))
    """

    _dims = 1
    _fn = staticmethod(C.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) with weight (C_out, C_in/groups, kh, kw); stride,
    padding (ints, tuples, ``"same"``, ``"valid"``), dilation, groups and padding modes as in
    PyTorch. One fused op (im2col + matmul).

    Example:
        >>> import gradwalk
        >>> conv = gradwalk.nn.Conv2d(3, 16, 3, stride=2, padding=1)
        >>> conv(gradwalk.zeros(4, 3, 32, 32)).shape
        gradwalk.Size([4, 16, 16, 16])
        >>> conv
        Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    """

    _dims = 2
    _fn = staticmethod(C.conv2d)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Conv3d(1, 2, 3)(gradwalk.zeros(1, 1, 4, 4, 4)).shape
        gradwalk.Size([1, 2, 2, 2, 2])
    """

    _dims = 3
    _fn = staticmethod(C.conv3d)


class _ConvTransposeNd(_ConvNd):
    _tfn = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: _IntOrTuple,
                 stride: _IntOrTuple = 1, padding: _IntOrTuple | str = 0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, not {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = C._tuple(output_padding, self._dims, "output_padding", name)
        # PyTorch's layout for transposed convolutions: (in, out/groups, *kernel)
        self.weight = Parameter(creation.empty(
            (in_channels, out_channels // groups) + self.kernel_size, dtype=dtype,
            device=device))
        self.reset_parameters()

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        d = self._dims
        return C._conv_transposend(input, self.weight, self.bias, self.stride, self.padding,
                                   self.output_padding, self.groups, self.dilation, d,
                                   type(self).__name__, output_size=output_size)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        return s.format(**self.__dict__)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (N, C_in, L) -> (N, C_out, L_out), weight
    (C_in, C_out/groups, k).

    Example:
        >>> import gradwalk
        >>> up = gradwalk.nn.ConvTranspose1d(4, 2, 2, stride=2)
        >>> up(gradwalk.zeros(1, 4, 5)).shape
        gradwalk.Size([1, 2, 10])
    """

    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the adjoint of ``Conv2d``), e.g. for upsampling in
    decoders; ``output_size`` in ``forward`` picks among the possible output shapes.

    Example:
        >>> import gradwalk
        >>> up = gradwalk.nn.ConvTranspose2d(8, 4, 3, stride=2)
        >>> up(gradwalk.zeros(2, 8, 5, 5)).shape
        gradwalk.Size([2, 4, 11, 11])
        >>> up(gradwalk.zeros(2, 8, 5, 5), output_size=(12, 12)).shape
        gradwalk.Size([2, 4, 12, 12])
        >>> up
        ConvTranspose2d(8, 4, kernel_size=(3, 3), stride=(2, 2))
    """

    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out), weight
    (C_in, C_out/groups, kD, kH, kW).

    Example:
        >>> import gradwalk
        >>> up = gradwalk.nn.ConvTranspose3d(2, 3, 2, stride=2)
        >>> up(gradwalk.zeros(1, 2, 3, 3, 3)).shape
        gradwalk.Size([1, 3, 6, 6, 6])
    """

    _dims = 3
