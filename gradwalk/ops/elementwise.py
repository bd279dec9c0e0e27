"""Elementwise ops: arithmetic, math functions, activations, comparisons and logic.

Each differentiable op is one declaration: forward, reverse rule (vjp) and forward rule (jvp).
Comparisons and logic produce bool tensors and have no gradient.
"""

from __future__ import annotations

import math

import numpy as np

from . import kernels as K
from .registry import apply, apply1, apply2, binary, declare, unary

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _t(x, y):
    """Sum of two tangents where either may be None (a zero tangent)."""
    if x is None:
        return y
    if y is None:
        return x
    return x + y


# --------------------------------------------------------------------------------------------
# arithmetic


def _add_vjp(xp, g, out, a, b, *, needs):
    return (g if needs[0] else None, g if needs[1] else None)


ADD = binary("add", lambda xp, a, b: a + b, _add_vjp,
             lambda xp, t, out, a, b: _t(t[0], t[1]), saves=(), elementwise=True)


def _sub_vjp(xp, g, out, a, b, *, needs):
    return (g if needs[0] else None, -g if needs[1] else None)


def _sub_jvp(xp, t, out, a, b):
    ta, tb = t
    if tb is None:
        return ta
    return -tb if ta is None else ta - tb


SUB = binary("sub", lambda xp, a, b: a - b, _sub_vjp, _sub_jvp, saves=(), elementwise=True)
RSUB = binary("rsub", lambda xp, a, b: a - b, _sub_vjp, _sub_jvp, saves=(), elementwise=True,
              node_name="RsubBackward1")


def _mul_vjp(xp, g, out, a, b, *, needs):
    return (g * b if needs[0] else None, g * a if needs[1] else None)


def _mul_jvp(xp, t, out, a, b):
    ta, tb = t
    return _t(None if ta is None else ta * b, None if tb is None else a * tb)


MUL = binary("mul", lambda xp, a, b: a * b, _mul_vjp, _mul_jvp, elementwise=True)


def _div_vjp(xp, g, out, a, b, *, needs):
    ga = g / b if needs[0] else None
    gb = -g * a / (b * b) if needs[1] else None
    return ga, gb


def _div_jvp(xp, t, out, a, b):
    ta, tb = t
    return _t(None if ta is None else ta / b, None if tb is None else -tb * a / (b * b))


DIV = binary("div", lambda xp, a, b: a / b, _div_vjp, _div_jvp, elementwise=True)


def _pow_vjp(xp, g, out, x, exponent):
    if exponent == 0:
        return g * 0.0
    return g * (exponent * x ** (exponent - 1))


POW = declare("pow", lambda xp, x, exponent: x ** exponent, _pow_vjp,
              lambda xp, t, out, x, exponent: _pow_vjp(xp, t, out, x, exponent),
              inputs=("self",), elementwise=True)


def _pow_tensor_vjp(xp, g, out, a, b, *, needs):
    ga = g * b * a ** (b - 1.0) if needs[0] else None
    gb = None
    if needs[1]:
        gb = g * K.xlogy_pow(xp, out, a, b)
    return ga, gb


def _pow_tensor_jvp(xp, t, out, a, b):
    ta, tb = t
    return _t(None if ta is None else ta * b * a ** (b - 1.0),
              None if tb is None else tb * K.xlogy_pow(xp, out, a, b))


POW_TENSOR = binary("pow_tensor", lambda xp, a, b: a ** b, _pow_tensor_vjp, _pow_tensor_jvp,
                    inputs=("self", "exponent"), save_out=True, node_name="PowBackward1",
                    elementwise=True)


def _neg(xp, x):
    return -x


NEG = unary("neg", _neg, lambda xp, g, out, x: -g, lambda xp, t, out, x: -t, saves=(),
            elementwise=True)


def _remainder_vjp(xp, g, out, a, b, *, needs):
    return (g if needs[0] else None, -g * xp.floor(a / b) if needs[1] else None)


REMAINDER = binary(
    "remainder", lambda xp, a, b: xp.remainder(a, b), _remainder_vjp,
    lambda xp, t, out, a, b: _t(t[0], None if t[1] is None else -t[1] * xp.floor(a / b)),
    elementwise=True)


