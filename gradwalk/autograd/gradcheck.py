"""Check analytical gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

``gradcheck(fn, inputs)`` builds two Jacobians of ``fn`` for every (input, output) pair: the
numerical one by central differences, ``(f(x + eps) - f(x - eps)) / (2 eps)`` one input element at
a time, and the analytical one by one backward per output element (a row of the Jacobian per
``autograd.grad`` call). They must agree within ``atol + rtol * |numerical|``. Use float64 inputs:
float32 rounding swamps a difference quotient.

Example:
    >>> import gradwalk
    >>> from gradwalk.autograd import gradcheck
    >>> x = gradwalk.randn(3, dtype=gradwalk.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t.sin() * t).sum(), (x,))
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ..creation import _rng
from ..tensor import Tensor
from . import grad_mode
from ._api import grad as autograd_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when the Jacobians disagree."""


def _as_tuple(x) -> tuple:
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _differentiable_outputs(fn, inputs) -> tuple:
    outs = _as_tuple(fn(*inputs))
    return tuple(o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind in "fc")


def _numerical_jacobians(fn, inputs, eps: float) -> list[list[np.ndarray]]:
    """``J[i][j]``: the (numel(out_j), numel(in_i)) Jacobian by central differences."""
    with grad_mode.no_grad():
        base = _differentiable_outputs(fn, inputs)
        jac = []
        for inp in inputs:
            if not (isinstance(inp, Tensor) and inp._requires_grad):
                jac.append(None)
                continue
            flat = inp._data.reshape(-1)  # a view: changes reach the tensor
            if not np.shares_memory(flat, inp._data):
                raise ValueError("gradcheck needs inputs with contiguous memory; pass x.clone()")
            cols = [np.zeros((o._data.size, flat.size), dtype=np.float64) for o in base]
            for k in range(flat.size):
                orig = flat[k].copy()
                flat[k] = orig + eps
                plus = [o._data.astype(np.float64).reshape(-1).copy()
                        for o in _differentiable_outputs(fn, inputs)]
                flat[k] = orig - eps
                minus = [o._data.astype(np.float64).reshape(-1).copy()
                         for o in _differentiable_outputs(fn, inputs)]
                flat[k] = orig
                for j in range(len(base)):
                    cols[j][:, k] = (plus[j] - minus[j]) / (2 * eps)
            jac.append(cols)
    return jac


def _analytical_jacobians(fn, inputs) -> tuple[list, tuple]:
    """``J[i][j]`` by backward: row ``r`` of output ``j`` is the gradient of ``out_j.flat[r]``."""
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]
    outs = _differentiable_outputs(fn, inputs)
    jac = [None if not (isinstance(x, Tensor) and x._requires_grad) else
           [np.zeros((o._data.size, x._data.size), dtype=np.float64) for o in outs]
           for x in inputs]
    for j, out in enumerate(outs):
        if not out._requires_grad:
            continue
        for r in range(out._data.size):
            seed = np.zeros(out._data.size, dtype=out._data.dtype)
            seed[r] = 1
            grads = autograd_grad(out, diff_inputs, Tensor._wrap(seed.reshape(out.shape)),
                                  retain_graph=True, allow_unused=True)
            k = 0
            for i, x in enumerate(inputs):
                if jac[i] is None:
                    continue
                g = grads[k]
                k += 1
                if g is not None:
                    if g.shape != x.shape:
                        raise GradcheckError(
                            f"Gradient has incorrect shape for input {i}: got {list(g.shape)}, "
                            f"expected {list(x.shape)}")
                    jac[i][j][r, :] = g._data.astype(np.float64).reshape(-1)
    return jac, outs


def _side_by_side(a: np.ndarray, n: np.ndarray) -> str:
    """The two Jacobians next to each other, one printed row per Jacobian row."""
    with np.printoptions(precision=6, suppress=True, linewidth=10_000, threshold=400):
        left = ["numerical:"] + str(n).splitlines()
        right = ["analytical:"] + str(a).splitlines()
    width = max(len(s) for s in left) + 4
    rows = [f"{lft:<{width}}{rgt}" for lft, rgt in zip(left, right)]
    rows += [" " * width + rgt for rgt in right[len(left):]]
    return "\n".join(rows) + "\n"


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Compare the gradients of ``func`` at ``inputs`` with finite differences.

    Returns ``True`` when every Jacobian entry agrees within ``atol + rtol * |numerical|``;
    otherwise raises ``GradcheckError`` showing both Jacobians (or returns ``False`` with
    ``raise_exception=False``). Only inputs with ``requires_grad=True`` are checked; use float64.

    Example:
        >>> import gradwalk
        >>> class BadSquare(gradwalk.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return g * x  # should be 2 * x
        >>> x = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float64, requires_grad=True)
        >>> gradwalk.autograd.gradcheck(BadSquare.apply, (x,), raise_exception=False)
        False
    """
    inputs = _as_tuple(inputs)
    if not any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._requires_grad and x._data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point.", UserWarning, stacklevel=2)
    analytical, outs = _analytical_jacobians(func, inputs)
    if not outs:
        raise ValueError("gradcheck: the function returned no differentiable output")
    numerical = _numerical_jacobians(func, inputs, eps)
    for i, (an_i, nu_i) in enumerate(zip(analytical, numerical)):
        if an_i is None:
            continue
        for j, (a, n) in enumerate(zip(an_i, nu_i)):
            if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                bad = np.argwhere(~np.isclose(a, n, rtol=rtol, atol=atol))
                msg = (
                    f"Jacobian mismatch for output {j} with respect to input {i},\n"
                    + _side_by_side(a, n)
                    + f"(rows: elements of output {j}, columns: elements of input {i}; "
                    f"{len(bad)} entries differ beyond atol={atol}, rtol={rtol}, first at "
                    f"{tuple(int(v) for v in bad[0])}: numerical {n[tuple(bad[0])]:.6g} vs "
                    f"analytical {a[tuple(bad[0])]:.6g})")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func: Callable, inputs, grad_outputs: Sequence | None = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the function that maps ``(inputs,
    grad_outputs)`` to the gradients of ``func`` (computed with ``create_graph=True``).

    ``grad_outputs`` default to random float64 tensors (requiring grad) shaped like the outputs.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([0.5, 1.5], dtype=gradwalk.float64, requires_grad=True)
        >>> gradwalk.autograd.gradgradcheck(lambda t: t.exp() * t, (x,))
        True
    """
    inputs = _as_tuple(inputs)
    with grad_mode.no_grad():
        outs = _differentiable_outputs(func, inputs)
    if grad_outputs is None:
        rng = _rng()
        grad_outputs = tuple(
            Tensor(rng.standard_normal(o.shape).astype(o._data.dtype), requires_grad=True)
            for o in outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        with grad_mode.enable_grad():  # the numerical pass runs under no_grad
            outputs = _differentiable_outputs(func, ins)
            diff_in = [ins[i] for i in diff_idx]
            grads = autograd_grad(outputs, diff_in, gos, create_graph=True,
                                  allow_unused=True)
        return tuple(g if g is not None else Tensor._wrap(np.zeros(ins[i].shape,
                                                                  dtype=ins[i]._data.dtype))
                     for g, i in zip(grads, diff_idx))

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
