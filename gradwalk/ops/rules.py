"""What an op declaration derives and checks (``registry.declare`` calls these).

* ``jvp_of_linear``: a ``linear=True`` op's forward rule is its forward applied to the tangent.
* ``jvp_of_elementwise``: an ``elementwise=True`` op's forward rule is its reverse rule applied
  to each input's tangent, the terms summed (the Jacobians are diagonal). A one-input op uses
  its vjp as is.
* ``check_reads``: the vjp's bytecode says which parameters it loads; reading an input the
  declaration does not save is an error at declaration time, not at backward.
* ``EXPLAIN``: ``op name -> op.explain`` over the registry (``autograd.explain.RULES``).
* ``keeps``: which inputs a node keeps for an op declared with ``saves_if``.

Note [saves_if]
    PyTorch saves an input only when a gradient that reads it will be computed: ``y @ w`` keeps
    ``w`` when only ``y`` requires grad, so changing ``y`` in place afterwards is allowed and
    changing ``w`` is an error at backward. ``saves_if[i]`` lists the inputs whose gradient
    reads input ``i``; ``registry.apply`` keeps input ``i`` only when one of those requires
    grad (Python numbers are kept: they cannot change). The rule then gets ``None`` for an
    input it does not need, and must not read it for the gradients ``needs`` asks for.
"""

from __future__ import annotations

import dis
from collections.abc import MutableMapping

from . import registry


def jvp_of_linear(forward):
    """A linear op's forward rule: the tangent goes through the forward itself."""

    def jvp(xp, t, out, x, **params):
        return forward(xp, t, **params)

    return jvp


def jvp_of_elementwise(vjp, n: int):
    """An elementwise op's forward rule from its reverse rule: each input's term is the reverse
    rule applied to that input's tangent (the Jacobians are diagonal); the terms add up."""
    one_hot = tuple(tuple(j == i for j in range(n)) for i in range(n))

    def jvp(xp, t, out, *inputs, **params):
        total = None
        for i in range(n):
            if t[i] is not None:
                term = vjp(xp, t[i], out, *inputs, needs=one_hot[i], **params)[i]
                if term is not None:
                    total = term if total is None else total + term
        return total

    return jvp


_LOADS = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLOSURE", "LOAD_FAST_AND_CLEAR"}


def check_reads(op) -> None:
    """Fail now if the vjp reads an input that the node will not keep (``saves``)."""
    code = getattr(op.vjp, "__code__", None)
    if code is None:
        return  # a callable object: nothing to inspect
    params = code.co_varnames[:code.co_argcount]
    if len(params) < 3 + len(op.input_names):
        return  # the inputs arrive as ``*inputs``
    read = {ins.argval for ins in dis.get_instructions(code) if ins.opname in _LOADS}
    for i, input_name in enumerate(op.input_names):
        param = params[3 + i]
        if i not in op.saves and param in read:
            raise TypeError(
                f"op {op.name!r}: its vjp reads {param!r} (input {i}, {input_name!r}) but the "
                f"declaration saves only inputs {op.saves}; add {i} to saves=")


class _ExplainWords(MutableMapping):
    """``op name -> op.explain`` over the declared ops (``autograd.explain.RULES``)."""

    def __getitem__(self, name: str):
        words = registry.REGISTRY[name].explain if name in registry.REGISTRY else None
        if words is None:
            raise KeyError(name)
        return words

    def __setitem__(self, name: str, words) -> None:
        registry.REGISTRY[name].explain = words

    def __delitem__(self, name: str) -> None:
        self[name]
        registry.REGISTRY[name].explain = None

    def __iter__(self):
        return (name for name, op in registry.REGISTRY.items() if op.explain is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


EXPLAIN = _ExplainWords()


def keeps(op, inputs, tensor_type) -> list:
    """Per input, whether the node keeps it (Note [saves_if]): an input is kept when one of the
    inputs whose gradient reads it requires grad; what is not a Tensor is always kept."""
    requires = [t._requires_grad if isinstance(t, tensor_type) else None for t in inputs]
    kept = []
    for needed, r in zip(op.saves_if, requires):
        if r is None:
            kept.append(True)
            continue
        for j in needed:
            if requires[j]:
                kept.append(True)
                break
        else:
            kept.append(False)
    return kept
