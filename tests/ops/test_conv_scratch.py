"""The scratch-buffer pool of the convolution kernels (``ops/conv_scratch.py``, Note [conv
scratch buffers]): buffers are reused, bounded, never shared while taken, and no result of a
convolution aliases a pooled buffer."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import conv_gemm
from gradwalk.ops import conv_scratch as S

F = gradwalk.nn.functional


def test_take_give_reuses_and_zero_fills():
    S.clear()
    a = S.take((3, 5), np.float32)
    a[...] = 7.0
    S.give(a)
    assert S.held() == a.nbytes
    b = S.take((5, 3), np.float32, zero=True)  # same size: the same memory, zeroed
    assert np.shares_memory(a, b) and not b.any() and S.held() == 0
    c = S.take((5, 3), np.float32)  # the pool is empty: a new buffer
    assert not np.shares_memory(b, c)
    S.give(b, c, None)
    assert S.held() == 2 * b.nbytes
    S.clear()
    assert S.held() == 0


def test_pool_is_bounded(monkeypatch):
    S.clear()
    monkeypatch.setattr(S, "POOL_BYTES", 1000)
    S.give(S.take((100,), np.float32))  # 400 bytes
    S.give(S.take((150,), np.float32))  # 600: fits, 1000 in all
    assert S.held() == 1000
    S.give(S.take((10,), np.float32))  # does not fit: the pool is emptied first
    assert S.held() == 40
    S.give(S.take((2000,), np.float32))  # larger than the pool: dropped
    assert S.held() == 40
    S.clear()


@pytest.mark.parametrize("kw,c", [(dict(padding=1), 8), (dict(stride=2, padding=2), 8),
                                  (dict(padding=1, groups=2), 8),
                                  (dict(padding=1), 64)])  # 64: Winograd's kernels
def test_results_do_not_alias_the_pool(kw, c):
    """A second call of the same shapes reuses the pooled buffers; the first call's output and
    gradients must not change."""
    rng = np.random.default_rng(0)
    k = 5 if kw.get("stride") else 3
    xs = [gradwalk.tensor(rng.standard_normal((4, c, 9, 9)), requires_grad=True),
          gradwalk.tensor(rng.standard_normal((c, c // kw.get("groups", 1), k, k)),
                          requires_grad=True)]
    y = F.conv2d(*xs, **kw)
    y.backward(gradwalk.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
    first = [y.detach().numpy().copy()] + [t.grad.numpy().copy() for t in xs]
    kept = [y.detach().numpy()] + [t.grad.numpy() for t in xs]
    x2 = [gradwalk.tensor(rng.standard_normal(tuple(t.shape)), requires_grad=True) for t in xs]
    y2 = F.conv2d(*x2, **kw)
    y2.backward(gradwalk.tensor(rng.standard_normal(tuple(y2.shape))))
    assert S.held() > 0
    for a, b in zip(kept, first):
        np.testing.assert_array_equal(a, b)


# Note [saved forward data]

SAVED_CASES = [(dict(padding=1), 3, 8), (dict(padding=1), 3, 2),  # grid: per-offset / im2col
               (dict(stride=2, padding=2), 5, 8), (dict(stride=(2, 3), padding=1), 3, 4),
               (dict(padding=1, groups=2), 3, 8)]


def _step(kw, k, c, dtype, backwards=1):
    rng = np.random.default_rng(3)
    x = gradwalk.tensor(rng.standard_normal((3, c, 11, 10)).astype(dtype), requires_grad=True)
    w = gradwalk.tensor(rng.standard_normal((6, c // kw.get("groups", 1), k, k)).astype(dtype),
                        requires_grad=True)
    b = gradwalk.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True)
    y = F.conv2d(x, w, b, **kw)
    g = gradwalk.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype))
    out = []
    for i in range(backwards):
        y.backward(g, retain_graph=i + 1 < backwards)
        out.append([t.grad.numpy().copy() for t in (x, w, b)])
        for t in (x, w, b):
            t.grad = None
    return y.detach().numpy(), out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw,k,c", SAVED_CASES)
def test_saved_forward_data_gives_the_recomputed_gradients(kw, k, c, dtype, monkeypatch):
    """The weight gradient from the forward's saved buffers equals the one rebuilt from the
    input (SAVE_BYTES = 0 keeps nothing); a second backward through the retained graph
    rebuilds them and agrees too. The saved buffers are used (a spy on ``_claim``)."""
    used = []
    real = conv_gemm._claim

    def spy(*args):
        r = real(*args)
        used.append(r is not None)
        return r

    monkeypatch.setattr(conv_gemm, "_claim", spy)
    y, (first, second) = _step(kw, k, c, dtype, backwards=2)
    assert used == [True, False]
    monkeypatch.setattr(conv_gemm, "SAVE_BYTES", 0)
    y0, (ref,) = _step(kw, k, c, dtype)
    np.testing.assert_array_equal(y, y0)
    tol = 1e-12 if dtype == np.float64 else 1e-5  # one GEMM or one per offset: sums reorder
    for got in (first, second):
        for a, r in zip(got, ref):
            np.testing.assert_allclose(a, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("kw,k", [(dict(padding=1), 3), (dict(stride=2, padding=2), 5)])
def test_the_forward_saves_only_for_a_weight_gradient(kw, k, monkeypatch):
    seen = []
    real = conv_gemm.forward

    def spy(*args):
        seen.append(args[-1])
        return real(*args)

    monkeypatch.setattr(conv_gemm, "forward", spy)
    x = gradwalk.tensor(np.ones((2, 8, 9, 9)), requires_grad=True)
    w = gradwalk.tensor(np.ones((4, 8, k, k)), requires_grad=True)
    y = F.conv2d(x, w, **kw)
    assert len(seen[-1]) == 1  # kept for the backward
    with gradwalk.no_grad():
        F.conv2d(x, w, **kw)
    assert seen[-1] is None
    F.conv2d(x, w.detach(), **kw)
    assert seen[-1] is None
    y.sum().backward()
    assert w.grad is not None


def test_an_input_changed_in_place_after_the_forward_raises():
    """The saved buffers stand for the input as it was: changing it in place in between makes
    the backward raise, as in PyTorch, instead of using stale buffers."""
    x = gradwalk.tensor(np.ones((2, 8, 9, 9)), requires_grad=True)
    w = gradwalk.tensor(np.ones((4, 8, 3, 3)), requires_grad=True)
    h = x * 1.0
    y = F.conv2d(h, w, padding=1)
    with gradwalk.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