# --------------------------------------------------------------------------------------------
# unary math


def _zero_vjp(xp, g, out, x):
    return g * 0.0


ABS = unary("abs", lambda xp, x: xp.abs(x), lambda xp, g, out, x: g * xp.sign(x),
            lambda xp, t, out, x: t * xp.sign(x), elementwise=True)
SIGN = unary("sign", lambda xp, x: xp.sign(x), _zero_vjp, _zero_vjp, saves=(), elementwise=True)
FLOOR = unary("floor", lambda xp, x: xp.floor(x), _zero_vjp, _zero_vjp, saves=(),
              elementwise=True)
CEIL = unary("ceil", lambda xp, x: xp.ceil(x), _zero_vjp, _zero_vjp, saves=(), elementwise=True)
ROUND = unary("round", lambda xp, x: xp.round(x), _zero_vjp, _zero_vjp, saves=(),
              elementwise=True)
TRUNC = unary("trunc", lambda xp, x: xp.trunc(x), _zero_vjp, _zero_vjp, saves=(),
              elementwise=True)
RECIPROCAL = unary("reciprocal", lambda xp, x: 1.0 / x, lambda xp, g, out, x: -g * out * out,
                   lambda xp, t, out, x: -t * out * out, saves=(), save_out=True,
                   elementwise=True)
SQUARE = unary("square", lambda xp, x: x * x, lambda xp, g, out, x: 2.0 * g * x,
               lambda xp, t, out, x: 2.0 * t * x, node_name="PowBackward0", elementwise=True)
SQRT = unary("sqrt", lambda xp, x: xp.sqrt(x), lambda xp, g, out, x: g / (2.0 * out),
             lambda xp, t, out, x: t / (2.0 * out), saves=(), save_out=True, elementwise=True)
RSQRT = unary("rsqrt", lambda xp, x: 1.0 / xp.sqrt(x),
              lambda xp, g, out, x: -0.5 * g * out * out * out,
              lambda xp, t, out, x: -0.5 * t * out * out * out, saves=(), save_out=True,
              elementwise=True)
EXP = unary("exp", lambda xp, x: xp.exp(x), lambda xp, g, out, x: g * out,
            lambda xp, t, out, x: t * out, saves=(), save_out=True, elementwise=True)
EXPM1 = unary("expm1", lambda xp, x: xp.expm1(x), lambda xp, g, out, x: g * (out + 1.0),
              lambda xp, t, out, x: t * (out + 1.0), saves=(), save_out=True, elementwise=True)
LOG = unary("log", lambda xp, x: xp.log(x), lambda xp, g, out, x: g / x,
            lambda xp, t, out, x: t / x, elementwise=True)
LOG2 = unary("log2", lambda xp, x: xp.log2(x), lambda xp, g, out, x: g / (x * _LN2),
             lambda xp, t, out, x: t / (x * _LN2), elementwise=True)
LOG10 = unary("log10", lambda xp, x: xp.log10(x), lambda xp, g, out, x: g / (x * _LN10),
              lambda xp, t, out, x: t / (x * _LN10), elementwise=True)
LOG1P = unary("log1p", lambda xp, x: xp.log1p(x), lambda xp, g, out, x: g / (x + 1.0),
              lambda xp, t, out, x: t / (x + 1.0), elementwise=True,
              node_name="Log1PBackward0")
SIN = unary("sin", lambda xp, x: xp.sin(x), lambda xp, g, out, x: g * xp.cos(x),
            lambda xp, t, out, x: t * xp.cos(x), elementwise=True)
COS = unary("cos", lambda xp, x: xp.cos(x), lambda xp, g, out, x: -g * xp.sin(x),
            lambda xp, t, out, x: -t * xp.sin(x), elementwise=True)
TAN = unary("tan", lambda xp, x: xp.tan(x), lambda xp, g, out, x: g * (1.0 + out * out),
            lambda xp, t, out, x: t * (1.0 + out * out), saves=(), save_out=True,
            elementwise=True)
