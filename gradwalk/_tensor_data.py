"""``Tensor.data``: the tensor's memory as a tensor autograd does not see (a mixin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tensor import Tensor

# Note [.data]
# ~~~~~~~~~~~~
# ``t.data`` is PyTorch's: a new tensor over the same memory as ``t``, with no ``grad_fn``, not
# requiring grad, and with a version counter of its own. So ``p.data.add_(u)`` changes ``p``'s
# values but not ``p``'s version: a graph that saved ``p`` runs its backward with the new values,
# where ``p.detach().add_(u)`` (which shares the counter) makes that backward raise. It carries
# no forward-mode tangent and no hooks. ``t.data = other`` makes ``t`` use ``other``'s memory
# (shape and dtype may change; ``t`` keeps its version counter, grad and graph); a tensor that
# requires grad only takes floating or complex data. The engine and every internal reader use
# the raw array, the slot ``Tensor._data``; ``.data`` is for users and costs one wrapper.


class DataMethods:
    """``Tensor.data`` (Note [.data])."""

    __slots__ = ()

    @property
    def data(self) -> Tensor:
        """The same memory as a new tensor that autograd does not see (Note [.data]).

        Example:
            >>> import gradwalk
            >>> w = gradwalk.ones(2, requires_grad=True)
            >>> w.data.mul_(3)
            tensor([3., 3.])
            >>> w
            tensor([3., 3.], requires_grad=True)
            >>> w.data = gradwalk.zeros(3)
            >>> w
            tensor([0., 0., 0.], requires_grad=True)
        """
        return self._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        from .tensor import Tensor

        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        arr = value._data
        if self._requires_grad and arr.dtype.kind not in "fc":
            raise RuntimeError(
                "data set to a tensor that requires gradients must be floating point or complex "
                f"dtype (got {value.dtype}); convert it first, e.g. value.float()")
        self._data = arr
