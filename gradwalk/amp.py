"""``gradwalk.amp``: mixed precision's names, for training loops that switch it on or off.

gradwalk has no automatic mixed precision: ``autocast`` would run chosen ops in a lower
precision, and on the CPU PyTorch's default for it is bfloat16, a dtype NumPy (so gradwalk)
does not have. So:

- ``autocast(..., enabled=False)`` (the usual ``enabled=use_amp`` switch turned off) is a
  no-op context, as in PyTorch;
- ``autocast(...)`` enabled raises ``NotImplementedError`` with the remedy (run in float32,
  or use ``enabled=False``), rather than compute in another precision than asked;
- ``GradScaler(enabled=False)`` passes through (``scale(loss)`` is ``loss``, ``step(opt)``
  calls ``opt.step()``), as PyTorch's does; an enabled one raises likewise.

Example:
    >>> import gradwalk
    >>> with gradwalk.autocast("cpu", enabled=False):
    ...     y = gradwalk.ones(2, 2) @ gradwalk.ones(2, 2)
    >>> y.dtype
    gradwalk.float32
    >>> try:
    ...     gradwalk.autocast("cpu")
    ... except NotImplementedError as e:
    ...     print(str(e).split(" (")[0])
    gradwalk.autocast is not supported
"""

from __future__ import annotations

from typing import Any

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd"]

_REMEDY = ("; run the model in float32 (or float64) without autocast, or pass enabled=False "
           "(e.g. enabled=use_amp with use_amp = False)")


class autocast:
    """A no-op context when ``enabled=False``; enabled, it raises (see the module docstring).

    Example:
        >>> import gradwalk
        >>> @gradwalk.autocast("cpu", enabled=False)
        ... def f(x):
        ...     return x * 2
        >>> f(gradwalk.ones(1))
        tensor([2.])
    """

    def __init__(self, device_type: str = "cpu", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if enabled:
            raise NotImplementedError(
                "gradwalk.autocast is not supported (on the CPU PyTorch's autocast computes in "
                "bfloat16, which gradwalk does not have)" + _REMEDY)
        self.device_type = device_type
        self.fast_dtype = dtype
        self._enabled = False

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __call__(self, fn):
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
        wrapped.__name__ = getattr(fn, "__name__", "wrapped")
        wrapped.__doc__ = getattr(fn, "__doc__", None)
        return wrapped


def is_autocast_available(device_type: str) -> bool:
    """False: gradwalk has no autocast."""
    return False


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """False: autocast is never on in gradwalk."""
    return False


class GradScaler:
    """Loss scaling for mixed precision; only ``enabled=False`` (a pass-through) is supported.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.ones(2, requires_grad=True)
        >>> opt = gradwalk.optim.SGD([w], lr=0.5)
        >>> scaler = gradwalk.amp.GradScaler(enabled=False)
        >>> scaler.scale((w * w).sum()).backward()
        >>> scaler.step(opt); scaler.update()
        >>> w.detach()
        tensor([0., 0.])
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if enabled:
            raise NotImplementedError(
                "gradwalk.amp.GradScaler is not supported enabled (gradwalk has no mixed "
                "precision, so there is no float16 gradient to rescale)" + _REMEDY)
        self._enabled = False

    def is_enabled(self) -> bool:
        """False."""
        return False

    def scale(self, outputs: Any) -> Any:
        """``outputs`` unchanged."""
        return outputs

    def unscale_(self, optimizer: Any) -> None:
        """Nothing to unscale."""

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)``."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: Any = None) -> None:
        """Nothing to update."""

    def get_scale(self) -> float:
        """1.0, as PyTorch's disabled scaler."""
        return 1.0

    def state_dict(self) -> dict:
        """Empty, as PyTorch's disabled scaler."""
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        """Nothing to load."""


def custom_fwd(fwd=None, *, device_type: str = "cpu", cast_inputs: Any = None):
    """The forward of a custom ``autograd.Function``, unchanged (autocast is never on)."""
    if fwd is None:
        return lambda f: f
    return fwd


def custom_bwd(bwd=None, *, device_type: str = "cpu"):
    """The backward of a custom ``autograd.Function``, unchanged."""
    if bwd is None:
        return lambda f: f
    return bwd
