"""``scaled_dot_product_attention`` as one op: ``softmax(q @ k^T * scale + mask) @ v``.

Note [fused attention]
    One node per call instead of five (the scores' matmul, the mask, softmax, the safe-softmax
    fix-up and the matmul with ``v``). The forward keeps the attention probabilities ``P`` (the
    one ``(..., L, S)`` intermediate) in the node's ``params`` (the ``probs`` list it is given,
    with the inputs it came from: a rule given other arrays recomputes), so the first-order
    rule never recomputes the softmax:

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


# Note [attention on NumPy]
#     Without a mask tensor (plain or ``is_causal``), NumPy float arrays of one dtype take a
#     faster forward and first-order rule, which work on the scores transposed,
#     ``S^T = K (scale Q)^T`` of shape (..., keys, queries): the softmax's reductions then run
#     over axis -2, which NumPy vectorizes across the rows (a reduction over the short last axis
#     pays a loop per row and costs several times more), and its broadcasts have long
#     contiguous inner loops. The causal mask is an additive 0/-inf array made once per shape
#     and cached; the queries are scaled while they are copied into a contiguous buffer (the
#     batched matmuls run faster on contiguous operands than on the strided head views of a
#     fused qkv projection), so ``dK = dS^T (scale Q)`` needs no scaling pass; the softmax runs in
#     place. The forward keeps ``P^T`` and the contiguous operands in the ``probs`` list, with
#     the inputs they came from: the rule uses them only when it is given the same arrays.
#     A causal row always keeps its first key, so no row is dead here.
_CAUSAL: dict = {}


def _causal_t(lq, lk, dtype):
    """The additive causal mask, transposed: (keys, queries), 0 where key j <= query i."""
    key = (lq, lk, dtype)
    m = _CAUSAL.get(key)
    if m is None:
        if len(_CAUSAL) > 32:
            _CAUSAL.clear()
        m = np.where(np.tril(np.ones((lq, lk), dtype=bool)).T, 0.0, -np.inf).astype(dtype)
        m.flags.writeable = False
        _CAUSAL[key] = m
    return m


def _fast_ok(q, k, v, mask):
    return (mask is None and type(q) is np.ndarray and type(k) is np.ndarray
            and type(v) is np.ndarray and q.dtype.kind == "f" and q.dtype == k.dtype == v.dtype
            and q.ndim >= 2 and q.size > 0 and k.shape[-2] > 0 and v.shape[-1] > 0)


def _fwd_fast(q, k, v, scale, causal, probs):
    qs = np.empty(q.shape, q.dtype)
    np.multiply(q, q.dtype.type(scale), out=qs)
    kc, vc = np.ascontiguousarray(k), np.ascontiguousarray(v)
    st = np.matmul(kc, np.swapaxes(qs, -1, -2))  # (..., keys, queries)
    if causal:
        st += _causal_t(q.shape[-2], k.shape[-2], q.dtype)
    st -= np.maximum.reduce(st, axis=-2, keepdims=True)
    np.exp(st, out=st)
    total = np.add.reduce(st, axis=-2, keepdims=True)
    np.reciprocal(total, out=total)
    st *= total  # P^T
    if probs is not None:
        probs[:] = [(q, k, v), st, qs, kc, vc]
    return np.matmul(np.swapaxes(st, -1, -2), vc)


def _vjp_fast(g, out, probs, scale, needs):
    _, pt, qs, kc, vc = probs
    gv = np.matmul(pt, g) if needs[2] else None
    gq = gk = None
    if needs[0] or needs[1]:
        gc = np.ascontiguousarray(g)
        dst = np.matmul(vc, np.swapaxes(gc, -1, -2))  # dP^T
        dst -= np.einsum("...ld,...ld->...l", gc, out)[..., None, :]
        dst *= pt  # dS^T
        if needs[0]:
            gq = np.matmul(np.swapaxes(dst, -1, -2), kc)
            gq *= gq.dtype.type(scale)
        if needs[1]:
            gk = np.matmul(dst, qs)
    return gq, gk, gv, None


def _fwd(xp, q, k, v, mask, scale, causal, probs):
    if xp is np and _fast_ok(q, k, v, mask):  # Note [attention on NumPy]
        return _fwd_fast(q, k, v, scale, causal, probs)
    p = _probs(xp, _scores(xp, q, k, scale, causal, mask))
    if probs is not None and xp is np:
        probs[:] = [(q, k, v, mask), p]
    return xp.matmul(p, v)


def _vjp(xp, g, out, q, k, v, mask, scale, causal, probs, *, needs):
    if (xp is np and probs and len(probs) == 5 and probs[0][0] is q and probs[0][1] is k
            and probs[0][2] is v and type(g) is np.ndarray and g.dtype == q.dtype):
        return _vjp_fast(g, out, probs, scale, needs)
    kept = probs and len(probs) == 2 and all(a is b for a, b in zip(probs[0], (q, k, v, mask)))
    if K.is_dxp(xp) or not kept:
        p = _probs(xp, _scores(xp, q, k, scale, causal, mask))
        o = xp.matmul(p, v)
    else:
        p = probs[1]
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
