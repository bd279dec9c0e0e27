"""In-place ops recorded into the segment (Note [in-place ops in the segment] in
gradwalk/compiler/inplace.py): each op against eager, bit for bit, with versions and graph
breaks; every refusal case (views, aliases, saved-for-backward, leaf errors...) as eager."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk

RNG = np.random.default_rng(0)


def _t(shape=(3, 4), dtype=np.float32, rg=False, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return gradwalk.tensor(a, requires_grad=rg)


def _np(x):
    return None if x is None else np.array(x.detach().numpy(), copy=True)


def _eq(a, b):
    if isinstance(a, gradwalk.Tensor):
        a, b = _np(a), _np(b)
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _eq(x, y)
        return
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        return
    assert a == b


def _run(fn, make, calls=3):
    """``fn`` eagerly and compiled on fresh arguments of ``make()``; after every call the
    results, the arguments' values and versions equal. Returns the compiled function."""
    cf = gradwalk.compile(fn)
    ea, ca = make(), make()
    for _ in range(calls):
        re_, rc = fn(*ea), cf(*ca)
        _eq(re_, rc)
        for x, y in zip(ea, ca):
            if isinstance(x, gradwalk.Tensor):
                _eq(x, y)
                assert x._version == y._version
                _eq(x.grad, y.grad) if x.grad is not None else None
    return cf


def _breaks(cf) -> int:
    return sum(cf.breaks.values())


G = _t(seed=1)
H = _t(seed=2).abs() + 0.5

OPS = {
    "add_": lambda p: p.add_(G),
    "add_alpha": lambda p: p.add_(G, alpha=-0.25),
    "add_float": lambda p: p.add_(0.5),
    "add_int": lambda p: p.add_(2),
    "sub_alpha": lambda p: p.sub_(G, alpha=0.125),
    "sub_row": lambda p: p.sub_(G[0]),
    "mul_": lambda p: p.mul_(H),
    "mul_float": lambda p: p.mul_(0.9),
    "mul_0d": lambda p: p.mul_(gradwalk.tensor(0.5, dtype=gradwalk.float64)),
    "div_": lambda p: p.div_(H),
    "iadd": lambda p: p.__iadd__(G),
    "isub": lambda p: p.__isub__(0.1 * G),
    "imul": lambda p: p.__imul__(2.0),
    "idiv": lambda p: p.__itruediv__(H),
    "addcmul_": lambda p: p.addcmul_(G, H, value=0.5),
    "addcdiv_": lambda p: p.addcdiv_(G, H, value=-0.5),
    "lerp_": lambda p: p.lerp_(G, 0.3),
    "copy_": lambda p: p.copy_(G * 2.0),
    "copy_f64": lambda p: p.copy_(gradwalk.tensor(np.ones((3, 4)))),
    "zero_": lambda p: p.zero_(),
    "fill_": lambda p: p.fill_(1.5),
    "sqrt_": lambda p: p.abs_().sqrt_(),
    "clamp_": lambda p: p.clamp_(-0.5, 0.5),
    "setitem": lambda p: p.__setitem__(0, 3.0),
}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("grad", [False, True])
def test_each_in_place_op_equals_eager(name, grad):
    op = OPS[name]

    def f(p, q):
        ctx = gradwalk.no_grad() if not grad else gradwalk.enable_grad()
        with ctx:
            y = p * 1.5  # before: the old values
            op(p)
            v = p._version
            z = p * 2.0  # after, in the same segment: the new values
            op(q)
        return y, z, v, q + 1.0

    # grad mode: nothing requires grad, so nothing is recorded for the graph
    _run(f, lambda: (_t(seed=3, rg=not grad), _t(seed=4)))


def test_the_update_loop_is_one_program_without_breaks():
    shapes = [(5, 4), (5,), (3, 5), (3,)]

    def make():
        ps = [_t(s, rg=True, seed=i) for i, s in enumerate(shapes)]
        for i, p in enumerate(ps):
            p.grad = _t(s := p.shape, seed=10 + i)
            assert s == p.shape
        return ps

    def update(*ps):
        with gradwalk.no_grad():
            for p in ps:
                p -= 0.01 * p.grad

    cf = _run(update, make, calls=4)
    assert _breaks(cf) == 0
    assert len(cf.programs) == 1 and len(cf.programs[0].program.recs) == 2 * len(shapes)

    def refused(*ps):  # ``p.data`` shares ``p``'s array: an alias, so not recorded
        with gradwalk.no_grad():
            for p in ps:
                p.data.sub_(0.01 * p.grad)

    cf = _run(refused, make, calls=2)
    assert _breaks(cf) == 2 * len(shapes)


def _mlp(seed=0):
    gradwalk.manual_seed(seed)
    return gradwalk.nn.Sequential(gradwalk.nn.Linear(3, 8), gradwalk.nn.Tanh(),
                                  gradwalk.nn.Linear(8, 2))


def _state(opt):
    out = []
    for group in opt.param_groups:
        for p in group["params"]:
            for k, v in sorted(opt.state[p].items()):
                out.append((k, _np(v) if isinstance(v, gradwalk.Tensor) else v))
    return out


