"""Tensor: an array plus autograd metadata. Its methods come from the ops (Note [binding])."""

from __future__ import annotations

import weakref

import numpy as np

from . import dtypes as _dt
from ._tensor_autograd import AutogradMethods
from ._tensor_ops import OpMethods
from ._tensor_python import PythonMethods, _rebuild  # noqa: F401 - pickles name _rebuild
from .autograd import engine as _engine
from .autograd.grad_mode import is_grad_enabled_fast
from .autograd.node import AccumulateGrad
from .backend import device_of
from .ops.arrays import to_array, wrap_dim
from .ops.arrays import to_array as _to_array  # noqa: F401 - creation.py's name
from .ops.arrays import wrap_dim as _wrap_dim  # noqa: F401 - nn/modules/flatten.py's name
from .ops.surface import bind

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


class _TensorDefaults:
    """Defaults of the tensor attributes that only leaves and a few others set (``.grad``, the
    rare state in ``_Extra``); kept out of ``Tensor.__slots__`` so that an op's output is made
    with four stores (see ``Tensor._make``)."""

    _grad = None
    _extra = None


class Tensor(AutogradMethods, PythonMethods, OpMethods, _TensorDefaults):
    """A multi-dimensional array that can record the ops applied to it for ``backward()``.

    Make tensors with the factories (``gradwalk.tensor``, ``zeros``, ``randn``...). This class
    holds the data and the autograd metadata; the methods come from the mixins (autograd:
    ``_tensor_autograd.py``; conversion and the Python protocol: ``_tensor_python.py``;
    operators and methods that reshape their arguments: ``_tensor_ops.py``) and from the op
    declarations, installed by ``ops.surface.bind`` (``x.sin`` is ``gradwalk.sin``).

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
        arr = to_array(data, dtype)
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
        return self.data.shape[wrap_dim(dim, self.ndim, "size")]

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

    @property
    def output_nr(self) -> int:
        return 0

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


bind(Tensor)  # Note [binding]: the ops get the class, the class gets its op methods

__all__ = ["Tensor", "is_grad_enabled_fast"]
