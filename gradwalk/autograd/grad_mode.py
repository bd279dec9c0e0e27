"""Grad modes: whether ops record the graph. Per thread and per async context (contextvars)."""

from __future__ import annotations

import contextvars
import functools
import inspect
from typing import Literal

_grad_enabled = contextvars.ContextVar("gradwalk_grad_enabled", default=True)
_inference = contextvars.ContextVar("gradwalk_inference_mode", default=False)

is_grad_enabled_fast = _grad_enabled.get  # the registry's hot-path check


def is_grad_enabled() -> bool:
    """True when ops record the graph.

    Example:
        >>> import gradwalk
        >>> gradwalk.is_grad_enabled()
        True
        >>> with gradwalk.no_grad():
        ...     gradwalk.is_grad_enabled()
        False
    """
    return _grad_enabled.get()


def is_inference_mode_enabled() -> bool:
    return _inference.get()


class _Mode:
    """Base of the grad-mode objects: a context manager and a decorator (generators included)."""

    _value: bool = True

    def __init__(self) -> None:
        self._tokens: list = []

    def _enter(self):
        return _grad_enabled.set(self._value)

    def __enter__(self):
        self._tokens.append(self._enter())
        return self

    def __exit__(self, *exc) -> Literal[False]:
        _grad_enabled.reset(self._tokens.pop())
        return False

    def clone(self):
        return type(self)()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                # Each resume of the generator runs under the mode; the caller's mode is restored
                # between resumes, as PyTorch does.
                try:
                    with self.clone():
                        request = gen.send(None)
                    while True:
                        try:
                            response = yield request
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as e:  # forwarded into the generator
                            with self.clone():
                                request = gen.throw(e)
                        else:
                            with self.clone():
                                request = gen.send(response)
                except StopIteration as stop:  # the generator is done: so are we
                    return stop.value

            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper


class _NoParamMode(_Mode):
    """A mode usable as a decorator without parentheses too: ``@no_grad`` or ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Context manager and decorator that turns graph recording off.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(1.0, requires_grad=True)
        >>> with gradwalk.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _value = False


class enable_grad(_NoParamMode):
    """Context manager and decorator that turns graph recording on (inside ``no_grad``).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(1.0, requires_grad=True)
        >>> with gradwalk.no_grad():
        ...     with gradwalk.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """

    _value = True


class set_grad_enabled(_Mode):
    """Set grad mode on or off: as a function call, a context manager, or a decorator.

    Example:
        >>> import gradwalk
        >>> with gradwalk.set_grad_enabled(False):
        ...     gradwalk.is_grad_enabled()
        False
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self._value = bool(mode)
        # Called as a plain function, it takes effect at once, as in PyTorch.
        self._prev = _grad_enabled.get()
        _grad_enabled.set(self._value)

    def __enter__(self):
        self._tokens.append(None)
        return self

    def __exit__(self, *exc) -> Literal[False]:
        self._tokens.pop()
        _grad_enabled.set(self._prev)
        return False

    def clone(self):
        return _SetGrad(self._value)

    def __call__(self, fn):
        # Used as a decorator, the mode applies to the calls only: undo the constructor's switch.
        _grad_enabled.set(self._prev)
        return super().__call__(fn)


class _SetGrad(_Mode):
    def __init__(self, value: bool) -> None:
        super().__init__()
        self._value = value


class inference_mode(_Mode):
    """Like ``no_grad``, for code that will never need gradients; usable as decorator too.

    Example:
        >>> import gradwalk
        >>> with gradwalk.inference_mode():
        ...     y = gradwalk.ones(2, requires_grad=True) * 2
        >>> y.requires_grad
        False
    """

    def __new__(cls, mode=True):
        if callable(mode):  # ``@inference_mode`` without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self._mode = bool(mode)
        self._value = not self._mode

    def _enter(self):
        return (_grad_enabled.set(self._value), _inference.set(self._mode))

    def __exit__(self, *exc) -> Literal[False]:
        t_grad, t_inf = self._tokens.pop()
        _inference.reset(t_inf)
        _grad_enabled.reset(t_grad)
        return False

    def clone(self):
        return inference_mode(self._mode)

    def __call__(self, fn=None):
        if isinstance(fn, bool):
            return inference_mode(fn)
        return super().__call__(fn)
