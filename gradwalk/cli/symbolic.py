"""The symbolic column of ``python -m gradwalk check``: sympy in a child, under a time limit.

Note [symbolic under a time limit]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
sympy can take unbounded time (``simplify``, ``expand``) or memory on a small input, and it can
spend that time inside C code (big-integer arithmetic), where no signal-based alarm reaches. So
all of the symbolic work runs in a child process (``fork`` where the platform has it, so nothing
is imported twice; ``spawn`` elsewhere) that sends its results in stages: the derivative
expressions, their values at the points, whether your derivative is the same expression, the
additive terms (for the sign-slip hint). The parent does the numeric work meanwhile, then waits
until the deadline and kills the child: whatever arrived in time is shown, and the numeric
comparison never depends on the child. On Linux the child's address space is capped, so a
runaway allocation ends as a failed child, not a swapping machine. Every sympy exception in the
child (``ZeroDivisionError`` from ``evalf`` at ``1/x`` and ``x = 0``, ``OverflowError``...) becomes
a value (``nan``, ``inf``) or a "symbolic check failed" line, never a traceback.

Example:
    >>> r = run("x**3", ["x"], [("x", (0,))], [{"x": 2.0}], {"x": "3*x**2"})
    >>> r.status in ("ok", "missing")
    True
    >>> r.status == "missing" or (r.exprs["x"], r.values["x"], r.same["x"]) == (
    ...     "3*x**2", [12.0], True)
    True
"""

from __future__ import annotations

import importlib.util
import math
import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Any

#: Seconds the symbolic work may take (``--sympy-timeout``).
DEFAULT_TIMEOUT = 5.0
#: Longest derivative text shown; longer ones are cut with "...".
MAX_TEXT = 300
#: At most this many additive terms are examined for the sign-slip hint.
MAX_TERMS = 40
#: Extra address space the child may allocate (Linux).
MEMORY_LIMIT = 2 << 30


@dataclass
class Result:
    """What the symbolic child found: ``status`` is ok, missing (no sympy), timeout or failed."""

    status: str
    message: str = ""
    exprs: dict[str, str] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)
    same: dict[str, bool | None] = field(default_factory=dict)
    terms: dict[str, list[tuple[str, list[float]]]] = field(default_factory=dict)


def available() -> bool:
    """Whether sympy is installed (without importing it).

    Example:
        >>> isinstance(available(), bool)
        True
    """
    return importlib.util.find_spec("sympy") is not None


