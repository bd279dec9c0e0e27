"""``gradwalk.compile``: PyTorch's API over the lazy trace (Note [the trace] in trace.py)."""

from __future__ import annotations

import functools
import os
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from ..nn.modules.module import Module
from ..ops import registry as _registry
from . import codegen
from .trace import END, SUPPORTED, Trace, TrieNode, hook_for

BACKENDS = ("numpy", "eager", "numba")
MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
RECOMPILE_LIMIT = 8  # torch._dynamo.config.recompile_limit


def _logs() -> set:
    return set(filter(None, os.environ.get("GRADWALK_LOGS", "").replace(" ", "").split(",")))


class CompiledFunction:
    """A function compiled by ``gradwalk.compile``: call it as the function.

    Each call runs the function's Python; the ops it applies record into a lazy trace whose
    key picks a cached program (Note [the trace]). ``explain()`` prints the programs, their
    guards, and every recompile and graph break.

    Example:
        >>> import gradwalk
        >>> @gradwalk.compile
        ... def f(x):
        ...     return (x * x + 1.0).sum()
        >>> x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
        >>> y = f(x)
        >>> y.grad_fn.name()
        'CompiledFunctionBackward'
        >>> y.backward()
        >>> x.grad
        tensor([2., 4.])
    """

    def __init__(self, fn: Callable, *, fullgraph: bool = False, backend: str = "numpy",
                 recompile_limit: int = RECOMPILE_LIMIT) -> None:
        self.fn = fn
        self.fullgraph = fullgraph
        self.backend = backend
        self.recompile_limit = recompile_limit
        self.root = TrieNode()
        self.starts: list = []  # Note [the next segment's first step] in trace.py
        self.programs: list = []  # trie nodes where a program ends
        self.recompiles: list = []  # (location, reason)
        self.compiles = 0
        self.breaks: dict = {}  # (reason, location) -> count
        self.calls = 0
        self.gave_up = False  # past the recompile limit: eager from then on
        self.segments_seen = 0  # the most segments one finished call had (Note [recompiles])
        self.call_breaks = 0  # the graph breaks of the running call so far
        self._instances: Any = None  # per-instance caches when used as a method decorator
        functools.update_wrapper(self, fn)

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.backend == "eager" or self.gave_up or _registry._trace is not None:
            # eager backend; past the limit; or inside another compiled call (this one is part
            # of its trace) or another thread's (this thread runs eagerly)
            return self.fn(*args, **kwargs)
        trace = Trace(self)
        hook = _registry._trace = hook_for(trace)
        self.call_breaks = 0
        try:
            result = self.fn(*args, **kwargs)
        finally:
            ended = self.call_breaks
            try:
                if trace.seg is not None:
                    ended += 1
                    trace.seg.flush(END)
            finally:
                trace.active = False
                if _registry._trace is hook:
                    _registry._trace = None
                self.segments_seen = max(self.segments_seen, ended)
        return result

    def __get__(self, obj, objtype=None):
        """As a method decorator: each instance its own compiled function (and cache)."""
        if obj is None:
            return self
        if self._instances is None:
            self._instances = weakref.WeakKeyDictionary()
        try:
            bound = self._instances.get(obj)
        except TypeError:  # not weakly referenceable: compile per call site
            bound = None
        if bound is None:
            bound = CompiledFunction(self.fn.__get__(obj, objtype), fullgraph=self.fullgraph,
                                     backend=self.backend,
                                     recompile_limit=self.recompile_limit)
            try:
                self._instances[obj] = bound
            except TypeError:
                pass
        return bound

    # ------------------------------------------------------------------ the trace's callbacks
    def may_compile(self, pos: TrieNode, key) -> bool:
        """A step off the trie: allowed unless past the recompile limit."""
        if self._recompile(pos):
            if len(self.recompiles) >= self.recompile_limit:
                if not self.gave_up:
                    self.gave_up = True
                    warnings.warn(
                        f"gradwalk.compile: {self._name()} recompiled {len(self.recompiles)} "
                        f"times (the limit, {self.recompile_limit}); it runs eagerly from now "
                        f"on. Last reason: {self.recompiles[-1][1]} at {self.recompiles[-1][0]}."
                        " Call .explain() for all of them.", RuntimeWarning, stacklevel=4)
                return False
        return True

    def note_compile(self, pos: TrieNode, key, child: TrieNode) -> None:
        self.compiles += 1
        if not self._recompile(pos):
            return  # the first trace of this path: a compile, not a recompile
        reason = _why(pos, key)
        self.recompiles.append((child.rec.loc, reason))
        if "recompiles" in _logs() or "+recompiles" in _logs():
            print(f"[gradwalk.compile] recompile {len(self.recompiles)} of {self._name()} at "
                  f"{child.rec.loc}: {reason}", file=sys.stderr)

    def _recompile(self, pos: TrieNode) -> bool:
        """Whether a step off the trie at ``pos`` is a recompile (Note [recompiles])."""
        if not (pos.children or (pos.parent is None and self.programs)):
            return False
        return self.call_breaks < self.segments_seen  # the running segment's number

    def note_break(self, reason: str, location: str) -> None:
        key = (reason, location)
        self.breaks[key] = self.breaks.get(key, 0) + 1
        self.call_breaks += 1
        if self.fullgraph:
            raise RuntimeError(f"gradwalk.compile(fullgraph=True): a graph break in "
                               f"{self._name()} at {location}: {reason}")

    def _name(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)

    # ------------------------------------------------------------------ explain
    def explain(self, file=None) -> str:
        """Print (and return) the compiled programs as Python source, their guards with the
        user's file:line, and every recompile and graph break with its reason and line.

        Example:
            >>> import gradwalk
            >>> f = gradwalk.compile(lambda x: x.exp() * 2.0)
            >>> _ = f(gradwalk.ones(3))
            >>> text = f.explain(file=open(__import__("os").devnull, "w"))
            >>> "def forward(x, c):" in text and "guards" in text
            True
        """
        out = [f"gradwalk.compile of {self._name()} (backend={self.backend!r}): "
               f"{self.calls} calls, {len(self.programs)} programs, "
               f"{len(self.recompiles)} recompiles, {sum(self.breaks.values())} graph breaks"]
        if self.backend == "eager":
            out.append("  backend 'eager': nothing is traced; the function runs as written")
        if self.gave_up:
            out.append(f"  past the recompile limit ({self.recompile_limit}): runs eagerly")
        for n, end in enumerate(self.programs):
            prog = end.program
            out.append(f"\n--- program {n}: {len(prog.recs)} ops")
            out.append("guards (the program runs when every one holds):")
            for node in end.path():
                rec = node.rec
                for eid, shape, dtype, rg in node.ext_keys:
                    out.append(f"  x{eid}: shape {tuple(shape)}, {dtype}, requires_grad={rg}"
                               f"  (first read by {rec.op.name} at {rec.loc})")
            grad = {node.rec.grad for node in end.path()}
            mode = "on" if grad == {True} else "off" if grad == {False} else "mixed"
            out.append(f"  grad mode {mode}; the op sequence, parameters and the types of "
                       "Python numbers as recorded (each op's line is in the source)")
            out.append(prog.source)
            out.extend(codegen.variant_sources(prog))
            out.append(prog.backward_source)
        if self.recompiles:
            out.append("\nrecompiles:")
            out += [f"  at {loc}: {why}" for loc, why in self.recompiles]
        if self.breaks:
            out.append("\ngraph breaks:")
            out += [f"  at {loc}: {why} (x{k})" for (why, loc), k in self.breaks.items()]
        text = "\n".join(out)
        print(text, file=file if file is not None else sys.stdout)
        return text


