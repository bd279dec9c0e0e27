"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter)."""

from __future__ import annotations

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    """Adam whose weight decay shrinks the weights directly: ``p *= 1 - lr * weight_decay``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w * 0).sum().backward(); opt.step()
        >>> w
        tensor([0.9500], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
