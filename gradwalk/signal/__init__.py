"""``gradwalk.signal``: PyTorch's ``torch.signal`` (its ``windows`` namespace).

Example:
    >>> import gradwalk
    >>> gradwalk.signal.windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

from . import windows

__all__ = ["windows"]
