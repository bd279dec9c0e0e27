"""The engine's written-out first-order path for nodes of three inputs or more (``_fastn``), the
bias fast path of ``_sum_to`` and the marking pass of ``inputs=`` (``_needed``): the same
gradients and the same errors as the general path."""

import numpy as np
import pytest

import gradwalk
from gradwalk import autograd
from gradwalk.autograd import engine

F = gradwalk.nn.functional


class _Watch(engine.Listener):
    """A listener: while one is registered every node takes the general path."""

    def __init__(self):
        self.nodes = []

    def on_node(self, node, grad_in, grads_out):
        self.nodes.append(node.name())


def _linear_grads(general: bool):
    rng = np.random.default_rng(0)
    x = gradwalk.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = gradwalk.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = gradwalk.tensor(rng.standard_normal(4), requires_grad=True)
    watch = _Watch()
    if general:
        engine.listen(watch)
    try:
        (F.linear(x, w, b).tanh() * gradwalk.arange(20.0).reshape(5, 4)).sum().backward()
    finally:
        if general:
            engine.unlisten(watch)
    assert ("AddmmBackward0" in watch.nodes) == general
    return [t.grad.numpy() for t in (x, w, b)]


def test_a_three_input_node_gets_the_general_paths_gradients():
    for fast, general in zip(_linear_grads(False), _linear_grads(True)):
        np.testing.assert_array_equal(fast, general)


def test_a_three_input_node_with_inputs_that_need_no_gradient():
    w = gradwalk.ones(2, 3, requires_grad=True)
    x = gradwalk.ones(4, 3)
    F.linear(x, w, gradwalk.zeros(2)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 3), 4.0))
    b = gradwalk.zeros(2, requires_grad=True)
    F.linear(x, gradwalk.ones(2, 3), b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [4.0, 4.0])


def test_a_three_input_node_checks_the_versions_of_what_it_saved():
    x = gradwalk.ones(4, 3, requires_grad=True)
    w = gradwalk.ones(2, 3, requires_grad=True)
    h = x * 1  # a non-leaf, saved by linear for w's gradient
    y = F.linear(h, w, gradwalk.zeros(2, requires_grad=True)).sum()
    with gradwalk.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_a_three_input_node_refuses_a_second_backward():
    w = gradwalk.ones(2, 3, requires_grad=True)
    y = F.linear(gradwalk.ones(4, 3), w, gradwalk.zeros(2, requires_grad=True)).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_a_three_input_node_without_a_derivative_says_so():
    op = gradwalk.ops.registry.declare("fastpaths_test_nograd", lambda xp, a, b, c: a + b + c,
                                       None, inputs=("a", "b", "c"), saves=())
    del gradwalk.ops.registry.REGISTRY[op.name]
    x = gradwalk.ones(2, requires_grad=True)
    y = gradwalk.ops.registry.apply(op, x, x, x)
    with pytest.raises(RuntimeError, match="the derivative for 'fastpaths_test_nograd'"):
        y.sum().backward()


def test_the_bias_reduction_and_its_shape_error():
    b = gradwalk.zeros(3, requires_grad=True)
    (gradwalk.ones(4, 3) + b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [4.0, 4.0, 4.0])
    node = (b * 1).grad_fn
    with pytest.raises(RuntimeError, match=r"invalid gradient at index 0 - got \[4, 2\]"):
        engine._sum_to(np.ones((4, 2)), (3,), node, 0, np)


def test_grad_with_inputs_runs_only_the_rules_that_lead_to_them():
    x = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float64, requires_grad=True)
    z = gradwalk.tensor([0.3, 0.4], dtype=gradwalk.float64, requires_grad=True)
    a = x * 2
    unrelated = (z.exp() * 3).sin()
    y = (a * a).sum() + (a * unrelated).sum() + unrelated.sum()
    watch = _Watch()
    engine.listen(watch)
    try:
        (ga,) = autograd.grad(y, a)
    finally:
        engine.unlisten(watch)
    np.testing.assert_allclose(ga.numpy(), 2 * a.detach().numpy() + unrelated.detach().numpy(),
                               rtol=1e-14)
    assert "ExpBackward0" not in watch.nodes and "SinBackward0" not in watch.nodes
    assert z.grad is None
