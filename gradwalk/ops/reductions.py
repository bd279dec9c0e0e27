"""Reductions over ``dim`` (an int, a tuple, or all dims) with ``keepdim``."""

from __future__ import annotations

import functools
import math
from collections import namedtuple

import numpy as np

from ..backend import xp_of
from . import arrays as _arrays
from . import elementwise as E
from . import kernels as K
from . import registry as _registry
from .registry import apply1, declare

_Ret = namedtuple("return_types", ["values", "indices"])
_ndarray, _add_reduce = np.ndarray, np.add.reduce
_f64, _f32 = np.dtype(np.float64), np.dtype(np.float32)


def numpy_aliases(fn):
    """Accept NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as PyTorch's
    reductions do (``x.sum(axis=1, keepdims=True)``)."""

    @functools.wraps(fn)
    def wrapper(*args, axis=_UNSET, keepdims=_UNSET, **kwargs):
        if axis is not _UNSET:
            if len(args) > 1 or kwargs.get("dim") not in (None, ()):
                raise TypeError(f"{fn.__name__}() got both 'dim' and its alias 'axis'")
            kwargs["dim"] = axis
        if keepdims is not _UNSET:
            if kwargs.get("keepdim"):
                raise TypeError(f"{fn.__name__}() got both 'keepdim' and its alias 'keepdims'")
            kwargs["keepdim"] = keepdims
        return fn(*args, **kwargs)

    return wrapper


_UNSET = object()


def _axes(dim, ndim: int, op: str):
    """Normalize ``dim`` to a sorted tuple of axes, or None for all; PyTorch's range error."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        axes = tuple(sorted(_wrap(d, ndim, op) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(
                f"{op}(): dim {list(dim)} appears multiple times in the list of dims")
        return axes if ndim else None  # a 0-d tensor's dim 0/-1 is the tensor (PyTorch's)
    axis = _wrap(dim, ndim, op)
    return (axis,) if ndim else None


def _wrap(d, ndim, op):
    return _arrays.wrap_dim(d, ndim, op)


def _grow(xp, g, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's ``shape``."""
    if not keepdim and axes is not None:
        for a in axes:
            g = xp.expand_dims(g, a)
    return xp.broadcast_to(g, shape)


def _count(shape, axes):
    n = 1
    for a in (range(len(shape)) if axes is None else axes):
        n *= shape[a]
    return n


# --------------------------------------------------------------------------------------------
# declarations


def _sum_fwd(xp, x, axes, keepdim):
    return xp.sum(x, axis=axes, keepdims=keepdim)


def _sum_vjp(xp, g, out, x, axes, keepdim, shape):
    return _grow(xp, g, shape, axes, keepdim)


def _sum_jvp(xp, t, out, x, axes, keepdim, shape):
    return xp.sum(t, axis=axes, keepdims=keepdim)


def _fwd_with_shape(f):
    return lambda xp, x, axes, keepdim, shape: f(xp, x, axes, keepdim)


SUM = declare("sum", _fwd_with_shape(_sum_fwd), _sum_vjp, _sum_jvp, saves=(),
              explain="grad broadcast to x's shape")
SUM_DIM = declare("sum_dim", _fwd_with_shape(_sum_fwd), _sum_vjp, _sum_jvp, saves=(),
                  node_name="SumBackward1",
                  explain="grad broadcast back along the summed dims")


def _mean_fwd(xp, x, axes, keepdim, shape):
    # Note [mean on NumPy]: ``np.mean`` is ``np.add.reduce`` then a division by the count, in
    # Python wrappers that cost more than both on a small array. For float64, and float32 with
    # a count float32 holds exactly, the two steps written out give the same bits.
    if type(x) is _ndarray and (x.dtype == _f64 or x.dtype == _f32 and x.size <= 1 << 24) and (
            n := _count(shape, axes)):
        return _add_reduce(x, axes, keepdims=keepdim) / n
    return xp.mean(x, axis=axes, keepdims=keepdim)


def _mean_vjp(xp, g, out, x, axes, keepdim, shape):
    n = _count(shape, axes)
    if axes is None and not keepdim and n and xp is np and (
            type(g) is _ndarray or isinstance(g, np.generic)):
        # Note [mean on NumPy]: the mean of everything: one fill of ``g / n``, the value every
        # element of the broadcast gradient divided by ``n`` has (no broadcast view)
        r = np.empty(shape, g.dtype)
        r.fill(g / n)
        return r
    return _grow(xp, g, shape, axes, keepdim) / n


