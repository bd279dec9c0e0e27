"""Hot ops recorded without the generic ``registry.apply``: ``linear`` and ``matmul``.

Note [direct apply]
    ``registry.apply`` serves every op: it loops over the inputs, checks each for complex data,
    other array types and ``saves_if`` (``rules.keeps``), and builds the node's tuples from
    lists. For the products of a small step (``linear``, ``matmul``, ``dot`` on real NumPy
    arrays of one dtype) all of that is known in advance: each input is read by the other's
    gradient only (Note [saves_if]; a bias by none). So ``apply_product`` and ``apply_linear``
    compute the op's forward and record the node ``apply`` would record (edges, saved inputs,
    versions, shapes, dtypes), written out. What they do not cover (a compiled region, forward
    hooks, complex or non-NumPy data, mixed dtypes) goes to ``registry.apply``, which stays the
    reference: the tests compare the two nodes field by field.
"""

from __future__ import annotations

import numpy as np

from . import registry as _registry
from .registry import Node, apply

_ndarray = np.ndarray


def _plain(*datas) -> bool:
    """Whether the direct path covers these arrays (and nothing is hooked into ``apply``)."""
    if _registry._trace is not None or _registry._forward_hooks:
        return False
    first = datas[0]
    if type(first) is not _ndarray or first.dtype.kind != "f":
        return False
    dt = first.dtype
    for d in datas:
        if type(d) is not _ndarray or d.dtype is not dt:
            return False
    return True


def apply_product(op, a, b):
    """``op`` (``matmul``, ``dot``, ``linear`` without bias) applied to Tensors ``a``, ``b``:
    the node ``registry.apply`` records, written out (Note [direct apply]).

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops import linalg
        >>> w = gradwalk.ones(3, 2, requires_grad=True)
        >>> y = apply_product(linalg.MATMUL, gradwalk.ones(1, 3), w)
        >>> y, y.grad_fn.saved[0] is None
        (tensor([[3., 3.]], grad_fn=<MmBackward0>), False)
    """
    ad, bd = a._data, b._data
    if not _plain(ad, bd):
        return apply(op, a, b)
    out = op.forward(np, ad, bd)
    if type(out) is not _ndarray:
        out = np.asarray(out)  # dot of two vectors: a NumPy scalar
    ra, rb = a._requires_grad, b._requires_grad
    if not (ra or rb) or not _registry.is_grad_enabled_fast():
        return _registry._make(out, None)
    edge = _registry._edge
    saved_a, va = (a, _version(a)) if rb else (None, None)
    saved_b, vb = (b, _version(b)) if ra else (None, None)
    return _registry._make(out, Node(op, (edge(a), edge(b)), (saved_a, saved_b), (va, vb), None,
                                     None, None, (ad.shape, bd.shape), (ad.dtype, bd.dtype)))


def apply_linear(op, x, w, b):
    """``op`` (``linear``) applied to Tensors ``x``, ``w`` and the bias ``b``: the node
    ``registry.apply`` records, written out (Note [direct apply]).

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops import nn
        >>> w = gradwalk.ones(2, 3, requires_grad=True)
        >>> y = apply_linear(nn.LINEAR, gradwalk.ones(1, 3), w, gradwalk.zeros(2))
        >>> y, y.grad_fn.edges[2] is None
        (tensor([[3., 3.]], grad_fn=<AddmmBackward0>), True)
    """
    xd, wd, bd = x._data, w._data, b._data
    if not _plain(xd, wd, bd):
        return apply(op, x, w, b)
    if xd.ndim == 2 and wd.ndim == 2 and bd.ndim == 1:
        out = xd @ wd.T  # ``_linear_fwd``'s common case written out: a fresh product,
        out += bd        # the bias added in place
    else:
        out = op.forward(np, xd, wd, bd)
    rx, rw, rb = x._requires_grad, w._requires_grad, b._requires_grad
    if not (rx or rw or rb) or not _registry.is_grad_enabled_fast():
        return _registry._make(out, None)
    edge = _registry._edge
    saved_x, vx = (x, _version(x)) if rw else (None, None)
    saved_w, vw = (w, _version(w)) if rx else (None, None)
    return _registry._make(out, Node(
        op, (edge(x), edge(w), edge(b)), (saved_x, saved_w, None), (vx, vw, None), None, None,
        None, (xd.shape, wd.shape, bd.shape), (xd.dtype, wd.dtype, bd.dtype)))


def _version(t) -> int:
    vc = t._vcl
    return 0 if vc is None else vc[0]
