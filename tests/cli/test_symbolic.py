"""``gradwalk.cli.symbolic``: sympy in a child process (Note [symbolic under a time limit])."""

import math
import sys
import time

import pytest

from gradwalk.cli import symbolic

sp = pytest.importorskip("sympy")


def test_results_arrive_in_stages():
    r = symbolic.run("x**3 - 2*cos(x)", ["x"], [("x", (0,))], [{"x": 0.0}, {"x": 1.0}],
                     {"x": "3*x**2 + 2*sin(x)"})
    assert r.status == "ok" and r.message == ""
    assert r.exprs == {"x": "3*x**2 + 2*sin(x)"}
    assert r.values["x"] == [0.0, pytest.approx(3 + 2 * math.sin(1.0))]
    assert r.same == {"x": True}
    assert sorted(t for t, _ in r.terms["x"]) == ["2*sin(x)", "3*x**2"]


def test_values_at_poles_and_overflow():
    x = sp.Symbol("x", real=True)
    assert symbolic._at(1 / x, {x: 0.0}) == "±inf"
    assert symbolic._at(sp.log(x), {x: 0}) in (-math.inf, "±inf")
    assert symbolic._at(sp.exp(x), {x: 1e6}) == math.inf
    assert symbolic._at(-sp.exp(x), {x: 1e6}) == -math.inf
    assert math.isnan(symbolic._at(sp.sqrt(x), {x: -1.0}))  # not real
    assert symbolic._at(x**2, {x: 3.0}) == 9.0


def _sleep(conn, *args):
    time.sleep(60)


def test_time_limit(monkeypatch):
    monkeypatch.setattr(symbolic, "_stages", _sleep)
    start = time.monotonic()
    job = symbolic.Job("x", ["x"], [("x", (0,))], [{"x": 1.0}], {}, timeout=0.3)
    r = job.result()
    assert time.monotonic() - start < 5
    assert r.status == "timeout" and r.message == "symbolic check timed out after 0.3 s"
    assert not job.proc.is_alive()  # the child was stopped


def _allocate(conn, *args):
    bytearray(1 << 30)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory cap is Linux's")
def test_memory_cap(monkeypatch):
    monkeypatch.setattr(symbolic, "MEMORY_LIMIT", 64 << 20)
    monkeypatch.setattr(symbolic, "_stages", _allocate)
    r = symbolic.run("x", ["x"], [("x", (0,))], [{"x": 1.0}], {}, timeout=30)
    assert r.status == "failed" and r.message == "symbolic check failed (out of memory)"


def test_missing_sympy(monkeypatch):
    monkeypatch.setattr(symbolic, "available", lambda: False)
    r = symbolic.run("x", ["x"], [("x", (0,))], [{"x": 1.0}], {})
    assert r.status == "missing" and r.exprs == {}
