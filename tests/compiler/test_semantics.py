"""A compiled call is an eager call: one test per point of the semantics, each against eager."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import gradwalk
from gradwalk.compiler import CompiledFunction


def _eq(a, b):
    np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))


def _leaf(values, requires_grad=True):
    return gradwalk.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_python_values_read_by_the_function_change_between_calls():
    scale = {"k": 2.0}
    cell = [1.0]

    def f(x):
        return x * scale["k"] + cell[0]

    cf = gradwalk.compile(f)
    x = _leaf([1.0, 2.0])
    for k, c in ((2.0, 1.0), (3.0, -1.0), (0.5, 7.0)):
        scale["k"], cell[0] = k, c
        _eq(cf(x), f(x))
    assert len(cf.programs) == 1  # Python numbers are arguments of the program, not guards


def test_branches_and_loop_counts_on_arguments():
    def f(x, n, flag):
        for _ in range(n):
            x = x * 1.5
        return x.exp() if flag else x.sin()

    cf = gradwalk.compile(f)
    x = _leaf([0.1, 0.2])
    for n, flag in ((1, True), (3, False), (1, True), (2, True)):
        _eq(cf(x, n, flag), f(x, n, flag))


def test_branch_on_a_tensor_value_and_item_reads():
    def f(x):
        s = x.sum()
        if s > 0:  # bool(): a graph break
            y = x * 2.0
        else:
            y = x * -3.0
        return y + float(y.sum()) + y.mean().item()

    cf = gradwalk.compile(f)
    for v in ([1.0, 2.0], [-1.0, -5.0], [3.0, 1.0]):
        _eq(cf(_leaf(v)), f(_leaf(v)))
    assert cf.breaks  # each read ran the pending part


def test_shapes_dtypes_requires_grad_and_grad_mode_change():
    def f(x):
        return (x * x).sum(0)

    cf = gradwalk.compile(f)
    for shape, dt, rg in (((2, 3), np.float64, True), ((4, 3), np.float64, True),
                          ((2, 3), np.float32, False), ((2, 3), np.float64, False)):
        x = gradwalk.tensor(np.ones(shape, dtype=dt), requires_grad=rg)
        a, b = cf(x), f(x)
        _eq(a, b)
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
    x = _leaf([[1.0, 2.0]])
    with gradwalk.no_grad():
        a = cf(x)
    assert not a.requires_grad and a.grad_fn is None


def test_train_eval_changes_between_calls():
    gradwalk.manual_seed(0)
    m = gradwalk.nn.Sequential(gradwalk.nn.Linear(3, 4), gradwalk.nn.Dropout(0.5),
                               gradwalk.nn.Linear(4, 1))
    cm = gradwalk.compile(m)
    x = gradwalk.randn(5, 3)
    for mode in ("eval", "train", "eval"):
        getattr(m, mode)()
        gradwalk.manual_seed(1)
        a = cm(x)
        gradwalk.manual_seed(1)
        b = m(x)
        _eq(a, b)


def test_random_ops_draw_fresh_numbers_each_call_as_eager():
    def f(x):
        return x + gradwalk.randn(3) * gradwalk.nn.functional.dropout(x, 0.5)

    cf = gradwalk.compile(f)
    x = gradwalk.ones(3)
    gradwalk.manual_seed(3)
    got = [cf(x).numpy().copy() for _ in range(3)]
    gradwalk.manual_seed(3)
    want = [f(x).numpy().copy() for _ in range(3)]
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got[0], got[1])


def test_positional_keyword_same_tensor_twice_and_containers():
    def f(a, b=None, *, parts):
        return a * b + parts["w"][0] * parts["w"][1] - a * a

    cf = gradwalk.compile(f)
    x, y = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    xs, ys = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    ga = cf(x, b=x, parts={"w": (y, x)})
    gb = f(xs, b=xs, parts={"w": (ys, xs)})
    _eq(ga, gb)
    ga.sum().backward()
    gb.sum().backward()
    _eq(x.grad, xs.grad)
    _eq(y.grad, ys.grad)
    _eq(cf(x, x, parts={"w": [x, y]}), f(x, x, parts={"w": [x, y]}))


def test_views_with_different_offsets_into_one_base():
    base = gradwalk.arange(10.0)

    def f(v):
        return v * 2.0 + 1.0

    cf = gradwalk.compile(f)
    for start in (0, 3, 5):
        v = base[start:start + 4]
        _eq(cf(v), f(v))


def test_non_tensor_return_values_and_prints(capsys):
    def f(x):
        print("shape", tuple(x.shape))
        y = x.exp()
        return {"y": y, "n": 3, "name": "out", "pair": (y * 2.0, None)}

    cf = gradwalk.compile(f)
    a = cf(_leaf([0.0, 1.0]))
    first = capsys.readouterr().out
    b = f(_leaf([0.0, 1.0]))
    assert capsys.readouterr().out == first == "shape (2,)\n"
    assert a["n"] == 3 and a["name"] == "out" and a["pair"][1] is None
    _eq(a["y"], b["y"])
    _eq(a["pair"][0], b["pair"][0])


def test_exceptions_are_eager_exceptions():
    def f(x, w):
        return x @ w

    cf = gradwalk.compile(f)
    with pytest.raises(RuntimeError) as want:
        f(gradwalk.ones(2, 3), gradwalk.ones(2, 3))
    with pytest.raises(RuntimeError) as got:
        cf(gradwalk.ones(2, 3), gradwalk.ones(2, 3))
    assert str(got.value) == str(want.value)


def test_a_compiled_function_called_inside_another():
    inner = gradwalk.compile(lambda x: x.sin() * 2.0)

    def outer(x):
        return inner(x).exp() + inner(x * 3.0)

    co = gradwalk.compile(outer)
    x, xs = _leaf([0.3, 0.4]), _leaf([0.3, 0.4])
    a, b = co(x), outer(xs)
    _eq(a, b)
    a.sum().backward()
    b.sum().backward()
    _eq(x.grad, xs.grad)


def test_autograd_grad_with_create_graph_inside():
    def f(x):
        y = (x ** 3.0).sum()
        (g,) = gradwalk.autograd.grad(y, x, create_graph=True)
        return (g * g).sum()

    cf = gradwalk.compile(f)
    x, xs = _leaf([0.5, -1.5]), _leaf([0.5, -1.5])
    a, b = cf(x), f(xs)
    _eq(a, b)
    a.backward()
    b.backward()
    _eq(x.grad, xs.grad)


def test_results_of_earlier_calls_keep_their_values():
    cf = gradwalk.compile(lambda x: x * 2.0 + 1.0)
    first = cf(_leaf([1.0, 2.0], False))
    kept = first.numpy().copy()
    for v in ([5.0, 6.0], [7.0, 8.0]):
        cf(_leaf(v, False))
    np.testing.assert_array_equal(first.numpy(), kept)


def _model():
    gradwalk.manual_seed(0)
    return gradwalk.nn.Sequential(gradwalk.nn.Linear(2, 16), gradwalk.nn.Tanh(),
                                  gradwalk.nn.Linear(16, 16), gradwalk.nn.Tanh(),
                                  gradwalk.nn.Linear(16, 1)).double()


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_a_whole_training_step_equals_eager(opt):
    def run(compiled):
        model = _model()
        make = {"SGD": lambda p: gradwalk.optim.SGD(p, lr=0.1, momentum=0.9),
                "Adam": lambda p: gradwalk.optim.Adam(p, lr=0.01)}[opt]
        optimizer = make(model.parameters())

        def step(x, y):
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss

        f = gradwalk.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(4):
            x = gradwalk.tensor(rng.standard_normal((16, 2)))
            y = gradwalk.tensor(rng.standard_normal((16, 1)))
            losses.append(f(x, y).item())
        return model, optimizer, losses

    (m1, o1, l1), (m2, o2, l2) = run(True), run(False)
    assert l1 == l2
    for p, q in zip(m1.parameters(), m2.parameters()):
        _eq(p, q)
        _eq(p.grad, q.grad)
    for s1, s2 in zip(o1.state.values(), o2.state.values()):
        for k in s1:
            if isinstance(s1[k], gradwalk.Tensor):
                _eq(s1[k], s2[k])
            else:
                assert s1[k] == s2[k]


def test_compiled_forward_then_eager_backward_is_one_node():
    model = _model()
    ref = _model()
    cm = gradwalk.compile(model)
    x = gradwalk.tensor(np.linspace(-1, 1, 32).reshape(16, 2))
    out = cm(x)
    assert out.grad_fn.name() == "CompiledFunctionBackward"
    (out * out).sum().backward()
    (ref(x) ** 2).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        _eq(p.grad, q.grad)


def test_in_place_changes_on_inputs_and_captured_tensors():
    buf = gradwalk.zeros(3)

    def f(x):
        y = x * 2.0
        buf.add_(y)  # a captured tensor, changed in place
        x.mul_(3.0)  # an input, changed in place
        return y + x

    cf = gradwalk.compile(f)
    a_in = gradwalk.ones(3)
    a = cf(a_in)
    got = (a.numpy().copy(), a_in.numpy().copy(), buf.numpy().copy())
    buf.zero_()
    b_in = gradwalk.ones(3)
    b = f(b_in)
    np.testing.assert_array_equal(got[0], b.numpy())
    np.testing.assert_array_equal(got[1], b_in.numpy())
    np.testing.assert_array_equal(got[2], buf.numpy())


def test_a_value_changed_in_place_after_the_forward_raises_as_eager():
    def f(x):
        y = x.exp()  # exp saves its output
        return y

    for fn in (f, gradwalk.compile(f)):
        y = fn(_leaf([1.0, 2.0]))
        with gradwalk.no_grad():
            y.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_bound_methods_and_module_wrapper_share_parameters():
    class M(gradwalk.nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k
            self.w = gradwalk.nn.Parameter(gradwalk.ones(2))

        @gradwalk.compile
        def scaled(self, x):
            return x * self.w * self.k

    a, b = M(2.0), M(5.0)
    x = gradwalk.ones(2)
    np.testing.assert_array_equal(a.scaled(x).detach().numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.scaled(x).detach().numpy(), [5.0, 5.0])
    assert a.scaled is a.scaled and a.scaled is not b.scaled  # each instance its own cache
    bound = gradwalk.compile(a.forward if hasattr(a, "forward") else a.scaled)
    assert isinstance(bound, CompiledFunction)
    lin = gradwalk.nn.Linear(2, 2)
    cm = gradwalk.compile(lin)
    assert cm._orig_mod is lin
    assert [p is q for p, q in zip(cm.parameters(), lin.parameters())] == [True, True]
    assert list(cm.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]


def test_explain_shows_source_guards_recompiles_and_breaks():
    def f(x):
        y = x.exp()
        if y.sum() > 3:
            return y * 2.0
        return y

    cf = gradwalk.compile(f)
    cf(gradwalk.ones(2))
    cf(gradwalk.ones(3))
    text = cf.explain(file=io.StringIO())
    assert "def forward(x, c):" in text and "def backward(g):" in text
    assert "test_semantics.py:" in text  # the user's lines
    assert "guards" in text and "shape (3,)" in text
    assert "recompiles:" in text and "input 0 changed" in text
    assert "graph breaks:" in text


def test_recompiles_are_logged_and_the_limit_falls_back_to_eager(monkeypatch, capsys):
    monkeypatch.setenv("GRADWALK_LOGS", "recompiles")
    cf = gradwalk.compile(lambda x: x * 2.0)
    cf(gradwalk.ones(1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(2, 14):
            np.testing.assert_array_equal(cf(gradwalk.ones(n)).numpy(), np.full(n, 2.0))
    err = capsys.readouterr().err
    assert err.count("[gradwalk.compile] recompile") == 8
    msgs = [str(w.message) for w in caught if "recompiled" in str(w.message)]
    assert len(msgs) == 1 and "runs eagerly from now on" in msgs[0]
    assert cf.gave_up


def test_fullgraph_raises_at_a_graph_break():
    cf = gradwalk.compile(lambda x: x * float(x.sum()), fullgraph=True)
    with pytest.raises(RuntimeError, match="graph break"):
        cf(gradwalk.ones(2))


def test_backends_and_options():
    f = lambda x: x + 1.0  # noqa: E731
    assert gradwalk.compile(f, disable=True) is f
    e = gradwalk.compile(f, backend="eager")
    np.testing.assert_array_equal(e(gradwalk.ones(2)).numpy(), [2.0, 2.0])
    assert e.programs == []
    with pytest.raises(ValueError, match="unknown backend"):
        gradwalk.compile(f, backend="inductor")
    with pytest.raises(NotImplementedError, match="dynamic"):
        gradwalk.compile(f, dynamic=True)
    deco = gradwalk.compile(mode="default")
    np.testing.assert_array_equal(deco(f)(gradwalk.ones(1)).numpy(), [2.0])


def test_forward_ad_inside_a_region_is_eager():
    import gradwalk.autograd.forward_ad as fwAD

    def f(x):
        return (x * x).sin()

    cf = gradwalk.compile(f)
    with fwAD.dual_level():
        x = fwAD.make_dual(gradwalk.tensor([0.5, 1.0]), gradwalk.tensor([1.0, 0.0]))
        a = fwAD.unpack_dual(cf(x)).tangent
        b = fwAD.unpack_dual(f(x)).tangent
    _eq(a, b)


def test_the_demos_training_step_compiled_equals_eager():
    from gradwalk.demo import train

    kw = dict(epochs=1, hidden=8, print_fn=lambda s: None, progress=False)
    a = train("moons", compile=True, **kw)
    b = train("moons", **kw)
    assert a["losses"] == b["losses"]


def test_hooks_and_retain_grad_on_values_made_inside_see_the_whole_gradient():
    def f(x):
        y = x * 3.0
        return y, y.exp()

    got = []
    for fn in (gradwalk.compile(f), f):
        x = _leaf([0.1, 0.2])
        y, z = fn(x)
        y.retain_grad()
        seen = []
        y.register_hook(lambda g, seen=seen: seen.append(g.numpy().copy()) or g * 2.0)
        (z.sum() + y.sum()).backward()
        got.append((x.grad.numpy().copy(), y.grad.numpy().copy(), seen[0]))
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)
