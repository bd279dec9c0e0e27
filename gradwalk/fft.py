"""``gradwalk.fft``: the part of PyTorch's ``torch.fft`` whose values are real.

gradwalk has no complex dtype, so the transforms that return complex values (``fft``,
``ifft``, ``rfft``, ``ihfft`` and their 2-D and n-D forms) are not here; asking for one says
so. What is here takes and returns real tensors, with PyTorch's arguments (``n``/``s``,
``dim``, ``norm``) and gradients, in reverse and forward mode:

* ``irfft``, ``irfft2``, ``irfftn``: a real tensor is read as a one-sided spectrum with zero
  imaginary part (as PyTorch reads it), so the result is PyTorch's for that input;
* ``hfft``, ``hfft2``, ``hfftn``: for a real input, the same transforms under the dual
  normalization;
* ``fftshift``, ``ifftshift``, ``fftfreq``, ``rfftfreq``.

The op and its adjoint are in ``gradwalk/ops/fft.py`` (Note [the c2r transform and its
adjoint]).

Example:
    >>> import gradwalk
    >>> gradwalk.fft.irfft(gradwalk.tensor([2.0, 0.0, 0.0]))
    tensor([0.5000, 0.5000, 0.5000, 0.5000])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .creation import tensor as _tensor
from .dtypes import get_default_dtype, to_numpy_dtype
from .ops import fft as _ops
from .ops import registry as _registry
from .tensor import Tensor

__all__ = ["fftfreq", "fftshift", "hfft", "hfft2", "hfftn", "ifftshift", "irfft", "irfft2",
           "irfftn", "rfftfreq"]

_NORMS = ("backward", "forward", "ortho")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX = ("fft", "ifft", "rfft", "ihfft", "fft2", "ifft2", "rfft2", "ihfft2", "fftn", "ifftn",
            "rfftn", "ihfftn")


def __getattr__(name: str):
    if name in _COMPLEX:
        raise AttributeError(
            f"gradwalk.fft.{name} is not available: it returns complex values and gradwalk has "
            "no complex dtype. The real-valued transforms irfft/irfftn/hfft/hfftn and "
            "fftshift/ifftshift/fftfreq/rfftfreq are implemented; numpy.fft computes the "
            "complex ones without gradients.")
    raise AttributeError(f"module 'gradwalk.fft' has no attribute {name!r}")


def _real_input(input, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"fft.{name}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind in "biu":
        input = _registry.apply1(_registry.REGISTRY["cast"], input,
                                 {"dtype": np.dtype(get_default_dtype().np)})
    return input


def _norm(norm, name: str) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f"fft.{name}(): Invalid normalization mode: {norm!r} (expected None, "
                         "'backward', 'forward' or 'ortho')")
    return norm


def _axes(dims, ndim: int, name: str) -> tuple:
    out = []
    for d in dims:
        if not -ndim <= d < ndim:
            raise IndexError(f"fft.{name}(): Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        out.append(d % ndim)
    if len(set(out)) != len(out):
        raise RuntimeError(f"fft.{name}(): dims must be unique, got {tuple(dims)}")
    return tuple(out)


def _c2r_args(input, s, dim, name: str):
    """PyTorch's defaults for ``s`` and ``dim`` of the c2r transforms."""
    ndim = input.ndim
    if ndim == 0:
        raise RuntimeError(f"fft.{name}(): expects a tensor of at least one dimension, got a "
                           "0-d tensor")
    if dim is not None and isinstance(dim, int):
        dim = (dim,)
    if s is not None and isinstance(s, int):
        s = (s,)
    if s is not None and dim is not None and len(s) != len(dim):
        raise RuntimeError(f"fft.{name}(): when given, dim and shape arguments must have the "
                           f"same length, got s={tuple(s)} and dim={tuple(dim)}")
    if dim is None:
        dim = tuple(range(ndim - len(s), ndim)) if s is not None else tuple(range(ndim))
    if s is not None and len(s) > ndim:
        raise RuntimeError(f"fft.{name}(): got shape with {len(s)} values but input tensor only "
                           f"has {ndim} dimensions")
    axes = _axes(dim, ndim, name)
    if not axes:
        raise RuntimeError(f"fft.{name}(): must transform at least one axis")
    shape = input.shape
    sizes = []
    for k, ax in enumerate(axes):
        given = None if s is None else s[k]
        if given is None or given == -1:
            given = 2 * (shape[ax] - 1) if k == len(axes) - 1 else shape[ax]
        if given < 1:
            raise RuntimeError(f"fft.{name}(): Invalid number of data points ({given}) "
                               "specified")
        sizes.append(int(given))
    return tuple(sizes), axes


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of ``rfftn``: a real signal of sizes ``s`` from a one-sided spectrum.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.irfftn(gradwalk.ones(2, 2))
        tensor([[1., 0.],
                [0., 0.]])
    """
    x = _real_input(input, "irfftn")
    sizes, axes = _c2r_args(x, s, dim, "irfftn")
    return _ops.c2r(x, sizes, axes, _norm(norm, "irfftn"))


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """``irfftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.irfft2(gradwalk.ones(2, 2)).shape)
        (2, 2)
    """
    return irfftn(input, s, dim, norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``rfft``: a real signal of length ``n`` (``2 (m - 1)`` by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.irfft(gradwalk.tensor([1.0, 1.0]), n=3)
        tensor([1., 0., 0.])
    """
    return irfftn(input, None if n is None else (n,), (dim,), norm)


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D transform of a Hermitian-symmetric signal given by its half (real here).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.hfftn(gradwalk.ones(2, 2))
        tensor([[4., 0.],
                [0., 0.]])
    """
    x = _real_input(input, "hfftn")
    sizes, axes = _c2r_args(x, s, dim, "hfftn")
    return _ops.c2r(x, sizes, axes, _DUAL[_norm(norm, "hfftn")])


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """``hfftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.hfft2(gradwalk.ones(2, 2)).shape)
        (2, 2)
    """
    return hfftn(input, s, dim, norm)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: a real result
    of length ``n`` (``2 (m - 1)`` by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.hfft(gradwalk.tensor([1.0, 1.0]))
        tensor([2., 0.])
    """
    return hfftn(input, None if n is None else (n,), (dim,), norm)


