"""``python -m gradwalk check``: check a derivative worked out by hand against autograd.

    python -m gradwalk check "x**3 + 2*sin(x)" --at -1 0.5 2 --expect "3*x**2 + 2*cos(x)"

For each point it prints a table: autograd's derivative, a central finite difference, the
symbolic derivative (when sympy is installed) and your hand derivative, marking the rows that
disagree and by how much (with a hint when the difference looks like a sign slip). Several
variables: ``--at x=1,y=2`` (gradients in every variable; ``--expect`` one expression per
variable, in order, or ``dx=...``). Second derivatives: ``--order 2`` (``--expect`` for the
entries ``xx``, ``xy``, ``yy``... in that order, or by name).

Expressions are parsed safely (``gradwalk.cli.expr``): numbers, variables, ``+ - * / **``, unary
minus and calls of a fixed set of math functions. Exit status: 0 when everything agrees, 1 when
a row disagrees, 2 for bad input (with a message, never a traceback).
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings

from .expr import FLOAT, ExprError, gradwalk_backend, parse, sympy_backend

_EPS = 2.0 ** -52


class _Usage(Exception):
    """Bad command-line input: reported as ``error: ...`` with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: no SystemExit inside main()
        raise _Usage(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m gradwalk check",
        description="Check a hand-derived derivative against autograd, finite differences "
                    "and (with sympy) the symbolic derivative.",
        epilog='example: python -m gradwalk check "x**3 + 2*sin(x)" --at -1 0.5 2 '
               '--expect "3*x**2 + 2*cos(x)"')
    p.add_argument("function", help='the function, e.g. "x**3 + 2*sin(x)"')
    p.add_argument("--at", nargs="+", required=True, metavar="POINT",
                   help="points: numbers for one variable (-1 0.5 2), or x=1,y=2")
    p.add_argument("--expect", nargs="+", default=[], metavar="DERIV",
                   help="your derivative(s): one per variable (or per second-derivative "
                        "entry), in order, or named: dx=..., dxdy=...")
    p.add_argument("--order", type=int, default=1, choices=(1, 2),
                   help="1: gradient (default); 2: second derivatives")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the check; returns the exit status (0 agree, 1 disagree, 2 bad input).

    Example:
        >>> main(["x**2", "--at", "3", "--expect", "2*x"])  # doctest: +ELLIPSIS
        f(x) = x**2
        ...
        all derivatives agree (1 point)
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check":
        argv = argv[1:]
    # "-2*x" is an expression, not an option: argparse would take it for one
    options = ("--at", "--expect", "--order", "-h", "--help")
    argv = [" " + a if a.startswith("-") and a.split("=")[0] not in options else a
            for a in argv]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _run(_parser().parse_args(argv))
    except (_Usage, ExprError) as e:
        print(f"error: {e}", file=sys.stderr)
        print("usage: python -m gradwalk check FUNCTION --at POINT... [--expect DERIV...] "
              "[--order 2]   (see --help)", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)


# ------------------------------------------------------------------------------- input

def _points(items, variables) -> tuple[list, list]:
    """The variable names (in order) and the points (dicts name -> float)."""
    named = ["=" in it for it in items]
    if any(named) and not all(named):
        raise _Usage("mix of named (x=1) and plain (1) points in --at; use one form")
    if not any(named):
        if len(variables) != 1:
            found = ", ".join(sorted(variables)) or "none"
            raise _Usage(f"the function has {len(variables)} variables ({found}); give points "
                         "with names, e.g. --at x=1,y=2")
        name = next(iter(variables))
        return [name], [{name: _number(it, "--at")} for it in items]
    names: list = []
    points = []
    for it in items:
        point = {}
        for part in it.split(","):
            if not part.strip():
                continue
            key, _, val = part.partition("=")
            key = key.strip()
            if not key.isidentifier():
                raise _Usage(f"bad variable name {key!r} in --at {it!r}")
            point[key] = _number(val, f"--at {it!r}")
            if key not in names:
                names.append(key)
        points.append(point)
    for p in points:
        missing = [n for n in names if n not in p]
        if missing:
            raise _Usage(f"point {p} gives no value for {', '.join(missing)}")
    unknown = sorted(v for v in variables if v not in names)
    if unknown:
        raise _Usage(f"the function uses {', '.join(unknown)} but --at gives no value for it")
    return names, points


def _number(text, where) -> float:
    e = parse(text, f"value in {where}")
    if e.variables():
        raise _Usage(f"{text!r} in {where} must be a number (pi and e are allowed)")
    v = e.evaluate(FLOAT, {})
    if not math.isfinite(v):
        raise _Usage(f"{text!r} in {where} is not a finite number")
    return v


def _derivatives(names, order) -> list:
    """(key, label, index tuple) for each derivative to check."""
    if order == 1:
        return [(n, f"d/d{n}", (i,)) for i, n in enumerate(names)]
    out = []
    for i, a in enumerate(names):
        for j in range(i, len(names)):
            b = names[j]
            label = f"d2/d{a}2" if i == j else f"d2/d{a}d{b}"
            out.append((a + b if len(a) == len(b) == 1 else f"{a},{b}", label, (i, j)))
    return out


