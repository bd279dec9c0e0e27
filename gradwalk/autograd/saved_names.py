"""Teaching access to a node's saved values by name: ``y.grad_fn._saved_self``.

``Node.__getattr__`` (``autograd/node.py``) hands ``_saved_<name>`` here: ``<name>`` is an input
of the op's declaration (``self``, ``other``...), ``result`` (the saved output), a parameter of
the op, or one of PyTorch's names for them (``_SAVED_ALIASES``).
"""

from __future__ import annotations

from .messages import SECOND_BACKWARD
from .saved_hooks import Packed, saved_value

# PyTorch's names for saved values that gradwalk's declarations call otherwise
# (``MmBackward0._saved_mat2`` is matmul's ``other``; reductions keep ``dim`` as ``axes``).
_SAVED_ALIASES = {"mat2": "other", "dim": "axes"}


def saved_by_name(node, key: str):
    """The value ``node`` saved under ``key`` (``_saved_<key>``).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        >>> saved_by_name((x * x).grad_fn, "self")
        tensor([1., 2.], requires_grad=True)
    """
    from ..tensor import Tensor

    if node.released:
        raise RuntimeError(SECOND_BACKWARD)
    names = node.op.input_names
    if key == "result" and node.out is not None:
        return node.out.get() if type(node.out) is Packed else Tensor._wrap(node.out)
    if key in names:
        v = node.saved[names.index(key)] if node.saved is not None else None
        if v is not None:
            return saved_value(node, v)
    if node.params and key in node.params:
        return node.params[key]
    alias = _SAVED_ALIASES.get(key)
    if alias is not None:
        if alias in names and node.saved is not None:
            v = node.saved[names.index(alias)]
            if v is not None:
                return saved_value(node, v)
        if node.params and alias in node.params:
            v = node.params[alias]
            return (v,) if isinstance(v, int) else v
    raise AttributeError(f"'{node.name()}' object has no saved value '_saved_{key}'")