ASIN = unary("asin", lambda xp, x: xp.arcsin(x), lambda xp, g, out, x: g / xp.sqrt(1.0 - x * x),
             lambda xp, t, out, x: t / xp.sqrt(1.0 - x * x), elementwise=True)
ACOS = unary("acos", lambda xp, x: xp.arccos(x),
             lambda xp, g, out, x: -g / xp.sqrt(1.0 - x * x),
             lambda xp, t, out, x: -t / xp.sqrt(1.0 - x * x), elementwise=True)
ATAN = unary("atan", lambda xp, x: xp.arctan(x), lambda xp, g, out, x: g / (1.0 + x * x),
             lambda xp, t, out, x: t / (1.0 + x * x), elementwise=True)
SINH = unary("sinh", lambda xp, x: xp.sinh(x), lambda xp, g, out, x: g * xp.cosh(x),
             lambda xp, t, out, x: t * xp.cosh(x), elementwise=True)
COSH = unary("cosh", lambda xp, x: xp.cosh(x), lambda xp, g, out, x: g * xp.sinh(x),
             lambda xp, t, out, x: t * xp.sinh(x), elementwise=True)
# tanh, sigmoid and relu are hot ops: primitives with fused rules written on the output.
TANH = unary("tanh", lambda xp, x: xp.tanh(x), lambda xp, g, out, x: g * (1.0 - out * out),
             lambda xp, t, out, x: t * (1.0 - out * out), saves=(), save_out=True,
             elementwise=True)
SIGMOID = unary("sigmoid", lambda xp, x: K.sigmoid(xp, x),
                lambda xp, g, out, x: g * out * (1.0 - out),
                lambda xp, t, out, x: t * out * (1.0 - out), saves=(), save_out=True,
                elementwise=True)
RELU = unary("relu", lambda xp, x: xp.maximum(x, 0), lambda xp, g, out, x: g * (out > 0),
             lambda xp, t, out, x: t * (out > 0), saves=(), save_out=True, elementwise=True)
ERF = unary("erf", lambda xp, x: K.erf(xp, x),
            lambda xp, g, out, x: g * _TWO_OVER_SQRT_PI * xp.exp(-x * x),
            lambda xp, t, out, x: t * _TWO_OVER_SQRT_PI * xp.exp(-x * x), elementwise=True)


def _clamp_fwd(xp, x, lo, hi):
    if lo is not None:
        x = xp.maximum(x, lo)
    if hi is not None:
        x = xp.minimum(x, hi)
    return x


def _clamp_mask(xp, x, lo, hi):
    m = None
    if lo is not None:
        m = x >= lo
    if hi is not None:
        m = (x <= hi) if m is None else (m & (x <= hi))
    return m


def _clamp_vjp(xp, g, out, x, lo, hi, *, needs):
    gx = g * _clamp_mask(xp, x, lo, hi) if needs[0] else None
    glo = g * (x < lo) if needs[1] else None
    ghi = g * (x > hi) if needs[2] else None
    if needs[2] and lo is not None:
        ghi = ghi * (hi >= lo) if not needs[1] else ghi
    return gx, glo, ghi


def _clamp_jvp(xp, t, out, x, lo, hi):
    tx, tlo, thi = t
    r = None if tx is None else tx * _clamp_mask(xp, x, lo, hi)
    r = _t(r, None if tlo is None else tlo * (x < lo))
    return _t(r, None if thi is None else thi * (x > hi))


CLAMP = declare("clamp", _clamp_fwd, _clamp_vjp, _clamp_jvp, inputs=("self", "min", "max"),
                node_name="ClampBackward1", elementwise=True)


def _maximum_vjp(xp, g, out, a, b, *, needs):
    half = 0.5 * g * (a == b)
    ga = g * (a > b) + half if needs[0] else None
    gb = g * (b > a) + half if needs[1] else None
    return ga, gb


def _minimum_vjp(xp, g, out, a, b, *, needs):
    half = 0.5 * g * (a == b)
    ga = g * (a < b) + half if needs[0] else None
    gb = g * (b < a) + half if needs[1] else None
    return ga, gb


