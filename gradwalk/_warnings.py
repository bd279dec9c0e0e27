r"""NumPy's floating-point RuntimeWarnings never leak from gradwalk's internals.

An op that overflows or makes a NaN is as quiet as in PyTorch: ``x.exp()`` on a large ``x`` gives
``inf`` without NumPy's "overflow encountered in exp". Anomaly mode
(``gradwalk.autograd.detect_anomaly``) is where such values are reported, with the op and the
user's line. The user's own NumPy code keeps warning as before.

Example (``np.exp(np.array([1000.0]))`` in the user's code would raise here):
    >>> import warnings, gradwalk
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error")
    ...     gradwalk.tensor([1000.0]).exp()  # gradwalk's internals: quiet even so
    tensor([inf])

Note [quiet floating-point warnings]: two entries in ``warnings.filters``, installed at import,
both action ``"ignore"``, category ``RuntimeWarning`` and NumPy's messages (``overflow``,
``invalid value``, ``divide by zero``, ``underflow`` ``encountered in ...``). NumPy attributes
a floating-point warning to the Python frame that called the ufunc: a gradwalk module for
``np.exp(x)`` written in gradwalk (the first entry's module pattern ``gradwalk(\.|$)``), a NumPy
module for ``np.sum(x)`` (whose Python wrapper calls the ufunc): the second entry's matcher then
walks out of NumPy's frames to the first other one and accepts the warning when that one is
gradwalk's. Filters are consulted only when a warning is raised, so ops pay nothing (a
``np.errstate`` per op would cost about a microsecond each).

Filters are tried in order and ``warnings.simplefilter("error")`` (or pytest's ``-W``, or a
``catch_warnings`` block) puts its entry in front; pytest also drops the filters a test module's
import added once collection ends. So ``filterwarnings``, ``simplefilter`` and
``resetwarnings`` are wrapped to put the entries back in front after each change: the user's
filters keep their order and meaning for every other warning, including the user's own NumPy
floating-point warnings. Reading these values is what anomaly mode is for.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from typing import Any

_MESSAGE = re.compile(r"(overflow|invalid value|divide by zero|underflow) encountered in "
                      r"|Degrees of freedom <= 0", re.I)
_OURS = re.compile(r"gradwalk(\.|$)")


class _NumpyCalledFromGradwalk:
    """The module matcher of the second entry (``warnings`` calls its ``match(module)``): a
    warning attributed to one of NumPy's Python modules, whose caller is gradwalk's."""

    def match(self, module: Any) -> bool:
        if not (isinstance(module, str) and module.startswith("numpy")):
            return False
        f = sys._getframe(1)
        while f is not None:
            name = f.f_globals.get("__name__", "")
            if not (name.startswith("numpy") or name in ("warnings", __name__)):
                return bool(_OURS.match(name))
            f = f.f_back
        return False

    def __repr__(self) -> str:
        return "<NumPy called from gradwalk>"


# Both in C for the common case (the first entry); the frame walk only for NumPy's own modules.
ENTRIES = (("ignore", _MESSAGE, RuntimeWarning, _OURS, 0),
           ("ignore", _MESSAGE, RuntimeWarning, _NumpyCalledFromGradwalk(), 0))


def _put_first() -> None:
    filters = warnings.filters
    n = len(ENTRIES)
    if len(filters) >= n and all(filters[i] is e for i, e in enumerate(ENTRIES)):
        return
    filters[:] = [*ENTRIES, *(f for f in filters if f not in ENTRIES)]
    mutated = getattr(warnings, "_filters_mutated", None)
    if mutated is not None:
        mutated()


def _keeping_first(fn):
    if getattr(fn, "_gradwalk_keeps_first", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        _put_first()
        return out

    wrapper._gradwalk_keeps_first = True
    return wrapper


def install() -> None:
    """Put the filter entries first and keep them there (idempotent; run at import)."""
    for name in ("filterwarnings", "simplefilter", "resetwarnings"):
        setattr(warnings, name, _keeping_first(getattr(warnings, name)))
    _put_first()


install()
