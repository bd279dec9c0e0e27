"""``python -m gradwalk check``: the derivative exercise as a command."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time

import pytest

from gradwalk.cli.check import main
from gradwalk.cli.expr import FLOAT, ExprError, parse
from tests.fixtures.oracle import oracle

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXERCISE = ["x**3 + 2*sin(x)", "--at", "-1", "0.5", "2"]


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out):
    """The table rows: derivative label -> list of cells."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith(("d/d", "d2/d")) and not parts[0].endswith(":"):
            rows.append(parts)
    return rows


def test_exercise_agrees(capsys):
    code, out, err = _run(capsys, EXERCISE + ["--expect", "3*x**2 + 2*cos(x)"])
    assert code == 0 and err == ""
    rows = _rows(out)
    assert len(rows) == 3
    for row, x in zip(rows, (-1.0, 0.5, 2.0)):
        want = 3 * x * x + 2 * math.cos(x)
        auto, fd = float(row[1]), float(row[2])
        assert abs(auto - want) < 1e-8 and abs(fd - want) < 1e-6
        assert float(row[4]) == pytest.approx(want, abs=1e-8)
        assert row[-1] == "ok"
    assert "at x = -1:" in out and "at x = 0.5:" in out and "at x = 2:" in out
    assert out.rstrip().endswith("all derivatives agree (3 points)")


def test_sign_slip_is_marked(capsys):
    code, out, _ = _run(capsys, EXERCISE + ["--expect", "3*x**2 - 2*cos(x)"])
    assert code == 1
    rows = _rows(out)
    assert all("MISMATCH:" in " ".join(r) for r in rows)
    # yours - autograd = -4 cos(x): at x = -1 that is -2.161
    assert "MISMATCH: yours - autograd = -2.161" in out
    assert "3 of 3 rows DISAGREE" in out


def test_sign_slip_hint_names_the_term(capsys):
    pytest.importorskip("sympy")
    code, out, _ = _run(capsys, EXERCISE + ["--expect", "3*x**2 - 2*cos(x)"])
    assert code == 1
    assert out.count("(sign slip? the term 2*cos(x) has the wrong sign)") == 3
    assert "yours 3*x**2 - 2*cos(x) (NOT the same as symbolic)" in out


def test_symbolic_column(capsys):
    pytest.importorskip("sympy")
    code, out, _ = _run(capsys, EXERCISE)
    assert code == 0
    assert "d/dx: symbolic 3*x**2 + 2*cos(x)" in out
    for row in _rows(out):
        assert float(row[3]) == pytest.approx(float(row[1]), abs=1e-8)


def test_whole_sign_flipped(capsys):
    code, out, _ = _run(capsys, ["x**2", "--at", "3", "--expect", "-2*x"])
    assert code == 1
    assert "MISMATCH: yours - autograd = -12 (the whole sign is flipped)" in out


def test_several_variables(capsys):
    code, out, _ = _run(capsys, ["x*sin(y) + y**2", "--at", "x=1,y=2", "x=0,y=pi",
                                 "--expect", "sin(y)", "dy=x*cos(y) + 2*y"])
    assert code == 0
    assert out.splitlines()[0] == "f(x, y) = x*sin(y) + y**2"
    rows = _rows(out)
    assert [r[0] for r in rows] == ["d/dx", "d/dy", "d/dx", "d/dy"]
    assert float(rows[0][1]) == pytest.approx(math.sin(2.0), abs=1e-9)
    assert float(rows[1][1]) == pytest.approx(math.cos(2.0) + 4.0, abs=1e-9)
    assert float(rows[3][1]) == pytest.approx(2 * math.pi, abs=1e-9)


def test_second_derivatives(capsys):
    code, out, _ = _run(capsys, ["x**2*y + y**3", "--at", "x=1,y=2", "--order", "2",
                                 "--expect", "2*y", "xy=2*x", "yy=6*y"])
    assert code == 0
    rows = {r[0]: r for r in _rows(out)}
    assert set(rows) == {"d2/dx2", "d2/dxdy", "d2/dy2"}
    assert float(rows["d2/dx2"][1]) == 4.0 and float(rows["d2/dxdy"][1]) == 2.0
    assert float(rows["d2/dy2"][1]) == 12.0
    assert all(r[-1] == "ok" for r in rows.values())


def test_second_derivative_wrong(capsys):
    code, out, _ = _run(capsys, ["x**3", "--at", "2", "--order", "2", "--expect", "3*x"])
    assert code == 1 and "MISMATCH: yours - autograd = -6" in out