def _maxmin_jvp(select):
    def jvp(xp, t, out, a, b):
        ta, tb = t
        wa = select(a, b) + 0.5 * (a == b)
        return _t(None if ta is None else ta * wa, None if tb is None else tb * (1.0 - wa))

    return jvp


MAXIMUM = binary("maximum", lambda xp, a, b: xp.maximum(a, b), _maximum_vjp,
                 _maxmin_jvp(lambda a, b: a > b), elementwise=True)
MINIMUM = binary("minimum", lambda xp, a, b: xp.minimum(a, b), _minimum_vjp,
                 _maxmin_jvp(lambda a, b: a < b), elementwise=True)


def _where_vjp(xp, g, out, cond, a, b, *, needs):
    ga = K.where_grad(xp, cond, g, True) if needs[1] else None
    gb = K.where_grad(xp, cond, g, False) if needs[2] else None
    return None, ga, gb


def _where_jvp(xp, t, out, cond, a, b):
    _, ta, tb = t
    zero = 0.0
    return xp.where(cond, zero if ta is None else ta, zero if tb is None else tb)


WHERE = declare("where", lambda xp, c, a, b: xp.where(c, a, b), _where_vjp, _where_jvp,
                inputs=("condition", "self", "other"), saves=(0,), elementwise=True)

CLONE = unary("clone", lambda xp, x: x.copy(), lambda xp, g, out, x: g,
              lambda xp, t, out, x: t, saves=())
CAST = unary("cast", lambda xp, x, dtype: x.astype(dtype), lambda xp, g, out, x, dtype: g,
             lambda xp, t, out, x, dtype: K.astype(xp, t, dtype), saves=(),
             node_name="ToCopyBackward0")
FILL = declare("fill", lambda xp, x, value: xp.full_like(x, value),
               lambda xp, g, out, x, value, *, needs: (None, g.sum() if needs[1] else None),
               lambda xp, t, out, x, value: None if t[1] is None else xp.broadcast_to(
                   t[1], out.shape) * 1.0,
               inputs=("self", "value"), saves=(), node_name="FillBackward0")


def _copy_fwd(xp, dst, src):
    return xp.broadcast_to(src, dst.shape).astype(dst.dtype, copy=True)


COPY = declare("copy", _copy_fwd, lambda xp, g, out, dst, src, *, needs: (None, g),
               lambda xp, t, out, dst, src: t[1], inputs=("self", "src"), saves=(),
               node_name="CopyBackwards")


# --------------------------------------------------------------------------------------------
# public functions


def _check_broadcast(name, a, b):
    sa = a.shape if hasattr(a, "shape") else ()
    sb = b.shape if hasattr(b, "shape") else ()
    if sa == sb:
        return
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        K.raise_broadcast_error(name, sa, sb)


def _binary(op, a, b, name):
    """Apply a two-input elementwise op; the fast path is a Tensor and a Tensor or a float."""
    if isinstance(a, Tensor):
        tb = type(b)
        if tb is float or tb is int or isinstance(b, Tensor):
            try:
                return apply2(op, a, b)
            except ValueError:
                _check_broadcast(name, a, b)
                raise
    elif (op is MUL or op is ADD) and isinstance(b, Tensor) and (type(a) is float
                                                                or type(a) is int):
        return apply2(op, b, a)  # ``2 * x``: commutative, so the fast path with the tensor first
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{name}(): expected at least one Tensor argument, got "
                            f"{type(a).__name__} and {type(b).__name__}")
        a = K.as_operand(a, b, name)
    else:
        b = K.as_operand(b, a, name)
    try:
        return apply(op, a, b)
    except ValueError:
        _check_broadcast(name, a, b)
        raise


def add(input, other, *, alpha=1):  # noqa: A002 - PyTorch's argument name
    """``input + alpha * other``, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.add(gradwalk.tensor([1.0, 2.0]), 1)
        tensor([2., 3.])
    """
    if alpha != 1:
        other = other * alpha
    return _binary(ADD, input, other, "add")


