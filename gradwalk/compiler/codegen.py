"""The programs of a compiled region: the forward as generated Python source, the backward.

Note [the program's arithmetic is eager's]
    A program computes each value with the op's own ``forward`` on the same arrays, promoted
    the same way and on NumPy scalars for 0-d elementwise data exactly where
    ``registry.apply1``/``apply2``/``apply`` do (``k1``/``k2``/``kn`` below are their array
    paths, written out once more), so its numbers are eager's, bit for bit. Its backward calls
    each op's declared ``vjp`` in reverse creation order with the arguments the engine's
    ``_fast1``/``_fast2``/``_call_rule`` would pass (saved inputs, saved output, ``needs``),
    fits each gradient with the engine's ``_fit`` and adds gradients in the engine's order
    (``prev + g``, latest consumer first). What goes away is the per-op bookkeeping: no
    ``Node``, no ``Tensor`` per op, no heap, no edge per value.
"""

from __future__ import annotations

import re

import numpy as np

from ..autograd import engine as _engine
from ..autograd.messages import SECOND_BACKWARD, raise_version_error
from ..autograd.node import Node
from ..autograd.zeros import MaskedGrad, masked_call
from ..dtypes import promote_pair as _promote2
from ..ops import registry as _registry
from . import passes, segend

_ndarray = np.ndarray
_asarray = np.asarray
_as_out = _registry._as_out

SLOT, EXT, CONST, KEYED = 0, 1, 2, 3  # the kinds of an op input reference (``ref[0]``)


# ------------------------------------------------------------------------ forward kernels
def k1(op, data, params):
    """``registry.apply1``'s array path."""
    if data.ndim or not op.elementwise:
        out = op.forward(np, data) if params is None else op.forward(np, data, **params)
        return out if type(out) is _ndarray else _as_out(out)
    scalar = data[()]  # Note [0-d scalars] in ops/registry.py
    return _asarray(op.forward(np, scalar) if params is None else op.forward(np, scalar, **params))


def k2(op, input_data, other_data, params):
    """``registry.apply2``'s array path (``other_data`` an array or a Python number)."""
    if type(other_data) is _ndarray:
        if input_data.dtype is not other_data.dtype:
            input_data, other_data = _promote2(input_data, other_data)
    elif type(other_data) is float and input_data.dtype.kind != "f":
        input_data, other_data = _promote2(input_data, other_data)
    if input_data.ndim == 0 and op.elementwise and (
            type(other_data) is not _ndarray or other_data.ndim == 0):
        a = input_data[()]
        b = other_data[()] if type(other_data) is _ndarray else other_data
        return _asarray(op.forward(np, a, b) if params is None else op.forward(np, a, b, **params))
    out = (op.forward(np, input_data, other_data) if params is None
           else op.forward(np, input_data, other_data, **params))
    return out if type(out) is _ndarray else _as_out(out)


def kn(op, datas, params):
    """``registry.apply``'s array path."""
    if op.elementwise and len(datas) == 2:
        datas = _promote2(*datas)
    out = op.forward(np, *datas) if params is None else op.forward(np, *datas, **params)
    return out if type(out) is _ndarray else _as_out(out)


def run_kernel(rec, datas):
    """One recorded op on its input arrays (the interpreter of a trace that misses the cache)."""
    if rec.kind == 1:
        return k1(rec.op, datas[0], rec.params)
    if rec.kind == 2:
        return k2(rec.op, datas[0], datas[1], rec.params)
    return kn(rec.op, datas, rec.params)


# ------------------------------------------------------------------------ the forward source
def _arg(ref) -> str:
    kind = ref[0]
    if kind == SLOT:
        return f"v{ref[1]}"
    if kind == EXT:
        return f"x{ref[1]}"
    if kind == CONST:
        return f"c[{ref[1]}]"
    return f"k{id(ref) & 0xffff}"


