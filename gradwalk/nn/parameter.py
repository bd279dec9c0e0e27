"""``Parameter``: a tensor that a ``Module`` registers as one of its parameters; the
uninitialized parameters and buffers of lazy modules."""

from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..backend import to_numpy
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that is a module parameter: assigning one as a ``Module`` attribute adds it
    to ``parameters()``. It requires grad by default and shares the data of ``data``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Parameter(gradwalk.ones(2))
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        self._data = arr
        self.grad_fn = None
        self._requires_grad = False
        self._vc = data._vc if isinstance(data, Tensor) else [0]  # shares data, so versions
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        p = Parameter(Tensor._wrap(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            p._grad = Tensor._wrap(self._grad._data.copy())
        if self.name is not None:
            p.name = self.name
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (to_numpy(self._data), self._requires_grad))


def _rebuild_parameter(arr, requires_grad) -> Parameter:
    return Parameter(Tensor._wrap(arr), requires_grad)


class Buffer(Tensor):
    """Marks a tensor as a buffer when assigned to a ``Module`` attribute
    (``self.running = Buffer(t)``); stored as a plain tensor.

    Example:
        >>> import gradwalk
        >>> m = gradwalk.nn.Module()
        >>> m.count = gradwalk.nn.Buffer(gradwalk.zeros(1))
        >>> [name for name, _ in m.named_buffers()]
        ['count']
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor, *, persistent: bool = True) -> None:
        super().__init__(data)
        self.persistent = persistent


# ---------------------------------------------------------------------- lazy modules' tensors
_UNINITIALIZED = ("Attempted to use an uninitialized parameter in {what}. This error happens "
                  "when you are using a `LazyModule` (LazyLinear, LazyConv2d...) or explicitly "
                  "manipulating `gradwalk.nn.parameter.UninitializedParameter` objects. When "
                  "using LazyModules call `forward` with a dummy batch to initialize the "
                  "parameters before using them")


class _NoData:
    """The raw array of an uninitialized parameter or buffer: it knows its dtype, and any other
    use raises (so an op on an uninitialized parameter fails clearly instead of computing on an
    empty array)."""

    __slots__ = ("dtype",)

    def __init__(self, dtype) -> None:
        self.dtype = np.dtype(dtype)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in ("shape", "size", "ndim"):
            raise RuntimeError(
                "Can't access the shape of an uninitialized parameter or buffer. This error "
                "usually happens in `load_state_dict` when trying to load an uninitialized "
                "parameter into an initialized one. Call `forward` to initialize the "
                "parameters before accessing their attributes.")
        raise ValueError(_UNINITIALIZED.format(what=name))

    def _refuse(self, *args, **kwargs):
        raise ValueError(_UNINITIALIZED.format(what="an operation"))

    __array__ = __array_ufunc__ = __array_function__ = __getitem__ = __setitem__ = _refuse
    __len__ = __iter__ = __float__ = __int__ = __bool__ = __index__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = __iadd__ = __imul__ = _refuse


class UninitializedTensorMixin:
    """What ``UninitializedParameter`` and ``UninitializedBuffer`` share: a dtype (and a
    device) but no shape until ``materialize``; ``to``/``float``/``double``... change the dtype
    it will have; everything else raises."""

    __slots__ = ()
    cls_to_become: type

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Become a ``cls_to_become`` (a Parameter, or a plain tensor) of ``shape``, with
        uninitialized values, in place (the same object).

        Example:
            >>> import gradwalk
            >>> p = gradwalk.nn.UninitializedParameter()
            >>> p.materialize((2, 3))
            >>> type(p).__name__, p.shape
            ('Parameter', gradwalk.Size([2, 3]))
        """
        dt = self._data.dtype if dtype is None else _dt.to_numpy_dtype(dtype)
        t = Tensor._wrap(np.empty(tuple(shape), dtype=dt))
        if device is not None:
            t = t.to(device)
        self._data = t._data
        self._vc[0] += 1
        self.__class__ = self.cls_to_become

    def to(self, *args, **kwargs):
        """The same kind of uninitialized tensor with the dtype ``to`` would give."""
        probe = Tensor._wrap(np.empty(0, dtype=self._data.dtype)).to(*args, **kwargs)
        return type(self)(self.requires_grad, dtype=probe.dtype)

    def detach(self):
        """An uninitialized tensor of the same kind (what ``state_dict`` holds for it)."""
        return type(self)(False, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, dtype=self.dtype)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (_rebuild_uninitialized, (type(self), self.requires_grad, self._data.dtype.str))


def _rebuild_uninitialized(cls, requires_grad, dtype):
    return cls(requires_grad, dtype=_dt.from_numpy_dtype(np.dtype(dtype)))


def _empty_of(dtype) -> Tensor:
    dt = _dt.to_numpy_dtype(dtype) if dtype is not None else _dt.to_numpy_dtype(
        _dt.get_default_dtype())
    return Tensor._wrap(np.empty(0, dtype=dt))


def is_lazy(param) -> bool:
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.parameter import is_lazy
        >>> is_lazy(gradwalk.nn.LazyLinear(3).weight), is_lazy(gradwalk.nn.Linear(2, 3).weight)
        (True, False)
    """
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (a lazy module's, until its first forward).

    Example:
        >>> import gradwalk
        >>> p = gradwalk.nn.UninitializedParameter()
        >>> p
        <UninitializedParameter>
        >>> try:
        ...     p.shape
        ... except RuntimeError as e:
        ...     print(str(e).split(".")[0])
        Can't access the shape of an uninitialized parameter or buffer
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        empty = _empty_of(dtype)
        super().__init__(empty, requires_grad)
        self._data = _NoData(empty._data.dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LazyBatchNorm1d().running_mean
        <UninitializedBuffer>
    """

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None,
                 persistent: bool = True) -> None:
        empty = _empty_of(dtype)
        Tensor.__init__(self, empty)
        self._data = _NoData(empty._data.dtype)
        self._requires_grad = bool(requires_grad)
