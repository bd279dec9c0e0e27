"""The scratch-buffer pool of the convolution kernels (``ops/conv_scratch.py``, Note [conv
scratch buffers]): buffers are reused, bounded, never shared while taken, and no result of a
convolution aliases a pooled buffer."""

import numpy as np
import pytest

import gradwalk
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


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, padding=2),
                                dict(padding=1, groups=2)])
def test_results_do_not_alias_the_pool(kw):
    """A second call of the same shapes reuses the pooled buffers; the first call's output and
    gradients must not change."""
    rng = np.random.default_rng(0)
    k = 5 if kw.get("stride") else 3
    xs = [gradwalk.tensor(rng.standard_normal((4, 8, 9, 9)), requires_grad=True),
          gradwalk.tensor(rng.standard_normal((8, 8 // kw.get("groups", 1), k, k)),
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
