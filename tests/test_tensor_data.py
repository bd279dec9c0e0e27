"""``Tensor.data`` as PyTorch's (Note [.data]): same memory, detached, untracked by autograd."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle


def _untracked_change(torch):
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    y = x * 2
    z = y * y
    d = y.data
    d.add_(1)  # no version bump: backward runs with the new values
    z.sum().backward()
    return {"grad": x.grad, "y_version": y._version, "d_version": d._version,
            "flags": [d.requires_grad, d.grad_fn is None, d.is_leaf], "y": y.detach()}


def test_changes_through_data_share_memory_and_are_not_tracked():
    ref = oracle(_untracked_change)
    got = _untracked_change(gradwalk)
    np.testing.assert_array_equal(got["grad"].numpy(), ref["grad"])
    np.testing.assert_array_equal(got["y"].numpy(), ref["y"])
    assert [got["y_version"], got["d_version"], got["flags"]] == [
        ref["y_version"], ref["d_version"], ref["flags"]]


def _detach_is_tracked(torch):
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = x * 2
    z = y * y
    y.detach().add_(1)  # shares the version counter: backward must refuse
    return error_of(z.sum().backward)


def test_detach_unlike_data_bumps_the_shared_version():
    ref = oracle(_detach_is_tracked)
    assert ref is not None and "RuntimeError" in ref
    assert _detach_is_tracked(gradwalk) == ref


def _optimizer_idiom(torch):
    w = torch.nn.Parameter(torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64))
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    for _ in range(3):
        loss = (x @ w).pow(2).sum()
        w.grad = None
        loss.backward()
        w.data.add_(w.grad, alpha=-0.1)
        w.data.sub_(0.01 * w.grad.data)
    d = w.data
    return {"w": w.detach(), "norm": w.data.norm(), "type": type(d).__name__,
            "rg": [d.requires_grad, w.requires_grad, w.is_leaf], "version": w._version}


def test_the_tutorial_idioms_run_as_in_pytorch():
    ref = oracle(_optimizer_idiom)
    got = _optimizer_idiom(gradwalk)
    np.testing.assert_allclose(got["w"].numpy(), ref["w"], rtol=1e-12)
    np.testing.assert_allclose(got["norm"].item(), ref["norm"], rtol=1e-12)
    assert [got["type"], got["rg"], got["version"]] == [ref["type"], ref["rg"], ref["version"]]


def _setter(torch):
    a = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    b = torch.arange(4.0, dtype=torch.float64)
    a.data = b
    b[0] = 9.0  # a uses b's memory now
    c = torch.zeros(2)
    c.data = torch.arange(3)  # a tensor that requires no grad takes any dtype
    return {"a": a.detach(), "flags": [a.requires_grad, a.is_leaf, a._version],
            "c": c, "c_dtype": str(c.dtype).split(".")[-1],
            "int_error": error_of(setattr, a, "data", torch.arange(2)),
            "list_error": error_of(setattr, a, "data", [1.0])}


def test_the_setter_as_pytorch():
    ref = oracle(_setter)
    got = _setter(gradwalk)
    np.testing.assert_array_equal(got["a"].numpy(), ref["a"])
    np.testing.assert_array_equal(got["c"].numpy(), ref["c"])
    for k in ("flags", "c_dtype", "int_error", "list_error"):
        assert got[k] == ref[k], k


def test_the_setter_messages_name_the_remedy():
    a = gradwalk.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"floating point or complex dtype.*\.float\(\)"):
        a.data = gradwalk.arange(2)
    with pytest.raises(TypeError, match="has to be a tensor, but got list"):
        a.data = [1.0]


def test_data_of_a_nonleaf_and_of_a_view_is_a_fresh_leaf():
    x = gradwalk.ones(4, requires_grad=True)
    v = (x * 1)[1:3]
    d = v.data
    assert d.is_leaf and d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d._data, v._data)
    d.fill_(5)
    assert v.tolist() == [5.0, 5.0] and v._version == 0


def test_data_carries_no_tangent():
    import gradwalk.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        p = fwAD.make_dual(gradwalk.ones(2), gradwalk.ones(2))
        assert fwAD.unpack_dual(p).tangent is not None
        assert fwAD.unpack_dual(p.data).tangent is None


def test_parameter_data_is_a_plain_tensor_over_the_same_memory():
    p = gradwalk.nn.Parameter(gradwalk.ones(2))
    d = p.data
    assert type(d) is gradwalk.Tensor and not d.requires_grad
    d.mul_(4)
    assert p.tolist() == [4.0, 4.0] and p.requires_grad
