"""``repr`` of tensors, formatted as PyTorch prints them (precision 4, shared width, sci mode)."""

from __future__ import annotations

import math

import numpy as np

from .backend import to_numpy
from .dtypes import from_numpy_dtype, get_default_dtype, int64

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


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
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
        elif hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
            self.sci_mode = True
        self.max_width = max((len(self.format(float(v))) for v in shown), default=1)

    def format(self, value) -> str:
        if not self.floating:
            return str(bool(value)) if isinstance(value, (bool, np.bool_)) else str(int(value))
        value = float(value)
        if self.sci_mode:
            return f"{value:.{PRECISION}e}"
        if self.int_mode:
            s = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                s += "."
            return s
        return f"{value:.{PRECISION}f}"

    def width(self) -> int:
        return self.max_width


def _summarize(a: np.ndarray) -> np.ndarray:
    """The values shown when the tensor is summarized (edge items of every dim)."""
    if a.ndim == 0:
        return a.reshape(1)
    if a.shape[0] > 2 * EDGEITEMS:
        parts = [a[:EDGEITEMS], a[-EDGEITEMS:]]
    else:
        parts = [a]
    return np.concatenate([_summarize(p[i]).reshape(-1) for p in parts for i in range(len(p))]
                          ) if a.ndim > 1 else np.concatenate(parts)


def _vector(a: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    width = fmt.width()
    elem = width + 2
    per_line = max(1, math.floor((LINEWIDTH - indent) / elem))
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        items = ([fmt.format(v).rjust(width) for v in a[:EDGEITEMS]] + [" ..."]
                 + [fmt.format(v).rjust(width) for v in a[-EDGEITEMS:]])
    else:
        items = [fmt.format(v).rjust(width) for v in a]
    lines = [items[i:i + per_line] for i in range(0, len(items), per_line)]
    body = (",\n" + " " * (indent + 1)).join(", ".join(line) for line in lines)
    return "[" + body + "]"


def _tensor_str(a: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, fmt, indent, summarize)
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        rows = ([_tensor_str(a[i], fmt, indent + 1, summarize) for i in range(EDGEITEMS)]
                + ["..."]
                + [_tensor_str(a[i], fmt, indent + 1, summarize)
                   for i in range(len(a) - EDGEITEMS, len(a))])
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
        summarize = a.size > THRESHOLD
        fmt = _Formatter(_summarize(a) if summarize else a)
        body = _tensor_str(a, fmt, indent, summarize)
    if t.device != "cpu":
        suffixes.append(f"device='{t.device}'")
    show_dtype = a.size != 0 and (
        (dt.is_floating_point and dt is not get_default_dtype())
        or (not dt.is_floating_point and dt.name != "bool" and dt is not int64))
    if show_dtype:
        suffixes.append(f"dtype={dt!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
