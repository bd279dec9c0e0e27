"""The end of a segment (Note [the end of a segment] in gradwalk/compiler/segend.py): the
program's values checked against the trace and handed to the tensors that can be read, the
node's outputs numbered by the trie, and the edges and versions the matchers record."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from gradwalk.compiler import codegen
from gradwalk.compiler import trace as tr
from tests.compiler.counting import count_calls


def _same(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes(), (a, b)


def _x(requires_grad=True):
    return gradwalk.tensor([0.5, -1.25, 2.0], dtype=gradwalk.float64,
                           requires_grad=requires_grad)


def _mixed(x, c, seen):
    """Values that require grad between values that do not (``c`` needs no grad)."""
    a = x * 2.0
    k = c.exp()  # requires no grad: no output of the node
    b = a.sin() * k
    b.register_hook(lambda g: seen.append(g.numpy().copy()))
    b.retain_grad()
    m = k + 1.0
    out = (b.tanh() * m).sum()
    return out, b


@pytest.mark.parametrize("calls", [1, 4])
def test_hooks_and_retained_grads_of_pending_values_between_values_without_grad(calls):
    cf = gradwalk.compile(_mixed)
    for _ in range(calls):  # the first call traces, the later ones hit the cache
        seen_e, seen_c = [], []
        xe, xc = _x(), _x()
        out_e, b_e = _mixed(xe, _x(False), seen_e)
        out_c, b_c = cf(xc, _x(False), seen_c)
        out_e.backward()
        out_c.backward()
        _same(out_c.detach().numpy(), out_e.detach().numpy())
        _same(xc.grad.numpy(), xe.grad.numpy())
        _same(b_c.grad.numpy(), b_e.grad.numpy())
        assert len(seen_c) == len(seen_e) == 1
        _same(seen_c[0], seen_e[0])


def test_the_nodes_outputs_are_the_values_that_require_grad_in_trie_order():
    def fn(x, c):
        a = x * 2.0  # output 0
        k = c + 1.0  # no output
        b = a * k  # output 1
        return a, k, b

    cf = gradwalk.compile(fn)
    for _ in range(3):
        a, k, b = cf(_x(), _x(False))
        node = a.grad_fn
        assert type(node).__name__ == "CompiledNode" and b.grad_fn is node
        assert k.grad_fn is None and not k.requires_grad
        assert (a._out_edge, b._out_edge) == ((node, 0), (node, 1))
        assert node.outputs == 2
        assert node.seg.out_slots == (0, 2)


def test_kept_values_get_theirs_and_the_dead_ones_are_not_handed_out():
    kept = []

    def fn(x):
        for i in range(12):
            x = (x * 1.5).sin()
            if i % 5 == 0:
                kept.append(x)  # read later: never dead
        return x

    cf = gradwalk.compile(fn)
    for _ in range(3):
        del kept[:]
        out = cf(_x(False))
        got = [t.numpy().copy() for t in kept]
        del kept[:]
        want = fn(_x(False))
        _same(out.numpy(), want.numpy())
        for a, b in zip(got, kept):
            _same(a, b.numpy())
    program = cf.programs[0].program
    tables = [(dead, live) for dead, (live, _, _) in program.tables.items() if dead]
    assert tables, "the cached calls ran a variant without dead values"
    for dead, live in tables:
        assert not set(dead) & set(live) and len(dead) + len(live) == len(program.recs)
        assert {1, 11, 21, 23} <= set(live)  # the kept values and the result


@pytest.mark.parametrize("bad", ["shape", "dtype", "none", "count"])
def test_a_program_value_unlike_the_trace_is_raised_not_handed_out(monkeypatch, bad):
    def fn(x):
        return (x * 3.0).exp()

    cf = gradwalk.compile(fn)
    cf(_x())
    real = codegen.run_forward_dead

    def wrong(program, seg):
        values, dead = real(program, seg)
        values = list(values)
        if bad == "shape":
            values[-1] = np.zeros(4)
        elif bad == "dtype":
            values[-1] = values[-1].astype(np.float32)
        elif bad == "none":
            values[-1] = None
        else:
            values.append(np.zeros(3))
        return values, dead

    monkeypatch.setattr(codegen, "run_forward_dead", wrong)
    with pytest.raises(RuntimeError, match="bug in gradwalk.compile"):
        cf(_x())


def _outside_inputs(kind):
    """An input made outside the region: a leaf, an op's output, one output of ``unbind``."""
    x = gradwalk.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=gradwalk.float64, requires_grad=True)
    if kind == "leaf":
        return x, x
    if kind == "node":
        return x, x * 2.0
    return x, (x * 1.0).unbind()[1]


