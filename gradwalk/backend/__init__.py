"""Array namespaces. Everything above this package asks here for the ``xp`` of its data.

NumPy is the default; CuPy is used for arrays that live on a GPU when it is installed.
"""

from __future__ import annotations

import numpy as np

ndarray = np.ndarray

try:  # optional GPU backend
    import cupy as _cupy  # type: ignore[import-not-found]
except Exception:  # pragma: no cover - absent on CPU machines
    _cupy = None


def xp_of(data):
    """The array namespace (numpy or cupy) that owns ``data``.

    Example:
        >>> import numpy as np
        >>> from gradwalk.backend import xp_of
        >>> xp_of(np.zeros(2)) is np
        True
    """
    if type(data) is np.ndarray or _cupy is None:
        return np
    if isinstance(data, _cupy.ndarray):
        return _cupy
    return np


def get_namespace(device: str | None):
    """The namespace for a device name: ``"cpu"`` (numpy) or ``"cuda"`` (cupy)."""
    if device is None or str(device).startswith("cpu"):
        return np
    if str(device).startswith("cuda"):
        if _cupy is None:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed; install it with "
                "`pip install cupy-cuda12x` on a machine with an NVIDIA GPU, or use device='cpu'"
            )
        return _cupy
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def device_of(data) -> str:
    return "cpu" if xp_of(data) is np else "cuda:0"


def to_numpy(data) -> np.ndarray:
    if type(data) is np.ndarray:
        return data
    if _cupy is not None and isinstance(data, _cupy.ndarray):
        return _cupy.asnumpy(data)
    return np.asarray(data)