def forward_source(recs, n_ext: int, name: str = "forward", meta=None,
                   dead: frozenset = frozenset(), backend: str = "numpy") -> tuple[str, dict]:
    """The Python source of the forward program of ``recs`` and the namespace it runs in.
    With ``meta`` (``(slot shapes, slot dtypes, ext shapes, ext dtypes)``), 0-d elementwise
    steps are written out on NumPy scalars as ``apply1``/``apply2`` compute them (Note [0-d
    scalars] in ops/registry.py): ``v = asarray(f(np, a[()], c))`` and ``s = v[()]`` for the
    next step, without the kernel call; elementwise ops with an inline form are written as
    their NumPy expression (Note [the passes keep eager's bits] in passes.py). ``dead`` are
    the values nobody can read (Note [dead values] in passes.py): they are returned as
    ``None``, computed only when a value that is read needs them, and their buffers are
    reused in place by their one consumer. With ``backend="numba"``, runs of elementwise array
    steps are one fused loop (Note [numba's tolerance] in numba_backend.py).

    Example:
        >>> src, ns = forward_source([], 0)
        >>> print(src)
        def forward(x, c):
            return ()
    """
    ns: dict = {"k1": k1, "k2": k2, "kn": kn, "np": np, "_asarray": _asarray}
    ns.update(passes.namespace())  # a gradwalk module: NumPy's warnings stay quiet in it
    lines = [f"def {name}(x, c):"]
    if n_ext:
        lines.append("    " + ", ".join(f"x{i}" for i in range(n_ext)) + (", = x" if n_ext == 1
                                                                            else " = x"))
    alias = passes.duplicates(recs, dead) if dead else {}  # a dead repeat reads the first
    ins = [tuple((SLOT, alias.get(r[1], r[1])) if r[0] == SLOT else r for r in rec.ins)
           for rec in recs]
    need = set(range(len(recs))) - dead
    for i in range(len(recs) - 1, -1, -1):  # what the values that are read are made from
        if i in need:
            need.update(ref[1] for ref in ins[i] if ref[0] == SLOT)
    uses = [0] * len(recs)
    consumers: list = [[] for _ in recs]
    for i in range(len(recs)):
        for ref in ins[i]:
            if ref[0] == SLOT:
                uses[ref[1]] += 1
                if i in need:
                    consumers[ref[1]].append(i)
    run = None  # the fused run being collected (the numba backend)
    fuse = None
    if backend == "numba" and meta is not None:
        from . import numba_backend as fuse
    fresh: set = set()  # values in a buffer of their own, made here (the in-place candidates)
    scal: set = set()  # names with a scalar twin ``<name>s`` already computed
    optional: dict = {}  # slot -> the line index of ``v = _asarray(vs)`` (dropped if unread)

    def scalar(arg: str) -> str:
        if arg not in scal:
            lines.append(f"    {arg}s = {arg}[()]")
            scal.add(arg)
        return arg + "s"

    def scalar_step(i, expr, where):
        lines.append(f"    v{i}s = {expr}{where}")
        optional[i] = len(lines)
        lines.append(f"    v{i} = _asarray(v{i}s)")
        scal.add(f"v{i}")

    for i, rec in enumerate(recs):
        if i not in need:
            continue
        if run is not None and (rec.op.name not in fuse.FUSED or not _fusable(rec, i, meta, run)):
            run.emit(lines, ns, consumers, need - dead)
            run = None
        ns[f"o{i}"] = rec.op
        p = "None"
        if rec.params is not None:
            ns[f"p{i}"] = rec.params
            p = f"p{i}"
        args, shapes, dtypes = [], [], []
        refs = ins[i]
        for ref in refs:
            if ref[0] == KEYED:
                key = f"k{i}_{len(args)}"
                ns[key] = ref[1]
                args.append(key)
                shapes.append(None)
                dtypes.append(None)
            else:
                args.append(_arg(ref))
                if meta is not None and ref[0] in (SLOT, EXT):
                    sh, dt = (meta[0], meta[1]) if ref[0] == SLOT else (meta[2], meta[3])
                    shapes.append(sh[ref[1]])
                    dtypes.append(dt[ref[1]])
                else:
                    shapes.append(None)
                    dtypes.append(None)
        where = f"  # {rec.op.name} at {rec.loc}"
        fast = meta is not None and rec.op.elementwise and shapes[0] == ()
        extra = ", **" + p if p != "None" else ""
        inline = p == "None" and passes.FORWARD.get(rec.op.name) is not None
        if fast and rec.kind == 1:
            if inline:  # Note [the passes keep eager's bits]
                scalar_step(i, passes.forward_expr(rec.op, [scalar(args[0])]), where)
                continue
            lines.append(f"    v{i} = _asarray(o{i}.forward(np, {scalar(args[0])}{extra})){where}")
            continue
        if fast and rec.kind == 2 and rec.ins[1][0] in (SLOT, EXT) and shapes[1] == () and (
                dtypes[0] == dtypes[1]):
            other = scalar(args[1])
        elif fast and rec.kind == 2 and rec.ins[1][0] == CONST:
            other = args[1]  # the input is floating (Note [what the trace refuses]): no cast
        else:
            other = None
        if other is not None:
            if inline:
                scalar_step(i, passes.forward_expr(rec.op, [scalar(args[0]), other]), where)
                continue
            lines.append(f"    v{i} = _asarray(o{i}.forward(np, {scalar(args[0])}, {other}"
                         f"{extra})){where}")
            continue
        if fuse is not None and inline and rec.op.name in fuse.FUSED and _fusable(
                rec, i, meta, None):
            line = f"    v{i} = {passes.forward_expr(rec.op, args)}{where}"
            if run is None:
                run = fuse.Run(meta[0][i], meta[1][i], len(lines))
                lines.append("")
            run.add(rec.op, i, args, refs, line)
            fresh.add(i)
            continue
        if inline and meta is not None and _array_inline(rec, shapes, dtypes):
            # an array (ndim > 0) result: the expression gives a fresh ndarray, as k1/k2 do
            into = None
            for j, ref in enumerate(refs):  # Note [dead values]: a dead input's buffer
                s = ref[1]
                if (ref[0] == SLOT and s in dead and s in fresh and uses[s] == 1
                        and meta[0][s] == meta[0][i] and meta[1][s] == meta[1][i]):
                    into = args[j]
                    break
            expr = passes.forward_expr(rec.op, args, into)
            lines.append(f"    v{i} = {expr}{where}")
            fresh.add(i)
            continue
        if rec.kind == 1:
            call = f"k1(o{i}, {args[0]}, {p})"
        elif rec.kind == 2:
            call = f"k2(o{i}, {args[0]}, {args[1]}, {p})"
        else:
            call = f"kn(o{i}, ({', '.join(args)}{',' if len(args) == 1 else ''}), {p})"
        if rec.op.name in passes.FRESH:
            fresh.add(i)
        lines.append(f"    v{i} = {call}{where}")
    if run is not None:
        run.emit(lines, ns, consumers, need - dead)
    out = ", ".join("None" if i in dead else f"v{i}" for i in range(len(recs)))
    lines.append(f"    return ({out}{',' if len(recs) == 1 else ''})")
    if optional:  # a scalar step's array only where it is returned or read as an array
        text = "\n".join(ln for k, ln in enumerate(lines) if k not in optional.values())
        read = set(re.findall(r"\bv(\d+)\b", text))
        drop = {k for s, k in optional.items() if str(s) not in read}
        lines = [ln for k, ln in enumerate(lines) if k not in drop]
    lines.extend(ns.pop("__loops__", ()))  # the fused loops, for explain()
    return "\n".join(lines), ns


