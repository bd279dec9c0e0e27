"""``vmap``: map a function over a batch dim by carrying the dim through every op.

The function runs once, on batched tensors (see Note [batching at the array level] in
``gradwalk/func/_batched_array.py``), not once per sample.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..ops.shape import cat
from ..tensor import Tensor
from . import _batching_rules  # noqa: F401 - fills the BatchedArray's rule table
from ._levels import active_level, add_batch_dim, new_level, remove_batch_dim
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

# an in_dims/out_dims argument: an int or None for every leaf, or a tuple/list/dict of them
Dims = int | None | tuple | list | dict


def vmap(func: Callable, in_dims: Dims = 0, out_dims: Dims = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Vectorize ``func`` over dim ``in_dims`` of its inputs; outputs get the batch at ``out_dims``.

    ``in_dims``: an int (or None) for every input, or a tuple with one entry per positional
    argument, each an int, None (not mapped: the same value for every sample) or a matching
    tuple/dict for a pytree argument. Keyword arguments are not mapped. ``func`` must return a
    Tensor or a tuple/list/dict of Tensors. Composes with ``grad``, ``vjp``, ``jvp`` and itself:
    ``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)`` gives per-sample gradients.

    Inside, a tensor's value differs per sample: reading it into Python (``item()``, ``if t:``)
    raises. Random factories draw one value shared by the batch (``randomness`` is accepted for
    PyTorch compatibility but only ``"error"``/``"same"`` behave alike here).
    ``chunk_size`` maps that many samples at a time (less memory, more Python time).

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import vmap
        >>> x = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> vmap(lambda row: row.dot(gradwalk.tensor([1.0, 10.0])))(x)
        tensor([21., 43.])
    """
    if not callable(func):
        raise TypeError(f"vmap: expected a callable, got {type(func).__name__}")
    _check_dims_arg(in_dims, "in_dims")
    _check_dims_arg(out_dims, "out_dims")
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got "
                         f"{randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size must be a positive int or None, got {chunk_size!r}")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        if chunk_size is not None:
            return _chunked(func, in_dims, out_dims, chunk_size, args, kwargs)
        return _vmap_call(func, in_dims, out_dims, args, kwargs)

    return wrapped


def _check_dims_arg(dims, what):
    leaves, _ = tree_flatten(dims)
    for d in leaves:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap: {what} must be made of ints and None, got {d!r} in "
                             f"{what}={dims!r}")


def _flat_in_dims(in_dims, args):
    if isinstance(in_dims, tuple):
        if len(in_dims) != len(args):
            raise ValueError(
                f"vmap: in_dims is a tuple of {len(in_dims)} entries but the function got "
                f"{len(args)} positional arguments; give one in_dim per argument")
        return broadcast_prefix(in_dims, tuple(args), "vmap(in_dims)")
    return broadcast_prefix(in_dims, tuple(args), "vmap(in_dims)")


def _vmap_call(func, in_dims, out_dims, args, kwargs):
    leaves, spec = tree_flatten(tuple(args))
    dims = _flat_in_dims(in_dims, args)
    size = None
    sizes = []
    norm = []
    for leaf, d in zip(leaves, dims):
        if d is None:
            norm.append(None)
            continue
        if not isinstance(leaf, Tensor):
            raise ValueError(
                f"vmap: got in_dim={d} for an input of type {type(leaf).__name__}; only Tensor "
                "inputs can be mapped over. Use None as its in_dim.")
        nd = leaf.ndim
        if not -nd <= d < nd:
            raise ValueError(
                f"vmap: in_dim={d} is out of range for an input of shape {list(leaf.shape)} "
                f"(expected a dim in [{-nd}, {nd - 1}])")
        d = d % nd
        norm.append(d)
        sizes.append(leaf.shape[d])
        size = leaf.shape[d] if size is None else size
    if size is None:
        raise ValueError(
            f"vmap: at least one input must be mapped over, but in_dims={in_dims!r} maps none "
            "of the Tensor inputs")
    if any(s != size for s in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension")
    level = new_level()
    with active_level(level):
        batched = [leaf if d is None else add_batch_dim(leaf, level, d, size)
                   for leaf, d in zip(leaves, norm)]
        out = func(*tree_unflatten(spec, batched), **kwargs)
    out_leaves, out_spec = tree_flatten(out)
    odims = broadcast_prefix(out_dims, out, "vmap(out_dims)")
    result = []
    for o, d in zip(out_leaves, odims):
        if not isinstance(o, Tensor):
            raise ValueError(
                f"vmap: the function must return Tensors (or tuples/lists/dicts of Tensors), got "
                f"{type(o).__name__}")
        if d is None:
            raise ValueError("vmap: out_dims=None is not supported for a Tensor output; every "
                             "output gets a batch dim")
        nd = o.ndim + 1
        if not -nd <= d < nd:
            raise ValueError(f"vmap: out_dim={d} is out of range for an output with {nd} dims "
                             "(batch dim included)")
        result.append(remove_batch_dim(o, level, d % nd, size))
    return tree_unflatten(out_spec, result)


def _chunked(func, in_dims, out_dims, chunk_size, args, kwargs):
    leaves, spec = tree_flatten(tuple(args))
    dims = _flat_in_dims(in_dims, args)
    size = next(leaf.shape[d] for leaf, d in zip(leaves, dims)
                if d is not None and isinstance(leaf, Tensor))
    parts = []
    for lo in range(0, size, chunk_size):
        n = min(chunk_size, size - lo)
        sub = [leaf if d is None else leaf.narrow(d, lo, n) for leaf, d in zip(leaves, dims)]
        parts.append(_vmap_call(func, in_dims, out_dims, tree_unflatten(spec, sub), kwargs))
    flat = [tree_flatten(p)[0] for p in parts]
    out_spec = tree_flatten(parts[0])[1]
    odims = broadcast_prefix(out_dims, parts[0], "vmap(out_dims)")
    joined = [cat([f[k] for f in flat], odims[k]) for k in range(len(flat[0]))]
    return tree_unflatten(out_spec, joined)
