"""Tensor: an array plus autograd metadata. Its methods call the ops of ``gradwalk.ops``."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from . import dtypes as _dt
from .autograd import engine as _engine
from .autograd.grad_mode import is_grad_enabled_fast
from .autograd.node import AccumulateGrad, RemovableHandle
from .autograd.node import output_nr as _output_nr
from .backend import device_of, to_numpy, xp_of
from .ops import registry as _registry

_ndarray = np.ndarray
_new = object.__new__


class _Extra:
    """The rarely used state of a tensor, kept out of the hot path (one slot on Tensor)."""

    __slots__ = ("accum", "hooks", "post_hooks", "retains_grad", "base", "name", "view_chain",
                 "views")

    def __init__(self) -> None:
        self.accum = None
        self.hooks = None
        self.post_hooks = None
        self.retains_grad = False
        self.base = None
        self.name = None
        self.view_chain = ()
        self.views = None  # a base's live views (weakrefs), see ops/inplace_views.track_view


def _inplace_of(name: str):
    """A method ``name_`` that runs the method ``name`` in place (see ``Tensor._inplace``)."""

    def method(self, *args, **kwargs):
        return self._inplace(getattr(Tensor, name), *args, **kwargs)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: the result is written into this tensor's memory."
    return method


def _addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    return input + value * tensor1 * tensor2


def _addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    return input + value * tensor1 / tensor2


class _TensorDefaults:
    """Defaults of the tensor attributes that only leaves and a few others set (``.grad``, the
    rare state in ``_Extra``); kept out of ``Tensor.__slots__`` so that an op's output is made
    with four stores (see ``Tensor._make``)."""

    _grad = None
    _extra = None


class Tensor(_TensorDefaults):
    """A multi-dimensional array that can record the ops applied to it for ``backward()``.

    Make tensors with the factories (``gradwalk.tensor``, ``zeros``, ``randn``...).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> y = x**2 + 2*x + 1
        >>> y.backward()
        >>> x.grad
        tensor(8.)
    """

    __slots__ = ("data", "grad_fn", "_requires_grad", "_vcl")
    __array_priority__ = 1000
    __array_ufunc__ = None  # ndarray <op> Tensor defers to the Tensor's reflected operator

    def __init__(self, data=None, *, dtype=None, requires_grad: bool = False) -> None:
        if data is None:
            data = []
        if isinstance(data, Tensor):
            data = data.data
        arr = _to_array(data, dtype)
        self.data = arr
        self.grad_fn = None
        self._requires_grad = False
        self._vcl = None
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ construction (internal)
    @staticmethod
    def _make(data, grad_fn) -> Tensor:
        """Wrap an op's output array; ``grad_fn`` is its node or ``None``."""
        t = _new(Tensor)
        t.data = data
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._vcl = None
        return t

    @staticmethod
    def _wrap(data) -> Tensor:
        """Wrap an array as a tensor that requires no grad."""
        t = _new(Tensor)
        t.data = data
        t.grad_fn = None
        t._requires_grad = False
        t._vcl = None
        return t

    def _ex(self) -> _Extra:
        ex = self._extra
        if ex is None:
            ex = self._extra = _Extra()
        return ex

    def _accumulator(self) -> AccumulateGrad:
        """The leaf's AccumulateGrad node, made once and shared while the graph lives."""
        ex = self._extra
        if ex is None:
            ex = self._extra = _Extra()
        ref = ex.accum
        node = ref() if ref is not None else None
        if node is None:
            node = AccumulateGrad(self)
            ex.accum = weakref.ref(node)
        return node

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.from_numpy_dtype(self.data.dtype)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        return device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device != "cpu"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def name(self) -> str | None:
        """An optional name (``tensor(3.0, name="x")``), shown by the graph tools."""
        return None if self._extra is None else self._extra.name

    @name.setter
    def name(self, value: str | None) -> None:
        self._ex().name = value

    def size(self, dim: int | None = None):
        """The shape, or the length of one dim.

        Example:
            >>> import gradwalk
            >>> gradwalk.zeros(2, 3).size(), gradwalk.zeros(2, 3).size(-1)
            ((2, 3), 3)
        """
        if dim is None:
            return self.data.shape
        return self.data.shape[_wrap_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    # ------------------------------------------------------------------ autograd attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if self.grad_fn is None:
            self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only); returns ``self``.

        Example:
            >>> import gradwalk
            >>> gradwalk.ones(2).requires_grad_()
            tensor([1., 1.], requires_grad=True)
        """
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients; this "
                f"tensor has dtype {self.dtype}. Convert it first, e.g. x.float().requires_grad_()"
            )
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf (or of a tensor that called ``retain_grad``)."""
        if self.grad_fn is not None and self._grad is None and not self.retains_grad:
            _engine.warn_nonleaf_grad()
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: the tensor has shape "
                    f"{list(self.shape)}, the grad {list(value.shape)}")
            if value.data.dtype != self.data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: the tensor is {self.dtype}, "
                    f"the grad {value.dtype}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._extra is not None and self._extra.retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after ``backward()``.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(2.0, requires_grad=True)
            >>> y = x * 3
            >>> y.retain_grad()
            >>> (y * y).backward()
            >>> y.grad
            tensor(12.)
        """
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        self._ex().retains_grad = True
        self.grad_fn._retain_output(self.output_nr, weakref.ref(self))

    @property
    def output_nr(self) -> int:
        """Which output of ``grad_fn`` this tensor is (``unbind``'s pieces count up from 0)."""
        return _output_nr(self)

    @property
    def _version(self) -> int:
        vc = self._vcl
        return 0 if vc is None else vc[0]

    @property
    def _vc(self) -> list:
        """The version counter: a one-element list shared by a tensor and its views, bumped by
        every in-place change. Made on first use (``_vcl`` is ``None`` until then, meaning
        version 0), so that op outputs cost no allocation for it."""
        vc = self._vcl
        if vc is None:
            vc = self._vcl = [0]
        return vc

    @_vc.setter
    def _vc(self, value: list) -> None:
        self._vcl = value

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient of this tensor is computed.

        The hook may return a new gradient to use instead. Returns a handle with ``remove()``.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(1.0, requires_grad=True)
            >>> h = x.register_hook(lambda g: g * 10)
            >>> (x * 2).backward()
            >>> x.grad
            tensor(20.)
        """
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            ex = self._ex()
            if ex.hooks is None:
                ex.hooks = []
            hooks = ex.hooks
        else:
            hooks = self.grad_fn._output_hooks(self.output_nr)
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(tensor)`` after the gradient was accumulated into this leaf's ``.grad``."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        ex = self._ex()
        if ex.post_hooks is None:
            ex.post_hooks = []
        ex.post_hooks.append(hook)
        return RemovableHandle(ex.post_hooks, hook)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of the leaves.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
            >>> (x * x).sum().backward()
            >>> x.grad
            tensor([2., 4.])
        """
        _autograd().backward(self, gradient, retain_graph=retain_graph,
                             create_graph=create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this data (and version counter), cut from the graph.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(1.0, requires_grad=True)
            >>> (x * 2).detach().requires_grad
            False
        """
        t = Tensor._wrap(self.data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ conversion
    def item(self):
        """The value of a one-element tensor as a Python number.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor(2.5).item()
            2.5
        """
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.reshape(()).item() if xp_of(self.data) is np else self.data.item()

    def tolist(self):
        return to_numpy(self.data).tolist()

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
        return to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        a = to_numpy(self.data)
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
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, str):
                device = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
                device = a.device
            else:
                dtype = a
        out = self
        if device is not None:
            from .ops import shape as _shape

            out = _shape.to_device(out, device)
        if dtype is not None:
            npd = _dt.to_numpy_dtype(dtype)
            if npd != out.data.dtype:
                out = _E.cast(out, npd)
        return out

    def type(self, dtype=None):
        if dtype is None:
            return f"gradwalk.{self.dtype.name.capitalize()}Tensor"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(_dt.float32)

    def double(self) -> Tensor:
        return self.to(_dt.float64)

    def half(self) -> Tensor:
        return self.to(_dt.float16)

    def long(self) -> Tensor:
        return self.to(_dt.int64)

    def int(self) -> Tensor:
        return self.to(_dt.int32)

    def bool(self) -> Tensor:
        return self.to(_dt.bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back to the original.

        Example:
            >>> import gradwalk
            >>> gradwalk.tensor([1.0]).clone()
            tensor([1.])
        """
        return _E.clone(self)

    def contiguous(self) -> Tensor:
        return self if self.data.flags.c_contiguous else _E.clone(self)

    # ------------------------------------------------------------------ Python protocol
    def __repr__(self) -> str:
        from ._printing import tensor_repr

        return tensor_repr(self)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape "
                f"{list(self.shape)}); use .any() or .all()")
        return bool(self.data.reshape(()).item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __format__(self, spec: str) -> str:
        if self.data.ndim == 0:
            return self.item().__format__(spec)
        return repr(self).__format__(spec)

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        return (_rebuild, (to_numpy(self.data), self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment. Use .detach().clone() first.")
        t = Tensor._wrap(self.data.copy())
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = Tensor._wrap(self._grad.data.copy())
        memo[id(self)] = t
        return t

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _E.add(self, other)

    def __radd__(self, other):
        return _E.add(other, self)

    def __sub__(self, other):
        return _E.sub(self, other)

    def __rsub__(self, other):
        return _E.sub(other, self)

    def __mul__(self, other):
        return _E.mul(self, other)

    def __rmul__(self, other):
        return _E.mul(other, self)

    def __truediv__(self, other):
        return _E.div(self, other)

    def __rtruediv__(self, other):
        return _E.div(other, self)

    def __floordiv__(self, other):
        return _E.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _E.floor_divide(other, self)

    def __mod__(self, other):
        return _E.remainder(self, other)

    def __rmod__(self, other):
        return _E.remainder(other, self)

    def __pow__(self, other):
        return _E.pow(self, other)

    def __rpow__(self, other):
        return _E.pow(other, self)

    def __matmul__(self, other):
        return _L.matmul(self, other)

    def __rmatmul__(self, other):
        return _L.matmul(other, self)

    def __neg__(self):
        return _E.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _E.abs(self)

    def __invert__(self):
        return _E.logical_not(self) if self.data.dtype.kind == "b" else _E.bitwise_not(self)

    def __and__(self, other):
        return _E.logical_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _E.logical_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _E.logical_xor(self, other)

    __rxor__ = __xor__

    def __eq__(self, other):  # type: ignore[override]
        return _E.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return _E.ne(self, other)

    def __lt__(self, other):
        return _E.lt(self, other)

    def __le__(self, other):
        return _E.le(self, other)

    def __gt__(self, other):
        return _E.gt(self, other)

    def __ge__(self, other):
        return _E.ge(self, other)

    # in-place arithmetic (augmented assignment)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, index):
        return _I.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _I.setitem(self, index, value)

    # ------------------------------------------------------------------ in place ops
    def _inplace(self, op_fn, *args, **kwargs) -> Tensor:
        return _I.apply_inplace(self, op_fn, *args, **kwargs)

    def add_(self, other, *, alpha=1):
        return self._inplace(_E.add, other, alpha=alpha) if alpha != 1 else self._inplace(
            _E.add, other)

    def sub_(self, other, *, alpha=1):
        return self._inplace(_E.sub, other, alpha=alpha) if alpha != 1 else self._inplace(
            _E.sub, other)

    def mul_(self, other):
        return self._inplace(_E.mul, other)

    def div_(self, other):
        return self._inplace(_E.div, other)

    def pow_(self, other):
        return self._inplace(_E.pow, other)

    def neg_(self):
        return self._inplace(_E.neg)

    def abs_(self):
        return self._inplace(_E.abs)

    def exp_(self):
        return self._inplace(_E.exp)

    def log_(self):
        return self._inplace(_E.log)

    def sqrt_(self):
        return self._inplace(_E.sqrt)

    def sin_(self):
        return self._inplace(_E.sin)

    def cos_(self):
        return self._inplace(_E.cos)

    def tanh_(self):
        return self._inplace(_E.tanh)

    def sigmoid_(self):
        return self._inplace(_E.sigmoid)

    def relu_(self):
        return self._inplace(_E.relu)

    def reciprocal_(self):
        return self._inplace(_E.reciprocal)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return self._inplace(_E.clamp, min, max)

    clip_ = clamp_

    def zero_(self):
        return self._inplace(_E.fill, 0)

    def fill_(self, value):
        return self._inplace(_E.fill, value)

    def copy_(self, src):
        return self._inplace(_E.copy_from, src)

    def masked_fill_(self, mask, value):
        return self._inplace(_I.masked_fill, mask, value)

    def scatter_add_(self, dim, index, src):
        return self._inplace(_I.scatter_add, dim, index, src)

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._inplace(_I.index_add, dim, index, source, alpha=alpha)

    def uniform_(self, a: float = 0.0, b: float = 1.0):
        from . import creation

        sample = creation.rand(*self.shape, dtype=self.dtype) * (b - a) + a
        return self._inplace(_E.copy_from, sample)

    def normal_(self, mean: float = 0.0, std: float = 1.0):
        from . import creation

        sample = creation.randn(*self.shape, dtype=self.dtype) * std + mean
        return self._inplace(_E.copy_from, sample)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._inplace(_addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._inplace(_addcdiv, tensor1, tensor2, value=value)

    def clamp_min_(self, min):  # noqa: A002
        return self._inplace(_E.clamp, min, None)

    def clamp_max_(self, max):  # noqa: A002
        return self._inplace(_E.clamp, None, max)

    # in-place forms of out-of-place methods: ``x.floor_()`` writes ``x.floor()`` into x
    lerp_ = _inplace_of("lerp")
    square_ = _inplace_of("square")
    floor_ = _inplace_of("floor")
    ceil_ = _inplace_of("ceil")
    round_ = _inplace_of("round")
    trunc_ = _inplace_of("trunc")
    sign_ = _inplace_of("sign")
    log1p_ = _inplace_of("log1p")
    expm1_ = _inplace_of("expm1")
    rsqrt_ = _inplace_of("rsqrt")
    log2_ = _inplace_of("log2")
    log10_ = _inplace_of("log10")
    tan_ = _inplace_of("tan")
    asin_ = _inplace_of("asin")
    acos_ = _inplace_of("acos")
    atan_ = _inplace_of("atan")
    sinh_ = _inplace_of("sinh")
    cosh_ = _inplace_of("cosh")
    erf_ = _inplace_of("erf")
    remainder_ = _inplace_of("remainder")
    floor_divide_ = _inplace_of("floor_divide")
    scatter_ = _inplace_of("scatter")
    tril_ = _inplace_of("tril")
    triu_ = _inplace_of("triu")
    true_divide_ = _inplace_of("div")
    multiply_ = _inplace_of("mul")
    subtract_ = _inplace_of("sub")
    negative_ = _inplace_of("neg")
    absolute_ = _inplace_of("abs")

    # ------------------------------------------------------------------ math methods
    def add(self, other, *, alpha=1):
        return _E.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _E.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _E.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return _E.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def floor_divide(self, other):
        return _E.floor_divide(self, other)

    def remainder(self, other):
        return _E.remainder(self, other)

    def pow(self, exponent):
        return _E.pow(self, exponent)

    def neg(self):
        return _E.neg(self)

    negative = neg

    def abs(self):
        return _E.abs(self)

    absolute = abs

    def sign(self):
        return _E.sign(self)

    def reciprocal(self):
        return _E.reciprocal(self)

    def square(self):
        return _E.square(self)

    def sqrt(self):
        return _E.sqrt(self)

    def rsqrt(self):
        return _E.rsqrt(self)

    def exp(self):
        return _E.exp(self)

    def expm1(self):
        return _E.expm1(self)

    def log(self):
        return _E.log(self)

    def log2(self):
        return _E.log2(self)

    def log10(self):
        return _E.log10(self)

    def log1p(self):
        return _E.log1p(self)

    def sin(self):
        return _E.sin(self)

    def cos(self):
        return _E.cos(self)

    def tan(self):
        return _E.tan(self)

    def asin(self):
        return _E.asin(self)

    def acos(self):
        return _E.acos(self)

    def atan(self):
        return _E.atan(self)

    def sinh(self):
        return _E.sinh(self)

    def cosh(self):
        return _E.cosh(self)

    def tanh(self):
        return _E.tanh(self)

    def sigmoid(self):
        return _E.sigmoid(self)

    def relu(self):
        return _E.relu(self)

    def erf(self):
        return _E.erf(self)

    def floor(self):
        return _E.floor(self)

    def ceil(self):
        return _E.ceil(self)

    def round(self):
        return _E.round(self)

    def trunc(self):
        return _E.trunc(self)

    def clamp(self, min=None, max=None):  # noqa: A002
        return _E.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _E.maximum(self, other)

    def minimum(self, other):
        return _E.minimum(self, other)

    def where(self, condition, other):
        return _E.where(condition, self, other)

    def lerp(self, end, weight):
        return self + weight * (end - self)

    # comparisons and logic
    def eq(self, other):
        return _E.eq(self, other)

    def ne(self, other):
        return _E.ne(self, other)

    def lt(self, other):
        return _E.lt(self, other)

    def le(self, other):
        return _E.le(self, other)

    def gt(self, other):
        return _E.gt(self, other)

    def ge(self, other):
        return _E.ge(self, other)

    def equal(self, other) -> bool:
        return _E.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return _E.allclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _E.isclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def logical_and(self, other):
        return _E.logical_and(self, other)

    def logical_or(self, other):
        return _E.logical_or(self, other)

    def logical_not(self):
        return _E.logical_not(self)

    def logical_xor(self, other):
        return _E.logical_xor(self, other)

    def isnan(self):
        return _E.isnan(self)

    def isfinite(self):
        return _E.isfinite(self)

    def isinf(self):
        return _E.isinf(self)

    def any(self, dim=None, keepdim=False, **kw):
        return _R.any(self, dim=dim, keepdim=keepdim, **kw)

    def all(self, dim=None, keepdim=False, **kw):
        return _R.all(self, dim=dim, keepdim=keepdim, **kw)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, *, dtype=None, **kw):
        return _R.sum(self, dim=dim, keepdim=keepdim, dtype=dtype, **kw)

    def mean(self, dim=None, keepdim=False, *, dtype=None, **kw):
        return _R.mean(self, dim=dim, keepdim=keepdim, dtype=dtype, **kw)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
        return _R.var(self, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction,
                      **kw)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, **kw):
        return _R.std(self, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction,
                      **kw)

    def prod(self, dim=None, keepdim=False, *, dtype=None, **kw):
        return _R.prod(self, dim=dim, keepdim=keepdim, dtype=dtype, **kw)

    def max(self, dim=None, keepdim=False, **kw):
        return _R.max(self, dim=dim, keepdim=keepdim, **kw)

    def min(self, dim=None, keepdim=False, **kw):
        return _R.min(self, dim=dim, keepdim=keepdim, **kw)

    def amax(self, dim=(), keepdim=False, **kw):
        return _R.amax(self, dim=dim, keepdim=keepdim, **kw)

    def amin(self, dim=(), keepdim=False, **kw):
        return _R.amin(self, dim=dim, keepdim=keepdim, **kw)

    def argmax(self, dim=None, keepdim=False, **kw):
        return _R.argmax(self, dim=dim, keepdim=keepdim, **kw)

    def argmin(self, dim=None, keepdim=False, **kw):
        return _R.argmin(self, dim=dim, keepdim=keepdim, **kw)

    def logsumexp(self, dim=None, keepdim=False, **kw):
        return _R.logsumexp(self, dim=dim, keepdim=keepdim, **kw)

    def norm(self, p="fro", dim=None, keepdim=False):
        return _R.norm(self, p, dim, keepdim)

    def cumsum(self, dim):
        return _R.cumsum(self, dim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return _S.reshape(self, _shape_args(shape))

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return self.to(shape[0])
        return _S.view(self, _shape_args(shape))

    def view_as(self, other):
        return _S.view(self, other.shape)

    def reshape_as(self, other):
        return _S.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _S.flatten(self, start_dim, end_dim)

    def ravel(self):
        return _S.flatten(self)

    def squeeze(self, dim=None):
        return _S.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _S.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _S.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return _S.permute(self, _shape_args(dims))

    def t(self):
        return _S.t(self)

    @property
    def T(self):  # noqa: N802 - PyTorch's name
        return _S.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):  # noqa: N802
        return _S.transpose(self, -2, -1)

    def expand(self, *sizes):
        return _S.expand(self, _shape_args(sizes))

    def expand_as(self, other):
        return _S.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _S.broadcast_to(self, shape)

    def repeat(self, *sizes):
        return _S.repeat(self, _shape_args(sizes))

    def split(self, split_size_or_sections, dim=0):
        return _S.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _S.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _S.unbind(self, dim)

    def flip(self, *dims):
        return _S.flip(self, _shape_args(dims))

    def tril(self, diagonal=0):
        return _S.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _S.triu(self, diagonal)

    def movedim(self, source, destination):
        return _S.movedim(self, source, destination)

    def narrow(self, dim, start, length):
        return _S.narrow(self, dim, start, length)

    # ------------------------------------------------------------------ indexing ops
    def gather(self, dim, index):
        return _I.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return _I.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src):
        return _I.scatter(self, dim, index, src)

    def index_select(self, dim, index):
        return _I.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return _I.index_add(self, dim, index, source, alpha=alpha)

    def masked_fill(self, mask, value):
        return _I.masked_fill(self, mask, value)

    def take_along_dim(self, indices, dim):
        return _I.gather(self, dim, indices)

    def nonzero(self):
        return _I.nonzero(self)

    # ------------------------------------------------------------------ linear algebra
    def matmul(self, other):
        return _L.matmul(self, other)

    def mm(self, other):
        return _L.mm(self, other)

    def bmm(self, other):
        return _L.bmm(self, other)

    def mv(self, vec):
        return _L.mv(self, vec)

    def dot(self, other):
        return _L.dot(self, other)

    def outer(self, other):
        return _L.outer(self, other)

    # ------------------------------------------------------------------ nn
    def softmax(self, dim):
        return _N.softmax(self, dim)

    def log_softmax(self, dim):
        return _N.log_softmax(self, dim)


def _autograd():
    """``gradwalk.autograd`` (imported on first use: it imports modules that import this one)."""
    return sys.modules["gradwalk.autograd"]


def _rebuild(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_()
    return t


def _shape_args(args) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    if len(args) == 1 and isinstance(args[0], Tensor):
        return tuple(args[0].tolist())
    return tuple(args)


def _wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    """Normalize a possibly negative dim, with PyTorch's error when it is out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    if dim < lo or dim > hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
            + (f" in {op}()" if op else ""))
    return dim % ndim if ndim else 0


def _to_array(data, dtype=None) -> np.ndarray:
    """Array from Python data, following PyTorch's dtype inference (floats -> default dtype)."""
    npd = None if dtype is None else _dt.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        arr = data.data
        return arr if npd is None else arr.astype(npd)
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=npd) if npd is not None else np.array(data)
        _dt.from_numpy_dtype(arr.dtype)  # unsupported dtypes raise here
        return arr
    if xp_of(data) is not np:
        return data if npd is None else data.astype(npd)
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
        data = _nested_tensors_to_lists(data)
    if npd is not None:
        try:
            return np.array(data, dtype=npd)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot make a tensor of dtype {dtype} from {type(data).__name__}: "
                            f"{e}") from None
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"cannot make a tensor from ragged or malformed data: {e}") from None
    kind = arr.dtype.kind
    if kind == "f":
        arr = arr.astype(_dt.get_default_dtype().np, copy=False)
    elif kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    elif kind == "b":
        pass
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
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_nested_tensors_to_lists(d) for d in data]
    return data


_registry.Tensor = Tensor
_registry._make = Tensor._make
_engine.Tensor = Tensor

from .ops import elementwise as _E  # noqa: E402
from .ops import indexing as _I  # noqa: E402
from .ops import linalg as _L  # noqa: E402
from .ops import nn as _N  # noqa: E402
from .ops import reductions as _R  # noqa: E402
from .ops import shape as _S  # noqa: E402

__all__ = ["Tensor", "is_grad_enabled_fast"]
