"""``backend="numba"``: runs of elementwise steps on arrays fused into one compiled loop.

Note [numba's tolerance]
    The numba backend writes each run of consecutive arithmetic steps on arrays of a forward
    program (``FUSED``, ops with an inline form; every input of the step's shape and dtype, or
    a Python number) as one ``numba.njit`` loop over the elements: the temporaries
    stay in registers and only the values that are read afterwards (returned to a tensor,
    read by the backward or by a later step) are written, each into a fresh array. Everything
    else (0-d steps, reductions, matmul, views, the backward) is the numpy program.

    The loop computes the same operations in the same order, with Python numbers cast to the
    array's dtype first (as NumPy does for a Python number beside an array), but a literal
    inside an expression (``1.0 / x``) or a mixed integer operand (``maximum(0, x)``) may
    widen a float32 intermediate to float64 before the result is stored (a double rounding),
    and numba's code is LLVM's, not NumPy's loops (transcendental functions, were they fused,
    would round differently too). So the numba backend is not promised bit for bit: its
    values are eager's within ``RTOL[dtype]`` (relative, with ``ATOL`` near zero) per fused
    run, the tolerance tests/compiler/test_numba.py checks. Gradients are
    computed by the numpy backward from the values, so they carry the same tolerance.

    numba is optional (``pip install gradwalk[compile]``, numba 0.68, NumPy 1.22-2.5) and
    imported when a numba program is first made; without it ``gradwalk.compile(backend=
    "numba")`` raises at once with the remedy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import passes

# the ops a loop fuses: arithmetic. NumPy's SIMD loops for ``sin``, ``exp``, ``tanh``... are
# faster than numba's per-element calls (docs/compile.md), so those steps stay NumPy's
FUSED = frozenset("add sub rsub mul div neg square reciprocal relu maximum minimum abs".split())

RTOL = {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-14}
ATOL = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-14}

_numba: Any = None
_KERNELS: dict = {}  # loop source -> compiled kernel (shared by every program)


def require() -> Any:
    """The numba module, or an ``ImportError`` that says how to get it.

    Example:
        >>> try:
        ...     require().__name__
        ... except ImportError:
        ...     'numba'
        'numba'
    """
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError as e:
            raise ImportError(
                "gradwalk.compile(backend='numba') needs numba, which is not installed: "
                "`pip install gradwalk[compile]` (numba 0.68), or use backend='numpy' (the "
                "default, no extra dependency)") from e
        _numba = numba
    return _numba


class Fused:
    """One fused loop: called with the run's inputs (arrays of the run's shape and dtype, or
    Python numbers), returns its outputs, each a fresh array."""

    __slots__ = ("kernel", "shape", "dtype", "n_out", "source", "scalar")

    def __init__(self, source: str, shape: tuple, dtype, n_out: int) -> None:
        self.source, self.shape, self.dtype, self.n_out = source, shape, dtype, n_out
        self.scalar = dtype.type
        kernel = _KERNELS.get(source)
        if kernel is None:
            numba = require()
            ns = passes.namespace()
            exec(compile(source, "<gradwalk.compile numba loop>", "exec"), ns)  # our source
            kernel = _KERNELS[source] = numba.njit(cache=False, nogil=True)(ns["loop"])
        self.kernel = kernel

    def __call__(self, *ins):
        shape, dtype = self.shape, self.dtype
        outs = [np.empty(shape, dtype) for _ in range(self.n_out)]
        args = [np.ascontiguousarray(a).reshape(-1) if type(a) is np.ndarray else self.scalar(a)
                for a in ins]
        self.kernel(*args, *(o.reshape(-1) for o in outs))
        return outs[0] if self.n_out == 1 else tuple(outs)


def loop_source(steps, scalars, outputs) -> str:
    """The source of a fused loop: ``steps`` are ``(name, expression)`` in order, of the inputs
    ``a0, a1...`` (``scalars[k]``: input ``k`` is a number, else an array read element by
    element) and earlier names; ``outputs`` are the names stored, into ``o0, o1...``.

    Example:
        >>> print(loop_source([("t0", "a0 * a1"), ("t1", "np_sin(t0)")], [False, True], ["t1"]))
        def loop(i0, a1, o0):
            for k in range(o0.shape[0]):
                a0 = i0[k]
                t0 = a0 * a1
                t1 = np_sin(t0)
                o0[k] = t1
    """
    ins = [f"a{k}" if s else f"i{k}" for k, s in enumerate(scalars)]
    outs = [f"o{k}" for k in range(len(outputs))]
    L = [f"def loop({', '.join(ins + outs)}):", "    for k in range(o0.shape[0]):"]
    L.extend(f"        a{k} = i{k}[k]" for k, s in enumerate(scalars) if not s)
    L.extend(f"        {name} = {expr}" for name, expr in steps)
    L.extend(f"        o{k}[k] = {t}" for k, t in enumerate(outputs))
    return "\n".join(L)


class Run:
    """A run of fusable steps being collected by the program generator."""

    __slots__ = ("shape", "dtype", "members", "steps", "inputs", "scalars", "line", "fallback")

    def __init__(self, shape, dtype, line: int) -> None:
        self.shape, self.dtype, self.line = shape, dtype, line
        self.members: list = []  # slots, in order
        self.steps: list = []
        self.inputs: list = []  # program expressions of the inputs
        self.scalars: list = []
        self.fallback: list = []  # the numpy lines, for a run of one step

    def name_of(self, arg: str, slot, is_number: bool) -> str:
        if slot is not None and slot in self.members:
            return f"t{slot}"
        if arg not in self.inputs:
            self.inputs.append(arg)
            self.scalars.append(is_number)
        return f"a{self.inputs.index(arg)}"

    def add(self, op, i: int, args: list, refs, numpy_line: str) -> None:
        names = [self.name_of(a, r[1] if r[0] == 0 else None, r[0] == 2)
                 for a, r in zip(args, refs)]
        self.steps.append((f"t{i}", passes.forward_expr(op, names)))
        self.members.append(i)
        self.fallback.append(numpy_line)

    def emit(self, lines: list, ns: dict, consumers: list, kept) -> None:
        """Write the run's line (``v3, v5 = F0(x0, v1, c[0])``) at its place."""
        if len(self.members) == 1:
            lines[self.line] = self.fallback[0]
            return
        members = set(self.members)
        outs = [m for m in self.members
                if m in kept or any(c not in members for c in consumers[m])]
        if not outs:
            lines[self.line] = ""
            return
        key = f"F{self.members[0]}"
        ns[key] = Fused(loop_source(self.steps, self.scalars, [f"t{m}" for m in outs]),
                        self.shape, self.dtype, len(outs))
        target = ", ".join(f"v{m}" for m in outs)
        lines[self.line] = (f"    {target} = {key}({', '.join(self.inputs)})  # fused: "
                            f"{', '.join(f'v{m}' for m in self.members)} (numba)")
        loop = ns[key].source.replace("def loop(", f"def {key}(")
        ns.setdefault("__loops__", []).append("\n".join("# " + ln for ln in loop.splitlines()))
