"""Statistics: ``std_mean``/``var_mean``, ``aminmax``, ``count_nonzero``, ``nansum``/``nanmean``,
``quantile``/``nanquantile``, ``cov``/``corrcoef`` and ``renorm``.

Each is PyTorch's decomposition written over gradwalk's differentiable ops (``sort``'s gathered
values, ``lerp``-style weights, ``mm``, ``norm``...), so the gradients and tangents are those of
the composed rules, as in PyTorch, where these ops are composites too.

Note [quantile ranks]
    ``quantile`` sorts each slice and reads position ``q * (n - 1)`` (``interpolation``: the
    two neighbours weighted linearly, their midpoint, the lower, the higher or the nearest, with
    ties to even). A slice holding a NaN gives NaN (its rank is moved to the last position,
    where the sort put the NaN); ``nanquantile`` counts only the non-NaN elements, and a slice
    of NaN only gives NaN. The ranks depend on the data, not differentiably: the gradient flows
    to the one or two sorted elements read, with the interpolation weights.

Note [cov precision]
    With float32 ``aweights`` beside a float64 input, PyTorch's gradient and tangent of the
    weights are the float64 ones rounded once to float32 when ``aweights`` is the only weight:
    ``cov`` casts the lone ``aweights`` up first, and the two agree to the last bit rather than
    a few float32 roundings apart. With ``fweights`` too, PyTorch works on the float32 product
    ``fweights * aweights`` and its gradient lands a few float32 roundings away from any order
    gradwalk tried; ``cov`` refuses that one case when ``aweights`` requires grad (the remedy
    is ``aweights`` of the input's dtype) rather than give a gradient that differs.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import elementwise as E
from . import indexing as I
from . import kernels as K
from . import linalg as L
from . import reductions as Rd
from . import registry as R
from . import shape as S
from .complex import conj
from .sorting import sort

_MinMax = namedtuple("aminmax", ["min", "max"])


_check = K.check_tensor


def _unbiased_first(dim, unbiased):
    """``var_mean(x, True)``: a bool in ``dim``'s place is ``unbiased`` (PyTorch's overload)."""
    if isinstance(dim, bool):
        return None, dim
    return dim, unbiased


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)`` over ``dim`` in one call (Bessel-corrected by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.std_mean(gradwalk.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    _check(input, "std_mean")
    dim, unbiased = _unbiased_first(dim, unbiased)
    return (Rd.std(input, dim, unbiased, keepdim, correction=correction),
            Rd.mean(input, dim, keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one call (Bessel-corrected by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.var_mean(gradwalk.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    _check(input, "var_mean")
    dim, unbiased = _unbiased_first(dim, unbiased)
    return (Rd.var(input, dim, unbiased, keepdim, correction=correction),
            Rd.mean(input, dim, keepdim))


def aminmax(input, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` (all elements by default); ties share the gradient.

    Example:
        >>> import gradwalk
        >>> gradwalk.aminmax(gradwalk.tensor([3.0, 1.0, 2.0]))
        aminmax(min=tensor(1.), max=tensor(3.))
    """
    K.real_only("aminmax", input)
    _check(input, "aminmax")
    if input._data.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if input.ndim == 0:
        if dim is not None and dim not in (0, -1):
            raise IndexError(f"aminmax(): Dimension out of range (expected to be in range of "
                             f"[-1, 0], but got {dim})")
        return _MinMax(E.clone(input), E.clone(input))
    d = () if dim is None else dim
    return _MinMax(Rd.amin(input, d, keepdim), Rd.amax(input, d, keepdim))


def _dims(input, dim, op):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    ds = dim if isinstance(dim, (tuple, list)) else (dim,)
    nd = max(input.ndim, 1)
    for d in ds:
        if not -nd <= d < nd:
            raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                             f"[{-nd}, {nd - 1}], but got {d})")
    return tuple(sorted(d % nd for d in ds)) if input.ndim else None


