"""Recording a compiled region: ops into a lazy trace, the trace matched against programs.

Note [the trace]
    While a compiled function runs, ``registry._trace`` is the running ``Trace``'s hook; the
    three apply functions of the registry ask it first (``_trace(op, inputs, params, kind)``:
    the matcher of the step expected next, Note [the hit path] in match.py, else ``Trace``) and it
    either records the op (its output tensor holds a ``LazyArray``, Note [lazy arrays]) or
    returns ``NotImplemented`` and the op runs eagerly, as outside a region. The recorded ops
    form a *segment*; its key is the sequence of (op, parameters, where each input comes from,
    the shape/strides/dtype/requires_grad of each outside tensor when first used, grad mode),
    with Python numbers passed to the program as arguments (only their type is in the key).
    The keys of one compiled function form a trie: walking it as ops record gives each pending
    value its shape and dtype, and the node where a segment ends holds its program. A step off
    the trie is a (re)compile: the segment computes its values op by op from then on (the
    interpreter) and, when it ends, the path gets its program.

    A segment ends (``flush``) when Python reads a pending value (a graph break), before an op
    the trace does not support reads a pending input, before an in-place op that is not
    recorded (Note [in-place ops in the segment], inplace.py), and when the
    compiled function returns. Then the program runs, every tensor of the segment gets its
    array, and, when any value requires grad, the segment is one node of the graph,
    ``CompiledFunctionBackward``, with one edge per use of an input that requires grad.

Note [what the trace refuses]
    An op is recorded only when its result cannot depend on anything but the key: it is
    deterministic (no random draw), its output's shape is not data dependent, and it cannot
    fail on values (integer division by zero, an index out of range read from a tensor, a
    singular matrix): a cache hit replays an op sequence that ran before with the same shapes,
    dtypes and parameters, so it fails exactly when eager would, at the same op. ``SUPPORTED``
    lists the non-elementwise ops; elementwise ops are recorded on floating-point tensors (and
    ``where``'s boolean condition). Everything else runs eagerly. Forward hooks (forward AD,
    anomaly mode, saved-tensor hooks), other threads, non-NumPy arrays and parameters that are
    arrays or tensors also run eagerly. Ops whose values their public function checks on every
    call are offered as twins (Note [values checked by the caller] in ops/valued.py).

Note [the next segment's first step]
    Every segment starts at the trie's root, so a function with graph breaks has several
    first steps there (the 784 MLP step: its forward and one ``lr * p.grad`` per parameter
    shape), and the root's ``fast`` (the child taken last) misses most of them. The compiled
    function keeps ``starts``: per segment number ``i`` of a call, the matcher of the first
    step the ``i``-th segment took last time (the first ``MAX_STARTS`` segments). A new
    segment tries ``starts[i]``, then the root's ``fast``, then the general path. It is a hint
    only: ``starts`` holds matchers of children of the root (the new segment's position),
    which check everything the step's key holds (Note [the hit path]), so a stale hint costs
    a refusal, never a wrong step. (Keyed by where the previous segment ended, it would
    alternate: ``b0`` and ``b1`` have the same shape, so their updates end at one node.)

Note [leaves met after the node]
    The engine runs nodes latest-created first, so a node must be created after its
    producers. The segment's node is made at its first op that requires grad; an input made
    by an eager op after that starts a new segment (``_RESTART``), but a leaf met later may
    get its ``AccumulateGrad`` only then, numbered after the node: it would run (and, under
    ``autograd.grad(inputs=...)``, be captured) before the node delivered to it. Such an
    accumulator is renumbered just below the node (a fraction: numbers stay distinct); its
    other consumers all come after it, so they still run first.
"""

from __future__ import annotations

import copy
import threading
from threading import get_ident as _get_ident
from types import FunctionType

import numpy as np

from ..autograd._api import grad as _autograd_grad
from ..autograd.grad_mode import is_grad_enabled_fast
from ..autograd.hooks import retain as _retain
from ..autograd.hooks import tensor_hooks as _tensor_hooks
from ..autograd.node import AccumulateGrad, MultiNode
from ..ops import registry as _registry
from ..ops import valued as _valued
from . import codegen, inplace, match, segend
from .codegen import CONST, EXT, KEYED, SLOT
from .lazy import Flags, LazyArray
from .recfacts import _backward_facts, _floating, _integer_only, user_location

