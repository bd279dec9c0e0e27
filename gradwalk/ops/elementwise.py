"""Elementwise ops of several inputs: arithmetic, clamp, maximum/minimum, where, and the copies.

Each differentiable op is one declaration. Arithmetic is ``elementwise=True`` with no ``jvp``:
its forward rule is derived from its reverse rule (Note [rules] in ``registry.py``). The
one-input math (``sin``, ``exp``...) is in ``unary.py``, comparisons and logic in ``logic.py``;
both are re-exported here, so ``gradwalk.ops.elementwise`` is the whole elementwise surface.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import get_default_dtype, promote_pair, result_np
from . import kernels as K
from . import registry as R
from .logic import (  # noqa: F401 - re-exported
    _nondiff_result,
    allclose,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    not_equal,
)
from .registry import apply, apply1, apply2, binary, declare, unary


def _t(x, y):
    """Sum of two tangents where either may be None (a zero tangent)."""
    if x is None:
        return y
    if y is None:
        return x
    return x + y


def _num(v) -> str:
    return str(int(v)) if float(v) == int(v) else f"{v:.6g}"


# --------------------------------------------------------------------------------------------
# arithmetic


def _add_vjp(xp, g, out, a, b, *, needs):
    return (g if needs[0] else None, g if needs[1] else None)


def _sub_vjp(xp, g, out, a, b, *, needs):
    return (g if needs[0] else None, -g if needs[1] else None)


def _mul_vjp(xp, g, out, a, b, *, needs):
    return (g * b if needs[0] else None, g * a if needs[1] else None)


def _div_vjp(xp, g, out, a, b, *, needs):
    return (g / b if needs[0] else None, -g * a / (b * b) if needs[1] else None)


def _pow_vjp(xp, g, out, x, exponent):
    if exponent == 0:  # PyTorch's: an exact 0, whatever the gradient (0 ** 0 included)
        return xp.zeros_like(g)
    return g * (exponent * x ** (exponent - 1))


def _pow_tensor_vjp(xp, g, out, a, b, *, needs):
    # PyTorch's: 0 where the exponent is 0 (``0 ** 0`` has a 0 base gradient, not NaN)
    ga = xp.where(b == 0, 0.0, g * b * a ** (b - 1.0)) if needs[0] else None
    gb = g * K.xlogy_pow(xp, out, a, b) if needs[1] else None
    return ga, gb


def _raw(a):
    return a._data if isinstance(a, R.Tensor) else a


def _remainder_vjp(xp, g, out, a, b, *, needs):
    # PyTorch's floor division (``-3 // inf`` is -1, where ``floor(-3 / inf)`` is -0)
    return (g if needs[0] else None,
            -g * np.floor_divide(_raw(a), _raw(b)) if needs[1] else None)


def _fmod_vjp(xp, g, out, a, b, *, needs):
    return (g if needs[0] else None, -g * xp.trunc(a / b) if needs[1] else None)


def _check_int_modulus(xp, a, b):
    """PyTorch's error for an integer division by zero (NumPy would return 0 and warn)."""
    kind = getattr(b, "dtype", None)
    kind = kind.kind if kind is not None else ("i" if isinstance(b, int) else "f")
    a_kind = getattr(a, "dtype", None)
    a_kind = a_kind.kind if a_kind is not None else ("i" if isinstance(a, int) else "f")
    if kind in "biu" and a_kind in "biu" and not xp.all(b != 0):
        raise RuntimeError("ZeroDivisionError")


def _fmod_fwd(xp, a, b):
    _check_int_modulus(xp, a, b)
    return xp.fmod(a, b)


def _remainder_fwd(xp, a, b):
    """PyTorch's remainder: ``fmod`` moved onto the divisor's sign (``-0.0`` stays ``-0.0``, as
    in PyTorch; NumPy's ``remainder`` gives ``0.0``)."""
    _check_int_modulus(xp, a, b)
    m = xp.fmod(a, b)
    return xp.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


ADD = binary("add", lambda xp, a, b: a + b, _add_vjp, saves=(), elementwise=True,
             explain=("grad", "grad"))
SUB = binary("sub", lambda xp, a, b: a - b, _sub_vjp, saves=(), elementwise=True,
             explain=("grad", "-grad"))
