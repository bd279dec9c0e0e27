"""Comparisons and logic: bool results, no gradient (``eq``, ``lt``, ``logical_and``, ``isnan``)."""

from __future__ import annotations

import numpy as np

from . import kernels as K
from . import registry as R


def _data(x):
    return x._data if isinstance(x, R.Tensor) else x


def _nondiff_result(arr, *refs):
    if type(arr) is not np.ndarray and not hasattr(arr, "__cuda_array_interface__") and \
            not hasattr(arr, "_gw_batched"):  # vmap's batched arrays stay as they are
        arr = np.asarray(arr)
    return R.wrap(arr)


def _compare(fn, name):
    def compare(input, other):
        if name not in ("eq", "ne"):
            K.real_only(name, input, other)
        a, b = _data(input), _data(other)
        try:
            return _nondiff_result(fn(a, b))
        except ValueError:
            K.raise_broadcast_error(name, getattr(a, "shape", ()), getattr(b, "shape", ()))

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = (f"Elementwise ``{name}`` comparison; a bool tensor, no gradient.\n\n"
                       "    Example:\n        >>> import gradwalk\n"
                       f"        >>> gradwalk.{name}(gradwalk.tensor([1.0, 2.0]), 1.5).tolist()\n"
                       f"        {[bool(fn(1.0, 1.5)), bool(fn(2.0, 1.5))]}\n")
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logic(fn, name):
    def logic(input, other):
        a, b = _data(input), _data(other)
        try:
            return _nondiff_result(fn(a, b))
        except ValueError:
            K.raise_broadcast_error(name, getattr(a, "shape", ()), getattr(b, "shape", ()))

    logic.__name__ = logic.__qualname__ = name
    logic.__doc__ = (f"Elementwise ``{name}``; a bool tensor.\n\n    Example:\n"
                     "        >>> import gradwalk\n"
                     f"        >>> gradwalk.{name}(gradwalk.tensor([True, False]), "
                     "gradwalk.tensor([True, True])).tolist()\n"
                     f"        {fn(np.array([True, False]), np.array([True, True])).tolist()}\n")
    return logic


logical_and = _logic(np.logical_and, "logical_and")
logical_or = _logic(np.logical_or, "logical_or")
logical_xor = _logic(np.logical_xor, "logical_xor")


def logical_not(input):
    """Elementwise logical not; a bool tensor.

    Example:
        >>> import gradwalk
        >>> gradwalk.logical_not(gradwalk.tensor([True, False]))
        tensor([False,  True])
    """
    return _nondiff_result(np.logical_not(_data(input)))


def _bitwise(fn, name: str, kernel: str, example: str, result: str):
    def bitwise(input, other):
        a, b = _data(input), _data(other)
        for v in (a, b):
            kind = v.dtype.kind if hasattr(v, "dtype") else ("f" if isinstance(v, float) else "i")
            if kind in "fc":
                dtype = v.dtype if hasattr(v, "dtype") else "a Python float"
                raise NotImplementedError(
                    f'"{kernel}" not implemented for floating point ({dtype}): {name} needs '
                    "integer or bool tensors; convert with .long(), or use logical_and / "
                    "logical_or / logical_xor for masks")
        try:
            return _nondiff_result(fn(a, b))
        except ValueError:
            K.raise_broadcast_error(name, getattr(a, "shape", ()), getattr(b, "shape", ()))

    bitwise.__name__ = bitwise.__qualname__ = name
    bitwise.__doc__ = (f"Elementwise bitwise ``{name}`` of integer or bool tensors (PyTorch's "
                       "dtypes; floats raise), no gradient.\n\n    Example:\n"
                       f"        >>> import gradwalk\n        >>> {example}\n        {result}\n")
    return bitwise


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and", "bitwise_and_cpu",
                       "gradwalk.tensor([3]) & gradwalk.tensor([5])", "tensor([1])")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or", "bitwise_or_cpu",
                      "gradwalk.tensor([3]) | gradwalk.tensor([5])", "tensor([7])")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor", "bitwise_xor_cpu",
                       "gradwalk.tensor([3]) ^ gradwalk.tensor([5])", "tensor([6])")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift", "lshift_cpu",
                              "gradwalk.tensor([3]) << 1", "tensor([6])")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift", "rshift_cpu",
                               "gradwalk.tensor([3]) >> 1", "tensor([1])")


def bitwise_not(input):
    """Elementwise bitwise not (``~x`` of an integer tensor).

    Example:
        >>> import gradwalk
        >>> gradwalk.ops.logic.bitwise_not(gradwalk.tensor([0, 5]))
        tensor([-1, -6])
    """
    return _nondiff_result(np.invert(_data(input)))


def isnan(input):
    """Where values are NaN.

    Example:
        >>> import gradwalk
        >>> gradwalk.isnan(gradwalk.tensor([1.0, float("nan")]))
        tensor([False,  True])
    """
    return _nondiff_result(np.isnan(_data(input)))


def isfinite(input):
    """Where values are finite (not NaN or infinite).

    Example:
        >>> import gradwalk
        >>> gradwalk.isfinite(gradwalk.tensor([1.0, float("inf")]))
        tensor([ True, False])
    """
    return _nondiff_result(np.isfinite(_data(input)))


def isinf(input):
    """Where values are +inf or -inf.

    Example:
        >>> import gradwalk
        >>> gradwalk.isinf(gradwalk.tensor([1.0, float("inf")]))
        tensor([False,  True])
    """
    return _nondiff_result(np.isinf(_data(input)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Where values are close (``|a - b| <= atol + rtol * |b|``).

    Example:
        >>> import gradwalk
        >>> gradwalk.isclose(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([1.0, 2.1]))
        tensor([ True, False])
    """
    return _nondiff_result(np.isclose(_data(input), _data(other), rtol=rtol, atol=atol,
                                      equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when all values are close (``|a - b| <= atol + rtol * |b|``).

    Example:
        >>> import gradwalk
        >>> gradwalk.allclose(gradwalk.tensor([1.0]), gradwalk.tensor([1.0 + 1e-9]))
        True
    """
    return bool(np.allclose(_data(input), _data(other), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when both have the same shape and values.

    Example:
        >>> import gradwalk
        >>> gradwalk.equal(gradwalk.tensor([1, 2]), gradwalk.tensor([1, 2]))
        True
    """
    a, b = _data(input), _data(other)
    return bool(a.shape == b.shape and np.array_equal(a, b))