def _mean_jvp(xp, t, out, x, axes, keepdim, shape):
    return xp.mean(t, axis=axes, keepdims=keepdim)


MEAN = declare("mean", _mean_fwd, _mean_vjp, _mean_jvp, saves=(),
               explain="grad / n broadcast to x's shape")
MEAN_DIM = declare("mean_dim", _mean_fwd, _mean_vjp, _mean_jvp, saves=(),
                   node_name="MeanBackward1",
                   explain="grad / n broadcast back along the reduced dims")


def _wide(x):
    """Half and single precision accumulate in double, as PyTorch's CPU ``var``/``std`` do: the
    squares of values above ~1.8e19 (or below ~1e-19) stay finite (nonzero) until the end."""
    return x.astype(np.float64) if x.dtype in (np.float16, np.float32) else x


def _var_fwd(xp, x, axes, keepdim, correction):
    return xp.var(_wide(x), axis=axes, keepdims=keepdim, ddof=correction).astype(
        x.dtype, copy=False)


def _dof_scale(n: int, correction) -> float:
    """``2 / (n - correction)`` as PyTorch's rule computes it in C: infinite when no degree of
    freedom is left (the gradient is then NaN, as torch's; a Python division would raise
    ZeroDivisionError), negative when the correction exceeds the count."""
    dof = n - correction
    return 2.0 / dof if dof != 0 else math.inf


def _var_vjp(xp, g, out, x, axes, keepdim, correction):
    n = _count(x.shape, axes)
    mu = xp.mean(x, axis=axes, keepdims=True)
    return _grow(xp, g, x.shape, axes, keepdim) * _dof_scale(n, correction) * (x - mu)


def _var_jvp(xp, t, out, x, axes, keepdim, correction):
    n = _count(x.shape, axes)
    mu = xp.mean(x, axis=axes, keepdims=True)
    scale = _dof_scale(n, correction)
    return xp.sum(t * (x - mu), axis=axes, keepdims=keepdim) * scale


VAR = declare("var", _var_fwd, _var_vjp, _var_jvp,
              explain="grad * 2 * (x - mean) / (n - correction)")


def _std_fwd(xp, x, axes, keepdim, correction):
    return xp.std(_wide(x), axis=axes, keepdims=keepdim, ddof=correction).astype(
        x.dtype, copy=False)


def _std_vjp(xp, g, out, x, axes, keepdim, correction):
    # PyTorch's: 0 where the std is 0 (no spread), not 0/0
    gv = xp.where(out == 0, 0.0, g / (2.0 * out))
    return _var_vjp(xp, gv, None, x, axes, keepdim, correction)


def _std_jvp(xp, t, out, x, axes, keepdim, correction):
    tv = _var_jvp(xp, t, None, x, axes, keepdim, correction)
    return xp.where(out == 0, 0.0, tv / (2.0 * out))


STD = declare("std", _std_fwd, _std_vjp, _std_jvp, save_out=True,
              explain="grad * (x - mean) / ((n - correction) * out)")


def _prod_fwd(xp, x, axes, keepdim):
    return xp.prod(x, axis=axes, keepdims=keepdim)


_INF = float("inf")


def _prod_grad(xp, out, x, axes, keepdim):
    """d prod / dx, exact where x holds zeros (the product of the other elements).

    At a zero that product is the product of the nonzero elements times the other zeros: with
    one zero the nonzero product; with two, the nonzero product times the other zero (0, but
    written as that zero so that double backward sees its derivative); with more, 0.
    """
    is_zero = x == 0
    outk = _grow(xp, out, x.shape, axes, keepdim)
    safe = xp.where(is_zero, 1.0, x)
    nonzero_prod = xp.prod(safe, axis=axes, keepdims=True)
    zeros = xp.sum(is_zero * 1.0, axis=axes, keepdims=True)
    other_zero = xp.sum(xp.where(is_zero, x, 0.0), axis=axes, keepdims=True) - x
    at_zero = xp.where(zeros == 1.0, nonzero_prod,
                       xp.where(zeros == 2.0, nonzero_prod * other_zero, 0.0))
    # beside a zero, an infinite x's product of the others is 0 (``out / x`` would be NaN)
    return xp.where(is_zero, at_zero, xp.where((zeros > 0) & (abs(x) == _INF), 0.0, outk / safe))


