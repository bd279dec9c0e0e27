"""``repr`` of tensors, formatted as PyTorch prints them (precision 4, shared width, sci mode),
and ``set_printoptions``, which changes that as PyTorch's does."""

from __future__ import annotations

import math

import numpy as np

from .backend import to_numpy
from .dtypes import default_complex_np, from_numpy_dtype, get_default_dtype, int64

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
OPTIONS: dict = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as PyTorch's ``set_printoptions``: digits after the point
    (``precision``), the element count above which a tensor is summarized (``threshold``), the
    items kept at each end of a summarized dim (``edgeitems``), the characters per line
    (``linewidth``), scientific notation forced on or off (``sci_mode``; None chooses, and every
    call resets it), or a ``profile`` ("default", "short", "full") to start from.

    Example:
        >>> import gradwalk
        >>> gradwalk.set_printoptions(precision=2)
        >>> gradwalk.tensor([1.12345])
        tensor([1.12])
        >>> gradwalk.set_printoptions(threshold=5)
        >>> gradwalk.arange(10)
        tensor([0, 1, 2,  ..., 7, 8, 9])
        >>> gradwalk.set_printoptions(profile="default")
        >>> gradwalk.tensor([1.12345])
        tensor([1.1235])
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        OPTIONS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            OPTIONS[name] = value
    OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options (see ``set_printoptions``).

    Example:
        >>> import gradwalk
        >>> gradwalk.get_printoptions()["precision"]
        4
    """
    return dict(OPTIONS)


class _Formatter:
    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if values.dtype.kind == "b":
            self.max_width = max((len(str(bool(v))) for v in flat), default=1)
            return
        if not self.floating:
            self.max_width = max((len(str(int(v))) for v in flat), default=1)
            return
        finite = flat[np.isfinite(flat)]
        # PyTorch sizes the columns by the nonzero finite values only (nan, inf and 0 excluded).
        shown = finite[finite != 0]
        nonzero = np.abs(shown).astype(np.float64)
        if nonzero.size == 0:
            return
        if np.any(nonzero != np.ceil(nonzero)):
            self.int_mode = False
        lo, hi = float(nonzero.min()), float(nonzero.max())
        forced = OPTIONS["sci_mode"]
        if forced is not None:
            self.sci_mode = bool(forced)
        elif hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
            self.sci_mode = True
        self.max_width = max((len(self.format(float(v))) for v in shown), default=1)

    def format(self, value) -> str:
        if not self.floating:
            return str(bool(value)) if isinstance(value, (bool, np.bool_)) else str(int(value))
        value = float(value)
        precision = OPTIONS["precision"]
        if self.sci_mode:
            return f"{value:.{precision}e}"
        if self.int_mode:
            s = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                s += "."
            return s
        return f"{value:.{precision}f}"

    def width(self) -> int:
        return self.max_width


class _ComplexFormatter:
    """PyTorch's complex format: the real parts and the imaginary parts each with their own
    formatter (width, sci mode), joined as ``re+imj``; elements are not padded to one width."""

    pad = False

    def __init__(self, values: np.ndarray) -> None:
        self.re = _Formatter(values.real)
        self.im = _Formatter(values.imag)

    def format(self, value) -> str:
        value = complex(value)
        re = self.re.format(value.real).rjust(self.re.width())
        im = (self.im.format(value.imag).rjust(self.im.width()) + "j").lstrip()
        return re + (im if im[0] in "+-" else "+" + im)

    def width(self) -> int:
        return self.re.width() + self.im.width() + 1


def _formatter(values: np.ndarray):
    return _ComplexFormatter(values) if values.dtype.kind == "c" else _Formatter(values)


def _summarize(a: np.ndarray) -> np.ndarray:
    """The values shown when the tensor is summarized (edge items of every dim)."""
    if a.ndim == 0:
        return a.reshape(1)
    edge = OPTIONS["edgeitems"]
    if a.shape[0] > 2 * edge:
        parts = [a[:edge], a[-edge:]]
    else:
        parts = [a]
    return np.concatenate([_summarize(p[i]).reshape(-1) for p in parts for i in range(len(p))]
                          ) if a.ndim > 1 else np.concatenate(parts)


def _vector(a: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    width = fmt.width()
    elem = width + 2
    per_line = max(1, math.floor((OPTIONS["linewidth"] - indent) / elem))
    edge = OPTIONS["edgeitems"]
    pad = width if getattr(fmt, "pad", True) else 0
    if summarize and a.shape[0] > 2 * edge:
        items = ([fmt.format(v).rjust(pad) for v in a[:edge]] + [" ..."]
                 + [fmt.format(v).rjust(pad) for v in a[-edge:]])
    else:
        items = [fmt.format(v).rjust(pad) for v in a]
    lines = [items[i:i + per_line] for i in range(0, len(items), per_line)]
    body = (",\n" + " " * (indent + 1)).join(", ".join(line) for line in lines)
    return "[" + body + "]"


def _tensor_str(a: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, fmt, indent, summarize)
    edge = OPTIONS["edgeitems"]
    if summarize and a.shape[0] > 2 * edge:
        rows = ([_tensor_str(a[i], fmt, indent + 1, summarize) for i in range(edge)]
                + ["..."]
                + [_tensor_str(a[i], fmt, indent + 1, summarize)
                   for i in range(len(a) - edge, len(a))])
    else:
        rows = [_tensor_str(a[i], fmt, indent + 1, summarize) for i in range(a.shape[0])]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t, prefix: str = "tensor(") -> str:
    a = to_numpy(t._data)
    indent = len(prefix)
    suffixes = []
    dt = from_numpy_dtype(a.dtype)
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not get_default_dtype():  # no element shows the dtype: PyTorch names it
            suffixes.append(f"dtype={dt!r}")
    else:
        summarize = a.size > OPTIONS["threshold"]
        fmt = _formatter(_summarize(a) if summarize else a)
        body = _tensor_str(a, fmt, indent, summarize)
    if t.is_cuda:
        suffixes.append(f"device='{t.device}'")
    show_dtype = a.size != 0 and (
        (dt.is_floating_point and dt is not get_default_dtype())
        or (dt.is_complex and a.dtype != default_complex_np())
        or (not dt.is_floating_point and not dt.is_complex and dt.name != "bool"
            and dt is not int64))
    if show_dtype:
        suffixes.append(f"dtype={dt!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """PyTorch's placement of the suffixes: a suffix that would pass the line width starts a new
    line. Lengths count ``torch.`` for ``gradwalk.``, so that lines break where PyTorch's do."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        n = len(s.replace("gradwalk.", "torch."))
        if last + n + 2 > OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            last = indent + n
        else:
            parts.append(", " + s)
            last += n + 2
    return "".join(parts) + ")"
