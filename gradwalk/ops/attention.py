"""``scaled_dot_product_attention`` as one op: ``softmax(q @ k^T * scale + mask) @ v``.

Note [fused attention]
    One node per call instead of five (the scores' matmul, the mask, softmax, the safe-softmax
    fix-up and the matmul with ``v``). The forward keeps the attention probabilities ``P`` (the
    one ``(..., L, S)`` intermediate) in the node's ``params`` (the ``probs`` list it is given),
    so the first-order rule never recomputes the softmax:

        dV = P^T dO,   dP = dO V^T,   dS = P * (dP - rowsum(dO * O)),
        dQ = scale * dS K,   dK = scale * dS^T Q,   d(float mask) = dS

    (``rowsum(dP * P)`` equals ``rowsum(dO * O)``, the cheaper one). A row masked out entirely
    attends to nothing: zeros, and no gradient (PyTorch's safe softmax). Under ``create_graph``
    the rule recomputes ``P`` with the differentiable namespace so that the gradient records its
    own graph; the forward rule (jvp) is written the same way and works in both modes.
"""

from __future__ import annotations

import numpy as np

from . import kernels as K
from .registry import apply, declare


def _scores(xp, q, k, scale, causal, mask):
    s = xp.matmul(q * scale, xp.swapaxes(k, -1, -2))
    keep = None
    if causal:
        lq, lk = s.shape[-2], s.shape[-1]
        keep = np.tril(np.ones((lq, lk), dtype=bool))
    elif mask is not None and _raw(mask).dtype == np.bool_:
        keep = _raw(mask)
    elif mask is not None:
        s = s + mask
    if keep is not None:
        s = xp.where(keep, s, -np.inf)
    return s


def _probs(xp, s):
    """Softmax over the last axis; rows that are -inf throughout give zeros, not NaN."""
    m = xp.max(s, axis=-1, keepdims=True)
    dead = m == -np.inf
    e = xp.exp(s - xp.where(dead, 0.0, m))
    total = xp.sum(e, axis=-1, keepdims=True)
    return e / xp.where(dead, 1.0, total)


def _raw(a):
    return a._data if hasattr(a, "grad_fn") else a


def _fwd(xp, q, k, v, mask, scale, causal, probs):
    p = _probs(xp, _scores(xp, q, k, scale, causal, mask))
    if probs is not None and xp is np:
        probs[:] = [p]
    return xp.matmul(p, v)


def _vjp(xp, g, out, q, k, v, mask, scale, causal, probs, *, needs):
    if K.is_dxp(xp) or not probs:
        p = _probs(xp, _scores(xp, q, k, scale, causal, mask))
        o = xp.matmul(p, v)
    else:
        p = probs[0]
        o = out
    gv = xp.matmul(xp.swapaxes(p, -1, -2), g) if needs[2] else None
    gq = gk = gm = None
    if needs[0] or needs[1] or needs[3]:
        dp = xp.matmul(g, xp.swapaxes(v, -1, -2))
        ds = p * (dp - xp.sum(g * o, axis=-1, keepdims=True))
        if needs[0]:
            gq = xp.matmul(ds, k) * scale
        if needs[1]:
            gk = xp.matmul(xp.swapaxes(ds, -1, -2), q) * scale
        if needs[3]:
            gm = ds
    return gq, gk, gv, gm


def _jvp(xp, t, out, q, k, v, mask, scale, causal, probs):
    tq, tk, tv, tm = t
    p = _probs(xp, _scores(xp, q, k, scale, causal, mask))
    ds = None
    if tq is not None:
        ds = xp.matmul(tq * scale, xp.swapaxes(k, -1, -2))
    if tk is not None:
        part = xp.matmul(q * scale, xp.swapaxes(tk, -1, -2))
        ds = part if ds is None else ds + part
    if tm is not None:
        ds = tm if ds is None else ds + tm
    r = None
    if ds is not None:
        dp = p * (ds - xp.sum(p * ds, axis=-1, keepdims=True))
        r = xp.matmul(dp, v)
    if tv is not None:
        part = xp.matmul(p, tv)
        r = part if r is None else r + part
    return r


ATTENTION = declare(
    "scaled_dot_product_attention", _fwd, _vjp, _jvp, inputs=("query", "key", "value",
                                                               "attn_mask"),
    saves=(0, 1, 2, 3), save_out=True, node_name="ScaledDotProductAttentionBackward0",
    explain=("scale * dS @ key", "scale * dS^T @ query", "P^T @ grad", "dS"))


def attention(query, key, value, mask, scale: float, causal: bool):
    """The fused op on Tensors (``mask`` a Tensor or None); ``nn.functional`` checks the
    arguments and handles dropout and grouped-query attention."""
    return apply(ATTENTION, query, key, value, mask,
                 params={"scale": float(scale), "causal": bool(causal), "probs": []})
