"""Fused recurrent layers: one graph node for the whole sequence of one layer and direction.

``rnn_layer(mode, input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr)`` runs an
Elman RNN (``"RNN_TANH"``, ``"RNN_RELU"``), an ``"LSTM"`` (with an optional projection
``weight_hr``, PyTorch's ``proj_size``) or a ``"GRU"`` over a (L, N, H_in) sequence and returns
``(output, h_n, c_n)`` (``c_n`` None except for the LSTM). ``nn.RNN``/``nn.LSTM``/``nn.GRU``
call it once per layer and direction.

Note [fused recurrent layers]
    The forward does the input-to-hidden product of every time step as one matmul up front
    (``(L*N, H_in) @ W_ih^T``, both biases folded in where they add), then the recurrence in a
    NumPy loop: one ``h @ W_hh^T`` and a few in-place ufuncs per step, keeping the gate
    activations. The reverse rule (BPTT) runs the loop backwards, where each step is one
    ``dgates @ W_hh`` and a few ufuncs on factors computed for all steps at once before the
    loop; the weight gradients are then one matmul each on the stacked gate gradients
    (``dG^T @ X``, ``dG^T @ H_prev``), the input's gradient one matmul ``dG @ W_ih``.

    A packed batch (``batch_sizes``, sequences sorted longest first) runs the same loop on the
    padded steps with only the first ``batch_sizes[t]`` rows stepping at step ``t``; the
    others keep their state, and their gate gradients stay zero, so the stacked matmuls are
    unchanged. The states entering each step are kept (``hprev``, ``cprev``) rather than
    read back from the outputs, which a packed batch zeroes where a sequence has ended.

    LSTM gates are kept internally in the order ``o, i, f, g`` (the weights' rows are permuted
    once per call and the gradients permuted back), so the sigmoid runs on one contiguous
    block and the three gates that scale with the cell gradient are another.

    The node (an ``_RnnNode``, a multi-output node whose outputs are new tensors) keeps the
    inputs (their versions are checked as for any node) and the gate cache, and the output
    sequence's version: changing the output in place before backward raises PyTorch's error.

    Fallbacks: the composite path (one ``linear`` for the inputs, then per step one ``linear``
    and the gate arithmetic, as small recorded ops) runs instead while a forward hook is
    installed (forward-mode AD, anomaly mode, saved-tensor hooks), for arrays that are not
    NumPy's (CuPy, ``vmap``'s batched arrays) and for mixed dtypes (whose ``linear`` raises
    PyTorch's error). Under ``create_graph=True`` the reverse rule recomputes the composite
    forward on aliases of the saved inputs and differentiates it with a nested walk that
    records, so double backward and Hessians see an ordinary differentiable graph.
"""

from __future__ import annotations

import numpy as np

from ..autograd import engine as _engine
from ..autograd.grad_mode import enable_grad, is_grad_enabled_fast
from ..autograd.node import MultiNode
from . import elementwise as E
from . import nn as F
from . import registry
from . import shape as S

__all__ = ["rnn_layer", "MODES"]

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
_INPUTS = ("input", "hx", "cx", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr",
           "cache")
_CACHE = 8  # position of the gate cache among the node's inputs


class _RnnNode(MultiNode):
    """The node of one fused layer and direction: its outputs are new tensors, not views."""

    __slots__ = ()
    views = False


# ------------------------------------------------------------------------------- forward
def _sigmoid_(a):
    """``a = 1 / (1 + exp(-a))`` in place."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


def _lstm_perm(h: int) -> np.ndarray:
    """Rows of PyTorch's ``i, f, g, o`` gate blocks in the internal order ``o, i, f, g``."""
    r = np.arange(h)
    return np.concatenate([r + 3 * h, r, r + h, r + 2 * h])


def _rows(active, s, n):
    """How many sequences run at processing step ``s`` (all ``n`` unless packed)."""
    return n if active is None else active[s]


def _lstm_inputs(x, w_ih, w_hh, b):
    """The hidden size, the gate permutation, the permuted weights and every step's
    input-to-hidden product (with the bias), one matmul for the whole sequence."""
    steps, n, _ = x.shape
    hid = w_hh.shape[0] // 4
    perm = _lstm_perm(hid)
    w_ih, w_hh = w_ih[perm], w_hh[perm]
    acts = (x.reshape(steps * n, x.shape[2]) @ w_ih.T).reshape(steps, n, 4 * hid)
    if b is not None:
        acts += b[perm]
    return hid, perm, w_ih, w_hh, acts


