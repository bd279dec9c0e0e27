"""Op samples of the neural-network functions: activations and ``softmax``/``log_softmax``,
``linear``, the losses (``nll_loss``, ``cross_entropy``, ``mse_loss``, ``binary_cross_entropy``,
``l1_loss``, ``smooth_l1_loss``/``huber_loss``), convolution and its two gradients, pooling,
``layer_norm`` and ``batch_norm``.

The tables ``NN``, ``LOSSES`` and ``F_CONV`` join ``SAMPLES`` in ``op_samples.py``, in that place
of its order (after ``LINALG``); import them from there. The samples at kinks and ties of these
ops (``leaky_relu_at_zero``, ``l1_loss_zero_diff``, ``max_pool_ties``) stay in its ``KINKS``,
which uses this module's ``_pool_ref`` and ``_max_window``.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from .op_samples_base import Joint, Sample, _erf, _t, distinct, nonzero
except ImportError:  # run as a top-level module (the table's own runner)
    from op_samples_base import Joint, Sample, _erf, _t, distinct, nonzero  # type: ignore[no-redef]


# ---------------------------------------------------------------------------------------------
# NumPy references and constants

def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _nll(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    w = valid * (1.0 if weight is None else weight[t])
    loss = -logp[np.arange(len(t)), t] * w
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / w.sum()


TARGET = np.array([1, 0, 3])                         # class indices for (3, 4) logits
TARGET_IGN = np.array([1, -100, 3])
CLASS_W = np.array([0.5, 2.0, 1.0, 1.5])


def _softplus_domain(rng, shapes):
    # beta * x away from the threshold 2.0 used below
    x = rng.uniform(-2.0, 2.0, shapes[0])
    return [np.where(np.abs(2 * x - 2.0) < 0.1, x - 0.2, x)]


# ---------------------------------------------------------------------------------------------
# the tables

S = Sample

NN = [
    S("softmax", "softmax", lambda m, a: m.softmax(a, dim=1), ((3, 4),),
      lambda a: _softmax(a, 1)),
    S("softmax_3d_last", "softmax", lambda m, a: m.nn.functional.softmax(a, dim=-1),
      ((2, 3, 4),), lambda a: _softmax(a, -1)),
    S("log_softmax", "log_softmax", lambda m, a: m.log_softmax(a, dim=1), ((3, 4),),
      lambda a: _log_softmax(a, 1)),
    S("log_softmax_dim0", "log_softmax", lambda m, a: m.nn.functional.log_softmax(a, dim=0),
      ((3, 4),), lambda a: _log_softmax(a, 0)),
    S("nll_loss", "nll_loss", lambda m, a: m.nn.functional.nll_loss(a, _t(m, TARGET)),
      ((3, 4),), lambda a: _nll(a, TARGET)),
    S("nll_loss_weight_ignore", "nll_loss",
      lambda m, a: m.nn.functional.nll_loss(a, _t(m, TARGET_IGN), weight=_t(m, CLASS_W)),
      ((3, 4),), lambda a: _nll(a, TARGET_IGN, CLASS_W)),
    S("nll_loss_sum", "nll_loss",
      lambda m, a: m.nn.functional.nll_loss(a, _t(m, TARGET), reduction="sum"),
      ((3, 4),), lambda a: _nll(a, TARGET, reduction="sum")),
    S("nll_loss_none", "nll_loss",
      lambda m, a: m.nn.functional.nll_loss(a, _t(m, TARGET_IGN), reduction="none"),
      ((3, 4),), lambda a: _nll(a, TARGET_IGN, reduction="none")),
    S("cross_entropy", "cross_entropy",
      lambda m, a: m.nn.functional.cross_entropy(a, _t(m, TARGET)), ((3, 4),),
      lambda a: _nll(_log_softmax(a, 1), TARGET)),
    S("cross_entropy_sum_ignore", "cross_entropy",
      lambda m, a: m.nn.functional.cross_entropy(a, _t(m, TARGET_IGN), reduction="sum"),
      ((3, 4),), lambda a: _nll(_log_softmax(a, 1), TARGET_IGN, reduction="sum")),
    S("cross_entropy_none", "cross_entropy",
      lambda m, a: m.nn.functional.cross_entropy(a, _t(m, TARGET), reduction="none"),
      ((3, 4),), lambda a: _nll(_log_softmax(a, 1), TARGET, reduction="none")),
    S("cross_entropy_mean_ignore", "cross_entropy",
      lambda m, a: m.nn.functional.cross_entropy(a, _t(m, TARGET_IGN)), ((3, 4),),
      lambda a: _nll(_log_softmax(a, 1), TARGET_IGN)),
    S("linear", "linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
      ((3, 4), (2, 4), (2,)), lambda x, w, b: x @ w.T + b),
    S("linear_3d", "linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
      ((2, 3, 4), (5, 4), (5,)), lambda x, w, b: x @ w.T + b),
    S("linear_vec_input", "linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
      ((4,), (3, 4), (3,)), lambda x, w, b: w @ x + b),
    S("linear_nobias", "linear_nobias", lambda m, x, w: m.nn.functional.linear(x, w),
      ((3, 4), (2, 4)), lambda x, w: x @ w.T),
    S("linear_nobias_3d", "linear_nobias", lambda m, x, w: m.nn.functional.linear(x, w),
      ((2, 3, 4), (5, 4)), lambda x, w: x @ w.T),
    S("leaky_relu", "leaky_relu", lambda m, a: m.nn.functional.leaky_relu(a, 0.1), ((3, 4),),
      lambda a: np.where(a > 0, a, 0.1 * a), nonzero),
    S("gelu", "gelu", lambda m, a: m.nn.functional.gelu(a), ((3, 4),),
      lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2)))),
    S("gelu_tanh", "gelu", lambda m, a: m.nn.functional.gelu(a, approximate="tanh"), ((3, 4),),
      lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))),
    S("softplus", "softplus", lambda m, a: m.nn.functional.softplus(a), ((3, 4),),
      lambda a: np.log1p(np.exp(a))),
    S("softplus_beta_threshold", "softplus",
      lambda m, a: m.nn.functional.softplus(a, beta=2.0, threshold=2.0), ((3, 4),),
      lambda a: np.where(2 * a > 2.0, a, np.log1p(np.exp(2 * a)) / 2), Joint(_softplus_domain)),
    S("mse_loss", "mse_loss", lambda m, a, b: m.nn.functional.mse_loss(a, b), ((3, 4), (3, 4)),
      lambda a, b: ((a - b) ** 2).mean()),
    S("mse_loss_sum", "mse_loss",
      lambda m, a, b: m.nn.functional.mse_loss(a, b, reduction="sum"), ((3, 4), (3, 4)),
      lambda a, b: ((a - b) ** 2).sum()),
    S("mse_loss_none", "mse_loss",
      lambda m, a, b: m.nn.functional.mse_loss(a, b, reduction="none"), ((2, 3), (2, 3)),
      lambda a, b: (a - b) ** 2),
]

def _prob(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _diff_domain(lo, hi):
    """Joint domain of two inputs whose difference |a - b| lies in [lo, hi] (signs random)."""

    def draw(rng, shapes):
        b = rng.standard_normal(shapes[1])
        d = rng.choice([-1.0, 1.0], shapes[0]) * rng.uniform(lo, hi, shapes[0])
        return [b + d, b]

    return Joint(draw)


BCE_W = np.array([0.5, 1.0, 2.0, 1.5])


def _bce(x, t, w=1.0, reduction="mean"):
    loss = -w * (t * np.log(x) + (1 - t) * np.log(1 - x))
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def _huber(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


LOSSES = [
    S("binary_cross_entropy", "binary_cross_entropy",
      lambda m, x, t: m.nn.functional.binary_cross_entropy(x, t), ((3, 4), (3, 4)), _bce,
      _prob),
    S("binary_cross_entropy_weight_sum", "binary_cross_entropy",
      lambda m, x, t: m.nn.functional.binary_cross_entropy(x, t, weight=_t(m, BCE_W),
                                                           reduction="sum"),
      ((3, 4), (3, 4)), lambda x, t: _bce(x, t, BCE_W, "sum"), _prob),
    S("binary_cross_entropy_none", "binary_cross_entropy",
      lambda m, x, t: m.nn.functional.binary_cross_entropy(x, t, reduction="none"),
      ((2, 3), (2, 3)), lambda x, t: _bce(x, t, reduction="none"), _prob),
    S("l1_loss", "l1_loss", lambda m, a, b: m.nn.functional.l1_loss(a, b), ((3, 4), (3, 4)),
      lambda a, b: np.abs(a - b).mean(), _diff_domain(0.1, 2.0)),
    S("l1_loss_none", "l1_loss",
      lambda m, a, b: m.nn.functional.l1_loss(a, b, reduction="none"), ((2, 3), (2, 3)),
      lambda a, b: np.abs(a - b), _diff_domain(0.1, 2.0)),
    S("smooth_l1_loss", "smooth_l1_loss", lambda m, a, b: m.nn.functional.smooth_l1_loss(a, b),
      ((3, 4), (3, 4)), lambda a, b: _huber(a - b, 1.0).mean(), _diff_domain(0.1, 0.8)),
    S("smooth_l1_loss_beta_sum", "smooth_l1_loss",
      lambda m, a, b: m.nn.functional.smooth_l1_loss(a, b, reduction="sum", beta=0.5),
      ((3, 4), (3, 4)), lambda a, b: _huber(a - b, 0.5).sum(), _diff_domain(0.6, 2.0)),
    S("huber_loss", "smooth_l1_loss",
      lambda m, a, b: m.nn.functional.huber_loss(a, b, reduction="none", delta=2.0),
      ((2, 3), (2, 3)), lambda a, b: 2.0 * _huber(a - b, 2.0), _diff_domain(0.1, 1.8)),
]

def _conv_loops(x, w, stride, padding, dilation, groups):
    """Naive convolution: yields (output index, window slice, input channels, o) per position."""
    d = x.ndim - 2
    k = w.shape[2:]
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    out = tuple((n - dl * (kk - 1) - 1) // s + 1
                for n, kk, s, dl in zip(padded, k, stride, dilation))
    cg, og = w.shape[1], w.shape[0] // groups
    for o in range(w.shape[0]):
        chans = slice((o // og) * cg, (o // og + 1) * cg)
        for pos in np.ndindex(*out):
            sl = tuple(slice(q * s, q * s + dl * (kk - 1) + 1, dl)
                       for q, s, dl, kk in zip(pos, stride, dilation, k))
            yield (slice(None), o) + pos, (slice(None), chans) + sl, o, out, d


def _conv_ref(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    xp_ = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    y = None
    for yi, win, o, out, d in _conv_loops(x, w, stride, padding, dilation, groups):
        if y is None:
            y = np.zeros((x.shape[0], w.shape[0]) + out)
        y[yi] = (xp_[win] * w[o]).sum(axis=tuple(range(1, 2 + d)))
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * (x.ndim - 2))
    return y


def _conv_input_grad_ref(g, w, x_shape, stride=(1, 1), padding=(0, 0)):
    dilation = (1,) * len(stride)
    gx = np.zeros(x_shape[:2] + tuple(n + 2 * p for n, p in zip(x_shape[2:], padding)))
    for yi, win, o, _, d in _conv_loops(np.zeros(x_shape), w, stride, padding, dilation, 1):
        gx[win] += g[yi].reshape((-1,) + (1,) * (d + 1)) * w[o]
    return gx[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(
        padding, x_shape[2:]))]


def _conv_weight_grad_ref(x, g, w_shape, stride=(1, 1), padding=(0, 0)):
    xp_ = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    gw = np.zeros(w_shape)
    dilation = (1,) * len(stride)
    for yi, win, o, _, d in _conv_loops(x, np.zeros(w_shape), stride, padding, dilation, 1):
        gw[o] += (g[yi].reshape((-1,) + (1,) * (d + 1)) * xp_[win]).sum(axis=0)
    return gw


X_IMG = np.random.default_rng(7).standard_normal((2, 2, 4, 4))
W_IMG = np.random.default_rng(8).standard_normal((3, 2, 2, 2))


def _conv_input_grad(m, g, w):
    x = m.tensor(X_IMG, requires_grad=True)
    y = m.nn.functional.conv2d(x, w, stride=2, padding=1)
    return m.autograd.grad(y, x, g, create_graph=True)[0]


def _conv_weight_grad(m, x, g):
    w = m.tensor(W_IMG, requires_grad=True)
    y = m.nn.functional.conv2d(x, w, stride=2, padding=1)
    return m.autograd.grad(y, w, g, create_graph=True)[0]


def _pool_ref(x, k, stride, padding, fn, pad_value):
    xp_ = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding),
                 constant_values=pad_value)
    out = tuple((n - kk) // s + 1 for n, kk, s in zip(xp_.shape[2:], k, stride))
    y = np.zeros(x.shape[:2] + out)
    for pos in np.ndindex(*out):
        sl = tuple(slice(q * s, q * s + kk) for q, s, kk in zip(pos, stride, k))
        y[(slice(None), slice(None)) + pos] = fn(xp_[(slice(None), slice(None)) + sl])
    return y


def _max_window(a):
    return a.reshape(a.shape[:2] + (-1,)).max(axis=-1)


def _mean_window(a):
    return a.reshape(a.shape[:2] + (-1,)).mean(axis=-1)


def _avg_exclude_pad(x, k, stride, padding):
    s = _pool_ref(x, k, stride, padding, lambda a: a.reshape(a.shape[:2] + (-1,)).sum(-1), 0.0)
    n = _pool_ref(np.ones_like(x), k, stride, padding,
                  lambda a: a.reshape(a.shape[:2] + (-1,)).sum(-1), 0.0)
    return s / n


def _layer_norm_ref(x, axes, w=None, b=None, eps=1e-5):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    return y * (1.0 if w is None else w) + (0.0 if b is None else b)


def _channel(p, ndim):
    return p.reshape((1, -1) + (1,) * (ndim - 2))


F_CONV = [
    S("conv2d", "conv", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b),
      ((2, 2, 4, 4), (3, 2, 2, 2), (3,)), lambda x, w, b: _conv_ref(x, w, b)),
    S("conv2d_stride_pad_nobias", "conv",
      lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2, padding=1),
      ((1, 2, 5, 4), (2, 2, 3, 2)), lambda x, w: _conv_ref(x, w, None, (2, 2), (1, 1))),
    S("conv2d_dilation_groups", "conv",
      lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, dilation=2, groups=2),
      ((1, 4, 5, 5), (2, 2, 2, 2), (2,)),
      lambda x, w, b: _conv_ref(x, w, b, dilation=(2, 2), groups=2)),
    S("conv1d", "conv", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding=1),
      ((2, 2, 5), (3, 2, 3), (3,)),
      lambda x, w, b: _conv_ref(x, w, b, (1,), (1,), (1,))),
    S("conv_input_grad_via_double_backward", "conv_input_grad", _conv_input_grad,
      ((2, 3, 3, 3), (3, 2, 2, 2)),
      lambda g, w: _conv_input_grad_ref(g, w, X_IMG.shape, (2, 2), (1, 1))),
    S("conv_weight_grad_via_double_backward", "conv_weight_grad", _conv_weight_grad,
      ((2, 2, 4, 4), (2, 3, 3, 3)),
      lambda x, g: _conv_weight_grad_ref(x, g, W_IMG.shape, (2, 2), (1, 1))),
    S("max_pool2d", "max_pool", lambda m, x: m.nn.functional.max_pool2d(x, 2),
      ((2, 2, 4, 4),), lambda x: _pool_ref(x, (2, 2), (2, 2), (0, 0), _max_window, -np.inf),
      distinct),
    S("max_pool2d_stride_pad", "max_pool",
      lambda m, x: m.nn.functional.max_pool2d(x, 3, stride=2, padding=1), ((1, 2, 5, 5),),
      lambda x: _pool_ref(x, (3, 3), (2, 2), (1, 1), _max_window, -np.inf), distinct),
    S("max_pool1d", "max_pool", lambda m, x: m.nn.functional.max_pool1d(x, 2, stride=1),
      ((2, 3, 5),), lambda x: _pool_ref(x, (2,), (1,), (0,), _max_window, -np.inf),
      distinct),
    S("avg_pool2d", "avg_pool", lambda m, x: m.nn.functional.avg_pool2d(x, 2),
      ((2, 2, 4, 4),), lambda x: _pool_ref(x, (2, 2), (2, 2), (0, 0), _mean_window, 0.0)),
    S("avg_pool2d_pad_exclude", "avg_pool",
      lambda m, x: m.nn.functional.avg_pool2d(x, 3, stride=2, padding=1,
                                              count_include_pad=False),
      ((1, 2, 5, 5),), lambda x: _avg_exclude_pad(x, (3, 3), (2, 2), (1, 1))),
    S("avg_pool1d_pad", "avg_pool",
      lambda m, x: m.nn.functional.avg_pool1d(x, 3, stride=1, padding=1), ((2, 2, 5),),
      lambda x: _pool_ref(x, (3,), (1,), (1,), _mean_window, 0.0)),
    S("layer_norm", "layer_norm", lambda m, x, w, b: m.nn.functional.layer_norm(x, (4,), w, b),
      ((3, 4), (4,), (4,)), lambda x, w, b: _layer_norm_ref(x, -1, w, b)),
    S("layer_norm_2d_noaffine", "layer_norm",
      lambda m, x: m.nn.functional.layer_norm(x, (3, 4)), ((2, 3, 4),),
      lambda x: _layer_norm_ref(x, (1, 2))),
    S("batch_norm_train", "batch_norm",
      lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True),
      ((4, 3), (3,), (3,)), lambda x, w, b: _layer_norm_ref(x, 0, w, b)),
    S("batch_norm_train_4d", "batch_norm",
      lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True),
      ((2, 3, 2, 2), (3,), (3,)),
      lambda x, w, b: _layer_norm_ref(x, (0, 2, 3), _channel(w, 4), _channel(b, 4))),
]

