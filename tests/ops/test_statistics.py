"""The statistics of gradwalk/ops/statistics.py against PyTorch (recorded): quantile's tensor
``q``, dims, keepdim and interpolations with NaN (Note [quantile ranks]), cov's weights and
correction, corrcoef, aminmax, renorm and the NaN-skipping sums."""

import pytest

import gradwalk
from tests.ops._mathops_parity import check, grad_of

NAN = float("nan")
DATA = [[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, -2.2], [0.0, 0.9, -0.6, 0.2]]


def _x(lib, data):
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_options(interpolation):
    def fn(lib):
        x = _x(lib, DATA)
        q = lib.tensor([0.0, 0.25, 0.5, 1.0], dtype=lib.float64)
        outs = [lib.quantile(x, q, dim=1, keepdim=True, interpolation=interpolation),
                lib.quantile(x, 0.4, dim=0, interpolation=interpolation),
                lib.quantile(x, q, interpolation=interpolation),
                lib.quantile(x, 0.3, keepdim=True, interpolation=interpolation)]
        return outs + [grad_of(lib, o, x) for o in outs]

    check(fn)


def test_quantile_and_nanquantile_with_nan():
    def fn(lib):
        x = _x(lib, [[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN], [4.0, 0.0, 1.0, 2.0]])
        q = lib.tensor([0.2, 0.9], dtype=lib.float64)
        a, b = lib.quantile(x, q, dim=1), lib.nanquantile(x, q, dim=1)
        return a, b, grad_of(lib, b.nan_to_num(), x)

    check(fn)


def test_cov_weights_and_corrcoef():
    def fn(lib):
        x = _x(lib, DATA)
        fw = lib.tensor([1, 2, 0, 3])
        aw = _x(lib, [0.5, 1.0, 2.0, 1.5])
        outs = [lib.cov(x), lib.cov(x, correction=0), lib.cov(x, fweights=fw),
                lib.cov(x, aweights=aw, correction=2), lib.cov(x, fweights=fw, aweights=aw),
                lib.corrcoef(x), lib.cov(x[0])]
        return outs + [list(lib.autograd.grad(outs[4].sum(), (x, aw))), grad_of(lib, outs[5], x)]

    check(fn)


def test_std_var_mean_aminmax_and_renorm():
    def fn(lib):
        x = _x(lib, DATA)
        s, m = lib.std_mean(x, 1, keepdim=True)
        v, m2 = lib.var_mean(x, True)
        lo, hi = lib.aminmax(x, dim=0)
        r = lib.renorm(x, 1, 0, 2.0)
        return [s, m, v, m2, lo, hi, r, lib.aminmax(x).max, grad_of(lib, r, x),
                grad_of(lib, lo, x), grad_of(lib, s, x)]

    check(fn)


def test_nan_skipping_sums_and_count_nonzero():
    def fn(lib):
        x = _x(lib, [[1.0, NAN, 0.0], [NAN, 3.0, 2.0]])
        a, b = lib.nansum(x, 1), lib.nanmean(x, 0)
        return (a, b, lib.nansum(x), grad_of(lib, a, x), grad_of(lib, b.nan_to_num(), x),
                lib.count_nonzero(x, (0, 1)), lib.count_nonzero(x, 0),
                lib.nansum(lib.tensor([1, 2])))

    check(fn)


def test_clear_errors():
    x = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match="range"):
        gradwalk.quantile(x, 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        gradwalk.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(RuntimeError, match="two or fewer"):
        gradwalk.cov(gradwalk.ones(2, 2, 2))
    with pytest.raises(NotImplementedError, match="aweights"):
        gradwalk.cov(x.double(), fweights=gradwalk.tensor([1, 1]),
                     aweights=gradwalk.tensor([1.0, 2.0], requires_grad=True))
