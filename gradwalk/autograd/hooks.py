"""Running hooks in the backward walk: tensor hooks, ``retain_grad``, node pre- and post-hooks;
and ``RemovableHandle``, which ``register_hook`` and friends return.

The engine (``engine.py``, Note [the walk] step 3 and after the rule) calls these; each checks
what a hook returned and says which hook broke the rule.
"""

from __future__ import annotations

import numpy as np

from .zeros import MaskedGrad

_ndarray = np.ndarray
Tensor = None  # the Tensor class, handed over by ``bind``


def bind(tensor: type) -> None:
    """Hand this module the Tensor class (``engine.bind`` does, once; Note [binding] in
    ``ops/registry.py``).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd import hooks
        >>> hooks.bind(gradwalk.Tensor)
        >>> hooks.Tensor is gradwalk.Tensor
        True
    """
    global Tensor
    Tensor = tensor


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


def tensor_hooks(hooks, g, create_graph):
    """Run tensor hooks (``register_hook``): each gets the gradient, may return a new one."""
    wrap = Tensor._wrap
    for hook in list(hooks):
        arg = g if create_graph else wrap(g)
        r = hook(arg)
        if r is not None:
            if not isinstance(r, Tensor):
                raise TypeError(f"a tensor hook must return a Tensor or None, got {type(r)}")
            if r.shape != tuple(g.shape):
                raise RuntimeError(
                    f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: "
                    f"expected {list(g.shape)}, got {list(r.shape)}"
                )
            g = r if create_graph else r._data
    return g


def _wrapper(create_graph):
    return (lambda a: a) if create_graph else (lambda a: None if a is None else Tensor._wrap(a))


def _hook_result(node, hook, r, n, what):
    """Check a node hook's return value: ``None`` or a tuple of ``n`` Tensors / ``None``."""
    if isinstance(r, Tensor):
        r = (r,)
    if not isinstance(r, (tuple, list)) or len(r) != n:
        got = len(r) if isinstance(r, (tuple, list)) else type(r).__name__
        raise RuntimeError(
            f"hook '{getattr(hook, '__name__', hook)}' of {node.name()} returned {got} values, "
            f"expected a tuple of {n} {what} (or None to keep them)")
    for x in r:
        if x is not None and not isinstance(x, Tensor):
            raise TypeError(f"hook '{getattr(hook, '__name__', hook)}' of {node.name()} must "
                            f"return Tensors or None, got {type(x).__name__}")
    return r


def node_prehooks(node, hooks, grads, create_graph) -> tuple:
    """``hook(grad_outputs)``: a tuple with one gradient per output of the node."""
    wrap = _wrapper(create_graph)
    for hook in list(hooks):
        r = hook(tuple(wrap(x) for x in grads))
        if r is not None:
            r = _hook_result(node, hook, r, len(grads), "grad_outputs")
            grads = tuple(old if x is None else (x if create_graph else x._data)
                          for old, x in zip(grads, r))
    return grads


def node_hooks(node, grads, g, create_graph):
    """``hook(grad_inputs, grad_outputs)`` after the rule; ``grad_inputs`` already have their
    inputs' shapes and dtypes (as in PyTorch, hooks see validated gradients)."""
    wrap = _wrapper(create_graph)
    outs = tuple(wrap(x) for x in g) if type(g) is list else (wrap(g),)
    for hook in list(node.hooks):
        r = hook(tuple(wrap(x) for x in grads), outs)
        if r is not None:
            r = _hook_result(node, hook, r, len(grads), "grad_inputs")
            grads = tuple(x if create_graph or x is None else x._data for x in r)
    return grads


def retain(ref, g, create_graph) -> None:
    t = ref()
    if t is None:
        return
    if create_graph:
        t._grad = g if t._grad is None else t._grad + g
    else:
        g = g.view(_ndarray) if type(g) is MaskedGrad else g
        t._grad = Tensor._wrap(g.copy()) if t._grad is None else Tensor._wrap(t._grad._data + g)
