"""The backward engine: walks the recorded graph from the roots and delivers gradients.

Note [the walk]
    1. From the roots, walk the graph with an explicit stack and count, for every node, how many
       edges point into it (``deps``).
    2. A ready queue holds nodes whose count reached zero, latest-created first (a heap on the
       creation number); ``buffers`` accumulates, per node, the gradient arriving at its output.
    3. For each ready node: run its pre-hooks, call its rule, reduce each result to its input's
       shape and dtype (the one place broadcasting is undone and gradients are validated), add it
       into the producer's buffer out of place, and decrement the producer's count.
    4. An ``AccumulateGrad`` node adds into ``leaf.grad``: in place when the grad is ours, out of
       place under ``create_graph``; then the leaf's post-accumulate hooks run.
    5. Unless ``retain_graph``, a node's saved values are released as soon as it has run; using
       them again raises the "backward through the graph a second time" error.

Note [no recursion]
    Nothing here recurses: discovery and the walk use explicit stacks and heaps, so a chain of a
    million ops backpropagates with Python's default recursion limit.

Note [modes]
    First-order backward (``create_graph=False``) passes raw arrays to the rules with ``xp`` the
    arrays' namespace: no Tensor is made. With ``create_graph=True`` the rules receive Tensors and
    ``gradwalk.ops.dxp``, so the same rule records the graph of the gradient itself.

Note [ownership of leaf gradients]
    A rule may hand the same array to several inputs (``add`` returns ``g`` twice). The first
    gradient stored in a leaf's ``.grad`` is therefore copied unless the engine knows the array
    is fresh: it owns its memory and was not delivered anywhere else in this backward.

The engine knows no op: it sees nodes with a rule (``node.op``), saved values and edges.
"""

from __future__ import annotations

import heapq
import warnings

import numpy as np

from . import grad_mode
from .node import SECOND_BACKWARD, AccumulateGrad

# Observers (explain mode, anomaly detection) register here; empty in normal runs.
observers: list = []

_dxp = None  # the differentiable namespace, imported on first create_graph use
Tensor = None  # set by tensor.py


def _differentiable_xp():
    global _dxp
    if _dxp is None:
        from ..ops import dxp

        _dxp = dxp
    return _dxp


def _check_versions(node) -> None:
    saved, versions = node.saved, node.versions
    for i, t in enumerate(saved):
        if versions[i] is not None and t._vc[0] != versions[i]:
            _raise_version_error(node, t, versions[i], t._vc[0])
    if node.out_vc is not None and node.out_vc[0] != node.out_ver:
        _raise_version_error(node, None, node.out_ver, node.out_vc[0],
                             shape=node.out.shape, dtype=node.out.dtype)


def _raise_version_error(node, t, saved_v, now_v, shape=None, dtype=None) -> None:
    if t is not None:
        shape, dtype = t.data.shape, t.data.dtype
    from ..dtypes import from_numpy_dtype

    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{from_numpy_dtype(dtype)} {list(shape)}], which is output 0 of "
        f"{node.name()}, is at version {now_v}; expected version {saved_v} instead. Hint: enable "
        "anomaly detection to find the operation that failed to compute its gradient, with "
        "gradwalk.autograd.set_detect_anomaly(True)."
    )


