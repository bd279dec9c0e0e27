"""Numeric conventions against PyTorch (recorded): the answers gradwalk once got wrong without an
error. Each case runs one program in both libraries and compares the value and the gradient of
``sum()`` exactly as PyTorch computes them, NaN and infinities included:

* ``fmod`` keeps the dividend's sign, ``remainder`` the divisor's (``-0.0`` as PyTorch);
* cut-off gradients are selected, never multiplied by a 0/1 mask, so an infinite gradient from
  downstream (``relu(x).sqrt()`` at ``x < 0``) stays 0 (Note [select, not multiply]);
* the gradient at NaN, +-inf and 0 of relu, abs, sign, clamp, maximum/minimum, max/min;
* ``clamp`` with tensor bounds sends the gradient to ``max`` where ``min > max``;
* ``pow``'s base gradient is 0 where the exponent is 0;
* ``var``/``std`` in float32 beyond 1.8e19 and at zero spread.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

NAN, INF = float("nan"), float("inf")
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -2.0]


def _run(lib, fn, datas, dtype="float64"):
    """Value of ``fn(lib, *xs)`` and the gradient of its sum for each input."""
    xs = [lib.tensor(d, dtype=getattr(lib, dtype), requires_grad=True) for d in datas]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = fn(lib, *xs)
        y.sum().backward()
    return [y.detach().numpy()] + [None if x.grad is None else x.grad.numpy() for x in xs]


# torch's float64 hardsigmoid backward multiplies by a float32 1/6 (relative error 3e-8)
TORCH_ROUNDS = {"hardsigmoid": 5e-8}


def _check(fn, datas, dtype="float64", rtol=1e-12):
    _compare(_run(gradwalk, fn, datas, dtype), oracle(lambda torch: _run(torch, fn, datas, dtype)),
             rtol)


def _flat(lib, fn, inputs, dtype):
    """Every value and gradient of ``_run`` over ``inputs`` in one flat array, and their shapes
    and dtypes (one recorded array per test: the recordings stay small)."""
    runs = [_run(lib, fn, d, dtype) for d in inputs]
    arrays = [a for run in runs for a in run]
    return (np.concatenate([np.ravel(a) for a in arrays]),
            repr([(a.shape, str(a.dtype)) for a in arrays]))


def _check_each(fn, inputs, dtype="float64", rtol=1e-12):
    """``_check`` over several inputs (each of its inputs requires and gets a gradient)."""
    want, want_meta = oracle(lambda torch: _flat(torch, fn, inputs, dtype))
    got, got_meta = _flat(gradwalk, fn, inputs, dtype)
    assert got_meta == want_meta
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True)


def _compare(got, expected, rtol, where=""):
    names = ["value"] + [f"grad {i}" for i in range(len(got) - 1)]
    for what, g, t in zip(names, got, expected, strict=True):
        what = f"{what} {where}"
        if t is None:
            assert g is None, what
            continue
        assert g is not None, what
        assert g.dtype == t.dtype and g.shape == t.shape, what
        np.testing.assert_allclose(g, t, rtol=rtol, atol=0, equal_nan=True, err_msg=what)


# ------------------------------------------------------------------------------- fmod, remainder

DIVIDENDS = [-3.5, 3.5, -3.5, 3.5, -0.0, 3.0, -3.0, 5.0]
DIVISORS = [2.0, 2.0, -2.0, -2.0, 2.0, INF, INF, 0.0]


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_fmod_remainder_values_and_gradients(name):
    _check(lambda lib, a, b: getattr(lib, name)(a, b), [DIVIDENDS, DIVISORS])
    _check(lambda lib, a: getattr(a, name)(-1.5), [DIVIDENDS])


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_integer_fmod_remainder(name):
    def run(lib):
        a = lib.tensor([5, -5, 7, -7])
        return [getattr(lib, name)(a, b).numpy() for b in (3, -3, lib.tensor([2, -2, 3, -3]))]

    assert all(np.array_equal(g, t) and g.dtype == t.dtype
               for g, t in zip(run(gradwalk), oracle(run)))


@pytest.mark.parametrize("name", ["fmod", "remainder"])
@pytest.mark.parametrize("divisor", ["zero", "tensor_zero"])
def test_integer_division_by_zero_raises(name, divisor):
    def call(lib):
        b = 0 if divisor == "zero" else lib.tensor([1, 0])
        return getattr(lib, name)(lib.tensor([5, -5]), b)

    expected = oracle(lambda torch: error_of(call, torch))
    assert expected is not None and error_of(call, gradwalk)[0] == expected[0]


def test_fmod_in_place():
    _check(lambda lib, x: (x * 1.0).fmod_(2.0), [[-3.5, 3.5, 5.0]])


# ------------------------------------------------------- an infinite gradient from downstream

DOWNSTREAM = {
    "relu": lambda lib, x: lib.relu(x),
    "relu_": lambda lib, x: (x * 1.0).relu_(),
    "clamp_min": lambda lib, x: x.clamp(min=0.0),
    "clamp_min_": lambda lib, x: (x * 1.0).clamp_(min=0.0),
    "clamp_max": lambda lib, x: (-x).clamp(max=0.0).neg(),
    "clamp_both": lambda lib, x: x.clamp(0.0, 3.0),
    "maximum": lambda lib, x: lib.maximum(x, lib.zeros_like(x)),
    "minimum": lambda lib, x: lib.minimum(-x, lib.zeros_like(x)).neg(),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.0, 0.0),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, 0.0, 3.0),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "mish": lambda lib, x: lib.nn.functional.mish(x),
    "where": lambda lib, x: lib.where(x > 0, x, lib.zeros_like(x)),
    "masked_fill": lambda lib, x: x.masked_fill(x < 0, 0.0),
    "sign": lambda lib, x: x.sign() + 1.0,
    "max": lambda lib, x: x.max().expand(3) - 4.0 + x.detach().relu(),
    "pow0": lambda lib, x: x ** 0 - 1.0,
}


@pytest.mark.parametrize("name", sorted(DOWNSTREAM))
def test_cut_off_gradient_stays_zero_under_an_infinite_gradient(name):
    f = DOWNSTREAM[name]
    _check_each(lambda lib, x: f(lib, x).sqrt(), [[[-1.0, 4.0, 0.0]]])


# ------------------------------------------------------------- NaN, infinities and zero

AT_SPECIAL = {
    "relu": lambda lib, x: lib.relu(x),
    "abs": lambda lib, x: x.abs(),
    "sign": lambda lib, x: x.sign(),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "celu": lambda lib, x: lib.nn.functional.celu(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.5, -3.0),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "clamp": lambda lib, x: x.clamp(-0.5, 1.0),
    "clamp_min": lambda lib, x: x.clamp(min=0.0),
    "maximum": lambda lib, x: lib.maximum(x, lib.full_like(x, -0.5)),
    "minimum": lambda lib, x: lib.minimum(x, lib.full_like(x, -0.5)),
    "amax": lambda lib, x: x.amax(),
    "amin": lambda lib, x: x.amin(),
    "max": lambda lib, x: x.max(),
    "min": lambda lib, x: x.min(),
    "max_dim": lambda lib, x: x.reshape(1, -1).max(dim=1).values,
    "norm1": lambda lib, x: x.norm(1),
    "norm_inf": lambda lib, x: x.norm(float("inf")),
    "prod_0d": lambda lib, x: x[0].prod() + x[1:].sum(),
}


@pytest.mark.parametrize("name", sorted(AT_SPECIAL))
def test_gradient_conventions_at_special_values(name):
    _check_each(AT_SPECIAL[name], [[[v, 1.0, -2.0]] for v in SPECIAL],
                rtol=TORCH_ROUNDS.get(name, 1e-12))


def test_maximum_at_nan_sends_the_gradient_to_both():
    _check(lambda lib, a, b: lib.maximum(a, b), [[NAN, 1.0, NAN], [-0.5, NAN, NAN]])
    _check(lambda lib, a, b: lib.minimum(a, b), [[NAN, 1.0, 2.0], [-0.5, NAN, 2.0]])


def test_max_with_several_nans_and_ties():
    _check(lambda lib, x: x.max(), [[NAN, 3.0, NAN, 1.0]])
    _check(lambda lib, x: x.min(), [[1.0, 3.0, 1.0, 2.0]])
    _check(lambda lib, x: x.amax(dim=1), [[[NAN, 3.0, 3.0], [1.0, 3.0, 3.0]]])


# ------------------------------------------------------------------- clamp with tensor bounds

X = [-2.0, -0.5, 0.2, 0.8, 2.0, 0.5]
LO = [-1.0, 0.0, 0.5, 1.0, 0.3, 0.5]
HI = [1.0, -1.0, 0.4, 0.5, 0.2, 0.5]  # min > max in several places, ties in the last


@pytest.mark.parametrize("bounds", ["both", "min", "max", "broadcast", "scalar_min"])
def test_clamp_with_tensor_bounds(bounds):
    if bounds == "both":
        _check(lambda lib, x, lo, hi: x.clamp(lo, hi), [X, LO, HI])
    elif bounds == "min":
        _check(lambda lib, x, lo: x.clamp(min=lo), [X, LO])
    elif bounds == "max":
        _check(lambda lib, x, hi: x.clamp(max=hi), [X, HI])
    elif bounds == "broadcast":
        _check(lambda lib, x, lo, hi: x.reshape(2, 3).clamp(lo, hi.reshape(2, 1)),
               [X, LO[:3], HI[:2]])
    else:
        _check(lambda lib, x, hi: lib.clamp(x, max=hi).clamp(min=0.0), [X, HI])


# ------------------------------------------------------------------------------------ pow


@pytest.mark.parametrize("case", ["tensor_tensor", "zero_exponents", "scalar_zero", "square",
                                  "cube", "scalar_base", "zero_base"])
def test_pow_at_zero(case):
    if case == "tensor_tensor":
        _check(lambda lib, a, b: a ** b, [[0.0, 0.0, 0.0, 2.0, -1.0, 0.0],
                                          [0.0, 1.0, -1.0, 0.0, 2.0, 0.5]])
    elif case == "zero_exponents":
        _check(lambda lib, a, b: lib.pow(a, b), [[0.0, 0.0, -3.0], [0.0, 0.0, 0.0]])
    elif case == "scalar_zero":
        _check(lambda lib, a: a ** 0, [[0.0, -1.0, NAN]])
    elif case == "square":
        _check(lambda lib, a: a ** 2, [[-3.0, 0.0, 2.0]])
    elif case == "cube":
        _check(lambda lib, a: a ** 3.0, [[-3.0, 0.0, 2.0]])
    elif case == "scalar_base":
        _check(lambda lib, a: 2.0 ** a, [[-3.0, 0.0, 2.0]])
    else:
        _check(lambda lib, a: 0.0 ** a, [[-1.0, 0.0, 2.0]])


# --------------------------------------------------------------------------------- var, std

SPREADS = {
    "huge": [3e19, -3e19, 1e19],
    "huge_pair": [3e19, -3e19],
    "tiny": [1e-30, 2e-30, 3e-30],
    "no_spread": [5.0, 5.0, 5.0],
    "one": [5.0],
    "inf": [INF, 1.0],
    "nan": [NAN, 1.0],
}
STATS = {
    "var": lambda lib, x: x.var(),
    "std": lambda lib, x: x.std(),
    "var0": lambda lib, x: x.var(correction=0),
    "std0": lambda lib, x: x.std(correction=0),
    "std_dim": lambda lib, x: x.reshape(1, -1).std(dim=1, keepdim=True),
    "norm": lambda lib, x: x.norm(),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("stat", sorted(STATS))
def test_var_std_norm_extremes(stat, dtype):
    _check_each(STATS[stat], [[SPREADS[k]] for k in sorted(SPREADS)], dtype,
                rtol=1e-6 if dtype == "float32" else 1e-12)


def test_std_tangent_is_zero_at_zero_spread():
    fw = gradwalk.autograd.forward_ad
    with fw.dual_level():
        x = fw.make_dual(gradwalk.tensor([2.0, 2.0], dtype=gradwalk.float64),
                         gradwalk.tensor([1.0, -3.0], dtype=gradwalk.float64))
        assert fw.unpack_dual(x.std()).tangent.item() == 0.0


# ------------------------------------------------------- in-place changes after the op used it

BINARY = {
    "matmul": (lambda lib, y, w: y @ w, [(2, 3), (3, 4)]),
    "vec_matmul": (lambda lib, y, w: y @ w, [(3,), (3, 4)]),
    "matmul_vec": (lambda lib, y, w: y @ w, [(2, 3), (3,)]),
    "bmm": (lambda lib, y, w: lib.bmm(y, w), [(2, 2, 3), (2, 3, 4)]),
    "mv": (lambda lib, y, w: lib.mv(y, w), [(2, 3), (3,)]),
    "dot": (lambda lib, y, w: lib.dot(y, w), [(3,), (3,)]),
    "outer": (lambda lib, y, w: lib.outer(y, w), [(3,), (2,)]),
    "linear": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    "linear_nobias": (lambda lib, x, w: lib.nn.functional.linear(x, w), [(2, 3), (4, 3)]),
    "linear_vector_weight": (lambda lib, x, w: lib.nn.functional.linear(x, w), [(2, 3), (3,)]),
}


def _inplace_after(lib, name, requires, changed):
    """Run the op on non-leaf copies of the inputs, change input ``changed`` in place, then
    backward: the gradients, or the names of the error's classes."""
    fn, shapes = BINARY[name]
    rng = np.random.default_rng(0)
    leaves = [lib.tensor(rng.standard_normal(s) + 2.0, requires_grad=r)
              for s, r in zip(shapes, requires)]
    inputs = [x * 1.0 for x in leaves]
    y = fn(lib, *inputs)
    inputs[changed].mul_(3.0)
    err = error_of(lambda: y.sum().backward())
    if err is not None:
        return err[0]
    return [None if x.grad is None else x.grad.numpy() for x in leaves]


