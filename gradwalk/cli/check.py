"""``python -m gradwalk check``: check a derivative worked out by hand against autograd.

    python -m gradwalk check "x**3 + 2*sin(x)" --at -1 0.5 2 --expect "3*x**2 + 2*cos(x)"

For each point it prints a table: autograd's derivative, a central finite difference, the
symbolic derivative (when sympy is installed) and your hand derivative, marking the rows that
disagree and by how much (with a hint when the difference looks like a sign slip). Several
variables: ``--at x=1,y=2`` (gradients in every variable; ``--expect`` one expression per
variable, in order, or ``dx=...``). Second derivatives: ``--order 2`` (``--expect`` for the
entries ``xx``, ``xy``, ``yy``... in that order, or by name).

Expressions are parsed safely (``gradwalk.cli.expr``): numbers, variables, ``+ - * / **``, unary
minus and calls of a fixed set of math functions. sympy runs in a child process under a time
limit (``--sympy-timeout``, Note [symbolic under a time limit]). A point where f or the
derivative is not finite, or where f has a kink (Note [kinks]), is reported as such and not
counted as a comparison. Exit status: 0 when everything compared agrees (and something was),
1 when a row disagrees or nothing could be compared, 2 for bad input (with a message, never a
traceback).
"""

from __future__ import annotations

import math
import re
import sys
import warnings

from . import numeric, symbolic
from .expr import FLOAT, ExprError, parse
from .options import ArgumentParser, HelpFormatter, UsageError, program

EXAMPLES = """\
examples:
  python -m gradwalk check "x**3 + 2*sin(x)" --at -1 0.5 2 --expect "3*x**2 + 2*cos(x)"
  python -m gradwalk check "x*sin(y)" --at x=1,y=2 --expect "sin(y)" "dy=x*cos(y)"
  python -m gradwalk check "x**2*y" --at x=1,y=2 --order 2 --expect xx=2*y xy=2*x yy=0
"""


def _parser() -> ArgumentParser:
    prog = program("check")
    p = ArgumentParser(
        prog=prog, formatter_class=HelpFormatter,
        description="Check a hand-derived derivative against autograd, finite differences\n"
                    "and (with sympy) the symbolic derivative.",
        epilog=EXAMPLES.replace("python -m gradwalk check", prog))
    p.add_argument("function", help='the function, e.g. "x**3 + 2*sin(x)"')
    p.add_argument("--at", nargs="+", required=True, metavar="POINT",
                   help="points, separated by spaces: numbers for one variable (-1 0.5 2), "
                        "or x=1,y=2 for several")
    p.add_argument("--expect", nargs="+", default=[], metavar="DERIV",
                   help="your derivative(s): one per variable (or per second-derivative "
                        "entry), in order, or named: dx=..., dxdy=...")
    p.add_argument("--order", type=int, default=1, choices=(1, 2),
                   help="1: gradient; 2: second derivatives")
    p.add_argument("--sympy-timeout", type=float, default=symbolic.DEFAULT_TIMEOUT,
                   metavar="SECONDS", help="time limit of the symbolic check")
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
    options = ("--at", "--expect", "--order", "--sympy-timeout", "-h", "--help")
    argv = [" " + a if a.startswith("-") and a.split("=")[0] not in options else a
            for a in argv]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _run(_parser().parse_args(argv))
    except (UsageError, ExprError) as e:
        print(f"error: {e}", file=sys.stderr)
        print(f"usage: {program('check')} FUNCTION --at POINT... [--expect DERIV...] "
              "[--order 2]   (see --help)", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)


# ------------------------------------------------------------------------------- input

def _points(items, variables) -> tuple[list, list]:
    """The variable names (in order) and the points (dicts name -> float)."""
    named = ["=" in it for it in items]
    if any(named) and not all(named):
        raise UsageError("mix of named (x=1) and plain (1) points in --at; use one form")
    if not any(named):
        if len(variables) != 1:
            found = ", ".join(sorted(variables)) or "none"
            raise UsageError(f"the function has {len(variables)} variables ({found}); give "
                             "points with names, e.g. --at "
                             + ",".join(f"{v}=1" for v in sorted(variables)))
        name = next(iter(variables))
        for it in items:
            if "," in it:
                spaced = " ".join(p.strip() for p in it.split(",") if p.strip())
                raise UsageError(f"--at {it}: give one number per point, separated by spaces "
                                 f"(--at {spaced}); a comma separates variables of one "
                                 f"point: --at {name}=1")
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
                raise UsageError(f"bad variable name {key!r} in --at {it!r}")
            if key not in variables:
                raise UsageError(f"--at {it} gives a value for {key}, but the function has no "
                                 f"variable {key} (its variables: "
                                 f"{', '.join(sorted(variables))})")
            point[key] = _number(val, f"--at {it!r}")
            if key not in names:
                names.append(key)
        points.append(point)
    for p in points:
        missing = [n for n in names if n not in p]
        if missing:
            raise UsageError(f"point {p} gives no value for {', '.join(missing)}")
    unknown = sorted(v for v in variables if v not in names)
    if unknown:
        raise UsageError(f"the function uses {', '.join(unknown)} but --at gives no value "
                         "for it")
    return names, points


