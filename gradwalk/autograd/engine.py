"""The backward engine: walks the recorded graph from the roots and delivers gradients.

Note [the walk]
    ``run_backward`` is these steps, each one function below:

    1. ``_seed``: deliver each root's gradient into its node's buffer and push the node on the
       ready queue, a max-heap on the nodes' creation numbers (``node.seq``).
    2. pop: take the latest-created node and its buffer. Every node that consumed its output was
       created after it, so every consumer that can reach it has already run and delivered: the
       buffer holds its whole gradient. (This is dependency counting with the counts implied by
       creation order: no counting pass over the graph is needed, and a node that receives no
       gradient is never visited.)
    3. ``_pre_hooks``: the tensor's hooks, ``retain_grad``, the node's pre-hooks (in PyTorch's
       order); with ``inputs``, ``_capture`` first takes the gradient of a wanted input.
    4. ``_call_rule``: unpack the saved values (checking their versions) and call ``op.vjp``.
    5. ``_fit``: reduce each result to its input's shape and dtype: the one place broadcasting is
       undone and gradients are validated.
    6. ``_deliver``: add each result into its producer's buffer, out of place (the slot ``k`` of
       a multi-output producer's buffer for an edge ``(node, k)``), pushing the producer when its
       first gradient arrives. An ``AccumulateGrad`` node instead runs ``_accumulate``: it adds
       into ``leaf.grad`` (in place when the grad is ours, out of place under ``create_graph``),
       then the leaf's post-accumulate hooks run.
    7. release: unless ``retain_graph``, the node's saved values are freed once it has run;
       using them again raises the "backward through the graph a second time" error.

    Steps 4 to 6 of a first-order node without hooks and listeners are written out once more
    in ``_fast1``, ``_fast2`` (one, two inputs) and ``_fastn`` (more): most nodes of an eager
    program take them, and a Python call per step costs more than the step. With ``inputs``
    (``autograd.grad``, ``backward(inputs=...)``) ``_needed`` first marks the nodes that lead to
    an input, and only those are pushed (step 3 and these live in ``prehooks.py``).

Note [multi-output nodes]
    A ``MultiNode`` (``unbind``, ``split``, a custom Function returning a tuple) is one node per
    call. Its consumers hold edges ``(node, k)``; its buffer is a list with one slot per output;
    its rule gets the tuple of slots (``None`` where no gradient arrived) and runs once, after
    every consumer of every output (they were all created after it). So ``unbind`` of ``n`` rows
    costs one rule call, not ``n`` full-size zero gradients.

Note [no recursion]
    Nothing here recurses: discovery and the walk use explicit stacks and heaps, so a chain of a
    million ops backpropagates with Python's default recursion limit.

Note [modes]
    First-order backward (``create_graph=False``) passes raw arrays to the rules with ``xp`` the
    arrays' namespace: no Tensor is made. With ``create_graph=True`` the rules receive Tensors and
    the differentiable namespace that a higher layer handed over with ``bind`` (the engine
    imports no op), so the same rule records the graph of the gradient itself.

Note [ownership of leaf gradients]
    A rule may hand the same array to several inputs (``add`` returns ``g`` twice). The first
    gradient stored in a leaf's ``.grad`` is therefore copied unless the engine knows the array
    is fresh: it owns its memory and was not delivered anywhere else in this backward.

Note [concurrent accumulation]
    Backward passes may run in several threads into shared leaves. Reading ``leaf.grad`` and
    adding into it is one step under a lock of the leaf's (one of 64, chosen by its ``id``), so
    no update is lost (NumPy releases the GIL inside a large ``+=``); hooks run outside it.
    A first gradient is stored without a copy (Note [ownership of leaf gradients]), so it may
    still be pending in its own walk: while another walk runs, a sum into ``.grad`` is made out
    of place rather than written into that memory.

Note [listeners]
    Explain mode, anomaly detection and ``vmap`` watch or adjust the walk through one interface:
    an object with any of the methods of ``Listener``, registered with ``listen`` and removed
    with ``unlisten``. ``on_backward(accumulate)`` runs when a walk starts, ``on_node(node,
    grad_in, grads_out)`` after each rule (``grad_in`` is a tuple for a multi-output node),
    ``on_accumulate(leaf, grad)`` before a gradient is added into ``leaf.grad``, and
    ``filter_grad(g, tensor, create_graph) -> g`` may replace the gradient reaching a leaf (or an
    input of ``autograd.grad``). Normal runs have no listeners and pay one truth test per node.

The engine knows no op: it sees nodes with a rule (``node.op``), saved values and edges.
"""

