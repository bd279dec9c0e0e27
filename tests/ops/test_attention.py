"""scaled_dot_product_attention's NumPy path (Note [attention on NumPy]) against PyTorch:
heads as strided views of a fused qkv projection, causal (square and rectangular) and not,
float32 and float64, gradients of a subset of the inputs; the kept state used only for the
inputs it came from."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import attention as A
from tests.fixtures.oracle import oracle

CASES = {
    "f32_causal_heads": (np.float32, (3, 8, 24), 2, True),
    "f64_causal_heads": (np.float64, (3, 8, 24), 2, True),
    "f64_plain_heads": (np.float64, (2, 5, 18), 3, False),
    "f32_plain_one_head": (np.float32, (2, 6, 9), 1, False),
}


def _run(m, dt, shape, heads, causal):
    rng = np.random.default_rng(8)
    qkv = m.tensor(rng.standard_normal(shape).astype(dt), requires_grad=True)
    b, t, c3 = shape
    c = c3 // 3
    q, k, v = (z.reshape(b, t, heads, c // heads).transpose(1, 2) for z in qkv.split(c, dim=2))
    y = m.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dt)
    y.backward(m.tensor(g))
    return [y.detach().numpy(), qkv.grad.numpy()]


@pytest.mark.parametrize("name", list(CASES))
def test_attention_fast_path_matches_torch(name):
    args = CASES[name]
    got, want = _run(gradwalk, *args), oracle(lambda torch: _run(torch, *args))
    rtol, atol = (2e-5, 2e-6) if args[0] == np.float32 else (1e-10, 1e-12)
    for a, b in zip(got, want):
        assert a.dtype == args[0]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _subset(m, which, causal):
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3))]
    ts = [m.tensor(a, requires_grad=(i in which)) for i, a in enumerate(arrays)]
    y = m.nn.functional.scaled_dot_product_attention(*ts, is_causal=causal, scale=0.7)
    y.backward(m.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape))))
    return [y.detach().numpy()] + [ts[i].grad.numpy() for i in which]


@pytest.mark.parametrize("which", [(0,), (1,), (2,), (0, 2)])
@pytest.mark.parametrize("causal", [True, False])
def test_attention_gradients_of_some_inputs_match_torch(which, causal):
    got, want = _subset(gradwalk, which, causal), oracle(lambda t: _subset(t, which, causal))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_kept_probabilities_serve_only_their_own_inputs():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    q2 = rng.standard_normal((2, 4, 3))
    g = rng.standard_normal((2, 4, 3))
    kept: list = []
    params = {"scale": 0.5, "causal": True}
    A.ATTENTION.forward(np, q, k, v, None, probs=kept, **params)
    A.ATTENTION.forward(np, q2, k, v, None, probs=kept, **params)
    needs = (True, True, True, False)
    got = A.ATTENTION.vjp(np, g, A.ATTENTION.forward(np, q, k, v, None, probs=None, **params),
                          q, k, v, None, probs=kept, needs=needs, **params)
    want = A.ATTENTION.vjp(np, g, None, q, k, v, None, probs=[], needs=needs, **params)
    for a, b in zip(got[:3], want[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_causal_mask_is_made_once_and_read_only():
    a = A._causal_t(5, 7, np.dtype(np.float32))
    assert a is A._causal_t(5, 7, np.dtype(np.float32))
    assert not a.flags.writeable and a.shape == (7, 5)
    np.testing.assert_array_equal(a.T == 0, np.tril(np.ones((5, 7), bool)))
