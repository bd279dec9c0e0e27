"""The elementwise ops of gradwalk/ops/pointwise_more.py against PyTorch (recorded) where the
OpInfo samples do not reach: NaN, ties, zeros and infinities, integer inputs, the predicates and
the dtype methods."""

import numpy as np
import pytest

import gradwalk
from tests.ops._mathops_parity import check, grad_of

NAN, INF = float("nan"), float("inf")


def _x(lib, data):
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_nan_aware_max_min_values(name):
    def fn(lib):
        a = lib.tensor([1.0, NAN, 2.0, NAN, 3.0], dtype=lib.float64)
        b = lib.tensor([2.0, 1.0, NAN, NAN, 3.0], dtype=lib.float64)
        return getattr(lib, name)(a, b), getattr(a, name)(b.flip(0))

    check(fn)


def test_fmax_fmin_gradients_on_ties_and_nan():
    def fn(lib):
        a = _x(lib, [1.0, NAN, 2.0, 3.0])
        b = _x(lib, [2.0, 1.0, NAN, 3.0])
        return [list(lib.autograd.grad(f(a, b).sum(), (a, b))) for f in (lib.fmax, lib.fmin)]

    check(fn)


def test_xlogy_at_zero_and_nan():
    def fn(lib):
        a = _x(lib, [0.0, 0.0, 0.0, 2.0, 1.5])
        b = _x(lib, [0.0, NAN, 3.0, 0.5, 2.0])
        out = lib.xlogy(a, b)
        return [out, *lib.autograd.grad(out.sum(), (a, b))]

    check(fn)


def test_nan_to_num_and_its_gradient():
    def fn(lib):
        x = _x(lib, [NAN, INF, -INF, 1.5])
        out = lib.nan_to_num(x, nan=1.0, neginf=-2.0)
        return out, lib.nan_to_num(x.detach()), grad_of(lib, out, x)

    check(fn)


def test_copysign_hypot_atan2_at_signed_zeros():
    def fn(lib):
        a = _x(lib, [0.0, 1.0, -2.0, 3.0])
        b = _x(lib, [-1.0, -0.0, 0.0, 4.0])
        out = [lib.copysign(a, b), lib.atan2(a, b), lib.hypot(a, b)]
        return out + [list(lib.autograd.grad(o.sum(), (a, b))) for o in out]

    check(fn)


def test_integer_inputs_promote_as_in_pytorch():
    def fn(lib):
        i, j = lib.tensor([1, 2, 3]), lib.tensor([2, 2, 1])
        return (lib.atan2(i, j), lib.xlogy(i, j), lib.copysign(i, -1),
                lib.ldexp(i, j), lib.exp2(i), lib.acosh(j), lib.sinc(i), lib.fmax(i, j),
                lib.gcd(i, j), lib.lcm(i, j), lib.sgn(lib.tensor([-3, 0, 2])), lib.rsub(i, j),
                lib.nan_to_num(i))

    check(fn)


def test_unary_values_and_gradients():
    def fn(lib):
        x = _x(lib, [1.25, 2.5, -0.0, 3.0])
        u = _x(lib, [-0.5, 0.0, 0.25, 0.75])
        outs = [lib.asinh(x), lib.exp2(x), lib.deg2rad(x), lib.rad2deg(x), lib.frac(x),
                lib.sinc(x), lib.acosh(x + 1.0), lib.atanh(u), x.sgn()]
        return outs + [grad_of(lib, o, x if k != 7 else u) for k, o in enumerate(outs)]

    check(fn)


def test_frexp_and_ldexp():
    def fn(lib):
        # (PyTorch's gradient divides by 2**exponent in float32: inf below 2**-149)
        x = _x(lib, [8.0, -0.375, 0.0, 1e-30])
        m, e = lib.frexp(x)
        return m, e, grad_of(lib, m, x), lib.ldexp(m, e)

    check(fn)


def test_predicates_and_heaviside():
    def fn(lib):
        x = lib.tensor([-1.0, -0.0, 0.0, INF, -INF, NAN], dtype=lib.float64)
        return (lib.signbit(x), lib.isposinf(x), lib.isneginf(x), lib.isreal(x),
                lib.isin(x, lib.tensor([0.0, INF], dtype=lib.float64)),
                lib.isin(lib.tensor([1, 2, 3]), 2, invert=True),
                lib.heaviside(x, lib.tensor([0.5], dtype=lib.float64)))

    check(fn)


def test_clamp_min_max_with_tensor_bounds():
    def fn(lib):
        x = _x(lib, [-1.0, 0.5, 2.0])
        lo = _x(lib, [0.0, 0.0, 3.0])
        a, b = lib.clamp_min(x, lo), lib.clamp_max(x, lo)
        return a, b, list(lib.autograd.grad(a.sum(), (x, lo))), list(
            lib.autograd.grad(b.sum(), (x, lo)))

    check(fn)


def test_dtype_methods_and_scalar_tensor():
    def fn(lib):
        x = lib.tensor([-1.7, 0.2, 3.9, 250.0])
        return (x.byte(), x.char(), x.short(), lib.scalar_tensor(3),
                lib.scalar_tensor(2.5, dtype=lib.float64))

    check(fn)


def test_positive_is_the_tensor_and_refuses_bool():
    x = gradwalk.tensor([1.0])
    assert gradwalk.positive(x) is x
    with pytest.raises(TypeError):
        gradwalk.positive(gradwalk.tensor([True]))
    with pytest.raises(RuntimeError, match="integer"):
        gradwalk.gcd(gradwalk.tensor([1.0]), gradwalk.tensor([2.0]))
    assert np.isnan(gradwalk.xlogy(gradwalk.tensor([0.0]), float("nan")).item())
