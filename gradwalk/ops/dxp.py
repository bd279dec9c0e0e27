"""The differentiable array namespace: NumPy's names over gradwalk ops.

Under ``create_graph=True`` the engine passes this module as ``xp`` to the op rules, with Tensors
for values, so the rule that computes a gradient records its own graph (higher-order gradients
from the same one rule). Only the functions rules use are here; each maps NumPy's signature
(``axis``, ``keepdims``) onto the gradwalk op.

Note [rules' own calls]
    A rule's calls are well formed by construction (its shapes come from the node), so the
    hot ones (``matmul``, ``expand_dims``, ``squeeze``, ``swapaxes``, ``transpose``,
    ``broadcast_to``) go to the op's declaration directly, without the public function's
    argument checks and normalization (which build ``Size`` objects and error messages): a
    double backward then costs about what the first-order rule costs, per op. The views stay
    views (``shape._view``: shared version counter, base and view chain). Anything unusual (a
    non-Tensor operand, another dtype, a dim spelled otherwise) takes the public function.
"""

from __future__ import annotations

import numpy as np

from . import elementwise as E
from . import indexing as I
from . import linalg as L
from . import nn as N
from . import reductions as R
from . import registry as _registry
from . import shape as S
from .kernels import _zeros
from .kernels import index_add_into as k
from .registry import apply, declare

IS_DIFFERENTIABLE = True

sin, cos, tan, exp, expm1, log, log2, log10, log1p = (E.sin, E.cos, E.tan, E.exp, E.expm1, E.log,
                                                     E.log2, E.log10, E.log1p)
sqrt, abs, sign, tanh, sigmoid, erf = E.sqrt, E.abs, E.sign, E.tanh, E.sigmoid, E.erf
sinh, cosh, arctan, arcsin, arccos = E.sinh, E.cosh, E.atan, E.asin, E.acos
floor, ceil, round, trunc = E.floor, E.ceil, E.round, E.trunc
maximum, minimum, remainder, multiply = E.maximum, E.minimum, E.remainder, E.mul
isfinite, isnan = E.isfinite, E.isnan
float64, float32 = np.float64, np.float32


matmul = L.matmul  # its common case goes straight to the declaration (Note [direct apply])


def _axes(axis):
    if axis is None:
        return None
    return tuple(axis) if isinstance(axis, (tuple, list)) else axis


def where(cond, a, b):
    return E.where(_tensor(cond), a, b)


def _tensor(x):
    return x if isinstance(x, _registry.Tensor) else _registry.wrap(np.asarray(x))


def sum(a, axis=None, keepdims=False):
    return R.sum(a, _axes(axis), keepdims)


def mean(a, axis=None, keepdims=False):
    return R.mean(a, _axes(axis), keepdims)


def max(a, axis=None, keepdims=False):
    return R.amax(a, () if axis is None else _axes(axis), keepdims)


def min(a, axis=None, keepdims=False):
    return R.amin(a, () if axis is None else _axes(axis), keepdims)


def prod(a, axis=None, keepdims=False):
    return R.prod(a, _axes(axis) if not isinstance(axis, tuple) or len(axis) != 1 else axis[0],
                  keepdims) if axis is None or not isinstance(axis, tuple) or len(axis) == 1\
        else _prod_many(a, axis, keepdims)


def _prod_many(a, axis, keepdims):
    for ax in sorted(axis, reverse=True):
        a = R.prod(a, ax, True)
    return a if keepdims else S.squeeze(a, tuple(axis))


def cumsum(a, axis):
    return R.cumsum(a, axis)


def flip(a, axis):
    return S.flip(a, axis if isinstance(axis, (tuple, list)) else (axis,))


def expand_dims(a, axis):
    if isinstance(a, _registry.Tensor) and type(axis) is int:  # Note [rules' own calls]
        shape = a._data.shape
        d = axis if axis >= 0 else axis + len(shape) + 1
        if 0 <= d <= len(shape):
            return S._view(S.UNSQUEEZE, a, {"shape": shape[:d] + (1,) + shape[d:],
                                            "in_shape": shape})
    return S.unsqueeze(a, axis)


def squeeze(a, axis=None):
    if isinstance(a, _registry.Tensor) and type(axis) is int:  # Note [rules' own calls]
        shape = a._data.shape
        d = axis if axis >= 0 else axis + len(shape)
        if 0 <= d < len(shape):
            new = shape[:d] + shape[d + 1:] if shape[d] == 1 else shape
            return S._view(S.SQUEEZE, a, {"shape": new, "in_shape": shape})
    return S.squeeze(a, axis)


