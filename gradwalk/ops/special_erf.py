"""The error-function family and the small special functions, each a differentiable op.

Kernels (Note [special-function accuracy] in ``special_common.py``):

* ``erfc`` is the C library's (``math.erfc`` elementwise), accurate in relative terms far into
  the tail; ``erfcx = exp(x**2) erfc(x)`` from it below x = 26 and by its asymptotic series
  above (where ``exp(x**2)`` would overflow);
* ``erfinv``: Newton steps on ``erf`` for |y| <= 1/2 and on ``log erfc`` for the tails, from
  Winitzki's closed-form approximation; ``ndtri`` the same through ``erfinv``/``erfcinv``;
* ``log_ndtr`` as PyTorch: ``log(erfcx(-x/sqrt 2)/2) - x**2/2`` below -1, else
  ``log1p(-erfc(x/sqrt 2)/2)``.

The rules are PyTorch's derivative formulas (``derivatives.yaml``), written on the output where
it helps (``erfinv``: ``sqrt(pi)/2 exp(out**2)``).
"""

from __future__ import annotations

import math

import numpy as np

from .registry import apply, apply1, binary, unary
from .special_common import as_input, call, float_pair, run

_erf_py = np.frompyfunc(math.erf, 1, 1)
_erfc_py = np.frompyfunc(math.erfc, 1, 1)
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LN2 = math.log(2.0)


def erf_kernel(x):
    return np.asarray(_erf_py(x), dtype=np.float64)


def erfc_kernel(x):
    return np.asarray(_erfc_py(x), dtype=np.float64)


def erfcx_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    big = x >= 26.0
    xs = np.where(big, 0.0, x)
    direct = np.exp(xs * xs) * erfc_kernel(xs)
    xb = np.where(big, x, 26.0)
    z = 1.0 / (2.0 * xb * xb)
    series = np.ones_like(xb)
    term = np.ones_like(xb)
    for k in range(1, 10):
        term = -term * (2 * k - 1) * z
        series = series + term
    asym = series / (xb * _SQRT_PI)
    return np.where(big, asym, direct)


def _erfinv_small(y):
    """erfinv for |y| <= 1/2: Newton steps on erf from the Taylor start."""
    x = y * _SQRT_PI / 2.0 * (1.0 + math.pi * y * y / 12.0)
    for _ in range(4):
        x = x - (erf_kernel(x) - y) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    return x


def _erfcinv(c):
    """The y >= 0 with erfc(y) = c, for c in (0, 1/2] (Newton steps on log erfc)."""
    a = 0.147
    L = np.log(c * (2.0 - c))
    t = 2.0 / (math.pi * a) + L / 2.0
    y = np.sqrt(np.sqrt(t * t - L / a) - t)
    logc = np.log(c)
    for _ in range(6):
        e = erfc_kernel(y)
        f = np.log(e) - logc
        df = -_TWO_OVER_SQRT_PI * np.exp(-y * y) / e
        y = y - f / df
    return y


def erfinv_kernel(y):
    y = np.asarray(y, dtype=np.float64)
    small = np.abs(y) <= 0.5
    out = np.empty_like(y)
    out[small] = _erfinv_small(y[small])
    tail = ~small & (np.abs(y) < 1.0)
    out[tail] = np.sign(y[tail]) * _erfcinv(1.0 - np.abs(y[tail]))
    rest = ~small & ~tail
    out[rest] = np.where(np.abs(y[rest]) == 1.0, np.sign(y[rest]) * np.inf, np.nan)
    return out


def ndtr_kernel(x):
    return 0.5 * erfc_kernel(-np.asarray(x) / _SQRT2)


def ndtri_kernel(p):
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    mid = (p >= 0.25) & (p <= 0.75)
    out[mid] = _SQRT2 * _erfinv_small(2.0 * p[mid] - 1.0)
    lo = (p > 0) & (p < 0.25)
    out[lo] = -_SQRT2 * _erfcinv(2.0 * p[lo])
    hi = (p > 0.75) & (p < 1)
    out[hi] = _SQRT2 * _erfcinv(2.0 * (1.0 - p[hi]))
    rest = ~(mid | lo | hi)
    out[rest] = np.where(p[rest] == 0, -np.inf, np.where(p[rest] == 1, np.inf, np.nan))
    return out


def log_ndtr_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    low = x < -1.0
    xl = np.where(low, x, -1.0)
    left = np.log(erfcx_kernel(-xl / _SQRT2) / 2.0) - xl * xl / 2.0
    right = np.log1p(-erfc_kernel(np.where(low, 0.0, x) / _SQRT2) / 2.0)
    return np.where(low, left, right)


def _xlogy_kernel(x, y):
    out = x * np.log(y)
    out = np.where(x == 0, 0.0, out)
    return np.where(np.isnan(y), np.nan, out)


