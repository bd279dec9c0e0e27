"""The connectionist temporal classification loss, ``ctc_loss``, as a composite of gradwalk ops.

Note [ctc_loss forward and gradient]
    The forward is the CTC alpha recursion in log space over the blank-extended targets
    (length ``2*S+1``), vectorized over the batch and looped over time; a sequence's alphas stop
    changing after its input length. Every log-sum-exp guards the all ``-inf`` case (the
    gradient there is 0, not NaN). PyTorch's backward returns, for ``t < input_length``,
    ``exp(log_probs) - exp(log_alpha_beta + nll - log_probs)``: the true gradient plus
    ``exp(log_probs)``, a term that vanishes once it goes through the ``log_softmax`` that
    ``log_probs`` are documented to come from. gradwalk adds that term too (a zero-valued
    ``exp(lp) - detach(exp(lp))``), so its gradients are torch's numbers with respect to
    ``log_probs`` as well as to the logits. ``zero_infinity`` zeroes infinite losses and their
    gradients.
"""

from __future__ import annotations

import numpy as np

from .. import creation
from ..ops.elementwise import where
from ..ops.shape import cat, stack
from ..tensor import Tensor
from .functional_pooling import _raw


def _lse(parts: list[Tensor]) -> Tensor:
    """log(sum(exp(parts))) elementwise over the list, 0-gradient where all are -inf."""
    x = stack(parts, 0)
    m = np.max(_raw(x), axis=0)
    m = np.where(np.isfinite(m), m, 0.0)
    s = (x - Tensor._wrap(m)).exp().sum(0)
    pos = Tensor._wrap(_raw(s) > 0)
    return where(pos, where(pos, s, 1.0).log(), float("-inf")) + Tensor._wrap(m)


def _lengths(v, n: int, name: str) -> np.ndarray:
    arr = np.asarray(_raw(v) if isinstance(v, Tensor) else v, dtype=np.int64).reshape(-1)
    if arr.shape != (n,):
        raise RuntimeError(f"ctc_loss(): {name} must have one length per batch element ({n}), "
                           f"got {arr.shape[0]}")
    return arr


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of ``log_probs`` (T, N, C) or (T, C) (log-softmax outputs) against ``targets``
    ((N, S) padded, or 1-D concatenated); ``mean`` divides each loss by its target length
    before averaging, as PyTorch. See Note [ctc_loss forward and gradient].

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> lp = gradwalk.full((2, 1, 2), 0.5).log()
        >>> F.ctc_loss(lp, gradwalk.tensor([[1]]), [2], [1], reduction="sum")
        tensor(0.2877)
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss(): log_probs must be (T, N, C) or (T, C), got "
                           f"{list(log_probs.shape)}")
    t_max, n, c = lp.shape
    tg = _raw(targets)
    if tg.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss(): targets must be integers, got {targets.dtype}")
    if unbatched and tg.ndim == 1:
        tg = tg.reshape(1, -1)
    in_len = _lengths(input_lengths, n, "input_lengths")
    tg_len = _lengths(target_lengths, n, "target_lengths")
    if (in_len > t_max).any() or (in_len < 0).any():
        raise RuntimeError(f"ctc_loss(): input_lengths must be in [0, {t_max}], got "
                           f"{in_len.tolist()}")
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss(): blank must be in label range [0, {c}), got {blank}")
    if tg.ndim == 2:
        rows = [tg[i, :tg_len[i]] for i in range(n)]
        if (tg_len > tg.shape[1]).any():
            raise RuntimeError(f"ctc_loss(): target_lengths {tg_len.tolist()} exceed the "
                               f"targets' length {tg.shape[1]}")
    else:
        if tg_len.sum() > tg.size:
            raise RuntimeError(f"ctc_loss(): target_lengths sum to {int(tg_len.sum())}, more "
                               f"than the {tg.size} concatenated targets")
        ends = np.cumsum(tg_len)
        rows = [tg[e - k:e] for e, k in zip(ends, tg_len)]
    s_max = int(tg_len.max()) if n else 0
    width = 2 * s_max + 1
    ext = np.full((n, width), blank, dtype=np.int64)
    for i, r in enumerate(rows):
        ext[i, 1:2 * len(r):2] = r
    skip = np.zeros((n, width), dtype=bool)  # s-2 -> s allowed: a label unlike the one before
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    idx = Tensor._wrap(np.ascontiguousarray(np.broadcast_to(ext, (t_max, n, width))))
    emit = lp.gather(2, idx)  # (T, N, width)
    neg = creation.full((n, 1), float("-inf"), dtype=lp.dtype)
    neg2 = creation.full((n, 2), float("-inf"), dtype=lp.dtype)
    start = np.full((n, width), -np.inf)
    start[:, 0] = 0.0
    start[:, 1] = np.where(tg_len > 0, 0.0, -np.inf)
    alpha = emit[0] + Tensor._wrap(start.astype(_raw(lp).dtype))
    skip_t = Tensor._wrap(skip)
    for t in range(1, t_max):
        one = cat([neg, alpha[:, :-1]], 1)
        two = where(skip_t, cat([neg2, alpha[:, :-2]], 1), float("-inf"))
        new = _lse([alpha, one, two]) + emit[t]
        alpha = where(Tensor._wrap((t < in_len).reshape(n, 1)), new, alpha)
    last = Tensor._wrap((2 * tg_len).reshape(n, 1))
    before = Tensor._wrap(np.maximum(2 * tg_len - 1, 0).reshape(n, 1))
    a_last = alpha.gather(1, last).reshape(n)
    a_before = where(Tensor._wrap(tg_len > 0), alpha.gather(1, before).reshape(n),
                     float("-inf"))
    loss = -_lse([a_last, a_before])
    if (in_len == 0).any():
        empty = Tensor._wrap(np.where(tg_len > 0, np.inf, 0.0).astype(_raw(lp).dtype))
        loss = where(Tensor._wrap(in_len > 0), loss, empty)
    # torch's extra gradient term, Note [ctc_loss forward and gradient]
    valid = Tensor._wrap((np.arange(t_max).reshape(-1, 1) < in_len.reshape(1, -1))
                         .astype(_raw(lp).dtype)).unsqueeze(2)
    e = lp.exp() * valid
    loss = loss + (e - e.detach()).sum((0, 2))
    if zero_infinity:
        loss = where(Tensor._wrap(np.isfinite(_raw(loss))), loss, 0.0)
    if unbatched:
        loss = loss.reshape(())
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    denom = Tensor._wrap(np.maximum(tg_len, 1).astype(_raw(lp).dtype))
    return (loss / (denom if not unbatched else denom.reshape(()))).mean()
