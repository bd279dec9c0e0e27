"""Matrix products: matmul (1-D, 2-D, batched with broadcasting), mm, bmm, mv, dot, outer,
einsum."""

from __future__ import annotations

import numpy as np

from ..dtypes import promote_all as _promote_all
from . import registry as _registry
from .direct import apply_product
from .registry import apply, declare


def _swap(xp, a):
    if type(a) is np.ndarray and a.ndim == 2:
        return a.T  # the same view, without NumPy's function wrapper
    return xp.swapaxes(a, -1, -2)


def _matmul_vjp(xp, g, out, a, b, *, needs):
    # One operand may be missing (Note [saves_if] in rules.py: ``a`` is kept only when
    # ``b`` needs its gradient): whether it was 1-D follows from the gradient's rank.
    if a is None:
        b1 = b.ndim == 1
        a1 = g.ndim == 0 if b1 else g.ndim < b.ndim
    elif b is None:
        a1 = a.ndim == 1
        b1 = g.ndim == 0 if a1 else g.ndim < a.ndim
    else:
        a1, b1 = a.ndim == 1, b.ndim == 1
    if a1 and b1:
        return (g * b if needs[0] else None, g * a if needs[1] else None)
    if a1 != b1 and g.ndim == 1:  # a matrix and a vector: one product per gradient, no reshapes
        if b1:  # (m, n) @ (n,): the outer product g b^T, and g @ a
            return (xp.multiply(xp.expand_dims(g, -1), b) if needs[0] else None,
                    xp.matmul(g, a) if needs[1] else None)
        return (xp.matmul(b, g) if needs[0] else None,  # (n,) @ (n, p)
                xp.multiply(xp.expand_dims(a, -1), g) if needs[1] else None)
    A = xp.expand_dims(a, 0) if a1 and a is not None else a
    B = xp.expand_dims(b, -1) if b1 and b is not None else b
    G = g
    if a1:
        G = xp.expand_dims(G, -2)
    if b1:
        G = xp.expand_dims(G, -1)
    ga = gb = None
    if needs[0]:
        ga = xp.matmul(G, _swap(xp, B))
        if a1:
            ga = xp.squeeze(ga, axis=-2)
    if needs[1]:
        gb = xp.matmul(_swap(xp, A), G)
        if b1:
            gb = xp.squeeze(gb, axis=-1)
    return ga, gb


def _matmul_jvp(xp, t, out, a, b):
    ta, tb = t
    r = None if ta is None else xp.matmul(ta, b)
    if tb is not None:
        r2 = xp.matmul(a, tb)
        r = r2 if r is None else r + r2
    return r


MATMUL = declare("matmul", lambda xp, a, b: xp.matmul(a, b), _matmul_vjp, _matmul_jvp,
                 inputs=("self", "other"), node_name="MmBackward0",
                 saves_if=((1,), (0,)), explain=("grad @ b.T", "a.T @ grad"))
BMM = declare("bmm", lambda xp, a, b: xp.matmul(a, b), _matmul_vjp, _matmul_jvp,
              inputs=("self", "mat2"),
              saves_if=((1,), (0,)), explain=("grad @ b.T per batch", "a.T @ grad per batch"))
DOT = declare("dot", lambda xp, a, b: xp.matmul(a, b), _matmul_vjp, _matmul_jvp,
              inputs=("self", "tensor"),
              saves_if=((1,), (0,)), explain=("grad * b", "grad * a"))
MV = declare("mv", lambda xp, a, b: xp.matmul(a, b), _matmul_vjp, _matmul_jvp,
             inputs=("self", "vec"),
             saves_if=((1,), (0,)), explain=("outer(grad, b)", "a.T @ grad"))


def _outer_vjp(xp, g, out, a, b, *, needs):
    return (xp.matmul(g, b) if needs[0] else None, xp.matmul(a, g) if needs[1] else None)


def _outer_jvp(xp, t, out, a, b):
    ta, tb = t
    r = None if ta is None else xp.multiply(xp.expand_dims(ta, -1), b)
    if tb is not None:
        r2 = xp.multiply(xp.expand_dims(a, -1), tb)
        r = r2 if r is None else r + r2
    return r


OUTER = declare("outer", lambda xp, a, b: xp.multiply(xp.expand_dims(a, -1), b), _outer_vjp,
                _outer_jvp, inputs=("self", "vec2"), node_name="OuterBackward0",
                saves_if=((1,), (0,)), explain=("grad @ b", "grad.T @ a"))