def _xlog1py_kernel(x, y):
    out = x * np.log1p(y)
    out = np.where(x == 0, 0.0, out)
    return np.where(np.isnan(y), np.nan, out)


def entr_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    out = -x * np.log(np.where(x > 0, x, 1.0))
    out = np.where(x == 0, 0.0, np.where(x < 0, -np.inf, out))
    return np.where(np.isnan(x), np.nan, out)


def sinc_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    px = np.pi * x
    return np.where(x == 0, 1.0, np.sin(px) / np.where(x == 0, 1.0, px))


def _logit_kernel(x, eps):
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    return np.log(x / (1.0 - x))


# ---- rules


def _erfcx_vjp(xp, g, out, x):
    return g * (2.0 * x * out - _TWO_OVER_SQRT_PI)


def _log_ndtr_vjp(xp, g, out, x):
    return g * _INV_SQRT_2PI * xp.exp(-0.5 * x * x - out)


def _logit_vjp(xp, g, out, x, eps):
    d = g / (x * (1.0 - x))
    if eps is None:
        return xp.where((x < 0.0) | (x > 1.0), np.nan, d)
    return xp.where((x < eps) | (x > 1.0 - eps), 0.0, d)


def _xlogy_vjp(xp, g, out, x, y, needs):
    gx = gy = None
    if needs[0]:
        gx = call(xp, xlogy, _xlogy_kernel, g, y)
        gx = xp.where((x == 0.0) & (y <= 0.0), 0.0, gx)
    if needs[1]:
        gy = g * x / y
    return gx, gy


def _xlog1py_vjp(xp, g, out, x, y, needs):
    gx = gy = None
    if needs[0]:
        gx = call(xp, xlog1py, _xlog1py_kernel, g, y)
        gx = xp.where((x == 0.0) & (y <= -1.0), 0.0, gx)
    if needs[1]:
        gy = g * x / (y + 1.0)
    return gx, gy


def _sinc_vjp(xp, g, out, x):
    px = np.pi * x
    safe = xp.where(x == 0.0, 1.0, x)
    d = (px * xp.cos(px) - xp.sin(px)) / (np.pi * safe * safe)
    return g * xp.where(x == 0.0, 0.0, d)


ERFC = unary("special_erfc", lambda xp, x: run(erfc_kernel, x),
             lambda xp, g, out, x: -_TWO_OVER_SQRT_PI * g * xp.exp(-x * x), elementwise=True,
             node_name="ErfcBackward0", explain="-grad * 2/sqrt(pi) * exp(-x**2)")
ERFCX = unary("special_erfcx", lambda xp, x: run(erfcx_kernel, x), _erfcx_vjp,
              elementwise=True, save_out=True, node_name="SpecialErfcxBackward0",
              explain="grad * (2 * x * out - 2/sqrt(pi))")
ERFINV = unary("special_erfinv", lambda xp, x: run(erfinv_kernel, x),
               lambda xp, g, out, x: g * (_SQRT_PI / 2.0) * xp.exp(out * out), saves=(),
               save_out=True, elementwise=True, node_name="ErfinvBackward0",
               explain="grad * sqrt(pi)/2 * exp(out**2)")
NDTR = unary("special_ndtr", lambda xp, x: run(ndtr_kernel, x),
             lambda xp, g, out, x: g * _INV_SQRT_2PI * xp.exp(-0.5 * x * x), elementwise=True,
             node_name="SpecialNdtrBackward0", explain="grad * exp(-x**2/2) / sqrt(2 pi)")
NDTRI = unary("special_ndtri", lambda xp, x: run(ndtri_kernel, x),
              lambda xp, g, out, x: g * _SQRT_2PI * xp.exp(0.5 * out * out), saves=(),
              save_out=True, elementwise=True, node_name="SpecialNdtriBackward0",
              explain="grad * sqrt(2 pi) * exp(out**2/2)")
LOG_NDTR = unary("special_log_ndtr", lambda xp, x: run(log_ndtr_kernel, x), _log_ndtr_vjp,
                 save_out=True, elementwise=True, node_name="SpecialLogNdtrBackward0",
                 explain="grad * exp(-x**2/2 - out) / sqrt(2 pi)")
ENTR = unary("special_entr", lambda xp, x: run(entr_kernel, x),
             lambda xp, g, out, x: -g * (1.0 + xp.log(x)), elementwise=True,
             node_name="SpecialEntrBackward0", explain="-grad * (1 + log(x))")
SINC = unary("special_sinc", lambda xp, x: run(sinc_kernel, x), _sinc_vjp, elementwise=True,
             node_name="SincBackward0", explain="grad * (pi x cos(pi x) - sin(pi x)) / (pi x**2)")
