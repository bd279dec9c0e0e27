"""Convolution and pooling over 1, 2 or 3 spatial dims: the public functions, and the pooling ops.

The convolution ops themselves (``conv``, ``conv_input_grad``, ``conv_weight_grad``), their
generic im2col kernels and the window helpers are in ``ops/conv_rules.py``; the fast NumPy
kernels in ``ops/conv_gemm.py``.

Pooling: ``max_pool`` (recomputes the argmax of each window in its rule) and ``avg_pool`` (linear)
share the window helpers; both rules work in every mode (Note [rules] in registry.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import is_grad_enabled_fast
from . import kernels as K
from . import registry as _registry
from .conv_rules import (  # noqa: F401  (the names other modules reach through ops.conv)
    CONV,
    CONV_INPUT_GRAD,
    CONV_WEIGHT_GRAD,
    _conv_fwd_np,
    _crop,
    _fold,
    _geom,
    _input_grad_np,
    _offset_slices,
    _out_shape,
    _pad,
    _pad_widths,
    _weight_grad_np,
    _windows,
)
from .linalg import matmul
from .registry import apply, apply1, declare

# --------------------------------------------------------------------------------------------
# pooling


def _max_mask_pieces(xp, x, k, stride, padding, dilation):
    """The padded input's shape, and per kernel offset its slice and the mask of the windows
    whose (first) maximum sits at that offset. One vectorized pass per kernel offset."""
    xr = x._data if hasattr(x, "grad_fn") else x
    xpd = _pad(np, xr, padding, value=-np.inf)
    out = _out_shape(xr.shape[2:], k, stride, padding, dilation)
    best = _max_pool_fwd(np, xr, k, stride, padding, dilation)
    taken = np.zeros_like(best, dtype=bool)  # batched like best under vmap
    pieces = []
    for _, sl in _offset_slices(k, stride, dilation, out):
        m = xpd[sl] == best
        m &= ~taken
        taken |= m
        pieces.append((sl, m))
    return xpd.shape, pieces


def _max_pool_fwd(xp, x, k, stride, padding, dilation, arg=None):
    xpd = _pad(xp, x, padding, value=-np.inf)
    out = _out_shape(x.shape[2:], k, stride, padding, dilation)
    track = arg is not None and xp is np and type(x) is np.ndarray
    best = idx = None
    for i, (_, sl) in enumerate(_offset_slices(k, stride, dilation, out)):
        v = xpd[sl]
        if best is None:
            best = v.copy()
            if track:
                idx = np.zeros(best.shape, np.int32)
            continue
        if track:
            idx[v > best] = i  # strictly greater: the first maximum wins, as in PyTorch
        xp.maximum(best, v, out=best)
    if track:
        idx[np.isnan(best)] = -1  # a NaN window sends no gradient (as the mask rule below)
        arg[:] = [idx]  # Note [saved argmax]
    return best


def _max_pool_vjp(xp, g, out, x, k, stride, padding, dilation, arg=None):
    if arg and xp is np and type(g) is np.ndarray:
        # Note [saved argmax]: the forward kept each window's argmax offset; the gradient is
        # one masked add per kernel offset, with neither the maxima nor their masks recomputed
        idx = arg[0]
        shape = tuple(x.shape[:2]) + tuple(s + lo + hi for s, (lo, hi) in zip(
            x.shape[2:], padding))
        gx = np.zeros(shape, g.dtype)
        for i, (_, sl) in enumerate(_offset_slices(k, stride, dilation, g.shape[2:])):
            gx[sl] += np.where(idx == i, g, 0.0)  # (ufunc ``where=`` is twice as slow)
        return _crop(gx, padding, x.shape)
    shape, pieces = _max_mask_pieces(xp, x, k, stride, padding, dilation)
    gx = _fold(xp, shape, ((sl, xp.where(m, g, 0.0)) for sl, m in pieces))
    return _crop(gx, padding, x.shape)


def _max_pool_jvp(xp, t, out, x, k, stride, padding, dilation, arg=None):
    _, pieces = _max_mask_pieces(xp, x, k, stride, padding, dilation)
    tp = _pad(xp, t, padding)
    r = None
    for sl, m in pieces:
        part = xp.where(m, tp[sl], 0.0)
        r = part if r is None else r + part
    return r


# Note [saved argmax]
#     ``max_pool``'s forward, given the ``arg`` list (``_max_poolnd`` passes a fresh one), keeps
#     the kernel offset of each window's first maximum (int32, the output's shape) in it, in the
#     node's ``params``, as PyTorch keeps its indices: the first-order rule reads it instead of
#     recomputing the pooling and one comparison per offset. CuPy, ``vmap`` and ``create_graph``
#     take the mask rule, which recomputes (it records under ``create_graph``).


MAX_POOL = declare("max_pool", _max_pool_fwd, _max_pool_vjp, _max_pool_jvp,
                   node_name="MaxPool2DWithIndicesBackward0")


def _avg_pool_fwd(xp, x, k, stride, padding, divisor, x_shape):
    xpd = _pad(xp, x, padding)
    out = _out_shape(x.shape[2:], k, stride, padding, (1,) * len(k))
    total = None
    for _, sl in _offset_slices(k, stride, (1,) * len(k), out):
        if total is None:
            total = xpd[sl].copy()
        else:
            total += xpd[sl]
    return total / divisor


def _avg_pool_vjp(xp, g, out, x, k, stride, padding, divisor, x_shape):
    gd = g / divisor
    shape = tuple(x_shape[:2]) + tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], padding))
    gx = _fold(xp, shape, ((sl, gd) for _, sl in _offset_slices(
        k, stride, (1,) * len(k), g.shape[2:])))
    return _crop(gx, padding, x_shape)


def _avg_pool_jvp(xp, t, out, x, k, stride, padding, divisor, x_shape):
    if K.is_dxp(xp):
        return apply1(AVG_POOL, t, {"k": k, "stride": stride, "padding": padding,
                                    "divisor": divisor, "x_shape": x_shape})
    return _avg_pool_fwd(xp, t, k, stride, padding, divisor, x_shape)


AVG_POOL = declare("avg_pool", _avg_pool_fwd, _avg_pool_vjp, _avg_pool_jvp, saves=(),
                   node_name="AvgPool2DBackward0")


# --------------------------------------------------------------------------------------------
# public functions (re-exported by gradwalk.nn.functional)


def _tuple(v, d: int, name: str, op: str) -> tuple:
    if isinstance(v, (int, np.integer)):
        return (int(v),) * d
    v = tuple(int(i) for i in v)
    if len(v) == 1:
        return v * d
    if len(v) != d:
        raise ValueError(f"{op}(): expected {name} to be a single int or a tuple of {d} ints, "
                         f"got {v}")
    return v


def _check_input(input, d: int, op: str):
    if not isinstance(input, _registry.Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(
            f"{op}(): expected {d + 1}D (unbatched) or {d + 2}D (batched) input, but got input "
            f"of size: {list(input.shape)}")
    return input.ndim == d + 1


def _conv_padding(padding, k, dilation, stride, op: str):
    d = len(k)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}(): padding='same' is not supported for strided "
                                 "convolutions; use stride=1 or an explicit padding")
            widths = []
            for kk, dl in zip(k, dilation):
                total = dl * (kk - 1)
                widths.append((total // 2, total - total // 2))
            return tuple(widths)
        raise ValueError(f"{op}(): invalid padding string {padding!r}, should be one of "
                         "'valid' or 'same'")
    p = _tuple(padding, d, "padding", op)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}(): negative padding is not supported, got {p}")
    return tuple((v, v) for v in p)


def _convnd(input, weight, bias, stride, padding, dilation, groups, d: int, op: str):
    unbatched = _check_input(input, d, op)
    if not isinstance(weight, _registry.Tensor):
        raise TypeError(f"{op}(): argument 'weight' must be a Tensor, not "
                        f"{type(weight).__name__}")
    if weight.ndim != d + 2:
        raise RuntimeError(f"{op}(): expected weight to be {d + 2}-D (out_channels, "
                           f"in_channels/groups, *kernel), got {list(weight.shape)}")
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(stride, d, "stride", op)
    dilation = _tuple(dilation, d, "dilation", op)
    if any(v < 1 for v in stride) or any(v < 1 for v in dilation):
        raise RuntimeError(f"{op}(): stride and dilation must be positive, got stride={stride}, "
                           f"dilation={dilation}")
    k = tuple(weight.shape[2:])
    pad = _conv_padding(padding, k, dilation, stride, op)
    c = x.shape[1]
    o = weight.shape[0]
    if groups < 1 or c % groups or o % groups:
        raise RuntimeError(f"{op}(): in_channels ({c}) and out_channels ({o}) must both be "
                           f"divisible by groups ({groups})")
    if weight.shape[1] * groups != c:
        raise RuntimeError(
            f"{op}(): Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
            "channels instead")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{op}(): expected bias of shape [{o}], got {list(bias.shape)}")
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise RuntimeError(f"{op}(): expected bias of dtype {weight.dtype} (the weight's), got "
                           f"{bias.dtype}. Convert it with .to({weight.dtype})")
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"{op}(): Input type ({x.dtype}) and weight type ({weight.dtype}) should be the "
            f"same. Convert the input with .to({weight.dtype})")
    for n, kk, (lo, hi), dl in zip(x.shape[2:], k, pad, dilation):
        if n + lo + hi < dl * (kk - 1) + 1:
            padded = " x ".join(str(s + a + b) for s, (a, b) in zip(x.shape[2:], pad))
            kern = " x ".join(str(dl2 * (k2 - 1) + 1) for k2, dl2 in zip(k, dilation))
            raise RuntimeError(
                f"{op}(): Calculated padded input size per channel: ({padded}). Kernel size: "
                f"({kern}). Kernel size can't be greater than actual input size")
    params = _geom(stride, pad, dilation, groups)
    if weight._requires_grad and is_grad_enabled_fast():
        params["saved"] = []  # Note [saved forward data]
    y = apply(CONV, x, weight, bias, params=params)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C, L) with weight (O, C/groups, k).

    ``padding`` is an int, a tuple, ``"valid"`` or ``"same"``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[[1.0, 2.0, 3.0, 4.0]]])
        >>> gradwalk.nn.functional.conv1d(x, gradwalk.tensor([[[1.0, -1.0]]]))
        tensor([[[-1., -1., -1.]]])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) with weight (O, C/groups, kh, kw).

    One fused op: im2col over a sliding-window view and one matmul; ``padding`` is an int, a
    tuple, ``"valid"`` or ``"same"``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(16.0).reshape(1, 1, 4, 4)
        >>> gradwalk.nn.functional.conv2d(x, gradwalk.ones(1, 1, 2, 2), stride=2)
        tensor([[[[10., 18.],
                  [42., 50.]]]])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C, D, H, W) with weight (O, C/groups, kd, kh, kw).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.conv3d(gradwalk.ones(1, 1, 3, 3, 3), gradwalk.ones(1, 1, 3, 3, 3)).shape
        gradwalk.Size([1, 1, 1, 1, 1])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                      dilation, d: int, op: str, output_size=None):
    unbatched = _check_input(input, d, op)
    if not isinstance(weight, _registry.Tensor) or weight.ndim != d + 2:
        raise RuntimeError(f"{op}(): expected weight to be a {d + 2}-D Tensor (in_channels, "
                           f"out_channels/groups, *kernel)")
    x = input.unsqueeze(0) if unbatched else input
    stride = _tuple(stride, d, "stride", op)
    dilation = _tuple(dilation, d, "dilation", op)
    pad = _tuple(padding, d, "padding", op)
    k = tuple(weight.shape[2:])
    c_in = x.shape[1]
    if groups < 1 or c_in % groups or weight.shape[0] != c_in:
        raise RuntimeError(
            f"{op}(): Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {weight.shape[0]} channels (divisible by groups="
            f"{groups}), but got {c_in} channels instead")
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"{op}(): Input type ({x.dtype}) and weight type ({weight.dtype}) should be the "
            f"same. Convert the input with .to({weight.dtype})")
    base = tuple((n - 1) * s - 2 * p + dl * (kk - 1) + 1 for n, s, p, dl, kk in zip(
        x.shape[2:], stride, pad, dilation, k))
    if output_size is not None:
        want = tuple(int(v) for v in tuple(output_size)[-d:])
        output_padding = tuple(w - b for w, b in zip(want, base))
    out_pad = _tuple(output_padding, d, "output_padding", op)
    for o, s, dl in zip(out_pad, stride, dilation):
        if not 0 <= o < max(s, dl):  # PyTorch's rule: smaller than the stride or the dilation
            raise ValueError(f"{op}(): output padding must be nonnegative and smaller than "
                             f"either stride or dilation, got output_padding={out_pad}, "
                             f"stride={stride}, dilation={dilation}")
    c_out = weight.shape[1] * groups
    x_shape = (x.shape[0], c_out) + tuple(b + o for b, o in zip(base, out_pad))
    if any(v <= 0 for v in x_shape[2:]):
        raise RuntimeError(f"{op}(): the output size {list(x_shape[2:])} is not positive")
    y = apply(CONV_INPUT_GRAD, x, weight, params={
        "x_shape": x_shape, **_geom(stride, tuple((p, p) for p in pad), dilation, groups)})
    if bias is not None:
        y = y + bias.reshape((1, c_out) + (1,) * d)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution of (N, C_in, L) with weight (C_in, C_out/groups, k).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.conv_transpose1d(gradwalk.tensor([[[1.0, 2.0]]]), gradwalk.ones(1, 1, 2))
        tensor([[[1., 3., 2.]]])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution (the gradient of ``conv2d`` in its input) of (N, C_in, H, W)
    with weight (C_in, C_out/groups, kh, kw). One op, whose rules are convolutions.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.conv_transpose2d(gradwalk.ones(1, 1, 2, 2), gradwalk.ones(1, 1, 2, 2), stride=2)
        tensor([[[[1., 1., 1., 1.],
                  [1., 1., 1., 1.],
                  [1., 1., 1., 1.],
                  [1., 1., 1., 1.]]]])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 2, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution of (N, C_in, D, H, W) with weight (C_in, C_out/groups, *k).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.conv_transpose3d(gradwalk.ones(1, 1, 2, 2, 2), gradwalk.ones(1, 1, 2, 2, 2)).shape
        gradwalk.Size([1, 1, 3, 3, 3])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 3, "conv_transpose3d")


def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, d, op):
    k = _tuple(kernel_size, d, "kernel_size", op)
    stride = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else\
        _tuple(stride, d, "stride", op)
    pad = _tuple(padding, d, "padding", op)
    dilation = _tuple(dilation, d, "dilation", op)
    for kk, p in zip(k, pad):
        if p > kk // 2:
            raise RuntimeError(f"{op}(): pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={kk}")
    spatial = input.shape[-d:]
    widths = []
    out = []
    for n, kk, s, p, dl in zip(spatial, k, stride, pad, dilation):
        keff = dl * (kk - 1) + 1
        span = n + 2 * p - keff
        if span < 0:
            raise RuntimeError(f"{op}(): input size {list(input.shape)} is too small for "
                               f"kernel size {k} with padding {pad}")
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1  # the last window must start inside the input or the left padding
        widths.append((p, max(p, (o - 1) * s + keff - n - p)))
        out.append(o)
    return k, stride, tuple(widths), dilation, tuple(pad), tuple(out)


def _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                d, op):
    unbatched = _check_input(input, d, op)
    x = input.unsqueeze(0) if unbatched else input
    k, stride, widths, dilation, _, _ = _pool_geometry(x, kernel_size, stride, padding,
                                                       dilation, ceil_mode, d, op)
    y = apply1(MAX_POOL, x, {"k": k, "stride": stride, "padding": widths,
                             "dilation": dilation, "arg": []})
    if unbatched:
        y = y.squeeze(0)
    if return_indices:
        return y, _max_indices(x, k, stride, widths, dilation, unbatched)
    return y


def _max_indices(x, k, stride, widths, dilation, unbatched):
    """The flat index into each input plane of every window's maximum (PyTorch's indices)."""
    d = len(k)
    spatial = x.shape[2:]
    xr = np.pad(x._data, _pad_widths(x.ndim, widths), constant_values=-np.inf)
    win = _windows(np, xr, k, stride, dilation)
    out = win.shape[2:2 + d]
    arg = win.reshape(win.shape[:2 + d] + (-1,)).argmax(axis=-1)
    offs = np.unravel_index(arg, k)
    flat = np.zeros(arg.shape, dtype=np.int64)
    for i in range(d):
        shape = [1] * (2 + d)
        shape[2 + i] = out[i]
        start = (np.arange(out[i]) * stride[i] - widths[i][0]).reshape(shape)
        pos = start + offs[i] * dilation[i]
        flat = flat * spatial[i] + pos
    return _registry.wrap(flat[0] if unbatched else flat)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.max_pool1d(gradwalk.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        tensor([[[3., 2.]]])
    """
    return _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W); the gradient goes to the first maximum of a window.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(16.0).reshape(1, 1, 4, 4)
        >>> gradwalk.nn.functional.max_pool2d(x, 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       2, "max_pool2d")


