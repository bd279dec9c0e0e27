"""The backward engine: walks the recorded graph from the roots and delivers gradients.

Note [the walk]
    1. Seed a buffer per root node with its gradient; push the roots on the ready queue, a
       max-heap on the nodes' creation numbers (``node.seq``).
    2. Pop the latest-created node. Every node that consumed its output was created after it, so
       every consumer that can reach it has already run and delivered: its buffer holds its whole
       gradient. (This is dependency counting with the counts implied by creation order: no
       counting pass over the graph is needed, and a node that receives no gradient is never
       visited.)
    3. For the node: run its pre-hooks, call its rule, reduce each result to its input's shape
       and dtype (the one place broadcasting is undone and gradients are validated), and add it
       into the producer's buffer out of place, pushing the producer when its first gradient
       arrives.
    4. An ``AccumulateGrad`` node adds into ``leaf.grad``: in place when the grad is ours, out of
       place under ``create_graph``; then the leaf's post-accumulate hooks run.
    5. Unless ``retain_graph``, a node's saved values are released as soon as it has run; using
       them again raises the "backward through the graph a second time" error.
    With ``inputs`` (``autograd.grad``, ``backward(inputs=...)``) a first pass marks the nodes
    that lead to an input, and only those are pushed.

Note [no recursion]
    Nothing here recurses: discovery and the walk use explicit stacks and heaps, so a chain of a
    million ops backpropagates with Python's default recursion limit.

Note [modes]
    First-order backward (``create_graph=False``) passes raw arrays to the rules with ``xp`` the
    arrays' namespace: no Tensor is made. With ``create_graph=True`` the rules receive Tensors and
    ``gradwalk.ops.dxp``, so the same rule records the graph of the gradient itself.

Note [ownership of leaf gradients]
    A rule may hand the same array to several inputs (``add`` returns ``g`` twice). The first
    gradient stored in a leaf's ``.grad`` is therefore copied unless the engine knows the array
    is fresh: it owns its memory and was not delivered anywhere else in this backward.

The engine knows no op: it sees nodes with a rule (``node.op``), saved values and edges.
"""

from __future__ import annotations

import heapq
import warnings
from functools import partial

import numpy as np

from ..backend import _cupy, xp_of
from . import grad_mode
from .node import SECOND_BACKWARD, AccumulateGrad

# Observers (explain mode, anomaly detection) register here; empty in normal runs. The engine
# calls ``o.on_backward(accumulate)`` (if defined) when a walk starts, ``o.on_node(node,
# grad_in, grads_out)`` after each rule, and ``o.on_accumulate(leaf, grad)`` before adding into
# ``leaf.grad``.
observers: list = []
# Functions ``f(g, tensor, create_graph) -> g`` applied to the gradient that reaches a leaf (or an
# input of ``autograd.grad``); empty unless ``vmap`` has run: it adds one that sums a gradient
# over the batch of a vmap call that has returned (``ops/batching.py``).
grad_filters: list = []

_ndarray = np.ndarray
_dxp = None  # the differentiable namespace, imported on first create_graph use
Tensor = None  # set by tensor.py


def _differentiable_xp():
    global _dxp
    if _dxp is None:
        from ..ops import dxp

        _dxp = dxp
    return _dxp


def _check_versions(node) -> None:
    saved, versions = node.saved, node.versions
    for i, t in enumerate(saved):
        if versions[i] is not None and t._version != versions[i]:
            _raise_version_error(node, t, versions[i], t._version)
    if node.out_vc is not None and node.out_vc[0] != node.out_ver:
        _raise_version_error(node, None, node.out_ver, node.out_vc[0],
                             shape=node.out.shape, dtype=node.out.dtype)


