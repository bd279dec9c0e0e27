"""``gradwalk.cli.expr``: bounded expressions and float64 values with PyTorch's IEEE results."""

from __future__ import annotations

import math

import pytest

from gradwalk.cli.expr import FLOAT, FUNCTIONS, MAX_EXP_NESTING, ExprError, parse
from tests.fixtures.oracle import oracle

SPECIAL = (0.0, -0.0, -1.0, 1.0, 1e-300, 800.0, -800.0, math.inf, -math.inf, math.nan)


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b or math.isclose(a, b, rel_tol=1e-12)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_give_pytorchs_values_at_special_points(name):
    ours = parse(f"{name}(x)")
    wants = oracle(lambda torch: [float(getattr(torch, name)(torch.tensor(v, dtype=torch.float64)))
                                  for v in SPECIAL])
    for v, want in zip(SPECIAL, wants):
        got = ours.evaluate(FLOAT, {"x": v})
        assert isinstance(got, float)
        assert _same(got, want), (name, v, got, want)


def _torch_operator(torch, op):
    wants = []
    for a in SPECIAL:
        for b in SPECIAL:
            ta, tb = (torch.tensor(v, dtype=torch.float64) for v in (a, b))
            wants.append(float(eval(f"ta {op} tb")))
    return wants


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_operators_give_pytorchs_values(op):
    e = parse(f"x {op} y")
    wants = iter(oracle(lambda torch: _torch_operator(torch, op)))
    for a in SPECIAL:
        for b in SPECIAL:
            want = next(wants)
            got = e.evaluate(FLOAT, {"x": a, "y": b})
            assert _same(got, want), (a, op, b, got, want)


def test_values_without_torch():
    assert parse("log(x)").evaluate(FLOAT, {"x": 0.0}) == -math.inf
    assert parse("1/x").evaluate(FLOAT, {"x": 0.0}) == math.inf
    assert parse("1/x").evaluate(FLOAT, {"x": -0.0}) == -math.inf
    assert math.isnan(parse("sqrt(x)").evaluate(FLOAT, {"x": -1.0}))
    assert parse("exp(x)").evaluate(FLOAT, {"x": 1000.0}) == math.inf
    assert math.isnan(parse("relu(x)").evaluate(FLOAT, {"x": math.nan}))


def test_exponential_nesting_bound():
    ok = "exp(" * MAX_EXP_NESTING + "x" + ")" * MAX_EXP_NESTING
    assert parse(ok).variables() == {"x"}
    with pytest.raises(ExprError, match=f"nests exponentials {MAX_EXP_NESTING + 1} deep"):
        parse("exp(" + ok + ")")
    parse("x**x**x**x")  # three powers with a variable exponent
    parse("exp(x)**100 * 2**(3**4)")  # constant exponents do not count
    with pytest.raises(ExprError, match="4 deep"):
        parse("exp(2**cosh(x**x))")
    # the deepest path counts, not the total
    parse("exp(exp(exp(x))) + exp(exp(exp(y)))")


@pytest.mark.parametrize("text", ["9**9**9", "10**400", "1e309", "2**1024", "exp(1000)",
                                  "log(0)", "0**-1", "1/0", "(-8)**(1/3)", "sqrt(-1)"])
def test_constant_parts_must_be_finite(text):
    with pytest.raises(ExprError, match="the constant"):
        parse(f"x + {text}")


def test_constants_that_fit_are_folded_in_float64():
    e = parse("x * 2**1023 * 10**-300")
    assert e.evaluate(FLOAT, {"x": 1.0}) == pytest.approx(2.0**1023 * 1e-300)
    assert parse("x + 9**9").evaluate(FLOAT, {"x": 0.0}) == 387420489.0


def test_number_of_digits():
    parse("1" + "0" * 300 + "*x")
    with pytest.raises(ExprError, match="has 309 digits"):
        parse("1" + "0" * 308 + "*x")


@pytest.mark.parametrize("text,hint", [
    ("2x", "write 2*x for '2x'"),
    ("3.5sin(x)", "write 3.5*sin for '3.5sin'"),
    ("x + 2(x+1)", "write 2*(...) for 2(...)"),
    ("dx=3", "a name= prefix is only for a derivative's name"),
])
def test_syntax_hints(text, hint):
    with pytest.raises(ExprError, match="could not parse") as info:
        parse(text)
    assert hint in str(info.value)


def test_hints_keep_exponents_whole():
    parse("1e5*x")
    with pytest.raises(ExprError, match="write 1e5\\*x for '1e5x'"):
        parse("1e5x")
    with pytest.raises(ExprError) as info:
        parse("1e5*x +")
    assert "write" not in str(info.value)
