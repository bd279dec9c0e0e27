"""The cache hit: one matcher per trie step, specialised to it when the step is compiled.

Note [the hit path]
    On a cache hit the Python of the compiled function runs as in eager mode, and each op it
    applies asks the trace whether it is the step the trie expects next (Note [the trace] in
    trace.py). That question is asked once per op on every call, so it must cost much less
    than the op: the hit path is what a compiled call adds to the user's Python.

    When a step is added to the trie (a compile), ``build`` writes a *matcher* for it: a
    small function that checks the op against this one step and, when it is the step, makes
    its output. Its source is specialised to the step (the number and kinds of its inputs,
    whether it has parameters, whether its output requires grad) and its constants (the op,
    the grad mode, the input slots, the guards' shapes, dtypes and strides, the trie node)
    are closure cells, so one source serves every step of the same form and is compiled
    once. A matcher checks everything the step's key holds, component by component, without
    building the key: the op's identity, the apply function (``kind``), grad mode, the
    parameters exactly (floats by their bits: ``0.0`` is not ``-0.0``; ``True`` is not
    ``1``), and per input: a pending value of this segment at the expected slot, or an
    outside tensor (its ``requires_grad``; when first used its shape, dtype and strides and
    that it is not already an input of the segment, also not twice in this op; when used
    again, that it is the same tensor with the same array), or a Python number of the
    recorded type, or a keyed constant equal to the recorded one. It also refuses what the
    key does not say but the step needs: a tensor made by an eager op after the segment's
    node (Note [leaves met after the node]) and an outside tensor whose array was replaced
    (``x.data = ...``) since its first use (the general path runs that op eagerly).

    A matcher may refuse more than the key does (a ``Tensor`` subclass as a pending value,
    a NaN parameter): it returns ``None`` and the general path (``Segment.record``) builds
    the key and looks it up among the node's children, so a refusal costs time, never a
    wrong answer. A trie node holds the matcher of the child taken last (``fast``), so a
    function that alternates between two branches at a node misses the matcher at most once
    per switch.

    The output is made with the fewest allocations and calls: a ``LazyArray`` (slots; shape
    and dtype from the trie node) and a ``Tensor`` with ``registry._make``'s stores written
    out (while ``Tensor.__slots__`` is what ``_make`` sets; else ``_make`` is called). The
    segment's node ``CompiledFunctionBackward`` is made once, at the first output that
    requires grad. A segment that computes as it records (past a miss) is not offered to the
    matchers (``Trace.hot``): its steps take the general path.
"""

from __future__ import annotations

from math import copysign
from types import FunctionType

import numpy as np

from ..autograd.grad_mode import is_grad_enabled_fast
from ..autograd.node import AccumulateGrad, Node, edge_of
from ..ops import registry as _registry
from .codegen import CONST, EXT, SLOT
from .lazy import LazyArray

_ndarray = np.ndarray
_new = object.__new__
_MISSING = object()
_CODES: dict = {}  # matcher source -> its code (one compile per form of step)
_GLOBALS: dict = {}


def no_hit(seg, op, inputs, params, kind):
    """The matcher of a trie node without children: nothing matches."""
    return None


