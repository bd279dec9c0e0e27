"""Names of a graph's values as the user wrote them: ``c``, ``b**2``, ``tanh(h)``, ``2``.

The backward walk (``autograd.explain``) and the picture (``viz.draw``) both talk about the
inputs of a node. They name each one the way the user's code did, never with generic letters that
could clash with the user's own variables:

* a leaf: its ``.name``, else the caller's variable name (``w``);
* a node whose output the caller bound to a variable: that variable (``c``);
* another node: a short expression of its inputs (``b**2``, ``x**2 + 2*x``, ``sum(w)``); deeper
  parts become ``...`` so that a name stays short;
* a constant: its value (``2``) when the graph kept it, else ``constant``.

Note [expression names]
    An expression is built from the op and the names of its inputs, with Python's precedence
    (parentheses only where needed). ``mul`` with a constant puts the constant first (``2*x``),
    as a reader writes it; the graph records ``2*x`` as ``mul(x, 2)`` (as PyTorch does), so the
    order of the user's code is not known. Names longer than ``MAX_LEN`` are shortened by
    replacing the deepest parts by ``...``.

Example:
    >>> import gradwalk
    >>> from gradwalk.autograd.explain_names import Namer
    >>> b = gradwalk.tensor(3.0, requires_grad=True, name="b")
    >>> Namer().expr((b ** 2 + 1).grad_fn)
    'b**2 + constant'
"""

from __future__ import annotations

import re

import numpy as np

from . import engine
from .node import AccumulateGrad

MAX_LEN = 24  # the longest expression used as a name before parts become "..."

# op name -> (symbol, precedence); Python's precedence: ** 7, unary - 6, * / @ 5, + - 4
_INFIX = {"add": (" + ", 4), "sub": (" - ", 4), "rsub": (" - ", 4), "mul": ("*", 5),
          "div": ("/", 5), "matmul": (" @ ", 5), "mm": (" @ ", 5), "bmm": (" @ ", 5),
          "mv": (" @ ", 5), "pow_tensor": ("**", 7)}
_ATOM = 9
_FUNC = {"sum_dim": "sum", "mean_dim": "mean", "max_dim": "max", "min_dim": "min",
         "linear_nobias": "linear", "cast": "to", "pow": "pow"}
_IDENT = re.compile(r"^[A-Za-z_][\w.]*(\[\d+\])?$|^\d+(\.\d*)?(e[+-]?\d+)?$")


def is_atomic(text: str) -> bool:
    """Whether ``text`` can stand in a formula without parentheses (a name, a number, a call).

    Example:
        >>> is_atomic("w"), is_atomic("lin.weight"), is_atomic("2"), is_atomic("b**2")
        (True, True, True, False)
    """
    if _IDENT.match(text):
        return True
    if text.endswith(")"):  # f(...) is atomic when the parenthesis closes at the end
        head = text.split("(", 1)[0]
        if head and _IDENT.match(head) and _closes_at_end(text, len(head)):
            return True
    return False


def _closes_at_end(text: str, start: int) -> bool:
    depth = 0
    for k in range(start, len(text)):
        c = text[k]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return k == len(text) - 1
    return False


def local_names(frame) -> dict:
    """``{id(tensor): variable name}`` for the tensors bound to names in ``frame``'s locals."""
    names: dict = {}
    Tensor = engine.Tensor
    if frame is None or Tensor is None:
        return names
    try:
        items = list(frame.f_locals.items())
    except Exception:  # pragma: no cover - exotic frames
        return names
    for k, v in items:
        if isinstance(v, Tensor) and not k.startswith("_") and id(v) not in names:
            names[id(v)] = k
    for k, v in items:  # the parameters of the caller's modules: lin.weight, model.0.bias
        if k.startswith("_") or isinstance(v, Tensor) or not hasattr(v, "named_parameters") \
                or not hasattr(v, "named_modules"):
            continue
        try:
            params = list(v.named_parameters())
        except Exception:  # pragma: no cover - not a module after all
            continue
        for pname, p in params:
            names.setdefault(id(p), f"{k}.{pname}")
    return names


def leaf_label(leaf, names: dict) -> str:
    """A leaf's name: its ``.name``, else the caller's variable (``names``), else its shape.

    A parameter's ``.name`` is given by its module (``weight``); the caller's name for it
    (``lin.weight``, from the module variable ``lin``) says more and comes first.

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([1.0], requires_grad=True)
        >>> leaf_label(w, {id(w): "w"}), leaf_label(w, {})
        ('w', 'leaf [1]')
    """
    if leaf.name and not (type(leaf).__name__ == "Parameter" and id(leaf) in names):
        return leaf.name
    shape = "scalar" if not leaf.shape else str(list(leaf.shape))
    return names.get(id(leaf)) or f"leaf {shape}"


def node_names(frame, names) -> dict:
    """``{id(node): variable name}`` for the non-leaf tensors named in ``frame``."""
    out: dict = {}
    if frame is None:
        return out
    try:
        values = list(frame.f_locals.values())
    except Exception:  # pragma: no cover - exotic frames
        return out
    Tensor = engine.Tensor
    for v in values:
        if Tensor is not None and isinstance(v, Tensor) and v.grad_fn is not None:
            name = names.get(id(v))
            if name and id(v.grad_fn) not in out:
                out[id(v.grad_fn)] = name
    return out


def fmt_const(v) -> str | None:
    """A constant as text, or ``None`` when it is not a plain number.

    Example:
        >>> fmt_const(2), fmt_const(0.5), fmt_const(None)
        ('2', '0.5', None)
    """
    from .explain import fmt_number

    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float, np.number)):
        return fmt_number(v)
    if type(v) is np.ndarray and v.size == 1:
        return fmt_number(v.reshape(()).item())
    return None