def test_undefined_point_is_not_a_mismatch(capsys):
    code, out, _ = _run(capsys, ["log(x)", "--at", "-1", "1", "--expect", "1/x"])
    assert code == 0
    assert "undefined here (f is nan)" in out


@pytest.mark.parametrize("argv,message", [
    (["x**", "--at", "1"], "could not parse function 'x**'"),
    (["__import__('os').system('echo hacked')", "--at", "1"], "only plain function calls"),
    (["x.real", "--at", "1"], "'x.real' is not allowed"),
    (["foo(x)", "--at", "1"], "unknown function 'foo'"),
    (["x[0]", "--at", "1"], "'x[0]' is not allowed"),
    (["lambda: 1", "--at", "1"], "is not allowed"),
    (["3", "--at", "1"], "has no variables"),
    (["x*y", "--at", "1"], "give points with names"),
    (["x*y", "--at", "x=1"], "uses y but --at gives no value"),
    (["x", "--at", "abc"], "must be a number"),
    (["x"], "required: --at"),
    (["x**2", "--at", "1", "--expect", "2*z"], "uses z, which is not a variable"),
    (["x**2", "--at", "1", "--expect", "2*x", "2"], "more derivatives than there are"),
    (["x**2", "--at", "1", "--order", "3"], "invalid choice"),
])
def test_bad_input_exit_2_without_traceback(capsys, argv, message):
    code, out, err = _run(capsys, argv)
    assert code == 2
    assert message in err and err.startswith("error: ")
    assert "Traceback" not in err + out


def test_parser_never_evaluates_code():
    for text in ("__import__('os')", "open('x')", "(lambda: 0)()", "x.__class__",
                 "[x for x in ()]", "x if 1 else 2", "a and b", "x == 1", "1; 2", "x @ y",
                 "f'{x}'", "*x", "sin(x, y)", "sin(x=1)", "_x + 1", "True"):
        with pytest.raises(ExprError):
            parse(text)


def test_parser_accepts_the_whitelist():
    e = parse("-x**2 + 3/(1 + exp(-x)) - sqrt(abs(x)) + pi * e ^ 2")
    x = 1.5
    want = -x**2 + 3 / (1 + math.exp(-x)) - math.sqrt(abs(x)) + math.pi * math.e ** 2
    assert e.evaluate(FLOAT, {"x": x}) == pytest.approx(want)
    assert e.variables() == {"x"}


