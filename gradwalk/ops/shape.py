"""Shape ops: views and rearrangements (reshape, transpose, expand, cat, split...).

Ops that return a view of their input's memory share its version counter (``_share``), so an
in-place change through either is seen by the other's saved-value checks.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import device_of, get_namespace, to_numpy
from ..dtypes import promote_all as _promote_all
from . import arrays as _arrays
from . import kernels as K
from . import registry as _registry
from .inplace_views import track_view
from .padding import crop as _crop
from .registry import Op, apply, apply1, apply_multi, declare, declare_each


def _view(op, x, params):
    """Apply a view op and mark the result as a view of ``x``'s base (see ``_share``)."""
    return _share(apply1(op, x, params), x, op, params)


def _share(out, x, op, params):
    """Mark ``out`` as a view of ``x``: the same version counter, the base tensor, and the chain
    of view ops from the base (used to route gradients when the view is changed in place)."""
    if np.may_share_memory(out._data, x._data) if type(out._data) is np.ndarray else True:
        out._vc = x._vc
        ex = out._ex()
        xex = x._extra
        if xex is not None and xex.base is not None:
            ex.base = xex.base
            ex.view_chain = xex.view_chain + ((op, params),)
        else:
            ex.base = x
            ex.view_chain = ((op, params),)
        if ex.base.grad_fn is not None:
            track_view(ex.base, out)
    return out


def _wrap(d, ndim, op):
    return _arrays.wrap_dim(d, ndim, op)


# --------------------------------------------------------------------------------------------
# declarations

# view, reshape, squeeze and unsqueeze are one op under four names (and four node names).
VIEW, RESHAPE, SQUEEZE, UNSQUEEZE = declare_each(
    ("view", "reshape", "squeeze", "unsqueeze"),
    lambda xp, x, shape, in_shape: xp.reshape(x, shape),
    lambda xp, g, out, x, shape, in_shape: xp.reshape(g, in_shape), saves=(), linear=True,
    node_name={"reshape": "ViewBackward0"},
    explain={"view": "grad reshaped to x's shape", "reshape": "grad reshaped to x's shape",
             "squeeze": "grad unsqueezed back", "unsqueeze": "grad squeezed back"})


def _perm_inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


PERMUTE = declare("permute", lambda xp, x, perm: xp.transpose(x, perm),
                  lambda xp, g, out, x, perm: xp.transpose(g, _perm_inverse(perm)), saves=(),
                  linear=True, explain="grad permuted back")
TRANSPOSE = declare("transpose", lambda xp, x, perm: xp.transpose(x, perm),
                    lambda xp, g, out, x, perm: xp.transpose(g, _perm_inverse(perm)), saves=(),
                    linear=True, explain="grad transposed back")
T = declare("t", lambda xp, x, perm: xp.transpose(x, perm),
            lambda xp, g, out, x, perm: xp.transpose(g, perm), saves=(), linear=True,
            node_name="TBackward0", explain="grad transposed back")
# expand's gradient is the sum over the broadcast dims: the engine's central reduction does it.
EXPAND = declare("expand", lambda xp, x, shape: xp.broadcast_to(x, shape),
                 lambda xp, g, out, x, shape: g, saves=(), linear=True,
                 explain="grad summed over the expanded dims")


def _repeat_vjp(xp, g, out, x, reps, in_shape):
    lead = len(reps) - len(in_shape)
    shape = (1,) * lead + tuple(in_shape)
    split = []
    for r, s in zip(reps, shape):
        split += [r, s]
    g = xp.reshape(g, tuple(split))
    g = xp.sum(g, axis=tuple(range(0, 2 * len(reps), 2)))
    return xp.reshape(g, in_shape)


REPEAT = declare("repeat", lambda xp, x, reps, in_shape: xp.tile(x, reps), _repeat_vjp,
                 saves=(), linear=True, explain="grad summed over the repeats")


def _cat_vjp(xp, g, out, *xs, axis, sizes, needs=None):
    if needs is None:  # a single tensor: called as a one-input rule (Note [rules])
        return g
    grads = []
    start = 0
    for n, need in zip(sizes, needs):
        if need:
            index = (slice(None),) * axis + (slice(start, start + n),)
            grads.append(g[index])
        else:
            grads.append(None)
        start += n
    return tuple(grads)