RSUB = binary("rsub", lambda xp, a, b: a - b, _sub_vjp, saves=(), elementwise=True,
              node_name="RsubBackward1", explain=("grad", "-grad"))
MUL = binary("mul", lambda xp, a, b: a * b, _mul_vjp, elementwise=True, saves_if=((1,), (0,)),
             explain=("grad * b", "grad * a"))
DIV = binary("div", lambda xp, a, b: a / b, _div_vjp, elementwise=True,
             saves_if=((1,), (0, 1)), explain=("grad / b", "-grad * a / b**2"))
POW = unary("pow", lambda xp, x, exponent: x ** exponent, _pow_vjp, elementwise=True,
            explain=lambda params: (f"grad * {_num(params['exponent'])} * "
                                    f"x**{_num(params['exponent'] - 1)}",))
POW_TENSOR = binary("pow_tensor", lambda xp, a, b: a ** b, _pow_tensor_vjp,
                    inputs=("self", "exponent"), save_out=True, node_name="PowBackward1",
                    elementwise=True, explain=("grad * b * a**(b - 1)", "grad * out * log(a)"))
REMAINDER = binary("remainder", _remainder_fwd, _remainder_vjp, elementwise=True,
                   explain=("grad", "-grad * floor(a / b)"))
FMOD = binary("fmod", _fmod_fwd, _fmod_vjp, elementwise=True,
              explain=("grad", "-grad * trunc(a / b)"))


# --------------------------------------------------------------------------------------------
# clamp, maximum, minimum, where


def _clamp_fwd(xp, x, lo, hi):
    # where a bound ties ``x`` PyTorch returns ``x`` (``-0.0`` stays ``-0.0``); NumPy returns
    # the bound. NaN (in ``x`` or a bound) propagates in both.
    # (NumPy's maximum/minimum return their second operand on a tie: ``x`` goes second)
    if lo is not None:
        x = xp.maximum(lo, x)
    if hi is not None:
        x = xp.minimum(hi, x)
    return x


def _clamp_mask(xp, x, lo, hi):
    m = None
    if lo is not None:
        m = x >= lo
    if hi is not None:
        m = (x <= hi) if m is None else (m & (x <= hi))
    return m


def _bound_masks(xp, x, lo, hi):
    """Where ``min`` and ``max`` take the gradient (PyTorch's ``clamp_backward_min_max``): with
    both bounds, ``min`` only where it is below ``max`` and ``max`` also where it is below ``min``
    (the result is ``max`` there)."""
    if lo is not None and hi is not None:
        return (x < lo) & (lo < hi), (x > hi) | (hi < lo)
    return (None if lo is None else x < lo), (None if hi is None else x > hi)


# Note [select, not multiply]
#     Rules that pass the gradient through where a condition holds and send zero elsewhere
#     (relu, clamp, maximum/minimum, the hard activations) select with ``where``; they never
#     multiply by a 0/1 mask, so an infinite or NaN gradient arriving from downstream (``sqrt``
#     at 0 after ``relu``) becomes an exact 0 where the input is cut off, as in PyTorch. The
#     conditions are PyTorch's own, which fixes the gradient at NaN inputs too (relu passes it,
#     clamp does not).


def _clamp_vjp(xp, g, out, x, lo, hi, *, needs):
    gx = xp.where(_clamp_mask(xp, x, lo, hi), g, 0.0) if needs[0] else None
    mlo, mhi = _bound_masks(xp, x, lo, hi) if needs[1] or needs[2] else (None, None)
    glo = xp.where(mlo, g, 0.0) if needs[1] else None
    ghi = xp.where(mhi, g, 0.0) if needs[2] else None
    return gx, glo, ghi


def _clamp_jvp(xp, t, out, x, lo, hi):
    tx, tlo, thi = t
    r = None if tx is None else xp.where(_clamp_mask(xp, x, lo, hi), tx, 0.0)
    if tlo is not None or thi is not None:
        mlo, mhi = _bound_masks(xp, x, lo, hi)
        r = _t(r, None if tlo is None else xp.where(mlo, tlo, 0.0))
        r = _t(r, None if thi is None else xp.where(mhi, thi, 0.0))
    return r