def _einsum_vjp(xp, g, out, *xs, equation, needs=None):
    if needs is None:  # a single operand: called as a one-input rule (Note [rules])
        return _einsum_vjp(xp, g, out, *xs, equation=equation, needs=(True,))[0]
    ins, res = equation.split("->")
    specs = ins.split(",")
    grads = []
    for k, need in enumerate(needs):
        if not need:
            grads.append(None)
            continue
        others = [s for j, s in enumerate(specs) if j != k]
        target = specs[k]
        # letters of the input that appear nowhere else were summed out: broadcast them back
        eq = ",".join([res] + others) + "->" + "".join(
            c for c in target if c in res or any(c in o for o in others))
        part = xp.einsum(eq, g, *[x for j, x in enumerate(xs) if j != k])
        kept = eq.split("->")[1]
        grads.append(_restore(xp, part, kept, target, xs[k].shape))
    return tuple(grads)


def _restore(xp, part, kept, target, shape):
    """Broadcast an einsum gradient over letters that were summed out of one input, and take
    the diagonal for repeated letters."""
    if kept == target:
        return part
    full = []
    for c in target:
        if c not in full:
            full.append(c)
    sizes = dict(zip(target, shape))
    # insert missing letters as broadcast dims
    cur = list(kept)
    for c in full:
        if c not in cur:
            part = xp.expand_dims(part, len(cur))
            cur.append(c)
    perm = [cur.index(c) for c in full]
    part = xp.transpose(part, tuple(perm))
    part = xp.broadcast_to(part, tuple(sizes[c] for c in full))
    if len(full) != len(target):
        raise NotImplementedError(
            "einsum gradient with a letter repeated inside one operand (a diagonal) is not "
            "supported")
    return part


def _einsum_jvp(xp, t, out, *xs, equation):
    t = t if isinstance(t, tuple) else (t,)  # a single operand gets a bare tangent
    r = None
    for k, tk in enumerate(t):
        if tk is None:
            continue
        args = [tk if j == k else x for j, x in enumerate(xs)]
        term = xp.einsum(equation, *args)
        r = term if r is None else r + term
    return r


EINSUM = declare("einsum", lambda xp, *xs, equation: xp.einsum(equation, *xs), _einsum_vjp,
                 _einsum_jvp, inputs=("tensors",), saves=tuple(range(64)))  # every operand


# --------------------------------------------------------------------------------------------
# public functions


def _pair(a, b, op):
    if not isinstance(a, _registry.Tensor) or not isinstance(b, _registry.Tensor):
        raise TypeError(f"{op}(): expected Tensor arguments, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{op}(): expected both operands to have the same dtype, but got {a.dtype} and "
            f"{b.dtype}. Convert one, e.g. b.to(a.dtype)")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}(): both arguments to {op} need to be at least 1D, but they "
                           f"are {a.ndim}D and {b.ndim}D")


