"""Tensor hooks, retain_grad, post-accumulate hooks and node pre/post hooks: calling conventions
and PyTorch's firing order."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _vals(ts):
    return [None if t is None else t.tolist() for t in ts]


def _order_log(lib):
    """Every kind of hook on a two-node graph; returns what fired, in order, with its values."""
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    y.register_hook(lambda g: log.append(("tensor1", g.tolist())) or g * 2)
    y.retain_grad()  # registered between the tensor hooks: still runs after both
    y.register_hook(lambda g: log.append(("tensor2", g.tolist())))
    y.grad_fn.register_prehook(lambda go: log.append(("node_pre", _vals(go))))
    y.grad_fn.register_hook(lambda gi, go: log.append(("node_post", _vals(gi), _vals(go))))
    acc = y.grad_fn.next_functions[0][0]
    x.register_hook(lambda g: log.append(("leaf_tensor", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post_acc", t.grad.tolist())))
    acc.register_prehook(lambda go: log.append(("acc_pre", _vals(go))))
    acc.register_hook(lambda gi, go: log.append(("acc_post", _vals(gi), _vals(go))))
    z.backward()
    log.append(("y.grad", y.grad.tolist()))
    log.append(("x.grad", x.grad.tolist()))
    return log


def test_hook_order_and_values_match_pytorch():
    assert _order_log(gradwalk) == oracle(_order_log)


def test_hook_order_by_hand():
    log = _order_log(gradwalk)
    names = [e[0] for e in log]
    assert names == ["tensor1", "tensor2", "node_pre", "node_post", "leaf_tensor", "acc_pre",
                     "post_acc", "acc_post", "y.grad", "x.grad"]
    # y = 2x = [2, 4]; dz/dy = 2y = [4, 8]; tensor1 doubles it
    assert log[0][1] == [4.0, 8.0]
    assert log[1][1] == [8.0, 16.0]
    assert log[-2][1] == [8.0, 16.0]  # retain_grad sees the hooks' result
    assert log[3][1] == [[16.0, 32.0], None]  # grad_inputs: (x's, None for the constant 2)
    assert log[-1][1] == [16.0, 32.0]


def test_tensor_hook_replacement_and_remove():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    h.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_nonleaf_tensor_hook_changes_what_flows_upstream():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g + 1)
    (y * 3).backward()
    assert x.grad.item() == (3 + 1) * 2 * 2.0


def test_tensor_hook_must_keep_the_shape():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (x * 2).sum().backward()


def test_hook_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gradwalk.tensor([1.0]).register_hook(lambda g: g)


def test_node_prehook_gets_a_tuple_and_may_replace_it():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    seen = []

    def pre(grad_outputs):
        seen.append(type(grad_outputs))
        return (grad_outputs[0] * 0 + 1,)

    y.grad_fn.register_prehook(pre)
    (y * 5).sum().backward()
    assert seen == [tuple]
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def test_node_post_hook_may_replace_grad_inputs():
    a = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    b = gradwalk.tensor([3.0, 4.0], requires_grad=True)
    y = a * b
    y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[1] * 0))
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0])


def test_node_hook_sees_gradients_reduced_to_the_input_shape():
    a = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    b = gradwalk.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    y = a + b
    shapes = []
    y.grad_fn.register_hook(lambda gi, go: shapes.append([tuple(g.shape) for g in gi]))
    y.sum().backward()
    assert shapes == [[(2,), (3, 1)]]


def test_node_hook_bad_return_raises():
    x = gradwalk.tensor([1.0], requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="returned 2 values, expected a tuple of 1"):
        y.sum().backward()


def test_retain_grad_and_post_accumulate_hook():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    assert calls == [[18.0, 36.0]]
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.register_post_accumulate_grad_hook(lambda t: None)


def test_hooks_in_autograd_grad_for_nonleaf_inputs():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 100)
    (gy,) = gradwalk.autograd.grad(y * y, y)
    assert gy.item() == 2 * 6.0 * 100


def test_hooks_under_create_graph_receive_differentiable_tensors():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x ** 3
    y.register_hook(lambda g: g * x)
    (gx,) = gradwalk.autograd.grad(y, x, create_graph=True)
    assert gx.item() == 3 * 4.0 * 2.0
    (ggx,) = gradwalk.autograd.grad(gx, x)
    assert ggx.item() == 9 * 4.0  # d/dx of 3 x^3


def _inplace_and_function_hooks(lib):
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: log.append(("before", g.tolist())))  # stays on the old value
    y.retain_grad()  # follows y to its new value
    y.mul_(2)
    y.register_hook(lambda g: log.append(("after", g.tolist())))
    (y * y).sum().backward()
    log.append(("y.grad", y.grad.tolist()))
    log.append(("x.grad", x.grad.tolist()))

    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    x.grad = None
    a, b = Two.apply(x)
    a.register_hook(lambda g: log.append(("a", g.tolist())) or g * 10)
    b.retain_grad()
    (a.sum() + (b * b).sum()).backward()
    log.append(("b.grad", b.grad.tolist()))
    log.append(("x.grad", x.grad.tolist()))
    return log


def test_hooks_with_inplace_and_custom_functions_match_pytorch():
    ours = _inplace_and_function_hooks(gradwalk)
    assert ours == oracle(_inplace_and_function_hooks)
    assert ours[0] == ("after", [12.0, 24.0]) and ours[1] == ("before", [24.0, 48.0])