def _expects(items, derivs, names) -> dict:
    """Your derivatives by derivative key; positional items go in order."""
    out: dict = {}
    aliases = {}
    for key, label, idx in derivs:
        aliases.update({key: key, label: key, "d" + key: key})
        if len(idx) == 2:
            a, b = names[idx[0]], names[idx[1]]
            aliases.update({f"d{a}d{b}": key, f"d{b}d{a}": key, b + a: key, f"{b},{a}": key})
    positional = 0
    for it in items:
        key, sep, text = it.partition("=")
        if sep and key.strip() in aliases and "=" not in text:
            k = aliases[key.strip()]
        else:
            if positional >= len(derivs):
                raise _Usage(f"--expect has more derivatives than there are to check "
                             f"({', '.join(lb for _, lb, _ in derivs)})")
            k, text = derivs[positional][0], it
            positional += 1
        if k in out:
            raise _Usage(f"--expect gives the derivative {k} twice")
        e = parse(text, "expected derivative")
        unknown = sorted(v for v in e.variables() if v not in names)
        if unknown:
            raise _Usage(f"your derivative {text!r} uses {', '.join(unknown)}, which is not a "
                         f"variable of the function ({', '.join(names)})")
        out[k] = (text, e)
    return out


# ------------------------------------------------------------------------------- the numbers

def _autograd(expr, names, point, derivs, order) -> dict:
    import gradwalk as gw

    env = {n: gw.tensor(point[n], dtype=gw.float64, requires_grad=True) for n in names}
    inputs = [env[n] for n in names]
    f = expr.evaluate(gradwalk_backend(), env)
    if not isinstance(f, gw.Tensor) or not f.requires_grad:
        return {k: 0.0 for k, _, _ in derivs}
    grads = gw.autograd.grad(f, inputs, create_graph=order == 2, allow_unused=True)
    if order == 1:
        return {k: _float(grads[idx[0]]) for k, _, idx in derivs}
    out = {}
    rows: dict = {}
    for k, _, (i, j) in derivs:
        if i not in rows:
            g = grads[i]
            if g is None or not g.requires_grad:
                rows[i] = [None] * len(names)
            else:
                rows[i] = list(gw.autograd.grad(g, inputs, allow_unused=True,
                                                retain_graph=True))
        out[k] = _float(rows[i][j])
    return out


def _float(t) -> float:
    if t is None:
        return 0.0
    return float(t.item())


def _finite_diff(expr, names, point, derivs, order) -> dict:
    def f(p):
        try:
            return float(expr.evaluate(FLOAT, p))
        except (OverflowError, ValueError, ZeroDivisionError, TypeError):
            return float("nan")

    out = {}
    for k, _, idx in derivs:
        if order == 1:
            n = names[idx[0]]
            h = _EPS ** (1 / 3) * max(1.0, abs(point[n]))
            out[k] = (f({**point, n: point[n] + h}) - f({**point, n: point[n] - h})) / (2 * h)
            continue
        a, b = names[idx[0]], names[idx[1]]
        ha = _EPS ** 0.25 * max(1.0, abs(point[a]))
        if a == b:
            out[k] = (f({**point, a: point[a] + ha}) - 2 * f(point)
                      + f({**point, a: point[a] - ha})) / (ha * ha)
            continue
        hb = _EPS ** 0.25 * max(1.0, abs(point[b]))
        pp = f({**point, a: point[a] + ha, b: point[b] + hb})
        pm = f({**point, a: point[a] + ha, b: point[b] - hb})
        mp = f({**point, a: point[a] - ha, b: point[b] + hb})
        mm = f({**point, a: point[a] - ha, b: point[b] - hb})
        out[k] = (pp - pm - mp + mm) / (4 * ha * hb)
    return out


class _Symbolic:
    """The symbolic derivatives (sympy), or nothing when sympy is missing."""

    def __init__(self, expr, names, derivs) -> None:
        self.ok = False
        backend = sympy_backend()
        if backend is None:
            return
        import sympy as sp

        self.sp = sp
        self.symbols = {n: sp.Symbol(n, real=True) for n in names}
        try:
            f = expr.evaluate(backend, self.symbols)
            self.exprs = {}
            for k, _, idx in derivs:
                d = f
                for i in idx:
                    d = sp.diff(d, self.symbols[names[i]])
                self.exprs[k] = d
        except Exception:  # sympy cannot do it: the column stays empty  # noqa: BLE001
            return
        self.ok = True

    def value(self, k, point) -> float | None:
        if not self.ok:
            return None
        try:
            v = complex(self.exprs[k].evalf(subs={self.symbols[n]: v for n, v in point.items()}))
        except (TypeError, ValueError):
            return float("nan")
        return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else float("nan")

    def terms(self, k) -> list:
        """The additive terms of the symbolic derivative (for the sign-slip hint)."""
        if not self.ok:
            return []
        return list(self.sp.Add.make_args(self.sp.expand(self.exprs[k])))

    def term_value(self, term, point) -> float:
        try:
            v = complex(term.evalf(subs={self.symbols[n]: v for n, v in point.items()}))
        except (TypeError, ValueError):
            return float("nan")
        return v.real

    def same_as(self, k, user_expr) -> bool | None:
        if not self.ok:
            return None
        try:
            u = user_expr.evaluate(sympy_backend(), self.symbols)
            return self.sp.simplify(u - self.exprs[k]) == 0
        except Exception:  # noqa: BLE001 - simplification may fail: no verdict
            return None


