"""``gradwalk.nn.utils``: helpers around training (gradient clipping).

Example:
    >>> import gradwalk
    >>> w = gradwalk.ones(4, requires_grad=True)
    >>> (w * 3).sum().backward()
    >>> float(gradwalk.nn.utils.clip_grad_norm_([w], max_norm=1.0))
    6.0
"""

from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
from . import rnn  # noqa: F401 - PackedSequence and the pack/pad helpers
