"""Custom differentiable functions: subclass ``Function``, write ``forward`` and ``backward``.

Example:
    >>> import gradwalk
    >>> class Cube(gradwalk.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = gradwalk.tensor(2.0, requires_grad=True)
    >>> y = Cube.apply(x)
    >>> y
    tensor(8., grad_fn=<CubeBackward>)
    >>> y.backward()
    >>> x.grad
    tensor(12.)

Note [custom function nodes]
    ``apply`` records one node per call whose op (``FunctionOp``, one per subclass) has a
    reverse rule that calls the user's ``backward`` with Tensors, so the engine treats it like any
    other node. The node's ``params`` hold the ``ctx``. A Function returning a tuple records a
    ``FunctionMultiNode`` (Note [multi-output nodes] in engine.py): output ``k`` reaches it through
    the edge ``(node, k)``, the engine gathers one gradient per output and the rule calls
    ``backward`` once with all of them (zeros, or ``None`` without ``materialize_grads``, for
    outputs that received none).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import grad_mode
from .node import SECOND_BACKWARD, MultiNode, Node

__all__ = ["Function", "FunctionCtx", "once_differentiable", "InplaceFunction"]


class FunctionCtx:
    """The ``ctx`` passed to ``forward``/``setup_context``/``backward``/``jvp``.

    Store tensors with ``save_for_backward`` and anything else as attributes
    (``ctx.scale = 2``).

    Example:
        >>> import gradwalk
        >>> class Scale(gradwalk.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x, k):
        ...         ctx.k = k
        ...         return x * k
        ...
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         return g * ctx.k, None
        >>> x = gradwalk.ones(2, requires_grad=True)
        >>> Scale.apply(x, 3.0).sum().backward()
        >>> x.grad
        tensor([3., 3.])
    """

    def __init__(self) -> None:
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._saved = None  # tuple of (Tensor or Packed or None)
        self._saved_versions = None
        self._released = False
        self._dirty: tuple = ()
        self._non_differentiable: tuple = ()
        self._saved_for_forward: tuple = ()
        self._out_meta: tuple = ()  # per output: (shape, dtype, differentiable)
        self._in_jvp = False
        self._name = "Function"

    # -------------------------------------------------------------- saving
    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or ``None``) for ``backward``; read them with ``ctx.saved_tensors``."""
        from ..tensor import Tensor

        for k, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {k} is of type "
                    f"{type(t).__name__}; store other values as ctx attributes (ctx.x = ...)")
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for ``jvp`` (forward mode); read them back as ``ctx.saved_tensors``."""
        self._saved_for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked against in-place changes."""
        if self._in_jvp:
            return tuple(self._saved_for_forward)
        if self._released:
            raise RuntimeError(SECOND_BACKWARD)
        if self._saved is None:
            return tuple(getattr(self, "_to_save", ()) or self._saved_for_forward)
        from .saved_hooks import Packed

        out = []
        for k, t in enumerate(self._saved):
            if type(t) is Packed:
                out.append(t.get())
                continue
            v = self._saved_versions[k]
            if t is not None and v is not None and t._vc[0] != v:
                raise RuntimeError(_version_message(self._name, t, v))
            out.append(t)
        return tuple(out)

    # -------------------------------------------------------------- marking outputs
    def mark_dirty(self, *tensors) -> None:
        """Declare the inputs that ``forward`` changed in place (and returns as outputs)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that have no gradient (indices, masks): they won't require grad."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With ``False``, ``backward`` receives ``None`` (not zeros) for outputs with no grad."""
        self.materialize_grads = bool(value)


def _version_message(name, t, saved_v) -> str:
    from .node import raise_version_error

    class _N:  # the engine's message wants a node with a name
        def name(self):
            return name

    try:
        raise_version_error(_N(), t, saved_v, t._vc[0])
    except RuntimeError as e:
        return str(e)
    return "saved tensor modified in place"  # pragma: no cover


