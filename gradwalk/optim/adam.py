"""Adam (and its decoupled-weight-decay form used by AdamW)."""

from __future__ import annotations

import math
from typing import Any

from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor, _step_tensor


def _check_adam_args(lr: float, betas: tuple[float, float], eps: float,
                     weight_decay: float) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr} (it must be >= 0)")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps} (it must be >= 0)")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]} (it must be in [0, 1))")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]} (it must be in [0, 1))")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay} (it must be >= 0)")


class Adam(Optimizer):
    """Adam: per-parameter steps from running averages of the gradient and its square.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g``, then
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``. ``amsgrad`` uses the
    running maximum of ``v``; ``weight_decay`` adds ``weight_decay * p`` to the gradient
    (or, with ``decoupled_weight_decay=True``, multiplies ``p`` by ``1 - lr*weight_decay``).

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = gradwalk.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
        decoupled = group.get("decoupled_weight_decay", False)
        for p, g, xp in self._grads(group):
            x = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"] = _state_tensor(xp.zeros_like(x))
                state["exp_avg_sq"] = _state_tensor(xp.zeros_like(x))
                if amsgrad:
                    state["max_exp_avg_sq"] = _state_tensor(xp.zeros_like(x))
            if group["maximize"]:
                g = -g
            state["step"]._data += 1
            step = float(state["step"]._data)
            if weight_decay != 0:
                if decoupled:
                    x *= 1 - lr * weight_decay
                else:
                    g = g + weight_decay * x
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            # the formulas below, each temporary reused in place (same operations, same order)
            t = g - m
            t *= 1 - beta1
            m += t
            v *= beta2
            t = (1 - beta2) * g
            t *= g
            v += t
            bias_correction1 = 1 - beta1**step
            bias_correction2_sqrt = math.sqrt(1 - beta2**step)
            step_size = lr / bias_correction1
            if amsgrad:
                vmax = state["max_exp_avg_sq"]._data
                xp.maximum(vmax, v, out=vmax)
                denom = xp.sqrt(vmax)
            else:
                denom = xp.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += eps
            t = m / denom
            t *= -step_size
            x += t
            _bump_version(p)
