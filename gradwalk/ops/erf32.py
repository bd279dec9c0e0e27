"""A fast ``erf`` for float32 arrays (Note [fast erfc]) and GELU's float32 kernel (Note [float32
gelu]): NumPy has no erf."""

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
#     each: most of a GPT step's time went to GELU). For float16 (and 0-d float32) inputs, GELU
#     uses the Chebyshev fit of erfc from Numerical Recipes (``erfcc``: fractional error below
#     1.2e-7 everywhere, about one float32 ulp), computed in the input's precision; GELU keeps
#     PyTorch's form ``x / 2 * (1 + erf(x / sqrt(2)))``, so its results round as PyTorch's do
#     (exactly 0 below about -5.54). float32 arrays take Note [float32 gelu] instead (fewer
#     passes, PyTorch's own formula); float64 keeps the exact ``erf``. The fit runs
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


# Note [float32 gelu]
#     PyTorch's CPU GELU does not call its accurate ``erf``: its vectorized kernel evaluates
#     Abramowitz & Stegun 7.1.26, ``erf(z) = sign(z) (1 - t p(t) exp(-z^2))`` with
#     ``t = 1 / (1 + 0.3275911 |z|)`` and a degree-5 ``t p(t)`` (absolute error below 1.5e-7),
#     in float32. ``gelu32`` evaluates the same formula in float32 with NumPy, in place on its
#     own buffers (about 25 passes, one ``exp``): its values are within a float32 rounding of
#     PyTorch's (they differ only where PyTorch fuses a multiply-add), and, as PyTorch's, exactly
#     0 below about -5.54. ``exp(-x^2 / 2)`` is the normal density up to a constant, so the
#     forward also gives the derivative ``cdf + x pdf`` at the cost of three more passes; the
#     rule keeps it (the ``cdf`` list of the node's ``params``, with the input it came from: a
#     rule given another array recomputes) and its backward is one multiply.
#     The sign is copied with integer bit operations (``np.copysign`` is several times slower
#     here). Used for first-order NumPy float32 arrays only; other dtypes and namespaces take
#     the composite formula of ``nn.py``.
_AS_P = 0.3275911
_AS_COEFFS = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
_AS_INV_A = 1.4142135623730951 / _AS_P
_AS_HALF = tuple(c / 2 for c in _AS_COEFFS)
_SIGN32 = np.uint32(0x80000000)


def gelu32(x, want_dx: bool):
    """``(gelu(x), gelu'(x) or None)`` for a float32 NumPy array ``x`` (Note [float32 gelu])."""
    x = np.ascontiguousarray(x)
    f = np.float32
    t = np.abs(x)  # t = 1 / (1 + a |x|) = (1 / a) / (1 / a + |x|), a = p / sqrt(2)
    t += f(_AS_INV_A)
    np.divide(f(_AS_INV_A), t, out=t)
    r = t * f(_AS_HALF[0])  # r = t p(t) / 2 (halved coefficients: exact), Horner
    for c in _AS_HALF[1:]:
        r += f(c)
        r *= t
    e = np.multiply(x, x)  # e = exp(-x^2 / 2) = exp(-z^2)
    e *= f(-0.5)
    np.exp(e, out=e)
    r *= e
    np.subtract(f(0.5), r, out=r)  # r = |erf(z)| / 2, rounded as PyTorch's (1 - t p e) / 2
    bits = t.view(np.uint32)  # t's buffer is free: r = sign(x) |erf(z)| / 2
    np.bitwise_and(x.view(np.uint32), _SIGN32, out=bits)
    rb = r.view(np.uint32)
    np.bitwise_or(rb, bits, out=rb)
    r += f(0.5)  # r = (1 + erf(z)) / 2: the normal CDF
    y = x * r
    if not want_dx:
        return y, None
    e *= f(0.3989422804014327)  # 1 / sqrt(2 pi): the pdf
    e *= x
    e += r
    return y, e
