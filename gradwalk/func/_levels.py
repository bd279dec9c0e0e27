"""``vmap`` levels: numbering them, marking them running, and entering and leaving one.

Note [levels]
    Each ``vmap`` call gets a fresh level number (never reused). A ``BatchedArray`` of level L may
    wrap a batched array of a lower level (``vmap`` of ``vmap``): a function call is batched at
    the highest level among its arguments, and the physical arrays it passes on to NumPy are
    batched again at the lower levels. Arrays of lower levels are plain values to a higher level.

    The levels *running* now (the vmap calls whose function is executing, innermost last) are
    state of the calling thread: they live in a ``ContextVar``, like grad mode, so a thread (or
    an asyncio task) never sees another one's vmap calls. Only the counter that numbers levels
    is shared, so that a level number means one call everywhere.

Example:
    >>> from gradwalk.func._levels import active_level, active_levels, new_level
    >>> lv = new_level()
    >>> with active_level(lv):
    ...     active_levels() == (lv,)
    True
    >>> active_levels()
    ()
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar

import numpy as np

from ..autograd import engine
from ..ops.registry import Op, apply1
from ._batched_array import BatchedArray

_levels = itertools.count(1)  # shared: a level number is never reused, in any thread
# the levels of the vmap calls running now in this context, innermost last (Note [levels])
_active: ContextVar[tuple[int, ...]] = ContextVar("gradwalk_vmap_levels", default=())


def new_level() -> int:
    """A fresh vmap level (monotonic, never reused).

    Example:
        >>> from gradwalk.func._levels import new_level
        >>> new_level() < new_level()
        True
    """
    return next(_levels)


def active_levels() -> tuple[int, ...]:
    """The levels of the vmap calls running now in this thread (or task), innermost last.

    Example:
        >>> from gradwalk.func._levels import active_levels
        >>> active_levels()
        ()
    """
    return _active.get()


class active_level:  # a context manager named like a function
    """Marks ``level`` as running for the duration of a vmap call (see ``sum_finished``).

    Example:
        >>> from gradwalk.func._levels import active_level, active_levels, new_level
        >>> with active_level(new_level()) as lv:
        ...     lv in active_levels()
        True
    """

    def __init__(self, level: int) -> None:
        self.level = level

    def __enter__(self) -> int:
        engine.listen(_SUM_FINISHED)
        _active.set(_active.get() + (self.level,))
        return self.level

    def __exit__(self, *exc) -> None:
        _active.set(tuple(lv for lv in _active.get() if lv != self.level))


# ------------------------------------------------------------------------------------------
# entering and leaving a vmap level: two differentiable ops (not in REGISTRY: they take a
# level, which only means something inside a vmap call)


def _wrap_at(x, level, dim):
    """``x`` (logical view) with its dim ``dim`` made the batch dim of ``level``. Keeps the
    nesting order of Note [levels]: wrappers of higher levels stay outside."""
    if type(x) is BatchedArray and x._level > level:
        return BatchedArray(_wrap_at(x._a, level, dim + 1), x._level)
    return BatchedArray(np.moveaxis(x, dim, 0) if dim else x, level)


def _unwrap_at(x, level, dim, size):
    """``x`` without the batch of ``level``, its samples stacked along (logical) dim ``dim``;
    a value not batched at ``level`` is the same for every sample and is expanded."""
    if type(x) is BatchedArray:
        if x._level > level:
            return BatchedArray(_unwrap_at(x._a, level, dim + 1, size), x._level)
        if x._level == level:
            return np.moveaxis(x._a, 0, dim) if dim else x._a
    x = np.asarray(x) if not hasattr(x, "shape") else x
    x = np.expand_dims(x, dim)
    shape = list(x.shape)
    shape[dim] = size
    return np.broadcast_to(x, tuple(shape)).copy()


def _add_fwd(xp, x, level, dim, size):
    return _wrap_at(x, level, dim)


def _remove_fwd(xp, x, level, dim, size):
    return _unwrap_at(x, level, dim, size)


def _add_vjp(xp, g, out, x, level, dim, size):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return apply1(REMOVE_BATCH_DIM, g, {"level": level, "dim": dim, "size": size})
    return _unwrap_at(g, level, dim, size)


def _add_jvp(xp, t, out, x, level, dim, size):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return apply1(ADD_BATCH_DIM, t, {"level": level, "dim": dim, "size": size})
    return _wrap_at(t, level, dim)


def _levels_of(x) -> list:
    out = []
    while type(x) is BatchedArray:
        out.append(x._level)
        x = x._a
    return out


def sum_finished(g, like):
    """``g`` summed over the batch of every vmap level that has returned and that ``like`` (the
    array of the tensor the gradient is for) does not have.

    A tensor from outside a vmap call (a closure, or an input with ``in_dims=None``) is shared
    by all samples, so the gradient it gets from a backward pass run *after* the call is the sum
    over the samples (``grad(vmap(f))``). While the call runs, the batch is kept: that is
    ``vmap(grad(f))``, per-sample gradients.

    Example:
        >>> import numpy as np
        >>> from gradwalk.func._batched_array import BatchedArray
        >>> from gradwalk.func._levels import sum_finished, new_level
        >>> sum_finished(BatchedArray(np.ones((4, 2)), new_level()), np.zeros(2))
        array([4., 4.])
    """
    mine = set(_levels_of(like))
    running = _active.get()
    for lv in _levels_of(g):
        if lv not in mine and lv not in running:
            g = _unwrap_at(g, lv, 0, 0).sum(axis=0)
    return g


def _sum_finished_filter(g, tensor, create_graph):
    """The engine listener's ``filter_grad`` (Note [listeners] in ``autograd/engine.py``)."""
    if create_graph:
        if type(g._data) is not BatchedArray:
            return g
        mine = set(_levels_of(tensor._data))
        running = _active.get()
        for lv in _levels_of(g._data):
            if lv not in mine and lv not in running:
                g = apply1(REMOVE_BATCH_DIM, g, {"level": lv, "dim": 0, "size": 0}).sum(0)
        return g
    if type(g) is not BatchedArray:
        return g
    return sum_finished(g, tensor._data)


