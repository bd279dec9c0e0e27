"""The backward walk, step by step: what the engine did, in the order it did it.

``with gradwalk.autograd.explain() as walk: loss.backward()`` records every step through the
engine's observers (``engine.observers``): the node that ran, the gradient that arrived, the local
rule it applied (in words, from the ``explain`` of the op's declaration), and what it sent to
each input; adding into a leaf's ``.grad`` is a step of its own that shows the terms that met
there. ``print(walk)`` shows a table;
``walk.draw()`` a picture with step numbers and the gradients on the arrows.

Names: a tensor's ``.name`` labels it; otherwise the walk looks up the variable names of the code
around the ``with`` block (``x``, ``y``, and ``lin.weight`` for the parameters of a module ``lin``)
when the block ends, so the lesson reads naturally. Each input of a step is named as the code
wrote it (``c``, ``b**2``, the constant ``2``) and the rules read in those names (``grad * w``,
Note [names in the walk]); an input that was broadcast gets ``sum over dim 0 of ...``; every input
that needs no gradient is a ``constant``. The table fits ``WIDTH`` (100) columns, wrapping long
cells; in Jupyter a bare ``walk`` shows it as HTML.

Terms of a sum: the gradients that meet at a node are listed in forward order (the order their
paths were created, i.e. the order of the terms in the formula), e.g. ``x.grad = 6 + 2 = 8`` for
``x**2 + 2*x + 1`` at 3 although the engine added the ``2*x`` path first.

Example:
    >>> import gradwalk
    >>> x = gradwalk.tensor(3.0, requires_grad=True)
    >>> y = x**2 + 2*x + 1
    >>> with gradwalk.autograd.explain() as walk:
    ...     y.backward()
    >>> walk.steps[-1].text
    'x.grad = 6 + 2 = 8'
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

import numpy as np

from ..ops.rules import EXPLAIN as _op_words
from . import engine
from .explain_names import FUSED, Namer, fmt_const, is_atomic, leaf_label, local_names
from .explain_names import node_names as _node_names
from .explain_table import fit, longest_word, row, row_lines, wrap
from .node import AccumulateGrad

SMALL = 6  # arrays of at most this many elements are shown in full

# ------------------------------------------------------------------------------- text helpers


def fmt_number(v, digits: int = 6) -> str:
    """A number as a reader writes it: ``3`` for 3.0, ``0.5``, ``1.23457e+08`` (``digits``
    significant digits).

    Example:
        >>> fmt_number(3.0), fmt_number(-0.0), fmt_number(0.1 + 0.2), fmt_number(float("nan"))
        ('3', '0', '0.3', 'nan')
        >>> fmt_number(0.123456789, digits=4)
        '0.1235'
    """
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (complex, np.complexfloating)):
        return str(complex(v))
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def fmt_array(data, digits: int = 6) -> str:
    """Values of a small array (``[1, 2.5]``); shape and norm of a bigger one.

    Example:
        >>> import numpy as np
        >>> fmt_array(np.array(6.0)), fmt_array(np.array([1.0, 2.5])), fmt_array(np.ones((4, 4)))
        ('6', '[1, 2.5]', 'shape [4, 4], norm 4')
    """
    if data is None:
        return "None"
    if isinstance(data, engine.Tensor if engine.Tensor is not None else ()):
        data = data._data
    a = np.asarray(data)
    if a.size <= SMALL:
        return _nested(a.tolist(), digits)
    with np.errstate(all="ignore"):
        norm = float(np.sqrt(np.sum(np.abs(a.astype(np.complex128 if a.dtype.kind == "c"
                                                      else np.float64)) ** 2)))
    return f"shape {list(a.shape)}, norm {fmt_number(float(f'{norm:.4g}'))}"


def _nested(x, digits: int = 6) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v, digits) for v in x) + "]"
    return fmt_number(x, digits)


def fmt_shape(s) -> str:
    """``scalar`` for ``()``, else ``[2, 3]``.

    Example:
        >>> fmt_shape(()), fmt_shape((2, 3))
        ('scalar', '[2, 3]')
    """
    return "scalar" if s is None or len(s) == 0 else str(list(s))


def short_name(node) -> str:
    """``Mul`` for ``MulBackward0``: the op as a reader knows it.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(1.0, requires_grad=True)
        >>> short_name((x * 2).grad_fn), short_name((x * 2).grad_fn.next_functions[0][0])
        ('Mul', 'AccumulateGrad')
    """
    return re.sub(r"Backwards?\d*$", "", node.name()) or node.name()


# ------------------------------------------------------------------------- the rules in words

#: The local rule of each op in words, per input (``None``: no gradient to that input): the
#: ``explain`` field of the op's declaration. One-input ops call their input ``x``; ops of several
#: inputs ``a``, ``b``, ``c``; ``out`` is the op's output. A callable gets the op's parameters.
RULES = _op_words


def rule_texts(node) -> tuple:
    """The local rule of ``node`` in words, one text per input (``None``: no gradient).

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> rule_texts((x * x).grad_fn), rule_texts((x ** 3).grad_fn)
        (('grad * b', 'grad * a'), ('grad * 3 * x**2',))
    """
    rule = getattr(node.op, "explain", None)
    n = len(node.edges)
    if callable(rule):
        rule = rule(node.params)
    if rule is not None and len(rule) > n and all(r is None for r in rule[n:]):
        rule = rule[:n]  # a fused op whose extra input (a target) is a parameter, not an edge
    if rule is None or len(rule) != n:
        return tuple(f"vector-Jacobian product of {node.name()}" for _ in range(n))
    return rule


def _input_letters(n: int) -> tuple:
    return ("x",) if n == 1 else tuple("abcdefghij"[:n]) if n <= 10 else tuple(
        f"in{i}" for i in range(n))


# ------------------------------------------------------------------------------- the record

@dataclass
class Sent:
    """What one node sent to one of its inputs.

    ``rule`` is the local rule with the generic placeholders of ``RULES`` (``x``, ``a``, ``b``);
    ``input`` and ``text`` say the same in the user's terms (``c``, ``grad * w``), as the table
    shows them (Note [names in the walk]).
    """

    index: int
    letter: str          # the input's placeholder in the rule text (x, a, b...)
    rule: str | None     # the local rule in words, or None (no gradient for this input)
    target: object       # the Node (or AccumulateGrad) it went to, or None
    grad: str | None     # the gradient sent (reduced to the input's shape), as text
    why_none: str = ""   # why nothing was sent
    run: int = 1         # which backward call of the block
    summed: tuple = ()   # dims of the rule's result summed away (the input was broadcast)
    input: str = ""      # the input's name as the user wrote it: c, b**2, 2
    text: str = ""       # the rule with the user's names (and the broadcast sum)


@dataclass
class Step:
    """One step of the walk: a node running its rule, or an accumulation into a leaf."""

    number: int
    kind: str                        # "node" or "accumulate"
    node: object                     # the Node (AccumulateGrad for an accumulation)
    name: str                        # e.g. "MulBackward0"
    grad_in: str                     # the gradient that arrived, as text
    values: str = ""                 # the values the rule used, e.g. "x=3"
    sent: list = field(default_factory=list)
    text: str = ""                   # for an accumulation: "x.grad = 6 + 2 = 8"
    grad_value: np.ndarray | None = None  # the arrived gradient, for small tensors
    run: int = 1                     # which backward call of the block (1, 2...)
    used: list = field(default_factory=list)  # (input index, -1 for the output; value text)


# Note [names in the walk]
#     The rules of ``RULES`` call the inputs ``x`` (one input) or ``a``, ``b``, ``c``, and also
#     by the op's input names (``weight``, ``min``...); the table replaces each placeholder by the
#     input's name in the user's code (``explain_names.Namer``: ``c``, ``b**2``, the constant
#     ``2``), so that the letters never clash with the user's own variables. Names that are not
#     atomic get parentheses (``grad * (b**2)``). Leaf and variable names are only known when the
#     block ends (they are looked up in the caller's frame then), so the names are filled in by
#     ``_refresh`` at the end of the block and whenever the table is made; what the rules need
#     while the graph is alive (constants, values) is kept by ``on_node``.

WIDTH = 100  # the table fits this many columns (cells wrap)
DIGITS = 4   # significant digits of the walk's numbers (as PyTorch prints 4 decimals)


def _fmt(a) -> str:
    return fmt_array(a, DIGITS)
CONSTANT = "constant"


class Walk:
    """The record of one or more backward walks (made by ``explain()``).

    ``steps`` lists ``Step`` records; ``print(walk)`` shows them as a table (at most ``WIDTH``
    columns; long cells wrap); in Jupyter a bare ``walk`` shows it as an HTML table; ``draw()``
    makes a picture with step numbers and the gradients on the arrows.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(2.0, requires_grad=True, name="x")
        >>> with gradwalk.autograd.explain() as walk:
        ...     (x * x).backward()
        >>> [s.name for s in walk.steps]
        ['MulBackward0', 'AccumulateGrad']
        >>> walk.steps[1].text
        'x.grad = 2 + 2 = 4'
    """

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._terms: dict = {}      # id(leaf) -> [(sender seq, text)]
        self._step_of: dict = {}    # (run, node) -> step number
        self._run = 0               # backward calls seen
        self._captures: set = set()  # runs of autograd.grad (nothing accumulated)
        self._names: dict = {}      # id(tensor) -> variable name
        self._leaves: dict = {}     # id(leaf) -> leaf (kept for labels)
        self._node_names: dict = {}  # id(node) -> name of the variable holding its output
        self._consts: dict = {}     # id(node) -> {input index: the constant the node saved}
        self._nodes: dict = {}      # id(node) -> node (keeps the ids above valid)

    # ------------------------------------------------------------------ engine observer
    def on_backward(self, accumulate: bool) -> None:
        """A new walk starts (``backward``, or ``autograd.grad`` when not ``accumulate``)."""
        self._run += 1
        self._terms = {}
        if not accumulate:
            self._captures.add(self._run)

    def on_node(self, node, grad_in, grads_out) -> None:
        number = len(self.steps) + 1
        run = max(self._run, 1)
        self._step_of[(run, node)] = number
        n = len(node.edges)
        rules = rule_texts(node)
        letters = _input_letters(n)
        saved = node.saved
        if isinstance(grad_in, tuple):  # a multi-output node: one gradient per output
            text_in = "(" + ", ".join("-" if g is None else _fmt(_raw(g))
                                      for g in grad_in) + ")"
            step = Step(number, "node", node, node.name(), text_in, run=run)
        else:
            step = Step(number, "node", node, node.name(), _fmt(_raw(grad_in)),
                        grad_value=_small_copy(grad_in), run=run)
        used = " ".join(r for r in rules if r)
        Tensor = engine.Tensor
        consts = {}
        for i in range(n):
            v = saved[i] if saved is not None and i < len(saved) else None
            if v is None:
                continue
            if node.edges[i] is None:
                consts[i] = v
            if Tensor is not None and isinstance(v, Tensor) and v._data.size <= SMALL and \
                    v._data.ndim <= 1 and \
                    re.search(_placeholder_pattern(node, i), used):
                step.used.append((i, _fmt(_raw(v))))
        self._consts[id(node)] = consts
        self._nodes[id(node)] = node
        if node.out is not None and np.size(node.out) <= SMALL and np.ndim(node.out) <= 1 and \
                re.search(r"\bout\b", used):
            step.used.append((-1, _fmt(node.out)))
        for i in range(n):
            e = node.edges[i]
            if type(e) is tuple:  # output e[1] of a multi-output node
                e = e[0]
            gi = grads_out[i] if i < len(grads_out) else None
            shape = node.shapes[i] if node.shapes is not None else None
            if e is None:
                step.sent.append(Sent(i, letters[i], rules[i], None, None, CONSTANT, run))
                continue
            if gi is None:
                step.sent.append(Sent(i, letters[i], rules[i], e, None, "no gradient returned",
                                      run))
                continue
            raw = _raw(gi)
            g = _reduce(raw, shape)
            text = _fmt(g)
            summed = _summed_dims(raw.shape, g.shape) if g is not raw else ()
            step.sent.append(Sent(i, letters[i], rules[i], e, text, run=run, summed=summed))
            if type(e) is AccumulateGrad:
                leaf = e.variable
                self._leaves[id(leaf)] = leaf
                self._terms.setdefault(id(leaf), []).append((node.seq, text))
        self.steps.append(step)

    def on_accumulate(self, leaf, grad) -> None:
        number = len(self.steps) + 1
        run = max(self._run, 1)
        acc = leaf._accumulator()
        self._step_of[(run, acc)] = number
        self._leaves[id(leaf)] = leaf
        terms = [t for _, t in sorted(self._terms.pop(id(leaf), []), key=lambda p: p[0])]
        total = _fmt(_raw(grad))
        old = leaf.grad
        parts = list(terms) if len(terms) > 1 else []
        if old is not None:
            before = _fmt(old._data)
            parts = [before] + (parts or [total])
            total = _fmt(np.asarray(old._data) + _raw(grad))
        text = f"{self._leaf_label(leaf)}.grad = "
        text += " + ".join(parts) + " = " + total if parts else total
        step = Step(number, "accumulate", acc, "AccumulateGrad", _fmt(_raw(grad)),
                    text=text, grad_value=_small_copy(grad), run=run)
        self.steps.append(step)

    # ------------------------------------------------------------------ names and labels
    def _leaf_label(self, leaf) -> str:
        return leaf_label(leaf, self._names)

    def _const_text(self, node, i: int) -> str | None:
        v = self._consts.get(id(node), {}).get(i)
        if v is None:
            return None
        Tensor = engine.Tensor
        if Tensor is not None and isinstance(v, Tensor):
            name = v.name or self._names.get(id(v))
            return name or fmt_const(v._data)
        return fmt_const(v)

    def _namer(self) -> Namer:
        return Namer(self._leaf_label, lambda node: self._node_names.get(id(node)),
                     self._const_text)

    def _refresh(self) -> None:
        """Fill in the user's names (Note [names in the walk])."""
        namer = self._namer()
        for s in self.steps:
            if s.kind == "accumulate":
                head, _, rest = s.text.partition(".grad = ")
                s.text = f"{self._leaf_label(s.node.variable)}.grad = {rest}"
                continue
            node = s.node
            names = [namer.input(node, i) for i in range(len(node.edges))]
            out = self._node_names.get(id(node)) or "out"
            for sent in s.sent:
                sent.input = names[sent.index]
                text = _named_rule(node, sent.rule, names, out) if sent.rule else ""
                if text and sent.summed and "summed" not in text:
                    dims = ", ".join(str(d) for d in sent.summed)
                    inner = text if " " not in text else f"({text})"
                    text = f"sum over dim{'s' if len(sent.summed) > 1 else ''} {dims} of {inner}"
                sent.text = text
            vals: list = []
            for i, value in s.used:
                name = out if i < 0 else names[i]
                item = f"{name if is_atomic(name) else f'({name})'}={value}"
                if name != value and item not in vals:
                    vals.append(item)
            s.values = ", ".join(vals)

    def label(self, node) -> str:
        """How the table names a node: ``AddBackward0``, ``AccumulateGrad (x)``."""
        if type(node) is AccumulateGrad:
            return f"AccumulateGrad ({self._leaf_label(node.variable)})"
        name = self._node_names.get(id(node))
        return f"{node.name()} ({name})" if name else node.name()

    def _target(self, node, run: int) -> str:
        k = self._step_of.get((run, node))
        if k is not None:
            if type(node) is AccumulateGrad:
                return f"step {k} {self._leaf_label(node.variable)}.grad"
            name = self._node_names.get(id(node))
            return f"step {k} {short_name(node)}" + (f" ({name})" if name else "")
        if type(node) is AccumulateGrad and run in self._captures:
            return f"{self._leaf_label(node.variable)} (returned by grad)"
        return f"(not run) {self.label(node)}"

    # ------------------------------------------------------------------ the table
    _HEAD = ("step", "node", "grad in", "input", "rule", "with", "sends", "to")

    def _rows(self) -> list:
        """The table's rows: 8 cells, ``("span", lead cells, text)`` or ``("sep", text)``."""
        self._refresh()
        rows: list = []
        runs = len({s.run for s in self.steps})
        last = None
        for s in self.steps:
            if runs > 1 and s.run != last:
                what = "autograd.grad" if s.run in self._captures else "backward"
                rows.append(("sep", f"-- {what} call {s.run} --"))
            last = s.run
            if s.kind == "accumulate":
                grad_in = s.grad_in if len(s.grad_in) <= 12 else ""  # the text shows it
                rows.append(("span", (str(s.number), s.name, grad_in), s.text))
                continue
            first = True
            for sent in s.sent:
                lead = (str(s.number), self.label(s.node), s.grad_in) if first else (
                    "", "", "")
                with_ = s.values if first else ""
                if sent.grad is None:
                    rule = sent.text if sent.target is not None and sent.text else "-"
                    rows.append(lead + (sent.input, rule, with_, "-", f"({sent.why_none})"))
                else:
                    rows.append(lead + (sent.input, sent.text, with_, sent.grad,
                                        self._target(sent.target, sent.run)))
                first = False
            if first:
                rows.append((str(s.number), self.label(s.node), s.grad_in, "", "", "", "", ""))
        return rows

    def table(self, width: int = WIDTH) -> str:
        """The walk as a text table (what ``print(walk)`` shows), at most ``width`` columns.

        Example:
            >>> import gradwalk
            >>> w = gradwalk.tensor([1.0, 2.0], requires_grad=True)
            >>> c = gradwalk.tensor(3.0, requires_grad=True)
            >>> with gradwalk.autograd.explain() as walk:
            ...     (c * w).sum().backward()
            >>> walk.steps[1].sent[0].text   # c was broadcast against w: its gradient is a sum
            'sum over dim 0 of (grad * w)'
            >>> max(len(line) for line in walk.table(width=60).splitlines()) <= 60
            True
        """
        rows = self._rows()
        head = self._HEAD
        widths = [len(h) for h in head]
        words = [0] * len(head)
        for r in rows:
            if r[0] == "sep":
                continue
            cells = r[1] if r[0] == "span" else r
            widths[:len(cells)] = [max(w, len(c)) for w, c in zip(widths, cells)]
            words[:len(cells)] = [max(w, longest_word(c)) for w, c in zip(words, cells)]
        widths = fit(widths, head, width, words)
        lines = row_lines(head, widths) + [row(tuple("-" * w for w in widths), widths)]
        for r in rows:
            if r[0] == "sep":  # a separator between backward calls
                lines.append(r[1])
            elif r[0] == "span":  # an accumulation: its text spans the rule columns
                lead = row_lines(r[1], widths[:3])
                text = wrap(r[2], max(width - sum(widths[:3]) - 6, 20))
                blank = row(("", "", ""), widths[:3])
                for k in range(max(len(lead), len(text))):
                    lines.append((lead[k] if k < len(lead) else blank) + "  "
                                 + (text[k] if k < len(text) else ""))
            else:
                lines.extend(row_lines(r, widths))
        n = len(self.steps)
        title = f"backward walk: {n} step{'s' if n != 1 else ''}"
        notes = [wrap(t, width) for t in self.notes()]
        return "\n".join([title, ""] + [ln.rstrip() for ln in lines]
                         + ([""] if notes else []) + [ln for t in notes for ln in t])

    def notes(self) -> list:
        """Notes under the table: the fused steps and the PyTorch nodes each stands for."""
        out = []
        for op in dict.fromkeys(getattr(s.node.op, "name", None) for s in self.steps):
            chain = FUSED.get(op)
            if chain:
                out.append(f"{chain[-1]} is PyTorch's {' -> '.join(chain)}, run as one fused "
                           "step; its rule is that of the chain")
        return out

    def _repr_html_(self) -> str:
        """The table as HTML: what a bare ``walk`` shows in Jupyter.

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(3.0, requires_grad=True)
            >>> with gradwalk.autograd.explain() as walk:
            ...     (x * x).backward()
            >>> html = walk._repr_html_()
            >>> html.startswith("<table") and "x.grad = 3 + 3 = 6" in html
            True
        """
        from html import escape

        n = len(self.steps)
        out = ['<table class="gradwalk-walk">',
               f"<caption>backward walk: {n} step{'s' if n != 1 else ''}</caption>",
               "<thead><tr>" + "".join(f"<th>{h}</th>" for h in self._HEAD) + "</tr></thead>",
               "<tbody>"]
        k = len(self._HEAD)
        for r in self._rows():
            if r[0] == "sep":
                out.append(f'<tr><td colspan="{k}"><i>{escape(r[1])}</i></td></tr>')
            elif r[0] == "span":
                cells = "".join(f"<td>{escape(c)}</td>" for c in r[1])
                out.append(f'<tr>{cells}<td colspan="{k - 3}">{escape(r[2])}</td></tr>')
            else:
                out.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Walk: {len(self.steps)} steps>"

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """IPython's text form of a bare ``walk``: the table (Jupyter shows the HTML one)."""
        p.text(repr(self) if cycle else self.table())

    def __len__(self) -> int:
        return len(self.steps)

    def draw(self):
        """A picture of the walk: one box per step (numbered), the gradients on the arrows.

        Arrows point the way the gradient travelled: from the node that sent it to the input
        that received it. Needs nothing to build; rendering it needs graphviz (see
        ``gradwalk.viz.Picture``).

        Example:
            >>> import gradwalk
            >>> x = gradwalk.tensor(3.0, requires_grad=True)
            >>> with gradwalk.autograd.explain() as walk:
            ...     (x * x).backward()
            >>> len(walk.draw().boxes)
            2
        """
        from ..viz.picture import Picture  # the teaching layer sits above autograd

        pic = Picture("walk", rankdir="TB")
        ids: dict = {}

        def box(node) -> str:
            key = id(node)
            if key in ids:
                return ids[key]
            ids[key] = bid = f"n{len(ids)}"
            k = next((s.number for s in self.steps if s.node is node), None)
            head = f"step {k}: " if k is not None else ""
            if type(node) is AccumulateGrad:
                leaf = node.variable
                text = next((s.text for s in self.steps
                             if s.kind == "accumulate" and s.node is node), "")
                pic.add_box(bid, f"{head}{self._leaf_label(leaf)}\n{text}".rstrip(),
                            kind="leaf")
            else:
                step = next((s for s in self.steps if s.node is node), None)
                extra = f"\ngrad in: {step.grad_in}" if step is not None else ""
                chain = FUSED.get(getattr(node.op, "name", None))
                if chain:  # PyTorch's chain, run as one step
                    extra += "\n(fused " + " -> ".join(re.sub(r"Backward0$", "", c)
                                                       for c in chain) + ")"
                pic.add_box(bid, f"{head}{short_name(node)}{extra}",
                            kind="root" if k == 1 else "op")
            return bid

        for s in self.steps:
            src = box(s.node)
            for sent in s.sent:
                if sent.target is not None and sent.grad is not None:
                    pic.add_arrow(src, box(sent.target), sent.grad)
        return pic