class Namer:
    """Names the inputs and outputs of nodes (Note [expression names]).

    ``leaf_label(leaf)`` names a leaf, ``node_label(node)`` gives the variable bound to a node's
    output (or ``None``), ``const(node, i)`` the text of the constant input ``i`` (or ``None``).
    The defaults use ``.name`` and the constants the node saved.
    """

    def __init__(self, leaf_label=None, node_label=None, const=None) -> None:
        self.leaf_label = leaf_label or (lambda leaf: leaf.name or "leaf")
        self.node_label = node_label or (lambda node: None)
        self.const = const or saved_const
        self._memo: dict = {}

    def input(self, node, i: int, depth: int = 3) -> str:
        """The name of input ``i`` of ``node``."""
        e = node.edges[i] if i < len(node.edges) else None
        if e is None:
            return self.const(node, i) or "constant"
        if type(e) is AccumulateGrad:
            return self.leaf_label(e.variable)
        if type(e) is tuple:  # output k of a multi-output node (split, unbind...)
            return f"{self.expr(e[0])}[{e[1]}]"
        return self.expr(e)

    def expr(self, node) -> str:
        """The name of ``node``'s output: its variable, else a short expression."""
        key = node  # the node itself (an id could be reused once a node is freed)
        if key not in self._memo:
            label = self.node_label(node)
            if label:
                self._memo[key] = label
            else:
                text = ""
                for depth in (3, 2, 1):
                    text = self._expr(node, depth)[0]
                    if len(text) <= MAX_LEN:
                        break
                if len(text) > MAX_LEN:
                    text = f"{op_word(node)}(...)"
                self._memo[key] = text
        return self._memo[key]

    def _operand(self, node, i: int, depth: int) -> tuple:
        e = node.edges[i] if i < len(node.edges) else None
        if e is None or type(e) is AccumulateGrad:
            t = self.input(node, i)
            return t, (_ATOM if is_atomic(t) else 0)
        if type(e) is tuple:  # output k of a multi-output node (split, unbind...)
            return f"{self.expr(e[0])}[{e[1]}]", _ATOM
        label = self.node_label(e)
        if label:
            return label, _ATOM
        if depth <= 0:
            return "...", _ATOM
        return self._expr(e, depth - 1)

    def _expr(self, node, depth: int) -> tuple:
        """``(text, precedence)`` of ``node``'s output."""
        op = getattr(node.op, "name", "")
        n = len(node.edges)
        if op in _INFIX and n == 2:
            sym, prec = _INFIX[op]
            (a, pa), (b, pb) = self._operand(node, 0, depth), self._operand(node, 1, depth)
            if op == "mul" and node.edges[1] is None and node.edges[0] is not None and \
                    self.const(node, 1):
                (a, pa), (b, pb) = (b, pb), (a, pa)  # 2*x: the constant first
            if op == "pow_tensor":  # right-associative, base must be an atom
                a = a if pa >= _ATOM else f"({a})"
                b = b if pb >= prec else f"({b})"
            else:
                a = a if pa >= prec else f"({a})"
                b = b if pb > prec else f"({b})"
            return f"{a}{sym}{b}", prec
        if op == "pow" and n == 1 and node.params and "exponent" in node.params:
            a, pa = self._operand(node, 0, depth)
            a = a if pa >= _ATOM else f"({a})"
            return f"{a}**{fmt_const(node.params['exponent']) or '?'}", 7
        if op == "square" and n == 1:  # x**2 records square(x) (PowBackward0, as PyTorch)
            a, pa = self._operand(node, 0, depth)
            return f"{a if pa >= _ATOM else f'({a})'}**2", 7
        if op == "neg" and n == 1:
            a, pa = self._operand(node, 0, depth)
            return f"-{a if pa >= 6 else f'({a})'}", 6
        args = ", ".join(self._operand(node, i, depth)[0] for i in range(n))
        return f"{op_word(node)}({args})", _ATOM


def op_word(node) -> str:
    """The op's name as a function: ``sin``, ``sum`` (for ``sum_dim``), ``linear``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0], requires_grad=True)
        >>> op_word(x.sum(0).grad_fn), op_word(x.tanh().grad_fn)
        ('sum', 'tanh')
    """
    name = getattr(node.op, "name", None) or node.name()
    return _FUNC.get(name, name)


def saved_const(node, i: int) -> str | None:
    """The text of constant input ``i`` of ``node`` from what the node saved, or ``None``."""
    saved = node.saved
    if saved is None or i >= len(saved):
        return None
    return fmt_const(saved[i])


def input_key(node, i: int) -> str:
    """The op's own name for input ``i`` (``self``, ``other``, ``tensors[1]``).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor([1.0], requires_grad=True)
        >>> input_key((x * x).grad_fn, 1), input_key(gradwalk.cat([x, x]).grad_fn, 1)
        ('other', 'tensors[1]')
    """
    names: tuple = getattr(node.op, "input_names", ())
    if i < len(names) and not (len(names) == 1 and len(node.edges) > 1):
        return names[i]
    if len(names) == 1:
        return f"{names[0]}[{i}]"
    return str(i)


#: Fused ops and the chain of PyTorch nodes each stands for (PyTorch's ``grad_fn`` names, from
#: the input to the output). ``F.cross_entropy`` runs as one op for speed; PyTorch records
#: ``LogSoftmaxBackward0`` then ``NllLossBackward0``.
FUSED: dict = {"cross_entropy": ("LogSoftmaxBackward0", "NllLossBackward0")}
