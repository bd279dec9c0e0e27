"""PyTorch's legacy typed constructors: ``FloatTensor``, ``DoubleTensor``, ``LongTensor``...

``gradwalk.FloatTensor([1, 2])`` makes a float32 tensor from data, ``gradwalk.FloatTensor(2, 3)``
one of shape (2, 3) (zeros: gradwalk has no uninitialized memory), and
``isinstance(x, gradwalk.FloatTensor)`` holds for float32 tensors, as in PyTorch. They are not
Tensor subclasses: each is a type whose instances are gradwalk Tensors of one dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes as _dt


class tensortype(type):
    """The type of ``FloatTensor`` and its siblings: calling one makes a tensor of its dtype;
    ``isinstance`` checks a tensor's dtype."""

    _gw_dtype: _dt.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Any:
        from ._size import Size
        from .creation import tensor, zeros
        from .tensor import Tensor

        dt = cls._gw_dtype
        if not args:
            return zeros(0, dtype=dt, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not dt:
                raise TypeError(f"{cls.__name__}(): expected a tensor of dtype {dt}, got "
                                f"{args[0].dtype}; convert with .to({dt})")
            return args[0]
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) or (
                len(args) == 1 and isinstance(args[0], Size)):
            return zeros(*args, dtype=dt, device=device)
        if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
            return tensor(args[0], dtype=dt, device=device)
        raise TypeError(f"{cls.__name__}(): expected sizes (ints), a Size or a sequence of data, "
                        f"got {', '.join(type(a).__name__ for a in args)}")

    def __instancecheck__(cls, obj: object) -> bool:
        from .tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype is cls._gw_dtype and obj.is_cpu

    def __repr__(cls) -> str:
        return f"<class 'gradwalk.{cls.__name__}'>"

    @property
    def dtype(cls) -> _dt.dtype:
        """The dtype of the tensors this type makes."""
        return cls._gw_dtype


_NAMES = {
    "FloatTensor": _dt.float32, "DoubleTensor": _dt.float64, "HalfTensor": _dt.float16,
    "LongTensor": _dt.int64, "IntTensor": _dt.int32, "ShortTensor": _dt.int16,
    "CharTensor": _dt.int8, "ByteTensor": _dt.uint8, "BoolTensor": _dt.bool_,
}
TYPES = {name: tensortype(name, (), {"_gw_dtype": d, "__module__": "gradwalk",
                                    "__doc__": f"Tensors of dtype gradwalk.{d.name}."})
         for name, d in _NAMES.items()}
_BY_DTYPE = {d: name for name, d in _NAMES.items()}


def type_name(d: _dt.dtype) -> str:
    """``Tensor.type()``'s answer: ``'gradwalk.FloatTensor'`` for float32."""
    return f"gradwalk.{_BY_DTYPE[d]}"


def dtype_of_type_name(name: str) -> _dt.dtype:
    """The dtype of a type name given to ``Tensor.type`` (``'torch.FloatTensor'`` too)."""
    short = name.rsplit(".", 1)[-1]
    if short not in _NAMES:
        raise ValueError(f"invalid type: {name!r}; expected one of "
                         + ", ".join(f"'gradwalk.{n}'" for n in _NAMES))
    return _NAMES[short]