_LEGACY_TYPE = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def _raise_version_error(node, t, saved_v, now_v, shape=None, dtype=None) -> None:
    """PyTorch's message: the tensor's legacy type and shape, the op that produced it, both
    versions; then the node that saved it and the anomaly-mode hint."""
    producer = node
    if t is not None:
        shape, dtype = t.data.shape, t.data.dtype
        producer = t.grad_fn
    kind = _LEGACY_TYPE.get(str(dtype), str(dtype).capitalize())
    of = f", which is output 0 of {producer.name()}," if producer is not None else ""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [gradwalk.{kind}Tensor {list(shape)}]{of} is at version {now_v}; expected "
        f"version {saved_v} instead. It was saved for the backward of {node.name()}. Hint: "
        "enable anomaly detection to find the operation that failed to compute its gradient, "
        "with gradwalk.autograd.set_detect_anomaly(True)."
    )


def _sum_to(g, shape, node, i, xp):
    """Sum a broadcast gradient down to ``shape`` (the input's shape); raise if it cannot."""
    gshape = g.shape
    nd = len(gshape) - len(shape)
    if nd < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[nd:])):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)}"
        )
    # ndarray.sum, not xp.sum, when we can: NumPy's function wrapper costs a few microseconds
    reduce = g.sum if type(g) is _ndarray else partial(xp.sum, g)
    if nd:
        g = reduce(axis=tuple(range(nd)))
        reduce = g.sum if type(g) is _ndarray else partial(xp.sum, g)
    axes = tuple(k for k, s in enumerate(shape) if s == 1 and g.shape[k] != 1)
    if axes:
        g = reduce(axis=axes, keepdims=True)
    return g


