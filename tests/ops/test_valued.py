"""The traced twins of ``cross_entropy``, ``nll_loss`` and ``embedding`` (Note [values checked
by the caller] in gradwalk/ops/valued.py): recorded in a compiled region (no graph break), equal
to eager bit for bit on the traced and the cached call, and failing exactly when eager fails,
with eager's error at the same op, when a later call brings an index out of range."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import valued

F = gradwalk.nn.functional
RNG = np.random.default_rng(0)
W = RNG.standard_normal((5, 4)).astype(np.float32)


def _recorded(compiled) -> list:
    return [rec.op.name for end in compiled.programs for rec in end.program.recs]


def _breaks(compiled) -> dict:
    return {reason: n for (reason, _), n in compiled.breaks.items()}


def _loss_step(loss_fn):
    def step(x, t, w):
        loss = loss_fn(F.linear(x, w), t)
        loss.backward()
        return loss
    return step


LOSSES = {
    "cross_entropy": lambda h, t: F.cross_entropy(h, t),
    "cross_entropy_sum_ignore": lambda h, t: F.cross_entropy(h, t, reduction="sum",
                                                             ignore_index=2),
    "cross_entropy_none": lambda h, t: F.cross_entropy(h, t, reduction="none").sum(),
    "cross_entropy_weight": lambda h, t: F.cross_entropy(
        h, t, weight=gradwalk.tensor([0.5, 1.0, 2.0, 1.5, 0.25])),
    "cross_entropy_smoothing": lambda h, t: F.cross_entropy(h, t, label_smoothing=0.1,
                                                            ignore_index=0),
    "nll_loss": lambda h, t: F.nll_loss(F.log_softmax(h, 1), t),
    "nll_loss_weight_none": lambda h, t: F.nll_loss(
        F.log_softmax(h, 1), t, weight=gradwalk.tensor([0.5, 1.0, 2.0, 1.5, 0.25]),
        reduction="none", ignore_index=1).sum(),
}
TWIN = {"cross_entropy": "cross_entropy_traced", "nll_loss": "nll_loss_traced"}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_is_recorded_and_equals_eager(name):
    step = _loss_step(LOSSES[name])
    compiled = gradwalk.compile(step)
    for _ in range(3):  # the trace, then the cached program (new targets each call)
        x = gradwalk.tensor(RNG.standard_normal((6, 4)).astype(np.float32))
        t = gradwalk.tensor(RNG.integers(0, 5, 6))
        w_e, w_c = (gradwalk.tensor(W, requires_grad=True) for _ in range(2))
        want, got = step(x, t, w_e), compiled(x, t, w_c)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        np.testing.assert_array_equal(w_c.grad.numpy(), w_e.grad.numpy())
    twin = TWIN["nll_loss" if name.startswith("nll") or "weight" in name or "smoothing" in name
                else "cross_entropy"]
    assert twin in _recorded(compiled)
    assert set(_breaks(compiled)) == {"a backward through the pending part"}
    assert len(compiled.programs) == 1  # one program: nothing recompiled for new targets


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "cross_entropy_sum_ignore"])
def test_out_of_range_target_on_a_cached_call_raises_eagers_error(name):
    step = _loss_step(LOSSES[name])
    compiled = gradwalk.compile(step)
    x = gradwalk.tensor(RNG.standard_normal((6, 4)).astype(np.float32))
    good = gradwalk.tensor(np.array([0, 1, 2, 3, 4, 2]))
    bad = gradwalk.tensor(np.array([0, 1, 7, 3, 4, 2]))
    for _ in range(2):
        compiled(x, good, gradwalk.tensor(W, requires_grad=True))
    with pytest.raises(IndexError) as want:
        step(x, bad, gradwalk.tensor(W, requires_grad=True))
    with pytest.raises(IndexError) as got:
        compiled(x, bad, gradwalk.tensor(W, requires_grad=True))
    assert str(got.value) == str(want.value)
    assert got.traceback[-1].lineno == want.traceback[-1].lineno  # at the same op
    compiled(x, good, gradwalk.tensor(W, requires_grad=True))  # and it runs again after


@pytest.mark.parametrize("pending", [False, True], ids=["integer-view", "cast-from-float"])
def test_target_made_in_the_region(pending):
    """An integer view of a target runs eagerly (Note [integer values run eagerly]): no graph
    break. A target cast from a pending float is read to check it (one graph break)."""
    def step(x, t, w):
        target = (t * 1.0).long().reshape(-1) if pending else t.reshape(-1)
        loss = F.cross_entropy(F.linear(x, w), target)
        loss.backward()
        return loss
    compiled = gradwalk.compile(step)
    for _ in range(2):
        x = gradwalk.tensor(RNG.standard_normal((6, 4)).astype(np.float32))
        t = gradwalk.tensor(RNG.integers(0, 5, (2, 3)))
        if pending:
            t = t.float()
        w_e, w_c = (gradwalk.tensor(W, requires_grad=True) for _ in range(2))
        want, got = step(x, t, w_e), compiled(x, t, w_c)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        np.testing.assert_array_equal(w_c.grad.numpy(), w_e.grad.numpy())
    assert "cross_entropy_traced" in _recorded(compiled)
    breaks = _breaks(compiled)
    assert ("a read of a pending value" in breaks) == pending
    assert "reshape" not in _recorded(compiled)


def test_logits_changed_in_place_after_the_loss_as_eager():
    """The fused op keeps the softmax: changing the logits after the loss does not raise and
    does not change the gradient (Note [cross_entropy keeps the softmax])."""
    def step(x, t, w):
        h = F.linear(x, w)
        loss = F.cross_entropy(h, t)
        with gradwalk.no_grad():
            h.mul_(3.0)
        loss.backward()
        return loss
    compiled = gradwalk.compile(step)
    for _ in range(2):
        x = gradwalk.tensor(RNG.standard_normal((6, 4)).astype(np.float32))
        t = gradwalk.tensor(RNG.integers(0, 5, 6))
        w_e, w_c = (gradwalk.tensor(W, requires_grad=True) for _ in range(2))
        step(x, t, w_e)
        compiled(x, t, w_c)
        np.testing.assert_array_equal(w_c.grad.numpy(), w_e.grad.numpy())


def test_double_backward_through_the_twins():
    def grads(x, t, w, ids, emb):
        h = F.linear(x + F.embedding(ids, emb), w)
        loss = F.cross_entropy(h, t) + F.nll_loss(F.log_softmax(h, 1), t, reduction="sum")
        gw, ge = gradwalk.autograd.grad(loss, (w, emb), create_graph=True)
        return (gw * gw).sum() + (ge * ge).sum()
    compiled = gradwalk.compile(grads)
    x = gradwalk.tensor(RNG.standard_normal((6, 4)))
    t = gradwalk.tensor(RNG.integers(0, 5, 6))
    ids = gradwalk.tensor(RNG.integers(0, 3, 6))
    emb0 = RNG.standard_normal((3, 4))
    outs = []
    for f in (grads, compiled, compiled):
        w = gradwalk.tensor(W.astype(np.float64), requires_grad=True)
        emb = gradwalk.tensor(emb0, requires_grad=True)
        total = f(x, t, w, ids, emb)
        total.backward()
        outs.append((total.item(), w.grad.numpy(), emb.grad.numpy()))
    for got in outs[1:]:
        np.testing.assert_allclose(got[0], outs[0][0], rtol=1e-13)
        np.testing.assert_allclose(got[1], outs[0][1], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(got[2], outs[0][2], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_is_recorded_and_checks_ids_every_call(padding_idx):
    def step(ids, emb, w):
        loss = (F.linear(F.embedding(ids, emb, padding_idx=padding_idx), w) ** 2).mean()
        loss.backward()
        return loss
    compiled = gradwalk.compile(step)
    for _ in range(3):
        ids = gradwalk.tensor(RNG.integers(-3, 3, (2, 5)))
        e_e, e_c = (gradwalk.tensor(W[:3], requires_grad=True) for _ in range(2))
        w_e, w_c = (gradwalk.tensor(W, requires_grad=True) for _ in range(2))
        want, got = step(ids, e_e, w_e), compiled(ids, e_c, w_c)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        np.testing.assert_array_equal(e_c.grad.numpy(), e_e.grad.numpy())
        np.testing.assert_array_equal(w_c.grad.numpy(), w_e.grad.numpy())
    assert "embedding_traced" in _recorded(compiled)
    bad = gradwalk.tensor(np.array([[0, 1, 3, 0, 0], [1, 1, 1, 1, 1]]))
    with pytest.raises(IndexError) as want:
        step(bad, gradwalk.tensor(W[:3], requires_grad=True), gradwalk.tensor(W))
    with pytest.raises(IndexError) as got:
        compiled(bad, gradwalk.tensor(W[:3], requires_grad=True), gradwalk.tensor(W))
    assert str(got.value) == str(want.value)


def test_twins_are_not_registered_ops():
    """The twins are the trace's forms of registered ops, not ops of their own (the registry's
    samples cover them through ``cross_entropy``, ``nll_loss`` and ``embedding``)."""
    from gradwalk.ops import registry
    assert not valued.TWINS & set(registry.REGISTRY)
    assert valued.TWINS <= __import__("gradwalk.compiler.trace", fromlist=["x"]).SUPPORTED
