"""Adafactor: Adam-like steps with a factored second moment, PyTorch's formulas.

Note [Adafactor as PyTorch's]
-----------------------------
PyTorch's Adafactor (Shazeer and Stern, with PyTorch's own choices) is followed exactly:

- ``rho_t = min(lr, 1/sqrt(t))`` and the step ``alpha = max(eps2, RMS(p)) * rho_t`` use the
  parameter *before* weight decay, which is decoupled: ``p *= 1 - lr * weight_decay``;
- ``beta2_t = 1 - t**beta2_decay``: the running averages are ``lerp(avg, new, t**beta2_decay)``;
- a parameter of two or more dimensions keeps a row factor (the mean of ``g*g`` over the last
  dimension) and a column factor (over the second-to-last); its variance estimate is
  ``row @ col / max(mean(row over rows), eps1)``; a vector (or 0-d) keeps the full average;
- ``eps1`` (default: the dtype's machine epsilon) floors the estimate at ``eps1**2`` before
  the reciprocal square root; the update is scaled down so that its RMS is at most ``d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor, _step_tensor


def _lerp_(start, end, weight: float) -> None:
    """``start.lerp_(end, weight)`` with PyTorch's two-sided formula (exact at weight 1)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


class Adafactor(Optimizer):
    """Adafactor: sublinear-memory adaptive steps (Note [Adafactor as PyTorch's]).

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        >>> opt = gradwalk.optim.Adafactor([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['col_var', 'row_var', 'step']
        >>> bool((w.detach().abs() < gradwalk.tensor([[1.0, 2.0], [0.5, 3.0]])).all())
        True
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, decay, d, wd = group["lr"], group["beta2_decay"], group["d"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        for p, g, xp in self._grads(group):
            x = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                if g.ndim > 1:
                    state["row_var"] = _state_tensor(xp.zeros(g.shape[:-1] + (1,), g.dtype))
                    state["col_var"] = _state_tensor(
                        xp.zeros(g.shape[:-2] + (1, g.shape[-1]), g.dtype))
                else:
                    state["variance"] = _state_tensor(xp.zeros_like(g))
            if group["maximize"]:
                g = -g
            e1 = float(np.finfo(x.dtype).eps) if eps1 is None else eps1
            state["step"]._data += 1
            t = float(state["step"]._data)
            weight = t**decay
            rho = min(lr, 1 / t**0.5)
            alpha = max(eps2, float(xp.sqrt((x * x).sum())) / x.size**0.5) * rho
            if wd != 0:
                x *= 1 - lr * wd
            if g.ndim > 1:
                row, col = state["row_var"]._data, state["col_var"]._data
                _lerp_(row, xp.sqrt((g * g).sum(-1, keepdims=True)) ** 2 / g.shape[-1], weight)
                _lerp_(col, xp.sqrt((g * g).sum(-2, keepdims=True)) ** 2 / g.shape[-2], weight)
                var = (row @ col) / xp.maximum(row.mean(-2, keepdims=True), e1)
            else:
                v = state["variance"]._data
                _lerp_(v, g * g, weight)
                var = v.copy()
            update = g / xp.sqrt(xp.maximum(var, e1 * e1))
            denom = max(1.0, float(xp.sqrt((update * update).sum())) / (update.size**0.5 * d))
            x += (-alpha / denom) * update
            _bump_version(p)