def _tensor_hooks(hooks, g, create_graph):
    """Run tensor hooks (``register_hook``): each gets the gradient, may return a new one."""
    wrap = Tensor._wrap
    for hook in list(hooks):
        arg = g if create_graph else wrap(g)
        r = hook(arg)
        if r is not None:
            if not isinstance(r, Tensor):
                raise TypeError(f"a tensor hook must return a Tensor or None, got {type(r)}")
            if r.shape != tuple(g.shape):
                raise RuntimeError(
                    f"hook '{getattr(hook, '__name__', hook)}' has changed the size of value: "
                    f"expected {list(g.shape)}, got {list(r.shape)}"
                )
            g = r if create_graph else r.data
    return g


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True):
    """Backpropagate from ``roots`` (Tensors) seeded with ``root_grads``.

    With ``accumulate=True`` gradients land in the ``.grad`` of leaves (only of ``inputs`` when
    given). With ``accumulate=False`` (``autograd.grad``) nothing is written to ``.grad`` and the
    gradients arriving at ``inputs`` are returned, ``None`` for an input not reached.
    """
    root_nodes = []
    for t in roots:
        node = t.grad_fn if t.grad_fn is not None else t._accumulator()
        root_nodes.append(node)

    targets = None
    if inputs is not None:
        targets = {}
        for k, t in enumerate(inputs):
            node = t.grad_fn if t.grad_fn is not None else t._accumulator()
            targets.setdefault(node, []).append(k)
        needed = _needed(root_nodes, targets)
    captured = [None] * (len(inputs) if inputs is not None else 0)

    # ---- 1. seed the buffers with the root gradients; the ready queue is a max-heap on the
    # creation number (see Note [the walk])
    buffers: dict = {}
    ready: list = []
    for node, g in zip(root_nodes, root_grads):
        prev = buffers.get(node)
        if prev is None:
            if targets is not None and not needed.get(node, False):
                continue
            buffers[node] = g
            heapq.heappush(ready, (-node.seq, node))
        else:
            buffers[node] = prev + g

    xp = _differentiable_xp() if create_graph else None
    delivered = set(id(g) for g in root_grads)
    obs = observers
    if obs:  # observers may want to know a walk starts (explain numbers its backward calls)
        for o in obs:
            start = getattr(o, "on_backward", None)
            if start is not None:
                start(accumulate)
    heappush, heappop = heapq.heappush, heapq.heappop
    no_cupy = _cupy is None
    token = grad_mode._grad_enabled.set(create_graph)
    try:
        # ---- 2. the walk
        while ready:
            node = heappop(ready)[1]
            g = buffers.pop(node)
            if targets is not None:
                ks = targets.get(node)
                if ks is not None:
                    if node.pre_hooks and node.pre_hooks.tensor:
                        g = _tensor_hooks(node.pre_hooks.tensor, g, create_graph)
                    for k in ks:
                        captured[k] = g if type(g) is not MaskedGrad else g.view(_ndarray)
            if type(node) is AccumulateGrad:
                if accumulate:
                    _accumulate(node, g, create_graph, delivered, obs)
                continue
            if node.pre_hooks is not None or node.retains is not None:
                g = _pre_hooks(node, g, create_graph, targets is None or node not in targets)
            edges = node.edges
            if create_graph or len(edges) > 2 or type(g) is MaskedGrad:
                grads = _call_rule(node, g, create_graph, xp)
            else:  # first order, one or two inputs: the common case, written out
                if node.released:
                    raise RuntimeError(SECOND_BACKWARD)
                op = node.op
                scalars = op.elementwise  # Note [0-d scalars] in ops/registry.py
                out = node.out
                if out is not None:
                    if node.out_vc is not None and node.out_vc[0] != node.out_ver:
                        _check_versions(node)
                    if scalars and type(out) is _ndarray and not out.ndim:
                        out = out[()]
                gxp = np if no_cupy else _namespace_of(g)
                params = node.params
                if len(edges) == 1:
                    a = node.saved[0]
                    v = node.versions[0]
                    if v is not None:  # a saved tensor (None: nothing saved, or a packed value)
                        vc = a._vcl
                        if vc is not None and vc[0] != v:
                            _check_versions(node)
                        a = a.data
                        if scalars and not a.ndim:
                            a = a[()]
                    if params is None:
                        grads = (op.vjp(gxp, g, out, a),)
                    else:
                        grads = (op.vjp(gxp, g, out, a, **params),)
                else:
                    a, b = node.saved
                    va, vb = node.versions
                    if va is not None:
                        vc = a._vcl
                        if vc is not None and vc[0] != va:
                            _check_versions(node)
                        a = a.data
                        if scalars and not a.ndim:
                            a = a[()]
                    if vb is not None:
                        vc = b._vcl
                        if vc is not None and vc[0] != vb:
                            _check_versions(node)
                        b = b.data
                        if scalars and not b.ndim:
                            b = b[()]
                    needs = (edges[0] is not None, edges[1] is not None)
                    if params is None:
                        grads = op.vjp(gxp, g, out, a, b, needs=needs)
                    else:
                        grads = op.vjp(gxp, g, out, a, b, needs=needs, **params)
            if node.hooks:
                grads = _node_hooks(node, grads, g, create_graph)
            if obs:
                for o in obs:
                    o.on_node(node, g, grads)
            shapes = node.shapes
            dtypes = node.dtypes
            for i in range(len(edges)):
                e = edges[i]
                if e is None:
                    continue
                gi = grads[i]
                if gi is None:
                    continue
                if shapes is not None:
                    if gi.shape != shapes[i]:
                        gi = _sum_to(gi, shapes[i], node, i, xp or np)
                    dt = dtypes[i]
                    if create_graph:
                        if gi.data.dtype != dt:
                            gi = gi.to(dt)
                    elif gi.dtype is not dt and gi.dtype != dt:
                        gi = gi.astype(dt)
                prev = buffers.get(e)
                if prev is None:
                    if targets is None or needed.get(e, False):
                        buffers[e] = gi
                        heappush(ready, (-e.seq, e))
                else:
                    buffers[e] = prev + gi
            if not retain_graph and not node.released:
                node.release()
    finally:
        grad_mode._grad_enabled.reset(token)
    return captured


def _needed(root_nodes, targets) -> dict:
    """Which nodes lead to one of ``targets`` (iterative post-order over the DAG)."""
    needed: dict = {}
    stack = [(r, False) for r in root_nodes]
    while stack:
        node, done = stack.pop()
        if done:
            needed[node] = node in targets or any(
                needed.get(e, False) for e in node.edges if e is not None)
            continue
        if node in needed:
            continue
        needed[node] = False
        stack.append((node, True))
        for e in node.edges:
            if e is not None and e not in needed:
                stack.append((e, False))
    return needed