@pytest.mark.parametrize("kind", ["leaf", "node", "multi"])
def test_outside_inputs_get_their_edges_on_a_cache_hit(monkeypatch, kind):
    def fn(w, v):
        y = (w * 2.0).sin()
        return (y * v).sum() + (v * v).sum()  # v used twice: two edges

    cf = gradwalk.compile(fn)
    for call in range(4):
        if call == 2:
            seen = count_calls(monkeypatch, tr.Segment, "record")  # the general path
        w_e, w_c = gradwalk.tensor([1.0, 3.0], dtype=gradwalk.float64, requires_grad=True), \
            gradwalk.tensor([1.0, 3.0], dtype=gradwalk.float64, requires_grad=True)
        (x_e, v_e), (x_c, v_c) = _outside_inputs(kind), _outside_inputs(kind)
        fn(w_e, v_e).backward()
        cf(w_c, v_c).backward()
        _same(w_c.grad.numpy(), w_e.grad.numpy())
        _same(x_c.grad.numpy(), x_e.grad.numpy())
    assert seen == []


def test_a_saved_outside_tensor_with_a_version_already_is_checked_from_that_version():
    def fn(x, w):
        return (x * w).sum()  # ``mul`` saves both inputs

    cf = gradwalk.compile(fn)
    for call in range(4):
        for f in (fn, cf):
            x = _x()
            w = gradwalk.tensor([1.0, 2.0, 3.0], dtype=gradwalk.float64)
            w.add_(1.0)  # version 1 before the call
            loss = f(x, w)
            if call % 2:  # changed after the forward: the backward raises as eagerly
                w.mul_(2.0)
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    loss.backward()
            else:
                loss.backward()
                _same(x.grad.numpy(), w.detach().numpy())


def _saves(x):
    a = x * 2.0  # sin saves its input: ``a`` is read by the backward
    return a, a.sin().sum()


@pytest.mark.parametrize("after", ["nothing", "a view", "a view then in place", "in place"])
def test_the_versions_of_saved_values_are_checked_as_eagerly(after):
    cf = gradwalk.compile(_saves)
    for _ in range(3):  # the first call traces, the later ones hit the cache
        results = []
        for f in (_saves, cf):
            x = _x()
            a, loss = f(x)
            if after == "a view":
                a.view(3)  # a counter shared with a view, version 0: nothing changed
            elif after == "a view then in place":
                a.view(3).mul_(1.0)
            elif after == "in place":
                a.add_(0.0)
            try:
                loss.backward()
                results.append(("ok", x.grad.numpy()))
            except RuntimeError as e:
                results.append(("raised", str(e).split(";")[0]))
        (kind_e, got_e), (kind_c, got_c) = results
        assert kind_c == kind_e == ("ok" if after in ("nothing", "a view") else "raised")
        if kind_e == "ok":
            _same(got_c, got_e)
        else:
            assert "modified by an inplace operation" in got_c


def test_a_saved_value_with_a_counter_at_the_flush_is_checked_from_its_version():
    def fn(x):
        a = x * 2.0
        b = a.view(3)  # shares a's counter: made while recording
        return a, (b.sin() * a.sin()).sum()

    cf = gradwalk.compile(fn)
    for call in range(4):
        results = []
        for f in (fn, cf):
            x = _x()
            a, loss = f(x)
            if call % 2:
                a.mul_(1.0)
            try:
                loss.backward()
                results.append(x.grad.numpy())
            except RuntimeError as e:
                results.append("modified by an inplace operation" in str(e))
        if call % 2:
            assert results == [True, True]
        else:
            _same(results[1], results[0])