CLAMP = declare("clamp", _clamp_fwd, _clamp_vjp, _clamp_jvp, inputs=("self", "min", "max"),
                node_name="ClampBackward1", elementwise=True,
                explain=("grad where min <= x <= max, else 0", "grad where x < min < max",
                         "grad where x > max or max < min"))


def _maximum_vjp(xp, g, out, a, b, *, needs):
    # PyTorch's rule: half on ties, else the gradient unless the other input wins (so both
    # inputs get it where one is NaN).
    tie = a == b
    half = g / 2
    ga = xp.where(tie, half, xp.where(a < b, 0.0, g)) if needs[0] else None
    gb = xp.where(tie, half, xp.where(a > b, 0.0, g)) if needs[1] else None
    return ga, gb


def _minimum_vjp(xp, g, out, a, b, *, needs):
    tie = a == b
    half = g / 2
    ga = xp.where(tie, half, xp.where(a > b, 0.0, g)) if needs[0] else None
    gb = xp.where(tie, half, xp.where(a < b, 0.0, g)) if needs[1] else None
    return ga, gb


def _maxmin_jvp(a_wins):
    def jvp(xp, t, out, a, b):
        # PyTorch's: ``tb + m * (ta - tb)``, ``m`` 1 where a wins, 1/2 on ties, else 0. At a NaN
        # neither wins, so the tangent is ``tb`` (not the adjoint of the reverse rule there);
        # ``m`` multiplies, so a NaN tangent propagates, as in PyTorch
        ta, tb = t
        d = -tb if ta is None else (ta if tb is None else ta - tb)
        m = xp.where(a == b, 0.5, xp.where(a_wins(a, b), 1.0, 0.0))
        r = m * d
        return r if tb is None else tb + r

    return jvp


# operands swapped: NumPy returns the second on a tie, PyTorch the first (``-0.0`` vs ``0.0``)
MAXIMUM = binary("maximum", lambda xp, a, b: xp.maximum(b, a), _maximum_vjp,
                 _maxmin_jvp(lambda a, b: a > b), elementwise=True,
                 explain=("grad where a > b (half on ties)", "grad where b > a (half on ties)"))
MINIMUM = binary("minimum", lambda xp, a, b: xp.minimum(b, a), _minimum_vjp,
                 _maxmin_jvp(lambda a, b: a < b), elementwise=True,
                 explain=("grad where a < b (half on ties)", "grad where b < a (half on ties)"))


def _where_vjp(xp, g, out, cond, a, b, *, needs):
    ga = K.where_grad(xp, cond, g, True) if needs[1] else None
    gb = K.where_grad(xp, cond, g, False) if needs[2] else None
    return None, ga, gb


def _where_jvp(xp, t, out, cond, a, b):
    _, ta, tb = t
    zero = 0.0
    return xp.where(cond, zero if ta is None else ta, zero if tb is None else tb)


WHERE = declare("where", lambda xp, c, a, b: xp.where(c, a, b), _where_vjp, _where_jvp,
                inputs=("condition", "self", "other"), saves=(0,), elementwise=True,
                explain=(None, "grad where condition, else 0",
                         "grad where not condition, else 0"))

CLONE = unary("clone", lambda xp, x: x.copy(), lambda xp, g, out, x: g,
              lambda xp, t, out, x: t, saves=(), explain="grad")
CAST = unary("cast", lambda xp, x, dtype: x.astype(dtype), lambda xp, g, out, x, dtype: g,
             lambda xp, t, out, x, dtype: K.astype(xp, t, dtype), saves=(),
             node_name="ToCopyBackward0", explain="grad (cast back to x's dtype)")
FILL = declare("fill", lambda xp, x, value: xp.full_like(x, value),
               lambda xp, g, out, x, value, *, needs: (xp.zeros_like(g) if needs[0] else None,
                                                       g.sum() if needs[1] else None),
               lambda xp, t, out, x, value: None if t[1] is None else xp.broadcast_to(
                   t[1], out.shape) * 1.0,
               inputs=("self", "value"), saves=(), node_name="FillBackward0")


def _copy_fwd(xp, dst, src):
    return xp.broadcast_to(src, dst.shape).astype(dst.dtype, copy=True)