_ndarray = np.ndarray
_new = object.__new__

SUPPORTED = frozenset(
    "view reshape squeeze unsqueeze permute transpose t expand repeat cat stack flip tril triu "
    "pad select slice clone cast matmul bmm dot mv outer sum sum_dim mean mean_dim var std "
    "prod amax amin logsumexp norm cumsum cumprod logcumsumexp softmax log_softmax linear "
    "linear_nobias leaky_relu gelu softplus mse_loss l1_loss smooth_l1_loss "
    "binary_cross_entropy layer_norm diagonal masked_fill".split()) | inplace.NAMES | _valued.TWINS


class Unfreezable(Exception):
    """A parameter that cannot be part of a key (an array, a tensor...)."""


def freeze(v):
    """A hashable stand-in for an op parameter; floats by their exact bits (0.0 is not -0.0).

    Example:
        >>> freeze(-0.0) == freeze(0.0), freeze([1, 2]) == freeze([1, 2])
        (False, True)
    """
    t = type(v)
    if t is float:
        return (t, v.hex())
    if t is int or t is bool or t is str or v is None or v is Ellipsis:
        return (t, v)
    if t is tuple or t is list:
        return (t, tuple(freeze(x) for x in v))
    if t is dict:
        return tuple(sorted((k, freeze(x)) for k, x in v.items()))
    if t is slice:
        return (t, freeze(v.start), freeze(v.stop), freeze(v.step))
    if isinstance(v, np.dtype) or isinstance(v, type):
        return (np.dtype, v)
    if isinstance(v, np.generic) and v.ndim == 0:
        return (t, freeze(v.item()))
    if type(v).__name__ == "Size":
        return (t, tuple(v))
    raise Unfreezable(t.__name__)


class Rec:
    """One recorded op of a trie path: what the program computes and the backward needs."""

    __slots__ = ("op", "kind", "ins", "params", "grad", "rg", "needs", "fits", "saved",
                 "checks", "saves_any", "loc", "edge_of", "ext_needs", "ext_checks")

    def __init__(self, op, kind, ins, params, grad, rg, needs, fits, saved, checks,
                 loc) -> None:
        self.op, self.kind, self.ins, self.params = op, kind, ins, params
        self.grad, self.rg, self.needs, self.fits, self.saved = grad, rg, needs, fits, saved
        self.checks = checks
        self.ext_needs = tuple(j for j, r in enumerate(ins) if needs[j] and r[0] == EXT)
        self.ext_checks = tuple(r[1] for j, r in enumerate(ins) if checks[j] and r[0] == EXT)
        self.saves_any = any(saved)
        self.loc = loc
        self.edge_of = None  # input position -> edge index, filled per segment


class TrieNode:
    """A step of a recorded op sequence: the op, its output's shape/dtype/flags, the inputs it
    shares memory with, and the program of a segment that ends here."""

    __slots__ = ("children", "rec", "shape", "dtype", "flags", "shares", "program", "depth",
                 "parent", "ext_keys", "fast", "hit", "k_out", "n_out", "outs")

    def __init__(self, parent=None, rec=None, value=None, shares=(), ext_keys=()) -> None:
        self.children: dict = {}
        self.fast = match.no_hit  # the matcher of the child taken last (Note [the hit path])
        self.hit = match.no_hit  # this step's own matcher, once it is in the trie
        self.parent = parent
        self.rec = rec
        self.depth = 0 if parent is None else parent.depth + 1
        self.program = None
        self.shares = shares
        self.ext_keys = ext_keys  # the guards this op added: (ext index, shape, dtype, rg)
        # Note [the end of a segment] in segend.py: this step's output of the segment's node
        n = 0 if parent is None else parent.n_out
        self.k_out = n if rec is not None and rec.rg else -1
        self.n_out = n + (self.k_out >= 0)
        self.outs = None
        if value is not None:
            self.shape, self.dtype = value.shape, value.dtype
            self.flags = Flags(value.flags)
        else:
            self.shape = self.dtype = self.flags = None

    def out_slots(self) -> tuple:
        """The slots of the path's values that require grad: output ``k`` of the node."""
        if self.outs is None:
            self.outs = tuple(i for i, n in enumerate(self.path()) if n.rec.rg)
        return self.outs

    def path(self) -> list:
        recs, node = [], self
        while node.parent is not None:
            recs.append(node)
            node = node.parent
        return recs[::-1]


