"""linalg.eigvals and eig (``gradwalk.linalg.eigen.eig``, not exported under PyTorch's name)
against PyTorch (recorded oracle): eigenvalues in LAPACK's order, eigenvectors up to a phase
per column (Note [eig's eigenvectors] in gradwalk/linalg/eigen.py), gradients of
phase-invariant losses, tangents."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

RNG = np.random.default_rng(5)


def _eig(m):
    return gradwalk.linalg.eigen.eig if m is gradwalk else m.linalg.eig
REAL = RNG.standard_normal((2, 4, 4))
CPLX = REAL + 1j * RNG.standard_normal((2, 4, 4))
MATRICES = {"real": REAL, "complex": CPLX}


def _phase_free(V):
    """Each column divided by the phase of its first entry: the same for any choice of phase."""
    first = V[..., :1, :]
    return V * (np.abs(first) / first)


@pytest.mark.parametrize("kind", sorted(MATRICES))
def test_values_and_vectors_match_torch_up_to_phase(kind):
    A = MATRICES[kind]

    def run(m):
        L, V = _eig(m)(m.tensor(A))
        return L, V, m.linalg.eigvals(m.tensor(A))

    (L, V, ev), (tL, tV, tev) = run(gradwalk), oracle(run)
    assert L.numpy().dtype == tL.dtype and V.numpy().dtype == tV.dtype
    np.testing.assert_allclose(L.numpy(), tL, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ev.numpy(), tev, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_phase_free(V.numpy()), _phase_free(tV), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(np.linalg.norm(V.numpy(), axis=-2), 1.0, rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(MATRICES))
def test_gradients_match_torch(kind):
    A = MATRICES[kind]
    c = np.arange(8.0).reshape(2, 4) + 1j

    def run(m):
        a = m.tensor(A, requires_grad=True)
        (g1,) = m.autograd.grad((m.linalg.eigvals(a) * m.tensor(c)).real.sum(), a)
        L, V = _eig(m)(a)
        loss = (L.abs() ** 2).sum() + (V.abs() ** 3).sum()  # invariant under V's phases
        (g2,) = m.autograd.grad(loss, a)
        return g1, g2

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        assert ours.numpy().dtype == ref.dtype
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-11)


def test_forward_mode_matches_torch():
    A, T = CPLX[0], REAL[1] + 0.5j

    def run(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            L, V = _eig(m)(fw.make_dual(m.tensor(A), m.tensor(T)))
            return fw.unpack_dual(L).tangent, fw.unpack_dual(V).tangent

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-11)


def test_a_phase_dependent_loss_raises_as_torch():
    def run(m):
        a = m.tensor(CPLX[0], requires_grad=True)
        return error_of(lambda: _eig(m)(a)[1].real.sum().backward())

    assert run(gradwalk)[0] == oracle(run)[0] == "RuntimeError"


def test_eig_is_not_exported_under_torchs_name():
    assert not hasattr(gradwalk.linalg, "eig")


def test_errors_match_torch():
    def run(m):
        return [error_of(lambda: _eig(m)(m.ones(2, 3))),
                error_of(lambda: m.linalg.eigvals(m.tensor([[1, 2], [3, 4]])))]

    assert [e[0] for e in run(gradwalk)] == [e[0] for e in oracle(run)]
    with pytest.raises(NotImplementedError, match="double backward"):
        a = gradwalk.tensor(REAL[0], requires_grad=True)
        (g,) = gradwalk.autograd.grad(gradwalk.linalg.eigvals(a).real.sum(), a,
                                      create_graph=True)
