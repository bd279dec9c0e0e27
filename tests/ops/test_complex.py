"""Complex tensors against PyTorch (recorded oracle): dtypes, creation, parts and views, the
complex forms of the ops (values and gradients, Note [complex ops] in gradwalk/ops/complex.py),
and the clear errors of the ops without one."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

RNG = np.random.default_rng(11)
Z = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
W = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
R = RNG.standard_normal((2, 3))
M = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else t


# ---------------------------------------------------------------------------------- dtypes


def test_dtype_names_and_properties_match_torch():
    def run(m):
        return [repr(d).split(".")[-1] for d in (m.complex64, m.complex128, m.cfloat, m.cdouble,
                                                 m.complex64.to_real(), m.float64.to_complex())
                ] + [m.complex64.is_complex, m.complex64.is_floating_point,
                     m.complex128.itemsize, m.float32.is_complex]

    assert run(gradwalk) == oracle(run)


def test_creation_infers_torch_dtypes():
    def run(m):
        return [repr(t.dtype).split(".")[-1] for t in (
            m.tensor([1 + 2j]), m.tensor([1, 2.5, 1j]), m.tensor(np.array([1j])),
            m.tensor([1], dtype=complex), m.zeros(2, dtype=m.complex64), m.full((2,), 1j),
            m.linspace(0, 1j, 3), m.tensor([1.0]) * 1j, m.tensor([1]) + 1j)]

    assert run(gradwalk) == oracle(run)
    np.testing.assert_allclose(gradwalk.linspace(0, 1j, 3).numpy(),
                               oracle(lambda torch: torch.linspace(0, 1j, 3)))
    gradwalk.set_default_dtype(gradwalk.float64)
    try:
        assert gradwalk.tensor([1j]).dtype is gradwalk.complex128
    finally:
        gradwalk.set_default_dtype(gradwalk.float32)


def test_is_complex_and_friends():
    z, x = gradwalk.tensor([1j]), gradwalk.tensor([1.0])
    assert z.is_complex() and gradwalk.is_complex(z) and not x.is_complex()
    assert not z.is_floating_point() and not z.conj().is_conj() and not z.is_neg()
    assert z.resolve_conj() is z and gradwalk.resolve_neg(z) is z
    assert x.conj() is x and x.real is x


# ------------------------------------------------------------------------- parts and views


def test_parts_values_match_torch():
    def run(m):
        z = m.tensor(Z)
        return (z.real, z.imag, z.conj(), m.conj_physical(z), z.abs(), z.angle(),
                m.angle(m.tensor([-1.0, 0.0, -0.0, 2.0])), m.view_as_real(z),
                m.view_as_complex(m.tensor(R.reshape(3, 2))),
                m.complex(m.tensor(R), m.tensor(R[0])), m.polar(m.tensor(np.abs(R)), m.tensor(R)))

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        assert _np(a).dtype == b.dtype
        np.testing.assert_allclose(_np(a), b, rtol=1e-12, atol=1e-12)


def test_real_and_imag_are_writable_views():
    def run(m):
        z = m.tensor(Z.copy())
        z.real[0] = 5.0
        z.imag.mul_(2.0)
        v = m.view_as_real(z)
        v[1, 1, 0] = -1.0
        z.imag = m.tensor(R[0])
        c = m.view_as_complex(m.tensor(R.reshape(3, 2).copy()))
        return z, c

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(_np(a), b)


def test_in_place_write_through_real_keeps_the_imaginary_gradient():
    def run(m):
        z = m.tensor(Z, requires_grad=True)
        y = z * 2.0
        y.real.mul_(3.0)
        (y * m.tensor(W)).real.sum().backward()
        return z.grad

    np.testing.assert_allclose(run(gradwalk).numpy(), oracle(run), rtol=1e-12)


def test_part_errors_match_torch():
    def run(m):
        x = m.tensor(R)
        return [error_of(lambda: x.imag), error_of(lambda: m.view_as_real(x)),
                error_of(lambda: m.view_as_complex(m.ones(3, 3))),
                error_of(lambda: m.view_as_complex(m.ones(2, 4)[:, ::2])),
                error_of(lambda: m.complex(m.ones(2), m.ones(2, dtype=m.float64)))]

    ours, ref = run(gradwalk), oracle(run)
    assert [e[0] for e in ours] == [e[0] for e in ref]


# ------------------------------------------------------------------- ops: values, gradients

UNARY = ["neg", "exp", "log", "log2", "log10", "log1p", "expm1", "sin", "cos", "tan", "sinh",
         "cosh", "tanh", "sqrt", "rsqrt", "reciprocal", "square", "abs", "angle", "conj",
         "asin", "acos", "atan", "asinh", "atanh", "exp2", "sum", "mean", "cumsum",
         "flip0", "t", "pow3", "pow_half", "real", "imag", "view_as_real", "clone", "tril"]


def _unary(m, name, z):
    if name == "flip0":
        return z.flip(0)
    if name == "pow3":
        return z ** 3
    if name == "pow_half":
        return m.pow(z, 0.5)
    if name == "cumsum":
        return z.cumsum(1)
    if name in ("real", "imag"):
        return getattr(z, name)
    if name == "view_as_real":
        return m.view_as_real(z)
    return getattr(m, name)(z)


def _loss(m, y):
    """A real loss of ``y`` with a fixed complex weight: sum(Re(conj(c) * y))."""
    c = np.cos(np.arange(y.numel())).reshape(tuple(y.shape))
    if y.is_complex():
        c = c + 1j * np.sin(np.arange(y.numel())).reshape(tuple(y.shape))
        return (m.tensor(c).conj() * y).real.sum()
    return (m.tensor(c) * y).sum()


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_match_torch(name):
    def run(m):
        z = m.tensor(Z, requires_grad=True)
        y = _unary(m, name, z)
        _loss(m, y).backward()
        return y.detach(), z.grad

    (y, g), (ty, tg) = run(gradwalk), oracle(run)
    assert y.numpy().dtype == ty.dtype and g.numpy().dtype == tg.dtype
    np.testing.assert_allclose(y.numpy(), ty, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.numpy(), tg, rtol=1e-10, atol=1e-12)


BINARY = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b, "rsub": lambda m, a, b: 2.0 - a * b,
    "matmul": lambda m, a, b: a @ b.mT, "mv": lambda m, a, b: m.mv(a, b[0]),
    "dot": lambda m, a, b: m.dot(a[0], b[0]), "vdot": lambda m, a, b: m.vdot(a[0], b[0]),
    "outer": lambda m, a, b: m.outer(a[0], b[1]), "einsum": lambda m, a, b: m.einsum(
        "ij,kj->ik", a, b), "cat": lambda m, a, b: m.cat([a, b], 1),
    "stack": lambda m, a, b: m.stack([a, b]), "where": lambda m, a, b: m.where(
        m.tensor([[True, False, True], [False, True, True]]), a, b),
    "linear": lambda m, a, b: m.nn.functional.linear(a, b), "mH": lambda m, a, b: a.mH @ b,
    "index": lambda m, a, b: a[:, [0, 2, 0]] * b[:, [1, 1, 2]],
}
ELEMENTWISE = ["add", "sub", "mul", "div", "rsub", "cat", "stack", "index"]


@pytest.mark.parametrize("name, mixed", [(n, False) for n in sorted(BINARY)]
                         + [(n, True) for n in ELEMENTWISE])
def test_binary_values_and_gradients_match_torch(name, mixed):
    """Two complex inputs, or (``mixed``) a complex and a real one: the real input's gradient
    is the real part of the complex one."""
    def run(m):
        a = m.tensor(Z, requires_grad=True)
        b = m.tensor(R if mixed else W, requires_grad=True)
        y = BINARY[name](m, a, b)
        _loss(m, y).backward()
        return y.detach(), a.grad, b.grad

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        assert ours.numpy().dtype == ref.dtype
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_python_complex_scalars_match_torch():
    def run(m):
        x = m.tensor(R, requires_grad=True)
        y = (x * (1 + 2j) - 1j) / (2 - 1j) + 0.5j * x
        y.abs().sum().backward()
        return y.detach(), x.grad

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        assert ours.numpy().dtype == ref.dtype
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-6)


def test_complex_and_polar_gradients_match_torch():
    def run(m):
        a = m.tensor(np.abs(R) + 0.5, requires_grad=True)
        t = m.tensor(R, requires_grad=True)
        z = m.polar(a, t) * m.complex(t, a)
        _loss(m, z).backward()
        return z.detach(), a.grad, t.grad

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_double_backward_matches_torch():
    def run(m):
        z = m.tensor(Z, requires_grad=True)
        y = (z.exp() * z.conj() + z.sqrt() * m.view_as_complex(m.view_as_real(z))).abs().sum()
        (g,) = m.autograd.grad(y, z, create_graph=True)
        (h,) = m.autograd.grad((g * m.tensor(W)).real.sum(), z)
        return g.detach(), h

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-11)


def test_forward_mode_matches_torch():
    def run(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            z = fw.make_dual(m.tensor(Z), m.tensor(W))
            y = (z * z).exp().sum(0) + z.conj()[0] * z.abs()[1] + m.view_as_complex(
                m.view_as_real(z))[1] + z.angle()[0]
            return fw.unpack_dual(y).tangent

    np.testing.assert_allclose(run(gradwalk).numpy(), oracle(run), rtol=1e-10, atol=1e-12)


def test_gradients_of_a_complex_leaf_are_complex_and_float32_stays_single():
    def run(m):
        z = m.tensor(Z.astype(np.complex64), requires_grad=True)
        x = m.tensor(R.astype(np.float32), requires_grad=True)
        (z * x).abs().sum().backward()
        return [repr(t.dtype).split(".")[-1] for t in (z.grad, x.grad, z * x, z * 1.5)]

    assert run(gradwalk) == oracle(run)


def test_printing_matches_torch():
    def run(m):
        return [repr(t) for t in (
            m.tensor([1 + 2j, -3.5 - 0.25j, 0j]), m.tensor([1 + 1j], dtype=m.complex128),
            m.tensor(1 + 1j), m.tensor([[1e-5 + 1j, 100 + 2j]]), m.tensor([1 + 1j, -1 - 10j]),
            m.tensor([float("nan") + 1j]), m.tensor([1j]).requires_grad_(),
            m.tensor([], dtype=m.complex64), m.arange(12.0).reshape(2, 6) * (1 + 1j))]

    assert [s.replace("gradwalk.", "torch.") for s in run(gradwalk)] == oracle(run)


# ------------------------------------------------------------------------------- errors


def test_backward_of_a_complex_output_needs_a_real_scalar():
    def run(m):
        z = m.tensor([1j], requires_grad=True)
        return error_of(lambda: z.sum().backward())

    assert run(gradwalk)[0] == oracle(run)[0] == "RuntimeError"
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        gradwalk.tensor([1j], requires_grad=True).sum().backward()


@pytest.mark.parametrize("call", [
    lambda m, z: m.relu(z), lambda m, z: z.clamp(0, 1), lambda m, z: z.prod(),
    lambda m, z: z.var(), lambda m, z: z.sigmoid(), lambda m, z: z.sgn(),
    lambda m, z: m.linalg.inv(z[:, :2]), lambda m, z: z ** z, lambda m, z: z.acosh(),
], ids=["relu", "clamp", "prod", "var", "sigmoid", "sgn", "inv", "pow_tensor", "acosh"])
def test_ops_without_a_complex_form_raise_a_clear_error(call):
    with pytest.raises((TypeError, NotImplementedError), match="complex"):
        call(gradwalk, gradwalk.tensor(Z))


@pytest.mark.parametrize("call", [
    lambda m, z: z < 0, lambda m, z: z.max(), lambda m, z: z.argmax(), lambda m, z: z.sort(),
    lambda m, z: z.topk(1), lambda m, z: z.unique(), lambda m, z: m.softmax(z, 0),
    lambda m, z: z.kthvalue(1), lambda m, z: z.cummax(0), lambda m, z: z.median(),
    lambda m, z: m.searchsorted(z[0], z[0]), lambda m, z: m.isin(z, z),
], ids=["lt", "max", "argmax", "sort", "topk", "unique", "softmax", "kthvalue", "cummax",
        "median", "searchsorted", "isin"])
def test_ops_torch_refuses_on_complex_raise_too(call):
    assert oracle(lambda torch: error_of(lambda: call(torch, torch.tensor(Z)))) is not None
    with pytest.raises(TypeError, match="complex"):
        call(gradwalk, gradwalk.tensor(Z))
