"""PyTorch's small metadata objects: ``device``, ``layout`` (``strided``) and ``memory_format``
(``contiguous_format``, ``channels_last``, ``preserve_format``...).

Note [device objects]
    ``Tensor.device`` is a ``device``, as in PyTorch (``x.device.type == "cpu"``); every
    ``device=`` argument takes a ``device``, a string (``"cpu"``, ``"cuda:0"``) or a GPU index.
    ``device`` compares equal to a ``device`` only: ``x.device == "cpu"`` is False in PyTorch
    too, so code compares ``str(x.device)`` or ``x.device.type``. ``str(d)`` is the string the
    backends take (``backend.get_namespace``).
"""

from __future__ import annotations

from typing import Any

_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")


class device:
    """Where a tensor's data lives: ``device("cpu")``, ``device("cuda:0")``,
    ``device("cuda", 1)``; ``.type`` and ``.index`` (None when not given).

    Example:
        >>> import gradwalk
        >>> gradwalk.device("cuda:1")
        device(type='cuda', index=1)
        >>> d = gradwalk.zeros(2).device
        >>> d, str(d), d.type, d.index
        (device(type='cpu'), 'cpu', 'cpu', None)
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # torch's name
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): an index cannot be given with a device")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            if index is not None:
                raise TypeError("device(): an index cannot be given with a device index")
            from . import cuda

            if not cuda.is_available():  # an index names the accelerator, as in PyTorch
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not {_name(type)}")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                            f"{_name(index)}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        kind, sep, rest = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not rest.isdigit() or (len(rest) > 1 and rest[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(rest)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self._type, self._index = kind, index

    @property
    def type(self) -> str:
        """The kind of device: ``"cpu"``, ``"cuda"``..."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device's number, or None when it was not given (``device("cuda")``)."""
        return self._index

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented if not isinstance(other, str) else False
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (str(self),))


def _name(x: object) -> str:
    return type(x).__name__


_CPU = device("cpu")
_CUDA0 = device("cuda", 0)


def device_object(where: str) -> device:
    """The ``device`` of a backend's device string (``"cpu"``, ``"cuda:0"``), shared."""
    if where == "cpu":
        return _CPU
    if where == "cuda:0":
        return _CUDA0
    return device(where)


def as_device_str(d: Any) -> str | None:
    """A ``device=`` argument (a ``device``, a string, a GPU index, or None) as the backend's
    string, checked (Note [device objects])."""
    if d is None:
        return None
    if isinstance(d, str) and d == "cpu":
        return d
    return str(device(d))


class _Named:
    """A named constant printed as PyTorch prints it (``gradwalk.strided``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"gradwalk.{self.name}"

    def __reduce__(self):
        return self.name  # pickled by reference to the module's constant


class layout(_Named):
    """A tensor's memory layout: gradwalk tensors are dense, ``gradwalk.strided``.

    Example:
        >>> import gradwalk
        >>> gradwalk.zeros(2).layout
        gradwalk.strided
    """

    __slots__ = ()
    __module__ = "gradwalk"


class memory_format(_Named):
    """How a tensor's elements are ordered in memory: ``contiguous_format`` (row-major),
    ``channels_last`` (NHWC for 4-d), ``channels_last_3d`` (NDHWC for 5-d), ``preserve_format``
    (keep the input's).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.zeros(1, 2, 3, 3).contiguous(memory_format=gradwalk.channels_last)
        >>> x.is_contiguous(memory_format=gradwalk.channels_last), x.is_contiguous()
        (True, False)
    """

    __slots__ = ()
    __module__ = "gradwalk"


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def check_layout(value: Any, op: str) -> None:
    """Accept ``layout=None`` or ``gradwalk.strided``; other layouts (sparse) are refused."""
    if value is None or value is strided:
        return
    if isinstance(value, layout):
        raise NotImplementedError(f"{op}(): layout {value!r} is not supported; gradwalk tensors "
                                  f"are dense (gradwalk.strided)")
    raise TypeError(f"{op}(): layout must be a gradwalk.layout such as gradwalk.strided, not "
                    f"{type(value).__name__}")


def check_memory_format(value: Any, op: str) -> memory_format:
    """A ``memory_format=`` argument, checked (None means ``preserve_format``)."""
    if value is None:
        return preserve_format
    if not isinstance(value, memory_format):
        raise TypeError(f"{op}(): memory_format must be a gradwalk.memory_format such as "
                        f"gradwalk.contiguous_format, not {type(value).__name__}")
    return value


_PERMS = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def in_format(arr, fmt: memory_format):
    """``arr`` laid out in ``fmt`` (a copy when it is not already): the same values, the
    strides PyTorch gives that format (``preserve_format`` keeps ``arr``)."""
    if fmt is preserve_format:
        return arr
    if fmt is contiguous_format:
        return arr if arr.flags.c_contiguous else arr.copy()
    ndim, perm = _PERMS[fmt]
    if arr.ndim != ndim:
        raise RuntimeError(f"required rank {ndim} tensor to use {fmt.name} format")
    if is_format(arr, fmt):
        return arr
    inverse = [perm.index(k) for k in range(ndim)]
    return arr.transpose(perm).copy().transpose(inverse)


def is_format(arr, fmt: memory_format) -> bool:
    """Whether ``arr``'s strides are those of ``fmt`` (``is_contiguous(memory_format=)``)."""
    if fmt is contiguous_format or fmt is preserve_format:
        return bool(arr.flags.c_contiguous)
    ndim, perm = _PERMS[fmt]
    return arr.ndim == ndim and bool(arr.transpose(perm).flags.c_contiguous)
