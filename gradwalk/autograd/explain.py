"""The backward walk, step by step: what the engine did, in the order it did it.

``with gradwalk.autograd.explain() as walk: loss.backward()`` records every step through the
engine's observers (``engine.observers``): the node that ran, the gradient that arrived, the local
rule it applied (in words, from the ``explain`` of the op's declaration), and what it sent to
each input; adding into a leaf's ``.grad`` is a step of its own that shows the terms that met
there. ``print(walk)`` shows a table;
``walk.draw()`` a picture with step numbers and the gradients on the arrows.

Names: a tensor's ``.name`` labels it; otherwise the walk looks up the variable names of the code
around the ``with`` block (``x``, ``y``) when the block ends, so the lesson reads naturally.

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
from .node import AccumulateGrad

SMALL = 6  # arrays of at most this many elements are shown in full

# ------------------------------------------------------------------------------- text helpers


def fmt_number(v) -> str:
    """A number as a reader writes it: ``3`` for 3.0, ``0.5``, ``1.23457e+08``.

    Example:
        >>> fmt_number(3.0), fmt_number(-0.0), fmt_number(0.1 + 0.2), fmt_number(float("nan"))
        ('3', '0', '0.3', 'nan')
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
    return f"{v:.6g}"


def fmt_array(data) -> str:
    """Values of a small array (``[1, 2.5]``); shape and norm of a bigger one.

    Example:
        >>> import numpy as np
        >>> fmt_array(np.array(6.0)), fmt_array(np.array([1.0, 2.5])), fmt_array(np.ones((4, 4)))
        ('6', '[1, 2.5]', 'shape [4, 4], norm 4')
    """
    if data is None:
        return "None"
    if isinstance(data, engine.Tensor if engine.Tensor is not None else ()):
        data = data.data
    a = np.asarray(data)
    if a.size <= SMALL:
        return _nested(a.tolist())
    with np.errstate(all="ignore"):
        norm = float(np.sqrt(np.sum(np.abs(a.astype(np.complex128 if a.dtype.kind == "c"
                                                      else np.float64)) ** 2)))
    return f"shape {list(a.shape)}, norm {fmt_number(float(f'{norm:.4g}'))}"


def _nested(x) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v) for v in x) + "]"
    return fmt_number(x)


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
    return names


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
    if rule is None or len(rule) != n:
        return tuple(f"vector-Jacobian product of {node.name()}" for _ in range(n))
    return rule


def _input_letters(n: int) -> tuple:
    return ("x",) if n == 1 else tuple("abcdefghij"[:n]) if n <= 10 else tuple(
        f"in{i}" for i in range(n))


# ------------------------------------------------------------------------------- the record

@dataclass
class Sent:
    """What one node sent to one of its inputs."""

    index: int
    letter: str          # the input's name in the rule text (x, a, b...)
    rule: str | None     # the local rule in words, or None (no gradient for this input)
    target: object       # the Node (or AccumulateGrad) it went to, or None
    grad: str | None     # the gradient sent (reduced to the input's shape), as text
    why_none: str = ""   # why nothing was sent
    run: int = 1         # which backward call of the block


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


