"""Hooks on the values the graph saves for backward (``saved_tensors_hooks``, ``save_on_cpu``).

Every op that needs a value in its backward (``sin`` saves its input, ``exp`` its result) keeps
it on its node. ``saved_tensors_hooks(pack, unpack)`` changes what is kept: while the context is
active, each saved tensor is passed to ``pack`` when the node is recorded, and whatever ``pack``
returns is stored instead; ``unpack`` turns it back into a tensor when the backward needs it.
That is how activations are moved off an accelerator (``save_on_cpu``), compressed, or dropped
and recomputed (``gradwalk.utils.checkpoint``).

Note [packing]
    The registry calls ``registry._forward_hooks`` after every op, but the list is empty unless
    some feature is active; this module adds its packer there only while a ``saved_tensors_hooks``
    context is open, so normal runs pay nothing. A packed node keeps the ``Packed`` objects in its
    ``saved``/``out`` slots and gets a per-node ``UnpackingOp`` whose reverse rule unpacks them
    and calls the op's own rule. Version counters are not checked for packed values (the pack
    hook may have copied them), as in PyTorch.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    >>> seen = []
    >>> def pack(t):
    ...     seen.append(tuple(t.shape))
    ...     return t
    >>> with gradwalk.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
    ...     y = (x * x).sum()
    >>> y.backward()
    >>> seen, x.grad
    ([(2,), (2,)], tensor([2., 4.]))
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]

# The stack of active (pack, unpack) pairs; the innermost one is used, as in PyTorch.
# Per thread / context, like grad mode: a tuple of (pack, unpack) pairs, innermost last, and
# the messages of open ``disable_saved_tensors_hooks`` blocks. ``_open`` counts the contexts open
# in all threads: the registry hook stays installed while it is positive.
_stack: ContextVar[tuple] = ContextVar("gradwalk_saved_tensors_hooks", default=())
_disabled: ContextVar[tuple] = ContextVar("gradwalk_saved_tensors_hooks_disabled", default=())
_open = [0]


class Packed:
    """A saved value after ``pack``: remembers the ``unpack`` that turns it back into a tensor."""

    __slots__ = ("value", "unpack")

    # The engine's 0-d fast path (Note [0-d scalars] in ops/registry.py) turns 0-d saved arrays
    # into scalars when ``ndim`` is 0; a packed value is unpacked by ``UnpackingOp`` instead.
    ndim = 1

    def __init__(self, value: Any, unpack: Callable) -> None:
        self.value = value
        self.unpack = unpack

    def get(self):
        """The tensor, from ``unpack``; it must be a Tensor."""
        from ..tensor import Tensor

        t = self.unpack(self.value)
        if not isinstance(t, Tensor):
            raise TypeError(
                f"Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(t).__name__}")
        return t


class UnpackingOp:
    """Stands in for a packed node's op: unpacks the saved values, then runs the op's rule."""

    __slots__ = ("base",)

    def __init__(self, base) -> None:
        self.base = base

    def __getattr__(self, attr: str):
        return getattr(self.base, attr)

    def __repr__(self) -> str:
        return repr(self.base)

    def vjp(self, xp, g, out, *saved, **kw):
        from ..ops import kernels as K
        from ..tensor import Tensor

        differentiable = K.is_dxp(xp)
        if isinstance(out, Tensor) and type(out._data) is Packed:  # create_graph wraps ``out``
            out = Tensor._make(out._data.get()._data, out.grad_fn)
        elif type(out) is Packed:
            out = out.get()
            out = out if differentiable else out._data
        args = []
        for s in saved:
            if type(s) is Packed:
                t = s.get()
                s = t if differentiable else t._data
            args.append(s)
        return self.base.vjp(xp, g, out, *args, **kw)

    def jvp(self, *args, **kw):
        return self.base.jvp(*args, **kw)


def _pack_node(op, args, res, params) -> None:
    """The registry's forward hook while a ``saved_tensors_hooks`` context is open."""
    node = res.grad_fn
    stack = _stack.get()
    if node is None or node.op is not op or not stack or node.released:
        return
    from ..tensor import Tensor

    if node.out is None and not any(isinstance(s, Tensor) for s in node.saved):
        return  # nothing saved (add, views...): nothing to pack
    pack, unpack = stack[-1]
    node.saved = pack_values(node.saved, pack, unpack)
    if node.out is not None:
        node.out = Packed(_call_pack(pack, res), unpack)
        node.out_vc = None
    node.versions = (None,) * len(node.saved)
    node.op = UnpackingOp(op)


def pack_values(saved, pack, unpack) -> tuple:
    """Pack every Tensor in ``saved`` (Python scalars are kept as they are)."""
    from ..tensor import Tensor

    return tuple(Packed(_call_pack(pack, s), unpack) if isinstance(s, Tensor) else s
                 for s in saved)


def _call_pack(pack, t):
    from .grad_mode import no_grad

    with no_grad():
        return pack(t)


def current_hooks() -> tuple[Callable, Callable] | None:
    """The innermost active ``(pack, unpack)`` pair, or ``None`` (used by custom Functions)."""
    stack = _stack.get()
    return stack[-1] if stack else None


def _push(pack, unpack):
    from ..ops import registry

    disabled = _disabled.get()
    if disabled:
        raise RuntimeError(disabled[-1])
    if _open[0] == 0 and _pack_node not in registry._forward_hooks:
        registry._forward_hooks.append(_pack_node)
    _open[0] += 1
    return _stack.set(_stack.get() + ((pack, unpack),))


def _pop(token) -> None:
    from ..ops import registry

    _stack.reset(token)
    _open[0] -= 1
    if _open[0] == 0 and _pack_node in registry._forward_hooks:
        registry._forward_hooks.remove(_pack_node)


class saved_tensors_hooks:
    """Context manager: ``pack(tensor)`` runs when a node saves a tensor, ``unpack(packed)`` when
    the backward reads it back (it must return a tensor of the same value).

    ``pack`` runs with grad mode off, so what it computes records no graph of its own.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> with gradwalk.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
        ...     y = x.sin()
        >>> y.backward()
        >>> round(x.grad.item(), 4)
        -0.99
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks(pack_hook, unpack_hook) expects two callables")
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        self._token = _push(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc) -> None:
        _pop(self._token)


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors in host memory (NumPy) and move them back to their device for backward.

    On the NumPy backend the data already lives on the CPU: packing copies nothing.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        >>> with gradwalk.autograd.graph.save_on_cpu():
        ...     y = (x.exp()).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2.7183, 7.3891])
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t):
            from ..backend import to_numpy
            from ..tensor import Tensor

            return t.device, Tensor._wrap(to_numpy(t._data))

        def unpack(packed):
            device, t = packed
            return t if device == "cpu" else t.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Context manager in which opening ``saved_tensors_hooks`` raises ``error_message``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd import graph
        >>> with graph.disable_saved_tensors_hooks("not here"):
        ...     try:
        ...         graph.saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()
        ...     except RuntimeError as e:
        ...         print(e)
        not here
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self):
        if _stack.get():
            raise RuntimeError(self.error_message)
        self._token = _disabled.set(_disabled.get() + (self.error_message,))
        return self

    def __exit__(self, *exc) -> None:
        _disabled.reset(self._token)


def saved_value(node, value):
    """Teaching access (``grad_fn._saved_self``): a packed value is unpacked first."""
    return value.get() if type(value) is Packed else value