COPY = declare("copy", _copy_fwd, lambda xp, g, out, dst, src, *, needs: (
                   xp.zeros_like(g) if needs[0] else None, g),
               lambda xp, t, out, dst, src: t[1], inputs=("self", "src"), saves=(),
               node_name="CopyBackwards")

from .unary import (  # noqa: E402, F401 - the names other modules use as E.<name>
    abs,
    absolute,
    acos,
    arccos,
    arcsin,
    arctan,
    asin,
    atan,
    ceil,
    cos,
    cosh,
    erf,
    exp,
    expm1,
    floor,
    log,
    log1p,
    log2,
    log10,
    neg,
    negative,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
    trunc,
)

# --------------------------------------------------------------------------------------------
# public functions


def _binary(op: R.Op, input, other, name: str):
    """Apply a two-input elementwise op to Tensors and Python numbers (the public functions'
    entry); the fast path is a Tensor and a Tensor or a float."""
    if isinstance(input, R.Tensor):
        other_type = type(other)
        if other_type is float or other_type is int or isinstance(other, R.Tensor):
            try:
                return apply2(op, input, other)
            except ValueError:
                _check_broadcast(name, input, other)
                raise
            except OverflowError:  # an int the tensor's dtype cannot hold: it wraps, as in torch
                return apply2(op, input, _wrapped_int(other, input))
    elif op.name in _COMMUTATIVE and isinstance(other, R.Tensor) and (
            type(input) is float or type(input) is int):
        try:
            return apply2(op, other, input)  # ``2 * x``: the fast path with the tensor first
        except OverflowError:
            return apply2(op, other, _wrapped_int(input, other))
    if not isinstance(input, R.Tensor):
        if not isinstance(other, R.Tensor):
            raise TypeError(f"{name}(): expected at least one Tensor argument, got "
                            f"{type(input).__name__} and {type(other).__name__}")
        input = K.as_operand(input, other, name)
    else:
        other = K.as_operand(other, input, name)
    try:
        return apply(op, input, other)
    except ValueError:
        _check_broadcast(name, input, other)
        raise


_COMMUTATIVE = frozenset(("add", "mul"))


def _wrapped_int(value, ref):
    """A Python int beside an integer tensor, wrapped to the tensor's dtype as PyTorch casts
    it (``int8 + 1000`` is ``int8 + (-24)``; NumPy raises OverflowError instead). Ints beyond 64
    bits, or beside non-integer tensors, raise a clear error."""
    dt = ref._data.dtype
    if type(value) is not int or dt.kind not in "iu" or not -2**63 <= value < 2**64:
        raise OverflowError(f"the Python int {value} does not fit the tensor's dtype "
                            f"{ref.dtype}, nor 64 bits") from None
    return R.wrap(np.asarray(np.uint64(value % 2**64)).astype(dt))


def _check_broadcast(name, input, other):
    input_shape = getattr(input, "shape", ())
    other_shape = getattr(other, "shape", ())
    if input_shape == other_shape:
        return
    try:
        np.broadcast_shapes(input_shape, other_shape)
    except ValueError:
        K.raise_broadcast_error(name, input_shape, other_shape)


def add(input, other, *, alpha=1):
    """``input + alpha * other``, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.add(gradwalk.tensor([1.0, 2.0]), 1)
        tensor([2., 3.])
    """
    if alpha != 1:
        other = other * alpha
    return _binary(ADD, input, other, "add")


def sub(input, other, *, alpha=1):
    """``input - alpha * other``, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.sub(gradwalk.tensor([1.0, 2.0]), 1)
        tensor([0., 1.])
    """
    if alpha != 1:
        other = other * alpha
    if isinstance(input, R.Tensor) and input._data.dtype is not _BOOL:  # the common case
        other_type = type(other)
        if other_type is float or other_type is int or (
                isinstance(other, R.Tensor) and other._data.dtype is not _BOOL):
            return _binary(SUB, input, other, "sub")
    if type(other) is bool or _is_bool(input) or _is_bool(other):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if not isinstance(input, R.Tensor):
        return _binary(RSUB, input, other, "rsub")
    return _binary(SUB, input, other, "sub")


