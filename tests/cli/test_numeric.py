"""``gradwalk.cli.numeric``: kinks (Note [kinks]) and the values autograd gives there."""

import math

import pytest

from gradwalk.cli.expr import parse
from gradwalk.cli.numeric import autograd, kink, one_sided, value
from tests.fixtures.oracle import oracle


@pytest.mark.parametrize("text,x,sides", [
    ("relu(x)", 0.0, (0.0, 1.0)),
    ("abs(x)", 0.0, (-1.0, 1.0)),
    ("-abs(x)", 0.0, (1.0, -1.0)),
    ("abs(x - 3)", 3.0, (-1.0, 1.0)),
    ("abs(x) * 1e6", 0.0, (-1e6, 1e6)),
    ("1e-3 * relu(x)", 0.0, (0.0, 1e-3)),
    ("relu(x - 1000)", 1000.0, (0.0, 1.0)),
    ("abs(sin(x))", 0.0, (-1.0, 1.0)),
])
def test_kinks_are_found(text, x, sides):
    assert kink(parse(text), ["x"], {"x": x}, 0) == sides


@pytest.mark.parametrize("text,x", [
    ("x**2", 0.0), ("exp(exp(exp(x)))", 1.0), ("x**-10", 0.1), ("1e8 + x", 0.0),
    ("sin(1000*x)", 0.3), ("tanh(50*x)", 0.01), ("x**3", 1e6), ("abs(x)", 1.0),
    ("relu(x)", -1.0), ("log(x)", 1e-3), ("sigmoid(100*x)", 0.0), ("x**(1/3)", 1e-3),
])
def test_smooth_points_are_not_kinks(text, x):
    assert kink(parse(text), ["x"], {"x": x}, 0) is None


def test_no_kink_where_f_is_not_finite_nearby():
    assert kink(parse("log(x)"), ["x"], {"x": 0.0}, 0) is None
    assert kink(parse("sqrt(x)"), ["x"], {"x": 0.0}, 0) is None


def test_one_sided_is_second_order():
    left, right = one_sided(parse("x**3"), "x", {"x": 1.0}, 1e-3)
    assert abs(left - 3.0) < 1e-5 and abs(right - 3.0) < 1e-5


def _torch_kink_grad(torch, name):
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    getattr(torch, name)(t).backward()
    return float(t.grad)


def test_kink_values_match_pytorch():
    for name in ("relu", "abs"):
        want = oracle(lambda torch, name=name: _torch_kink_grad(torch, name))
        ours = autograd(parse(f"{name}(x)"), ["x"], {"x": 0.0}, [("x", "d/dx", (0,))], 1)
        assert ours["x"] == want


def test_value_is_ieee():
    assert value(parse("log(x)"), {"x": 0.0}) == -math.inf
    assert math.isnan(value(parse("log(x)"), {"x": -1.0}))
