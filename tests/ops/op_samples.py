"""An OpInfo-like table: samples for every op declared in ``gradwalk.ops.registry.REGISTRY``.

A sample calls one op through gradwalk's public API. ``call(m, *tensors)`` is written once for
both engines: ``m`` is ``gradwalk`` or ``torch`` (``m.nn.functional`` is ``F``), so the same line is
the PyTorch counterpart unless ``torch`` says otherwise. Inputs are float64 arrays drawn from the
sample's domain (positive for ``log``, ``|x| < 1`` for ``asin``, values away from kinks and ties
for ``relu``/``max``...); constants such as indices and masks live inside ``call``.

Internal helper ops are reached through the public call that uses them: ``scatter_into`` and
``index_add_into`` through double backward (the gradient of a gradient), ``copy_slices`` through
an in-place change of a view, ``fill``/``copy``/``cast`` through ``fill_``/``copy_``/``to``.

What lives where (import everything from this module, the entry point; it re-exports the rest):

- ``op_samples_base.py``: the input domains (``normal``, ``positive``...), the ``Sample`` and
  ``Joint`` types and the helpers more than one table uses; it imports no table.
- this module: the tables ``ELEMENTWISE``, ``REDUCTIONS``, ``SHAPE``, ``INDEXING``, ``LINALG``,
  ``KINKS`` (inputs on kinks and ties, for every op family) and ``INTERNAL``, and ``SAMPLES``.
- ``op_samples_nn.py``: the neural-network functions, ``NN`` (activations, softmax, linear,
  nll/cross-entropy/mse), ``LOSSES`` and ``F_CONV`` (convolution, pooling, normalization).
- ``samples_<domain>.py``: the later domains, each a ``SAMPLES`` list, picked up by name.

``SAMPLES`` is ``ELEMENTWISE + REDUCTIONS + SHAPE + INDEXING + LINALG + NN + LOSSES + F_CONV +
KINKS + INTERNAL`` and then the ``samples_<domain>.py`` files in the order of their names.

Example:
    >>> import gradwalk
    >>> s = SAMPLES_BY_NAME["mul_broadcast"]
    >>> xs = s.inputs()
    >>> [x.shape for x in xs]
    [(3, 1), (4,)]
    >>> out = s.call(gradwalk, *[gradwalk.tensor(x) for x in xs])
    >>> bool(np.allclose(out.numpy(), s.ref(*xs)))
    True
"""

from __future__ import annotations

import math

import numpy as np

try:
    from .op_samples_base import (
        Joint,
        Sample,
        _erf,
        _t,
        distinct,
        fractional,
        nonzero,
        normal,
        positive,
        ties,
        unit,
    )
    from .op_samples_nn import F_CONV, LOSSES, NN, _max_window, _pool_ref
except ImportError:  # run as a top-level module (the table's own runner)
    from op_samples_base import (  # type: ignore[no-redef]
        Joint,
        Sample,
        _erf,
        _t,
        distinct,
        fractional,
        nonzero,
        normal,
        positive,
        ties,
        unit,
    )
    from op_samples_nn import F_CONV, LOSSES, NN, _max_window, _pool_ref  # type: ignore[no-redef]


# ---------------------------------------------------------------------------------------------
# NumPy references and constants

def _norm(x, p, axis=None, keepdims=False):
    a = np.abs(x)
    if p == math.inf:
        return a.max(axis=axis, keepdims=keepdims)
    return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def _logsumexp(x, axis, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    r = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


def _pad(x, widths, mode="constant", value=0.0):
    if mode == "constant":
        return np.pad(x, widths, constant_values=value)
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge",
                                   "circular": "wrap"}[mode])


def _put(x, index, v):
    out = x.copy()
    out[index] = v
    return out


def _scatter_add_ref(x, axis, index, src):
    out = x.copy()
    idx = list(np.indices(index.shape, sparse=True))
    idx[axis] = index
    np.add.at(out, tuple(idx), src[tuple(slice(0, n) for n in index.shape)])
    return out


def _scatter_ref(x, axis, index, src):
    out = x.copy()
    np.put_along_axis(out, index, src[tuple(slice(0, n) for n in index.shape)], axis=axis)
    return out


def _index_add_ref(x, axis, index, src, alpha):
    out = x.copy()
    np.add.at(out, (slice(None),) * axis + (index,), alpha * src)
    return out


def _gather_ref(x, axis, index):
    sub = tuple(slice(0, n) if k != axis else slice(None) for k, n in enumerate(index.shape))
    return np.take_along_axis(x[sub], index, axis=axis)


def _copy_slices_semantics(xp, base, view, chain):
    """What copy_slices stands for: ``base`` with the viewed region replaced by ``view``."""
    from gradwalk.ops.inplace_views import view_of

    out = np.array(base, copy=True)
    view_of(np, chain, out)[...] = view
    return out