def sub(input, other, *, alpha=1):  # noqa: A002
    """``input - alpha * other``, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.sub(gradwalk.tensor([1.0, 2.0]), 1)
        tensor([0., 1.])
    """
    if alpha != 1:
        other = other * alpha
    if not isinstance(input, Tensor):
        return _binary(RSUB, input, other, "rsub")
    return _binary(SUB, input, other, "sub")


subtract = sub


def mul(input, other):  # noqa: A002
    """Elementwise product, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.mul(gradwalk.tensor([1.0, 2.0]), 3)
        tensor([3., 6.])
    """
    return _binary(MUL, input, other, "mul")


multiply = mul


def div(input, other, *, rounding_mode=None):  # noqa: A002
    """Elementwise true division (``rounding_mode="floor"`` or ``"trunc"`` to round).

    Example:
        >>> import gradwalk
        >>> gradwalk.div(gradwalk.tensor([1.0, 3.0]), 2)
        tensor([0.5000, 1.5000])
    """
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode == "trunc":
            return trunc(div(input, other))
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    if isinstance(input, Tensor) and input.data.dtype.kind in "biu" and (
            not isinstance(other, Tensor) or other.data.dtype.kind in "biu"):
        from ..dtypes import get_default_dtype

        input = cast(input, get_default_dtype().np)
    return _binary(DIV, input, other, "div")


divide = true_divide = div


def floor_divide(input, other):  # noqa: A002
    """Elementwise division rounded down (no gradient, as in PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.floor_divide(gradwalk.tensor([7, -7]), 2)
        tensor([ 3, -4])
    """
    a = input.data if isinstance(input, Tensor) else input
    b = other.data if isinstance(other, Tensor) else other
    return _nondiff_result(np.floor_divide(a, b), input, other)


def remainder(input, other):  # noqa: A002
    """Python-style modulus (the sign of the divisor).

    Example:
        >>> import gradwalk
        >>> gradwalk.remainder(gradwalk.tensor([5.0, -5.0]), 3)
        tensor([2., 1.])
    """
    return _binary(REMAINDER, input, other, "remainder")


fmod = remainder


def pow(input, exponent):  # noqa: A001, A002 - PyTorch's names
    """``input ** exponent``: tensor to scalar, scalar to tensor, or tensor to tensor.

    Example:
        >>> import gradwalk
        >>> gradwalk.pow(gradwalk.tensor([2.0, 3.0]), 2)
        tensor([4., 9.])
    """
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        if isinstance(exponent, (bool, np.bool_)) or not isinstance(
                exponent, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow(): exponent must be a number or a Tensor, got "
                            f"{type(exponent).__name__}")
        if exponent == 2:
            return apply1(SQUARE, input)
        if input.data.dtype.kind in "iu" and isinstance(exponent, float):
            from ..dtypes import get_default_dtype

            input = cast(input, get_default_dtype().np)
        if input.data.dtype.kind in "iu" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return apply1(POW, input, {"exponent": exponent})
    return _binary(POW_TENSOR, input, exponent, "pow")


float_power = pow


def neg(input):  # noqa: A002
    """``-input``.

    Example:
        >>> import gradwalk
        >>> gradwalk.neg(gradwalk.tensor([1.0]))
        tensor([-1.])
    """
    return apply1(NEG, input)


negative = neg