def _call_rule(node, g, create_graph, xp):
    """Unpack the node's saved values and call its reverse rule; a tuple of grads per input."""
    if node.released:
        raise RuntimeError(SECOND_BACKWARD)
    op = node.op
    saved = node.saved
    if saved is None:
        saved = (None,) * len(node.edges)
    elif node.versions is not None:
        _check_versions(node)
    params = node.params
    if create_graph:
        args = [s for s in saved]
        out = Tensor._make(node.out, node) if node.out is not None else None
    else:
        args = [s.data if isinstance(s, Tensor) else s for s in saved]
        out = node.out
        if type(g) is MaskedGrad:
            return _masked_call(node, g)
        xp = np if _cupy is None else _namespace_of(g)
    if op.vjp is None:
        raise RuntimeError(f"the derivative for '{op.name}' is not implemented")
    if len(args) == 1:
        r = op.vjp(xp, g, out, *args) if params is None else op.vjp(xp, g, out, *args, **params)
        return (r,)
    needs = tuple(e is not None for e in node.edges)
    if params is None:
        r = op.vjp(xp, g, out, *args, needs=needs)
    else:
        r = op.vjp(xp, g, out, *args, needs=needs, **params)
    if len(r) != len(args):
        raise RuntimeError(
            f"the rule of {node.name()} returned {len(r)} gradients for {len(args)} inputs")
    return r


def _namespace_of(g):
    return xp_of(g)


def _pre_hooks(node, g, create_graph, tensor_hooks: bool):
    """Before the rule, in PyTorch's order: the tensor's hooks, ``retain_grad``, node pre-hooks."""
    pre = node.pre_hooks
    if pre is not None and pre.tensor and tensor_hooks:
        g = _tensor_hooks(pre.tensor, g, create_graph)
    if node.retains is not None:
        _retain(node, g, create_graph)
    if pre is not None and pre.node:
        g = _node_prehooks(node, pre.node, g, create_graph)
    return g


def _wrapper(create_graph):
    return (lambda a: a) if create_graph else (lambda a: None if a is None else Tensor._wrap(a))


def _hook_result(node, hook, r, n, what):
    """Check a node hook's return value: ``None`` or a tuple of ``n`` Tensors / ``None``."""
    if isinstance(r, Tensor):
        r = (r,)
    if not isinstance(r, (tuple, list)) or len(r) != n:
        got = len(r) if isinstance(r, (tuple, list)) else type(r).__name__
        raise RuntimeError(
            f"hook '{getattr(hook, '__name__', hook)}' of {node.name()} returned {got} values, "
            f"expected a tuple of {n} {what} (or None to keep them)")
    for x in r:
        if x is not None and not isinstance(x, Tensor):
            raise TypeError(f"hook '{getattr(hook, '__name__', hook)}' of {node.name()} must "
                            f"return Tensors or None, got {type(x).__name__}")
    return r


def _node_prehooks(node, hooks, g, create_graph):
    """``hook(grad_outputs)``: a tuple of one gradient (nodes have one output)."""
    wrap = _wrapper(create_graph)
    for hook in list(hooks):
        r = hook((wrap(g),))
        if r is not None:
            r = _hook_result(node, hook, r, 1, "grad_outputs")
            if r[0] is not None:
                g = r[0] if create_graph else r[0].data
    return g


