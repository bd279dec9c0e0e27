"""Normalization ops: ``layer_norm`` and ``batch_norm`` (training statistics) as primitives.

Both normalize ``x`` over some axes, ``xhat = (x - mean) / sqrt(var + eps)`` (biased variance),
then scale and shift it by ``weight`` and ``bias`` laid along other axes. One fused rule serves
both, so a normalization layer is one node instead of about ten:

    gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)),   gxhat = g * weight
    gweight = sum(g * xhat),   gbias = sum(g)   (over the axes the parameters do not span)

The rules use only ``xp`` functions and arithmetic, so they run in every mode (Note [rules]).
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import is_grad_enabled_fast as _grad_on
from ..autograd.grad_mode import no_grad
from . import registry as _registry
from .registry import apply, declare


def _param_shape(ndim, waxes, shape):
    return tuple(shape[a] if a in waxes else 1 for a in range(ndim))


def _stats(xp, x, axes, eps):
    mu = xp.mean(x, axis=axes, keepdims=True)
    xc = x - mu
    var = xp.mean(xc * xc, axis=axes, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    return xc * rstd, rstd


def _bcast(xp, p, x, waxes):
    return xp.reshape(p, _param_shape(x.ndim, waxes, x.shape))


def _norm_fwd(xp, x, w, b, axes, waxes, eps):
    xhat, _ = _stats(xp, x, axes, eps)
    y = xhat
    if w is not None:
        y = y * _bcast(xp, w, x, waxes)
    if b is not None:
        y = y + _bcast(xp, b, x, waxes)
    return y


def _reduce_to_param(xp, v, waxes, p_shape):
    other = tuple(a for a in range(v.ndim) if a not in waxes)
    return xp.reshape(xp.sum(v, axis=other), p_shape)


def _norm_vjp(xp, g, out, x, w, b, axes, waxes, eps, *, needs):
    xhat, rstd = _stats(xp, x, axes, eps)
    gx = gw = gb = None
    if needs[0]:
        gxh = g if w is None else g * _bcast(xp, w, x, waxes)
        gx = rstd * (gxh - xp.mean(gxh, axis=axes, keepdims=True)
                     - xhat * xp.mean(gxh * xhat, axis=axes, keepdims=True))
    if needs[1]:
        gw = _reduce_to_param(xp, g * xhat, waxes, w.shape)
    if needs[2]:
        gb = _reduce_to_param(xp, g, waxes, b.shape)
    return gx, gw, gb


def _norm_jvp(xp, t, out, x, w, b, axes, waxes, eps):
    tx, tw, tb = t
    xhat, rstd = _stats(xp, x, axes, eps)
    r = None
    if tx is not None:
        dxh = rstd * (tx - xp.mean(tx, axis=axes, keepdims=True)
                      - xhat * xp.mean(tx * xhat, axis=axes, keepdims=True))
        r = dxh if w is None else dxh * _bcast(xp, w, x, waxes)
    if tw is not None:
        r2 = xhat * _bcast(xp, tw, x, waxes)
        r = r2 if r is None else r + r2
    if tb is not None:
        r3 = _bcast(xp, tb, x, waxes) + xp.zeros_like(out)
        r = r3 if r is None else r + r3
    return r


def _declare(name, node_name):
    return declare(name, _norm_fwd, _norm_vjp, _norm_jvp, inputs=("self", "weight", "bias"),
                   node_name=node_name)


# Note [layer_norm on NumPy]
#     For NumPy float32/float64 arrays (dtypes matching), layer_norm's forward works on the
#     (rows, C) view of its input: the row means and variances by matrix-vector products with
#     ``1/C`` (one BLAS call each, several times faster than ``sum(axis=-1)`` over short rows),
#     two passes for the variance (``x - mean`` first, as PyTorch), and everything in place on
#     its own buffers. It keeps ``xhat`` and ``rstd`` in the node's ``params`` (the ``saved`` list
#     ``layer_norm`` passes when a backward can follow, with the input they came from: the rule
#     uses them only when it is given that same array), so the first-order rule never
#     recomputes the statistics, and it sums ``gweight``/``gbias`` over the rows by
#     vector-matrix products. Under ``create_graph``, and for other namespaces and dtypes, the
#     shared rules above run (they recompute ``xhat`` with ``xp``).


def _ln_fast_ok(x, w, b):
    return (type(x) is np.ndarray and x.dtype in _LN_DTYPES and x.size > 0
            and all(p is None or (type(p) is np.ndarray and p.dtype == x.dtype) for p in (w, b)))


_LN_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _ln_fwd(xp, x, w, b, axes, waxes, eps, saved=None):
    if xp is not np or not _ln_fast_ok(x, w, b):
        return _norm_fwd(xp, x, w, b, axes, waxes, eps)
    dt = x.dtype
    c = int(np.prod(x.shape[x.ndim - len(axes):]))
    x2 = x.reshape(-1, c)
    avg = np.full(c, 1.0 / c, dt)
    xhat = x2 - (x2 @ avg)[:, None]  # Note [layer_norm on NumPy]
    sq = xhat * xhat
    rstd = sq @ avg
    rstd += dt.type(eps)
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd[:, None]
    if saved is not None:
        saved[:] = [x, xhat, rstd]  # x: the rule checks it is given the same input
    if w is not None:
        y = np.multiply(xhat, w.reshape(-1), out=sq)
    else:
        y = xhat.copy() if saved is not None else xhat
    if b is not None:
        y += b.reshape(-1)
    return y.reshape(x.shape)


def _ln_vjp(xp, g, out, x, w, b, axes, waxes, eps, saved=None, *, needs):
    if (xp is not np or not saved or saved[0] is not x or type(g) is not np.ndarray
            or g.dtype != x.dtype or not _ln_fast_ok(x, w, b)):
        return _norm_vjp(xp, g, out, x, w, b, axes, waxes, eps, needs=needs)
    _, xhat, rstd = saved
    n, c = xhat.shape
    dt = x.dtype
    g2 = g.reshape(n, c)
    gx = gw = gb = None
    t = None
    if needs[0]:
        avg = np.full(c, 1.0 / c, dt)
        gx = g2 * w.reshape(-1) if w is not None else g2.copy()  # gxhat, then gx in place
        m1 = gx @ avg
        t = gx * xhat
        m2 = t @ avg
        gx -= m1[:, None]
        np.multiply(xhat, m2[:, None], out=t)
        gx -= t
        gx *= rstd[:, None]
        gx = gx.reshape(x.shape)
    if needs[1] or needs[2]:
        ones = np.ones(n, dt)
        if needs[1]:
            t = np.multiply(g2, xhat, out=t)
            gw = (ones @ t).reshape(w.shape)
        if needs[2]:
            gb = (ones @ g2).reshape(b.shape)
    return gx, gw, gb


def _ln_jvp(xp, t, out, x, w, b, axes, waxes, eps, saved=None):
    return _norm_jvp(xp, t, out, x, w, b, axes, waxes, eps)


LAYER_NORM = declare("layer_norm", _ln_fwd, _ln_vjp, _ln_jvp, inputs=("self", "weight", "bias"),
                     node_name="NativeLayerNormBackward0")
BATCH_NORM = _declare("batch_norm", "NativeBatchNormBackward0")


# group_norm: the same rules on the (N, G, C/G, positions) view of the input, the parameters laid
# along (G, C/G); the reshapes are inside the op, so a call is one node
_GN_AXES, _GN_WAXES = (2, 3), (1, 2)


def _grouped(xp, a, groups):
    n, c = a.shape[0], a.shape[1]
    return xp.reshape(a, (n, groups, c // groups, -1))


def _gn_fwd(xp, x, w, b, groups, eps):
    y = _norm_fwd(xp, _grouped(xp, x, groups), w, b, _GN_AXES, _GN_WAXES, eps)
    return xp.reshape(y, x.shape)


def _gn_vjp(xp, g, out, x, w, b, groups, eps, *, needs):
    gx, gw, gb = _norm_vjp(xp, _grouped(xp, g, groups), None, _grouped(xp, x, groups), w, b,
                           _GN_AXES, _GN_WAXES, eps, needs=needs)
    return (None if gx is None else xp.reshape(gx, x.shape)), gw, gb


def _gn_jvp(xp, t, out, x, w, b, groups, eps):
    tx, tw, tb = t
    tx = None if tx is None else _grouped(xp, tx, groups)
    r = _norm_jvp(xp, (tx, tw, tb), None if out is None else _grouped(xp, out, groups),
                  _grouped(xp, x, groups), w, b, _GN_AXES, _GN_WAXES, eps)
    return xp.reshape(r, x.shape)


GROUP_NORM = declare("group_norm", _gn_fwd, _gn_vjp, _gn_jvp, inputs=("self", "weight", "bias"),
                     node_name="NativeGroupNormBackward0")


# --------------------------------------------------------------------------------------------
# public functions (re-exported by gradwalk.nn.functional)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims, then scale and shift by
    ``weight`` and ``bias`` (of ``normalized_shape``). One fused op.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.layer_norm(gradwalk.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"layer_norm(): Given normalized_shape={list(normalized_shape)}, expected input "
            f"with shape [*, {', '.join(str(s) for s in normalized_shape)}], but got input of "
            f"size {list(input.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != normalized_shape:
            raise RuntimeError(f"layer_norm(): expected {name} of shape "
                               f"{list(normalized_shape)}, got {list(p.shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    keep = _grad_on() and any(t is not None and t.requires_grad for t in (input, weight, bias))
    return apply(LAYER_NORM, input, weight, bias,
                 params={"axes": axes, "waxes": axes, "eps": float(eps),
                         "saved": [] if keep else None})


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization of (N, C, ...) over all dims but the channel dim C.

    In training, normalize with the batch statistics (one fused op) and update
    ``running_mean``/``running_var`` in place (unbiased variance; ``momentum=None`` gives a
    cumulative average only through the module); otherwise normalize with the running
    statistics.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> x = gradwalk.tensor([[1.0], [3.0]])
        >>> F.batch_norm(x, None, None, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm(): expected 2D or more input (N, C, ...), got "
                         f"{input.ndim}D input of size {list(input.shape)}")
    c = input.shape[1]
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"batch_norm(): expected {name} of shape [{c}] (one per "
                               f"channel), got {list(p.shape)}")
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {list(input.shape)}")
        if running_mean is not None or running_var is not None:
            x = input._data
            with no_grad():
                if running_mean is not None:
                    mean = x.mean(axis=axes)
                    rm = running_mean._data
                    rm *= 1.0 - momentum
                    rm += momentum * mean.astype(rm.dtype, copy=False)
                    running_mean._vc[0] += 1
                if running_var is not None:
                    var = x.var(axis=axes, ddof=1)
                    rv = running_var._data
                    rv *= 1.0 - momentum
                    rv += momentum * var.astype(rv.dtype, copy=False)
                    running_var._vc[0] += 1
        return apply(BATCH_NORM, input, weight, bias,
                     params={"axes": axes, "waxes": (1,), "eps": float(eps)})
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm(): running_mean and running_var must be given when "
                           "training=False")
    shape = (1, c) + (1,) * (input.ndim - 2)
    dt = input._data.dtype
    scale = 1.0 / (running_var._data.astype(dt) + eps) ** 0.5
    shift = -running_mean._data.astype(dt) * scale
    y = input * _registry.wrap(scale.reshape(shape)) + _registry.wrap(shift.reshape(shape))
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize (N, C, ...) over groups of ``C // num_groups`` channels (and all spatial
    positions), then scale and shift per channel. One fused op.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.group_norm(gradwalk.tensor([[1.0, 3.0]]), 1)
        tensor([[-1.0000,  1.0000]])
    """
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"group_norm(): Expected number of channels in input ({c}) to be "
                           f"divisible by num_groups ({num_groups})")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"group_norm(): expected {name} of shape [{c}] (one per "
                               f"channel), got {list(p.shape)}")
    return apply(GROUP_NORM, input, weight, bias,
                 params={"groups": int(num_groups), "eps": float(eps)})