class Job:
    """The symbolic work started in a child process; ``result()`` waits up to the deadline."""

    def __init__(self, text: str, names: list[str], derivs: list, points: list[dict],
                 expects: dict[str, str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.partial = Result("ok")
        self.proc = None
        if not available():
            self.partial = Result("missing")
            return
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        if ctx.get_start_method() == "fork":
            _warm_up()
        self.conn, child = ctx.Pipe(duplex=False)
        self.deadline = time.monotonic() + timeout
        self.proc = ctx.Process(  # type: ignore[attr-defined]
            target=_work, daemon=True, args=(child, text, names, derivs, points, expects))
        self.proc.start()
        child.close()

    def result(self) -> Result:
        """Collect what arrived before the deadline, then stop the child."""
        r = self.partial
        if self.proc is None:
            return r
        try:
            while True:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0 or not self.conn.poll(remaining):
                    r.status = "timeout"
                    r.message = f"symbolic check timed out after {self.timeout:g} s"
                    break
                try:
                    stage, data = self.conn.recv()
                except (EOFError, OSError):
                    r.status = "failed"
                    r.message = "symbolic check failed (sympy stopped: out of memory?)"
                    break
                if stage == "done":
                    break
                if stage == "failed":
                    r.status, r.message = "failed", f"symbolic check failed ({data})"
                    break
                setattr(r, stage, data)
        finally:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(5)
            self.conn.close()
        return r


def run(text: str, names: list[str], derivs: list, points: list[dict],
        expects: dict[str, str], timeout: float = DEFAULT_TIMEOUT) -> Result:
    """The symbolic derivatives of ``text`` (keys and index tuples in ``derivs``), their values at
    ``points``, and whether each of ``expects`` (key -> text) is the same expression.

    Example:
        >>> run("x*y", ["x", "y"], [("y", (1,))], [{"x": 3.0, "y": 1.0}], {}).status in (
        ...     "ok", "missing")
        True
    """
    return Job(text, names, derivs, points, expects, timeout).result()


_WARM: list[bool] = []


def _warm_up() -> None:
    """Import sympy and load its lazily imported parts once in this process, so every forked
    child starts warm (the first ``simplify`` alone takes about a second)."""
    if _WARM:
        return
    import sympy as sp

    x = sp.Symbol("x", real=True)
    sp.simplify(sp.sin(x) ** 2 + sp.cos(x) ** 2 - sp.Heaviside(x) * sp.log(x))
    sp.expand(sp.exp(x) * (x + 1) ** 2).evalf(subs={x: 0.5})
    _WARM.append(True)


# ------------------------------------------------------------------------------- the child

def _limit_memory() -> None:
    try:
        import os
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = used + MEMORY_LIMIT
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):  # not Linux: the time limit still holds
        pass


def _work(conn, text, names, derivs, points, expects) -> None:  # pragma: no cover - child
    import signal
    import warnings

    # Ctrl-C reaches the whole process group: the parent stops quietly and kills this child,
    # which must not print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")
    _limit_memory()
    try:
        _stages(conn, text, names, derivs, points, expects)
        conn.send(("done", None))
    except MemoryError:
        conn.send(("failed", "out of memory"))
    except Exception as e:
        conn.send(("failed", f"{type(e).__name__}: {str(e)[:200]}"))
    finally:
        conn.close()


def _stages(conn, text, names, derivs, points, expects) -> None:  # pragma: no cover - child
    import sympy as sp

    from .expr import parse, sympy_backend

    backend = sympy_backend()
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    f = parse(text, "function").evaluate(backend, symbols)
    exprs = {}
    for key, idx in derivs:
        d = f
        for i in idx:
            d = sp.diff(d, symbols[names[i]])
        exprs[key] = d
    conn.send(("exprs", {k: _short(str(d)) for k, d in exprs.items()}))
    subs = [{symbols[n]: v for n, v in p.items()} for p in points]
    conn.send(("values", {k: [_at(d, s) for s in subs] for k, d in exprs.items()}))
    same: dict[str, bool | None] = {}
    for k, user in expects.items():
        u = parse(user, "expected derivative").evaluate(backend, symbols)
        try:
            same[k] = bool(sp.simplify(u - exprs[k]) == 0)
        except Exception:
            same[k] = None
    conn.send(("same", same))
    terms = {}
    for k, d in exprs.items():
        args = sp.Add.make_args(sp.expand(d))[:MAX_TERMS]
        terms[k] = [(_short(str(t)), [_at(t, s) for s in subs]) for t in args]
    conn.send(("terms", terms))


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def _at(d, subs):  # pragma: no cover - child
    """The value of sympy expression ``d`` at ``subs`` as a float (``"±inf"`` for sympy's
    complex infinity ``zoo``)."""
    import sympy as sp

    try:
        v = d.evalf(subs=subs)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        try:  # exactly, where evalf divides by zero: 1/x at 0 is zoo
            v = d.subs(subs)
        except Exception:
            return math.nan
    if v is sp.zoo:
        return "±inf"
    if v is sp.oo or v is sp.S.Infinity:
        return math.inf
    if v is sp.S.NegativeInfinity:
        return -math.inf
    try:
        c = complex(v)
    except OverflowError:
        return math.inf if v.is_positive else -math.inf if v.is_negative else math.nan
    except (TypeError, ValueError):
        return math.nan
    return c.real if abs(c.imag) <= 1e-12 * max(1.0, abs(c.real)) else math.nan
