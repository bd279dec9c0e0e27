"""More elementwise math: inverse hyperbolics, ``atan2``/``hypot``/``logaddexp``..., the NaN-aware
``fmax``/``fmin``, and the no-gradient predicates
(``signbit``, ``isin``...).

Each differentiable op is one declaration (``elementwise=True``: its forward rule comes from its
reverse rule); the one-input ones get their public function, method and in-place method generated
from the declaration, as in ``unary.py``. The rules follow PyTorch's derivative formulas, NaN and
tie conventions included (Note [fmax ties]).

Note [fmax ties]
    PyTorch's reverse rule of ``fmax`` sends a tie (``a == b``) to ``input`` whole, and a NaN
    ``other`` too; its forward rule sends the tangent of a tie to ``other``. ``fmin`` sends both
    to ``input``. The rules here are those formulas, not ``maximum``'s half-and-half.
"""

from __future__ import annotations

import math

import numpy as np

from ..dtypes import get_default_dtype
from . import elementwise as E
from . import kernels as K
from . import registry as R
from .generated import unary_function
from .logic import _nondiff_result
from .registry import apply1, binary, unary

_LN2 = math.log(2.0)


def _elementwise(name, forward, vjp, *, example, explain=None, **facts):
    """Declare a one-input elementwise op and make its public function."""
    return unary_function(unary(name, forward, vjp, elementwise=True, explain=explain,
                                example=example, **facts))


def _zero_vjp(xp, g, out, x):
    return g * 0.0


acosh = _elementwise(
    "acosh", lambda xp, x: xp.arccosh(x), lambda xp, g, out, x: g / xp.sqrt(x * x - 1.0),
    explain="grad / sqrt(x**2 - 1)",
    example=("gradwalk.acosh(gradwalk.tensor([1.0]))", "tensor([0.])"))
asinh = _elementwise(
    "asinh", lambda xp, x: xp.arcsinh(x), lambda xp, g, out, x: g / xp.sqrt(x * x + 1.0),
    explain="grad / sqrt(x**2 + 1)",
    example=("gradwalk.asinh(gradwalk.tensor([0.0]))", "tensor([0.])"))
atanh = _elementwise(
    "atanh", lambda xp, x: xp.arctanh(x), lambda xp, g, out, x: g / (1.0 - x * x),
    explain="grad / (1 - x**2)",
    example=("gradwalk.atanh(gradwalk.tensor([0.0]))", "tensor([0.])"))
exp2 = _elementwise(
    "exp2", lambda xp, x: xp.exp2(x), lambda xp, g, out, x: g * out * _LN2, saves=(),
    save_out=True, explain="grad * out * ln 2",
    example=("gradwalk.exp2(gradwalk.tensor([3.0]))", "tensor([8.])"))
deg2rad = _elementwise(
    "deg2rad", lambda xp, x: x * (math.pi / 180.0), lambda xp, g, out, x: g * (math.pi / 180.0),
    saves=(), explain="grad * pi / 180",
    example=("gradwalk.deg2rad(gradwalk.tensor([180.0]))", "tensor([3.1416])"))
rad2deg = _elementwise(
    "rad2deg", lambda xp, x: x * (180.0 / math.pi), lambda xp, g, out, x: g * (180.0 / math.pi),
    saves=(), explain="grad * 180 / pi",
    example=("gradwalk.rad2deg(gradwalk.tensor([3.14159265]))", "tensor([180.])"))
frac = _elementwise(
    "frac", lambda xp, x: x - xp.trunc(x), lambda xp, g, out, x: g, saves=(), explain="grad",
    example=("gradwalk.frac(gradwalk.tensor([1.25, -2.5]))", "tensor([ 0.2500, -0.5000])"))
sgn = _elementwise(
    "sgn", lambda xp, x: xp.sign(x), _zero_vjp, saves=(), int_ok=True,
    example=("gradwalk.sgn(gradwalk.tensor([-2.0, 0.0, 3.0]))", "tensor([-1.,  0.,  1.])"))


def _sinc_fwd(xp, x):
    px = x * math.pi
    safe = xp.where(x == 0, 1.0, px)
    return xp.where(x == 0, 1.0, xp.sin(safe) / safe)


def _sinc_vjp(xp, g, out, x):
    # PyTorch's formula, 0/0 at x == 0 masked: its second derivative there is NaN, as torch's
    px = x * math.pi
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (px * xp.cos(px) - xp.sin(px)) / (px * x)
    return g * xp.where(x == 0, 0.0, d)


