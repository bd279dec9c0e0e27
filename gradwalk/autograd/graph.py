"""PyTorch's ``torch.autograd.graph`` namespace: the graph's ``Node`` type and the hooks on the
values it saves for backward (``saved_tensors_hooks``, ``save_on_cpu``,
``disable_saved_tensors_hooks``, implemented in ``saved_hooks.py``, Note [packing]).

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    >>> with gradwalk.autograd.graph.save_on_cpu():
    ...     y = (x * x).sum()
    >>> isinstance(y.grad_fn, gradwalk.autograd.graph.Node)
    True
"""

from __future__ import annotations

from .node import Node, RemovableHandle
from .saved_hooks import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks

__all__ = [
    "Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
    "RemovableHandle",
]
