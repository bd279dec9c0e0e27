"""Rprop: resilient backpropagation, PyTorch's single-tensor formulas on the raw arrays."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor, _step_tensor


class Rprop(Optimizer):
    """Rprop: each weight has its own step size, grown by ``etas[1]`` while the gradient keeps
    its sign and shrunk by ``etas[0]`` when it flips; the weight moves by its step size against
    the gradient's sign (the gradient's magnitude is not used).

    After a sign flip the gradient is taken as 0 for that step (no move, and the next step sees
    no flip), as PyTorch does. Step sizes stay within ``step_sizes``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = gradwalk.optim.Rprop([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> w.detach()
        tensor([ 0.7800, -1.7800])
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (it must be >= 0)")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]} (Rprop needs "
                             "0 < etas[0] < 1 < etas[1])")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update_group(self, group: dict[str, Any]) -> None:
        etaminus, etaplus = group["etas"]
        smin, smax = group["step_sizes"]
        for p, g, xp in self._grads(group):
            x = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["prev"] = _state_tensor(xp.zeros_like(x))
                state["step_size"] = _state_tensor(xp.full_like(g, group["lr"]))
            if group["maximize"]:
                g = -g
            state["step"]._data += 1
            prev, size = state["prev"]._data, state["step_size"]._data
            s = xp.sign(g * prev)
            factor = xp.where(s > 0, etaplus, xp.where(s < 0, etaminus, 1.0)).astype(size.dtype)
            size *= factor
            xp.clip(size, smin, smax, out=size)
            g = xp.where(factor == etaminus, 0, g).astype(g.dtype)
            x -= xp.sign(g) * size
            prev[...] = g
            _bump_version(p)
