"""Array helpers below the Tensor: dims, shape arguments, and arrays from Python data.

``tensor.py`` and the ops share them; they read the Tensor class from the registry (Note
[binding] in ``registry.py``), so they import nothing above the ops.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..backend import xp_of
from . import registry


def shape_args(args) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    if len(args) == 1 and isinstance(args[0], registry.Tensor):
        return tuple(args[0].tolist())
    return tuple(args)


def wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    """Normalize a possibly negative dim, with PyTorch's error when it is out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    if dim < lo or dim > hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
            + (f" in {op}()" if op else ""))
    return dim % ndim if ndim else 0


def to_array(data, dtype=None) -> np.ndarray:
    """Array from Python data, following PyTorch's dtype inference (floats -> default dtype)."""
    npd = None if dtype is None else dtypes.to_numpy_dtype(dtype)
    if isinstance(data, registry.Tensor):
        arr = data._data
        return arr if npd is None else arr.astype(npd)
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=npd) if npd is not None else np.array(data)
        dtypes.from_numpy_dtype(arr.dtype)  # unsupported dtypes raise here
        return arr
    if xp_of(data) is not np:
        return data if npd is None else data.astype(npd)
    if isinstance(data, (list, tuple)) and any(isinstance(v, registry.Tensor) for v in _flat(data)):
        data = _nested_tensors_to_lists(data)
    if npd is not None:
        try:
            return np.array(data, dtype=npd)
        except OverflowError:  # PyTorch refuses an integer its dtype cannot hold
            raise RuntimeError(f"value cannot be converted to type {dtypes.from_numpy_dtype(npd)} "
                               f"without overflow") from None
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot make a tensor of dtype {dtype} from {type(data).__name__}: "
                            f"{e}") from None
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"cannot make a tensor from ragged or malformed data: {e}") from None
    kind = arr.dtype.kind
    if kind == "f":
        if arr.size and np.abs(arr).max() >= 2.0**63 and any(
                type(v) is int and not -2**63 <= v < 2**63 for v in _flat(data)):
            raise ValueError("Overflow when unpacking long long: a Python int outside int64's "
                             "range cannot be a tensor element")
        arr = arr.astype(dtypes.get_default_dtype().np, copy=False)
    elif kind in "iu":
        if kind == "u":  # Python ints from 2**63 on: NumPy made uint64 (Note [type promotion])
            raise ValueError("Overflow when unpacking long long: a Python int outside int64's "
                             "range cannot be a tensor element")
        arr = arr.astype(np.int64, copy=False)
    elif kind == "c":  # Python complex numbers: complex64 beside the default float32
        arr = arr.astype(dtypes.default_complex_np(), copy=False)
    elif kind == "b":
        pass
    elif kind == "O" and any(type(v) is int for v in _flat(data)):
        raise ValueError("Overflow when unpacking long long: a Python int outside int64's range "
                         "cannot be a tensor element")
    elif kind == "O" or kind in "USV":
        raise TypeError(
            f"cannot make a tensor from {type(data).__name__} data; expected numbers, nested "
            "lists of numbers, or an array")
    return arr


def _flat(data):
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, (list, tuple)):
            stack.extend(d)
        else:
            yield d


def _nested_tensors_to_lists(data):
    if isinstance(data, registry.Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_nested_tensors_to_lists(d) for d in data]
    return data
