"""``gradwalk.nn.init``: fill tensors in place with PyTorch's initialisation schemes.

Every function writes into ``tensor`` without recording a graph (as under ``no_grad``), draws
from gradwalk's random generator (``gradwalk.manual_seed`` makes it repeatable) and returns the
tensor.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import xp_of
from ..creation import _rng as _creation_rng
from ..tensor import Tensor

_GAINS_ONE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")


def _write(tensor: Tensor, values) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")
    data = tensor._data
    if isinstance(data, np.ndarray):
        data[...] = values
    else:  # another backend (cupy): convert on its side
        data[...] = xp_of(data).asarray(values)
    tensor._vc[0] += 1
    return tensor


def _rng(generator=None):
    return _creation_rng(generator)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (scales the init's standard deviation).

    Example:
        >>> from gradwalk.nn import init
        >>> init.calculate_gain("relu"), init.calculate_gain("tanh")
        (1.4142135623730951, 1.6666666666666667)
    """
    if nonlinearity in _GAINS_ONE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) features times the receptive field size.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> init._calculate_fan_in_and_fan_out(gradwalk.empty(8, 3, 5, 5))
        (75, 200)
    """
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from U(a, b).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> w = init.uniform_(gradwalk.empty(1000), -1.0, 1.0)
        >>> bool((w >= -1).all() and (w < 1).all())
        True
    """
    return _write(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from N(mean, std**2).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> _ = gradwalk.manual_seed(0)
        >>> w = init.normal_(gradwalk.empty(10000), 2.0, 0.5)
        >>> round(float(w.mean()), 1), round(float(w.std()), 1)
        (2.0, 0.5)
    """
    return _write(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std**2) values redrawn until they lie in [a, b].

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> w = init.trunc_normal_(gradwalk.empty(1000), a=-1.0, b=1.0)
        >>> bool((w.abs() <= 1).all())
        True
    """
    rng = _rng(generator)
    out = rng.normal(mean, std, size=tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    return _write(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.init.constant_(gradwalk.empty(2), 0.5)
        tensor([0.5000, 0.5000])
    """
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.init.ones_(gradwalk.empty(2))
        tensor([1., 1.])
    """
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.init.zeros_(gradwalk.empty(2))
        tensor([0., 0.])
    """
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix.

    Example:
        >>> import gradwalk
        >>> gradwalk.nn.init.eye_(gradwalk.empty(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> w = init.xavier_uniform_(gradwalk.empty(30, 20))
        >>> bool((w.abs() <= (6 / 50) ** 0.5).all())
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> _ = gradwalk.manual_seed(0)
        >>> round(float(init.xavier_normal_(gradwalk.empty(200, 200)).std()), 2)
        0.07
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``, ``gain`` from ``nonlinearity``
    (and the negative slope ``a`` for leaky_relu).

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> w = init.kaiming_uniform_(gradwalk.empty(10, 6), nonlinearity="relu")
        >>> bool((w.abs() <= 1.0).all())
        True
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)``.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> _ = gradwalk.manual_seed(0)
        >>> w = init.kaiming_normal_(gradwalk.empty(400, 50), nonlinearity="relu")
        >>> round(float(w.std()), 1)
        0.2
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix.

    Example:
        >>> import gradwalk
        >>> from gradwalk.nn import init
        >>> q = init.orthogonal_(gradwalk.empty(3, 3, dtype=gradwalk.float64))
        >>> bool(((q @ q.T) - gradwalk.eye(3, dtype=gradwalk.float64)).abs().max() < 1e-12)
        True
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).normal(size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-5-D conv weight with the Dirac delta (the conv is the identity).

    Example:
        >>> import gradwalk
        >>> w = gradwalk.nn.init.dirac_(gradwalk.empty(2, 2, 3))
        >>> w[0, 0].tolist(), w[0, 1].tolist()
        ([0.0, 1.0, 0.0], [0.0, 0.0, 0.0])
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_per_group = tensor.shape[0] // groups
    min_dim = min(out_per_group, tensor.shape[1])
    vals = np.zeros(tensor.shape)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min_dim):
            vals[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, vals)