def _array_inline(rec, shapes, dtypes) -> bool:
    """Whether an elementwise step on arrays may be written as its expression: no promotion
    (``k1``/``k2`` would cast first) and an ndarray result (an input with ``ndim > 0``)."""
    if rec.kind == 1:
        return bool(shapes[0])
    if rec.kind != 2:
        return False
    kind = rec.ins[1][0]
    if kind == CONST:  # a floating input (Note [what the trace refuses]) and a Python number
        return bool(shapes[0])
    if kind not in (SLOT, EXT) or shapes[1] is None or dtypes[0] != dtypes[1]:
        return False
    return bool(shapes[0]) or bool(shapes[1])


def _fusable(rec, i, meta, run) -> bool:
    """Whether step ``i`` joins a fused loop (``run``: the one being collected): an inline
    elementwise op whose tensor inputs all have its output's shape and dtype."""
    if rec.params is not None or not rec.op.elementwise or rec.op.name not in passes.FORWARD:
        return False
    shape, dtype = meta[0][i], meta[1][i]
    if not shape or (run is not None and (run.shape != shape or run.dtype != dtype)):
        return False
    for ref in rec.ins:
        kind = ref[0]
        if kind == SLOT or kind == EXT:
            sh, dt = (meta[0], meta[1]) if kind == SLOT else (meta[2], meta[3])
            if sh[ref[1]] != shape or dt[ref[1]] != dtype:
                return False
        elif kind != CONST:
            return False
    return True