class FunctionOp:
    """The op of a custom Function's node: names it and routes the engine to ``backward``."""

    __slots__ = ("cls", "name", "node_name", "input_names", "saves", "save_out", "elementwise",
                 "forward")

    def __init__(self, cls, node_name: str) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.node_name = node_name
        self.input_names = ()
        self.saves = ()
        self.save_out = False
        self.elementwise = False
        self.forward = None

    def __repr__(self) -> str:
        return f"<custom function {self.name}>"

    def vjp(self, xp, g, out, *saved, ctx, needs=None):
        # a FunctionMultiNode's engine passes the tuple of its outputs' gradients
        return _call_backward(self.cls, ctx, g if type(g) is tuple else (g,), xp)

    def jvp(self, xp, t, out, *inputs, ctx, **_):
        tangents = t if isinstance(t, tuple) else (t,)
        return _call_jvp(self.cls, ctx, tangents, xp)


class _FunctionNodeMixin:
    """What the nodes of custom Functions add to the op protocol (Note [the op protocol])."""

    __slots__ = ()

    def release(self) -> None:
        """Free the saved values and the ctx's saved tensors (after a backward)."""
        Node.release(self)
        ctx = self.params["ctx"]
        ctx._released = True
        ctx._saved = None

    @property
    def saved_tensors(self) -> tuple:
        """The ctx's saved tensors (PyTorch's nodes are the ctx)."""
        return self.params["ctx"].saved_tensors

    @property
    def next_functions(self) -> tuple:
        """One entry per Tensor input of ``forward`` (other arguments have no edge)."""
        is_tensor = self.params["ctx"]._input_is_tensor
        return tuple(e if type(e) is tuple else (e, 0)
                     for e, t in zip(self.edges, is_tensor) if t)


class FunctionNode(_FunctionNodeMixin, Node):
    """The node of a custom Function with one output."""

    __slots__ = ()


class FunctionMultiNode(_FunctionNodeMixin, MultiNode):
    """The node of a custom Function returning a tuple: one node, one slot per output."""

    __slots__ = ()
    views = False  # its outputs are new tensors: they may be changed in place


def _call_backward(cls, ctx, grads, xp):
    """Call ``cls.backward(ctx, *grads)``: Tensors in, checked Tensors out (arrays for the
    engine's first-order mode)."""
    from ..ops import kernels as K
    from ..tensor import Tensor

    differentiable = K.is_dxp(xp)
    wrapped = []
    for k, g in enumerate(grads):
        shape, dtype, diff = ctx._out_meta[k]
        if dtype is None:  # an output that is not a Tensor: no gradient, as in PyTorch
            g = None
        elif g is None or not diff:
            if ctx.materialize_grads:
                g = Tensor._wrap(np.zeros(shape, dtype=dtype))
            else:
                g = None
        elif not differentiable:
            if isinstance(g, np.ndarray) and type(g) is not np.ndarray:
                g = g.view(np.ndarray)  # a subclass the engine uses internally
            g = Tensor._wrap(g)
        wrapped.append(g)
    result = cls.backward(ctx, *wrapped)
    if not isinstance(result, tuple):
        result = (result,)
    n = len(ctx.needs_input_grad)
    name = ctx._name
    if len(result) != n:
        if len(result) > n and all(r is None for r in result[n:]):
            result = result[:n]
        else:
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients (expected {n}, got "
                f"{len(result)}); backward must return one gradient (or None) per input of "
                "forward")
    out = []
    for k, r in enumerate(result):
        if r is not None and not isinstance(r, Tensor):
            raise TypeError(f"function {name} returned a gradient of type {type(r).__name__} at "
                            f"index {k}; expected a Tensor or None")
        if not ctx._input_is_tensor[k]:
            if r is not None:
                raise RuntimeError(
                    f"function {name} returned a gradient different than None at position "
                    f"{k + 1}, but the corresponding forward input was not a Variable")
            out.append(None)
            continue
        if r is None or not ctx.needs_input_grad[k]:
            out.append(None)
        else:
            out.append(r if differentiable else r._data)
    return out[0] if n == 1 else tuple(out)


