"""The fused layer ops against PyTorch: ``scaled_dot_product_attention`` (Note [fused
attention]), ``embedding`` (Note [embedding gradient], both of its ways), ``group_norm``,
``max_pool2d`` with its saved argmax (Note [saved argmax]) and float32 ``gelu`` (Note [fast
erfc]): values, gradients, one node per call, and double backward."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import embedding as E
from tests.fixtures.oracle import oracle


def _grads(m, arrays, fn, seed_grad=True):
    """``fn(m, *tensors)``'s value and the gradients of every input (float64)."""
    ts = [m.tensor(a, requires_grad=True) for a in arrays]
    y = fn(m, *ts)
    g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape))
    y.backward(m.tensor(g))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts]


def _check(arrays, fn, rtol=1e-10, atol=1e-12):
    got = _grads(gradwalk, arrays, fn)
    want = oracle(lambda torch: _grads(torch, arrays, fn))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


KEEP = np.array([[True, True, False, True], [False, False, False, False],
                 [True, False, True, False]])
SDPA_CASES = {
    "plain": (((2, 3, 3, 4), (2, 3, 5, 4), (2, 3, 5, 2)), {}),
    "causal": (((1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 3)), {"is_causal": True}),
    "causal_rectangular": (((1, 3, 2), (1, 5, 2), (1, 5, 2)), {"is_causal": True}),
    "bool_mask_dead_row": (((2, 3, 2), (2, 4, 2), (2, 4, 3)), {"attn_mask": KEEP}),
    "scale": (((2, 3, 2), (2, 4, 2), (2, 4, 3)), {"scale": 0.3}),
}


@pytest.mark.parametrize("name", SDPA_CASES)
def test_attention_matches_torch(name):
    shapes, kw = SDPA_CASES[name]
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal(s) for s in shapes]

    def fn(m, q, k, v):
        kws = dict(kw)
        if "attn_mask" in kws:
            kws["attn_mask"] = m.tensor(kws["attn_mask"])
        return m.nn.functional.scaled_dot_product_attention(q, k, v, **kws)

    _check(arrays, fn)


def test_attention_float_mask_gets_its_gradient_summed_over_the_batch():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3),
                                               (3, 5))]
    _check(arrays, lambda m, q, k, v, a: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=a))


def test_attention_is_one_node_and_has_a_double_backward():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s) for s in ((1, 3, 2), (1, 4, 2), (1, 4, 2)))

    def hvp(m):
        ts = [m.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = m.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
        gs = m.autograd.grad((y * y).sum(), ts, create_graph=True)
        total = sum((g * g).sum() for g in gs)
        return [a.numpy() for a in m.autograd.grad(total, ts)]

    y = gradwalk.nn.functional.scaled_dot_product_attention(
        *(gradwalk.tensor(a, requires_grad=True) for a in (q, k, v)))
    assert y.grad_fn.name() == "ScaledDotProductAttentionBackward0"
    assert all(fn is None or "Accumulate" in fn.name() for fn, _ in y.grad_fn.next_functions)
    for a, b in zip(hvp(gradwalk), oracle(hvp)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rows", [7, E._ONEHOT_ROWS + 44])  # one-hot GEMM, sort-and-reduce
@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_gradient_both_ways_match_torch(rows, padding_idx):
    ids = np.random.default_rng(rows).integers(0, 6, (4, 5))
    ids[0, :3] = 3  # repeated ids (and the padding row)
    w = np.random.default_rng(3).standard_normal((rows, 3))

    def fn(m, weight):
        return m.nn.functional.embedding(m.tensor(ids), weight, padding_idx=padding_idx)

    _check([w], fn)
    y = fn(gradwalk, gradwalk.tensor(w, requires_grad=True))
    assert y.grad_fn.name() == "EmbeddingBackward0"


def test_embedding_double_backward_matches_torch():
    ids = np.array([[0, 2, 2], [1, 0, 2]])
    w0 = np.random.default_rng(4).standard_normal((3, 2))

    def second(m):
        w = m.tensor(w0, requires_grad=True)
        y = m.nn.functional.embedding(m.tensor(ids), w)
        (g,) = m.autograd.grad((y ** 3).sum(), (w,), create_graph=True)
        return m.autograd.grad((g * g).sum(), (w,))[0].numpy()

    np.testing.assert_allclose(second(gradwalk), oracle(second), rtol=1e-10)


def test_group_norm_is_one_node_and_matches_torch():
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 6, 3, 2)), rng.standard_normal(6), rng.standard_normal(6)]
    _check(arrays, lambda m, x, w, b: m.nn.functional.group_norm(x, 3, w, b, eps=1e-3))
    x, w, b = (gradwalk.tensor(a, requires_grad=True) for a in arrays)
    y = gradwalk.nn.functional.group_norm(x, 3, w, b)
    assert y.grad_fn.name() == "NativeGroupNormBackward0"


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))])
def test_max_pool_with_saved_argmax_matches_torch(kw):
    x = np.round(np.random.default_rng(6).standard_normal((2, 3, 6, 7)) * 2) / 2  # ties: the first maximum wins
    _check([x], lambda m, a: m.nn.functional.max_pool2d(a, **kw))
    y = gradwalk.nn.functional.max_pool2d(gradwalk.tensor(x, requires_grad=True), **kw)
    (idx,) = y.grad_fn.params["arg"]  # Note [saved argmax]
    assert idx.shape == tuple(y.shape) and idx.dtype == np.int32


def test_max_pool_double_backward_takes_the_mask_rule():
    x0 = np.random.default_rng(7).standard_normal((1, 2, 4, 4))

    def second(m):
        x = m.tensor(x0, requires_grad=True)
        y = m.nn.functional.max_pool2d(x * x, 2)
        (g,) = m.autograd.grad(y.sum(), (x,), create_graph=True)
        return m.autograd.grad((g * g).sum(), (x,))[0].numpy()

    np.testing.assert_allclose(second(gradwalk), oracle(second), rtol=1e-10)


def test_float32_gelu_matches_torch_across_its_range():
    x = np.linspace(-9.0, 9.0, 721).astype(np.float32)

    def run(m):
        t = m.tensor(x, requires_grad=True)
        y = m.nn.functional.gelu(t)
        y.backward(m.ones_like(y))
        return [y.detach().numpy(), t.grad.numpy()]

    got, want = run(gradwalk), oracle(run)
    for a, b in zip(got, want):
        assert a.dtype == np.float32
        # both round 1 + erf(x / sqrt(2)) in float32: about 1e-7 absolute apart
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)