EXP2 = unary("special_exp2", lambda xp, x: xp.exp2(x),
             lambda xp, g, out, x: g * out * _LN2, saves=(), save_out=True, elementwise=True,
             node_name="Exp2Backward0", explain="grad * out * ln 2")
LOGIT = unary("special_logit", lambda xp, x, eps: run(lambda a: _logit_kernel(a, eps), x),
              _logit_vjp, elementwise=True, node_name="LogitBackward0",
              explain="grad / (x (1 - x)), 0 outside [eps, 1 - eps]")
XLOGY = binary("special_xlogy", lambda xp, x, y: run(_xlogy_kernel, x, y), _xlogy_vjp,
               elementwise=True, node_name="XlogyBackward0",
               explain=("xlogy(grad, other)", "grad * self / other"))
XLOG1PY = binary("special_xlog1py", lambda xp, x, y: run(_xlog1py_kernel, x, y), _xlog1py_vjp,
                 elementwise=True, node_name="SpecialXlog1PyBackward0",
                 explain=("xlog1py(grad, other)", "grad * self / (1 + other)"))


# ---- public functions


def erfc(input):
    """The complementary error function ``1 - erf(x)``, accurate in the tail.

    Example:
        >>> import gradwalk
        >>> gradwalk.erfc(gradwalk.tensor([0.0, 2.0]))
        tensor([1.0000, 0.0047])
    """
    return apply1(ERFC, as_input(input, "erfc"))


def erfcx(input):
    """The scaled complementary error function ``exp(x**2) * erfc(x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.erfcx(gradwalk.tensor([0.0, 30.0]))
        tensor([1.0000, 0.0188])
    """
    return apply1(ERFCX, as_input(input, "erfcx"))


def erfinv(input):
    """The inverse error function on [-1, 1] (+-inf at +-1, NaN outside).

    Example:
        >>> import gradwalk
        >>> gradwalk.erfinv(gradwalk.tensor([0.0, 0.5]))
        tensor([0.0000, 0.4769])
    """
    return apply1(ERFINV, as_input(input, "erfinv"))


def ndtr(input):
    """The standard normal cumulative distribution function.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.ndtr(gradwalk.tensor([0.0, 1.0]))
        tensor([0.5000, 0.8413])
    """
    return apply1(NDTR, as_input(input, "ndtr"))


def ndtri(input):
    """The inverse of ``ndtr``: the standard normal quantile of a probability.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.ndtri(gradwalk.tensor([0.5, 0.975]))
        tensor([0.0000, 1.9600])
    """
    return apply1(NDTRI, as_input(input, "ndtri"))


def log_ndtr(input):
    """``log(ndtr(x))``, accurate far into the left tail.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.log_ndtr(gradwalk.tensor([0.0, -10.0]))
        tensor([ -0.6931, -53.2313])
    """
    return apply1(LOG_NDTR, as_input(input, "log_ndtr"))


def entr(input):
    """The entropy term ``-x log(x)`` (0 at 0, -inf below 0).

    Example:
        >>> import gradwalk
        >>> gradwalk.special.entr(gradwalk.tensor([0.0, 0.5]))
        tensor([0.0000, 0.3466])
    """
    return apply1(ENTR, as_input(input, "entr"))


def sinc(input):
    """The normalized sinc function ``sin(pi x) / (pi x)`` (1 at 0).

    Example:
        >>> import gradwalk
        >>> gradwalk.sinc(gradwalk.tensor([0.0, 0.5]))
        tensor([1.0000, 0.6366])
    """
    return apply1(SINC, as_input(input, "sinc"))


def exp2(input):
    """``2 ** x``, elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.exp2(gradwalk.tensor([3.0]))
        tensor([8.])
    """
    return apply1(EXP2, as_input(input, "exp2"))


def logit(input, eps: float | None = None):
    """``log(x / (1 - x))``; with ``eps``, ``x`` is first clamped to ``[eps, 1 - eps]`` (and the
    gradient is 0 outside that interval).

    Example:
        >>> import gradwalk
        >>> gradwalk.logit(gradwalk.tensor([0.5, 0.75]))
        tensor([0.0000, 1.0986])
    """
    return apply1(LOGIT, as_input(input, "logit"),
                  {"eps": None if eps is None else float(eps)})


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN); either
    argument may be a number.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.xlogy(gradwalk.tensor([0.0, 2.0]), gradwalk.tensor([0.0, 3.0]))
        tensor([0.0000, 2.1972])
    """
    a, b = float_pair(input, other, "xlogy")
    return apply(XLOGY, a, b)


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN).

    Example:
        >>> import gradwalk
        >>> gradwalk.special.xlog1py(gradwalk.tensor([0.0, 2.0]), gradwalk.tensor([-1.0, 1.0]))
        tensor([0.0000, 1.3863])
    """
    a, b = float_pair(input, other, "xlog1py")
    return apply(XLOG1PY, a, b)
