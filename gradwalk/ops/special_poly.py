"""The classical orthogonal polynomials of ``gradwalk.special``, forward only (as PyTorch).

Each is ``name(input, n)`` with ``input`` the point and ``n`` the degree (a tensor or a number,
broadcast together). As in PyTorch the degree is truncated to an integer, a negative (or NaN, or
infinite) degree gives 0, and a Hermite polynomial of degree above 512 is NaN. The
values come from the three-term recurrences, run to the largest degree present and picked per
element:

=====================  =============================  ====================
polynomial             recurrence                     start (y0, y1)
=====================  =============================  ====================
Chebyshev T, U, V, W   y' = 2x y - y_prev             1; x, 2x, 2x-1, 2x+1
Hermite H (physics)    y' = 2x y - 2k y_prev          1; 2x
Hermite He (prob.)     y' = x y - k y_prev            1; x
Laguerre L             y' = ((2k+1-x) y - k y_prev)/(k+1)  1; 1-x
Legendre P             y' = ((2k+1) x y - k y_prev)/(k+1)  1; x
=====================  =============================  ====================

The shifted Chebyshev polynomials are the Chebyshev ones at ``2x - 1``.
"""

from __future__ import annotations

import numpy as np

from . import registry
from .special_common import float_pair, forward_only

_MAX_DEGREE = 1 << 16


def _degree(n):
    """PyTorch's ``static_cast<int64_t>(n)``: truncation, with NaN/inf taken as -1."""
    n = np.asarray(n, dtype=np.float64)
    ok = np.isfinite(n)
    return np.where(ok, np.trunc(np.where(ok, n, -1.0)), -1.0).astype(np.int64)


def _recurrence(x, n, start1, step):
    """y_n(x) per element from y_0 = 1, y_1 = start1(x) and y_{k+1} = step(k, x, y_k, y_{k-1})."""
    x, n = np.broadcast_arrays(np.asarray(x, dtype=np.float64),
                               n if np.asarray(n).dtype == np.int64 else _degree(n))
    top = int(n.max()) if n.size else 0
    if top > _MAX_DEGREE:
        raise RuntimeError(f"orthogonal polynomial of degree {top}: degrees above "
                           f"{_MAX_DEGREE} are not supported")
    out = np.where(n == 0, 1.0, 0.0)
    prev = np.ones_like(x)
    cur = start1(x)
    out = np.where(n == 1, cur, out)
    for k in range(1, top):
        prev, cur = cur, step(k, x, cur, prev)
        out = np.where(n == k + 1, cur, out)
    return out


def _cheb(start1):
    return lambda x, n: _recurrence(x, n, start1, lambda k, x, y, yp: 2.0 * x * y - yp)


def _chebyshev_at_one(kind, x, n, out):
    """PyTorch's exact values at x = +-1 (the recurrence agrees up to rounding)."""
    n = np.broadcast_to(_degree(n), out.shape)
    x = np.broadcast_to(x, out.shape)
    odd = n % 2 == 1
    if kind == "t":
        at_m1 = np.where(odd, -1.0, 1.0)
        at_p1 = np.ones_like(out)
    elif kind == "u":
        at_m1 = np.where(odd, -(n + 1.0), n + 1.0)
        at_p1 = n + 1.0
    elif kind == "v":
        at_m1 = np.where(odd, -(2.0 * n + 1), 2.0 * n + 1)
        at_p1 = np.ones_like(out)
    else:
        at_m1 = np.where(odd, -1.0, 1.0)
        at_p1 = 2.0 * n + 1
    out = np.where((x == 1.0) & (n >= 0), at_p1, out)
    return np.where((x == -1.0) & (n >= 0), at_m1, out)


_STARTS = {"t": lambda x: x, "u": lambda x: 2.0 * x, "v": lambda x: 2.0 * x - 1.0,
           "w": lambda x: 2.0 * x + 1.0}


def _chebyshev(kind, shifted=False):
    def kernel(x, n):
        y = 2.0 * x - 1.0 if shifted else x
        return _chebyshev_at_one(kind, y, n, _cheb(_STARTS[kind])(y, n))

    return kernel


_HERMITE_LIMIT = 512  # PyTorch's: Hermite polynomials of higher degree are NaN in float64


def _hermite(x, n, start1, step):
    deg = _degree(n)
    capped = np.where(deg > _HERMITE_LIMIT, -1, deg)
    out = _recurrence(x, capped, start1, step)
    return np.where(np.broadcast_to(deg, out.shape) > _HERMITE_LIMIT, np.nan, out)


def _hermite_h(x, n):
    return _hermite(x, n, lambda x: 2.0 * x, lambda k, x, y, yp: 2.0 * x * y - 2.0 * k * yp)


def _hermite_he(x, n):
    return _hermite(x, n, lambda x: x, lambda k, x, y, yp: x * y - k * yp)


def _laguerre(x, n):
    out = _recurrence(x, n, lambda x: 1.0 - x,
                      lambda k, x, y, yp: ((2.0 * k + 1.0 - x) * y - k * yp) / (k + 1.0))
    return np.where((x == 0) & (_degree(n) >= 0), 1.0, out)


def _legendre(x, n):
    out = _recurrence(x, n, lambda x: x,
                      lambda k, x, y, yp: ((2.0 * k + 1.0) * x * y - k * yp) / (k + 1.0))
    nn = np.broadcast_to(_degree(n), out.shape)
    xx = np.broadcast_to(x, out.shape)
    out = np.where((xx == 1.0) & (nn >= 0), 1.0, out)
    return np.where((xx == -1.0) & (nn >= 0), np.where(nn % 2 == 1, -1.0, 1.0), out)


KERNELS = {
    "chebyshev_polynomial_t": _chebyshev("t"), "chebyshev_polynomial_u": _chebyshev("u"),
    "chebyshev_polynomial_v": _chebyshev("v"), "chebyshev_polynomial_w": _chebyshev("w"),
    "shifted_chebyshev_polynomial_t": _chebyshev("t", True),
    "shifted_chebyshev_polynomial_u": _chebyshev("u", True),
    "shifted_chebyshev_polynomial_v": _chebyshev("v", True),
    "shifted_chebyshev_polynomial_w": _chebyshev("w", True),
    "hermite_polynomial_h": _hermite_h, "hermite_polynomial_he": _hermite_he,
    "laguerre_polynomial_l": _laguerre, "legendre_polynomial_p": _legendre,
}


def _function(name, kernel):
    def function(input, n):
        x, deg = float_pair(input, n, name)
        return forward_only(name, kernel, x, deg)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"``{name}(input, n)``: the polynomial of degree ``n`` (truncated to an "
                        "integer; 0 for a negative degree) at ``input``, forward only.")
    return function


FUNCTIONS = {name: _function(name, kernel) for name, kernel in KERNELS.items()}
_ = registry