def _sum_to(g, shape, node, i, xp):
    """Sum a broadcast gradient down to ``shape`` (the input's shape); raise if it cannot."""
    gshape = g.shape
    nd = len(gshape) - len(shape)
    if nd < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[nd:])):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)}"
        )
    if nd:
        g = xp.sum(g, axis=tuple(range(nd)))
    axes = tuple(k for k, s in enumerate(shape) if s == 1 and g.shape[k] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return g


def _tensor_hooks(hooks, g, create_graph):
    """Run tensor hooks (``register_hook``): each gets the gradient, may return a new one."""
    wrap = Tensor._wrap
    for hook in list(hooks):
        arg = g if create_graph else wrap(g)
        r = hook(arg)
        if r is not None:
            if not isinstance(r, Tensor):
                raise TypeError(f"a tensor hook must return a Tensor or None, got {type(r)}")
            if r.shape != tuple(g.shape):
                raise RuntimeError(
                    f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: "
                    f"expected {list(g.shape)}, got {list(r.shape)}"
                )
            g = r if create_graph else r.data
    return g


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True):
    """Backpropagate from ``roots`` (Tensors) seeded with ``root_grads``.

    With ``accumulate=True`` gradients land in the ``.grad`` of leaves (only of ``inputs`` when
    given). With ``accumulate=False`` (``autograd.grad``) nothing is written to ``.grad`` and the
    gradients arriving at ``inputs`` are returned, ``None`` for an input not reached.
    """
    # ---- 1. discovery: the nodes reachable from the roots and their in-degree
    root_nodes = []
    for t in roots:
        node = t.grad_fn if t.grad_fn is not None else t._accumulator()
        root_nodes.append(node)
    deps: dict = {}
    seen = set(root_nodes)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for e in node.edges:
            if e is not None:
                c = deps.get(e)
                if c is None:
                    deps[e] = 1
                    if e not in seen:
                        seen.add(e)
                        stack.append(e)
                else:
                    deps[e] = c + 1

    targets = None
    if inputs is not None:
        targets = {}
        for k, t in enumerate(inputs):
            node = t.grad_fn if t.grad_fn is not None else t._accumulator()
            targets.setdefault(node, []).append(k)
        needed = _needed(root_nodes, targets)
    captured = [None] * (len(inputs) if inputs is not None else 0)

    # ---- 2. seed the buffers with the root gradients
    buffers: dict = {}
    for node, g in zip(root_nodes, root_grads):
        prev = buffers.get(node)
        buffers[node] = g if prev is None else prev + g
    ready = []
    for node in buffers:
        if node not in deps:
            heapq.heappush(ready, (-node.seq, node))

    xp = _differentiable_xp() if create_graph else None
    delivered = set(id(g) for g in root_grads)
    obs = observers
    token = grad_mode._grad_enabled.set(create_graph)
    try:
        # ---- 3. the walk
        while ready:
            node = heapq.heappop(ready)[1]
            g = buffers.pop(node)
            if targets is not None:
                if not needed.get(node, False):
                    continue
                ks = targets.get(node)
                if ks is not None:
                    if node.pre_hooks:
                        g = _tensor_hooks(node.pre_hooks, g, create_graph)
                    for k in ks:
                        captured[k] = g
            if type(node) is AccumulateGrad:
                if accumulate:
                    _accumulate(node, g, create_graph, delivered, obs)
                continue
            if node.pre_hooks and (targets is None or node not in targets):
                g = _tensor_hooks(node.pre_hooks, g, create_graph)
            if node.retains is not None:
                _retain(node, g, create_graph)
            if node.released:
                raise RuntimeError(SECOND_BACKWARD)
            grads = _call_rule(node, g, create_graph, xp)
            if node.hooks:
                grads = _node_hooks(node, grads, g, create_graph)
            if obs:
                for o in obs:
                    o.on_node(node, g, grads)
            edges = node.edges
            for i, e in enumerate(edges):
                if e is None:
                    continue
                gi = grads[i]
                if gi is not None:
                    shape = node.shapes[i]
                    if gi.shape != shape:
                        gi = _sum_to(gi, shape, node, i, xp or np)
                    if create_graph:
                        if gi.data.dtype != node.dtypes[i]:
                            gi = gi.to(node.dtypes[i])
                    elif gi.dtype != node.dtypes[i]:
                        gi = gi.astype(node.dtypes[i])
                    prev = buffers.get(e)
                    if prev is None:
                        buffers[e] = gi
                    else:
                        buffers[e] = prev + gi
                c = deps[e] - 1
                deps[e] = c
                if c == 0:
                    if e in buffers:
                        heapq.heappush(ready, (-e.seq, e))
                    else:
                        _skip_subgraph(e, deps, buffers, ready)
            if not retain_graph:
                node.release()
    finally:
        grad_mode._grad_enabled.reset(token)
    return captured


def _skip_subgraph(node, deps, buffers, ready) -> None:
    """A node that became ready with no gradient (all rules returned None): its inputs lose a
    dependency each, without running anything. Iterative, like everything here."""
    stack = [node]
    while stack:
        n = stack.pop()
        for e in n.edges:
            if e is None:
                continue
            c = deps[e] - 1
            deps[e] = c
            if c == 0:
                if e in buffers:
                    heapq.heappush(ready, (-e.seq, e))
                else:
                    stack.append(e)


