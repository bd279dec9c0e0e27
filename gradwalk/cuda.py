"""``gradwalk.cuda``: PyTorch's CUDA query functions, answered by the CuPy backend.

A GPU is usable when CuPy is installed and sees a device (``pip install cupy-cuda12x``);
otherwise ``is_available()`` is False and the functions that need a device raise PyTorch's
error, so the usual ``device = "cuda" if torch.cuda.is_available() else "cpu"`` works as it
does with PyTorch on a CPU-only machine.

Example:
    >>> import gradwalk
    >>> gradwalk.cuda.is_available() in (True, False)
    True
"""

from __future__ import annotations

from .backend import _cupy
from .creation import manual_seed as _manual_seed


def _count() -> int:
    if _cupy is None:
        return 0
    try:
        return int(_cupy.cuda.runtime.getDeviceCount())
    except Exception:  # CuPy without a driver or a device
        return 0


def _need_device(what: str) -> None:
    if not is_available():
        raise RuntimeError(
            f"gradwalk.cuda.{what}(): no CUDA device is available (gradwalk uses CuPy for the "
            "GPU: install it with `pip install cupy-cuda12x` on a machine with an NVIDIA GPU), "
            "or keep the model on the CPU")


def is_available() -> bool:
    """True when a CUDA device can be used (CuPy installed and a GPU present).

    Example:
        >>> import gradwalk
        >>> isinstance(gradwalk.cuda.is_available(), bool)
        True
    """
    return _count() > 0


def device_count() -> int:
    """The number of CUDA devices (0 without CuPy or a GPU).

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.device_count() >= 0
        True
    """
    return _count()


def is_initialized() -> bool:
    """Whether CUDA is in use (as PyTorch answers before any CUDA work).

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.is_initialized() in (True, False)
        True
    """
    return is_available()


def current_device() -> int:
    """The index of the current CUDA device.

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.current_device() if gradwalk.cuda.is_available() else 0
        0
    """
    _need_device("current_device")
    return int(_cupy.cuda.runtime.getDevice())


def get_device_name(device: int | None = None) -> str:
    """The name of a CUDA device.

    Example:
        >>> import gradwalk
        >>> isinstance(gradwalk.cuda.get_device_name(), str) if gradwalk.cuda.is_available() \\
        ...     else True
        True
    """
    _need_device("get_device_name")
    index = 0 if device is None else int(str(device).split(":")[-1])
    name = _cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device: int | None = None) -> None:
    """Wait for all work on the GPU to finish.

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.synchronize() if gradwalk.cuda.is_available() else None
    """
    _need_device("synchronize")
    _cupy.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed the random numbers for the GPU (gradwalk draws them all from one generator).

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.manual_seed(0)
    """
    _manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the random numbers of every GPU (one generator in gradwalk).

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.manual_seed_all(0)
    """
    _manual_seed(seed)


def empty_cache() -> None:
    """Release the GPU memory pool's unused blocks (nothing to do without a GPU).

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.empty_cache()
    """
    if _cupy is not None and is_available():
        _cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device: int | None = None) -> int:
    """Bytes of GPU memory held by tensors (0 without a GPU).

    Example:
        >>> import gradwalk
        >>> gradwalk.cuda.memory_allocated() >= 0
        True
    """
    if _cupy is None or not is_available():
        return 0
    return int(_cupy.get_default_memory_pool().used_bytes())


__all__ = ["is_available", "device_count", "is_initialized", "current_device",
           "get_device_name", "synchronize", "manual_seed", "manual_seed_all", "empty_cache",
           "memory_allocated"]
