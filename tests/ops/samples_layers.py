"""Op samples of the fused layer ops (``scaled_dot_product_attention``, ``group_norm``,
``embedding``): finite differences, double backward, jvp and torch parity (``op_samples.py``
picks this file up)."""

from __future__ import annotations

import math

import numpy as np

try:
    from .op_samples import Sample
except ImportError:  # run as a top-level module (the table's own runner)
    from op_samples import Sample  # type: ignore[no-redef]


def _attention_ref(q, k, v, mask=None, causal=False):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], dtype=bool)), s, -np.inf)
    elif mask is not None and mask.dtype == np.bool_:
        s = np.where(mask, s, -np.inf)
    elif mask is not None:
        s = s + mask
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v


_KEEP = np.array([[True, False, True, True], [True, True, False, False],
                  [False, True, True, True]])


def _sdpa(m, *args, **kw):
    return m.nn.functional.scaled_dot_product_attention(*args, **kw)


SAMPLES = [
    Sample("sdpa", "scaled_dot_product_attention", lambda m, q, k, v: _sdpa(m, q, k, v),
           ((2, 3, 4), (2, 4, 4), (2, 4, 5)), _attention_ref),
    Sample("sdpa_causal", "scaled_dot_product_attention",
           lambda m, q, k, v: _sdpa(m, q, k, v, is_causal=True),
           ((1, 2, 4, 3), (1, 2, 4, 3), (1, 2, 4, 2)),
           lambda q, k, v: _attention_ref(q, k, v, causal=True)),
    Sample("sdpa_float_mask", "scaled_dot_product_attention",
           lambda m, q, k, v, a: _sdpa(m, q, k, v, attn_mask=a),
           ((2, 3, 4), (2, 4, 4), (2, 4, 2), (3, 4)), _attention_ref),
    Sample("sdpa_bool_mask", "scaled_dot_product_attention",
           lambda m, q, k, v: _sdpa(m, q, k, v, attn_mask=m.tensor(_KEEP)),
           ((2, 3, 2), (2, 4, 2), (2, 4, 3)), lambda q, k, v: _attention_ref(q, k, v, _KEEP)),
]

_IDS = np.array([[0, 3, 1], [3, 3, 2]])

SAMPLES += [
    Sample("embedding", "embedding",
           lambda m, w: m.nn.functional.embedding(m.tensor(_IDS), w), ((5, 3),),
           lambda w: w[_IDS]),
]


def _group_norm_ref(x, groups, w=None, b=None, eps=1e-5):
    n, c = x.shape[:2]
    xg = x.reshape(n, groups, -1)
    mu = xg.mean(axis=-1, keepdims=True)
    var = ((xg - mu) ** 2).mean(axis=-1, keepdims=True)
    y = ((xg - mu) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


SAMPLES += [
    Sample("group_norm", "group_norm",
           lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b), ((2, 4, 3), (4,), (4,)),
           lambda x, w, b: _group_norm_ref(x, 2, w, b)),
    Sample("group_norm_4d_noaffine", "group_norm",
           lambda m, x: m.nn.functional.group_norm(x, 3), ((2, 6, 2, 2),),
           lambda x: _group_norm_ref(x, 3)),
    Sample("group_norm_2d_input", "group_norm",
           lambda m, x, w: m.nn.functional.group_norm(x, 1, w), ((3, 4), (4,)),
           lambda x, w: _group_norm_ref(x, 1, w)),
]
