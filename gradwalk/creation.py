"""Tensor factories (PyTorch's names, arguments and defaults) and the random number generator."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _device
from . import dtypes as _dt
from .backend import get_namespace, to_numpy
from .ops.arrays import to_array as _to_array
from .tensor import Tensor

# the spellings a ``dtype=`` argument accepts: a gradwalk dtype, a NumPy dtype or scalar type, or
# a name ("float32"); and the Python numbers a fill value or a range bound may be
DTypeLike = _dt.dtype | np.dtype | type | str
DeviceLike = _device.device | str | int  # Note [device objects]
Scalar = int | float | bool


class Generator:
    """A random number generator; ``manual_seed`` makes runs repeatable.

    Example:
        >>> import gradwalk
        >>> g = gradwalk.Generator().manual_seed(0)
        >>> gradwalk.rand(2, generator=g).shape
        gradwalk.Size([2])
    """

    def __init__(self, device: str = "cpu") -> None:
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._rng = np.random.default_rng(self._seed)
        self.device = device

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if not -2**63 <= seed < 2**64:  # torch's range; negative seeds wrap as in torch
            raise ValueError(f"manual_seed: seed {seed} is outside [-2**63, 2**64 - 1]")
        self._seed = seed % 2**64
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        state = json.dumps(self._rng.bit_generator.state).encode()
        return Tensor._wrap(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, state: Tensor) -> Generator:
        self._rng.bit_generator.state = json.loads(bytes(state._data.astype(np.uint8)).decode())
        return self


default_generator = Generator()


def _rng(generator: Generator | None = None) -> np.random.Generator:
    return (generator or default_generator)._rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (``rand``, ``randn``, ``dropout``, init...).

    Example:
        >>> import gradwalk
        >>> _ = gradwalk.manual_seed(0); a = gradwalk.rand(3)
        >>> _ = gradwalk.manual_seed(0); bool((a == gradwalk.rand(3)).all())
        True
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, got {type(s).__name__} in "
                            f"{tuple(size)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


_check_layout = _device.check_layout


def _factory(fn: Callable) -> Callable:
    """PyTorch's factory keywords ``layout=`` (only ``gradwalk.strided``), ``pin_memory=``
    (ignored: no GPU staging here) and ``memory_format=``, for the factory ``fn``."""
    like = fn.__name__.endswith("_like")

    @functools.wraps(fn)
    def factory(*args, layout=None, pin_memory=False, memory_format=None, **kwargs):
        _device.check_layout(layout, fn.__name__)
        fmt = _device.check_memory_format(memory_format, fn.__name__)
        out = fn(*args, **kwargs)
        if like and fmt is _device.preserve_format:
            src = args[0] if args else kwargs.get("input")
            fmt = _like_format(src._data) if isinstance(src, Tensor) else fmt
        if fmt is not _device.preserve_format:
            out = out._in_format(fmt, fn.__name__)
        return out

    return factory


def _like_format(arr) -> _device.memory_format:
    """The memory format ``preserve_format`` keeps: channels-last inputs stay channels-last."""
    if not arr.flags.c_contiguous:
        for fmt in (_device.channels_last, _device.channels_last_3d):
            if _device.is_format(arr, fmt):
                return fmt
    return _device.preserve_format


def _finish(arr, dtype, device, requires_grad) -> Tensor:
    device = _device.as_device_str(device)
    if device is not None and not device.startswith("cpu"):
        arr = get_namespace(device).asarray(arr)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return _dt.get_default_dtype().np if dtype is None else _dt.to_numpy_dtype(dtype)


def _random_float_dtype(dtype, op: str):
    """The dtype of ``rand``/``randn``: floating point only (ints would silently be all zeros)."""
    npd = _float_dtype(dtype)
    if npd.kind != "f":
        raise TypeError(f"{op}(): expected a floating point dtype, got "
                        f"{_dt.from_numpy_dtype(npd)}; use randint() for integers")
    return npd


@_factory
def tensor(data: Any, *, dtype: DTypeLike | None = None, device: DeviceLike | None = None,
           requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors).

    Python floats give the default dtype (float32); ints give int64; bools give bool.
    ``name`` labels the tensor in the graph tools.

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor(3.0, requires_grad=True)
        tensor(3., requires_grad=True)
        >>> gradwalk.tensor([[1, 2], [3, 4]]).dtype
        gradwalk.int64
    """
    if isinstance(data, Tensor):
        data = data._data
    arr = _to_array(data, dtype)
    if isinstance(data, np.ndarray) and arr is data:
        arr = arr.copy()
    t = _finish(arr, dtype, device, requires_grad)
    if name is not None:
        t.name = name
    return t


