"""``Parameter``: a tensor that a ``Module`` registers as one of its parameters."""

from __future__ import annotations

import numpy as np

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
