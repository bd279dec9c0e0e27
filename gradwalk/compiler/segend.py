"""The end of a segment: the program's values handed to the tensors, by per-program tables.

Note [the end of a segment]
    When a segment ends (``Segment.flush``, Note [the trace] in trace.py) its program runs and
    every tensor that can still be read gets its array. What goes where is the same on every
    run of one program variant (Note [dead values] in passes.py), so it is a table made once
    per variant (``table``): the *live* slots (the values the variant computes; the others
    are ``None``, their tensors and arrays held by nobody but the segment, so they are dropped
    with it and get nothing), and the shapes and dtypes the trace gave those values. The flush
    checks the program's values against the table with one comparison per list (a different
    shape or dtype is a bug, raised, never handed out) and hands out only the live ones.

    The node's outputs are numbered by the trie: a step's ``k_out`` is its index among the
    path's values that require grad, so a matcher writes ``(node, k)`` from a constant and
    ``out_slots`` (output ``k`` -> slot) is a tuple per trie node, made when first asked
    (by the flush, or a hook registered on a pending value), not a list appended per op.
    When every value requires grad (``out_slots`` is every slot) the backward's gradient
    buffer is the engine's tuple of output gradients as it is.

    The versions of the values the backward reads (``versions``) are kept as the tensors and
    their counters at the flush (most have none: version 0) plus the versions of those that
    had one. "Did any change?" (``changed``, asked once per backward) compares the counters
    with one list comparison and reads only the versions that were there: a counter made
    since (an in-place op, or a view sharing it) says "maybe", and then every rule's own check
    (``saved_version``) compares versions exactly. A "maybe" costs the per-op checks, never an
    error eager would not raise.
"""

from __future__ import annotations

from operator import attrgetter

_VCL = attrgetter("_vcl")  # a tensor's version counter (``None``: version 0, none made yet)


def table(program, dead) -> tuple:
    """``(live slots, their shapes, their dtypes)`` of ``program``'s variant without ``dead``
    (``None``: the whole program), made on first use."""
    t = program.tables.get(dead)
    if t is None:
        gone = frozenset(dead or ())
        live = tuple(i for i in range(len(program.shapes)) if i not in gone)
        t = program.tables[dead] = (live, [program.shapes[i] for i in live],
                                    [program.dtypes[i] for i in live])
    return t


def hand_out(seg, program, values, dead) -> None:
    """Check ``values`` (the run of ``program``'s variant without ``dead``) against the trace
    and give each live value to its lazy array and its tensor (Note [the end of a segment])."""
    live, shapes, dtypes = table(program, dead)
    lazies, tensors = seg.lazies, seg.tensors
    try:
        ok = (len(values) == len(lazies) and [values[s].shape for s in live] == shapes
              and [values[s].dtype for s in live] == dtypes)
    except AttributeError:  # a live value that is not an array
        ok = False
    if not ok:
        bad_program(lazies, values, live)
    for s in live:
        v = values[s]
        lazy = lazies[s]
        lazy.value = v
        t = tensors[s]
        if t._data is lazy:
            t._data = v


def bad_program(lazies, values, live) -> None:
    """Raise: the program's values differ from the trace's in number, shape or dtype (a bug)."""
    if len(values) != len(lazies):
        raise RuntimeError("gradwalk.compile: the program made more or fewer values than the "
                           "trace recorded; this is a bug in gradwalk.compile (please report it)")
    for s in live:
        v, meta = values[s], lazies[s].meta
        if getattr(v, "shape", None) != meta.shape or getattr(v, "dtype", None) != meta.dtype:
            raise RuntimeError(
                f"gradwalk.compile: the program's {meta.rec.op.name} at {meta.rec.loc} made "
                f"{type(v).__name__} of shape {getattr(v, 'shape', None)} "
                f"{getattr(v, 'dtype', None)}, the trace said {meta.shape} {meta.dtype}; this "
                "is a bug in gradwalk.compile (please report it)")
    raise RuntimeError("gradwalk.compile: the program's values differ from the trace's; this "
                       "is a bug in gradwalk.compile (please report it)")


def versions(tensors, read) -> tuple:
    """The versions of the values ``read`` (slots) of ``tensors`` at the flush: ``(slots,
    tensors, counters, {index: version} of the tensors that had a counter)``."""
    ts = [tensors[s] for s in read]
    counters = list(map(_VCL, ts))
    if counters.count(None) == len(counters):
        return read, ts, counters, {}
    return read, ts, counters, {i: vc[0] for i, vc in enumerate(counters) if vc is not None}


NO_VERSIONS = ((), (), [], {})  # a segment's before its flush


def changed(table) -> bool:
    """Whether a value of ``table`` (``versions``) may have changed version: exact for the
    counters that were there, "maybe" for one made since (Note [the end of a segment])."""
    _, ts, counters, had = table
    if list(map(_VCL, ts)) != counters:
        return True
    for i, v in had.items():
        if ts[i]._version != v:
            return True
    return False


def saved_version(seg, slot: int) -> tuple:
    """``(tensor, its version at the flush)`` of ``seg``'s value ``slot``."""
    read, ts, _, had = seg.slot_versions
    index = seg.slot_index  # slot -> position in the table, made on first use
    if index is None:
        index = seg.slot_index = dict(zip(read, range(len(read))))
    i = index[slot]
    return ts[i], had.get(i, 0)