def _node_hooks(node, grads, g, create_graph):
    """``hook(grad_inputs, grad_outputs)`` after the rule; ``grad_inputs`` already have their
    inputs' shapes and dtypes (as in PyTorch, hooks see validated gradients)."""
    xp = _differentiable_xp() if create_graph else np
    fixed = []
    for i, gi in enumerate(grads):
        if gi is not None and node.edges[i] is not None and node.shapes is not None:
            if gi.shape != node.shapes[i]:
                gi = _sum_to(gi, node.shapes[i], node, i, xp)
            if create_graph:
                if gi.data.dtype != node.dtypes[i]:
                    gi = gi.to(node.dtypes[i])
            elif gi.dtype != node.dtypes[i]:
                gi = gi.astype(node.dtypes[i])
        fixed.append(gi)
    grads = tuple(fixed)
    wrap = _wrapper(create_graph)
    for hook in list(node.hooks):
        r = hook(tuple(wrap(x) for x in grads), (wrap(g),))
        if r is not None:
            r = _hook_result(node, hook, r, len(grads), "grad_inputs")
            grads = tuple(x if create_graph or x is None else x.data for x in r)
    return grads


def _retain(node, g, create_graph) -> None:
    t = node.retains()
    if t is None:
        return
    if create_graph:
        t._grad = g if t._grad is None else t._grad + g
    else:
        g = g.view(_ndarray) if type(g) is MaskedGrad else g
        t._grad = Tensor._wrap(g.copy()) if t._grad is None else Tensor._wrap(t._grad.data + g)


def _accumulate(node, g, create_graph, delivered, obs) -> None:
    """Step 4: add ``g`` into ``leaf.grad`` (see Note [ownership of leaf gradients])."""
    leaf = node.variable
    if grad_filters:
        for f in grad_filters:
            g = f(g, leaf, create_graph)
    extra = leaf._extra
    if extra is not None and extra.hooks:
        g = _tensor_hooks(extra.hooks, g, create_graph)
    if node.pre_hooks and node.pre_hooks.node:
        g = _node_prehooks(node, node.pre_hooks.node, g, create_graph)
    if obs:
        for o in obs:
            o.on_accumulate(leaf, g)
    old = leaf._grad
    if create_graph:
        leaf._grad = g if old is None else old + g
    elif old is None:
        if type(g) is not _ndarray and not hasattr(g, "__cuda_array_interface__"):
            g = np.array(g)  # a NumPy scalar from a rule on 0-d arrays
        elif id(g) in delivered or g.base is not None or not g.flags.writeable:
            g = g.copy()
        delivered.add(id(g))
        leaf._grad = Tensor._wrap(g)
    elif old.grad_fn is None and type(old.data) is _ndarray and old.data.flags.writeable:
        old.data += g
        old._vc[0] += 1
    else:
        leaf._grad = Tensor._wrap(old.data + g)
    if extra is not None and extra.post_hooks:
        for hook in list(extra.post_hooks):
            hook(leaf)
    if node.hooks:
        for hook in list(node.hooks):
            hook((), (Tensor._wrap(g) if not create_graph else g,))


def warn_nonleaf_grad() -> None:
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead.",
        UserWarning,
        stacklevel=3,
    )


# ---------------------------------------------------------------------------------------------
# Note [structural zeros]
#     The gradient ``where`` (and ``masked_fill``) sends to the branch it did not take is a
#     structural zero: it is zero whatever the values, so no local derivative downstream may turn
#     it into NaN (``0 * inf``). First-order rules mark such gradients by returning a
#     ``MaskedGrad``: an ndarray (exactly 0 at the masked positions) carrying ``zmask``, the
#     boolean mask of its structural zeros. The engine understands it in one place:
#
#     * a node whose incoming gradient is a ``MaskedGrad`` goes through ``_masked_call``: the rule
#       runs on the plain array; for an elementwise op (``op.elementwise``) every result gets
#       exact zeros written at the masked positions and carries the mask on (OR-ed with a mask
#       the rule returned itself, e.g. a nested ``where``); other ops drop the mask (their
#       results are still correct numbers: the masked entries were zero);
#     * adding two masked gradients into one buffer keeps the positions masked in both (AND);
#       any other arithmetic (summing to an input's shape, adding a plain gradient, ``.grad``
#       accumulation) gives a plain ndarray.
#     Normal runs pay one ``type(g) is MaskedGrad`` check per node. ``create_graph=True`` does
#     not track structural zeros (higher-order gradients behave as in PyTorch).


