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

import numpy as np

from ..autograd import engine as _engine
from ..autograd.messages import SECOND_BACKWARD, raise_version_error
from ..autograd.node import Node
from ..autograd.zeros import MaskedGrad, masked_call
from ..dtypes import promote_pair as _promote2
from ..ops import registry as _registry

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


def forward_source(recs, n_ext: int, name: str = "forward") -> tuple[str, dict]:
    """The Python source of the forward program of ``recs`` and the namespace it runs in.

    Example:
        >>> src, ns = forward_source([], 0)
        >>> print(src)
        def forward(x, c):
            return ()
    """
    ns: dict = {"k1": k1, "k2": k2, "kn": kn, "np": np}
    lines = [f"def {name}(x, c):"]
    if n_ext:
        lines.append("    " + ", ".join(f"x{i}" for i in range(n_ext)) + (", = x" if n_ext == 1
                                                                            else " = x"))
    for i, rec in enumerate(recs):
        ns[f"o{i}"] = rec.op
        p = "None"
        if rec.params is not None:
            ns[f"p{i}"] = rec.params
            p = f"p{i}"
        args = []
        for ref in rec.ins:
            if ref[0] == KEYED:
                key = f"k{i}_{len(args)}"
                ns[key] = ref[1]
                args.append(key)
            else:
                args.append(_arg(ref))
        if rec.kind == 1:
            call = f"k1(o{i}, {args[0]}, {p})"
        elif rec.kind == 2:
            call = f"k2(o{i}, {args[0]}, {args[1]}, {p})"
        else:
            call = f"kn(o{i}, ({', '.join(args)}{',' if len(args) == 1 else ''}), {p})"
        lines.append(f"    v{i} = {call}  # {rec.op.name} at {rec.loc}")
    out = ", ".join(f"v{i}" for i in range(len(recs)))
    lines.append(f"    return ({out}{',' if len(recs) == 1 else ''})")
    return "\n".join(lines), ns


def compile_forward(recs, n_ext: int):
    """The forward program of ``recs``: a function ``(ext_arrays, consts) -> values``."""
    src, ns = forward_source(recs, n_ext)
    exec(compile(src, "<gradwalk.compile forward>", "exec"), ns)  # our own source
    return ns["forward"], src


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


def run_backward(seg, node, grads_out):
    """First-order backward of a flushed segment: the gradient of each edge of ``node`` (one
    edge per use of an input that requires grad), from the outputs' gradients ``grads_out``
    (one per output, ``None`` where none arrived). Note [the program's arithmetic is eager's].
    """
    recs = seg.recs
    values = seg.values
    buf: list = [None] * len(recs)
    for k, g in enumerate(grads_out):
        if g is not None:
            buf[seg.out_slots[k]] = g
    n_edges = len(seg.edge_uses)
    res: list = [None] * n_edges
    ext = seg.ext_data
    for i in range(len(recs) - 1, -1, -1):
        g = buf[i]
        if g is None:
            continue
        buf[i] = None
        rec = recs[i]
        if (rec.saves_any or rec.op.save_out) and seg.freed:
            raise RuntimeError(SECOND_BACKWARD)
        grads = _rule(seg, node, rec, i, g, values, ext)
        for j, gi in enumerate(grads):
            if gi is None or not rec.needs[j]:
                continue
            fit = rec.fits[j]
            if fit is not None:
                shape, dt = fit
                if gi.shape != shape or (gi.dtype is not dt and gi.dtype != dt):
                    gi = _engine._fit(gi, shape, dt, node, j, False, np)
            ref = rec.ins[j]
            if ref[0] == SLOT:
                prev = buf[ref[1]]
                buf[ref[1]] = gi if prev is None else prev + gi
            else:
                res[rec.edge_of[j]] = gi
    return res


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
    return masked_call(stand_in, g, _engine._first_order_rule)


def version_error(node, t, saved_v, now_v):
    raise_version_error(node, t, saved_v, now_v)