from __future__ import annotations

import heapq
import threading
from functools import partial
from typing import Any

import numpy as np

from ..backend import _cupy, xp_of
from . import grad_mode
from . import hooks as _hooks
from .hooks import node_hooks, node_prehooks, tensor_hooks
from .listeners import Listener, grad_filters, listen, observers, unlisten
from .messages import SECOND_BACKWARD
from .node import AccumulateGrad, MultiNode, Node, check_versions
from .prehooks import capture as _capture
from .prehooks import needed as _needed
from .prehooks import pre_hooks as _pre_hooks
from .zeros import MaskedGrad, masked_call, structural_zeros

__all__ = ["run_backward", "bind", "Listener", "listen", "unlisten", "observers",
           "grad_filters", "MaskedGrad", "structural_zeros"]

_ndarray = np.ndarray
_dxp = None  # the differentiable namespace, handed over by ``bind``
Tensor: Any = None  # the Tensor class, handed over by ``bind`` (``registry.bind`` calls it)


def bind(*, tensor=None, differentiable=None) -> None:
    """Hand the engine what it must not import: the ``Tensor`` class and the differentiable
    namespace (``xp`` of rules under ``create_graph=True``). ``gradwalk`` calls it once.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd import engine
        >>> engine.bind(tensor=gradwalk.Tensor)
        >>> engine.Tensor is gradwalk.Tensor
        True
    """
    global Tensor, _dxp
    if tensor is not None:
        Tensor = tensor
        _hooks.bind(tensor)
    if differentiable is not None:
        _dxp = differentiable


def _differentiable_xp():
    if _dxp is None:
        raise RuntimeError("create_graph=True needs the differentiable namespace: call "
                           "gradwalk.autograd.engine.bind(differentiable=...) first (importing "
                           "gradwalk does it)")
    return _dxp


# ------------------------------------------------------------------------------- the walk
class _Walk:
    """The state of one backward call."""

    __slots__ = ("buffers", "ready", "create_graph", "retain_graph", "accumulate", "xp",
                 "targets", "needed", "captured", "delivered", "obs")

    def __init__(self, retain_graph, create_graph, accumulate) -> None:
        self.buffers: dict = {}
        self.ready: list = []
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.accumulate = accumulate
        self.xp = _differentiable_xp() if create_graph else None
        self.targets: Any = None  # node -> [(position in inputs, output index)], with ``inputs``
        self.needed = None   # node -> leads to an input, with ``inputs``
        self.captured: list = []
        self.delivered: set = set()
        self.obs = observers


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True):
    """Backpropagate from ``roots`` (Tensors) seeded with ``root_grads`` (Note [the walk]).

    With ``accumulate=True`` gradients land in the ``.grad`` of leaves (only of ``inputs`` when
    given). With ``accumulate=False`` (``autograd.grad``) nothing is written to ``.grad`` and the
    gradients arriving at ``inputs`` are returned, ``None`` for an input not reached.
    """
    w = _Walk(retain_graph, create_graph, accumulate)
    _seed(w, roots, root_grads, inputs)
    for o in w.obs:
        start = getattr(o, "on_backward", None)  # optional for objects appended directly
        if start is not None:
            start(accumulate)
    token = grad_mode._grad_enabled.set(create_graph)
    with _RUNNING_LOCK:
        _running[0] += 1
    try:
        _walk(w)
    finally:
        with _RUNNING_LOCK:
            _running[0] -= 1
        grad_mode._grad_enabled.reset(token)
    return w.captured