def build(key, child, freeze, unfreezable):
    """The matcher of the step ``key`` that leads to ``child`` (Note [the hit path])."""
    op, kind, refs, pkey, grad = key
    rec = child.rec
    consts = {"O": op, "K": kind, "G": grad, "CHILD": child, "SHAPE": child.shape,
              "DTYPE": child.dtype, "SLOT_OUT": child.depth - 1}
    L = []
    n = len(refs)
    L.append("    if op is not O or kind != K or gm() is not G:")
    L.append("        return None")
    if kind == 0:
        L.append(f"    if len(inputs) != {n}:")
        L.append("        return None")
    names = [f"x{j}" for j in range(n)]
    L.append(f"    {', '.join(names)}{',' if n == 1 else ''} = inputs")
    _params_check(L, consts, pkey, freeze, unfreezable)
    firsts = []  # input positions of outside tensors used for the first time
    first_of: dict = {}  # their ext index -> position
    consts_in = []  # input positions of Python numbers
    for j, r in enumerate(refs):
        x = names[j]
        k = r[0]
        if k == SLOT:
            consts[f"S{j}"] = r[1]
            L.append(f"    if type({x}) is not T or {x}._requires_grad is not {bool(r[2])!r}:")
            L.append("        return None")
            L.append(f"    d{j} = {x}._data")
            L.append(f"    if d{j} is not seg.lazies[S{j}]:")  # this segment's, slot S
            L.append("        return None")
        elif k == EXT:
            L.append(f"    if not isinstance({x}, T) or {x}._requires_grad is not {bool(r[2])!r}:")
            L.append("        return None")
            L.append(f"    d{j} = {x}._data")
            L.append(f"    if type(d{j}) is not NDA:")
            L.append("        return None")
            if r[2]:  # Note [leaves met after the node] in trace.py
                L.append(f"    fn{j} = {x}.grad_fn")
                L.append(f"    if fn{j} is not None and seg.node is not None and "
                         f"fn{j}.seq > seg.node.seq:")
                L.append("        return None")
            if len(r) > 3:
                consts[f"SH{j}"], consts[f"DT{j}"], consts[f"ST{j}"] = r[3], r[4], r[5]
                L.append(f"    if id({x}) in seg.ext_ids or d{j}.shape != SH{j} or "
                         f"d{j}.strides != ST{j} or (d{j}.dtype is not DT{j} and "
                         f"d{j}.dtype != DT{j}):")
                L.append("        return None")
                for f in firsts:  # the same new tensor twice in one op is another key
                    L.append(f"    if {x} is x{f}:")
                    L.append("        return None")
                firsts.append(j)
                first_of[r[1]] = j
            elif r[1] in first_of:  # again, in this op: the same tensor as there
                L.append(f"    if {x} is not x{first_of[r[1]]}:")
                L.append("        return None")
            else:
                consts[f"E{j}"] = r[1]
                L.append(f"    if seg.exts[E{j}] is not {x} or seg.ext_data[E{j}] is not d{j}:")
                L.append("        return None")
        elif k == CONST:
            consts[f"C{j}"] = r[2]
            L.append(f"    if type({x}) is not C{j}:")
            L.append("        return None")
            consts_in.append(j)
        else:
            _keyed_check(L, consts, x, j, r[1], freeze, unfreezable)
    # ---- every check passed: the step is this one; commit it
    for j in firsts:
        L.append(f"    seg.ext_ids[id(x{j})] = len(seg.exts)")
        L.append(f"    seg.exts.append(x{j})")
        L.append(f"    seg.ext_data.append(d{j})")
    for j in consts_in:
        L.append(f"    seg.consts.append(x{j})")
    L.append("    la = new(LA)")
    L.append("    la.shape = SHAPE")
    L.append("    la.dtype = DTYPE")
    L.append("    la.seg = seg")
    L.append("    la.slot = SLOT_OUT")
    L.append("    la.value = None")
    L.append("    la.meta = CHILD")
    L.append("    la.inputs = inputs")
    L.append("    seg.pos = CHILD")
    if rec.rg:
        L.append("    node = seg.node")
        L.append("    if node is None:")
        L.append("        node = seg.new_node()")
        for j in rec.ext_needs:  # Segment.add_edge, written out
            consts[f"EU{j}"] = (child.depth - 1, j)  # the use: (slot, input position)
            L.append(f"    if fn{j} is None:")
            L.append(f"        e = x{j}._accumulator()")  # a leaf (requires grad: checked)
            L.append(f"    elif type(fn{j}) is NODE:")
            L.append(f"        e = fn{j}")
            L.append("    else:")
            L.append(f"        e = edge_of(x{j}, fn{j})")
            L.append("    if type(e) is ACC and e.seq > node.seq:  # Note [leaves met after "
                     "the node]")
            L.append("        e.seq = node.seq - 0.5 / (len(seg.edges) + 1)")
            L.append("    seg.edges.append(e)")
            L.append(f"    seg.edge_uses.append(EU{j})")
        for j, r in enumerate(rec.ins):
            if rec.checks[j] and r[0] == EXT:
                consts[f"V{j}"] = r[1]
                L.append(f"    if V{j} not in seg.ext_versions:")
                L.append(f"        vc = x{j}._vcl")  # Tensor._version, written out
                L.append(f"        seg.ext_versions[V{j}] = (x{j}, 0 if vc is None else vc[0])")
        _make_tensor(L, "node", "True")
        consts["KO"], consts["NO"] = child.k_out, child.n_out  # Note [the end of a segment]
        L.append("    t._out_edge = (node, KO)")
        L.append("    node.outputs = NO")
    else:
        _make_tensor(L, "None", "False")
    L.append("    seg.tensors.append(t)")
    L.append("    seg.lazies.append(la)")
    L.append("    return t")
    names_c = sorted(consts)
    head = ", ".join(f"{c}=None" for c in names_c)
    src = f"def hit(seg, op, inputs, params, kind, {head}):\n" + "\n".join(L) + "\n"
    code = _CODES.get(src)
    if code is None:
        ns = _namespace(freeze, unfreezable)
        exec(compile(src, "<gradwalk.compile matcher>", "exec"), ns)  # our own source
        code = _CODES[src] = ns["hit"].__code__
    # the step's constants are the defaults: one tuple, read as locals
    return FunctionType(code, _namespace(freeze, unfreezable), "hit",
                        tuple(consts[c] for c in names_c))


