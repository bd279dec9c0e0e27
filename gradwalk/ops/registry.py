"""The op registry: one declaration per op, and the code that applies it.

An op is declared once, with its forward and both derivative rules side by side::

    sin = unary("sin",
                forward=lambda xp, x: xp.sin(x),
                vjp=lambda xp, g, out, x: g * xp.cos(x),
                jvp=lambda xp, t, out, x: t * xp.cos(x))

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
* ``xp`` is numpy (or cupy) with raw arrays for first-order work, and ``gradwalk.ops.dxp``, the
  differentiable namespace, with Tensors when the engine runs with ``create_graph=True``. So rules
  use only ``xp`` functions, arithmetic operators, ``.shape``/``.ndim`` and the helpers of
  ``gradwalk.ops.kernels``, which work in both modes.

The registry decides whether to record a node: only when grad mode is on and an input requires
grad. That check is the whole fast path for inference.

Note [0-d scalars]
    Tensors always hold ndarrays, 0-d included. But NumPy's arithmetic on 0-d arrays costs about
    ten times its arithmetic on NumPy scalars (~400 ns against ~40 ns), which dominates a scalar
    program. So elementwise ops on 0-d data compute on the scalar (``a[()]``) and wrap the result
    in a 0-d array once; the engine does the same for the saved values of elementwise rules.
    The results are identical: NumPy scalars and 0-d arrays follow the same dtype rules.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import is_grad_enabled_fast
from ..autograd.node import MultiNode, Node, edge_of
from ..backend import xp_of

_ndarray = np.ndarray
_asarray = np.asarray
_Batched = None  # set by func/_batched_array.py: vmap's BatchedArray type


def _as_out(out):
    """A forward's result that is not an ndarray (a NumPy scalar) as a 0-d array; ``vmap``'s
    batched arrays (``func/_batched_array.py``) stay as they are."""
    return out if type(out) is _Batched else _asarray(out)


REGISTRY: dict[str, Op] = {}


class Op:
    """An op declaration: forward, reverse rule (vjp) and forward rule (jvp) together."""

    __slots__ = (
        "name", "forward", "vjp", "jvp", "node_name", "input_names", "saves", "save_out",
        "elementwise",
    )

    def __init__(self, name, forward, vjp, jvp, *, inputs, saves, save_out, node_name,
                 elementwise) -> None:
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

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def _default_node_name(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_")) + "Backward0"


def declare(name: str, forward, vjp=None, jvp=None, *, inputs=("self",), saves=None,
            save_out: bool = False, node_name: str | None = None,
            elementwise: bool = False) -> Op:
    """Register an op. ``inputs`` names the tensor inputs (PyTorch's ``self``, ``other``...)."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is declared twice")
    op = Op(name, forward, vjp, jvp, inputs=inputs, saves=saves, save_out=save_out,
            node_name=node_name, elementwise=elementwise)
    REGISTRY[name] = op
    return op


def unary(name, forward, vjp=None, jvp=None, **kw) -> Op:
    return declare(name, forward, vjp, jvp, inputs=("self",), **kw)


def binary(name, forward, vjp=None, jvp=None, **kw) -> Op:
    kw.setdefault("inputs", ("self", "other"))
    return declare(name, forward, vjp, jvp, **kw)


# ---------------------------------------------------------------------------------------------
# Applying an op. Tensor is imported late (tensor.py imports the ops).

Tensor = None  # set by tensor.py: the Tensor class
_make = None  # set by tensor.py: Tensor._make(data, grad_fn)
_forward_hooks: list = []  # anomaly mode and forward-mode AD add themselves here


def _edge(t):
    """The edge to ``t``'s producer: its node, ``(node, k)`` for output ``k`` of a multi-output
    node (Note [the op protocol] in autograd/node.py), its ``AccumulateGrad``, or ``None``."""
    fn = t.grad_fn
    if fn is not None:
        return fn if type(fn) is Node else edge_of(t, fn)
    if t._requires_grad:
        return t._accumulator()
    return None


def apply1(op: Op, x, params=None):
    """Apply a one-input op to Tensor ``x`` (the hot path: keep it short)."""
    data = x.data
    if type(data) is _ndarray:
        if data.ndim or not op.elementwise:
            out = op.forward(np, data) if params is None else op.forward(np, data, **params)
            if type(out) is not _ndarray:
                out = _as_out(out)
        else:  # Note [0-d scalars]
            d = data[()]
            out = _asarray(op.forward(np, d) if params is None else op.forward(np, d, **params))
    else:
        xp = xp_of(data)
        out = op.forward(xp, data) if params is None else op.forward(xp, data, **params)
    if x._requires_grad and is_grad_enabled_fast():
        fn = x.grad_fn
        if op.saves:
            saved = (x,)
            versions = _ZERO1 if x._vcl is None else (x._vcl[0],)
        else:
            saved = versions = _NONE1
        # the output's version counter is made up front only when the node keeps the output
        vc = [0] if op.save_out else None
        if op.elementwise:  # the rule keeps the gradient's shape and dtype: nothing to check
            node = Node(op, (fn if type(fn) is Node else _edge(x),), saved, versions,
                        None if vc is None else out, vc, params, None, None)
        else:
            node = Node(op, (fn if type(fn) is Node else _edge(x),), saved, versions,
                        None if vc is None else out, vc, params, (data.shape,), (data.dtype,))
        res = _make(out, node)
        if vc is not None:
            res._vcl = vc
    else:
        res = _make(out, None)
    if _forward_hooks:
        for h in _forward_hooks:
            h(op, (x,), res, params)
    return res


_NONE1 = (None,)
_ZERO1 = (0,)


def apply2(op: Op, a, b, params=None):
    """Apply a two-input elementwise op: ``a`` a Tensor, ``b`` a Tensor or a Python number.

    The common case of ``apply`` written out, because arithmetic is most of an eager program.
    """
    ad = a.data
    tb = type(b)
    bt = tb is not float and tb is not int and isinstance(b, Tensor)
    if bt:
        bd = b.data
        rb = b._requires_grad
        if ad.dtype is not bd.dtype:
            ad, bd = _promote2(op, (a, b), [ad, bd])
    else:
        bd = b
        rb = False
        if tb is float and ad.dtype.kind != "f":
            ad, bd = _promote2(op, (a, b), [ad, bd])
    if type(ad) is _ndarray:
        if ad.ndim == 0 and op.elementwise and (type(bd) is not _ndarray or bd.ndim == 0) \
                and type(bd) is not _Batched:
            # Note [0-d scalars]
            sa, sb = ad[()], (bd[()] if type(bd) is _ndarray else bd)
            out = _asarray(op.forward(np, sa, sb) if params is None else op.forward(
                np, sa, sb, **params))
        else:
            out = op.forward(np, ad, bd) if params is None else op.forward(np, ad, bd, **params)
            if type(out) is not _ndarray:
                out = _as_out(out)
    else:
        xp = xp_of(ad)
        out = op.forward(xp, ad, bd) if params is None else op.forward(xp, ad, bd, **params)
    ra = a._requires_grad
    if (ra or rb) and is_grad_enabled_fast():
        saves = op.saves
        if rb:
            fa = a.grad_fn
            ea = (fa if type(fa) is Node else _edge(a)) if ra else None
            fb = b.grad_fn
            eb = fb if type(fb) is Node else _edge(b)
            edges = (ea, eb)
            shapes = (ad.shape, bd.shape)
            dtypes = (ad.dtype, bd.dtype)
            if saves:
                saved = (a, b)
                versions = (_version(a), _version(b))
            else:
                saved = versions = _NONE2
        else:
            fa = a.grad_fn
            edges = (fa if type(fa) is Node else _edge(a), None)
            if bt:
                shapes = (ad.shape, None)
                dtypes = (ad.dtype, None)
                versions = (_version(a), _version(b)) if saves else _NONE2
            else:  # a Python number: the gradient of ``a`` keeps the output's shape and dtype
                shapes = dtypes = None
                if saves:
                    versions = _ZERO_NONE if a._vcl is None else (a._vcl[0], None)
                else:
                    versions = _NONE2
            saved = (a, b) if saves else _NONE2
        vc = [0] if op.save_out else None
        res = _make(out, Node(op, edges, saved, versions, None if vc is None else out, vc,
                              params, shapes, dtypes))
        if vc is not None:
            res._vcl = vc
    else:
        res = _make(out, None)
    if _forward_hooks:
        for h in _forward_hooks:
            h(op, (a, b), res, params)
    return res


_NONE2 = (None, None)
_ZERO_NONE = (0, None)


def _version(t) -> int:
    vc = t._vcl
    return 0 if vc is None else vc[0]


def apply(op: Op, *args, params=None):
    """Apply an op to its inputs: Tensors, or Python scalars / arrays for non-tensor inputs."""
    tensor = Tensor
    datas = []
    requires = False
    xp = None
    for a in args:
        if isinstance(a, tensor):
            d = a.data
            datas.append(d)
            if a._requires_grad:
                requires = True
            if xp is None and type(d) is not _ndarray:
                xp = xp_of(d)
        else:
            datas.append(a)
    if xp is None:
        xp = np
    if op.elementwise and len(datas) == 2:
        datas = _promote2(op, args, datas)
    out = op.forward(xp, *datas) if params is None else op.forward(xp, *datas, **params)
    if xp is np and type(out) is not _ndarray:
        out = _as_out(out)
    if requires and is_grad_enabled_fast():
        saves = op.saves
        edges = []
        saved = []
        versions = []
        shapes = []
        dtypes = []
        for i, a in enumerate(args):
            if isinstance(a, tensor):
                edges.append(_edge(a))
                d = datas[i]
                shapes.append(d.shape)
                dtypes.append(d.dtype)
                if i in saves:
                    saved.append(a)
                    versions.append(_version(a))
                else:
                    saved.append(None)
                    versions.append(None)
            else:
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
                saved.append(a if i in saves else None)
                versions.append(None)
        node = Node(op, tuple(edges), tuple(saved), tuple(versions),
                    out if op.save_out else None, None, params, tuple(shapes), tuple(dtypes))
        res = _make(out, node)
        if op.save_out:
            node.out_vc = res._vc
    else:
        res = _make(out, None)
    if _forward_hooks:
        for h in _forward_hooks:
            h(op, args, res, params)
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
    data = x.data
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


def _promote2(op, args, datas):
    """PyTorch's type promotion for two inputs, where NumPy's differs (the slow path).

    NumPy promotes int64 with float32 to float64 and an integer tensor with a Python float to
    float64; PyTorch keeps float32 (the floating input's dtype, or the default dtype).
    """
    a, b = datas
    ka = a.dtype.kind if hasattr(a, "dtype") and not isinstance(a, (float, int)) else None
    kb = b.dtype.kind if hasattr(b, "dtype") and not isinstance(b, (float, int)) else None
    if ka is not None and kb is not None:
        if a.dtype is b.dtype or a.dtype == b.dtype:
            return datas
        fa, fb = ka in "fc", kb in "fc"
        if fa and not fb:
            return [a, b.astype(a.dtype)]
        if fb and not fa:
            return [a.astype(b.dtype), b]
        return datas
    # one side is a Python number
    if ka is not None and ka in "biu" and isinstance(b, float):
        from ..dtypes import get_default_dtype

        return [a.astype(get_default_dtype().np), b]
    if kb is not None and kb in "biu" and isinstance(a, float):
        from ..dtypes import get_default_dtype

        return [a, b.astype(get_default_dtype().np)]
    return datas
