"""``gradwalk.testing``: ``assert_close``, with PyTorch's tolerances and messages.

Example:
    >>> import gradwalk
    >>> gradwalk.testing.assert_close(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 2.0]))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .backend import to_numpy
from .tensor import Tensor

# PyTorch's default (rtol, atol) per dtype; exact for integers and booleans
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}


def _fail(msg, default: str) -> None:
    text = msg(default) if callable(msg) else (msg if msg is not None else default)
    raise AssertionError(text)


def _tolerance(dtype: str, rtol, atol) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return float(rtol), float(atol)
    return _TOLERANCES.get(dtype, (0.0, 0.0))


def _compare_tensors(actual: Tensor, expected: Tensor, rtol, atol, equal_nan, check_dtype,
                     msg) -> None:
    if actual.shape != expected.shape:
        _fail(msg, f"The values for attribute 'shape' do not match: "
                   f"gradwalk.Size({list(actual.shape)}) != gradwalk.Size({list(expected.shape)}).")
    if check_dtype and actual.dtype != expected.dtype:
        _fail(msg, f"The values for attribute 'dtype' do not match: {actual.dtype} != "
                   f"{expected.dtype}.")
    a, e = to_numpy(actual.detach()._data), to_numpy(expected.detach()._data)
    if not check_dtype:
        common = np.promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    rtol, atol = _tolerance(a.dtype.name, rtol, atol)
    if a.dtype == bool:
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan) if a.size else \
            np.ones(a.shape, bool)
        if close.all():
            return
        diff = np.abs(a - e) if a.dtype.kind in "fc" else np.abs(a.astype(np.int64) - e)
        # integer differences are divided in the default float dtype, as PyTorch does
        rel = diff / np.abs(e) if a.dtype.kind in "fc" else (
            diff.astype(np.float32) / np.abs(e).astype(np.float32))
    bad = ~close
    n_bad, n = int(bad.sum()), a.size
    exact = rtol == 0 and atol == 0
    word = "equal" if exact else "close"

    def greatest(values) -> str:
        v = np.where(bad, values, -np.inf) if values.dtype.kind == "f" else values
        flat = int(np.nanargmax(v)) if not np.isnan(values[bad]).any() else int(
            np.flatnonzero(bad & np.isnan(values))[0])
        index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        value = values.reshape(-1)[flat]
        shown = int(value) if values.dtype.kind in "iu" else float(value)
        return f"{shown} at index {index}"

    lines = [f"Tensor-likes are not {word}!", "",
             f"Mismatched elements: {n_bad} / {n} ({100 * n_bad / n:.1f}%)",
             f"Greatest absolute difference: {greatest(diff)}"
             + ("" if exact else f" (up to {atol} allowed)"),
             f"Greatest relative difference: {greatest(rel)}"
             + ("" if exact else f" (up to {rtol} allowed)")]
    _fail(msg, "\n".join(lines))


def _compare_scalars(actual, expected, rtol, atol, equal_nan, msg) -> None:
    exact = isinstance(actual, bool | int) and isinstance(expected, bool | int)
    rtol, atol = (0.0, 0.0) if exact else _tolerance("float64", rtol, atol)
    a, e = complex(actual), complex(expected)
    if a == e or (equal_nan and a != a and e != e):
        return
    diff = abs(actual - expected)
    if diff <= atol + rtol * abs(e):
        return
    word = "equal" if exact else "close"
    rel = diff / abs(e) if e != 0 else float("inf")
    lines = [f"Scalars are not {word}!", "", f"Expected {expected} but got {actual}.",
             f"Absolute difference: {diff}" + ("" if exact else f" (up to {atol} allowed)"),
             f"Relative difference: {rel}" + ("" if exact else f" (up to {rtol} allowed)")]
    _fail(msg, "\n".join(lines))


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close.

    Tensors must have the same shape and (with ``check_dtype``) dtype, and every element must
    satisfy ``|actual - expected| <= atol + rtol * |expected|``; the default tolerances depend
    on the dtype (exact for integers) as in PyTorch. Python numbers, NumPy arrays, and
    sequences or mappings of them are compared element by element.

    Example:
        >>> import gradwalk
        >>> try:
        ...     gradwalk.testing.assert_close(gradwalk.tensor([1.0, 2.0]),
        ...                                   gradwalk.tensor([1.0, 2.5]))
        ... except AssertionError as e:
        ...     print(str(e).splitlines()[0])
        Tensor-likes are not close!
    """
    if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
        actual, expected = Tensor._wrap(actual), Tensor._wrap(expected)
    if isinstance(actual, Tensor) or isinstance(expected, Tensor):
        if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
            raise TypeError(f"No comparison pair was able to handle inputs of type "
                            f"{type(actual)} and {type(expected)}.")
        _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, msg)
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(msg, f"The keys of the mappings do not match:\n{sorted(map(str, actual))} != "
                       f"{sorted(map(str, expected))}")
        for k in expected:
            _item(actual[k], expected[k], f"[{k!r}]", rtol, atol, equal_nan, check_dtype, msg)
        return
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and not isinstance(
            actual, str):
        if len(actual) != len(expected):
            _fail(msg, f"The length of the sequences mismatch: {len(actual)} != "
                       f"{len(expected)}")
        for k, (a, e) in enumerate(zip(actual, expected)):
            _item(a, e, f"[{k}]", rtol, atol, equal_nan, check_dtype, msg)
        return
    if isinstance(actual, bool | int | float | complex) and isinstance(
            expected, bool | int | float | complex):
        _compare_scalars(actual, expected, rtol, atol, equal_nan, msg)
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}.")


def _item(a, e, where: str, rtol, atol, equal_nan, check_dtype, msg) -> None:
    try:
        assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                     msg=msg)
    except AssertionError as err:
        raise AssertionError(f"{err}\n\nThe failure occurred for item {where}") from None


__all__ = ["assert_close"]
