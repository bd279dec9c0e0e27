"""More activation functions of ``gradwalk.nn.functional``, composed from primitive ops.

These are rare enough in training loops that a fused rule of their own would not pay for its
code (see the architecture notes on composites): each is a few primitive ops, so its reverse and
forward rules, double backward and ``vmap`` come from theirs. Where PyTorch's derivative at a kink
follows a convention (``hardtanh`` at its bounds has gradient 0, ``hardswish`` at +-3 takes the
inner branch), the composition is written so that it follows the same one.

``inplace=True`` is accepted as PyTorch accepts it: the result is written into ``input`` when no
gradient is being recorded; on a leaf that requires grad it raises PyTorch's error; on a computed
tensor the result is returned as a new tensor (as the activation modules do), with the gradient
PyTorch's in-place version gives.
"""

from __future__ import annotations

from ..autograd.grad_mode import is_grad_enabled
from ..creation import full_like, rand_like, zeros_like
from ..ops import nn as _N
from ..ops.registry import apply1 as _apply1
from ..tensor import Tensor
from .functional import elu, softmax, softplus

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _result(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    if not inplace:
        return out
    if not (input.requires_grad and is_grad_enabled()):
        input.copy_(out)
        return input
    if input.is_leaf:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation "
            "(inplace=True); pass inplace=False, or apply it to a computed tensor")
    return out


def _check(input, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``; gradient 1 strictly inside, 0 elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.hardtanh(gradwalk.tensor([-2.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    _check(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh(): min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    # PyTorch's conditions: a NaN input passes through with gradient 1 (Note [select, not
    # multiply] in ops/elementwise.py)
    outside = (input <= min_val) | (input >= max_val)
    out = input.detach().clamp(min_val, max_val).where(outside, input)
    return _result(input, out, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.relu6(gradwalk.tensor([-1.0, 3.0, 9.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``x/6 + 1/2`` clamped to ``[0, 1]``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.hardsigmoid(gradwalk.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    _check(input, "hardsigmoid")
    inside = (input > -3) & (input < 3)
    out = (input / 6 + 0.5).where(inside, (input.detach() / 6 + 0.5).clamp(0.0, 1.0))
    return _result(input, out, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)``: 0 below -3, ``x`` above 3, ``x(x+3)/6`` between.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.hardswish(gradwalk.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000, 0.6667, 4.0000])
    """
    _check(input, "hardswish")
    return _result(input, _apply1(_N.HARDSWISH, input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.mish(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    _check(input, "mish")
    return _result(input, _apply1(_N.MISH, input), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalizing constants of Klambauer et al.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.selu(gradwalk.tensor([-1.0, 1.0]))
        tensor([-1.1113,  1.0507])
    """
    _check(input, "selu")
    return _result(input, elu(input, _SELU_ALPHA) * _SELU_SCALE, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.celu(gradwalk.tensor([-1.0, 1.0]), alpha=2.0)
        tensor([-0.7869,  1.0000])
    """
    _check(input, "celu")
    if alpha == 0:
        raise ValueError("celu(): alpha cannot be 0 (it divides the input)")
    # the negative branch only where x < 0: a NaN passes with gradient 1 and the second
    # derivative at 0 is the positive branch's, as PyTorch's
    negative = (input.clamp(max=0.0) / alpha).expm1() * alpha
    out = negative.where(input < 0, input)
    return _result(input, out, inplace)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.softsign(gradwalk.tensor([-1.0, 3.0]))
        tensor([-0.5000,  0.7500])
    """
    _check(input, "softsign")
    return input / (input.abs() + 1)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``softmax(-x, dim)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.softmin(gradwalk.tensor([1.0, 2.0]), dim=0)
        tensor([0.7311, 0.2689])
    """
    _check(input, "softmin")
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
    x = -input if dtype is None else -input.to(dtype)
    return softmax(x, dim)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed as ``-softplus(-x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.logsigmoid(gradwalk.tensor([0.0]))
        tensor([-0.6931])
    """
    _check(input, "logsigmoid")
    return -softplus(-input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.glu(gradwalk.tensor([2.0, 0.0]))
        tensor([1.])
    """
    _check(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.dim()} is size {n}")
    a = input.narrow(dim, 0, n // 2)
    b = input.narrow(dim, n // 2, n // 2)
    return a * b.sigmoid()


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.tanhshrink(gradwalk.tensor([1.0]))
        tensor([0.2384])
    """
    _check(input, "tanhshrink")
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float,
              inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.threshold(gradwalk.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    _check(input, "threshold")
    out = full_like(input, value).where(input <= threshold, input)
    return _result(input, out, inplace)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.hardshrink(gradwalk.tensor([0.2, -1.0]))
        tensor([ 0., -1.])
    """
    _check(input, "hardshrink")
    return zeros_like(input).where((input >= -lambd) & (input <= lambd), input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.softshrink(gradwalk.tensor([0.2, -1.0, 2.0]))
        tensor([ 0.0000, -0.5000,  1.5000])
    """
    _check(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    band = (input >= -lambd) & (input <= lambd)
    return zeros_like(input).where(band, (input - lambd).where(input > lambd, input + lambd))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has one slope, or one per
    channel (dimension 1).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.prelu(gradwalk.tensor([-2.0, 1.0]), gradwalk.tensor([0.25]))
        tensor([-0.5000,  1.0000])
    """
    _check(input, "prelu")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: weight must be 0-D or 1-D, got {weight.dim()}-D")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.dim() >= 2 else (input.shape[0] if input.dim() else 1)
        if n != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {n} and channel size = {channels}.")
        if input.dim() >= 2:
            weight = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    return input.where(input > 0, weight * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: negative inputs are scaled by a slope drawn from
    ``U(lower, upper)`` in training, by ``(lower + upper) / 2`` in evaluation.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.rrelu(gradwalk.tensor([-1.0, 2.0]), 0.2, 0.4)
        tensor([-0.3000,  2.0000])
    """
    _check(input, "rrelu")
    if training:
        slope = rand_like(input.detach()) * (upper - lower) + lower
    else:
        slope = (lower + upper) / 2
    return _result(input, input.where(input > 0, input * slope), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu`` (see ``elu``).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.elu_(gradwalk.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    return _result(input, elu(input, alpha), True)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.selu_(gradwalk.tensor([0.0]))
        tensor([0.])
    """
    return selu(input, True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.celu_(gradwalk.tensor([0.0]))
        tensor([0.])
    """
    return celu(input, alpha, True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.hardtanh_(gradwalk.tensor([3.0]))
        tensor([1.])
    """
    return hardtanh(input, min_val, max_val, True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.threshold_(gradwalk.tensor([0.0, 2.0]), 1.0, 5.0)
        tensor([5., 2.])
    """
    return globals()["threshold"](input, threshold, value, True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place ``rrelu``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.rrelu_(gradwalk.tensor([2.0]))
        tensor([2.])
    """
    return rrelu(input, lower, upper, training, True)


__all__ = ["hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "selu", "celu", "softsign",
           "softmin", "logsigmoid", "glu", "tanhshrink", "threshold", "hardshrink", "softshrink",
           "prelu", "rrelu", "elu_", "selu_", "celu_", "hardtanh_", "threshold_", "rrelu_"]