def _to_device(m, x):
    # The public path, ``x.to("cuda")``, needs CuPy; on a CPU machine the rule is driven
    # through the registry with a cpu -> cpu move, which runs the same forward and both rules.
    from gradwalk.ops import registry, shape

    return registry.apply1(shape.TO_DEVICE, x, {"device": "cpu", "src": "cpu"})


GIDX = np.array([[1, 3], [0, 0], [2, 1]])            # gather index into dim 1 of (3, 4)
GIDX0 = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])         # gather along dim 0
GIDX_FULL = np.array([[3, 2, 1, 0], [0, 0, 1, 1], [2, 3, 3, 2]])
SIDX = np.array([[1, 3], [0, 2], [2, 1]])            # unique within rows: scatter
SADD_IDX = np.array([[1, 1, 3], [0, 2, 0], [3, 3, 3]])  # duplicates accumulate: scatter_add
RIDX = np.array([2, 0, 2, 1])                        # index_select / index_add (repeats)
MASK = np.array([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])
COND = np.array([[True, False, True, True], [False, True, False, False],
                 [True, True, False, True]])
ZERO_ROWS = np.array([[1.0], [0.0], [1.0]])           # row 1 is a zero vector
X_CONST = np.array([[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, -2.2], [0.0, 0.9, -0.6, 0.2]])


def _max_dim_grad(m, v):
    x = m.tensor(X_CONST, requires_grad=True)
    return m.autograd.grad(m.max(x, dim=1).values, x, v, create_graph=True)[0]


def _index_grad(m, v):
    x = m.tensor(X_CONST, requires_grad=True)
    return m.autograd.grad(x[[0, 2, 2]], x, v, create_graph=True)[0]


def _slice_grad(m, v):
    x = m.tensor(X_CONST, requires_grad=True)
    return m.autograd.grad(x[1:, ::2], x, v, create_graph=True)[0]


def _scatter_into_ref(v):
    out = np.zeros_like(X_CONST)
    out[np.arange(3), X_CONST.argmax(axis=1)] = v
    return out


def _index_add_into_ref(v):
    out = np.zeros_like(X_CONST)
    np.add.at(out, [0, 2, 2], v)
    return out


def _slice_into_ref(v):
    out = np.zeros_like(X_CONST)
    out[1:, ::2] = v
    return out


def _inplace_view(m, x, v):
    b = x.clone()
    b[1:3, 1:].mul_(v)
    return b


def _inplace_view_ref(x, v):
    b = x.copy()
    b[1:3, 1:] *= v
    return b


def _inplace_view_chain(m, x, v):
    b = x.clone()
    b.t()[1:3].mul_(v)
    return b


def _inplace_view_chain_ref(x, v):
    b = x.copy()
    b.T[1:3] *= v
    return b


def _fill(m, x, v):
    b = x.clone()
    b.fill_(v)
    return b


def _copy(m, x, s):
    b = x.clone()
    b.copy_(s)
    return b


def _setitem(index):
    def call(m, x, v):
        b = x.clone()
        b[index if not isinstance(index, np.ndarray) else m.tensor(index)] = v
        return b

    return call


def _remainder_domain(rng, shapes):
    # a / b = q with q at least 0.1 from an integer: remainder is smooth there
    b = rng.uniform(0.7, 2.0, shapes[1])
    q = rng.integers(-3, 3, shapes[0]) + rng.uniform(0.1, 0.9, shapes[0])
    return [q * b, b]


def _clamp_domain(rng, shapes):
    # x away from the bounds -0.5 and 0.6 (and from the tensor bounds below)
    x = rng.choice([-1.0, 0.0, 1.0], shapes[0]) * 0.7 + rng.uniform(-0.15, 0.15, shapes[0])
    return [x] + [rng.uniform(-0.35, 0.35, s) for s in shapes[1:]]


def _clamp_tensor_domain(rng, shapes):
    x = rng.uniform(-2.0, 2.0, shapes[0])
    lo = rng.uniform(-1.0, -0.2, shapes[1])
    hi = rng.uniform(0.2, 1.0, shapes[2])
    for bound in (lo, hi):  # keep x at least 0.05 from both bounds
        d = x - np.broadcast_to(bound, x.shape)
        x = np.where(np.abs(d) < 0.05, x + 0.1, x)
    return [x, lo, hi]


def _prod_zero_domain(rng, shapes):
    x = rng.uniform(0.5, 1.5, shapes[0]) * rng.choice([-1.0, 1.0], shapes[0])
    x[0, 1] = 0.0           # one zero in row 0: its gradient is the product of the others
    x[2, 0] = x[2, 3] = 0.0  # two zeros in row 2: every gradient in the row is zero
    return [x]


    return [np.where(np.abs(2 * x - 2.0) < 0.1, x - 0.2, x)]


# ---------------------------------------------------------------------------------------------
# the table

S = Sample