sinc = _elementwise(
    "sinc", _sinc_fwd, _sinc_vjp, explain="grad * (pi x cos(pi x) - sin(pi x)) / (pi x**2)",
    example=("gradwalk.sinc(gradwalk.tensor([0.0, 0.5]))", "tensor([1.0000, 0.6366])"))


# --------------------------------------------------------------------------------------------
# nan_to_num, positive


def _nan_to_num_fwd(xp, x, nan, posinf, neginf):
    big = float(np.finfo(x.dtype).max)
    hi = big if posinf is None else posinf
    lo = -big if neginf is None else neginf
    out = xp.where(xp.isnan(x), nan, xp.where(x == np.inf, hi, xp.where(x == -np.inf, lo, x)))
    return out.astype(x.dtype, copy=False)


NAN_TO_NUM = unary("nan_to_num", _nan_to_num_fwd,
                   lambda xp, g, out, x, nan, posinf, neginf: g * xp.isfinite(x),
                   elementwise=True, explain="grad where x is finite, else 0")


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None):
    """NaN as ``nan``, infinities as ``posinf``/``neginf`` (the dtype's extremes by default);
    the gradient is zero at the replaced positions.

    Example:
        >>> import gradwalk
        >>> gradwalk.nan_to_num(gradwalk.tensor([float("nan"), 1.0, float("inf")]), posinf=9.0)
        tensor([0., 1., 9.])
    """
    _check_tensor(input, "nan_to_num")
    if input._data.dtype.kind in "biu":
        return input.clone()
    return apply1(NAN_TO_NUM, input, {"nan": 0.0 if nan is None else nan, "posinf": posinf,
                                      "neginf": neginf})


