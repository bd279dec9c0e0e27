"""The op registry: one declaration per op, and the code that applies it.

An op is declared once; every fact about it is a field of that declaration::

    SIN = unary("sin", forward=lambda xp, x: xp.sin(x),
                vjp=lambda xp, g, out, x: g * xp.cos(x), elementwise=True,
                explain="grad * cos(x)",
                example=("gradwalk.sin(gradwalk.tensor([0.0]))", "tensor([0.])"))

Nothing is restated (``docs/architecture.md``): an ``elementwise=True`` op without a ``jvp``
gets its forward rule from its reverse rule, a ``linear=True`` op from its forward; a declaration
with an ``example`` gets its function, method and in-place method (``ops/surface.py``).

Rule conventions (Note [rules]):

* ``forward(xp, *inputs, **params)`` gets raw arrays (or Python scalars) and returns an array.
* ``vjp(xp, g, out, *inputs, **params)`` gets the output's gradient ``g``, the output ``out``
  (``None`` unless declared ``save_out=True``) and the saved inputs (``None`` for inputs the
  declaration does not save). A one-input op returns the input's gradient; an op of several inputs
  returns a tuple and receives ``needs``, a tuple of bools saying which inputs want a gradient.
  ``None`` means "no gradient". Rules never unbroadcast: the engine sums to the input's shape.
* ``jvp(xp, t, out, *inputs, **params)`` gets the input tangent (a tuple, with ``None`` for zero
  tangents, for ops of several inputs) and returns the output tangent, which may be any array that
  broadcasts to the output's shape (``add`` given only its smaller input's tangent returns it as
  is); forward mode broadcasts it.
* ``xp`` is numpy (or cupy) with raw arrays, or ``gradwalk.ops.dxp`` (the differentiable
  namespace) with Tensors under ``create_graph=True``: rules use only ``xp`` functions, operators,
  ``.shape``/``.ndim`` and the helpers of ``gradwalk.ops.kernels``, which work in both modes.

A node is recorded only when grad mode is on and an input requires grad: the inference path.

Note [binding]
    The ops make Tensors but do not import ``tensor.py`` (which imports them for its methods):
    ``tensor.py`` calls ``gradwalk.ops.surface.bind(Tensor)`` once, which hands the class to
    ``registry.bind`` (here: ``Tensor``, ``make``, ``wrap``) and installs the generated methods.
    Every op module reads the class as ``registry.Tensor``. ``registry.bind`` hands it on to
    ``engine.bind`` (which hands it to ``hooks.bind``): each module sets its own global.

Note [0-d scalars]
    Tensors always hold ndarrays, 0-d included. But NumPy's arithmetic on 0-d arrays costs about
    ten times its arithmetic on NumPy scalars (~400 ns against ~40 ns), which dominates a scalar
    program. So elementwise ops on 0-d data compute on the scalar (``a[()]``) and wrap the result
    in a 0-d array once; the engine does the same for the saved values of elementwise rules.
    The results are identical: NumPy scalars and 0-d arrays follow the same dtype rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import engine as _engine
from ..autograd.grad_mode import is_grad_enabled_fast
from ..autograd.node import MultiNode, Node, edge_of
from ..backend import xp_of
from ..dtypes import promote_pair as _promote2
from . import rules as _rules

_ndarray = np.ndarray
_asarray = np.asarray
_new = object.__new__
_Batched = None  # set by func/_batched_array.py: vmap's BatchedArray type
_complex = None  # set by ops/complex.py: an op's complex form (Note [complex ops] there)


def _as_out(out):
    """A forward's result that is not an ndarray (a NumPy scalar) as a 0-d array; ``vmap``'s
    batched arrays (``func/_batched_array.py``) stay as they are."""
    return out if type(out) is _Batched else _asarray(out)


REGISTRY: dict[str, Op] = {}


class Op:
    """An op declaration: forward, reverse rule (vjp), forward rule (jvp) and the facts around
    them (which inputs the node saves, the node's name, the rule in words, the doc example)."""

    __slots__ = (
        "name", "forward", "vjp", "jvp", "node_name", "input_names", "saves", "save_out",
        "elementwise", "explain", "int_ok", "example", "function", "saves_if",
    )

    def __init__(self, name, forward, vjp, jvp, *, inputs, saves, save_out, node_name,
                 elementwise, explain=None, int_ok=False, example=None, saves_if=None) -> None:
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.jvp = jvp
        self.input_names = tuple(inputs)
        # Which inputs the rules read (indices); the others are not kept alive by the node.
        self.saves = tuple(range(len(inputs))) if saves is None else tuple(saves)
        self.save_out = save_out
        self.node_name = node_name or _default_node_name(name)
        self.elementwise = elementwise
        self.explain = explain  # the vjp in words, one text per input, or a callable of params
        self.int_ok = int_ok  # integer inputs stay integer (else the public function casts)
        self.example = example  # (call, printed result) for the generated docstring
        self.function = None  # the generated public function (ops/surface.py), if any
        self.saves_if = saves_if  # per input, the inputs whose gradient reads it (rules.py)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def _default_node_name(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_")) + "Backward0"


def declare(name: str, forward: Callable, vjp: Callable | None = None,
            jvp: Callable | None = None, *, inputs: tuple = ("self",), saves: tuple | None = None,
            save_out: bool = False, node_name: str | None = None, elementwise: bool = False,
            linear: bool = False, explain: str | tuple | Callable | None = None, int_ok=False,
            example: tuple | None = None, saves_if: tuple | None = None) -> Op:
    """Register an op. ``inputs`` names the tensor inputs (PyTorch's ``self``, ``other``...).

    ``jvp`` may be left out for an ``elementwise`` op (derived from ``vjp``) or a ``linear``
    one (derived from ``forward``). ``explain`` is a string for a one-input op, else a tuple.
    """
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is declared twice")
    if jvp is None and linear:
        jvp = _rules.jvp_of_linear(forward)
    elif jvp is None and elementwise and vjp is not None:
        jvp = vjp if len(inputs) == 1 else _rules.jvp_of_elementwise(vjp, len(inputs))
    op = Op(name, forward, vjp, jvp, inputs=inputs, saves=saves, save_out=save_out,
            node_name=node_name, elementwise=elementwise,
            explain=(explain,) if isinstance(explain, str) else explain, int_ok=int_ok,
            example=example, saves_if=saves_if)
    _rules.check_reads(op)
    REGISTRY[name] = op
    return op


def declare_each(names: tuple, forward: Callable, vjp: Callable | None = None,
                 jvp: Callable | None = None, *, node_name: dict | None = None,
                 explain: dict | None = None, **facts) -> tuple:
    """One declaration for several ops that differ only in name (``view``, ``reshape``...):
    ``node_name`` and ``explain`` map a name to its own value."""
    return tuple(declare(n, forward, vjp, jvp, node_name=(node_name or {}).get(n),
                         explain=(explain or {}).get(n), **facts) for n in names)


def unary(name: str, forward: Callable, vjp: Callable | None = None,
          jvp: Callable | None = None, **kw: Any) -> Op:
    """``declare`` of a one-input op (its input is ``self``)."""
    return declare(name, forward, vjp, jvp, inputs=("self",), **kw)


def binary(name: str, forward: Callable, vjp: Callable | None = None,
           jvp: Callable | None = None, **kw: Any) -> Op:
    """``declare`` of a two-input op (``self`` and ``other`` unless ``inputs`` says)."""
    kw.setdefault("inputs", ("self", "other"))
    return declare(name, forward, vjp, jvp, **kw)


# ---------------------------------------------------------------------------------------------
# Binding (Note [binding]) and applying an op.

Tensor = None  # the Tensor class, after bind
_make = None  # Tensor._make(data, grad_fn): an op's output
wrap = None  # Tensor._wrap(data): a tensor that requires no grad
_forward_hooks: list = []  # anomaly mode and forward-mode AD add themselves here
_trace = None  # the running compiled region (gradwalk/compiler/trace.py, Note [the trace])


def bind(tensor_type: type) -> None:
    """Hand the Tensor class to the ops and the engine (once, from ``ops.surface.bind``)."""
    global Tensor, _make, wrap
    Tensor, _make, wrap = tensor_type, tensor_type._make, tensor_type._wrap
    _engine.bind(tensor=tensor_type)


def _edge(t):
    """The edge to ``t``'s producer: its node, ``(node, k)`` for output ``k`` of a multi-output
    node (Note [the op protocol] in autograd/node.py), its ``AccumulateGrad``, or ``None``."""
    fn = t.grad_fn
    if fn is not None:
        return fn if type(fn) is Node else edge_of(t, fn)
    if t._requires_grad:
        return t._accumulator()  # kept on the leaf (Note [the leaf's accumulator])
    return None


def apply1(op: Op, input: Tensor, params: dict | None = None) -> Tensor:
    """Apply a one-input op to the Tensor ``input`` (the hot path: keep it short)."""
    if _trace is not None and (r := _trace(op, (input,), params, 1)) is not NotImplemented:
        return r
    data = input._data
    op = _complex(op) if data.dtype.kind == "c" else op
    if type(data) is _ndarray:
        if data.ndim or not op.elementwise:
            out = op.forward(np, data) if params is None else op.forward(np, data, **params)
            if type(out) is not _ndarray:
                out = _as_out(out)
        else:  # Note [0-d scalars]
            scalar = data[()]
            out = _asarray(op.forward(np, scalar) if params is None
                           else op.forward(np, scalar, **params))
    else:
        xp = xp_of(data)
        out = op.forward(xp, data) if params is None else op.forward(xp, data, **params)
    if input._requires_grad and is_grad_enabled_fast():
        fn = input.grad_fn
        if op.saves:
            saved = (input,)
            versions = _ZERO1 if input._vcl is None else (input._vcl[0],)
        else:
            saved = versions = _NONE1
        # the output's version counter is made up front only when the node keeps the output
        vc = [0] if op.save_out else None
        edges = (fn if type(fn) is Node else _edge(input),)
        if op.elementwise:  # the rule keeps the gradient's shape and dtype: nothing to check
            node = Node(op, edges, saved, versions, None if vc is None else out, vc, params,
                        None, None)
        else:
            node = Node(op, edges, saved, versions, None if vc is None else out, vc, params,
                        (data.shape,), (data.dtype,))
        res = _new(Tensor)  # ``Tensor._make`` written out, with the version counter
        res._data, res.grad_fn, res._requires_grad, res._vcl = out, node, True, vc
    else:
        res = _make(out, None)
    if _forward_hooks:
        for h in _forward_hooks:
            h(op, (input,), res, params)
    return res


_NONE1, _ZERO1, _NONE2 = (None,), (0,), (None, None)


def apply2(op: Op, input: Tensor, other: Tensor | float | int,
           params: dict | None = None) -> Tensor:
    """Apply a two-input elementwise op: ``input`` a Tensor, ``other`` a Tensor or a Python
    number. The common case of ``apply`` written out: arithmetic is most of an eager program."""
    if _trace is not None and (r := _trace(op, (input, other), params, 2)) is not NotImplemented:
        return r
    input_data = input._data
    other_type = type(other)
    other_is_tensor = other_type is not float and other_type is not int and isinstance(
        other, Tensor)
    if other_is_tensor:
        other_data = other._data
        other_requires_grad = other._requires_grad
        if input_data.dtype is not other_data.dtype:
            input_data, other_data = _promote2(input_data, other_data)
    else:
        other_data = other
        other_requires_grad = False
        if other_type is float and input_data.dtype.kind != "f":
            input_data, other_data = _promote2(input_data, other_data)
    if input_data.dtype.kind == "c":  # complex: the general path records every input's dtype
        return apply(op, input, other, params=params)
    if type(input_data) is _ndarray:
        if input_data.ndim == 0 and op.elementwise and type(other_data) is not _Batched and (
                type(other_data) is not _ndarray or other_data.ndim == 0):
            # Note [0-d scalars]
            input_scalar = input_data[()]
            other_scalar = other_data[()] if type(other_data) is _ndarray else other_data
            out = _asarray(op.forward(np, input_scalar, other_scalar) if params is None
                           else op.forward(np, input_scalar, other_scalar, **params))
        else:
            out = op.forward(np, input_data, other_data) if params is None else op.forward(
                np, input_data, other_data, **params)
            if type(out) is not _ndarray:
                out = _as_out(out)
    else:
        xp = xp_of(input_data)
        out = op.forward(xp, input_data, other_data) if params is None else op.forward(
            xp, input_data, other_data, **params)
    input_requires_grad = input._requires_grad
    if (input_requires_grad or other_requires_grad) and is_grad_enabled_fast():
        saves = op.saves
        if other_requires_grad:
            fn = input.grad_fn
            other_fn = other.grad_fn
            edges = ((fn if type(fn) is Node else _edge(input)) if input_requires_grad
                     else None, other_fn if type(other_fn) is Node else _edge(other))
            shapes = (input_data.shape, other_data.shape)
            dtypes = (input._data.dtype, other._data.dtype)  # before promotion: grads cast back
            if saves:  # ``other`` may be read by ``input``'s gradient alone (Note [saves_if])
                saved = (input, other)
                versions = (_version(input), None if op.saves_if and 1 not in op.saves_if[1]
                            and not input_requires_grad else _version(other))
            else:
                saved = versions = _NONE2
        else:  # only ``input``'s gradient: is ``input`` read by it? (Note [saves_if])
            fn = input.grad_fn
            edges = (fn if type(fn) is Node else _edge(input), None)
            v0 = _version(input) if saves and (op.saves_if is None or 0 in op.saves_if[0]) else None
            if other_is_tensor:
                shapes = (input_data.shape, None)
                dtypes = (input._data.dtype, None)
                versions = (v0, _version(other)) if saves else _NONE2
            else:  # a Python number: the gradient of ``input`` keeps the output's shape, dtype
                shapes = dtypes = None
                versions = (v0, None)
            saved = (input, other) if saves else _NONE2
        vc = [0] if op.save_out else None
        node = Node(op, edges, saved, versions, None if vc is None else out, vc, params, shapes,
                    dtypes)
        res = _new(Tensor)  # ``Tensor._make`` written out, with the version counter
        res._data, res.grad_fn, res._requires_grad, res._vcl = out, node, True, vc
    else:
        res = _make(out, None)
    if _forward_hooks:
        for h in _forward_hooks:
            h(op, (input, other), res, params)
    return res


def _version(t) -> int:
    vc = t._vcl
    return 0 if vc is None else vc[0]


def apply(op: Op, *inputs: Any, params: dict | None = None) -> Tensor:
    """Apply an op to its inputs: Tensors, or Python scalars / arrays for non-tensor inputs."""
    if _trace is not None and (r := _trace(op, inputs, params, 0)) is not NotImplemented:
        return r
    tensor = Tensor
    datas = []
    requires = False
    xp = None
    for input in inputs:
        if isinstance(input, tensor):
            data = input._data
            datas.append(data)
            if data.dtype.kind == "c":
                op = _complex(op)
            if input._requires_grad:
                requires = True
            if xp is None and type(data) is not _ndarray:
                xp = xp_of(data)
        else:
            datas.append(input)
            op = _complex(op) if type(input) is complex else op
    if xp is None:
        xp = np
    if op.elementwise and len(datas) == 2:
        datas = _promote2(*datas)
    out = op.forward(xp, *datas) if params is None else op.forward(xp, *datas, **params)
    if xp is np and type(out) is not _ndarray:
        out = _as_out(out)
    if requires and is_grad_enabled_fast():
        saves = op.saves
        keep = [i in saves for i in range(len(inputs))] if op.saves_if is None else _rules.keeps(
            op, inputs, tensor)
        edges, versions, shapes, dtypes = [], [], [], []
        for input, data, kept in zip(inputs, datas, keep):
            if isinstance(input, tensor):
                fn = input.grad_fn
                edges.append(fn if type(fn) is Node else _edge(input))
                shapes.append(data.shape)
                dtypes.append(input._data.dtype)  # before promotion: the gradient is cast back
                versions.append(None if not kept else 0 if input._vcl is None else input._vcl[0])
            else:  # a Python scalar or array: no edge, no gradient to fit
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
                versions.append(None)
        saved = tuple([input if kept else None for input, kept in zip(inputs, keep)])
        node = Node(op, tuple(edges), saved, tuple(versions),
                    out if op.save_out else None, None, params, tuple(shapes), tuple(dtypes))
        res = _make(out, node)
        if op.save_out:
            node.out_vc = res._vc
    else:
        res = _make(out, None)
    if _forward_hooks:
        for h in _forward_hooks:
            h(op, inputs, res, params)
    return res


def apply_multi(op: Op, x, params=None) -> tuple:
    """Apply a one-input op with several outputs (``op.forward`` returns a tuple of arrays) to
    Tensor ``x``: one ``MultiNode`` for the call, output ``k`` reaching it through the edge
    ``(node, k)`` (Note [multi-output nodes] in autograd/engine.py). The rule gets the tuple of
    the outputs' gradients, ``None`` for outputs that received none.

    Forward hooks (``_forward_hooks``: forward AD, anomaly mode, saved-tensor hooks) see one
    output per op: callers fall back to single-output ops while any is installed.

    Example:
        >>> import gradwalk
        >>> rows = gradwalk.ones(3, 2, requires_grad=True).unbind()
        >>> rows[1].grad_fn.name(), rows[1].output_nr
        ('UnbindBackward0', 1)
    """
    data = x._data
    op = _complex(op) if data.dtype.kind == "c" else op
    xp = np if type(data) is _ndarray else xp_of(data)
    outs = op.forward(xp, data) if params is None else op.forward(xp, data, **params)
    if not (x._requires_grad and is_grad_enabled_fast()):
        return tuple(_make(o, None) for o in outs)
    if op.saves:
        saved, versions = (x,), (_version(x),)
    else:
        saved = versions = _NONE1
    node = MultiNode(op, (_edge(x),), saved, versions, None, None, params, (data.shape,),
                     (data.dtype,), len(outs))
    res = []
    for k, o in enumerate(outs):
        t = _make(o, node)
        t._out_edge = (node, k)
        res.append(t)
    return tuple(res)
