"""In-place ops inside a compiled region, recorded into the segment instead of ending it.

Note [in-place ops in the segment]
    ``indexing.apply_inplace`` hands every in-place op of a region to ``Trace.inplace``, which
    asks ``record`` here first. When the op needs no graph (grad mode off, or nothing involved
    requires grad: the optimizer's ``p -= lr * g``, ``buf.mul_(m).add_(g)``, ``zero_()``,
    ``.grad`` scaled in place) and the target passes the checks below, the op becomes steps
    of the running segment, so a whole update loop is one program instead of a graph break
    per parameter:

    * ``add_``/``sub_``/``mul_``/``div_`` where eager would take the ufunc path
      (``inplace_views._write``: ``uf(p, other, out=p, casting="same_kind")``, ``other *
      alpha`` first) are one step, ``inplace_<uf>``, that makes exactly that call on the
      target's array in the program;
    * every other in-place op runs its function as eager does (``fn(wrap(p._data), ...)``
      under ``no_grad``, its ops recorded as usual), then one step ``inplace_copy`` writes
      the result into the target (``p[...] = res``), after eager's cast and shape checks
      (``indexing._check_cast``), which raise at the op as eagerly.

    The step's output *is* the target's array (the step returns it), and the target tensor
    itself stands for it: ``p._data`` is the step's ``LazyArray`` until the flush gives the
    array back (the segment's ``tensors`` holds ``p`` at that slot). So later ops that read
    ``p`` inside the segment read the step's value (a ``SLOT``), which, in program order, is
    the memory after the write, as eagerly; a Python read of ``p`` flushes first; the
    version counter is bumped at the op, as eagerly. The write happens at the step's place in
    the program, so steps recorded before it read the old values.

    Invariants (each refusal runs the op as before: flush, then eagerly):

    1. *No one else can see the target's memory before the flush.* An outside target's array
       owns its memory (``base is None``: no view of something else), is writeable and is
       held by nothing but the tensor and this segment's ``ext_data`` (a ``sys.getrefcount``
       against a baseline measured at import): a NumPy view, a ``detach()`` or ``.data``
       alias, a kept ``.numpy()`` or another live segment holding it is a refusal. (A
       segment gives up its outside arrays when its backward releases it, ``Segment.release``,
       so the forward of a training step no longer holds the parameters at the update.) A
       pending target's ``LazyArray`` is held by the tensor and the segment only (an alias
       made inside the segment holds it too: a refusal). Values that are views of the target
       inside the segment (``TrieNode.shares``, followed through views and writes) are a
       refusal: the passes assume a value does not change after it is made (a dead repeat
       is read from its first computation, Note [dead values]).
    2. *The backward sees eager's versions.* A saved outside tensor keeps the version it had
       when first used (``Segment.ext_versions``), so the bump makes its backward raise as
       eager's does. A value of the segment has its version read at the flush
       (``Segment.slot_versions``), so a pending target whose memory (any of its values) is
       read by the segment's backward is a refusal.
    3. *Gradients reach the right node.* A written target that requires grad, read in grad
       mode by a later op, ends the segment first (``Segment._record`` returns
       ``_REREAD``): the op then reads the target as an outside tensor, with its
       ``AccumulateGrad`` edge, not the write step.
    4. *Eager's errors at the op.* Grad mode with anything requiring grad (the leaf error),
       a view target, forward AD and forward hooks are refused, so eager raises; the ufunc
       step is taken only where a probe on one-element arrays of the same dtypes (and
       broadcasting) says eager's ``_write`` would succeed; otherwise the general path, whose
       function and checks raise eager's errors.
    5. *Nothing reads the old memory outside the program.* ``backward()`` and
       ``autograd.grad`` flush a segment with pending writes first (``flush_writes``): the
       engine adds into a ``.grad`` in place only when it holds an array.

    Optimizers write their parameters and state with NumPy directly (``x -= lr * g``), not
    through these ops: a segment pending when ``step()`` starts is flushed first
    (``flush_running``), since its program may read those arrays later; an array written
    by a recorded step and read by the optimizer is a ``LazyArray`` (the read flushes).
"""

from __future__ import annotations

import sys
import weakref
from threading import get_ident as _get_ident

import numpy as np

from ..autograd.grad_mode import is_grad_enabled_fast, no_grad
from ..ops import elementwise as _E
from ..ops import inplace_views as _IV
from ..ops import registry as _registry
from ..ops.indexing import _check_cast
from .codegen import EXT, SLOT
from .lazy import LazyArray

_ndarray = np.ndarray


