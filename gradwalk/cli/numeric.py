"""The numeric columns of ``python -m gradwalk check``: autograd, finite differences, kinks.

Note [kinks]
~~~~~~~~~~~~
At a kink (``relu`` or ``abs`` at 0) f has no derivative, but autograd returns a number: the
one PyTorch's backward formulas give (``relu``: the left-hand slope 0; ``abs``: 0, between the
one-sided slopes -1 and 1). A central difference there averages the two sides, so it agrees
with autograd for ``abs`` and not for ``relu``: comparing it would give similar points different
verdicts. So ``one_sided`` estimates both one-sided derivatives (second-order stencils) at a step
``h`` and at ``h/4``: for a smooth f their difference shrinks like ``h**2``, at a kink it stays.
A kink is reported with both slopes and which value autograd uses; it is not a comparison.

Example:
    >>> from gradwalk.cli.expr import parse
    >>> kink(parse("relu(x)"), ["x"], {"x": 0.0}, 0)
    (0.0, 1.0)
    >>> kink(parse("x**2"), ["x"], {"x": 0.0}, 0) is None
    True
"""

from __future__ import annotations

import math

from .expr import FLOAT, Expr, gradwalk_backend

EPS = 2.0 ** -52


def value(e: Expr, point: dict[str, float]) -> float:
    """``e`` at ``point`` in float64 with IEEE results (``log(0)`` is ``-inf``).

    Example:
        >>> from gradwalk.cli.expr import parse
        >>> value(parse("log(x)"), {"x": 0.0})
        -inf
    """
    try:
        return float(e.evaluate(FLOAT, point))
    except (ArithmeticError, ValueError, TypeError):
        return math.nan


def autograd(expr: Expr, names: list[str], point: dict[str, float], derivs: list,
             order: int) -> dict[str, float]:
    """Autograd's derivatives (float64): ``derivs`` holds ``(key, label, index tuple)``.

    Example:
        >>> from gradwalk.cli.expr import parse
        >>> autograd(parse("x*y"), ["x", "y"], {"x": 2.0, "y": 3.0},
        ...          [("x", "d/dx", (0,)), ("y", "d/dy", (1,))], 1)
        {'x': 3.0, 'y': 2.0}
    """
    try:
        return _autograd(expr, names, point, derivs, order)
    except (ArithmeticError, ValueError, RuntimeError):
        return {k: math.nan for k, _, _ in derivs}


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
    return 0.0 if t is None else float(t.item())


def finite_diff(expr: Expr, names: list[str], point: dict[str, float], derivs: list,
                order: int) -> dict[str, float]:
    """Central finite differences (steps ``eps**(1/3)`` for first, ``eps**(1/4)`` for second
    derivatives, scaled by the point).

    Example:
        >>> from gradwalk.cli.expr import parse
        >>> d = finite_diff(parse("x**3"), ["x"], {"x": 2.0}, [("x", "d/dx", (0,))], 1)
        >>> round(d["x"], 6)
        12.0
    """
    def f(p):
        return value(expr, p)

    out = {}
    for k, _, idx in derivs:
        if order == 1:
            n = names[idx[0]]
            h = EPS ** (1 / 3) * max(1.0, abs(point[n]))
            out[k] = (f({**point, n: point[n] + h}) - f({**point, n: point[n] - h})) / (2 * h)
            continue
        a, b = names[idx[0]], names[idx[1]]
        ha = EPS ** 0.25 * max(1.0, abs(point[a]))
        if a == b:
            out[k] = (f({**point, a: point[a] + ha}) - 2 * f(point)
                      + f({**point, a: point[a] - ha})) / (ha * ha)
            continue
        hb = EPS ** 0.25 * max(1.0, abs(point[b]))
        pp = f({**point, a: point[a] + ha, b: point[b] + hb})
        pm = f({**point, a: point[a] + ha, b: point[b] - hb})
        mp = f({**point, a: point[a] - ha, b: point[b] + hb})
        mm = f({**point, a: point[a] - ha, b: point[b] - hb})
        out[k] = (pp - pm - mp + mm) / (4 * ha * hb)
    return out


def one_sided(expr: Expr, name: str, point: dict[str, float], h: float) -> tuple[float, float]:
    """The left and right derivatives in ``name`` (second-order one-sided differences).

    Example:
        >>> from gradwalk.cli.expr import parse
        >>> one_sided(parse("abs(x)"), "x", {"x": 0.0}, 1e-3)
        (-1.0, 1.0)
    """
    x = point[name]

    def f(v):
        return value(expr, {**point, name: v})

    f0 = f(x)
    left = (3 * f0 - 4 * f(x - h) + f(x - 2 * h)) / (2 * h)
    right = (-3 * f0 + 4 * f(x + h) - f(x + 2 * h)) / (2 * h)
    return left, right


def kink(expr: Expr, names: list[str], point: dict[str, float], i: int
         ) -> tuple[float, float] | None:
    """``(left, right)`` derivatives in variable ``names[i]`` when f has a kink there, else
    ``None`` (Note [kinks]).

    Example:
        >>> from gradwalk.cli.expr import parse
        >>> kink(parse("abs(x - 1) + x"), ["x"], {"x": 1.0}, 0)
        (0.0, 2.0)
    """
    name = names[i]
    h = 4 * EPS ** (1 / 3) * max(1.0, abs(point[name]))
    wide = one_sided(expr, name, point, h)
    narrow = one_sided(expr, name, point, h / 4)
    if not all(math.isfinite(v) for v in wide + narrow):
        return None
    jump, jump_wide = narrow[1] - narrow[0], wide[1] - wide[0]
    fmax = max(abs(value(expr, {**point, name: point[name] + s * h})) for s in (-2, 0, 2))
    noise = 64 * EPS * fmax / (h / 4)
    if abs(jump) <= max(1e-6 * (1 + abs(narrow[0]) + abs(narrow[1])), noise):
        return None
    if abs(jump) < 0.5 * abs(jump_wide):  # shrinking with h: smooth but curved
        return None
    return _round(narrow[0]), _round(narrow[1])


def _round(v: float) -> float:
    """Drop the stencil's last digits: 0.9999999997 is shown as 1."""
    return float(f"{v:.8g}") + 0.0
