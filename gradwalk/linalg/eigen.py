"""``linalg.eig`` and ``linalg.eigvals``: eigenvalues and eigenvectors of general (real or
complex) square matrices, complex results, with PyTorch's reverse and forward rules.

Note [eig's eigenvectors]
    Each eigenvector is normalized as LAPACK's ``geev`` normalizes it (PyTorch's and NumPy's
    backend): unit Euclidean norm, the component of largest modulus real. That leaves, for a
    real eigenvector of a real matrix, its sign, which LAPACK builds choose differently
    (PyTorch's MKL and NumPy's OpenBLAS disagreed on 7 of 25 random real 5x5 matrices, and
    agreed on 25 of 25 complex ones). So ``eig``'s eigenvectors equal PyTorch's up to a phase
    per column (``V[:, k] * exp(i phi_k)``); the eigenvalues, their order included, agree.
    Under the name ``gradwalk.linalg.eig`` that would be a silently different answer (the
    OpInfo entry ``linalg.eig`` differs on 2 of its 6 float64 samples), so, as ``eigh``, it
    is not exported: it is ``gradwalk.linalg.eigen.eig``; ``gradwalk.linalg.eigvals`` is.
    PyTorch's gradient of ``V`` is defined only for losses that do not depend on those phases
    (it checks that ``Im(diag(V^H gV))`` is 0 and raises otherwise, as gradwalk does); for
    such losses the gradients agree as well. ``eigvals`` depends on no phase.

    The reverse rule is PyTorch's ``linalg_eig_backward``: with ``E[i, j] = conj(L[j] - L[i])``
    (1 on the diagonal),
    ``gA = V^-H (diag(gL) + (V^H gV - V^H V diag(Re(diag(V^H gV)))) / E) V^H``,
    the real part for a real ``A``. The forward rule is ``dP = V^-1 dA V``, ``dL = diag(dP)``,
    ``dV = V (dP / E^T off the diagonal)`` less ``V diag(Re(diag(V^H dV)))``. Under
    ``create_graph`` the rules raise (no double backward of ``eig``).
"""

from __future__ import annotations

import numpy as np

from ..ops import registry as _registry
from ..ops.complex import _native
from . import _core as C

_CPLX = {np.dtype(np.float32): np.complex64, np.dtype(np.complex64): np.complex64}


def _shapes(n):
    return [(n,), (n, n)]


def _eig_fwd(xp, a, shape):
    batch, n = a.shape[:-2], a.shape[-1]
    dt = _CPLX.get(a.dtype, np.complex128)
    if a.size == 0:
        return np.zeros(batch + (n + n * n,), dtype=dt)
    if not np.all(np.isfinite(a)):
        raise C.LinAlgError("linalg.eig: The input tensor A must not contain infs or NaNs")
    w, v = np.linalg.eig(a)
    return C.pack(np, [w.astype(dt), v.astype(dt)], batch)


def _no_double(xp):
    if C.diff(xp):
        raise NotImplementedError("linalg.eig: double backward (create_graph=True) is not "
                                  "supported by gradwalk")


def _gaps_conj(L):
    E = np.conj(L[..., None, :] - L[..., :, None])
    n = L.shape[-1]
    E[..., np.arange(n), np.arange(n)] = 1.0
    return E


def _eig_vjp(xp, g, out, a, shape):
    _no_double(xp)
    batch, n = shape[:-2], shape[-1]
    L, V = C.unpack(np, out, batch, _shapes(n))
    gL, gV = C.unpack(np, g, batch, _shapes(n))
    Vh = np.conj(np.swapaxes(V, -1, -2))
    if C.allzero(gV):
        inner = np.zeros(V.shape, V.dtype)
    else:
        VhgV = Vh @ gV
        d = np.diagonal(VhgV, 0, -2, -1)
        if not np.allclose(d.imag, 0.0, rtol=1e-2, atol=1e-2):
            raise RuntimeError(
                "linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                "multiplication by e^{i phi}. The specified loss function depends on this "
                "quantity, so it is ill-defined.")
        inner = (VhgV - Vh @ (V * d.real[..., None, :])) / _gaps_conj(L)
    idx = np.arange(n)
    inner[..., idx, idx] = gL
    return np.linalg.solve(Vh, inner @ Vh)


def _eig_jvp(xp, t, out, a, shape):
    _no_double(xp)
    batch, n = shape[:-2], shape[-1]
    L, V = C.unpack(np, out, batch, _shapes(n))
    dP = np.linalg.solve(V, np.asarray(t) @ V)
    dL = np.diagonal(dP, 0, -2, -1)
    E = L[..., None, :] - L[..., :, None]
    idx = np.arange(n)
    E[..., idx, idx] = 1.0
    off = dP / E
    off[..., idx, idx] = 0.0
    dV = V @ off
    Vh = np.conj(np.swapaxes(V, -1, -2))
    dV = dV - V * np.diagonal(Vh @ dV, 0, -2, -1).real[..., None, :]
    return C.pack(np, [dL, dV], batch)


# Not in the registry's table (as ``unbind``): the registry's generic checks read a node's
# rules in real coordinates and finite differences of its packed output, which holds the
# eigenvectors whose phase is free, and its rules have no double backward (Note [eig's
# eigenvectors]); tests/linalg/test_eigen.py checks values, gradients and tangents against PyTorch.
EIG = _registry.Op("linalg_eig", _eig_fwd, _eig_vjp, _eig_jvp, inputs=("self",), saves=(),
                   save_out=True, node_name="LinalgEigBackward0", elementwise=False,
                   explain=("V^-H (diag(gL) + P(V^H gV) / conj(L_j - L_i)) V^H",))
_native(EIG)


class _Eig(tuple):
    _fields = ("eigenvalues", "eigenvectors")

    @property
    def eigenvalues(self):
        return self[0]

    @property
    def eigenvectors(self):
        return self[1]


def _square(A, op: str):
    C.tensor_in(A, op)
    kind = A._data.dtype.kind
    if kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else 1} by {A.shape[-1]} matrices")
    if A._data.dtype == np.float16:
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")


def eig(A):
    """Eigenvalues and eigenvectors of general square matrices (complex results; Note [eig's
    eigenvectors]: each eigenvector is PyTorch's up to a phase).

    Example:
        >>> import gradwalk
        >>> L, V = gradwalk.linalg.eigen.eig(gradwalk.tensor([[2.0, 0.0], [0.0, 3.0]]))
        >>> L
        tensor([2.+0.j, 3.+0.j])
        >>> V
        tensor([[1.+0.j, 0.+0.j],
                [0.+0.j, 1.+0.j]])
    """
    _square(A, "linalg.eig")
    n = A.shape[-1]
    packed = _registry.apply(EIG, A, params={"shape": tuple(A.shape)})
    return _Eig(C.unpack_tensor(packed, A.shape[:-2], _shapes(n)))


def eigvals(A):
    """The eigenvalues of general square matrices (complex), in LAPACK's order, as PyTorch's.

    Example:
        >>> import gradwalk
        >>> gradwalk.linalg.eigvals(gradwalk.tensor([[0.0, -1.0], [1.0, 0.0]]))
        tensor([0.+1.j, 0.-1.j])
    """
    _square(A, "linalg.eigvals")
    return eig(A)[0]
