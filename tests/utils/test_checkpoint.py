"""Activation checkpointing: equal gradients, less memory held for backward."""

import tracemalloc

import numpy as np
import pytest

import gradwalk
from gradwalk.utils.checkpoint import checkpoint, checkpoint_sequential
from tests.fixtures.oracle import oracle


def _weights(n=6, width=16, seed=0):
    rng = np.random.default_rng(seed)
    return [gradwalk.tensor(rng.standard_normal((width, width)) * 0.3, dtype=gradwalk.float64,
                            requires_grad=True) for _ in range(n)]


def _block(h, w):
    return (h @ w).tanh()


def _grads(ws, x, mode):
    for w in ws:
        w.grad = None
    x.grad = None
    h = x
    for w in ws:
        if mode == "plain":
            h = _block(h, w)
        else:
            h = checkpoint(_block, h, w, use_reentrant=(mode == "reentrant"))
    (h * h).sum().backward()
    return [x.grad.numpy().copy()] + [w.grad.numpy().copy() for w in ws]


@pytest.mark.parametrize("mode", ["non_reentrant", "reentrant"])
def test_gradients_equal_plain_backward(mode):
    ws = _weights()
    x = gradwalk.tensor(np.random.default_rng(1).standard_normal((4, 16)),
                        dtype=gradwalk.float64, requires_grad=True)
    for a, b in zip(_grads(ws, x, "plain"), _grads(ws, x, mode)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_recompute_happens_in_backward():
    calls = []

    def fn(t):
        calls.append(gradwalk.is_grad_enabled())
        return t.sin() * t

    x = gradwalk.tensor([0.5, 1.0], dtype=gradwalk.float64, requires_grad=True)
    y = checkpoint(fn, x)
    assert len(calls) == 1
    y.sum().backward()
    assert len(calls) == 2  # recomputed once, with grad mode on
    xv = np.array([0.5, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xv) * xv + np.sin(xv))


def test_params_used_inside_and_autograd_grad():
    w = gradwalk.tensor([2.0, 3.0], dtype=gradwalk.float64, requires_grad=True)
    x = gradwalk.tensor([1.0, 4.0], dtype=gradwalk.float64, requires_grad=True)
    y = checkpoint(lambda t: (t * w).exp(), x)
    gx, gw = gradwalk.autograd.grad(y.sum(), (x, w))
    e = np.exp(np.array([2.0, 12.0]))
    np.testing.assert_allclose(gx.numpy(), e * [2.0, 3.0])
    np.testing.assert_allclose(gw.numpy(), e * [1.0, 4.0])


def test_random_state_is_replayed():
    x = gradwalk.ones(50, dtype=gradwalk.float64, requires_grad=True)

    def noisy(t):
        return t * gradwalk.rand(50, dtype=gradwalk.float64)

    gradwalk.manual_seed(3)
    y = checkpoint(noisy, x)
    noise = y.detach().numpy().copy()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), noise)


def test_checkpoint_sequential_matches_plain():
    fs = [lambda t: t * 2, lambda t: t.sin(), lambda t: t ** 2, lambda t: t + 1,
          lambda t: t.exp()]
    x = gradwalk.tensor([0.3, 0.7], dtype=gradwalk.float64, requires_grad=True)
    checkpoint_sequential(fs, 2, x).sum().backward()
    got = x.grad.numpy().copy()
    x.grad = None
    h = x
    for f in fs:
        h = f(h)
    h.sum().backward()
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-12)


def _layer(w):
    return lambda h: (h @ w).tanh()


def _peak(layers, x, segments):
    tracemalloc.start()
    try:
        h = checkpoint_sequential(layers, segments, x) if segments else x
        if not segments:
            for f in layers:
                h = f(h)
        held = tracemalloc.get_traced_memory()[0]
        (h * h).sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return held, peak


def test_peak_memory_falls_on_a_deep_model():
    # 32 layers of tanh(h @ w): activations 256x32 float64 (64 KiB each), weights 8 KiB each.
    ws = _weights(n=32, width=32)
    layers = [_layer(w) for w in ws]
    x = gradwalk.tensor(np.random.default_rng(2).standard_normal((256, 32)),
                        dtype=gradwalk.float64)
    held_plain, peak_plain = _peak(layers, x, 0)
    grads_plain = [w.grad.numpy().copy() for w in ws]
    for w in ws:
        w.grad = None
    held_ckpt, peak_ckpt = _peak(layers, x, 4)
    # without checkpointing every activation is kept (32 x 64 KiB); with 4 segments only the
    # segment boundaries are kept, and one segment is recomputed at a time during backward
    assert held_plain > 32 * 64 * 1024
    assert held_ckpt < held_plain / 2
    assert peak_ckpt < 0.7 * peak_plain
    for w, g in zip(ws, grads_plain):
        np.testing.assert_allclose(w.grad.numpy(), g, rtol=1e-12)


def _checkpointed_grads(lib, ck, xv, wv):
    x = lib.tensor(xv, requires_grad=True)
    w = lib.tensor(wv, requires_grad=True)
    y = ck(lambda t, w: (t @ w).sigmoid() * t, x, w, use_reentrant=False)
    (y ** 2).sum().backward()
    return (x.grad.detach().numpy().copy(), w.grad.detach().numpy().copy())


def _torch_checkpointed_grads(torch, xv, wv):
    import torch.utils.checkpoint as tcp

    return _checkpointed_grads(torch, tcp.checkpoint, xv, wv)


def test_matches_torch_checkpoint():
    rng = np.random.default_rng(5)
    xv, wv = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    out = [_checkpointed_grads(gradwalk, checkpoint, xv, wv),
           oracle(lambda torch: _torch_checkpointed_grads(torch, xv, wv))]
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_double_backward_through_checkpoint():
    x = gradwalk.tensor([0.3, 0.8], dtype=gradwalk.float64, requires_grad=True)
    w = gradwalk.tensor([1.5, -0.7], dtype=gradwalk.float64, requires_grad=True)

    def f(a, b):
        return checkpoint(lambda t, u: (t * u).sin() * t, a, b, use_reentrant=False)

    assert gradwalk.autograd.gradgradcheck(f, (x, w))

    def g(a, b):
        return checkpoint(lambda t, u: (t * u).sin() * t, a, b, use_reentrant=True)

    assert gradwalk.autograd.gradcheck(g, (x, w))
    (gx,) = gradwalk.autograd.grad(g(x, w).sum(), x, create_graph=False)
    with pytest.raises(RuntimeError, match="does not support create_graph=True"):
        gradwalk.autograd.grad(g(x, w).sum(), x, create_graph=True)