def _number(text, where) -> float:
    e = parse(text, f"value in {where}")
    if e.variables():
        raise UsageError(f"{text!r} in {where} must be a number (pi and e are allowed)")
    v = e.evaluate(FLOAT, {})
    if not math.isfinite(v):
        raise UsageError(f"{text!r} in {where} is not a finite number")
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
        key = key.strip()
        if sep and key in aliases and "=" not in text:
            k = aliases[key]
        elif sep and "=" not in text and re.fullmatch(r"[A-Za-z_][\w,/]*", key):
            spell = ", ".join(f"{d[0] if len(d[2]) == 2 else 'd' + d[0]}=..." for d in derivs)
            raise UsageError(f"--expect {it.strip()}: there is no derivative {key!r} (the "
                             f"variables are {', '.join(names)}); name one of {spell}, or "
                             "give the derivatives in order without names")
        else:
            if positional >= len(derivs):
                raise UsageError(f"--expect has more derivatives than there are to check "
                                 f"({', '.join(lb for _, lb, _ in derivs)})")
            k, text = derivs[positional][0], it
            positional += 1
        if k in out:
            raise UsageError(f"--expect gives the derivative {k} twice")
        e = parse(text, "expected derivative")
        unknown = sorted(v for v in e.variables() if v not in names)
        if unknown:
            raise UsageError(f"your derivative {text!r} uses {', '.join(unknown)}, which is not "
                             f"a variable of the function ({', '.join(names)})")
        out[k] = (text, e)
    return out


# ------------------------------------------------------------------------------- the report

def _close(a, b, rtol, atol) -> bool:
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _finite(v) -> bool:
    return isinstance(v, float) and math.isfinite(v)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if math.isnan(v):
        return "nan"
    return f"{v:.10g}"


def _run(args) -> int:
    expr = parse(args.function, "function")
    variables = expr.variables()
    if not variables:
        raise UsageError(f"the function {args.function!r} has no variables: nothing to "
                         "differentiate")
    names, points = _points(args.at, variables)
    derivs = _derivatives(names, args.order)
    expects = _expects(args.expect, derivs, names)
    if not 0 < args.sympy_timeout <= 3600:
        raise UsageError(f"--sympy-timeout must be a number of seconds in (0, 3600] (got "
                         f"{args.sympy_timeout})")
    job = symbolic.Job(args.function, names, [(k, idx) for k, _, idx in derivs], points,
                       {k: text for k, (text, _) in expects.items()}, args.sympy_timeout)
    numbers = [(numeric.autograd(expr, names, p, derivs, args.order),
                numeric.finite_diff(expr, names, p, derivs, args.order),
                numeric.value(expr, p)) for p in points]
    sym = job.result()

    print(f"f({', '.join(names)}) = {args.function}")
    for k, label, _ in derivs:
        parts = []
        if k in sym.exprs:
            parts.append(f"symbolic {sym.exprs[k]}")
        if k in expects:
            parts.append(f"yours {expects[k][0]}")
            same = sym.same.get(k)
            if same is True:
                parts[-1] += " (same as symbolic)"
            elif same is False:
                parts[-1] += " (NOT the same as symbolic)"
        if parts:
            print(f"  {label}: " + "; ".join(parts))
    if sym.status == "missing":
        print("  (install sympy for the symbolic column: pip install sympy)")
    elif sym.status != "ok":
        print(f"  ({sym.message}; the numeric comparison follows)")

    tally = {"compared": 0, "bad": 0, "skipped": 0}
    fd_tol = (1e-5, 1e-6) if args.order == 1 else (1e-3, 1e-4)
    for n, (point, (auto, fd, fval)) in enumerate(zip(points, numbers)):
        where = ", ".join(f"{v} = {_fmt(point[v])}" for v in names)
        print(f"\nat {where}:")
        head = ("derivative", "autograd", "finite diff", "symbolic", "yours")
        rows = []
        for k, label, idx in derivs:
            a, d = auto[k], fd[k]
            s = sym.values[k][n] if k in sym.values else None
            y = numeric.value(expects[k][1], point) if k in expects else None
            verdict, kind = _verdict(expr, names, point, k, idx, fval, a, d, s, y, fd_tol,
                                     sym, n)
            tally[kind] += 1
            rows.append((label, _fmt(a), _fmt(d), _fmt(s), _fmt(y), verdict))
        widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(head)]
        print("  " + "  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  check")
        for r in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return _summary(tally, len(points))


