"""Nodes of the recorded graph.

A ``Node`` is made for every op that ran on inputs requiring grad while grad mode was on. It holds
the op's rule (``op``), the values the rule needs (``saved``), and one edge per input: the node that
produced that input, an ``AccumulateGrad`` for a leaf, or ``None`` when the input needs no
gradient. The engine (``engine.py``) walks these edges; it never looks inside an op.
"""

from __future__ import annotations

import itertools

_seq = itertools.count()

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


# PyTorch's names for saved values that gradwalk's declarations call otherwise
# (``MmBackward0._saved_mat2`` is matmul's ``other``; reductions keep ``dim`` as ``axes``).
_SAVED_ALIASES = {"mat2": "other", "dim": "axes"}


class RemovableHandle:
    """Returned by ``register_hook`` and friends; ``remove()`` takes the hook out again."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


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
        """``((node, 0), ...)`` per input, as PyTorch shows the graph; ``(None, 0)`` for no grad."""
        return tuple((e, 0) for e in self.edges)

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
            return self._saved_value(attr[7:])
        raise AttributeError(f"'{self.name()}' object has no attribute '{attr}'")

    def _saved_value(self, key: str):
        from ..tensor import Tensor

        if self.released:
            raise RuntimeError(SECOND_BACKWARD)
        names = self.op.input_names
        if key == "result" and self.out is not None:
            from .graph import Packed

            return self.out.get() if type(self.out) is Packed else Tensor._wrap(self.out)
        if key in names:
            v = self.saved[names.index(key)] if self.saved is not None else None
            if v is not None:
                from .graph import saved_value

                return saved_value(self, v)
        if self.params and key in self.params:
            return self.params[key]
        alias = _SAVED_ALIASES.get(key)
        if alias is not None:
            if alias in names and self.saved is not None:
                v = self.saved[names.index(alias)]
                if v is not None:
                    from .graph import saved_value

                    return saved_value(self, v)
            if self.params and alias in self.params:
                v = self.params[alias]
                return (v,) if isinstance(v, int) else v
        raise AttributeError(f"'{self.name()}' object has no saved value '_saved_{key}'")

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


class _AccumulateOp:
    """The pseudo-op of ``AccumulateGrad`` nodes: gives them a name like every other node."""

    node_name = "AccumulateGrad"
    input_names = ()
    name = "accumulate_grad"


_ACCUMULATE = _AccumulateOp()


class AccumulateGrad(Node):
    """The node in front of a leaf: the engine adds the arriving gradient into ``leaf.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        Node.__init__(self, _ACCUMULATE, (), None, None, None, None, None, (), ())
        self.variable = variable

    def release(self) -> None:
        pass
