"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes.

Note [autograd's two layers]
    This package holds two layers. The core (``grad_mode``, ``node``, ``engine``, ``graph``)
    sits below the ops and ``tensor.py`` and imports nothing above it. The API built on Tensors
    (``backward``/``grad`` in ``_api``, ``Function``, ``functional``, ``forward_ad``,
    ``gradcheck``, ``anomaly_mode``, ``explain``) sits above ``tensor.py``. Importing the package
    (which every import of a core module does first) loads only ``grad_mode`` and ``node``; the
    API names load on first use (PEP 562 ``__getattr__``), so that the core can be imported
    without the layers above it. ``gradwalk/__init__.py`` binds them all once the whole library
    is loaded (``_load_all``), so that ``gradwalk.autograd.gradcheck`` and ``.explain`` are the
    functions, not the modules of the same name.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor(2.0, requires_grad=True)
    >>> gradwalk.autograd.grad(x ** 3, x)
    (tensor(12.),)
"""

from __future__ import annotations

import importlib
from typing import Any

from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .node import AccumulateGrad, Node, RemovableHandle

__all__ = [
    "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
    "is_grad_enabled", "is_inference_mode_enabled", "Node", "AccumulateGrad", "RemovableHandle",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "explain",
    "Function", "FunctionCtx", "once_differentiable", "gradcheck", "gradgradcheck", "graph",
    "forward_ad", "functional", "profiler",
]

# name -> (submodule, attribute; None for the submodule itself), loaded on first use
_LAZY: dict[str, tuple[str, str | None]] = {
    "backward": ("_api", "backward"),
    "grad": ("_api", "grad"),
    "detect_anomaly": ("anomaly_mode", "detect_anomaly"),
    "set_detect_anomaly": ("anomaly_mode", "set_detect_anomaly"),
    "is_anomaly_enabled": ("anomaly_mode", "is_anomaly_enabled"),
    "explain": ("explain", "explain"),
    "Function": ("function", "Function"),
    "FunctionCtx": ("function", "FunctionCtx"),
    "once_differentiable": ("function", "once_differentiable"),
    "gradcheck": ("gradcheck", "gradcheck"),  # the function, as torch.autograd binds it
    "gradgradcheck": ("gradcheck", "gradgradcheck"),
    "engine": ("engine", None),
    "graph": ("graph", None),
    "forward_ad": ("forward_ad", None),
    "functional": ("functional", None),
    "profiler": ("profiler", None),
    "anomaly_mode": ("anomaly_mode", None),
    "function": ("function", None),
}


def _load(name: str) -> Any:
    mod, attr = _LAZY[name]
    m = importlib.import_module(f"{__name__}.{mod}")
    value = m if attr is None else getattr(m, attr)
    globals()[name] = value
    return value


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def _load_all() -> None:
    """Bind every lazy name (``gradwalk/__init__.py`` calls it once the library is loaded).

    Example:
        >>> import gradwalk
        >>> gradwalk.autograd._load_all()
        >>> callable(gradwalk.autograd.gradcheck)
        True
    """
    for name in _LAZY:
        _load(name)
