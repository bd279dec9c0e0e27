"""In-place changes through a view: the base's graph is rebased (PyTorch's CopySlices).

When ``v = base[idx]`` (or any chain of view ops) is changed in place by an op whose node is
``node``, the base now holds ``base_old`` outside the view and ``v_new`` inside it. The base's
new node ``copy_slices`` has two inputs: the old base (its gradient is ``g`` with the view's
region zeroed) and the view's new value (its gradient is the view of ``g``).
"""

from __future__ import annotations

import numpy as np

from .registry import apply, declare


def view_of(xp, chain, a):
    """Apply a chain of view ops to an array (or, under ``dxp``, to a Tensor)."""
    from . import kernels as K
    from .registry import apply1

    for op, params in chain:
        if K.is_dxp(xp):
            a = apply1(op, a, params)
        else:
            a = op.forward(xp, a, **params)
    return a


def _region_mask(shape, chain):
    m = np.ones(shape, dtype=bool)
    v = view_of(np, chain, m)
    if not np.may_share_memory(v, m):
        raise RuntimeError("in-place change through a view that does not share memory")
    v[...] = False
    return m


def _copy_slices_fwd(xp, base, view, chain):
    return base  # the data was already written through the view


def _copy_slices_vjp(xp, g, out, base, view, chain, *, needs):
    gb = g * _region_mask(g.shape, chain) if needs[0] else None
    gv = view_of(xp, chain, g) if needs[1] else None
    return gb, gv


def _copy_slices_jvp(xp, t, out, base, view, chain):
    tb, tv = t
    mask = _region_mask(out.shape, chain)
    r = xp.zeros_like(out) if tb is None else tb * mask
    if tv is not None:
        from . import kernels as K

        r = r + K.index_add_into(xp, out.shape, (Ellipsis,), _embed(xp, out.shape, chain, tv))
    return r


def _embed(xp, shape, chain, tv):
    z = np.zeros(shape, dtype=tv.dtype)
    view_of(np, chain, z)[...] = tv
    return z


COPY_SLICES = declare("copy_slices", _copy_slices_fwd, _copy_slices_vjp, _copy_slices_jvp,
                      inputs=("self", "src"), saves=(), node_name="CopySlices")


def rebase(view, base, node) -> None:
    """Give ``base`` a node that routes gradients of its new value through ``view``'s node."""
    from ..tensor import Tensor

    old = Tensor._make(base.data, base.grad_fn)
    old._requires_grad = base._requires_grad
    new_view = Tensor._make(view.data, node)
    from ..autograd.grad_mode import enable_grad

    with enable_grad():
        res = apply(COPY_SLICES, old, new_view, params={"chain": view._extra.view_chain})
    base.grad_fn = res.grad_fn
    base._requires_grad = True