class Program:
    """The compiled forward of one segment and what its backward reads."""

    __slots__ = ("forward", "source", "recs", "n_ext", "backward_source", "bw", "end", "shapes",
                 "dtypes", "saves", "tables")

    def __init__(self, end: TrieNode, n_ext: int) -> None:
        nodes = end.path()
        self.end = end
        self.recs = [n.rec for n in nodes]
        self.n_ext = n_ext
        ext_shapes: dict = {}
        ext_dtypes: dict = {}
        for n in nodes:
            for eid, shape, dtype, _ in n.ext_keys:
                ext_shapes[eid], ext_dtypes[eid] = shape, dtype
        meta = ([n.shape for n in nodes], [n.dtype for n in nodes], ext_shapes, ext_dtypes)
        self.forward, self.source = codegen.compile_forward(self.recs, n_ext, meta)
        self.backward_source = codegen.backward_source(self.recs)
        self.bw = None  # (recs with their edge indices, the slots the rules read), on first use
        self.shapes, self.dtypes = meta[0], meta[1]  # what the trace said (checked each run)
        self.saves = any(r.saves_any or r.op.save_out for r in self.recs)
        self.tables: dict = {}  # dead values -> what the flush hands out (segend.table)

    def backward_facts(self, edge_uses):
        """The recs with ``edge_of`` filled for ``edge_uses`` (reversed use order) and the
        slots whose versions the rules check; the same for every segment of this path."""
        if self.bw is None:
            per_rec: dict = {}
            for e, (slot, j) in enumerate(edge_uses):
                per_rec.setdefault(slot, {})[j] = e
            recs = [_with_edges(rec, per_rec.get(i)) for i, rec in enumerate(self.recs)]
            read = set()
            for i, rec in enumerate(recs):
                if not rec.rg:
                    continue
                if rec.op.save_out:
                    read.add(i)
                for j, ref in enumerate(rec.ins):
                    if rec.checks[j] and ref[0] == SLOT:
                        read.add(ref[1])
            path = self.end.path()
            slot_shapes = [n.shape for n in path]
            ext_shapes: dict = {}
            for n in path:
                for eid, shape, _, _ in n.ext_keys:
                    ext_shapes[eid] = shape
            fn, src = codegen.backward_program(recs, slot_shapes, ext_shapes, len(edge_uses))
            self.backward_source = src
            self.bw = (recs, sorted(read), fn)
        return self.bw


class _RegionOp:
    """The op of a ``CompiledFunctionBackward`` node: its rule runs the segment's backward."""

    name = "compiled_function"
    node_name = "CompiledFunctionBackward"
    elementwise = False
    saves = ()
    save_out = False
    saves_if = None
    input_names = ()
    explain = None
    int_ok = False
    example = None
    function = None
    jvp = None

    def __init__(self, seg) -> None:  # ``Segment.new_node`` writes this out
        self.vjp = seg.vjp


class CompiledNode(MultiNode):
    """A flushed segment in the graph: one node, one output per value that requires grad.

    Tensor hooks and ``retain_grad`` of its outputs are kept by the segment and run inside
    its backward, when the value's gradient is whole (after its consumers inside the region
    too), as eager runs them; the engine would see only the gradient from outside."""

    __slots__ = ("seg",)
    views = False

    def release(self) -> None:
        self.seg.release()

    def _output_hooks(self, k: int) -> list:
        return self.seg.hook_entry(k)[0]

    def _retain_output(self, k: int, ref) -> None:
        self.seg.hook_entry(k)[1] = ref