def _lstm_forward_dense(x, h0, c0, w_ih, w_hh, b, keep):
    """``_lstm_forward`` for an unpacked batch without projection (Note [fused recurrent
    layers]): the same operations on the same arrays, but each step reads its states from the
    outputs of the step before, and writes the matmul into one buffer, so no state is copied
    per step; the states entering each step are gathered after the loop (two copies)."""
    steps, n, _ = x.shape
    hid, perm, w_ih, w_hh, acts = _lstm_inputs(x, w_ih, w_hh, b)
    whh_t = w_hh.T
    ys = np.empty((steps, n, hid), dtype=x.dtype)
    cs, tcs = np.empty_like(ys), np.empty_like(ys)
    tmp = np.empty((n, hid), dtype=x.dtype)
    hp = np.empty((n, 4 * hid), dtype=x.dtype)
    h, c = h0, c0
    with np.errstate(over="ignore"):
        for s in range(steps):
            a = acts[s]
            np.matmul(h, whh_t, out=hp)
            a += hp
            _sigmoid_(a[:, :3 * hid])
            g = a[:, 3 * hid:]
            np.tanh(g, out=g)
            c_new = cs[s]
            np.multiply(a[:, 2 * hid:3 * hid], c, out=c_new)
            np.multiply(a[:, hid:2 * hid], g, out=tmp)
            c_new += tmp
            tc = tcs[s]
            np.tanh(c_new, out=tc)
            h = ys[s]
            np.multiply(a[:, :hid], tc, out=h)
            c = c_new
    cache = None
    if keep:
        hprev = np.concatenate((h0[None], ys[:-1]))
        cprev = np.concatenate((c0[None], cs[:-1]))
        cache = (x, w_ih, w_hh, acts, cs, tcs, None, hprev, cprev, perm)
    return ys, h.copy(), c.copy(), cache


def _lstm_forward(x, h0, c0, w_ih, w_hh, b, w_hr, keep, active):
    if active is None and w_hr is None and h0.dtype == x.dtype and c0.dtype == x.dtype:
        return _lstm_forward_dense(x, h0, c0, w_ih, w_hh, b, keep)
    steps, n, _ = x.shape
    hid, perm, w_ih, w_hh, acts = _lstm_inputs(x, w_ih, w_hh, b)
    whh_t = w_hh.T
    whr_t = None if w_hr is None else w_hr.T
    ys = np.zeros((steps, n, w_hh.shape[1]), dtype=x.dtype)
    cs = np.zeros((steps, n, hid), dtype=x.dtype)
    tcs = np.zeros_like(cs)
    hrs = np.zeros_like(cs) if w_hr is not None else None
    hprev, cprev = np.empty_like(ys), np.empty_like(cs)
    h, c = h0.copy(), c0.copy()
    tmp = np.empty((n, hid), dtype=x.dtype)
    with np.errstate(over="ignore"):
        for s in range(steps):
            m = _rows(active, s, n)
            hprev[s], cprev[s] = h, c
            a = acts[s, :m]
            a += h[:m] @ whh_t
            _sigmoid_(a[:, :3 * hid])
            np.tanh(a[:, 3 * hid:], out=a[:, 3 * hid:])
            ct = cs[s, :m]
            np.multiply(a[:, 2 * hid:3 * hid], c[:m], out=ct)
            np.multiply(a[:, hid:2 * hid], a[:, 3 * hid:], out=tmp[:m])
            ct += tmp[:m]
            np.tanh(ct, out=tcs[s, :m])
            if w_hr is None:
                np.multiply(a[:, :hid], tcs[s, :m], out=ys[s, :m])
            else:
                np.multiply(a[:, :hid], tcs[s, :m], out=hrs[s, :m])
                np.matmul(hrs[s, :m], whr_t, out=ys[s, :m])
            h[:m], c[:m] = ys[s, :m], ct
    cache = (x, w_ih, w_hh, acts, cs, tcs, hrs, hprev, cprev, perm) if keep else None
    return ys, h, c, cache


