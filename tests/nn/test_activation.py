"""Activation modules and ``MultiheadAttention``: PyTorch parity and repr."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle

from .parity import check_layer, lib_of

ACTIVATIONS = [("ReLU", ()), ("GELU", ()), ("GELU", ("tanh",)), ("Tanh", ()), ("Sigmoid", ()),
               ("Softmax", (1,)), ("LogSoftmax", (-1,)), ("LeakyReLU", (0.2,)),
               ("Softplus", ()), ("Softplus", (2.0, 1.0)), ("SiLU", ()), ("ELU", (0.5,))]


@pytest.mark.parametrize("cls,args", ACTIVATIONS, ids=[f"{c}{a}" for c, a in ACTIVATIONS])
def test_activation_matches_torch(cls, args):
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.1, 2.0, (3, 4))  # away from kinks
    check_layer(lambda m: getattr(m.nn, cls)(*args), x)
    assert repr(getattr(nn, cls)(*args)) == oracle(lambda torch: repr(getattr(torch.nn, cls)(*args)))


def test_activation_reprs_with_options_match_torch():
    def make(m):
        return [m.nn.ReLU(inplace=True), m.nn.LeakyReLU(0.1, inplace=True)]

    assert [repr(g) for g in make(gradwalk)] == oracle(lambda torch: [repr(t) for t in make(torch)])


MHA_CASES = [dict(), dict(batch_first=True), dict(bias=False), dict(kdim=3, vdim=5),
             dict(add_bias_kv=True), dict(add_zero_attn=True)]


@pytest.mark.parametrize("kw", MHA_CASES, ids=[str(c) for c in MHA_CASES])
def test_multihead_attention_matches_torch(kw):
    rng = np.random.default_rng(1)
    bf = kw.get("batch_first", False)
    shape = (lambda n, l, e: (n, l, e)) if bf else (lambda n, l, e: (l, n, e))
    q = rng.standard_normal(shape(2, 3, 8))
    k = rng.standard_normal(shape(2, 4, kw.get("kdim", 8)))
    v = rng.standard_normal(shape(2, 4, kw.get("vdim", 8)))
    check_layer(lambda m: m.nn.MultiheadAttention(8, 2, **kw), q, k, v)


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_multihead_attention_masks_match_torch(mask_kind):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 8))
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    kpm = np.array([[False, False, False, True], [False, False, False, False]])
    if mask_kind == "float":
        causal = np.where(causal, -np.inf, 0.0)
        kpm = np.where(kpm, -np.inf, 0.0)

    def call(m, x):
        mod = lib_of(m)
        return m(x, x, x, attn_mask=mod.tensor(causal), key_padding_mask=mod.tensor(kpm),
                 average_attn_weights=False)

    check_layer(lambda m: m.nn.MultiheadAttention(8, 4, batch_first=True), x, call=call)


def test_multihead_attention_unbatched_and_need_weights():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8))
    check_layer(lambda m: m.nn.MultiheadAttention(8, 2), x, x, x)
    out, w = nn.MultiheadAttention(8, 2).double()(*(gradwalk.tensor(x),) * 3, need_weights=False)
    assert out.shape == (3, 8) and w is None


def test_multihead_attention_names_and_repr():
    def names_and_repr(m):
        mod = m.nn.MultiheadAttention(8, 2)
        return [(n, tuple(p.shape)) for n, p in mod.named_parameters()], repr(mod)

    t_names, t_repr = oracle(names_and_repr)
    g = nn.MultiheadAttention(8, 2)
    assert t_names == [(n, p.shape) for n, p in g.named_parameters()]
    assert repr(g) == t_repr
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)


def test_scaled_dot_product_attention_matches_torch():
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    mask = rng.random((5, 5)) > 0.3
    np.fill_diagonal(mask, True)
    for kw in (dict(), dict(is_causal=True), dict(attn_mask="mask"), dict(scale=0.3)):
        def run(m, kw=kw):
            kw = dict(kw)
            if kw.get("attn_mask") == "mask":
                kw["attn_mask"] = m.tensor(mask)
            ts = [m.tensor(a, requires_grad=True) for a in (q, k, v)]
            y = m.nn.functional.scaled_dot_product_attention(*ts, **kw)
            (y * y).sum().backward()
            return [y.detach().numpy()] + [t.grad.numpy() for t in ts]

        for a, b in zip(oracle(run), run(gradwalk), strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)
