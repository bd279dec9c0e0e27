"""More activation modules (``Hardtanh``, ``ReLU6``, ``Mish``, ``PReLU``...), each the module form
of a function of ``gradwalk.nn.functional``, with PyTorch's arguments and ``repr``."""

from __future__ import annotations

from ...creation import full
from ...tensor import Tensor
from .. import functional_activations as A
from ..functional import softmax
from ..parameter import Parameter
from .module import Module


class Hardtanh(Module):
    """``x`` clamped to ``[min_val, max_val]``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Hardtanh(-2.0, 2.0)(gradwalk.tensor([-3.0, 1.0]))
        tensor([-2.,  1.])
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        self.min_val = min_val if min_value is None else min_value
        self.max_val = max_val if max_value is None else max_value
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise ValueError(f"Hardtanh: max_val ({self.max_val}) must be greater than min_val "
                             f"({self.min_val})")

    def forward(self, input: Tensor) -> Tensor:
        return A.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        s = f"min_val={self.min_val}, max_val={self.max_val}"
        return s + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.ReLU6()(gradwalk.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Inplace(Module):
    """An activation whose only argument is ``inplace``."""

    _fn = staticmethod(A.mish)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Inplace):
    """``x/6 + 1/2`` clamped to ``[0, 1]``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Hardsigmoid()(gradwalk.tensor([0.0]))
        tensor([0.5000])
    """

    _fn = staticmethod(A.hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Hardswish(_Inplace):
    """``x * hardsigmoid(x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Hardswish()(gradwalk.tensor([4.0]))
        tensor([4.])
    """

    _fn = staticmethod(A.hardswish)

    def extra_repr(self) -> str:
        return ""


class Mish(_Inplace):
    """``x * tanh(softplus(x))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Mish()(gradwalk.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(A.mish)

    def extra_repr(self) -> str:
        return ""


class SELU(_Inplace):
    """Scaled ELU with the self-normalizing constants.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.SELU()(gradwalk.tensor([1.0]))
        tensor([1.0507])
    """

    _fn = staticmethod(A.selu)


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.CELU(2.0)(gradwalk.tensor([1.0]))
        tensor([1.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class _Plain(Module):
    """An activation without arguments."""

    _fn = staticmethod(A.softsign)

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input)


class Softsign(_Plain):
    """``x / (1 + |x|)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softsign()(gradwalk.tensor([1.0]))
        tensor([0.5000])
    """

    _fn = staticmethod(A.softsign)


class LogSigmoid(_Plain):
    """``log(sigmoid(x))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.LogSigmoid()(gradwalk.tensor([0.0]))
        tensor([-0.6931])
    """

    _fn = staticmethod(A.logsigmoid)


class Tanhshrink(_Plain):
    """``x - tanh(x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Tanhshrink()(gradwalk.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(A.tanhshrink)


class Softmin(Module):
    """``softmax(-x, dim)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softmin(dim=0)(gradwalk.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return A.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels (dimension -3) of a ``(N, C, H, W)`` or ``(C, H, W)`` input.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softmax2d()(gradwalk.zeros(2, 1, 1)).flatten()
        tensor([0.5000, 0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return softmax(input, -3)


class GLU(Module):
    """Gated linear unit over ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.GLU()(gradwalk.tensor([1.0, 0.0]))
        tensor([0.5000])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return A.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Threshold(0.5, -1.0)(gradwalk.tensor([0.0, 1.0]))
        tensor([-1.,  1.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        s = f"threshold={self.threshold}, value={self.value}"
        return s + (", inplace=True" if self.inplace else "")


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Hardshrink()(gradwalk.tensor([0.1, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return A.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.Softshrink()(gradwalk.tensor([0.1, 1.0]))
        tensor([0.0000, 0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return A.softshrink(input, self.lambd)


class PReLU(Module):
    """Leaky ReLU with a learned slope (one, or one per channel), initialized to ``init``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.PReLU()(gradwalk.tensor([-4.0, 1.0]))
        tensor([-1.,  1.], grad_fn=<WhereBackward0>)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype))

    def reset_parameters(self) -> None:
        """Set every slope back to ``init``."""
        self.weight._data[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: random slopes in ``[lower, upper]`` in training, their mean in
    evaluation.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.RReLU(0.1, 0.3).eval()(gradwalk.tensor([-1.0, 1.0]))
        tensor([-0.2000,  1.0000])
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        s = f"lower={self.lower}, upper={self.upper}"
        return s + (", inplace=True" if self.inplace else "")


__all__ = ["Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "SELU", "CELU", "Softsign",
           "LogSigmoid", "Tanhshrink", "Softmin", "Softmax2d", "GLU", "Threshold", "Hardshrink",
           "Softshrink", "PReLU", "RReLU"]
