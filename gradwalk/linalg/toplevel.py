"""The linear-algebra functions of the ``torch`` namespace itself (``torch.det``,
``torch.svd``, ``torch.triangular_solve``...), with their older conventions, over
``gradwalk.linalg``."""

from __future__ import annotations

from . import _core as C
from .decompositions import lu_solve_torch, lu_torch, lu_unpack, qr_torch, svd_torch
from .functions import matrix_exp
from .norms import matrix_norm, vector_norm
from .solvers import (
    cholesky as _cholesky,
)
from .solvers import (
    cholesky_inverse,
    cholesky_solve,
    det,
    inv,
    logdet,
    pinverse,
    slogdet,
    solve_triangular,
)


def cholesky(input, upper: bool = False):
    """``torch.cholesky``: ``linalg.cholesky(input, upper=upper)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.cholesky(gradwalk.tensor([[4.0]]))
        tensor([[2.]])
    """
    return _cholesky(input, upper=upper)


def inverse(input):
    """``torch.inverse``: ``linalg.inv``.

    Example:
        >>> import gradwalk
        >>> gradwalk.inverse(gradwalk.tensor([[2.0]]))
        tensor([[0.5000]])
    """
    return inv(input)


class _TriangularSolve(tuple):
    @property
    def solution(self):
        return self[0]

    @property
    def cloned_coefficient(self):
        return self[1]


def triangular_solve(b, A, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """``torch.triangular_solve``: ``(X, A.clone())`` with ``A @ X = b`` (``A.mT @ X = b``
    when ``transpose``).

    Example:
        >>> import gradwalk
        >>> A = gradwalk.tensor([[2.0, 1.0], [0.0, 1.0]])
        >>> gradwalk.triangular_solve(gradwalk.tensor([[3.0], [1.0]]), A).solution
        tensor([[1.],
                [1.]])
    """
    C.matrix_in(A, "triangular_solve", "A", square=True)
    C.matrix_in(b, "triangular_solve", "b")
    M = A.mT if transpose else A
    X = solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular,
                         _project=False, _tangent_mT=transpose)
    return _TriangularSolve((X, A.clone()))


__all__ = ["cholesky", "cholesky_inverse", "cholesky_solve", "det", "inverse", "logdet",
           "lu_solve_torch", "lu_torch", "lu_unpack", "matrix_exp", "pinverse", "qr_torch",
           "norm", "slogdet", "svd_torch", "triangular_solve"]


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """``torch.norm``: the vector norm over ``dim`` (all entries by default; ``'fro'`` is the
    2-norm), the nuclear norm for ``p='nuc'`` (matrix_norm over the two dims).

    Example:
        >>> import gradwalk
        >>> from gradwalk.linalg.toplevel import norm
        >>> norm(gradwalk.tensor([[3.0, 0.0], [0.0, 4.0]]), "nuc")
        tensor(7.)
    """
    from_dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if isinstance(p, str):
        if p == "fro" and (from_dims is None or len(from_dims) <= 2):
            return vector_norm(input, 2, from_dims, keepdim, dtype=dtype)
        dims = tuple(range(input.ndim)) if from_dims is None else from_dims
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, from_dims, keepdim, dtype=dtype)