def _cat_jvp(xp, t, out, *xs, axis, sizes):
    t = t if isinstance(t, tuple) else (t,)  # a single tensor gets a bare tangent
    parts = [xp.zeros_like(x) if ti is None else ti for ti, x in zip(t, xs)]
    return xp.concatenate(parts, axis=axis)


CAT = declare("cat", lambda xp, *xs, axis, sizes: xp.concatenate(xs, axis=axis), _cat_vjp,
              _cat_jvp, inputs=("tensors",), saves=(), explain="grad sliced back to each input")


def _stack_vjp(xp, g, out, *xs, axis, needs=None):
    if needs is None:  # a single tensor: called as a one-input rule (Note [rules])
        return xp.take(g, 0, axis=axis)
    return tuple(xp.take(g, i, axis=axis) if need else None for i, need in enumerate(needs))


def _stack_jvp(xp, t, out, *xs, axis):
    t = t if isinstance(t, tuple) else (t,)  # a single tensor gets a bare tangent
    return xp.stack([xp.zeros_like(x) if ti is None else ti for ti, x in zip(t, xs)], axis=axis)


STACK = declare("stack", lambda xp, *xs, axis: xp.stack(xs, axis=axis), _stack_vjp, _stack_jvp,
                inputs=("tensors",), saves=(), explain="grad unstacked to each input")
def _flip_fwd(xp, x, axes):
    out = xp.flip(x, axis=axes)
    # a copy, as in PyTorch: NumPy's flip is a view, and writing into it would change x
    return out if isinstance(out, _registry.Tensor) else out.copy()


FLIP = declare("flip", _flip_fwd, lambda xp, g, out, x, axes: xp.flip(g, axis=axes), saves=(),
               linear=True, explain="grad flipped back")
TRIL = declare("tril", lambda xp, x, k: xp.tril(x, k), lambda xp, g, out, x, k: xp.tril(g, k),
               saves=(), linear=True, explain="grad on and below the diagonal")
TRIU = declare("triu", lambda xp, x, k: xp.triu(x, k), lambda xp, g, out, x, k: xp.triu(g, k),
               saves=(), linear=True, explain="grad on and above the diagonal")


def _pad_fwd(xp, x, widths, mode, value):
    if mode == "constant":
        return xp.pad(x, widths, mode="constant", constant_values=value)
    return xp.pad(x, widths, mode={"replicate": "edge", "reflect": "reflect",
                                   "circular": "wrap"}[mode])


def _pad_vjp(xp, g, out, x, widths, mode, value):
    if mode != "constant":
        return K.pad_backward(xp, g, widths, mode)
    index = tuple(slice(lo, g.shape[k] - hi) for k, (lo, hi) in enumerate(widths))
    return g[index]


PAD = declare("pad", _pad_fwd, _pad_vjp,
              lambda xp, t, out, x, widths, mode, value: _pad_fwd(xp, t, widths, mode, 0.0),
              saves=(), node_name="ConstantPadNdBackward0", explain="grad with the padding cut off")


def _to_device_fwd(xp, x, device, src=None):
    target = get_namespace(device)
    if target is np:
        return to_numpy(x)
    return target.asarray(x)


def _to_device_vjp(xp, g, out, x, device, src):
    if getattr(xp, "IS_DIFFERENTIABLE", False):  # create_graph: the move back is recorded
        return to_device(g, src)
    return _to_device_fwd(xp, g, src)


def _to_device_jvp(xp, t, out, x, device, src):
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return to_device(t, device)
    return _to_device_fwd(xp, t, device)


TO_DEVICE = declare("to_device", _to_device_fwd, _to_device_vjp, _to_device_jvp, saves=(),
                    node_name="ToCopyBackward0")


# --------------------------------------------------------------------------------------------
# public functions


