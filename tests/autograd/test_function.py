"""Custom autograd Functions: forward/backward, setup_context, ctx features, multiple outputs,
errors, once_differentiable, forward mode, and parity with PyTorch."""

import importlib

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import Function
from gradwalk.autograd.function import once_differentiable
from tests.fixtures.oracle import oracle


def _functions(lib):
    """The same Functions written against ``lib`` (gradwalk or torch)."""
    F = lib.autograd.Function

    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    class ScaleShift(F):  # forward + setup_context, non-tensor argument
        @staticmethod
        def forward(x, w, k):
            return x * w + k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, _ = inputs
            ctx.save_for_backward(x, w)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, (g * x).sum(0), None

    class SplitExp(F):  # three outputs, one non-differentiable
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            mask = x > 0
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(e)
            return x * 2, e, mask

        @staticmethod
        def backward(ctx, g2, ge, gmask):
            (e,) = ctx.saved_tensors
            return g2 * 2 + ge * e

    class AddOne_(F):  # in place, mark_dirty
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 1

    return Cube, ScaleShift, SplitExp, AddOne_


def _scenario(lib):
    Cube, ScaleShift, SplitExp, AddOne_ = _functions(lib)
    x = lib.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, -0.5], dtype=lib.float64, requires_grad=True)
    a = Cube.apply(x)
    b = ScaleShift.apply(a, w, 0.5)
    d, e, m = SplitExp.apply(b)
    h = d * 1
    AddOne_.apply(h)
    loss = (h * e).sum() + e.sum() + d.sum() * 0.5
    loss.backward()
    names = [a.grad_fn.name(), b.grad_fn.name(), d.grad_fn.name(), h.grad_fn.name()]
    return (x.grad.numpy().copy() if lib is gradwalk else x.grad.detach().numpy(),
            w.grad.numpy().copy() if lib is gradwalk else w.grad.detach().numpy(),
            m.requires_grad, h._version, [n.split(".")[-1] for n in names])


def test_custom_functions_match_pytorch():
    ours = _scenario(gradwalk)
    theirs = oracle(_scenario)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert ours[2:] == theirs[2:]


def test_cube_by_hand_and_node_name():
    Cube = _functions(gradwalk)[0]
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert repr(y) == "tensor([1., 8.], grad_fn=<CubeBackward>)"
    assert y.grad_fn.name() == "CubeBackward"
    assert y.grad_fn.next_functions[0][0] is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_multi_output_backward_runs_once_with_all_grads():
    calls = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            calls.append((ga.tolist(), gb.tolist()))
            return ga * 2 + gb * 3

    x = gradwalk.tensor([1.0, 1.0], requires_grad=True)
    a, b = Two.apply(x)
    assert a.grad_fn.name() == b.grad_fn.name() == "TwoBackward"
    (a.sum() * 5 + (b * b).sum()).backward()
    assert calls == [([5.0, 5.0], [6.0, 6.0])]
    np.testing.assert_allclose(x.grad.numpy(), [10.0 + 18.0, 28.0])
    # only one output used: the other gets zeros (materialize_grads default)
    a, b = Two.apply(x)
    b.sum().backward()
    assert calls[-1] == ([0.0, 0.0], [1.0, 1.0])


def test_set_materialize_grads_false_passes_none():
    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x + 1, x + 2

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((ga is None, gb is None))
            return gb

    x = gradwalk.tensor([1.0], requires_grad=True)
    _, b = Two.apply(x)
    b.sum().backward()
    assert seen == [(True, False)]


def test_needs_input_grad_and_none_for_unneeded():
    seen = []

    class F(Function):
        @staticmethod
        def forward(ctx, a, b, n):
            seen.append(ctx.needs_input_grad)
            return a * b * n

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    a = gradwalk.tensor(1.0, requires_grad=True)
    b = gradwalk.tensor(2.0)
    F.apply(a, b, 3).backward()
    assert seen == [(True, False, False)]
    assert a.grad.item() == 1.0 and b.grad is None


def test_wrong_number_of_gradients_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a = gradwalk.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function FBackward returned an incorrect number of "
                                           r"gradients \(expected 2, got 1\)"):
        F.apply(a, a).backward()


def test_wrong_gradient_shape_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    a = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Function FBackward returned an invalid gradient at "
                                           r"index 0 - got \[1\] but expected shape compatible "
                                           r"with \[2\]"):
        F.apply(a).sum().backward()


def test_gradient_for_a_non_tensor_input_raises():
    class F(Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    a = gradwalk.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="forward input was not a Variable"):
        F.apply(a, 2.0).backward()


def test_saved_tensor_modified_in_place_raises_on_access():
    Cube = _functions(gradwalk)[0]
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Cube.apply(h)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


def test_saved_tensors_freed_after_backward():
    Cube = _functions(gradwalk)[0]
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    y.sum().backward(retain_graph=True)
    assert len(y.grad_fn.saved_tensors) == 1
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn.saved_tensors  # noqa: B018
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_mark_dirty_on_a_leaf_raises():
    AddOne_ = _functions(gradwalk)[3]
    x = gradwalk.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        AddOne_.apply(x)


def test_returning_an_input_unchanged_makes_a_new_tensor():
    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = gradwalk.tensor([1.0], requires_grad=True)
    y = Ident.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name() == "IdentBackward"
    y.sum().backward()
    assert x.grad.item() == 2.0


def test_no_node_without_grad():
    Cube = _functions(gradwalk)[0]
    y = Cube.apply(gradwalk.tensor([2.0]))
    assert y.grad_fn is None and not y.requires_grad
    with gradwalk.no_grad():
        y = Cube.apply(gradwalk.tensor([2.0], requires_grad=True))
    assert y.grad_fn is None


def test_double_backward_through_a_custom_function():
    Cube = _functions(gradwalk)[0]
    x = gradwalk.tensor(2.0, dtype=gradwalk.float64, requires_grad=True)
    (g,) = gradwalk.autograd.grad(Cube.apply(x), x, create_graph=True)
    assert g.item() == 12.0
    (gg,) = gradwalk.autograd.grad(g, x)
    assert gg.item() == 12.0  # d/dx 3x^2 = 6x


def test_once_differentiable_blocks_double_backward():
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not gradwalk.is_grad_enabled()
            return 2 * x * g

    x = gradwalk.tensor(3.0, requires_grad=True)
    v = gradwalk.tensor(1.0, requires_grad=True)  # a grad_output that requires grad, as PyTorch
    (g,) = gradwalk.autograd.grad(Sq.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.item() == 6.0
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        g.backward()


def test_legacy_call_raises():
    Cube = _functions(gradwalk)[0]
    with pytest.raises(RuntimeError, match="static forward method"):
        Cube()(gradwalk.tensor(1.0))


def test_jvp_is_used_by_forward_mode():
    fwAD = importlib.import_module("gradwalk.autograd.forward_ad")

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not used")

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * 3 * x ** 2

    with fwAD.dual_level():
        d = fwAD.make_dual(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 0.5]))
        tangent = fwAD.unpack_dual(Cube.apply(d)).tangent
    np.testing.assert_allclose(tangent.numpy(), [3.0, 6.0])
