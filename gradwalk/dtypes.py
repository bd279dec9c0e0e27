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
        self.is_signed = self.np.kind in "fic"
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        """Whether this is a complex dtype (``complex64``, ``complex128``)."""
        return self.np.kind == "c"

    def to_real(self) -> dtype:
        """The real dtype of a complex one's parts (``complex64`` -> ``float32``); a real dtype
        is returned as it is.

        Example:
            >>> import gradwalk
            >>> gradwalk.complex128.to_real()
            gradwalk.float64
        """
        if self.np.kind != "c":
            return self
        return float32 if self.np == np.complex64 else float64

    def to_complex(self) -> dtype:
        """The complex dtype with this float dtype's parts (``float32`` -> ``complex64``).

        Example:
            >>> import gradwalk
            >>> gradwalk.float64.to_complex()
            gradwalk.complex128
        """
        if self.np.kind == "c":
            return self
        if self.np.kind != "f" or self.np == np.float16:
            raise RuntimeError(f"to_complex is only supported for float32 and float64, not "
                               f"{self!r} (gradwalk has no complex32)")
        return complex64 if self.np == np.float32 else complex128

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
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)
cfloat, cdouble = complex64, complex128

ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_, complex64, complex128)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_NAMES.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64,
              cfloat=complex64, cdouble=complex128)


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
    if d is complex:
        return complex128.np  # PyTorch's too: dtype=complex is complex128
    try:
        return from_numpy_dtype(np.dtype(d)).np
    except TypeError:
        raise TypeError(f"expected a gradwalk dtype such as gradwalk.float32, got {d!r}") from None


_default = [float32]


def default_complex_np() -> np.dtype:
    """The complex dtype of Python complex numbers: complex64 beside the default float32,
    complex128 beside float64 (PyTorch's rule)."""
    return complex128.np if _default[0] is float64 else complex64.np


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


# ---------------------------------------------------------------------------------------------
# bfloat16: a name without a NumPy type


class _UnsupportedDtype(dtype):
    """A PyTorch dtype NumPy has no type for (``bfloat16``): the name exists, so that code that
    mentions it imports and compares; making or casting a tensor to it raises a TypeError that
    names the remedy (never a silent float32)."""

    __slots__ = ("remedy",)

    def __init__(self, name: str, itemsize: int, remedy: str) -> None:
        self.name = name
        self.is_floating_point = True
        self.is_signed = True
        self.itemsize = itemsize
        self.remedy = remedy

    @property
    def np(self):  # type: ignore[override]
        raise TypeError(f"gradwalk.{self.name} is not supported: NumPy has no {self.name} type; "
                        f"{self.remedy}")


bfloat16 = _UnsupportedDtype(
    "bfloat16", 2, "use gradwalk.float16 (half precision) or gradwalk.float32 instead")
_NAMES["bfloat16"] = bfloat16


# ---------------------------------------------------------------------------------------------
# Type promotion, as PyTorch's (Note [type promotion])
#
# Note [type promotion]
#     PyTorch, not NumPy, decides the dtype of an op on operands of different dtypes. Dtypes fall
#     in categories, bool < integer < floating < complex, and operands in three priorities:
#     tensors with dims, 0-d tensors, Python numbers (bool -> bool, int -> int64, float -> the
#     default dtype, complex -> its complex type). Within each priority the dtypes promote with
#     the lattice (``promote_types``: same category -> the wider type, uint8 with int8 -> int16;
#     different categories -> the higher category's type). Across priorities a lower priority
#     counts only when its category is higher (``_combine``): float32 [n] * float64 0-d is
#     float32; int32 [n] * 0-d float64 is float64; int8 [n] + 1000 stays int8; bool [n] + 3 is
#     int64; an int tensor times a Python float is the default dtype. A float tensor raised to
#     complex by a lower priority keeps its precision (float32 [n] * 0-d complex128 is
#     complex64; float16 would be complex32, which NumPy lacks: a TypeError).
#     NumPy differs: its 0-d arrays promote as arrays (float32 [n] * float64 0-d is float64),
#     int64 with float32 is float64, and bool with a Python float is float64. So every op that
#     combines dtypes asks ``promote_pair``/``result_np`` here (one place) and casts its operands
#     to the result before NumPy sees them. The registry calls ``promote_pair`` only when the
#     dtypes differ, or when a Python float meets a non-float tensor: the common same-dtype case
#     costs one identity test.

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_PROMOTED: dict = {}
_COMBINED: dict = {}