def _is_bool(x) -> bool:
    return x is True or x is False or isinstance(x, R.Tensor) and x._data.dtype.kind == "b"


_BOOL = np.dtype(np.bool_)


subtract = sub


def mul(input, other):
    """Elementwise product, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.mul(gradwalk.tensor([1.0, 2.0]), 3)
        tensor([3., 6.])
    """
    return _binary(MUL, input, other, "mul")


multiply = mul


def div(input, other, *, rounding_mode=None):
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
            a, b = _promoted_data(input, other)
            if a.dtype.kind not in "biu":
                return trunc(div(input, other))
            _check_int_divisor(b)
            q = np.floor_divide(a, b)  # exact integer truncation: floor, then toward zero
            return _nondiff_result(q + ((q < 0) & (q * b != a)).astype(q.dtype))
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    if not (isinstance(input, R.Tensor) and input._data.dtype.kind == "f") and (
            (isinstance(input, R.Tensor) and input._data.dtype.kind in "biu") or (
            isinstance(other, R.Tensor) and other._data.dtype.kind in "biu")):
        # true division of integers gives the default float dtype (Note [type promotion])
        if result_np(_data_of(input), _data_of(other)).kind in "biu":
            if isinstance(input, R.Tensor):
                input = cast(input, get_default_dtype().np)
            else:
                other = cast(other, get_default_dtype().np)
    return _binary(DIV, input, other, "div")


def _data_of(x):
    return x._data if isinstance(x, R.Tensor) else x


def _promoted_data(input, other):
    """Both operands' data cast to their PyTorch result dtype, as arrays."""
    if isinstance(input, R.Tensor) and isinstance(other, R.Tensor) and (
            input._data.dtype is other._data.dtype):
        return input._data, other._data
    if not isinstance(input, R.Tensor) and not isinstance(other, R.Tensor):
        raise TypeError(f"expected at least one Tensor argument, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    a, b = promote_pair(_data_of(K.as_operand(input, other, "div")) if not isinstance(
        input, R.Tensor) else input._data, _data_of(K.as_operand(other, input, "div"))
        if not isinstance(other, R.Tensor) else other._data)
    ref = a if hasattr(a, "dtype") and not isinstance(a, np.generic) else b
    a = a if hasattr(a, "dtype") and not isinstance(a, np.generic) else np.asarray(a, ref.dtype)
    b = b if hasattr(b, "dtype") and not isinstance(b, np.generic) else np.asarray(b, ref.dtype)
    return a, b


def _check_int_divisor(b) -> None:
    if b.dtype.kind == "b":
        raise NotImplementedError("rounded division (\"div_floor\", \"div_trunc\") is not "
                                  "implemented for 'Bool'; convert with .int() or .float()")
    if b.dtype.kind in "iu" and not b.all():
        raise RuntimeError("ZeroDivisionError")


divide = true_divide = div


def floor_divide(input, other):
    """Elementwise division rounded down (no gradient, as in PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.floor_divide(gradwalk.tensor([7, -7]), 2)
        tensor([ 3, -4])
    """
    a, b = _promoted_data(input, other)
    _check_int_divisor(b)
    return _nondiff_result(np.floor_divide(a, b), input, other)


def remainder(input, other):
    """Python-style modulus (the sign of the divisor).

    Example:
        >>> import gradwalk
        >>> gradwalk.remainder(gradwalk.tensor([5.0, -5.0]), 3)
        tensor([2., 1.])
    """
    return _binary(REMAINDER, input, other, "remainder")


def fmod(input, other):
    """C-style modulus: ``input - trunc(input / other) * other`` (the sign of the dividend).

    Example:
        >>> import gradwalk
        >>> gradwalk.fmod(gradwalk.tensor([5.0, -3.5]), 2)
        tensor([ 1.0000, -1.5000])
    """
    return _binary(FMOD, input, other, "fmod")


