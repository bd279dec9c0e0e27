"""Trace: where a new segment looks for its first step (Note [the next segment's first step])."""

from __future__ import annotations

import numpy as np

import gradwalk
from gradwalk.compiler import trace as tr
from tests.compiler.counting import count_calls

SHAPES = [(4, 3), (4,), (5, 4), (4,), (2, 5), (2,)]  # two of the same shape, as b0 and b1


def _params(seed=0):
    rng = np.random.default_rng(seed)
    ps = [gradwalk.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    for p in ps:
        p.grad = gradwalk.tensor(rng.standard_normal(p.shape))
    return ps


def _update(ps):
    with gradwalk.no_grad():
        for p in ps:
            # one segment each, ended by the in-place op (a graph break): ``p.data`` shares
            # ``p``'s array, so the update is not recorded (compiler/inplace.py)
            p.data.sub_(0.01 * p.grad)


def test_every_segments_first_step_is_matched_on_a_warm_trie(monkeypatch):
    eager, comp = _params(), _params()
    step = gradwalk.compile(_update)
    for _ in range(2):
        _update(eager), step(comp)
    seen = count_calls(monkeypatch, tr.Segment, "record")  # the general path
    compiles = step.compiles
    for _ in range(3):
        _update(eager), step(comp)
    assert seen == []  # the root has 5 children, each segment's first step still matched
    assert step.compiles == compiles
    assert len(step.starts) == len(SHAPES)
    for a, b in zip(eager, comp):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert sum(step.breaks.values()) == 5 * len(SHAPES)  # every break still counted


def test_a_stale_hint_is_refused_and_the_step_still_equals_eager(monkeypatch):
    # the near case: the same segment numbers start with other steps on every other call
    # (the parameters in reverse order), so ``starts[i]`` is the wrong matcher half the time
    eager, comp = _params(1), _params(1)

    def update(ps, flip):
        _update(ps[::-1] if flip else ps)

    step = gradwalk.compile(update)
    for k in range(2):
        update(eager, k % 2 == 1), step(comp, k % 2 == 1)
    compiles = step.compiles
    seen = count_calls(monkeypatch, tr.Segment, "record")  # the general path
    for k in range(6):
        update(eager, k % 2 == 1), step(comp, k % 2 == 1)
        for a, b in zip(eager, comp):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert step.compiles == compiles  # a refused hint is no step off the trie
    # the hint refuses, then the root's last child or the general path takes the step
    assert len(seen) <= 6 * len(SHAPES)


def test_hints_are_kept_for_a_bounded_number_of_segments():
    starts: list = []
    for i in range(tr.MAX_STARTS + 3):
        tr._note_start(starts, i, i)
    assert len(starts) == tr.MAX_STARTS
    tr._note_start(starts, 2, "again")
    assert starts[2] == "again"
    tr._note_start(starts, len(starts) + 5, "a gap")  # never a hole in the list
    assert len(starts) == tr.MAX_STARTS


def test_user_location_skips_only_the_frames_asked():
    def inner(skip):
        return tr.user_location(skip)  # skip 0: this line; skip 1: the caller's line

    line = inner(0), inner(1)
    assert all(x.startswith("test_trace.py:") for x in line)
    assert line[0] != line[1]