def _promote_np(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's ``promote_types`` on NumPy dtypes."""
    key = (a, b)
    r = _PROMOTED.get(key)
    if r is None:
        ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
        if ca == cb:
            r = np.promote_types(a, b)
        elif ca == 3 or cb == 3:  # a real type beside a complex one keeps its precision
            r = np.promote_types(a, b) if max(ca, cb) == 3 and min(ca, cb) == 2 else (
                a if ca > cb else b)
        else:
            r = a if ca > cb else b
        _PROMOTED[key] = r
    return r


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """The result of a higher priority's dtype and a lower one's (Note [type promotion])."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = _CATEGORY[higher.kind], _CATEGORY[lower.kind]
    if ch == 3:
        return higher
    if cl == 3:  # a float tensor raised to complex keeps its precision: float32 -> complex64
        return _complex_of(higher) if ch == 2 else lower
    if ch == 2:
        return higher
    if ch == 0 or cl == 2:
        return _promote_np(higher, lower)
    return higher


def _complex_of(d: np.dtype) -> np.dtype:
    if d == np.float16:
        raise TypeError("a float16 tensor beside a complex number or 0-d tensor is complex32 in "
                        "PyTorch, which gradwalk does not have (NumPy has no complex32); convert "
                        "the float16 tensor first, e.g. x.float()")
    return complex64.np if d == np.float32 else complex128.np


def _number_dtype(x) -> np.dtype:
    """The dtype a Python number counts as (Note [type promotion])."""
    if isinstance(x, (bool, np.bool_)):
        return bool_.np
    if isinstance(x, (int, np.integer)):
        return int64.np
    if isinstance(x, (float, np.floating)):
        return get_default_dtype().np
    if isinstance(x, (complex, np.complexfloating)):
        return default_complex_np()
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


def result_np(*operands) -> np.dtype:
    """PyTorch's result dtype of arrays (``ndim`` decides their priority) and Python numbers,
    as a NumPy dtype (Note [type promotion])."""
    dim = zero = number = None
    for x in operands:
        if x is None:
            continue
        d = getattr(x, "dtype", None)
        if d is None or isinstance(x, np.generic):
            n = _number_dtype(x)
            number = n if number is None else _promote_np(number, n)
        elif x.ndim:
            d = d.np if isinstance(d, dtype) else d
            dim = d if dim is None else _promote_np(dim, d)
        else:
            d = d.np if isinstance(d, dtype) else d
            zero = d if zero is None else _promote_np(zero, d)
    r = _combine(dim, _combine(zero, number))
    if r is None:
        raise TypeError("result_type(): expected at least one Tensor or number")
    return r


def promote_pair(input_data, other_data) -> list:
    """The two operands of a binary op cast to their PyTorch result dtype (Note [type
    promotion]); a Python number stays a number when the array already has the result dtype.

    Example:
        >>> import numpy as np
        >>> a, b = promote_pair(np.ones(2, np.float32), np.array(2.0))
        >>> a.dtype, b.dtype
        (dtype('float32'), dtype('float32'))
    """
    input_np = getattr(input_data, "dtype", None)
    other_np = getattr(other_data, "dtype", None)
    if input_np is not None and other_np is not None and not isinstance(
            input_data, np.generic) and not isinstance(other_data, np.generic):
        key = (input_np, input_data.ndim == 0, other_np, other_data.ndim == 0)
        r = _COMBINED.get(key)
        if r is None:
            r = _COMBINED[key] = result_np(input_data, other_data)
    else:
        r = result_np(input_data, other_data)
    return [_cast_to(input_data, r), _cast_to(other_data, r)]


def _cast_to(x, r: np.dtype):
    d = getattr(x, "dtype", None)
    if d is None:
        return x  # a Python number: NumPy keeps the array's dtype beside it (NEP 50)
    if d == r:
        return x
    if isinstance(x, np.generic):
        return x.item() if r.kind != "b" else x
    return x.astype(r)


def _as_dtype(d, what: str) -> dtype:
    if isinstance(d, dtype):
        return d
    raise TypeError(f"{what} must be a gradwalk dtype such as gradwalk.float32, not "
                    f"{type(d).__name__}")


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both dtypes convert to without losing their category, as PyTorch's.

    Example:
        >>> import gradwalk
        >>> gradwalk.promote_types(gradwalk.uint8, gradwalk.int8)
        gradwalk.int16
        >>> gradwalk.promote_types(gradwalk.int64, gradwalk.float16)
        gradwalk.float16
    """
    a = _as_dtype(type1, "promote_types(): argument 'type1'")
    b = _as_dtype(type2, "promote_types(): argument 'type2'")
    return from_numpy_dtype(_promote_np(a.np, b.np))


def result_type(tensor, other) -> dtype:
    """The dtype an arithmetic op on ``tensor`` and ``other`` (tensors or numbers) returns, as
    PyTorch's: 0-d tensors and numbers only raise the category (Note [type promotion]).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0, 2.0])
        >>> gradwalk.result_type(x, gradwalk.tensor(1.0, dtype=gradwalk.float64))
        gradwalk.float32
        >>> gradwalk.result_type(gradwalk.tensor([1, 2]), 2.5)
        gradwalk.float32
    """
    ops = [getattr(x, "data", x) if hasattr(x, "grad_fn") else x for x in (tensor, other)]
    for x in ops:
        if not (hasattr(x, "dtype") or isinstance(x, (bool, int, float, complex))):
            raise TypeError(f"result_type(): expected Tensors or numbers, got "
                            f"{type(x).__name__}")
    return from_numpy_dtype(result_np(*ops))


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to ``to`` (no float to integer, no
    non-bool to bool; narrowing within a category is allowed).

    Example:
        >>> import gradwalk
        >>> gradwalk.can_cast(gradwalk.float64, gradwalk.int8)
        False
        >>> gradwalk.can_cast(gradwalk.int64, gradwalk.int8)
        True
    """
    a = _as_dtype(from_, "can_cast(): argument 'from_'")
    b = _as_dtype(to, "can_cast(): argument 'to'")
    ca = 2 if a.is_floating_point else _CATEGORY[a.np.kind]
    cb = 2 if b.is_floating_point else _CATEGORY[b.np.kind]
    if ca == 3 and cb != 3:
        return False
    if ca == 2 and cb < 2:
        return False
    return not (ca != 0 and cb == 0)


def promote_all(np_dtypes) -> np.dtype:
    """PyTorch's promotion of several NumPy dtypes, all of one priority (``cat``, ``stack``,
    ``einsum``: their operands are alike).

    Example:
        >>> import numpy as np
        >>> promote_all([np.dtype(np.int64), np.dtype(np.float32)])
        dtype('float32')
    """
    it = iter(np_dtypes)
    r = next(it)
    for d in it:
        if d is not r:
            r = _promote_np(r, d)
    return r
