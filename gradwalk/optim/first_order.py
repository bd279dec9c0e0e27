"""Adadelta, Adamax, NAdam, RAdam and ASGD: the rest of PyTorch's first-order optimizers.

Each follows PyTorch's single-tensor formulas (``torch/optim/<name>.py``), on the raw arrays of the
parameter's namespace, updating the parameter in place. Scalar state that PyTorch keeps as 0-d
float32 tensors (``step``, NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``) is float32 here too,
so the rounding, and so the trajectory, is the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _bump_version, _state_tensor, _step_tensor


def _check(lr: float, eps: float, weight_decay: float,
           betas: tuple[float, float] | None = None) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr} (it must be >= 0)")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps} (it must be >= 0)")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay} (it must be >= 0)")
    if betas is not None:
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b} (it must be in "
                                 "[0, 1))")


def _f32(value: float) -> float:
    """``value`` rounded as PyTorch's 0-d float32 state tensors round it."""
    return float(np.float32(value))


def _begin(opt: Optimizer, p, g, xp, group: dict[str, Any], buffers: tuple[str, ...],
           scalars: tuple[tuple[str, float], ...] = ()):
    """The common start of a parameter's step: its state made on first use (``step``, the 0-d
    ``scalars`` and zero ``buffers``), ``maximize``, the step count, and weight decay (added to
    the gradient, or ``decoupled_weight_decay`` shrinking the parameter). Returns
    ``(state, gradient, step)``."""
    x = p._data
    state = opt.state[p]
    if len(state) == 0:
        state["step"] = _step_tensor()
        for name, value in scalars:
            state[name] = _step_tensor(value)
        for name in buffers:
            state[name] = _state_tensor(xp.zeros_like(x))
    if group["maximize"]:
        g = -g
    state["step"]._data += 1
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay", False):
            x *= 1 - group["lr"] * wd
        else:
            g = g + wd * x
    return state, g, float(state["step"]._data)


def _moments(state: dict[str, Any], g, b1: float, b2: float):
    """Adam's running averages, in place: ``m = lerp(m, g, 1-b1)``, ``v = b2*v + (1-b2)*g*g``."""
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    m += (1 - b1) * (g - m)
    v *= b2
    v += (1 - b2) * g * g
    return m, v


class Adadelta(Optimizer):
    """Adadelta: steps scaled by running averages of squared gradients and squared updates.

    ``v = rho*v + (1-rho)*g*g``; ``delta = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho*u + (1-rho)*delta*delta``; ``p -= lr * delta``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.Adadelta([w], lr=1.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 6)
        0.996838
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check(lr, eps, weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (it must be in [0, 1])")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p, g, xp in self._grads(group):
            x = p._data
            state, g, _ = _begin(self, p, g, xp, group, ("square_avg", "acc_delta"))
            v, u = state["square_avg"]._data, state["acc_delta"]._data
            v *= rho
            v += (1 - rho) * g * g
            delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * delta * delta
            x += -lr * delta
            _bump_version(p)


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm of past gradients in place of the second moment.

    ``m = lerp(m, g, 1-b1)``; ``u = max(b2*u, |g| + eps)``; ``p -= lr / (1 - b1**t) * m / u``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 6)
        0.9
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable,
                                      capturable=capturable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        for p, g, xp in self._grads(group):
            x = p._data
            state, g, step = _begin(self, p, g, xp, group, ("exp_avg", "exp_inf"))
            m, u = state["exp_avg"]._data, state["exp_inf"]._data
            m += (1 - b1) * (g - m)
            u *= b2
            xp.maximum(u, xp.abs(g) + eps, out=u)
            x += -(lr / (1 - b1**step)) * (m / u)
            _bump_version(p)


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and a momentum-decay schedule.

    ``mu_t = b1 * (1 - 0.5 * 0.96**(t * momentum_decay))``; with ``m``, ``v`` as in Adam and
    ``denom = sqrt(v / (1 - b2**t)) + eps``, ``p -= lr * (1 - mu_t) / (1 - prod mu) * g / denom``
    and ``p -= lr * mu_{t+1} / (1 - prod mu * mu_{t+1}) * m / denom``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.8944
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check(lr, eps, weight_decay, betas)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay} (it must be >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        decay = group["momentum_decay"]
        for p, g, xp in self._grads(group):
            x = p._data
            state, g, step = _begin(self, p, g, xp, group, ("exp_avg", "exp_avg_sq"),
                                    (("mu_product", 1.0),))
            mu = b1 * (1.0 - 0.5 * 0.96 ** (step * decay))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
            state["mu_product"]._data *= np.float32(mu)
            mu_product = float(state["mu_product"]._data)
            m, v = _moments(state, g, b1, b2)
            denom = xp.sqrt(v / (1 - b2**step)) + eps
            x += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
            x += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
            _bump_version(p)


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is rectified while the variance estimate is unreliable.

    With ``rho_inf = 2/(1-b2) - 1`` and ``rho_t = rho_inf - 2 t b2**t / (1 - b2**t)``, the step is
    ``lr * m_hat * r_t * sqrt(1 - b2**t) / (sqrt(v) + eps)`` when ``rho_t > 5``, else
    ``lr * m_hat`` (``m_hat = m / (1 - b1**t)``).

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 6)
        0.8
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        for p, g, xp in self._grads(group):
            x = p._data
            state, g, step = _begin(self, p, g, xp, group, ("exp_avg", "exp_avg_sq"))
            m, v = _moments(state, g, b1, b2)
            bc1, bc2 = 1 - b1**step, 1 - b2**step
            m_hat = m / bc1
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * step * (b2**step) / bc2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                adaptive = math.sqrt(bc2) / (xp.sqrt(v) + eps)
                x -= m_hat * lr * adaptive * rect
            else:
                x -= m_hat * lr
            _bump_version(p)


class ASGD(Optimizer):
    """Averaged SGD: SGD with a decaying step and a running average ``ax`` of the iterates.

    ``p *= 1 - lambd*eta``; ``p -= eta * g``; ``ax += mu * (p - ax)``; then
    ``eta = lr / (1 + lambd*lr*t)**alpha`` and ``mu = 1 / max(1, t - t0)``.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> opt = gradwalk.optim.ASGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 5)
        0.79999
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check(lr, 0.0, weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable,
                                      capturable=capturable))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        for p, g, xp in self._grads(group):
            x = p._data
            state, g, step = _begin(self, p, g, xp, group, ("ax",), (("eta", lr), ("mu", 1.0)))
            eta = float(state["eta"]._data)
            x *= 1 - lambd * eta
            x += -eta * g
            mu = float(state["mu"]._data)
            ax = state["ax"]._data
            if mu != 1:
                ax += (x - ax) * mu
            else:
                ax[...] = x
            state["eta"]._data[...] = _f32(lr / ((1 + lambd * lr * step) ** alpha))
            state["mu"]._data[...] = _f32(1 / max(1, step - t0))
            _bump_version(p)
