"""``Dropout``: zero random elements while training."""

from __future__ import annotations

from ...ops import nn as F
from ...tensor import Tensor
from .module import Module


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; in eval mode, the identity.

    Example:
        >>> import gradwalk
        >>> drop = gradwalk.nn.Dropout(0.5)
        >>> x = gradwalk.ones(1000)
        >>> y = drop(x)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
        >>> drop.eval()(x) is x
        True
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