def _unary_fn(op, doc_example: str):
    """A public function for a one-input op; its docstring carries a runnable example."""

    int_ok = op.name in _INT_OK

    def fn(input):  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{op.name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        if not int_ok and input.data.dtype.kind in "biu":
            from ..dtypes import get_default_dtype

            input = cast(input, get_default_dtype().np)
        return apply1(op, input)

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = (f"Elementwise ``{op.name}``, differentiable.\n\n    Example:\n"
                  f"        >>> import gradwalk\n        >>> {doc_example}\n")
    return fn


_INT_OK = {"abs", "sign", "neg", "relu", "square", "clone", "floor", "ceil", "round", "trunc"}

abs = _unary_fn(ABS, "gradwalk.abs(gradwalk.tensor([-1.5, 2.0]))\n        tensor([1.5000, 2.0000])")  # noqa: A001, E501
sign = _unary_fn(SIGN, "gradwalk.sign(gradwalk.tensor([-2.0, 0.0, 3.0]))\n        tensor([-1.,  0.,  1.])")  # noqa: E501
floor = _unary_fn(FLOOR, "gradwalk.floor(gradwalk.tensor([1.5]))\n        tensor([1.])")
ceil = _unary_fn(CEIL, "gradwalk.ceil(gradwalk.tensor([1.5]))\n        tensor([2.])")
round = _unary_fn(ROUND, "gradwalk.round(gradwalk.tensor([1.4]))\n        tensor([1.])")  # noqa: A001
trunc = _unary_fn(TRUNC, "gradwalk.trunc(gradwalk.tensor([-1.5]))\n        tensor([-1.])")
reciprocal = _unary_fn(RECIPROCAL, "gradwalk.reciprocal(gradwalk.tensor([2.0]))\n        tensor([0.5000])")  # noqa: E501
square = _unary_fn(SQUARE, "gradwalk.square(gradwalk.tensor([3.0]))\n        tensor([9.])")
sqrt = _unary_fn(SQRT, "gradwalk.sqrt(gradwalk.tensor([4.0]))\n        tensor([2.])")
rsqrt = _unary_fn(RSQRT, "gradwalk.rsqrt(gradwalk.tensor([4.0]))\n        tensor([0.5000])")
exp = _unary_fn(EXP, "gradwalk.exp(gradwalk.tensor([0.0]))\n        tensor([1.])")
expm1 = _unary_fn(EXPM1, "gradwalk.expm1(gradwalk.tensor([0.0]))\n        tensor([0.])")
log = _unary_fn(LOG, "gradwalk.log(gradwalk.tensor([1.0]))\n        tensor([0.])")
log2 = _unary_fn(LOG2, "gradwalk.log2(gradwalk.tensor([8.0]))\n        tensor([3.])")
log10 = _unary_fn(LOG10, "gradwalk.log10(gradwalk.tensor([10.0]))\n        tensor([1.])")
log1p = _unary_fn(LOG1P, "gradwalk.log1p(gradwalk.tensor([0.0]))\n        tensor([0.])")
sin = _unary_fn(SIN, "gradwalk.sin(gradwalk.tensor([0.0]))\n        tensor([0.])")
cos = _unary_fn(COS, "gradwalk.cos(gradwalk.tensor([0.0]))\n        tensor([1.])")
tan = _unary_fn(TAN, "gradwalk.tan(gradwalk.tensor([0.0]))\n        tensor([0.])")
asin = _unary_fn(ASIN, "gradwalk.asin(gradwalk.tensor([0.0]))\n        tensor([0.])")
acos = _unary_fn(ACOS, "gradwalk.acos(gradwalk.tensor([1.0]))\n        tensor([0.])")
atan = _unary_fn(ATAN, "gradwalk.atan(gradwalk.tensor([0.0]))\n        tensor([0.])")
sinh = _unary_fn(SINH, "gradwalk.sinh(gradwalk.tensor([0.0]))\n        tensor([0.])")
cosh = _unary_fn(COSH, "gradwalk.cosh(gradwalk.tensor([0.0]))\n        tensor([1.])")
tanh = _unary_fn(TANH, "gradwalk.tanh(gradwalk.tensor([0.0]))\n        tensor([0.])")
sigmoid = _unary_fn(SIGMOID, "gradwalk.sigmoid(gradwalk.tensor([0.0]))\n        tensor([0.5000])")
relu = _unary_fn(RELU, "gradwalk.relu(gradwalk.tensor([-1.0, 2.0]))\n        tensor([0., 2.])")
erf = _unary_fn(ERF, "gradwalk.erf(gradwalk.tensor([0.0]))\n        tensor([0.])")
arcsin, arccos, arctan = asin, acos, atan
absolute = abs


def clamp(input, min=None, max=None):  # noqa: A002
    """Limit values to ``[min, max]`` (either may be None; scalars or tensors).

    Example:
        >>> import gradwalk
        >>> gradwalk.clamp(gradwalk.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
        tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return apply(CLAMP, input, min, max)


clip = clamp


def maximum(input, other):  # noqa: A002
    """Elementwise maximum of two tensors (ties split the gradient in half, as PyTorch does).

    Example:
        >>> import gradwalk
        >>> gradwalk.maximum(gradwalk.tensor([1.0, 4.0]), gradwalk.tensor([3.0, 2.0]))
        tensor([3., 4.])
    """
    return _binary(MAXIMUM, input, other, "maximum")


def minimum(input, other):  # noqa: A002
    """Elementwise minimum of two tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.minimum(gradwalk.tensor([1.0, 4.0]), gradwalk.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    return _binary(MINIMUM, input, other, "minimum")


def where(condition, input=None, other=None):  # noqa: A002
    """Pick ``input`` where ``condition`` holds, else ``other``. The branch not taken gets an
    exact zero gradient.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([-1.0, 2.0])
        >>> gradwalk.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    if input is None and other is None:
        return K.nonzero_tuple(condition)
    if isinstance(condition, Tensor):
        if condition.data.dtype.kind != "b":
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {condition.dtype}")
    cond = condition if isinstance(condition, Tensor) else Tensor._wrap(np.asarray(condition))
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        ref = cond
        from ..dtypes import get_default_dtype

        a = Tensor._wrap(np.asarray(input, dtype=get_default_dtype().np))
        b = Tensor._wrap(np.asarray(other, dtype=get_default_dtype().np))
    else:
        a = _where_number(K.as_operand(input, ref, "where"), ref)
        b = _where_number(K.as_operand(other, ref, "where"), ref)
        if a.data.dtype != b.data.dtype:
            if a.data.dtype.kind == "f" and b.data.dtype.kind != "f":
                b = cast(b, a.data.dtype)
            elif b.data.dtype.kind == "f" and a.data.dtype.kind != "f":
                a = cast(a, b.data.dtype)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"where(): the shapes of condition {list(cond.shape)}, input {list(a.shape)} and "
            f"other {list(b.shape)} do not broadcast to one shape") from None
    return apply(WHERE, cond, a, b)


def _where_number(x, ref):
    """A Python number given to ``where`` as a tensor of ``ref``'s dtype (the default float
    dtype for a float number beside a non-float tensor), as PyTorch promotes it."""
    if isinstance(x, Tensor):
        return x
    dt = ref.data.dtype
    if dt.kind != "f" and isinstance(x, float):
        from ..dtypes import get_default_dtype

        dt = get_default_dtype().np
    return Tensor._wrap(np.asarray(x, dtype=dt))


def clone(input):  # noqa: A002
    """A copy with its own memory; gradients flow back to the original.

    Example:
        >>> import gradwalk
        >>> gradwalk.clone(gradwalk.tensor([1.0]))
        tensor([1.])
    """
    return apply1(CLONE, input)


def cast(input, np_dtype):  # noqa: A002
    """Convert to a NumPy dtype (``Tensor.to`` calls this); differentiable between floats."""
    if input.data.dtype == np_dtype:
        return input
    if np.dtype(np_dtype).kind not in "fc":
        return Tensor._wrap(input.data.astype(np_dtype))
    return apply1(CAST, input, {"dtype": np.dtype(np_dtype)})


def fill(input, value):  # noqa: A002
    """A tensor like ``input`` filled with ``value`` (``fill_`` and ``zero_`` use it)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return apply(FILL, input, value.reshape(()))
    return apply(FILL, input, value)


def copy_from(input, src):  # noqa: A002
    """``src`` broadcast to ``input``'s shape and cast to its dtype (``copy_`` uses it)."""
    if not isinstance(src, Tensor):
        src = Tensor._wrap(np.asarray(src))
    try:
        np.broadcast_shapes(input.shape, src.shape)
        if np.broadcast_shapes(input.shape, src.shape) != input.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"copy_(): the source of shape {list(src.shape)} cannot be broadcast "
                           f"to the destination of shape {list(input.shape)}") from None
    return apply(COPY, input, src)