class _SumFinished:
    """The engine listener that sums gradients over the batch of finished vmap calls."""

    filter_grad = staticmethod(_sum_finished_filter)


_SUM_FINISHED = _SumFinished()

ADD_BATCH_DIM = Op("add_batch_dim", _add_fwd, _add_vjp, _add_jvp, inputs=("self",), saves=(),
                   save_out=False, node_name="AddBatchDimBackward0", elementwise=False)
REMOVE_BATCH_DIM = Op("remove_batch_dim", _remove_fwd, _add_jvp, _add_vjp, inputs=("self",),
                      saves=(), save_out=False, node_name="RemoveBatchDimBackward0",
                      elementwise=False)


def add_batch_dim(t, level: int, dim: int, size: int):
    """The batched tensor (level ``level``) whose samples are ``t``'s slices along ``dim``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func._levels import add_batch_dim, new_level
        >>> add_batch_dim(gradwalk.zeros(5, 3), new_level(), 0, 5).shape
        gradwalk.Size([3])
    """
    return apply1(ADD_BATCH_DIM, t, {"level": level, "dim": dim, "size": size})


def remove_batch_dim(t, level: int, dim: int, size: int):
    """The plain tensor holding ``t``'s samples (of level ``level``) stacked along ``dim``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func._levels import add_batch_dim, remove_batch_dim, new_level
        >>> lv = new_level()
        >>> remove_batch_dim(add_batch_dim(gradwalk.zeros(5, 3), lv, 1, 3), lv, 0, 3).shape
        gradwalk.Size([3, 5])
    """
    return apply1(REMOVE_BATCH_DIM, t, {"level": level, "dim": dim, "size": size})
