"""Anomaly detection: find the op that first produced a NaN or an infinity, and the user's line.

With anomaly mode on:

* every op records, when it runs, the line of the user's code that called it (the first frame
  outside the ``gradwalk`` package): file, line number and function, stored on its node as
  ``node.metadata["anomaly_site"]`` (the code text is read only when an error is reported);
* the forward checks the output of each recorded op (one that will take part in a backward) for
  NaN/Inf (``check_forward``, on by default);
* the backward checks every gradient each node produces; the first bad one raises a
  ``RuntimeError`` naming the op, the user's line that created it, the shapes and how many
  elements are bad.

Both sides are hooks (``registry._forward_hooks`` and ``engine.observers``) that exist only while
the mode is on, so normal runs pay nothing.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor([0.0, 1.0], requires_grad=True)
    >>> with gradwalk.autograd.detect_anomaly(check_forward=False):
    ...     y = (x.sqrt() * 0.0).sum()
    ...     try:
    ...         y.backward()
    ...     except RuntimeError as e:
    ...         print(str(e).splitlines()[0])
    Function 'SqrtBackward0' returned nan values in its 0th output (1 of 2 elements).
"""

from __future__ import annotations

import functools
import linecache
import math
import os
import sys
import threading

import numpy as np

from ..ops import registry
from ..tensor import Tensor
from . import engine

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_lock = threading.Lock()


class _State:
    """What is installed while anomaly mode is on (one process-wide setting, like PyTorch's)."""

    enabled = False
    check_nan = True
    check_forward = True
    observer = None


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on.

    Example:
        >>> import gradwalk
        >>> gradwalk.autograd.is_anomaly_enabled()
        False
    """
    return _State.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection checks gradients for NaN/Inf."""
    return _State.enabled and _State.check_nan


def set_detect_anomaly(mode: bool, check_nan: bool = True, check_forward: bool = True) -> None:
    """Turn anomaly detection on or off for the process (see ``detect_anomaly``).

    Example:
        >>> import gradwalk
        >>> gradwalk.autograd.set_detect_anomaly(True)
        >>> gradwalk.autograd.is_anomaly_enabled()
        True
        >>> gradwalk.autograd.set_detect_anomaly(False)
    """
    with _lock:
        _uninstall(registry)
        _State.enabled = bool(mode)
        _State.check_nan = bool(check_nan)
        _State.check_forward = bool(check_forward)
        if mode:
            registry._forward_hooks.append(_forward_hook)
            _State.observer = _BackwardCheck()
            engine.listen(_State.observer)


def _uninstall(registry) -> None:
    while _forward_hook in registry._forward_hooks:
        registry._forward_hooks.remove(_forward_hook)
    if _State.observer is not None:
        engine.unlisten(_State.observer)
        _State.observer = None


class detect_anomaly:  # PyTorch's name
    """Context manager (and decorator) that turns anomaly detection on inside its block.

    ``check_nan`` checks the gradients of the backward; ``check_forward`` checks the outputs of
    the forward (turn it off for code that computes NaNs on purpose, e.g. the untaken branch of
    ``where``).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(-1.0, requires_grad=True)
        >>> try:
        ...     with gradwalk.autograd.detect_anomaly():
        ...         y = gradwalk.log(x)
        ... except RuntimeError as e:
        ...     print(str(e).splitlines()[0])
        Function 'LogBackward0' returned nan values in its forward output (1 of 1 elements).
    """

    def __init__(self, check_nan: bool = True, check_forward: bool = True) -> None:
        self.check_nan = check_nan
        self.check_forward = check_forward
        self._prev = None

    def __enter__(self) -> detect_anomaly:
        self._prev = (_State.enabled, _State.check_nan, _State.check_forward)
        set_detect_anomaly(True, self.check_nan, self.check_forward)
        return self

    def __exit__(self, *exc) -> None:
        set_detect_anomaly(*self._prev)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan, self.check_forward):
                return fn(*args, **kwargs)

        return wrapper


# ------------------------------------------------------------------------------ the forward side
_inside: dict = {}  # code object -> True when it belongs to gradwalk (a cache)


def _user_site(depth: int = 2):
    """(file, line, function) of the first frame outside gradwalk, walking out from ``depth``."""
    f = sys._getframe(depth)
    inside = _inside
    while f is not None:
        code = f.f_code
        known = inside.get(code)
        if known is None:
            known = inside[code] = code.co_filename.startswith(_PKG_DIR)
        if not known:
            return (code.co_filename, f.f_lineno, code.co_name)
        f = f.f_back
    return None