def _walk(w: _Walk) -> None:
    """Steps 2 to 7 of Note [the walk], until the ready queue is empty."""
    buffers, ready, needed, targets = w.buffers, w.ready, w.needed, w.targets
    heappop = heapq.heappop
    fast = not w.create_graph and not w.obs
    release = not w.retain_graph
    while ready:
        node = heappop(ready)[1]  # 2. pop
        g = buffers.pop(node)
        if targets is not None and node in targets:
            g = _capture(w, node, g)
        if type(node) is AccumulateGrad:
            if w.accumulate:
                _accumulate(w, node, g)
            continue
        if node.pre_hooks is not None or node.retains is not None or type(g) is list:
            g = _pre_hooks(w, node, g)  # 3.
        n = len(node.edges)
        if fast and type(g) is not MaskedGrad and type(g) is not list and node.hooks is None:
            if n == 1:
                _fast1(node, g, buffers, ready, needed)
            elif n == 2:
                _fast2(node, g, buffers, ready, needed)
            elif node.saved is not None and node.versions is not None:
                _fastn(node, g, buffers, ready, needed)
            else:
                _general(w, node, g)
        else:
            _general(w, node, g)
        if release and not node.released:  # 7.
            if type(node) is Node:  # ``Node.release`` written out: a call per node costs more
                if node.op.saves or node.op.save_out:
                    node.released, node.saved, node.out = True, None, None
            else:
                node.release()


def _seed(w: _Walk, roots, root_grads, inputs) -> None:
    """Step 1: deliver the root gradients (and mark what leads to ``inputs``, if given)."""
    edges = [_tensor_edge(t) for t in roots]
    if inputs is not None:
        targets: dict = {}
        for k, t in enumerate(inputs):
            e = _tensor_edge(t)
            node, j = e if type(e) is tuple else (e, 0)
            targets.setdefault(node, []).append((k, j))
        w.targets = targets
        w.needed = _needed([e[0] if type(e) is tuple else e for e in edges], targets)
        w.captured = [None] * len(inputs)
    for e, g in zip(edges, root_grads):
        _deliver(w.buffers, w.ready, e, g, w.needed)
    w.delivered = {id(g) for g in root_grads}


def _tensor_edge(t):
    """The edge into the node that produced ``t`` (its ``AccumulateGrad`` for a leaf)."""
    fn = t.grad_fn
    if fn is None:
        return t._accumulator()
    if isinstance(fn, MultiNode):
        e = getattr(t, "_out_edge", None)
        if e is not None and e[0] is fn:
            return e
    return fn


def _general(w: _Walk, node, g) -> None:
    """Steps 4 to 6 for any node: rule, node hooks, listeners, fit, deliver."""
    cg = w.create_graph
    xp = w.xp or np
    if type(g) is MaskedGrad and not cg:
        grads = masked_call(node, g, lambda n, plain: _call_rule(n, plain, False, None))
    else:
        grads = _call_rule(node, g, cg, w.xp)
    if node.hooks:
        grads = node_hooks(node, _fit_all(node, grads, cg, xp), g, cg)
    for o in w.obs:
        o.on_node(node, tuple(g) if type(g) is list else g, grads)
    grads = _fit_all(node, grads, cg, xp)
    buffers, ready, needed = w.buffers, w.ready, w.needed
    edges = node.edges
    for i in range(len(edges)):
        e = edges[i]
        if e is not None and grads[i] is not None:
            _deliver(buffers, ready, e, grads[i], needed)


