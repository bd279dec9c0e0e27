"""More loss and distance modules (``KLDivLoss``, ``TripletMarginLoss``, ``CosineSimilarity``...),
each the module form of a function of ``gradwalk.nn.functional``, with PyTorch's arguments."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional_losses as L
from .loss import _Loss, _WeightedLoss
from .module import Module


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target``.

    Example:
        >>> import gradwalk
        >>> p = gradwalk.tensor([[0.5, 0.5]])
        >>> gradwalk.nn.KLDivLoss(reduction="batchmean")(p.log(), p)
        tensor(0.)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.CosineSimilarity(dim=0)(gradwalk.ones(2), gradwalk.ones(2))
        tensor(1.0000)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return L.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``p``-norm distance between rows.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.PairwiseDistance(eps=0.0)(gradwalk.zeros(1, 2), gradwalk.ones(1, 2))
        tensor([1.4142])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return L.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class TripletMarginLoss(_Loss):
    """Triplet loss with a margin.

    Example:
        >>> import gradwalk
        >>> a = gradwalk.zeros(1, 2)
        >>> gradwalk.nn.TripletMarginLoss()(a, a, a + 3)
        tensor(0.)
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return L.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class _MarginLoss(_Loss):
    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class MarginRankingLoss(_MarginLoss):
    """``max(0, -target * (x1 - x2) + margin)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MarginRankingLoss()(gradwalk.ones(1), gradwalk.zeros(1),
        ...                                 gradwalk.ones(1))
        tensor(0.)
    """

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return L.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """``x`` for ``target == 1``, ``max(0, margin - x)`` for ``target == -1``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.HingeEmbeddingLoss()(gradwalk.ones(1), -gradwalk.ones(1))
        tensor(0.)
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """``1 - cos`` for similar pairs (``target == 1``), ``max(0, cos - margin)`` otherwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.CosineEmbeddingLoss()(gradwalk.ones(1, 2), gradwalk.ones(1, 2),
        ...                                   gradwalk.ones(1))
        tensor(0.)
    """

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return L.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.PoissonNLLLoss()(gradwalk.zeros(1), gradwalk.ones(1))
        tensor(1.)
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return L.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.GaussianNLLLoss()(gradwalk.zeros(1), gradwalk.zeros(1), gradwalk.ones(1))
        tensor(0.)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return L.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-target * x))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.SoftMarginLoss()(gradwalk.zeros(1), gradwalk.ones(1))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-class logistic loss averaged over the classes.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MultiLabelSoftMarginLoss()(gradwalk.zeros(1, 2), gradwalk.ones(1, 2))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.MultiMarginLoss()(gradwalk.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                               gradwalk.tensor([3]))
        tensor(0.3250)
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


__all__ = ["KLDivLoss", "CosineSimilarity", "PairwiseDistance", "TripletMarginLoss",
           "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "PoissonNLLLoss",
           "GaussianNLLLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss"]
