"""One-input elementwise math: each op is one declaration, and nothing else.

The declaration gives the forward, the reverse rule, what the node keeps (``saves=()`` when the
rule reads only ``out``), the rule in words (``explain``) and a doc example; the forward rule
comes from the reverse rule (``elementwise=True``), and ``gradwalk.<name>``, ``Tensor.<name>``
and ``Tensor.<name>_`` are generated from it (``ops/surface.py``). Adding an op here and a sample
to ``tests/ops/op_samples.py`` is all it takes.
"""

from __future__ import annotations

import math

import numpy as _np

from . import kernels as K
from .generated import unary_function
from .registry import apply2, binary, unary

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _zero_vjp(xp, g, out, x):
    # zeros, not ``g * 0``: an infinite gradient from downstream stays 0, as in PyTorch
    return xp.zeros_like(g)


_sign = K.sign


def _elementwise(name, forward, vjp, *, example, explain=None, **facts):
    """Declare a one-input elementwise op and make its public function."""
    return unary_function(unary(name, forward, vjp, elementwise=True, explain=explain,
                                example=example, **facts))


abs = _elementwise(
    "abs", lambda xp, x: xp.abs(x), lambda xp, g, out, x: g * _sign(xp, x), int_ok=True,
    explain="grad * sign(x)",
    example=("gradwalk.abs(gradwalk.tensor([-1.5, 2.0]))", "tensor([1.5000, 2.0000])"))
sign = _elementwise(
    "sign", _sign, _zero_vjp, saves=(), int_ok=True,
    example=("gradwalk.sign(gradwalk.tensor([-2.0, 0.0, 3.0]))", "tensor([-1.,  0.,  1.])"))
floor = _elementwise(
    "floor", lambda xp, x: xp.floor(x), _zero_vjp, saves=(), int_ok=True,
    example=("gradwalk.floor(gradwalk.tensor([1.5]))", "tensor([1.])"))
ceil = _elementwise(
    "ceil", lambda xp, x: xp.ceil(x), _zero_vjp, saves=(), int_ok=True,
    example=("gradwalk.ceil(gradwalk.tensor([1.5]))", "tensor([2.])"))
round = _elementwise(
    "round", lambda xp, x: xp.round(x), _zero_vjp, saves=(), int_ok=True,
    example=("gradwalk.round(gradwalk.tensor([1.4]))", "tensor([1.])"))
trunc = _elementwise(
    "trunc", lambda xp, x: xp.trunc(x), _zero_vjp, saves=(), int_ok=True,
    example=("gradwalk.trunc(gradwalk.tensor([-1.5]))", "tensor([-1.])"))
reciprocal = _elementwise(
    "reciprocal", lambda xp, x: 1.0 / x, lambda xp, g, out, x: -g * out * out, saves=(),
    save_out=True, explain="-grad * out**2",
    example=("gradwalk.reciprocal(gradwalk.tensor([2.0]))", "tensor([0.5000])"))
square = _elementwise(
    "square", lambda xp, x: x * x, lambda xp, g, out, x: 2.0 * g * x, int_ok=True,
    node_name="PowBackward0", explain="grad * 2 * x",
    example=("gradwalk.square(gradwalk.tensor([3.0]))", "tensor([9.])"))
sqrt = _elementwise(
    "sqrt", lambda xp, x: xp.sqrt(x), lambda xp, g, out, x: g / (2.0 * out), saves=(),
    save_out=True, explain="grad / (2 * out)",
    example=("gradwalk.sqrt(gradwalk.tensor([4.0]))", "tensor([2.])"))
rsqrt = _elementwise(
    "rsqrt", lambda xp, x: 1.0 / xp.sqrt(x), lambda xp, g, out, x: -0.5 * g * out * out * out,
    saves=(), save_out=True, explain="-grad * out**3 / 2",
    example=("gradwalk.rsqrt(gradwalk.tensor([4.0]))", "tensor([0.5000])"))
cbrt = _elementwise(
    "cbrt", lambda xp, x: xp.cbrt(x), lambda xp, g, out, x: g / (3.0 * out * out), saves=(),
    save_out=True, explain="grad / (3 * out**2)",
    example=("gradwalk.cbrt(gradwalk.tensor([8.0]))", "tensor([2.])"))
exp = _elementwise(
    "exp", lambda xp, x: xp.exp(x), lambda xp, g, out, x: g * out, saves=(), save_out=True,
    explain="grad * out", example=("gradwalk.exp(gradwalk.tensor([0.0]))", "tensor([1.])"))
expm1 = _elementwise(
    "expm1", lambda xp, x: xp.expm1(x), lambda xp, g, out, x: g * (out + 1.0), saves=(),
    save_out=True, explain="grad * (out + 1)",
    example=("gradwalk.expm1(gradwalk.tensor([0.0]))", "tensor([0.])"))
