"""``gradwalk.signal.windows``: PyTorch's window functions, and the ``*_window`` factories.

Each window is computed in float64 NumPy on PyTorch's grid (``torch.linspace`` of the same
start, end and steps, so ``sym=False`` gives the periodic window of length ``M``) and made a
tensor of the requested dtype (float32 or float64; the default dtype when none is given).
Windows are constants: ``requires_grad=True`` makes a leaf, as in PyTorch.

Example:
    >>> import gradwalk
    >>> gradwalk.signal.windows.bartlett(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..creation import tensor as _tensor
from ..dtypes import float32, float64, from_numpy_dtype, get_default_dtype, to_numpy_dtype
from ..ops.special_bessel import i0_kernel
from ..tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _checks(name: str, M: int, dtype, layout=None):
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and str(layout).split(".")[-1] != "strided":
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    d = get_default_dtype() if dtype is None else from_numpy_dtype(to_numpy_dtype(dtype))
    if d not in (float32, float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {d}")
    return d


def _make(values, d, requires_grad: bool) -> Tensor:
    return _tensor(np.asarray(values, dtype=np.float64).astype(d.np), requires_grad=requires_grad)


def _grid(start: float, end: float, steps: int) -> np.ndarray:
    """``torch.linspace(start, end, steps)`` in float64."""
    return np.linspace(start, end, steps) if steps > 1 else np.full(steps, float(start))


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The exponential (Poisson) window ``exp(-|n - center| / tau)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.exponential(3)
        tensor([0.3679, 1.0000, 0.3679])
    """
    d = _checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    k = _grid(-center / tau, (-center + (M - 1)) / tau, M)
    return _make(np.exp(-np.abs(k)), d, requires_grad)


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """The cosine (sine) window ``sin(pi (n + 1/2) / M)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.cosine(3)
        tensor([0.5000, 1.0000, 0.5000])
    """
    d = _checks("cosine", M, dtype, layout)
    c = math.pi / (M + 1 if not sym and M > 1 else M) if M else 0.0
    return _make(np.sin(_grid(0.5 * c, (0.5 + (M - 1)) * c, M)), d, requires_grad)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """The Gaussian window ``exp(-(n / (2 std))**2 / ...)`` centred on the window.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.gaussian(3)
        tensor([0.6065, 1.0000, 0.6065])
    """
    d = _checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    c = 1.0 / (std * math.sqrt(2.0))
    k = _grid(start * c, (start + (M - 1)) * c, M)
    return _make(np.exp(-(k * k)), d, requires_grad)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - (2n/(M-1) - 1)**2)) / I0(beta)``.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.kaiser(3, beta=1.0)
        tensor([0.7898, 1.0000, 0.7898])
    """
    d = _checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _make(np.ones(M), d, requires_grad)
    beta = float(np.asarray(beta, dtype=d.np))
    c = 2.0 * beta / (M if not sym else M - 1)
    k = _grid(-beta, min(beta, -beta + (M - 1) * c), M)
    with np.errstate(invalid="ignore"):
        w = i0_kernel(np.sqrt(beta * beta - k * k)) / i0_kernel(np.asarray(beta))
    return _make(w, d, requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The Bartlett (triangular) window ``1 - |2n/(M-1) - 1|``.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.bartlett(3)
        tensor([0., 1., 0.])
    """
    d = _checks("bartlett", M, dtype, layout)
    if M <= 1:
        return _make(np.ones(M), d, requires_grad)
    c = 2.0 / (M if not sym else M - 1)
    return _make(1.0 - np.abs(_grid(-1.0, -1.0 + (M - 1) * c, M)), d, requires_grad)