@_factory
def as_tensor(data: Any, dtype: DTypeLike | None = None,
              device: DeviceLike | None = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can.

    Example:
        >>> import gradwalk, numpy as np
        >>> a = np.zeros(2)
        >>> gradwalk.as_tensor(a).numpy() is a
        True
    """
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and dtype is None:
        _dt.from_numpy_dtype(data.dtype)
        return Tensor._wrap(data)
    return _finish(_to_array(data, dtype), dtype, device, False)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype is kept).

    Example:
        >>> import gradwalk, numpy as np
        >>> gradwalk.from_numpy(np.arange(3))
        tensor([0, 1, 2])
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_dtype(ndarray.dtype)
    return Tensor._wrap(ndarray)


@_factory
def zeros(*size: int | Sequence[int], dtype: DTypeLike | None = None,
          device: DeviceLike | None = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(2, 3).shape
        gradwalk.Size([2, 3])
    """
    return _finish(np.zeros(_size(size), dtype=_float_dtype(dtype)), dtype, device, requires_grad)


@_factory
def ones(*size: int | Sequence[int], dtype: DTypeLike | None = None,
         device: DeviceLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    Example:
        >>> import gradwalk
        >>> gradwalk.ones(2)
        tensor([1., 1.])
    """
    return _finish(np.ones(_size(size), dtype=_float_dtype(dtype)), dtype, device, requires_grad)


@_factory
def empty(*size: int | Sequence[int], dtype: DTypeLike | None = None,
          device: DeviceLike | None = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (zeros here, to keep runs repeatable).

    Example:
        >>> import gradwalk
        >>> gradwalk.empty(3).shape
        gradwalk.Size([3])
    """
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@_factory
def full(size: int | Sequence[int], fill_value: Scalar, *, dtype: DTypeLike | None = None,
         device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as in PyTorch).

    Example:
        >>> import gradwalk
        >>> gradwalk.full((2,), 7)
        tensor([7, 7])
    """
    if dtype is None:
        if isinstance(fill_value, bool):
            npd = np.bool_
        elif isinstance(fill_value, int):
            npd = np.int64
        elif isinstance(fill_value, complex):
            npd = _dt.default_complex_np()
        else:
            npd = _dt.get_default_dtype().np
    else:
        npd = _dt.to_numpy_dtype(dtype)
    return _finish(np.full(_size((size,) if isinstance(size, int) else (tuple(size),)),
                           fill_value, dtype=npd), dtype, device, requires_grad)


def _like(input: Tensor, dtype):
    return input._data.dtype if dtype is None else _dt.to_numpy_dtype(dtype)


@_factory
def zeros_like(input: Tensor, *, dtype: DTypeLike | None = None, device: DeviceLike | None = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype) of ``input``.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros_like(gradwalk.ones(2))
        tensor([0., 0.])
    """
    return _finish(np.zeros(input.shape, dtype=_like(input, dtype)), dtype,
                   device or input.device, requires_grad)


@_factory
def ones_like(input: Tensor, *, dtype: DTypeLike | None = None, device: DeviceLike | None = None,
              requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype) of ``input``.

    Example:
        >>> import gradwalk
        >>> gradwalk.ones_like(gradwalk.zeros(2))
        tensor([1., 1.])
    """
    return _finish(np.ones(input.shape, dtype=_like(input, dtype)), dtype,
                   device or input.device, requires_grad)


@_factory
def empty_like(input: Tensor, *, dtype: DTypeLike | None = None, device: DeviceLike | None = None,
               requires_grad: bool = False) -> Tensor:
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


@_factory
def full_like(input: Tensor, fill_value: Scalar, *, dtype: DTypeLike | None = None,
              device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and dtype) of ``input``.

    Example:
        >>> import gradwalk
        >>> gradwalk.full_like(gradwalk.zeros(2), 3.5)
        tensor([3.5000, 3.5000])
    """
    return _finish(np.full(input.shape, fill_value, dtype=_like(input, dtype)), dtype,
                   device or input.device, requires_grad)


@_factory
def rand(*size: int | Sequence[int], generator: Generator | None = None,
         dtype: DTypeLike | None = None, device: DeviceLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.rand(1000)
        >>> bool((x >= 0).all() and (x < 1).all())
        True
    """
    npd = _random_float_dtype(dtype, "rand")
    return _finish(_rng(generator).random(_size(size)).astype(npd), dtype, device,
                   requires_grad)


@_factory
def randn(*size: int | Sequence[int], generator: Generator | None = None,
          dtype: DTypeLike | None = None, device: DeviceLike | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers.

    Example:
        >>> import gradwalk
        >>> gradwalk.randn(2, 3).dtype
        gradwalk.float32
    """
    npd = _random_float_dtype(dtype, "randn")
    return _finish(_rng(generator).standard_normal(_size(size)).astype(npd), dtype, device,
                   requires_grad)


@_factory
def rand_like(input: Tensor, *, dtype: DTypeLike | None = None,
              device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


@_factory
def randn_like(input: Tensor, *, dtype: DTypeLike | None = None,
               device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


@_factory
def randint(low: int, high: int | None = None, size: int | Sequence[int] | None = None, *,
            generator: Generator | None = None, dtype: DTypeLike | None = None,
            device: DeviceLike | None = None) -> Tensor:
    """Random integers in ``[low, high)`` (``randint(high, size)`` also works).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.randint(0, 10, (5,))
        >>> x.dtype, bool((x < 10).all())
        (gradwalk.int64, True)
    """
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    npd = np.int64 if dtype is None else _dt.to_numpy_dtype(dtype)
    return _finish(_rng(generator).integers(low, high, size=_size((size,) if isinstance(
        size, int) else (tuple(size),))).astype(npd), dtype, device, False)


@_factory
def randint_like(input: Tensor, low: int = 0, high: int | None = None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=input.dtype)


@_factory
def randperm(n: int, *, generator: Generator | None = None, dtype: DTypeLike | None = None,
             device: DeviceLike | None = None) -> Tensor:
    """A random permutation of ``0..n-1``.

    Example:
        >>> import gradwalk
        >>> sorted(gradwalk.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    npd = np.int64 if dtype is None else _dt.to_numpy_dtype(dtype)
    return _finish(_rng(generator).permutation(n).astype(npd), dtype, device, False)


def normal(mean: float | Tensor = 0.0, std: float | Tensor = 1.0,
           size: int | Sequence[int] | None = None, *, generator: Generator | None = None,
           dtype: DTypeLike | None = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal random numbers with the given mean and std: the dtype of ``mean`` when it is a
    tensor (else of ``std``), for numbers the default dtype (or ``dtype=``).

    Example:
        >>> import gradwalk
        >>> gradwalk.normal(0.0, 1.0, (3,)).shape
        gradwalk.Size([3])
        >>> gradwalk.normal(gradwalk.zeros(2, dtype=gradwalk.float64), 1.0).dtype
        gradwalk.float64
    """
    _check_layout(layout, "normal")
    m = to_numpy(mean._data) if isinstance(mean, Tensor) else mean
    s = to_numpy(std._data) if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    elif isinstance(size, int):
        size = (size,)
    tensors = [t._data.dtype for t in (mean, std) if isinstance(t, Tensor)]
    if tensors and dtype is None:
        npd = tensors[0]  # mean's dtype when it is a tensor, else std's (as PyTorch)
        if npd.kind != "f":
            raise NotImplementedError(f"normal: mean and std must be floating-point tensors, "
                                      f"got {_dt.from_numpy_dtype(npd)}")
    else:
        npd = _float_dtype(dtype)
    arr = (_rng(generator).standard_normal(tuple(size)) * s + m).astype(npd)
    return _finish(arr, dtype, device, requires_grad)


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    probs = input._data if p is None else np.full(input.shape, p)
    return Tensor._wrap((_rng(generator).random(input.shape) < probs).astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    p = np.asarray(input._data, dtype=np.float64)
    rows = p.reshape(-1, p.shape[-1])
    out = [_rng(generator).choice(rows.shape[1], size=num_samples, replace=replacement,
                                  p=r / r.sum()) for r in rows]
    res = np.stack(out).astype(np.int64)
    return Tensor._wrap(res.reshape(p.shape[:-1] + (num_samples,)))


@_factory
def arange(start: Scalar, end: Scalar | None = None, step: Scalar = 1, *,
           dtype: DTypeLike | None = None, device: DeviceLike | None = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for ints, else the
    default float dtype.

    Example:
        >>> import gradwalk
        >>> gradwalk.arange(3), gradwalk.arange(0, 1, 0.25)
        (tensor([0, 1, 2]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        npd = np.dtype(np.int64) if is_int else _dt.get_default_dtype().np
    else:
        npd = _dt.to_numpy_dtype(dtype)
    arr = np.arange(start, end, step, dtype=np.float64 if npd.kind == "f" else None)
    return _finish(arr.astype(npd), dtype, device, requires_grad)


@_factory
def linspace(start: Scalar, end: Scalar, steps: int, *, dtype: DTypeLike | None = None,
             device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Example:
        >>> import gradwalk
        >>> gradwalk.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    if dtype is None and any(isinstance(v, complex) for v in (start, end)):
        dtype = _dt.from_numpy_dtype(_dt.default_complex_np())  # PyTorch's: a complex result
    return _finish(np.linspace(start, end, steps).astype(_float_dtype(dtype)), dtype, device,
                   requires_grad)


@_factory
def logspace(start: Scalar, end: Scalar, steps: int, base: float = 10.0, *,
             dtype: DTypeLike | None = None) -> Tensor:
    return Tensor._wrap(np.logspace(start, end, steps, base=base).astype(_float_dtype(dtype)))


@_factory
def eye(n: int, m: int | None = None, *, dtype: DTypeLike | None = None,
        device: DeviceLike | None = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` x ``m``).

    Example:
        >>> import gradwalk
        >>> gradwalk.eye(2)
        tensor([[1., 0.],
                [0., 1.]])
    """
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), dtype, device, requires_grad)
