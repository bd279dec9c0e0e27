"""``gradwalk.backends``: PyTorch's backend switches, for programs that set them.

gradwalk computes with NumPy (or CuPy), so cuDNN, MPS and the CPU's oneDNN are not used: the
flags exist so that ``torch.backends.cudnn.benchmark = True`` and friends run unchanged, and the
``is_available()`` queries answer truthfully (False).

Example:
    >>> import gradwalk
    >>> gradwalk.backends.cudnn.benchmark = True
    >>> gradwalk.backends.mps.is_available()
    False
"""

from __future__ import annotations

from types import SimpleNamespace


def _false() -> bool:
    return False


cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False,
                        allow_tf32=True, is_available=_false, version=lambda: None)
mps = SimpleNamespace(is_available=_false, is_built=_false)
mkldnn = SimpleNamespace(enabled=False, is_available=_false)
openmp = SimpleNamespace(is_available=_false)
cuda = SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False,
                                                               allow_fp16_reduced_precision_reduction=True))
__all__ = ["cudnn", "mps", "mkldnn", "openmp", "cuda"]
