"""``gradwalk.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp with PyTorch's
signatures; ``strategy``/``vectorize``/``mode="auto"``, ``create_graph``, ``strict``, misuse;
parity with ``torch.autograd.functional`` in float64."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp
from tests.fixtures.oracle import oracle


def t64(a):
    return gradwalk.tensor(np.asarray(a, dtype=np.float64), dtype=gradwalk.float64)


RNG = np.random.default_rng(1)
X = RNG.standard_normal(3)
Y = RNG.standard_normal((2, 3))
V = RNG.standard_normal(3)


def f_two(a, b):
    return (a * b).tanh().sum(0)


def f_scalar(a):
    return (a.exp() * a.sin()).sum()


def f_pair(a, b):
    return ((a * b).pow(2) * a.exp()).sum()


# ------------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode", "auto"])
def test_jacobian_strategies_agree(vectorize, strategy):
    ref = jacobian(f_two, (t64(X), t64(Y)))
    got = jacobian(f_two, (t64(X), t64(Y)), vectorize=vectorize, strategy=strategy)
    assert isinstance(got, tuple) and len(got) == 2
    assert got[0].shape == (3, 3) and got[1].shape == (3, 2, 3)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_jacobian_layouts():
    x = t64(X)
    j = jacobian(lambda a: a.sin(), x)
    np.testing.assert_allclose(j.numpy(), np.diag(np.cos(X)))
    j2 = jacobian(lambda a: (a * 2, a.sum()), x)  # tuple of outputs, tensor input
    assert isinstance(j2, tuple) and j2[0].shape == (3, 3) and j2[1].shape == (3,)
    j3 = jacobian(lambda a, b: (a.sum(), b * 3), (x, t64(Y)))
    assert j3[0][1].shape == (2, 3) and j3[1][1].shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(j3[0][1].numpy(), np.zeros((2, 3)))


def test_auto_mode_picks_by_sizes_and_reports():
    x = t64(X)
    _, used = jacobian(lambda a: a.repeat(5), x, strategy="auto", return_mode=True)
    assert used == "forward-mode"  # 3 inputs, 15 outputs
    jacobian(lambda a: a.sum(), x, mode="auto")
    assert jacobian.last_mode == "reverse-mode"  # 3 inputs, 1 output
    jacobian(lambda a: a.sum(), x, mode="forward")
    assert jacobian.last_mode == "forward-mode"


def test_create_graph_keeps_results_differentiable():
    x = t64(X).requires_grad_()
    j = jacobian(lambda a: a ** 3, x, create_graph=True)
    assert j.requires_grad
    j.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * X)
    j2 = jacobian(lambda a: a ** 3, x)
    assert not j2.requires_grad


def test_vjp_jvp_hvp_vhp_values():
    x, v = t64(X), t64(V)
    out, g = vjp(lambda a: a.exp(), x, v)
    np.testing.assert_allclose(g.numpy(), np.exp(X) * V)
    out, t = jvp(lambda a: a.exp(), x, v)
    np.testing.assert_allclose(t.numpy(), np.exp(X) * V)
    h = np.diag(2 * np.exp(X) * np.cos(X))
    val, hv = hvp(f_scalar, x, v)
    np.testing.assert_allclose(hv.numpy(), h @ V, rtol=1e-12)
    assert val.item() == pytest.approx(float((np.exp(X) * np.sin(X)).sum()))
    _, vh = vhp(f_scalar, x, v)
    np.testing.assert_allclose(vh.numpy(), V @ h, rtol=1e-12)
    np.testing.assert_allclose(hessian(f_scalar, x).numpy(), h, rtol=1e-12, atol=1e-14)


def test_v_may_be_none_for_single_elements():
    _, g = vjp(lambda a: (a * a).sum(), t64(X))
    np.testing.assert_allclose(g.numpy(), 2 * X)
    _, t = jvp(lambda a: a * 3, t64([2.0]))
    np.testing.assert_allclose(t.numpy(), [3.0])


def test_tuple_inputs_give_tuple_results():
    x, y = t64(X), t64(Y)
    _, gs = vjp(f_two, (x, y), t64(np.ones(3)))
    assert isinstance(gs, tuple) and gs[1].shape == (2, 3)
    h = hessian(f_pair, (x, t64(X * 2)))
    assert len(h) == 2 and h[0][1].shape == (3, 3)
    np.testing.assert_allclose(h[0][1].numpy(), h[1][0].numpy().T, rtol=1e-12)


# ------------------------------------------------------------------------------- misuse


def test_strict_mode_reports_independent_outputs():
    with pytest.raises(RuntimeError, match="independent of input 1"):
        jacobian(lambda a, b: a * 2, (t64(X), t64(X)), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        jacobian(lambda a: t64([1.0]), t64(X), strict=True)
    with pytest.raises(RuntimeError, match="strict=True.*vectorize=True"):
        jacobian(lambda a: a, t64(X), strict=True, vectorize=True)
    # a dependent function passes strict mode
    jacobian(lambda a: a * 2, t64(X), strict=True)


def test_bad_inputs_and_vectors():
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        jacobian(lambda a: a, [1.0, 2.0])
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        jacobian(lambda a: 3, t64(X))
    with pytest.raises(RuntimeError, match="v can only be None"):
        vjp(lambda a: a * 2, t64(X))
    with pytest.raises(RuntimeError, match="v can only be None"):
        jvp(lambda a: a * 2, t64(X))
    with pytest.raises(RuntimeError, match="has size"):
        vjp(lambda a: a * 2, t64(X), t64([1.0]))
    with pytest.raises(RuntimeError, match="single element"):
        hessian(lambda a: a * 2, t64(X))
    with pytest.raises(ValueError, match="strategy"):
        jacobian(lambda a: a, t64(X), strategy="sideways")
    with pytest.raises(ValueError, match="mode"):
        jacobian(lambda a: a, t64(X), mode="sideways")


# ------------------------------------------------------------------------- PyTorch parity


def _cmp(ours, theirs):
    if isinstance(ours, (tuple, list)):
        assert isinstance(theirs, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _cmp(a, b)
        return
    assert isinstance(theirs, np.ndarray)  # torch's recorded result
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["jacobian", "jacobian_fwd", "jacobian_tuple_out",
                                  "hessian", "hessian_pair", "hessian_fwd", "vjp", "jvp", "hvp",
                                  "vhp"])
def test_matches_torch_autograd_functional(case):
    import gradwalk.autograd.functional as GF

    def run(M, T):
        x, y, v = T(X), T(Y), T(V)
        return {
            "jacobian": lambda: M.jacobian(f_two, (x, y)),
            "jacobian_fwd": lambda: M.jacobian(f_two, (x, y), vectorize=True,
                                               strategy="forward-mode"),
            "jacobian_tuple_out": lambda: M.jacobian(lambda a: (a.exp(), a.sum() * a), x),
            "hessian": lambda: M.hessian(f_scalar, x),
            "hessian_pair": lambda: M.hessian(f_pair, (x, v)),
            "hessian_fwd": lambda: M.hessian(f_scalar, x, vectorize=True,
                                             outer_jacobian_strategy="forward-mode"),
            "vjp": lambda: M.vjp(f_two, (x, y), v),
            "jvp": lambda: M.jvp(lambda a: a.exp() * a, x, v),
            "hvp": lambda: M.hvp(f_pair, (x, v), (v, x)),
            "vhp": lambda: M.vhp(f_pair, (x, v), (v, x)),
        }[case]()

    _cmp(run(GF, t64), oracle(lambda torch: run(torch.autograd.functional, torch.tensor)))