def _manual_sgd(params, bufs, lr, momentum, wd, nesterov):
    with gradwalk.no_grad():
        for p, buf in zip(params, bufs):
            g = p.grad
            if wd:
                g = g.add(p, alpha=wd)
            buf.mul_(momentum).add_(g, alpha=0.9)
            g = g.add(buf, alpha=momentum) if nesterov else buf
            p.add_(g, alpha=-lr)


@pytest.mark.parametrize("opt_name", ["SGD", "SGD-momentum", "Adam", "AdamW", "manual"])
def test_a_training_step_with_updates_equals_eager(opt_name):
    x = _t((6, 3), np.float32, seed=5)
    y = _t((6, 2), np.float32, seed=6)

    def make():
        model = _mlp()
        params = list(model.parameters())
        bufs = [gradwalk.zeros_like(p) for p in params]
        if opt_name == "SGD":
            opt = gradwalk.optim.SGD(params, lr=0.1)
        elif opt_name == "SGD-momentum":
            opt = gradwalk.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True,
                                     weight_decay=0.01)
        elif opt_name == "Adam":
            opt = gradwalk.optim.Adam(params, lr=0.01, weight_decay=0.1)
        elif opt_name == "AdamW":
            opt = gradwalk.optim.AdamW(params, lr=0.01, amsgrad=True)
        else:
            opt = None
        return model, opt, bufs

    def step(model, opt, bufs):
        if opt is not None:
            opt.zero_grad()
        else:
            for p in model.parameters():
                p.grad = None
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            _manual_sgd(list(model.parameters()), bufs, 0.05, 0.9, 0.01, True)
        return loss

    cf = gradwalk.compile(step)
    e, c = make(), make()
    for _ in range(4):
        _eq(step(*e), cf(*c))
        for p, q in zip(e[0].parameters(), c[0].parameters()):
            _eq(p, q)
            _eq(p.grad, q.grad)
            assert p._version == q._version
        if opt_name == "manual":
            _eq(list(e[2]), list(c[2]))
        else:
            _eq(_state(e[1]), _state(c[1]))
    if opt_name == "manual":  # the updates are one segment after the backward: no break
        assert list(cf.breaks.values()) == [4], cf.breaks  # the backward's, once per call


# ------------------------------------------------------------------------------ refusals
def test_a_view_target_runs_eagerly():
    def f(p, v):
        with gradwalk.no_grad():
            v.add_(1.0)  # a view of ``p``: refused
        return p * 2.0

    def make():
        p = _t(seed=1)
        return p, p[1:]

    cf = _run(f, make)
    assert _breaks(cf) == 0  # nothing pending at the op: no segment to end


def test_a_target_with_a_live_view_or_alias_runs_eagerly():
    for alias in (lambda p: p[0], lambda p: p.detach(), lambda p: p.data,
                  lambda p: p.view(-1), lambda p: p.numpy()):
        def f(p, a):
            with gradwalk.no_grad():
                y = p * 1.0
                p.add_(y)  # ``a`` shares p's memory and is read after
            return y, a * 2.0 if isinstance(a, gradwalk.Tensor) else a.copy()

        def make(alias=alias):
            p = _t(seed=2)
            return p, alias(p)

        _run(f, make)


def test_a_view_made_in_the_segment_is_a_refusal():
    def f(p):
        with gradwalk.no_grad():
            w = p.view(-1)
            a = w * 2.0
            p.mul_(3.0)
            b = w * 2.0  # the same step as ``a`` on the same value: must see the new values
            c = b + 1.0
        return a, c

    cf = _run(f, lambda: (_t(seed=3),))
    assert _breaks(cf) == 3  # the in-place op ends the segment (each call)


def test_the_same_tensor_twice_and_an_alias_as_the_other_input():
    def twice(p):
        with gradwalk.no_grad():
            p.add_(p)
            p.mul_(p)
        return p + 0.0

    cf = _run(twice, lambda: (_t(seed=4),))
    assert _breaks(cf) == 0

    def alias(p, d):
        with gradwalk.no_grad():
            p.add_(d)
        return d + 0.0

    _run(alias, lambda: (lambda p: (p, p.detach()))(_t(seed=5)))


def test_an_outside_tensor_saved_for_backward_then_changed_raises_as_eager():
    w = _t((3, 4), rg=True, seed=6)

    def f(p):
        y = (w * p).sum()  # mul saves p for w's gradient
        with gradwalk.no_grad():
            p.add_(1.0)
        return y

    for fn in (f, gradwalk.compile(f), gradwalk.compile(f)):
        for _ in range(2):
            y = fn(_t(seed=7))
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.backward()


def test_a_value_saved_by_the_backward_is_not_written_in_the_segment():
    w = _t((3, 4), rg=True, seed=8)

    def f(p):
        with gradwalk.no_grad():
            p.mul_(2.0)  # recorded: p now stands for the step's value
        y = (w * p).sum()  # saves that value
        with gradwalk.no_grad():
            p.add_(1.0)  # refused: the backward reads the old value
        return y

    for fn in (f, gradwalk.compile(f), gradwalk.compile(f)):
        for _ in range(2):
            y = fn(_t(seed=9))
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.backward()


