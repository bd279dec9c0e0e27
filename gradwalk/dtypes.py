"""Data types: gradwalk's names for NumPy dtypes, printed and compared the way PyTorch does."""

from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, such as ``gradwalk.float32``.

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([1.0, 2.0]).dtype
        gradwalk.float32
        >>> gradwalk.float64.is_floating_point
        True
    """

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str, np_type: type) -> None:
        self.name = name
        self.np = np.dtype(np_type)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"gradwalk.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)

ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_NAMES.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The gradwalk dtype of a NumPy dtype; a clear TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        d = _FROM_NP.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(
                f"gradwalk does not support arrays of dtype {np.dtype(np_dtype)}; supported: "
                + ", ".join(x.name for x in ALL)
            ) from None
        return d


def to_numpy_dtype(d) -> np.dtype:
    """Accepts a gradwalk dtype, a NumPy dtype or type, or a name such as ``"float32"``."""
    if isinstance(d, dtype):
        return d.np
    if isinstance(d, str):
        if d in _NAMES:
            return _NAMES[d].np
        raise TypeError(f"unknown dtype name {d!r}")
    if d is float:
        return float32.np  # PyTorch's float is float32 ... but Python's float maps to the default
    if d is int:
        return int64.np
    if d is bool:
        return bool_.np
    try:
        return from_numpy_dtype(np.dtype(d)).np
    except TypeError:
        raise TypeError(f"expected a gradwalk dtype such as gradwalk.float32, got {d!r}") from None


_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats and of random factories (float32 at start).

    Example:
        >>> import gradwalk
        >>> gradwalk.get_default_dtype()
        gradwalk.float32
    """
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64).

    Example:
        >>> import gradwalk
        >>> gradwalk.set_default_dtype(gradwalk.float64)
        >>> gradwalk.tensor(1.5).dtype
        gradwalk.float64
        >>> gradwalk.set_default_dtype(gradwalk.float32)
    """
    npd = to_numpy_dtype(d)
    g = from_numpy_dtype(npd)
    if not g.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {g}")
    _default[0] = g


def promote_pair(input_data, other_data) -> list:
    """PyTorch's type promotion for two inputs, where NumPy's differs (the slow path).

    NumPy promotes int64 with float32 to float64 and an integer tensor with a Python float to
    float64; PyTorch keeps float32 (the floating input's dtype, or the default dtype).
    """
    input_kind = _kind(input_data)
    other_kind = _kind(other_data)
    if input_kind is not None and other_kind is not None:
        if input_data.dtype is other_data.dtype or input_data.dtype == other_data.dtype:
            return [input_data, other_data]
        input_float, other_float = input_kind in "fc", other_kind in "fc"
        if input_float and not other_float:
            return [input_data, other_data.astype(input_data.dtype)]
        if other_float and not input_float:
            return [input_data.astype(other_data.dtype), other_data]
        return [input_data, other_data]
    # one side is a Python number
    if input_kind is not None and input_kind in "biu" and isinstance(other_data, float):
        return [input_data.astype(get_default_dtype().np), other_data]
    if other_kind is not None and other_kind in "biu" and isinstance(input_data, float):
        return [input_data, other_data.astype(get_default_dtype().np)]
    return [input_data, other_data]


def _kind(data) -> str | None:
    return None if isinstance(data, (float, int)) or not hasattr(data, "dtype") \
        else data.dtype.kind