log = _elementwise(
    "log", lambda xp, x: xp.log(x), lambda xp, g, out, x: g / x, explain="grad / x",
    example=("gradwalk.log(gradwalk.tensor([1.0]))", "tensor([0.])"))
log2 = _elementwise(
    "log2", lambda xp, x: xp.log2(x), lambda xp, g, out, x: g / (x * _LN2),
    explain="grad / (x * ln 2)",
    example=("gradwalk.log2(gradwalk.tensor([8.0]))", "tensor([3.])"))
log10 = _elementwise(
    "log10", lambda xp, x: xp.log10(x), lambda xp, g, out, x: g / (x * _LN10),
    explain="grad / (x * ln 10)",
    example=("gradwalk.log10(gradwalk.tensor([10.0]))", "tensor([1.])"))
log1p = _elementwise(
    "log1p", lambda xp, x: xp.log1p(x), lambda xp, g, out, x: g / (x + 1.0),
    node_name="Log1PBackward0", explain="grad / (1 + x)",
    example=("gradwalk.log1p(gradwalk.tensor([0.0]))", "tensor([0.])"))
sin = _elementwise(
    "sin", lambda xp, x: xp.sin(x), lambda xp, g, out, x: g * xp.cos(x),
    explain="grad * cos(x)", example=("gradwalk.sin(gradwalk.tensor([0.0]))", "tensor([0.])"))
cos = _elementwise(
    "cos", lambda xp, x: xp.cos(x), lambda xp, g, out, x: -g * xp.sin(x),
    explain="-grad * sin(x)", example=("gradwalk.cos(gradwalk.tensor([0.0]))", "tensor([1.])"))
tan = _elementwise(
    "tan", lambda xp, x: xp.tan(x), lambda xp, g, out, x: g * (1.0 + out * out), saves=(),
    save_out=True, explain="grad * (1 + out**2)",
    example=("gradwalk.tan(gradwalk.tensor([0.0]))", "tensor([0.])"))
asin = _elementwise(
    "asin", lambda xp, x: xp.arcsin(x), lambda xp, g, out, x: g / xp.sqrt(1.0 - x * x),
    explain="grad / sqrt(1 - x**2)",
    example=("gradwalk.asin(gradwalk.tensor([0.0]))", "tensor([0.])"))
acos = _elementwise(
    "acos", lambda xp, x: xp.arccos(x), lambda xp, g, out, x: -g / xp.sqrt(1.0 - x * x),
    explain="-grad / sqrt(1 - x**2)",
    example=("gradwalk.acos(gradwalk.tensor([1.0]))", "tensor([0.])"))
atan = _elementwise(
    "atan", lambda xp, x: xp.arctan(x), lambda xp, g, out, x: g / (1.0 + x * x),
    explain="grad / (1 + x**2)",
    example=("gradwalk.atan(gradwalk.tensor([0.0]))", "tensor([0.])"))
sinh = _elementwise(
    "sinh", lambda xp, x: xp.sinh(x), lambda xp, g, out, x: g * xp.cosh(x),
    explain="grad * cosh(x)",
    example=("gradwalk.sinh(gradwalk.tensor([0.0]))", "tensor([0.])"))
cosh = _elementwise(
    "cosh", lambda xp, x: xp.cosh(x), lambda xp, g, out, x: g * xp.sinh(x),
    explain="grad * sinh(x)",
    example=("gradwalk.cosh(gradwalk.tensor([0.0]))", "tensor([1.])"))
# tanh, sigmoid and relu are hot ops: primitives with fused rules written on the output.
def _tanh_backward_vjp(xp, gg, _, g, out, *, needs):
    # d/dg: gg * (1 - out**2); d/dout: -2 * gg * g * out (the bits of the three-node graph
    # ``g * (1.0 - out * out)`` recorded: doubling and negation are exact)
    return (gg * (1.0 - out * out) if needs[0] else None,
            gg * g * out * -2.0 if needs[1] else None)


# Note [tanh's double backward]: under ``create_graph`` tanh's rule is one node (PyTorch's
# ``tanh_backward``), not the three of ``g * (1.0 - out * out)`` written with Tensors.
TANH_BACKWARD = binary("tanh_backward", lambda xp, g, out: g * (1.0 - out * out),
                       _tanh_backward_vjp, inputs=("grad_output", "output"), elementwise=True,
                       node_name="TanhBackwardBackward0",
                       explain=("grad * (1 - output**2)", "-2 * grad * grad_output * output"))


def _tanh_vjp(xp, g, out, x):
    if xp is not _np and K.is_dxp(xp):
        return apply2(TANH_BACKWARD, g, out)
    return g * (1.0 - out * out)