def _backend() -> str:
    """The backend of the compiled call whose segment is being compiled."""
    fn = getattr(getattr(_registry._trace, "trace", None), "fn", None)
    return getattr(fn, "backend", "numpy")


def compile_forward(recs, n_ext: int, meta=None, dead: frozenset = frozenset(),
                    backend: str | None = None):
    """The forward program of ``recs``: a function ``(ext_arrays, consts) -> values``, and
    its source. The function carries the plan of its variants without the ``dead`` values
    (``fn.plan``, Note [dead values] in passes.py)."""
    backend = _backend() if backend is None else backend
    src, ns = forward_source(recs, n_ext, meta=meta, dead=dead, backend=backend)
    exec(compile(src, "<gradwalk.compile forward>", "exec"), ns)  # our own source
    fn = ns["forward"]
    if not dead:
        fn.plan = passes.Plan(recs, n_ext, meta, backend)
    return fn, src


def run_forward(program, seg) -> list:
    """The values of ``seg`` by ``program``: the variant without the values nobody can read
    (Note [dead values] in passes.py), compiled on its first use."""
    return run_forward_dead(program, seg)[0]


def run_forward_dead(program, seg) -> tuple:
    """``run_forward``'s values and the dead slots of the variant that made them (``None``
    for the whole program: every value computed)."""
    fn = program.forward
    plan = getattr(fn, "plan", None)
    dead = None if plan is None else plan.dead(seg)
    if not dead:
        return fn(seg.ext_data, seg.consts), None
    variant = plan.variants.get(dead)
    if variant is None:
        if len(plan.variants) >= passes.MAX_VARIANTS:
            return fn(seg.ext_data, seg.consts), None
        variant = plan.variants[dead] = compile_forward(
            plan.recs, plan.n_ext, plan.meta, frozenset(dead), plan.backend)
    return variant[0](seg.ext_data, seg.consts), dead


def variant_sources(program) -> list[str]:
    """The sources of ``program``'s variants without dead values, for ``explain()``."""
    plan = getattr(program.forward, "plan", None)
    if plan is None:
        return []
    return [f"# the forward when {', '.join(f'v{s}' for s in dead)} cannot be read (Note [dead "
            f"values]):\n{src}" for dead, (_, src) in plan.variants.items()]


def backward_source(recs) -> str:
    """The backward program of ``recs`` as Python-like source, for ``explain()``: which rule
    runs for which value, in the order the program runs them.

    Example:
        >>> backward_source([])
        'def backward(g):\\n    pass'
    """
    lines = ["def backward(g):"]
    for i in range(len(recs) - 1, -1, -1):
        rec = recs[i]
        if not rec.rg:
            continue
        outs = []
        for j, ref in enumerate(rec.ins):
            if not rec.needs[j]:
                continue
            outs.append(f"gv{ref[1]}" if ref[0] == SLOT else f"gx{ref[1]}")
        lines.append(f"    {', '.join(outs) or '_'} += {rec.op.name}.vjp(gv{i})  # at {rec.loc}")
    if len(lines) == 1:
        lines.append("    pass")
    return "\n".join(lines)


