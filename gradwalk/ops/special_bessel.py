"""Bessel and Airy functions of real arguments.

``i0``, ``i0e``, ``i1``, ``i1e`` are differentiable ops (PyTorch's rules: ``i0' = i1``,
``i1' = i0 - i1/x``...); the others (``bessel_j0/j1/y0/y1``, ``modified_bessel_i0/i1/k0/k1``, the
scaled ``k0``/``k1``, ``spherical_bessel_j0``, ``airy_ai``) are forward only, as in PyTorch.

Kernels (Note [special-function accuracy] in ``special_common.py``):

* I0, I1: the power series (positive terms, no cancellation) for |x| <= 30, the asymptotic
  expansion ``e**x / sqrt(2 pi x) * sum (-1)**k a_k / x**k`` above;
* J0, J1, Y0, Y1: the power series (Y with its logarithmic term) for |x| <= 14, where the
  cancellation costs at most 1e-10 absolute, and Hankel's asymptotic expansion above;
* K0, K1 (and the Airy function for x > 2, through K_{1/3}): the series below x = 2 and above
  it the trapezoidal rule on ``K_nu(x) = int_0^inf exp(-x cosh t) cosh(nu t) dt``, which
  converges exponentially in the step for this analytic, doubly decaying integrand;
* Ai: its Maclaurin series on [-7, 2] and the oscillatory asymptotic expansion below -7.
"""

from __future__ import annotations

import math

import numpy as np

from .registry import apply1, unary
from .special_common import as_input, call, forward_only, run

_EULER = 0.57721566490153286061
_NTERMS = 90


def _series_i(x, nu: int):
    """sum_k (x/2)**(2k+nu) / (k! (k+nu)!) for |x| <= 30."""
    q = x * x / 4.0
    term = np.ones_like(x) if nu == 0 else x / 2.0
    total = term.copy()
    for k in range(1, _NTERMS):
        term = term * q / (k * (k + nu))
        total = total + term
    return total


def _asym_i_scaled(x, nu: int):
    """exp(-x) I_nu(x) for x > 30 (asymptotic expansion)."""
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    total = term.copy()
    for k in range(1, 30):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total = total + term
    return total / np.sqrt(2.0 * np.pi * x)


def _i_scaled(x, nu: int):
    """exp(-|x|) I_nu(x)."""
    ax = np.abs(x)
    small = ax <= 30.0
    xs = np.where(small, ax, 0.0)
    xl = np.where(small, 31.0, ax)
    out = np.where(small, np.exp(-xs) * _series_i(xs, nu), _asym_i_scaled(xl, nu))
    return np.where(x < 0, -out, out) if nu == 1 else out


def i0e_kernel(x):
    return np.where(np.isinf(x), 0.0, _i_scaled(x, 0))


def i1e_kernel(x):
    return np.where(np.isinf(x), 0.0, _i_scaled(x, 1))


def i0_kernel(x):
    ax = np.abs(x)
    small = ax <= 30.0
    big = np.exp(ax - 0.5 * np.log(2.0 * np.pi * np.where(small, 31.0, ax))) * np.sqrt(
        2.0 * np.pi * np.where(small, 31.0, ax)) * _asym_i_scaled(np.where(small, 31.0, ax), 0)
    return np.where(small, _series_i(np.where(small, ax, 0.0), 0), big)


def i1_kernel(x):
    ax = np.abs(x)
    small = ax <= 30.0
    xl = np.where(small, 31.0, ax)
    big = np.exp(xl - 0.5 * np.log(2.0 * np.pi * xl)) * np.sqrt(2.0 * np.pi * xl) * \
        _asym_i_scaled(xl, 1)
    out = np.where(small, _series_i(np.where(small, ax, 0.0), 1), big)
    return np.where(x < 0, -out, out)


# ---- J and Y


def _series_j(x, nu: int):
    q = -x * x / 4.0
    term = np.ones_like(x) if nu == 0 else x / 2.0
    total = term.copy()
    for k in range(1, 60):
        term = term * q / (k * (k + nu))
        total = total + term
    return total


def _series_y(x, nu: int):
    """Y_nu for 0 < x <= 14 (A&S 9.1.11)."""
    q = -x * x / 4.0
    j = _series_j(x, nu)
    logt = 2.0 / np.pi * np.log(x / 2.0) * j
    if nu == 0:
        term = np.ones_like(x)
        h = 0.0
        total = np.zeros_like(x)
        for k in range(1, 60):
            term = term * q / (k * k)
            h += 1.0 / k
            total = total + h * term
        return logt + 2.0 / np.pi * (_EULER * j - total)
    term = x / 2.0
    psi = -_EULER + (-_EULER + 1.0)  # psi(1) + psi(2)
    total = psi * term
    h1, h2 = 0.0, 1.0
    for k in range(1, 60):
        term = term * q / (k * (k + 1))
        h1 += 1.0 / k
        h2 += 1.0 / (k + 1)
        total = total + (-2.0 * _EULER + h1 + h2) * term
    return logt - 2.0 / (np.pi * x) - total / np.pi


