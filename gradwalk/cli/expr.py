"""A safe parser for the math expressions the command line takes (``x**3 + 2*sin(x)``).

The text is parsed with Python's ``ast`` and checked against a whitelist: numbers, variable
names, ``+ - * / **``, unary ``-``/``+``, parentheses and calls of the functions in
``FUNCTIONS``. Nothing is ever ``eval``-ed: the checked tree is turned into a small tree of
``Expr`` objects that evaluate against a *backend* (gradwalk tensors, plain floats, sympy).

Example:
    >>> e = parse("x**3 + 2*sin(x)")
    >>> sorted(e.variables())
    ['x']
    >>> e.evaluate(FLOAT, {"x": 0.0})
    0.0
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

FUNCTIONS = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log",
             "log2", "log10", "log1p", "expm1", "sqrt", "abs", "sigmoid", "relu", "erf")
CONSTANTS = {"pi": math.pi, "e": math.e}
MAX_LENGTH = 2000
MAX_NODES = 500
MAX_DEPTH = 100


class ExprError(ValueError):
    """A bad expression: the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Expr:
    """A checked expression tree: ``kind`` is num, var, neg, add, sub, mul, div, pow or call."""

    kind: str
    value: object = None      # the number, the variable name or the function name
    args: tuple = ()

    def variables(self) -> set:
        """The variable names the expression uses."""
        out: set = set()
        stack = [self]
        while stack:
            e = stack.pop()
            if e.kind == "var":
                out.add(e.value)
            stack.extend(e.args)
        return out

    def evaluate(self, backend: dict, env: dict):
        """Evaluate with ``backend`` (``num``, ``add``... and the functions) and variable values
        ``env``."""
        out: dict = {}
        stack = [(self, False)]
        while stack:  # post-order with an explicit stack: deep expressions cannot recurse
            e, done = stack.pop()
            if e.kind == "num":
                out[id(e)] = backend["num"](e.value)
            elif e.kind == "var":
                out[id(e)] = env[e.value]
            elif not done:
                stack.append((e, True))
                stack.extend((a, False) for a in e.args)
            else:
                vals = [out[id(a)] for a in e.args]
                fn = backend[e.value] if e.kind == "call" else backend[e.kind]
                out[id(e)] = fn(*vals)
        return out[id(self)]


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_ALLOWED = ("numbers, variable names, + - * / **, unary -, parentheses and calls of "
            + ", ".join(FUNCTIONS))