# ------------------------------------------------------------------------ the backward
def _scalar(a, scalars):
    return a[()] if scalars and type(a) is _ndarray and not a.ndim else a


def _rule(seg, node, rec, i, g, values, ext):
    """Call ``rec``'s reverse rule as the engine would (Note [the program's arithmetic is
    eager's]); a tuple with one gradient per input."""
    op = rec.op
    scalars = op.elementwise and len(rec.ins) <= 2
    args = []
    for j, ref in enumerate(rec.ins):
        if not rec.saved[j]:
            args.append(None)
            continue
        kind = ref[0]
        if kind == SLOT:
            if rec.checks[j]:
                seg.check_version(node, ref[1])
            a = values[ref[1]]
        elif kind == EXT:
            if rec.checks[j]:
                seg.check_ext_version(node, ref[1])
            a = ext[ref[1]]
        elif kind == CONST:
            a = seg.consts[ref[1]]
        else:
            a = ref[1]
        args.append(_scalar(a, scalars) if type(g) is not MaskedGrad else a)
    out = None
    if op.save_out:
        seg.check_version(node, i)
        out = values[i] if type(g) is MaskedGrad else _scalar(values[i], scalars)
    if type(g) is MaskedGrad:
        return _masked(op, rec, g, args, out)
    params = rec.params or {}
    if len(rec.ins) == 1:
        return (op.vjp(np, g, out, *args, **params),)
    r = op.vjp(np, g, out, *args, needs=rec.needs, **params)
    return r


def _masked(op, rec, g, args, out):
    """A rule on a gradient with structural zeros: through a stand-in node, as the engine's
    ``masked_call`` (Note [structural zeros] in autograd/zeros.py)."""
    wrap = _registry.wrap
    saved = tuple(wrap(a) if type(a) is _ndarray else a for a in args)
    edges = tuple(True if n else None for n in rec.needs)
    stand_in = Node(op, edges, saved, None, out, None, rec.params, None, None)
    return masked_call(stand_in, g, lambda n, plain: _engine._call_rule(n, plain, False, None))


def version_error(node, t, saved_v, now_v):
    raise_version_error(node, t, saved_v, now_v)


def versions_changed(seg) -> bool:
    """Whether a value or outside tensor the backward reads changed version since the forward
    (then the per-op checks run and raise the engine's error at the op that reads it)."""
    if segend.changed(seg.slot_versions):  # Note [the end of a segment]
        return True
    for t, v in seg.ext_versions.values():
        if t._version != v:
            return True
    return False


