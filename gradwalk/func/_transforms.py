"""Function transforms over gradwalk's engines: ``grad``, ``vjp`` (reverse mode), ``jvp`` (forward
mode), and the Jacobians and Hessian built from them with ``vmap``.

Note [nesting]
    gradwalk has one autograd graph, so a transform tells its inner and outer uses apart by
    the tensors it differentiates: each call re-wraps its inputs (a leaf requiring grad, or an
    alias node when the input already takes part in an outer graph) and differentiates with
    respect to those. The backward pass records its own graph (``create_graph=True``) only when
    something outside can differentiate it: an outer transform, an input that requires grad, or
    an active forward-mode level (forward over reverse). A top-level ``grad``, alone or under
    ``vmap``, takes the fast first-order path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import numpy as np

from ..autograd import forward_ad as fwd
from ..autograd._api import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..tensor import Tensor
from ._pytree import tree_flatten, tree_unflatten
from ._vmap import vmap

Argnums = int | tuple[int, ...]  # which positional arguments a transform differentiates

# how many transforms are running in this thread or task (Note [nesting]); a ContextVar, like
# grad mode, so that transforms running in two threads do not count each other
_depth: ContextVar[int] = ContextVar("gradwalk_transform_depth", default=0)


class _Entered:
    def __enter__(self) -> None:
        _depth.set(_depth.get() + 1)

    def __exit__(self, *exc) -> None:
        _depth.set(_depth.get() - 1)


def transform_depth() -> int:
    """How many function transforms (``grad``, ``vjp``, ``jvp``...) run now in this thread.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import grad
        >>> from gradwalk.func._transforms import transform_depth
        >>> seen = []
        >>> _ = grad(lambda x: (seen.append(transform_depth()), x * x)[1])(gradwalk.tensor(1.0))
        >>> seen, transform_depth()
        ([1], 0)
    """
    return _depth.get()


def _argnums_tuple(argnums, nargs: int, api: str) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not nums or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in nums):
        raise TypeError(f"{api}: argnums must be an int or a non-empty tuple of ints, got "
                        f"{argnums!r}")
    out = []
    for n in nums:
        if not -nargs <= n < nargs:
            raise RuntimeError(
                f"{api}: Got argnums={argnums!r} but the function was called with only {nargs} "
                "positional inputs")
        out.append(n % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{api}: argnums {argnums!r} has duplicates")
    return tuple(out)


def _check_tensors(leaves, api: str, what: str):
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(f"{api}: expected {what} to be Tensors (or tuples/lists/dicts of "
                            f"Tensors), got {type(leaf).__name__}")
        if leaf._data.dtype.kind not in "fc":
            raise TypeError(f"{api}: expected {what} to be floating point Tensors to "
                            f"differentiate, got dtype {leaf.dtype}")


def _needs_graph(leaves) -> bool:
    """Whether the backward pass must record a graph (Note [nesting]); called inside the
    transform, so ``_depth.get() > 1`` means another transform runs outside it."""
    return _depth.get() > 1 or fwd.is_active() or any(t._requires_grad for t in leaves)


def _prepare(t):
    """``t`` re-wrapped as the tensor this transform differentiates with respect to."""
    if t._requires_grad and is_grad_enabled():
        return t.view_as(t)  # an alias node: the outer graph sees through it
    a = Tensor._wrap(t._data)
    a._vc = t._vc
    a.requires_grad_(True)
    fwd.set_tangent(a, fwd.get_tangent(t))
    return a


def _zeros_like(t):
    return Tensor._wrap(np.zeros(t.shape, dtype=t._data.dtype))


def _split_aux(out, has_aux: bool, api: str):
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise RuntimeError(f"{api}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return out


def _detach_tree(tree):
    """``tree`` with its Tensors detached (aux outputs leave the transform like its value)."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [x.detach() if isinstance(x, Tensor) else x for x in leaves])


def _grads(outs, cots, inputs, create: bool, retain: bool = True):
    """Gradients of ``outs`` (seeded with ``cots``) with respect to ``inputs``; zeros where an
    input does not reach an output."""
    pairs = [(o, c) for o, c in zip(outs, cots) if o._requires_grad]
    if not pairs:
        return [_zeros_like(t) for t in inputs]
    gs = _autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                        retain_graph=retain or create, create_graph=create, allow_unused=True)
    return [g if g is not None else _zeros_like(t) for g, t in zip(gs, inputs)]