def _needed(root_nodes, targets) -> dict:
    """Which nodes lead to one of ``targets`` (iterative post-order over the DAG)."""
    needed: dict = {}
    stack = [(r, False) for r in root_nodes]
    while stack:
        node, done = stack.pop()
        if done:
            needed[node] = node in targets or any(
                needed.get(e, False) for e in node.edges if e is not None)
            continue
        if node in needed:
            continue
        needed[node] = False
        stack.append((node, True))
        for e in node.edges:
            if e is not None and e not in needed:
                stack.append((e, False))
    return needed


def _call_rule(node, g, create_graph, xp):
    """Unpack the node's saved values and call its reverse rule; a tuple of grads per input."""
    op = node.op
    saved = node.saved
    if saved is None:
        saved = (None,) * len(node.edges)
    elif node.versions is not None:
        _check_versions(node)
    params = node.params
    if create_graph:
        args = [s for s in saved]
        out = Tensor._make(node.out, node) if node.out is not None else None
    else:
        args = [s.data if isinstance(s, Tensor) else s for s in saved]
        out = node.out
        xp = np if type(g) is np.ndarray else _namespace_of(g)
    if op.vjp is None:
        raise RuntimeError(f"the derivative for '{op.name}' is not implemented")
    if len(args) == 1:
        r = op.vjp(xp, g, out, *args) if params is None else op.vjp(xp, g, out, *args, **params)
        return (r,)
    needs = tuple(e is not None for e in node.edges)
    if params is None:
        r = op.vjp(xp, g, out, *args, needs=needs)
    else:
        r = op.vjp(xp, g, out, *args, needs=needs, **params)
    if len(r) != len(args):
        raise RuntimeError(
            f"the rule of {node.name()} returned {len(r)} gradients for {len(args)} inputs")
    return r


def _namespace_of(g):
    from ..backend import xp_of

    return xp_of(g)


def _node_hooks(node, grads, g, create_graph):
    wrap = (lambda a: a) if create_graph else (lambda a: None if a is None else Tensor._wrap(a))
    for hook in list(node.hooks):
        r = hook(tuple(wrap(x) for x in grads), (wrap(g),))
        if r is not None:
            grads = tuple(x if create_graph or x is None else x.data for x in r)
    return grads


def _retain(node, g, create_graph) -> None:
    t = node.retains()
    if t is None:
        return
    if create_graph:
        t._grad = g if t._grad is None else t._grad + g
    else:
        t._grad = Tensor._wrap(g.copy()) if t._grad is None else Tensor._wrap(t._grad.data + g)


def _accumulate(node, g, create_graph, delivered, obs) -> None:
    """Step 4: add ``g`` into ``leaf.grad`` (see Note [ownership of leaf gradients])."""
    leaf = node.variable
    extra = leaf._extra
    if extra is not None and extra.hooks:
        g = _tensor_hooks(extra.hooks, g, create_graph)
    if node.pre_hooks:
        g = _tensor_hooks(node.pre_hooks, g, create_graph)
    if obs:
        for o in obs:
            o.on_accumulate(leaf, g)
    old = leaf._grad
    if create_graph:
        leaf._grad = g if old is None else old + g
    elif old is None:
        if id(g) in delivered or g.base is not None or not g.flags.writeable:
            g = g.copy()
        delivered.add(id(g))
        leaf._grad = Tensor._wrap(g)
    elif old.grad_fn is None and old.data.flags.writeable and old.data.shape == g.shape:
        old.data += g
        old._vc[0] += 1
    else:
        leaf._grad = Tensor._wrap(old.data + g)
    if extra is not None and extra.post_hooks:
        for hook in list(extra.post_hooks):
            hook(leaf)
    if node.hooks:
        for hook in list(node.hooks):
            hook((None,), (Tensor._wrap(g) if not create_graph else g,))


def warn_nonleaf_grad() -> None:
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead.",
        UserWarning,
        stacklevel=3,
    )