def count_nonzero(input, dim=None):
    """The number of nonzero elements over ``dim`` (all by default), as int64.

    Example:
        >>> import gradwalk
        >>> gradwalk.count_nonzero(gradwalk.tensor([[0.0, 1.0], [2.0, 3.0]]), dim=1)
        tensor([1, 2])
    """
    _check(input, "count_nonzero")
    axes = _dims(input, dim, "count_nonzero")
    return R.wrap(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64))


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum with NaN counted as zero (they get no gradient).

    Example:
        >>> import gradwalk
        >>> gradwalk.nansum(gradwalk.tensor([1.0, float("nan"), 2.0]))
        tensor(3.)
    """
    _check(input, "nansum")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind in "fc":
        input = E.where(E.isnan(input), 0.0, input)
    if input.ndim == 0:
        return Rd.sum(input)
    return Rd.sum(input, dim, keepdim)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of the elements that are not NaN.

    Example:
        >>> import gradwalk
        >>> gradwalk.nanmean(gradwalk.tensor([1.0, float("nan"), 2.0]))
        tensor(1.5000)
    """
    _check(input, "nanmean")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {input.dtype}")
    axes = _dims(input, dim, "nanmean")
    count = np.sum(~np.isnan(input._data), axis=axes, keepdims=keepdim and input.ndim > 0)
    return E.div(nansum(input, dim, keepdim),
                 R.wrap(np.asarray(count, dtype=input._data.dtype)))


# --------------------------------------------------------------------------------------------
# quantile


