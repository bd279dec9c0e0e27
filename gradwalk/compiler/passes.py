"""The passes over a segment's program: what it computes inline, what it skips, what it fuses.

Note [the passes keep eager's bits]
    Every pass here leaves the numbers of the numpy backend equal to eager's bit for bit (Note
    [the program's arithmetic is eager's] in codegen.py), so each one only changes *how* the
    same NumPy operations are called, never *which* operations run, in which order or on
    which dtypes:

    * **Inline forwards** (``FORWARD``): an elementwise op whose ``forward`` is one NumPy
      expression is written into the program as that expression (``v3 = np_sin(v2)``,
      ``v4s = v3s * c[1]``), with no call of the op's lambda and no dispatch through
      ``run_kernel``; on 0-d data the expression runs on NumPy scalars exactly where
      ``apply1``/``apply2`` use them (Note [0-d scalars] in ops/registry.py), and the scalar
      twin of a value is kept for the next step instead of being read back with ``v[()]``.
      The table is checked against each op's own ``forward`` (tests/compiler/test_passes.py):
      the same ufuncs, the same operand order, the same Python numbers.
    * **Inline reverse rules** (``VJP``): the same for the hot elementwise rules, one
      expression per input, used only when the gradient is a plain array or scalar (a
      gradient with structural zeros takes the op's rule through ``_rule``); checked against
      each op's ``vjp`` the same way.
    * **Fused relu backward** (``relu_backward``): ``where(out <= 0, 0.0, g)`` as a bit mask
      (``g``'s bits AND all-ones where ``out <= 0`` is false): the result is, element for
      element, the bits ``where`` copies (``g``'s element, or ``+0.0``; NaN payloads and
      ``-0.0`` included), three branch-free passes instead of ``where``'s per-element branch.
    * **Hoisted checks**: whether the segment was released and whether any saved value
      changed version are read once per backward; the per-op version checks (which raise the
      engine's error at the op that reads the changed value) run only when something changed.
      An inline rule fetches only the values its expression reads (``mul``'s gradient of its
      first input does not fetch that input).

    Reassociation, a different accumulation order, or mixing dtypes would change bits: none
    of these passes does that. What is not built (constant folding, recompute-instead-of-save,
    buffer reuse beyond a dead value's one consumer) is listed in docs/compile.md.

Note [dead values]
    A program returns one array per value because every value has a tensor. But a tensor the
    user dropped (``y = x * 2; z = y.sin()`` keeps only ``z`` alive) can never be read again:
    its value is *dead* unless the segment's backward reads it (a saved input or output). At
    flush time the trace holds the only references to a dead tensor and its ``LazyArray``
    (the segment's lists; each later step that reads it holds the tensor once per use, in its
    ``LazyArray.inputs``); ``Plan.dead`` counts them with
    ``sys.getrefcount``, against baselines measured on stand-ins at import (so an
    interpreter that counts differently only makes values look alive). A tensor with a weak
    reference is alive (``retain_grad``, weak dictionaries). The variant of the program
    without the dead values (compiled once per pattern, ``MAX_VARIANTS`` at most):

    * returns ``None`` for them (their tensors are dropped with the segment, unread);
    * computes a dead value only when a value that is read is made from it; a 0-d step keeps
      only its NumPy scalar (no ``asarray``);
    * lets a dead step that repeats an earlier one (the same op without parameters on the
      same inputs: ops in a trace are deterministic) be read from the earlier value instead
      (``duplicates``: common subexpressions; a repeat that is alive needs its own array);
    * lets the one consumer of a dead array that was made here in a buffer of its own
      (an inline elementwise step or a ``FRESH`` kernel, not a view, not an outside array)
      write its result into that buffer (``INPLACE``: the same ufunc with ``out=``, when the
      result has the buffer's shape and dtype): memory planning without copies.

    Skipping a dead op could skip a floating-point error the user asked NumPy to raise
    (``np.seterr(all="raise")``), so the variants run only while NumPy's error handling is
    ``"ignore"`` or ``"warn"`` (gradwalk's own warnings are quiet, Note [quiet floating-point
    warnings]).
"""

from __future__ import annotations

import re
import sys
import weakref

import numpy as np

# op name -> the op's forward as an expression of its inputs {0}, {1} (``np_<f>`` is ``np.<f>``);
# exactly the body of the op's declared forward (checked in tests/compiler/test_passes.py)
FORWARD: dict[str, str] = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "rsub": "{0} - {1}", "mul": "{0} * {1}",
    "div": "{0} / {1}", "neg": "-{0}", "square": "{0} * {0}", "reciprocal": "1.0 / {0}",
    "rsqrt": "1.0 / np_sqrt({0})", "relu": "np_maximum(0, {0})",
    "maximum": "np_maximum({1}, {0})", "minimum": "np_minimum({1}, {0})",
    "abs": "np_abs({0})", "sqrt": "np_sqrt({0})", "cbrt": "np_cbrt({0})", "exp": "np_exp({0})",
    "expm1": "np_expm1({0})", "log": "np_log({0})", "log2": "np_log2({0})",
    "log10": "np_log10({0})", "log1p": "np_log1p({0})", "sin": "np_sin({0})",
    "cos": "np_cos({0})", "tan": "np_tan({0})", "asin": "np_arcsin({0})",
    "acos": "np_arccos({0})", "atan": "np_arctan({0})", "sinh": "np_sinh({0})",
    "cosh": "np_cosh({0})", "tanh": "np_tanh({0})", "floor": "np_floor({0})",
    "ceil": "np_ceil({0})", "trunc": "np_trunc({0})",
}

