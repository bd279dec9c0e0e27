"""Activation checkpointing: trade compute for memory by recomputing a forward during backward.

``checkpoint(fn, *args)`` runs ``fn`` but keeps none of the intermediate values its ops save for
backward. When the backward first needs one of them, ``fn`` runs again on the same inputs (with
the same random state) and the recomputed values are used instead. Peak memory falls from all
activations of the model to those of one checkpointed segment at a time.

Two implementations, as in PyTorch:

* ``use_reentrant=False`` (default here): the forward runs with grad mode on inside
  ``saved_tensors_hooks`` whose pack hook keeps an index instead of the tensor; the unpack hook
  recomputes ``fn`` once per backward and hands out the recomputed tensors by index. The graph is
  recorded as usual, so parameters used inside ``fn`` and ``autograd.grad`` work.
* ``use_reentrant=True``: a custom ``Function`` runs ``fn`` under ``no_grad`` and, in its
  backward, recomputes ``fn`` with grad and calls ``backward`` on it (gradients of parameters used
  inside ``fn`` are accumulated into their ``.grad`` by that inner backward).

Example:
    >>> import gradwalk
    >>> from gradwalk.utils.checkpoint import checkpoint
    >>> x = gradwalk.tensor([0.5, 1.0], requires_grad=True)
    >>> y = checkpoint(lambda t: (t.sin() * t).exp(), x, use_reentrant=False)
    >>> y.sum().backward()
    >>> x.grad
    tensor([1.1669, 3.2054])
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential"]


def _rng_state():
    from ..creation import default_generator

    return copy.deepcopy(default_generator._rng.bit_generator.state)


def _set_rng_state(state) -> None:
    from ..creation import default_generator

    default_generator._rng.bit_generator.state = state


def _detach_like(args) -> list:
    from ..tensor import Tensor

    out = []
    for a in args:
        if isinstance(a, Tensor):
            d = a.detach()
            d._requires_grad = a._requires_grad
            out.append(d)
        else:
            out.append(a)
    return out


class _Frame:
    """One checkpointed call: the inputs and random state to recompute it, and the recomputed
    saved tensors, by the index their pack hook gave them."""

    def __init__(self, fn, args, kwargs, rng_state) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.count = 0
        self.recomputed: dict | None = None

    def pack(self, t) -> int:
        k = self.count
        self.count += 1
        return k

    def unpack(self, k: int):
        if self.recomputed is None or k not in self.recomputed:
            # The engine runs rules with grad mode on only for create_graph=True: then the
            # recomputed values must stay connected to the inputs for higher-order gradients.
            self.recompute(keep_graph=grad_mode.is_grad_enabled())
        return self.recomputed.pop(k)

    def recompute(self, keep_graph: bool = False) -> None:
        store: dict = {}

        def pack(t):
            store[len(store)] = t
            # The recomputed graph is walked only under create_graph; otherwise its nodes keep
            # nothing (returning ``t`` would make reference cycles that outlive the backward).
            return t if keep_graph else None

        state = _rng_state() if self.rng_state is not None else None
        if self.rng_state is not None:
            _set_rng_state(self.rng_state)
        try:
            with grad_mode.enable_grad(), saved_tensors_hooks(pack, lambda t: t):
                self.fn(*(self.args if keep_graph else _detach_like(self.args)), **self.kwargs)
        finally:
            if state is not None:
                _set_rng_state(state)
        if len(store) != self.count:
            raise RuntimeError(
                f"torch.utils.checkpoint: the recomputed forward saved {len(store)} tensors for "
                f"backward but the original forward saved {self.count}. The checkpointed "
                "function must do the same ops when it runs again (no control flow on global "
                "state that changed in between).")
        self.recomputed = store


class _ReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, fn, preserve_rng_state, *args):
        ctx.fn = fn
        ctx.rng_state = _rng_state() if preserve_rng_state else None
        ctx.args = args
        return fn(*args)

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd import backward
        from ..tensor import Tensor

        if grad_mode.is_grad_enabled():  # the engine runs rules with grad on for create_graph
            raise RuntimeError(
                "checkpoint(use_reentrant=True) does not support create_graph=True (double "
                "backward): its inner backward is not differentiable. Use use_reentrant=False.")
        inputs = _detach_like(ctx.args)
        state = _rng_state() if ctx.rng_state is not None else None
        if ctx.rng_state is not None:
            _set_rng_state(ctx.rng_state)
        try:
            with grad_mode.enable_grad():
                outputs = ctx.fn(*inputs)
        finally:
            if state is not None:
                _set_rng_state(state)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o._requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(
            i.grad if isinstance(i, Tensor) and i._requires_grad else None for i in inputs)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = False,
               preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """Run ``function(*args, **kwargs)`` without keeping its intermediate values for backward;
    they are recomputed when the backward needs them.

    Example:
        >>> import gradwalk
        >>> from gradwalk.utils.checkpoint import checkpoint
        >>> w = gradwalk.tensor([[2.0]], requires_grad=True)
        >>> x = gradwalk.tensor([[3.0]], requires_grad=True)
        >>> checkpoint(lambda t: (t @ w).tanh() * 4, x).sum().backward()
        >>> w.grad.shape, x.grad.shape
        (gradwalk.Size([1, 1]), gradwalk.Size([1, 1]))
    """
    if use_reentrant is None:
        use_reentrant = False
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs) + " (keyword "
                             "arguments need use_reentrant=False)")
        from ..tensor import Tensor

        if grad_mode.is_grad_enabled() and not any(
                isinstance(a, Tensor) and a._requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          UserWarning, stacklevel=2)
        return _ReentrantCheckpoint.apply(function, preserve_rng_state, *args)
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)
    frame = _Frame(function, args, kwargs, _rng_state() if preserve_rng_state else None)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(functions: Sequence[Callable], segments: int, input: Any,
                          use_reentrant: bool | None = False, **kwargs: Any) -> Any:
    """Run ``functions`` (callables or an ``nn.Sequential``) in order, checkpointing each of
    ``segments`` chunks; the last chunk runs normally, as in PyTorch.

    Example:
        >>> import gradwalk
        >>> from gradwalk.utils.checkpoint import checkpoint_sequential
        >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        >>> fs = [lambda t: t * 2, lambda t: t.sin(), lambda t: t ** 2, lambda t: t + 1]
        >>> checkpoint_sequential(fs, 2, x).sum().backward()
        >>> x.grad.shape
        gradwalk.Size([2])
    """
    functions = list(functions.children() if hasattr(functions, "children") else functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")
    size = max(1, len(functions) // segments)

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return forward

    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end, len(functions))(input)
