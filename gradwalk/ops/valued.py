"""Ops whose parameters hold arrays read by value (class targets, class weights, embedding
ids), offered to a compiled region's trace as *twins* with those arrays as inputs.

Note [values checked by the caller]
    ``cross_entropy``, ``nll_loss`` and ``embedding`` take integer arrays as parameters: an
    entry out of range is an error that depends on values, which a cached program cannot see
    (Note [what the trace refuses] in compiler/trace.py), and an array cannot be part of a
    key. But their public functions check those values in Python before the op
    (``nn._check_classes``, the range check of ``nn.functional.embedding``), and inside a
    compiled region Python runs on every call: the check reads the call's real array (a
    pending one is computed first: a graph break) and raises eager's error at the same line.
    After the check the op cannot fail on values, so the trace may record it:

    * the op is offered as its twin: the same ``forward`` and the same declared ``vjp`` (the
      twin's rule calls the op's), with each array a tensor input, a fresh wrapper made per
      call. The key holds the array's shape, strides and dtype, the program gets the call's
      array. The wrapper's version never changes, so the backward reads the array without a
      version check, as eager's node reads its parameter; the op's tensor inputs are saved and
      checked as eager's node saves them.
    * ``cross_entropy`` keeps the softmax, not the logits (Note [cross_entropy keeps the
      softmax] in nn.py): its twin's last input is the softmax, recorded before it under
      ``no_grad`` (``cross_entropy_softmax``: the same bits as eager's kept ``p``, with the
      exponentials' sum and the max beside it, so the loss needs no second ``exp``), and the
      compiled backward reads that, so changing the logits in place after the loss is allowed
      as eagerly. The twin also declares the logits saved, for its ``create_graph`` rule (the
      region's ops run again eagerly there); the compiled first-order program leaves them
      out (``FIRST_ORDER_SAVES``, read by compiler/recfacts.py).
    * if the trace refuses the twin (an input it does not take, forward hooks, another
      thread), the op itself runs eagerly, exactly as outside a region.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _grad_enabled
from . import nn as _nn
from . import registry as _registry
from .embedding import EMBEDDING
from .embedding import _vjp as _emb_vjp
from .registry import Op

_raw = _nn._raw


def _twin(name, forward, vjp, inputs, saves, node_name) -> Op:
    return Op(name, forward, vjp, None, inputs=inputs, saves=saves, save_out=False,
              node_name=node_name, elementwise=False)


# ------------------------------------------------------------------------------ cross_entropy
def _softmax_aux_fwd(xp, x):
    """``[softmax | sum of exp | max]`` of (N, C) logits, as (N, C + 2): the softmax with the
    bits eager's fused op keeps (``e / total``), and what the loss reads (the twin's forward
    then computes no second ``exp``)."""
    n, c = x.shape
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    total = e.sum(axis=1, keepdims=True)
    aux = np.empty((n, c + 2), dtype=e.dtype)
    np.divide(e, total, out=aux[:, :c])
    aux[:, c:c + 1] = total
    aux[:, c + 1:] = m
    return aux


SOFTMAX_AUX = _twin("cross_entropy_softmax", _softmax_aux_fwd, None, ("input",), (),
                    "CrossEntropySoftmaxBackward0")


def _ce_fwd(xp, x, target, aux, reduction, ignore_index):
    """``nn._ce_fwd`` from the recorded ``aux``: the same operations on the same numbers (the
    shifted logits ``x - max`` are recomputed where they are read, without the ``exp``)."""
    n, c = x.shape
    total = aux[:, c:c + 1]
    m = aux[:, c + 1:]
    if reduction != "none" and (target != ignore_index).all():
        picked = np.log(total[:, 0]) - (x[np.arange(n), target] - m[:, 0])
        loss = picked.sum()
        return loss / n if reduction == "mean" else loss
    return _nn._nll_fwd(xp, (x - m) - np.log(total), target, None, ignore_index, reduction)


def _ce_vjp(xp, g, out, x, target, aux, *, needs, reduction, ignore_index):
    target = _raw(target)
    if aux is not None and not hasattr(g, "grad_fn"):  # first order: the recorded softmax
        p = _raw(aux)[:, :-2]
        return (_nn._ce_vjp_numpy(g, p, target, reduction, ignore_index), None, None)
    keep = _nn._Logits(x)  # create_graph: through the logits, as the op's own rule
    return (_nn._ce_vjp(xp, g, out, None, target, reduction, ignore_index, keep), None, None)


CROSS_ENTROPY = _twin("cross_entropy_traced", _ce_fwd, _ce_vjp, ("input", "target", "softmax"),
                      (0, 1, 2), "NllLossBackward0")


# ------------------------------------------------------------------------------ nll_loss
def _nll_vjp(xp, g, out, logp, target, weight, *, needs, ignore_index, reduction):
    return (_nn._nll_vjp(xp, g, out, logp, _raw(target), _raw(weight), ignore_index,
                         reduction), None, None)


NLL_LOSS = _twin("nll_loss_traced", _nn._nll_fwd, _nll_vjp, ("input", "target", "weight"),
                 (0, 1, 2), "NllLossBackward0")


# ------------------------------------------------------------------------------ embedding
def _emb_twin_vjp(xp, g, out, w, ids, *, needs, padding_idx):
    return (_emb_vjp(xp, g, out, w, _raw(ids), padding_idx), None)


EMBEDDING_T = _twin("embedding_traced", EMBEDDING.forward, _emb_twin_vjp, ("weight", "ids"),
                    (0, 1), "EmbeddingBackward0")

# twin -> the inputs its compiled first-order rule reads (Note [values checked by the caller])
FIRST_ORDER_SAVES = {CROSS_ENTROPY: (1, 2)}
TWINS = frozenset(op.name for op in (SOFTMAX_AUX, CROSS_ENTROPY, NLL_LOSS, EMBEDDING_T))


# ------------------------------------------------------------------------------ offering
def _wrap(a):
    return None if a is None else _registry.wrap(a)


def cross_entropy(x, target, reduction: str, ignore_index: int):
    """``x``'s fused cross-entropy recorded by the running trace, or ``None`` (then the caller
    runs the op eagerly). ``target`` is the checked class-index array."""
    trace = _registry._trace
    token = _grad_enabled.set(False)
    try:
        p = trace(SOFTMAX_AUX, (x,), None, 1)
    finally:
        _grad_enabled.reset(token)
    if p is NotImplemented:
        return None
    r = trace(CROSS_ENTROPY, (x, _registry.wrap(target), p),
              {"reduction": reduction, "ignore_index": ignore_index}, 0)
    return None if r is NotImplemented else r


def nll_loss(logp, target, weight, ignore_index: int, reduction: str):
    """``nll_loss`` recorded by the running trace, or ``None`` (the caller runs it eagerly)."""
    r = _registry._trace(NLL_LOSS, (logp, _registry.wrap(target), _wrap(weight)),
                         {"ignore_index": ignore_index, "reduction": reduction}, 0)
    return None if r is NotImplemented else r


def embedding(weight, ids, padding_idx):
    """``embedding`` recorded by the running trace, or ``None`` (the caller runs it eagerly)."""
    r = _registry._trace(EMBEDDING_T, (weight, _registry.wrap(ids)),
                         {"padding_idx": padding_idx}, 0)
    return None if r is NotImplemented else r