def _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, d, op):
    unbatched = _check_input(input, d, op)
    x = input.unsqueeze(0) if unbatched else input
    k, stride, widths, dilation, pad, out = _pool_geometry(x, kernel_size, stride, padding, 1,
                                                           ceil_mode, d, op)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{op}(): divisor must be not zero")
        divisor = float(divisor_override)
    elif (count_include_pad or not any(pad)) and all(hi == lo for lo, hi in widths):
        divisor = float(math.prod(k))
    else:
        divisor = _avg_divisor(x.shape[2:], k, stride, widths, pad, count_include_pad,
                               x._data.dtype)
    y = apply1(AVG_POOL, x, {"k": k, "stride": stride, "padding": widths, "divisor": divisor,
                             "x_shape": tuple(x.shape)})
    return y.squeeze(0) if unbatched else y


def _avg_divisor(spatial, k, stride, widths, pad, count_include_pad, dtype):
    """Per output position, how many elements its window averages (PyTorch's rule: padding
    counts unless ``count_include_pad=False``; the extra ceil-mode border never counts)."""
    ones = np.ones((1, 1) + tuple(spatial), dtype=dtype)
    if count_include_pad:
        ones = np.pad(ones, ((0, 0), (0, 0)) + tuple((p, p) for p in pad), constant_values=1)
        extra = tuple((0, hi - p) for (lo, hi), p in zip(widths, pad))
        region = np.pad(ones, ((0, 0), (0, 0)) + tuple((0, max(e, 0)) for _, e in extra))
        region = region[(slice(None), slice(None)) + tuple(
            slice(0, n + 2 * p + e) for n, p, (_, e) in zip(spatial, pad, extra))]
    else:
        region = np.pad(ones, ((0, 0), (0, 0)) + tuple(widths))
    win = _windows(np, region, k, stride, (1,) * len(k))
    d = len(k)
    return win.sum(axis=tuple(range(2 + d, 2 + 2 * d)))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.avg_pool1d(gradwalk.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        tensor([[[2., 1.]]])
    """
    return _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                       1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.arange(16.0).reshape(1, 1, 4, 4)
        >>> gradwalk.nn.functional.avg_pool2d(x, 2)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    return _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, 2, "avg_pool2d")


def _adaptive_matrix(n_in: int, n_out: int, dtype) -> np.ndarray:
    """(n_out, n_in) averaging weights of PyTorch's adaptive windows
    ``[floor(i*n_in/n_out), ceil((i+1)*n_in/n_out))``."""
    m = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):
        lo = (i * n_in) // n_out
        hi = -(-((i + 1) * n_in) // n_out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive_avg(input, output_size, d, op):
    unbatched = _check_input(input, d, op)
    x = input.unsqueeze(0) if unbatched else input
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * d
    output_size = tuple(output_size)
    if len(output_size) != d:
        raise ValueError(f"{op}(): output_size must have {d} elements, got {output_size}")
    spatial = x.shape[2:]
    sizes = tuple(n if o is None else int(o) for n, o in zip(spatial, output_size))
    y = x
    dt = x._data.dtype
    for i, (n, o) in enumerate(zip(spatial, sizes)):
        if n == o:
            continue
        m = _registry.wrap(_adaptive_matrix(n, o, dt))
        axis = 2 + i
        last = y.ndim - 1
        if axis == last:
            y = matmul(y, m.t())
        else:
            y = matmul(y.transpose(axis, last), m.t()).transpose(axis, last)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to ``output_size`` positions, PyTorch's windows.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.adaptive_avg_pool1d(gradwalk.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 1)
        tensor([[[2.5000]]])
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) to ``output_size`` (an int, a pair, None keeps a dim).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.adaptive_avg_pool2d(gradwalk.ones(2, 3, 5, 7), 1).shape
        gradwalk.Size([2, 3, 1, 1])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")
