"""Complex tensors: the ops that make complex values and take them apart (``real``, ``imag``,
``conj``, ``angle``, ``complex``, ``polar``, ``view_as_real``, ``view_as_complex``), and the
complex forms of the registry's ops that accept complex inputs (Note [complex ops]).

Note [complex ops]
    PyTorch's gradient of a complex input is the conjugate Wirtinger derivative (times 2): for a
    real loss ``L`` of ``z = x + iy`` it is ``dL/dx + i dL/dy``, and a holomorphic ``f`` sends
    ``grad * conj(f'(z))`` to its input. The registry's reverse rules are written for real
    inputs as ``grad * f'(x)`` with ``f'`` a closed formula that holds for complex values too
    (``g * out`` for ``exp``, ``g @ b.T`` for ``matmul``), so the complex rule of such an op is
    ``conj(rule(conj(grad)))``: the same rule between two conjugations (``_conj_rule``). Its
    forward rule, ``t * f'(z)``, is the real one as it is. Linear ops with real coefficients
    (``sum``, ``reshape``, indexing, ``cat``...) are the case ``f' = 1``.

    Not every rule is such a formula (``abs``, ``sign``, ``clamp``, comparisons and every rule
    that tests ``x > 0``), so a complex input is refused unless the op is listed: each apply
    function of the registry hands an op with a complex input to ``complex_form`` (bound as
    ``registry._complex``; the real path pays one dtype test), which returns the op's complex
    form or raises a TypeError that names the op. The forms are the ops of ``CONJUGATED`` (the
    rule between conjugations, each checked against PyTorch in ``tests/ops/test_complex.py``),
    the ops declared here and in ``ops/fft.py`` (rules written for complex values), and
    ``abs``, whose complex rule is its own (``grad * z / |z|``).

    A real input of a complex result gets the real part of the complex gradient (the engine's
    ``_fit``), as PyTorch's. ``backward()`` without a gradient needs a real scalar.

Note [complex views]
    ``real``, ``imag``, ``view_as_real`` and ``view_as_complex`` return views, as PyTorch's: the
    result shares memory and the version counter with its input, so writing into ``z.real``
    changes ``z``. An in-place op on such a view of a tensor in a graph rebases the base
    (``ops/inplace_views.py``); the base's gradient outside the view is ``g - embed(view(g))``
    (the part of ``g`` the view did not overwrite: ``1j * imag(g)`` when ``real`` was written),
    not the mask of the real case (``_copy_slices_vjp``). ``conj`` is not lazy: it returns a
    conjugated copy, so ``is_conj()`` is always False and ``resolve_conj`` returns its input.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import get_default_dtype
from . import inplace_views as _views
from . import kernels as K
from . import registry as _registry
from . import shape as S
from .registry import REGISTRY, Op, apply, apply1, declare
from .shape import _share

# --------------------------------------------------------------------------------------------
# The complex forms (Note [complex ops])

#: Ops whose complex rule is their real rule between two conjugations (all checked in the tests).
CONJUGATED = (
    "add sub rsub mul div neg exp log log2 log10 log1p expm1 sin cos tan sinh cosh tanh sqrt "
    "rsqrt reciprocal square pow sum sum_dim mean mean_dim matmul bmm mv dot outer "
    "view reshape squeeze unsqueeze permute transpose t expand flip cat stack select slice "
    "index index_put clone cast tril triu fill copy view_of_base cumsum diagonal unfold "
    "index_select gather scatter scatter_add index_add index_add_into repeat pad einsum linear "
    "linear_nobias masked_fill where asin acos atan asinh atanh exp2").split()

_FORMS: dict = {}
_INSTALLED: list = []  # the conjugated forms are made on first use, once every op is declared


def _conj(xp, a):
    """``conj(a)`` for a complex ``a`` (an array, or a Tensor under ``dxp``); ``a`` otherwise."""
    if a is None:
        return None
    if K.is_dxp(xp):
        return apply1(CONJ, a) if a._data.dtype.kind == "c" else a
    return np.conj(a) if a.dtype.kind == "c" else a


def _conj_rule(vjp):
    def rule(xp, g, out, *inputs, **params):
        g = tuple(_conj(xp, x) for x in g) if type(g) is tuple else _conj(xp, g)
        r = vjp(xp, g, out, *inputs, **params)
        if type(r) is tuple:
            return tuple(_conj(xp, x) for x in r)
        return _conj(xp, r)

    return rule


def _form(op: Op, vjp, jvp=None, **facts) -> Op:
    """A complex form of ``op``: the same op (name, node name, inputs) with other rules."""
    kw = dict(inputs=op.input_names, saves=op.saves, save_out=op.save_out,
              node_name=op.node_name, elementwise=op.elementwise, explain=op.explain,
              int_ok=op.int_ok, saves_if=op.saves_if)
    kw.update(facts)
    return Op(op.name, op.forward, vjp, op.jvp if jvp is None else jvp, **kw)


def complex_form(op: Op) -> Op:
    """The form of ``op`` that takes complex inputs; a TypeError if it has none."""
    if not _INSTALLED:
        _install_forms()
    form = _FORMS.get(op.name)
    if form is None:
        raise TypeError(
            f"{op.node_name.removesuffix('Backward0')} ('{op.name}'): complex tensors are not "
            "supported by this op in gradwalk (its rules are not checked for complex values). "
            "Ops that take complex tensors: arithmetic, exp/log/sqrt/pow, sin/cos/tan/tanh "
            "(and their hyperbolic forms), abs, angle, real, imag, conj, sum, mean, matmul, "
            "views and indexing, and gradwalk.fft; compute on z.real and z.imag otherwise")
    return form


def _native(*ops: Op) -> None:
    """Ops whose rules are written for complex values: their own complex form."""
    for op in ops:
        _FORMS[op.name] = op


def _copy_slices_vjp(xp, g, out, base, view, chain, *, needs):
    """CopySlices of a complex base or view (Note [complex views])."""
    if not any(op.name in _PARTS for op, _ in chain):
        return _views._copy_slices_vjp(xp, g, out, base, view, chain, needs=needs)
    gv = _views.view_of(xp, chain, g)
    gb = g - _views._embed(xp, chain, gv) if needs[0] else None
    return gb, (gv if needs[1] else None)


def _abs_vjp(xp, g, out, x):
    return g * _sgn(xp, x, out)


def _sgn(xp, z, r):
    """``z / |z|``, 0 where ``z`` is 0 (PyTorch's ``sgn``), given ``r = |z|``."""
    zero = r == 0
    return xp.where(zero, 0.0, z / xp.where(zero, 1.0, r))


def _abs_jvp(xp, t, out, x):
    return _real_of(xp, _conj(xp, _sgn(xp, x, out)) * t)


def _install_forms() -> None:
    for op in [REGISTRY[name] for name in CONJUGATED] + [S.UNBIND, S.SPLIT, S.SPLIT_WITH_SIZES]:
        _FORMS[op.name] = _form(op, _conj_rule(op.vjp))
    cs = REGISTRY["copy_slices"]
    _FORMS["copy_slices"] = _form(cs, _copy_slices_vjp)
    ab = REGISTRY["abs"]
    _FORMS["abs"] = _form(ab, _abs_vjp, _abs_jvp, saves=(0,), save_out=True,
                          explain="grad * z / |z| (0 at z = 0)")
    _INSTALLED.append(True)


# --------------------------------------------------------------------------------------------
# Making complex values and taking them apart


def _physical(f):
    """``f`` on plain arrays; on ``vmap``'s batched arrays (one level), ``f`` of the physical
    arrays (the batch dim leading, so that the other operand broadcasts against the rest)."""

    def run(*arrays):
        batched = _registry._Batched
        levels = {a._level for a in arrays if batched is not None and type(a) is batched}
        if not levels:
            return f(*arrays)
        if len(levels) > 1:
            raise RuntimeError(f"vmap: {f.__name__.strip('_')} of tensors batched at different "
                               "levels is not supported; call it once per sample")
        # the logical ranks line up on the right: a batched array of a lower rank gets ones
        # after its batch dim, so that NumPy's broadcasting keeps the batch dim apart
        rank = max(np.ndim(a._a) - 1 if type(a) is batched else np.ndim(a) for a in arrays)
        plain = [np.reshape(a._a, a._a.shape[:1] + (1,) * (rank + 1 - a._a.ndim)
                            + a._a.shape[1:]) if type(a) is batched else a for a in arrays]
        return batched(f(*plain), levels.pop())

    run.__name__ = f.__name__
    return run


@_physical
def _real_part(a):
    return a.real


@_physical
def _imag_part(a):
    return a.imag


def _real_of(xp, a):
    if K.is_dxp(xp):
        return real(a)
    return _real_part(a) if a.dtype.kind == "c" else a


def _imag_of(xp, a):
    if K.is_dxp(xp):
        return imag(a)
    return _imag_part(a)


@_physical
def build(re, im):
    """A complex array with parts ``re`` and ``im`` (broadcast), exact also where a part is
    infinite (``re + 1j * im`` would make ``inf * 1j`` NaN)."""
    re, im = np.asarray(re), np.asarray(im)
    dt = np.result_type(re.dtype, im.dtype, np.complex64)
    out = np.empty(np.broadcast_shapes(re.shape, im.shape), dt)
    out.real = re
    out.imag = im
    return out


REAL = declare("real", lambda xp, x: _real_of(xp, x), lambda xp, g, out, x: g, saves=(),
               linear=True, explain="grad (as a complex gradient with zero imaginary part)")
IMAG = declare("imag", lambda xp, x: _imag_of(xp, x), lambda xp, g, out, x: g * 1j, saves=(),
               linear=True, explain="grad * 1j")
CONJ = declare("conj", lambda xp, x: _conj(xp, x), lambda xp, g, out, x: _conj(xp, g),
               saves=(), linear=True, node_name="ConjBackward0", explain="conj(grad)")
CONJ_PHYSICAL = declare("conj_physical", lambda xp, x: _conj(xp, x),
                        lambda xp, g, out, x: _conj(xp, g), saves=(), linear=True,
                        explain="conj(grad)")
_PARTS = ("real", "imag", "view_as_real", "view_as_complex")


def _complex_fwd(xp, re, im):
    if K.is_dxp(xp):
        return complex(re, im)
    return build(re, im)


def _complex_vjp(xp, g, out, re, im, *, needs):
    return (_real_of(xp, g) if needs[0] else None, _imag_of(xp, g) if needs[1] else None)


def _complex_jvp(xp, t, out, re, im):
    tr, ti = t
    if K.is_dxp(xp):
        zero = xp.zeros_like(out)
        return (zero if tr is None else tr) + (0.0 if ti is None else ti * 1j)
    return build(0.0 if tr is None else tr, 0.0 if ti is None else ti)


COMPLEX = declare("complex", _complex_fwd, _complex_vjp, _complex_jvp, inputs=("real", "imag"),
                  saves=(), explain=("real(grad)", "imag(grad)"))


@_physical
def _angle_np(x):
    return np.angle(x)


def _angle_fwd(xp, x):
    if x.dtype.kind == "c":
        return _angle_np(x) if not K.is_dxp(xp) else xp.angle(x)
    # PyTorch's angle of a real number: pi below 0, 0 from 0 on (-0.0 included), NaN kept
    return xp.where(xp.isnan(x), x, xp.where(x < 0, np.pi, 0.0)).astype(x.dtype)


def _angle_vjp(xp, g, out, x):
    if x.dtype.kind != "c" if not K.is_dxp(xp) else x._data.dtype.kind != "c":
        return xp.zeros_like(g)
    r2 = _real_of(xp, x * _conj(xp, x))
    zero = r2 == 0
    return xp.where(zero, 0.0, g * x / xp.where(zero, 1.0, r2) * 1j)


def _angle_jvp(xp, t, out, x):
    if (x._data.dtype.kind if K.is_dxp(xp) else x.dtype.kind) != "c":
        return xp.zeros_like(out)
    r2 = _real_of(xp, x * _conj(xp, x))
    zero = r2 == 0
    return xp.where(zero, 0.0, _imag_of(xp, _conj(xp, x) * t) / xp.where(zero, 1.0, r2))


ANGLE = declare("angle", _angle_fwd, _angle_vjp, _angle_jvp,
                explain="grad * 1j * z / |z|**2 (0 for real inputs)")


def _view_as_real_fwd(xp, x):
    if K.is_dxp(xp):
        return view_as_real(x)
    return _var_np(x)


@_physical
def _var_np(x):
    half = x.itemsize // 2
    return np.lib.stride_tricks.as_strided(x.real, x.shape + (2,), x.strides + (half,))


def _view_as_real_vjp(xp, g, out, x):
    if K.is_dxp(xp):
        return complex(g[..., 0], g[..., 1])
    return build(g[..., 0], g[..., 1])


def _view_as_complex_fwd(xp, x):
    if K.is_dxp(xp):
        return view_as_complex(x)
    return _vac_np(x)


@_physical
def _vac_np(x):
    if x.strides[-1] != x.itemsize:
        x = np.ascontiguousarray(x)  # a replay inside a gradient: a copy is fine there
    return x.view(np.complex64 if x.dtype == np.float32 else np.complex128)[..., 0]


def _view_as_complex_vjp(xp, g, out, x):
    if K.is_dxp(xp):
        return view_as_real(g)
    return _stack_parts(g)


@_physical
def _stack_parts(g):
    return np.stack([g.real, g.imag], axis=-1)


VIEW_AS_REAL = declare("view_as_real", _view_as_real_fwd, _view_as_real_vjp, saves=(),
                       linear=True, explain="complex(grad[..., 0], grad[..., 1])")
VIEW_AS_COMPLEX = declare("view_as_complex", _view_as_complex_fwd, _view_as_complex_vjp,
                          saves=(), linear=True, explain="view_as_real(grad)")
_native(REAL, IMAG, CONJ, CONJ_PHYSICAL, COMPLEX, ANGLE, VIEW_AS_REAL, VIEW_AS_COMPLEX)


# --------------------------------------------------------------------------------------------
# Public functions


def _check_tensor(x, name: str) -> None:
    if not isinstance(x, _registry.Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")


def real(input):
    """The real part: a view of a complex tensor (writing into it changes ``input``); a real
    tensor is returned as it is.

    Example:
        >>> import gradwalk
        >>> gradwalk.real(gradwalk.tensor([1 + 2j, 3 - 1j]))
        tensor([1., 3.])
    """
    _check_tensor(input, "real")
    if input._data.dtype.kind != "c":
        return input
    return _share(apply1(REAL, input), input, REAL, {})


def imag(input):
    """The imaginary part of a complex tensor, as a view (PyTorch's error for a real one).

    Example:
        >>> import gradwalk
        >>> gradwalk.imag(gradwalk.tensor([1 + 2j, 3 - 1j]))
        tensor([ 2., -1.])
    """
    _check_tensor(input, "imag")
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _share(apply1(IMAG, input), input, IMAG, {})


def conj(input):
    """The complex conjugate (a copy: gradwalk has no lazy conjugate bit, Note [complex views]);
    a real tensor is returned as it is.

    Example:
        >>> import gradwalk
        >>> gradwalk.conj(gradwalk.tensor([1 + 2j]))
        tensor([1.-2.j])
    """
    _check_tensor(input, "conj")
    return apply1(CONJ, input) if input._data.dtype.kind == "c" else input


def conj_physical(input):
    """The complex conjugate, computed now (as ``conj`` in gradwalk).

    Example:
        >>> import gradwalk
        >>> gradwalk.conj_physical(gradwalk.tensor([1 - 1j]))
        tensor([1.+1.j])
    """
    _check_tensor(input, "conj_physical")
    return apply1(CONJ_PHYSICAL, input) if input._data.dtype.kind == "c" else input


def resolve_conj(input):
    """``input`` itself: gradwalk's ``conj`` is never lazy (Note [complex views]).

    Example:
        >>> import gradwalk
        >>> z = gradwalk.tensor([1j]).conj()
        >>> gradwalk.resolve_conj(z) is z
        True
    """
    _check_tensor(input, "resolve_conj")
    return input


def resolve_neg(input):
    """``input`` itself: gradwalk has no lazy negation bit.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0])
        >>> gradwalk.resolve_neg(x) is x
        True
    """
    _check_tensor(input, "resolve_neg")
    return input


def is_conj(input) -> bool:
    """Always False: gradwalk's ``conj`` computes the conjugate (Note [complex views]).

    Example:
        >>> import gradwalk
        >>> gradwalk.is_conj(gradwalk.tensor([1j]).conj())
        False
    """
    _check_tensor(input, "is_conj")
    return False


def is_neg(input) -> bool:
    """Always False: gradwalk has no lazy negation bit.

    Example:
        >>> import gradwalk
        >>> gradwalk.tensor([1j]).is_neg()
        False
    """
    return False


def is_complex(input) -> bool:
    """Whether ``input``'s dtype is complex.

    Example:
        >>> import gradwalk
        >>> gradwalk.is_complex(gradwalk.tensor([1j])), gradwalk.tensor([1.0]).is_complex()
        (True, False)
    """
    _check_tensor(input, "is_complex")
    return input._data.dtype.kind == "c"


def angle(input):
    """The argument (phase) of each element, in ``(-pi, pi]``; of a real tensor, ``pi`` below 0
    and 0 elsewhere (integers become the default float dtype).

    Example:
        >>> import gradwalk
        >>> gradwalk.angle(gradwalk.tensor([1j, -1.0 + 0j]))
        tensor([1.5708, 3.1416])
    """
    _check_tensor(input, "angle")
    if input._data.dtype.kind in "biu":
        input = apply1(REGISTRY["cast"], input, {"dtype": get_default_dtype().np})
    return apply1(ANGLE, input)


def _float_parts(real, imag, name: str) -> None:
    for x, what in ((real, "real"), (imag, "imag")):
        if not isinstance(x, _registry.Tensor):
            raise TypeError(f"{name}(): argument '{what}' must be Tensor, not "
                            f"{type(x).__name__}")
    a, b = real._data.dtype, imag._data.dtype
    if a != b or a.kind != "f" or a == np.float16:
        raise RuntimeError(f"{name}(): expected both inputs to be Float or Double tensors of "
                           f"one dtype (gradwalk has no complex32), but got {real.dtype} and "
                           f"{imag.dtype}")


def complex(real, imag):
    """The complex tensor ``real + 1j * imag`` (broadcast), from two float tensors of one dtype.

    Example:
        >>> import gradwalk
        >>> gradwalk.complex(gradwalk.tensor([1.0, 2.0]), gradwalk.tensor([0.5, -1.0]))
        tensor([1.+0.5000j, 2.-1.0000j])
    """
    _float_parts(real, imag, "complex")
    return apply(COMPLEX, real, imag)


def polar(abs, angle):
    """The complex tensor with modulus ``abs`` and argument ``angle``: ``abs * (cos(angle) +
    1j * sin(angle))``, differentiable in both.

    Example:
        >>> import gradwalk
        >>> gradwalk.polar(gradwalk.tensor([2.0]), gradwalk.tensor([0.0]))
        tensor([2.+0.j])
    """
    _float_parts(abs, angle, "polar")
    return complex(abs * angle.cos(), abs * angle.sin())


def view_as_real(input):
    """A real view of a complex tensor with a last dimension of size 2 (real, imaginary).

    Example:
        >>> import gradwalk
        >>> gradwalk.view_as_real(gradwalk.tensor([1 + 2j]))
        tensor([[1., 2.]])
    """
    _check_tensor(input, "view_as_real")
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _share(apply1(VIEW_AS_REAL, input), input, VIEW_AS_REAL, {})


def view_as_complex(input):
    """A complex view of a float tensor whose last dimension (of size 2, stride 1) holds the
    real and imaginary parts.

    Example:
        >>> import gradwalk
        >>> gradwalk.view_as_complex(gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([1.+2.j, 3.+4.j])
    """
    _check_tensor(input, "view_as_complex")
    d = input._data
    if d.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {input.dtype}")
    if d.ndim == 0 or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    strides = getattr(d, "strides", None)  # None under vmap: the physical array is checked
    if strides is not None and strides[-1] != d.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if strides is not None and any(s % (2 * d.itemsize) for s, n in zip(strides[:-1],
                                                                        d.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return _share(apply1(VIEW_AS_COMPLEX, input), input, VIEW_AS_COMPLEX, {})


def _get_real(self):
    return real(self)


def _set_real(self, value) -> None:
    real(self).copy_(value)


def _get_imag(self):
    return imag(self)


def _set_imag(self, value) -> None:
    imag(self).copy_(value)


#: Tensor methods (installed by ``bind_methods``); ``real`` and ``imag`` are properties.
METHODS = {"conj": conj, "conj_physical": conj_physical, "resolve_conj": resolve_conj,
           "resolve_neg": resolve_neg, "is_conj": is_conj, "is_neg": is_neg,
           "is_complex": is_complex, "angle": angle}


def bind_methods(tensor_type: type) -> None:
    """Give ``tensor_type`` the complex methods and the ``real``/``imag`` properties."""
    for name, fn in METHODS.items():
        if not hasattr(tensor_type, name):
            setattr(tensor_type, name, fn)
    tensor_type.real = property(_get_real, _set_real, doc="The real part (see gradwalk.real).")
    tensor_type.imag = property(_get_imag, _set_imag, doc="The imaginary part (a view).")


_registry._complex = complex_form