def _infer_shape(shape, numel: int, op: str) -> tuple:
    shape = tuple(int(s) for s in shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}(): only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}(): invalid shape dimension {min(shape)} in {list(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input, shape):
    """Same data in a new shape (``-1`` infers one dim); a view when the memory allows.

    Example:
        >>> import gradwalk
        >>> gradwalk.reshape(gradwalk.arange(6), (2, -1))
        tensor([[0, 1, 2],
                [3, 4, 5]])
    """
    shape = _infer_shape(shape, input._data.size, "reshape")
    return _view(RESHAPE, input, {"shape": shape, "in_shape": input.shape})


def view(input, shape):
    """A view with a new shape; raises when the memory layout does not allow one.

    Example:
        >>> import gradwalk
        >>> gradwalk.arange(4.0).view(2, 2).shape
        gradwalk.Size([2, 2])
    """
    shape = _infer_shape(shape, input._data.size, "view")
    if not input._data.flags.c_contiguous and input._data.size > 1:
        try:
            v = input._data.view()
            v.shape = shape
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
    return _view(VIEW, input, {"shape": shape, "in_shape": input.shape})


def view_dtype(input, dtype):
    """The same bytes read as ``dtype`` (a view, no gradient): a dtype of another size scales
    the last dim, which must be contiguous, as in PyTorch.

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([1.0], dtype=gradwalk.float32).view(gradwalk.int32)
        tensor([1065353216], dtype=gradwalk.int32)
    """
    from ..dtypes import from_numpy_dtype, to_numpy_dtype

    a = input._data
    new = np.dtype(to_numpy_dtype(dtype))
    old_name = from_numpy_dtype(a.dtype).name.capitalize()
    new_name = from_numpy_dtype(new).name.capitalize()
    if new.itemsize != a.itemsize:
        what = f"to view {old_name} as {new_name} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.shape[-1] != 1 and a.strides[-1] != a.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got "
                               f"{a.strides[-1] // a.itemsize}")
        if new.itemsize > a.itemsize and (a.shape[-1] * a.itemsize) % new.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by "
                               f"{new.itemsize // a.itemsize} {what}, but got {a.shape[-1]}")
    try:
        viewed = a.view(new)
    except ValueError:  # a last dim of size 1 with another stride: NumPy wants it contiguous
        viewed = np.lib.stride_tricks.as_strided(
            a, a.shape, a.strides[:-1] + (a.itemsize,), writeable=a.flags.writeable).view(new)
    return _alias(_registry.wrap(viewed), input)


