"""``gradwalk.jit``: TorchScript's names, for model code that uses them.

gradwalk runs eagerly and compiles nothing. TorchScript promises that a scripted or traced
function computes what the eager one computes, so ``script`` and ``trace`` return their argument
unchanged (the model runs as written, with the same numbers), and the markers that model code
uses (``ignore``, ``unused``, ``export``, ``is_scripting()`` is False...) behave as they do in
eager PyTorch. What needs a compiled program, saving and loading one (``save``, ``load``,
``freeze``...), raises with the way to do it instead.

Example:
    >>> import gradwalk
    >>> @gradwalk.jit.script
    ... def gelu(x):
    ...     return x * 0.5 * (1.0 + gradwalk.erf(x / 1.41421356))
    >>> gelu(gradwalk.tensor([0.0]))
    tensor([0.])
    >>> gradwalk.jit.is_scripting()
    False
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "interface",
           "is_scripting", "is_tracing", "annotate", "Final", "save", "load", "freeze",
           "optimize_for_inference", "script_if_tracing", "ScriptModule", "ScriptFunction"]

F = TypeVar("F", bound=Callable[..., Any])


def script(obj: F, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> F:
    """Return ``obj`` unchanged: gradwalk runs it eagerly, as TorchScript promises to.

    Example:
        >>> import gradwalk
        >>> m = gradwalk.nn.Linear(2, 2)
        >>> gradwalk.jit.script(m) is m
        True
    """
    return obj


def trace(func: F, example_inputs: Any = None, *args: Any, **kwargs: Any) -> F:
    """Return ``func`` unchanged (eager; see ``script``).

    Example:
        >>> import gradwalk
        >>> m = gradwalk.nn.ReLU()
        >>> gradwalk.jit.trace(m, gradwalk.ones(2)) is m
        True
    """
    return func


def trace_module(mod: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """Return ``mod`` unchanged (eager; see ``script``)."""
    return mod


def script_if_tracing(fn: F) -> F:
    """Return ``fn`` unchanged."""
    return fn


def _marker(fn: Any = None, **kwargs: Any) -> Any:
    if fn is None or not callable(fn):  # used as @ignore(drop=True)
        return lambda f: f
    return fn


ignore = unused = export = interface = _marker


def is_scripting() -> bool:
    """False: gradwalk code always runs eagerly.

    Example:
        >>> import gradwalk
        >>> gradwalk.jit.is_scripting(), gradwalk.jit.is_tracing()
        (False, False)
    """
    return False


def is_tracing() -> bool:
    """False: gradwalk never traces."""
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """Return ``the_value`` (a type hint for the TorchScript compiler)."""
    return the_value


def _not_supported(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"gradwalk.jit.{name}() is not supported: gradwalk runs eagerly and has no "
            "TorchScript program to save, load or optimize. Save the weights with "
            "gradwalk.save(model.state_dict(), path); to get a TorchScript file, load them into "
            "the same PyTorch module and use torch.jit.script there")
    refuse.__name__ = name
    refuse.__doc__ = f"Not supported: raises ``NotImplementedError`` (see ``{name}``)."
    return refuse


save = _not_supported("save")
load = _not_supported("load")
freeze = _not_supported("freeze")
optimize_for_inference = _not_supported("optimize_for_inference")


class ScriptModule:
    """Named so that ``isinstance(m, torch.jit.ScriptModule)`` checks run; nothing is one."""


class ScriptFunction:
    """Named so that ``isinstance(f, torch.jit.ScriptFunction)`` checks run; nothing is one."""


_ = Final  # typing's Final, as torch.jit.Final
