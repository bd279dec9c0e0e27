"""``Flatten`` and ``Unflatten``."""

from __future__ import annotations

from ...ops import shape as S
from ...ops.arrays import wrap_dim as _wrap_dim
from ...tensor import Tensor
from .module import Module


class Flatten(Module):
    """Flatten dims ``start_dim`` to ``end_dim`` into one (by default all but the batch dim).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Flatten()(gradwalk.zeros(2, 3, 4)).shape
        gradwalk.Size([2, 12])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return S.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into the shape ``unflattened_size``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Unflatten(1, (3, 4))(gradwalk.zeros(2, 12)).shape
        gradwalk.Size([2, 3, 4])
    """

    def __init__(self, dim: int, unflattened_size: tuple) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        d = _wrap_dim(self.dim, input.ndim, "Unflatten")
        shape = input.shape[:d] + self.unflattened_size + input.shape[d + 1:]
        return S.reshape(input, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