# --------------------------------------------------------------------------------------------
# comparisons and logic: bool results, no gradient


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _nondiff_result(arr, *refs):
    if type(arr) is not np.ndarray and not hasattr(arr, "__cuda_array_interface__") and \
            not hasattr(arr, "_gw_batched"):  # vmap's batched arrays stay as they are
        arr = np.asarray(arr)
    return Tensor._wrap(arr)


def _compare(fn, name):
    def compare(input, other):  # noqa: A002
        a, b = _data(input), _data(other)
        try:
            return _nondiff_result(fn(a, b))
        except ValueError:
            K.raise_broadcast_error(name, getattr(a, "shape", ()), getattr(b, "shape", ()))

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = (f"Elementwise ``{name}`` comparison; a bool tensor, no gradient.\n\n"
                       "    Example:\n        >>> import gradwalk\n"
                       f"        >>> gradwalk.{name}(gradwalk.tensor([1.0, 2.0]), 1.5).tolist()\n"
                       f"        {[bool(fn(1.0, 1.5)), bool(fn(2.0, 1.5))]}\n")
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logic(fn, name):
    def logic(input, other):  # noqa: A002
        a, b = _data(input), _data(other)
        try:
            return _nondiff_result(fn(a, b))
        except ValueError:
            K.raise_broadcast_error(name, getattr(a, "shape", ()), getattr(b, "shape", ()))

    logic.__name__ = logic.__qualname__ = name
    logic.__doc__ = (f"Elementwise ``{name}``; a bool tensor.\n\n    Example:\n"
                     "        >>> import gradwalk\n"
                     f"        >>> gradwalk.{name}(gradwalk.tensor([True, False]), "
                     "gradwalk.tensor([True, True])).tolist()\n"
                     f"        {fn(np.array([True, False]), np.array([True, True])).tolist()}\n")
    return logic


