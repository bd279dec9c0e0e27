"""``gradwalk.nn.functional``: the neural-network ops as functions, PyTorch's names."""

from ..ops.losses import (  # noqa: F401
    binary_cross_entropy,
    huber_loss,
    l1_loss,
    smooth_l1_loss,
)
from ..ops.nn import (  # noqa: F401
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ..ops.shape import pad  # noqa: F401