def _unary(op, fn, ref, domain=normal, shape=(3, 4), name=None, **kw):
    return S(name or op, op, lambda m, x: getattr(m, fn)(x), (shape,), ref, domain, **kw)


ELEMENTWISE = [
    S("add_broadcast", "add", lambda m, a, b: m.add(a, b), ((3, 1), (4,)), np.add),
    S("add_scalar", "add", lambda m, a: a + 2.5, ((2, 3),), lambda a: a + 2.5),
    S("add_alpha", "add", lambda m, a, b: m.add(a, b, alpha=2), ((2, 3), (2, 3)),
      lambda a, b: a + 2 * b),
    S("sub_broadcast", "sub", lambda m, a, b: a - b, ((2, 3, 1), (3, 4)), np.subtract),
    S("sub_alpha", "sub", lambda m, a, b: m.sub(a, b, alpha=3), ((3,), (2, 3)),
      lambda a, b: a - 3 * b),
    S("rsub_scalar", "rsub", lambda m, a: 2.0 - a, ((3, 4),), lambda a: 2.0 - a),
    S("mul_broadcast", "mul", lambda m, a, b: m.mul(a, b), ((3, 1), (4,)), np.multiply),
    S("mul_scalar", "mul", lambda m, a: 3.0 * a, ((4,),), lambda a: 3.0 * a),
    S("mul_0d", "mul", lambda m, a, b: a * b, ((), (2, 3)), np.multiply),
    S("div_broadcast", "div", lambda m, a, b: m.div(a, b), ((2, 3), (3,)), np.divide,
      (normal, positive)),
    S("div_rscalar", "div", lambda m, a: m.div(2.0, a), ((3, 2),), lambda a: 2.0 / a, nonzero),
    # ``2.0 / a`` is ``reciprocal(a) * 2.0``, as in PyTorch: the product's node
    S("rtruediv", "mul", lambda m, a: 2.0 / a, ((3, 2),), lambda a: 2.0 / a, nonzero),
    S("pow_int", "pow", lambda m, a: a ** 3, ((3, 4),), lambda a: a ** 3),
    S("pow_half", "pow", lambda m, a: m.pow(a, 0.5), ((3, 4),), np.sqrt, positive),
    S("pow_neg_float", "pow", lambda m, a: a ** -1.5, ((5,),), lambda a: a ** -1.5, positive),
    S("pow_zero", "pow", lambda m, a: a ** 0, ((5,),), lambda a: a ** 0),
    S("pow_tensor_broadcast", "pow_tensor", lambda m, a, b: m.pow(a, b), ((3, 1), (4,)),
      np.power, (positive, normal)),
    S("pow_scalar_base", "pow_tensor", lambda m, b: 2.0 ** b, ((3, 4),), lambda b: 2.0 ** b),
    _unary("neg", "neg", np.negative),
    S("neg_operator", "neg", lambda m, a: -a, ((2, 2),), np.negative),
    S("remainder", "remainder", lambda m, a, b: m.remainder(a, b), ((3, 4), (3, 4)),
      np.remainder, Joint(_remainder_domain)),
    S("remainder_broadcast", "remainder", lambda m, a, b: a % b, ((3, 4), (4,)), np.remainder,
      Joint(_remainder_domain)),
    _unary("abs", "abs", np.abs, nonzero),
    _unary("sign", "sign", np.sign, nonzero),
    _unary("floor", "floor", np.floor, fractional),
    _unary("ceil", "ceil", np.ceil, fractional),
    _unary("round", "round", np.round, fractional),
    _unary("trunc", "trunc", np.trunc, fractional),
    _unary("reciprocal", "reciprocal", np.reciprocal, nonzero),
    _unary("square", "square", np.square),
    S("square_pow2", "square", lambda m, a: a ** 2, ((3, 4),), np.square),
    _unary("sqrt", "sqrt", np.sqrt, positive),
    _unary("rsqrt", "rsqrt", lambda a: 1 / np.sqrt(a), positive),
    _unary("cbrt", "cbrt", np.cbrt, positive, torch=lambda m, x: x ** (1.0 / 3.0)),
    _unary("exp", "exp", np.exp),
    _unary("exp", "exp", np.exp, shape=(), name="exp_0d"),
    _unary("expm1", "expm1", np.expm1),
    _unary("log", "log", np.log, positive),
    _unary("log2", "log2", np.log2, positive),
    _unary("log10", "log10", np.log10, positive),
    _unary("log1p", "log1p", np.log1p, positive),
    _unary("sin", "sin", np.sin),
    _unary("cos", "cos", np.cos),
    _unary("tan", "tan", np.tan, unit),
    _unary("asin", "asin", np.arcsin, unit),
    _unary("acos", "acos", np.arccos, unit),
    _unary("atan", "atan", np.arctan),
    _unary("sinh", "sinh", np.sinh),
    _unary("cosh", "cosh", np.cosh),
    _unary("tanh", "tanh", np.tanh),
    _unary("sigmoid", "sigmoid", lambda a: 1 / (1 + np.exp(-a))),
    S("sigmoid_large", "sigmoid", lambda m, a: m.sigmoid(a * 30.0), ((6,),),
      lambda a: 1 / (1 + np.exp(-30.0 * a)), rtol=1e-4),
    _unary("relu", "relu", lambda a: np.maximum(a, 0), nonzero),
    _unary("erf", "erf", _erf),
    S("clamp_scalars", "clamp", lambda m, a: m.clamp(a, min=-0.5, max=0.6), ((3, 4),),
      lambda a: np.clip(a, -0.5, 0.6), Joint(_clamp_domain)),
    S("clamp_min_only", "clamp", lambda m, a: a.clamp(min=-0.5), ((3, 4),),
      lambda a: np.maximum(a, -0.5), Joint(_clamp_domain)),
    S("clamp_tensors", "clamp", lambda m, a, lo, hi: m.clamp(a, lo, hi), ((3, 4), (4,), (3, 1)),
      lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), Joint(_clamp_tensor_domain)),
    S("maximum_broadcast", "maximum", lambda m, a, b: m.maximum(a, b), ((3, 1), (4,)),
      np.maximum),
    S("minimum_broadcast", "minimum", lambda m, a, b: m.minimum(a, b), ((2, 3), (2, 1)),
      np.minimum),
    S("where_broadcast", "where", lambda m, a, b: m.where(_t(m, COND), a, b), ((3, 1), (4,)),
      lambda a, b: np.where(COND, a, b)),
    S("where_scalar", "where", lambda m, a: m.where(a > 0, a, 0.0), ((3, 4),),
      lambda a: np.where(a > 0, a, 0.0), nonzero),
    S("clone", "clone", lambda m, a: m.clone(a), ((3, 4),), lambda a: a),
    S("cast_roundtrip", "cast", lambda m, a: a.to(m.float32).to(m.float64), ((3, 4),),
      lambda a: a.astype(np.float32).astype(np.float64), rtol=1e-3, atol=1e-4, eps=1e-2,
      note="float32 in the middle: finite differences with a large step, loose tolerance"),
    S("fill_tensor", "fill", _fill, ((3, 4), ()), lambda a, v: np.full_like(a, v)),
    S("copy_broadcast", "copy", _copy, ((3, 4), (4,)),
      lambda a, s: np.broadcast_to(s, a.shape).copy()),
    S("to_device", "to_device", _to_device, ((3, 4),), lambda a: a, torch=False,
      note="the public Tensor.to('cuda') needs CuPy; driven through apply1 with cpu -> cpu"),
]