def _deliver(buffers, ready, e, g, needed) -> None:
    """Step 6: add ``g`` into the buffer of edge ``e`` (a node, or ``(node, k)``: slot ``k``);
    push the node when its first gradient arrives (with ``inputs``, only a needed node)."""
    if type(e) is tuple:
        node, k = e
        slots = buffers.get(node)
        if slots is None:
            if needed is not None and not needed.get(node, False):
                return
            slots = buffers[node] = [None] * node.outputs
            heapq.heappush(ready, (-node.seq, node))
        prev = slots[k]
        slots[k] = g if prev is None else prev + g
        return
    prev = buffers.get(e)
    if prev is None:
        if needed is None or needed.get(e, False):
            buffers[e] = g
            heapq.heappush(ready, (-e.seq, e))
    else:
        buffers[e] = prev + g


def _fit(g, shape, dtype, node, i, create_graph, xp):
    """Step 5: ``g`` with its input's ``shape`` (summed over broadcast dims) and ``dtype``."""
    if g.shape != shape:
        g = _sum_to(g, shape, node, i, xp)
    if create_graph:
        if g._data.dtype != dtype:
            g = (g.real if g._data.dtype.kind == "c" and dtype.kind != "c" else g).to(dtype)
    elif g.dtype is not dtype and g.dtype != dtype:  # a real input's gradient: the real part
        g = (np.real(g) if g.dtype.kind == "c" and dtype.kind != "c" else g).astype(dtype)
    return g


def _fit_all(node, grads, create_graph, xp):
    shapes = node.shapes
    if shapes is None:
        return grads
    dtypes, edges = node.dtypes, node.edges
    return tuple(
        gi if gi is None or edges[i] is None or shapes[i] is None
        else _fit(gi, shapes[i], dtypes[i], node, i, create_graph, xp)
        for i, gi in enumerate(grads))


def _sum_to(g, shape, node, i, xp):
    """Sum a broadcast gradient down to ``shape`` (the input's shape); raise if it cannot."""
    gshape = g.shape
    nd = len(gshape) - len(shape)
    if nd == 1 and gshape[1:] == shape and type(g) is _ndarray:
        return np.add.reduce(g, 0)  # a bias's gradient: the ufunc, not ndarray.sum's wrappers
    if nd < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[nd:])):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)}"
        )
    # ndarray.sum, not xp.sum, when we can: NumPy's function wrapper costs a few microseconds
    reduce = g.sum if type(g) is _ndarray else partial(xp.sum, g)
    if nd:
        g = reduce(axis=tuple(range(nd)))
        reduce = g.sum if type(g) is _ndarray else partial(xp.sum, g)
    axes = tuple(k for k, s in enumerate(shape) if s == 1 and g.shape[k] != 1)
    if axes:
        g = reduce(axis=axes, keepdims=True)
    return g


# ------------------------------------------------------------------------------- rules
def _fast1(node, g, buffers, ready, needed) -> None:
    """Steps 4 to 6, first order, one input (the common case, written out)."""
    if node.released:
        raise RuntimeError(SECOND_BACKWARD)
    op = node.op
    scalars = op.elementwise  # Note [0-d scalars] in ops/registry.py
    out = node.out
    if out is not None:
        out = _saved_out(node, out, scalars)
    a = node.saved[0]
    v = node.versions[0]
    if v is not None:  # a saved tensor (None: nothing saved, or a packed value)
        vc = a._vcl
        if vc is not None and vc[0] != v:
            check_versions(node)
        a = a._data
        if scalars and not a.ndim:
            a = a[()]
    xp = np if _cupy is None else xp_of(g)
    params = node.params
    gi = op.vjp(xp, g, out, a) if params is None else op.vjp(xp, g, out, a, **params)
    e = node.edges[0]
    if e is None or gi is None:
        return
    shapes = node.shapes
    if shapes is not None:
        dt = node.dtypes[0]
        if gi.shape != shapes[0] or (gi.dtype is not dt and gi.dtype != dt):
            gi = _fit(gi, shapes[0], dt, node, 0, False, xp)
    prev = buffers.get(e)
    if prev is not None:
        buffers[e] = prev + gi
    elif type(e) is tuple or needed is not None:
        _deliver(buffers, ready, e, gi, needed)  # a slot of a multi-output node; ``inputs``
    else:
        buffers[e] = gi
        heapq.heappush(ready, (-e.seq, e))


