"""Loss ops with fused rules: ``binary_cross_entropy``, ``l1_loss``, ``smooth_l1_loss`` (and
``huber_loss`` composed from it). Each loss is one node: elementwise loss plus reduction.

The reduction is a param: ``"none"`` returns the elementwise loss, ``"sum"`` its sum and
``"mean"`` its mean over the broadcast shape of the inputs.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import kernels as K
from . import registry as _registry
from .registry import apply, declare

_LOG_FLOOR = -100.0  # PyTorch clamps log(p) of BCE at -100, so p = 0 gives a finite loss
_BCE_EPS = 1e-12  # and clamps x * (1 - x) in the gradient's denominator to this


def _reduce(xp, loss, reduction):
    if reduction == "none":
        return loss
    return xp.sum(loss) if reduction == "sum" else xp.mean(loss)


def _scale(g, reduction, shape):
    """The gradient of the reduction: ``g`` per element (divided by the count for mean)."""
    if reduction == "mean":
        return g * (1.0 / max(math.prod(shape), 1))
    return g


def _bshape(a, b):
    return np.broadcast_shapes(tuple(a.shape), tuple(getattr(b, "shape", ())))


# --------------------------------------------------------------------------------------------
# binary cross-entropy on probabilities


def _bce_logs(xp, x):
    if K.is_dxp(xp):
        return (xp.maximum(xp.log(x), _LOG_FLOOR), xp.maximum(xp.log(1.0 - x), _LOG_FLOOR))
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 like PyTorch
        return (xp.maximum(xp.log(x), _LOG_FLOOR), xp.maximum(xp.log(1.0 - x), _LOG_FLOOR))


def _bce_fwd(xp, x, t, weight, reduction):
    logx, log1mx = _bce_logs(xp, x)
    loss = -(t * logx + (1.0 - t) * log1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(xp, loss, reduction)


def _bce_dx(xp, x, t, weight):
    d = (x - t) / xp.maximum((1.0 - x) * x, _BCE_EPS)
    return d if weight is None else d * weight


def _bce_dt(xp, x, weight):
    logx, log1mx = _bce_logs(xp, x)
    d = log1mx - logx
    return d if weight is None else d * weight


def _bce_vjp(xp, g, out, x, t, weight, reduction, *, needs):
    s = _scale(g, reduction, _bshape(x, t))
    gx = s * _bce_dx(xp, x, t, weight) if needs[0] else None
    gt = s * _bce_dt(xp, x, weight) if needs[1] else None
    return gx, gt


def _bce_jvp(xp, tan, out, x, t, weight, reduction):
    tx, tt = tan
    r = None
    if tx is not None:
        r = tx * _bce_dx(xp, x, t, weight)
    if tt is not None:
        r2 = tt * _bce_dt(xp, x, weight)
        r = r2 if r is None else r + r2
    return _reduce(xp, r, reduction)


BINARY_CROSS_ENTROPY = declare("binary_cross_entropy", _bce_fwd, _bce_vjp, _bce_jvp,
                               inputs=("self", "target"))


# --------------------------------------------------------------------------------------------
# L1 and smooth L1 (Huber)


def _l1_fwd(xp, a, b, reduction):
    return _reduce(xp, xp.abs(a - b), reduction)


def _l1_vjp(xp, g, out, a, b, reduction, *, needs):
    gd = _scale(g, reduction, _bshape(a, b)) * xp.sign(a - b)
    return (gd if needs[0] else None, -gd if needs[1] else None)


def _diff_tangent(t):
    ta, tb = t
    if tb is None:
        return ta
    return -tb if ta is None else ta - tb


def _l1_jvp(xp, t, out, a, b, reduction):
    return _reduce(xp, xp.sign(a - b) * _diff_tangent(t), reduction)


L1_LOSS = declare("l1_loss", _l1_fwd, _l1_vjp, _l1_jvp, inputs=("self", "target"),
                  node_name="L1LossBackward0")


def _sl1_fwd(xp, a, b, reduction, beta):
    d = a - b
    ad = xp.abs(d)
    if beta == 0.0:
        return _reduce(xp, ad, reduction)
    return _reduce(xp, xp.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta), reduction)


def _sl1_dd(xp, a, b, beta):
    d = a - b
    if beta == 0.0:
        return xp.sign(d)
    return xp.where(xp.abs(d) < beta, d * (1.0 / beta), xp.sign(d))


def _sl1_vjp(xp, g, out, a, b, reduction, beta, *, needs):
    gd = _scale(g, reduction, _bshape(a, b)) * _sl1_dd(xp, a, b, beta)
    return (gd if needs[0] else None, -gd if needs[1] else None)


def _sl1_jvp(xp, t, out, a, b, reduction, beta):
    return _reduce(xp, _sl1_dd(xp, a, b, beta) * _diff_tangent(t), reduction)


SMOOTH_L1_LOSS = declare("smooth_l1_loss", _sl1_fwd, _sl1_vjp, _sl1_jvp,
                         inputs=("self", "target"), node_name="SmoothL1LossBackward0")


# --------------------------------------------------------------------------------------------
# public functions (re-exported by gradwalk.nn.functional)


def _check_reduction(reduction, op):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}(): {reduction!r} is not a valid value for reduction; use "
                         "'mean', 'sum' or 'none'")


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated ``size_average``/``reduce`` arguments, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _pair(input, target, op, warn=True):
    if not isinstance(input, _registry.Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(target, _registry.Tensor):
        target = _registry.wrap(np.asarray(target, dtype=input._data.dtype))
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            K.raise_broadcast_error(op, input.shape, target.shape)
        if warn:
            warnings.warn(
                f"Using a target size ({list(target.shape)}) that is different to the input "
                f"size ({list(input.shape)}). This will likely lead to incorrect results due to "
                "broadcasting. Please ensure they have the same size.", UserWarning,
                stacklevel=3)
    if target._data.dtype != input._data.dtype and input._data.dtype.kind == "f":
        target = target.to(input.dtype)
    return input, target


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` (in [0, 1]) and ``target``:
    ``-w * (t * log(x) + (1 - t) * log(1 - x))``, with the logs clamped at -100.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.binary_cross_entropy(gradwalk.tensor([0.5, 0.5]), gradwalk.tensor([1.0, 0.0]))
        tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    if isinstance(target, _registry.Tensor) and target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({list(target.shape)}) that is different to the input size "
            f"({list(input.shape)}) is deprecated. Please ensure they have the same size.")
    input, target = _pair(input, target, "binary_cross_entropy", warn=False)
    x = input._data
    xs = K.all_samples(x)  # under vmap: check every sample
    if xs.size and (float(xs.min()) < 0.0 or float(xs.max()) > 1.0):
        raise RuntimeError("binary_cross_entropy(): all elements of input should be between 0 "
                           "and 1; apply sigmoid first, or use binary_cross_entropy_with_logits "
                           "on the logits")
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, _registry.Tensor) else np.asarray(weight)
        w = np.broadcast_to(w.astype(x.dtype, copy=False), x.shape)
    return apply(BINARY_CROSS_ENTROPY, input, target,
                 params={"weight": w, "reduction": reduction})


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error ``|input - target|`` (``reduction`` "mean", "sum" or "none").

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.l1_loss(gradwalk.tensor([1.0, 3.0]), gradwalk.tensor([2.0, 1.0]))
        tensor(1.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "l1_loss")
    input, target = _pair(input, target, "l1_loss")
    return apply(L1_LOSS, input, target, params={"reduction": reduction})


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, with
    ``d = input - target``.

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.smooth_l1_loss(gradwalk.tensor([0.5, 3.0]), gradwalk.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = _pair(input, target, "smooth_l1_loss")
    return apply(SMOOTH_L1_LOSS, input, target,
                 params={"reduction": reduction, "beta": float(beta)})


def huber_loss(input, target, reduction="mean", delta=1.0):
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``
    (``delta * smooth_l1_loss(beta=delta)``).

    Example:
        >>> import gradwalk
        >>> F = gradwalk.nn.functional
        >>> F.huber_loss(gradwalk.tensor([0.5, 3.0]), gradwalk.tensor([0.0, 0.0]), delta=2.0)
        tensor(2.0625)
    """
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _pair(input, target, "huber_loss")
    out = apply(SMOOTH_L1_LOSS, input, target,
                params={"reduction": reduction, "beta": float(delta)})
    return out * delta
