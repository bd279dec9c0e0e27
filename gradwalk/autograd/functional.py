"""Higher-level autograd functions with PyTorch's signatures: ``jacobian``, ``hessian``, ``vjp``,
``jvp``, ``hvp``, ``vhp`` (``torch.autograd.functional``).

``inputs`` is a Tensor or a tuple of Tensors; results follow PyTorch's layout (a Tensor for a
Tensor input, tuples for tuples). ``create_graph=True`` keeps results differentiable with respect
to inputs that require grad; ``strict=True`` raises when an output does not depend on an input.
They are built on the transforms of ``gradwalk.func`` (reverse mode, forward mode, ``vmap``).

Example:
    >>> import gradwalk
    >>> from gradwalk.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, gradwalk.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import func as _ft
from ..ops.shape import stack
from ..tensor import Tensor
from ._api import grad as autograd_grad
from .grad_mode import enable_grad, no_grad

Tensors = Tensor | tuple[Tensor, ...]  # one tensor, or a tuple of them (as PyTorch takes)

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]

_STRATEGIES = ("reverse-mode", "forward-mode", "auto")


def _as_tuple(x, arg: str, fn: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for k, t in enumerate(xs):
        if not isinstance(t, Tensor):
            if is_tuple:
                raise TypeError(
                    f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but "
                    f"the value at index {k} has type {type(t).__name__}.")
            raise TypeError(
                f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                f"given {arg} has type {type(t).__name__}.")
    return is_tuple, xs


def _outputs(out, fn: str) -> tuple[bool, tuple]:
    return _as_tuple(out, "outputs of the user-provided function", fn)


def _checked(func, in_tuple: bool, fn: str):
    """``func`` taking the inputs as separate arguments, its outputs checked to be Tensors."""

    def call(*a):
        out = func(*a) if in_tuple else func(a[0])
        _outputs(out, fn)
        return out

    return call


def _finish(xs, create_graph: bool):
    """Results detached unless ``create_graph``."""
    if create_graph:
        return xs
    return tuple(x.detach() if x is not None else None for x in xs)


def _check_v(v, ref, fn: str, what: str):
    for k, (a, b) in enumerate(zip(v, ref)):
        if not isinstance(a, Tensor):
            raise TypeError(f"{fn}: v[{k}] must be a Tensor, got {type(a).__name__}")
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"The tensor v[{k}] given to {fn} has size {list(a.shape)}, but the {what} "
                f"{k} has size {list(b.shape)}; they must match.")


def _strict_check(func, inputs, fn: str) -> None:
    """PyTorch's strict mode: every output must depend on every input."""
    with enable_grad():
        ins = tuple(t.detach().requires_grad_(True) for t in inputs)
        _, outs = _outputs(func(*ins), fn)
        for k, o in enumerate(outs):
            if not o._requires_grad:
                raise RuntimeError(
                    f"Output {k} of the user-provided function does not require gradients. The "
                    "outputs must be computed in a differentiable manner from the input when "
                    "running in strict mode.")
            for j, t in enumerate(ins):
                g = autograd_grad(o, t, grad_outputs=_ones_like(o), retain_graph=True,
                                  allow_unused=True)[0]
                if g is None:
                    raise RuntimeError(
                        f"Output {k} of the user-provided function is independent of input {j}. "
                        "This is not allowed in strict mode.")


def _ones_like(t):
    return Tensor._wrap(np.ones(t.shape, dtype=t._data.dtype))


def _prepared(inputs, create_graph: bool):
    """Inputs as the transforms should see them: detached unless ``create_graph``."""
    return inputs if create_graph else tuple(t.detach() for t in inputs)


# ----------------------------------------------------------------------------------------------



def _vectors(v, refs, op: str, what: str) -> tuple:
    """The vectors of a vjp (one per output, ``what="output"``) or a jvp (one per input);
    ``v=None`` stands for 1 when there is a single one-element tensor."""
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            where = ("the user-provided function returns a single Tensor" if what == "output"
                     else "the input to the user-provided function is a single Tensor")
            raise RuntimeError(f"The vector v can only be None if {where} with a single element.")
        return (_ones_like(refs[0]),)
    _, vs = _as_tuple(v, "v", op)
    if len(vs) != len(refs):
        got = (f"the function returned {len(refs)}" if what == "output"
               else f"there are {len(refs)} inputs")
        raise RuntimeError(f"v has {len(vs)} tensors but {got}")
    _check_v(vs, refs, op, what)
    return vs

