"""Activation modules and ``MultiheadAttention``: PyTorch parity and repr."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn

from .parity import check_layer

torch = pytest.importorskip("torch")

ACTIVATIONS = [("ReLU", ()), ("GELU", ()), ("GELU", ("tanh",)), ("Tanh", ()), ("Sigmoid", ()),
               ("Softmax", (1,)), ("LogSoftmax", (-1,)), ("LeakyReLU", (0.2,)),
               ("Softplus", ()), ("Softplus", (2.0, 1.0)), ("SiLU", ()), ("ELU", (0.5,))]


@pytest.mark.parametrize("cls,args", ACTIVATIONS, ids=[f"{c}{a}" for c, a in ACTIVATIONS])
def test_activation_matches_torch(cls, args):
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.1, 2.0, (3, 4))  # away from kinks
    tmod, gmod = getattr(torch.nn, cls)(*args), getattr(nn, cls)(*args)
    check_layer(tmod, gmod, x, load=False)
    assert repr(gmod) == repr(tmod)


def test_activation_reprs_with_options_match_torch():
    for g, t in [(nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
                 (nn.LeakyReLU(0.1, inplace=True), torch.nn.LeakyReLU(0.1, inplace=True))]:
        assert repr(g) == repr(t)


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
    check_layer(torch.nn.MultiheadAttention(8, 2, **kw), nn.MultiheadAttention(8, 2, **kw),
                q, k, v)


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
        mod = torch if isinstance(m, torch.nn.Module) else gradwalk
        return m(x, x, x, attn_mask=mod.tensor(causal), key_padding_mask=mod.tensor(kpm),
                 average_attn_weights=False)

    check_layer(torch.nn.MultiheadAttention(8, 4, batch_first=True),
                nn.MultiheadAttention(8, 4, batch_first=True), x, call=call)


def test_multihead_attention_unbatched_and_need_weights():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8))
    check_layer(torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2), x, x, x)
    out, w = nn.MultiheadAttention(8, 2).double()(*(gradwalk.tensor(x),) * 3, need_weights=False)
    assert out.shape == (3, 8) and w is None


def test_multihead_attention_names_and_repr():
    t, g = torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)
    assert [(n, tuple(p.shape)) for n, p in t.named_parameters()] == [
        (n, p.shape) for n, p in g.named_parameters()]
    assert repr(g) == repr(t)
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)


def test_scaled_dot_product_attention_matches_torch():
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    mask = rng.random((5, 5)) > 0.3
    np.fill_diagonal(mask, True)
    for kw in (dict(), dict(is_causal=True), dict(attn_mask="mask"), dict(scale=0.3)):
        def call(m, q, k, v, kw=kw):
            kw = dict(kw)
            if kw.get("attn_mask") == "mask":
                kw["attn_mask"] = (torch if isinstance(q, torch.Tensor) else gradwalk).tensor(mask)
            return m.nn.functional.scaled_dot_product_attention(q, k, v, **kw)

        outs = []
        for m in (torch, gradwalk):
            ts = [m.tensor(a, requires_grad=True) for a in (q, k, v)]
            y = call(m, *ts)
            (y * y).sum().backward()
            outs.append([y.detach().numpy()] + [t.grad.numpy() for t in ts])
        for a, b in zip(*outs):
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)