def matmul(input, other):
    """Matrix product with NumPy's rules: 1-D vectors, matrices, and batches that broadcast.

    Example:
        >>> import gradwalk
        >>> a = gradwalk.ones(2, 3)
        >>> (a @ gradwalk.ones(3, 4)).shape, (a @ gradwalk.ones(3)).shape
        (gradwalk.Size([2, 4]), gradwalk.Size([2]))
    """
    T = _registry.Tensor
    if isinstance(input, T) and isinstance(other, T):  # the common case, checked cheaply
        ad, bd = input._data, other._data
        if ad.dtype is bd.dtype and 1 <= ad.ndim <= 2 and 1 <= bd.ndim <= 2 and ad.shape[-1] == (
                bd.shape[0] if bd.ndim == 1 else bd.shape[-2]):  # Note [direct apply]
            return apply_product(DOT if ad.ndim == 1 and bd.ndim == 1 else MATMUL, input, other)
    if not isinstance(input, _registry.Tensor):
        input = _registry.wrap(np.asarray(input, dtype=other._data.dtype))
    if not isinstance(other, _registry.Tensor):
        other = _registry.wrap(np.asarray(other, dtype=input._data.dtype))
    _pair(input, other, "matmul")
    ka = input.shape[-1]
    kb = other.shape[0] if other.ndim == 1 else other.shape[-2]
    if ka != kb:
        if input.ndim <= 2 and other.ndim <= 2:
            sa = "x".join(map(str, input.shape if input.ndim == 2 else (1,) + input.shape))
            sb = "x".join(map(str, other.shape if other.ndim == 2 else other.shape + (1,)))
            raise RuntimeError(
                f"matmul(): mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
        raise RuntimeError(
            f"matmul(): the last dim of the first operand ({ka}, shape {list(input.shape)}) must "
            f"equal the {'first' if other.ndim == 1 else 'second-to-last'} dim of the second "
            f"({kb}, shape {list(other.shape)})")
    if input.ndim > 2 and other.ndim > 2:
        try:
            np.broadcast_shapes(input.shape[:-2], other.shape[:-2])
        except ValueError:
            raise RuntimeError(
                f"matmul(): batch dims {list(input.shape[:-2])} and {list(other.shape[:-2])} do "
                "not broadcast") from None
    if input.ndim == 1 and other.ndim == 1:
        return apply(DOT, input, other)
    return apply(MATMUL, input, other)


def mm(input, mat2):
    """Product of two matrices (2-D only).

    Example:
        >>> import gradwalk
        >>> gradwalk.mm(gradwalk.ones(2, 3), gradwalk.ones(3, 1))
        tensor([[3.],
                [3.]])
    """
    _pair(input, mat2, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm(): expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[1] != mat2.shape[0]:
        (n, k), (k2, m) = input.shape, mat2.shape
        raise RuntimeError(
            f"mm(): mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of 3-D tensors ``(b, n, m) @ (b, m, p)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.bmm(gradwalk.ones(4, 2, 3), gradwalk.ones(4, 3, 5)).shape
        gradwalk.Size([4, 2, 5])
    """
    _pair(input, mat2, "bmm")
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor; got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm(): batch sizes differ: {input.shape[0]} and {mat2.shape[0]}")
    if input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"bmm(): Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return apply(BMM, input, mat2)


def mv(input, vec):
    """Matrix-vector product.

    Example:
        >>> import gradwalk
        >>> gradwalk.mv(gradwalk.ones(2, 3), gradwalk.ones(3))
        tensor([3., 3.])
    """
    _pair(input, vec, "mv")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv(): expected a 2-D matrix and a 1-D vector, got {input.ndim}-D "
                           f"and {vec.ndim}-D")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv(): size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return apply(MV, input, vec)


def dot(input, tensor):
    """Inner product of two 1-D tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.dot(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0, 4.0]))
        tensor(11.)
    """
    _pair(input, tensor, "dot")
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(
            f"dot(): inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
            f"[{tensor.shape[0]}] to have the same number of elements, but got "
            f"{input.shape[0]} and {tensor.shape[0]} elements respectively")
    return apply(DOT, input, tensor)


inner = dot


def outer(input, vec2):
    """Outer product of two 1-D tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.outer(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 0.0, 3.0])).shape
        gradwalk.Size([2, 3])
    """
    _pair(input, vec2, "outer")
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer(): expected 1-D tensors, got {input.ndim}-D and "
                           f"{vec2.ndim}-D")
    return apply(OUTER, input, vec2)


ger = outer


def einsum(equation: str, *operands):
    """Einstein summation, e.g. ``einsum("ij,jk->ik", a, b)``; differentiable in every operand.

    Example:
        >>> import gradwalk
        >>> gradwalk.einsum("i,i->", gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([3.0, 4.0]))
        tensor(11.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum with '...' is not supported yet; write the dims out")
    specs = eq.split("->")[0].split(",")
    if len(specs) != len(operands):
        raise RuntimeError(f"einsum(): the equation has {len(specs)} operands but "
                           f"{len(operands)} tensors were given")
    for k, (s, t) in enumerate(zip(specs, operands)):
        if len(s) != t.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(s)}) does not match "
                f"the number of dimensions ({t.ndim}) for operand {k}")
    if "->" not in eq:
        letters = "".join(specs)
        eq = eq + "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    try:
        np.einsum(eq, *[np.empty(t.shape, dtype=np.float32) for t in operands])
    except ValueError as e:
        raise RuntimeError(f"einsum(): operands do not fit the equation {equation!r}: {e} "
                           f"(shapes {[list(t.shape) for t in operands]})") from None
    dt = _promote_all([t._data.dtype for t in operands])  # PyTorch's promotion
    operands = [t if t._data.dtype == dt else t.to(dt) for t in operands]
    return apply(EINSUM, *operands, params={"equation": eq})
