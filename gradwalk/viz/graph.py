"""``draw``: a picture of the graph recorded behind one or more tensors.

How the boxes get their numbers. A node does not reference the tensor it produced, so the walk
starts at the root tensors (their shape, dtype and value are known) and, for every other node,
reads what its consumers recorded about that input (a one-input elementwise op's input looks like
its output): ``consumer.shapes[i]``/``dtypes[i]`` give the shape and dtype. Values (of scalars
and tensors of at most ``SMALL`` elements) come from what the graph holds while it is alive, and
what follows from it (``values.py``, Note [values without recording]); nothing is recorded
during normal runs. After ``backward()`` freed the graph the values are gone (shapes and dtypes
stay), unless the forward ran inside ``gradwalk.viz.record()``, which keeps a copy of each small
output in the node's ``metadata``.

Constants. The inputs that need no gradient are drawn too (dashed): the ``2`` of ``2 * x``, the
exponent of ``x ** 3``, the ``1`` of ``x + 1`` (from its output and ``x`` when both are known;
``constant`` when not), a tensor without ``requires_grad`` (by its variable name or shape). Every
arrow into an op of several inputs is labelled with PyTorch's name for that input (``self``,
``other``, ``exponent``, ``tensors[1]``).

Fused ops. ``F.cross_entropy`` runs as one op for speed; PyTorch records it as
``LogSoftmaxBackward0 -> NllLossBackward0``, and so the picture draws it as those two boxes
(``explain_names.FUSED``).

Grouping by module. ``collapse_modules`` draws one box per module: the modules come from
``record(model)`` tags, else from the modules bound to the caller's variables (a model, an
``nn.LSTM`` and a ``Linear`` called directly), else from dotted parameter names
(``collapse.py``, Note [module groups]). A module box is titled by its path and class
(``0 (Linear)``).
"""

from __future__ import annotations

import sys

import numpy as np

from ..autograd.explain import fmt_array, fmt_shape, local_names, short_name
from ..autograd.explain_names import FUSED, input_key
from ..autograd.node import AccumulateGrad
from ..tensor import Tensor
from . import collapse as C
from .picture import Picture
from .values import SMALL, find_values


def draw(tensors, show_values: bool = True, show_grads: bool = True,
         collapse_modules: bool | int = False, name: str = "graph") -> Picture:
    """A picture of the graph recorded behind ``tensors`` (a tensor or a sequence).

    One box per op (``Mul`` for ``MulBackward0``) with its output's shape and dtype, and its
    value (scalars and small tensors) when ``show_values``, with the constants it used; one
    ellipse per leaf with its name (``.name``, else the caller's variable name) and, after
    backward, its gradient when ``show_grads``. Arrows follow the data (input to op).
    ``collapse_modules`` draws one box per module (``True``: the innermost module; an int
    ``k``: the first ``k`` parts of the dotted module name).

    Example:
        >>> import gradwalk
        >>> from gradwalk.viz import draw
        >>> x = gradwalk.tensor(3.0, requires_grad=True, name="x")
        >>> y = x * x + 1
        >>> pic = draw(y)
        >>> sorted(b.label.split("\\n")[0] for b in pic.boxes.values())
        ['1', 'Add', 'Mul', 'x']
        >>> len(pic.arrows)
        4
    """
    roots = _roots(tensors)
    frame = sys._getframe(1)
    names = local_names(frame)
    g = _collect(roots)
    if show_values:
        g.values, g.consts = find_values(roots, g.order)
    pic = Picture(name)
    if collapse_modules:
        depth = None if collapse_modules is True else int(collapse_modules)
        _draw_collapsed(pic, g, names, show_values, show_grads, depth,
                        C.frame_modules(frame))
    else:
        _draw_full(pic, g, names, show_values, show_grads)
    return pic


def _roots(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    try:
        items = None if isinstance(tensors, (str, bytes)) else list(tensors)
    except TypeError:
        items = None
    if items is None:
        raise TypeError(f"draw() expects a Tensor or a list of Tensors, got "
                        f"{type(tensors).__name__} ({tensors!r:.40}): pass the tensor whose "
                        "graph to draw, e.g. draw(y) after y = x * 2 with x = "
                        "gradwalk.tensor(3.0, requires_grad=True)")
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw() expects Tensors, got {type(t).__name__} ({t!r:.40}) in "
                            "the list")
    return items