def vjp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensors, Tensors]:
    """``(func(inputs), v^T J)``: a vector-Jacobian product by reverse mode.

    ``v`` may be None only when ``func`` returns a single one-element Tensor.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.functional import vjp
        >>> vjp(lambda x: x * 3, gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 1.0]))
        (tensor([3., 6.]), tensor([3., 3.]))
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    if strict:
        _strict_check(func, ins, "vjp")
    out, vjp_fn = _ft.vjp(_checked(func, in_tuple, "vjp"), *_prepared(ins, create_graph))
    out_tuple, outs = _outputs(out, "vjp")
    vs = _vectors(v, outs, "vjp", "output")
    gs = vjp_fn(vs if out_tuple else vs[0])
    gs = _finish(gs, create_graph)
    outs = _finish(outs, create_graph)
    return (outs if out_tuple else outs[0]), (gs if in_tuple else gs[0])


def jvp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensors, Tensors]:
    """``(func(inputs), J v)``: a Jacobian-vector product by forward mode (one pass).

    ``v`` may be None only when the input is a single one-element Tensor.

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.functional import jvp
        >>> jvp(lambda x: x ** 2, gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 1.0]))
        (tensor([1., 4.]), tensor([2., 4.]))
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    vs = _vectors(v, ins, "jvp", "input")
    if strict:
        _strict_check(func, ins, "jvp")
    out, tan = _ft.jvp(_checked(func, in_tuple, "jvp"), _prepared(ins, create_graph),
                           tuple(vs))
    out_tuple, outs = _outputs(out, "jvp")
    _, tans = _outputs(tan, "jvp")
    outs = _finish(outs, create_graph)
    tans = _finish(tans, create_graph)
    return (outs if out_tuple else outs[0]), (tans if out_tuple else tans[0])