def _fast2(node, g, buffers, ready, needed) -> None:
    """Steps 4 to 6, first order, two inputs (arithmetic: written out like ``_fast1``)."""
    if node.released:
        raise RuntimeError(SECOND_BACKWARD)
    op = node.op
    scalars = op.elementwise
    out = node.out
    if out is not None:
        out = _saved_out(node, out, scalars)
    a, b = node.saved
    va, vb = node.versions
    if va is not None:
        vc = a._vcl
        if vc is not None and vc[0] != va:
            check_versions(node)
        a = a._data
        if scalars and not a.ndim:
            a = a[()]
    if vb is not None:
        vc = b._vcl
        if vc is not None and vc[0] != vb:
            check_versions(node)
        b = b._data
        if scalars and not b.ndim:
            b = b[()]
    edges = node.edges
    needs = (edges[0] is not None, edges[1] is not None)
    xp = np if _cupy is None else xp_of(g)
    params = node.params
    grads = (op.vjp(xp, g, out, a, b, needs=needs) if params is None
             else op.vjp(xp, g, out, a, b, needs=needs, **params))
    shapes = node.shapes
    for i in (0, 1):
        e = edges[i]
        gi = grads[i]
        if e is None or gi is None:
            continue
        if shapes is not None:
            dt = node.dtypes[i]
            if gi.shape != shapes[i] or (gi.dtype is not dt and gi.dtype != dt):
                gi = _fit(gi, shapes[i], dt, node, i, False, xp)
        prev = buffers.get(e)
        if prev is not None:
            buffers[e] = prev + gi
        elif type(e) is tuple or needed is not None:
            _deliver(buffers, ready, e, gi, needed)
        else:
            buffers[e] = gi
            heapq.heappush(ready, (-e.seq, e))


def _fastn(node, g, buffers, ready, needed) -> None:
    """Steps 4 to 6, first order, three inputs or more (``linear``, ``addcmul``...)."""
    if node.released:
        raise RuntimeError(SECOND_BACKWARD)
    op = node.op
    out = node.out
    if out is not None:
        out = _saved_out(node, out, False)
    args = []
    for s, v in zip(node.saved, node.versions):
        if isinstance(s, Tensor):  # a saved tensor: its array, version-checked
            if v is not None and (vc := s._vcl) is not None and vc[0] != v:
                check_versions(node)
            s = s._data
        args.append(s)
    edges = node.edges
    xp = np if _cupy is None else xp_of(g)
    if op.vjp is None:
        raise RuntimeError(f"the derivative for '{op.name}' is not implemented")
    needs = tuple([e is not None for e in edges])
    params = node.params
    grads = (op.vjp(xp, g, out, *args, needs=needs) if params is None
             else op.vjp(xp, g, out, *args, needs=needs, **params))
    if len(grads) != len(edges):
        raise RuntimeError(
            f"the rule of {node.name()} returned {len(grads)} gradients for {len(edges)} inputs")
    shapes, dtypes = node.shapes, node.dtypes
    for i, e in enumerate(edges):
        gi = grads[i]
        if e is None or gi is None:
            continue
        if shapes is not None and shapes[i] is not None and (
                gi.shape != shapes[i] or (gi.dtype is not dtypes[i] and gi.dtype != dtypes[i])):
            gi = _fit(gi, shapes[i], dtypes[i], node, i, False, xp)
        prev = buffers.get(e)
        if prev is not None:
            buffers[e] = prev + gi
        elif type(e) is tuple or needed is not None:
            _deliver(buffers, ready, e, gi, needed)
        else:
            buffers[e] = gi
            heapq.heappush(ready, (-e.seq, e))