# the same ufuncs writing into ``{o}`` (``a * b`` is ``np.multiply(a, b)``; the result's
# dtype and shape are the buffer's: checked before use, and against ``FORWARD`` in the tests)
INPLACE: dict[str, str] = {
    "add": "np_add({0}, {1}, out={o})", "sub": "np_subtract({0}, {1}, out={o})",
    "rsub": "np_subtract({0}, {1}, out={o})", "mul": "np_multiply({0}, {1}, out={o})",
    "div": "np_true_divide({0}, {1}, out={o})", "neg": "np_negative({0}, out={o})",
    "square": "np_multiply({0}, {0}, out={o})", "reciprocal": "np_true_divide(1.0, {0}, out={o})",
    "relu": "np_maximum(0, {0}, out={o})", "maximum": "np_maximum({1}, {0}, out={o})",
    "minimum": "np_minimum({1}, {0}, out={o})",
    **{name: text[:-1] + ", out={o})" for name, text in FORWARD.items()
       if text.count("(") == 1 and text.startswith("np_") and text.endswith("({0})")},
}

# non-elementwise ops whose kernel always returns a new array of its own (in-place candidates)
FRESH = frozenset({"linear", "linear_nobias", "matmul", "bmm"})

# op name -> one expression per input of the op's reverse rule, of ``{g}``, ``{out}`` and the
# saved inputs ``{0}``, ``{1}`` (checked against each op's ``vjp``)
VJP: dict[str, tuple[str, ...]] = {
    "add": ("{g}", "{g}"), "sub": ("{g}", "-{g}"), "rsub": ("{g}", "-{g}"),
    "mul": ("{g} * {1}", "{g} * {0}"), "div": ("{g} / {1}", "-{g} * {0} / ({1} * {1})"),
    "neg": ("-{g}",), "square": ("2.0 * {g} * {0}",), "reciprocal": ("-{g} * {out} * {out}",),
    "sqrt": ("{g} / (2.0 * {out})",), "exp": ("{g} * {out}",), "log": ("{g} / {0}",),
    "sin": ("{g} * np_cos({0})",), "cos": ("-{g} * np_sin({0})",),
    "tanh": ("{g} * (1.0 - {out} * {out})",), "sigmoid": ("{g} * {out} * (1.0 - {out})",),
    "relu": ("relu_backward({g}, {out})",), "expm1": ("{g} * ({out} + 1.0)",),
    "tan": ("{g} * (1.0 + {out} * {out})",),
}

_NP_NAME = re.compile(r"np_(\w+)")


def namespace() -> dict:
    """The names the inline expressions use (``np_sin`` is ``np.sin``...).

    Example:
        >>> namespace()["np_sin"] is np.sin
        True
    """
    ns: dict = {"relu_backward": relu_backward,  # a gradwalk module for NumPy's warnings (Note
                "__name__": __name__}  # [quiet floating-point warnings] in gradwalk/_warnings.py)
    for text in [*FORWARD.values(), *INPLACE.values(), *(e for v in VJP.values() for e in v)]:
        for name in _NP_NAME.findall(text):
            ns["np_" + name] = getattr(np, name)
    return ns


def forward_expr(op, args: list, into: str | None = None) -> str | None:
    """The inline forward of ``op`` on the argument expressions ``args``, or ``None``; with
    ``into``, its ufunc form writing into that (dead, private) buffer where there is one.

    Example:
        >>> from gradwalk.ops import registry
        >>> forward_expr(registry.REGISTRY["mul"], ["v0", "c[0]"])
        'v0 * c[0]'
        >>> forward_expr(registry.REGISTRY["mul"], ["v0", "c[0]"], into="v0")
        'np_multiply(v0, c[0], out=v0)'
    """
    text = FORWARD.get(op.name)
    if text is None or not op.elementwise:
        return None
    if into is not None and op.name in INPLACE:
        return INPLACE[op.name].format(*args, o=into)
    return text.format(*args)


def vjp_exprs(op, g: str, out: str | None, args: list) -> tuple[str, ...] | None:
    """The inline reverse rule of ``op``: one expression per input, or ``None`` (no entry, or
    an entry that reads a value the node does not keep: ``None`` in ``args``/``out``).

    Example:
        >>> from gradwalk.ops import registry
        >>> vjp_exprs(registry.REGISTRY["sin"], "g", None, ["x"])
        ('g * np_cos(x)',)
    """
    texts = VJP.get(op.name)
    if texts is None or not op.elementwise or len(texts) != len(args):
        return None
    for t in texts:
        for k in _FIELD.findall(t):
            if (out if k == "out" else g if k == "g" else args[int(k)]) is None:
                return None
    return tuple(t.format(*args, g=g, out=out) for t in texts)


