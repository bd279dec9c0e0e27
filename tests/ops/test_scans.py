"""Scans and differences of gradwalk/ops/scans.py against PyTorch (recorded): cumprod's exact
gradient and tangent at zeros (Note [scan Jacobians]), cummax/cummin's indices on ties and NaN,
logcumsumexp far from 0, and the options of diff, gradient and the trapezoid rules."""

import numpy as np
import pytest

import gradwalk
from tests.ops._mathops_parity import check, grad_of

NAN = float("nan")


def _x(lib, data):
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


@pytest.mark.parametrize("data", [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 0.0], [1.5, -2.0, 0.5]])
def test_cumprod_gradient_and_tangent_at_zeros(data):
    def fn(lib):
        x = _x(lib, data)
        out = lib.cumprod(x, 0)
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            t = lib.tensor(np.linspace(0.5, 1.5, len(data)), dtype=lib.float64)
            tangent = fw.unpack_dual(lib.cumprod(fw.make_dual(x.detach(), t), 0)).tangent
        return out, grad_of(lib, out, x), tangent

    check(fn)


def test_cumprod_double_backward_at_zeros():
    def fn(lib):
        x = _x(lib, [[2.0, 0.0, 3.0], [0.5, 1.0, 0.0]])
        (g,) = lib.autograd.grad(lib.cumprod(x, 1).sum(), x, create_graph=True)
        return g, grad_of(lib, g, x)

    check(fn)


def test_cumprod_of_integers_and_0d():
    def fn(lib):
        return (lib.cumprod(lib.tensor([1, 2, 3], dtype=lib.int32), 0),
                lib.cumprod(lib.tensor(2.0), 0), lib.cumprod(lib.tensor([1, 2]), 0,
                                                             dtype=lib.float64))

    check(fn)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_take_the_latest_index_on_ties_and_nan(name):
    def fn(lib):
        x = _x(lib, [[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, NAN, 1.0, NAN, 5.0]])
        v, i = getattr(lib, name)(x, 1)
        return v, i, grad_of(lib, v, x)

    check(fn)


def test_logcumsumexp_far_from_zero():
    def fn(lib):
        x = _x(lib, [[800.0, 801.0, -5.0], [-800.0, -801.0, -799.0]])
        out = lib.logcumsumexp(x, 1)
        return out, grad_of(lib, out, x)

    check(fn)


def test_diff_options():
    def fn(lib):
        x = _x(lib, [[1.0, 4.0, 9.0, 16.0], [2.0, 3.0, 5.0, 8.0]])
        p = _x(lib, [[0.0], [1.0]])
        d = lib.diff(x, n=2, dim=1, prepend=p, append=x)
        return d, lib.diff(x, dim=0), grad_of(lib, d, x), grad_of(lib, d, p), lib.diff(
            lib.tensor([True, False, False, True]))

    check(fn)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_spacings(edge_order):
    def fn(lib):
        x = _x(lib, [[1.0, 4.0, 9.0, 16.0], [2.0, 3.0, 5.0, 8.0], [0.0, 1.0, 0.5, 2.0]])
        coords = lib.tensor([0.0, 0.5, 2.0, 3.0], dtype=lib.float64)
        a = lib.gradient(x, edge_order=edge_order)
        b = lib.gradient(x, spacing=[2.0, 0.5], edge_order=edge_order)
        c = lib.gradient(x, spacing=(coords,), dim=1, edge_order=edge_order)
        return list(a) + list(b) + list(c) + [grad_of(lib, c[0], x)]

    check(fn)


def test_trapezoid_rules():
    def fn(lib):
        y = _x(lib, [[1.0, 2.0, 4.0], [3.0, 0.0, 1.0]])
        x = lib.tensor([0.0, 1.0, 3.0], dtype=lib.float64)
        out = [lib.trapezoid(y, x), lib.trapezoid(y, dx=0.5, dim=0), lib.trapz(y, x),
               lib.cumulative_trapezoid(y, x), lib.cumulative_trapezoid(y, dx=2.0)]
        return out + [grad_of(lib, o, y) for o in out]

    check(fn)


def test_clear_errors():
    with pytest.raises(RuntimeError, match="one-dimensional"):
        gradwalk.diff(gradwalk.tensor(1.0))
    with pytest.raises(RuntimeError, match="edge_order"):
        gradwalk.gradient(gradwalk.tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(IndexError, match="cumprod"):
        gradwalk.cumprod(gradwalk.tensor([1.0]), 1)
