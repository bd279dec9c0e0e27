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
    bfloat16,
    bool_,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)
from .tensor import Tensor
from ._device import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    device,
    layout,
    memory_format,
    preserve_format,
    strided,
)
from ._size import Size
from ._legacy_tensors import TYPES as _LEGACY_TYPES
from ._printing import get_printoptions, set_printoptions

globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor... (PyTorch's typed constructors)

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
from .ops.pointwise_more import (
    arctan2,
    atan2,
    clamp_max,
    clamp_min,
    copysign,
    fmax,
    fmin,
    frexp,
    gcd,
    heaviside,
    hypot,
    isin,
    isneginf,
    isposinf,
    isreal,
    lcm,
    ldexp,
    logaddexp,
    logaddexp2,
    nan_to_num,
    nextafter,
    positive,
    rsub,
    scalar_tensor,
    signbit,
    xlogy,
)
from .ops.blas import (
    addbmm,
    addcdiv,
    addcmul,
    addmm,
    addmv,
    addr,
    baddbmm,
    cdist,
    cross,
    dist,
    vdot,
)
from .ops.scans import (
    cummax,
    cummin,
    cumprod,
    cumulative_trapezoid,
    diff,
    gradient,
    logcumsumexp,
    trapezoid,
    trapz,
)
from .ops.sorting import (
    argsort,
    argwhere,
    bincount,
    bucketize,
    histc,
    histogram,
    kthvalue,
    median,
    mode,
    msort,
    nanmedian,
    searchsorted,
    sort,
    topk,
    unique,
    unique_consecutive,
    unravel_index,
)
from .ops.statistics import (
    aminmax,
    corrcoef,
    count_nonzero,
    cov,
    nanmean,
    nanquantile,
    nansum,
    quantile,
    renorm,
    std_mean,
    var_mean,
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
from . import amp, hub, jit
from .amp import autocast, is_autocast_enabled

autograd._load_all()  # the autograd API names (Note [autograd's two layers])

bool = bool_  # PyTorch's name for the dtype
zero_ = Tensor.zero_  # torch.zero_(t), the method as a function
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

# gradwalk.special, gradwalk.fft, gradwalk.signal: PyTorch's namespaces, their top-level names
# and Tensor methods (a name another module defines already is kept).
from . import special
from . import signal
from . import fft
for _name, _fn in {**special.TOP_LEVEL, **signal.windows.WINDOW_FACTORIES}.items():
    globals().setdefault(_name, _fn)
special.bind_methods(Tensor)
del _name, _fn

# complex tensors: parts, conjugates, views (gradwalk/ops/complex.py)
from .ops import complex as _complex_ops
from .ops.complex import (
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_complex,
    is_conj,
    is_neg,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    view_as_complex,
    view_as_real,
)
_complex_ops.bind_methods(Tensor)

# Scatters, index writes and the structural ops (stacking, splitting, diagonals...):
# functions here, Tensor methods installed from their modules' METHODS.
from .ops import scatter as _scatter_ops
from .ops.scatter import (
    index_copy,
    index_fill,
    index_put,
    masked_scatter,
    masked_select,
    nonzero_static,
    put,
    scatter_reduce,
    take,
    take_along_dim,
)
from .ops import copies as _copies_ops
from .ops import diagonal as _diagonal_ops
from .ops import structure as _structure_ops
from .ops.copies import (
    alias_copy,
    diagonal_copy,
    expand_copy,
    fill,
    narrow_copy,
    permute_copy,
    split_with_sizes_copy,
    squeeze_copy,
    t_copy,
    transpose_copy,
    unbind_copy,
    unfold_copy,
    unsqueeze_copy,
    view_copy,
)
from .ops.diagonal import (
    diag,
    diag_embed,
    diagflat,
    diagonal,
    diagonal_scatter,
    select,
    select_scatter,
    slice_scatter,
    trace,
    tril_indices,
    triu_indices,
)
from .ops.structure import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    column_stack,
    combinations,
    dsplit,
    dstack,
    fliplr,
    flipud,
    hsplit,
    hstack,
    kron,
    meshgrid,
    repeat_interleave,
    roll,
    rot90,
    row_stack,
    sum_to_size,
    split_with_sizes,
    tensor_split,
    tensordot,
    tile,
    unflatten,
    unsafe_chunk,
    unsafe_split,
    vsplit,
    vstack,
)

_scatter_ops.install(Tensor, _scatter_ops, _diagonal_ops, _structure_ops, _copies_ops)
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
from .compiler import compile  # gradwalk.compile (docs/compile.md)