class _Graph:
    """What the walk found: nodes in discovery order, their output info, the arrows."""

    def __init__(self) -> None:
        self.order: list = []         # nodes (Node / AccumulateGrad), discovery order
        self.info: dict = {}          # node -> (shape, dtype)
        self.edges: list = []         # (input node, consumer node, input index)
        self.roots: list = []         # root nodes
        self.lone: list = []          # root tensors with no graph (leaves without grad)
        self.values: dict = {}        # node -> output array (values.find_values)
        self.consts: dict = {}        # (node, input index) -> constant


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
        g.info[node] = (t.shape, t._data.dtype)
        if node not in seen:
            seen.add(node)
            g.order.append(node)
            stack.append(node)
    while stack:
        node = stack.pop()
        for i, e in enumerate(node.edges):
            if e is None:
                continue
            if type(e) is tuple:  # output e[1] of a multi-output node
                e = e[0]
            g.edges.append((e, node, i))
            if e not in g.info:
                if node.shapes is not None:
                    g.info[e] = (node.shapes[i], node.dtypes[i])
                else:  # a one-input elementwise op: its input looks like its output
                    g.info[e] = g.info[node]
            if e not in seen:
                seen.add(e)
                g.order.append(e)
                stack.append(e)
    return g


_DTYPE_NAMES: dict = {}


def _dtype(dt) -> str:
    if dt is None:
        return "?"
    name = _DTYPE_NAMES.get(dt)
    if name is None:
        name = _DTYPE_NAMES[dt] = str(np.dtype(dt))
    return name


def _shown(value) -> str | None:
    """The value as drawn: scalars and tensors of at most ``SMALL`` elements."""
    if value is None:
        return None
    a = np.asarray(value)
    return fmt_array(a) if a.size <= SMALL else None


def _title(leaf, names) -> str:
    """A leaf's name: ``.name`` (a parameter's caller name first: ``model.0.weight``)."""
    if leaf.name and not (type(leaf).__name__ == "Parameter" and id(leaf) in names):
        return leaf.name
    return names.get(id(leaf)) or "leaf"


def _leaf_label(leaf, names, show_values, show_grads) -> str:
    lines = [_title(leaf, names), f"{fmt_shape(leaf.shape)} {_dtype(leaf._data.dtype)}"]
    if show_values and type(leaf._data) is np.ndarray:
        v = _shown(leaf._data)
        if v is not None:
            lines[-1] += f" = {v}"
    if show_grads and leaf.grad is not None:
        lines.append(f"grad {fmt_array(leaf.grad._data)}")
    return "\n".join(lines)


def _op_label(title, info, value) -> str:
    shape, dt = info
    line = f"{fmt_shape(shape)} {_dtype(dt)}"
    if value is not None:
        line += f" = {value}"
    return f"{title}\n{line}"


def _const_label(value, name=None) -> tuple:
    """``(label, kind)`` of a constant input's box: a number, or a tensor's name and shape."""
    if value is None:
        return "constant", "const"
    a = np.asarray(value)
    if a.ndim == 0 and name is None:
        return fmt_array(a), "const"
    v = _shown(a)
    text = f"{fmt_shape(a.shape)} {_dtype(a.dtype)}" + (f" = {v}" if v else "")
    return f"{name or 'constant'}\n{text}", "tensor"


def _extra_inputs(node, g, names, show_values) -> list:
    """The inputs drawn besides the edges: ``(key, label, kind)`` per constant."""
    if not show_values or type(node) is AccumulateGrad:
        return []
    out = []
    saved = node.saved
    for i, e in enumerate(node.edges):
        if e is None:
            s = saved[i] if saved is not None and i < len(saved) else None
            name = names.get(id(s)) if isinstance(s, Tensor) else None
            label, kind = _const_label(g.consts.get((node, i)), name)
            out.append((input_key(node, i), label, kind))
    params = node.params
    op = getattr(node.op, "name", None)
    if params and op == "pow" and "exponent" in params:
        out.append(("exponent", fmt_array(np.asarray(params["exponent"])), "const"))
    elif op == "square" and node.name() == "PowBackward0":  # x**2 records square(x)
        out.append(("exponent", "2", "const"))
    target = params.get("target") if params and op in FUSED else None
    if target is not None:
        label, _ = _const_label(np.asarray(target), "target")
        out.append(("target", label, "tensor"))
    return out