def _hankel(x, nu: int):
    """(P, Q) of Hankel's expansion, for x > 14."""
    mu = 4.0 * nu * nu
    p = np.ones_like(x)
    q = np.zeros_like(x)
    term = np.ones_like(x)
    for k in range(1, 28):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q = q + (term if (k // 2) % 2 == 0 else -term)
        else:
            p = p + (term if (k // 2) % 2 == 0 else -term)
    return p, q


def _jy(x, nu: int, kind: str):
    ax = np.abs(x)
    small = ax <= 14.0
    xs = np.where(small, ax, 1.0)
    xl = np.where(small, 15.0, ax)
    p, q = _hankel(xl, nu)
    chi = xl - (nu / 2.0 + 0.25) * np.pi
    amp = np.sqrt(2.0 / (np.pi * xl))
    if kind == "j":
        big = amp * (p * np.cos(chi) - q * np.sin(chi))
        out = np.where(small, _series_j(xs, nu), big)
        out = np.where(ax == 0, 1.0 if nu == 0 else 0.0, out)
        out = np.where(np.isinf(x), 0.0, out)
        return np.where(x < 0, -out, out) if nu == 1 else out
    big = amp * (p * np.sin(chi) + q * np.cos(chi))
    out = np.where(small, _series_y(xs, nu), big)
    out = np.where(np.isposinf(x), 0.0, out)
    out = np.where(x == 0, -np.inf, out)
    return np.where(x < 0, np.nan, out)


def j0_kernel(x):
    return _jy(x, 0, "j")


def j1_kernel(x):
    return _jy(x, 1, "j")


def y0_kernel(x):
    return _jy(x, 0, "y")


def y1_kernel(x):
    return _jy(x, 1, "y")


# ---- K


def _k_integral_scaled(x, nu: float):
    """exp(x) K_nu(x) for x >= 1.5: trapezoidal rule on int exp(-x (cosh t - 1)) cosh(nu t)."""
    h = 0.05
    t_max = float(np.max(np.arccosh(1.0 + 60.0 / np.min(x)))) + 1.0 + abs(nu)
    t = np.arange(0.0, t_max + h, h)
    w = np.full(t.shape, h)
    w[0] = h / 2
    s = np.sinh(t / 2.0)
    e = np.exp(-np.multiply.outer(x, 2.0 * s * s)) * np.cosh(nu * t)
    return e @ w


def _k_series(x, nu: int):
    """K_nu for 0 < x <= 2 (A&S 9.6.11)."""
    q = x * x / 4.0
    i = _series_i(x, nu)
    if nu == 0:
        term = np.ones_like(x)
        h = 0.0
        total = np.zeros_like(x)
        for k in range(1, 40):
            term = term * q / (k * k)
            h += 1.0 / k
            total = total + h * term
        return -(np.log(x / 2.0) + _EULER) * i + total
    term = x / 2.0
    total = (1.0 - 2.0 * _EULER) * term
    h1, h2 = 0.0, 1.0
    for k in range(1, 40):
        term = term * q / (k * (k + 1))
        h1 += 1.0 / k
        h2 += 1.0 / (k + 1)
        total = total + (-2.0 * _EULER + h1 + h2) * term
    return 1.0 / x + np.log(x / 2.0) * i - 0.5 * total


def _k_scaled(x, nu: int):
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    small = (x > 0) & (x <= 2.0)
    out[small] = np.exp(x[small]) * _k_series(x[small], nu)
    big = (x > 2.0) & np.isfinite(x)
    if big.any():
        out[big] = _k_integral_scaled(x[big], float(nu))
    out[x == 0] = np.inf
    out[np.isposinf(x)] = 0.0
    return out


def k0e_kernel(x):
    return _k_scaled(x, 0)


def k1e_kernel(x):
    return _k_scaled(x, 1)


def k0_kernel(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(np.isposinf(x), 0.0, _k_scaled(x, 0) * np.exp(-np.asarray(x)))


def k1_kernel(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(np.isposinf(x), 0.0, _k_scaled(x, 1) * np.exp(-np.asarray(x)))


def spherical_j0_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 0.5
    xs = np.where(small, 1.0, x)
    x2 = x * x
    series = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (
        1.0 - x2 / 110.0 * (1.0 - x2 / 156.0)))))
    return np.where(np.isinf(x), 0.0, np.where(small, series, np.sin(xs) / xs))


# ---- Airy

_AI0 = 0.355028053887817239260  # Ai(0)
_AIP0 = 0.258819403792806798405  # -Ai'(0)


def _airy_series(x):
    x3 = x * x * x
    f = np.ones_like(x)
    g = x.copy()
    tf, tg = f.copy(), g.copy()
    for k in range(1, 60):
        tf = tf * x3 / ((3 * k - 1) * (3 * k))
        tg = tg * x3 / ((3 * k) * (3 * k + 1))
        f = f + tf
        g = g + tg
    return _AI0 * f - _AIP0 * g


def _airy_negative(x):
    """Ai(x) for x < -7 (asymptotic expansion)."""
    z = -x
    zeta = 2.0 / 3.0 * z * np.sqrt(z)
    u = 1.0
    p = np.ones_like(z)
    q = np.zeros_like(z)
    power = np.ones_like(z)
    for k in range(1, 16):
        u = u * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216.0 * k)
        power = power / zeta
        term = u * power
        sign = 1.0 if (k // 2) % 2 == 0 else -1.0
        if k % 2:
            q = q + sign * term
        else:
            p = p + sign * term
    phase = zeta + np.pi / 4.0
    return (np.sin(phase) * p - np.cos(phase) * q) / (np.sqrt(np.pi) * np.sqrt(np.sqrt(z)))


def airy_ai_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    mid = (x >= -7.0) & (x <= 2.0)
    out[mid] = _airy_series(x[mid])
    neg = (x < -7.0) & np.isfinite(x)
    out[neg] = _airy_negative(x[neg])
    pos = (x > 2.0) & (x <= 103.892)
    if pos.any():
        xp_ = x[pos]
        zeta = 2.0 / 3.0 * xp_ * np.sqrt(xp_)
        out[pos] = np.sqrt(xp_ / 3.0) / np.pi * _k_integral_scaled(zeta, 1.0 / 3.0) * np.exp(
            -zeta)
    out[x > 103.892] = 0.0
    out[np.isneginf(x)] = 0.0
    return out


# ---- the differentiable ops


def _i0_vjp(xp, g, out, x):
    return g * call(xp, i1, i1_kernel, x)


def _i0e_vjp(xp, g, out, x):
    return g * (call(xp, i1e, i1e_kernel, x) - xp.sign(x) * out)


def _i1_vjp(xp, g, out, x):
    safe = xp.where(x == 0.0, 1.0, x)
    return g * xp.where(x == 0.0, 0.5, call(xp, i0, i0_kernel, x) - out / safe)


def _i1e_vjp(xp, g, out, x):
    safe = xp.where(x == 0.0, 1.0, x)
    return g * xp.where(x == 0.0, 0.5, call(xp, i0e, i0e_kernel, x)
                        - out * (xp.sign(x) + 1.0 / safe))


I0 = unary("special_i0", lambda xp, x: run(i0_kernel, x), _i0_vjp, elementwise=True,
           node_name="I0Backward0", explain="grad * i1(x)")
I0E = unary("special_i0e", lambda xp, x: run(i0e_kernel, x), _i0e_vjp, save_out=True,
            elementwise=True, node_name="SpecialI0EBackward0",
            explain="grad * (i1e(x) - sign(x) * out)")
I1 = unary("special_i1", lambda xp, x: run(i1_kernel, x), _i1_vjp, save_out=True,
           elementwise=True, node_name="SpecialI1Backward0", explain="grad * (i0(x) - out / x)")
I1E = unary("special_i1e", lambda xp, x: run(i1e_kernel, x), _i1e_vjp, save_out=True,
            elementwise=True, node_name="SpecialI1EBackward0",
            explain="grad * (i0e(x) - out * (sign(x) + 1/x))")


def i0(input):
    """The modified Bessel function of the first kind of order 0; its gradient is ``i1``.

    Example:
        >>> import gradwalk
        >>> gradwalk.i0(gradwalk.tensor([0.0, 1.0]))
        tensor([1.0000, 1.2661])
    """
    return apply1(I0, as_input(input, "i0"))


def i0e(input):
    """``exp(-|x|) * i0(x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.i0e(gradwalk.tensor([0.0, 1.0]))
        tensor([1.0000, 0.4658])
    """
    return apply1(I0E, as_input(input, "i0e"))


def i1(input):
    """The modified Bessel function of the first kind of order 1.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.i1(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.5652])
    """
    return apply1(I1, as_input(input, "i1"))


def i1e(input):
    """``exp(-|x|) * i1(x)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.special.i1e(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.2079])
    """
    return apply1(I1E, as_input(input, "i1e"))


def _forward(name, kernel):
    def function(input):
        return forward_only(name, kernel, as_input(input, name))

    function.__name__ = function.__qualname__ = name
    return function


FORWARD_ONLY = {
    "bessel_j0": j0_kernel, "bessel_j1": j1_kernel, "bessel_y0": y0_kernel,
    "bessel_y1": y1_kernel, "modified_bessel_i0": i0_kernel, "modified_bessel_i1": i1_kernel,
    "modified_bessel_k0": k0_kernel, "modified_bessel_k1": k1_kernel,
    "scaled_modified_bessel_k0": k0e_kernel, "scaled_modified_bessel_k1": k1e_kernel,
    "spherical_bessel_j0": spherical_j0_kernel, "airy_ai": airy_ai_kernel,
}
FUNCTIONS = {name: _forward(name, kernel) for name, kernel in FORWARD_ONLY.items()}
_ = math