class WriteOp:
    """A step that writes into its first input's array and returns that array (Note [in-place
    ops in the segment]); it has the fields of a registry op that the trace reads."""

    elementwise = False
    saves = ()
    saves_if = None
    save_out = False
    jvp = None
    writes = True

    def __init__(self, name: str, forward) -> None:
        self.name = name
        self.forward = forward

    def vjp(self, *args, **kwargs):  # never called: the steps are recorded without grad
        raise RuntimeError("gradwalk.compile: an in-place step has no reverse rule")

    def __repr__(self) -> str:
        return f"<in-place step {self.name}>"


def _ufunc_step(uf):
    def forward(xp, t, other):
        uf(t, other, out=t, casting="same_kind")
        return t
    return forward


def _scaled_step(uf):
    def forward(xp, t, other, alpha):
        uf(t, other * alpha, out=t, casting="same_kind")  # ``inplace_views.scaled_other``
        return t
    return forward


def _copy_forward(xp, t, src):
    t[...] = src
    return t


UFUNCS = {_E.add: np.add, _E.sub: np.subtract, _E.mul: np.multiply, _E.div: np.true_divide}
STEP = {uf: WriteOp(f"inplace_{uf.__name__}", _ufunc_step(uf)) for uf in UFUNCS.values()}
SCALED = {uf: WriteOp(f"inplace_{uf.__name__}_scaled", _scaled_step(uf))
          for uf in (np.add, np.subtract)}
COPY = WriteOp("inplace_copy", _copy_forward)
NAMES = frozenset([op.name for op in STEP.values()] + [op.name for op in SCALED.values()]
                  + [COPY.name])
REREAD = "a value written in place, then read where it needs a gradient"
_LAST = [lambda: None]  # a weak reference to the last segment that recorded a write


def _rc(t) -> int:
    return sys.getrefcount(t._data)


class _Probe:
    __slots__ = ("_data",)


def _baseline() -> int:
    p = _Probe()
    p._data = np.zeros(1)
    return _rc(p)


BASE = _baseline()  # ``_rc`` of a tensor whose array nobody else holds
_PROBES: dict = {}  # (ufunc, target dtype, other's dtype or type, scaled) -> eager's path works


def _ufunc_ok(uf, dt, od, scaled) -> bool:
    """Whether ``uf(target, od, out=target, casting="same_kind")`` resolves for these dtypes
    (NumPy 2's promotion does not depend on values or shapes, NEP 50)."""
    key = (uf, dt, od.dtype if type(od) is not float and type(od) is not int else type(od),
           scaled)
    ok = _PROBES.get(key)
    if ok is None:
        a = np.zeros(1, dt)
        b = od if key[2] is float or key[2] is int else np.zeros(1, od.dtype)
        try:
            uf(a, b * -0.5 if scaled else b, out=a, casting="same_kind")
            ok = True
        except (TypeError, ValueError):
            ok = False
        if len(_PROBES) < 1024:
            _PROBES[key] = ok
    return ok


def _facts(fn, end):
    """Per slot of the path ending at ``end``: the root its memory belongs to (an outside
    tensor, or a value made here), the roots with views in the path, the slots the backward
    reads. Cached per trie node (the path is the node's)."""
    cache = fn.__dict__.setdefault("_inplace_facts", {})
    got = cache.get(id(end))
    if got is not None and got[0] is end:
        return got[1]
    roots: list = []
    viewed: set = set()
    read: set = set()

    def root(ref):
        return roots[ref[1]] if ref[0] == SLOT else ("x", ref[1])

    for i, n in enumerate(end.path()):
        rec = n.rec
        r = ("v", i)
        if getattr(rec.op, "writes", False):
            r = root(rec.ins[0])
        else:
            for j in n.shares:
                if rec.ins[j][0] in (SLOT, EXT):
                    r = root(rec.ins[j])
                    viewed.add(r)
        roots.append(r)
        if rec.rg:
            for j, ref in enumerate(rec.ins):
                if ref[0] == SLOT and rec.saved[j]:
                    read.add(roots[ref[1]])
            if rec.op.save_out:
                read.add(r)
    facts = (roots, viewed, read)
    if len(cache) < 4096:
        cache[id(end)] = (end, facts)
    return facts


def _target_ok(trace, t) -> bool:
    """Invariant 1 and 2 of Note [in-place ops in the segment] for the target ``t``."""
    rc = _rc(t)  # before any local holds the array
    d = t._data
    seg = trace.seg
    if type(d) is LazyArray:
        if seg is None or d.seg is not seg or d.dtype.kind != "f" or rc != BASE + 1:
            return False
        roots, viewed, read = _facts(trace.fn, seg.pos)
        r = roots[d.slot]
        return r not in viewed and r not in read
    if type(d) is not _ndarray or d.base is not None or not d.flags.writeable or (
            d.dtype.kind != "f"):
        return False
    n = 0
    if seg is not None:
        eid = seg.ext_ids.get(id(t))
        if eid is not None:  # read by the segment already: once in its ``ext_data``
            if seg.ext_data[eid] is not d or ("x", eid) in _facts(trace.fn, seg.pos)[1]:
                return False
            n = 1
    return rc == BASE + n  # another entry of ``ext_data`` with ``d`` is another tensor's


