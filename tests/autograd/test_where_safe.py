"""Where-safe gradients (Note [structural zeros]).

The branch ``where`` did not take gets a structural zero gradient, which elementwise rules
downstream keep exactly zero even where their local derivative is NaN or inf. PyTorch gives NaN
in each of these cases; the tests that show it take torch's gradients from the recorded oracle
(Note [Recorded oracle] in ``tests/fixtures/oracle.py``), so they run without torch too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradwalk as gw
from gradwalk.autograd.engine import MaskedGrad, structural_zeros
from tests.fixtures.oracle import oracle


def _grad(fn, values, dtype=gw.float64):
    x = gw.tensor(values, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the untaken branch computes NaNs
        fn(gw, x).sum().backward()
    return x.grad.numpy()


def _torch_grad(torch, fn, values):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(torch, x).sum().backward()
    return x.grad.numpy()


def _fd(fn, values, h=1e-6):
    """Central finite differences of ``sum(fn(x))`` in float64, with NumPy."""
    x = np.array(values, dtype=np.float64)
    out = np.zeros_like(x)
    with np.errstate(all="ignore"):
        for i in range(x.size):
            e = np.zeros_like(x)
            e.flat[i] = h
            out.flat[i] = (_np_sum(fn, x + e) - _np_sum(fn, x - e)) / (2 * h)
    return out


def _np_sum(fn, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(fn(gw, gw.tensor(x, dtype=gw.float64)).sum())


def sqrt_pos(m, x):
    return m.where(x > 0, m.sqrt(x), 0.0)


def sinc(m, x):
    return m.where(x != 0, m.sin(x) / x, 1.0)


def masked_log(m, x):
    return m.where(x > 0, m.log(x), 0.0)


def safe_norm(m, x):
    s = (x * x).sum()
    return m.where(s > 0, m.sqrt(s), 0.0)


CASES = [
    (sqrt_pos, [-1.0, 0.0, 4.0], [0.0, 0.0, 0.25]),
    (sinc, [0.0, 1.0], [0.0, np.cos(1.0) - np.sin(1.0)]),
    (masked_log, [-1.0, 0.0, 2.0], [0.0, 0.0, 0.5]),
    (safe_norm, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    (sqrt_pos, -1.0, 0.0),  # 0-d tensors take the engine's scalar path
    (sinc, 0.0, 0.0),
]


@pytest.mark.parametrize("fn,x,expected", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_is_finite_and_correct(fn, x, expected):
    g = _grad(fn, x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=0)


# Finite differences need points where the function is smooth: masked points and taken points,
# not the boundary of the mask itself (sqrt and log jump there).
FD_CASES = [(sqrt_pos, [-1.0, -0.5, 4.0]), (sinc, [0.0, 1.0, -2.0]),
            (masked_log, [-1.0, -3.0, 2.0]), (safe_norm, [0.0, 0.0, 0.0]),
            (safe_norm, [1.0, -2.0, 2.0])]


@pytest.mark.parametrize("fn,x", FD_CASES, ids=[c[0].__name__ for c in FD_CASES])
def test_finite_differences_agree(fn, x):
    np.testing.assert_allclose(_grad(fn, x), _fd(fn, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn,x,expected", CASES, ids=[c[0].__name__ for c in CASES])
def test_pytorch_gives_nan_where_gradwalk_is_right(fn, x, expected):
    tg = oracle(lambda torch: _torch_grad(torch, fn, x))
    assert np.isnan(tg).any()  # PyTorch: 0 * inf = nan in the untaken branch
    g = _grad(fn, x)
    ok = ~np.isnan(tg)
    np.testing.assert_allclose(g[ok], tg[ok], rtol=1e-12)  # equal where PyTorch is finite


def test_safe_norm_away_from_zero():
    x = [3.0, 4.0]
    np.testing.assert_allclose(_grad(safe_norm, x), [0.6, 0.8], rtol=1e-12)


def test_float32_keeps_dtype():
    x = gw.tensor([-1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sqrt_pos(gw, x).sum().backward()
    assert x.grad.dtype == gw.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.array([0.0, 0.25], np.float32))


def test_masked_fill_then_log_is_safe():
    x = gw.tensor([0.0, 2.0], dtype=gw.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # log(x) at 0 is -inf; masked_fill replaces it: the filled position gets gradient 0
        y = gw.log(x).masked_fill(x == 0, 0.0)
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5])


def test_broadcast_branch_keeps_structural_zeros():
    # x (2,) broadcast against a (2, 2) condition: column 0 is masked in both rows
    x = gw.tensor([-1.0, 4.0], dtype=gw.float64, requires_grad=True)
    c = gw.tensor([[False, True], [False, True]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gw.where(c, gw.sqrt(x), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5])


def test_taken_branch_still_gives_nan():
    # sqrt(-1) is taken in row 1: a real NaN, not a structural zero
    x = gw.tensor([-1.0], dtype=gw.float64, requires_grad=True)
    c = gw.tensor([[False], [True]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gw.where(c, gw.sqrt(x), 0.0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_both_branches_sum_normally():
    x = gw.tensor([-2.0, 3.0], dtype=gw.float64, requires_grad=True)
    gw.where(x > 0, x * x, -x).sum().backward()  # d/dx: -1 for x < 0, 2x for x > 0
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 6.0])


def test_nested_where():
    def f(m, x):
        return m.where(x > 0, m.where(x < 4, m.log(x) * m.sqrt(4 - x), 0.0), 0.0)

    x = [-1.0, 0.0, 1.0, 4.0, 5.0]
    g = _grad(f, x)
    assert np.all(np.isfinite(g))
    assert g[0] == g[1] == g[3] == g[4] == 0.0  # every masked position: exactly zero
    smooth = [-1.0, 1.0, 5.0]
    np.testing.assert_allclose(_grad(f, smooth), _fd(f, smooth), rtol=1e-6, atol=1e-8)


def test_gradients_leaving_the_engine_are_plain_arrays():
    x = gw.tensor([-1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (g,) = gw.autograd.grad(sqrt_pos(gw, x).sum(), x)
        sqrt_pos(gw, x).sum().backward()
    assert type(g._data) is np.ndarray and type(x.grad._data) is np.ndarray
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.25])


def test_masked_grad_arithmetic():
    g = structural_zeros(np.array([0.0, 1.0]), np.array([True, False]))
    h = structural_zeros(np.array([0.0, 0.0]), np.array([True, True]))
    assert type(g) is MaskedGrad
    s = g + h
    assert type(s) is MaskedGrad and s.zmask.tolist() == [True, False]  # AND of the masks
    assert type(g + np.ones(2)) is np.ndarray  # a plain gradient has no structural zeros
    assert type(g * 2.0) is np.ndarray
    assert type(structural_zeros(np.ones(2), np.zeros(2, bool))) is np.ndarray
    assert type(g.copy()) is MaskedGrad and g.copy().zmask is None  # copies lose the mask