def _pick_mode(strategy: str, mode: str | None, n_in: int, n_out: int, fn: str) -> str:
    if mode is not None:
        alias = {"auto": "auto", "forward": "forward-mode", "reverse": "reverse-mode",
                 "forward-mode": "forward-mode", "reverse-mode": "reverse-mode"}
        if mode not in alias:
            raise ValueError(f"{fn}: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
        strategy = alias[mode]
    if strategy not in _STRATEGIES:
        raise ValueError(f'{fn}: Expected strategy to be either "forward-mode", "reverse-mode" '
                         f'or "auto" but got {strategy!r}')
    if strategy == "auto":
        return "forward-mode" if n_in < n_out else "reverse-mode"
    return strategy


def jacobian(func: Callable, inputs: Tensors, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode", *,
             mode: str | None = None, return_mode: bool = False) -> Any:
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape`` per pair.

    ``strategy`` is PyTorch's: ``"reverse-mode"`` (one backward pass per output element) or
    ``"forward-mode"`` (one forward pass per input element). gradwalk adds ``"auto"``: forward
    mode when the inputs have fewer elements than the outputs, reverse mode otherwise;
    ``mode="auto" | "forward" | "reverse"`` is a shorthand for the same choice. The mode used is
    kept in ``jacobian.last_mode`` and returned as ``(jac, mode)`` with ``return_mode=True``.
    ``vectorize=True`` computes all passes at once with ``vmap`` instead of a Python loop (in
    gradwalk both strategies work either way).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.functional import jacobian
        >>> x = gradwalk.tensor([1.0, 2.0])
        >>> jac, used = jacobian(lambda x: x.repeat(3) * 2, x, mode="auto", return_mode=True)
        >>> jac.shape, used
        (gradwalk.Size([6, 2]), 'forward-mode')
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorize=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    if strict:
        _strict_check(func, ins, "jacobian")
    f = _checked(func, in_tuple, "jacobian")
    ins_p = _prepared(ins, create_graph)
    # one forward pass to learn the output sizes (needed for "auto" only)
    n_in = sum(t.numel() for t in ins)
    used = strategy if mode is None and strategy != "auto" else None
    if used is None:
        with no_grad():
            _, outs = _outputs(func(*ins) if in_tuple else func(ins[0]), "jacobian")
        used = _pick_mode(strategy, mode, n_in, sum(o.numel() for o in outs), "jacobian")
    else:
        used = _pick_mode(strategy, None, 0, 0, "jacobian")
    argnums = tuple(range(len(ins)))
    if vectorize:
        tr = _ft.jacfwd if used == "forward-mode" else _ft.jacrev
        jac = tr(f, argnums=argnums)(*ins_p)
    elif used == "forward-mode":
        jac = _jac_fwd_loop(f, ins_p)
    else:
        jac = _jac_rev_loop(f, ins_p)
    out_tuple = isinstance(jac, tuple) and len(jac) and isinstance(jac[0], tuple)
    rows = jac if out_tuple else (jac,)
    rows = tuple(_finish(r, create_graph) for r in rows)
    rows = tuple(r if in_tuple else r[0] for r in rows)
    result = rows if out_tuple else rows[0]
    jacobian.last_mode = used
    return (result, used) if return_mode else result


jacobian.last_mode = None


def _jac_rev_loop(f, ins):
    """``jac[k][j]`` by one ``vjp`` per output element (PyTorch's ``vectorize=False``)."""
    out, vjp_fn = _ft.vjp(f, *ins)
    out_tuple = isinstance(out, tuple)
    outs = out if out_tuple else (out,)
    rows = []
    for k, o in enumerate(outs):
        per_in = [[] for _ in ins]
        for i in range(o.numel()):
            basis = []
            for kk, oo in enumerate(outs):
                e = np.zeros(oo.numel(), dtype=oo._data.dtype)
                if kk == k:
                    e[i] = 1.0
                basis.append(Tensor._wrap(e.reshape(oo.shape)))
            gs = vjp_fn(tuple(basis) if out_tuple else basis[0])
            for j, g in enumerate(gs):
                per_in[j].append(g.reshape(-1))
        row = []
        for j, t in enumerate(ins):
            if per_in[j]:
                m = stack(per_in[j], 0)
            else:
                m = Tensor._wrap(np.zeros((0, t.numel()), dtype=t._data.dtype))
            row.append(m.reshape(tuple(o.shape) + tuple(t.shape)))
        rows.append(tuple(row))
    return tuple(rows) if out_tuple else rows[0]


def _jac_fwd_loop(f, ins):
    """``jac[k][j]`` by one ``jvp`` per input element."""
    cols_per_in = []
    outs_ref = None
    for j, t in enumerate(ins):
        cols = []
        for i in range(t.numel()):
            tans = []
            for jj, tt in enumerate(ins):
                e = np.zeros(tt.numel(), dtype=tt._data.dtype)
                if jj == j:
                    e[i] = 1.0
                tans.append(Tensor._wrap(e.reshape(tt.shape)))
            out, tan = _ft.jvp(f, ins, tuple(tans))
            outs_ref = out
            cols.append(tan if isinstance(tan, tuple) else (tan,))
        cols_per_in.append(cols)
    if outs_ref is None:
        outs_ref = f(*ins)
    out_tuple = isinstance(outs_ref, tuple)
    outs = outs_ref if out_tuple else (outs_ref,)
    rows = []
    for k, o in enumerate(outs):
        row = []
        for j, t in enumerate(ins):
            cols = cols_per_in[j]
            if cols:
                m = stack([c[k].reshape(-1) for c in cols], -1)
            else:
                m = Tensor._wrap(np.zeros((o.numel(), 0), dtype=o._data.dtype))
            row.append(m.reshape(tuple(o.shape) + tuple(t.shape)))
        rows.append(tuple(row))
    return tuple(rows) if out_tuple else rows[0]


def hessian(func: Callable, inputs: Tensors, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: the Jacobian of its gradient.

    For a tuple of inputs the result is a tuple of tuples, ``H[i][j]`` of shape
    ``inputs[i].shape + inputs[j].shape``. ``outer_jacobian_strategy="forward-mode"`` takes the
    outer Jacobian in forward mode (forward over reverse). Both Jacobians are vectorized with
    ``vmap`` whatever ``vectorize`` says (the result is the same).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.functional import hessian
        >>> hessian(lambda x: (x ** 3).sum(), gradwalk.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'hessian: Expected outer_jacobian_strategy to be either '
                         f'"forward-mode" or "reverse-mode" but got {outer_jacobian_strategy!r}')
    if strict:
        _strict_check(func, ins, "hessian")

    def scalar(*a):
        out = func(*a) if in_tuple else func(a[0])
        if not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                f"element, got shape {list(out.shape)}")
        return out.reshape(())

    argnums = tuple(range(len(ins)))
    fn = _ft
    inner = fn.jacrev(scalar, argnums=argnums)
    outer = fn.jacfwd if outer_jacobian_strategy == "forward-mode" else fn.jacrev
    h = outer(inner, argnums=argnums)(*_prepared(ins, create_graph))
    rows = tuple(_finish(r, create_graph) for r in h)
    if in_tuple:
        return rows
    return rows[0][0]


def vhp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Tensors]:
    """``(func(inputs), v^T H)`` for a scalar ``func`` (reverse over reverse).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.functional import vhp
        >>> vhp(lambda x: (x ** 3).sum(), gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 0.0]))
        (tensor(9.), tensor([6., 0.]))
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Tensors]:
    """``(func(inputs), H v)`` for a scalar ``func`` (forward over reverse: one ``jvp`` of the
    gradient, no Hessian is formed).

    Example:
        >>> import gradwalk
        >>> from gradwalk.autograd.functional import hvp
        >>> hvp(lambda x: (x ** 3).sum(), gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([0.0, 1.0]))
        (tensor(9.), tensor([ 0., 12.]))
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn):
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (_ones_like(ins[0]),)
    else:
        _, vs = _as_tuple(v, "v", fn)
        if len(vs) != len(ins):
            raise RuntimeError(f"v has {len(vs)} tensors but there are {len(ins)} inputs")
        _check_v(vs, ins, fn, "input")
    if strict:
        _strict_check(func, ins, fn)
    f = (lambda *a: func(*a)) if in_tuple else (lambda a: func(a))

    def scalar(*b):
        out = f(*b)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(f"The function given to {fn} should return a single Tensor with "
                               "a single element")
        return out.reshape(())

    def grads(*a):
        return _ft.grad(scalar, argnums=tuple(range(len(a))))(*a)

    ins_p = _prepared(ins, create_graph)
    fnmod = _ft
    if fn == "hvp":
        _, prod = fnmod.jvp(grads, ins_p, tuple(vs))
    else:
        _, vjp_fn = fnmod.vjp(grads, *ins_p)
        prod = vjp_fn(tuple(vs))
    value = f(*ins_p)
    prod = _finish(tuple(prod), create_graph)
    (value,) = _finish((value,), create_graph)
    return value, (prod if in_tuple else prod[0])