def _placeholder_keys(node, i: int) -> set:
    """The words that stand for input ``i`` in the node's rule texts."""
    n = len(node.edges)
    keys = {_input_letters(n)[i]}
    names = getattr(node.op, "input_names", ())
    if i < len(names) and len(names) == n:
        keys.add(names[i])
    if i == 0:
        keys |= {"x", "input"}
    keys.discard("self")
    return keys


def _placeholder_pattern(node, i: int) -> str:
    return r"\b(?:" + "|".join(sorted(_placeholder_keys(node, i), key=len, reverse=True)) + r")\b"


def _named_rule(node, rule: str, names: list, out: str) -> str:
    """``rule`` with its placeholders replaced by the inputs' names (one pass, so names that
    look like placeholders are never replaced again)."""
    mapping = {"out": out}
    for i in range(len(names)):
        name = names[i] if is_atomic(names[i]) else f"({names[i]})"
        for k in _placeholder_keys(node, i):
            mapping.setdefault(k, name)
    pattern = r"\b(?:" + "|".join(sorted(map(re.escape, mapping), key=len, reverse=True)) + r")\b"
    return re.sub(pattern, lambda m: mapping[m.group(0)], rule)


def _summed_dims(gshape, shape) -> tuple:
    """The dims (of the rule's result) that broadcasting summed away to give ``shape``."""
    nd = len(gshape) - len(shape)
    lead = tuple(range(nd))
    return lead + tuple(nd + k for k, s in enumerate(shape)
                        if s == 1 and gshape[nd + k] != 1)