def backward_program(recs, slot_shapes, ext_shapes, n_edges: int):
    """The backward of ``recs`` as one generated Python function (Note [the program's
    arithmetic is eager's], Note [the passes keep eager's bits]): ``backward(b, V, X, C, seg,
    node, H) -> edge gradients``, with ``H`` the values' tensor hooks and retained grads (run
    on a value's whole gradient), ``b`` the gradient buffer per value (the outputs' gradients
    in place), ``V`` the values, ``X`` the outside arrays and ``C`` the Python numbers. A
    gradient with structural zeros takes the general rule call (``_rule``). Returns the
    function and its source."""
    ns: dict = {"np": np, "_ndarray": _ndarray, "MaskedGrad": MaskedGrad, "_rule": _rule,
                "_fit": _engine._fit, "SECOND_BACKWARD": SECOND_BACKWARD, "R": recs,
                "versions_changed": versions_changed}
    ns.update(passes.namespace())
    L = ["def backward(b, V, X, C, seg, node, H):", f"    r = [None] * {n_edges}",
         "    fr = seg.freed", "    chk = versions_changed(seg)"]
    if recs:  # the gradient buffers as locals (the list is the caller's and read no more)
        L.append("    " + ", ".join(f"a{i}" for i in range(len(recs))) + ", = b")
    for i in range(len(recs) - 1, -1, -1):
        rec = recs[i]
        if not rec.rg:
            continue
        op = rec.op
        scalars = op.elementwise and len(rec.ins) <= 2
        needed = [j for j in range(len(rec.ins)) if rec.needs[j]]
        L.append(f"    g = a{i}  # {op.name} at {rec.loc}")
        L.append("    if g is not None:")
        L.append(f"        if H and {i} in H:")
        L.append(f"            g = seg.run_hooks({i}, g)")
        L.append("            chk = versions_changed(seg)")  # a hook may write a saved value
        if rec.saves_any or op.save_out:
            L.append("        if fr:")
            L.append("            raise RuntimeError(SECOND_BACKWARD)")
        L.append("        if type(g) is MaskedGrad:")
        L.append(f"            grads = _rule(seg, node, R[{i}], {i}, g, V, X)")
        L.extend(f"            g{j} = grads[{j}]" for j in needed)
        L.append("        else:")
        args: list = []
        for j, ref in enumerate(rec.ins):
            if not rec.saved[j]:
                args.append(None)
                continue
            kind, idx = ref[0], ref[1]
            if kind == SLOT:
                if rec.checks[j]:
                    L.append(f"            if chk: seg.check_version(node, {idx})")
                e, zero_d = f"V[{idx}]", slot_shapes[idx] == ()
            elif kind == EXT:
                if rec.checks[j]:
                    L.append(f"            if chk: seg.check_ext_version(node, {idx})")
                e, zero_d = f"X[{idx}]", ext_shapes[idx] == ()
            elif kind == CONST:
                e, zero_d = f"C[{idx}]", False
            else:
                ns[f"k{i}_{j}"] = idx
                e, zero_d = f"k{i}_{j}", False
            args.append(f"{e}[()]" if scalars and zero_d else e)
        out = None
        if op.save_out:
            L.append(f"            if chk: seg.check_version(node, {i})")
            out = f"V[{i}][()]" if scalars and slot_shapes[i] == () else f"V[{i}]"
        exprs = passes.vjp_exprs(op, "g", out, args) if rec.params is None else None
        if exprs is not None:  # Note [the passes keep eager's bits]
            L.extend(f"            g{j} = {exprs[j]}" for j in needed)
        else:
            extra = ""
            if rec.params:
                ns[f"p{i}"] = rec.params
                extra = f", **p{i}"
            call_args = ", ".join("None" if a is None else a for a in args)
            out_arg = "None" if out is None else out
            if len(rec.ins) == 1:
                L.append(f"            g0 = vjp{i}(np, g, {out_arg}, {call_args}{extra})")
            else:
                ns[f"n{i}"] = rec.needs
                L.append(f"            grads = vjp{i}(np, g, {out_arg}, {call_args}, needs=n{i}"
                         f"{extra})")
                L.extend(f"            g{j} = grads[{j}]" for j in needed)
            ns[f"vjp{i}"] = op.vjp
        for j in needed:
            ref = rec.ins[j]
            L.append(f"        if g{j} is not None:")
            fit = rec.fits[j]
            if fit is not None:
                ns[f"s{i}_{j}"], ns[f"d{i}_{j}"] = fit
                L.append(f"            if g{j}.shape != s{i}_{j} or (g{j}.dtype is not d{i}_{j}"
                         f" and g{j}.dtype != d{i}_{j}):")
                L.append(f"                g{j} = _fit(g{j}, s{i}_{j}, d{i}_{j}, node, {j}, False,"
                         " np)")
            if ref[0] == SLOT:
                s = ref[1]
                L.append(f"            a{s} = g{j} if a{s} is None else a{s} + g{j}")
            else:
                L.append(f"            r[{rec.edge_of[j]}] = g{j}")
    L.append("    return r")
    src = "\n".join(L)
    exec(compile(src, "<gradwalk.compile backward>", "exec"), ns)  # our own source
    return ns["backward"], src
