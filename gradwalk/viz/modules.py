"""``record``: while a forward runs, keep what a picture wants to show about each new node.

Inside the block an op hook (``registry._forward_hooks``) writes into each new node's
``metadata``: ``"value"`` (a copy of a small output, at most 6 elements, so that intermediate
values can be drawn even after ``backward()`` freed the graph) and, when a ``model`` is given,
``"module"``/``"module_type"``: the dotted name and class of the innermost module whose
``forward`` created the node (each submodule gets a forward pre-hook that pushes its name and a
forward hook that pops it). Everything is removed when the block ends, so normal runs pay
nothing. ``draw(..., collapse_modules=True)`` reads the module tags.
"""

from __future__ import annotations

from ..ops import registry

SMALL = 6


class record:
    """Record values (and module tags, given a model) of the nodes created inside the block.

    Example:
        >>> import gradwalk
        >>> from gradwalk import nn
        >>> from gradwalk.viz import record
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        >>> with record(model):
        ...     y = model(gradwalk.ones(2, 3)).sum()
        >>> y.grad_fn.metadata.get("module") is None   # the sum ran outside the model
        True
        >>> y.grad_fn.next_functions[0][0].metadata["module"]
        '2'
    """

    def __init__(self, model=None, values: bool = True, prefix: str = "") -> None:
        self.model = model
        self.values = values
        self.prefix = prefix
        self._stack: list = []
        self._handles: list = []

    def __enter__(self) -> record:
        if self.model is not None:
            for name, mod in self.model.named_modules(prefix=self.prefix):
                self._handles.append(mod.register_forward_pre_hook(self._pre(name, mod)))
                self._handles.append(mod.register_forward_hook(self._post))
        registry._forward_hooks.append(self._tag)
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        try:
            registry._forward_hooks.remove(self._tag)
        except ValueError:
            pass

    def _pre(self, name, mod):
        kind = type(mod).__name__

        def pre(module, args):
            self._stack.append((name, kind))

        return pre

    def _post(self, module, args, out) -> None:
        if self._stack:
            self._stack.pop()

    def _tag(self, op, args, res, params) -> None:
        node = res.grad_fn
        if node is None:
            return
        if self.values and res._data.size <= SMALL:
            node.metadata["value"] = res._data.copy()
        if self._stack:
            name, kind = self._stack[-1]
            if name:  # the top-level model itself makes no group
                meta = node.metadata
                meta["module"] = name
                meta["module_type"] = kind


def record_modules(model, prefix: str = "") -> record:
    """``record(model)``: tag nodes with their module for ``draw(collapse_modules=True)``.

    Example:
        >>> import gradwalk
        >>> from gradwalk import nn
        >>> from gradwalk.viz import record_modules
        >>> lin = nn.Linear(2, 2)
        >>> with record_modules(nn.Sequential(lin)):
        ...     out = lin(gradwalk.ones(1, 2))
        >>> out.grad_fn.metadata["module_type"]
        'Linear'
    """
    return record(model, prefix=prefix)
