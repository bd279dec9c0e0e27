"""Tensor's conversions (``item``, ``numpy``, ``to``, ``float``...) and its Python protocol
(``repr``, ``len``, ``bool``, pickling, ``deepcopy``): a mixin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from . import _device
from . import dtypes as _dt
from ._printing import tensor_repr
from ._size import Size, from_shape
from .backend import device_of, to_numpy, xp_of
from .ops import elementwise as _elementwise
from .ops import registry as _registry
from .ops import shape as _shape
from .ops.arrays import wrap_dim

if TYPE_CHECKING:
    from .tensor import Tensor


class PythonMethods:
    """Metadata (``shape``, ``dtype``...), conversions and the Python protocol of ``Tensor``."""

    __slots__ = ()

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        """The size of each dim, a ``gradwalk.Size`` (a tuple; ``x.shape == x.size()``)."""
        return from_shape(self._data.shape)

    @property
    def dtype(self) -> _dt.dtype:
        """The element type (``gradwalk.float32``...)."""
        return _dt.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        """The number of dims."""
        return self._data.ndim

    @property
    def device(self) -> _device.device:
        """Where the data lives: ``device(type='cpu')`` or ``device(type='cuda', index=0)``
        (Note [device objects] in ``_device.py``)."""
        return _device.device_object(device_of(self._data))

    @property
    def is_cuda(self) -> bool:
        """Whether the data is on a GPU."""
        return device_of(self._data) != "cpu"

    @property
    def is_cpu(self) -> bool:
        """Whether the data is in host memory."""
        return device_of(self._data) == "cpu"

    @property
    def layout(self) -> _device.layout:
        """The memory layout: always ``gradwalk.strided`` (dense)."""
        return _device.strided

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no ``grad_fn``), whose ``.grad`` is kept."""
        return self.grad_fn is None

    @property
    def name(self) -> str | None:
        """An optional name (``tensor(3.0, name="x")``), shown by the graph tools."""
        return None if self._extra is None else self._extra.name

    @name.setter
    def name(self, value: str | None) -> None:
        self._ex().name = value

    def size(self, dim: int | None = None) -> Size | int:
        """The shape (a ``gradwalk.Size``), or the length of one dim.

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(2, 3).size(), gradwalk.zeros(2, 3).size(-1)
            (gradwalk.Size([2, 3]), 3)
        """
        if dim is None:
            return from_shape(self._data.shape)
        return self._data.shape[wrap_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        """The number of dims (``ndim``)."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements.

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(2, 3).numel()
            6
        """
        return int(self._data.size)

    nelement = numel  # PyTorch's second name

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """Whether the dtype is a float dtype."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format: _device.memory_format | None = None) -> bool:
        """Whether the memory is laid out in C order, or in ``memory_format`` (see
        ``contiguous``)."""
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        fmt = _device.check_memory_format(memory_format, "is_contiguous")
        return _device.is_format(self._data, fmt)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The step in elements between neighbours along each dim (or along ``dim``); 0 along
        a broadcast (``expand``) dim, as PyTorch's.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.zeros(2, 3)
            >>> x.stride(), x.t().stride(), x.stride(-1)
            ((3, 1), (1, 3), 1)
        """
        a = self._data
        steps = tuple(s // a.itemsize for s in a.strides)
        if any(s < 0 for s in steps):  # a NumPy reversed view; PyTorch's flip is a C copy
            steps, acc = [], 1
            for n in reversed(a.shape):
                steps.insert(0, acc)
                acc *= max(n, 1)
            steps = tuple(steps)
        if dim is None:
            return steps
        if not -len(steps) <= dim < max(len(steps), 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-len(steps)}, {len(steps) - 1}], but got {dim})")
        return steps[dim]

    @property
    def is_sparse(self) -> bool:
        """False: gradwalk tensors are dense."""
        return False

    # ------------------------------------------------------------------ conversion
    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor(2.5).item()
            2.5
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if xp_of(self._data) is np else self._data.item()

    def tolist(self) -> list | float | int | bool:
        """The values as (nested) Python lists of numbers.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
        return to_numpy(self._data).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array, sharing memory (raises while the tensor requires grad).

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1.0, 2.0]).numpy()
            array([1., 2.], dtype=float32)
        """
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        return to_numpy(self._data)

    def __array__(self, dtype: object = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's conversion (``np.asarray(x)``); raises while the tensor requires grad."""
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        a = to_numpy(self._data)
        return a if dtype is None else a.astype(dtype, copy=False)

    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype (``x.to(gradwalk.float64)``) or device (``"cpu"``, ``"cuda"``);
        differentiable.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1, 2]).to(gradwalk.float64)
            tensor([1., 2.], dtype=gradwalk.float64)
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        memory_format = kwargs.pop("memory_format", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, (str, _device.device)) or (isinstance(a, int) and not isinstance(
                    a, bool)):
                device = a
            elif isinstance(a, _registry.Tensor):
                dtype = a.dtype
                device = a.device
            elif isinstance(a, bool):
                pass  # the positional non_blocking / copy flags
            else:
                dtype = a
        out = self
        if device is not None:
            out = _shape.to_device(out, _device.as_device_str(device))
        if dtype is not None:
            npd = _dt.to_numpy_dtype(dtype)
            if npd != out._data.dtype:
                out = _elementwise.cast(out, npd)
        if memory_format is not None:
            out = out._in_format(memory_format, "to")
        if copy and out is self:
            out = _elementwise.clone(self)
        return out

    def _in_format(self, memory_format, op: str) -> Tensor:
        """``self`` laid out in ``memory_format`` (a differentiable copy when it is not)."""
        fmt = _device.check_memory_format(memory_format, op)
        arr = _device.in_format(self._data, fmt)
        if arr is self._data:
            return self
        out = _elementwise.clone(self)  # the graph's copy; its array takes the new strides
        out._data = arr  # the same values: nothing saved the clone's own array
        return out

    def type(self, dtype: object = None) -> str | Tensor:
        """The type's name (``gradwalk.FloatTensor``), or a copy converted to ``dtype``.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1.0]).type()
            'gradwalk.FloatTensor'
        """
        if dtype is None:
            from ._legacy_tensors import type_name
            return type_name(self.dtype)
        if isinstance(dtype, str):
            from ._legacy_tensors import dtype_of_type_name
            dtype = dtype_of_type_name(dtype)
        elif isinstance(dtype, type) and hasattr(dtype, "_gw_dtype"):
            dtype = dtype._gw_dtype
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """Converted to ``other``'s dtype (see ``to``)."""
        return self.to(other.dtype)

    def float(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to float32.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1, 2]).float()
            tensor([1., 2.])
        """
        return self.to(_dt.float32, memory_format=memory_format)

    def double(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to float64 (see ``float``)."""
        return self.to(_dt.float64, memory_format=memory_format)

    def half(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to float16 (see ``float``)."""
        return self.to(_dt.float16, memory_format=memory_format)

    def long(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to int64.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1.7, -1.7]).long()
            tensor([ 1, -1])
        """
        return self.to(_dt.int64, memory_format=memory_format)

    def int(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to int32 (see ``long``)."""
        return self.to(_dt.int32, memory_format=memory_format)

    def bool(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to bool (nonzero is True).

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([0.0, 2.0]).bool()
            tensor([False,  True])
        """
        return self.to(_dt.bool_, memory_format=memory_format)

    def bfloat16(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to bfloat16: refused with a TypeError (NumPy has no bfloat16; use
        ``half()`` or ``float()``)."""
        return self.to(_dt.bfloat16, memory_format=memory_format)

    def short(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to int16 (see ``long``)."""
        return self.to(_dt.int16, memory_format=memory_format)

    def byte(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to uint8 (see ``long``)."""
        return self.to(_dt.uint8, memory_format=memory_format)

    def char(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """Converted to int8 (see ``long``)."""
        return self.to(_dt.int8, memory_format=memory_format)

    def cpu(self) -> Tensor:
        """On the CPU (``self`` when it is there already; differentiable)."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """On the GPU (needs CuPy; differentiable)."""
        return self.to("cuda")

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back to the original.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1.0]).clone()
            tensor([1.])
        """
        return _elementwise.clone(self)

    def contiguous(self, memory_format: _device.memory_format | None = None) -> Tensor:
        """``self`` if its memory is C-contiguous (or laid out in ``memory_format``), else a
        copy that is.

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(2, 3).t().contiguous().is_contiguous()
            True
        """
        if memory_format is None or memory_format is _device.contiguous_format:
            return self if self._data.flags.c_contiguous else _elementwise.clone(self)
        if memory_format is _device.preserve_format:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        return self._in_format(memory_format, "contiguous")

    # ------------------------------------------------------------------ Python protocol
    def __repr__(self) -> str:
        return tensor_repr(self)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape "
                f"{list(self.shape)}); use .any() or .all()")
        return bool(self._data.reshape(()).item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return repr(self).__format__(spec)

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol: int) -> tuple:
        return (_rebuild, (to_numpy(self._data), self._requires_grad))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment. Use .detach().clone() first.")
        t = self._wrap(self._data.copy())
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._wrap(self._grad._data.copy())
        memo[id(self)] = t
        return t


def _rebuild(arr: np.ndarray, requires_grad: bool) -> Tensor:
    """Unpickle a tensor (``__reduce_ex__``)."""
    t = _registry.wrap(arr)
    if requires_grad:
        t.requires_grad_()
    return t