def _alias(out, x):
    """``out`` shares ``x``'s memory and version counter but no graph (a dtype view)."""
    out._vc = x._vc
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one.

    Example:
        >>> import gradwalk
        >>> gradwalk.flatten(gradwalk.zeros(2, 3, 4), 1).shape
        gradwalk.Size([2, 12])
    """
    nd = input.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = _wrap(start_dim, nd, "flatten")
    e = _wrap(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape[:s] + (math.prod(input.shape[s:e + 1]),) + input.shape[e + 1:]
    return reshape(input, shape)


def squeeze(input, dim=None):
    """Drop dims of size 1 (all, or the given ones).

    Example:
        >>> import gradwalk
        >>> gradwalk.squeeze(gradwalk.zeros(2, 1, 3)).shape
        gradwalk.Size([2, 3])
    """
    shape = input.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        drop = {_wrap(d, input.ndim, "squeeze") for d in dims} if input.ndim else set()
        new = tuple(s for k, s in enumerate(shape) if not (k in drop and s == 1))
    return _view(SQUEEZE, input, {"shape": new, "in_shape": shape})


def unsqueeze(input, dim):
    """Insert a dim of size 1 at ``dim``.

    Example:
        >>> import gradwalk
        >>> gradwalk.unsqueeze(gradwalk.zeros(3), 0).shape
        gradwalk.Size([1, 3])
    """
    d = _wrap(dim, input.ndim + 1, "unsqueeze")
    shape = input.shape[:d] + (1,) + input.shape[d:]
    return _view(UNSQUEEZE, input, {"shape": shape, "in_shape": input.shape})


def transpose(input, dim0, dim1):
    """Swap two dims (a view).

    Example:
        >>> import gradwalk
        >>> gradwalk.transpose(gradwalk.zeros(2, 3), 0, 1).shape
        gradwalk.Size([3, 2])
    """
    nd = input.ndim
    if nd == 0:
        return _view(TRANSPOSE, input, {"perm": ()})
    a, b = _wrap(dim0, nd, "transpose"), _wrap(dim1, nd, "transpose")
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    return _view(TRANSPOSE, input, {"perm": tuple(perm)})


swapaxes = swapdims = transpose


def permute(input, dims):
    """Reorder dims (a view).

    Example:
        >>> import gradwalk
        >>> gradwalk.permute(gradwalk.zeros(2, 3, 4), (2, 0, 1)).shape
        gradwalk.Size([4, 2, 3])
    """
    nd = input.ndim
    perm = tuple(_wrap(d, nd, "permute") for d in dims)
    if len(perm) != nd or sorted(perm) != list(range(nd)):
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
            f"to len(dims) = {len(dims)}" if len(perm) != nd else
            f"permute(): repeated dim in {list(dims)}")
    return _view(PERMUTE, input, {"perm": perm})


def t(input):
    """Transpose of a matrix (a 0-d or 1-d tensor is returned as is).

    Example:
        >>> import gradwalk
        >>> gradwalk.t(gradwalk.zeros(2, 3)).shape
        gradwalk.Size([3, 2])
    """
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    perm = tuple(range(input.ndim - 1, -1, -1))
    return _view(T, input, {"perm": perm})


def movedim(input, source, destination):
    """Move the dims ``source`` to the positions ``destination`` (the others keep their order).

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(2, 3, 4).movedim(0, -1).shape
        gradwalk.Size([3, 4, 2])
    """
    nd = input.ndim
    src = [_wrap(s, nd, "movedim") for s in (source if isinstance(source, (tuple, list))
                                             else (source,))]
    dst = [_wrap(s, nd, "movedim") for s in (destination if isinstance(destination, (tuple, list))
                                             else (destination,))]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


def expand(input, sizes):
    """Broadcast to a larger shape without copying (``-1`` keeps a dim).

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([[1.0], [2.0]]).expand(2, 3)
        tensor([[1., 1., 1.],
                [2., 2., 2.]])
    """
    sizes = tuple(int(s) for s in sizes)
    nd = input.ndim
    if len(sizes) < nd:
        raise RuntimeError(
            f"expand(): the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({nd})")
    lead = len(sizes) - nd
    shape = []
    for k, s in enumerate(sizes):
        if k < lead:
            if s < 0:
                raise RuntimeError(f"expand(): the expanded size {s} is not allowed in a leading, "
                                   "non-existing dimension")
            shape.append(s)
            continue
        cur = input.shape[k - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {k}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(input.shape)}")
        shape.append(s)
    return _view(EXPAND, input, {"shape": tuple(shape)})


def broadcast_to(input, shape):
    """Broadcast to ``shape`` (like ``expand``).

    Example:
        >>> import gradwalk
        >>> gradwalk.broadcast_to(gradwalk.tensor([1.0, 2.0]), (2, 2)).shape
        gradwalk.Size([2, 2])
    """
    return expand(input, tuple(shape))


def repeat(input, sizes):
    """Tile the tensor ``sizes[k]`` times along each dim (copies).

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([1.0, 2.0]).repeat(2)
        tensor([1., 2., 1., 2.])
    """
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            "tensor")
    return apply1(REPEAT, input, {"reps": sizes, "in_shape": input.shape})


def _tensors(tensors, op):
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for k, t in enumerate(ts):
        if not isinstance(t, _registry.Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, but element {k} is "
                            f"{type(t).__name__}")
    dt = _promote_all([t._data.dtype for t in ts])  # PyTorch's promotion, not NumPy's
    return [t if t._data.dtype == dt else t.to(dt) for t in ts]


def cat(tensors, dim=0):
    """Join tensors along an existing dim.

    Example:
        >>> import gradwalk
        >>> gradwalk.cat([gradwalk.zeros(2, 3), gradwalk.ones(1, 3)]).shape
        gradwalk.Size([3, 3])
    """
    ts = _tensors(tensors, "cat")
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]
    ref = ts[0]
    axis = _wrap(dim, ref.ndim, "cat")
    for k, t in enumerate(ts):
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if i != axis):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {axis}. Expected size "
                f"{list(ref.shape)} but got size {list(t.shape)} for tensor number {k} in the "
                "list.")
    return apply(CAT, *ts, params={"axis": axis, "sizes": tuple(t.shape[axis] for t in ts)})


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join tensors along a new dim.

    Example:
        >>> import gradwalk
        >>> gradwalk.stack([gradwalk.zeros(3), gradwalk.ones(3)]).shape
        gradwalk.Size([2, 3])
    """
    ts = _tensors(tensors, "stack")
    for k, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} at "
                f"entry 0 and {list(t.shape)} at entry {k}")
    axis = _wrap(dim, ts[0].ndim + 1, "stack")
    return apply(STACK, *ts, params={"axis": axis})


