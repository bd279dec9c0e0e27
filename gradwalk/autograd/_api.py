"""The reverse-mode entry points: ``backward`` (into ``.grad``) and ``grad`` (returned).

They check the outputs and seed gradients, then hand the walk to ``engine.run_backward``. This
module sits above ``tensor.py`` (it builds Tensors); ``gradwalk.autograd`` loads it on first use.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor(2.0, requires_grad=True)
    >>> gradwalk.autograd.grad(x ** 3, x)
    (tensor(12.),)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..backend import xp_of
from ..ops import registry as _registry
from ..tensor import Tensor
from . import engine

_Tensors = Tensor | Sequence[Tensor]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(outputs, grad_outputs, create_graph: bool, op: str) -> list:
    """The seed gradient of each output: given, or ones for a scalar; checked against it."""
    grads = list(_as_tuple(grad_outputs)) if grad_outputs is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grads)} gradients for {len(outputs)} outputs; pass "
                           "one gradient per output (None for scalars)")
    seeds = []
    for k, (out, g) in enumerate(zip(outputs, grads)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: expected Tensors as outputs, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(
                f"element {k} of tensors does not require grad and does not have a grad_fn. "
                "Only a result of ops on tensors created with requires_grad=True can be "
                "differentiated.")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {k} has "
                    f"shape {list(out.shape)}. Pass gradient= (backward) or grad_outputs= "
                    "(grad) with a tensor of that shape, e.g. torch.ones_like(out).")
            if out._data.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}: call backward on a real value (e.g. "
                                   ".abs() or .real of it), or pass gradient=")
            data = out._data
            if type(data) is np.ndarray:  # ``np.ones``'s two steps, without its Python wrapper
                a = np.empty(data.shape, data.dtype)
                a.fill(1)
            else:
                a = xp_of(data).ones(data.shape, dtype=data.dtype)
            seeds.append(Tensor._wrap(a) if create_graph else a)
            continue
        if not isinstance(g, Tensor):
            g = Tensor._wrap(np.asarray(g, dtype=out._data.dtype))
        if g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{k}] has a shape of {list(g.shape)} and "
                f"output[{k}] has a shape of {list(out.shape)}.")
        if g._data.dtype != out._data.dtype:
            g = g.to(out._data.dtype)
        seeds.append(g if create_graph else g._data)
    return seeds


def backward(tensors: _Tensors, grad_tensors: _Tensors | None = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: _Tensors | None = None) -> None:
    """Accumulate the gradients of ``tensors`` into ``.grad`` of the graph's leaves.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        >>> gradwalk.autograd.backward(x * 3, gradwalk.ones(2))
        >>> x.grad
        tensor([3., 3.])
    """
    outputs = _as_tuple(tensors)
    if not outputs:
        raise RuntimeError("backward() needs at least one tensor")
    if retain_graph is None:
        retain_graph = create_graph
    if _registry._trace is not None:  # Note [in-place ops in the segment] (compiler/inplace.py)
        _registry._trace.flush_writes()
    seeds = _root_grads(outputs, grad_tensors, create_graph, "backward")
    ins = None
    if inputs is not None:
        ins = _as_tuple(inputs)
        if not ins:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        for t in ins:
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
        ins = _leaf_inputs(ins)
    engine.run_backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph,
                        inputs=ins, accumulate=True)


def _leaf_inputs(ins):
    """``backward(inputs=...)`` of non-leaf tensors accumulates into their ``.grad`` too:
    PyTorch retains their grad for the call."""
    for t in ins:
        if t.grad_fn is not None and not t.retains_grad:
            t.retain_grad()
    return ins


def grad(outputs: _Tensors, inputs: _Tensors, grad_outputs: _Tensors | None = None,
         retain_graph: bool | None = None, create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` untouched).

    With ``create_graph=True`` the result is itself differentiable (higher-order gradients).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> (dx,) = gradwalk.autograd.grad(x ** 3, x, create_graph=True)
        >>> dx, gradwalk.autograd.grad(dx, x)
        (tensor(27., grad_fn=<MulBackward0>), (tensor(18.),))
    """
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not ins:
        raise RuntimeError("grad requires non-empty inputs.")
    for k, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs[{k}] is {type(t).__name__}, expected a Tensor")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    if _registry._trace is not None:  # the same: pending writes before the walk
        _registry._trace.flush_writes()
    seeds = _root_grads(outs, grad_outputs, create_graph, "grad")
    captured = engine.run_backward(outs, seeds, retain_graph=retain_graph,
                                   create_graph=create_graph, inputs=ins, accumulate=False)
    if engine.grad_filters:
        for f in engine.grad_filters:
            captured = [g if g is None else f(g, t, create_graph) for t, g in zip(ins, captured)]
    result = []
    for k, (t, g) in enumerate(zip(ins, captured)):
        if g is None:
            if materialize_grads:
                result.append(Tensor._wrap(np.zeros(t.shape, dtype=t._data.dtype)))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors appears to not have been used in the "
                    f"graph (input {k}, shape {list(t.shape)}). Set allow_unused=True if this is "
                    "the desired behavior.")
            result.append(None)
        elif create_graph:
            result.append(g)
        else:
            result.append(Tensor._wrap(g))
    return tuple(result)


