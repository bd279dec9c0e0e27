"""More layers: 3-D and adaptive max pooling, max unpooling, ``Fold``/``Unfold``, ``RMSNorm``,
``LocalResponseNorm``, ``EmbeddingBag`` and two margin losses, as modules over
``gradwalk.nn.functional``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ... import creation
from ...autograd.grad_mode import no_grad
from ...creation import DTypeLike
from ...ops import conv as _C
from ...tensor import Tensor
from .. import functional_more as M
from .. import functional_pooling as P
from .. import init
from ..functional_ctc import ctc_loss
from ..parameter import Parameter
from .loss import _Loss
from .module import Module

_IntOrTuple = int | tuple[int, ...]


class MaxPool3d(Module):
    """Max over sliding windows of (N, C, D, H, W).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MaxPool3d(2)(gradwalk.zeros(1, 2, 4, 4, 4)).shape
        gradwalk.Size([1, 2, 2, 2, 2])
    """

    def __init__(self, kernel_size: _IntOrTuple, stride: _IntOrTuple | None = None,
                 padding: _IntOrTuple = 0, dilation: _IntOrTuple = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return P.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool3d(Module):
    """Average over sliding windows of (N, C, D, H, W).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AvgPool3d(2)(gradwalk.ones(1, 1, 2, 2, 2))
        tensor([[[[[1.]]]]])
    """

    def __init__(self, kernel_size: _IntOrTuple, stride: _IntOrTuple | None = None,
                 padding: _IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    """Average pooling of (N, C, D, H, W) to ``output_size``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AdaptiveAvgPool3d(1)(gradwalk.ones(1, 2, 3, 4, 5)).shape
        gradwalk.Size([1, 2, 1, 1, 1])
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return P.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    _fn = staticmethod(P.adaptive_max_pool1d)

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return type(self)._fn(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) to ``output_size`` positions.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AdaptiveMaxPool1d(2)(gradwalk.tensor([[[1.0, 4.0, 3.0, 2.0]]]))
        tensor([[[4., 3.]]])
    """

    _fn = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) to ``output_size``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AdaptiveMaxPool2d((1, 2))(gradwalk.zeros(1, 3, 5, 5)).shape
        gradwalk.Size([1, 3, 1, 2])
    """

    _fn = staticmethod(P.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) to ``output_size``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.AdaptiveMaxPool3d(1)(gradwalk.zeros(1, 3, 2, 2, 2)).shape
        gradwalk.Size([1, 3, 1, 1, 1])
    """

    _fn = staticmethod(P.adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    _fn = staticmethod(P.max_unpool1d)
    _d = 1

    def __init__(self, kernel_size: _IntOrTuple, stride: _IntOrTuple | None = None,
                 padding: _IntOrTuple = 0) -> None:
        super().__init__()
        d, op = self._d, type(self).__name__
        self.kernel_size = _C._tuple(kernel_size, d, "kernel_size", op)
        self.stride = _C._tuple(stride if stride is not None else kernel_size, d, "stride", op)
        self.padding = _C._tuple(padding, d, "padding", op)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool1d`` (non-maxima are zero).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[[1.0, 3.0, 2.0, 0.0]]])
        >>> y, i = gradwalk.nn.MaxPool1d(2, return_indices=True)(x)
        >>> gradwalk.nn.MaxUnpool1d(2)(y, i)
        tensor([[[0., 3., 2., 0.]]])
    """

    _fn = staticmethod(P.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d`` (non-maxima are zero).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(16.0).reshape(1, 1, 4, 4)
        >>> y, i = gradwalk.nn.MaxPool2d(2, return_indices=True)(x)
        >>> gradwalk.nn.MaxUnpool2d(2)(y, i).shape
        gradwalk.Size([1, 1, 4, 4])
    """

    _fn = staticmethod(P.max_unpool2d)
    _d = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d`` (non-maxima are zero).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> y, i = gradwalk.nn.MaxPool3d(2, return_indices=True)(x)
        >>> gradwalk.nn.MaxUnpool3d(2)(y, i).shape
        gradwalk.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(P.max_unpool3d)
    _d = 3


class Unfold(Module):
    """Sliding local blocks as columns (im2col), ``functional.unfold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Unfold(2)(gradwalk.zeros(1, 3, 4, 4)).shape
        gradwalk.Size([1, 12, 9])
    """

    def __init__(self, kernel_size: _IntOrTuple, dilation: _IntOrTuple = 1,
                 padding: _IntOrTuple = 0, stride: _IntOrTuple = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return M.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns summed back into an image (col2im), ``functional.fold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Fold((3, 3), 2)(gradwalk.ones(1, 4, 4)).sum()
        tensor(16.)
    """

    def __init__(self, output_size: _IntOrTuple, kernel_size: _IntOrTuple,
                 dilation: _IntOrTuple = 1, padding: _IntOrTuple = 0,
                 stride: _IntOrTuple = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return M.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class RMSNorm(Module):
    """Root-mean-square normalization over the last dims, with an elementwise weight.

    Example:
        >>> import gradwalk
        >>> norm = gradwalk.nn.RMSNorm(4)
        >>> norm(gradwalk.randn(2, 4)).shape
        gradwalk.Size([2, 4])
        >>> norm
        RMSNorm((4,), eps=None, elementwise_affine=True)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: str | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(self.normalized_shape, dtype=dtype,
                                                  device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """Set the weight to ones."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return M.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Normalization across neighbouring channels, ``functional.local_response_norm``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LocalResponseNorm(2)
        LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return M.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, ``functional.embedding_bag``; the weight
    is drawn from N(0, 1) (the padding row zeroed).

    Example:
        >>> import gradwalk
        >>> bag = gradwalk.nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(gradwalk.tensor([1, 2, 4, 5]), gradwalk.tensor([0, 2])).shape
        gradwalk.Size([2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device: str | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(creation.empty((num_embeddings, embedding_dim), dtype=dtype,
                                                   device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError("Shape of weight does not match num_embeddings and "
                                 "embedding_dim")
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        """Draw the weight from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return M.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq=True"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An ``EmbeddingBag`` holding ``embeddings`` (frozen unless ``freeze=False``).

        Example:
            >>> import gradwalk
            >>> bag = gradwalk.nn.EmbeddingBag.from_pretrained(gradwalk.eye(3), mode="sum")
            >>> bag(gradwalk.tensor([[0, 2]]))
            tensor([[1., 0., 1.]])
        """
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function (default ``pairwise_distance``).

    Example:
        >>> import gradwalk
        >>> a = gradwalk.zeros(1, 2)
        >>> gradwalk.nn.TripletMarginWithDistanceLoss()(a, a, a + 3)
        tensor(0.)
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return M.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss, ``functional.multilabel_margin_loss``.

    Example:
        >>> import gradwalk
        >>> loss = gradwalk.nn.MultiLabelMarginLoss()
        >>> loss(gradwalk.tensor([[0.1, 0.2, 0.4, 0.8]]), gradwalk.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return M.multilabel_margin_loss(input, target, reduction=self.reduction)


class CTCLoss(_Loss):
    """The connectionist temporal classification loss, ``functional.ctc_loss``.

    Example:
        >>> import gradwalk
        >>> lp = gradwalk.full((2, 1, 2), 0.5).log()
        >>> gradwalk.nn.CTCLoss(reduction="sum")(lp, gradwalk.tensor([[1]]), [2], [1])
        tensor(0.2877)
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(None, None, reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths,
                target_lengths) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)


__all__ = ["AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "AvgPool3d", "CTCLoss", "EmbeddingBag", "Fold", "LocalResponseNorm", "MaxPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "MultiLabelMarginLoss", "RMSNorm",
           "TripletMarginWithDistanceLoss", "Unfold"]
