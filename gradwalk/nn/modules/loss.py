"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``L1Loss``, ``SmoothL1Loss``,
``HuberLoss``, ``BCELoss``, ``BCEWithLogitsLoss``."""

from __future__ import annotations

from ...ops import losses as L
from ...ops import nn as F
from ...tensor import Tensor
from .module import Module


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = L._legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C, ...) against class indices (N, ...) or class
    probabilities (the logits' shape); ``weight``, ``ignore_index`` and ``label_smoothing`` as
    in PyTorch.

    Example:
        >>> import gradwalk
        >>> loss = gradwalk.nn.CrossEntropyLoss()
        >>> loss(gradwalk.tensor([[2.0, 0.0], [0.0, 2.0]]), gradwalk.tensor([0, 1]))
        tensor(0.1269)
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, on log-probabilities (N, C, ...).

    Example:
        >>> import gradwalk
        >>> logp = gradwalk.log_softmax(gradwalk.tensor([[0.0, 0.0]]), dim=1)
        >>> gradwalk.nn.NLLLoss()(logp, gradwalk.tensor([1]))
        tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MSELoss()(gradwalk.tensor([1.0, 3.0]), gradwalk.tensor([1.0, 1.0]))
        tensor(2.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.L1Loss()(gradwalk.tensor([1.0, 3.0]), gradwalk.tensor([2.0, 1.0]))
        tensor(1.5000)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above it.

    Example:
        >>> import gradwalk
        >>> loss = gradwalk.nn.SmoothL1Loss(beta=1.0)
        >>> loss(gradwalk.tensor([0.5, 3.0]), gradwalk.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta``-scaled absolute error above it.

    Example:
        >>> import gradwalk
        >>> loss = gradwalk.nn.HuberLoss(delta=2.0)
        >>> loss(gradwalk.tensor([0.5, 3.0]), gradwalk.tensor([0.0, 0.0]))
        tensor(2.0625)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1].

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.BCELoss()(gradwalk.tensor([0.5, 0.5]), gradwalk.tensor([1.0, 0.0]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid plus binary cross-entropy, computed stably on logits; ``pos_weight`` weighs the
    positive class.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.BCEWithLogitsLoss()(gradwalk.tensor([0.0]), gradwalk.tensor([1.0]))
        tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
