"""The public function of a one-input elementwise declaration, generated from it.

``unary_function(op)`` makes ``gradwalk.<name>`` from the op's declaration: the argument check,
the integer cast (unless the op declares ``int_ok``), and a docstring made of the rule in words
and the declaration's example. ``FUNCTIONS`` holds them (``gradwalk`` exports them all, and
doctest runs their examples through ``__test__``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..dtypes import get_default_dtype
from . import registry

if TYPE_CHECKING:
    from ..tensor import Tensor

FUNCTIONS: dict = {}  # name -> generated public function (gradwalk/__init__.py exports them)
__test__ = FUNCTIONS  # doctest runs their docstrings

_DOC = """Elementwise ``{name}``, differentiable; its gradient is ``{rule}``.

    Example:
        >>> import gradwalk
        >>> {call}
        {result}
"""


def unary_function(op: registry.Op) -> Callable:
    """The public function of a one-input elementwise op: checks its argument, casts integers
    to the default float dtype unless the op keeps them (``int_ok``), applies the op."""
    apply1 = registry.apply1
    int_ok = op.int_ok

    def function(input: Tensor) -> Tensor:
        if not isinstance(input, registry.Tensor):
            raise TypeError(f"{op.name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        if not int_ok and input._data.dtype.kind in "biu":
            input = apply1(registry.REGISTRY["cast"], input,
                           {"dtype": np.dtype(get_default_dtype().np)})
        return apply1(op, input)

    function.__name__ = function.__qualname__ = op.name
    function.__module__ = "gradwalk"
    call, result = op.example
    function.__doc__ = _DOC.format(name=op.name, rule=op.explain[0] if op.explain else "0",
                                   call=call, result=result)
    function.op = op
    op.function = function
    FUNCTIONS[op.name] = function
    return function