REDUCTIONS = [
    S("sum_all", "sum", lambda m, a: a.sum(), ((3, 4),), np.sum),
    S("sum_dim_keepdim", "sum_dim", lambda m, a: a.sum(dim=1, keepdim=True), ((3, 4),),
      lambda a: a.sum(axis=1, keepdims=True)),
    S("sum_dims", "sum_dim", lambda m, a: m.sum(a, dim=(0, 2)), ((2, 3, 4),),
      lambda a: a.sum(axis=(0, 2))),
    S("sum_neg_dim", "sum_dim", lambda m, a: a.sum(-1), ((2, 3),), lambda a: a.sum(axis=-1)),
    S("mean_all", "mean", lambda m, a: a.mean(), ((3, 4),), np.mean),
    S("mean_dim", "mean_dim", lambda m, a: m.mean(a, dim=0), ((3, 4),),
      lambda a: a.mean(axis=0)),
    S("mean_dims_keepdim", "mean_dim", lambda m, a: a.mean(dim=(1, 2), keepdim=True),
      ((2, 3, 4),), lambda a: a.mean(axis=(1, 2), keepdims=True)),
    S("var_all", "var", lambda m, a: a.var(), ((3, 4),), lambda a: a.var(ddof=1)),
    S("var_dim_keepdim", "var", lambda m, a: a.var(dim=1, keepdim=True), ((3, 4),),
      lambda a: a.var(axis=1, ddof=1, keepdims=True)),
    S("var_biased", "var", lambda m, a: m.var(a, dim=0, unbiased=False), ((3, 4),),
      lambda a: a.var(axis=0)),
    S("std_all", "std", lambda m, a: a.std(), ((3, 4),), lambda a: a.std(ddof=1)),
    S("std_dim", "std", lambda m, a: m.std(a, dim=1), ((3, 4),),
      lambda a: a.std(axis=1, ddof=1)),
    S("prod_all", "prod", lambda m, a: a.prod(), ((2, 3),), np.prod, positive),
    S("prod_dim", "prod", lambda m, a: m.prod(a, dim=1), ((3, 4),),
      lambda a: a.prod(axis=1)),
    S("prod_zeros", "prod", lambda m, a: a.prod(dim=1, keepdim=True), ((3, 4),),
      lambda a: a.prod(axis=1, keepdims=True), Joint(_prod_zero_domain)),
    S("amax_dim", "amax", lambda m, a: a.amax(dim=1), ((3, 4),), lambda a: a.max(axis=1),
      distinct),
    S("amax_dims_keepdim", "amax", lambda m, a: m.amax(a, dim=(0, 2), keepdim=True),
      ((2, 3, 2),), lambda a: a.max(axis=(0, 2), keepdims=True), distinct),
    S("amin_dim", "amin", lambda m, a: m.amin(a, dim=0), ((3, 4),), lambda a: a.min(axis=0),
      distinct),
    S("max_all", "max", lambda m, a: a.max(), ((3, 4),), np.max, distinct),
    S("min_all", "min", lambda m, a: m.min(a), ((3, 4),), np.min, distinct),
    S("max_dim", "max_dim", lambda m, a: m.max(a, dim=1).values, ((3, 4),),
      lambda a: a.max(axis=1), distinct),
    S("max_dim_keepdim", "max_dim", lambda m, a: a.max(dim=0, keepdim=True)[0], ((3, 4),),
      lambda a: a.max(axis=0, keepdims=True), distinct),
    S("min_dim", "min_dim", lambda m, a: m.min(a, dim=-1).values, ((2, 3, 4),),
      lambda a: a.min(axis=-1), distinct),
    S("logsumexp_dim", "logsumexp", lambda m, a: m.logsumexp(a, dim=1), ((3, 4),),
      lambda a: _logsumexp(a, 1)),
    S("logsumexp_dims_keepdim", "logsumexp", lambda m, a: a.logsumexp(dim=(0, 1), keepdim=True),
      ((2, 3, 2),), lambda a: _logsumexp(a, (0, 1), True)),
    S("norm_all", "norm", lambda m, a: a.norm(), ((3, 4),), lambda a: np.sqrt((a * a).sum())),
    S("norm_2_dim", "norm", lambda m, a: m.norm(a, dim=1, keepdim=True), ((3, 4),),
      lambda a: np.sqrt((a * a).sum(axis=1, keepdims=True))),
    S("norm_1_dim", "norm", lambda m, a: m.norm(a, p=1, dim=0), ((3, 4),),
      lambda a: np.abs(a).sum(axis=0), nonzero),
    S("norm_3", "norm", lambda m, a: m.norm(a, p=3), ((3, 4),), lambda a: _norm(a, 3.0)),
    S("norm_inf_dim", "norm", lambda m, a: m.norm(a, p=math.inf, dim=1), ((3, 4),),
      lambda a: _norm(a, math.inf, 1), distinct),
    S("cumsum", "cumsum", lambda m, a: m.cumsum(a, dim=1), ((3, 4),),
      lambda a: np.cumsum(a, axis=1)),
    S("cumsum_dim0", "cumsum", lambda m, a: a.cumsum(0), ((4, 2),),
      lambda a: np.cumsum(a, axis=0)),
]