def _close(a, b, rtol, atol) -> bool:
    if a is None or b is None:
        return True
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return f"{v:.10g}"


# ------------------------------------------------------------------------------- the report

def _run(args) -> int:
    expr = parse(args.function, "function")
    variables = expr.variables()
    if not variables:
        raise _Usage(f"the function {args.function!r} has no variables: nothing to "
                     "differentiate")
    names, points = _points(args.at, variables)
    derivs = _derivatives(names, args.order)
    expects = _expects(args.expect, derivs, names)
    sym = _Symbolic(expr, names, derivs)

    print(f"f({', '.join(names)}) = {args.function}")
    for k, label, _ in derivs:
        parts = []
        if sym.ok:
            parts.append(f"symbolic {sym.exprs[k]}")
        if k in expects:
            parts.append(f"yours {expects[k][0]}")
            same = sym.same_as(k, expects[k][1])
            if same is True:
                parts[-1] += " (same as symbolic)"
            elif same is False:
                parts[-1] += " (NOT the same as symbolic)"
        if parts:
            print(f"  {label}: " + "; ".join(parts))
    if not sym.ok:
        print("  (install sympy for the symbolic column: pip install sympy)")

    bad = 0
    rows_total = 0
    fd_tol = (1e-5, 1e-6) if args.order == 1 else (1e-3, 1e-4)
    for point in points:
        auto = _autograd(expr, names, point, derivs, args.order)
        fd = _finite_diff(expr, names, point, derivs, args.order)
        where = ", ".join(f"{n} = {_fmt(point[n])}" for n in names)
        print(f"\nat {where}:")
        head = ("derivative", "autograd", "finite diff", "symbolic", "yours", "check")
        rows = []
        fval = _user_value(expr, point)
        for k, label, _ in derivs:
            rows_total += 1
            a, d = auto[k], fd[k]
            s = sym.value(k, point)
            y = None
            if k in expects:
                y = _user_value(expects[k][1], point)
            if math.isnan(fval):
                verdict = "undefined here (f is nan)"
            else:
                verdict = _verdict(k, a, d, s, y, fd_tol, sym, point)
            if verdict != "ok" and not verdict.startswith("undefined"):
                bad += 1
            rows.append((label, _fmt(a), _fmt(d), _fmt(s) if sym.ok else "-", _fmt(y), verdict))
        widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(head[:-1])]
        print("  " + "  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  check")
        for r in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    n = len(points)
    print()
    if bad:
        print(f"{bad} of {rows_total} rows DISAGREE (marked MISMATCH above)")
        return 1
    print(f"all derivatives agree ({n} point{'s' if n != 1 else ''})")
    return 0


def _user_value(e, point) -> float:
    try:
        return float(e.evaluate(FLOAT, point))
    except (OverflowError, ValueError, ZeroDivisionError, TypeError):
        return float("nan")


def _verdict(k, a, d, s, y, fd_tol, sym, point) -> str:
    if math.isnan(a) and (d is None or math.isnan(d)):
        return "undefined here (nan)"
    notes = []
    if not _close(a, d, *fd_tol):
        notes.append(f"MISMATCH: autograd - finite diff = {a - d:.3g} (not smooth here?)")
    if s is not None and not _close(a, s, 1e-7, 1e-9):
        notes.append(f"MISMATCH: autograd - symbolic = {a - s:.3g}")
    if y is not None and not _close(y, a, 1e-7, 1e-9):
        notes.append(f"MISMATCH: yours - autograd = {y - a:.4g}" + _hint(k, a, y, sym, point))
    return "; ".join(notes) if notes else "ok"


def _hint(k, a, y, sym, point) -> str:
    """Name a likely sign slip: the whole derivative, or one term with its sign flipped."""
    diff = y - a
    if _close(y, -a, 1e-7, 1e-9) and abs(a) > 1e-12:
        return " (the whole sign is flipped)"
    for term in sym.terms(k):
        t = sym.term_value(term, point)
        if abs(t) > 1e-12 and _close(diff, -2.0 * t, 1e-7, 1e-9):
            return f" (sign slip? the term {term} has the wrong sign)"
    if abs(a) > 1e-12 and _close(y, 2 * a, 1e-7, 1e-9):
        return " (twice the right value)"
    return ""


if __name__ == "__main__":
    sys.exit(main())