logical_and = _logic(np.logical_and, "logical_and")
logical_or = _logic(np.logical_or, "logical_or")
logical_xor = _logic(np.logical_xor, "logical_xor")


def logical_not(input):  # noqa: A002
    """Elementwise logical not; a bool tensor.

    Example:
        >>> import gradwalk
        >>> gradwalk.logical_not(gradwalk.tensor([True, False]))
        tensor([False,  True])
    """
    return _nondiff_result(np.logical_not(_data(input)))


def bitwise_not(input):  # noqa: A002
    return _nondiff_result(np.invert(_data(input)))


def isnan(input):  # noqa: A002
    """Where values are NaN.

    Example:
        >>> import gradwalk
        >>> gradwalk.isnan(gradwalk.tensor([1.0, float("nan")]))
        tensor([False,  True])
    """
    return _nondiff_result(np.isnan(_data(input)))


def isfinite(input):  # noqa: A002
    """Where values are finite (not NaN or infinite).

    Example:
        >>> import gradwalk
        >>> gradwalk.isfinite(gradwalk.tensor([1.0, float("inf")]))
        tensor([ True, False])
    """
    return _nondiff_result(np.isfinite(_data(input)))


def isinf(input):  # noqa: A002
    """Where values are +inf or -inf.

    Example:
        >>> import gradwalk
        >>> gradwalk.isinf(gradwalk.tensor([1.0, float("inf")]))
        tensor([False,  True])
    """
    return _nondiff_result(np.isinf(_data(input)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return _nondiff_result(np.isclose(_data(input), _data(other), rtol=rtol, atol=atol,
                                      equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:  # noqa: A002
    """True when all values are close (``|a - b| <= atol + rtol * |b|``).

    Example:
        >>> import gradwalk
        >>> gradwalk.allclose(gradwalk.tensor([1.0]), gradwalk.tensor([1.0 + 1e-9]))
        True
    """
    return bool(np.allclose(_data(input), _data(other), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def equal(input, other) -> bool:  # noqa: A002
    """True when both have the same shape and values.

    Example:
        >>> import gradwalk
        >>> gradwalk.equal(gradwalk.tensor([1, 2]), gradwalk.tensor([1, 2]))
        True
    """
    a, b = _data(input), _data(other)
    return bool(a.shape == b.shape and np.array_equal(a, b))


from ..tensor import Tensor  # noqa: E402