_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    _check(input, name)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got "
                           f"{input.dtype}")
    if interpolation not in _MODES:
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, R.Tensor) or q.ndim == 0
    qa = np.asarray(q._data if isinstance(q, R.Tensor) else q, dtype=input._data.dtype).reshape(-1)
    if isinstance(q, R.Tensor) and q.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor, got {q.ndim}D")
    if np.any((qa < 0) | (qa > 1)):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    ndim = input.ndim
    if dim is None:
        x = S.reshape(input, (-1,))
    else:
        nd = max(ndim, 1)
        if not -nd <= dim < nd:
            raise IndexError(f"{name}(): Dimension out of range (expected to be in range of "
                             f"[{-nd}, {nd - 1}], but got {dim})")
        x = S.reshape(input, (1,)) if ndim == 0 else S.movedim(input, dim % nd, -1)
    n = x.shape[-1]
    if n == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    sorted_x = sort(x, -1).values
    nan = np.isnan(sorted_x._data)
    if ignore_nan:
        count = np.sum(~nan, axis=-1, keepdims=True)
        ranks = qa * (count - 1)
        ranks = np.where(ranks < 0, n - 1, ranks)
    else:
        ranks = np.broadcast_to(qa * (n - 1), nan.shape[:-1] + (len(qa),))
        ranks = np.where(np.any(nan, axis=-1, keepdims=True), n - 1, ranks)
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)
    below = ranks.astype(np.int64)
    out = I.gather(sorted_x, -1, R.wrap(below))
    if interpolation in ("linear", "midpoint"):
        w = np.full(ranks.shape, 0.5) if interpolation == "midpoint" else ranks - below
        above = I.gather(sorted_x, -1, R.wrap(np.ceil(ranks).astype(np.int64)))
        out = E.add(out, E.mul(E.sub(above, out), R.wrap(w.astype(input._data.dtype))))
    out = S.movedim(out, -1, 0)  # (len(q), ...)
    if keepdim:
        if dim is None:
            out = S.reshape(out, (len(qa),) + (1,) * ndim)
        elif ndim:
            out = S.unsqueeze(out, dim % ndim + 1)
        else:
            out = S.reshape(out, (len(qa),))
    elif dim is None or ndim == 0:
        out = S.reshape(out, (len(qa),))
    return S.squeeze(out, 0) if scalar_q else out


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The ``q``-th quantiles of ``input`` over ``dim`` (all elements by default); a tensor
    ``q`` puts its quantiles first (Note [quantile ranks]).

    Example:
        >>> import gradwalk
        >>> gradwalk.quantile(gradwalk.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
        tensor(2.5000)
    """
    K.real_only("quantile", input)
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """``quantile`` of the elements that are not NaN.

    Example:
        >>> import gradwalk
        >>> gradwalk.nanquantile(gradwalk.tensor([1.0, float("nan"), 3.0]), 0.5)
        tensor(2.)
    """
    K.real_only("nanquantile", input)
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# --------------------------------------------------------------------------------------------
# covariance


def cov(input, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance matrix of the variables in ``input``'s rows (observations in columns),
    with integer frequency weights ``fweights`` and observation weights ``aweights``.

    Example:
        >>> import gradwalk
        >>> gradwalk.cov(gradwalk.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    _check(input, "cov")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    if input._data.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = S.reshape(input, (1, -1)) if input.ndim < 2 else input
    n = x.shape[1]
    w = None
    if fweights is not None:
        _check(fweights, "cov", "fweights")
        if fweights.ndim > 1 or fweights._data.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have one or fewer dimensions and "
                               f"an integral dtype, got {fweights.ndim}D {fweights.dtype}")
        if fweights.numel() != n or np.any(fweights._data < 0):
            raise RuntimeError(f"cov(): expected fweights to have {n} non-negative elements, "
                               f"got {list(fweights.shape)}")
        w = fweights
    if aweights is not None:
        _check(aweights, "cov", "aweights")
        if aweights.ndim > 1 or aweights._data.dtype.kind != "f":
            raise RuntimeError("cov(): expected aweights to have one or fewer dimensions and "
                               f"a floating point dtype, got {aweights.ndim}D {aweights.dtype}")
        if aweights.numel() != n or np.any(aweights._data < 0):
            raise RuntimeError(f"cov(): expected aweights to have {n} non-negative elements, "
                               f"got {list(aweights.shape)}")
        if w is None:  # Note [cov precision]
            w = E.cast(aweights, np.promote_types(x._data.dtype, aweights._data.dtype))
        else:
            if aweights.requires_grad and aweights._data.dtype != x._data.dtype:
                raise NotImplementedError(
                    f"cov(): the gradient of {aweights.dtype} aweights used with fweights "
                    f"beside a {input.dtype} input is not supported (gradwalk does not round "
                    f"as PyTorch does there); give aweights the input's dtype, "
                    f"aweights.to({input.dtype})")
            w = E.mul(w, aweights)
    if w is None:
        w_sum = n
        avg = E.div(Rd.sum(x, 1), float(n))
        norm_factor = n - correction
    else:
        w_sum = Rd.sum(w)
        if float(w_sum._data) == 0:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = E.div(Rd.sum(E.mul(x, w), 1), w_sum)
        if aweights is not None and correction != 0:
            norm_factor = E.sub(w_sum, E.div(E.mul(Rd.sum(E.mul(w, aweights)), correction),
                                             w_sum))
        else:
            norm_factor = E.sub(w_sum, correction)
    nf = float(norm_factor._data) if isinstance(norm_factor, R.Tensor) else float(norm_factor)
    if nf <= 0:
        norm_factor = 0.0 if not isinstance(norm_factor, R.Tensor) else E.mul(norm_factor, 0.0)
    xc = E.sub(x, S.unsqueeze(avg, 1))
    c = L.mm(xc, conj(S.t(xc if w is None else E.mul(xc, w))))
    if isinstance(norm_factor, float | int):
        with np.errstate(divide="ignore", invalid="ignore"):
            c = E.div(c, R.wrap(np.asarray(norm_factor, dtype=c._data.dtype)))
    else:
        c = E.div(c, norm_factor)
    return S.squeeze(c)


def corrcoef(input):
    """Pearson correlation coefficients of the variables in ``input``'s rows.

    Example:
        >>> import gradwalk
        >>> gradwalk.corrcoef(gradwalk.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))
        tensor([[ 1.0000, -0.9820],
                [-0.9820,  1.0000]])
    """
    c = cov(input)
    if c.ndim == 0:
        return E.div(c, c)
    d = Rd.sum(E.mul(c, R.wrap(np.eye(c.shape[0], dtype=c._data.dtype))), 1)
    std = E.sqrt(d)
    c = E.div(c, S.unsqueeze(std, 1))
    c = E.div(c, S.unsqueeze(std, 0))
    return E.clamp(c, -1.0, 1.0)


def renorm(input, p, dim: int, maxnorm):
    """Each slice of ``input`` along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down
    to norm ``maxnorm`` (PyTorch's ``maxnorm / (norm + 1e-7)``).

    Example:
        >>> import gradwalk
        >>> gradwalk.renorm(gradwalk.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
        tensor([[0.6000, 0.8000],
                [0.3000, 0.4000]])
    """
    _check(input, "renorm")
    if input.ndim == 0:
        raise RuntimeError("renorm: input needs at least 2 dimensions, got 0 dimensions")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p = {p}")
    nd = input.ndim
    if not -nd <= dim < nd:
        raise IndexError(f"renorm(): Dimension out of range (expected to be in range of "
                         f"[{-nd}, {nd - 1}], but got {dim})")
    axis = dim % nd
    others = tuple(k for k in range(nd) if k != axis)
    norm = Rd.norm(input, p=float(p), dim=others, keepdim=True) if others else E.abs(input)
    big = norm._data > maxnorm
    factor = E.where(R.wrap(big), E.div(float(maxnorm), E.add(norm, 1e-7)), 1.0)
    return E.mul(input, factor)