def broadcast_to(a, shape):
    shape = tuple(shape)
    if isinstance(a, _registry.Tensor):  # Note [rules' own calls]
        own = a._data.shape
        lead = len(shape) - len(own)
        if lead >= 0 and all(s == 1 or s == t for s, t in zip(own, shape[lead:])):
            return S._view(S.EXPAND, a, {"shape": shape})
    return S.expand(a, shape)


def reshape(a, shape):
    return S.reshape(a, tuple(shape) if isinstance(shape, (tuple, list)) else (shape,))


def transpose(a, axes=None):
    if axes is None:
        axes = tuple(range(a.ndim - 1, -1, -1))
    axes = tuple(axes)
    if isinstance(a, _registry.Tensor) and sorted(axes) == list(range(a._data.ndim)):
        return S._view(S.PERMUTE, a, {"perm": axes})  # Note [rules' own calls]
    return S.permute(a, axes)


def swapaxes(a, a1, a2):
    if isinstance(a, _registry.Tensor) and type(a1) is int and type(a2) is int:
        nd = a._data.ndim  # Note [rules' own calls]
        if nd and -nd <= a1 < nd and -nd <= a2 < nd:
            perm = list(range(nd))
            perm[a1], perm[a2] = perm[a2], perm[a1]
            return S._view(S.TRANSPOSE, a, {"perm": tuple(perm)})
    return S.transpose(a, a1, a2)


def concatenate(xs, axis=0):
    return S.cat(list(xs), axis)


def stack(xs, axis=0):
    return S.stack(list(xs), axis)


def take(a, i, axis):
    index = (slice(None),) * (axis % a.ndim) + (i,)
    return a[index]


def tril(a, k=0):
    return S.tril(a, k)


def triu(a, k=0):
    return S.triu(a, k)


def tile(a, reps):
    return S.repeat(a, reps)


def einsum(eq, *xs):
    return L.einsum(eq, *xs)


def pad(a, widths, mode="constant", constant_values=0.0):
    flat = []
    for lo, hi in reversed(widths):
        flat += [lo, hi]
    if mode != "constant":  # NumPy's mode names, as gradwalk's pad spells them
        return S.pad(a, flat, mode={"edge": "replicate", "reflect": "reflect",
                                    "wrap": "circular"}[mode])
    return S.pad(a, flat, value=constant_values)


def zeros_like(a):
    return _registry.wrap(np.zeros(a.shape, dtype=a._data.dtype))


def ones_like(a):
    return _registry.wrap(np.ones(a.shape, dtype=a._data.dtype))


def full_like(a, value):
    return _registry.wrap(np.full(a.shape, value, dtype=a._data.dtype))


def astype(a, dtype):
    return E.cast(a, np.dtype(dtype))


def take_along_axis(a, index, axis):
    return I.gather(a, axis, _tensor(np.broadcast_to(index, _gather_shape(a.shape, index.shape,
                                                                           axis))))


def _gather_shape(ashape, ishape, axis):
    return tuple(i if k == axis % len(ashape) else a for k, (a, i) in enumerate(zip(ashape,
                                                                                  ishape)))


def softmax(a, axis):
    return N.softmax(a, axis)


# ---- scatter-type helpers, each an op whose reverse rule is the matching gather


def _scatter_into_fwd(xp, g, shape, axis, index):
    z = _zeros(xp, shape, g.dtype, g, index)  # batched under vmap
    xp.put_along_axis(z, index, g, axis=axis)
    return z


SCATTER_INTO = declare(
    "scatter_into", _scatter_into_fwd,
    lambda xp, g, out, src, shape, axis, index: take_along_axis(g, index, axis) if getattr(
        xp, "IS_DIFFERENTIABLE", False) else xp.take_along_axis(g, index, axis=axis),
    lambda xp, t, out, src, shape, axis, index: _scatter_into_fwd(xp, t, shape, axis, index)
    if not getattr(xp, "IS_DIFFERENTIABLE", False) else scatter_into(shape, axis, index, t),
    inputs=("src",), saves=(), node_name="ScatterBackward0")


def scatter_into(shape, axis, index, g):
    return apply(SCATTER_INTO, g, params={"shape": tuple(shape), "axis": axis, "index": index})


def _index_add_fwd(xp, g, shape, index):
    return k(xp, shape, index, g)


INDEX_ADD_INTO = declare(
    "index_add_into", _index_add_fwd,
    lambda xp, g, out, src, shape, index: g[index],
    lambda xp, t, out, src, shape, index: _index_add_fwd(xp, t, shape, index)
    if not getattr(xp, "IS_DIFFERENTIABLE", False) else index_add_into(shape, index, t),
    inputs=("src",), saves=(), node_name="IndexBackwardBackward0")


def index_add_into(shape, index, g):
    return apply(INDEX_ADD_INTO, g, params={"shape": tuple(shape), "index": index})


def index_put(base, index, value):
    return I.index_put(base, index, value)