def _saved_out(node, out, scalars):
    """The saved output, version-checked (a scalar for 0-d data, Note [0-d scalars])."""
    if node.out_vc is not None and node.out_vc[0] != node.out_ver:
        check_versions(node)
    if scalars and type(out) is _ndarray and not out.ndim:
        out = out[()]
    return out


def _call_rule(node, g, create_graph, xp):
    """Step 4: unpack the node's saved values and call its reverse rule; a tuple of gradients,
    one per input. A multi-output node's ``g`` (its slots) is passed on as a tuple."""
    if node.released:
        raise RuntimeError(SECOND_BACKWARD)
    op = node.op
    saved = node.saved
    if saved is None:
        saved = (None,) * len(node.edges)
    elif node.versions is not None:
        check_versions(node)
    if type(g) is list:
        g = tuple(x.view(_ndarray) if type(x) is MaskedGrad else x for x in g)
    if create_graph:
        args = list(saved)
        out = Tensor._make(node.out, node) if node.out is not None else None
    else:
        args = [s._data if isinstance(s, Tensor) else s for s in saved]
        out = node.out
        xp = np if _cupy is None else xp_of(g if type(g) is not tuple else _first(g))
    if op.vjp is None:
        raise RuntimeError(f"the derivative for '{op.name}' is not implemented")
    params = node.params or {}
    if len(args) == 1:
        return (op.vjp(xp, g, out, *args, **params),)
    needs = tuple(e is not None for e in node.edges)
    r = op.vjp(xp, g, out, *args, needs=needs, **params)
    if len(r) != len(args):
        raise RuntimeError(
            f"the rule of {node.name()} returned {len(r)} gradients for {len(args)} inputs")
    return r


def _first(grads):
    return next(x for x in grads if x is not None)


_RUNNING_LOCK = threading.Lock()
_running = [0]  # backward walks in progress, in all threads


def _accumulate(w: _Walk, node, g) -> None:
    """Step 6 at a leaf: add ``g`` into ``leaf.grad`` (Note [ownership of leaf gradients])."""
    create_graph = w.create_graph
    leaf = node._leaf()
    if leaf is None:  # freed (Note [the leaf's accumulator]): no one can read its gradient
        _accumulated(node, None, None, g, create_graph)
        return
    for f in grad_filters:
        g = f(g, leaf, create_graph)
    extra = leaf._extra
    if extra is not None and extra.hooks:
        g = tensor_hooks(extra.hooks, g, create_graph)
    if node.pre_hooks and node.pre_hooks.node:
        g = node_prehooks(node, node.pre_hooks.node, (g,), create_graph)[0]
    for o in w.obs:
        o.on_accumulate(leaf, g)
    with node.lock:  # Note [concurrent accumulation]
        old = leaf._grad
        if create_graph:
            leaf._grad = g if old is None else old + g
        elif old is None:
            if type(g) is not _ndarray and not hasattr(g, "__cuda_array_interface__"):
                g = np.array(g)  # a NumPy scalar from a rule on 0-d arrays
            elif g.base is not None or id(g) in w.delivered or not g.flags.writeable:
                g = g.copy()
            w.delivered.add(id(g))
            leaf._grad = Tensor._wrap(g)
        elif (_running[0] == 1 and old.grad_fn is None and type(old._data) is _ndarray
              and old._data.flags.writeable):
            old._data += g
            old._vc[0] += 1
        else:
            leaf._grad = Tensor._wrap(old._data + g)
    if extra is not None and extra.post_hooks or node.hooks:
        _accumulated(node, leaf, extra, g, create_graph)


def _accumulated(node, leaf, extra, g, create_graph) -> None:
    """After an accumulation: the leaf's post-accumulate hooks, then the node's post-hooks."""
    if extra is not None and extra.post_hooks:
        for hook in list(extra.post_hooks):
            hook(leaf)
    if node.hooks:
        for hook in list(node.hooks):
            hook((), (Tensor._wrap(g) if not create_graph else g,))
