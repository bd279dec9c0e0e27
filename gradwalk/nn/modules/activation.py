"""Activations as modules (``ReLU``, ``GELU``, ``Softmax``...) and ``MultiheadAttention``."""

from __future__ import annotations

from ...ops import elementwise as E
from ...ops import nn as F
from ...tensor import Tensor
from .module import Module


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.ReLU()(gradwalk.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return E.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LeakyReLU(0.1)(gradwalk.tensor([-1.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                         else "")


class GELU(Module):
    """Gaussian error linear unit (``approximate="tanh"`` for the tanh approximation).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.GELU()(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """Hyperbolic tangent elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Tanh()(gradwalk.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return E.tanh(input)


class Sigmoid(Module):
    """Logistic function ``1 / (1 + exp(-x))`` elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Sigmoid()(gradwalk.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return E.sigmoid(input)


class SiLU(Module):
    """``x * sigmoid(x)`` (swish) elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.SiLU()(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input * E.sigmoid(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.ELU()(gradwalk.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        neg = E.clamp(input, None, 0.0)
        return E.where(input > 0, input, E.expm1(neg) * self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softplus()(gradwalk.tensor([0.0]))
        tensor([0.6931])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softmax(dim=-1)(gradwalk.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LogSoftmax(dim=-1)(gradwalk.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