_FIELD = re.compile(r"{(\w+)}")


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def relu_backward(g, out):
    """``np.where(out <= 0, 0.0, g)``, bit for bit, as a branch-free bit mask on arrays (Note
    [the passes keep eager's bits]); other inputs take ``where`` itself.

    Example:
        >>> relu_backward(np.array([1.0, -2.0, np.nan]), np.array([-1.0, 0.5, np.nan]))
        array([ 0., -2., nan])
    """
    if (type(g) is not np.ndarray or type(out) is not np.ndarray or g.shape != out.shape
            or g.dtype.kind != "f" or g.dtype.itemsize not in _UINT
            or not g.flags.c_contiguous or not out.flags.c_contiguous or not g.ndim):
        return np.where(out <= 0, 0.0, g)
    u = _UINT[g.dtype.itemsize]
    zero = np.less_equal(out, 0)
    keep = np.subtract(zero.view(np.uint8), 1, dtype=u)  # all ones where ``out <= 0`` is false
    np.bitwise_and(g.view(u), keep, out=keep)
    return keep.view(g.dtype)


# ------------------------------------------------------------------------ dead values
MAX_VARIANTS = 4  # per program: forwards without dead values, for as many liveness patterns



def duplicates(recs, dead) -> dict:
    """Dead steps that repeat an earlier one (the same op, no parameters, the same inputs):
    slot -> the earlier slot, whose value the repeat's consumers read instead (common
    subexpressions, Note [dead values]). Only a dead repeat: two tensors need two arrays.

    Example:
        >>> duplicates([], frozenset())
        {}
    """
    alias: dict = {}
    seen: dict = {}
    for i, rec in enumerate(recs):
        if rec.params is not None:
            continue
        refs = []
        for r in rec.ins:
            if r[0] == 0:  # SLOT
                refs.append((0, alias.get(r[1], r[1])))
            elif r[0] == 1 or r[0] == 2:  # EXT, CONST: the same argument
                refs.append((r[0], r[1]))
            else:
                break
        else:
            key = (rec.op, rec.kind, tuple(refs))
            first = seen.setdefault(key, i)
            if first != i and i in dead:
                alias[i] = first
    return alias


def _scan(tensors, lazies, slots, uses, bt, bl) -> tuple:
    rc = sys.getrefcount
    wc = weakref.getweakrefcount
    dead = []
    for s in slots:
        t = tensors[s]
        lazy = lazies[s]
        if rc(t) <= bt + uses[s] and rc(lazy) <= bl and t._data is lazy and not wc(t):
            dead.append(s)
    return tuple(dead)


class _Stand:
    __slots__ = ("_data", "__weakref__")


def _baselines() -> tuple[int, int]:
    """The counts ``_scan`` sees for a tensor and a lazy array nobody else holds."""
    tensors, lazies = [_Stand()], [_Stand()]
    tensors[0]._data = lazies[0]
    for bt in range(1, 8):
        for bl in range(1, 8):
            if _scan(tensors, lazies, (0,), (0,), bt, bl):
                return bt, bl
    return 0, 0  # never dead


BASE_T, BASE_L = _baselines()
_QUIET = frozenset({"ignore", "warn"})


class Plan:
    """What a program's variants need: the steps, which values the backward reads, how many
    later steps read each value (Note [dead values])."""

    __slots__ = ("recs", "n_ext", "meta", "n", "uses", "candidates", "variants", "backend")

    def __init__(self, recs, n_ext: int, meta, backend: str = "numpy") -> None:
        self.recs, self.n_ext, self.meta, self.n = recs, n_ext, meta, len(recs)
        self.backend = backend
        read = set()
        uses = [0] * len(recs)
        for i, rec in enumerate(recs):
            for j, ref in enumerate(rec.ins):
                if ref[0] == 0:  # SLOT
                    uses[ref[1]] += 1
                    if rec.rg and rec.saved[j]:
                        read.add(ref[1])
            if rec.rg and rec.op.save_out:
                read.add(i)
            if getattr(rec.op, "writes", False):  # a write is never dead (compiler/inplace.py)
                read.add(i)
        self.uses = uses
        self.candidates = tuple(i for i in range(len(recs)) if i not in read)
        self.variants: dict = {}

    def dead(self, seg) -> tuple | None:
        """The values of ``seg`` nobody can read, in slot order (``None``: no variant)."""
        if not self.candidates or self.meta is None:
            return None
        tensors, lazies = getattr(seg, "tensors", None), getattr(seg, "lazies", None)
        if type(tensors) is not list or type(lazies) is not list or not (
                len(tensors) == len(lazies) == self.n):  # not the segment this was written for
            return None
        dead = _scan(tensors, lazies, self.candidates, self.uses, BASE_T, BASE_L)
        if not dead or not _QUIET.issuperset(np.geterr().values()):
            return None
        return dead