def _prod_vjp(xp, g, out, x, axes, keepdim):
    if x.ndim == 0:  # PyTorch's: the gradient as is (``out / x`` is NaN at an infinite x)
        return g
    return _grow(xp, g, x.shape, axes, keepdim) * _prod_grad(xp, out, x, axes, keepdim)


def _prod_jvp(xp, t, out, x, axes, keepdim):
    if x.ndim == 0:
        return t
    return xp.sum(t * _prod_grad(xp, out, x, axes, keepdim), axis=axes, keepdims=keepdim)


PROD = declare("prod", _prod_fwd, _prod_vjp, _prod_jvp, save_out=True,
               explain="grad * out / x")


def _amax_fwd(xp, x, axes, keepdim):
    return xp.max(x, axis=axes, keepdims=keepdim)


def _amin_fwd(xp, x, axes, keepdim):
    return xp.min(x, axis=axes, keepdims=keepdim)


def _extreme_weights(xp, out, x, axes, keepdim):
    """1/k at each of the k positions that attain the extreme value, 0 elsewhere."""
    hit = (x == _grow(xp, out, x.shape, axes, keepdim)) * 1.0
    return hit / xp.sum(hit, axis=axes, keepdims=True)


def _amax_vjp(xp, g, out, x, axes, keepdim):
    return _grow(xp, g, x.shape, axes, keepdim) * _extreme_weights(xp, out, x, axes, keepdim)


def _amax_jvp(xp, t, out, x, axes, keepdim):
    # PyTorch's: the tangents at the extreme positions (selected), summed, over their count
    hit = x == _grow(xp, out, x.shape, axes, keepdim)
    return (xp.sum(xp.where(hit, t, 0.0), axis=axes, keepdims=keepdim)
            / xp.sum(hit * 1.0, axis=axes, keepdims=keepdim))


def _raw(a):
    return a._data if hasattr(a, "grad_fn") else a


def _evenly_mask(xp, out, x):
    """Where ``max()``/``min()`` over all elements take the gradient (PyTorch's
    ``evenly_distribute_backward``): the positions equal to the result, or its NaNs when the
    result is NaN; and how many there are."""
    if np.isnan(_raw(out)):
        mask = xp.isnan(x)
    else:
        mask = x == out
    return mask, int(np.count_nonzero(_raw(mask)))


def _evenly_vjp(xp, g, out, x, axes, keepdim):
    mask, count = _evenly_mask(xp, out, x)
    return xp.where(mask, g / count, 0.0)


def _evenly_jvp(xp, t, out, x, axes, keepdim):
    # PyTorch's ``evenly_read_jvp`` compares with ``==`` only (NaN when the result is NaN)
    mask = x == out
    return xp.sum(xp.where(mask, t, 0.0)) / (xp.sum(mask * 1.0))


AMAX = declare("amax", _amax_fwd, _amax_vjp, _amax_jvp, save_out=True,
               explain="grad shared by the positions of the max")
AMIN = declare("amin", _amin_fwd, _amax_vjp, _amax_jvp, save_out=True,
               explain="grad shared by the positions of the min")
MAX_ALL = declare("max", _amax_fwd, _evenly_vjp, _evenly_jvp, save_out=True,
                  node_name="MaxBackward1",
                  explain="grad to the position(s) of the max")
MIN_ALL = declare("min", _amin_fwd, _evenly_vjp, _evenly_jvp, save_out=True,
                  node_name="MinBackward1",
                  explain="grad to the position(s) of the min")


def _select_fwd(xp, x, index, axis, keepdim, shape):
    return xp.take_along_axis(x, xp.expand_dims(index, axis), axis=axis) if keepdim else\
        xp.squeeze(xp.take_along_axis(x, xp.expand_dims(index, axis), axis=axis), axis=axis)


def _select_vjp(xp, g, out, x, index, axis, keepdim, shape):
    gk = g if keepdim else xp.expand_dims(g, axis)
    return K.scatter_into(xp, shape, axis, np.expand_dims(index, axis), gk)