def general_cosine(M: int, *, a: Iterable, sym: bool = True, dtype=None, layout=None,
                   device=None, requires_grad: bool = False) -> Tensor:
    """The generalized cosine window ``sum_i (-1)**i a_i cos(2 pi i n / (M-1))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.general_cosine(3, a=[0.5, 0.5])
        tensor([0., 1., 0.])
    """
    d = _checks("general_cosine", M, dtype, layout)
    if M <= 1:
        return _make(np.ones(M), d, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    a = list(a)
    if not a:
        raise ValueError("Coefficients cannot be empty")
    c = 2.0 * math.pi / (M if not sym else M - 1)
    k = _grid(0.0, (M - 1) * c, M)
    coef = np.array([(-1) ** i * float(w) for i, w in enumerate(a)])
    i = np.arange(len(a), dtype=np.float64)
    return _make((coef[:, None] * np.cos(i[:, None] * k)).sum(0), d, requires_grad)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """The generalized Hamming window ``alpha - (1 - alpha) cos(2 pi n / (M-1))``.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.general_hamming(3, alpha=0.5)
        tensor([0., 1., 0.])
    """
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The Hamming window (``general_hamming`` with alpha = 0.54).

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.hamming(3)
        tensor([0.0800, 1.0000, 0.0800])
    """
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """The Hann window (``general_hamming`` with alpha = 0.5).

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.hann(3)
        tensor([0., 1., 0.])
    """
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The Blackman window (cosine coefficients 0.42, 0.5, 0.08).

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.blackman(3)
        tensor([-1.3878e-17,  1.0000e+00, -1.3878e-17])
    """
    _checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The minimum 4-term Blackman-Harris window of Nuttall.

    Example:
        >>> import gradwalk
        >>> gradwalk.signal.windows.nuttall(3)
        tensor([3.6280e-04, 1.0000e+00, 3.6280e-04])
    """
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, requires_grad=requires_grad)


# ---- torch.<name>_window: periodic=True is the window of length N + 1 without its last point


def _periodic(fn, name, window_length, periodic, **kw):
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    return fn(window_length, sym=not periodic, **kw)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad: bool = False) -> Tensor:
    """``torch.hann_window``: the Hann window, periodic by default.

    Example:
        >>> import gradwalk
        >>> gradwalk.hann_window(4)
        tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return _periodic(hann, "hann_window", window_length, periodic, dtype=dtype,
                     requires_grad=requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """``torch.hamming_window``: ``alpha - beta cos(2 pi n / (N - 1))``, periodic by default.

    Example:
        >>> import gradwalk
        >>> gradwalk.hamming_window(4)
        tensor([0.0800, 0.5400, 1.0000, 0.5400])
    """
    if window_length < 0:
        raise RuntimeError(f"hamming_window requires non-negative window_length, got "
                           f"window_length={window_length}")
    d = _checks("hamming_window", window_length, dtype, layout)
    if window_length <= 1:
        return _make(np.ones(window_length), d, requires_grad)
    n = window_length + 1 if periodic else window_length
    w = alpha - beta * np.cos(2.0 * math.pi * np.arange(n) / (n - 1))
    return _make(w[:window_length], d, requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """``torch.blackman_window``: the Blackman window, periodic by default.

    Example:
        >>> import gradwalk
        >>> gradwalk.blackman_window(4)
        tensor([-1.3878e-17,  3.4000e-01,  1.0000e+00,  3.4000e-01])
    """
    return _periodic(blackman, "blackman_window", window_length, periodic, dtype=dtype,
                     requires_grad=requires_grad)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """``torch.bartlett_window``: the triangular window, periodic by default.

    Example:
        >>> import gradwalk
        >>> gradwalk.bartlett_window(4)
        tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return _periodic(bartlett, "bartlett_window", window_length, periodic, dtype=dtype,
                     requires_grad=requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """``torch.kaiser_window``: the Kaiser window, periodic by default.

    Example:
        >>> import gradwalk
        >>> gradwalk.kaiser_window(3, True, 1.0)
        tensor([0.7898, 0.9754, 0.9754])
    """
    if window_length < 0:
        raise RuntimeError(f"kaiser_window requires non-negative window_length, got "
                           f"window_length={window_length}")
    d = _checks("kaiser_window", window_length, dtype, layout)
    if window_length <= 1:
        return _make(np.ones(window_length), d, requires_grad)
    n = window_length + 1 if periodic else window_length
    x = 2.0 * np.arange(n) / (n - 1) - 1.0
    with np.errstate(invalid="ignore"):
        w = i0_kernel(beta * np.sqrt(np.clip(1.0 - x * x, 0.0, None))) / i0_kernel(
            np.asarray(float(beta)))
    return _make(w[:window_length], d, requires_grad)


WINDOW_FACTORIES = {"hann_window": hann_window, "hamming_window": hamming_window,
                    "blackman_window": blackman_window, "bartlett_window": bartlett_window,
                    "kaiser_window": kaiser_window}
