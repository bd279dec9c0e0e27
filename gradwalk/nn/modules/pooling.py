"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``."""

from __future__ import annotations

from ...ops import conv as C
from ...tensor import Tensor
from .module import Module

_IntOrTuple = int | tuple[int, ...]  # a size given once for every dim, or per dim


class _MaxPoolNd(Module):
    def __init__(self, kernel_size: _IntOrTuple, stride: _IntOrTuple | None = None,
                 padding: _IntOrTuple = 0, dilation: _IntOrTuple = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MaxPool1d(2)(gradwalk.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[3., 2.]]])
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return C.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W); the gradient goes to each window's maximum.

    Example:
        >>> import gradwalk
        >>> pool = gradwalk.nn.MaxPool2d(2)
        >>> pool(gradwalk.zeros(1, 3, 8, 8)).shape
        gradwalk.Size([1, 3, 4, 4])
        >>> pool
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return C.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """Average over sliding windows of (N, C, L).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AvgPool1d(2)(gradwalk.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        tensor([[[2., 1.]]])
    """

    def __init__(self, kernel_size: _IntOrTuple, stride: _IntOrTuple | None = None,
                 padding: _IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = C._tuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = C._tuple(stride if stride is not None else kernel_size, 1, "stride",
                               "AvgPool1d")
        self.padding = C._tuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class AvgPool2d(Module):
    """Average over sliding windows of (N, C, H, W).

    Example:
        >>> import gradwalk
        >>> pool = gradwalk.nn.AvgPool2d(2)
        >>> pool(gradwalk.ones(1, 1, 4, 4))
        tensor([[[[1., 1.],
                  [1., 1.]]]])
        >>> pool
        AvgPool2d(kernel_size=2, stride=2, padding=0)
    """

    def __init__(self, kernel_size: _IntOrTuple, stride: _IntOrTuple | None = None,
                 padding: _IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return C.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average (N, C, L) down to ``output_size`` positions.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AdaptiveAvgPool1d(1)(gradwalk.tensor([[[1.0, 2.0, 3.0]]]))
        tensor([[[2.]]])
    """

    def __init__(self, output_size: int | tuple[int | None, ...]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return C.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average (N, C, H, W) down to ``output_size`` (``(1, 1)`` is global average pooling).

    Example:
        >>> import gradwalk
        >>> pool = gradwalk.nn.AdaptiveAvgPool2d((1, 1))
        >>> pool(gradwalk.ones(2, 8, 5, 5)).shape
        gradwalk.Size([2, 8, 1, 1])
        >>> pool
        AdaptiveAvgPool2d(output_size=(1, 1))
    """

    def __init__(self, output_size: int | tuple[int | None, ...]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return C.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
