"""RMSprop: steps scaled by a running average of the squared gradient."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor, _step_tensor


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), with optional momentum and centering.

    ``v = alpha*v + (1-alpha)*g*g``; ``avg = sqrt(v) + eps`` (``centered`` subtracts the square
    of the running mean gradient first); then ``p -= lr * g / avg``, or with momentum
    ``buf = momentum*buf + g/avg; p -= lr * buf``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.RMSprop([w], lr=0.01, alpha=0.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.9900], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        for name, value in (("learning rate", lr), ("epsilon", eps), ("momentum", momentum),
                            ("weight_decay", weight_decay), ("alpha", alpha)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name} value: {value} (it must be >= 0)")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = (group["weight_decay"], group["momentum"],
                                            group["centered"])
        for p, g, xp in self._grads(group):
            x = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"] = _state_tensor(xp.zeros_like(x))
                if momentum > 0:
                    state["momentum_buffer"] = _state_tensor(xp.zeros_like(x))
                if centered:
                    state["grad_avg"] = _state_tensor(xp.zeros_like(x))
            if group["maximize"]:
                g = -g
            state["step"]._data += 1
            if weight_decay != 0:
                g = g + weight_decay * x
            v = state["square_avg"]._data
            v *= alpha
            v += (1 - alpha) * g * g
            if centered:
                ga = state["grad_avg"]._data
                ga += (1 - alpha) * (g - ga)
                avg = xp.sqrt(v - ga * ga)
            else:
                avg = xp.sqrt(v)
            avg += eps
            if momentum > 0:
                buf = state["momentum_buffer"]._data
                buf *= momentum
                buf += g / avg
                x -= lr * buf
            else:
                x += -lr * (g / avg)
            _bump_version(p)
