"""``gradwalk.optim``: optimizers and learning-rate schedules with PyTorch's formulas.

Example:
    >>> import gradwalk
    >>> w = gradwalk.tensor([2.0], requires_grad=True)
    >>> opt = gradwalk.optim.Adam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> w.item() < 2.0
    True
"""

from . import lr_scheduler
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .first_order import ASGD, Adadelta, Adamax, NAdam, RAdam
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "NAdam", "RAdam", "ASGD", "LBFGS", "Rprop", "Adafactor", "lr_scheduler"]