# ----------------------------------------------------------------------------------------------
# reverse mode


def grad_and_value(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """Like ``grad``, but also returns the value: ``(grad, value)``, or ``(grad, (value, aux))``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import grad_and_value
        >>> grad_and_value(lambda x: (x * x).sum())(gradwalk.tensor([3.0]))
        (tensor([6.]), tensor(9.))
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value, aux = _grad_impl(func, argnums, has_aux, args, kwargs, "grad_and_value")
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapper


def grad(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function with respect to argument(s) ``argnums``.

    ``argnums`` is an int (the gradient has that argument's structure: a Tensor, or a
    tuple/list/dict of Tensors) or a tuple of ints (a tuple of gradients). With ``has_aux``,
    ``func`` returns ``(scalar, aux)`` and the result is ``(grad, aux)``. Nests with itself and
    the other transforms; inputs that do not reach the output get zero gradients.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import grad
        >>> x = gradwalk.tensor(2.0)
        >>> grad(grad(lambda x: x ** 3))(x)
        tensor(12.)
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, _, aux = _grad_impl(func, argnums, has_aux, args, kwargs, "grad")
        return (g, aux) if has_aux else g

    return wrapper


def _grad_impl(func, argnums, has_aux, args, kwargs, api):
    nums = _argnums_tuple(argnums, len(args), api)
    args = list(args)
    specs = []
    inputs = []
    originals = []
    with _Entered(), enable_grad():
        for n in nums:
            leaves, spec = tree_flatten(args[n])
            _check_tensors(leaves, api, f"argument {n}")
            specs.append((spec, len(leaves)))
            originals.extend(leaves)
            wrapped = [_prepare(t) for t in leaves]
            inputs.extend(wrapped)
            args[n] = tree_unflatten(spec, wrapped)
        create = _needs_graph(originals)
        out = func(*args, **kwargs)
        out, aux = _split_aux(out, has_aux, api)
        if not isinstance(out, Tensor):
            raise RuntimeError(f"{api}(f)(*args): Expected f(*args) to return a Tensor, got "
                               f"{type(out).__name__}")
        if out.ndim != 0:
            raise RuntimeError(
                f"{api}(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                f"{out.ndim} dims and shape {list(out.shape)}. Maybe you wanted to use the vjp "
                "or jacrev APIs instead?")
        ones = Tensor._wrap(np.ones(out.shape, dtype=out._data.dtype))
        gs = _grads([out], [ones], inputs, create, retain=False)
    result = []
    k = 0
    for spec, n in specs:
        result.append(tree_unflatten(spec, gs[k:k + n]))
        k += n
    g = result[0] if isinstance(argnums, int) else tuple(result)
    if create:
        return g, out, aux
    return g, out.detach(), _detach_tree(aux)


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``func(*primals)`` and a function that maps output cotangents to input gradients.

    Returns ``(output, vjp_fn)`` (``(output, vjp_fn, aux)`` with ``has_aux``). ``vjp_fn(v)``
    takes a cotangent with the output's structure and returns a tuple with one gradient per
    primal; it may be called many times (and under ``vmap``).

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import vjp
        >>> out, vjp_fn = vjp(lambda x: x * 2, gradwalk.tensor([1.0, 2.0]))
        >>> vjp_fn(gradwalk.tensor([1.0, 10.0]))
        (tensor([ 2., 20.]),)
    """
    leaves, spec = tree_flatten(tuple(primals))
    _check_tensors(leaves, "vjp", "primals")
    with _Entered(), enable_grad():
        create = _needs_graph(leaves)
        inputs = [_prepare(t) for t in leaves]
        out = func(*tree_unflatten(spec, inputs))
        out, aux = _split_aux(out, has_aux, "vjp")
    out_leaves, out_spec = tree_flatten(out)
    for o in out_leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has only "
                               f"Tensors as outputs, got {type(o).__name__}")

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        c_leaves, c_spec = tree_flatten(cotangents)
        if c_spec != out_spec:
            raise RuntimeError(
                "vjp_fn: Expected pytree structure of cotangents to be the same as pytree "
                f"structure of outputs to the function ({len(out_leaves)} Tensors), got "
                f"{type(cotangents).__name__} with {len(c_leaves)} leaves")
        for k, (o, c) in enumerate(zip(out_leaves, c_leaves)):
            if not isinstance(c, Tensor):
                raise TypeError(f"vjp_fn: cotangent {k} must be a Tensor, got "
                                f"{type(c).__name__}")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"vjp_fn: Mismatch in shape: cotangent {k} has shape {list(c.shape)} but "
                    f"the output has shape {list(o.shape)}")
        cg = create if create_graph is None else create_graph
        with _Entered(), enable_grad():
            gs = _grads(out_leaves, c_leaves, inputs, cg or _depth.get() > 1 or fwd.is_active())
        return tree_unflatten(spec, gs)

    value = out if create else tree_unflatten(out_spec, [o.detach() for o in out_leaves])
    if has_aux and not create:
        aux = _detach_tree(aux)
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