def _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, keep, active):
    steps, n, _ = x.shape
    hid = w_hh.shape[1]
    pre = (x.reshape(steps * n, x.shape[2]) @ w_ih.T).reshape(steps, n, 3 * hid)
    if b_ih is not None:
        pre += b_ih
        pre[..., :2 * hid] += b_hh[:2 * hid]
    whh_t = w_hh.T
    rz = pre[..., :2 * hid]  # becomes the r, z activations in place
    ns = pre[..., 2 * hid:]  # becomes n in place
    hpn = np.zeros((steps, n, hid), dtype=x.dtype)
    ys = np.zeros((steps, n, hid), dtype=x.dtype)
    hprev = np.empty_like(ys)
    h = h0.copy()
    with np.errstate(over="ignore"):
        for s in range(steps):
            m = _rows(active, s, n)
            hprev[s] = h
            hp = h[:m] @ whh_t
            a = rz[s, :m]
            a += hp[:, :2 * hid]
            _sigmoid_(a)
            hn = hpn[s, :m]
            hn[...] = hp[:, 2 * hid:]
            if b_hh is not None:
                hn += b_hh[2 * hid:]
            nt = ns[s, :m]
            nt += a[:, :hid] * hn
            np.tanh(nt, out=nt)
            y = ys[s, :m]
            np.subtract(h[:m], nt, out=y)
            y *= a[:, hid:]
            y += nt
            h[:m] = y
    cache = (x, w_ih, w_hh, pre, hpn, ys, hprev) if keep else None
    return ys, h, None, cache


def _rnn_forward(x, h0, w_ih, w_hh, b, relu, keep, active):
    steps, n, _ = x.shape
    ys = (x.reshape(steps * n, x.shape[2]) @ w_ih.T).reshape(steps, n, w_hh.shape[0])
    if b is not None:
        ys += b
    whh_t = w_hh.T
    hprev = np.empty_like(ys)
    h = h0.copy()
    for s in range(steps):
        m = _rows(active, s, n)
        hprev[s] = h
        y = ys[s, :m]
        y += h[:m] @ whh_t
        if relu:
            np.maximum(y, 0, out=y)
        else:
            np.tanh(y, out=y)
        h[:m] = y
        if m < n:
            ys[s, m:] = 0.0
    cache = (x, w_ih, w_hh, ys, hprev) if keep else None
    return ys, h, None, cache


def _forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, keep, active):
    """The fused forward on arrays, in processing order (already flipped for reverse);
    ``active[s]`` is how many (leading) sequences run at step ``s`` of a packed batch."""
    if mode == "LSTM":
        b = None if b_ih is None else b_ih + b_hh
        return _lstm_forward(x, h0, c0, w_ih, w_hh, b, w_hr, keep, active)
    if mode == "GRU":
        return _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, keep, active)
    b = None if b_ih is None else b_ih + b_hh
    return _rnn_forward(x, h0, w_ih, w_hh, b, mode == "RNN_RELU", keep, active)


# ------------------------------------------------------------------------------- backward
def _state_grad(g, shape, dtype):
    """The gradient arriving at a final state, as a private array the loop updates."""
    return np.zeros(shape, dtype=dtype) if g is None else np.array(g, dtype=dtype)


def _weight_grads(dg, x, hprev, needs_ih, needs_hh):
    """One matmul each on the stacked gate gradients (Note [fused recurrent layers])."""
    flat = dg.reshape(dg.shape[0] * dg.shape[1], dg.shape[2])
    gw_ih = flat.T @ x.reshape(flat.shape[0], x.shape[2]) if needs_ih else None
    gw_hh = flat.T @ hprev.reshape(flat.shape[0], hprev.shape[2]) if needs_hh else None
    return gw_ih, gw_hh, flat


def _buffer(shape, dtype, active):
    """Gate gradients: zeros where a packed batch has no step, else filled by the loop."""
    return np.empty(shape, dtype=dtype) if active is None else np.zeros(shape, dtype=dtype)