def _draw_full(pic, g, names, show_values, show_grads) -> None:
    ids: dict = {}       # node -> the box its output comes from
    entry: dict = {}     # node -> the box its inputs go into (a fused op's first box)
    n_extra: dict = {}   # node -> how many constant inputs it has drawn
    k_const = 0
    for k, node in enumerate(g.order):
        bid = ids[node] = entry[node] = f"n{k}"
        if type(node) is AccumulateGrad:
            leaf = node.variable
            kind = "param" if type(leaf).__name__ == "Parameter" else "leaf"
            pic.add_box(bid, _leaf_label(leaf, names, show_values, show_grads), kind)
            continue
        kind = "root" if node in g.roots else "op"
        value = _shown(g.values.get(node)) if show_values else None
        chain = FUSED.get(getattr(node.op, "name", None))
        extra = _extra_inputs(node, g, names, show_values)
        n_extra[node] = len(extra)
        into = bid
        if chain:  # drawn as PyTorch's chain of nodes: the input goes into the first box
            first = entry[node] = f"{bid}a"
            inner = _fused_value(node, g) if show_values else None
            pic.add_box(first, _op_label(short_name_of(chain[0]), _fused_info(node, g),
                                         inner), "op")
            pic.add_box(bid, _op_label(short_name_of(chain[-1]), g.info[node], value), kind)
            pic.add_arrow(first, bid, "self" if extra else "")
        else:
            pic.add_box(bid, _op_label(short_name(node), g.info[node], value), kind)
        for key, label, ckind in extra:
            cid = f"c{k_const}"
            k_const += 1
            pic.add_box(cid, label, ckind)
            pic.add_arrow(cid, into, key)
    for k, t in enumerate(g.lone):
        pic.add_box(f"t{k}", _leaf_label(t, names, show_values, show_grads), "tensor")
    for src, dst, i in g.edges:
        label = ""
        several = len(dst.edges) + n_extra.get(dst, 0) > 1
        if several and not FUSED.get(getattr(dst.op, "name", None)):
            label = input_key(dst, i)
        pic.add_arrow(ids[src], entry[dst], label)


def short_name_of(node_name: str) -> str:
    """``LogSoftmax`` for ``LogSoftmaxBackward0``."""
    return node_name[:-len("Backward0")] if node_name.endswith("Backward0") else node_name


def _fused_info(node, g) -> tuple:
    """Shape and dtype of the inner output of a fused op (log_softmax keeps its input's)."""
    e = node.edges[0]
    if node.shapes is not None:
        return node.shapes[0], node.dtypes[0]
    return g.info.get(e, (None, None))


def _fused_value(node, g):
    """The log-softmax inside a fused cross-entropy, when its input's value is known."""
    e = node.edges[0]
    x = g.values.get(e) if e is not None else None
    if x is None or np.size(x) > SMALL or np.ndim(x) != 2:
        return None
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=1, keepdims=True)
    z = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    return fmt_array(z.astype(np.asarray(g.values[e]).dtype))


# ------------------------------------------------------------------------------- collapsing

def _draw_collapsed(pic, g, names, show_values, show_grads, depth, modules) -> None:
    group_of, classes = C.groups(g, modules)
    groups: dict = {}          # node -> box id
    members: dict = {}         # box id -> list of nodes
    box_of_module: dict = {}
    for k, node in enumerate(g.order):
        tag = group_of.get(node)
        if tag is None:
            bid = f"n{k}"
        else:
            bid = box_of_module.setdefault(C.cut(tag, depth), f"m{len(box_of_module)}")
        groups[node] = bid
        members.setdefault(bid, []).append(node)
    tags = {v: k for k, v in box_of_module.items()}
    for bid, nodes in members.items():
        if bid in tags:
            ops = [n for n in nodes if type(n) is not AccumulateGrad]
            params = [n.variable for n in nodes if type(n) is AccumulateGrad]
            cls = classes.get(tags[bid])
            title = tags[bid] + (f" ({cls})" if cls else "")
            counts: dict = {}
            for n in ops:
                counts[short_name(n)] = counts.get(short_name(n), 0) + 1
            detail = ", ".join(f"{c}x {k}" if c > 1 else k for k, c in counts.items())
            lines = [title, f"{len(ops)} ops: {detail}" if ops else "parameters"]
            if params:
                lines.append(f"{len(params)} params, {sum(p._data.size for p in params)} values")
            out = next((n for n in ops if n in g.roots), None)
            pic.add_box(bid, "\n".join(lines), "root" if out is not None else "module")
            continue
        node = nodes[0]
        if type(node) is AccumulateGrad:
            leaf = node.variable
            kind = "param" if type(leaf).__name__ == "Parameter" else "leaf"
            pic.add_box(bid, _leaf_label(leaf, names, show_values, show_grads), kind)
        else:
            value = _shown(g.values.get(node)) if show_values else None
            pic.add_box(bid, _op_label(short_name(node), g.info[node], value),
                        "root" if node in g.roots else "op")
    done = set()
    for src, dst, _ in g.edges:
        a, b = groups[src], groups[dst]
        if a != b and (a, b) not in done:
            done.add((a, b))
            pic.add_arrow(a, b)
    for k, t in enumerate(g.lone):
        pic.add_box(f"t{k}", _leaf_label(t, names, show_values, show_grads), "tensor")
