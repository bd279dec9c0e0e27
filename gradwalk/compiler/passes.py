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
    of these passes does that. What is not built (dead values, common subexpressions, buffer
    reuse) is listed in docs/compile.md.
"""

from __future__ import annotations

import re

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
    ns: dict = {"relu_backward": relu_backward}
    for text in list(FORWARD.values()) + [e for v in VJP.values() for e in v]:
        for name in _NP_NAME.findall(text):
            ns["np_" + name] = getattr(np, name)
    return ns


def forward_expr(op, args: list) -> str | None:
    """The inline forward of ``op`` on the argument expressions ``args``, or ``None``.

    Example:
        >>> from gradwalk.ops import registry
        >>> forward_expr(registry.REGISTRY["mul"], ["v0", "c[0]"])
        'v0 * c[0]'
    """
    text = FORWARD.get(op.name)
    if text is None or not op.elementwise:
        return None
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