class MaskedGrad(np.ndarray):
    """A first-order gradient with structural zeros (Note [structural zeros]).

    ``zmask`` is True where the value is a structural zero. Views and copies made by NumPy lose
    the mask (``zmask`` is None) and count as plain gradients; arithmetic gives plain arrays,
    except the sum of two masked gradients, masked where both are.

    Example:
        >>> import numpy as np
        >>> g = structural_zeros(np.array([0.0, 2.0]), np.array([True, False]))
        >>> g.zmask.tolist(), type(g + g).__name__, (g + g).zmask.tolist()
        ([True, False], 'MaskedGrad', [True, False])
        >>> type(g * 2.0).__name__
        'ndarray'
    """

    zmask: np.ndarray | None

    def __array_finalize__(self, obj) -> None:
        self.zmask = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [a.view(_ndarray) if type(a) is MaskedGrad else a for a in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(o.view(_ndarray) if type(o) is MaskedGrad else o for o in out)
        r = getattr(ufunc, method)(*args, **kwargs)
        if ufunc is not np.add or out is not None:
            return r
        if method == "__call__" and len(inputs) == 2:
            a, b = inputs
            if type(a) is MaskedGrad and type(b) is MaskedGrad:
                if a.zmask is not None and b.zmask is not None:
                    return structural_zeros(r, a.zmask & b.zmask)
        elif method == "reduce" and self.zmask is not None and kwargs.get("where", True) is True:
            # summing to an input's shape: a sum is a structural zero where all terms were
            m = np.logical_and.reduce(self.zmask, axis=kwargs.get("axis", 0),
                                      keepdims=kwargs.get("keepdims", False))
            return structural_zeros(r, m)
        return r


def structural_zeros(g, zmask):
    """Mark ``g`` (exactly 0 where ``zmask`` is True) as having structural zeros there; a plain
    ``g`` when nothing is masked (Note [structural zeros]).

    Example:
        >>> import numpy as np
        >>> structural_zeros(np.zeros(2), np.array([True, False])).zmask.tolist()
        [True, False]
        >>> type(structural_zeros(np.ones(2), np.zeros(2, bool))).__name__
        'ndarray'
    """
    if type(g) is not _ndarray:
        if type(g) is MaskedGrad:
            g = g.view(_ndarray)
        elif isinstance(g, np.generic):
            g = np.asarray(g)
        else:
            return g  # not a NumPy array (CuPy): no structural zeros
    zmask = np.asarray(zmask)
    if not zmask.any():
        return g
    if zmask.shape != g.shape:
        zmask = np.broadcast_to(zmask, g.shape)
    r = g.view(MaskedGrad)
    r.zmask = zmask
    return r


def _masked_call(node, g):
    """Run ``node``'s rule on a masked gradient (Note [structural zeros])."""
    plain = g.view(_ndarray)
    mask = g.zmask
    if mask is None or not getattr(node.op, "elementwise", False):
        return _call_rule(node, plain, False, None)
    with np.errstate(all="ignore"):  # 0 * inf at masked positions is expected and discarded
        grads = _call_rule(node, plain, False, None)
        res = []
        for gi in grads:
            if gi is None:
                res.append(None)
            elif gi is plain:
                res.append(g)  # passed through unchanged: already zero where masked
            else:
                res.append(_mask_result(gi, mask))
    return tuple(res)


def _mask_result(gi, mask):
    own = gi.zmask if type(gi) is MaskedGrad else None
    arr = gi.view(_ndarray) if type(gi) is MaskedGrad else np.asarray(gi)
    m = mask
    if m.shape != arr.shape:
        try:
            m = np.broadcast_to(m, arr.shape)
        except ValueError:
            return gi  # a rule that reduced its result: leave it (its numbers are right)
    if own is not None:
        m = m | own
    return structural_zeros(np.where(m, np.zeros((), arr.dtype), arr), m)
