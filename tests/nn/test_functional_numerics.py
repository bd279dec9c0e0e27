"""``cross_entropy``, ``log_softmax``/``logsumexp`` at large logits and
``scaled_dot_product_attention``'s options, against PyTorch (recorded)."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _run(lib, fn, datas, dtype):
    xs = [lib.tensor(d, dtype=getattr(lib, dtype), requires_grad=True) for d in datas]
    y = fn(lib, *xs)
    y.sum().backward()
    return [y.detach().numpy()] + [x.grad.numpy() for x in xs]


def _check(fn, datas, dtype, rtol):
    want = oracle(lambda torch: _run(torch, fn, datas, dtype))
    got = _run(gradwalk, fn, datas, dtype)
    for g, t in zip(got, want, strict=True):
        assert g.dtype == t.dtype and g.shape == t.shape
        np.testing.assert_allclose(g, t, rtol=rtol, atol=1e-7 if g.dtype == np.float32 else 1e-14)


def _logits(scale):
    # large logits close together: the loss is a small difference of large numbers
    return [[scale, scale + 1.0, scale + 0.5], [scale - 3.0, scale, scale + 2.0]]


LOSSES = {
    "mean": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([1, 2])),
    "sum": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([1, 2]), reduction="sum"),
    "none": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([1, 2]),
                                                           reduction="none"),
    "ignore_index": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([1, -100])),
    "label_smoothing": lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([1, 2]), label_smoothing=0.1),
    "weight": lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([1, 2]), weight=lib.tensor([1.0, 2.0, 3.0], dtype=x.dtype)),
    "probabilities": lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]], dtype=x.dtype)),
    "log_softmax": lambda lib, x: lib.log_softmax(x, 1),
    "logsumexp": lambda lib, x: lib.logsumexp(x, 1),
    "nll_of_log_softmax": lambda lib, x: lib.nn.functional.nll_loss(lib.log_softmax(x, 1),
                                                                    lib.tensor([1, 2])),
}


@pytest.mark.parametrize("scale", [1e5, 1e7], ids=["1e5", "1e7"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_cross_entropy_keeps_precision_at_large_logits(name, dtype, scale):
    # float32 at 1e5: the loss was rounded to the logits' spacing (0.4062 for torch's 0.4066)
    _check(LOSSES[name], [_logits(scale)], dtype, 2e-6 if dtype == "float32" else 1e-12)


def _attention_inputs(case):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 4, 3, 5))
    heads = 2 if "gqa" in case else 4
    k = rng.standard_normal((1, heads, 6, 5))
    v = rng.standard_normal((1, heads, 6, 5))
    return [q, k, v]


def _attention(case):
    rng = np.random.default_rng(1)
    bool_mask = rng.standard_normal((3, 6)) > 0
    bool_mask[:, 0] = True
    float_mask = rng.standard_normal((3, 6))
    dead = np.ones((3, 6), dtype=bool)
    dead[1] = False  # a row with nothing to attend to: zeros, as torch's safe softmax

    def f(lib, q, k, v):
        F = lib.nn.functional
        kw = {"enable_gqa": True} if "gqa" in case else {}
        if "causal" in case:
            kw["is_causal"] = True
        if "scale" in case:
            kw["scale"] = 0.3
        if "bool_mask" in case:
            kw["attn_mask"] = lib.tensor(bool_mask)
        if "float_mask" in case:
            kw["attn_mask"] = lib.tensor(float_mask)
        if "dead_row" in case:
            kw["attn_mask"] = lib.tensor(dead)
        return F.scaled_dot_product_attention(q, k, v, **kw)

    return f


@pytest.mark.parametrize("case", ["plain", "causal", "scale", "bool_mask", "float_mask",
                                  "dead_row", "gqa", "gqa_causal_scale", "gqa_bool_mask"])
def test_scaled_dot_product_attention_options(case):
    _check(_attention(case), _attention_inputs(case), "float64", 1e-10)


def test_attention_dropout_keeps_the_expectation():
    # dropout_p draws a mask: the values cannot match torch's, but the kept weights are scaled
    # by 1 / (1 - p), so the average over many draws is the attention without dropout
    gradwalk.manual_seed(0)
    q, k, v = (gradwalk.tensor(a) for a in _attention_inputs("plain"))
    F = gradwalk.nn.functional
    ref = F.scaled_dot_product_attention(q, k, v).numpy()
    mean = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
                    for _ in range(400)], axis=0)
    assert np.abs(mean - ref).mean() < 0.05
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).shape == ref.shape


def test_gqa_head_count_must_divide():
    q = gradwalk.zeros(1, 3, 2, 4)
    k = gradwalk.zeros(1, 2, 2, 4)
    with pytest.raises(RuntimeError, match="multiple"):
        gradwalk.nn.functional.scaled_dot_product_attention(q, k, k, enable_gqa=True)
