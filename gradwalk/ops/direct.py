"""Hot ops recorded without the generic ``registry.apply``: ``linear`` of a small MLP.

Note [direct apply]
    ``registry.apply`` serves every op: it loops over the inputs, checks each for complex data,
    other array types and ``saves_if`` (``rules.keeps``), and builds the node's tuples from
    lists. For ``linear`` on real NumPy arrays all of that is known in advance, so
    ``apply_linear`` computes the same forward (``nn._linear_fwd``) and records the same node
    (edges, saved inputs by Note [saves_if], versions, shapes, dtypes) written out. Whatever it
    does not cover (a compiled region, forward hooks, complex or non-NumPy data, a bias of
    another dtype, a 1-D weight) goes to ``registry.apply``, which stays the reference: the
    tests compare the two nodes field by field.
"""

from __future__ import annotations

import numpy as np

from . import registry as _registry
from .registry import Node, apply

_ndarray = np.ndarray


def apply_linear(op, forward, x, w, b=None):
    """``op`` (``LINEAR``, or ``LINEAR_NOBIAS`` when ``b`` is None) applied to Tensors ``x``,
    ``w`` (and ``b``): ``forward(np, x, w, b)`` and the node ``registry.apply`` would record.

    Example:
        >>> import gradwalk
        >>> from gradwalk.ops import nn
        >>> w = gradwalk.ones(2, 3, requires_grad=True)
        >>> y = apply_linear(nn.LINEAR_NOBIAS, nn._linear_fwd, gradwalk.ones(1, 3), w)
        >>> y, y.grad_fn.name()
        (tensor([[3., 3.]], grad_fn=<MmBackward0>), 'MmBackward0')
    """
    xd, wd = x._data, w._data
    bd = None if b is None else b._data
    if (_registry._trace is not None or _registry._forward_hooks or type(xd) is not _ndarray
            or type(wd) is not _ndarray or wd.ndim != 2 or xd.dtype.kind != "f"
            or (b is not None and (type(bd) is not _ndarray or bd.dtype is not xd.dtype))):
        return apply(op, x, w) if b is None else apply(op, x, w, b)
    out = forward(np, xd, wd, bd)
    rx, rw = x._requires_grad, w._requires_grad
    rb = b is not None and b._requires_grad
    if not (rx or rw or rb) or not _registry.is_grad_enabled_fast():
        return _registry._make(out, None)
    edge = _registry._edge
    # Note [saves_if]: x is read by w's gradient only, w by x's
    saved_x, vx = (x, _version(x)) if rw else (None, None)
    saved_w, vw = (w, _version(w)) if rx else (None, None)
    if b is None:
        node = Node(op, (edge(x), edge(w)), (saved_x, saved_w), (vx, vw), None, None, None,
                    (xd.shape, wd.shape), (xd.dtype, wd.dtype))
    else:
        node = Node(op, (edge(x), edge(w), edge(b)), (saved_x, saved_w, None),
                    (vx, vw, None), None, None, None, (xd.shape, wd.shape, bd.shape),
                    (xd.dtype, wd.dtype, bd.dtype))
    return _registry._make(out, node)


def _version(t) -> int:
    vc = t._vcl
    return 0 if vc is None else vc[0]
