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

import os as _os

from . import _warnings  # NumPy's floating-point warnings of internals stay quiet
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

from .creation import (
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
from .ops.elementwise import (
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
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
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
from .ops.generated import FUNCTIONS as _GENERATED

globals().update(_GENERATED)  # the functions generated from op declarations (gradwalk.cbrt)
from .ops.indexing import (
    gather,
    index_add,
    index_select,
    masked_fill,
    nonzero,
    scatter,
    scatter_add,
)
from .ops.linalg import bmm, dot, einsum, ger, inner, matmul, mm, mv, outer
from .ops.nn import log_softmax, softmax
from .ops.reductions import (
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
from .ops.shape import (
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
from .ops import dxp as _dxp

# The engine imports no op: it gets the Tensor class and the differentiable namespace here.
autograd.engine.bind(tensor=Tensor, differentiable=_dxp)

from . import nn
from . import optim
from . import data
from . import func
from .autograd import forward_ad, functional  # torch.autograd.forward_ad
from .func import vmap
from .serialization import load, save
from . import utils
from . import viz  # graphviz itself is imported only when a picture is rendered
from . import distributed  # mpi4py itself is imported by init_process_group
from . import backends, cuda, onnx, testing

autograd._load_all()  # the autograd API names (Note [autograd's two layers])

bool = bool_  # PyTorch's name for the dtype
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

__version__ = "0.1.0"


def is_tensor(obj: object) -> bool:
    """True for gradwalk tensors.

    Example:
        >>> import gradwalk
        >>> gradwalk.is_tensor(gradwalk.zeros(1)), gradwalk.is_tensor([0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def get_num_threads() -> int:
    return _os.cpu_count() or 1

from . import linalg
from .linalg.toplevel import (
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    det,
    inverse,
    logdet,
    lu_unpack,
    matrix_exp,
    pinverse,
    slogdet,
    triangular_solve,
)
from .linalg.toplevel import lu_solve_torch as lu_solve
from .linalg.toplevel import lu_torch as lu
from .linalg.toplevel import qr_torch as qr
from .linalg.toplevel import svd_torch as svd