# ----------------------------------------------------------------------------------------------
# forward mode


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``(func(*primals), J @ tangents)`` in one forward pass (forward-mode AD).

    ``primals`` and ``tangents`` are tuples of the same structure (Tensors, or pytrees of them).
    Returns ``(output, jvp_out)`` or ``(output, jvp_out, aux)``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import jvp
        >>> jvp(lambda x: x ** 2, (gradwalk.tensor([3.0]),), (gradwalk.tensor([1.0]),))
        (tensor([9.]), tensor([6.]))
    """
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to be tuples. E.g. "
            "jvp(f, (x,), (t,)), got "
            f"{type(primals).__name__} and {type(tangents).__name__}")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the "
                           "same python structure")
    _check_tensors(p_leaves, "jvp", "primals")
    _check_tensors(t_leaves, "jvp", "tangents")
    for k, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                f"jvp(f, primals, tangents): Expected primals and tangents to have the same "
                f"shape, but primal {k} has shape {list(p.shape)} and tangent {k} has shape "
                f"{list(t.shape)}")
    if fwd.is_active():
        raise RuntimeError(
            "jvp: nested forward-mode transforms (jvp of jvp, jacfwd of jacfwd) are not "
            "supported in gradwalk; use reverse mode for the inner transform, e.g. "
            "jacfwd(jacrev(f))")
    with _Entered(), fwd.dual_level():
        keep = _depth.get() > 1 or any(t._requires_grad for t in p_leaves + t_leaves)
        duals = [fwd.make_dual(p, t) for p, t in zip(p_leaves, t_leaves)]
        out = func(*tree_unflatten(p_spec, duals))
        out, aux = _split_aux(out, has_aux, "jvp")
        o_leaves, o_spec = tree_flatten(out)
        primal_out, tangent_out = [], []
        for o in o_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"jvp(f, primals, tangents): Expected f to be a function that "
                                   f"has only Tensors as outputs, got {type(o).__name__}")
            p, t = fwd.unpack_dual(o)
            t = t if t is not None else _zeros_like(o)
            primal_out.append(p if keep else p.detach())
            tangent_out.append(t if keep else t.detach())
    res = (tree_unflatten(o_spec, primal_out), tree_unflatten(o_spec, tangent_out))
    return res + (aux,) if has_aux else res


# ----------------------------------------------------------------------------------------------
# Jacobians


def _basis(n: int, dtype, shapes):
    """Rows of the identity of size ``n``, split into tensors of ``shapes`` (one per leaf)."""
    eye = np.eye(n, dtype=dtype)
    out = []
    k = 0
    for s in shapes:
        m = int(np.prod(s, dtype=np.int64))
        out.append(Tensor._wrap(np.ascontiguousarray(eye[:, k:k + m]).reshape((n,) + tuple(s))))
        k += m
    return out


def jacrev(func: Callable, argnums: Argnums = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """The Jacobian by reverse mode: one ``vjp`` per output element, vectorized with ``vmap``.

    Each Jacobian has shape ``output.shape + input.shape``; for several outputs (a tuple) the
    result is a tuple, and for ``argnums`` a tuple, each entry is a tuple over the inputs.
    Efficient when outputs are fewer than inputs.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import jacrev
        >>> jacrev(lambda x: x.sin())(gradwalk.tensor([0.0, 0.0]))
        tensor([[1., 0.],
                [0., 1.]])
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "jacrev")
        diff = tuple(args[n] for n in nums)

        def f_diff(*d):
            full = list(args)
            for n, v in zip(nums, d):
                full[n] = v
            return func(*full, **kwargs)

        r = vjp(f_diff, *diff, has_aux=has_aux)
        out, vjp_fn = r[0], r[1]
        o_leaves, o_spec = tree_flatten(out)
        n_out = sum(o.numel() for o in o_leaves)
        dtype = o_leaves[0]._data.dtype if o_leaves else np.float32
        basis = _basis(n_out, dtype, [o.shape for o in o_leaves])

        def pull(*cots):
            g = vjp_fn(tree_unflatten(o_spec, list(cots)))
            return tree_flatten(g)[0]

        in_leaves = tree_flatten(diff)[0]
        if n_out == 0:
            rows = [_zeros_like(t).reshape((0,) + tuple(t.shape)) for t in in_leaves]
        else:
            rows = vmap(pull, chunk_size=chunk_size)(*basis)
        jac = _assemble_rev(rows, o_leaves, in_leaves)
        result = _nest(jac, o_spec, diff, argnums)
        return (result, r[2]) if has_aux else result

    return wrapper