def _shift_dims(input, dim, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"fft.{name}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if dim is None:
        return tuple(range(input.ndim))
    return _axes((dim,) if isinstance(dim, int) else tuple(dim), max(input.ndim, 1), name)


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Move the zero-frequency term to the centre: a roll by ``n // 2`` along ``dim`` (all
    dimensions by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.fftshift(gradwalk.tensor([0.0, 1.0, 2.0, -2.0, -1.0]))
        tensor([-2., -1.,  0.,  1.,  2.])
    """
    axes = _shift_dims(input, dim, "fftshift")
    return _ops.shift(input, tuple(input.shape[a] // 2 for a in axes), axes)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of ``fftshift``: a roll by ``(n + 1) // 2``.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.ifftshift(gradwalk.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
        tensor([ 0.,  1.,  2., -2., -1.])
    """
    axes = _shift_dims(input, dim, "ifftshift")
    return _ops.shift(input, tuple((input.shape[a] + 1) // 2 for a in axes), axes)


def _freq_dtype(dtype):
    return get_default_dtype().np if dtype is None else to_numpy_dtype(dtype)


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point FFT with sample spacing ``d``.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.fftfreq(4)
        tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    return _tensor(np.fft.fftfreq(n, d).astype(_freq_dtype(dtype)), requires_grad=requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point ``rfft`` with sample spacing ``d``.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.rfftfreq(4)
        tensor([0.0000, 0.2500, 0.5000])
    """
    return _tensor(np.fft.rfftfreq(n, d).astype(_freq_dtype(dtype)), requires_grad=requires_grad)
