"""The convolution ops: the window helpers, the generic im2col kernels and the declarations.

Convolution is im2col plus one batched matmul: ``sliding_window_view`` gives every receptive field
as a strided view of the (padded) input, one copy lays the fields out as the rows of a matrix, and a
matmul per call (batched over groups) multiplies them with the flattened weight. The reverse rule
is two more matmuls; the input gradient is folded back (col2im) with one strided add per kernel
offset, never a Python loop over pixels. Plain NumPy operands take the faster layouts of
``ops/conv_gemm.py`` (Note [convolution layouts]), and wide 3x3 stride-1 convolutions Winograd's
(``ops/conv_winograd.py``, Note [winograd F(2x2,3x3)]); the code here serves CuPy, ``vmap``'s
batched arrays and grouped strided convolutions.

``conv`` is a primitive with a fused rule (a hot op). Its two gradients are themselves declared
ops (``conv_input_grad``: the transposed convolution, ``conv_weight_grad``: the correlation of the
input with the output gradient), so higher-order gradients come from the same rules. The public
functions (``conv2d``...) and pooling are in ``ops/conv.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import conv_gemm as _gemm
from . import conv_winograd as _wino
from . import kernels as K
from .registry import apply, declare

# --------------------------------------------------------------------------------------------
# window helpers (NumPy / CuPy arrays)


def _windows(xp, x, k, stride, dilation):
    """A view of ``x`` (N, C, *spatial), already padded, as (N, C, *out, *k) receptive fields."""
    d = len(k)
    keff = tuple(dl * (kk - 1) + 1 for kk, dl in zip(k, dilation))
    st = xp.lib.stride_tricks if hasattr(xp, "lib") else np.lib.stride_tricks
    win = st.sliding_window_view(x, keff, axis=tuple(range(2, 2 + d)))
    sl = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride) + tuple(
        slice(None, None, dl) for dl in dilation)
    return win[sl]


def _pad_widths(x_ndim, padding):
    return ((0, 0), (0, 0)) + tuple(padding)


def _pad(xp, x, padding, value=0.0):
    if not any(lo or hi for lo, hi in padding):
        return x
    if K.is_dxp(xp):
        return xp.pad(x, _pad_widths(x.ndim, padding), constant_values=value)
    return xp.pad(x, _pad_widths(x.ndim, padding), constant_values=value)


def _crop(x, padding, shape):
    """The inverse of ``_pad``: the region of the padded array that is the original input."""
    sl = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in zip(
        padding, shape[2:]))
    return x[sl]


def _offset_slices(k, stride, dilation, out):
    """For each kernel offset, the strided slice of the padded input its taps read."""
    for offs in itertools.product(*(range(kk) for kk in k)):
        sl = tuple(slice(o * dl, o * dl + s * (n - 1) + 1, s) for o, dl, s, n in zip(
            offs, dilation, stride, out))
        yield offs, (slice(None), slice(None)) + sl


def _fold(xp, padded_shape, pieces):
    """Sum ``(slice, value)`` pieces into zeros of ``padded_shape`` (col2im)."""
    if K.is_dxp(xp):
        total = None
        for sl, v in pieces:
            part = xp.index_add_into(padded_shape, sl, v)
            total = part if total is None else total + part
        return total
    out = None
    for sl, v in pieces:
        if out is None:
            out = K._zeros(xp, padded_shape, v.dtype, v)  # batched under vmap
        out[sl] += v
    return out


def _out_shape(spatial, k, stride, padding, dilation):
    return tuple((n + lo + hi - (dl * (kk - 1) + 1)) // s + 1 for n, kk, s, (lo, hi), dl in zip(
        spatial, k, stride, padding, dilation))


# --------------------------------------------------------------------------------------------
# convolution: forward and its two gradients (raw arrays)


def _cols(xp, x, k, stride, padding, dilation, groups, limit=None):
    """im2col, transposed: (G, Cg*K, N*P) columns of receptive fields (one per output position),
    and the output's spatial shape. This layout copies with contiguous inner runs (the output
    positions), which is faster than a row per receptive field. ``limit`` keeps the first
    positions only (a transposed convolution's output padding adds positions no tap reads)."""
    n, c = x.shape[:2]
    win = _windows(xp, _pad(xp, x, padding), k, stride, dilation)  # (N, C, *out, *k)
    d = len(k)
    if limit is not None:
        win = win[(slice(None), slice(None)) + tuple(slice(0, m) for m in limit)]
    out = win.shape[2:2 + d]
    g = groups
    win = win.reshape((n, g, c // g) + out + tuple(k))
    # -> (G, Cg, *k, N, *out)
    perm = (1, 2) + tuple(range(3 + d, 3 + 2 * d)) + (0,) + tuple(range(3, 3 + d))
    cols = xp.transpose(win, perm).reshape(g, (c // g) * math.prod(k), n * math.prod(out))
    return cols, out


def _bmm(xp, a, b):
    """Batched matmul over groups; one plain 2-D matmul (BLAS) when there is one group."""
    if a.shape[0] == 1:
        return xp.matmul(a[0], b[0])[None]
    return xp.matmul(a, b)


def _conv_fwd_np(xp, x, w, b, stride, padding, dilation, groups, saved=None):
    if _gemm.usable(x, w, b):  # Note [convolution layouts] in ops/conv_gemm.py
        if _wino.applies(x.shape, w.shape, stride, dilation, groups, np.result_type(x, w)):
            return _wino.forward(x, w, b, padding)
        y = _gemm.forward(x, w, b, stride, padding, dilation, groups, saved)
        if y is not None:
            return y
    k = tuple(w.shape[2:])
    n = x.shape[0]
    o = w.shape[0]
    d = len(k)
    cols, out = _cols(xp, x, k, stride, padding, dilation, groups)
    wm = w.reshape(groups, o // groups, -1)  # (G, Og, Cg*K)
    y = _bmm(xp, wm, cols)  # (G, Og, N*P)
    y = y.reshape((o, n) + out)
    if b is not None:
        y += b.reshape((o,) + (1,) * (d + 1)).astype(y.dtype, copy=False)
    return K.contiguous(xp, xp.swapaxes(y, 0, 1))  # (vmap's batched arrays stay)


def _grad_cols(xp, g, groups):
    """(N, O, *out) output gradient as (G, Og, N*P) columns."""
    n, o = g.shape[:2]
    gr = g.reshape((n, groups, o // groups, math.prod(g.shape[2:])))
    return xp.transpose(gr, (1, 2, 0, 3)).reshape(groups, o // groups, -1)


def _input_grad_np(xp, g, w, x_shape, stride, padding, dilation, groups):
    """Transposed convolution: the gradient of ``conv`` in its input."""
    if _gemm.usable(g, w):
        if _wino.applies(x_shape, w.shape, stride, dilation, groups, np.result_type(g, w)):
            return _wino.input_grad(g, w, x_shape, padding)
        gx = _gemm.input_grad(g, w, x_shape, stride, padding, dilation, groups)
        if gx is not None:
            return gx
    k = tuple(w.shape[2:])
    o = w.shape[0]
    n, c = x_shape[:2]
    out = tuple(g.shape[2:])
    gm = _grad_cols(xp, g, groups)  # (G, Og, N*P)
    wm = w.reshape(groups, o // groups, -1)
    gcols = _bmm(xp, xp.swapaxes(wm, 1, 2), gm)  # (G, Cg*K, N*P)
    gcols = gcols.reshape((c,) + k + (n,) + out)
    # fold (col2im) into a (C, N, *padded) buffer: one strided add per kernel offset
    padded = (c, n) + tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], padding))
    gx = _fold(xp, padded, ((sl, gcols[(slice(None),) + offs])
                            for offs, sl in _offset_slices(k, stride, dilation, out)))
    return K.contiguous(xp, xp.swapaxes(_crop(gx, padding, (c, n) + tuple(x_shape[2:])),
                                        0, 1))


def _weight_grad_np(xp, x, g, w_shape, stride, padding, dilation, groups, saved=None):
    """The gradient of ``conv`` in its weight: input fields correlated with ``g``."""
    if _gemm.usable(x, g):
        if _wino.applies(x.shape, w_shape, stride, dilation, groups, np.result_type(x, g)):
            return _wino.weight_grad(x, g, w_shape, padding)
        gw = _gemm.weight_grad(x, g, w_shape, stride, padding, dilation, groups, saved)
        if gw is not None:
            return gw
    k = tuple(w_shape[2:])
    cols, _ = _cols(xp, x, k, stride, padding, dilation, groups, tuple(g.shape[2:]))
    gm = _grad_cols(xp, g, groups)
    gw = _bmm(xp, gm, xp.swapaxes(cols, 1, 2))  # (G, Og, Cg*K)
    return gw.reshape(w_shape)


def _bias_grad(xp, g):
    if type(g) is np.ndarray and g.ndim > 2:
        # the batch first (whole planes added, contiguous), then each channel's plane: three
        # times faster than one reduction over (0, 2, ...) on the benchmark sizes
        return g.sum(axis=0).reshape(g.shape[1], math.prod(g.shape[2:])).sum(axis=1)
    return xp.sum(g, axis=(0,) + tuple(range(2, g.ndim)))


# --------------------------------------------------------------------------------------------
# the declared ops; in create_graph mode (xp is dxp) the rules call the ops themselves


def _geom(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _conv(xp, x, w, b, stride, padding, dilation, groups):
    if K.is_dxp(xp):
        return apply(CONV, x, w, b, params=_geom(stride, padding, dilation, groups))
    return _conv_fwd_np(xp, x, w, b, stride, padding, dilation, groups)


def _input_grad(xp, g, w, x_shape, stride, padding, dilation, groups):
    if K.is_dxp(xp):
        return apply(CONV_INPUT_GRAD, g, w, params={
            "x_shape": tuple(x_shape), **_geom(stride, padding, dilation, groups)})
    return _input_grad_np(xp, g, w, x_shape, stride, padding, dilation, groups)


def _weight_grad(xp, x, g, w_shape, stride, padding, dilation, groups):
    if K.is_dxp(xp):
        return apply(CONV_WEIGHT_GRAD, x, g, params={
            "w_shape": tuple(w_shape), **_geom(stride, padding, dilation, groups)})
    return _weight_grad_np(xp, x, g, w_shape, stride, padding, dilation, groups)


def _conv_vjp(xp, g, out, x, w, b, stride, padding, dilation, groups, saved=None, *, needs):
    geo = (stride, padding, dilation, groups)
    both = None
    fast = not K.is_dxp(xp) and _gemm.usable(x, g, w)
    if (fast and needs[0] and needs[1] and not _wino.applies(
            x.shape, w.shape, stride, dilation, groups, np.result_type(x, g, w))):
        both = _gemm.grads(x, g, w, *geo, saved=saved)  # Note [one pass for both gradients]
    if both is not None:
        gx, gw = both
    else:
        gx = _input_grad(xp, g, w, x.shape, *geo) if needs[0] else None
        gw = None
        if needs[1]:
            gw = (_weight_grad_np(xp, x, g, w.shape, *geo, saved=saved) if fast
                  else _weight_grad(xp, x, g, w.shape, *geo))
    if saved:
        _gemm.release(saved)  # a second backward (retain_graph) recomputes
    gb = _bias_grad(xp, g) if needs[2] else None
    return gx, gw, gb


def _conv_jvp(xp, t, out, x, w, b, stride, padding, dilation, groups, saved=None):
    tx, tw, tb = t
    geo = (stride, padding, dilation, groups)
    r = None if tx is None else _conv(xp, tx, w, None, *geo)
    if tw is not None:
        r2 = _conv(xp, x, tw, None, *geo)
        r = r2 if r is None else r + r2
    if tb is not None:
        tb = xp.reshape(tb, (1, tb.shape[0]) + (1,) * (x.ndim - 2))
        r = tb + xp.zeros_like(out) if r is None else r + tb
    return r


CONV = declare("conv", _conv_fwd_np, _conv_vjp, _conv_jvp, inputs=("self", "weight", "bias"),
               node_name="ConvolutionBackward0")


def _ig_vjp(xp, h, out, g, w, x_shape, stride, padding, dilation, groups, *, needs):
    geo = (stride, padding, dilation, groups)
    gg = None
    if needs[0]:
        gg = _conv(xp, h, w, None, *geo)
        if tuple(gg.shape) != tuple(g.shape):  # output_padding of a transposed conv
            gg = gg[(slice(None), slice(None)) + tuple(slice(0, n) for n in g.shape[2:])]
    gw = _weight_grad(xp, h, g, w.shape, *geo) if needs[1] else None
    return gg, gw


def _ig_jvp(xp, t, out, g, w, x_shape, stride, padding, dilation, groups):
    tg, tw = t
    geo = (stride, padding, dilation, groups)
    r = None if tg is None else _input_grad(xp, tg, w, x_shape, *geo)
    if tw is not None:
        r2 = _input_grad(xp, g, tw, x_shape, *geo)
        r = r2 if r is None else r + r2
    return r


CONV_INPUT_GRAD = declare(
    "conv_input_grad", lambda xp, g, w, x_shape, **geo: _input_grad_np(xp, g, w, x_shape, **geo),
    _ig_vjp, _ig_jvp, inputs=("grad_output", "weight"),
    node_name="ConvolutionBackwardBackward0")


def _wg_vjp(xp, h, out, x, g, w_shape, stride, padding, dilation, groups, *, needs):
    geo = (stride, padding, dilation, groups)
    gx = _input_grad(xp, g, h, x.shape, *geo) if needs[0] else None
    gg = _conv(xp, x, h, None, *geo) if needs[1] else None
    return gx, gg


def _wg_jvp(xp, t, out, x, g, w_shape, stride, padding, dilation, groups):
    tx, tg = t
    geo = (stride, padding, dilation, groups)
    r = None if tx is None else _weight_grad(xp, tx, g, w_shape, *geo)
    if tg is not None:
        r2 = _weight_grad(xp, x, tg, w_shape, *geo)
        r = r2 if r is None else r + r2
    return r


CONV_WEIGHT_GRAD = declare(
    "conv_weight_grad",
    lambda xp, x, g, w_shape, **geo: _weight_grad_np(xp, x, g, w_shape, **geo),
    _wg_vjp, _wg_jvp, inputs=("self", "grad_output"), node_name="ConvolutionBackwardBackward1")