class Segment:
    """The ops recorded since the last flush (Note [the trace])."""

    __slots__ = ("trace", "pos", "exts", "ext_data", "ext_ids", "consts", "tensors", "lazies",
                 "values", "node", "edges", "edge_uses", "recs", "eager", "ext_versions",
                 "backward", "hooks", "slot_versions", "slot_index", "freed", "flushed",
                 "__weakref__")

    def __init__(self, trace) -> None:
        self.trace = trace
        self.pos: TrieNode = trace.fn.root
        self.exts: list = []
        self.ext_data: list = []
        self.ext_ids: dict = {}
        self.consts: list = []
        self.tensors: list = []
        self.lazies: list = []
        self.values = None  # the arrays, once computed (at once in eager mode)
        self.node = None
        self.edges: list | None = None  # the node's edges, made with it (``new_node``)
        self.edge_uses: list | None = None  # per edge: (slot, input position)
        self.recs: list | tuple = ()  # the path's recs, at the flush
        self.eager = False
        self.ext_versions: dict = {}
        self.slot_versions = segend.NO_VERSIONS  # made by ``_finish_node``
        self.slot_index: dict | None = None  # made by ``segend.saved_version``
        self.freed = False
        self.flushed = False
        self.hooks: dict | None = None  # slot -> [tensor hooks, retain_grad's weak reference]

    @property
    def out_slots(self) -> tuple:
        """The slot of each output of the segment's node (Note [the end of a segment])."""
        return self.pos.out_slots()

    def hook_entry(self, k: int) -> list:
        """``[tensor hooks, retain_grad's weak reference]`` of the node's output ``k``."""
        if self.hooks is None:
            self.hooks = {}
        return self.hooks.setdefault(self.pos.out_slots()[k], [[], None])

    # -------------------------------------------------------------- recording
    def record(self, op, inputs, params, kind):
        """Record ``op`` on ``inputs``: the output tensor, ``NotImplemented`` to run the op
        eagerly, or ``_RESTART`` for an input made after this segment's node. The general
        path: the key is built and looked up (the matchers, Note [the hit path], refused)."""
        n_ext, n_const = len(self.exts), len(self.consts)
        r = self._record(op, inputs, params, kind)
        if r is NotImplemented or r is _RESTART or r is _REREAD:  # roll back this op
            for x in self.exts[n_ext:]:
                del self.ext_ids[id(x)]
            del self.exts[n_ext:], self.ext_data[n_ext:], self.consts[n_const:]
        return r

    def _record(self, op, inputs, params, kind):
        tensor = _registry.Tensor
        refs = []
        datas = []
        new_ext = []
        rgs = []
        node = self.node
        for x in inputs:
            if isinstance(x, tensor):
                d = x._data
                rg = x._requires_grad
                if type(d) is LazyArray:
                    if d.seg is self:
                        if rg and type(d.meta.rec.op) is _WRITE and is_grad_enabled_fast():
                            return _REREAD  # Note [in-place ops in the segment], 3
                        refs.append((SLOT, d.slot, rg))
                        datas.append(d)
                        rgs.append(rg)
                        continue
                    d = d._get()
                if type(d) is not _ndarray:
                    return NotImplemented
                fn = x.grad_fn
                if node is not None and fn is not None and rg and fn.seq > node.seq:
                    return _RESTART
                eid = self.ext_ids.get(id(x))
                if eid is not None and d is not self.ext_data[eid]:
                    return NotImplemented  # its array was replaced (``x.data = ...``)
                if eid is None:
                    eid = self.ext_ids[id(x)] = len(self.exts)
                    self.exts.append(x)
                    self.ext_data.append(d)
                    refs.append((EXT, eid, rg, d.shape, d.dtype, d.strides))
                    new_ext.append((eid, d.shape, d.dtype, rg))
                else:
                    refs.append((EXT, eid, rg))
                datas.append(d)
                rgs.append(rg)
            else:
                t = type(x)
                if t is float or t is int or t is bool:
                    refs.append((CONST, len(self.consts), t))
                    self.consts.append(x)
                else:
                    try:
                        refs.append((KEYED, freeze(x)))
                    except Unfreezable:
                        return NotImplemented
                datas.append(x)
                rgs.append(False)
        try:
            pkey = None if params is None else freeze(params)
        except Unfreezable:
            return NotImplemented
        grad = is_grad_enabled_fast()
        key = (op, kind, tuple(refs), pkey, grad)
        child = self.pos.children.get(key)
        value = None
        if child is None:
            got = self._miss(key, op, kind, refs, datas, inputs, params, grad, rgs, new_ext)
            if got is None:
                return NotImplemented
            child, value = got
        self.pos.fast = child.hit  # the last step taken from here is matched first
        return self._emit(child, inputs, datas, value)

    def _miss(self, key, op, kind, refs, datas, inputs, params, grad, rgs, new_ext):
        """A step off the trie: compute from here on, and add the step (a (re)compile)."""
        fn = self.trace.fn
        if op.elementwise and not _floating(op, datas):
            return None  # on a hit the key (dtypes included) says the check passed
        if not fn.may_compile(self.pos, key):
            return None
        if not self.eager:
            self._compute_pending()
        real = [d.value if type(d) is LazyArray else d for d in datas]  # computed just above
        # copies: the program must not see a list the caller changes after this call
        ins = tuple((KEYED, copy.deepcopy(inputs[j])) if r[0] == KEYED else (r[0], r[1])
                    for j, r in enumerate(refs))
        params = copy.deepcopy(params)
        value = codegen.run_kernel(_Probe(op, kind, params), real)
        if type(value) is not _ndarray:
            return None
        rg = grad and any(rgs)
        needs = tuple(grad and r for r in rgs)
        fits, saved, checks = _backward_facts(op, kind, inputs, real, rgs)
        shares = tuple(j for j, d in enumerate(real)
                       if type(d) is _ndarray and np.may_share_memory(value, d))
        rec = Rec(op, kind, ins, params, grad, rg, needs, fits, saved, checks, user_location())
        child = TrieNode(self.pos, rec, value, shares, tuple(new_ext))
        fn.note_compile(self.pos, key, child)
        self.pos.children[key] = child
        child.hit = match.build(key, child, freeze, Unfreezable)
        return child, value

    def _compute_pending(self) -> None:
        """Switch to eager mode: compute the values recorded so far (by the interpreter)."""
        values = []
        for node in self.pos.path():
            rec = node.rec
            values.append(codegen.run_kernel(rec, [self._data(r, values) for r in rec.ins]))
        self.values = values
        self.eager = True
        if self.trace.hot is self:
            self.trace.hot = None  # the matchers do not compute: the general path from here
        for lazy in self.lazies:
            lazy.value = values[lazy.slot]

    def _data(self, ref, values):
        kind = ref[0]
        if kind == SLOT:
            return values[ref[1]]
        if kind == EXT:
            return self.ext_data[ref[1]]
        if kind == CONST:
            return self.consts[ref[1]]
        return ref[1]

    def _emit(self, child, inputs, datas, value):
        """The output tensor of the step ``child`` (pending, or computed in eager mode)."""
        slot = len(self.tensors)
        rec = child.rec
        data = LazyArray(child.shape, child.dtype, self, slot, child, inputs)
        if self.eager:
            if value is None:
                value = codegen.run_kernel(rec, [self._data(r, self.values) for r in rec.ins])
            self.values.append(value)
            data.value = value
        self.pos = child
        node = None
        if rec.rg:
            node = self.node
            if node is None:
                node = self.new_node()
            for j in rec.ext_needs:
                self.add_edge(inputs[j], slot, j, node)
            for eid in rec.ext_checks:
                if eid not in self.ext_versions:
                    x = self.exts[eid]
                    self.ext_versions[eid] = (x, x._version)
        t = _registry._make(data, node)
        if node is not None:
            t._out_edge = (node, child.k_out)
            node.outputs = child.n_out
        self.tensors.append(t)
        self.lazies.append(data)
        return t

    def new_node(self):
        """The segment's ``CompiledFunctionBackward`` node, made at its first value that
        requires grad."""
        op = _new(_RegionOp)
        op.vjp = self.vjp
        self.edges, self.edge_uses = [], []
        node = self.node = CompiledNode(op, self.edges, None, None, None, None, None, None,
                                        None, 0)
        node.seg = self
        return node

    def add_edge(self, x, slot, j, node) -> None:
        """The edge of input ``j`` (the outside tensor ``x``) of the value ``slot``."""
        e = _registry._edge(x)
        if type(e) is AccumulateGrad and e.seq > node.seq:
            e.seq = node.seq - 0.5 / (len(self.edges) + 1)  # Note [leaves met after the node]
        self.edges.append(e)
        self.edge_uses.append((slot, j))

    # -------------------------------------------------------------- flushing
    def flush(self, reason: str = "the end of the compiled function") -> None:
        """Run the pending part and hand every tensor its array (Note [the trace])."""
        if self.flushed:
            return
        trace = self.trace
        if trace.seg is self:
            trace.seg = None
        if trace.hot is self:
            trace.hot = None
        self.flushed = True
        fn = trace.fn
        end = self.pos
        if end.program is None and end.parent is not None:
            end.program = Program(end, len(self.exts))
            fn.programs.append(end)
        if not self.eager and end.parent is not None:
            values, dead = codegen.run_forward_dead(end.program, self)  # Note [dead values]
            segend.hand_out(self, end.program, values, dead)  # Note [the end of a segment]
            self.values = values
        else:
            for lazy, t in zip(self.lazies, self.tensors):
                if t._data is lazy:
                    t._data = lazy.value
        self.lazies = []
        if self.node is None:
            self.values = None
            self.tensors = []
        else:
            self._finish_node(end.program)
        trace.after_flush(self, reason)

    def _finish_node(self, program) -> None:
        """Freeze the node: edges in reverse use order (the engine delivers a value's
        gradients latest consumer first), and the versions its rules will check."""
        self.node.edges = tuple(reversed(self.edges))
        self.edge_uses = self.edge_uses[::-1]
        self.recs, read, self.backward = program.backward_facts(self.edge_uses)
        self.slot_versions = segend.versions(self.tensors, read)  # Note [the end of a segment]
        self.tensors = []

    def run_hooks(self, slot, g):
        """The tensor hooks and ``retain_grad`` of value ``slot``, on its whole gradient."""
        hooks, ref = self.hooks[slot]
        if hooks:
            g = _tensor_hooks(hooks, g, False)
        if ref is not None:
            _retain(ref, g, False)
        return g

    def check_version(self, node, slot) -> None:
        t, v = segend.saved_version(self, slot)
        if t._version != v:
            codegen.version_error(node, t, v, t._version)

    def check_ext_version(self, node, eid) -> None:
        t, v = self.ext_versions[eid]
        if t._version != v:
            codegen.version_error(node, t, v, t._version)

    def release(self) -> None:
        if self.pos.program.saves:  # a path's program: made at the flush, before any backward
            self.freed = True
            self.values = None
            self.ext_data = []  # Note [in-place ops in the segment], 1

    # -------------------------------------------------------------- backward
    def vjp(self, xp, g, out, *args, needs=None):
        """The rule of the ``CompiledFunctionBackward`` node (Note [the trace])."""
        if not self.flushed:
            self.flush("a backward through the pending part")
        node = self.node
        grads_out = g if type(g) is tuple else (g,)
        if xp is np:
            if self.values is None and self.freed:
                raise RuntimeError(codegen.SECOND_BACKWARD)
            outs = self.pos.out_slots()
            if len(outs) == len(self.recs):  # every value: output k is slot k
                buf = list(grads_out)
            else:
                buf = [None] * len(self.recs)
                for k, gk in enumerate(grads_out):
                    if gk is not None:
                        buf[outs[k]] = gk
            res = self.backward(buf, self.values, self.ext_data, self.consts, self, node,
                                self.hooks)
        else:
            res = self._backward_create_graph(grads_out)
        return res[0] if len(res) == 1 else tuple(res)

    def _backward_create_graph(self, grads_out):
        """Under ``create_graph=True``: the segment's ops again, eagerly, on the inputs, and
        the engine's backward of that graph (so higher-order gradients are eager's)."""
        if self.freed:
            raise RuntimeError(codegen.SECOND_BACKWARD)
        if self.hooks:
            raise NotImplementedError(
                "gradwalk.compile: register_hook or retain_grad on a value made inside a "
                "compiled region, with create_graph=True, is not supported; register it "
                "outside the region or run that function without gradwalk.compile")
        for eid in self.ext_versions:  # the re-run reads the tensors as they are now
            self.check_ext_version(self.node, eid)
        for slot in self.slot_versions[0]:  # the slots the backward reads
            self.check_version(self.node, slot)
        saved = _registry._trace
        _registry._trace = None
        try:
            aliases: dict = {}
            vals: list = []
            for i, rec in enumerate(self.recs):
                if type(rec.op) is _WRITE:  # done by the forward: its target, as it is now
                    vals.append(_registry.wrap(self.values[i]))
                    continue
                args = []
                for j, ref in enumerate(rec.ins):
                    kind = ref[0]
                    if kind == SLOT:
                        v = vals[ref[1]]
                        args.append(v if rec.needs[j] else v.detach())
                    elif kind == EXT:
                        x = self.exts[ref[1]]
                        if rec.needs[j]:  # one alias per use: one gradient per edge
                            a = aliases[(i, j)] = x.view_as(x)
                            args.append(a)
                        else:
                            args.append(x.detach())
                    elif kind == CONST:
                        args.append(self.consts[ref[1]])
                    else:
                        args.append(ref[1])
                if rec.kind == 1:
                    vals.append(_registry.apply1(rec.op, args[0], rec.params))
                elif rec.kind == 2:
                    vals.append(_registry.apply2(rec.op, args[0], args[1], rec.params))
                else:
                    vals.append(_registry.apply(rec.op, *args, params=rec.params))
            outs, gs = [], []
            for k, g in enumerate(grads_out):
                if g is not None:
                    outs.append(vals[self.out_slots[k]])
                    gs.append(g)
            inputs = [aliases[use] for use in self.edge_uses]
            got = _autograd_grad(outs, inputs, gs, create_graph=True, allow_unused=True)
        finally:
            _registry._trace = saved
        return list(got)


