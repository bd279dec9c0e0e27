"""Helpers shared by op rules. Each works in both rule modes (see Note [rules] in registry.py):
with numpy/cupy on raw arrays, and with ``dxp`` on Tensors (``create_graph=True``)."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.zeros import structural_zeros as _structural_zeros
from . import arrays as _arrays
from . import registry as _registry
from .indexing import scatter_add

_scipy_erf = False  # SciPy's erf (exact and fast, optional), looked up on first use


def _find_scipy_erf():
    global _scipy_erf
    try:
        from scipy.special import erf  # type: ignore[import-not-found]
    except Exception:  # SciPy is optional
        erf = None
    _scipy_erf = erf
    return erf

_erf_py = np.frompyfunc(math.erf, 1, 1)


def is_dxp(xp) -> bool:
    return getattr(xp, "IS_DIFFERENTIABLE", False)


def sigmoid(xp, x):
    """Numerically stable logistic function."""
    if is_dxp(xp):
        return xp.sigmoid(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def relu(xp, x):
    """``max(x, 0)`` keeping ``x`` where it is 0 (``relu(-0.0)`` is ``-0.0`` in PyTorch)."""
    return xp.maximum(0, x)  # NumPy returns the second operand on a tie


def sign(xp, x):
    """``sign`` with PyTorch's ``sign(nan) == 0`` (NumPy's is NaN); the op itself under
    ``create_graph``."""
    s = xp.sign(x)
    if is_dxp(xp):
        return s
    if getattr(s, "dtype", None) is not None and s.dtype.kind == "f":
        return xp.where(x != x, 0.0, s).astype(s.dtype, copy=False)
    return s


def erf(xp, x):
    if is_dxp(xp):
        return xp.erf(x)
    if xp is np:
        scipy_erf = _find_scipy_erf() if _scipy_erf is False else _scipy_erf
        if scipy_erf is not None:
            return scipy_erf(x).astype(x.dtype, copy=False)
        r = _erf_py(x)  # math.erf elementwise: an object array, or a float for a 0-d input
        if not hasattr(r, "astype"):
            return np.asarray(r, dtype=x.dtype)
        return r.astype(x.dtype)
    return xp.asarray(erf(np, xp.asnumpy(x)))


def astype(xp, x, dtype):
    if is_dxp(xp):
        return xp.astype(x, dtype)
    return x.astype(dtype)


def xlogy_pow(xp, out, a, b):
    """``out * log(a)``, the derivative of ``a ** b`` in ``b``, taken as 0 where ``a == 0`` and
    ``b >= 0`` (PyTorch's convention, which keeps ``0 ** b`` differentiable)."""
    safe = (a == 0) & (b >= 0)
    return xp.where(safe, 0.0, out * xp.log(xp.where(safe, 1.0, a)))


def where_grad(xp, cond, g, taken: bool):
    """The gradient ``where`` sends to one branch: ``g`` where that branch was taken, else an
    exact zero, marked as a structural zero in first-order NumPy mode so that elementwise rules
    further down keep it zero (Note [structural zeros] in autograd/zeros.py)."""
    r = xp.where(cond, g, 0.0) if taken else xp.where(cond, 0.0, g)
    if xp is np:
        return _structural_zeros(r, np.logical_not(cond) if taken else cond)
    return r


def check_tensor(x, op: str, what: str = "input") -> None:
    """PyTorch's TypeError when an op's ``what`` argument is not a Tensor."""
    if not isinstance(x, _registry.Tensor):
        raise TypeError(f"{op}(): argument '{what}' must be a Tensor, not {type(x).__name__}")


def dim_of(x, dim: int, op: str) -> int:
    """``dim`` of ``x`` made non-negative (a 0-d tensor has one dim), with the op's name in
    PyTorch's out-of-range error."""
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                         f"[{-nd}, {nd - 1}], but got {dim})")
    return dim % nd


def raise_broadcast_error(op: str, sa, sb):
    """PyTorch's message for shapes that do not broadcast, with the op's name."""
    sa, sb = tuple(sa), tuple(sb)
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + sa
    pb = (1,) * (n - len(sb)) + sb
    for k in range(n - 1, -1, -1):
        if pa[k] != pb[k] and pa[k] != 1 and pb[k] != 1:
            raise RuntimeError(
                f"{op}(): the size of tensor a ({pa[k]}) must match the size of tensor b "
                f"({pb[k]}) at non-singleton dimension {k}: shapes {list(sa)} and {list(sb)} do "
                "not broadcast. Reshape one of them (e.g. with unsqueeze) so that each dimension "
                "is equal or 1.") from None  # called while NumPy's error is handled: hide it
    raise RuntimeError(f"{op}(): shapes {list(sa)} and {list(sb)} do not broadcast") from None


_NUMBER = (int, float, bool, complex, np.integer, np.floating, np.bool_, np.complexfloating)


def as_operand(x, ref, op: str):
    """Accept a Tensor, a Python number (kept as is) or an array (wrapped) as an op input."""
    if isinstance(x, _registry.Tensor):
        if x.device != ref.device:
            raise RuntimeError(
                f"{op}(): expected all tensors to be on the same device, but found at least two "
                f"devices, {ref.device} and {x.device}. Move one with .to(device).")
        return x
    if isinstance(x, _NUMBER):
        if isinstance(x, (np.integer, np.floating, np.bool_)):
            return x.item()
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        return _registry.wrap(_arrays.to_array(x))
    raise TypeError(
        f"{op}(): unsupported operand type {type(x).__name__}; expected a Tensor or a number")


