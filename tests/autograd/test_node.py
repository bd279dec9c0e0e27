"""Nodes with several outputs (Note [multi-output nodes]): one node per call of unbind / split /
chunk / a custom Function returning a tuple; ``next_functions`` and the gradients against
PyTorch, with every output used or only some."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import engine
from tests.fixtures.oracle import oracle, torch_or_none

# The split tests take torch's side from the recorded oracle (Note [Recorded oracle]); the tests
# marked ``live`` hold graph objects (nodes, hooks, custom Functions) of both libraries side by
# side, so they run with torch installed only.
torch = torch_or_none()
live = pytest.mark.skipif(torch is None, reason="compares torch's graph objects live")

X0 = np.random.default_rng(0).standard_normal((5, 4))


def _pair(x0=X0):
    return gradwalk.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


# (name, call(mod, x) -> tuple of pieces): the multi-output calls gradwalk and torch share
SPLITS = [
    ("unbind0", lambda m, x: x.unbind(0)),
    ("unbind1", lambda m, x: m.unbind(x, 1)),
    ("split_int", lambda m, x: x.split(2)),
    ("split_sizes", lambda m, x: x.split([1, 3], dim=1)),
    ("chunk", lambda m, x: x.chunk(3)),
    ("chunk_dim1", lambda m, x: m.chunk(x, 2, dim=1)),
]


def _torch_node_facts(torch, call):
    xt = torch.tensor(X0, requires_grad=True)
    ht = xt * 1.0
    tpieces = call(torch, ht)
    return {"n": len(tpieces), "name": tpieces[0].grad_fn.name(),
            "output_nr": [tp.output_nr for tp in tpieces],
            "next_index": [(tp * 2).grad_fn.next_functions[0][1] for tp in tpieces],
            "own_edge_index": tpieces[0].grad_fn.next_functions[0][1]}


@pytest.mark.parametrize("name,call", SPLITS, ids=[s[0] for s in SPLITS])
def test_one_node_per_call_with_torch_names_and_indices(name, call):
    x = gradwalk.tensor(X0, requires_grad=True)
    h = x * 1.0
    ref = oracle(lambda torch: _torch_node_facts(torch, call))
    pieces = call(gradwalk, h)
    assert len({id(p.grad_fn) for p in pieces}) == 1
    assert len(pieces) == ref["n"]
    assert pieces[0].grad_fn.name() == ref["name"]
    for k, p in enumerate(pieces):
        assert p.output_nr == ref["output_nr"][k] == k
        nf = (p * 2).grad_fn.next_functions
        assert nf[0][0] is p.grad_fn and nf[0][1] == ref["next_index"][k] == k
    # the multi-output node's own edge: the producer of its input, output 0
    assert pieces[0].grad_fn.next_functions[0][0] is h.grad_fn
    assert ref["own_edge_index"] == pieces[0].grad_fn.next_functions[0][1]


def _split_grad(mod, call, used):
    x = mod.tensor(X0, requires_grad=True)
    pieces = call(mod, x)
    n = len(pieces)
    ks = {"all": range(n), "first_and_last": sorted({0, n - 1}),
          "middle": [n // 2]}[used]
    sum(((k + 1) * pieces[k] ** 2).sum() for k in ks).backward()
    return x.grad.detach().numpy()


@pytest.mark.parametrize("name,call", SPLITS, ids=[s[0] for s in SPLITS])
@pytest.mark.parametrize("used", ["all", "first_and_last", "middle"])
def test_gradients_match_torch(name, call, used):
    ref = oracle(lambda torch: _split_grad(torch, call, used))
    np.testing.assert_allclose(_split_grad(gradwalk, call, used), ref, rtol=1e-12, atol=1e-12)


@live
def test_max_and_min_along_a_dim_match_torch():
    for f in ("max", "min"):
        x, xt = _pair()
        r, rt = getattr(x, f)(1), getattr(xt, f)(1)
        assert r.values.grad_fn.name() == rt.values.grad_fn.name()
        assert r.values.output_nr == rt.values.output_nr == 0
        (r.values * 3).sum().backward()
        (rt.values * 3).sum().backward()
        _close(x.grad, xt.grad)
        np.testing.assert_array_equal(r.indices.numpy(), rt.indices.numpy())


def _custom(mod):
    class Two(mod.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2, a.exp()

        @staticmethod
        def backward(ctx, g1, g2):
            (a,) = ctx.saved_tensors
            return g1 * 2 + g2 * a.exp()

    return Two


@live
@pytest.mark.parametrize("used", [(0, 1), (0,), (1,)])
def test_custom_function_with_two_outputs_is_one_node(used):
    x, xt = _pair()
    outs, touts = _custom(gradwalk).apply(x), _custom(torch).apply(xt)
    assert outs[0].grad_fn is outs[1].grad_fn
    assert outs[1].output_nr == touts[1].output_nr == 1
    nf, tnf = (outs[1] + 1).grad_fn.next_functions, (touts[1] + 1).grad_fn.next_functions
    assert nf[0] == (outs[1].grad_fn, 1) and tnf[0][1] == 1
    sum((outs[k] * (k + 2)).sum() for k in used).backward()
    sum((touts[k] * (k + 2)).sum() for k in used).backward()
    _close(x.grad, xt.grad)


@live
def test_custom_function_without_materialized_grads_gets_none():
    seen = {}

    def make(mod):
        class Two(mod.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.set_materialize_grads(False)
                return a * 2, a * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen[mod.__name__] = (g1 is None, g2 is None)
                return g1 * 2 if g1 is not None else g2 * 3

        return Two

    x, xt = _pair()
    make(gradwalk).apply(x)[1].sum().backward()
    make(torch).apply(xt)[1].sum().backward()
    assert seen["gradwalk"] == seen["torch"] == (True, False)
    _close(x.grad, xt.grad)


@live
def test_hooks_retain_grad_and_autograd_grad_on_pieces_match_torch():
    x, xt = _pair()
    h, ht = x * 1.5, xt * 1.5
    pieces, tpieces = h.unbind(0), ht.unbind(0)
    for ps in (pieces, tpieces):
        ps[1].register_hook(lambda g: g * 10)
        ps[3].retain_grad()
    loss = sum((p * p).sum() for p in pieces)
    tloss = sum((p * p).sum() for p in tpieces)
    (g1,) = gradwalk.autograd.grad(loss, pieces[1], retain_graph=True)
    (tg1,) = torch.autograd.grad(tloss, tpieces[1], retain_graph=True)
    _close(g1, tg1)
    loss.backward()
    tloss.backward()
    _close(x.grad, xt.grad)
    _close(pieces[3].grad, tpieces[3].grad)


@live
def test_node_prehook_sees_one_gradient_per_output():
    got = {}
    for mod in (gradwalk, torch):
        x = mod.tensor(X0, requires_grad=True)
        pieces = (x * 1.0).unbind(0)
        pieces[0].grad_fn.register_prehook(
            lambda gs, mod=mod: got.__setitem__(mod.__name__, [g is None for g in gs]))
        (pieces[1] + pieces[3]).sum().backward()
    assert got["gradwalk"] == got["torch"] == [True, False, True, False, True]


@live
def test_double_backward_through_unbind_matches_torch():
    x, xt = _pair()
    res = []
    for mod, t in ((gradwalk, x), (torch, xt)):
        rows = (t ** 2).unbind(0)
        loss = (rows[0] * rows[2]).sum() + rows[4].sin().sum()
        (g,) = mod.autograd.grad(loss, t, create_graph=True)
        (g * g).sum().backward()
        res.append(t.grad)
    _close(*res)


@live
def test_changing_a_piece_in_place_raises_like_torch():
    x, xt = _pair()
    for t in (x, xt):
        piece = (t * 1.0).unbind(0)[1]
        with pytest.raises(RuntimeError, match="returns multiple views"):
            piece.mul_(2)
    with gradwalk.no_grad():
        rows = x.unbind(0)
        rows[0].zero_()  # no graph recorded: a plain write into x's memory
    assert x.data[0].tolist() == [0.0] * 4 and x._version == 1


@live
def test_saved_piece_checks_the_shared_version():
    x, _ = _pair()
    h = x * 1.0
    piece = h.unbind(0)[0]
    y = piece.sin()  # saves the piece
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


class _Count(engine.Listener):
    def __init__(self) -> None:
        self.names: list = []

    def on_node(self, node, grad_in, grads_out) -> None:
        self.names.append(node.name())


def test_unbind_backward_runs_its_rule_once():
    x = gradwalk.randn(3000, 2, requires_grad=True)
    c = _Count()
    engine.listen(c)
    try:
        sum(r.sum() for r in x.unbind(0)).backward()
    finally:
        engine.unlisten(c)
    assert c.names.count("UnbindBackward0") == 1
    assert c.names.count("SumBackward0") == 3000
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3000, 2)))


@live
def test_pieces_take_the_per_piece_path_under_forward_hooks():
    from gradwalk.ops import registry

    x, xt = _pair()

    def hook(op, args, res, params):
        return None

    registry._forward_hooks.append(hook)
    try:
        rows = x.unbind(0)
    finally:
        registry._forward_hooks.remove(hook)
    assert rows[0].grad_fn is not rows[1].grad_fn
    (rows[0] * 2 + rows[4]).sum().backward()
    trows = xt.unbind(0)
    (trows[0] * 2 + trows[4]).sum().backward()
    _close(x.grad, xt.grad)


@live
def test_custom_function_outputs_that_are_not_differentiable_tensors():
    seen = {}

    def make(mod):
        class F(mod.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, 3, a > 0

            @staticmethod
            def backward(ctx, g1, g2, g3):
                seen[mod.__name__] = (g2, str(g3.dtype).split(".")[-1], tuple(g3.shape),
                                      bool(g3.any()))
                return g1 * 2

        return F

    x, xt = _pair()
    make(gradwalk).apply(x)[0].sum().backward()
    make(torch).apply(xt)[0].sum().backward()
    assert seen["gradwalk"] == seen["torch"] == (None, "bool", (5, 4), False)
    _close(x.grad, xt.grad)


# ------------------------------------------------------------ Note [the leaf's accumulator]
def _acc(t):
    return (t * 1.0).grad_fn.next_functions[0][0]


def test_a_leaf_keeps_its_accumulator_across_graphs():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    first = _acc(x)
    (x * 3.0).sum().backward()
    assert _acc(x) is first and first.variable is x
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_the_kept_accumulator_reads_a_grad_the_user_replaced():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    mine = gradwalk.tensor([10.0, 20.0])
    x.grad = mine
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 22.0])
    x.grad = None
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(mine.numpy(), [12.0, 22.0])


def test_hooks_added_after_the_first_backward_run():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    seen = []
    x.register_hook(lambda g: g * 10.0)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])
    np.testing.assert_array_equal(seen[0], [30.0, 30.0])


def test_grad_of_inputs_with_a_kept_accumulator_leaves_grad_alone():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    w = gradwalk.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()
    gx, = gradwalk.autograd.grad((x * w * x).sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [6.0, 16.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    (x * w).sum().backward(inputs=[w])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_the_accumulator_does_not_keep_its_leaf_alive():
    import gc
    import weakref
    gc.disable()
    try:
        x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        (x * 2.0).sum().backward()
        ref = weakref.ref(x)
        del x
        assert ref() is None  # freed by reference counting: no cycle through the node
    finally:
        gc.enable()


def test_a_freed_leaf_still_runs_its_accumulators_node_hooks():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh().sum()  # tanh keeps its output, not ``x``
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    seen = []
    acc.register_hook(lambda gi, go: seen.append(go[0].numpy().copy()))
    del x
    assert acc.variable is None
    y.backward()
    np.testing.assert_allclose(seen[0], 1.0 - np.tanh([1.0, 2.0]) ** 2, rtol=1e-6)  # float32
