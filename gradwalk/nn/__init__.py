"""``gradwalk.nn``: neural-network building blocks with PyTorch's API.

``Module`` and the layers (``gradwalk.nn.modules``), ``Parameter``, ``init`` and ``functional``.

Example:
    >>> import gradwalk
    >>> from gradwalk import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> loss = nn.CrossEntropyLoss()(net(gradwalk.randn(5, 4)), gradwalk.tensor([0, 1, 2, 0, 1]))
    >>> loss.backward()
    >>> net[0].weight.grad.shape
    gradwalk.Size([8, 4])
"""

from . import functional, init, parallel
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "functional", "init", "parallel", *_modules_all]
from . import utils  # noqa: F401 - gradient clipping: gradwalk.nn.utils
