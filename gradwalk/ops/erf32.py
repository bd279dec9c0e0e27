"""A fast ``erf`` for float32 arrays (Note [fast erfc]), GELU's: NumPy has none."""

from __future__ import annotations

import numpy as np

from . import kernels as K


def erf(xp, x):
    """``erf``; for first-order NumPy arrays of float32 or narrower by Note [fast erfc]."""
    if not (xp is np and type(x) is np.ndarray and x.dtype.kind == "f" and x.itemsize <= 4):
        return K.erf(xp, x)
    flat = x.reshape(-1)
    res = np.empty(flat.shape, x.dtype)
    for i in range(0, flat.shape[0], _ERF_BLOCK):
        part = flat[i:i + _ERF_BLOCK]
        r = _erfc32(np.abs(part))
        np.subtract(1.0, r, out=r)
        np.copysign(r, part, out=res[i:i + _ERF_BLOCK])
    return res.reshape(x.shape)


# Note [fast erfc]
#     NumPy has no erf, and without SciPy ``K.erf`` calls ``math.erf`` per element (about 50 ns
#     each: most of a GPT step's time went to GELU). For float32 and narrower inputs, GELU uses
#     the Chebyshev fit of erfc from Numerical Recipes (``erfcc``: fractional error below
#     1.2e-7 everywhere, about one float32 ulp), computed in the input's precision; GELU keeps
#     PyTorch's form ``x / 2 * (1 + erf(x / sqrt(2)))``, so its float32 results round as
#     PyTorch's do (exactly 0 below about -5.54). float64 keeps the exact ``erf``. The fit runs
#     over blocks of 32,768 values, so that its dozen passes stay in the cache, and the forward
#     keeps the normal CDF it computed in the node's ``params`` (the ``cdf`` list ``gelu`` passes),
#     so the first-order rule does not evaluate it again (under ``create_graph`` the rule
#     recomputes it with the differentiable namespace).
_ERF_BLOCK = 1 << 15
_ERFC_COEFFS = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
                0.09678418, 0.37409196, 1.00002368, -1.26551223)


def _erfc32(z):
    """erfc of ``z >= 0`` (Horner's scheme in place: one temporary)."""
    t = 0.5 * z
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERFC_COEFFS[0]
    for c in _ERFC_COEFFS[1:-1]:
        poly += c
        poly *= t
    poly += _ERFC_COEFFS[-1]
    poly -= z * z
    np.exp(poly, out=poly)
    poly *= t
    return poly
