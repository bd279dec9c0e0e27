"""The discrete Fourier transforms as ops: complex-to-complex, real-to-complex (one-sided),
complex-to-real, their adjoints, and the shifts.

Note [the fft ops and their adjoints]
    Each transform is linear (over the reals), so its reverse rule is its adjoint for the real
    inner product ``Re(sum(conj(a) * b))``, which is PyTorch's gradient convention, and its
    forward rule is the op itself. Every op first resizes its input along the transformed
    axes (``fit``: trim, or pad with zeros) to the sizes ``s`` the transform takes; the adjoint
    of a resize is the resize back. ``dual`` swaps the "backward" and "forward" norms (the
    adjoint of an unnormalized transform is the unnormalized inverse):

    * ``C2C``: ``fftn``/``ifftn`` of ``fit(x)``; adjoint: the other direction under the dual
      norm, resized back to the input's sizes (``C2C`` again, with the sizes swapped);
    * ``R2C``: ``rfftn(fit(x))`` of a real ``x``, one-sided on the last axis; adjoint ``R2C_T``:
      ``unfit(Re(ifftn(pad(g), dual norm)))``, ``pad`` filling the missing half with zeros
      (PyTorch's ``fft_r2c_backward``);
    * ``C2R``: ``irfftn(fit(x), s)`` of a real or complex one-sided spectrum; adjoint ``C2R_T``:
      ``unfit(D * rfftn(g, dual norm))``, ``D`` doubling the bins of the last axis that the
      Hermitian completion used twice (1 .. n - n//2 - 1): PyTorch's ``fft_c2r_backward``. A
      real ``x`` gets its real part (the engine's ``_fit``).

    ``R2C_T``'s adjoint is ``R2C`` and ``C2R_T``'s is ``C2R``, so each rule, under
    ``create_graph``, is an op too: gradients of any order. Results have the input's
    precision (float32 and complex64 together, float64 and complex128).
"""

from __future__ import annotations

import numpy as np

from . import registry as _registry
from .complex import _native
from .registry import apply, declare

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_C = {np.dtype(np.float32): np.complex64, np.dtype(np.complex64): np.complex64}
_R = {np.dtype(np.float32): np.float32, np.dtype(np.complex64): np.float32}


def _cdt(x):
    return _C.get(x.dtype, np.complex128)


def _rdt(x):
    return _R.get(x.dtype, np.float64)


def _resize(a, sizes, axes):
    """``a`` trimmed or zero-padded along ``axes`` to ``sizes``."""
    for ax, want in zip(axes, sizes):
        n = a.shape[ax]
        if n > want:
            a = np.take(a, np.arange(want), axis=ax)
        elif n < want:
            widths = [(0, 0)] * a.ndim
            widths[ax] = (0, want - n)
            a = np.pad(a, widths)
    return a


