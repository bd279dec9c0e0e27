"""The matchers of the hit path (Note [the hit path] in gradwalk/compiler/match.py): a step
that differs from the cached one in any part of its key is not matched (a near miss
recompiles and gives eager's answer), and a step that is the cached one is matched without
the general path. The step under test is not the first of its segment (``_pre``), so that it
is a matcher that sees it, not the general path."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradwalk
import gradwalk.nn.functional as F
from gradwalk.compiler import trace as _trace
from tests.compiler.counting import count_calls


def _same(a, b) -> None:
    """Equal bit for bit (the sign of zero included), shape and dtype too."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes(), (a, b)


def _run(fn, make_args):
    """``fn`` on fresh arguments: its output and the gradients of the arguments that need them."""
    args = make_args()
    out = fn(*args)
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum(o.sum() for o in outs if o.requires_grad)
    if isinstance(loss, gradwalk.Tensor):
        loss.backward()
    return [o.detach().numpy() for o in outs], [a.grad.numpy() if a.grad is not None else None
                                                for a in args if isinstance(a, gradwalk.Tensor)]


def _check(cf, fn, make_args):
    out_c, grads_c = _run(cf, make_args)
    out_e, grads_e = _run(fn, make_args)
    for a, b in zip(out_c, out_e):
        _same(a, b)
    for a, b in zip(grads_c, grads_e):
        assert (a is None) == (b is None)
        if a is not None:
            _same(a, b)


def _pre(x):
    """An op before the step under test (the matchers see the steps after a segment's first)."""
    _t([1.0]) * 2.0
    return x


def _t(values, requires_grad=False, dtype=gradwalk.float64):
    return gradwalk.tensor(values, dtype=dtype, requires_grad=requires_grad)


def test_a_parameter_of_another_sign_of_zero_is_a_near_miss():
    slope = [0.0]

    def fn(x):
        return F.leaky_relu(_pre(x), slope[0])

    cf = gradwalk.compile(fn)
    for s in (0.0, 0.0, -0.0, -0.0, 0.0, -0.0):
        slope[0] = s
        _check(cf, fn, lambda: (_t([-1.0, 2.0], True),))  # bytes: the sign of zero counts
    assert len(cf.recompiles) == 1


def test_a_bool_parameter_is_not_an_int():
    keep = [True]

    def fn(x):
        return _pre(x).sum(dim=0, keepdim=keep[0]) * 2.0

    cf = gradwalk.compile(fn)
    for k in (True, True, False, False, True):
        keep[0] = k
        _check(cf, fn, lambda: (_t([[1.0, 2.0], [3.0, 4.0]], True),))


def test_the_same_tensor_twice_is_not_two_tensors():
    def fn(x, y):
        return _pre(x) * y + x

    cf = gradwalk.compile(fn)
    a = _t([1.5, -2.0], True)
    b = _t([3.0, 4.0], True)
    for pair in ((a, b), (a, b), (a, a), (a, a), (a, b)):
        a.grad = b.grad = None
        got = cf(*pair)
        got.sum().backward()
        ga = a.grad.numpy().copy()
        a.grad = b.grad = None
        want = fn(*pair)
        want.sum().backward()
        _same(got.detach().numpy(), want.detach().numpy())
        _same(ga, a.grad.numpy())
    assert len(cf.recompiles) == 1  # (a, a) is its own key: one outside tensor, used twice


def _near_misses(fn, base, others, recompiles=None):
    """``base``, then each of ``others`` (one part of the key changed) twice and ``base``
    again: every change is seen by the matcher of the step taken just before."""
    cf = gradwalk.compile(fn)
    seq = [base, base]
    for o in others:
        seq += [o, o, base]
    for make in seq:
        _check(cf, fn, make)
    assert len(cf.recompiles) == (len(others) if recompiles is None else recompiles)
    return cf


def test_requires_grad_strides_shape_and_dtype_of_a_new_tensor_are_part_of_the_key():
    def fn(x):
        return (_pre(x) * 2.0).exp()

    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    _near_misses(fn, lambda: (_t(m, True),), [
        lambda: (_t(m, False),),  # requires_grad
        lambda: (_t(m, True).detach().t().requires_grad_(),),  # strides only
        lambda: (_t(m, True, gradwalk.float32),),  # dtype (and strides)
    ])
    one = np.array([1.5])
    _near_misses(fn, lambda: (_t(one).expand(2),), [lambda: (_t(one).expand(3),)])  # shape
    f32 = np.array([1.0, 2.0], dtype=np.float32)
    _near_misses(fn, lambda: (gradwalk.tensor(f32),),  # dtype only: an int is not traced
                 [lambda: (gradwalk.tensor(f32.astype(np.int32)),)], recompiles=1)


def test_the_type_of_a_python_number_is_part_of_the_key():
    def fn(x, c):
        return (_pre(x) * c).exp()

    x = np.array([1.0, 2.0])
    _near_misses(fn, lambda: (_t(x, True), 2.0), [lambda: (_t(x, True), 2),
                                                   lambda: (_t(x, True), True)])