def _namespace(freeze, unfreezable) -> dict:
    """The globals of the matchers: what every step reads."""
    if not _GLOBALS:
        _GLOBALS.update(LA=LazyArray, NDA=_ndarray, T=_registry.Tensor, NODE=Node,
                        ACC=AccumulateGrad, edge_of=edge_of,
                        gm=is_grad_enabled_fast, make=_registry._make, new=_new,
                        MISSING=_MISSING, copysign=copysign, freeze=freeze,
                        Unfreezable=unfreezable)
    return _GLOBALS


_TENSOR_SLOTS = ("_data", "grad_fn", "_requires_grad", "_vcl")


def _make_tensor(L, node: str, rg: str) -> None:
    """``t = registry._make(la, node)``, written out while ``Tensor`` has the slots that
    ``_make`` sets (a call less per op)."""
    if _registry.Tensor.__slots__ != _TENSOR_SLOTS:
        L.append(f"    t = make(la, {node})")
        return
    L += ["    t = new(T)", "    t._data = la", f"    t.grad_fn = {node}",
          f"    t._requires_grad = {rg}", "    t._vcl = None"]


def _params_check(L, consts, pkey, freeze, unfreezable) -> None:
    """The lines that check ``params`` against ``pkey``, the recorded ``freeze(params)``,
    exactly as ``freeze`` compares: the same keys, each value of the same type and bits."""
    if pkey is None:
        L.append("    if params is not None:")
        L.append("        return None")
        return
    L.append(f"    if type(params) is not dict or len(params) != {len(pkey)}:")
    L.append("        return None")
    for i, (name, frozen) in enumerate(pkey):
        consts[f"PK{i}"] = name
        L.append(f"    v = params.get(PK{i}, MISSING)")
        _value_check(L, consts, "v", f"P{i}", frozen, freeze, unfreezable)


def _keyed_check(L, consts, x, j, frozen, freeze, unfreezable) -> None:
    _value_check(L, consts, x, f"F{j}", frozen, freeze, unfreezable)


_SIMPLE = (int, str)


def _value_check(L, consts, v, name, frozen, freeze, unfreezable) -> None:
    """Lines that return ``None`` unless ``freeze(v) == frozen``, for the common forms
    without calling ``freeze``."""
    t = frozen[0] if type(frozen) is tuple and frozen else None  # a dict's is untagged
    if t is type(None) or t is bool:
        L.append(f"    if {v} is not {frozen[1]!r}:")
        L.append("        return None")
        return
    if t in _SIMPLE:
        consts[name], consts[name + "t"] = frozen[1], t
        L.append(f"    if type({v}) is not {name}t or {v} != {name}:")
        L.append("        return None")
        return
    if t is float:  # by its bits: -0.0 is not 0.0 (a NaN never passes here: the general path)
        value = float.fromhex(frozen[1])
        consts[name] = value
        L.append(f"    if type({v}) is not float or {v} != {name}:")
        L.append("        return None")
        if value == 0.0:
            consts[name + "s"] = copysign(1.0, value)
            L.append(f"    if copysign(1.0, {v}) != {name}s:")
            L.append("        return None")
        return
    if t is tuple and all(type(e) is tuple and e[0] is int for e in frozen[1]):
        consts[name] = tuple(e[1] for e in frozen[1])
        consts[name + "t"] = tuple(int for _ in frozen[1])
        L.append(f"    if type({v}) is not tuple or {v} != {name} or "
                 f"tuple(map(type, {v})) != {name}t:")
        L.append("        return None")
        return
    if isinstance(t, type) and t.__name__ == "Size":  # freeze keeps a Size's items as they are
        consts[name], consts[name + "t"] = frozen[1], t
        L.append(f"    if type({v}) is not {name}t or tuple({v}) != {name}:")
        L.append("        return None")
        return
    consts[name] = frozen
    L.append("    try:")
    L.append(f"        if {v} is MISSING or freeze({v}) != {name}:")
    L.append("            return None")
    L.append("    except Unfreezable:")
    L.append("        return None")
