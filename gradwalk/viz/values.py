"""The values a picture shows: what the graph still holds, and what follows from it.

Note [values without recording]
    A node does not keep its output (only what its rule needs), so the picture finds values in
    four places while the graph is alive, cheapest first: the root tensors and the leaves
    themselves; what ``viz.record()`` copied (if the forward ran inside it); the inputs that a
    consumer saved (``consumer.saved[i]`` is the ``i``-th input's value) and the outputs that a
    node saved (``node.out``); and, for the rest, a re-run of the node's forward on the values of
    its inputs (``op.forward(numpy, *inputs, **params)``), in creation order (``node.seq``),
    for intermediates of at most ``CAP`` elements. Ops are pure functions of their inputs and
    parameters (random ops such as dropout record their mask as an input), so the re-run gives
    what the forward gave, unless a leaf was changed in place since: so every re-run value that
    can be checked (against a root, or a value some node saved) is checked, and on any mismatch
    the picture shows only the values the graph held. A constant that a node did not keep (the
    ``1`` of ``x + 1``: ``add`` saves nothing) follows from its output and its other input
    (``out - x``) when both are known. Nothing of this runs outside ``draw``: normal ops pay
    nothing.

Example:
    >>> import gradwalk
    >>> from gradwalk.viz.values import find_values
    >>> x = gradwalk.tensor(3.0, requires_grad=True)
    >>> y = x ** 2 + 1
    >>> vals, consts = find_values([y])
    >>> float(vals[y.grad_fn.next_functions[0][0]]), float(consts[(y.grad_fn, 1)])
    (9.0, 1.0)
"""

from __future__ import annotations

import numpy as np

from ..autograd.node import AccumulateGrad
from ..tensor import Tensor

CAP = 4096  # the largest intermediate (in elements) that the picture re-computes
SMALL = 6   # values of at most this many elements are drawn

# ops that change their input in place or read state: never re-run
_NO_RERUN = {"copy", "fill", "copy_slices", "index_put", "scatter", "scatter_add", "index_add",
             "to_device", "conv_input_grad", "conv_weight_grad"}


def _array(v):
    """A saved value as an ndarray or a Python number, or ``None`` (packed, on a device...)."""
    if isinstance(v, Tensor):
        v = v._data
    if type(v) is np.ndarray:
        return v
    if isinstance(v, (bool, int, float, np.number)):
        return v
    return None


def saved_input(node, i: int):
    """The value ``node`` saved for its input ``i`` (array or number), or ``None``."""
    saved = node.saved
    if saved is None or i >= len(saved) or saved[i] is None:
        return None
    return _array(saved[i])


def find_values(roots, nodes=None) -> tuple:
    """``(values, constants)``: ``{node: output array}`` and ``{(node, i): constant}`` for the
    graph behind the ``roots`` tensors (Note [values without recording]).

    ``nodes`` (the graph's nodes, if the caller walked it already) saves a walk.
    """
    if nodes is None:
        nodes = _walk(roots)
    known: dict = {}
    for t in roots:
        node = t.grad_fn if t.grad_fn is not None else (
            t._accumulator() if t.requires_grad else None)
        if node is not None and type(t._data) is np.ndarray:
            known[node] = t._data
    for node in nodes:
        if type(node) is AccumulateGrad:
            if type(node.variable._data) is np.ndarray:
                known.setdefault(node, node.variable._data)
            continue
        meta = node.meta
        if meta and meta.get("value") is not None:
            known.setdefault(node, np.asarray(meta["value"]))
        out = node.out
        if type(out) is np.ndarray:
            known.setdefault(node, out)
        for i, e in enumerate(node.edges):
            if e is not None and type(e) is not tuple and e not in known:
                v = saved_input(node, i)
                if type(v) is np.ndarray:
                    known[e] = v
    consts: dict = {}
    for node in nodes:
        if type(node) is AccumulateGrad:
            continue
        for i, e in enumerate(node.edges):
            if e is None:
                v = saved_input(node, i)
                if v is not None:
                    consts[(node, i)] = v
    if any(getattr(n, "released", False) for n in nodes):
        return known, consts  # after backward: the saved values are gone, no re-runs
    with np.errstate(all="ignore"):
        return _rerun_all(nodes, known, consts)


