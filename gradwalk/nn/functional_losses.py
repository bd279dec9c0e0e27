"""More losses and distances of ``gradwalk.nn.functional``, composed from primitive ops.

Each follows PyTorch's definition (``torch/nn/functional.py`` and ATen's ``Loss.cpp``) term by
term, so values, gradients and the behaviour at ties (``clamp(min=0)`` passes the gradient at
0) are PyTorch's. ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``; the deprecated
``size_average``/``reduce`` arguments are mapped as PyTorch maps them.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..creation import arange, full_like, zeros_like
from ..tensor import Tensor
from .functional import logsigmoid


def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else ("sum" if reduce else "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction (use 'mean', 'sum' or "
                     "'none')")


def _same_shape(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}(): the input and target must have the same shape, got "
                         f"{list(a.shape)} and {list(b.shape)}")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)``, ``input`` being
    log-probabilities (``reduction="batchmean"`` divides the sum by the batch size).

    Example:
        >>> import gradwalk
        >>> p = gradwalk.tensor([0.5, 0.5])
        >>> gradwalk.nn.functional.kl_div(p.log(), p, reduction="sum")
        tensor(0.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        tlogt = (target * target.log()).where(target != 0, zeros_like(target))
        loss = tlogt - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return _reduce(loss, reduction)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (norms clamped to
    ``eps``).

    Example:
        >>> import gradwalk
        >>> a = gradwalk.tensor([[1.0, 0.0]]); b = gradwalk.tensor([[1.0, 1.0]])
        >>> gradwalk.nn.functional.cosine_similarity(a, b)
        tensor([0.7071])
    """
    n1 = x1.norm(dim=dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(dim=dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dimension.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.pairwise_distance(gradwalk.tensor([[3.0, 0.0]]),
        ...                                          gradwalk.tensor([[0.0, 4.0]]), eps=0.0)
        tensor([5.])
    """
    d = x1 - x2 + eps
    if d.dim() == 0:
        return d.abs()
    return d.norm(p=p, dim=-1, keepdim=keepdim)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the pairwise ``p``-distance.

    Example:
        >>> import gradwalk
        >>> a = gradwalk.zeros(1, 2); p = gradwalk.zeros(1, 2); n = gradwalk.ones(1, 2)
        >>> gradwalk.nn.functional.triplet_margin_loss(a, p, n, margin=2.0, eps=0.0)
        tensor(0.5858)
    """
    reduction = _reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = d_neg.where(d_neg <= d_swap, d_swap)
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(-target * (input1 - input2) + margin, 0)``: ``target`` says which should rank
    higher (1 or -1).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.margin_ranking_loss(gradwalk.tensor([1.0]), gradwalk.tensor([2.0]),
        ...                       gradwalk.tensor([1.0]))
        tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.hinge_embedding_loss(gradwalk.tensor([0.3, 0.3]),
        ...                                             gradwalk.tensor([1.0, -1.0]))
        tensor(0.5000)
    """
    reduction = _reduction(size_average, reduce, reduction)
    zeros = zeros_like(input)
    margin_part = (margin - input).clamp(min=0).where(target != 1, zeros)
    self_part = input.where(target != -1, zeros)
    return _reduce(margin_part + self_part, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of a Poisson target: ``exp(x) - target * x`` for log-rate
    inputs, ``x - target * log(x + eps)`` otherwise; ``full`` adds Stirling's term.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.poisson_nll_loss(gradwalk.tensor([0.0]),
        ...                                         gradwalk.tensor([1.0]))
        tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.where(target > 1, zeros_like(target))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float,
                      full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance
    ``var`` (one per element, or shared along the last dimension).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.gaussian_nll_loss(gradwalk.tensor([0.0]),
        ...                                          gradwalk.tensor([2.0]), 1.0)
        tensor(2.)
    """
    if not isinstance(var, Tensor):
        var = full_like(input, float(var))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss(): var is of incorrect size: input "
                             f"{list(input.shape)}, var {list(var.shape)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    with no_grad():
        if bool((var < 0).any()):
            raise ValueError("gaussian_nll_loss(): var has negative entry/entries")
        lift = var.clamp(min=eps) - var
    var = var + lift  # clamped to eps, the gradient passing as if unclamped (PyTorch's)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1``.

    Example:
        >>> import gradwalk
        >>> a = gradwalk.tensor([[1.0, 0.0]])
        >>> gradwalk.nn.functional.cosine_embedding_loss(a, a, gradwalk.tensor([1.0]))
        tensor(0.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    tiny = 1e-12
    prod = (input1 * input2).sum(-1)
    mag1 = (input1 * input1).sum(-1) + tiny
    mag2 = (input2 * input2).sum(-1) + tiny
    cos = prod / (mag1 * mag2).sqrt()
    zeros = zeros_like(cos)
    pos = (1 - cos).where(target == 1, zeros)
    neg = (cos - margin).clamp(min=0).where(target == -1, zeros)
    return _reduce(pos + neg, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None,
                     reduce=None, reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * x))``: the logistic loss for targets 1 and -1.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.soft_margin_loss(gradwalk.tensor([0.0]),
        ...                                         gradwalk.tensor([1.0]))
        tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,
                                weight: Tensor | None = None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of every class of every sample, averaged over the classes.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.multilabel_soft_margin_loss(gradwalk.zeros(1, 2),
        ...                                                    gradwalk.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    dim = input.dim() - 1
    loss = loss.sum(dim) / input.shape[dim]
    return _reduce(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1,
                      margin: float = 1.0, weight: Tensor | None = None, size_average=None,
                      reduce=None, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss ``sum_j max(0, margin - x[y] + x[j])**p / C`` over the
    classes ``j != y``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.multi_margin_loss(gradwalk.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                                          gradwalk.tensor([3]))
        tensor(0.3250)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss(): only p == 1 and p == 2 supported, got {p}")
    single = input.dim() <= 1
    x = input.reshape(1, -1) if single else input
    y = target.reshape(-1)
    n, classes = x.shape
    if y.shape[0] != n:
        raise ValueError(f"multi_margin_loss(): inconsistent target size: expected {n}, got "
                         f"{list(target.shape)}")
    x_y = x.gather(1, y.reshape(n, 1))
    z = (x - x_y + margin).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[y].reshape(n, 1)
    from_target = one_hot(y, classes).to(x.dtype)
    loss = (z * (1 - from_target)).sum(1) / classes
    if single:
        loss = loss.reshape(target.shape) if target.dim() else loss.reshape(())
    return _reduce(loss, reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with one more dimension, 1 at each index of ``tensor`` and 0 elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.one_hot(gradwalk.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or str(tensor.dtype) != "gradwalk.int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() and int(tensor.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(tensor.max()) + 1 if tensor.numel() else 0
    elif tensor.numel() and int(tensor.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == arange(num_classes)).long()


__all__ = ["kl_div", "cosine_similarity", "pairwise_distance", "triplet_margin_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "cosine_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "one_hot"]