def _call_jvp(cls, ctx, tangents, xp):
    """Call ``cls.jvp(ctx, *tangents)`` (forward mode); zeros stand in for missing tangents."""
    from ..ops import kernels as K
    from ..tensor import Tensor

    differentiable = K.is_dxp(xp)
    ts = []
    for k, t in enumerate(tangents):
        if t is None and ctx._input_is_tensor[k]:
            shape, dtype = ctx._in_meta[k]
            t = np.zeros(shape, dtype=dtype)
        ts.append(t if t is None or isinstance(t, Tensor) else Tensor._wrap(t))
    ctx._in_jvp = True
    try:
        with grad_mode.no_grad():
            r = cls.jvp(ctx, *ts)
    finally:
        ctx._in_jvp = False
    if isinstance(r, tuple):
        return tuple(x if x is None or differentiable else x._data for x in r)
    return r if r is None or differentiable else r._data


class FunctionMeta(type):
    """Gives every Function subclass its node name and ops (``<Name>Backward``)."""

    def __init__(cls, name, bases, attrs) -> None:
        super().__init__(name, bases, attrs)
        node_name = f"{name}Backward"
        cls._op = FunctionOp(cls, node_name)


class Function(metaclass=FunctionMeta):
    """Base class of custom differentiable operations.

    Write ``forward(ctx, *args)`` (or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``) and ``backward(ctx, *grad_outputs)``, both
    ``@staticmethod``; call the function with ``MyFunction.apply(*args)``. ``backward`` returns one
    gradient per ``forward`` input (``None`` for inputs that need none). Optional:
    ``jvp(ctx, *tangents)`` for forward mode.

    Example:
        >>> import gradwalk
        >>> class MulAdd(gradwalk.autograd.Function):
        ...     @staticmethod
        ...     def forward(x, y):
        ...         return x * y + x
        ...
        ...     @staticmethod
        ...     def setup_context(ctx, inputs, output):
        ...         ctx.save_for_backward(*inputs)
        ...
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         x, y = ctx.saved_tensors
        ...         return g * (y + 1), g * x
        >>> x = gradwalk.tensor(2.0, requires_grad=True)
        >>> y = gradwalk.tensor(5.0, requires_grad=True)
        >>> MulAdd.apply(x, y).backward()
        >>> x.grad, y.grad
        (tensor(6.), tensor(2.))
    """

    generate_vmap_rule = False

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            f"new-style autograd function with static forward method: "
            f"{type(self).__name__}.apply(...)")

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        """Compute the outputs (runs with grad mode off)."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """Save what ``backward`` needs, when ``forward`` does not take ``ctx``."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """The gradients of the inputs, given the gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """The tangent of the outputs, given the tangents of the inputs (forward mode)."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an input requires grad, record a node for ``backward``."""
        return _apply(cls, args, kwargs)


