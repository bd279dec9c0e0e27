"""``gradwalk.fft``: PyTorch's ``torch.fft``, with its arguments (``n``/``s``, ``dim``,
``norm``) and gradients in reverse and forward mode, of any order:

* ``fft``, ``ifft``, ``fft2``, ``ifft2``, ``fftn``, ``ifftn``: complex results (a real input
  is read as complex, its gradient is the real part);
* ``rfft``, ``rfft2``, ``rfftn`` (real input, one-sided result) and their inverses ``irfft``,
  ``irfft2``, ``irfftn`` (real or complex one-sided spectra, real results);
* ``hfft``, ``hfft2``, ``hfftn`` (``irfft`` of the conjugate under the dual norm) and
  ``ihfft``, ``ihfft2``, ``ihfftn`` (the conjugate of ``rfft`` under the dual norm);
* ``fftshift``, ``ifftshift``, ``fftfreq``, ``rfftfreq``.

float32 and complex64 give complex64 and float32; float64 and complex128 give complex128 and
float64; integers are read as the default float dtype. The ops and their adjoints are in
``gradwalk/ops/fft.py`` (Note [the fft ops and their adjoints]).

Example:
    >>> import gradwalk
    >>> gradwalk.fft.fft(gradwalk.tensor([1.0, 0.0, -1.0, 0.0]))
    tensor([0.+0.j, 2.+0.j, 0.+0.j, 2.+0.j])
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
from .ops.complex import conj as _conj
from .tensor import Tensor

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft",
           "ifft2", "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2",
           "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]

_NORMS = ("backward", "forward", "ortho")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_NAMES = {np.dtype(np.complex64): "ComplexFloat", np.dtype(np.complex128): "ComplexDouble"}


def _cast(x, npd):
    return _registry.apply1(_registry.REGISTRY["cast"], x, {"dtype": np.dtype(npd)})


def _input(input, name: str, kind: str) -> Tensor:
    """``input`` as the transform ``kind`` reads it: "c" complex, "r" real, "any" either."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft.{name}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    d = input._data.dtype
    if d.kind in "biu":
        input = _cast(input, get_default_dtype().np)
        d = input._data.dtype
    if d == np.float16:
        raise RuntimeError(f"fft.{name}(): Unsupported dtype Half (gradwalk's transforms take "
                           "float32, float64, complex64 and complex128)")
    if kind == "r" and d.kind == "c":
        raise RuntimeError(f"{name.rstrip('n2')} expects a real input tensor, but got "
                           f"{_NAMES[d]}")
    if kind == "c" and d.kind != "c":
        input = _cast(input, np.complex64 if d == np.float32 else np.complex128)
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


def _args(input, s, dim, name: str, c2r: bool = False):
    """PyTorch's defaults for ``s`` and ``dim``: the sizes and axes of the transform (for the
    c2r transforms, the last size is the real output's, ``2 (m - 1)`` by default)."""
    ndim = input.ndim
    if ndim == 0:  # PyTorch's IndexError: no dimension to transform
        raise IndexError(f"fft.{name}(): Dimension specified as -1 but tensor has no "
                         "dimensions (a 0-d tensor)")
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
            given = 2 * (shape[ax] - 1) if c2r and k == len(axes) - 1 else shape[ax]
        if given < 1:
            raise RuntimeError(f"fft.{name}(): Invalid number of data points ({given}) "
                               "specified")
        sizes.append(int(given))
    return tuple(sizes), axes


def _one(n, dim):
    return None if n is None else (n,), (dim,)


