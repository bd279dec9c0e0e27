"""Autograd from several threads: no lost update into a shared ``.grad`` (Note [concurrent
accumulation] in gradwalk/autograd/engine.py), and dual tensors carry their tangents into worker
threads (Note [how tangents travel] in gradwalk/autograd/forward_ad.py), as in PyTorch."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

N = 100_000  # large enough that NumPy releases the GIL inside ``+=``
STEPS = 10


def _in_threads(work, count=4):
    errors = []

    def run(k):
        try:
            work(k)
        except BaseException as e:  # reported by the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _shared_leaves(torch):
    """4 threads backpropagate into shared leaves; integer values in float64, so every sum is
    exact whatever the order. Returns (min, max, sum) of each leaf's gradient."""
    f64 = torch.float64
    w = torch.zeros(N, dtype=f64, requires_grad=True)
    v = torch.zeros(N, dtype=f64, requires_grad=True)
    b = torch.zeros(3, dtype=f64, requires_grad=True)

    def work(k):
        c = torch.full((N,), float(k + 1), dtype=f64)
        for i in range(STEPS):
            ((w * c).sum() + (b * (k + i)).sum()).backward()
            # ``add`` hands one gradient to ``w`` and to ``v * 1``: the first one stored in
            # ``w.grad`` must not be written into while ``v``'s part of the walk still needs it
            ((w + v * 1.0) * c).sum().backward()

    _in_threads(work)
    return [[float(g.min()), float(g.max()), float(g.sum())] for g in (w.grad, v.grad, b.grad)]


@pytest.mark.parametrize("run", range(3))
def test_four_threads_into_shared_leaves_give_pytorchs_exact_sums(run):
    ref = oracle(_shared_leaves, key="sums")
    assert _shared_leaves(gradwalk) == ref


def test_a_leaf_hook_sees_every_thread():
    w = gradwalk.zeros(3, dtype=gradwalk.float64, requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(float(g.sum())))

    def work(k):
        for _ in range(10):
            (w * (k + 1)).sum().backward()

    _in_threads(work)
    assert sorted(seen) == sorted([3.0 * (k + 1) for k in range(4) for _ in range(10)])
    assert w.grad.tolist() == [100.0] * 3


def _forward_in_threads(torch):
    """A dual tensor made in this thread's level, used by two worker threads."""
    fwAD = torch.autograd.forward_ad
    out = {}
    with fwAD.dual_level():
        x = fwAD.make_dual(torch.tensor([1.0, 2.0, -3.0], dtype=torch.float64),
                           torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64))

        def work(k):
            for i in range(50):
                y = ((x * x) * (k + 1)).sin() + x.exp() * i
                if i == 49:
                    out[k] = fwAD.unpack_dual(y).tangent

        _in_threads(work, count=2)
        mine = fwAD.unpack_dual(x.cos()).tangent
    return {"threads": [out[0], out[1]], "main": mine}


def test_forward_ad_in_two_threads_keeps_the_tangents():
    ref = oracle(_forward_in_threads)
    got = _forward_in_threads(gradwalk)
    for a, b in zip(got["threads"] + [got["main"]], ref["threads"] + [ref["main"]]):
        assert a is not None
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12)