def test_runs_as_a_module():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "gradwalk", "check", "x**3", "--at", "1",
                        "--expect", "-3*x**2"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 1 and "(the whole sign is flipped)" in r.stdout
    r = subprocess.run([sys.executable, "-m", "gradwalk.cli.check", "x**", "--at", "3"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_expressions_starting_with_minus(capsys):
    code, out, _ = _run(capsys, ["-x**2", "--at", "-3", "--expect", "-2*x"])
    assert code == 0
    assert float(_rows(out)[0][1]) == 6.0


# ------------------------------------------------------------------ inputs that could run away

@pytest.mark.parametrize("function,message", [
    ("x**9**9**9", "the constant '9**9**9' in the function 'x**9**9**9' is inf"),
    ("x**x**x**x**x", "nests exponentials 4 deep"),
    ("exp(exp(exp(exp(x))))", "nests exponentials 4 deep"),
    ("exp(exp(exp(exp(exp(x)))))", "nests exponentials 5 deep"),
    ("sinh(cosh(exp(2**x)))", "nests exponentials 4 deep"),
    ("10**100000*x", "the constant '10**100000'"),
    ("9" * 400 + "*x", "has 400 digits"),
    ("9" * 1500 + "*x", "has 1500 digits"),
    ("1e400 + x", "the constant '1e400'"),
    ("x + log(0)", "the constant 'log(0)' in the function 'x + log(0)' is -inf"),
    ("x + (-1)**0.5", "is nan (not a real number)"),
], ids=lambda v: v[:24])
def test_runaway_inputs_end_in_a_message(capsys, function, message):
    start = time.monotonic()
    code, out, err = _run(capsys, [function, "--at", "0", "2"])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and "OverflowError" not in err and "MemoryError" not in err
    assert time.monotonic() - start < 5


def test_runaway_point_value(capsys):
    code, _, err = _run(capsys, ["x**2", "--at", "9**9**9"])
    assert code == 2 and "the constant '9**9**9'" in err


def test_runaway_input_subprocess():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "gradwalk", "check", "x**x**x**x**x**x", "--at",
                        "0"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_towers_within_the_bound_still_work(capsys):
    code, out, _ = _run(capsys, ["exp(exp(exp(x)))", "--at", "0", "1"])
    assert code == 0 and "all derivatives agree (2 points)" in out
    e0 = math.exp(1)
    assert float(_rows(out)[0][1]) == pytest.approx(e0 * math.exp(e0), rel=1e-9)  # 10 digits shown


# ------------------------------------------------------------------ points that are not finite

@pytest.mark.parametrize("function,verdict", [
    ("log(x)", "not finite here (f is -inf)"),
    ("1/x", "not finite here (f is inf)"),
    ("sqrt(x)", "not finite here (autograd gives inf)"),
])
def test_not_finite_at_zero(capsys, function, verdict):
    """With or without sympy: no ZeroDivisionError, the point is reported, 1 is compared."""
    code, out, err = _run(capsys, [function, "--at", "0", "1"])
    assert code == 0 and err == "" and "Traceback" not in out
    rows = _rows(out)
    assert verdict in " ".join(rows[0]) and rows[1][-1] == "ok"
    assert out.rstrip().endswith("all derivatives agree where they could be compared (1 of 2 "
                                 "rows; 1 not compared, see above)")
    assert "all derivatives agree (" not in out


def test_symbolic_value_at_a_pole(capsys):
    pytest.importorskip("sympy")
    code, out, _ = _run(capsys, ["log(x)", "--at", "0"])
    assert _rows(out)[0][3] == "±inf"  # sympy's 1/0 (complex infinity), not a crash


def test_nothing_compared_is_not_agreement(capsys):
    code, out, _ = _run(capsys, ["log(x)", "--at", "0", "-1"])
    assert code == 1
    assert "all derivatives agree" not in out
    assert out.rstrip().endswith("try other points")
    assert "not finite here (f is -inf)" in out and "undefined here (f is nan)" in out


def test_your_derivative_not_finite_is_a_mismatch(capsys):
    code, out, _ = _run(capsys, ["x**2", "--at", "0", "--expect", "2*x/(x - x)"])
    assert code == 1 and "MISMATCH: yours is nan here, autograd 0" in out


# ------------------------------------------------------------------ kinks

def _torch_grad(fn_name, x):
    def grad(torch):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        getattr(torch, fn_name)(t).backward()
        return float(t.grad)

    return oracle(grad)


def test_kinks_get_the_same_verdict(capsys):
    """relu and abs at 0: a central difference agrees with autograd for abs, not for relu;
    both are reported as kinks with their one-sided slopes and autograd's choice."""
    _, out_relu, _ = _run(capsys, ["relu(x)", "--at", "0"])
    _, out_abs, _ = _run(capsys, ["abs(x)", "--at", "0"])
    relu, abs_ = " ".join(_rows(out_relu)[0]), " ".join(_rows(out_abs)[0])
    assert "kink (not differentiable): slope 0 left, 1 right; autograd uses the left one, 0, " \
           "as PyTorch does" in relu
    assert "kink (not differentiable): slope -1 left, 1 right; autograd uses 0, between the " \
           "two, as PyTorch does" in abs_
    assert "MISMATCH" not in relu + abs_
    for out in (out_relu, out_abs):
        assert "nothing could be compared" in out


@pytest.mark.parametrize("fn_name", ["relu", "abs"])
def test_kink_value_is_pytorchs(capsys, fn_name):
    code, out, _ = _run(capsys, [f"{fn_name}(x)", "--at", "0"])
    autograd = float(_rows(out)[0][1])
    assert autograd == _torch_grad(fn_name, 0.0)


def test_kink_away_from_zero_and_smooth_points_elsewhere(capsys):
    code, out, _ = _run(capsys, ["abs(x - 1) + relu(x - 2)", "--at", "1", "1.5", "2"])
    rows = [" ".join(r) for r in _rows(out)]
    assert "slope -1 left, 1 right; autograd uses 0, between the two" in rows[0]
    assert rows[1].endswith("ok")
    assert "slope 1 left, 2 right; autograd uses the left one, 1" in rows[2]
    assert code == 0 and "(1 of 3 rows; 2 not compared, see above)" in out


@pytest.mark.parametrize("function,point", [
    ("exp(exp(exp(x)))", "1"), ("x**-10", "0.1"), ("1e8 + x", "0"), ("sin(1000*x)", "0.3"),
    ("x**2", "0"), ("sqrt(x)", "1e-6"), ("tanh(50*x)", "0.01"), ("x**3", "1e6"),
])
def test_smooth_points_are_not_kinks(capsys, function, point):
    _, out, _ = _run(capsys, [function, "--at", point])
    assert "kink" not in out


def test_kinks_in_several_variables(capsys):
    code, out, _ = _run(capsys, ["relu(x) * y", "--at", "x=0,y=2"])
    rows = {r[0]: " ".join(r) for r in _rows(out)}
    assert "slope 0 left, 2 right" in rows["d/dx"]
    assert rows["d/dy"].endswith("ok")
    assert code == 0


# ------------------------------------------------------------------ spelling hints

@pytest.mark.parametrize("argv,message", [
    (["x**2", "--at", "1,2"], "--at 1,2: give one number per point, separated by spaces "
                               "(--at 1 2); a comma separates variables of one point: --at x=1"),
    (["x**2", "--at", "1", "--expect", "dy=3"],
     "--expect dy=3: there is no derivative 'dy' (the variables are x); name one of dx=..."),
    (["x*y", "--at", "x=1,y=2", "--expect", "dz=3"], "name one of dx=..., dy=..."),
    (["x*y", "--at", "x=1,y=2", "--order", "2", "--expect", "zz=3"],
     "name one of xx=..., xy=..., yy=..."),
    (["x**2", "--at", "z=1"], "--at z=1 gives a value for z, but the function has no variable "
                               "z (its variables: x)"),
    (["x**2", "--at", "x=1,z=2"], "no variable z"),
    (["x*y", "--at", "1"], "give points with names, e.g. --at x=1,y=1"),
    (["x**2", "--at", "1", "--expect", "2x"], "(write 2*x for '2x': multiplication needs *)"),
    (["x**2", "--at", "1", "--sympy-timeout", "0"], "--sympy-timeout must be"),
    (["x**2", "--at", "1", "--sympy-timeout", "nan"], "--sympy-timeout must be"),
])
def test_spelling_hints(capsys, argv, message):
    code, out, err = _run(capsys, argv)
    assert code == 2 and out == ""
    assert message in err and err.startswith("error: ")


# ------------------------------------------------------------------ the symbolic time limit

def _slow_stages(conn, *args):
    time.sleep(60)


def test_symbolic_timeout_keeps_the_numeric_comparison(capsys, monkeypatch):
    pytest.importorskip("sympy")
    from gradwalk.cli import symbolic

    monkeypatch.setattr(symbolic, "_stages", _slow_stages)
    start = time.monotonic()
    code, out, _ = _run(capsys, EXERCISE + ["--expect", "3*x**2 + 2*cos(x)",
                                            "--sympy-timeout", "0.5"])
    assert time.monotonic() - start < 10
    assert code == 0
    assert "(symbolic check timed out after 0.5 s; the numeric comparison follows)" in out
    rows = _rows(out)
    assert len(rows) == 3 and all(r[3] == "-" and r[-1] == "ok" for r in rows)
    assert "all derivatives agree (3 points)" in out


def _partial_stages(conn, text, names, derivs, points, expects):
    conn.send(("exprs", {"x": "3*x**2"}))
    conn.send(("values", {"x": [12.0]}))
    time.sleep(60)


def test_symbolic_timeout_keeps_what_arrived(capsys, monkeypatch):
    pytest.importorskip("sympy")
    from gradwalk.cli import symbolic

    monkeypatch.setattr(symbolic, "_stages", _partial_stages)
    code, out, _ = _run(capsys, ["x**3", "--at", "2", "--sympy-timeout", "1"])
    assert code == 0 and "d/dx: symbolic 3*x**2" in out and "timed out after 1 s" in out
    assert _rows(out)[0][3] == "12"


def _failing_stages(conn, *args):
    raise RuntimeError("sympy broke")


def test_symbolic_failure_is_one_line(capsys, monkeypatch):
    pytest.importorskip("sympy")
    from gradwalk.cli import symbolic

    monkeypatch.setattr(symbolic, "_stages", _failing_stages)
    code, out, err = _run(capsys, ["x**3", "--at", "2"])
    assert code == 0 and err == ""
    assert "(symbolic check failed (RuntimeError: sympy broke); the numeric comparison " \
           "follows)" in out


def test_without_sympy(capsys, monkeypatch):
    from gradwalk.cli import symbolic

    monkeypatch.setattr(symbolic, "available", lambda: False)
    code, out, _ = _run(capsys, EXERCISE)
    assert code == 0 and "(install sympy for the symbolic column: pip install sympy)" in out
    assert all(r[3] == "-" and r[-1] == "ok" for r in _rows(out))


def test_second_derivative_at_a_kink(capsys):
    code, out, _ = _run(capsys, ["abs(x)*y", "--at", "x=0,y=1", "--order", "2"])
    rows = {r[0]: " ".join(r) for r in _rows(out)}
    assert "kink in x (slope -1 left, 1 right): no second derivative here" in rows["d2/dx2"]
    assert "kink in x" in rows["d2/dxdy"] and rows["d2/dy2"].endswith("ok")
    assert "MISMATCH" not in out and code == 0