def _select_jvp(xp, t, out, x, index, axis, keepdim, shape):
    return K.take_along(xp, t, np.expand_dims(index, axis), axis, keepdim)


# max/min along a dim: values are the input at the chosen indices (PyTorch's MaxBackward0).
MAX_DIM = declare("max_dim", _select_fwd, _select_vjp, _select_jvp, saves=(),
                  node_name="MaxBackward0")
MIN_DIM = declare("min_dim", _select_fwd, _select_vjp, _select_jvp, saves=(),
                  node_name="MinBackward0")


def _logsumexp_fwd(xp, x, axes, keepdim):
    m = xp.max(x, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    r = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
    return r if keepdim else xp.squeeze(r, axis=axes)


def _logsumexp_vjp(xp, g, out, x, axes, keepdim):
    return _grow(xp, g, x.shape, axes, keepdim) * xp.exp(
        x - _grow(xp, out, x.shape, axes, keepdim))


def _logsumexp_jvp(xp, t, out, x, axes, keepdim):
    return xp.sum(t * xp.exp(x - _grow(xp, out, x.shape, axes, keepdim)), axis=axes,
                  keepdims=keepdim)


LOGSUMEXP = declare("logsumexp", _logsumexp_fwd, _logsumexp_vjp, _logsumexp_jvp, save_out=True,
                    explain="grad * softmax(x)")


def _norm_fwd(xp, x, p, axes, keepdim):
    a = xp.abs(x)
    if p == 2:
        return xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdim))
    if p == float("inf"):
        return xp.max(a, axis=axes, keepdims=keepdim)
    if p == float("-inf"):
        return xp.min(a, axis=axes, keepdims=keepdim)
    if p == 1:
        return xp.sum(a, axis=axes, keepdims=keepdim)
    if p == 0:
        return xp.sum((x != 0) * 1.0, axis=axes, keepdims=keepdim).astype(x.dtype)
    return xp.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)


def _norm_dfdx(xp, out, x, p, axes, keepdim):
    """d norm / dx, 0 where the norm is 0 (the subgradient PyTorch picks)."""
    outk = _grow(xp, out, x.shape, axes, keepdim)
    if p == 2:
        return xp.where(outk == 0, 0.0, x / xp.where(outk == 0, 1.0, outk))
    if p == 1:
        return K.sign(xp, x)
    if p == 0:
        return x * 0.0
    if p in (float("inf"), float("-inf")):
        # PyTorch's: the positions of the extreme, or NaN, share the gradient (sign(nan) = 0)
        a = xp.abs(x)
        hit = ((a == outk) | xp.isnan(a)) * 1.0
        return K.sign(xp, x) * hit / xp.sum(hit, axis=axes, keepdims=True)
    a = xp.abs(x)
    safe = xp.where(outk == 0, 1.0, outk)
    return xp.where(outk == 0, 0.0, xp.sign(x) * a ** (p - 1) / safe ** (p - 1))


def _norm_vjp(xp, g, out, x, p, axes, keepdim):
    return _grow(xp, g, x.shape, axes, keepdim) * _norm_dfdx(xp, out, x, p, axes, keepdim)


def _norm_jvp(xp, t, out, x, p, axes, keepdim):
    return xp.sum(t * _norm_dfdx(xp, out, x, p, axes, keepdim), axis=axes, keepdims=keepdim)


NORM = declare("norm", _norm_fwd, _norm_vjp, _norm_jvp, save_out=True,
               node_name="NormBackward1",
               explain="grad * x / out")


def _cumsum_vjp(xp, g, out, x, axis):
    return xp.flip(xp.cumsum(xp.flip(g, axis=axis), axis=axis), axis=axis)


CUMSUM = declare("cumsum", lambda xp, x, axis: xp.cumsum(x, axis=axis), _cumsum_vjp,
                 lambda xp, t, out, x, axis: xp.cumsum(t, axis=axis), saves=(),
                 explain="reverse cumulative sum of grad")


# --------------------------------------------------------------------------------------------
# public functions