_RESTART = object()
_REREAD = object()
_WRITE = inplace.WriteOp


class _Probe:
    """The fields ``codegen.run_kernel`` reads, before the ``Rec`` exists."""

    __slots__ = ("op", "kind", "params")

    def __init__(self, op, kind, params) -> None:
        self.op, self.kind, self.params = op, kind, params


def _with_edges(rec, edge_of):
    if edge_of is None:
        return rec
    r = Rec(rec.op, rec.kind, rec.ins, rec.params, rec.grad, rec.rg, rec.needs, rec.fits,
            rec.saved, rec.checks, rec.loc)
    r.edge_of = edge_of
    return r


END = "the end of the compiled function"


class Trace:
    """The running compiled call; the registry's hook is ``hook_for(trace)`` (Note [the
    trace])."""

    __slots__ = ("fn", "thread", "seg", "hot", "active", "n_seg")

    def __init__(self, fn) -> None:
        self.fn = fn
        self.thread = threading.get_ident()
        self.seg: Segment | None = None
        self.hot: Segment | None = None  # ``seg`` unless it computes (eager mode): matched
        self.active = True
        self.n_seg = 0  # the segments this call started (Note [the next segment's first step])

    def __call__(self, op, inputs, params, kind):
        """The general path: the matchers (Note [the hit path]) refused, or no segment."""
        if not self.active or _get_ident() != self.thread:
            return NotImplemented
        if _registry._forward_hooks:
            return self._eager(inputs, "forward hooks (forward AD, anomaly mode or saved-tensor "
                                       "hooks) are installed")
        if not op.elementwise and op.name not in SUPPORTED:
            return self._eager(inputs, f"'{op.name}' has no trace support")
        if not op.elementwise and _integer_only(inputs):
            return NotImplemented  # Note [integer values run eagerly] in recfacts.py
        seg = self.seg
        i = -1
        if seg is None:
            seg = self.seg = Segment(self)
            i = self.n_seg
            self.n_seg = i + 1
            starts = self.fn.starts  # Note [the next segment's first step]
            r = starts[i](seg, op, inputs, params, kind) if i < len(starts) else None
            if r is None:
                r = seg.pos.fast(seg, op, inputs, params, kind)  # the last first step taken
            if r is not None:
                self.hot = seg
                _note_start(starts, i, seg.pos.hit)
                return r
        r = seg.record(op, inputs, params, kind)
        if r is _RESTART or r is _REREAD:
            seg.flush(inplace.REREAD if r is _REREAD else
                      "an input of the segment was made by an eager op after it started")
            seg = self.seg = Segment(self)
            r = seg.record(op, inputs, params, kind)
        if r is NotImplemented or r is _RESTART:
            return self._eager(inputs, f"'{op.name}' on inputs the trace does not take "
                                       "(integer or non-NumPy arrays, array parameters, an "
                                       "array replaced since its first use)")
        seg = self.seg
        self.hot = seg if seg is not None and not seg.eager else None
        if i >= 0 and seg is not None and seg.pos.depth == 1:
            _note_start(self.fn.starts, i, seg.pos.hit)  # a child of the root: all checked
        return r

    def _eager(self, inputs, reason):
        """Run an op eagerly; first the pending part, if the op reads any of it."""
        seg = self.seg
        if seg is not None:
            tensor = _registry.Tensor
            for x in inputs:
                if isinstance(x, tensor) and type(x._data) is LazyArray:
                    seg.flush(reason)
                    break
        return NotImplemented

    def inplace(self, apply_inplace, t, fn, args, kwargs):
        """An in-place op inside a region: flush, then run it eagerly (the registry's hook
        in ``indexing.apply_inplace``)."""
        if self.active and _get_ident() == self.thread and (
                r := inplace.record(self, t, fn, args, kwargs)) is not NotImplemented:
            return r  # Note [in-place ops in the segment]
        seg = self.seg
        if seg is not None and self.active and _get_ident() == self.thread:
            reason = _INPLACE.get(fn) if type(fn) is FunctionType else None
            if reason is None:
                reason = f"an in-place op ({getattr(fn, '__name__', fn)}_)"
                if type(fn) is FunctionType and len(_INPLACE) < 4096:
                    _INPLACE[fn] = reason
            seg.flush(reason)
        saved = _registry._trace
        _registry._trace = None
        try:
            return apply_inplace(t, fn, *args, **kwargs)
        finally:
            if self.active:
                _registry._trace = saved

    def after_flush(self, seg, reason: str) -> None:
        if reason != END:  # the frames above: this, then ``Segment.flush`` (gradwalk's)
            self.fn.note_break(reason, user_location(1))


MAX_STARTS = 256  # the segments per call whose first step is remembered


def _note_start(starts: list, i: int, hit) -> None:
    """Remember ``hit`` as the first step of the call's segment ``i``."""
    if i < len(starts):
        starts[i] = hit
    elif i == len(starts) and i < MAX_STARTS:
        starts.append(hit)


_INPLACE: dict = {}  # an in-place op's function -> the reason of its graph break


def hook_for(trace):
    """The function the registry calls for every op of the region (``registry._trace``): the
    matcher of the step the trie expects next, else the general path (Note [the hit path])."""
    thread = trace.thread
    forward_hooks = _registry._forward_hooks  # changed in place only
    general = trace.__call__

    def hook(op, inputs, params, kind):
        seg = trace.hot
        if seg is not None and not forward_hooks and _get_ident() == thread:
            t = seg.pos.fast(seg, op, inputs, params, kind)
            if t is not None:
                return t
        return general(op, inputs, params, kind)

    hook.inplace = trace.inplace
    hook.trace = trace
    hook.flush_writes = inplace.flush_writes  # Note [in-place ops in the segment]
    hook.flush_running = inplace.flush_running
    return hook
