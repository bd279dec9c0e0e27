"""The gamma family: lgamma, digamma, polygamma, mvlgamma (differentiable), zeta, igamma.

Kernels (float64 NumPy, Note [special-function accuracy] in ``special_common.py``):

* ``lgamma``: the Lanczos approximation (g = 7, 9 terms) for x >= 1/2, the reflection formula
  below, infinity at the poles (0 and the negative integers).
* ``digamma``: the recurrence up to x >= 10, then the asymptotic series in 1/x**2; the
  reflection formula for x < 0 (NaN at the negative integers, as PyTorch).
* ``trigamma`` (PyTorch's method, the recurrence six steps up and a short asymptotic series,
  good to about 1e-9) is kept for reference; ``polygamma(1, x)`` uses ``zeta(2, x)``, which is
  accurate to rounding.
* ``zeta(x, q)``: the Hurwitz zeta function by Euler-Maclaurin summation: terms summed until
  q + k > 9, the integral and the Bernoulli-number tail; ``polygamma(n, x) =
  (-1)**(n+1) n! zeta(n+1, x)`` for n >= 2.
* ``igamma``/``igammac``: the regularized incomplete gamma functions P and Q, by their power
  series where x < a + 1 and by the continued fraction (modified Lentz) elsewhere.
"""

from __future__ import annotations

import math

import numpy as np

from .registry import apply1, unary
from .special_common import as_input, call, float_pair, forward_only, polevl, run

_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)


def _lgamma_pos(x):
    z = x - 1.0
    a = np.full_like(z, _LANCZOS[0])
    for i in range(1, 9):
        a = a + _LANCZOS[i] / (z + i)
    t = z + 7.5
    return _HALF_LOG_2PI + (z + 0.5) * np.log(t) - t + np.log(a)


def _sinpi(x):
    """sin(pi x), exact at the integers (argument reduced to [-1, 1] first)."""
    r = x - 2.0 * np.round(x / 2.0)
    return np.sin(np.pi * r)


def lgamma_kernel(x):
    x = np.asarray(x)
    lo = x < 0.5
    pos = _lgamma_pos(np.where(lo, 1.0 - x, x))
    refl = _LOG_PI - np.log(np.abs(_sinpi(x))) - pos
    out = np.where(lo, refl, pos)
    pole = (x <= 0) & (x == np.floor(x))
    out = np.where(pole | np.isinf(x), np.inf, out)
    return out


_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)


def _digamma_pos(x):
    result = np.zeros_like(x)
    for _ in range(10):
        small = x < 10.0
        if not small.any():
            break
        result = result - np.where(small, 1.0 / x, 0.0)
        x = np.where(small, x + 1.0, x)
    z = 1.0 / (x * x)
    y = np.where(x < 1.0e17, z * polevl(z, _PSI_A), 0.0)
    return result + np.log(x) - 0.5 / x - y


def digamma_kernel(x):
    x = np.asarray(x)
    neg = x < 0
    pos = _digamma_pos(np.where(neg, 1.0 - x, np.where(x == 0, 1.0, x)))
    r = x - np.trunc(x)
    out = np.where(neg, pos - np.pi / np.tan(np.pi * r), pos)
    out = np.where(neg & (x == np.trunc(x)), np.nan, out)
    out = np.where(x == 0, np.copysign(np.inf, -x), out)
    out = np.where(np.isposinf(x), np.inf, out)
    return np.where(np.isneginf(x), np.nan, out)


def trigamma_kernel(x):
    x = np.asarray(x)
    lo = x < 0.5
    sign = np.where(lo, -1.0, 1.0)
    s = np.sin(np.pi * x)  # PyTorch's: large but finite at the poles
    result = np.where(lo, -(np.pi * np.pi) / (s * s), 0.0)
    x = np.where(lo, 1.0 - x, x)
    for _ in range(6):
        result = result + 1.0 / (x * x)
        x = x + 1.0
    ixx = 1.0 / (x * x)
    result = result + (1.0 + 1.0 / (2.0 * x) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx / 42)))\
        / x
    return sign * result


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042E-16


def _zeta_direct(x, q, steps):
    """sum_{k=0}^{steps} (q + k)**-x in chunks, with the last point and term."""
    total = 0.0
    for start in range(0, steps + 1, 1 << 20):
        k = np.arange(start, min(steps + 1, start + (1 << 20)), dtype=np.float64)
        total += float(np.power(q + k, -x).sum())
    a = q + steps
    return total, a, a ** -x