def _lstm_backward(cache, gy, gh, gc, w_hr, needs, active):
    x, w_ih, w_hh, acts, cs, tcs, hrs, hprev, cprev, perm = cache
    steps, n, hid = cs.shape
    inv = np.argsort(perm)
    o, i, f, g = (acts[..., k * hid:(k + 1) * hid] for k in range(4))
    k_c = o * (1.0 - tcs * tcs)  # dc += dhr * k_c
    k4 = np.empty((steps, n, 4, hid), dtype=x.dtype)  # dG = [dhr, dc, dc, dc] * k4
    k4[:, :, 0] = tcs * o * (1.0 - o)
    k4[:, :, 1] = g * i * (1.0 - i)
    k4[:, :, 2] = cprev * f * (1.0 - f)
    k4[:, :, 3] = i * (1.0 - g * g)
    dg4 = _buffer(k4.shape, x.dtype, active)
    dg = dg4.reshape(steps, n, 4 * hid)
    dh = _state_grad(gh, hprev.shape[1:], x.dtype)
    dc = _state_grad(gc, cs.shape[1:], x.dtype)
    dhs = np.zeros(hprev.shape, dtype=x.dtype) if w_hr is not None else None
    tmp = np.empty((n, hid), dtype=x.dtype)
    for s in range(steps - 1, -1, -1):
        m = _rows(active, s, n)
        dht = dh[:m] if gy is None else dh[:m] + gy[s, :m]
        if w_hr is not None:
            dhs[s, :m] = dht
            dhr = dht @ w_hr
        else:
            dhr = dht
        dcm = dc[:m]
        np.multiply(dhr, k_c[s, :m], out=tmp[:m])
        dcm += tmp[:m]
        np.multiply(dhr, k4[s, :m, 0], out=dg4[s, :m, 0])
        np.multiply(k4[s, :m, 1:], dcm[:, None, :], out=dg4[s, :m, 1:])
        dcm *= f[s, :m]
        if m == n:
            np.matmul(dg[s], w_hh, out=dh)
        else:
            dh[:m] = dg[s, :m] @ w_hh
    gw_ih, gw_hh, flat = _weight_grads(dg, x, hprev, needs[3], needs[4])
    gx = (flat @ w_ih).reshape(x.shape) if needs[0] else None
    gb = flat.sum(0)[inv] if needs[5] or needs[6] else None
    gw_hr = None
    if w_hr is not None and needs[7]:
        rows = steps * n
        gw_hr = dhs.reshape(rows, dhs.shape[2]).T @ hrs.reshape(rows, hid)
    return (gx, dh, dc, None if gw_ih is None else gw_ih[inv],
            None if gw_hh is None else gw_hh[inv], gb, gb, gw_hr)


def _gru_backward(cache, gy, gh, needs, active):
    x, w_ih, w_hh, pre, hpn, ys, hprev = cache
    steps, n, hid = ys.shape
    r, z, nn_ = pre[..., :hid], pre[..., hid:2 * hid], pre[..., 2 * hid:]
    k_n = (1.0 - z) * (1.0 - nn_ * nn_)  # dn_pre = dht * k_n
    k_z = (hprev - nn_) * z * (1.0 - z)  # dz_pre = dht * k_z
    k_r = hpn * r * (1.0 - r)  # dr_pre = dn_pre * k_r
    dgh = _buffer((steps, n, 3 * hid), x.dtype, active)  # the gate gradients, hidden side
    dn = _buffer((steps, n, hid), x.dtype, active)
    dh = _state_grad(gh, hprev.shape[1:], x.dtype)
    for s in range(steps - 1, -1, -1):
        m = _rows(active, s, n)
        dht = dh[:m] if gy is None else dh[:m] + gy[s, :m]
        d = dgh[s, :m]
        np.multiply(dht, k_n[s, :m], out=dn[s, :m])
        np.multiply(dht, k_z[s, :m], out=d[:, hid:2 * hid])
        np.multiply(dn[s, :m], k_r[s, :m], out=d[:, :hid])
        np.multiply(dn[s, :m], r[s, :m], out=d[:, 2 * hid:])
        new = dht * z[s, :m]
        new += d @ w_hh
        dh[:m] = new
    dgx = dgh.copy()
    dgx[..., 2 * hid:] = dn
    gw_ih, _, flat_x = _weight_grads(dgx, x, hprev, needs[3], False)
    _, gw_hh, flat_h = _weight_grads(dgh, x, hprev, False, needs[4])
    gx = (flat_x @ w_ih).reshape(x.shape) if needs[0] else None
    gb_ih = flat_x.sum(0) if needs[5] else None
    gb_hh = flat_h.sum(0) if needs[6] else None
    return gx, dh, None, gw_ih, gw_hh, gb_ih, gb_hh, None