def real_only(op: str, *xs) -> None:
    """PyTorch's refusal of complex inputs where it has no complex kernel (order, sorting,
    searching, softmax): a TypeError, never an answer from NumPy's order of complex numbers."""
    for x in xs:
        d = x._data.dtype.kind if isinstance(x, _registry.Tensor) else (
            "c" if isinstance(x, complex | np.complexfloating) else "")
        if d == "c":
            raise TypeError(f"{op}(): complex tensors are not supported (complex numbers have no "
                            "order); use z.real, z.imag or z.abs()")


def _tensor_class():
    return _registry.Tensor


def nonzero_tuple(condition):
    return tuple(_registry.wrap(np.asarray(i, dtype=np.int64)) for i in np.nonzero(condition._data))


def _zeros(xp, shape, dtype, *like):
    """Zeros to scatter into: batched when ``vmap``'s batched arrays are among ``like`` (the
    values or the index), so that the writes below can differ per sample."""
    for a in like:
        for b in (a if isinstance(a, tuple) else (a,)):
            if getattr(b, "_gw_batched", False):
                return xp.zeros_like(b, dtype=dtype, shape=shape)
    return xp.zeros(shape, dtype=dtype)


def contiguous(xp, a):
    """``ascontiguousarray``; vmap's batched arrays are left as they are."""
    return a if getattr(a, "_gw_batched", False) else xp.ascontiguousarray(a)


def scatter_into(xp, shape, axis, index, g):
    """Zeros of ``shape`` with ``g`` put at ``index`` along ``axis`` (``put_along_axis``)."""
    if is_dxp(xp):
        return xp.scatter_into(shape, axis, index, g)
    z = _zeros(xp, shape, g.dtype, g, index)
    xp.put_along_axis(z, index, g, axis=axis)
    return z


def take_along(xp, x, index, axis, keepdim=True):
    """``take_along_axis``; drops ``axis`` unless ``keepdim``."""
    if is_dxp(xp):
        r = xp.take_along_axis(x, index, axis)
    else:
        r = xp.take_along_axis(x, index, axis=axis)
    return r if keepdim else xp.squeeze(r, axis=axis)


def index_add_into(xp, shape, index, g):
    """Zeros of ``shape`` with ``g`` added at the (basic or advanced) ``index``; duplicate
    indices accumulate (the reverse of ``x[index]``)."""
    if is_dxp(xp):
        return xp.index_add_into(shape, index, g)
    z = _zeros(xp, shape, g.dtype, g, index)
    if _is_basic(index):
        z[index] = g
    else:
        xp.add.at(z, index, g)
    return z


def _is_basic(index) -> bool:
    if not isinstance(index, tuple):
        index = (index,)
    for i in index:
        if not (i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))):
            return False
    return True


def pad_backward(xp, g, widths, mode):
    """Gradient of reflect/replicate/circular padding: fold the padded borders back."""
    if is_dxp(xp):
        raise NotImplementedError(
            f"double backward of pad(mode={mode!r}) is not implemented; use mode='constant'")
    src_shape = tuple(s - lo - hi for s, (lo, hi) in zip(g.shape, widths))
    idx = [np.arange(s) for s in src_shape]
    # position in the source of every padded index, per dim
    maps = []
    for d, (lo, hi) in enumerate(widths):
        n = src_shape[d]
        pos = np.arange(-lo, n + hi)
        if mode == "replicate":
            pos = np.clip(pos, 0, n - 1)
        elif mode == "circular":
            pos = pos % n
        else:  # reflect
            period = 2 * (n - 1) if n > 1 else 1
            pos = np.abs(pos) % period
            pos = np.where(pos >= n, period - pos, pos)
        maps.append(pos)
    out = _zeros(xp, src_shape, g.dtype, g)
    grids = np.ix_(*maps)
    xp.add.at(out, grids, g)
    del idx
    return out


def index_put(xp, base, index, value):
    """``base`` with ``value`` written at ``index`` (out of place)."""
    if is_dxp(xp):
        return xp.index_put(base, index, value)
    out = base.copy()
    out[index] = value
    return out


def np_scatter_add(xp, out, axis, index, src):
    """In-place ``out[..., index, ...] += src`` along ``axis`` (NumPy), duplicates accumulate."""
    idx = list(np.indices(index.shape, sparse=True))
    idx[axis] = index
    xp.add.at(out, tuple(idx), src)


def scatter_add_into(xp, shape, axis, index, g):
    """Zeros of ``shape`` with ``g`` added at ``index`` along ``axis`` (gather's reverse)."""
    if is_dxp(xp):
        z = _registry.wrap(np.zeros(shape, dtype=g._data.dtype))
        return scatter_add(z, axis, _registry.wrap(index), g)
    z = _zeros(xp, shape, g.dtype, g, index)
    np_scatter_add(xp, z, axis, index, g)
    return z


def all_samples(x):
    """The plain array holding every sample of a batched array (all vmap levels), for checks
    that validate values (class indices in range...); ``x`` itself when it is not batched. It
    reads through the registry's hook for vmap's array type (``registry._Batched``).

    Example:
        >>> import numpy as np
        >>> from gradwalk.func._batched_array import BatchedArray
        >>> from gradwalk.ops.kernels import all_samples
        >>> all_samples(BatchedArray(np.arange(3), level=1))
        array([0, 1, 2])
    """
    while type(x) is _registry._Batched:
        x = x._a
    return x