def pow(input, exponent):
    """``input ** exponent``: tensor to scalar, scalar to tensor, or tensor to tensor.

    Example:
        >>> import gradwalk
        >>> gradwalk.pow(gradwalk.tensor([2.0, 3.0]), 2)
        tensor([4., 9.])
    """
    if isinstance(input, R.Tensor) and not isinstance(exponent, R.Tensor):
        if not isinstance(exponent, (int, float, np.integer, np.floating, np.bool_)):
            raise TypeError(f"pow(): exponent must be a number or a Tensor, got "
                            f"{type(exponent).__name__}")
        if input._data.dtype.kind in "biu":  # the result dtype is PyTorch's (bool ** 2 is int64)
            r = result_np(input._data, exponent)
            if r.kind == "b":  # bool ** bool: x ** True is x, x ** False is all True
                return R.wrap(input._data | (not exponent))
            if r != input._data.dtype:
                input = cast(input, r)
            if r.kind in "iu" and exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if isinstance(exponent, np.bool_):
                exponent = bool(exponent)
        if exponent is True or exponent is False:
            exponent = int(exponent)
        if exponent == 2:
            return apply1(square.op, input)
        return apply1(POW, input, {"exponent": exponent})
    if _is_bool(exponent) and (_is_bool(input) or isinstance(input, (bool, np.bool_))):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return _binary(POW_TENSOR, input, exponent, "pow")


float_power = pow




def clamp(input, min=None, max=None):
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


def maximum(input, other):
    """Elementwise maximum of two tensors (ties split the gradient in half, as PyTorch does).

    Example:
        >>> import gradwalk
        >>> gradwalk.maximum(gradwalk.tensor([1.0, 4.0]), gradwalk.tensor([3.0, 2.0]))
        tensor([3., 4.])
    """
    return _binary(MAXIMUM, input, other, "maximum")


def minimum(input, other):
    """Elementwise minimum of two tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.minimum(gradwalk.tensor([1.0, 4.0]), gradwalk.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    return _binary(MINIMUM, input, other, "minimum")


def where(condition, input=None, other=None):
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
    if isinstance(condition, R.Tensor):
        if condition._data.dtype.kind != "b":
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {condition.dtype}")
    cond = condition if isinstance(condition, R.Tensor) else R.wrap(np.asarray(condition))
    ref = input if isinstance(input, R.Tensor) else other
    if not isinstance(ref, R.Tensor):
        ref = cond
    a = K.as_operand(input, ref, "where")
    b = K.as_operand(other, ref, "where")
    r = result_np(_data_of(a), _data_of(b))  # Note [type promotion]
    a, b = _where_operand(a, r), _where_operand(b, r)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"where(): the shapes of condition {list(cond.shape)}, input {list(a.shape)} and "
            f"other {list(b.shape)} do not broadcast to one shape") from None
    return apply(WHERE, cond, a, b)


def _where_operand(x, dt):
    """An operand of ``where`` as a tensor of the result dtype ``dt``."""
    if isinstance(x, R.Tensor):
        return x if x._data.dtype == dt else cast(x, dt)
    return R.wrap(np.asarray(x, dtype=dt))


def clone(input):
    """A copy with its own memory; gradients flow back to the original.

    Example:
        >>> import gradwalk
        >>> gradwalk.clone(gradwalk.tensor([1.0]))
        tensor([1.])
    """
    return apply1(CLONE, input)


def cast(input, np_dtype):
    """Convert to a NumPy dtype (``Tensor.to`` calls this); differentiable between floats."""
    if input._data.dtype == np_dtype:
        return input
    if np.dtype(np_dtype).kind not in "fc":
        return R.wrap(input._data.astype(np_dtype))
    return apply1(CAST, input, {"dtype": np.dtype(np_dtype)})


def fill(input, value):
    """A tensor like ``input`` filled with ``value`` (``fill_`` and ``zero_`` use it)."""
    if isinstance(value, R.Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return apply(FILL, input, value.reshape(()))
    return apply(FILL, input, value)


def copy_from(input, src):
    """``src`` broadcast to ``input``'s shape and cast to its dtype (``copy_`` uses it)."""
    if not isinstance(src, R.Tensor):
        src = R.wrap(np.asarray(src))
    try:
        np.broadcast_shapes(input.shape, src.shape)
        if np.broadcast_shapes(input.shape, src.shape) != input.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"copy_(): the source of shape {list(src.shape)} cannot be broadcast "
                           f"to the destination of shape {list(input.shape)}") from None
    return apply(COPY, input, src)
