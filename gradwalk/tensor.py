"""Tensor: an array plus autograd metadata. Its methods come from the ops (Note [binding])."""

from __future__ import annotations

from ._tensor_autograd import AutogradMethods
from ._tensor_data import DataMethods
from ._tensor_ops import OpMethods
from ._tensor_python import PythonMethods, _rebuild  # noqa: F401 - pickles name _rebuild
from .autograd.node import AccumulateGrad
from .ops.arrays import to_array
from .ops.surface import bind

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


class Tensor(AutogradMethods, DataMethods, PythonMethods, OpMethods, _TensorDefaults):
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

    __slots__ = ("_data", "grad_fn", "_requires_grad", "_vcl")
    __array_priority__ = 1000
    __array_ufunc__ = None  # ndarray <op> Tensor defers to the Tensor's reflected operator

    def __init__(self, data=None, *, dtype=None, requires_grad: bool = False) -> None:
        if data is None:
            data = []
        if isinstance(data, Tensor):
            data = data._data
        arr = to_array(data, dtype)
        self._data = arr
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
        t._data = data
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._vcl = None
        return t

    @staticmethod
    def _wrap(data) -> Tensor:
        """Wrap an array as a tensor that requires no grad."""
        t = _new(Tensor)
        t._data = data
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
        """The leaf's AccumulateGrad node, made once and kept (Note [the leaf's accumulator])."""
        ex = self._extra
        if ex is None:
            ex = self._extra = _Extra()
        node = ex.accum
        if node is None:
            node = ex.accum = AccumulateGrad(self)
        return node

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

__all__ = ["Tensor"]