SHAPE = [
    S("view", "view", lambda m, a: a.view(2, 6), ((3, 4),), lambda a: a.reshape(2, 6)),
    S("reshape_infer", "reshape", lambda m, a: a.reshape(4, -1), ((2, 3, 2),),
      lambda a: a.reshape(4, -1)),
    S("reshape_transposed", "reshape", lambda m, a: m.reshape(a.t(), (12,)), ((3, 4),),
      lambda a: a.T.reshape(12)),
    S("permute", "permute", lambda m, a: a.permute(2, 0, 1), ((2, 3, 4),),
      lambda a: a.transpose(2, 0, 1)),
    S("transpose", "transpose", lambda m, a: m.transpose(a, 0, 2), ((2, 3, 4),),
      lambda a: a.swapaxes(0, 2)),
    S("t", "t", lambda m, a: a.t(), ((3, 4),), lambda a: a.T),
    S("squeeze_dim", "squeeze", lambda m, a: a.squeeze(1), ((3, 1, 4),),
      lambda a: a.squeeze(1)),
    S("squeeze_all", "squeeze", lambda m, a: m.squeeze(a), ((1, 3, 1),), np.squeeze),
    S("unsqueeze", "unsqueeze", lambda m, a: a.unsqueeze(-1), ((3, 4),),
      lambda a: a[..., None]),
    S("expand", "expand", lambda m, a: a.expand(2, 3, 4), ((3, 1),),
      lambda a: np.broadcast_to(a, (2, 3, 4))),
    S("expand_keep", "expand", lambda m, a: a.expand(-1, 4), ((3, 1),),
      lambda a: np.broadcast_to(a, (3, 4))),
    S("repeat", "repeat", lambda m, a: a.repeat(2, 1, 3), ((2, 3),),
      lambda a: np.tile(a, (2, 1, 3))),
    S("cat", "cat", lambda m, a, b: m.cat([a, b], dim=1), ((3, 2), (3, 4)),
      lambda a, b: np.concatenate([a, b], axis=1)),
    S("cat_three", "cat", lambda m, a, b, c: m.cat([a, b, c]), ((1, 2), (3, 2), (2, 2)),
      lambda a, b, c: np.concatenate([a, b, c])),
    S("cat_one", "cat", lambda m, a: m.cat([a], dim=0), ((3, 2),), lambda a: a.copy()),
    S("stack", "stack", lambda m, a, b: m.stack([a, b], dim=1), ((3, 4), (3, 4)),
      lambda a, b: np.stack([a, b], axis=1)),
    S("stack_one", "stack", lambda m, a: m.stack([a]), ((3,),), lambda a: a[None]),
    S("flip", "flip", lambda m, a: m.flip(a, (0, 1)), ((3, 4),), lambda a: a[::-1, ::-1]),
    S("tril", "tril", lambda m, a: m.tril(a, 1), ((3, 4),), lambda a: np.tril(a, 1)),
    S("triu_batched", "triu", lambda m, a: a.triu(-1), ((2, 3, 3),), lambda a: np.triu(a, -1)),
    S("pad_constant", "pad", lambda m, a: m.nn.functional.pad(a, (1, 2)), ((3, 4),),
      lambda a: _pad(a, ((0, 0), (1, 2)))),
    S("pad_value_2d", "pad", lambda m, a: m.nn.functional.pad(a, (1, 0, 2, 1), value=0.5),
      ((2, 3, 4),), lambda a: _pad(a, ((0, 0), (2, 1), (1, 0)), value=0.5)),
    S("pad_reflect", "pad", lambda m, a: m.nn.functional.pad(a, (2, 1), mode="reflect"),
      ((2, 5),), lambda a: _pad(a, ((0, 0), (2, 1)), "reflect"), double=False,
      note="double backward of reflect/replicate/circular pad is not implemented"),
    S("pad_replicate", "pad", lambda m, a: m.nn.functional.pad(a, (1, 2), mode="replicate"),
      ((2, 4),), lambda a: _pad(a, ((0, 0), (1, 2)), "replicate"), double=False,
      note="double backward of reflect/replicate/circular pad is not implemented"),
    S("pad_circular", "pad", lambda m, a: m.nn.functional.pad(a, (1, 2), mode="circular"),
      ((1, 2, 4),), lambda a: _pad(a, ((0, 0), (0, 0), (1, 2)), "circular"), double=False,
      note="double backward of reflect/replicate/circular pad is not implemented"),
]

