"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor


def _check_nonneg(name: str, value: float) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value} (it must be >= 0)")


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's formulas, optionally with momentum).

    With ``g = grad + weight_decay * p``: ``buf = momentum * buf + (1 - dampening) * g``
    (``buf = g`` at the first step), then ``p -= lr * (g + momentum * buf)`` with
    ``nesterov=True`` or ``p -= lr * buf`` without. ``maximize=True`` ascends instead.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.46
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        _check_nonneg("learning rate", lr)
        _check_nonneg("momentum", momentum)
        _check_nonneg("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        maximize = group["maximize"]
        for p, g, xp in self._grads(group):
            x = p._data
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * x
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = _state_tensor(xp.array(g, copy=True))
                else:
                    b = buf._data
                    b *= momentum
                    b += (1 - dampening) * g
                g = g + momentum * buf._data if nesterov else buf._data
            x -= lr * g
            _bump_version(p)
