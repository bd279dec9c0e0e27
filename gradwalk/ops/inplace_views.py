"""In-place changes through a view: the base's graph is rebased (PyTorch's CopySlices).

When ``v = base[idx]`` (or any chain of view ops) is changed in place by an op whose node is
``node``, the base now holds ``base_old`` outside the view and ``v_new`` inside it. The base's
new node ``copy_slices`` has two inputs: the old base (its gradient is ``g`` with the view's
region zeroed) and the view's new value (its gradient is the view of ``g``).

Other views of the same base still point at the base's old node: their values changed, so their
graph must change too. ``track_view`` keeps weak references to the live views of a base that has
a graph (a non-leaf), and ``refresh_views`` gives each of them, after an in-place change, a new
``grad_fn``: its chain of view ops replayed on the base's new node (PyTorch regenerates them
lazily the same way).
"""

from __future__ import annotations

import weakref

import numpy as np

from ..autograd.grad_mode import enable_grad, is_grad_enabled_fast
from ..autograd.node import MultiNode, copy_edge
from . import kernels as K
from . import registry as _registry
from .registry import apply, apply1, declare

#: Forward AD's ``(before, after)`` for in-place ops while a dual level is active, else None:
#: ``token = before(self, base, old)`` gives ``old`` (the value the op reads) ``self``'s tangent;
#: ``after(token, self, base, result)`` sets the new tangent of ``self`` and of its base.
dual_hooks = None


def set_dual_hooks(hooks) -> None:
    """Install (or, with ``None``, remove) forward AD's in-place tangent hooks."""
    global dual_hooks
    dual_hooks = hooks


def scaled_other(ufunc, other, alpha):
    """``other * alpha`` for the no-graph path of ``add_``/``sub_(other, alpha=)``, computed as
    ``add``'s general path computes it (a float ``alpha`` keeps ``other``'s floating dtype);
    ``None`` for the cases left to the general path.

    Example:
        >>> import numpy as np
        >>> scaled_other(np.add, np.ones(2, np.float32), -0.5).dtype, scaled_other(np.add, 2, 3)
        (dtype('float32'), None)
    """
    if ufunc is not np.add and ufunc is not np.subtract or type(alpha) is not float or type(
            other) is not np.ndarray or other.dtype.kind != "f" or not other.ndim:
        return None
    return other * alpha


def view_of(xp, chain, a):
    """Apply a chain of view ops to an array (or, under ``dxp``, to a Tensor)."""
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
    # the view's region is overwritten: exactly zero there (``where``, not ``* mask``, so that
    # an infinite gradient does not become NaN)
    gb = xp.where(_region_mask(g.shape, chain), g, xp.zeros_like(g)) if needs[0] else None
    gv = view_of(xp, chain, g) if needs[1] else None
    return gb, gv


def _copy_slices_jvp(xp, t, out, base, view, chain):
    tb, tv = t
    return splice(xp, out, tb, tv, chain)


def splice(xp, like, tb, tv, chain):
    """The base's value (or tangent) ``tb`` with the view's region replaced by ``tv`` (``None``
    for zeros); ``like`` is an array (or Tensor) of the base's shape and dtype."""
    emb = xp.zeros_like(like) if tv is None else _embed(xp, chain, tv)
    if tb is None:
        return emb
    return xp.where(_region_mask(like.shape, chain), tb, emb)


def _embed(xp, chain, tv):
    """``tv`` in zeros of the base's shape, where the view sits: the transpose of the chain of
    view ops, that is their reverse rules applied last to first (so it works in every mode)."""
    for op, params in reversed(chain):
        tv = op.vjp(xp, tv, None, None, **params)
    return tv


COPY_SLICES = declare("copy_slices", _copy_slices_fwd, _copy_slices_vjp, _copy_slices_jvp,
                      inputs=("self", "src"), saves=(), node_name="CopySlices")

# A view's node regenerated from its base's node after an in-place change (PyTorch's
# AsStridedBackward0): the whole chain of view ops from the base as one node.
VIEW_OF_BASE = declare(
    "view_of_base", lambda xp, x, chain: view_of(xp, chain, x),
    lambda xp, g, out, x, chain: _embed(xp, chain, g),
    lambda xp, t, out, x, chain: view_of(xp, chain, t),
    saves=(), node_name="AsStridedBackward0")


def _regenerate(view, base) -> None:
    """Give ``view`` a ``grad_fn`` that reads it out of ``base``'s current node; a gradient
    ``view`` retains moves along (``retain_grad`` follows the tensor)."""
    old_fn = view.grad_fn
    t = _registry._make(base._data, base.grad_fn)
    copy_edge(base, t)
    with enable_grad():
        t = apply1(VIEW_OF_BASE, t, {"chain": view._extra.view_chain})
    view.grad_fn = t.grad_fn
    view._requires_grad = True
    move_retains(view, old_fn, view.grad_fn)


