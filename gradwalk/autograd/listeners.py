"""The listeners of the backward walk (Note [listeners] in ``engine.py``).

The registered listeners are split by what they do, so the walk asks one list: ``observers``
hold the listeners with ``on_*`` methods, ``grad_filters`` the ``filter_grad`` methods of the
others (callables ``f(g, tensor, create_graph) -> g``). Both are empty in normal runs.
"""

from __future__ import annotations

observers: list = []
grad_filters: list = []


class Listener:
    """What the engine calls on a listener (Note [listeners]); subclass it and override the
    methods you need, or pass any object with some of these methods to ``listen``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd import engine
        >>> class Count(engine.Listener):
        ...     n = 0
        ...     def on_node(self, node, grad_in, grads_out):
        ...         self.n += 1
        >>> c = Count()
        >>> engine.listen(c)
        >>> x = gradwalk.tensor(2.0, requires_grad=True)
        >>> (x * x + 1).backward()
        >>> engine.unlisten(c)
        >>> c.n
        2
    """

    def on_backward(self, accumulate: bool) -> None:
        """A walk starts (``accumulate`` is False for ``autograd.grad``)."""

    def on_node(self, node, grad_in, grads_out) -> None:
        """``node``'s rule ran on ``grad_in`` and returned ``grads_out`` (one per input)."""

    def on_accumulate(self, leaf, grad) -> None:
        """``grad`` is about to be added into ``leaf.grad``."""

    def filter_grad(self, g, tensor, create_graph: bool):
        """The gradient that reaches the leaf (or ``autograd.grad`` input) ``tensor``."""
        return g


_HOOKS = ("on_backward", "on_node", "on_accumulate")


def _defines(listener, name: str) -> bool:
    """Whether ``listener`` has its own ``name`` (not ``Listener``'s no-op default)."""
    f = getattr(type(listener), name, None)
    if f is None:
        return hasattr(listener, name)
    return f is not getattr(Listener, name, None)


def listen(listener) -> None:
    """Register a listener (Note [listeners]); ``unlisten`` removes it. An object with only
    ``filter_grad`` filters gradients and observes nothing.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd import engine
        >>> class Halve:
        ...     def filter_grad(self, g, tensor, create_graph):
        ...         return g / 2
        >>> h = Halve()
        >>> engine.listen(h)
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> (x * 4).backward()
        >>> engine.unlisten(h)
        >>> x.grad
        tensor(2.)
    """
    if any(_defines(listener, h) for h in _HOOKS) and listener not in observers:
        for h in _HOOKS[1:]:  # the walk calls these on every observer
            if not hasattr(listener, h):
                raise TypeError(f"a listener with on_* methods needs {h}; subclass "
                                "engine.Listener to get the defaults")
        observers.append(listener)
    if _defines(listener, "filter_grad"):
        f = listener.filter_grad
        if f not in grad_filters:
            grad_filters.append(f)


def unlisten(listener) -> None:
    """Remove a listener registered with ``listen`` (nothing happens if it is not there).

    Example:
        >>> from gradwalk.autograd import engine
        >>> n = len(engine.observers)
        >>> lis = type("Seen", (engine.Listener,), {"on_node": lambda self, *a: None})()
        >>> engine.listen(lis)
        >>> engine.unlisten(lis)
        >>> len(engine.observers) == n
        True
    """
    if listener in observers:
        observers.remove(listener)
    f = getattr(listener, "filter_grad", None)
    if f is not None and f in grad_filters:
        grad_filters.remove(f)
