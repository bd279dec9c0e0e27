"""gradwalk: a small, fast reverse-mode automatic differentiation engine with PyTorch's surface.

Example:
    >>> import gradwalk as torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> y = x**2 + 2*x + 1
    >>> y.backward()
    >>> x.grad
    tensor(8.)
"""

from __future__ import annotations

from . import autograd
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .dtypes import (
    bool_,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .tensor import Tensor

from .creation import (  # noqa: E402, I001
    Generator,
    arange,
    as_tensor,
    bernoulli,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_rng_state,
    initial_seed,
    linspace,
    logspace,
    manual_seed,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from .ops.elementwise import (  # noqa: E402
    abs,
    absolute,
    acos,
    add,
    allclose,
    arccos,
    arcsin,
    arctan,
    asin,
    atan,
    ceil,
    clamp,
    clip,
    clone,
    cos,
    cosh,
    div,
    divide,
    eq,
    equal,
    erf,
    exp,
    expm1,
    float_power,
    floor,
    floor_divide,
    fmod,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    multiply,
    ne,
    neg,
    negative,
    not_equal,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from .ops.indexing import (  # noqa: E402
    gather,
    index_add,
    index_select,
    masked_fill,
    nonzero,
    scatter,
    scatter_add,
)
from .ops.linalg import bmm, dot, einsum, ger, inner, matmul, mm, mv, outer  # noqa: E402
from .ops.nn import log_softmax, softmax  # noqa: E402
from .ops.reductions import (  # noqa: E402
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from .ops.shape import (  # noqa: E402
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    flip,
    movedim,
    moveaxis,
    narrow,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
)
from . import nn  # noqa: E402
from . import optim  # noqa: E402
from . import data  # noqa: E402
from . import func  # noqa: E402
from .autograd import forward_ad, functional  # noqa: E402, F401 - torch.autograd.forward_ad
from .func import vmap  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import utils  # noqa: E402
from . import viz  # noqa: E402
from . import backends, cuda, onnx, testing  # noqa: E402, F401 - graphviz itself is imported only when a picture is rendered

bool = bool_  # noqa: A001 - PyTorch's name for the dtype
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    """True for gradwalk tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.is_tensor(gradwalk.zeros(1)), gradwalk.is_tensor([0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.is_floating_point()


def get_num_threads() -> int:
    import os

    return os.cpu_count() or 1
