"""The fused BLAS-style ops, distances and cross of gradwalk/ops/blas.py against PyTorch
(recorded): ``beta=0`` ignoring NaN in ``input`` (Note [beta zero]), broadcasting of ``input``,
cdist's norms and their gradient at zero distance, cross's default dim."""

import pytest

import gradwalk
from tests.ops._mathops_parity import check, grad_of

NAN = float("nan")


def _x(lib, data):
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


def test_beta_zero_ignores_nan_in_input():
    def fn(lib):
        inp = _x(lib, [[NAN, 1.0], [2.0, NAN]])
        m = _x(lib, [[1.0, 2.0], [3.0, 4.0]])
        v = _x(lib, [1.0, -1.0])
        outs = [lib.addmm(inp, m, m, beta=0), lib.addmv(inp[0], m, v, beta=0, alpha=2),
                lib.addr(inp, v, v, beta=0), lib.baddbmm(inp[None], m[None], m[None], beta=0)]
        return outs + [grad_of(lib, o, v if k == 2 else m) for k, o in enumerate(outs)]

    check(fn)


def test_scaled_sums_and_their_gradients():
    def fn(lib):
        inp = _x(lib, [1.0, -2.0])
        b1 = _x(lib, [[[1.0, 2.0], [0.5, 1.0]], [[2.0, 0.0], [1.0, 3.0]]])
        outs = [lib.addbmm(inp, b1, b1, beta=0.5, alpha=2), lib.baddbmm(inp, b1, b1, alpha=-1),
                lib.addcmul(inp, b1, b1[0], value=0.5), lib.addcdiv(inp, b1, b1 + 5.0, value=2)]
        return outs + [list(lib.autograd.grad(o.sum(), (inp, b1))) for o in outs]

    check(fn)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, float("inf")])
def test_cdist_norms_and_gradient_at_zero_distance(p):
    def fn(lib):
        a = _x(lib, [[0.0, 1.0], [2.0, 2.0], [1.0, -1.0]])
        b = _x(lib, [[0.0, 1.0], [1.0, 0.5]])
        out = lib.cdist(a, b, p)
        return [out, *lib.autograd.grad(out.sum(), (a, b)), lib.dist(a[0], b[1], p)]

    check(fn)


def test_cross_default_dim_and_broadcasting():
    def fn(lib):
        a = _x(lib, [[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]])
        b = _x(lib, [[0.0, 1.0, 1.0]])
        out = [lib.cross(a, b), lib.cross(a.t(), b.t().expand(3, 2), dim=0),
               lib.vdot(a[0], a[1])]
        return out + [list(lib.autograd.grad(o.sum(), (a, b), allow_unused=True))
                      for o in out[:2]]

    check(fn)


def test_clear_errors():
    m = gradwalk.ones(2, 3)
    with pytest.raises(RuntimeError, match="addmm"):
        gradwalk.addmm(gradwalk.ones(3, 3), m, gradwalk.ones(3, 2))
    with pytest.raises(RuntimeError, match="Integer division"):
        gradwalk.addcdiv(m, gradwalk.tensor([1]), gradwalk.tensor([2]))
    with pytest.raises(RuntimeError, match="size 3"):
        gradwalk.cross(gradwalk.ones(2, 2), gradwalk.ones(2, 2))
    with pytest.raises(RuntimeError, match="columns"):
        gradwalk.cdist(gradwalk.ones(2, 3), gradwalk.ones(2, 2))
