"""Tensor's autograd methods: hooks, ``backward``, ``retain_grad``, ``detach`` (a mixin)."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .autograd.node import RemovableHandle

if TYPE_CHECKING:
    from .tensor import Tensor


class AutogradMethods:
    """The methods of ``Tensor`` that touch the graph (``backward`` runs the engine through
    ``gradwalk.autograd``, which is imported after ``tensor.py``)."""

    __slots__ = ()

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
        self.grad_fn.retains = weakref.ref(self)

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
            hooks = self.grad_fn._pre().tensor
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
        t = self._wrap(self.data)
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