def _forward_hook(op, args, res, params) -> None:
    """Record where the op was called from; check its output (``check_forward``)."""
    node = res.grad_fn
    if node is None:
        return  # not recorded (no grad needed, or no_grad): not part of any backward
    site = _user_site(2)
    meta = node.meta
    if meta is None:
        node.meta = {"anomaly_site": site}
    else:
        meta["anomaly_site"] = site
    if _State.check_forward:
        data = res._data
        if data.dtype.kind in "fc" and not _all_finite(data):
            raise RuntimeError(_message(
                f"Function '{node.name()}' returned {_kinds(data)} values in its forward output",
                data, site, _shapes(args), "forward", inputs=args))


# ----------------------------------------------------------------------------- the backward side
class _BackwardCheck(engine.Listener):
    """The engine listener (Note [listeners]): checks each gradient a node produces."""

    def on_node(self, node, grad_in, grads_out) -> None:
        if not _State.check_nan:
            return
        if isinstance(grad_in, tuple):  # a multi-output node: describe one arrived gradient
            grad_in = next((g for g in grad_in if g is not None), None)
        for i, gi in enumerate(grads_out):
            if gi is None:
                continue
            t = type(gi)
            if t is np.float64 or t is np.float32:  # a rule's result on 0-d data
                if math.isfinite(gi):
                    continue
                data = np.asarray(gi)
            elif t is np.ndarray:
                data = gi
            else:
                data = gi._data if isinstance(gi, Tensor) else np.asarray(gi)
            if data.dtype.kind in "fc" and not _all_finite(data):
                site = (node.meta or {}).get("anomaly_site")
                in_shapes = node.shapes
                if in_shapes is None:  # a one-input elementwise op: input shaped as output
                    in_shapes = (np.shape(grad_in._data if isinstance(grad_in, Tensor)
                                          else grad_in),)
                shapes = ", ".join(str(list(s)) if s is not None else "scalar"
                                   for s in in_shapes)
                raise RuntimeError(_message(
                    f"Function '{node.name()}' returned {_kinds(data)} values in its {i}th "
                    "output", data, site, shapes, "backward", grad_in=grad_in))

def _all_finite(data) -> bool:
    """NaN/Inf check: one sum first (finite iff no NaN/Inf, unless it overflows), then exact."""
    if data.size == 1 and data.dtype.kind == "f":
        return math.isfinite(data.item())
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(data, axis=None)):
            return True
    return bool(np.isfinite(data).all())


def _kinds(data) -> str:
    nan = bool(np.isnan(data).any())
    inf = bool(np.isinf(data).any())
    return "nan and inf" if nan and inf else ("nan" if nan else "inf")


def _shapes(args) -> str:
    parts = []
    for a in args:
        shape = getattr(a, "shape", None)
        parts.append(str(list(shape)) if shape is not None else repr(a))
    return ", ".join(parts)


def _message(head, data, site, shapes, side, grad_in=None, inputs=None) -> str:
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    lines = [f"{head} ({bad} of {data.size} elements)."]
    if site is not None:
        file, line, func = site
        code = linecache.getline(file, line).strip()
        lines.append(f"  created at {file}:{line}, in {func}")
        if code:
            lines.append(f"    {code}")
    else:
        lines.append("  (no creation site: the op ran before anomaly mode was turned on)")
    lines.append(f"  input shapes: {shapes}; {side} output shape {list(data.shape)}, "
                 f"dtype {data.dtype}")
    if inputs is not None:
        bad_in = [k for k, a in enumerate(inputs) if isinstance(a, Tensor)
                  and a._data.dtype.kind in "fc" and not _all_finite(a._data)]
        lines.append("  the inputs were all finite: this op made the first bad value" if not bad_in
                     else f"  input(s) {bad_in} already held nan/inf: the bad value came in "
                     "from outside the recorded graph")
    if grad_in is not None:
        g = grad_in._data if isinstance(grad_in, Tensor) else np.asarray(grad_in)
        ok = "finite" if _all_finite(g) else "already not finite"
        lines.append(f"  the gradient that arrived (shape {list(g.shape)}) was {ok}")
    lines.append("  Remedy: look at that line's inputs (e.g. log/sqrt/div of values <= 0, "
                 "overflow in exp); clamp them, or use where() to keep the bad branch out.")
    return "\n".join(lines)
