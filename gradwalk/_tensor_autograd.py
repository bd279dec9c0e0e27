"""Tensor's autograd methods: hooks, ``backward``, ``retain_grad``, ``detach`` (a mixin)."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .autograd.messages import warn_nonleaf_grad
from .autograd.node import RemovableHandle
from .autograd.node import output_nr as _output_nr
from .ops import registry as _registry

if TYPE_CHECKING:
    from .tensor import Tensor


class AutogradMethods:
    """The methods of ``Tensor`` that touch the graph (``backward`` runs the engine through
    ``gradwalk.autograd``, which is imported after ``tensor.py``)."""

    __slots__ = ()

    # ------------------------------------------------------------------ autograd attributes
    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded for ``backward()``."""
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
        if requires_grad and self._data.dtype.kind not in "fc":
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
    def output_nr(self) -> int:
        """Which output of ``grad_fn`` this tensor is (``unbind``'s pieces count up from 0)."""
        return _output_nr(self)

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf (or of a tensor that called ``retain_grad``)."""
        if self.grad_fn is not None and self._grad is None and not self.retains_grad:
            warn_nonleaf_grad()
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, _registry.Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: the tensor has shape "
                    f"{list(self.shape)}, the grad {list(value.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: the tensor is {self.dtype}, "
                    f"the grad {value.dtype}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """Whether this non-leaf keeps its ``.grad`` (see ``retain_grad``)."""
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
        """Call ``hook(tensor)`` after the gradient was accumulated into this leaf's ``.grad``.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(1.0, requires_grad=True)
            >>> h = x.register_post_accumulate_grad_hook(lambda t: print("got", t.grad))
            >>> (x * 3).backward()
            got tensor(3.)
        """
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
        sys.modules["gradwalk.autograd"].backward(self, gradient, retain_graph=retain_graph,
                             create_graph=create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this data (and version counter), cut from the graph.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(1.0, requires_grad=True)
            >>> (x * 2).detach().requires_grad
            False
        """
        t = self._wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (it becomes a leaf); returns ``self``.

        Example:
            >>> import gradwalk
            >>> y = gradwalk.tensor(1.0, requires_grad=True) * 2
            >>> y.detach_().is_leaf
            True
        """
        self.grad_fn = None
        self._requires_grad = False
        return self