tanh = _elementwise(
    "tanh", lambda xp, x: xp.tanh(x), _tanh_vjp, saves=(),
    save_out=True, explain="grad * (1 - out**2)",
    example=("gradwalk.tanh(gradwalk.tensor([0.0]))", "tensor([0.])"))
sigmoid = _elementwise(
    "sigmoid", lambda xp, x: K.sigmoid(xp, x), lambda xp, g, out, x: g * out * (1.0 - out),
    saves=(), save_out=True, explain="grad * out * (1 - out)",
    example=("gradwalk.sigmoid(gradwalk.tensor([0.0]))", "tensor([0.5000])"))
_BITS = {4: _np.int32, 8: _np.int64}


# Note [relu against a zeros array]
#     ``np.maximum(0, x)`` broadcasts the scalar with stride 0, and NumPy's SIMD loop for
#     ``maximum`` only takes operands of unit stride: the scalar case runs the element-by-element
#     loop, three to four times slower than the same ufunc on two arrays (float32 (128, 256):
#     about 25 us against 7 here). So relu's forward on a contiguous float32/float64 array
#     compares it against a read-only array of zeros of its shape, cut from one buffer per dtype
#     (``_zeros``; ``np.zeros`` memory, only ever read). The zeros are the first operand, as in
#     ``K.relu``: NumPy returns the second on a tie, so ``relu(-0.0)`` stays ``-0.0`` and NaN
#     passes, as in PyTorch (the bits are the same, checked in ``tests/ops/test_unary.py``).
_ZEROS: dict = {}
_ZEROS_MAX = 1 << 22  # elements: 16 MB of float32; larger inputs take the scalar loop


def _zeros(dtype, n):
    """A read-only flat array of at least ``n`` zeros of ``dtype`` (Note [relu against a zeros
    array]); the buffer grows by doubling up to ``_ZEROS_MAX``."""
    z = _ZEROS.get(dtype)
    if z is None or z.size < n:
        z = _np.zeros(max(n, 2 * (0 if z is None else z.size), 4096), dtype)
        z.flags.writeable = False
        _ZEROS[dtype] = z
    return z[:n]


def _relu_fwd(xp, x):
    if (type(x) is _np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize in _BITS
            and 256 <= x.size <= _ZEROS_MAX and x.flags.c_contiguous):
        return _np.maximum(_zeros(x.dtype, x.size).reshape(x.shape), x)
    return K.relu(xp, x)


def _relu_vjp(xp, g, out, x):
    """``where(out <= 0, 0, g)``. On NumPy float arrays as a bit mask: ``where`` on a random
    mask mispredicts a branch per element (five times slower than the mask here); ``g``'s bits
    as integers times the mask (1 where kept, 0 elsewhere) give ``g``'s bits where kept and
    ``+0.0`` elsewhere, an infinite or NaN ``g`` included (Note [select, not multiply] in
    ``ops/elementwise.py``): one integer pass, which NumPy runs with the bool cast in its
    buffer, instead of a cast to an integer mask and an AND."""
    if (type(g) is _np.ndarray and type(out) is _np.ndarray and g.dtype == out.dtype
            and g.shape == out.shape and g.ndim and g.dtype.kind == "f"
            and g.dtype.itemsize in _BITS):  # 0-d: a comparison gives a NumPy scalar
        # ``out`` is relu's output, never below 0: ``out != 0`` is ``not out <= 0``, true
        # where ``out > 0`` or ``out`` is NaN, false at ``+0.0`` and ``-0.0``
        return _np.multiply(g.view(_BITS[g.dtype.itemsize]), out != 0).view(g.dtype)
    return xp.where(out <= 0, 0.0, g)


relu = _elementwise(
    "relu", _relu_fwd, _relu_vjp,
    saves=(), save_out=True, int_ok=True, explain="grad where out > 0 (or NaN), else 0",
    example=("gradwalk.relu(gradwalk.tensor([-1.0, 2.0]))", "tensor([0., 2.])"))
erf = _elementwise(
    "erf", lambda xp, x: K.erf(xp, x),
    lambda xp, g, out, x: g * _TWO_OVER_SQRT_PI * xp.exp(-x * x),
    explain="grad * 2/sqrt(pi) * exp(-x**2)",
    example=("gradwalk.erf(gradwalk.tensor([0.0]))", "tensor([0.])"))
neg = _elementwise(
    "neg", lambda xp, x: -x, lambda xp, g, out, x: -g, saves=(), int_ok=True, explain="-grad",
    example=("gradwalk.neg(gradwalk.tensor([1.0]))", "tensor([-1.])"))
arcsin, arccos, arctan = asin, acos, atan
absolute, negative = abs, neg