INDEXING = [
    S("select_int", "select", lambda m, a: a[1], ((3, 4),), lambda a: a[1]),
    S("select_col", "select", lambda m, a: a[:, 2], ((3, 4),), lambda a: a[:, 2]),
    S("slice_step", "slice", lambda m, a: a[1:, ::2], ((3, 4),), lambda a: a[1:, ::2]),
    S("slice_none_ellipsis", "slice", lambda m, a: a[..., None, 1:3], ((2, 3, 4),),
      lambda a: a[..., None, 1:3]),
    S("index_list_repeats", "index", lambda m, a: a[[0, 2, 2]], ((3, 4),),
      lambda a: a[[0, 2, 2]]),
    S("index_col_list", "index", lambda m, a: a[:, [1, 1, 3]], ((3, 4),),
      lambda a: a[:, [1, 1, 3]]),
    S("index_bool_mask", "index", lambda m, a: a[_t(m, MASK)], ((3, 4),), lambda a: a[MASK]),
    S("index_tensor_pair", "index", lambda m, a: a[_t(m, np.array([0, 2])), _t(m, np.array([3, 3]))],
      ((3, 4),), lambda a: a[[0, 2], [3, 3]]),
    S("index_put_row", "index_put", _setitem(1), ((3, 4), (4,)), lambda a, v: _put(a, 1, v)),
    S("index_put_rows", "index_put", _setitem([0, 2]), ((3, 4), (2, 4)),
      lambda a, v: _put(a, [0, 2], v)),
    S("index_put_mask", "index_put", _setitem(MASK), ((3, 4), (int(MASK.sum()),)),
      lambda a, v: _put(a, MASK, v)),
    S("index_put_broadcast", "index_put", _setitem((slice(None), 1)), ((3, 4), (1,)),
      lambda a, v: _put(a, (slice(None), 1), v)),
    S("gather_prefix", "gather", lambda m, a: m.gather(a, 1, _t(m, GIDX)), ((3, 4),),
      lambda a: _gather_ref(a, 1, GIDX)),
    S("gather_full", "gather", lambda m, a: a.gather(1, _t(m, GIDX_FULL)), ((3, 4),),
      lambda a: _gather_ref(a, 1, GIDX_FULL)),
    S("gather_dim0", "gather", lambda m, a: m.gather(a, 0, _t(m, GIDX0)), ((3, 4),),
      lambda a: _gather_ref(a, 0, GIDX0)),
    S("scatter_add_repeats", "scatter_add",
      lambda m, a, s: m.scatter_add(a, 1, _t(m, SADD_IDX), s), ((3, 4), (3, 3)),
      lambda a, s: _scatter_add_ref(a, 1, SADD_IDX, s)),
    S("scatter_add_bigger_src", "scatter_add",
      lambda m, a, s: a.scatter_add(1, _t(m, SIDX), s), ((3, 4), (3, 4)),
      lambda a, s: _scatter_add_ref(a, 1, SIDX, s),
      # PyTorch's backward refuses a src larger than the index; the unused columns of src
      # do not change the function, so its counterpart takes the used part only
      torch=lambda m, a, s: a.scatter_add(1, _t(m, SIDX), s[:, :2])),
    S("scatter", "scatter", lambda m, a, s: m.scatter(a, 1, _t(m, SIDX), s), ((3, 4), (3, 2)),
      lambda a, s: _scatter_ref(a, 1, SIDX, s)),
    S("index_select", "index_select", lambda m, a: m.index_select(a, 0, _t(m, RIDX)),
      ((3, 4),), lambda a: a[RIDX]),
    S("index_select_dim1", "index_select", lambda m, a: a.index_select(1, _t(m, RIDX[:3])),
      ((2, 3, 4),), lambda a: a[:, RIDX[:3]]),
    S("masked_fill_scalar", "masked_fill", lambda m, a: m.masked_fill(a, _t(m, MASK), 0.5),
      ((3, 4),), lambda a: np.where(MASK, 0.5, a)),
    S("masked_fill_tensor", "masked_fill", lambda m, a, v: a.masked_fill(_t(m, MASK[0]), v),
      ((3, 4), ()), lambda a, v: np.where(MASK[0], v, a)),
    S("index_add", "index_add", lambda m, a, s: m.index_add(a, 0, _t(m, RIDX), s),
      ((3, 4), (4, 4)), lambda a, s: _index_add_ref(a, 0, RIDX, s, 1)),
    S("index_add_alpha", "index_add",
      lambda m, a, s: a.index_add(1, _t(m, RIDX[:3]), s, alpha=2.0), ((2, 3), (2, 3)),
      lambda a, s: _index_add_ref(a, 1, RIDX[:3], s, 2.0)),
]