def _assemble_rev(rows, o_leaves, in_leaves):
    """``rows[j]`` (n_out, *in_j) -> ``jac[k][j]`` (out_k + in_j)."""
    jac = []
    k0 = 0
    for o in o_leaves:
        m = o.numel()
        jac.append([r[k0:k0 + m].reshape(tuple(o.shape) + tuple(t.shape))
                    for r, t in zip(rows, in_leaves)])
        k0 += m
    return jac


def _nest(jac, o_spec, diff, argnums):
    """Arrange ``jac[k][j]`` as PyTorch does: outputs outside, then argnums, then arg pytrees."""
    per_out = []
    for row in jac:
        k = 0
        per_arg = []
        for d in diff:
            leaves, spec = tree_flatten(d)
            per_arg.append(tree_unflatten(spec, row[k:k + len(leaves)]))
            k += len(leaves)
        per_out.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
    return tree_unflatten(o_spec, per_out)


def jacfwd(func: Callable, argnums: Argnums = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian by forward mode: one ``jvp`` per input element, vectorized with ``vmap``.

    Same layout as ``jacrev``. Efficient when inputs are fewer than outputs.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import jacfwd
        >>> jacfwd(lambda x: x * x)(gradwalk.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        diff = tuple(args[n] for n in nums)
        in_leaves, in_spec = tree_flatten(diff)
        _check_tensors(in_leaves, "jacfwd", "the differentiated arguments")
        n_in = sum(t.numel() for t in in_leaves)
        basis = _basis(n_in, in_leaves[0]._data.dtype, [t.shape for t in in_leaves])
        spec_box = []

        def push(*tans):
            def f_diff(*d):
                full = list(args)
                for n, v in zip(nums, d):
                    full[n] = v
                return func(*full, **kwargs)

            r = jvp(f_diff, diff, tree_unflatten(in_spec, list(tans)), has_aux=has_aux)
            o_leaves, o_spec = tree_flatten(r[1])
            a_leaves, a_spec = tree_flatten(r[2]) if has_aux else ([], None)
            spec_box[:] = [o_spec, a_spec]
            return o_leaves, a_leaves

        cols, aux_b = vmap(push)(*basis)
        o_spec, a_spec = spec_box
        jac = []
        for c in cols:
            out_shape = tuple(c.shape[1:])
            per_in = []
            j0 = 0
            for t in in_leaves:
                m = t.numel()
                part = c[j0:j0 + m].reshape((m,) + out_shape)
                part = part.permute(*range(1, len(out_shape) + 1), 0)
                per_in.append(part.reshape(out_shape + tuple(t.shape)))
                j0 += m
            jac.append(per_in)
        result = _nest(jac, o_spec, diff, argnums)
        if has_aux:  # aux does not depend on the tangent: every row of the batch is the same
            return result, tree_unflatten(a_spec, [a[0] for a in aux_b])
        return result

    return wrapper


def hessian(func: Callable, argnums: Argnums = 0) -> Callable:
    """The Hessian of a scalar function: ``jacfwd(jacrev(func, argnums), argnums)``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.func import hessian
        >>> hessian(lambda x: (x ** 3).sum())(gradwalk.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)