def _c2c(input, s, dim, norm, name, forward):
    x = _input(input, name, "c")
    sizes, axes = _args(x, s, dim, name)
    return _ops.c2c(x, axes, forward, _norm(norm, name), sizes)


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
         norm: str | None = None) -> Tensor:
    """The n-D discrete Fourier transform (all dimensions by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.fftn(gradwalk.ones(2, 2))
        tensor([[4.+0.j, 0.+0.j],
                [0.+0.j, 0.+0.j]])
    """
    return _c2c(input, s, dim, norm, "fftn", True)


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The inverse of ``fftn``.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.ifftn(gradwalk.tensor([[4.0, 0.0], [0.0, 0.0]]))
        tensor([[1.+0.j, 1.+0.j],
                [1.+0.j, 1.+0.j]])
    """
    return _c2c(input, s, dim, norm, "ifftn", False)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Tensor:
    """``fftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.fft2(gradwalk.ones(3, 2, 2)).shape)
        (3, 2, 2)
    """
    return _c2c(input, s, dim, norm, "fft2", True)


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """``ifftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.ifft2(gradwalk.ones(1, 1))
        tensor([[1.+0.j]])
    """
    return _c2c(input, s, dim, norm, "ifft2", False)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-D discrete Fourier transform along ``dim`` (of ``n`` points: trimmed or padded).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.fft(gradwalk.tensor([1.0, 1.0]))
        tensor([2.+0.j, 0.+0.j])
    """
    return _c2c(input, *_one(n, dim), norm, "fft", True)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``fft``.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.ifft(gradwalk.tensor([2.0, 0.0]))
        tensor([1.+0.j, 1.+0.j])
    """
    return _c2c(input, *_one(n, dim), norm, "ifft", False)


def _r2c(input, s, dim, norm, name, inverse=False):
    x = _input(input, name, "r")
    sizes, axes = _args(x, s, dim, name)
    norm = _norm(norm, name)
    if inverse:  # ihfft: the conjugate of rfft under the dual norm
        return _conj(_ops.r2c(x, axes, _DUAL[norm], sizes))
    return _ops.r2c(x, axes, norm, sizes)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D transform of a real input, one-sided on the last dimension (``n // 2 + 1``).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.rfftn(gradwalk.ones(2, 2))
        tensor([[4.+0.j, 0.+0.j],
                [0.+0.j, 0.+0.j]])
    """
    return _r2c(input, s, dim, norm, "rfftn")


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """``rfftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.rfft2(gradwalk.ones(3, 4)).shape)
        (3, 3)
    """
    return _r2c(input, s, dim, norm, "rfft2")


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a real input, one-sided: ``n // 2 + 1`` frequencies.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.rfft(gradwalk.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([10.+0.j, -2.+2.j, -2.+0.j])
    """
    return _r2c(input, *_one(n, dim), norm, "rfft")


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of ``hfftn``: ``conj(rfftn(input))`` under the dual norm, of a real input.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.ihfftn(gradwalk.ones(2, 2))[0, 0]
        tensor(1.-0.j)
    """
    return _r2c(input, s, dim, norm, "ihfftn", inverse=True)


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """``ihfftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.ihfft2(gradwalk.ones(3, 4)).shape)
        (3, 3)
    """
    return _r2c(input, s, dim, norm, "ihfft2", inverse=True)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``hfft``: ``conj(rfft(input)) / n`` for the default norm.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.ihfft(gradwalk.tensor([4.0, 0.0, 0.0, 0.0]))
        tensor([1.-0.j, 1.-0.j, 1.-0.j])
    """
    return _r2c(input, *_one(n, dim), norm, "ihfft", inverse=True)


def _c2r(input, s, dim, norm, name, hermitian=False):
    x = _input(input, name, "any")
    sizes, axes = _args(x, s, dim, name, c2r=True)
    norm = _norm(norm, name)
    if hermitian:  # hfft: irfft of the conjugate under the dual norm
        return _ops.c2r(_conj(x), axes, _DUAL[norm], sizes)
    return _ops.c2r(x, axes, norm, sizes)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of ``rfftn``: a real signal of sizes ``s`` from a one-sided spectrum (real
    or complex).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.irfftn(gradwalk.ones(2, 2))
        tensor([[1., 0.],
                [0., 0.]])
    """
    return _c2r(input, s, dim, norm, "irfftn")


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """``irfftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.irfft2(gradwalk.ones(2, 2)).shape)
        (2, 2)
    """
    return _c2r(input, s, dim, norm, "irfft2")


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``rfft``: a real signal of length ``n`` (``2 (m - 1)`` by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.irfft(gradwalk.tensor([1.0, 1.0]), n=3)
        tensor([1., 0., 0.])
    """
    return _c2r(input, *_one(n, dim), norm, "irfft")


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The n-D transform of a Hermitian-symmetric signal given by its half: a real result.

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.hfftn(gradwalk.ones(2, 2))
        tensor([[4., 0.],
                [0., 0.]])
    """
    return _c2r(input, s, dim, norm, "hfftn", hermitian=True)


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """``hfftn`` over two dimensions (the last two by default).

    Example:
        >>> import gradwalk
        >>> tuple(gradwalk.fft.hfft2(gradwalk.ones(2, 2)).shape)
        (2, 2)
    """
    return _c2r(input, s, dim, norm, "hfft2", hermitian=True)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: a real result
    of length ``n`` (``2 (m - 1)`` by default).

    Example:
        >>> import gradwalk
        >>> gradwalk.fft.hfft(gradwalk.tensor([1.0, 1.0]))
        tensor([2., 0.])
    """
    return _c2r(input, *_one(n, dim), norm, "hfft", hermitian=True)


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