def _half(s):
    return tuple(s[:-1]) + (s[-1] // 2 + 1,)


def _batched(f):
    """``f(x, axes, ...)`` on plain arrays, and under ``vmap`` on the physical array with the
    axes shifted past the batch dim, the result batched again."""

    def run(x, axes, *args):
        batched = _registry._Batched
        if batched is not None and type(x) is batched:
            out = f(x._a, tuple(a + 1 for a in axes), *args)
            return batched(out, x._level)
        return f(np.asarray(x), tuple(axes), *args)

    return run


def _is_dxp(xp) -> bool:
    return getattr(xp, "IS_DIFFERENTIABLE", False)


# ---- complex to complex


@_batched
def _c2c(x, axes, forward, norm, s, out_sizes):
    y = (np.fft.fftn if forward else np.fft.ifftn)(_resize(x, s, axes), axes=axes, norm=norm)
    return np.ascontiguousarray(_resize(y, out_sizes, axes)).astype(_cdt(x), copy=False)


def _c2c_vjp(xp, g, out, x, axes, forward, norm, s, out_sizes, in_sizes):
    params = (axes, not forward, _DUAL[norm], s, in_sizes)
    if _is_dxp(xp):
        return c2c(g, *params)
    return _c2c(g, *params)


C2C = declare("fft_c2c",
              lambda xp, x, axes, forward, norm, s, out_sizes, in_sizes: (
                  c2c if _is_dxp(xp) else _c2c)(x, axes, forward, norm, s, out_sizes),
              _c2c_vjp, saves=(), linear=True, node_name="FftC2CBackward0",
              explain="the inverse-direction transform of grad under the dual norm, resized "
                      "back (Note [the fft ops and their adjoints])")


def c2c(x, axes, forward, norm, s, out_sizes=None):
    """``fftn`` (``forward``) or ``ifftn`` of the complex tensor ``x`` resized to ``s`` along
    ``axes``; the result resized to ``out_sizes`` (``s`` by default)."""
    out_sizes = tuple(s) if out_sizes is None else tuple(out_sizes)
    in_sizes = tuple(x.shape[a] for a in axes)
    return apply(C2C, x, params={"axes": tuple(axes), "forward": bool(forward), "norm": norm,
                                 "s": tuple(s), "out_sizes": out_sizes, "in_sizes": in_sizes})


# ---- real to complex (one-sided) and its adjoint


@_batched
def _r2c(x, axes, norm, s):
    y = np.fft.rfftn(_resize(x, s, axes), s=s, axes=axes, norm=norm)
    return y.astype(_cdt(x), copy=False)


@_batched
def _r2c_t(g, axes, norm, s, in_sizes):
    full = _resize(g, s, axes)  # the missing half of the last axis: zeros
    y = np.fft.ifftn(full, axes=axes, norm=_DUAL[norm]).real
    return np.ascontiguousarray(_resize(y, in_sizes, axes)).astype(_rdt(g), copy=False)


def _r2c_vjp(xp, g, out, x, axes, norm, s, in_sizes):
    return r2c_t(g, axes, norm, s, in_sizes) if _is_dxp(xp) else _r2c_t(g, axes, norm, s,
                                                                           in_sizes)


def _r2c_t_vjp(xp, g, out, x, axes, norm, s, in_sizes):
    return r2c(g, axes, norm, s) if _is_dxp(xp) else _r2c(g, axes, norm, s)


R2C = declare("fft_r2c", lambda xp, x, axes, norm, s, in_sizes: (
                  r2c if _is_dxp(xp) else _r2c)(x, axes, norm, s),
              _r2c_vjp, saves=(), linear=True, node_name="FftR2CBackward0",
              explain="unfit(Re(ifftn(grad padded with zeros, dual norm)))")
R2C_T = declare("fft_r2c_backward",
                lambda xp, g, axes, norm, s, in_sizes: (
                    r2c_t if _is_dxp(xp) else _r2c_t)(g, axes, norm, s, in_sizes),
                _r2c_t_vjp, saves=(), linear=True, node_name="FftR2CBackwardBackward0",
                explain="rfftn(fit(grad)): the adjoint of fft_r2c's rule")


def r2c(x, axes, norm, s):
    """``rfftn`` of the real tensor ``x`` resized to ``s`` along ``axes``."""
    return apply(R2C, x, params={"axes": tuple(axes), "norm": norm, "s": tuple(s),
                                 "in_sizes": tuple(x.shape[a] for a in axes)})


def r2c_t(g, axes, norm, s, in_sizes):
    """The adjoint of ``r2c`` applied to ``g`` (``fft_r2c``'s reverse rule as an op)."""
    return apply(R2C_T, g, params={"axes": tuple(axes), "norm": norm, "s": tuple(s),
                                   "in_sizes": tuple(in_sizes)})


# ---- complex to real and its adjoint


@_batched
def _c2r(x, axes, norm, s):
    out = np.fft.irfftn(_resize(x, _half(s), axes), s=s, axes=axes, norm=norm)
    return out.astype(_rdt(x), copy=False)


@_batched
def _c2r_t(g, axes, norm, s, in_sizes):
    spec = np.fft.rfftn(g, axes=axes, norm=_DUAL[norm])
    last = axes[-1]
    double = s[-1] - spec.shape[last]
    if double > 0:
        index = [slice(None)] * spec.ndim
        index[last] = slice(1, 1 + double)
        spec[tuple(index)] *= 2.0
    out = np.ascontiguousarray(_resize(spec, in_sizes, axes))
    return out.astype(_cdt(g), copy=False)


def _c2r_vjp(xp, g, out, x, axes, norm, s, in_sizes):
    return c2r_t(g, axes, norm, s, in_sizes) if _is_dxp(xp) else _c2r_t(g, axes, norm, s,
                                                                           in_sizes)


def _c2r_t_vjp(xp, g, out, x, axes, norm, s, in_sizes):
    return c2r(g, axes, norm, s) if _is_dxp(xp) else _c2r(g, axes, norm, s)


C2R = declare("fft_c2r", lambda xp, x, axes, norm, s, in_sizes: (
                  c2r if _is_dxp(xp) else _c2r)(x, axes, norm, s),
              _c2r_vjp, saves=(), linear=True, node_name="FftC2RBackward0",
              explain="unfit(D * rfftn(grad, dual norm)), Note [the fft ops and their "
                      "adjoints]")
C2R_T = declare("fft_c2r_backward",
                lambda xp, g, axes, norm, s, in_sizes: (
                    c2r_t if _is_dxp(xp) else _c2r_t)(g, axes, norm, s, in_sizes),
                _c2r_t_vjp, saves=(), linear=True, node_name="FftC2RBackwardBackward0",
                explain="irfftn(fit(grad)): the adjoint of fft_c2r's rule")


def c2r(x, axes, norm, s):
    """``irfftn`` of ``x`` (real or complex, one-sided) to sizes ``s`` along ``axes``."""
    return apply(C2R, x, params={"axes": tuple(axes), "norm": norm, "s": tuple(s),
                                 "in_sizes": tuple(x.shape[a] for a in axes)})


def c2r_t(g, axes, norm, s, in_sizes):
    """The adjoint of ``c2r`` applied to ``g`` (``fft_c2r``'s reverse rule as an op)."""
    return apply(C2R_T, g, params={"axes": tuple(axes), "norm": norm, "s": tuple(s),
                                   "in_sizes": tuple(in_sizes)})


# ---- shifts


@_batched
def _roll(x, axes, shifts):
    return np.roll(x, shifts, axes) if axes else np.array(x, copy=True)


def _shift_vjp(xp, g, out, x, shifts, axes):
    back = tuple(-k for k in shifts)
    return shift(g, back, axes) if _is_dxp(xp) else _roll(g, axes, back)


SHIFT = declare("fft_shift", lambda xp, x, shifts, axes: (
                    shift(x, shifts, axes) if _is_dxp(xp) else _roll(x, axes, shifts)),
                _shift_vjp,
                saves=(), linear=True, node_name="RollBackward0",
                explain="grad rolled back by the same shifts")


def shift(x, shifts, axes):
    """``x`` rolled by ``shifts`` along ``axes`` (the op of ``fftshift``/``ifftshift``)."""
    return apply(SHIFT, x, params={"shifts": tuple(shifts), "axes": tuple(axes)})


_native(C2C, C2R, C2R_T, R2C_T, SHIFT)
