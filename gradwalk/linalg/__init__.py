"""``gradwalk.linalg``: PyTorch's ``torch.linalg`` on NumPy, with reverse and forward rules.

Every decomposition, solve and inverse is one registry op whose rules are PyTorch's formulas
(``_core.py``: Note [linalg rules in two modes], Note [packed outputs]); norms, products and
the functions built from them are compositions of differentiable ops. Real dtypes, except
``eigvals`` and ``eig`` (``eigen.py``), which take real or complex matrices and return complex
results; the other functions refuse complex inputs. ``eig`` is not exported as
``gradwalk.linalg.eig`` for the reason ``eigh`` is not (Note [eig's eigenvectors]).

Note [eigh's eigenvector signs]
    Each eigenvector of ``eigh`` is defined up to its sign, and PyTorch's (MKL's ``syevd``)
    choice of sign differs from NumPy's LAPACK on most matrices (40 of 50 random 5x5 symmetric
    matrices), with no rule that maps one onto the other: PyTorch documents the eigenvectors as
    unique only up to sign, and so are gradwalk's. The eigenvalues, ``V diag(L) V^T``, the
    projectors ``v v^T`` and every gradient of a sign-invariant function agree with PyTorch's;
    the OpInfo harness compares the eigenvectors up to their signs (Note [sign-free outputs]
    in ``tests/ops/opinfo.py``). ``svd``'s signs agree with PyTorch's.

Example:
    >>> import gradwalk
    >>> A = gradwalk.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> gradwalk.linalg.det(A).backward()
    >>> A.grad
    tensor([[ 3., -1.],
            [-1.,  2.]])
"""

from __future__ import annotations

from . import _core
from ._core import LinAlgError
from .decompositions import (
    eigh,
    eigvalsh,
    householder_product,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    lu_unpack,
    qr,
    svd,
    svdvals,
)
from .eigen import eigvals
from .functions import (
    cross,
    diagonal,
    lstsq,
    matrix_exp,
    matrix_power,
    multi_dot,
    tensorinv,
    tensorsolve,
    vander,
    vecdot,
)
from .norms import cond, matrix_norm, matrix_rank, norm, vector_norm
from .solvers import (
    cholesky,
    cholesky_ex,
    det,
    inv,
    inv_ex,
    pinv,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
)

# the differentiable namespace of the rules (Note [linalg rules in two modes])
_core._GW.solve = staticmethod(lambda a, b: solve(a, b))
_core._GW.inv = staticmethod(inv)
_core._GW.solve_tri = staticmethod(
    lambda a, b, upper, unit=False: solve_triangular(a, b, upper=upper, unitriangular=unit))

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
    "eigvals",
    "eigvalsh",
    "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor",
    "lu_factor_ex", "lu_solve", "lu_unpack", "matrix_exp", "matrix_norm", "matrix_power",
    "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex",
    "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot",
    "vector_norm",
]