def _float_input(x, op):
    if not isinstance(x, _registry.Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    return x


@numpy_aliases
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of all elements, or over ``dim`` (int or tuple) keeping it when ``keepdim``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> gradwalk.sum(x), gradwalk.sum(x, dim=0)
        (tensor(10.), tensor([4., 6.]))
    """
    _float_input(input, "sum")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bi" and input._data.dtype != np.int64:
        input = _registry.wrap(input._data.astype(np.int64))
    axes = _axes(dim, input.ndim, "sum")
    op = SUM if dim is None else SUM_DIM
    return apply1(op, input, {"axes": axes, "keepdim": keepdim, "shape": input._data.shape})


@numpy_aliases
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of all elements, or over ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.mean(gradwalk.tensor([1.0, 2.0, 6.0]))
        tensor(3.)
    """
    _float_input(input, "mean")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype}. Use x.float().mean() instead.")
    axes = _axes(dim, input.ndim, "mean")
    op = MEAN if dim is None else MEAN_DIM
    return apply1(op, input, {"axes": axes, "keepdim": keepdim, "shape": input._data.shape})


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


@numpy_aliases
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance (Bessel-corrected by default, as PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.var(gradwalk.tensor([1.0, 2.0, 3.0]))
        tensor(1.)
    """
    if isinstance(unbiased, bool) or unbiased is None:
        pass
    else:  # var(x, 0) style: the second positional is dim in PyTorch too
        dim, unbiased = unbiased, None
    axes = _axes(dim, input.ndim, "var")
    return apply1(VAR, input, {"axes": axes, "keepdim": keepdim,
                               "correction": _correction(unbiased, correction)})


@numpy_aliases
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation (Bessel-corrected by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.std(gradwalk.tensor([1.0, 2.0, 3.0]))
        tensor(1.)
    """
    axes = _axes(dim, input.ndim, "std")
    return apply1(STD, input, {"axes": axes, "keepdim": keepdim,
                               "correction": _correction(unbiased, correction)})


@numpy_aliases
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of elements (gradient exact where inputs are zero).

    Example:
        >>> import gradwalk
        >>> gradwalk.prod(gradwalk.tensor([2.0, 3.0, 4.0]))
        tensor(24.)
    """
    if dtype is not None:
        input = input.to(dtype)
    axes = _axes(dim, input.ndim, "prod")
    return apply1(PROD, input, {"axes": axes, "keepdim": keepdim})


def _extreme(input, dim, keepdim, op_all, op_dim, argf, name):
    if isinstance(dim, _registry.Tensor):  # max(a, b) as elementwise maximum
        return (E.maximum if name == "max" else E.minimum)(input, dim)
    if input._data.size == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument.")
    if dim is None:
        return apply1(op_all, input, {"axes": None, "keepdim": False})
    axis = _wrap(dim, input.ndim, name)
    if input.ndim == 0:
        return _Ret(input.clone(), _registry.wrap(np.zeros((), dtype=np.int64)))
    index = argf(input._data, axis=axis)
    values = apply1(op_dim, input, {"index": index, "axis": axis, "keepdim": keepdim,
                                    "shape": input.shape})
    idx = np.expand_dims(index, axis) if keepdim else index
    return _Ret(values, _registry.wrap(_int64(idx)))


@numpy_aliases
def max(input, dim=None, keepdim=False):
    """Largest value; with ``dim``, ``(values, indices)`` along it.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> gradwalk.max(x)
        tensor(7.)
        >>> gradwalk.max(x, dim=1).indices
        tensor([1, 0])
    """
    return _extreme(input, dim, keepdim, MAX_ALL, MAX_DIM, _argmax_np, "max")


@numpy_aliases
def min(input, dim=None, keepdim=False):
    """Smallest value; with ``dim``, ``(values, indices)`` along it.

    Example:
        >>> import gradwalk
        >>> gradwalk.min(gradwalk.tensor([3.0, 1.0, 2.0]))
        tensor(1.)
    """
    return _extreme(input, dim, keepdim, MIN_ALL, MIN_DIM, _argmin_np, "min")


def _argmax_np(a, axis):
    return xp_of(a).argmax(a, axis=axis)


def _argmin_np(a, axis):
    return xp_of(a).argmin(a, axis=axis)


@numpy_aliases
def amax(input, dim=(), keepdim=False):
    """Largest values over ``dim`` (ties share the gradient evenly).

    Example:
        >>> import gradwalk
        >>> gradwalk.amax(gradwalk.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=0)
        tensor([7., 5.])
    """
    return apply1(AMAX, input, {"axes": _axes(dim, input.ndim, "amax"), "keepdim": keepdim})


@numpy_aliases
def amin(input, dim=(), keepdim=False):
    """Smallest values over ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.amin(gradwalk.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=0)
        tensor([1., 2.])
    """
    return apply1(AMIN, input, {"axes": _axes(dim, input.ndim, "amin"), "keepdim": keepdim})


def _arg(input, dim, keepdim, f, name):
    K.real_only(name, input)
    a = input._data
    if dim is None:
        r = f(a.reshape(-1))
        if keepdim:
            r = np.asarray(r).reshape((1,) * a.ndim)
    else:
        axis = _wrap(dim, input.ndim, name)
        r = f(a, axis=axis) if a.ndim else np.asarray(0)
        if keepdim and a.ndim:
            r = np.expand_dims(r, axis)
    return _registry.wrap(_int64(r))


def _int64(r):
    """Indices as an int64 array (vmap's batched arrays stay batched)."""
    if getattr(r, "_gw_batched", False):
        return r.astype(np.int64)
    return np.asarray(r, dtype=np.int64)


@numpy_aliases
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (flattened when ``dim`` is None); no gradient.

    Example:
        >>> import gradwalk
        >>> gradwalk.argmax(gradwalk.tensor([1.0, 9.0, 3.0]))
        tensor(1)
    """
    return _arg(input, dim, keepdim, np.argmax, "argmax")


@numpy_aliases
def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value; no gradient.

    Example:
        >>> import gradwalk
        >>> gradwalk.argmin(gradwalk.tensor([1.0, 9.0, 3.0]))
        tensor(0)
    """
    return _arg(input, dim, keepdim, np.argmin, "argmin")


@numpy_aliases
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably.

    Example:
        >>> import gradwalk
        >>> gradwalk.logsumexp(gradwalk.tensor([0.0, 0.0]), dim=0)
        tensor(0.6931)
    """
    return apply1(LOGSUMEXP, input, {"axes": _axes(dim, input.ndim, "logsumexp"),
                                     "keepdim": keepdim})


@numpy_aliases
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); ``"fro"`` is the 2-norm.

    Example:
        >>> import gradwalk
        >>> gradwalk.norm(gradwalk.tensor([3.0, 4.0]))
        tensor(5.)
    """
    if p is None or p == "fro":
        p = 2
    if p == "nuc":  # the sum of singular values: a matrix norm (gradwalk.linalg)
        from ..linalg.toplevel import norm as _linalg_norm
        return _linalg_norm(input, p, dim, keepdim, dtype=dtype)
    if isinstance(p, str):
        raise ValueError(f"norm(): unsupported norm type {p!r}; use a number, 'fro', 'nuc' or inf")
    if dtype is not None:
        input = input.to(dtype)
    return apply1(NORM, input, {"p": float(p), "axes": _axes(dim, input.ndim, "norm"),
                                "keepdim": keepdim})


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim`` (computed in ``dtype`` when given).

    Example:
        >>> import gradwalk
        >>> gradwalk.cumsum(gradwalk.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([1., 3., 6.])
    """
    axis = _wrap(dim, input.ndim, "cumsum")
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:  # PyTorch keeps the 0-d shape
        return apply1(CUMSUM, input.reshape(1), {"axis": 0}).reshape(())
    return apply1(CUMSUM, input, {"axis": axis})


@numpy_aliases
def any(input, dim=None, keepdim=False):
    """True where any element (over ``dim``) is nonzero.

    Example:
        >>> import gradwalk
        >>> gradwalk.any(gradwalk.tensor([0.0, 1.0]))
        tensor(True)
    """
    axes = _axes(dim, input.ndim, "any")
    return _registry.wrap(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)))


@numpy_aliases
def all(input, dim=None, keepdim=False):
    """True where all elements (over ``dim``) are nonzero.

    Example:
        >>> import gradwalk
        >>> gradwalk.all(gradwalk.tensor([0.0, 1.0]))
        tensor(False)
    """
    axes = _axes(dim, input.ndim, "all")
    return _registry.wrap(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)))
