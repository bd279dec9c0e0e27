"""BLAS-style fused ops (``addmm``, ``addmv``, ``addr``, ``baddbmm``, ``addbmm``, ``addcmul``,
``addcdiv``), ``vdot``, distances (``dist``, ``cdist``) and ``cross``.

Each is PyTorch's own decomposition written over gradwalk's differentiable ops (``matmul``,
``mul``, ``add``, ``norm``...), so its gradient and forward-mode tangent are those ops' rules
composed: nothing here needs a rule of its own.

Note [beta zero]
    As in PyTorch, ``beta=0`` ignores ``input`` altogether: NaN or infinity in it does not reach
    the result, and ``input`` gets no gradient. Any other ``beta`` scales it (``0 * nan`` is
    NaN).
"""

from __future__ import annotations

import numpy as np

from . import elementwise as E
from . import kernels as K
from . import linalg as L
from . import reductions as Rd
from . import registry as R
from . import shape as S
from .complex import conj

_check = K.check_tensor


def _scaled_sum(input, product, beta, alpha, op):
    """``beta * input + alpha * product`` (Note [beta zero]), ``input`` broadcast to the
    product's shape as PyTorch requires."""
    _check(input, op)
    try:
        shape = np.broadcast_shapes(input.shape, product.shape)
    except ValueError:
        shape = None
    if shape != tuple(product.shape):
        raise RuntimeError(
            f"{op}(): the input of shape {list(input.shape)} does not broadcast to the "
            f"product's shape {list(product.shape)}; give an input of that shape or one that "
            "expands to it")
    out = product if alpha == 1 else E.mul(product, alpha)
    if beta == 0:
        return out
    return E.add(out, input if beta == 1 else E.mul(input, beta))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``mat1`` and ``mat2``.

    Example:
        >>> import gradwalk
        >>> gradwalk.addmm(gradwalk.ones(2, 2), gradwalk.eye(2), gradwalk.ones(2, 2), beta=0.5)
        tensor([[1.5000, 1.5000],
                [1.5000, 1.5000]])
    """
    _check(mat1, "addmm", "mat1")
    _check(mat2, "addmm", "mat2")
    return _scaled_sum(input, L.mm(mat1, mat2), beta, alpha, "addmm")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.addmv(gradwalk.ones(2), gradwalk.eye(2), gradwalk.tensor([1.0, 2.0]))
        tensor([2., 3.])
    """
    _check(mat, "addmv", "mat")
    _check(vec, "addmv", "vec")
    return _scaled_sum(input, L.mv(mat, vec), beta, alpha, "addmv")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.addr(gradwalk.zeros(2, 2), gradwalk.tensor([1.0, 2.0]),
        ...               gradwalk.tensor([1.0, 3.0]))
        tensor([[1., 3.],
                [2., 6.]])
    """
    _check(vec1, "addr", "vec1")
    _check(vec2, "addr", "vec2")
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1 and vec2, but got shapes "
                           f"{list(vec1.shape)} and {list(vec2.shape)}")
    return _scaled_sum(input, L.outer(vec1, vec2), beta, alpha, "addr")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)``, batch by batch.

    Example:
        >>> import gradwalk
        >>> gradwalk.baddbmm(gradwalk.ones(1, 2, 2), gradwalk.ones(1, 2, 3),
        ...                  gradwalk.ones(1, 3, 2)).tolist()
        [[[4.0, 4.0], [4.0, 4.0]]]
    """
    _check(batch1, "baddbmm", "batch1")
    _check(batch2, "baddbmm", "batch2")
    return _scaled_sum(input, L.bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``.

    Example:
        >>> import gradwalk
        >>> gradwalk.addbmm(gradwalk.zeros(2, 2), gradwalk.ones(3, 2, 1), gradwalk.ones(3, 1, 2))
        tensor([[3., 3.],
                [3., 3.]])
    """
    _check(batch1, "addbmm", "batch1")
    _check(batch2, "addbmm", "batch2")
    return _scaled_sum(input, Rd.sum(L.bmm(batch1, batch2), 0), beta, alpha, "addbmm")


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.addcmul(gradwalk.ones(2), gradwalk.tensor([1.0, 2.0]),
        ...                  gradwalk.tensor([3.0, 4.0]), value=0.5)
        tensor([2.5000, 5.0000])
    """
    _check(input, "addcmul")
    prod = E.mul(tensor1, tensor2)
    return E.add(input, prod if value == 1 else E.mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, broadcasting (integer division is refused, as
    in PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.addcdiv(gradwalk.ones(2), gradwalk.tensor([1.0, 2.0]),
        ...                  gradwalk.tensor([4.0, 4.0]), value=2)
        tensor([1.5000, 2.0000])
    """
    _check(input, "addcdiv")
    for t in (tensor1, tensor2):
        if isinstance(t, R.Tensor) and t._data.dtype.kind in "biu" and all(
                isinstance(u, R.Tensor) and u._data.dtype.kind in "biu"
                for u in (tensor1, tensor2)):
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future release "
                "addcdiv will perform a true division of tensor1 and tensor2. Use "
                "torch.addcmul(input, tensor1, 1 / tensor2) instead.")
    quot = E.div(tensor1, tensor2)
    return E.add(input, quot if value == 1 else E.mul(quot, value))


def vdot(input, other):
    """The dot product of two 1-D tensors (the first conjugated; real tensors need none).

    Example:
        >>> import gradwalk
        >>> gradwalk.vdot(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0, 4.0]))
        tensor(11.)
    """
    _check(input, "vdot")
    _check(other, "vdot", "other")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return L.dot(conj(input), other)


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcasting).

    Example:
        >>> import gradwalk
        >>> gradwalk.dist(gradwalk.tensor([0.0, 0.0]), gradwalk.tensor([3.0, 4.0]))
        tensor(5.)
    """
    _check(input, "dist")
    return Rd.norm(E.sub(input, other), p=float(p))


def cdist(x1, x2, p: float = 2.0, compute_mode: str | None = None):
    """Pairwise ``p``-norm distances between the rows of ``x1`` (``[..., P, M]``) and of
    ``x2`` (``[..., R, M]``): a ``[..., P, R]`` tensor. ``compute_mode`` is accepted and
    ignored (gradwalk always computes the differences directly).

    Example:
        >>> import gradwalk
        >>> gradwalk.cdist(gradwalk.tensor([[0.0, 0.0]]), gradwalk.tensor([[3.0, 4.0],
        ...                                                                [0.0, 1.0]]))
        tensor([[5., 1.]])
    """
    _check(x1, "cdist", "x1")
    _check(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, "
                           f"X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    diff = E.sub(S.unsqueeze(x1, -2), S.unsqueeze(x2, -3))
    return Rd.norm(diff, p=float(p), dim=-1)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (by default the first dimension of size 3
    of ``input``, as ``torch.cross``), broadcasting.

    Example:
        >>> import gradwalk
        >>> gradwalk.cross(gradwalk.tensor([1.0, 0.0, 0.0]), gradwalk.tensor([0.0, 1.0, 0.0]))
        tensor([0., 0., 1.])
    """
    _check(input, "cross")
    _check(other, "cross", "other")
    try:
        shape = np.broadcast_shapes(input.shape, other.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: input shapes {list(input.shape)} and "
                           f"{list(other.shape)} do not broadcast") from None
    if dim is None:
        dims = [k for k, n in enumerate(input.shape) if n == 3]  # input's, as torch.cross
        if not dims:
            raise RuntimeError(f"no dimension of size 3 in input: shapes {list(input.shape)} "
                               f"and {list(other.shape)}")
        dim = dims[0] + len(shape) - input.ndim
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-len(shape)}, {len(shape) - 1}], but got {dim})")
    dim %= len(shape)
    if shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[dim] if input.ndim > dim else 1} and "
                           f"{other.shape[dim] if other.ndim > dim else 1}")
    a = S.broadcast_to(input, shape)
    b = S.broadcast_to(other, shape)
    a0, a1, a2 = (S.narrow(a, dim, k, 1) for k in range(3))
    b0, b1, b2 = (S.narrow(b, dim, k, 1) for k in range(3))
    return S.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)
