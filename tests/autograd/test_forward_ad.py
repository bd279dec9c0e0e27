"""Forward-mode AD (``gradwalk.autograd.forward_ad``): dual tensors, their rules, misuse.

The broad check runs every sample of ``tests/ops/op_samples.py`` through its public call with
dual inputs and compares the tangent ``J v`` with the reverse pass: ``<u, J v> == <J^T u, v>``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradwalk
import gradwalk.autograd.forward_ad as fwAD
from gradwalk.ops import registry
from tests.fixtures.oracle import oracle

from ..ops import op_samples  # the samples of the registry-generated tests


def t64(a):
    return gradwalk.tensor(np.asarray(a, dtype=np.float64), dtype=gradwalk.float64)


# ----------------------------------------------------------------------------------- behaviour


def test_make_dual_and_unpack():
    x = t64([1.0, 2.0, 3.0])
    v = t64([1.0, 0.0, -1.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        p, t = fwAD.unpack_dual(d)
        assert np.array_equal(p.numpy(), x.numpy())
        assert np.array_equal(t.numpy(), v.numpy())
        y = d.sin() * d
        ty = fwAD.unpack_dual(y).tangent
        xs, vs = x.numpy(), v.numpy()
        np.testing.assert_allclose(ty.numpy(), (np.cos(xs) * xs + np.sin(xs)) * vs)
        # the primal returned by unpack_dual carries no tangent
        assert fwAD.unpack_dual(fwAD.unpack_dual(y).primal).tangent is None


def test_unpack_dual_returns_namedtuple_with_none_tangent():
    x = t64(1.0)
    r = fwAD.unpack_dual(x)
    assert isinstance(r, fwAD.UnpackedDualTensor)
    assert r.primal is x and r.tangent is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(x * 2).tangent is None  # no dual input: no tangent


def test_tangents_are_dropped_when_the_level_exits():
    with fwAD.dual_level():
        d = fwAD.make_dual(t64([1.0]), t64([1.0]))
        y = d * 3
    assert fwAD.unpack_dual(y).tangent is None
    assert fwAD.unpack_dual(d).tangent is None
    assert registry._forward_hooks.count(fwAD._hook) == 0


def test_detach_drops_the_tangent_as_in_pytorch():
    with fwAD.dual_level():
        d = fwAD.make_dual(t64([1.0, 2.0]), t64([1.0, 1.0]))
        assert fwAD.unpack_dual(d.detach()).tangent is None
        assert fwAD.unpack_dual((d * 2).detach()).tangent is None


def test_zero_tangents_of_other_inputs_and_broadcasting():
    a = t64([[1.0], [2.0]])
    b = t64([10.0, 20.0, 30.0])
    with fwAD.dual_level():
        da = fwAD.make_dual(a, t64([[1.0], [0.5]]))
        y = da * b + b  # b has no tangent (a zero tangent); the result broadcasts to (2, 3)
        t = fwAD.unpack_dual(y).tangent
    assert t.shape == (2, 3)
    np.testing.assert_allclose(t.numpy(), np.array([[1.0], [0.5]]) * b.numpy())


def test_integer_results_have_no_tangent():
    with fwAD.dual_level():
        d = fwAD.make_dual(t64([1.0, -2.0]), t64([1.0, 1.0]))
        assert fwAD.unpack_dual(d.argmax()).tangent is None


def test_tangent_dtype_follows_the_primal():
    x = gradwalk.tensor([1.0, 2.0])  # float32
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t64([1.0, 1.0]))
        t = fwAD.unpack_dual(d * d).tangent
    assert t.dtype == gradwalk.float32
    np.testing.assert_allclose(t.numpy(), [2.0, 4.0])


def test_reverse_mode_sees_through_make_dual():
    x = t64([1.0, 2.0]).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t64([1.0, 1.0]))
        (d ** 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0]))


def test_reverse_over_forward_gradient_of_a_tangent():
    # d/dx <v, d/dx f(x)> for f = sum(x^3): the tangent is 3 x^2 v; its gradient is 6 x v
    x = t64([1.0, 2.0]).requires_grad_()
    v = t64([0.5, -1.0])
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, v) ** 3).sum()
        t = fwAD.unpack_dual(y).tangent
        assert t.requires_grad
        (g,) = gradwalk.autograd.grad(t, x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy() * v.numpy())


def test_forward_over_reverse_hessian_vector_product():
    # the tangent of a create_graph gradient is H v
    x = t64([1.0, 2.0, 0.5]).requires_grad_()
    v = t64([1.0, -1.0, 2.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        y = (d.exp() * d.sin()).sum()
        (g,) = gradwalk.autograd.grad(y, d, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent
    xs = x.detach().numpy()
    h = np.diag(2 * np.exp(xs) * np.cos(xs))  # d2/dx2 of e^x sin x = 2 e^x cos x
    np.testing.assert_allclose(hv.detach().numpy(), h @ v.numpy(), rtol=1e-12)


def test_enter_exit_functions_and_level_numbers():
    lv = fwAD.enter_dual_level()
    try:
        assert fwAD.is_active()
        d = fwAD.make_dual(t64(1.0), t64(2.0), level=lv)
        assert fwAD.unpack_dual(d * 3).tangent.item() == 6.0
    finally:
        fwAD.exit_dual_level(level=lv)
    assert not fwAD.is_active()


# ----------------------------------------------------------------------------------- misuse


def test_make_dual_outside_a_level_raises():
    with pytest.raises(RuntimeError, match="enter a dual level"):
        fwAD.make_dual(t64([1.0]), t64([1.0]))


def test_nested_levels_are_refused():
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with fwAD.dual_level():
                pass
    assert not fwAD.is_active()


def test_make_dual_checks_shape_and_dtype():
    with fwAD.dual_level():
        with pytest.raises(ValueError, match="different size"):
            fwAD.make_dual(t64([1.0, 2.0]), t64([1.0]))
        with pytest.raises(ValueError, match="floating point"):
            fwAD.make_dual(gradwalk.tensor([1, 2]), t64([1.0, 1.0]))
        with pytest.raises(TypeError, match="expected Tensors"):
            fwAD.make_dual(t64([1.0]), [1.0])


def test_exit_without_a_level_raises():
    with pytest.raises(RuntimeError, match="no dual level is active"):
        fwAD.exit_dual_level()


def test_op_without_a_forward_rule_names_the_op():
    op = registry.Op("no_jvp_op", lambda xp, x: x * 2, lambda xp, g, out, x: g * 2, None,
                     inputs=("self",), saves=(), save_out=False, node_name=None,
                     elementwise=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(t64([1.0]), t64([1.0]))
        with pytest.raises(RuntimeError, match="no_jvp_op"):
            registry.apply1(op, d)
    # the failed hook left no state behind
    assert not fwAD.is_active()
    with fwAD.dual_level():
        d = fwAD.make_dual(t64([1.0]), t64([1.0]))
        assert fwAD.unpack_dual(d * 2).tangent.item() == 2.0


# ----------------------------------------------------------- every op: forward vs reverse rule


@pytest.mark.parametrize("sample", op_samples.SAMPLES, ids=[s.name for s in op_samples.SAMPLES])
def test_dual_tangent_is_adjoint_of_the_gradient(sample):
    """<u, J v> (forward mode through the public call) == <J^T u, v> (reverse mode)."""
    xs = sample.inputs()
    rng = np.random.default_rng(1234)
    vs = [rng.standard_normal(x.shape) for x in xs]
    ins = [t64(x).requires_grad_() for x in xs]
    with fwAD.dual_level():
        duals = [fwAD.make_dual(i, t64(v)) for i, v in zip(ins, vs)]
        out = sample.call(gradwalk, *duals)
        jv = fwAD.unpack_dual(out).tangent
    assert jv is not None, "the output carries no tangent"
    assert jv.shape == out.shape
    u = rng.standard_normal(out.shape)
    gs = gradwalk.autograd.grad(out, ins, t64(u), allow_unused=True)
    lhs = float(np.sum(u * jv.detach().numpy()))
    rhs = sum(float(np.sum(g.numpy() * v)) for g, v in zip(gs, vs) if g is not None)
    assert np.isclose(lhs, rhs, rtol=1e-7, atol=1e-9), (lhs, rhs)


# ------------------------------------------------------------------------- PyTorch parity


def _torch_tangent(torch, call, xs, vs):
    import torch.autograd.forward_ad as tfw

    with tfw.dual_level():
        tout = call(torch, *[tfw.make_dual(torch.tensor(x), torch.tensor(v))
                             for x, v in zip(xs, vs)])
        return tfw.unpack_dual(tout).tangent.numpy()


@pytest.mark.parametrize("name", ["tanh", "softmax", "matmul_2d", "cross_entropy", "prod_all",
                                  "logsumexp_dim", "where_broadcast", "linear"])
def test_tangents_match_pytorch(name):
    sample = op_samples.SAMPLES_BY_NAME[name]
    call = sample.torch_call()
    xs = sample.inputs()
    rng = np.random.default_rng(7)
    vs = [rng.standard_normal(x.shape) for x in xs]
    with fwAD.dual_level():
        out = sample.call(gradwalk, *[fwAD.make_dual(t64(x), t64(v)) for x, v in zip(xs, vs)])
        ours = fwAD.unpack_dual(out).tangent.numpy()
    theirs = oracle(lambda torch: _torch_tangent(torch, call, xs, vs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ the level is per thread


def _run_in_thread(body):
    """Start ``body(inside, done)`` in a thread; returns (thread, done event, errors)."""
    inside, done, errors = threading.Event(), threading.Event(), []

    def run():
        try:
            body(inside, done)
        except BaseException as e:  # reported by the test's thread
            errors.append(e)
            inside.set()

    t = threading.Thread(target=run)
    t.start()
    assert inside.wait(30)
    return t, done, errors


def test_dual_level_is_state_of_its_thread():
    seen = {}

    def body(inside, done):
        with fwAD.dual_level():
            x = fwAD.make_dual(gradwalk.tensor(2.0), gradwalk.tensor(1.0))
            inside.set()
            assert done.wait(30)
            seen["active"] = fwAD.is_active()
            seen["tangent"] = fwAD.unpack_dual(x * x).tangent

    t, done, errors = _run_in_thread(body)
    try:
        # the other thread is inside its level; this one has none, and sees no tangents
        assert not fwAD.is_active()
        with pytest.raises(RuntimeError, match="enter a dual level first"):
            fwAD.make_dual(gradwalk.tensor(1.0), gradwalk.tensor(1.0))
        assert fwAD.unpack_dual(gradwalk.tensor(1.0) * 2).tangent is None
        # and it can enter its own level while the other one is open (no "nested" error)
        with fwAD.dual_level():
            y = fwAD.make_dual(gradwalk.tensor(3.0), gradwalk.tensor(2.0))
            assert fwAD.unpack_dual(y * y).tangent.item() == 12.0
        assert not fwAD.is_active()
    finally:
        done.set()
        t.join(30)
    assert not errors, errors
    assert seen["active"] is True
    assert seen["tangent"].item() == 4.0  # d(x*x) = 2*x*dx, x=2, dx=1: untouched by this thread