def zeta_kernel(x, q):
    """The Hurwitz zeta function sum_k (q + k)**-x (Euler-Maclaurin summation)."""
    x, q = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(q, dtype=np.float64))
    shape = x.shape
    x, q = x.ravel().copy(), q.ravel().copy()
    bad_q = q <= 0
    # the direct sum runs to q + k > 9 (at least 9 terms after the first): k = steps
    steps = np.maximum(9.0, np.floor(9.0 - np.where(np.isfinite(q), q, 0.0)) + 1.0)
    long = steps > 64
    s = np.power(q, -x)
    a = q.copy()
    b = np.zeros_like(q)
    for _ in range(int(min(steps.max(initial=0.0), 64.0))):
        a = a + 1.0
        b = np.power(a, -x)
        s = s + b
    for idx in zip(*np.nonzero(long)):  # far below zero: the remaining terms element by element
        s[idx], a[idx], b[idx] = _zeta_direct(x[idx], q[idx], int(steps[idx]))
    w = a
    s = s + b * w / (x - 1.0) - 0.5 * b
    coef = np.ones_like(q)
    k = 0.0
    done = np.zeros(q.shape, dtype=bool)
    for j in range(12):
        coef = coef * (x + k)
        b = b / w
        t = coef * b / _ZETA_A[j]
        s = np.where(done, s, s + t)
        done |= np.abs(t / s) < _MACHEP
        k += 1.0
        coef = coef * (x + k)
        b = b / w
        k += 1.0
    out = s
    out = np.where(bad_q & (x != np.floor(x)), np.nan, out)
    out = np.where(bad_q & (q == np.floor(q)), np.inf, out)
    out = np.where(x < 1.0, np.nan, out)
    out = np.where(x == 1.0, np.inf, out)
    return np.where(np.isnan(x) | np.isnan(q), np.nan, out).reshape(shape)


def polygamma_kernel(x, n: int):
    if n == 0:
        return digamma_kernel(x)
    sign = 1.0 if n % 2 else -1.0
    return sign * math.exp(math.lgamma(n + 1.0)) * zeta_kernel(float(n + 1), x)


def mvlgamma_kernel(x, p: int):
    out = np.full_like(np.asarray(x), p * (p - 1) / 4.0 * _LOG_PI)
    for j in range(p):
        out = out + lgamma_kernel(x - j / 2.0)
    return out


def _mvdigamma(x, p: int):
    out = np.zeros_like(np.asarray(x))
    for j in range(p):
        out = out + digamma_kernel(x - j / 2.0)
    return out


# ---- incomplete gamma


def _igamma_series(a, x, iters=2000):
    """P(a, x) by its series, for x < a + 1."""
    term = 1.0 / a
    total = term.copy()
    ap = a.copy()
    for _ in range(iters):
        ap = ap + 1.0
        term = term * x / ap
        total = total + term
        if np.all(np.abs(term) <= np.abs(total) * 1e-17):
            break
    return total * np.exp(a * np.log(x) - x - lgamma_kernel(a))