def _rnn_backward(cache, gy, gh, relu, needs, active):
    x, w_ih, w_hh, ys, hprev = cache
    steps, n, _ = ys.shape
    k = (ys > 0).astype(ys.dtype) if relu else 1.0 - ys * ys
    dg = _buffer(ys.shape, ys.dtype, active)
    dh = _state_grad(gh, hprev.shape[1:], x.dtype)
    for s in range(steps - 1, -1, -1):
        m = _rows(active, s, n)
        dht = dh[:m] if gy is None else dh[:m] + gy[s, :m]
        np.multiply(dht, k[s, :m], out=dg[s, :m])
        dh[:m] = dg[s, :m] @ w_hh
    gw_ih, gw_hh, flat = _weight_grads(dg, x, hprev, needs[3], needs[4])
    gx = (flat @ w_ih).reshape(x.shape) if needs[0] else None
    gb = flat.sum(0) if needs[5] or needs[6] else None
    return gx, dh, None, gw_ih, gw_hh, gb, gb, None


def _flip(a):
    return None if a is None else a[::-1]


def _vjp(xp, grads, out, x, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr, cache, *, needs, mode,
         reverse, batch_sizes):
    """The reverse rule: BPTT on arrays, or (``create_graph``) the composite's gradient."""
    if xp is not np:
        return _vjp_composite(grads, (x, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr), needs, mode,
                              reverse, batch_sizes)
    gy, gh, gc = (tuple(grads) + (None,))[:3]
    active = _processing_order(batch_sizes, reverse)
    if reverse:
        gy = _flip(gy)
    if mode == "LSTM":
        res = _lstm_backward(cache, gy, gh, gc, w_hr, needs, active)
    elif mode == "GRU":
        res = _gru_backward(cache, gy, gh, needs, active)
    else:
        res = _rnn_backward(cache, gy, gh, mode == "RNN_RELU", needs, active)
    gx = res[0]
    if reverse and gx is not None:
        gx = np.ascontiguousarray(gx[::-1])
    return (gx,) + tuple(g if need else None for g, need in zip(res[1:], needs[1:8])) + (None,)


def _processing_order(batch_sizes, reverse):
    if batch_sizes is None:
        return None
    return batch_sizes[::-1] if reverse else batch_sizes


def _vjp_composite(grads, inputs, needs, mode, reverse, batch_sizes):
    """Under ``create_graph``: differentiate the composite forward, recomputed on aliases of the
    saved inputs, with a recording walk (Note [fused recurrent layers])."""
    with enable_grad():
        aliases = [None if t is None or not isinstance(t, registry.Tensor) else E.mul(t, 1.0)
                   for t in inputs]
        outs = composite_layer(mode, *aliases, reverse=reverse, batch_sizes=batch_sizes)
    roots, seeds = [], []
    for o, g in zip(outs, grads):
        if o is not None and g is not None and o.requires_grad:
            roots.append(o)
            seeds.append(g if isinstance(g, registry.Tensor) else registry.wrap(g))
    wanted = [k for k, t in enumerate(aliases) if t is not None and needs[k]
              and t.requires_grad]
    res: list = [None] * len(_INPUTS)
    if not roots or not wanted:
        return tuple(res)
    got = _engine.run_backward(roots, seeds, retain_graph=True, create_graph=True,
                               inputs=[aliases[k] for k in wanted], accumulate=False)
    for k, gk in zip(wanted, got):
        res[k] = gk
    return tuple(res)


_OPS = {mode: registry.Op(
    f"rnn_layer_{mode.lower()}", None, _vjp, None, inputs=_INPUTS,
    saves=tuple(range(len(_INPUTS))), save_out=True, elementwise=False,
    node_name={"RNN_TANH": "RnnTanhLayerBackward0", "RNN_RELU": "RnnReluLayerBackward0",
               "LSTM": "LstmLayerBackward0", "GRU": "GruLayerBackward0"}[mode])
    for mode in MODES}