LINALG = [
    S("matmul_2d", "matmul", lambda m, a, b: a @ b, ((3, 4), (4, 2)), np.matmul),
    S("matmul_mat_vec", "matmul", lambda m, a, b: m.matmul(a, b), ((2, 3, 4), (4,)), np.matmul),
    S("matmul_vec_mat", "matmul", lambda m, a, b: m.matmul(a, b), ((4,), (4, 2)), np.matmul),
    S("matmul_batch_broadcast", "matmul", lambda m, a, b: a @ b, ((2, 1, 2, 3), (3, 3, 2)),
      np.matmul),
    S("mm", "matmul", lambda m, a, b: m.mm(a, b), ((2, 3), (3, 4)), np.matmul),
    S("bmm", "bmm", lambda m, a, b: m.bmm(a, b), ((2, 3, 4), (2, 4, 2)), np.matmul),
    S("dot", "dot", lambda m, a, b: m.dot(a, b), ((5,), (5,)), np.dot),
    S("matmul_vec_vec", "dot", lambda m, a, b: a @ b, ((4,), (4,)), np.dot),
    S("mv", "mv", lambda m, a, b: m.mv(a, b), ((3, 4), (4,)), np.matmul),
    S("outer", "outer", lambda m, a, b: m.outer(a, b), ((3,), (4,)), np.outer),
    S("einsum_matmul", "einsum", lambda m, a, b: m.einsum("ij,jk->ik", a, b),
      ((3, 4), (4, 2)), lambda a, b: np.einsum("ij,jk->ik", a, b)),
    S("einsum_batch", "einsum", lambda m, a, b: m.einsum("bij,bjk->bik", a, b),
      ((2, 3, 4), (2, 4, 2)), lambda a, b: np.einsum("bij,bjk->bik", a, b)),
    S("einsum_summed_out", "einsum", lambda m, a, b: m.einsum("ij,k->jk", a, b),
      ((3, 4), (2,)), lambda a, b: np.einsum("ij,k->jk", a, b)),
    S("einsum_implicit", "einsum", lambda m, a, b: m.einsum("ij,jk", a, b),
      ((2, 3), (3, 2)), lambda a, b: np.einsum("ij,jk", a, b)),
    S("einsum_one_operand", "einsum", lambda m, a: m.einsum("ij->j", a), ((3, 4),),
      lambda a: a.sum(axis=0)),
    S("einsum_three", "einsum", lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c),
      ((3,), (3, 4), (4,)), lambda a, b, c: np.einsum("i,ij,j->", a, b, c)),
]

