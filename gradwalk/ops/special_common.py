"""What the special-function ops share: float64 kernels, their declaration, their public function.

A kernel (``kernel(x) -> array``) computes a special function on float64 NumPy arrays; ``run``
applies it to an op input (a NumPy scalar on the 0-d path, Note [0-d scalars] in
``registry.py``, or an array of another float dtype), computing in float64 and returning the
input's dtype. Rules reach the functions through ``call(xp, public, kernel, *args)``: with
``xp`` NumPy the kernel on arrays, with ``dxp`` (``create_graph=True``) the differentiable
public function on Tensors, so that double backward records its own graph.

Note [special-function accuracy]
    Every kernel is written to reach about 1e-12 relative (or 1e-14 absolute) accuracy in
    float64 over the whole real line, with well-known methods (power series where they do not
    cancel, asymptotic expansions where the terms are small, continued fractions, exponentially
    convergent quadratures of integral representations, Newton steps on an accurate inverse).
    PyTorch's results are the oracle; ``tests/special`` compares them over wide grids. A
    function that cannot meet PyTorch to 1e-7 is not exposed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..dtypes import get_default_dtype
from . import registry

_f64 = np.float64


def f64(x) -> np.ndarray:
    """``x`` as a float64 array (a copy only when the dtype differs)."""
    a = np.asarray(x)
    return a if a.dtype == _f64 else a.astype(_f64)


def _batched_run(kernel: Callable, xs, dtype):
    """``run`` under ``vmap`` (``func/_batched_array.py``): the kernels are elementwise, so they
    run on the physical arrays, the batch dim aligned in front, and the result is batched."""
    batched = registry._Batched
    level = max(x._level for x in xs if type(x) is batched)
    inner = [x if type(x) is batched and x._level == level else None for x in xs]
    shapes = [np.shape(x) for x in xs]
    rank = max(len(sh) for sh in shapes)
    size = next(x._a.shape[0] for x in inner if x is not None)
    physical = []
    for x, b, sh in zip(xs, inner, shapes, strict=True):
        pad = (1,) * (rank - len(sh))
        if b is not None:
            physical.append(b._a.reshape((size,) + pad + tuple(sh)))
        else:
            physical.append(np.reshape(x, (1,) + pad + tuple(sh)))
    return batched(run(kernel, *physical, dtype=dtype), level)


def run(kernel: Callable, *xs, dtype=None):
    """``kernel`` on float64 arrays of ``xs``, cast back to the first input's float dtype (or
    ``dtype``); NumPy's warnings about invalid values stay quiet (NaN is the answer there)."""
    batched = registry._Batched
    if batched is not None and any(type(x) is batched for x in xs):
        return _batched_run(kernel, xs, dtype)
    first = np.asarray(xs[0])
    out_dtype = dtype or (first.dtype if first.dtype.kind == "f" else np.dtype(_f64))
    if getattr(first, "__module__", "").startswith("cupy"):  # pragma: no cover - no GPU here
        import cupy  # type: ignore[import-not-found]
        return cupy.asarray(run(kernel, *[cupy.asnumpy(x) for x in xs], dtype=dtype))
    with np.errstate(all="ignore"):
        out = np.asarray(kernel(*[f64(x) for x in xs]))
    return out.astype(out_dtype, copy=False)


def call(xp, public: Callable, kernel: Callable, *args):
    """A special function inside a rule: the kernel on arrays, the public function (an op with
    its own rules) on Tensors under ``dxp``."""
    if getattr(xp, "IS_DIFFERENTIABLE", False):
        return public(*args)
    return run(kernel, *args)


def polevl(x, coefs) -> np.ndarray:
    """The polynomial with ``coefs`` (highest power first) at ``x`` (Horner)."""
    r = np.zeros_like(x) + coefs[0]
    for c in coefs[1:]:
        r = r * x + c
    return r


def as_input(input, name: str):
    """The op's Tensor input: integers and bools cast to the default float dtype, as PyTorch."""
    if not isinstance(input, registry.Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind in "biu":
        input = registry.apply1(registry.REGISTRY["cast"], input,
                                {"dtype": np.dtype(get_default_dtype().np)})
    return input


def float_pair(a, b, name: str):
    """Two operands of a binary special function (Tensors or numbers, at least one Tensor), as
    Tensors of one floating dtype (PyTorch's promotion: integers go to the default dtype)."""
    tensor = registry.Tensor
    if not isinstance(a, tensor) and not isinstance(b, tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    floats = [x._data.dtype for x in (a, b) if isinstance(x, tensor) and x._data.dtype.kind == "f"]
    if not floats:
        dt = np.dtype(get_default_dtype().np)
    elif len(floats) == 1:
        dt = floats[0]
    elif (a.ndim > 0) == (b.ndim > 0):
        dt = np.promote_types(*floats)
    else:  # a 0-d tensor takes the dimensioned one's dtype (PyTorch's promotion)
        dt = (a if a.ndim else b)._data.dtype

    def conv(x):
        if isinstance(x, tensor):
            if x._data.dtype != dt:
                return registry.apply1(registry.REGISTRY["cast"], x, {"dtype": dt})
            return x
        if isinstance(x, (bool, int, float, np.number)):
            return registry.wrap(np.asarray(x, dtype=dt))
        raise TypeError(f"{name}(): unsupported operand type {type(x).__name__}; expected a "
                        "Tensor or a number")

    return conv(a), conv(b)


def forward_only(name: str, kernel: Callable, *inputs, params: dict | None = None):
    """The result of a special function PyTorch defines no derivative for (Bessel functions of
    the first and second kind, the orthogonal polynomials, ``zeta``, ``igamma``): a tensor that
    requires no grad, like PyTorch's, whose backward would raise."""
    datas = [x._data for x in inputs]
    shape = np.broadcast_shapes(*[d.shape for d in datas])
    datas = [np.broadcast_to(d, shape) for d in datas]
    out = run(lambda *a: kernel(*a, **(params or {})), *datas, dtype=datas[0].dtype)
    return registry.wrap(np.array(out, copy=True).reshape(shape))