# Note [recompiles]
#     Every segment of a call starts at the one root of the function's trie, so the segments
#     of a call with graph breaks share it. A step off the trie is a *recompile* when an
#     earlier call reached the same segment (by its number in the call, the graph breaks
#     before it, ``call_breaks``, against the most segments a call had, ``segments_seen``) and
#     took another path from there: the shapes, dtypes, parameters or ops changed. In the first
#     call, and in segments past the most an earlier call had, a new path is a first compile
#     even where the trie already has other steps (those of the call's earlier segments): a
#     function whose one call breaks into more than ``recompile_limit`` different segments
#     (a loop over time steps with a read in each) is not given up on.


def _why(pos: TrieNode, key) -> str:
    """Why a key missed the cached steps at ``pos``: the first difference from one of them."""
    op, kind, refs, pkey, grad = key
    if not pos.children:
        return f"the segment goes on past its cached end with {op.name}"
    best = None
    for other in pos.children:
        o_op, _, o_refs, o_pkey, o_grad = other
        if o_op is not op:
            best = best or f"{op.name} where the cache has {o_op.name}"
            continue
        if o_grad != grad:
            return (f"{op.name}: grad mode is {'on' if grad else 'off'} "
                    f"(was {'on' if o_grad else 'off'})")
        if o_pkey != pkey:
            return f"{op.name}: parameters changed ({_params(o_pkey)} -> {_params(pkey)})"
        for j, (a, b) in enumerate(zip(o_refs, refs)):
            if a != b:
                return f"{op.name}: input {j} changed ({_ref(a)} -> {_ref(b)})"
        if len(o_refs) != len(refs):
            return f"{op.name}: {len(refs)} inputs (was {len(o_refs)})"
    return best or f"new step {op.name}"