def narrow(input, dim, start, length):
    """The slice ``start:start+length`` along ``dim`` (a view).

    Example:
        >>> import gradwalk
        >>> gradwalk.arange(5).narrow(0, 1, 2)
        tensor([1, 2])
    """
    axis = _wrap(dim, input.ndim, "narrow")
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, _registry.Tensor):
        if start.ndim != 0 or start._data.dtype.kind not in "iu":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start._data)
    n = input.shape[axis]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start}) in narrow()")
    if start < 0:
        start += n
    if length < 0 or start > n - length:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}) "
                           "in narrow()")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


def split(tensor, split_size_or_sections, dim=0):
    """Split into pieces of a given size (or a list of sizes) along ``dim``.

    Example:
        >>> import gradwalk
        >>> [p.shape for p in gradwalk.arange(5).split(2)]
        [gradwalk.Size([2]), gradwalk.Size([2]), gradwalk.Size([1])]
    """
    axis = _wrap(dim, tensor.ndim, "split")
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {axis}), but got split_sizes={sizes}")
    else:
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    if _multi_ok(tensor):
        op = SPLIT_WITH_SIZES if isinstance(split_size_or_sections, (list, tuple)) else SPLIT
        outs = apply_multi(op, tensor, {"axis": axis, "sizes": tuple(sizes)})
        lead = (slice(None),) * axis
        starts = np.cumsum([0] + sizes[:-1]).tolist()
        return _pieces(tensor, outs, "slice",
                       [lead + (slice(a, a + n),) for a, n in zip(starts, sizes)])
    out = []
    start = 0
    for s in sizes:
        out.append(narrow(tensor, axis, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of (nearly) equal size.

    Example:
        >>> import gradwalk
        >>> len(gradwalk.arange(6).chunk(3))
        3
    """
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    axis = _wrap(dim, input.ndim, "chunk")
    size = -(-input.shape[axis] // chunks)
    return split(input, max(size, 1), axis)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple.

    Example:
        >>> import gradwalk
        >>> gradwalk.unbind(gradwalk.tensor([[1, 2], [3, 4]]))
        (tensor([1, 2]), tensor([3, 4]))
    """
    axis = _wrap(dim, input.ndim, "unbind")
    if _multi_ok(input):
        lead = (slice(None),) * axis
        return _pieces(input, apply_multi(UNBIND, input, {"axis": axis}), "select",
                       [lead + (i,) for i in range(input.shape[axis])])
    return tuple(input[(slice(None),) * axis + (i,)] for i in range(input.shape[axis]))


# Note [multi-output views]
#     ``unbind``, ``split`` and ``chunk`` record one ``MultiNode`` per call (Note [multi-output
#     nodes] in autograd/engine.py): its rule stacks (or concatenates) the pieces' gradients,
#     with zeros for pieces that received none, so a backward through ``n`` pieces costs one rule
#     call. The pieces are views (``x[index]``): they share the input's memory and version
#     counter, an in-place change of the input gives them new nodes (``refresh_views``), and, as
#     in PyTorch, they may not be changed in place while grad mode records (``apply_inplace``
#     refuses: the one node of the call cannot be rebased per piece).
#     While a forward hook is installed (forward AD, anomaly mode, saved-tensor hooks, which see
#     one output per op) and under ``vmap``, each piece is a slice with its own node instead.

def _multi_ok(x) -> bool:
    """Whether ``x`` can be split by one multi-output node (Note [multi-output views])."""
    return type(x._data) is np.ndarray and not _registry._forward_hooks


def _pieces(x, outs, kind, indices):
    """Mark each piece as the view ``x[index]`` (the index op ``kind``), see ``_share``."""
    from . import indexing

    op = indexing.SELECT if kind == "select" else indexing.SLICE
    shape = x.shape
    for t, index in zip(outs, indices):
        _share(t, x, op, {"index": index, "shape": shape})
    return outs


def _zero_block(xp, shape, like):
    """Zeros of ``shape`` standing for a piece that received no gradient (both rule modes)."""
    from . import kernels as K

    if K.is_dxp(xp):
        return _registry.Tensor._wrap(np.zeros(shape, dtype=like._data.dtype))
    return K._zeros(xp, shape, like.dtype, like)


def _unbind_fwd(xp, x, axis):
    return tuple(xp.moveaxis(x, axis, 0)) if axis else tuple(x)


def _unbind_vjp(xp, grads, out, x, axis):
    like = next(g for g in grads if g is not None)
    zero = None
    parts = []
    for g in grads:
        if g is None:
            if zero is None:
                zero = _zero_block(xp, like.shape, like)
            g = zero
        parts.append(g)
    return xp.stack(parts, axis)


def _split_fwd(xp, x, axis, sizes):
    out = []
    start = 0
    lead = (slice(None),) * axis
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def _split_vjp(xp, grads, out, x, axis, sizes):
    like = next(g for g in grads if g is not None)
    shape = tuple(like.shape)
    parts = [g if g is not None else _zero_block(xp, shape[:axis] + (s,) + shape[axis + 1:],
                                                 like)
             for g, s in zip(grads, sizes)]
    return xp.concatenate(parts, axis)


# Not in the registry's table: their forward returns a tuple (``apply_multi``), which the
# registry-driven op tests do not cover; tests/autograd/test_node.py checks them.
UNBIND = Op("unbind", _unbind_fwd, _unbind_vjp, None, inputs=("self",), saves=(),
            save_out=False, node_name="UnbindBackward0", elementwise=False)
SPLIT = Op("split", _split_fwd, _split_vjp, None, inputs=("self",), saves=(), save_out=False,
           node_name="SplitBackward0", elementwise=False)
SPLIT_WITH_SIZES = Op("split_with_sizes", _split_fwd, _split_vjp, None, inputs=("self",),
                      saves=(), save_out=False, node_name="SplitWithSizesBackward0",
                      elementwise=False)


def flip(input, dims):
    """Reverse the order along ``dims``.

    Example:
        >>> import gradwalk
        >>> gradwalk.flip(gradwalk.tensor([1, 2, 3]), (0,))
        tensor([3, 2, 1])
    """
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    axes = tuple(_wrap(d, input.ndim, "flip") for d in dims)
    return apply1(FLIP, input, {"axes": axes})


def tril(input, diagonal=0):
    """Lower triangle of a matrix (or batch of matrices), the rest zero.

    Example:
        >>> import gradwalk
        >>> gradwalk.tril(gradwalk.ones(2, 2))
        tensor([[1., 0.],
                [1., 1.]])
    """
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return apply1(TRIL, input, {"k": diagonal})


def triu(input, diagonal=0):
    """Upper triangle of a matrix (or batch of matrices), the rest zero.

    Example:
        >>> import gradwalk
        >>> gradwalk.triu(gradwalk.ones(2, 2))
        tensor([[1., 1.],
                [0., 1.]])
    """
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return apply1(TRIU, input, {"k": diagonal})


def pad(input, pad, mode="constant", value=None):
    """Pad the last dims: ``pad = (left, right, top, bottom, ...)`` from the last dim backwards.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.functional.pad(gradwalk.ones(2), (1, 2))
        tensor([0., 1., 1., 0., 0.])
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"Padding length must be divisible by 2 and at most twice the number of dims "
            f"({input.ndim}), got {len(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad(): mode {mode!r} is not supported; use constant, "
                                  "reflect, replicate or circular")
    if any(p < 0 for p in pad):
        input, pad = _crop(input, pad, mode)
        if not any(pad):
            return input.clone()
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return apply1(PAD, input, {"widths": tuple(widths), "mode": mode,
                               "value": 0.0 if value is None else value})


def to_device(input, device):
    """Move to ``"cpu"`` or ``"cuda"`` (differentiable)."""
    src = device_of(input._data)
    if str(device).split(":")[0] == src.split(":")[0]:
        return input
    return apply1(TO_DEVICE, input, {"device": device, "src": src})