def _igammac_cf(a, x, iters=2000):
    """Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, iters):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) <= 1e-16):
            break
    return np.exp(a * np.log(x) - x - lgamma_kernel(a)) * h


def _igamma_pair(a, x):
    a, x = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64))
    a, x = a.copy(), x.copy()
    ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    use_series = ok & (x < a + 1.0)
    use_cf = ok & ~use_series
    p = np.zeros_like(a)
    q = np.zeros_like(a)
    if use_series.any():
        p[use_series] = _igamma_series(a[use_series], x[use_series])
        q[use_series] = 1.0 - p[use_series]
    if use_cf.any():
        q[use_cf] = _igammac_cf(a[use_cf], x[use_cf])
        p[use_cf] = 1.0 - q[use_cf]
    return a, x, p, q


def _igamma_edges(a, x, out, lower: bool):
    nan = (a < 0) | (x < 0) | np.isnan(a) | np.isnan(x)
    one, zero = (1.0, 0.0) if lower else (0.0, 1.0)
    out = np.where((a == 0) & (x > 0), one, out)
    out = np.where(x == 0, zero, out)
    out = np.where(np.isposinf(a) & np.isfinite(x), zero, out)
    out = np.where(np.isposinf(x) & np.isfinite(a), one, out)
    out = np.where(np.isposinf(x) & np.isposinf(a), np.nan, out)
    out = np.where((a == 0) & (x == 0), np.nan, out)
    return np.where(nan, np.nan, out)


def igamma_kernel(a, x):
    a, x, p, q = _igamma_pair(a, x)
    return _igamma_edges(a, x, p, True)


def igammac_kernel(a, x):
    a, x, p, q = _igamma_pair(a, x)
    return _igamma_edges(a, x, q, False)


# ---- ops


def _lgamma_vjp(xp, g, out, x):
    return g * call(xp, digamma, digamma_kernel, x)


def _digamma_vjp(xp, g, out, x):
    return g * call(xp, lambda t: polygamma(1, t), lambda a: polygamma_kernel(a, 1), x)


def _polygamma_vjp(xp, g, out, x, n):
    return g * call(xp, lambda t: polygamma(n + 1, t), lambda a: polygamma_kernel(a, n + 1), x)


def _mvlgamma_vjp(xp, g, out, x, p):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        total = digamma(x)
        for j in range(1, p):
            total = total + digamma(x - j / 2.0)
        return g * total
    return g * run(lambda a: _mvdigamma(a, p), x)


LGAMMA = unary("special_lgamma", lambda xp, x: run(lgamma_kernel, x), _lgamma_vjp,
               elementwise=True, node_name="LgammaBackward0", explain="grad * digamma(x)")
DIGAMMA = unary("special_digamma", lambda xp, x: run(digamma_kernel, x), _digamma_vjp,
                elementwise=True, node_name="DigammaBackward0",
                explain="grad * polygamma(1, x)")
POLYGAMMA = unary("special_polygamma", lambda xp, x, n: run(lambda a: polygamma_kernel(a, n), x),
                  _polygamma_vjp, elementwise=True, node_name="PolygammaBackward0",
                  explain="grad * polygamma(n + 1, x)")
MVLGAMMA = unary("special_mvlgamma", lambda xp, x, p: run(lambda a: mvlgamma_kernel(a, p), x),
                 _mvlgamma_vjp, elementwise=True, node_name="MvlgammaBackward0",
                 explain="grad * sum_j digamma(x - j/2)")


def lgamma(input):
    """The log of the absolute value of the gamma function, elementwise; its gradient is
    ``digamma``.

    Example:
        >>> import gradwalk
        >>> gradwalk.lgamma(gradwalk.tensor([0.5, 3.0]))
        tensor([0.5724, 0.6931])
    """
    return apply1(LGAMMA, as_input(input, "lgamma"))


def digamma(input):
    """The logarithmic derivative of the gamma function, elementwise (NaN at the negative
    integers, -inf at 0); its gradient is ``polygamma(1, x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.digamma(gradwalk.tensor([1.0, 2.0]))
        tensor([-0.5772,  0.4228])
    """
    return apply1(DIGAMMA, as_input(input, "digamma"))


def polygamma(n: int, input):
    """The ``n``-th derivative of ``digamma``, elementwise; its gradient is
    ``polygamma(n + 1, x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.polygamma(1, gradwalk.tensor([1.0]))
        tensor([1.6449])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' must be an int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    return apply1(POLYGAMMA, as_input(input, "polygamma"), {"n": int(n)})


def mvlgamma(input, p: int):
    """The multivariate log-gamma function of dimension ``p``, elementwise:
    ``p(p-1)/4 log(pi) + sum_j lgamma(x - j/2)``. As in PyTorch, elements at or below
    ``(p-1)/2`` (outside the function's domain) are not refused: the sum is computed there.

    Example:
        >>> import gradwalk
        >>> gradwalk.mvlgamma(gradwalk.tensor([2.5]), 2)
        tensor([0.8570])
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise RuntimeError(f"mvlgamma(): p has to be greater than or equal to 1, got {p!r}")
    input = as_input(input, "mvlgamma")
    return apply1(MVLGAMMA, input, {"p": int(p)})


def zeta(input, other):
    """The Hurwitz zeta function ``sum_k (other + k) ** -input``, elementwise (no gradient, as
    in PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.special.zeta(gradwalk.tensor([2.0]), gradwalk.tensor([1.0]))
        tensor([1.6449])
    """
    a, b = float_pair(input, other, "zeta")
    return forward_only("zeta", zeta_kernel, a, b)


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other), elementwise (no
    gradient, as PyTorch's OpInfo has none).

    Example:
        >>> import gradwalk
        >>> gradwalk.igamma(gradwalk.tensor([1.0]), gradwalk.tensor([1.0]))
        tensor([0.6321])
    """
    a, b = float_pair(input, other, "igamma")
    return forward_only("igamma", igamma_kernel, a, b)


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P, elementwise.

    Example:
        >>> import gradwalk
        >>> gradwalk.igammac(gradwalk.tensor([1.0]), gradwalk.tensor([1.0]))
        tensor([0.3679])
    """
    a, b = float_pair(input, other, "igammac")
    return forward_only("igammac", igammac_kernel, a, b)
