"""Nodes of the recorded graph.

A ``Node`` is made for every op that ran on inputs requiring grad while grad mode was on. It holds
the op's rule (``op``), the values the rule needs (``saved``), and one edge per input: the node that
produced that input, an ``AccumulateGrad`` for a leaf, or ``None`` when the input needs no
gradient. The engine (``engine.py``) walks these edges; it never looks inside an op.

Note [the op protocol]
    Every node kind (``Node``, ``MultiNode``, ``AccumulateGrad``, a custom Function's
    ``FunctionNode``, a packed node's ``UnpackingOp``) offers the engine the same few things:

    * ``edges``: per input, ``None`` (no gradient wanted), a producer ``Node`` (output 0 of a
      node with one output), or ``(node, k)`` for output ``k`` of a ``MultiNode``;
    * ``op``: ``name``, ``node_name``, ``elementwise``, ``saves``/``save_out`` and the reverse
      rule ``op.vjp(xp, g, out, *saved, [needs=...,] **params)``: ``g`` is the output's gradient
      (a tuple with one entry per output, ``None`` where none arrived, for a ``MultiNode``); it
      returns one gradient per input (a bare value for one input, else a tuple, ``None`` for
      "no gradient");
    * ``saved``/``versions``/``out``/``out_vc``/``out_ver``/``params``: what the rule reads, and
      the versions the engine checks before reading it;
    * ``shapes``/``dtypes``: what each input's gradient must be (``None``: the rule keeps them);
    * ``seq`` (creation order, the walk's priority), ``released`` and ``release()``;
    * what users see: ``name()``, ``next_functions`` (``(node, output index)`` per input),
      ``register_hook``, ``register_prehook``, ``metadata``.
    ``AccumulateGrad`` has no edges and no rule: the engine adds its gradient into the leaf.
"""

from __future__ import annotations

import itertools
import threading
import weakref

from .hooks import RemovableHandle
from .messages import SECOND_BACKWARD as SECOND_BACKWARD  # re-exported (function.py)
from .messages import raise_version_error
from .saved_names import saved_by_name

_seq = itertools.count()


def check_versions(node) -> None:
    """Raise PyTorch's error if a value ``node`` saved was changed in place since."""
    saved, versions = node.saved, node.versions
    for i, t in enumerate(saved):
        if versions[i] is not None and t._version != versions[i]:
            raise_version_error(node, t, versions[i], t._version)
    if node.out_vc is not None and node.out_vc[0] != node.out_ver:
        raise_version_error(node, None, node.out_ver, node.out_vc[0],
                             shape=node.out.shape, dtype=node.out.dtype)


class PreHooks:
    """What runs before a node's rule: the hooks of the tensor it produced (``tensor``, each
    ``hook(grad) -> grad | None``) and node pre-hooks (``node``, ``hook(grad_outputs)``)."""

    __slots__ = ("tensor", "node")

    def __init__(self) -> None:
        self.tensor: list = []
        self.node: list = []

    def __bool__(self) -> bool:
        return bool(self.tensor or self.node)


class _RareDefaults:
    """Defaults of the node attributes that most nodes never set (hooks, retained grads, the
    released flag...). Kept out of ``Node.__slots__`` so that recording a node stores only what
    every node needs; setting one of these makes the node's ``__dict__`` on first use."""

    pre_hooks = None
    hooks = None
    retains = None
    meta = None
    out_ver = 0