def positive(input):
    """``input`` itself (PyTorch's ``torch.positive``: unary plus; bool is refused).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([-1.0, 2.0])
        >>> gradwalk.positive(x) is x
        True
    """
    _check_tensor(input, "positive")
    if input._data.dtype.kind == "b":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _check_tensor(x, op):
    if not isinstance(x, R.Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")


# --------------------------------------------------------------------------------------------
# two-input math


def _floats(input, other, name):
    """PyTorch's integer-to-float promotion of the float-valued binary ops: when neither
    operand is floating, tensors are cast to the default float dtype."""
    def is_float(v):
        if isinstance(v, R.Tensor):
            return v._data.dtype.kind in "fc"
        return isinstance(v, float)

    if is_float(input) or is_float(other):
        return input, other
    dt = get_default_dtype().np
    cast = [E.cast(v, dt) if isinstance(v, R.Tensor) else v for v in (input, other)]
    return cast[0], cast[1]


def _atan2_vjp(xp, g, out, a, b, *, needs):
    r = a * a + b * b
    return (g * b / r if needs[0] else None, -g * a / r if needs[1] else None)


def _hypot_vjp(xp, g, out, a, b, *, needs):
    return (g * a / out if needs[0] else None, g * b / out if needs[1] else None)


def _copysign_vjp(xp, g, out, a, b, *, needs):
    ga = None
    if needs[0]:
        ga = xp.where(a == 0, 0.0, g * out / xp.where(a == 0, 1.0, a))
    return ga, (g * 0.0 if needs[1] else None)


def _logaddexp_vjp(xp, g, out, a, b, *, needs):
    return (g * xp.exp(a - out) if needs[0] else None,
            g * xp.exp(b - out) if needs[1] else None)


def _logaddexp2_vjp(xp, g, out, a, b, *, needs):
    return (g * xp.exp((a - out) * _LN2) if needs[0] else None,
            g * xp.exp((b - out) * _LN2) if needs[1] else None)


def _xlogy_fwd(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(a == 0, xp.where(xp.isnan(b), b, 0.0), a * xp.log(b))


def _xlogy_vjp(xp, g, out, a, b, *, needs):
    ga = gb = None
    if needs[0]:
        ga = xp.where((g == 0) & ~xp.isnan(b), 0.0, g * xp.log(b))
        ga = xp.where((a == 0) & (b <= 0), 0.0, ga)
    if needs[1]:
        gb = g * a / b
    return ga, gb


def _nextafter_vjp(xp, g, out, a, b, *, needs):
    return (xp.where(a != b, g, 0.0) if needs[0] else None, g * 0.0 if needs[1] else None)


def _fmax_vjp(xp, g, out, a, b, *, needs):
    to_a = (a >= b) | xp.isnan(b)  # Note [fmax ties]
    return (xp.where(to_a, g, 0.0) if needs[0] else None,
            xp.where(to_a, 0.0, g) if needs[1] else None)


def _fmin_vjp(xp, g, out, a, b, *, needs):
    to_a = (a <= b) | xp.isnan(b)
    return (xp.where(to_a, g, 0.0) if needs[0] else None,
            xp.where(to_a, 0.0, g) if needs[1] else None)


def _select_jvp(strict: bool):
    def jvp(xp, t, out, a, b):
        ta, tb = t
        to_a = ((a > b) if strict else (a <= b)) | xp.isnan(b)
        return xp.where(to_a, 0.0 if ta is None else ta, 0.0 if tb is None else tb)

    return jvp


ATAN2 = binary("atan2", lambda xp, a, b: xp.arctan2(a, b), _atan2_vjp, elementwise=True,
               explain=("grad * other / (input**2 + other**2)",
                        "-grad * input / (input**2 + other**2)"))
HYPOT = binary("hypot", lambda xp, a, b: xp.hypot(a, b), _hypot_vjp, save_out=True,
               elementwise=True, explain=("grad * input / out", "grad * other / out"))
COPYSIGN = binary("copysign", lambda xp, a, b: xp.copysign(a, b), _copysign_vjp, saves=(0,),
                  save_out=True, elementwise=True, explain=("grad * out / input", "0"))
LOGADDEXP = binary("logaddexp", lambda xp, a, b: xp.logaddexp(a, b), _logaddexp_vjp,
                   save_out=True, elementwise=True,
                   explain=("grad * exp(input - out)", "grad * exp(other - out)"))
LOGADDEXP2 = binary("logaddexp2", lambda xp, a, b: xp.logaddexp2(a, b), _logaddexp2_vjp,
                    save_out=True, elementwise=True,
                    explain=("grad * 2**(input - out)", "grad * 2**(other - out)"))
XLOGY = binary("xlogy", _xlogy_fwd, _xlogy_vjp, elementwise=True,
               node_name="XlogyBackward0",
               explain=("grad * log(other) (0 where input == 0 and other <= 0)",
                        "grad * input / other"))
NEXTAFTER = binary("nextafter", lambda xp, a, b: xp.nextafter(a, b), _nextafter_vjp,
                   elementwise=True, explain=("grad where input != other", "0"))
FMAX = binary("fmax", lambda xp, a, b: xp.fmax(a, b), _fmax_vjp, _select_jvp(True),
              elementwise=True, explain=("grad where input >= other or other is NaN",
                                         "grad where input < other"))
FMIN = binary("fmin", lambda xp, a, b: xp.fmin(a, b), _fmin_vjp, _select_jvp(False),
              elementwise=True, explain=("grad where input <= other or other is NaN",
                                         "grad where input > other"))


def _math2(op, float_valued=True):
    name = op.name

    def function(input, other):
        if float_valued:
            input, other = _floats(input, other, name)
        return E._binary(op, input, other, name)

    function.__name__ = function.__qualname__ = name
    return function


atan2 = _math2(ATAN2)
atan2.__doc__ = """Elementwise angle of the point ``(other, input)``: ``atan(input / other)`` in
    the right quadrant.

    Example:
        >>> import gradwalk
        >>> gradwalk.atan2(gradwalk.tensor([1.0]), gradwalk.tensor([-1.0]))
        tensor([2.3562])
    """
arctan2 = atan2
hypot = _math2(HYPOT)
hypot.__doc__ = """Elementwise ``sqrt(input**2 + other**2)``, without overflow.

    Example:
        >>> import gradwalk
        >>> gradwalk.hypot(gradwalk.tensor([3.0]), gradwalk.tensor([4.0]))
        tensor([5.])
    """
copysign = _math2(COPYSIGN)
copysign.__doc__ = """``|input|`` with the sign of ``other`` (a float result).

    Example:
        >>> import gradwalk
        >>> gradwalk.copysign(gradwalk.tensor([1.0, -2.0]), -1.0)
        tensor([-1., -2.])
    """
logaddexp = _math2(LOGADDEXP)
logaddexp.__doc__ = """Elementwise ``log(exp(input) + exp(other))``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.logaddexp(gradwalk.tensor([0.0]), gradwalk.tensor([0.0]))
        tensor([0.6931])
    """
logaddexp2 = _math2(LOGADDEXP2)
logaddexp2.__doc__ = """Elementwise ``log2(2**input + 2**other)``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.logaddexp2(gradwalk.tensor([1.0]), gradwalk.tensor([1.0]))
        tensor([2.])
    """
xlogy = _math2(XLOGY)
xlogy.__doc__ = """Elementwise ``input * log(other)``, 0 where ``input`` is 0 (unless ``other``
    is NaN).

    Example:
        >>> import gradwalk
        >>> gradwalk.xlogy(gradwalk.tensor([0.0, 2.0]), gradwalk.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
nextafter = _math2(NEXTAFTER, float_valued=False)
nextafter.__doc__ = """The next float after ``input`` towards ``other``.

    Example:
        >>> import gradwalk
        >>> bool((gradwalk.nextafter(gradwalk.tensor([1.0]), 2.0) > 1.0).item())
        True
    """
fmax = _math2(FMAX, float_valued=False)
fmax.__doc__ = """Elementwise maximum that ignores NaN (NaN only where both are NaN).

    Example:
        >>> import gradwalk
        >>> gradwalk.fmax(gradwalk.tensor([1.0, float("nan")]), gradwalk.tensor([2.0, 3.0]))
        tensor([2., 3.])
    """
fmin = _math2(FMIN, float_valued=False)
fmin.__doc__ = """Elementwise minimum that ignores NaN (NaN only where both are NaN).

    Example:
        >>> import gradwalk
        >>> gradwalk.fmin(gradwalk.tensor([1.0, float("nan")]), gradwalk.tensor([2.0, 3.0]))
        tensor([1., 3.])
    """


def ldexp(input, other):
    """``input * 2**other``.

    Example:
        >>> import gradwalk
        >>> gradwalk.ldexp(gradwalk.tensor([1.5]), gradwalk.tensor([3]))
        tensor([12.])
    """
    input, other = _floats(input, other, "ldexp")
    return E.mul(input, E.pow(2.0, other))


def frexp(input):
    """``(mantissa, exponent)`` with ``input == mantissa * 2**exponent``, ``|mantissa|`` in
    ``[0.5, 1)``; the exponent is int32 and has no gradient.

    Example:
        >>> import gradwalk
        >>> m, e = gradwalk.frexp(gradwalk.tensor([8.0]))
        >>> m, e.tolist(), e.dtype == gradwalk.int32
        (tensor([0.5000]), [4], True)
    """
    _check_tensor(input, "frexp")
    if input._data.dtype.kind not in "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got "
                           f"{input.dtype}")
    _, e = np.frexp(input._data)
    scale = R.wrap(np.ldexp(np.ones_like(input._data), -e))
    return _Frexp(E.mul(input, scale), R.wrap(np.asarray(e, dtype=np.int32)))


class _Frexp(tuple):
    """``(mantissa, exponent)`` with PyTorch's field names."""

    def __new__(cls, mantissa, exponent):
        return super().__new__(cls, (mantissa, exponent))

    @property
    def mantissa(self):
        return self[0]

    @property
    def exponent(self):
        return self[1]


def clamp_min(input, min):
    """``max(input, min)``; the gradient goes to ``input`` where ``input >= min``.

    Example:
        >>> import gradwalk
        >>> gradwalk.clamp_min(gradwalk.tensor([-1.0, 2.0]), 0.0)
        tensor([0., 2.])
    """
    return E.clamp(input, min=min)


def clamp_max(input, max):
    """``min(input, max)``; the gradient goes to ``input`` where ``input <= max``.

    Example:
        >>> import gradwalk
        >>> gradwalk.clamp_max(gradwalk.tensor([-1.0, 2.0]), 0.0)
        tensor([-1.,  0.])
    """
    return E.clamp(input, max=max)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (subtraction with the operands reversed).

    Example:
        >>> import gradwalk
        >>> gradwalk.rsub(gradwalk.tensor([1.0, 2.0]), 5.0)
        tensor([4., 3.])
    """
    return E.sub(other, input, alpha=alpha)


# --------------------------------------------------------------------------------------------
# no-gradient results


def _data(x):
    return x._data if isinstance(x, R.Tensor) else np.asarray(x)


def heaviside(input, values):
    """The step function: 0 where ``input < 0``, 1 where ``input > 0``, ``values`` at 0 (no
    gradient, as in PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.heaviside(gradwalk.tensor([-1.0, 0.0, 2.0]), gradwalk.tensor([0.5]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    _check_tensor(input, "heaviside")
    if not isinstance(values, R.Tensor):
        raise TypeError("heaviside(): argument 'values' must be a Tensor, not "
                        f"{type(values).__name__}")
    a, b = input._data, values._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes: {input.dtype} and {values.dtype}")
    try:
        # PyTorch's ``x == 0 ? values : x > 0``: NaN gives 0 (NumPy's heaviside gives NaN)
        return _nondiff_result(np.where(a == 0, b, a > 0).astype(a.dtype))
    except ValueError:
        K.raise_broadcast_error("heaviside", a.shape, b.shape)


def _integer_pair(name, fn):
    def function(input, other):
        a, b = _data(input), _data(other)
        if a.dtype.kind not in "biu" or b.dtype.kind not in "biu":
            raise RuntimeError(f"{name}(): expected integer tensors, got {a.dtype} and "
                               f"{b.dtype}; {name} is defined on integers only")
        try:
            return _nondiff_result(np.asarray(fn(a, b)))
        except ValueError:
            K.raise_broadcast_error(name, a.shape, b.shape)

    function.__name__ = function.__qualname__ = name
    return function


gcd = _integer_pair("gcd", np.gcd)
gcd.__doc__ = """Elementwise greatest common divisor of integer tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.gcd(gradwalk.tensor([12, 7]), gradwalk.tensor([18, 0]))
        tensor([6, 7])
    """
lcm = _integer_pair("lcm", np.lcm)
lcm.__doc__ = """Elementwise least common multiple of integer tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.lcm(gradwalk.tensor([4, 3]), gradwalk.tensor([6, 5]))
        tensor([12, 15])
    """


def signbit(input):
    """True where the sign bit is set (negative numbers and ``-0.0``).

    Example:
        >>> import gradwalk
        >>> gradwalk.signbit(gradwalk.tensor([-1.0, -0.0, 2.0]))
        tensor([ True,  True, False])
    """
    _check_tensor(input, "signbit")
    return _nondiff_result(np.signbit(input._data))


def isposinf(input):
    """True where ``input`` is ``+inf``.

    Example:
        >>> import gradwalk
        >>> gradwalk.isposinf(gradwalk.tensor([float("inf"), -float("inf"), 1.0]))
        tensor([ True, False, False])
    """
    _check_tensor(input, "isposinf")
    return _nondiff_result(np.isposinf(input._data))


def isneginf(input):
    """True where ``input`` is ``-inf``.

    Example:
        >>> import gradwalk
        >>> gradwalk.isneginf(gradwalk.tensor([float("inf"), -float("inf"), 1.0]))
        tensor([False,  True, False])
    """
    _check_tensor(input, "isneginf")
    return _nondiff_result(np.isneginf(input._data))


def isreal(input):
    """True where the imaginary part is zero (everywhere, for a real tensor).

    Example:
        >>> import gradwalk
        >>> gradwalk.isreal(gradwalk.tensor([1.0, 2.0]))
        tensor([True, True])
    """
    _check_tensor(input, "isreal")
    return _nondiff_result(np.isreal(input._data))


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """True where an element of ``elements`` is among ``test_elements`` (either may be a
    number).

    Example:
        >>> import gradwalk
        >>> gradwalk.isin(gradwalk.tensor([1, 2, 3]), gradwalk.tensor([2, 5]))
        tensor([False,  True, False])
    """
    if not isinstance(elements, R.Tensor) and not isinstance(test_elements, R.Tensor):
        raise TypeError("isin(): expected at least one Tensor argument")
    K.real_only("isin", elements, test_elements)
    a, b = _data(elements), _data(test_elements)
    return _nondiff_result(np.asarray(np.isin(a, b, assume_unique=assume_unique,
                                              invert=invert)))


# --------------------------------------------------------------------------------------------
# dtype conversions and scalar_tensor



def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False):
    """A 0-d tensor holding the number ``s`` (the default float dtype unless ``dtype``).

    Example:
        >>> import gradwalk
        >>> gradwalk.scalar_tensor(3)
        tensor(3.)
    """
    if isinstance(s, R.Tensor):
        s = s.item()
    np_dtype = get_default_dtype().np if dtype is None else np.dtype(dtype.np)
    t = R.wrap(np.asarray(s, dtype=np_dtype))
    if device is not None and str(device) not in ("cpu",):
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t