def _params(pkey) -> str:
    return "none" if pkey is None else ", ".join(f"{k}" for k, _ in pkey)


def _ref(r) -> str:
    if r[0] == 1 and len(r) > 3:
        return f"tensor {tuple(r[3])} {r[4]} requires_grad={r[2]} strides {r[5]}"
    if r[0] == 1:
        return f"the tensor x{r[1]} again (requires_grad={r[2]})"
    if r[0] == 0:
        return f"value v{r[1]} (requires_grad={r[2]})"
    if r[0] == 2:
        return f"a Python {r[2].__name__}"
    return f"the constant {r[1]!r}"


class OptimizedModule(Module):
    """A compiled ``nn.Module``: shares the module's parameters (``_orig_mod``), compiles its
    ``__call__`` (so its hooks run, and ``train()``/``eval()`` reach it).

    Example:
        >>> import gradwalk
        >>> lin = gradwalk.nn.Linear(2, 1)
        >>> m = gradwalk.compile(lin)
        >>> m._orig_mod is lin, next(m.parameters()) is lin.weight
        (True, True)
    """

    def __init__(self, mod: Module, **opts: Any) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call", CompiledFunction(mod.__call__, **opts))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled_call(*args, **kwargs)

    def explain(self, file=None) -> str:
        """``CompiledFunction.explain`` of the module's call."""
        return self._compiled_call.explain(file=file)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            mod = self.__dict__.get("_modules", {}).get("_orig_mod")
            if mod is None:
                raise
            return getattr(mod, name)


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str = "numpy", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """Compile a function, a bound method or an ``nn.Module`` (PyTorch's ``torch.compile``).

    The compiled call gives the eager call's answers (values, gradients, side effects); its
    ops run as one program per segment between reads into Python, and a forward whose
    inputs require grad is one ``CompiledFunctionBackward`` node. ``backend`` is ``"numpy"``
    (programs of NumPy calls, eager's bits), ``"numba"`` (elementwise runs fused into numba
    loops, within a documented tolerance; needs numba) or ``"eager"`` (no tracing: for
    debugging). ``fullgraph=True`` raises at a graph break. ``dynamic=True``
    (shape-polymorphic programs) is not built and raises: every new shape is a recompile,
    as ``dynamic=False`` (and ``None``, torch's automatic dynamic, is ``False`` here).
    ``mode`` is accepted and has no effect; ``options`` takes ``recompile_limit``.
    ``disable=True`` returns ``model`` itself.

    Example:
        >>> import gradwalk
        >>> f = gradwalk.compile(lambda x: (x * 3.0).sum())
        >>> f(gradwalk.ones(4)).item()
        12.0
    """
    if backend not in BACKENDS:
        raise ValueError(f"gradwalk.compile: unknown backend {backend!r}; the backends are "
                         f"{', '.join(map(repr, BACKENDS))}")
    if backend == "numba":
        from .numba_backend import require
        require()  # an ImportError with the remedy when numba is absent
    if mode not in MODES:
        raise RuntimeError(f"gradwalk.compile: unknown mode {mode!r}; the modes are "
                           f"{', '.join(map(repr, MODES[1:]))}")
    if dynamic:
        raise NotImplementedError(
            "gradwalk.compile(dynamic=True) is not built: a cached program is found by its op "
            "sequence with every outside tensor's shape in the key, and the shapes of pending "
            "values (which Python reads: x.shape, x.size(0), view(n, -1)) come from the trace; "
            "reusing a program across sizes needs a shape rule per op, which the registry "
            "does not have (docs/compile.md, 'Not built'). Every new shape is a recompile, as "
            "with dynamic=False: use dynamic=None or False.")
    options = dict(options or {})
    limit = options.pop("recompile_limit", RECOMPILE_LIMIT)
    if options:
        raise RuntimeError(f"gradwalk.compile: unknown options {sorted(options)}; the one "
                           "option is 'recompile_limit'")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options={"recompile_limit": limit},
                                 disable=disable)
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph=fullgraph, backend=backend,
                               recompile_limit=limit)
    if not callable(model):
        raise TypeError(f"gradwalk.compile: expected a function or an nn.Module, got "
                        f"{type(model).__name__}")
    return CompiledFunction(model, fullgraph=fullgraph, backend=backend, recompile_limit=limit)


__all__ = ["compile", "CompiledFunction", "OptimizedModule", "SUPPORTED"]
