"""Gradient clipping: rescale (``clip_grad_norm_``) or clamp (``clip_grad_value_``) in place."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...backend import xp_of
from ...tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensors (e.g. model.parameters()), got "
                            f"{type(p).__name__}")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector (``norm_type`` may
    be ``float("inf")``). Gradients are scaled by ``min(1, max_norm / (norm + 1e-6))``, as in
    PyTorch. Returns the total norm before clipping (a 0-d tensor).

    Example:
        >>> import gradwalk
        >>> a = gradwalk.zeros(2, requires_grad=True)
        >>> (a * gradwalk.tensor([3.0, 4.0])).sum().backward()
        >>> gradwalk.nn.utils.clip_grad_norm_([a], max_norm=1.0)
        tensor(5.)
        >>> a.grad
        tensor([0.6000, 0.8000])
    """
    params = _with_grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    grads = [p.grad._data for p in params]
    xp = xp_of(grads[0])
    if math.isinf(norm_type):
        norms = [xp.max(xp.abs(g)) if g.size else xp.zeros((), g.dtype) for g in grads]
        total = xp.max(xp.stack([xp.asarray(n, dtype=grads[0].dtype) for n in norms]))
    else:
        norms = [xp.sum(xp.abs(g) ** norm_type) ** (1.0 / norm_type) for g in grads]
        stacked = xp.stack([xp.asarray(n, dtype=grads[0].dtype) for n in norms])
        total = xp.sum(stacked**norm_type) ** (1.0 / norm_type)
    total = xp.asarray(total)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            g = p.grad
            g._data *= coef.astype(g._data.dtype)
            g._vc[0] += 1
    return Tensor._wrap(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place.

    Example:
        >>> import gradwalk
        >>> a = gradwalk.zeros(3, requires_grad=True)
        >>> (a * gradwalk.tensor([-5.0, 0.5, 5.0])).sum().backward()
        >>> gradwalk.nn.utils.clip_grad_value_([a], 1.0)
        >>> a.grad
        tensor([-1.0000,  0.5000,  1.0000])
    """
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        g = p.grad
        xp_of(g._data).clip(g._data, -clip_value, clip_value, out=g._data)
        g._vc[0] += 1
