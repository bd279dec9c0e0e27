"""The backward engine: backward/grad, retain_graph, create_graph, accumulation, graph shapes."""

import math

import numpy as np
import pytest

import gradwalk
from gradwalk import autograd


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


SECOND_BACKWARD = "Trying to backward through the graph a second time"


# ---------------------------------------------------------------------------------- freed graphs

def test_second_backward_through_a_freed_graph_raises_pytorchs_message():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD) as info:
        y.backward()
    assert "Specify retain_graph=True" in str(info.value)
    assert x.grad.item() == 4.0  # the failed call added nothing


def test_retain_graph_keeps_the_graph_for_another_backward():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()


def test_a_freed_subgraph_used_by_a_new_graph_raises():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    z = y * 3  # builds on y's freed node
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        z.backward()


def test_ops_that_save_nothing_can_be_walked_twice():
    # add saves no values, so nothing was freed: PyTorch allows this too
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x + 1
    y.backward()
    y.backward()
    assert x.grad.item() == 2.0


def test_grad_frees_the_graph_unless_retained():
    x = gradwalk.tensor(1.0, requires_grad=True)
    y = x.exp()
    autograd.grad(y, x, retain_graph=True)
    (g,) = autograd.grad(y, x)
    assert g.item() == pytest.approx(math.e)
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        autograd.grad(y, x)


# ---------------------------------------------------------------------------------- bad roots

def test_backward_of_a_non_scalar_needs_gradient():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        autograd.grad(x * 2, x)


def test_backward_of_a_one_element_non_scalar_is_allowed():
    x = gradwalk.tensor([3.0], requires_grad=True)
    (x * x).backward()
    assert x.grad.tolist() == [6.0]


def test_backward_of_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        gradwalk.ones(2).sum().backward()
    x = gradwalk.tensor(1.0, requires_grad=True)
    with gradwalk.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_of_a_leaf_accumulates_ones():
    x = gradwalk.tensor(5.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------------------------- autograd.backward

def test_autograd_backward_several_roots_with_grad_tensors():
    a = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    autograd.backward([a * 2, (a * a).sum()], [gradwalk.tensor([1.0, -1.0]), gradwalk.tensor(3.0)])
    # d/da [w . 2a + 3 * sum(a^2)] = 2w + 6a
    assert a.grad.tolist() == [2.0 + 6.0, -2.0 + 12.0]


def test_autograd_backward_single_tensor_and_none_grad():
    a = gradwalk.tensor(2.0, requires_grad=True)
    autograd.backward(a ** 2)
    assert a.grad.item() == 4.0
    autograd.backward([a * 3], None)
    assert a.grad.item() == 7.0


def test_autograd_backward_grad_tensors_count_must_match():
    a = gradwalk.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="2 gradients for 1 outputs"):
        autograd.backward([a * 2], [gradwalk.tensor(1.0), gradwalk.tensor(1.0)])


# ---------------------------------------------------------------------------------- autograd.grad

