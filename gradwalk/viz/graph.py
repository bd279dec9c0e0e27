"""``draw``: a picture of the graph recorded behind one or more tensors.

How the boxes get their numbers. A node does not reference the tensor it produced, so the walk
starts at the root tensors (their shape, dtype and value are known) and, for every other node,
reads what its consumers recorded about that input (a one-input elementwise op's input looks like
its output): ``consumer.shapes[i]``/``dtypes[i]`` give
the shape and dtype, and the consumer's saved input (``consumer.saved[i]``) or the node's own
saved output (``node.out``) give the value when it was kept. After ``backward()`` freed the
graph the values are gone (shapes and dtypes stay). To see every intermediate value, run the
forward inside ``gradwalk.viz.record()``: a forward hook, installed only inside that block, keeps
a copy of each small output in the node's ``metadata``. Outside it no hook is installed and
drawing costs nothing until it is called.

Grouping by module. ``record(model)`` (a context manager around the forward) tags each
node with the dotted name of the module whose ``forward`` created it; ``collapse_modules`` then
draws one box per module. Without tags, nodes are grouped by the names of the parameters they
consume (``layers.0.weight`` puts the node in ``layers.0``).
"""

from __future__ import annotations

import sys

import numpy as np

from ..autograd.explain import fmt_array, fmt_shape, local_names, short_name
from ..autograd.node import AccumulateGrad
from ..tensor import Tensor
from .picture import Picture


def draw(tensors, show_values: bool = True, show_grads: bool = True,
         collapse_modules: bool | int = False, name: str = "graph") -> Picture:
    """A picture of the graph recorded behind ``tensors`` (a tensor or a sequence).

    One box per op (``Mul`` for ``MulBackward0``) with its output's shape and dtype, and the value
    of scalars when ``show_values``; one ellipse per leaf with its name (``.name``, else the
    caller's variable name) and, after backward, its gradient when ``show_grads``. Arrows follow
    the data (input to op). ``collapse_modules`` draws one box per module (``True``: the
    innermost module; an int ``k``: the first ``k`` parts of the dotted module name).

    Example:
        >>> import gradwalk
        >>> from gradwalk.viz import draw
        >>> x = gradwalk.tensor(3.0, requires_grad=True, name="x")
        >>> y = x * x + 1
        >>> pic = draw(y)
        >>> sorted(b.label.split("\\n")[0] for b in pic.boxes.values())
        ['Add', 'Mul', 'x']
        >>> len(pic.arrows)
        3
    """
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in roots:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw() expects Tensors, got {type(t).__name__}")
    names = local_names(sys._getframe(1))
    g = _collect(roots)
    pic = Picture(name)
    if collapse_modules:
        depth = None if collapse_modules is True else int(collapse_modules)
        _draw_collapsed(pic, g, names, show_values, show_grads, depth)
    else:
        _draw_full(pic, g, names, show_values, show_grads)
    return pic


class _Graph:
    """What the walk found: nodes in discovery order, their output info, the arrows."""

    def __init__(self) -> None:
        self.order: list = []         # nodes (Node / AccumulateGrad), discovery order
        self.info: dict = {}          # node -> (shape, dtype, value or None)
        self.edges: list = []         # (input node, consumer node, input index)
        self.roots: list = []         # root nodes
        self.lone: list = []          # root tensors with no graph (leaves without grad)


def _collect(roots) -> _Graph:
    """Walk ``next_functions`` from the roots, iteratively (no recursion)."""
    g = _Graph()
    seen: set = set()
    stack = []
    for t in roots:
        node = t.grad_fn
        if node is None and t.requires_grad:
            node = t._accumulator()
        if node is None:
            g.lone.append(t)
            continue
        g.roots.append(node)
        g.info[node] = (t.shape, t.data.dtype, _value(t.data))
        if node not in seen:
            seen.add(node)
            g.order.append(node)
            stack.append(node)
    while stack:
        node = stack.pop()
        saved = node.saved
        for i, e in enumerate(node.edges):
            if e is None:
                continue
            if type(e) is tuple:  # output e[1] of a multi-output node
                e = e[0]
            g.edges.append((e, node, i))
            if e not in g.info:
                value = _recorded(e)
                s = saved[i] if saved is not None and i < len(saved) else None
                if value is not None:
                    pass
                elif isinstance(s, Tensor):
                    value = _value(s.data)
                elif getattr(e, "out", None) is not None:
                    value = _value(e.out)
                if node.shapes is not None:
                    g.info[e] = (node.shapes[i], node.dtypes[i], value)
                else:  # a one-input elementwise op: its input looks like its output
                    g.info[e] = g.info[node][:2] + (value,)
            if e not in seen:
                seen.add(e)
                g.order.append(e)
                stack.append(e)
    return g


def _recorded(node):
    """The value ``record()`` kept for ``node``, if any (scalars only are drawn)."""
    meta = node.meta if type(node) is not AccumulateGrad else None
    v = meta.get("value") if meta else None
    return _value(v) if v is not None else None