# ------------------------------------------------------------------------------- composite
def composite_layer(mode: str, x, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr, reverse=False,
                    batch_sizes=None):
    """The layer as small recorded ops: one ``linear`` for the inputs of every step, then per
    step one ``linear`` for the hidden state and the gate arithmetic. Returns
    ``(output, h_n, c_n)``; ``hx``/``cx`` None start from zeros; ``batch_sizes`` (per time
    step, how many leading sequences run) as in ``rnn_layer``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops.rnn import composite_layer
        >>> w = gradwalk.ones(2, 3) * 0.1
        >>> y, h, c = composite_layer("RNN_TANH", gradwalk.ones(4, 1, 3), None, None, w,
        ...                           gradwalk.zeros(2, 2), None, None, None)
        >>> y.shape, h.shape, c
        (gradwalk.Size([4, 1, 2]), gradwalk.Size([1, 2]), None)
    """
    steps = S.unbind(F.linear(x, w_ih, b_ih), 0)
    n = x.shape[1]
    hsize = w_hh.shape[1]
    h = hx if hx is not None else registry.wrap(np.zeros((n, hsize), dtype=x._data.dtype))
    c = None
    if mode == "LSTM":
        csize = w_hh.shape[0] // 4
        c = cx if cx is not None else registry.wrap(np.zeros((n, csize), dtype=x._data.dtype))
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    hs = [None] * len(steps)
    for t in order:
        m = n if batch_sizes is None else batch_sizes[t]
        hm, cm, xt = (h, c, steps[t]) if m == n else (h[:m], None if c is None else c[:m],
                                                       steps[t][:m])
        if mode == "LSTM":
            hm, cm = _lstm_step(xt, hm, cm, w_hh, b_hh, w_hr)
        elif mode == "GRU":
            hm = _gru_step(xt, hm, w_hh, b_hh)
        else:
            hm = _rnn_step(xt, hm, w_hh, b_hh, mode == "RNN_RELU")
        if m == n:
            h, c, hs[t] = hm, cm, hm
            continue
        pad = registry.wrap(np.zeros((n - m, hsize), dtype=x._data.dtype))
        hs[t] = S.cat([hm, pad], 0)
        h = S.cat([hm, h[m:]], 0)
        if c is not None:
            c = S.cat([cm, c[m:]], 0)
    return S.stack(hs, 0), h, c


def _rnn_step(x_proj, h, w_hh, b_hh, relu: bool):
    pre = x_proj + F.linear(h, w_hh, b_hh)
    return E.relu(pre) if relu else E.tanh(pre)


def _lstm_step(x_proj, h, c, w_hh, b_hh, w_hr=None):
    gates = x_proj + F.linear(h, w_hh, b_hh)
    n = c.shape[-1]
    sg = E.sigmoid(gates)  # one node for the i, f, o gates (the g quarter is not used)
    g = E.tanh(gates[..., 2 * n:3 * n])
    c = sg[..., n:2 * n] * c + sg[..., :n] * g
    h = sg[..., 3 * n:] * E.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(x_proj, h, w_hh, b_hh):
    hp = F.linear(h, w_hh, b_hh)
    xr, xz, xn = S.chunk(x_proj, 3, -1)
    hr, hz, hn = S.chunk(hp, 3, -1)
    r = E.sigmoid(xr + hr)
    z = E.sigmoid(xz + hz)
    n = E.tanh(xn + r * hn)
    return n + z * (h - n)  # (1 - z) * n + z * h


# ------------------------------------------------------------------------------- the op
def _fusable(tensors) -> bool:
    if registry._forward_hooks:
        return False
    dtype = None
    for t in tensors:
        if t is None:
            continue
        d = t._data
        if type(d) is not np.ndarray or d.dtype.kind != "f":
            return False
        if dtype is None:
            dtype = d.dtype
        elif d.dtype != dtype:
            return False
    return True