def _requirements(n):
    out = []
    for mask in range(1, 2 ** n):
        out.append(tuple(bool(mask >> i & 1) for i in range(n)))
    return out


@pytest.mark.parametrize("name", sorted(BINARY))
def test_in_place_change_after_use_raises_only_where_pytorch_does(name):
    n = len(BINARY[name][1])
    combos = [(r, c) for r in _requirements(n) for c in range(n)]
    expected = oracle(lambda torch: [_inplace_after(torch, name, r, c) for r, c in combos])
    for (requires, changed), want in zip(combos, expected, strict=True):
        key = (requires, changed)
        got = _inplace_after(gradwalk, name, requires, changed)
        if isinstance(want, str):
            assert got == want, (key, got)
            continue
        assert not isinstance(got, str), (key, got)
        for g, t in zip(got, want, strict=True):
            assert (g is None) == (t is None), key
            if t is not None:
                np.testing.assert_allclose(g, t, rtol=1e-12, err_msg=str(key))


def _overwritten(lib, x):
    y = x.clone()
    y[:2] = 0.5
    return y * NAN


OVERWRITES = {
    # an overwritten region gets an exact 0, whatever the gradient from downstream
    "setitem_scalar": _overwritten,
    "scatter_value": lambda lib, x: x.scatter(0, lib.tensor([0, 2]), 5.0) * INF,
    # beside a zero, an infinite input's product of the others is 0 (not inf / inf)
    "prod_inf_beside_zero": lambda lib, x: (x * lib.tensor([1.0, 1.0, 0.0, 1.0],
                                                           dtype=x.dtype)).prod(),
}


@pytest.mark.parametrize("name", sorted(OVERWRITES))
def test_overwritten_and_excluded_gradients_stay_exact(name):
    _check(OVERWRITES[name], [[1.0, INF, 3.0, 4.0]])