class Node(_RareDefaults):
    """One recorded op application: its rule, saved values and edges to the inputs' producers.

    Slots (what every node holds; the rare attributes below default on ``_RareDefaults``):
        op        the op declaration (``ops.registry.Op``): name and rules
        edges     per input: producer ``Node``, ``AccumulateGrad``, or ``None``
        saved     per input: the input ``Tensor`` (or Python scalar) the rule reads, else ``None``
        versions  per input: the version of a saved tensor when it was saved, else ``None``
        out       the output array, when the op's rule reads it
        out_vc    the output's version counter, when ``out`` is saved
        out_ver   the output's version when it was saved (0, or the version after an in-place op)
        params    keyword parameters of the op (``dim``, ``keepdim``...), or ``None``
        shapes    per input: the shape its gradient must have (``None`` for a one-input
                  elementwise op, whose rule keeps the gradient's shape and dtype)
        dtypes    per input: the dtype its gradient must have (or ``None``, as ``shapes``)
        seq       creation order; the engine runs the latest-created ready node first
        released  True once the saved values were freed by a backward
        pre_hooks   ``PreHooks`` (tensor hooks and node pre-hooks) or ``None``
        hooks       node post-hooks (``register_hook``) or ``None``
    """

    __slots__ = ("op", "edges", "saved", "versions", "out", "out_vc", "params", "shapes",
                 "dtypes", "seq", "released")

    def __init__(self, op, edges, saved, versions, out, out_vc, params, shapes, dtypes) -> None:
        self.op = op
        self.edges = edges
        self.saved = saved
        self.versions = versions
        self.out = out
        self.out_vc = out_vc
        self.params = params
        self.shapes = shapes
        self.dtypes = dtypes
        self.seq = next(_seq)
        self.released = False

    # ------------------------------------------------------------------ what users see
    def name(self) -> str:
        """PyTorch's name for this node, e.g. ``MulBackward0``."""
        return self.op.node_name

    @property
    def next_functions(self) -> tuple:
        """``((node, output index), ...)`` per input, as PyTorch shows the graph; ``(None, 0)``
        for an input that needs no gradient."""
        return tuple(e if type(e) is tuple else (e, 0) for e in self.edges)

    @property
    def metadata(self) -> dict:
        if self.meta is None:
            self.meta = {}
        return self.meta

    def register_hook(self, hook) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after the node's rule; may return new grads."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)
        return RemovableHandle(self.hooks, hook)

    def register_prehook(self, hook) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before the node's rule; may return replacement grads.

        ``grad_outputs`` is a tuple (one gradient per output of the node); the hook returns
        ``None`` or a tuple of the same length. Tensor hooks (``Tensor.register_hook``) and
        ``retain_grad`` run before node pre-hooks, as in PyTorch.
        """
        hooks = self._pre().node
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _output_hooks(self, k: int) -> list:
        """The list of tensor hooks (``Tensor.register_hook``) of output ``k``."""
        return self._pre().tensor

    def _retain_output(self, k: int, ref) -> None:
        """``retain_grad`` of output ``k``: ``ref`` is a weak reference to the tensor."""
        self.retains = ref

    def _pre(self) -> PreHooks:
        """The node's pre-hooks, made on first use (``None`` keeps the engine's check cheap)."""
        pre = self.pre_hooks
        if pre is None:
            pre = self.pre_hooks = PreHooks()
        return pre

    def __getattr__(self, attr: str):
        # Teaching access to saved values: ``y.grad_fn._saved_self``, ``_saved_other``,
        # ``_saved_result`` and any op parameter as ``_saved_<name>``.
        if attr.startswith("_saved_"):
            return saved_by_name(self, attr[7:])
        raise AttributeError(f"'{self.name()}' object has no attribute '{attr}'")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    # ------------------------------------------------------------------ used by the engine
    def release(self) -> None:
        """Free the saved values (after a backward without ``retain_graph``). A node that saved
        nothing stays usable, as in PyTorch."""
        op = self.op
        if op.saves or op.save_out:
            self.released = True
            self.saved = None
            self.out = None


class MultiNode(Node):
    """A node whose op has several outputs (``unbind``, ``split``, a custom Function returning a
    tuple): one node per call, and edges ``(node, k)`` from the consumers of output ``k``.

    The engine gives it one gradient slot per output and calls its rule once, with a tuple of
    ``outputs`` gradients (``None`` for outputs that received none). Tensor hooks and
    ``retain_grad`` are per output (``out_hooks``, ``out_retains``: ``None`` or one entry per
    output); node pre-hooks and post-hooks see the whole tuple, as in PyTorch.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.ones(3, 2, requires_grad=True)
        >>> rows = x.unbind()
        >>> rows[0].grad_fn is rows[2].grad_fn, (rows[2] * 2).grad_fn.next_functions[0][1]
        (True, 2)
    """

    __slots__ = ("outputs",)

    views = True  # the outputs are views of the input (unbind, split); not a custom Function's
    out_hooks: list | None = None
    out_retains = None

    def __init__(self, op, edges, saved, versions, out, out_vc, params, shapes, dtypes,
                 outputs: int) -> None:
        Node.__init__(self, op, edges, saved, versions, out, out_vc, params, shapes, dtypes)
        self.outputs = outputs

    def _output_hooks(self, k: int) -> list:
        if self.out_hooks is None:
            self.out_hooks = [None] * self.outputs
        hooks = self.out_hooks[k]
        if hooks is None:
            hooks = self.out_hooks[k] = []
        return hooks

    def _retain_output(self, k: int, ref) -> None:
        if self.out_retains is None:
            self.out_retains = [None] * self.outputs
        self.out_retains[k] = ref


def edge_of(t, fn):
    """The edge to ``t``'s producer ``fn`` (its ``grad_fn``): ``fn`` itself, or ``(fn, k)`` when
    ``t`` is output ``k`` of a ``MultiNode`` (Note [the op protocol]).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.node import edge_of
        >>> a, b = (gradwalk.ones(2, requires_grad=True) * 1).split(1)
        >>> edge_of(b, b.grad_fn) == (b.grad_fn, 1), edge_of(b * 2, (b * 2).grad_fn).name()
        (True, 'MulBackward0')
    """
    if type(fn) is not MultiNode and not isinstance(fn, MultiNode):
        return fn
    e = getattr(t, "_out_edge", None)
    if e is None or e[0] is not fn:
        raise RuntimeError(f"a tensor produced by {fn.name()} does not know its output index")
    return e


def copy_edge(src, dst) -> None:
    """Give ``dst`` (a new tensor with ``src``'s ``grad_fn``) ``src``'s output index.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.node import copy_edge, output_nr
        >>> rows = gradwalk.ones(2, 2, requires_grad=True).unbind()
        >>> alias = gradwalk.Tensor._make(rows[1]._data, rows[1].grad_fn)
        >>> copy_edge(rows[1], alias)
        >>> output_nr(alias)
        1
    """
    e = getattr(src, "_out_edge", None)
    if e is not None:
        dst._out_edge = e


def output_nr(t) -> int:
    """Which output of its ``grad_fn`` the tensor ``t`` is (0 unless a ``MultiNode`` made it).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.node import output_nr
        >>> [output_nr(r) for r in gradwalk.ones(3, requires_grad=True).unbind()]
        [0, 1, 2]
    """
    e = getattr(t, "_out_edge", None)
    return e[1] if e is not None and e[0] is t.grad_fn else 0


class _AccumulateOp:
    """The pseudo-op of ``AccumulateGrad`` nodes: gives them a name like every other node."""

    node_name = "AccumulateGrad"
    input_names = ()
    name = "accumulate_grad"


_ACCUMULATE = _AccumulateOp()


class AccumulateGrad(Node):
    """The node in front of a leaf: the engine adds the arriving gradient into ``leaf.grad``.

    Note [the leaf's accumulator]
        A leaf makes its ``AccumulateGrad`` on first use and keeps it (``Tensor._accumulator``),
        so a training step does not build one node per parameter again. The node refers to the
        leaf weakly (``variable`` is ``None`` once the leaf is freed): there is no reference
        cycle, and a leaf is freed by reference counting as before. What the node holds stays
        valid across graphs: it saves nothing, its creation number is older than every consumer
        (the walk pops it last, as it must), and the gradient, the leaf's hooks and ``.grad``
        are read from the leaf when a gradient arrives. Hooks registered on the node itself
        (``next_functions[0][0].register_hook``) therefore last as long as the leaf; PyTorch
        keeps the node only while a graph (or the user) holds it.
    """

    __slots__ = ("_leaf", "lock")

    def __init__(self, variable) -> None:
        Node.__init__(self, _ACCUMULATE, (), None, None, None, None, None, (), ())
        self._leaf = weakref.ref(variable)
        self.lock = _LEAF_LOCKS[(id(variable) >> 4) & 63]  # Note [concurrent accumulation]

    @property
    def variable(self):
        """The leaf this node accumulates into (``None`` once it was freed)."""
        return self._leaf()

    def release(self) -> None:
        pass


_LEAF_LOCKS = tuple(threading.Lock() for _ in range(64))