def _check(mode, inputs) -> None:
    """PyTorch's errors for inputs and states whose sizes do not fit the weights."""
    x, hx, cx, w_ih, w_hh = inputs[:5]
    if x.ndim != 3:
        raise ValueError(f"rnn_layer(): expected a 3-D input (L, N, H_in), got {x.ndim}-D")
    if x.shape[0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    if x.shape[-1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {x.shape[-1]} expected "
                           f"{w_ih.shape[1]}")
    sizes = (w_hh.shape[1], w_hh.shape[0] // 4)
    for k, s in enumerate((hx, cx)):
        if s is None:
            continue
        if s.ndim != 2 or s.shape[0] != x.shape[1]:
            raise RuntimeError(f"Input batch size {x.shape[1]} doesn't match hidden{k} batch "
                               f"size {s.shape[0] if s.ndim else s.shape}")
        if s.shape[1] != sizes[k]:
            raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, "
                               f"expected {sizes[k]}")


def rnn_layer(mode: str, input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None,
              weight_hr=None, reverse: bool = False, batch_sizes=None) -> tuple:
    """One layer and direction of a recurrent network over ``input`` (L, N, H_in), as one graph
    node (Note [fused recurrent layers]). ``mode`` is ``"RNN_TANH"``, ``"RNN_RELU"``,
    ``"LSTM"`` or ``"GRU"``; weights and gate order are PyTorch's; ``hx`` (N, H_out) and ``cx``
    (N, H, LSTM only) may be None (zeros); ``weight_hr`` (H_out, H) is the LSTM's projection;
    ``reverse`` runs from the last step to the first. ``batch_sizes`` (a packed batch's, one
    non-increasing count per time step) says how many leading sequences run at each step: the
    others keep their state (their final state is the one at their own last step; a reverse
    direction starts each at its own end) and output zeros there. Returns
    ``(output, h_n, c_n)``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops.rnn import rnn_layer
        >>> w_ih = gradwalk.ones(8, 3, requires_grad=True)
        >>> w_hh = gradwalk.zeros(8, 2, requires_grad=True)
        >>> y, h, c = rnn_layer("LSTM", gradwalk.ones(5, 1, 3) * 0.1, None, None, w_ih, w_hh)
        >>> y.shape, h.shape, c.shape
        (gradwalk.Size([5, 1, 2]), gradwalk.Size([1, 2]), gradwalk.Size([1, 2]))
        >>> y.grad_fn.name()
        'LstmLayerBackward0'
        >>> y.sum().backward()
        >>> w_ih.grad.shape
        gradwalk.Size([8, 3])
    """
    if mode not in MODES:
        raise ValueError(f"rnn_layer(): unknown mode {mode!r}; expected one of {MODES}")
    inputs = (input, hx, cx if mode == "LSTM" else None, weight_ih, weight_hh, bias_ih,
              bias_hh, weight_hr if mode == "LSTM" else None)
    _check(mode, inputs)
    if registry._trace is not None:  # a compiled region: run its pending part first, so the
        # kernel below reads arrays (not pending values) and takes eager's path
        registry._trace.trace._eager(inputs, "rnn_layer (a fused kernel outside the trace)")
    if batch_sizes is not None:
        batch_sizes = tuple(int(b) for b in batch_sizes)
        if len(batch_sizes) != input.shape[0] or (batch_sizes and batch_sizes[0] > input.shape[1]):
            raise ValueError(f"rnn_layer(): batch_sizes {list(batch_sizes)} do not fit an input "
                             f"of {input.shape[0]} steps and batch {input.shape[1]}")
    if not _fusable(inputs):
        return composite_layer(mode, *inputs, reverse=reverse, batch_sizes=batch_sizes)
    record = is_grad_enabled_fast() and any(t is not None and t._requires_grad for t in inputs)
    x = input._data
    if reverse:
        x = x[::-1]
    n = x.shape[1]
    dtype = x.dtype
    hsize = weight_hh._data.shape[1]
    h0 = np.zeros((n, hsize), dtype=dtype) if hx is None else hx._data
    c0 = None
    if mode == "LSTM":
        c0 = np.zeros((n, weight_hh._data.shape[0] // 4), dtype=dtype) if cx is None \
            else cx._data
    data = [None if t is None else t._data for t in inputs[3:]]
    ys, hn, cn, cache = _forward(mode, x, h0, c0, *data, keep=record,
                                 active=_processing_order(batch_sizes, reverse))
    if reverse:
        ys = np.ascontiguousarray(ys[::-1])
    outs = (ys, hn) if cn is None else (ys, hn, cn)
    if not record:
        return tuple(registry.wrap(o) for o in outs) + ((None,) if cn is None else ())
    op = _OPS[mode]
    edges = tuple(None if t is None else registry._edge(t) for t in inputs) + (None,)
    versions = tuple(None if t is None else registry._version(t) for t in inputs) + (None,)
    node = _RnnNode(op, edges, inputs + (cache,), versions, ys, None,
                    {"mode": mode, "reverse": reverse, "batch_sizes": batch_sizes}, None, None,
                    len(outs))
    res = []
    for k, o in enumerate(outs):
        t = registry._make(o, node)
        t._out_edge = (node, k)
        res.append(t)
    node.out_vc = res[0]._vc
    return tuple(res) + ((None,) if cn is None else ())