def parse(text: str, what: str = "expression") -> Expr:
    """Parse ``text`` into a checked ``Expr``; ``ExprError`` says what is wrong.

    Example:
        >>> parse("2*x").kind
        'mul'
        >>> parse("__import__('os')")
        Traceback (most recent call last):
        ...
        gradwalk.cli.expr.ExprError: unknown function '__import__' in expression \
"__import__('os')"; allowed: sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, exp, log, \
log2, log10, log1p, expm1, sqrt, abs, sigmoid, relu, erf
    """
    if not isinstance(text, str) or not text.strip():
        raise ExprError(f"the {what} is empty")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the {what} is too long ({len(text)} characters, at most {MAX_LENGTH})")
    src = text.strip().replace("^", "**")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise ExprError(f"could not parse {what} {text!r}: {e.msg}{col}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(f"could not parse {what} {text!r}: too deeply nested") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExprError(f"the {what} is too big ({count} parts, at most {MAX_NODES})")
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise ExprError(f"the {what} is nested too deeply ({depth} levels, at most {MAX_DEPTH})")
    return _convert(tree.body, text, what)


def _depth(root) -> int:
    best = 0
    stack = [(root, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack.extend((k, d + 1) for k in ast.iter_child_nodes(node))
    return best


def _convert(root, text, what) -> Expr:
    """Turn the checked ast into ``Expr`` (post-order, with an explicit stack)."""
    out: dict = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        kids = _children(node, text, what)
        if not done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids)
            continue
        args = tuple(out[id(k)] for k in kids)
        out[id(node)] = _build(node, args)
    return out[id(root)]


def _children(node, text, what) -> list:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(f"{v!r} is not allowed in the {what} {text!r}: only {_ALLOWED}")
        return []
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExprError(f"function '{node.id}' must be called, as {node.id}(x), in the "
                            f"{what} {text!r}")
        if node.id.startswith("_"):
            raise ExprError(f"variable names cannot start with '_' ({node.id!r} in {text!r})")
        return []
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return [node.operand]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExprError(f"only plain function calls are allowed in the {what} {text!r}; "
                            f"allowed functions: {', '.join(FUNCTIONS)}")
        if node.func.id not in FUNCTIONS:
            raise ExprError(f"unknown function '{node.func.id}' in {what} {text!r}; allowed: "
                            + ", ".join(FUNCTIONS))
        if node.keywords or len(node.args) != 1:
            raise ExprError(f"{node.func.id}() takes exactly one argument, in the {what} "
                            f"{text!r}")
        return list(node.args)
    snippet = ast.get_source_segment(text.strip().replace("^", "**"), node) or type(
        node).__name__
    raise ExprError(f"{snippet!r} is not allowed in the {what} {text!r}: only {_ALLOWED}")


def _build(node, args) -> Expr:
    if isinstance(node, ast.Constant):
        return Expr("num", node.value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return Expr("num", CONSTANTS[node.id])
        return Expr("var", node.id)
    if isinstance(node, ast.UnaryOp):
        return args[0] if isinstance(node.op, ast.UAdd) else Expr("neg", None, args)
    if isinstance(node, ast.BinOp):
        return Expr(_BINOPS[type(node.op)], None, args)
    return Expr("call", node.func.id, args)


# ------------------------------------------------------------------------------- backends

def _float_pow(a, b):
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        return float("nan")


def _safe(fn):
    def call(*args):
        try:
            return fn(*args)
        except (ValueError, OverflowError, ZeroDivisionError):
            return float("nan")

    return call


#: Plain Python floats (``math``): used for finite differences in float64.
FLOAT: dict = {
    "num": float, "neg": lambda a: -a, "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b, "div": _safe(lambda a, b: a / b), "pow": _float_pow,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": _safe(math.asin),
    "acos": _safe(math.acos), "atan": math.atan, "sinh": _safe(math.sinh),
    "cosh": _safe(math.cosh), "tanh": math.tanh, "exp": _safe(math.exp), "log": _safe(math.log),
    "log2": _safe(math.log2), "log10": _safe(math.log10), "log1p": _safe(math.log1p),
    "expm1": _safe(math.expm1), "sqrt": _safe(math.sqrt), "abs": abs,
    "sigmoid": _safe(lambda a: 1.0 / (1.0 + math.exp(-a))), "relu": lambda a: max(a, 0.0),
    "erf": math.erf,
}


def gradwalk_backend() -> dict:
    """Evaluate on gradwalk tensors (float64), so autograd can differentiate the result."""
    import gradwalk as gw

    def num(v):
        return float(v)

    def pw(a, b):
        if not isinstance(a, gw.Tensor) and not isinstance(b, gw.Tensor):
            return _float_pow(a, b)
        return a ** b

    def call(name):
        fn = getattr(gw, name)

        def f(a):
            if not isinstance(a, gw.Tensor):
                a = gw.tensor(a, dtype=gw.float64)
            return fn(a)

        return f

    backend = {"num": num, "neg": lambda a: -a, "add": lambda a, b: a + b,
               "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
               "div": lambda a, b: a / b, "pow": pw}
    for name in FUNCTIONS:
        backend[name] = call(name)
    return backend


def sympy_backend():
    """Evaluate to a sympy expression (``None`` when sympy is not installed)."""
    try:
        import sympy as sp  # type: ignore[import-not-found]
    except ImportError:
        return None

    def num(v):
        return sp.Integer(v) if isinstance(v, int) else sp.Float(v)

    def pw(a, b):
        if getattr(a, "is_Number", False) and getattr(b, "is_Number", False):
            return sp.Float(a) ** sp.Float(b)  # never build a huge exact integer
        return a ** b

    fns = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos,
           "atan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "exp": sp.exp,
           "log": sp.log, "log2": lambda a: sp.log(a, 2), "log10": lambda a: sp.log(a, 10),
           "log1p": lambda a: sp.log(1 + a), "expm1": lambda a: sp.exp(a) - 1,
           "sqrt": sp.sqrt, "abs": sp.Abs, "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
           "relu": lambda a: sp.Max(a, 0), "erf": sp.erf}
    backend = {"num": num, "neg": lambda a: -a, "add": lambda a, b: a + b,
               "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
               "div": lambda a, b: a / b, "pow": pw}
    backend.update(fns)
    return backend
