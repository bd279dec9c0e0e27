"""Memory: saved values are freed as soon as backward has used them (kept with retain_graph), and
a chain of a million ops is built, backpropagated and freed without recursion."""

import gc
import sys
import weakref

import pytest

import gradwalk
from gradwalk import autograd

SECOND_BACKWARD = "Trying to backward through the graph a second time"


def _graph_with_an_intermediate():
    """``y = sum(exp(x) * exp(x))``; returns y and weak references to the intermediate ``h``."""
    x = gradwalk.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    return x, y, weakref.ref(h), weakref.ref(h._data)


def test_the_graph_keeps_saved_intermediates_alive_until_backward():
    x, y, ref_h, ref_data = _graph_with_an_intermediate()
    assert ref_h() is not None and ref_data() is not None  # saved for mul's rule


def test_saved_values_are_freed_right_after_backward():
    x, y, ref_h, ref_data = _graph_with_an_intermediate()
    mul_node = y.grad_fn.next_functions[0][0]
    assert mul_node.name() == "MulBackward0" and mul_node.saved is not None
    y.backward()
    # no gc.collect(): reference counting alone must release them (no cycles)
    assert ref_h() is None and ref_data() is None
    assert mul_node.saved is None and mul_node.released
    exp_node = mul_node.next_functions[0][0]
    assert exp_node.name() == "ExpBackward0" and exp_node.released
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        mul_node._saved_self  # noqa: B018 - reading a freed saved value raises
    assert x.grad is not None


def test_each_node_is_freed_as_soon_as_it_has_run():
    """When the leaf's gradient arrives, the nodes above it have already been released."""
    x = gradwalk.tensor([0.5, -1.0], requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    mul_node = y.grad_fn.next_functions[0][0]
    exp_node = h.grad_fn
    del h
    seen = {}

    def hook(g):
        seen["mul saved"] = mul_node.saved
        seen["exp released"] = exp_node.released

    x.register_hook(hook)
    y.backward()
    assert seen == {"mul saved": None, "exp released": True}


def test_retain_graph_keeps_saved_values():
    x, y, ref_h, ref_data = _graph_with_an_intermediate()
    y.backward(retain_graph=True)
    assert ref_h() is not None and ref_data() is not None
    first = x.grad.clone()
    y.backward()  # the second call frees
    assert (x.grad == 2 * first).all()
    assert ref_h() is None and ref_data() is None


def test_autograd_grad_frees_too():
    x, y, ref_h, _ = _graph_with_an_intermediate()
    autograd.grad(y, x, retain_graph=True)
    assert ref_h() is not None
    autograd.grad(y, x)
    assert ref_h() is None


def test_dropping_the_output_frees_the_graph_without_backward():
    x, y, ref_h, ref_data = _graph_with_an_intermediate()
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None and ref_h() is None and ref_data() is None


def test_leaf_gradients_do_not_keep_the_graph_alive():
    x, y, ref_h, _ = _graph_with_an_intermediate()
    node = weakref.ref(y.grad_fn)
    y.backward()
    del y
    assert node() is None and x.grad is not None


def test_a_million_op_chain_builds_backpropagates_and_frees():
    """1,000,000 ops on a scalar, under CPython's default recursion limit.

    Mostly ``-y`` (the cheapest op) with ``y + x`` every tenth step, so the gradient counts the
    ops: it is tracked here by the chain rule in plain Python floats (negation flips the
    derivative, adding x adds one) and must equal the engine's exactly (small integers).
    """
    n = 1_000_000
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(old_limit, 1000))
    # The cyclic collector would rescan the growing graph many times while it is built (half the
    # test's time); reference counting alone must free the chain, which this also checks.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = gradwalk.tensor(0.5, dtype=gradwalk.float64, requires_grad=True)
        y = -x
        first = weakref.ref(y.grad_fn)
        value, deriv = -0.5, -1.0
        for i in range(1, n):
            if i % 10:
                y = -y
                value, deriv = -value, -deriv
            else:
                y = y + x
                value, deriv = value + 0.5, deriv + 1.0
        assert y.item() == value
        y.backward()
        assert x.grad.item() == deriv
        # the chain is freed by dropping its last tensor, without deep recursion
        last = weakref.ref(y.grad_fn)
        del y
        assert last() is None
        assert first() is None
    finally:
        sys.setrecursionlimit(old_limit)
        if gc_was_enabled:
            gc.enable()