class Walk:
    """The record of one or more backward walks (made by ``explain()``).

    ``steps`` lists ``Step`` records; ``print(walk)`` shows them as a table; ``draw()`` makes a
    picture with step numbers and the gradients on the arrows.

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
        step = Step(number, "node", node, node.name(), fmt_array(_raw(grad_in)),
                    grad_value=_small_copy(grad_in), run=run)
        used = " ".join(r for r in rules if r)
        vals = []
        for i, letter in enumerate(letters):
            if saved is not None and i < len(saved) and saved[i] is not None and \
                    re.search(rf"\b{letter}\b", used):
                vals.append(f"{letter}={fmt_array(_raw(saved[i]))}")
        if node.out is not None and re.search(r"\bout\b", used):
            vals.append(f"out={fmt_array(node.out)}")
        step.values = ", ".join(vals)
        for i in range(n):
            e = node.edges[i]
            gi = grads_out[i] if i < len(grads_out) else None
            shape = node.shapes[i] if node.shapes is not None else None
            if e is None:
                v = saved[i] if saved is not None and i < len(saved) else None
                if isinstance(v, (int, float, complex, np.number)) and not isinstance(v, bool):
                    why = f"constant {fmt_number(v)}, no gradient"
                else:  # a tensor with requires_grad=False, or a constant the node did not keep
                    why = "needs no gradient"
                if rules[i] is None:
                    why = "no gradient (not differentiable)"
                step.sent.append(Sent(i, letters[i], rules[i], None, None, why, run))
                continue
            if gi is None:
                step.sent.append(Sent(i, letters[i], rules[i], e, None, "no gradient returned",
                                      run))
                continue
            g = _reduce(_raw(gi), shape)
            text = fmt_array(g)
            step.sent.append(Sent(i, letters[i], rules[i], e, text, run=run))
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
        total = fmt_array(_raw(grad))
        old = leaf.grad
        parts = list(terms) if len(terms) > 1 else []
        if old is not None:
            before = fmt_array(old.data)
            parts = [before] + (parts or [total])
            total = fmt_array(np.asarray(old.data) + _raw(grad))
        text = f"{self._leaf_label(leaf)}.grad = "
        text += " + ".join(parts) + " = " + total if parts else total
        step = Step(number, "accumulate", acc, "AccumulateGrad", fmt_array(_raw(grad)),
                    text=text, grad_value=_small_copy(grad), run=run)
        self.steps.append(step)

    # ------------------------------------------------------------------ names and labels
    def _leaf_label(self, leaf) -> str:
        if leaf.name:
            return leaf.name
        name = self._names.get(id(leaf))
        if name:
            return name
        return "leaf " + fmt_shape(leaf.shape)

    def _leaf_text_refresh(self) -> None:
        """Rewrite accumulation texts with the variable names found when the block ended."""
        for s in self.steps:
            if s.kind == "accumulate":
                head, _, rest = s.text.partition(".grad = ")
                s.text = f"{self._leaf_label(s.node.variable)}.grad = {rest}"

    def label(self, node) -> str:
        """How the table names a node: ``AddBackward0``, ``AccumulateGrad (x)``."""
        if type(node) is AccumulateGrad:
            return f"AccumulateGrad ({self._leaf_label(node.variable)})"
        name = self._node_names.get(id(node))
        return f"{node.name()} ({name})" if name else node.name()

    def _target(self, node, run: int) -> str:
        k = self._step_of.get((run, node))
        if k is not None:
            return f"step {k} {self.label(node)}"
        if type(node) is AccumulateGrad and run in self._captures:
            return f"{self._leaf_label(node.variable)} (returned by grad)"
        return f"(not run) {self.label(node)}"

    # ------------------------------------------------------------------ the table
    def table(self) -> str:
        """The walk as a text table (what ``print(walk)`` shows)."""
        head = ("step", "node", "grad in", "input", "rule", "with", "sends", "to")
        rows = []
        runs = len({s.run for s in self.steps})
        last = None
        for s in self.steps:
            if runs > 1 and s.run != last:
                what = "autograd.grad" if s.run in self._captures else "backward"
                rows.append(("", f"-- {what} call {s.run} --"))
            last = s.run
            if s.kind == "accumulate":
                rows.append((str(s.number), s.name, s.grad_in, s.text))
                continue
            first = True
            for sent in s.sent:
                lead = (str(s.number), self.label(s.node), s.grad_in) if first else (
                    "", "", "")
                with_ = s.values if first else ""
                if sent.grad is None:
                    rule = sent.rule if sent.target is not None and sent.rule else "-"
                    rows.append(lead + (sent.letter, rule, with_, "-", f"({sent.why_none})"))
                else:
                    rows.append(lead + (sent.letter, sent.rule, with_, sent.grad,
                                        self._target(sent.target, sent.run)))
                first = False
            if first:
                rows.append((str(s.number), s.name, s.grad_in, "", "", "", "", ""))
        widths = [len(h) for h in head]
        for r in rows:
            if len(r) == 2:
                continue
            n = len(head) if len(r) == len(head) else 3
            widths[:n] = [max(w, len(c)) for w, c in zip(widths[:n], r[:n])]
        lines = [_row(head, widths), _row(tuple("-" * w for w in widths), widths)]
        for r in rows:
            if len(r) == 2:  # a separator between backward calls
                lines.append(r[1])
            elif len(r) == len(head):
                lines.append(_row(r, widths))
            else:  # an accumulation: its text spans the rule columns
                lines.append(_row(r[:3], widths[:3]) + "  " + r[3])
        n = len(self.steps)
        title = f"backward walk: {n} step{'s' if n != 1 else ''}"
        return "\n".join([title, ""] + [ln.rstrip() for ln in lines])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Walk: {len(self.steps)} steps>"

    def __len__(self) -> int:
        return len(self.steps)

    def draw(self):
        """A picture of the walk: one box per step (numbered), the gradients on the arrows.

        Arrows point the way the gradient travelled: from the node that sent it to the input
        that received it. Needs nothing to build; rendering it needs graphviz (see
        ``gradwalk.viz.Picture``).
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
                pic.add_box(bid, f"{head}{short_name(node)}{extra}",
                            kind="root" if k == 1 else "op")
            return bid

        for s in self.steps:
            src = box(s.node)
            for sent in s.sent:
                if sent.target is not None and sent.grad is not None:
                    pic.add_arrow(src, box(sent.target), sent.grad)
        return pic


def _node_names(frame, names) -> dict:
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


def _row(cells, widths) -> str:
    return "  ".join(c.rjust(w) if k == 0 else c.ljust(w)
                     for k, (c, w) in enumerate(zip(cells, widths)))


def _raw(g):
    if g is None:
        return None
    if engine.Tensor is not None and isinstance(g, engine.Tensor):
        g = g.data
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


class explain:  # noqa: N801 - used like a function, like no_grad
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
        engine.observers.append(self.walk)
        return self.walk

    def __exit__(self, *exc) -> None:
        try:
            engine.observers.remove(self.walk)
        except ValueError:
            pass
        try:
            self.walk._names = local_names(self._frame)
            self.walk._node_names = _node_names(self._frame, self.walk._names)
        finally:
            self._frame = None
        self.walk._leaf_text_refresh()
