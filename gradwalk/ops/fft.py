"""The real-valued discrete Fourier transforms: complex-to-real inverses and the shifts.

gradwalk has no complex dtype, so of ``torch.fft`` it implements the transforms whose input
and output are both real for a real input: ``irfft``/``irfft2``/``irfftn`` (a real tensor read
as a half spectrum with zero imaginary part), ``hfft``/``hfft2``/``hfftn`` (which for a real
input are the same transforms under the dual normalization) and ``fftshift``/``ifftshift``.

Note [the c2r transform and its adjoint]
    ``C2R`` is ``y = irfftn(fit(x), s, axes, norm)``, where ``fit`` pads with zeros or trims
    the input along the transformed axes to ``s`` (``s[-1] // 2 + 1`` on the last axis). It is
    linear in ``x``; its reverse rule is the adjoint, ``C2R_T``:
    ``g -> unfit(Re(D * rfftn(g, axes, dual(norm))))``, where ``D`` doubles the bins of the last
    axis that the Hermitian completion used twice (1 .. n - n//2 - 1), ``dual`` swaps
    "backward" and "forward", and ``unfit`` trims or zero-pads back to the input's shape. That
    is PyTorch's ``fft_c2r_backward`` restricted to a real input (the gradient of a real
    input is the real part of the complex one). The adjoint of ``C2R_T`` is ``C2R``, so each
    op's rule, under ``create_graph``, is the other op: gradients of any order.
"""

from __future__ import annotations

import numpy as np

from . import registry as _registry
from .registry import apply, declare

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _resize(a, shape, axes):
    """``a`` trimmed or zero-padded along ``axes`` to ``shape``'s sizes there."""
    for ax in axes:
        n, want = a.shape[ax], shape[ax]
        if n > want:
            a = np.take(a, np.arange(want), axis=ax)
        elif n < want:
            widths = [(0, 0)] * a.ndim
            widths[ax] = (0, want - n)
            a = np.pad(a, widths)
    return a


def _fitted_shape(in_shape, s, axes):
    shape = list(in_shape)
    for ax, n in zip(axes[:-1], s[:-1]):
        shape[ax] = n
    shape[axes[-1]] = s[-1] // 2 + 1
    return tuple(shape)


def _physical(x, axes, in_shape=None):
    """Under ``vmap``: the physical array, the axes (and input shape) shifted past the batch
    dim, and the level to batch the result at; else the array as it is and level None."""
    batched = _registry._Batched
    if batched is not None and type(x) is batched:
        a = x._a
        shape = None if in_shape is None else (a.shape[0],) + tuple(in_shape)
        return a, tuple(ax + 1 for ax in axes), shape, x._level
    return x, tuple(axes), in_shape, None


def _rebatch(out, level):
    return out if level is None else _registry._Batched(out, level)


def _c2r(x, s, axes, norm):
    x, axes, _, level = _physical(x, axes)
    return _rebatch(_c2r_plain(x, s, axes, norm), level)


def _c2r_plain(x, s, axes, norm):
    x = _resize(np.asarray(x), _fitted_shape(x.shape, s, axes), axes)
    out = np.fft.irfftn(x, s=s, axes=axes, norm=norm)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _c2r_t(g, s, axes, norm, in_shape):
    g, axes, in_shape, level = _physical(g, axes, in_shape)
    return _rebatch(_c2r_t_plain(g, s, axes, norm, in_shape), level)


def _c2r_t_plain(g, s, axes, norm, in_shape):
    g = np.asarray(g)
    spec = np.fft.rfftn(g, axes=axes, norm=_DUAL[norm])
    last = axes[-1]
    double = s[-1] - spec.shape[last]
    if double > 0:
        index = [slice(None)] * spec.ndim
        index[last] = slice(1, 1 + double)
        spec[tuple(index)] *= 2.0
    out = _resize(spec.real, in_shape, axes)
    return np.ascontiguousarray(out).astype(g.dtype, copy=False)


def _c2r_vjp(xp, g, out, x, s, axes, norm, in_shape):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return c2r_t(g, s, axes, norm, in_shape)
    return _c2r_t(g, s, axes, norm, in_shape)


def _c2r_t_vjp(xp, g, out, x, s, axes, norm, in_shape):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return c2r(g, s, axes, norm)
    return _c2r(g, s, axes, norm)


def _c2r_jvp(xp, t, out, x, s, axes, norm, in_shape):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return c2r(t, s, axes, norm)
    return _c2r(t, s, axes, norm)


def _c2r_t_jvp(xp, t, out, x, s, axes, norm, in_shape):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return c2r_t(t, s, axes, norm, in_shape)
    return _c2r_t(t, s, axes, norm, in_shape)


C2R = declare("fft_c2r", lambda xp, x, s, axes, norm, in_shape: _c2r(x, s, axes, norm),
              _c2r_vjp, _c2r_jvp, saves=(), linear=True, node_name="FftC2RBackward0",
              explain="unfit(Re(D * rfftn(grad, dual norm))), Note [the c2r transform and its "
                      "adjoint]")
C2R_T = declare("fft_c2r_backward",
                lambda xp, g, s, axes, norm, in_shape: _c2r_t(g, s, axes, norm, in_shape),
                _c2r_t_vjp, _c2r_t_jvp, saves=(), linear=True, node_name="FftR2CBackward0",
                explain="irfftn(fit(grad)): the adjoint of fft_c2r's rule")


def c2r(x, s, axes, norm):
    """``irfftn`` of the real tensor ``x`` (the op; arguments already checked)."""
    return apply(C2R, x, params={"s": tuple(s), "axes": tuple(axes), "norm": norm,
                                 "in_shape": tuple(x.shape)})


def c2r_t(g, s, axes, norm, in_shape):
    """The adjoint of ``c2r`` applied to ``g`` (``fft_c2r``'s reverse rule as an op)."""
    return apply(C2R_T, g, params={"s": tuple(s), "axes": tuple(axes), "norm": norm,
                                   "in_shape": tuple(in_shape)})


def _roll(x, shifts, axes):
    x, axes, _, level = _physical(x, axes)
    return _rebatch(np.roll(x, shifts, axes) if axes else np.array(x, copy=True), level)


def _shift_vjp(xp, g, out, x, shifts, axes):
    back = tuple(-k for k in shifts)
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return shift(g, back, axes)
    return _roll(g, back, axes)


def _shift_jvp(xp, t, out, x, shifts, axes):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return shift(t, shifts, axes)
    return _roll(t, shifts, axes)


SHIFT = declare("fft_shift", lambda xp, x, shifts, axes: _roll(x, shifts, axes), _shift_vjp,
                _shift_jvp, saves=(), linear=True, node_name="RollBackward0",
                explain="grad rolled back by the same shifts")


def shift(x, shifts, axes):
    """``x`` rolled by ``shifts`` along ``axes`` (the op of ``fftshift``/``ifftshift``)."""
    return apply(SHIFT, x, params={"shifts": tuple(shifts), "axes": tuple(axes)})
