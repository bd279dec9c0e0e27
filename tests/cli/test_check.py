"""``python -m gradwalk check``: the derivative exercise as a command."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from gradwalk.cli.check import main
from gradwalk.cli.expr import FLOAT, ExprError, parse

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