# Inputs on kinks and ties: no finite differences, but the same subgradient as PyTorch.
_K = {"domain": ties, "smooth": False}
KINKS = [
    S("relu_at_zero", "relu", lambda m, a: m.relu(a), ((3, 4),), lambda a: np.maximum(a, 0), **_K),
    S("abs_at_zero", "abs", lambda m, a: a.abs(), ((3, 4),), np.abs, **_K),
    S("leaky_relu_at_zero", "leaky_relu", lambda m, a: m.nn.functional.leaky_relu(a, 0.2),
      ((3, 4),), lambda a: np.where(a > 0, a, 0.2 * a), **_K),
    S("clamp_at_bounds", "clamp", lambda m, a: m.clamp(a, -1.0, 1.0), ((3, 4),),
      lambda a: np.clip(a, -1, 1), **_K),
    S("maximum_ties", "maximum", lambda m, a, b: m.maximum(a, b), ((3, 4), (4,)), np.maximum,
      **_K),
    S("minimum_ties", "minimum", lambda m, a, b: m.minimum(a, b), ((3, 4), (3, 1)), np.minimum,
      **_K),
    S("amax_ties", "amax", lambda m, a: a.amax(dim=1), ((4, 5),), lambda a: a.max(axis=1), **_K),
    S("amin_ties_all", "amin", lambda m, a: m.amin(a, dim=(0, 1)), ((3, 4),), np.min, **_K),
    S("max_all_ties", "max", lambda m, a: a.max(), ((3, 4),), np.max, **_K),
    S("min_all_ties", "min", lambda m, a: a.min(), ((3, 4),), np.min, **_K),
    S("max_dim_ties", "max_dim", lambda m, a: m.max(a, dim=1).values, ((4, 5),),
      lambda a: a.max(axis=1), **_K),
    S("min_dim_ties", "min_dim", lambda m, a: a.min(dim=0).values, ((4, 5),),
      lambda a: a.min(axis=0), **_K),
    S("norm_zero_rows", "norm", lambda m, a: m.norm(a * _t(m, ZERO_ROWS), dim=1), ((3, 4),),
      lambda a: np.sqrt(((a * ZERO_ROWS) ** 2).sum(axis=1)), **_K),
    S("norm_inf_ties", "norm", lambda m, a: m.norm(a, p=math.inf, dim=1), ((4, 5),),
      lambda a: np.abs(a).max(axis=1), **_K),
    S("l1_loss_zero_diff", "l1_loss", lambda m, a, b: m.nn.functional.l1_loss(a, b),
      ((3, 4), (3, 4)), lambda a, b: np.abs(a - b).mean(), **_K),
    S("max_pool_ties", "max_pool", lambda m, x: m.nn.functional.max_pool2d(x, 2),
      ((1, 2, 4, 4),), lambda x: _pool_ref(x, (2, 2), (2, 2), (0, 0), _max_window, -np.inf),
      **_K),
]

# Internal ops, reached through the public call that records them.
INTERNAL = [
    S("scatter_into_via_max_dim_grad", "scatter_into", _max_dim_grad, ((3,),),
      _scatter_into_ref),
    S("index_add_into_via_index_grad", "index_add_into", _index_grad, ((3, 4),),
      _index_add_into_ref),
    S("index_add_into_via_slice_grad", "index_add_into", _slice_grad, ((2, 2),),
      _slice_into_ref),
    S("copy_slices_via_inplace_view", "copy_slices", _inplace_view, ((3, 4), (2, 3)),
      _inplace_view_ref, jvp_forward=_copy_slices_semantics),
    S("copy_slices_via_inplace_view_chain", "copy_slices", _inplace_view_chain,
      ((3, 4), (2, 3)), _inplace_view_chain_ref, jvp_forward=_copy_slices_semantics),
]

def _more_samples() -> list[Sample]:
    """The samples of the domain files ``tests/ops/samples_<domain>.py`` (each a ``SAMPLES`` list
    built with this module's ``Sample``), so that a new domain of ops brings its own file."""
    import importlib
    import pathlib
    found: list[Sample] = []
    here = pathlib.Path(__file__).parent
    package = __name__.rpartition(".")[0]
    for path in sorted(here.glob("samples_*.py")):
        name = f"{package}.{path.stem}" if package else path.stem
        found.extend(importlib.import_module(name).SAMPLES)
    return found


SAMPLES: list[Sample] = (ELEMENTWISE + REDUCTIONS + SHAPE + INDEXING + LINALG + NN + LOSSES
                         + F_CONV + KINKS + INTERNAL + _more_samples())
SAMPLES_BY_NAME: dict[str, Sample] = {s.name: s for s in SAMPLES}
assert len(SAMPLES_BY_NAME) == len(SAMPLES), "sample names must be unique"