def test_a_tensor_used_again_is_not_a_new_one_and_the_reverse():
    def fn(x, y):
        return _pre(x) * 2.0 + y * 3.0

    p, q = _t([1.0, 2.0], True), _t([3.0, 5.0], True)
    _near_misses(fn, lambda: (p, q), [lambda: (p, p)])
    flag = [False]

    def gn(x, y):
        a = _pre(x) * 2.0
        return a + (y if flag[0] else x) * 3.0

    def args():  # y shares x's array: only the tensor's identity tells them apart
        x = _t([1.0, 2.0], True)
        return x, x.detach().requires_grad_()

    cf = gradwalk.compile(gn)
    for f in (False, False, True, True, False):
        flag[0] = f
        _check(cf, gn, lambda: (_t([1.0, 2.0], True), _t([3.0, 5.0], True)))
        _check(cf, gn, args)


def test_a_pending_value_from_another_step_is_not_the_recorded_one():
    flag = [False]

    def fn(x):
        a = _pre(x) * 2.0
        b = x * 3.0
        return (b if flag[0] else a).sin()

    cf = gradwalk.compile(fn)
    for f in (False, False, True, True, False):
        flag[0] = f
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))


def test_a_dtype_parameter_is_part_of_the_key():
    dt = [gradwalk.float32]

    def fn(x):
        return (_pre(x) * 2.0).to(dt[0]) * 3.0  # a cast: x is float64

    cf = gradwalk.compile(fn)
    for d in (gradwalk.float32, gradwalk.float32, gradwalk.float16, gradwalk.float16,
              gradwalk.float32):
        dt[0] = d
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))


def test_a_detached_pending_value_is_not_the_value():
    def fn(x):
        y = _pre(x) * 3.0
        return y.detach() * y + y

    cf = gradwalk.compile(fn)
    for _ in range(3):
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))


def test_grad_mode_inside_the_region_is_part_of_the_key():
    off = [False]

    def fn(x):
        y = x.sin()
        if off[0]:
            with gradwalk.no_grad():
                return y * 2.0 + x
        return y * 2.0 + x

    cf = gradwalk.compile(fn)
    for o in (False, False, True, True, False):
        off[0] = o
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))


def test_an_array_replaced_after_its_first_use_is_read_again():
    replace = [False]

    def fn(w):
        a = w * 2.0
        if replace[0]:
            w.data = gradwalk.full((2,), 5.0, dtype=gradwalk.float64)
        return a + w * 3.0

    cf = gradwalk.compile(fn)
    for r in (False, False, True, True, False):
        replace[0] = r
        _same(cf(_t([1.0, 1.0])).numpy(), fn(_t([1.0, 1.0])).numpy())


def test_a_keyed_input_that_changes_is_a_near_miss():
    dims = [(0,)]

    def fn(x):
        return gradwalk.flip(_pre(x), dims[0]) * 2.0

    cf = gradwalk.compile(fn)
    for d in ((0,), (0,), (1,), (1,), (0, 1), (0,)):
        dims[0] = d
        _check(cf, fn, lambda: (_t([[1.0, 2.0], [3.0, 4.0]], True),))


def test_alternating_branches_recompile_once():
    flag = [False]

    def fn(x):
        y = x * 2.0
        return y.sin() if flag[0] else y.cos()

    cf = gradwalk.compile(fn)
    for i in range(8):
        flag[0] = bool(i % 2)
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))
    assert len(cf.recompiles) == 1


def test_a_cache_hit_takes_the_matchers_only(monkeypatch):
    calls = count_calls(monkeypatch, _trace.Trace, "__call__")
    w = _t([[0.5, -1.0], [2.0, 0.25]], True)

    def fn(x):
        y = x
        for _ in range(10):
            y = (y @ w).tanh() * 0.5 + 1.0
        return y.sum()

    cf = gradwalk.compile(fn)
    cf(_t([[1.0, 2.0]]))
    first = len(calls)
    del calls[:]
    cf(_t([[1.0, 2.0]]))
    assert first == 41 and calls == ["matmul"]  # the first op: the segment starts there
    _check(cf, fn, lambda: (_t([[1.0, 2.0]], True),))


def test_another_thread_runs_its_ops_eagerly():
    seen = {}

    def other():
        z = _t([1.0, 2.0]) * 2.0
        seen["type"] = type(z._data)

    def fn(x):
        y = x * 2.0
        t = threading.Thread(target=other)
        t.start()
        t.join()
        return y + 1.0

    cf = gradwalk.compile(fn)
    for _ in range(3):
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))
        assert seen["type"] is np.ndarray


def test_a_tensor_made_by_an_eager_op_after_the_node_is_not_matched():
    def fn(x):
        y = x * 2.0  # the segment's node
        z = x[gradwalk.tensor([1, 0])]  # an eager op (tensor indexing), after the node
        return y * z

    cf = gradwalk.compile(fn)
    for _ in range(3):
        _check(cf, fn, lambda: (_t([0.5, -1.0], True),))


@pytest.mark.parametrize("n", [1, 2])
def test_the_matcher_source_is_shared_by_steps_of_one_form(n):
    from gradwalk.compiler import match

    def fn(x):
        for _ in range(20 * n):
            x = x * 1.5
        return x

    cf = gradwalk.compile(fn)
    cf(_t([1.0]))
    codes = {node.hit.__code__ for node in _walk(cf.root)}
    assert len(codes) <= 2 and set(codes) <= {c for c in match._CODES.values()}


def _walk(node):
    for child in node.children.values():
        yield child
        yield from _walk(child)
