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
import re
from dataclasses import dataclass

import numpy as np

FUNCTIONS = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log",
             "log2", "log10", "log1p", "expm1", "sqrt", "abs", "sigmoid", "relu", "erf")
CONSTANTS = {"pi": math.pi, "e": math.e}
MAX_LENGTH = 2000
MAX_NODES = 500
MAX_DEPTH = 100
#: Exponentials (``exp``, ``expm1``, ``sinh``, ``cosh``, powers with a variable exponent) nested
#: deeper than this are refused: see Note [bounded expressions].
MAX_EXP_NESTING = 3
_GROWING = ("exp", "expm1", "sinh", "cosh")

# Note [bounded expressions]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~
# Every expression the parser accepts can be evaluated in float64, differentiated by autograd
# and handed to sympy without a hang, an OverflowError or a MemoryError:
# - a number must fit float64 (a literal of more than 308 digits, or ``1e400``, is refused);
# - every constant part (``9**9**9``, ``10**1000``, ``log(0)``, ``(-1)**0.5``) is evaluated in
#   float64 at parse time and must be finite, so no exact huge integer is ever built;
# - exponentials nest at most MAX_EXP_NESTING deep (``exp(exp(exp(x)))``, ``x**x**x**x``):
#   deeper towers overflow float64 for almost every input and make sympy's derivative explode;
# - the size (MAX_LENGTH, MAX_NODES) and nesting depth (MAX_DEPTH) are bounded.
# Whatever sympy still finds hard is bounded by time in ``gradwalk.cli.symbolic``.


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
    digits = max((len(m) for m in re.findall(r"\d+", src)), default=0)
    if digits > 308:
        raise ExprError(f"a number in the {what} has {digits} digits: numbers must fit float64 "
                        "(at most about 1.8e308)")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise ExprError(f"could not parse {what} {text!r}: {e.msg}{col}{_syntax_hint(src)}"
                        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(f"could not parse {what} {text!r}: too deeply nested") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExprError(f"the {what} is too big ({count} parts, at most {MAX_NODES})")
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise ExprError(f"the {what} is nested too deeply ({depth} levels, at most {MAX_DEPTH})")
    _check_bounded(tree.body, src, text, what)
    return _convert(tree.body, text, what)


def _syntax_hint(src: str) -> str:
    """A hint for the usual slips: ``2x`` for ``2*x``, ``dy=3`` given as an expression."""
    m = re.search(r"(?<![\w.])((?>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?))([A-Za-z_]\w*|\()", src)
    if m and not re.fullmatch(r"[jJ]", m.group(2)):
        return f" (write {m.group(1)}*{m.group(2)} for {m.group(0)!r}: multiplication needs *)"
    if re.match(r"\s*[A-Za-z_]\w*\s*=", src):
        return " (a name= prefix is only for a derivative's name, e.g. dx=...)"
    return ""


def _check_bounded(root, src, text, what) -> None:
    """Refuse non-finite constant parts and deep exponential towers (Note [bounded
    expressions])."""
    const: dict = {}
    grow: dict = {}
    order = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(ast.iter_child_nodes(node))
    for node in reversed(order):  # children before parents
        kids = [k for k in ast.iter_child_nodes(node) if isinstance(k, ast.expr)]
        if isinstance(node, ast.Call):
            kids = list(node.args)
        grow[id(node)] = max((grow.get(id(k), 0) for k in kids), default=0)
        value = None
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            try:
                value = float(node.value)
            except OverflowError:
                value = math.inf
        elif isinstance(node, ast.Name) and node.id in CONSTANTS:
            value = CONSTANTS[node.id]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = const.get(id(node.operand))
            value = None if v is None else (-v if isinstance(node.op, ast.USub) else v)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            a, b = const.get(id(node.left)), const.get(id(node.right))
            if a is not None and b is not None:
                value = FLOAT[_BINOPS[type(node.op)]](a, b)
            if isinstance(node.op, ast.Pow) and b is None:
                grow[id(node)] += 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FLOAT and len(node.args) == 1 and not node.keywords:
            a = const.get(id(node.args[0]))
            if a is not None:
                value = FLOAT[node.func.id](a)
            elif node.func.id in _GROWING:
                grow[id(node)] += 1
        if value is not None:
            if not math.isfinite(value):
                part = ast.get_source_segment(src, node) or "a constant"
                why = "not a real number" if math.isnan(value) else "not finite in float64"
                raise ExprError(f"the constant {part!r} in the {what} {text!r} is {value} "
                                f"({why}); use numbers whose value fits float64")
            const[id(node)] = value
    if grow[id(root)] > MAX_EXP_NESTING:  # the deepest nesting on any path
        raise ExprError(f"the {what} {text!r} nests exponentials {grow[id(root)]} deep (exp, "
                        "expm1, sinh, cosh or ** with a variable exponent); at most "
                        f"{MAX_EXP_NESTING}: deeper towers overflow float64 almost everywhere")


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
        if isinstance(node.func, ast.Constant):
            n = ast.get_source_segment(text.strip().replace("^", "**"), node.func) or "2"
            raise ExprError(f"could not parse {what} {text!r}: write {n}*(...) for {n}(...): "
                            "multiplication needs *")
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

def _ieee(fn):
    """``fn`` on float64 with IEEE results, as PyTorch computes them: ``log(0)`` is ``-inf``,
    ``1/0`` is ``inf``, ``sqrt(-1)`` is ``nan``; never an exception or a warning."""

    def call(*args):
        with np.errstate(all="ignore"):
            return float(fn(*(np.float64(a) for a in args)))

    return call


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _erf(a):
    return math.erf(float(a))


#: Plain Python floats computed in float64 with IEEE semantics (NumPy): used for finite
#: differences and for the values of f and of your derivative.
FLOAT: dict = {"num": float, "neg": lambda a: -float(a)}
FLOAT.update({name: _ieee(fn) for name, fn in {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "exp": np.exp,
    "log": np.log, "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1,
    "sqrt": np.sqrt, "abs": np.abs, "sigmoid": _sigmoid,
    "relu": lambda a: np.maximum(a, 0.0), "erf": _erf}.items()})


def gradwalk_backend() -> dict:
    """Evaluate on gradwalk tensors (float64), so autograd can differentiate the result."""
    import gradwalk as gw

    def num(v):
        return float(v)

    def pw(a, b):
        if not isinstance(a, gw.Tensor) and not isinstance(b, gw.Tensor):
            return FLOAT["pow"](a, b)
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
