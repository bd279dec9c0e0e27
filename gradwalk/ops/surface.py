"""The generated surface of the ops: public functions, Tensor methods, in-place methods.

A one-input elementwise declaration with an ``example`` (``ops/unary.py``) gets its public
function from ``generated.unary_function``: ``gradwalk.sin``, with a docstring made of the
declaration's words and example. ``bind(Tensor)`` (called once by ``tensor.py``, Note [binding] in
``registry.py``) then gives Tensor its op methods:

* every generated function becomes a method as it is (``Tensor.sin is gradwalk.sin``: a Python
  function is its own method, ``x.sin()`` calls ``sin(x)``), with an in-place twin ``sin_``;
* the hand-written public functions whose first argument is the tensor (``sum``, ``flatten``,
  ``matmul``...) become methods the same way, by the names listed in ``METHODS``;
* ``INPLACE`` lists the other methods that get an in-place twin, ``ALIASES`` PyTorch's second
  names.

Methods whose signature differs from their function's (``x.view(2, 3)``, ``x.add_(y, alpha=2)``,
the operators) are written out in ``gradwalk/_tensor_ops.py``. ``__test__`` holds the generated
docstrings, so doctest runs their examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import (
    blas,
    elementwise,
    indexing,
    linalg,
    nn,
    pointwise_more,
    reductions,
    registry,
    scans,
    shape,
    sorting,
    statistics,
)

if TYPE_CHECKING:
    from ..tensor import Tensor

__test__: dict = {}  # the generated in-place docstrings, collected by doctest

_INPLACE_DOC = """In-place ``{name}``: ``x.{name}_()`` writes ``x.{name}()`` into ``x``'s memory.

    Example:
        >>> import gradwalk
        >>> {call}
        {result}
"""


def inplace_method(fn: Callable, name: str, example: tuple | None = None) -> Callable:
    """``x.name_(...)``: run ``fn(x, ...)`` and write the result into ``x`` (see
    ``indexing.apply_inplace``: version counter, views, the leaf check)."""
    apply_inplace = indexing.apply_inplace

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return apply_inplace(self, fn, *args, **kwargs)

    method.__name__ = method.__qualname__ = name + "_"
    if example is not None:
        method.__doc__ = _INPLACE_DOC.format(name=name, call=example[0], result=example[1])
        __test__[name + "_"] = method
    else:
        method.__doc__ = (f"In-place ``{name}``: ``x.{name}_(...)`` writes ``x.{name}(...)`` "
                          f"into ``x``'s memory (see ``Tensor.{name}``).")
    return method


def _inplace_example(op: registry.Op) -> tuple | None:
    """``gradwalk.sin(gradwalk.tensor([0.0]))`` as ``gradwalk.tensor([0.0]).sin_()``."""
    call, result = op.example
    head = f"gradwalk.{op.name}("
    if not (call.startswith(head) and call.endswith(")")):
        return None
    return f"{call[len(head):-1]}.{op.name}_()", result


#: Public functions that are Tensor methods as they are (the tensor is their first argument).
METHODS = {
    elementwise: ("add sub mul div floor_divide remainder pow neg clamp maximum minimum eq ne lt "
                  "le gt ge equal allclose isclose logical_and logical_or logical_not logical_xor "
                  "bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift "
                  "bitwise_right_shift "
                  "isnan isfinite isinf fmod"),
    reductions: "sum mean var std prod max min amax amin argmax argmin any all norm cumsum",
    shape: ("flatten squeeze unsqueeze transpose t broadcast_to split chunk unbind tril triu "
            "movedim narrow"),
    indexing: "gather scatter scatter_add index_select index_add masked_fill nonzero",
    linalg: "matmul mm bmm mv dot outer",
    nn: "softmax log_softmax",
    pointwise_more: ("nan_to_num positive atan2 arctan2 hypot copysign logaddexp logaddexp2 xlogy "
                     "nextafter fmax fmin ldexp frexp clamp_min clamp_max heaviside gcd lcm "
                     "signbit isposinf isneginf isreal"),
    scans: "cumprod logcumsumexp cummax cummin diff",
    sorting: ("sort argsort msort topk kthvalue median nanmedian mode unique unique_consecutive "
              "bincount histc histogram argwhere"),
    statistics: "aminmax count_nonzero nansum nanmean quantile nanquantile cov corrcoef renorm",
    blas: "addmm addmv addr baddbmm addbmm addcmul addcdiv vdot dist cross",
}

#: Methods with an in-place twin (besides the generated elementwise ops).
INPLACE = ("mul div pow lerp remainder fmod floor_divide scatter tril triu clamp masked_fill "
           "scatter_add index_add")

#: PyTorch's second names: alias -> method.
ALIASES = {
    "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "negative": "neg", "absolute": "abs", "clip": "clamp", "swapaxes": "transpose",
    "swapdims": "transpose", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "true_divide_": "div_", "multiply_": "mul_", "subtract_": "sub_", "negative_": "neg_",
    "absolute_": "abs_", "clip_": "clamp_",
}


def bind(tensor_type: type) -> None:
    """Hand the Tensor class to the ops (``registry.bind``) and give it the op methods."""
    registry.bind(tensor_type)
    for module, names in METHODS.items():
        for name in names.split():
            _install(tensor_type, name, getattr(module, name))
    for op in registry.REGISTRY.values():
        if op.function is not None:
            _install(tensor_type, op.name, op.function)
            _install(tensor_type, op.name + "_",
                     inplace_method(op.function, op.name, _inplace_example(op)))
    for name in INPLACE.split():
        _install(tensor_type, name + "_", inplace_method(getattr(tensor_type, name), name))
    for alias, name in ALIASES.items():
        _install(tensor_type, alias, getattr(tensor_type, name))


def _install(tensor_type: type, name: str, fn: Callable) -> None:
    """Set a method unless the class (or a mixin) writes it out."""
    if not hasattr(tensor_type, name):
        setattr(tensor_type, name, fn)