def _fast_step(t, fn, args, kwargs):
    """The ufunc step eager's ``_write`` would take, with its inputs; ``None`` where eager
    takes its general path; ``NotImplemented`` to run the op eagerly."""
    uf = UFUNCS.get(fn)
    if uf is None or len(args) != 1 or (kwargs and list(kwargs) != ["alpha"]):
        return None
    other = args[0]
    alpha = kwargs.get("alpha", 1) if kwargs else 1
    if isinstance(other, _registry.Tensor):
        od = other._data
        if type(od) is LazyArray and od.seg.flushed:
            od = od.value  # what eager's ``_write`` reads
        if type(od) is not LazyArray and type(od) is not _ndarray:
            return None
    elif type(other) is float or type(other) is int:
        if type(other) is int and not -2**53 <= other <= 2**53:
            return NotImplemented  # eager's ufunc may raise OverflowError: run it eagerly
        od = other
    else:
        return None
    scaled = alpha != 1
    if scaled and (uf is not np.add and uf is not np.subtract or type(alpha) is not float
                   or type(od) is float or type(od) is int or od.dtype.kind != "f"
                   or not od.shape):
        return None
    shape = t._data.shape
    if type(od) is not float and type(od) is not int and od.shape != shape:
        try:
            if np.broadcast_shapes(od.shape, shape) != shape:
                return None
        except ValueError:
            return None
    if not _ufunc_ok(uf, t._data.dtype, od, scaled):
        return None
    if scaled:
        return SCALED[uf], (t, other, alpha)
    return STEP[uf], (t, other)


def _emit(hook, t, op, inputs):
    """Record the write step ``op`` on ``inputs`` (the target first); the target then stands
    for its value. ``NotImplemented`` when the trace does not take it."""
    r = hook(op, inputs, None, 0)
    if r is NotImplemented:
        return r
    la = r._data
    seg = la.seg
    seg.tensors[la.slot] = t
    t._data = la
    if _LAST[0]() is not seg:
        _LAST[0] = weakref.ref(seg)
    return t


def record(trace, t, fn, args, kwargs):
    """The in-place op ``fn`` on ``t`` recorded into ``trace``'s segment (Note [in-place ops
    in the segment]): ``t``, or ``NotImplemented`` (nothing done: flush, then eagerly)."""
    if _IV.dual_hooks is not None or _registry._forward_hooks or not isinstance(
            t, _registry.Tensor) or t.grad_fn is not None:
        return NotImplemented
    ex = t._extra
    if ex is not None and ex.base is not None:
        return NotImplemented
    tensor = _registry.Tensor
    if is_grad_enabled_fast() and (t._requires_grad or any(
            isinstance(a, tensor) and a._requires_grad for a in args)):
        return NotImplemented
    if not _target_ok(trace, t):
        return NotImplemented
    hook = _registry._trace
    step = _fast_step(t, fn, args, kwargs)
    if step is NotImplemented:
        return step
    if step is not None:
        r = _emit(hook, t, *step)
        if r is not NotImplemented:
            _IV.bump_version(t)
        return r
    # the general path: eager's function and checks, then one copy into the target
    data = t._data
    seg = trace.seg
    old = _registry.wrap(data)
    with no_grad():
        res = fn(old, *args, **kwargs)
    del old
    _check_cast(res, t, fn)
    if res._data is t._data:
        t._vc[0] += 1
        return t
    if t._data is data and (seg is None or not seg.flushed) and _registry._trace is hook:
        if _emit(hook, t, COPY, (t, res)) is not NotImplemented:
            t._vc[0] += 1
            return t
    t._data[...] = res._data  # eager's write, after running what is pending
    t._vc[0] += 1
    return t


def _running_segment():
    hook = _registry._trace
    trace = getattr(hook, "trace", None)
    if trace is None or not trace.active or trace.thread != _get_ident():
        return None
    return trace.seg


def flush_writes(reason: str = "a backward while in-place writes are pending") -> None:
    """Run the pending part if it writes in place (before the engine touches ``.grad``)."""
    seg = _running_segment()
    if seg is not None and _LAST[0]() is seg:
        seg.flush(reason)


def flush_running(reason: str) -> None:
    """Run the pending part of this thread's compiled region, if any (before NumPy code writes
    arrays that its program may read)."""
    seg = _running_segment()
    if seg is not None:
        seg.flush(reason)