def _apply(cls, args, kwargs):
    from ..ops.registry import _edge, _forward_hooks
    from ..tensor import Tensor
    from .saved_hooks import current_hooks, pack_values

    ctx = FunctionCtx()
    ctx._name = cls._op.node_name
    is_tensor = tuple(isinstance(a, Tensor) for a in args)
    recording = grad_mode.is_grad_enabled()
    needs = tuple(t and a._requires_grad and recording for a, t in zip(args, is_tensor))
    ctx.needs_input_grad = needs
    ctx._input_is_tensor = is_tensor
    ctx._in_meta = tuple((a.shape, a._data.dtype) if t else None for a, t in zip(args, is_tensor))
    edges = tuple(_edge(a) if n else None for a, n in zip(args, needs))

    custom_setup = cls.setup_context is not Function.setup_context
    with grad_mode.no_grad():
        if custom_setup:
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)

    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    dirty = {id(t) for t in ctx._dirty}
    nondiff = {id(t) for t in ctx._non_differentiable}
    input_ids = {id(a) for a, t in zip(args, is_tensor) if t}
    record = any(needs)

    new_outs = []
    for o in outs:
        if isinstance(o, Tensor) and id(o) in input_ids and id(o) not in dirty:
            alias = Tensor._wrap(o._data)  # an input returned as is: a new tensor, same memory
            alias._vc = o._vc
            o = alias
        new_outs.append(o)
    outs = tuple(new_outs)

    diff = tuple(isinstance(o, Tensor) and id(o) not in nondiff and o._data.dtype.kind in "fc"
                 for o in outs)
    ctx._out_meta = tuple((o.shape, o._data.dtype, d) if isinstance(o, Tensor) else ((), None,
                          False) for o, d in zip(outs, diff))
    for o in outs:
        if isinstance(o, Tensor) and id(o) in dirty:
            _check_dirty(o, ctx, record)
            o._vc[0] += 1  # PyTorch bumps the version of dirty tensors once more

    if record:
        shapes = tuple(a.shape if t else None for a, t in zip(args, is_tensor))
        dtypes = tuple(a._data.dtype if t else None for a, t in zip(args, is_tensor))
        params = {"ctx": ctx}
        saved = (None,) * len(args)
        if single:
            node = FunctionNode(cls._op, edges, saved, saved, None, None, params, shapes, dtypes)
        else:
            node = FunctionMultiNode(cls._op, edges, saved, saved, None, None, params, shapes,
                                     dtypes, len(outs))
        for k, o in enumerate(outs):
            if not diff[k]:
                if isinstance(o, Tensor) and id(o) in dirty:
                    o.grad_fn = None
                continue
            old_base = o._extra.base if o._extra is not None else None
            o.grad_fn = node
            o._requires_grad = True
            if not single:
                o._out_edge = (node, k)
            if id(o) in dirty:
                _rebase_dirty(o, old_base, node)
    _save(ctx, outs, current_hooks(), pack_values)
    if _forward_hooks and single and isinstance(outs[0], Tensor):
        for h in _forward_hooks:
            h(cls._op, args, outs[0], {"ctx": ctx})
    return outs[0] if single else outs


def _check_dirty(o, ctx, record) -> None:
    if record and o.grad_fn is None and o._requires_grad:
        raise RuntimeError(
            f"a leaf Variable that requires grad has been used in an in-place operation "
            f"(marked dirty in {ctx._name}). Pass a copy (x.clone()) to the function instead.")


def _rebase_dirty(o, base, node) -> None:
    """A dirty output that is a view: its base's graph now goes through the custom node."""
    if base is not None and base is not o:
        from ..ops import inplace_views

        inplace_views.rebase(o, base, node)


def _save(ctx, outs, hooks, pack_values) -> None:
    """Record the saved tensors and their versions (after ``forward``, dirty bumps included)."""
    to_save = getattr(ctx, "_to_save", None)
    if to_save is None:
        return
    del ctx._to_save
    if hooks is not None:
        ctx._saved = pack_values(to_save, *hooks)
        ctx._saved_versions = (None,) * len(to_save)
        return
    ctx._saved = tuple(to_save)
    ctx._saved_versions = tuple(None if t is None else t._vc[0] for t in to_save)


class InplaceFunction(Function):
    """A Function with an ``inplace`` flag (PyTorch keeps this base class for old code)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


_TWICE = ("trying to differentiate twice a function that was marked with @once_differentiable")


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, value, *deps):
        return value

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(_TWICE)


def once_differentiable(fn: Callable) -> Callable:
    """Decorate a ``backward`` that is not itself differentiable: it runs with grad mode off, and
    a double backward through its results raises instead of giving a wrong answer.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.function import once_differentiable
        >>> class Sq(gradwalk.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> gradwalk.autograd.grad(Sq.apply(x), x)
        (tensor(6.),)
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from ..tensor import Tensor

        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.is_grad_enabled():
            return outputs
        deps = [a for a in args if isinstance(a, Tensor) and a._requires_grad]
        if not deps:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = tuple(_DelayedError.apply(o, *deps) if isinstance(o, Tensor) else o
                        for o in outs)
        return wrapped[0] if single else wrapped

    return wrapper
