"""Neural-network ops. The hot ones (softmax, log_softmax, cross_entropy, linear) are primitives
with fused rules, because every node costs Python time in an eager engine."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.grad_mode import is_grad_enabled_fast as _grad_on
from ..dtypes import get_default_dtype
from . import arrays as _arrays
from . import elementwise as E
from . import kernels as K
from . import reductions as R
from . import registry as _registry
from . import shape as S
from .direct import apply_linear, apply_product
from .erf32 import erf as _erf
from .erf32 import gelu32 as _gelu32
from .registry import apply, apply1, declare

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _softmax_fwd(xp, x, axis):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(xp, g, out, x, axis):
    gy = g * out
    return gy - out * xp.sum(gy, axis=axis, keepdims=True)


SOFTMAX = declare("softmax", _softmax_fwd, _softmax_vjp, _softmax_vjp, saves=(), save_out=True,
                  explain="out * (grad - sum(grad * out))")


def _log_softmax_fwd(xp, x, axis):
    s = x - xp.max(x, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


def _log_softmax_vjp(xp, g, out, x, axis):
    return g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True)


def _log_softmax_jvp(xp, t, out, x, axis):
    # J = I - 1 softmax^T is not symmetric (softmax's Jacobian is): the jvp is not the vjp
    return t - xp.sum(xp.exp(out) * t, axis=axis, keepdims=True)


LOG_SOFTMAX = declare("log_softmax", _log_softmax_fwd, _log_softmax_vjp, _log_softmax_jvp,
                      saves=(), save_out=True,
                      explain="grad - exp(out) * sum(grad)")


def _nll_fwd(xp, logp, target, weight, ignore_index, reduction):
    """Negative log-likelihood of class ``target`` along dim 1 of ``logp``."""
    w, valid, t = _nll_weights(xp, logp, target, weight, ignore_index)
    picked = xp.take_along_axis(logp, xp.expand_dims(t, 1), axis=1)
    loss = -xp.squeeze(picked, axis=1) * w
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    return xp.sum(loss) / xp.sum(w)


def _nll_weights(xp, logp, target, weight, ignore_index):
    valid = target != ignore_index
    t = xp.where(valid, target, 0)
    w = valid.astype(logp.dtype)
    if weight is not None:
        w = w * xp.take(weight, t)
    return w, valid, t


def _nll_vjp(xp, g, out, logp, target, weight, ignore_index, reduction):
    w, valid, t = _nll_weights(np, _raw(logp), target, weight, ignore_index)
    if reduction == "mean":
        scale = -w / w.sum()
    else:
        scale = -w
    return K.scatter_into(xp, tuple(logp.shape), 1, np.expand_dims(t, 1),
                          xp.expand_dims(g * scale, 1))


def _raw(a):
    return a._data if hasattr(a, "grad_fn") else a


def _nll_jvp(xp, t, out, logp, target, weight, ignore_index, reduction):
    w, valid, tt = _nll_weights(np, _raw(logp), target, weight, ignore_index)
    picked = -xp.squeeze(K.take_along(xp, t, np.expand_dims(tt, 1), 1), axis=1) * w
    if reduction == "none":
        return picked
    if reduction == "sum":
        return xp.sum(picked)
    return xp.sum(picked) / float(w.sum())


NLL_LOSS = declare("nll_loss", _nll_fwd, _nll_vjp, _nll_jvp,
                   explain=("-grad at the target entries / n", None))


class _Logits:
    """What the fused ``cross_entropy`` node keeps (Note [cross_entropy keeps the softmax])."""

    __slots__ = ("logits", "version", "p")

    def __init__(self, logits) -> None:
        self.logits = logits
        self.version = _registry._version(logits)
        self.p = None

    def __repr__(self) -> str:  # the node's params as ``explain`` prints them
        return "<softmax of the logits>"


# Note [cross_entropy keeps the softmax]
# PyTorch's cross_entropy is log_softmax then nll_loss, and LogSoftmaxBackward0 keeps its
# result, not the logits: changing the logits in place after the loss is allowed there. The
# fused op keeps what its first-order rule reads, the softmax computed in the forward (``p``,
# which also spares the backward recomputing it), and not the logits as a saved input. Its
# ``create_graph`` and vmap rule differentiates through the logits Tensor, kept beside, and
# raises PyTorch's in-place error if they changed since.


def _ce_fwd(xp, x, target, reduction, ignore_index, keep=None):
    """Fused log_softmax + nll_loss for (N, C) logits and class indices, without weights."""
    if xp is np and type(x) is np.ndarray and type(target) is np.ndarray:
        # log-softmax as PyTorch computes it: the shifted logits ``x - max`` minus the log of
        # their exponentials' sum; adding the max back (``logsumexp - x``) would round the
        # loss to the logits' spacing (0.0078 at 1e5 in float32)
        s = x - x.max(axis=1, keepdims=True)
        e = np.exp(s)
        total = e.sum(axis=1, keepdims=True)
        if keep is not None and keep.p is None:  # set once: a rerun forward (a test's) keeps it
            keep.p = e / total
        if reduction != "none" and (target != ignore_index).all():
            # the common case, in as few passes as a hand-written NumPy step
            picked = np.log(total[:, 0]) - s[np.arange(x.shape[0]), target]
            loss = picked.sum()
            return loss / x.shape[0] if reduction == "mean" else loss
        return _nll_fwd(xp, s - np.log(total), target, None, ignore_index, reduction)
    logp = _log_softmax_fwd(xp, x, 1)
    return _nll_fwd(xp, logp, target, None, ignore_index, reduction)


def _ce_vjp(xp, g, out, _x, target, reduction, ignore_index, keep):
    if type(g) is np.ndarray and keep.p is not None:
        return _ce_vjp_numpy(g, keep.p, target, reduction, ignore_index)
    if _registry._version(keep.logits) != keep.version:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            "inplace operation: cross_entropy's logits changed in place after the loss, and its "
            "create_graph rule reads them; compute the loss after the change, or use "
            "log_softmax then nll_loss")
    x = keep.logits if K.is_dxp(xp) else keep.logits._data
    if xp is np and type(x) is np.ndarray and type(target) is np.ndarray:
        return _ce_vjp_numpy(g, _softmax_fwd(np, x, 1), target, reduction, ignore_index)
    p = _softmax_fwd(xp, x, 1)
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    w = valid.astype(np.float64)
    # zeros_like(t, shape=...) and no float(): also right for vmap's batched targets
    onehot = np.zeros_like(t, dtype=bool, shape=tuple(x.shape))
    np.put_along_axis(onehot, np.expand_dims(t, 1), True, axis=1)
    if reduction == "mean":  # w is 0 everywhere when no target is valid: the scale is 0 then
        scale = (w / np.maximum(w.sum(), 1.0)).astype(_np_dtype(x))
    else:
        scale = w.astype(_np_dtype(x))
    if reduction == "none":
        coeff = xp.expand_dims(g, 1) * np.expand_dims(scale, 1)
    else:
        coeff = g * np.expand_dims(scale, 1)
    return coeff * (p - onehot)


def _ce_vjp_numpy(g, p, target, reduction, ignore_index):
    """First-order NumPy case of ``_ce_vjp``: ``(softmax - onehot) * scale`` from the softmax
    ``p`` (not changed: the node may be walked again under ``retain_graph``)."""
    n = p.shape[0]
    rows = np.arange(n)
    valid = target != ignore_index
    if valid.all():
        if reduction == "none":
            scale = np.expand_dims(g, 1)
            out = p * scale
            out[rows, target] -= scale[:, 0]
            return out
        scale = g / n if reduction == "mean" else g
        out = p * scale
        out[rows, target] -= scale
        return out
    t = np.where(valid, target, 0)
    w = valid.astype(p.dtype)
    if reduction == "mean":  # w is 0 everywhere when no target is valid: the scale is 0 then
        w /= max(float(w.sum()), 1.0)
    w = w * g
    out = p * np.expand_dims(w, 1)
    out[rows, t] -= w
    return out


def _np_dtype(x):
    return x._data.dtype if hasattr(x, "grad_fn") else x.dtype  # Tensor, or an array


def _ce_jvp(xp, t, out, x, target, reduction, ignore_index, keep=None):
    p = _softmax_fwd(xp, x, 1)
    logp_t = t - xp.sum(p * t, axis=1, keepdims=True)
    return _nll_jvp(xp, logp_t, None, x, target, None, ignore_index, reduction)


CROSS_ENTROPY = declare("cross_entropy", _ce_fwd, _ce_vjp, _ce_jvp, saves=(),
                        node_name="NllLossBackward0",
                        explain=("grad * (softmax(input) - onehot(target)) / n", None))


def _mm2(xp, a, m):
    """``a @ m`` for a 2-D ``m``; a NumPy ``a`` of 3 or more dims as one 2-D GEMM (NumPy runs a
    stacked matmul as one BLAS call per matrix, about 20% slower for a transformer's
    (batch, time, width) activations)."""
    if xp is np and type(a) is np.ndarray and a.ndim > 2 and m.ndim == 2:
        return np.matmul(a.reshape(-1, a.shape[-1]), m).reshape(a.shape[:-1] + m.shape[-1:])
    return xp.matmul(a, m)


def _linear_fwd(xp, x, w, b):
    out = _mm2(xp, x, _t(xp, w))
    if b is not None:
        if type(out) is np.ndarray and out.dtype == b.dtype and out.ndim:
            out += b  # the product is a fresh array: add the bias in place
        else:
            out = out + b
    return out


def _t(xp, w):
    if type(w) is np.ndarray:
        return w.T if w.ndim == 2 else w  # the same view, without NumPy's function wrapper
    return xp.swapaxes(w, -1, -2) if w.ndim == 2 else w


def _linear_vjp(xp, g, out, x, w, b, *, needs):
    if type(g) is np.ndarray and g.ndim == 2 and (
            not needs[0] or type(w) is np.ndarray and w.ndim == 2) and (
            not needs[1] or type(x) is np.ndarray and x.ndim == 2):
        # the 2-D NumPy case (a layer's step) written out: the two GEMMs as the hand-written
        # step makes them (``g @ w``, and ``g.T @ x``: the transpose is a flag to the BLAS)
        return (g @ w if needs[0] else None, g.T @ x if needs[1] else None,
                g if needs[2] else None)
    gx = gw = gb = None
    if needs[0]:
        gx = _mm2(xp, g, w) if w.ndim == 2 else xp.multiply(xp.expand_dims(g, -1), w)
    if needs[1]:  # reads the input only (Note [saves_if]): a 1-D weight drops a dim
        if g.ndim == 2 and x.ndim == 2:
            gw = xp.matmul(_t(xp, g), x)  # the common case, without the reshapes below
        elif g.ndim < x.ndim:
            gw = xp.sum(g[..., None] * x, axis=tuple(range(x.ndim - 1))) if x.ndim > 1 else g * x
        elif x.ndim == 1:
            gw = xp.multiply(xp.expand_dims(g, -1), x)
        else:
            g2 = xp.reshape(g, (-1, g.shape[-1]))
            x2 = xp.reshape(x, (-1, x.shape[-1]))
            gw = xp.matmul(_t(xp, g2), x2)
    if needs[2]:
        gb = g
    return gx, gw, gb


def _linear_jvp(xp, t, out, x, w, b):
    tx, tw, tb = t
    r = None if tx is None else xp.matmul(tx, _t(xp, w))
    if tw is not None:
        r2 = xp.matmul(x, _t(xp, tw))
        r = r2 if r is None else r + r2
    if tb is not None:
        r = tb + xp.zeros_like(out) if r is None else r + tb
    return r


LINEAR = declare("linear", _linear_fwd, _linear_vjp, _linear_jvp,
                 inputs=("self", "weight", "bias"), node_name="AddmmBackward0",
                 saves_if=((1,), (0,), ()),
                 explain=("grad @ weight", "grad.T @ input", "grad summed over the batch"))
LINEAR_NOBIAS = declare("linear_nobias", lambda xp, x, w: _linear_fwd(xp, x, w, None),
                        lambda xp, g, out, x, w, *, needs: _linear_vjp(
                            xp, g, out, x, w, None, needs=needs + (False,))[:2],
                        lambda xp, t, out, x, w: _linear_jvp(xp, t + (None,), out, x, w, None),
                        inputs=("self", "weight"), node_name="MmBackward0",
                        saves_if=((1,), (0,)), explain=("grad @ weight", "grad.T @ input"))


def _leaky_fwd(xp, x, slope):
    return xp.where(x > 0, x, x * slope)


LEAKY_RELU = declare("leaky_relu", _leaky_fwd,
                     lambda xp, g, out, x, slope: g * xp.where(x > 0, 1.0, slope),
                     lambda xp, t, out, x, slope: t * xp.where(x > 0, 1.0, slope),
                     explain="grad * (1 where x > 0, else slope)")


def _gelu_fwd(xp, x, approximate, cdf=None):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    if xp is np and type(x) is np.ndarray and x.dtype == np.float32 and x.ndim:
        y, dx = _gelu32(x, cdf is not None)  # Note [float32 gelu]
        if dx is not None:
            cdf[:] = [x, dx]  # the derivative, kept for the rules given this same input
        return y
    c = _erf(xp, x * _INV_SQRT_2)
    if type(c) is np.ndarray and c.dtype == x.dtype:  # fresh: finish the CDF in place
        c += 1.0
        c *= 0.5
    else:
        c = 0.5 * (1.0 + c)
    if cdf is not None and xp is np:
        cdf[:] = [x, c]  # kept for the rules given this same input (Note [fast erfc])
    return x * c


def _gelu_dx(xp, x, approximate, cdf=None):
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        th = xp.tanh(inner)
        dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * dinner
    if cdf and xp is np and cdf[0] is x and x.dtype == np.float32 and x.ndim:
        return cdf[1]  # the forward's gelu'(x) (Note [float32 gelu])
    if cdf and xp is np and cdf[0] is x and x.ndim:  # in place: one temporary
        d = x * x
        d *= -0.5
        np.exp(d, out=d)
        d *= x
        d *= _INV_SQRT_2PI
        d += cdf[1]
        return d
    c = 0.5 * (1.0 + _erf(xp, x * _INV_SQRT_2))
    return c + x * _INV_SQRT_2PI * xp.exp(-0.5 * x * x)


GELU = declare("gelu", _gelu_fwd, lambda xp, g, out, x, approximate, cdf=None: g * _gelu_dx(
    xp, x, approximate, cdf), lambda xp, t, out, x, approximate, cdf=None: t * _gelu_dx(
    xp, x, approximate, cdf),
               explain="grad * gelu'(x)")


def _silu_vjp(xp, g, out, x):
    s = K.sigmoid(xp, x)
    return g * (s * (1.0 + x * (1.0 - s)))


SILU = declare("silu", lambda xp, x: x * K.sigmoid(xp, x), _silu_vjp, elementwise=True,
               explain="grad * sigmoid(x) * (1 + x * (1 - sigmoid(x)))")


def _softplus1(xp, x):
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0.0)


def _mish_vjp(xp, g, out, x):
    th = xp.tanh(_softplus1(xp, x))
    return g * (th + x * K.sigmoid(xp, x) * (1.0 - th * th))


MISH = declare("mish", lambda xp, x: x * xp.tanh(_softplus1(xp, x)), _mish_vjp,
               elementwise=True,
               explain="grad * (tanh(softplus(x)) + x * sigmoid(x) * sech(softplus(x))**2)")


def _hardswish_fwd(xp, x):
    return x * xp.minimum(xp.maximum(x + 3.0, 0.0), 6.0) / 6.0


def _hardswish_vjp(xp, g, out, x):
    # PyTorch's: 0 up to -3 included, the inner slope below 3, grad from 3 on (and at NaN)
    return xp.where(x <= -3.0, 0.0, xp.where(x < 3.0, g * (x / 3.0 + 0.5), g))


HARDSWISH = declare("hardswish", _hardswish_fwd, _hardswish_vjp, elementwise=True,
                    explain="grad * (x / 3 + 1/2) on (-3, 3), grad from 3 on, 0 up to -3")


def _softplus_fwd(xp, x, beta, threshold):
    z = x * beta
    soft = xp.log1p(xp.exp(-xp.abs(z))) + xp.maximum(z, 0.0)
    return xp.where(z > threshold, x, soft / beta)


def _softplus_dx(xp, x, beta, threshold):
    z = x * beta
    return xp.where(z > threshold, 1.0, K.sigmoid(xp, z))


SOFTPLUS = declare("softplus", _softplus_fwd,
                   lambda xp, g, out, x, beta, threshold: g * _softplus_dx(xp, x, beta, threshold),
                   lambda xp, t, out, x, beta, threshold: t * _softplus_dx(xp, x, beta, threshold),
                   explain="grad * sigmoid(beta * x)")


def _mse_fwd(xp, a, b, reduction):
    d = (a - b) * (a - b)
    if reduction == "none":
        return d
    return xp.sum(d) if reduction == "sum" else xp.mean(d)


def _mse_vjp(xp, g, out, a, b, reduction, *, needs):
    d = a - b
    if reduction == "mean":
        n = 1
        for s in np.broadcast_shapes(tuple(a.shape), tuple(b.shape)):
            n *= s
        gd = g * (2.0 / n) * d
    else:
        gd = g * 2.0 * d
    return (gd if needs[0] else None, -gd if needs[1] else None)


def _mse_jvp(xp, t, out, a, b, reduction):
    ta, tb = t
    d = a - b
    td = ta if tb is None else (-tb if ta is None else ta - tb)
    r = 2.0 * d * td
    if reduction == "none":
        return r
    return xp.sum(r) if reduction == "sum" else xp.mean(r)


MSE_LOSS = declare("mse_loss", _mse_fwd, _mse_vjp, _mse_jvp, inputs=("self", "target"),
                   explain=("grad * 2 * (a - b) / n", "-grad * 2 * (a - b) / n"))


# --------------------------------------------------------------------------------------------
# public functions (re-exported by gradwalk.nn.functional)


def _dim(x, dim, op):
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return _arrays.wrap_dim(dim, max(x.ndim, 1), op) if x.ndim else 0


def _float(x, op):
    if not isinstance(x, _registry.Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    K.real_only(op, x)
    if x._data.dtype.kind != "f":
        return x.to(get_default_dtype())
    return x


def softmax(input, dim=None, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.softmax(gradwalk.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    x = _float(input, "softmax") if dtype is None else input.to(dtype)
    return apply1(SOFTMAX, x, {"axis": _dim(x, dim, "softmax")})


def log_softmax(input, dim=None, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.log_softmax(gradwalk.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    x = _float(input, "log_softmax") if dtype is None else input.to(dtype)
    return apply1(LOG_SOFTMAX, x, {"axis": _dim(x, dim, "log_softmax")})


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}(): {reduction!r} is not a valid value for reduction; use "
                         "'mean', 'sum' or 'none'")


def _class_target(input, target, op):
    if not isinstance(target, _registry.Tensor):
        target = _registry.wrap(np.asarray(target))
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}(): expected target of class indices with an integer dtype (int64), got "
            f"{target.dtype}. For probabilities as targets use a float tensor of the input's "
            "shape (cross_entropy only).")
    n_expected = (input.shape[0],) + input.shape[2:] if input.ndim >= 2 else ()
    if tuple(target.shape) != n_expected:
        raise ValueError(
            f"{op}(): expected target of shape {list(n_expected)} for input of shape "
            f"{list(input.shape)}, got {list(target.shape)}")
    return target


def _check_classes(target_data, n_classes, ignore_index, op):
    target_data = K.all_samples(target_data)  # under vmap: check the targets of every sample
    if target_data.size and 0 <= target_data.min() and target_data.max() < n_classes:
        return  # all in range (the common case: two reductions, no mask)
    t = target_data[target_data != ignore_index]
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = int(t.max()) if t.max() >= n_classes else int(t.min())
        raise IndexError(f"{op}(): Target {bad} is out of bounds: expected class indices in "
                         f"[0, {n_classes - 1}]")


def _to_2d(x, t=None):
    """Move the class dim last and flatten (N, C, d1, ...) to (N*d1*..., C) for K-dim losses."""
    c = x.shape[1]
    xm = S.movedim(x, 1, -1)
    x2 = S.reshape(xm, (-1, c))
    return x2, (None if t is None else _registry.wrap(t._data.reshape(-1)))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood loss on log-probabilities (``input`` of shape (N, C, ...)).

    Example:
        >>> import gradwalk
        >>> logp = gradwalk.log_softmax(gradwalk.tensor([[0.0, 0.0]]), dim=1)
        >>> gradwalk.nn.functional.nll_loss(logp, gradwalk.tensor([1]))
        tensor(0.6931)
    """
    _check_reduction(reduction, "nll_loss")
    if input.ndim < 1:
        raise ValueError("nll_loss(): input must have at least 1 dimension")
    if input.ndim == 1:
        input = input.unsqueeze(0)
        target = target.reshape(1) if isinstance(target, _registry.Tensor) else _registry.wrap(
            np.asarray([target]))
        out = nll_loss(input, target, weight, ignore_index=ignore_index, reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    target = _class_target(input, target, "nll_loss")
    _check_classes(target._data, input.shape[1], ignore_index, "nll_loss")
    if input.ndim > 2:
        shape = (input.shape[0],) + input.shape[2:]
        x2, t2 = _to_2d(input, target)
        out = nll_loss(x2, t2, weight, ignore_index=ignore_index, reduction=reduction)
        return out.reshape(shape) if reduction == "none" else out
    if weight is not None:
        weight = (weight._data if isinstance(weight, _registry.Tensor)
                  else np.asarray(weight)).astype(input._data.dtype)
    if _registry._trace is not None:  # Note [values checked by the caller] in ops/valued.py
        from . import valued
        if (r := valued.nll_loss(input, target._data, weight, ignore_index, reduction)) is not None:
            return r
    return apply1(NLL_LOSS, input, {"target": target._data, "weight": weight,
                                    "ignore_index": ignore_index, "reduction": reduction})


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (N, C, ...) against class indices or class
    probabilities ``target``; ``weight``, ``ignore_index``, ``reduction``, ``label_smoothing``
    as in PyTorch. The common case (2-D logits, class indices) is one fused op.

    Example:
        >>> import gradwalk
        >>> logits = gradwalk.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> gradwalk.nn.functional.cross_entropy(logits, gradwalk.tensor([0, 1]))
        tensor(0.1269)
    """
    _check_reduction(reduction, "cross_entropy")
    x = _float(input, "cross_entropy")
    if isinstance(target, _registry.Tensor) and target._data.dtype.kind == "f":
        return _cross_entropy_probs(x, target, weight, reduction, label_smoothing)
    if x.ndim == 1:
        t = target if isinstance(target, _registry.Tensor) else _registry.wrap(np.asarray(target))
        out = cross_entropy(x.unsqueeze(0), t.reshape(1), weight, ignore_index=ignore_index,
                            reduction=reduction, label_smoothing=label_smoothing)
        return out.reshape(()) if reduction == "none" else out
    target = _class_target(x, target, "cross_entropy")
    _check_classes(target._data, x.shape[1], ignore_index, "cross_entropy")
    if x.ndim == 2 and weight is None and label_smoothing == 0.0:
        if _registry._trace is not None:  # Note [values checked by the caller] (valued.py)
            from . import valued
            if (r := valued.cross_entropy(x, target._data, reduction, ignore_index)) is not None:
                return r
        keep = _Logits(x) if x._requires_grad and _registry.is_grad_enabled_fast() else None
        return apply1(CROSS_ENTROPY, x, {"target": target._data, "reduction": reduction,
                                         "ignore_index": ignore_index, "keep": keep})
    logp = log_softmax(x, 1)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    return _smooth(logp, target, weight, ignore_index, reduction, label_smoothing, nll)


def _smooth(logp, target, weight, ignore_index, reduction, eps, nll):
    """PyTorch's label smoothing: (1 - eps) * nll + eps * mean over classes of -w_c log p_c."""
    c = logp.shape[1]
    valid = _registry.wrap(target._data != ignore_index)
    lp = logp if weight is None else logp * _class_view(weight, logp)
    smooth = -R.sum(lp, 1) * _cast_like(valid, logp)
    if reduction == "none":
        return (1 - eps) * nll + eps * smooth / c
    if reduction == "sum":
        return (1 - eps) * nll + eps * R.sum(smooth) / c
    if weight is None:
        denom = float(valid._data.sum())
    else:
        w = weight._data if isinstance(weight, _registry.Tensor) else np.asarray(weight)
        denom = float((w[np.where(valid._data, target._data, 0)] * valid._data).sum())
    return (1 - eps) * nll + eps * R.sum(smooth) / (c * denom)


def _class_view(weight, x):
    w = weight if isinstance(weight, _registry.Tensor) else _registry.wrap(np.asarray(weight,
                                                                          dtype=x._data.dtype))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return w.reshape(shape)


def _cast_like(mask, x):
    return _registry.wrap(mask._data.astype(x._data.dtype))


def _cross_entropy_probs(x, target, weight, reduction, eps):
    if target.shape != x.shape:
        raise ValueError(f"cross_entropy(): probability targets must have the input's shape "
                         f"{list(x.shape)}, got {list(target.shape)}")
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    axis = 1 if x.ndim > 1 else 0
    if eps:
        target = target * (1 - eps) + eps / c
    logp = log_softmax(x, axis)
    lp = logp if weight is None else logp * _class_view(weight, logp)
    loss = -R.sum(lp * target, axis)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return R.sum(loss)
    n = loss.numel()
    return R.sum(loss) / n


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error (``reduction`` "mean", "sum" or "none").

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.mse_loss(gradwalk.tensor([1.0, 3.0]), gradwalk.tensor([1.0, 1.0]))
        tensor(2.)
    """
    _check_reduction(reduction, "mse_loss")
    if not isinstance(target, _registry.Tensor):
        target = _registry.wrap(np.asarray(target, dtype=input._data.dtype))
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({list(target.shape)}) that is different to the input size "
            f"({list(input.shape)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=2)
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            K.raise_broadcast_error("mse_loss", input.shape, target.shape)
    return apply(MSE_LOSS, input, target, params={"reduction": reduction})


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.binary_cross_entropy_with_logits(gradwalk.tensor([0.0]), gradwalk.tensor([1.0]))
        tensor(0.6931)
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if not isinstance(target, _registry.Tensor):
        target = _registry.wrap(np.asarray(target, dtype=input._data.dtype))
    if target.shape != input.shape:
        raise ValueError(f"Target size ({list(target.shape)}) must be the same as input size "
                         f"({list(input.shape)})")
    sp = softplus(E.neg(input))
    if pos_weight is None:
        loss = (1 - target) * input + sp
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    return R.sum(loss) if reduction == "sum" else R.mean(loss)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``, one fused op.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.linear(gradwalk.ones(1, 3), gradwalk.ones(2, 3), gradwalk.zeros(2))
        tensor([[3., 3.]])
    """
    if not isinstance(input, _registry.Tensor) or not isinstance(weight, _registry.Tensor):
        raise TypeError("linear(): input and weight must be Tensors")
    xd, wd = input._data, weight._data
    if xd.shape[-1:] != ((wd.shape[-1] if wd.ndim else 1),):
        sa = "x".join(map(str, (math.prod(input.shape[:-1]), input.shape[-1])))
        sb = "x".join(map(str, (weight.shape[-1], weight.shape[0]) if weight.ndim == 2
                          else weight.shape))
        raise RuntimeError(f"linear(): mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if xd.dtype != wd.dtype:
        raise RuntimeError(
            f"linear(): expected input and weight to have the same dtype, but got "
            f"{input.dtype} and {weight.dtype}. Convert the input with .to({weight.dtype})")
    if bias is None:  # Note [direct apply]
        return apply_product(LINEAR_NOBIAS, input, weight)
    if not isinstance(bias, _registry.Tensor):
        return apply(LINEAR, input, weight, bias)
    return apply_linear(LINEAR, input, weight, bias)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.leaky_relu(gradwalk.tensor([-1.0, 2.0]), 0.1)
        tensor([-0.1000,  2.0000])
    """
    return apply1(LEAKY_RELU, input, {"slope": negative_slope})


def gelu(input, approximate="none"):
    """Gaussian error linear unit (exact, or ``approximate="tanh"``).

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.gelu(gradwalk.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    keep = input.requires_grad and _grad_on()  # the derivative is kept only for a backward
    return apply1(GELU, input, {"approximate": approximate, "cdf": [] if keep else None})


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.softplus(gradwalk.tensor([0.0]))
        tensor([0.6931])
    """
    return apply1(SOFTPLUS, input, {"beta": beta, "threshold": threshold})


def relu(input, inplace=False):
    return E.relu(input)


def sigmoid(input):
    return E.sigmoid(input)


def tanh(input):
    return E.tanh(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.ones(4)
        >>> gradwalk.nn.functional.dropout(x, 0.5, training=False) is x
        True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from ..creation import _rng

    keep = _rng().random(input.shape) >= p
    mask = keep.astype(input._data.dtype) / (1.0 - p)
    return input * _registry.wrap(mask)