def test_grad_returns_gradients_and_leaves_grad_untouched():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    w = gradwalk.tensor([3.0, -1.0], requires_grad=True)
    gx, gw = autograd.grad((x * w).sum(), [x, w])
    assert gx.tolist() == [3.0, -1.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad


def test_grad_with_grad_outputs():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad(x * x, x, grad_outputs=gradwalk.tensor([1.0, 3.0]))
    assert g.tolist() == [2.0, 12.0]
    (g,) = autograd.grad([x * 2, x * x], x, grad_outputs=[gradwalk.ones(2), gradwalk.ones(2)])
    assert g.tolist() == [4.0, 6.0]


def test_grad_allow_unused():
    a = gradwalk.tensor(1.0, requires_grad=True)
    b = gradwalk.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(a * 2, [a, b])
    ga, gb = autograd.grad(a * 2, [a, b], allow_unused=True)
    assert ga.item() == 2.0 and gb is None
    ga, gb = autograd.grad(a * 2, [a, b], materialize_grads=True)
    assert gb.item() == 0.0


def test_grad_with_respect_to_an_intermediate():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x * x
    z = y * 2 + y
    (gy,) = autograd.grad(z, y, retain_graph=True)
    assert gy.item() == 3.0
    gy, gx = autograd.grad(z, [y, x])
    assert gy.item() == 3.0 and gx.item() == 18.0


def test_grad_input_errors():
    x = gradwalk.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad(x * 2, gradwalk.tensor(1.0))
    with pytest.raises(RuntimeError, match="non-empty inputs"):
        autograd.grad(x * 2, [])
    with pytest.raises(TypeError, match="expected a Tensor"):
        autograd.grad(x * 2, [1.0])


# ---------------------------------------------------------------------------------- create_graph

def test_third_derivative_of_a_polynomial():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x ** 4 + 3 * x ** 3 - x
    (d1,) = autograd.grad(y, x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    assert d1.item() == 4 * 8 + 9 * 4 - 1  # 4x^3 + 9x^2 - 1
    assert d2.item() == 12 * 4 + 18 * 2  # 12x^2 + 18x
    assert d3.item() == 24 * 2 + 18  # 24x + 18
    assert d1.requires_grad and d2.requires_grad and not d3.requires_grad


def test_grad_of_grad_of_sin():
    x = gradwalk.tensor([0.3, -1.2, 2.0], dtype=gradwalk.float64, requires_grad=True)
    (d1,) = autograd.grad(x.sin().sum(), x, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = autograd.grad(d2.sum(), x)
    xs = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(d1.detach().numpy(), np.cos(xs), rtol=1e-12)
    np.testing.assert_allclose(d2.detach().numpy(), -np.sin(xs), rtol=1e-12)
    np.testing.assert_allclose(d3.numpy(), -np.cos(xs), rtol=1e-12)


def test_create_graph_mixed_partials():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = gradwalk.tensor(3.0, requires_grad=True)
    f = x * x * y + y.exp()
    gx, gy = autograd.grad(f, [x, y], create_graph=True)
    (gxy,) = autograd.grad(gx, y)  # d/dy (2xy) = 2x
    assert gxy.item() == 4.0
    (gyy,) = autograd.grad(gy, y)  # d/dy (x^2 + e^y) = e^y
    assert gyy.item() == pytest.approx(math.exp(3.0), rel=1e-6)


def test_backward_create_graph_accumulates_a_differentiable_grad():
    x = gradwalk.tensor(1.5, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.grad_fn is not None and g.item() == pytest.approx(6.75)
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(9.0)  # 6x


def test_hessian_vector_product_matches_torch(torch):
    def hvp(t):
        x = t.tensor([0.5, -1.0, 2.0], dtype=t.float64, requires_grad=True)
        v = t.tensor([1.0, 2.0, -1.0], dtype=t.float64)
        f = (x.tanh() * x.sigmoid()).sum() + (x @ x) ** 2
        (g,) = t.autograd.grad(f, x, create_graph=True)
        (h,) = t.autograd.grad(g, x, grad_outputs=v)
        return g.detach().numpy(), h.numpy()

    for a, b in zip(hvp(gradwalk), hvp(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-10)


# ---------------------------------------------------------------------------------- accumulation

def test_grad_accumulates_across_backward_calls_until_reset():
    x = gradwalk.tensor([1.0, -2.0], requires_grad=True)
    for _ in range(3):
        (x * x).sum().backward()
    assert x.grad.tolist() == [6.0, -12.0]
    x.grad = None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad.zero_()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_accumulated_grad_does_not_alias_the_gradient_flowing_elsewhere():
    a = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    b = gradwalk.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # add hands the same gradient to both inputs
    a.grad.add_(10.0)
    assert b.grad.tolist() == [1.0, 1.0]
    assert a.grad.tolist() == [11.0, 11.0]


def test_user_kept_grad_object_is_updated_in_place():
    x = gradwalk.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    (x * 3).sum().backward()
    assert x.grad is g and g.tolist() == [5.0]


# ---------------------------------------------------------------------------------- graph shapes

def test_diamond_graph():
    x = gradwalk.tensor(1.5, requires_grad=True)
    a = x * 2
    d = a.sin() * a.cos()  # = sin(2a) / 2, d/dx = 2 cos(2a) = 2 cos(4x)
    d.backward()
    assert x.grad.item() == pytest.approx(2 * math.cos(6.0), rel=1e-5)


def test_diamond_runs_each_node_once_after_all_its_consumers():
    x = gradwalk.tensor(2.0, requires_grad=True)
    seen = []
    a = x * 3
    a.register_hook(lambda g: seen.append(g.item()))
    b = a * a
    c = a + b
    c.sum().backward()
    assert seen == [1.0 + 2 * 6.0]  # one call with both paths summed
    assert x.grad.item() == 3 * 13.0


def test_leaf_used_many_times():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x * x + x + x * 4  # 3x^2 + 1 + 4
    y.backward()
    assert x.grad.item() == 17.0
    z = gradwalk.tensor(1.0, requires_grad=True)
    total = z
    for _ in range(99):
        total = total + z
    total.backward()
    assert z.grad.item() == 100.0


def test_same_tensor_on_both_sides():
    x = gradwalk.tensor([3.0, -1.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [6.0, -2.0]
    y = gradwalk.tensor(2.0, requires_grad=True)
    (y / y).backward()
    assert y.grad.item() == 0.0


def test_broadcasting_gradients_are_summed_to_the_input_shape():
    col = gradwalk.tensor([[1.0], [2.0]], requires_grad=True)  # (2, 1)
    row = gradwalk.tensor([1.0, 2.0, 3.0], requires_grad=True)  # (3,)
    s = gradwalk.tensor(2.0, requires_grad=True)  # ()
    ((col * row + s) ** 2).sum().backward()
    out = (np.array([[1.0], [2.0]]) * np.array([1.0, 2.0, 3.0]) + 2.0)
    assert col.grad.shape == (2, 1) and row.grad.shape == (3,) and s.grad.shape == ()
    np.testing.assert_allclose(col.grad.numpy(), (2 * out * [1.0, 2.0, 3.0]).sum(1, keepdims=True))
    np.testing.assert_allclose(row.grad.numpy(), (2 * out * [[1.0], [2.0]]).sum(0))
    assert s.grad.item() == pytest.approx((2 * out).sum())


def test_broadcast_keeps_size_one_dims():
    x = gradwalk.ones(1, 3, 1, requires_grad=True)
    (x + gradwalk.ones(2, 3, 4)).sum().backward()
    assert x.grad.shape == (1, 3, 1) and x.grad.tolist() == [[[8.0], [8.0], [8.0]]]


def test_branches_that_do_not_require_grad_are_skipped():
    x = gradwalk.tensor(2.0, requires_grad=True)
    c = gradwalk.tensor(5.0)
    y = x * c + c.exp()
    y.backward()
    assert x.grad.item() == 5.0 and c.grad is None


def test_detach_stops_the_gradient():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x.detach()  # only the first factor is differentiated
    y.backward()
    assert x.grad.item() == 2.0


def test_dynamic_graph_follows_python_control_flow():
    def f(x):
        y = x
        while y.abs().item() < 10:
            y = y * 2 if y.item() > 0 else y * -3
        return y

    x = gradwalk.tensor(1.5, requires_grad=True)
    f(x).backward()  # 1.5 -> 3 -> 6 -> 12
    assert x.grad.item() == 8.0
    x2 = gradwalk.tensor(-1.0, requires_grad=True)
    f(x2).backward()  # -1 -> 3 -> 6 -> 12
    assert x2.grad.item() == -3 * 2 * 2


def test_gradient_dtype_matches_each_input():
    a = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    b = gradwalk.tensor([3.0, 4.0], dtype=gradwalk.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is gradwalk.float32 and b.grad.dtype is gradwalk.float64
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]


def test_engine_matches_torch_on_a_small_network(torch):
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((5, 4))
    w1, b1 = rng.standard_normal((4, 6)), rng.standard_normal(6)
    w2 = rng.standard_normal((6, 1))

    def run(t):
        x = t.tensor(xs, dtype=t.float64)
        p = [t.tensor(a, dtype=t.float64, requires_grad=True) for a in (w1, b1, w2)]
        h = (x @ p[0] + p[1]).tanh()
        out = (h @ p[2]).sigmoid()
        loss = ((out - 0.5) ** 2).mean() + (h * h).sum() * 0.01
        loss.backward()
        return [loss.detach().numpy()] + [q.grad.numpy() for q in p]

    for a, b in zip(run(gradwalk), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------- structure
# Note [the walk]: the engine stays readable (complexity) and knows no op (layers).

ENGINE = __import__("pathlib").Path(autograd.engine.__file__)


def test_no_engine_function_is_above_complexity_15():
    ruff_main = pytest.importorskip("ruff.__main__")
    import subprocess

    r = subprocess.run([ruff_main.find_ruff_bin(), "check", "--no-cache", "--isolated",
                        "--select", "C901", "--config", "lint.mccabe.max-complexity=15",
                        str(ENGINE)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_engine_imports_nothing_from_ops():
    import ast
    import re

    src = ENGINE.read_text()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [a.name for a in node.names]
            assert not any(n == "ops" or n.startswith("ops.") or ".ops" in n or n == "dxp"
                           for n in names), ast.unparse(node)
        elif isinstance(node, ast.Import):
            assert not any(".ops" in a.name for a in node.names), ast.unparse(node)
    assert not re.search(r"^\s*(from|import)\s+\S*\bops\b", src, re.M)


def test_structural_zeros_live_in_their_own_module():
    from gradwalk.autograd import zeros
    from gradwalk.ops import kernels

    assert autograd.engine.MaskedGrad is zeros.MaskedGrad
    assert zeros.MaskedGrad.__module__ == "gradwalk.autograd.zeros"
    assert "class MaskedGrad" not in ENGINE.read_text()
    assert kernels._structural_zeros is zeros.structural_zeros


def test_create_graph_uses_the_bound_namespace():
    engine = autograd.engine
    bound = engine._dxp
    assert bound is not None and getattr(bound, "IS_DIFFERENTIABLE", False)
    x = gradwalk.tensor(2.0, requires_grad=True)
    engine._dxp = None
    try:
        with pytest.raises(RuntimeError, match="differentiable namespace"):
            autograd.grad(x * x, x, create_graph=True)
    finally:
        engine.bind(differentiable=bound)
    (g,) = autograd.grad(x ** 3, x, create_graph=True)
    assert g.item() == 12.0 and g.grad_fn is not None


def test_listener_filters_and_observes_the_walk():
    engine = autograd.engine
    seen = []

    class Double(engine.Listener):
        def on_node(self, node, grad_in, grads_out):
            seen.append(node.name())

        def on_accumulate(self, leaf, grad):
            seen.append("leaf")

        def filter_grad(self, g, tensor, create_graph):
            return g * 2

    lis = Double()
    n_obs, n_filters = len(engine.observers), len(engine.grad_filters)
    engine.listen(lis)
    engine.listen(lis)  # registering twice changes nothing
    assert len(engine.observers) == n_obs + 1 and len(engine.grad_filters) == n_filters + 1
    try:
        x = gradwalk.tensor(3.0, requires_grad=True)
        (x * x).backward()
    finally:
        engine.unlisten(lis)
    assert len(engine.observers) == n_obs and len(engine.grad_filters) == n_filters
    assert seen == ["MulBackward0", "leaf"]
    assert x.grad.item() == 12.0  # 2 * x, doubled by the filter

    class OnlyFilter:
        def filter_grad(self, g, tensor, create_graph):
            return g

    f = OnlyFilter()
    engine.listen(f)
    assert f not in engine.observers and f.filter_grad in engine.grad_filters
    engine.unlisten(f)
    assert f.filter_grad not in engine.grad_filters
    with pytest.raises(TypeError, match="on_accumulate"):
        engine.listen(type("Half", (), {"on_node": lambda self, *a: None})())


def test_fast_and_general_paths_agree(torch):
    # the same graph through the written-out first-order paths and, with a listener, through
    # the general one: identical gradients
    engine = autograd.engine
    x0 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)

    def grads():
        a = gradwalk.tensor(x0, requires_grad=True)
        b = gradwalk.tensor(x0[0], requires_grad=True)
        ((a * b).sin() + a.exp() * 2.0 - b).sum().backward()
        return a.grad.numpy(), b.grad.numpy()

    fast = grads()
    lis = engine.Listener()
    engine.observers.append(lis)  # an observer turns the fast paths off
    try:
        general = grads()
    finally:
        engine.observers.remove(lis)
    for f, g in zip(fast, general):
        np.testing.assert_array_equal(f, g)
    a = torch.tensor(x0, requires_grad=True)
    b = torch.tensor(x0[0], requires_grad=True)
    ((a * b).sin() + a.exp() * 2.0 - b).sum().backward()
    np.testing.assert_allclose(fast[0], a.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(fast[1], b.grad.numpy(), rtol=1e-12)