def test_a_written_leaf_read_in_grad_mode_gets_its_gradient():
    x = _t(seed=10)

    def f(p):
        with gradwalk.no_grad():
            p.mul_(0.5)
        loss = (p * x).sum()  # p's gradient must reach its AccumulateGrad
        loss.backward()
        return loss

    cf = _run(f, lambda: (_t(seed=11, rg=True),))
    assert any("in place, then read" in why for why, _ in cf.breaks)


@pytest.mark.parametrize("case", ["leaf", "shape", "int_cast", "other_rg"])
def test_errors_at_the_op_are_eagers(case):
    def f(p, i, w):
        if case == "leaf":
            p.add_(1.0)
        elif case == "shape":
            with gradwalk.no_grad():
                p.add_(gradwalk.ones(5))
        elif case == "int_cast":
            i.add_(1.5)
        else:
            p.detach().mul_(w)  # needs a graph: the eager path
        return p * 1.0

    def make():
        return _t(seed=12, rg=True), gradwalk.tensor([1, 2, 3]), _t(seed=13, rg=True)

    messages = []
    for fn in (f, gradwalk.compile(f)):
        for _ in range(2):
            try:
                fn(*make())
                messages.append(None)
            except Exception as e:  # compared with eager's below
                messages.append((type(e), str(e)))
    assert len(set(messages)) == 1, messages


def test_versions_match_eager_at_every_read():
    def f(p, q):
        vs = [p._version]
        with gradwalk.no_grad():
            for _ in range(3):
                p.add_(q, alpha=0.5)
                vs.append(p._version)
                q.mul_(1.01)
                vs.append(q._version)
        return vs, p + q

    _run(f, lambda: (_t(seed=14), _t(seed=15)))


def test_earlier_results_keep_their_values():
    def f(p):
        with gradwalk.no_grad():
            p.add_(1.0)
        return p * 1.0, p

    cf = gradwalk.compile(f)
    p = _t(seed=16)
    first, same = cf(p)
    kept = _np(first)
    cf(p)
    np.testing.assert_array_equal(_np(first), kept)
    assert same is p
    np.testing.assert_array_equal(_np(p), kept + 1.0)


def test_a_pending_read_before_an_optimizer_step_keeps_the_old_values():
    def step(p, opt):
        (p * p).sum().backward()
        with gradwalk.no_grad():
            y = p * 2.0  # pending when the optimizer writes p with NumPy
        opt.step()
        opt.zero_grad()
        return y

    def make():
        p = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        return p, gradwalk.optim.SGD([p], lr=0.1)

    _run(step, make, calls=4)


def test_a_grad_scaled_in_place_then_a_backward_accumulates_as_eager():
    def f(p, x):
        loss = gradwalk.nn.functional.cross_entropy(p @ x, gradwalk.tensor([0, 1, 2]))
        g = p.grad
        with gradwalk.no_grad():
            p.grad.mul_(0.5)  # pending when the backward adds into .grad
        loss.backward()
        return p.grad is g

    def make():
        p = _t((3, 4), np.float64, rg=True, seed=17)
        p.grad = _t((3, 4), np.float64, seed=18)
        return p, _t((4, 3), np.float64, seed=19)

    _run(f, make)


def test_a_pending_target_made_in_the_segment():
    def f(x):
        with gradwalk.no_grad():
            y = x * 2.0
            y.add_(1.0)
            y.mul_(x)
            z = y.sqrt_()
        return y, z is y, y._version

    cf = _run(f, lambda: (_t(seed=20).abs(),))
    assert _breaks(cf) == 0


def test_create_graph_backward_does_not_run_the_writes_again():
    def f(w, s, b):
        y = (w * w * b).sum()
        with gradwalk.no_grad():
            s.add_(1.0)  # recorded in the segment of ``y``
        (g,) = gradwalk.autograd.grad(y, w, create_graph=True)
        return g, s * 1.0

    _run(f, lambda: (_t(seed=21, rg=True), _t(seed=22), _t(seed=23)))


def test_create_graph_backward_after_a_change_raises_as_eager():
    def f(w, b):
        return (w * b).sum()  # mul saves b for w's gradient

    for fn in (f, gradwalk.compile(f), gradwalk.compile(f)):
        for _ in range(2):
            b = _t(seed=24)
            y = fn(_t(seed=25, rg=True), b)
            with gradwalk.no_grad():
                b.add_(1.0)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.backward(create_graph=True)


def test_a_pending_view_as_the_target_is_a_refusal():
    def f(p):
        with gradwalk.no_grad():
            q = p * 1.0
            v = q.view(-1)  # a view of a value made here
            v.add_(1.0)  # writes q's memory too
            r = q * 2.0
        return r, v * 1.0

    cf = _run(f, lambda: (_t(seed=26),))
    assert _breaks(cf) == 3