def _rerun_all(nodes, known, consts) -> tuple:
    values = dict(known)
    derived: dict = {}
    ok = True
    for node in sorted((n for n in nodes if type(n) is not AccumulateGrad), key=_seq):
        args, missing = _inputs(node, values, consts, derived)
        if missing is not None:
            c = _derive(node, args, missing, values.get(node))
            if c is not None:
                derived[(node, missing)] = c
            continue
        if args is None or node.op.name in _NO_RERUN:
            continue
        if node in known and np.size(known[node]) > CAP:
            continue
        out = _rerun(node, args)
        if out is None:
            continue
        if node in known:
            if not _same(out, known[node]):
                ok = False
                break
        else:
            values[node] = out
    if not ok:
        return known, consts
    consts.update(derived)
    return values, consts


def _seq(node):
    return node.seq


def _walk(roots) -> list:
    seen: dict = {}
    stack = []
    for t in roots:
        n = t.grad_fn if t.grad_fn is not None else (
            t._accumulator() if t.requires_grad else None)
        if n is not None and n not in seen:
            seen[n] = None
            stack.append(n)
    while stack:
        for e in stack.pop().edges:
            if type(e) is tuple:  # output k of a multi-output node: (node, k)
                e = e[0]
            if e is not None and e not in seen:
                seen[e] = None
                stack.append(e)
    return list(seen)


def _inputs(node, values, consts, derived) -> tuple:
    """``(args, missing)``: the inputs' values, and the index of the one constant whose value
    is unknown (``None`` if none). ``args`` is ``None`` when an input's value is unknown."""
    args = []
    missing = None
    for i, e in enumerate(node.edges):
        if type(e) is tuple:  # a piece of a multi-output op: its value is not re-derived
            return None, None
        if e is None:
            v = consts.get((node, i), derived.get((node, i)))
            if v is None:
                if missing is not None:
                    return None, None
                missing = i
        else:
            v = values.get(e)
            if v is None or np.size(v) > CAP:
                return None, None
        args.append(v)
    return args, missing


def _derive(node, args, missing, out):
    """The constant input ``missing`` of an add or a subtraction, from its output and the other
    input (``x + c = out`` gives ``c = out - x``), or ``None``."""
    op = node.op.name
    if out is None or args is None or len(args) != 2 or op not in ("add", "sub", "rsub"):
        return None
    other = args[1 - missing]
    try:
        with np.errstate(all="ignore"):
            if op == "add":
                c = out - other
            elif missing == 1:  # a - c = out
                c = other - out
            else:               # c - b = out
                c = out + other
    except (TypeError, ValueError):
        return None
    c = np.asarray(c)
    if node.shapes is None and c.size > 1:  # a Python number (x + 1): one value broadcast
        if not np.all(c == c.reshape(-1)[0]):
            return None
        c = c.reshape(-1)[:1].reshape(())
    if c.dtype.kind == "f" and np.all(np.isfinite(c)):
        r = np.round(c, 5)  # float32 arithmetic: 16 - 15 may not give exactly 1
        if np.allclose(r, c, rtol=1e-6, atol=1e-6):
            c = r.astype(c.dtype)
    return c


def _rerun(node, args):
    params = node.params or {}
    try:
        out = node.op.forward(np, *args, **params)
    except Exception:
        return None
    if isinstance(out, (int, float, np.number)):
        out = np.asarray(out)
    if type(out) is not np.ndarray or out.size > CAP:
        return None
    return out


def _same(a, b) -> bool:
    try:
        a = np.asarray(a)
        b = np.asarray(b)
        if a.shape != b.shape:
            return False
        if np.array_equal(a, b):  # the usual case: the same op on the same inputs
            return True
        return bool(np.allclose(a, b, rtol=1e-4, atol=1e-6, equal_nan=True))
    except (TypeError, ValueError):
        return False
