"""Adagrad: steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from typing import Any

from ..backend import xp_of
from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor, _step_tensor


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): ``sum += g*g``, ``p -= clr * g / (sqrt(sum) + eps)``.

    ``clr = lr / (1 + (t - 1) * lr_decay)`` at step ``t``. State is created at construction,
    with ``sum`` starting at ``initial_accumulator_value``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.Adagrad([w], lr=0.5)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.5000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        for name, value in (("learning rate", lr), ("lr_decay", lr_decay), ("epsilon", eps),
                            ("weight_decay", weight_decay),
                            ("initial_accumulator_value", initial_accumulator_value)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name} value: {value} (it must be >= 0)")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _init_group_state(self, group: dict[str, Any]) -> None:
        for p in group["params"]:
            state = self.state[p]
            state["step"] = _step_tensor()
            state["sum"] = _state_tensor(
                xp_of(p._data).full_like(p._data, group["initial_accumulator_value"]))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps, weight_decay = (group["lr"], group["lr_decay"], group["eps"],
                                           group["weight_decay"])
        for p, g, xp in self._grads(group):
            x = p._data
            state = self.state[p]
            state["step"]._data += 1
            step = float(state["step"]._data)
            if group["maximize"]:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * x
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]._data
            s += g * g
            std = xp.sqrt(s) + eps
            x += -clr * (g / std)
            _bump_version(p)
