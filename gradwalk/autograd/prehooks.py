"""Step 3 of the backward walk (Note [the walk] in ``engine.py``), for the nodes that have
hooks: the tensor's hooks, ``retain_grad`` and node pre-hooks, in PyTorch's order; with
``inputs`` (``autograd.grad``, ``backward(inputs=...)``), which nodes lead to an input
(``needed``) and the capture of an input's gradient (``capture``).

Kept out of the engine's module: a walk without hooks and inputs never calls them.
"""

from __future__ import annotations

import numpy as np

from .hooks import node_prehooks, retain, tensor_hooks
from .node import AccumulateGrad, MultiNode
from .zeros import MaskedGrad

_ndarray = np.ndarray


def needed(root_nodes, targets) -> dict:
    """Which nodes lead to one of ``targets``: the nodes reachable from the roots, then, in
    creation order (a node's producers were all created before it, Note [the walk]), whether
    each is a target or has a producer that leads to one."""
    seen: dict = {}
    stack = list(root_nodes)
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node in seen:
            continue
        seen[node] = False
        for e in node.edges:
            if e is not None:
                push(e[0] if type(e) is tuple else e)
    for node in sorted(seen, key=_seq):
        if node in targets:
            seen[node] = True
            continue
        for e in node.edges:
            if e is not None and seen[e[0] if type(e) is tuple else e]:
                seen[node] = True
                break
    return seen


def _seq(node) -> int:
    return node.seq


def capture(w, node, g):
    """Step 3, with ``inputs``: run the input's tensor hooks and keep its gradient."""
    multi = type(g) is list
    for k, j in w.targets[node]:
        gj = g[j] if multi else g
        if gj is None:
            continue
        hooks = _tensor_hook_list(node, j)
        if hooks:
            gj = tensor_hooks(hooks, gj, w.create_graph)
            if multi:
                g[j] = gj
            else:
                g = gj
        w.captured[k] = gj if type(gj) is not MaskedGrad else gj.view(_ndarray)
    return g


def _tensor_hook_list(node, j):
    if isinstance(node, MultiNode):
        hooks = node.out_hooks
        return hooks[j] if hooks is not None else None
    if type(node) is AccumulateGrad:
        return None  # a leaf's hooks run in ``_accumulate``
    return node.pre_hooks.tensor if node.pre_hooks is not None else None


def pre_hooks(w, node, g):
    """Step 3: before the rule, in PyTorch's order: the tensor's hooks, ``retain_grad``, node
    pre-hooks. A multi-output node's ``g`` is its list of slots."""
    cg = w.create_graph
    captured = w.targets is not None and node in w.targets  # tensor hooks ran in _capture
    if type(g) is list:
        return _pre_hooks_multi(w, node, g, captured)
    pre = node.pre_hooks
    if pre is not None and pre.tensor and not captured:
        g = tensor_hooks(pre.tensor, g, cg)
    if node.retains is not None:
        retain(node.retains, g, cg)
    if pre is not None and pre.node:
        g = node_prehooks(node, pre.node, (g,), cg)[0]
    return g


def _pre_hooks_multi(w, node, slots, captured):
    cg = w.create_graph
    done = {j for _, j in w.targets[node]} if captured else ()
    hooks, retains = node.out_hooks, node.out_retains
    for j in range(len(slots)):
        gj = slots[j]
        if gj is None:
            continue
        if hooks is not None and hooks[j] and j not in done:
            slots[j] = gj = tensor_hooks(hooks[j], gj, cg)
        if retains is not None and retains[j] is not None:
            retain(retains[j], gj, cg)
    pre = node.pre_hooks
    if pre is not None and pre.node:
        slots[:] = node_prehooks(node, pre.node, tuple(slots), cg)
    return slots
