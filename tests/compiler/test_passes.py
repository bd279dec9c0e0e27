"""The passes of gradwalk/compiler/passes.py: each table entry against the op's own rule, bit for
bit, and each pass on a program where it applies and on near cases where it must not change
anything (a value returned to the user, one read by the backward, a view, aliasing inputs)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradwalk
from gradwalk.compiler import passes
from gradwalk.ops.registry import REGISTRY

NS = passes.namespace()
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-3, np.inf, -np.inf, np.nan, 40.0]


def _bits(a):
    """Type, dtype, shape and bytes: equal only when the values are equal bit for bit."""
    arr = np.asarray(a)
    return type(a), arr.dtype, arr.shape, arr.tobytes()


def _inputs(dtype, n_inputs):
    """Argument tuples for an elementwise op: arrays, NumPy scalars, a Python number second."""
    rng = np.random.default_rng(0)
    x = np.array(SPECIAL + list(rng.standard_normal(8) * 3), dtype=dtype)
    y = np.array(list(reversed(SPECIAL)) + list(rng.standard_normal(8)), dtype=dtype)
    if n_inputs == 1:
        return [(x,), (x.reshape(4, 5),), (x[3],), (x[10],)]
    return [(x, y), (x.reshape(4, 5), y[:5]), (x, 0.75), (x[4], y[2]), (x[4], 2.0), (x[2], 3),
            (x[:5].reshape(5, 1), y[:5])]


def _eval(text, args):
    names = [f"a{k}" for k in range(len(args))]
    return eval(text.format(*names), dict(NS), dict(zip(names, args)))  # our own table


@pytest.mark.parametrize("name", sorted(passes.FORWARD))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_each_inline_forward_is_the_ops_own_forward(name, dtype):
    op = REGISTRY[name]
    assert op.elementwise
    n = len(op.input_names)
    with np.errstate(all="ignore"):
        for args in _inputs(dtype, n):
            assert _bits(_eval(passes.FORWARD[name], args)) == _bits(op.forward(np, *args)), args


def _needs(n):
    return [c for c in itertools.product((True, False), repeat=n) if any(c)]


@pytest.mark.parametrize("name", sorted(passes.VJP))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_inline_reverse_rule_is_the_ops_own_vjp(name, dtype):
    op = REGISTRY[name]
    n = len(op.input_names)
    rng = np.random.default_rng(1)
    with np.errstate(all="ignore"):
        for args in _inputs(dtype, n):
            out = np.asarray(op.forward(np, *args))
            shape = np.broadcast_shapes(*(np.shape(a) for a in args))
            for g in (np.asarray(rng.standard_normal(shape), dtype=dtype),
                      np.asarray(rng.standard_normal(shape), dtype=dtype)[()]):
                o = (out if out.ndim else out[()]) if op.save_out else None
                saved = [a if j in op.saves else None for j, a in enumerate(args)]
                exprs = passes.vjp_exprs(op, "g", None if o is None else "out",
                                         [None if a is None else f"a{j}"
                                          for j, a in enumerate(saved)])
                assert exprs is not None
                env = {"g": g, "out": o, **{f"a{j}": a for j, a in enumerate(saved)}}
                for needs in _needs(n):
                    want = (op.vjp(np, g, o, *saved) if n == 1
                            else op.vjp(np, g, o, *saved, needs=needs))
                    want = (want,) if n == 1 else want
                    for j in range(n):
                        if needs[j]:
                            got = eval(exprs[j], dict(NS), env)  # our own table
                            assert _bits(got) == _bits(want[j]), (args, needs, j)


def test_inline_rules_refuse_values_the_node_does_not_keep():
    assert passes.vjp_exprs(REGISTRY["tanh"], "g", None, [None]) is None  # tanh keeps out
    assert passes.vjp_exprs(REGISTRY["sin"], "g", None, [None]) is None
    assert passes.vjp_exprs(REGISTRY["add"], "g", None, [None, None]) == ("g", "g")
    assert passes.forward_expr(REGISTRY["matmul"], ["a", "b"]) is None


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_backward_is_where_bit_for_bit(dtype):
    rng = np.random.default_rng(2)
    out = np.array(SPECIAL * 3, dtype=dtype).reshape(6, 6)
    g = np.array(rng.standard_normal(36) * 4, dtype=dtype).reshape(6, 6)
    g[0, :4] = [np.nan, -0.0, np.inf, -np.inf]
    out[1, :3] = [-0.0, np.nan, 0.0]
    cases = [(g, out), (g.T, out.T), (g[::2], out[::2]), (g[0], out[:, 0]), (g[0, 0], out[0, 0]),
             (g[0, 0], out[0, 0][()]), (g[0, 0][()], out[0, 0]), (g, out[0])]
    for gi, oi in cases:
        want = np.where(oi <= 0, 0.0, gi)
        assert _bits(passes.relu_backward(gi, oi)) == _bits(want)


# ------------------------------------------------------------------------ programs
def _run(fn, *arrays, grad=True):
    """Values and gradients of ``fn`` eagerly and compiled (twice: the trace, then the
    program), each as bits."""
    cf = gradwalk.compile(fn)
    results = []
    for f in (fn, cf, cf):
        ts = [gradwalk.tensor(a.copy(), requires_grad=grad) for a in arrays]
        out = f(*ts)
        outs = out if isinstance(out, tuple) else (out,)
        vals = [_bits(o.detach().numpy()) for o in outs]
        grads = []
        if grad:
            total = sum(((o * (k + 1.5)).sum() for k, o in enumerate(outs)), gradwalk.tensor(0.0))
            total.backward()
            grads = [None if t.grad is None else _bits(t.grad.numpy()) for t in ts]
        results.append((vals, grads))
    assert results[1] == results[0]
    assert results[2] == results[0]
    return cf


def _sources(cf) -> str:
    return "\n".join(n.program.source + "\n" + n.program.backward_source for n in cf.programs)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inline_chain_equals_eager(shape, dtype):
    def f(x, w):
        y = (x * 1.0001 + 0.001).sin().tanh()
        z = (y * w - x / (w * w + 1.0)).exp().relu()
        return z.sqrt() + y.square().neg(), y

    rng = np.random.default_rng(3)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    w = np.asarray(rng.standard_normal(shape), dtype=dtype)
    cf = _run(f, x, w)
    src = _sources(cf)
    assert "np_sin(" in src and "np_tanh(" in src and "k1(" not in src and "k2(" not in src
    assert "vjp" not in src.split("def backward(b")[1]  # every rule inline


def test_promotion_keeps_the_kernel_path():
    def f(x, y):  # float32 * float64: k2 promotes first, the expression would not
        return (x * y).sin()

    x = np.array([0.5, 1.5], dtype=np.float32)
    cf = _run(f, x, np.array([2.0, 3.0]))
    assert "k2(" in cf.programs[0].program.source


def test_aliasing_inputs_the_same_tensor_twice_and_views():
    def f(x, y):
        v = x.view(2, 3)
        a = v * v + x.reshape(2, 3)
        return a.sin() * y[0], v.t().cos()

    x = np.arange(6.0) / 7
    _run(f, x, x.copy())

    def g(x):
        return x * x + x  # one tensor used three times

    cf = gradwalk.compile(g)
    for _ in range(2):
        x1, x2 = gradwalk.tensor([0.3, -1.2], requires_grad=True), gradwalk.tensor(
            [0.3, -1.2], requires_grad=True)
        cf(x1).sum().backward()
        g(x2).sum().backward()
        assert _bits(x1.grad.numpy()) == _bits(x2.grad.numpy())


def test_hoisted_version_checks_still_raise_as_eager():
    def f(x):
        a = x * 2.0
        b = a.sin()  # sin reads a
        return a, b

    for fn in (f, gradwalk.compile(f), gradwalk.compile(f)):
        x = gradwalk.tensor([0.1, 0.2], requires_grad=True)
        a, b = fn(x)
        with gradwalk.no_grad():
            a.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()


def test_a_hook_that_writes_a_saved_value_during_the_backward_raises_as_eager():
    def f(x, w):
        a = x * w
        b = a.sin()  # reads a
        c = b * 3.0

        def hook(grad):
            with gradwalk.no_grad():
                a.add_(1.0)  # a saved value changes between two rules of the backward
            return grad

        b.register_hook(hook)
        return c

    errors = []
    for fn in (f, gradwalk.compile(f), gradwalk.compile(f)):
        x = gradwalk.tensor([0.1, 0.2], requires_grad=True)
        w = gradwalk.tensor([1.0, 2.0])
        c = fn(x, w)
        with pytest.raises(RuntimeError) as info:
            c.sum().backward()
        errors.append(type(info.value))
    assert len(set(errors)) == 1


def test_a_second_backward_after_release_raises_as_eager():
    def f(x):
        return (x * 1.5).sin().tanh().sum()

    for fn in (f, gradwalk.compile(f), gradwalk.compile(f)):
        x = gradwalk.tensor([0.1, 0.2], requires_grad=True)
        y = fn(x)
        y.backward()
        with pytest.raises(RuntimeError, match="a second time"):
            y.backward()


# ------------------------------------------------------------------------ dead values
def _variants(cf):
    return [src for n in cf.programs for src in
            (s for _, s in n.program.forward.plan.variants.values())]


def test_dead_values_are_skipped_and_their_buffers_reused():
    def f(x, w):
        y = x * 2.0  # dead: dropped, and add does not read it
        z = y + 1.0  # dead: exp reads its output only
        return (z.exp() * w).relu()

    x = np.linspace(-2, 2, 7)
    cf = _run(f, x, np.ones(7))
    (src,) = _variants(cf)
    assert "np_add(v0, c[1], out=v0)" in src and "np_exp(v1, out=v1)" in src
    assert "return (None, None, v2" in src
    assert "v0, v1" in cf.explain().split("cannot be read")[0].splitlines()[-1]


def test_a_value_the_user_keeps_is_not_dead_nor_overwritten():
    kept = []

    def f(x):
        y = x * 2.0
        kept.append(y)  # reachable after the call
        return (y + 1.0).exp()

    cf = gradwalk.compile(f)
    for _ in range(3):
        x = gradwalk.tensor([0.5, -1.0], requires_grad=True)
        cf(x).sum().backward()
        assert _bits(kept[-1].detach().numpy()) == _bits(np.array([1.0, -2.0], np.float32))
    assert all("v0" not in dead for n in cf.programs
               for dead in n.program.forward.plan.variants)


def test_values_read_by_the_backward_are_never_dead():
    def f(x):
        y = x * 3.0
        return y.sin().sum()  # sin reads y; the sum's input is dead

    cf = _run(f, np.linspace(-1, 1, 5))
    for n in cf.programs:
        plan = n.program.forward.plan
        assert 0 not in plan.candidates
        assert all(0 not in dead for dead in plan.variants)


def test_weakly_referenced_values_and_views_are_alive():
    import weakref

    refs = []

    def f(x):
        y = x * 2.0
        refs.append(weakref.ref(y))
        v = (x + 1.0).view(2, 2)  # a view of a dead value: the view keeps it
        return y.sum() + v.sum()

    cf = gradwalk.compile(f)
    for _ in range(3):
        x = gradwalk.tensor([0.5, -1.0, 2.0, 3.0], requires_grad=True)
        out = cf(x)
        assert float(out) == float(f(gradwalk.tensor([0.5, -1.0, 2.0, 3.0])))


def test_no_in_place_into_outside_arrays_views_or_values_used_twice():
    def f(x, w):
        a = x.relu()  # x is outside: never written
        b = w * w  # used twice below: not written by either consumer
        c = (b + a) * b
        v = c.view(-1)  # c's consumer is a view: no buffer reuse through it
        return (v + 1.0).exp()

    x, w = np.linspace(-1, 1, 6), np.linspace(0.5, 2, 6)
    x_before = x.copy()
    cf = _run(f, x, w)
    assert _bits(x) == _bits(x_before)
    for src in _variants(cf):
        assert "out=x" not in src and "out=v1" not in src and "out=v2" not in src


def test_numpy_raise_mode_runs_every_op():
    def f(x):
        y = (x * 0.0).log()  # dead, and divides by zero
        return (y + 1.0).exp()

    cf = gradwalk.compile(f)
    for _ in range(2):
        cf(gradwalk.tensor([1.0, 2.0]))
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            f(gradwalk.tensor([1.0, 2.0]))
        with pytest.raises(FloatingPointError):
            cf(gradwalk.tensor([1.0, 2.0]))


def test_numpy_warnings_stay_quiet_in_programs():
    import warnings

    def f(x):
        return (x * 1e308 * 10.0).log().sin() / x

    cf = gradwalk.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            x = gradwalk.tensor([0.0, -1.0, 2.0], requires_grad=True)
            cf(x).sum().backward()


@pytest.mark.parametrize("name", sorted(passes.INPLACE))
def test_each_in_place_form_is_the_inline_forward(name):
    op = REGISTRY[name]
    n = len(op.input_names)
    with np.errstate(all="ignore"):
        for args in _inputs(np.float32, n):
            want = _eval(passes.FORWARD[name], args)
            if not isinstance(want, np.ndarray) or np.shape(args[0]) != want.shape:
                continue
            buf = np.array(args[0], copy=True)
            names = [f"a{k}" for k in range(n)]
            env = dict(zip(names, args), o=buf)
            got = eval(passes.INPLACE[name].format(*names, o="o"), dict(NS), env)  # our table
            assert got is buf and _bits(got) == _bits(want), args


def test_a_pending_array_held_without_its_tensor_is_alive():
    held = []

    def f(x):
        y = x * 2.0
        held.append(y._data)  # the array (pending inside the region), not the tensor
        return (y + 1.0).exp()

    cf = gradwalk.compile(f)
    for _ in range(3):
        cf(gradwalk.tensor([0.5, -1.0], requires_grad=True))
        assert _bits(np.asarray(held[-1])) == _bits(np.array([1.0, -2.0], np.float32))


def test_a_dead_repeat_reads_the_first_value():
    def f(x):
        return (x.sin() + 1.0) * (x.sin() + 2.0)  # the second sin repeats the first

    cf = _run(f, np.linspace(-1, 1, 5))
    (src,) = _variants(cf)
    assert src.count("np_sin(") == 1 and "v0 + c[1]" in src.replace("np_add(v0, c[1]", "v0 + c[1]")


def test_a_repeat_that_is_kept_gets_its_own_array():
    def f(x):
        a, b = x.sin(), x.sin()
        return a, b, (a * b).exp()

    cf = gradwalk.compile(f)
    for _ in range(3):
        a, b, _ = cf(gradwalk.tensor([0.5, 1.0], requires_grad=True))
        assert not np.shares_memory(a.detach().numpy(), b.detach().numpy())
        assert _bits(a.detach().numpy()) == _bits(b.detach().numpy())
    _run(f, np.linspace(-1, 1, 4))