def _raw(g):
    if g is None:
        return None
    if engine.Tensor is not None and isinstance(g, engine.Tensor):
        g = g._data
    if type(g) is not np.ndarray and isinstance(g, np.ndarray):
        g = g.view(np.ndarray)  # a MaskedGrad: show its numbers
    return np.asarray(g)


def _small_copy(g):
    a = _raw(g)
    return None if a is None or a.size > SMALL else a.copy()


def _reduce(g, shape):
    """The gradient as the input receives it (summed over broadcast dims, as the engine does)."""
    if shape is None or g.shape == tuple(shape):
        return g
    try:
        nd = g.ndim - len(shape)
        if nd:
            g = g.sum(axis=tuple(range(nd)))
        axes = tuple(k for k, s in enumerate(shape) if s == 1 and g.shape[k] != 1)
        return g.sum(axis=axes, keepdims=True) if axes else g
    except (ValueError, IndexError):
        return g


class explain:
    """Record the backward walks run inside the block; the ``as`` target is the ``Walk``.

    Example:
        >>> import gradwalk
        >>> x = gradwalk.tensor(3.0, requires_grad=True)
        >>> with gradwalk.autograd.explain() as walk:
        ...     (x ** 2).backward()
        >>> print(" ".join(walk.table().splitlines()[4].split()[:11]))
        1 PowBackward0 1 x grad * 2 * x x=3 6
        >>> print(walk.steps[-1].text)
        x.grad = 6
    """

    def __init__(self) -> None:
        self.walk = Walk()
        self._frame = None

    def __enter__(self) -> Walk:
        self._frame = sys._getframe(1)
        engine.listen(self.walk)
        return self.walk

    def __exit__(self, *exc) -> None:
        engine.unlisten(self.walk)
        try:
            self.walk._names = local_names(self._frame)
            self.walk._node_names = _node_names(self._frame, self.walk._names)
        finally:
            self._frame = None
        self.walk._refresh()