def _value(data):
    a = np.asarray(data) if type(data) is np.ndarray or np.isscalar(data) else None
    if a is None or a.size != 1:
        return None
    return a.reshape(()).item()


def _dtype(dt) -> str:
    return str(np.dtype(dt)) if dt is not None else "?"


def _leaf_label(leaf, names, show_values, show_grads) -> str:
    title = leaf.name or names.get(id(leaf)) or "leaf"
    lines = [title, f"{fmt_shape(leaf.shape)} {_dtype(leaf.data.dtype)}"]
    if show_values and leaf.data.size == 1:
        lines[-1] += f" = {fmt_array(leaf.data)}"
    if show_grads and leaf.grad is not None:
        lines.append(f"grad {fmt_array(leaf.grad.data)}")
    return "\n".join(lines)


def _op_label(node, info, show_values) -> str:
    shape, dt, value = info
    line = f"{fmt_shape(shape)} {_dtype(dt)}"
    if show_values and value is not None:
        line += f" = {fmt_array(np.asarray(value))}"
    return f"{short_name(node)}\n{line}"


def _draw_full(pic, g, names, show_values, show_grads) -> None:
    ids: dict = {}
    for k, node in enumerate(g.order):
        ids[node] = f"n{k}"
        if type(node) is AccumulateGrad:
            leaf = node.variable
            kind = "param" if type(leaf).__name__ == "Parameter" else "leaf"
            pic.add_box(ids[node], _leaf_label(leaf, names, show_values, show_grads), kind)
        else:
            kind = "root" if node in g.roots else "op"
            pic.add_box(ids[node], _op_label(node, g.info[node], show_values), kind)
    for k, t in enumerate(g.lone):
        pic.add_box(f"t{k}", _leaf_label(t, names, show_values, show_grads), "tensor")
    for src, dst, i in g.edges:
        label = ""
        if len(dst.edges) > 1:
            label = _input_name(dst, i)
        pic.add_arrow(ids[src], ids[dst], label)


def _input_name(node, i) -> str:
    names = getattr(node.op, "input_names", ())
    return names[i] if i < len(names) else str(i)


# ------------------------------------------------------------------------------- collapsing

def _module_of(node, depth) -> str | None:
    """The module tag of ``node`` (``record_modules``), or the one of its named parameters."""
    meta = node.meta if type(node) is not AccumulateGrad else None
    tag = meta.get("module") if meta else None
    if tag is None:
        if type(node) is AccumulateGrad:
            tag = _param_prefix(node.variable)
        else:
            for e in node.edges:
                if type(e) is AccumulateGrad:
                    tag = _param_prefix(e.variable)
                    if tag:
                        break
    if not tag:
        return None
    if depth is not None:
        tag = ".".join(tag.split(".")[:depth])
    return tag


def _param_prefix(leaf) -> str | None:
    name = leaf.name
    if name and "." in name:
        return name.rsplit(".", 1)[0]
    return None


def _draw_collapsed(pic, g, names, show_values, show_grads, depth) -> None:
    groups: dict = {}          # node -> box id
    members: dict = {}         # box id -> list of nodes
    box_of_module: dict = {}
    for k, node in enumerate(g.order):
        tag = _module_of(node, depth)
        if tag is None:
            bid = f"n{k}"
        else:
            bid = box_of_module.setdefault(tag, f"m{len(box_of_module)}")
        groups[node] = bid
        members.setdefault(bid, []).append(node)
    tags = {v: k for k, v in box_of_module.items()}
    for bid, nodes in members.items():
        if bid in tags:
            ops = [n for n in nodes if type(n) is not AccumulateGrad]
            params = [n.variable for n in nodes if type(n) is AccumulateGrad]
            cls = next((n.meta.get("module_type") for n in ops if n.meta), None)
            title = tags[bid] + (f" ({cls})" if cls else "")
            counts: dict = {}
            for n in ops:
                counts[short_name(n)] = counts.get(short_name(n), 0) + 1
            detail = ", ".join(f"{c}x {k}" if c > 1 else k for k, c in counts.items())
            lines = [title, f"{len(ops)} ops: {detail}" if ops else "parameters"]
            if params:
                lines.append(f"{len(params)} params, {sum(p.data.size for p in params)} values")
            out = next((n for n in ops if n in g.roots), None)
            pic.add_box(bid, "\n".join(lines), "root" if out is not None else "module")
            continue
        node = nodes[0]
        if type(node) is AccumulateGrad:
            leaf = node.variable
            kind = "param" if type(leaf).__name__ == "Parameter" else "leaf"
            pic.add_box(bid, _leaf_label(leaf, names, show_values, show_grads), kind)
        else:
            pic.add_box(bid, _op_label(node, g.info[node], show_values),
                        "root" if node in g.roots else "op")
    done = set()
    for src, dst, _ in g.edges:
        a, b = groups[src], groups[dst]
        if a != b and (a, b) not in done:
            done.add((a, b))
            pic.add_arrow(a, b)
    for k, t in enumerate(g.lone):
        pic.add_box(f"t{k}", _leaf_label(t, names, show_values, show_grads), "tensor")