def _summary(tally, n_points) -> int:
    print()
    compared, bad, skipped = tally["compared"], tally["bad"], tally["skipped"]
    total = compared + bad + skipped
    not_compared = f"; {skipped} not compared, see above" if skipped else ""
    if bad:
        print(f"{bad} of {total} rows DISAGREE (marked MISMATCH above{not_compared})")
        return 1
    if not compared:
        print("nothing could be compared: at every point f or its derivative is not finite, "
              "undefined, or has a kink; try other points")
        return 1
    if skipped:
        print(f"all derivatives agree where they could be compared ({compared} of {total} "
              f"rows{not_compared})")
        return 0
    print(f"all derivatives agree ({n_points} point{'s' if n_points != 1 else ''})")
    return 0


def _verdict(expr, names, point, k, idx, fval, a, d, s, y, fd_tol, sym, n) -> tuple:
    """(the check column, and whether the row was compared, bad or skipped)."""
    if math.isnan(fval):
        return "undefined here (f is nan)", "skipped"
    if not math.isfinite(fval):
        return f"not finite here (f is {_fmt(fval)})", "skipped"
    if not math.isfinite(a):
        return f"not finite here (autograd gives {_fmt(a)})", "skipped"
    if len(idx) == 1:
        sides = numeric.kink(expr, names, point, idx[0])
        if sides is not None:
            return _kink_verdict(a, *sides)
    else:  # a second derivative where f itself has a kink does not exist
        for i in sorted(set(idx)):
            sides = numeric.kink(expr, names, point, i)
            if sides is not None:
                return (f"kink in {names[i]} (slope {_fmt(sides[0])} left, {_fmt(sides[1])} "
                        f"right): no second derivative here; autograd gives {_fmt(a)}"), "skipped"
    notes = []
    compared = 0
    if _finite(d):
        compared += 1
        if not _close(a, d, *fd_tol):
            notes.append(f"MISMATCH: autograd - finite diff = {a - d:.3g} (not smooth here?)")
    if _finite(s):
        compared += 1
        if not _close(a, s, 1e-7, 1e-9):
            notes.append(f"MISMATCH: autograd - symbolic = {a - s:.3g}")
    if y is not None:
        compared += 1
        if not _finite(y):
            notes.append(f"MISMATCH: yours is {_fmt(y)} here, autograd {_fmt(a)}")
        elif not _close(y, a, 1e-7, 1e-9):
            notes.append(f"MISMATCH: yours - autograd = {y - a:.4g}" + _hint(k, a, y, sym, n))
    if notes:
        return "; ".join(notes), "bad"
    if not compared:
        return "nothing to compare with here (f is not finite nearby)", "skipped"
    return "ok", "compared"


def _kink_verdict(a, left, right) -> tuple:
    """At a kink: which one-sided value autograd uses (Note [kinks])."""
    sides = f"kink (not differentiable): slope {_fmt(left)} left, {_fmt(right)} right"
    if _close(a, left, 1e-6, 1e-9):
        used = f"autograd uses the left one, {_fmt(a)}"
    elif _close(a, right, 1e-6, 1e-9):
        used = f"autograd uses the right one, {_fmt(a)}"
    elif min(left, right) <= a <= max(left, right):
        used = f"autograd uses {_fmt(a)}, between the two"
    else:
        return f"MISMATCH: {sides}, but autograd gives {_fmt(a)}, outside them", "bad"
    return f"{sides}; {used}, as PyTorch does", "skipped"


def _hint(k, a, y, sym, n) -> str:
    """Name a likely sign slip: the whole derivative, or one term with its sign flipped."""
    diff = y - a
    if _close(y, -a, 1e-7, 1e-9) and abs(a) > 1e-12:
        return " (the whole sign is flipped)"
    for term, values in sym.terms.get(k, []):
        t = values[n]
        if _finite(t) and abs(t) > 1e-12 and _close(diff, -2.0 * t, 1e-7, 1e-9):
            return f" (sign slip? the term {term} has the wrong sign)"
    if abs(a) > 1e-12 and _close(y, 2 * a, 1e-7, 1e-9):
        return " (twice the right value)"
    return ""


if __name__ == "__main__":
    sys.exit(main())
