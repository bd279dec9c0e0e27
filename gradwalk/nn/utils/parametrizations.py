"""``gradwalk.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``
as parametrizations (Note [parametrized modules] in ``parametrize.py``), with PyTorch's
formulas, module names and state-dict keys."""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from ... import creation, linalg
from ...autograd.grad_mode import no_grad
from ...ops.shape import cat
from ...tensor import Tensor
from .. import functional as F
from ..modules.conv import _ConvTransposeNd
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """PyTorch's ``norm_except_dim(v, 2, dim)``: the 2-norm over every dimension but ``dim``,
    kept as size-1 dimensions; ``dim=-1`` is the norm of the whole tensor (0-d)."""
    if dim == -1:
        return (v * v).sum().sqrt()
    d = dim % v.ndim
    dims = tuple(i for i in range(v.ndim) if i != d)
    return (v * v).sum(dim=dims, keepdim=True).sqrt() if dims else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """PyTorch's ``_weight_norm(v, g, dim)``: ``v * (g / norm_except_dim(v, 2, dim))``."""
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization, ``w = g * v / ||v||``: the magnitude ``g`` (``original0``) and the
    direction ``v`` (``original1``) are trained; the norm is per slice along ``dim`` (``None``:
    of the whole tensor). A state dict of the old ``nn.utils.weight_norm`` (``weight_g``,
    ``weight_v``) loads into it.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.parametrizations import weight_norm
        >>> lin = weight_norm(gradwalk.nn.Linear(20, 40))
        >>> lin.parametrizations.weight.original0.shape
        gradwalk.Size([40, 1])
        >>> lin.parametrizations.weight.original1.shape
        gradwalk.Size([40, 20])
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat(mod, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(compat)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight)
            h, w = mat.shape
            u = mat.new_empty(h).normal_(0, 1)
            v = mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            for _ in range(n_power_iterations):
                self._write(self._u, F.normalize(mat.mv(self._v), dim=0, eps=self.eps))
                self._write(self._v, F.normalize(mat.T.mv(self._u), dim=0, eps=self.eps))

    @staticmethod
    def _write(buffer: Tensor, value: Tensor) -> None:
        buffer._data[...] = value._data
        buffer._vc[0] += 1

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * mat.mv(v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalization, ``W / sigma(W)``, with ``sigma`` estimated by power iteration
    (one step per access in training mode; the vectors are the buffers ``_u``, ``_v`` of
    ``parametrizations.weight[0]``). ``dim`` is the output dimension: 0, or 1 for transposed
    convolutions.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.parametrizations import spectral_norm
        >>> _ = gradwalk.manual_seed(0)
        >>> lin = spectral_norm(gradwalk.nn.Linear(20, 40))
        >>> sorted(lin.state_dict())  # doctest: +NORMALIZE_WHITESPACE
        ['bias', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v',
         'parametrizations.weight.original']
        >>> bool(gradwalk.linalg.matrix_norm(lin.weight, 2) < 1.005)
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _eye_like(x: Tensor, n: int) -> Tensor:
    return creation.eye(n, dtype=x.dtype)


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * float(np.finfo(q._data.dtype).eps)
    return bool(np.allclose((q.mT @ q)._data, np.eye(k), atol=eps))  # torch.allclose's rtol


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a = QR`` with R's diagonal non-negative (unique for a full-rank ``a``)."""
    q, r = linalg.qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _geqrf(a: Tensor) -> tuple[Tensor, Tensor]:
    """LAPACK's ``geqrf`` of a (batch of) matrices: the reflectors below the diagonal, R on
    and above it, and ``tau``."""
    h, tau = np.linalg.qr(a._data, mode="raw")
    return Tensor._wrap(np.ascontiguousarray(np.swapaxes(h, -1, -2))), Tensor._wrap(tau)


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mT
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = linalg.matrix_exp(A)
            else:
                eye = _eye_like(A, n)
                Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape "
                                 f"{self.shape}. Got a tensor of shape {Q.shape}.")
            q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map != _OrthMaps.householder:
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                A, tau = _geqrf(Q)
                i = np.arange(min(A.shape[-2:]))
                diag = A._data[..., i, i]
                A._data[..., i, i] = np.sign(diag) * np.where(tau._data == 0.0, -1.0, 1.0)
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                N = creation.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            neg_id = creation.zeros_like(q_init)
            i = np.arange(min(neg_id.shape[-2:]))
            neg_id._data[..., i, i] = -1.0
            return neg_id


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep ``module.<name>`` orthogonal (orthonormal columns when it is tall, rows when it is
    wide) through ``"matrix_exp"``, ``"cayley"`` or ``"householder"`` (default: matrix_exp
    for a square matrix, householder otherwise), with PyTorch's dynamic trivialization (the
    buffer ``parametrizations.weight[0].base``) unless ``use_trivialization=False``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn.utils.parametrizations import orthogonal
        >>> lin = orthogonal(gradwalk.nn.Linear(4, 4))
        >>> w = lin.weight
        >>> bool(((w.T @ w) - gradwalk.eye(4)).abs().max() < 1e-5)
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.shape[-2] == weight.shape[-1]
                          else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