def move_retains(t, old_fn, new_fn) -> None:
    """``t`` retains its gradient: it now stands for ``new_fn``'s output, not ``old_fn``'s."""
    if old_fn is None or new_fn is None or old_fn is new_fn or not t.retains_grad:
        return
    if isinstance(old_fn, MultiNode):
        refs = old_fn.out_retains or ()
        for k, ref in enumerate(refs):
            if ref is not None and ref() is t:
                refs[k] = None
    elif old_fn.retains is not None and old_fn.retains() is t:
        old_fn.retains = None
    new_fn._retain_output(0, weakref.ref(t))


def rebase(view, base, node) -> None:
    """Give ``base`` a node that routes gradients of its new value through ``view``'s node, and
    ``view`` a node read out of the base's new one (PyTorch's CopySlices and AsStrided), so the
    base's hooks and retained gradient see every later use of the view."""
    old_fn = base.grad_fn
    old = _registry._make(base._data, base.grad_fn)
    old._requires_grad = base._requires_grad
    copy_edge(base, old)
    new_view = _registry._make(view._data, node)
    copy_edge(view, new_view)
    with enable_grad():
        res = apply(COPY_SLICES, old, new_view, params={"chain": view._extra.view_chain})
    base.grad_fn = res.grad_fn
    base._requires_grad = True
    move_retains(base, old_fn, base.grad_fn)
    _regenerate(view, base)


def track_view(base, view) -> None:
    """Remember ``view`` (weakly) among the views of ``base``, a tensor with a ``grad_fn``."""
    ex = base._ex()
    views = ex.views
    if views is None:
        views = ex.views = []
    elif len(views) >= 64 and (len(views) & (len(views) - 1)) == 0:
        views[:] = [r for r in views if r() is not None]  # drop dead views now and then
    views.append(weakref.ref(view))


def refresh_views(base, changed) -> None:
    """After an in-place change of ``base``'s memory (through ``changed``, the base itself or
    one of its views), give every other live view a ``grad_fn`` replayed from the base's node."""
    ex = base._extra
    views = ex.views if ex is not None else None
    if not views or base.grad_fn is None:
        return
    live = []
    for ref in views:
        v = ref()
        if v is None:
            continue
        live.append(ref)
        if v is changed or v._vc is not base._vc:
            continue
        _regenerate(v, base)
    views[:] = live


_INPLACE_UFUNCS: dict = {}


def inplace_ufunc(self, fn, other, alpha, E) -> bool:
    """The optimizer's path: ``p -= lr * g``, ``p.add_(g, alpha=-lr)`` with no graph to record,
    written straight into ``self``'s memory by the matching ufunc (no copy). Returns False to
    leave any case it does not cover (and every error message) to the general path. ``E`` is
    the elementwise module, handed in by the caller: its functions key the table."""
    if not _INPLACE_UFUNCS:
        _INPLACE_UFUNCS.update({E.add: np.add, E.sub: np.subtract, E.mul: np.multiply,
                                E.div: np.true_divide})
    uf = _INPLACE_UFUNCS.get(fn)
    return uf is not None and _write(self, uf, other, alpha)


def update_(self, uf, other, alpha) -> bool:
    """``add_``/``sub_`` (``uf`` is ``np.add`` or ``np.subtract``) straight into ``self``'s
    memory when nothing is recorded: the checks of ``indexing.apply_inplace``'s no-graph path
    written out, so that an optimizer's update is one Python call (Note [the update path]).
    False leaves the case (and every error message) to ``apply_inplace``.

    Note [the update path]
        ``p.add_(g, alpha=-lr)`` and ``p -= lr * g`` run once per parameter per step: a 2-16-16-1
        MLP step has six of them beside 11 nodes. With no compiled region, no forward-AD level
        and nothing to record, the result is ``uf(p, alpha * g, out=p)`` with the version bumped,
        exactly what the general path computes, so the methods try this first.

    Example:
        >>> import gradwalk, numpy as np
        >>> p = gradwalk.ones(2)
        >>> update_(p, np.add, gradwalk.ones(2), -0.5), p
        (True, tensor([0.5000, 0.5000]))
    """
    if _registry._trace is not None or dual_hooks is not None:
        return False
    if is_grad_enabled_fast() and (self._requires_grad or (
            isinstance(other, _registry.Tensor) and other._requires_grad)):
        return False
    return _write(self, uf, other, alpha)


def _write(self, uf, other, alpha) -> bool:
    data = self._data
    od = other._data if isinstance(other, _registry.Tensor) else other
    to = type(od)
    if type(data) is not np.ndarray or not (to is np.ndarray or to is float or to is int):
        return False
    if alpha != 1 and (od := scaled_other(uf, od, alpha)) is None:
        return False
    try:
        if to is np.ndarray and od.dtype is data.dtype:
            uf(data, od, out=data)  # one dtype: nothing to cast, no casting rule to read
        else:
            uf(data, od, out=data, casting="same_kind")
    except (TypeError, ValueError):
        return False
    bump_version(self)
    return True


def bump_version(t) -> None:
    """Record that ``t``'s array changed in place (what was saved of it is now stale); the
    counter is made here if nothing read it yet (``Tensor._vc``).

    Example:
        >>> import gradwalk
        >>> t = gradwalk.ones(2)
        >>> bump_version(t); t._version
        1
    """
    vc = t._vcl
    if vc is None:
        t._vcl = [1]
    else:
        vc[0] += 1
