"""``python -m gradwalk compile-explain TARGET [args...]``: run a script with one function
compiled, then print what ``gradwalk.compile`` made of it (``CompiledFunction.explain``).

Note [compile-explain]
    ``TARGET`` is ``path/to/script.py:function`` or ``package.module:function``; ``function``
    may be dotted (``Model.forward``, ``model``: a module-level ``nn.Module`` is compiled as
    ``gradwalk.compile(model)``). The command

    1. imports the script as a module (so its ``if __name__ == "__main__":`` block does not
       run on import), with the script's folder first on ``sys.path`` as ``python script.py``
       has it;
    2. replaces ``function`` in its namespace by ``gradwalk.compile(function, ...)``, so every
       call by name (from the script's other functions too) goes through the compiled one;
    3. runs the script's ``__main__`` block (its statements, in the module's namespace, with
       ``sys.argv = [script, *args]``), as ``python script.py args...`` would; or, with
       ``--call EXPR``, evaluates ``EXPR`` in that namespace instead (``--call "step(x)"``);
       or, for a script without such a block and no ``--call``, calls ``function()``;
    4. prints the explain text at the end: every program as Python source (each op with the
       script's ``file:line``), its guards with the line that first read each input, every
       recompile and every graph break with its reason, line and count. It is printed even
       when the script raises or calls ``sys.exit`` (then the command exits with the script's
       status; a traceback of the script's own exception is printed as Python prints it).

    Bad input to the command itself (no such file, module or attribute; not callable; bad
    options) is one ``error:`` line and status 2 (Note [a quiet command line]).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import os
import sys
import traceback
from typing import Any

from ..cli.options import ArgumentParser, HelpFormatter, UsageError, program

DESCRIPTION = """\
Run a script (or module) with one function compiled by gradwalk.compile, then print what the
compiler made of it: the generated programs as Python source, the guards each with the
script's file:line, every recompile and every graph break with its reason and line.

TARGET is path/to/script.py:function or package.module:function (function may be dotted,
e.g. Model.forward). The script is imported (its __main__ block does not run on import), the
function is replaced by its compiled version in the script's namespace, then the script's
`if __name__ == "__main__":` block runs with the arguments after TARGET as sys.argv[1:]
(or --call EXPR is evaluated in the script's namespace instead). The explain text is printed
at the end, also when the script fails."""

EPILOG = """\
examples:
  {prog} examples/lesson_examples.py:main --steps 3
  {prog} -o explain.txt train.py:train_step --epochs 1   (options before TARGET)
  {prog} --call "f(gradwalk.ones(3))" mylib.ops:f
  GRADWALK_LOGS=recompiles {prog} train.py:step     (recompiles as they happen)"""


def _parser() -> ArgumentParser:
    prog = program("compile-explain")
    p = ArgumentParser(prog=prog, description=DESCRIPTION, formatter_class=HelpFormatter,
                       epilog=EPILOG.format(prog=prog))
    p.add_argument("target", metavar="TARGET",
                   help="script.py:function or package.module:function")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="the script's own arguments (its sys.argv[1:]); a leading -- is dropped")
    p.add_argument("--call", metavar="EXPR", default=None,
                   help="evaluate EXPR in the script's namespace instead of running its "
                        "__main__ block, e.g. --call \"step(gradwalk.ones(3))\"")
    p.add_argument("--backend", choices=("numpy", "eager"), default="numpy",
                   help="gradwalk.compile's backend")
    p.add_argument("--fullgraph", action="store_true",
                   help="compile with fullgraph=True (the first graph break raises)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write the explain text to FILE instead of standard output")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``compile-explain`` (Note [compile-explain]); returns the exit status.

    Example:
        >>> main(["--help"])  # doctest: +ELLIPSIS
        usage: ... compile-explain [-h] [--call EXPR]...
        ...
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        script_args = args.args[1:] if args.args[:1] == ["--"] else args.args
        module, path, owner, attr, fn = _load(args.target)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        print(f"usage: {program('compile-explain')} TARGET [args...]   (see --help)",
              file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    import gradwalk

    compiled = gradwalk.compile(fn, backend=args.backend, fullgraph=args.fullgraph)
    setattr(owner, attr, compiled)
    status = 0
    saved_argv = sys.argv
    sys.argv = [path, *script_args]
    try:
        status = _run(module, path, args.call, compiled, attr)
    except SystemExit as e:
        code = e.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
    except BaseException as e:  # the script's own exception: shown as Python shows it
        if isinstance(e, KeyboardInterrupt):
            raise
        traceback.print_exc()
        status = 1
    finally:
        sys.argv = saved_argv
        _report(compiled, args.output)
    return status


def _run(module, path: str, call: str | None, compiled, attr: str) -> int:
    ns = module.__dict__
    if call is not None:
        try:
            code = compile(call, "<--call>", "eval")
        except SyntaxError as e:
            print(f"error: --call {call!r} is not a Python expression: {e.msg}",
                  file=sys.stderr)
            return 2
        result = eval(code, ns)  # the user's own expression, as python -c
        if result is not None:
            print(repr(result))
        return 0
    blocks = _main_blocks(path)
    if blocks is None:
        if not callable(compiled):
            return 0
        compiled()
        return 0
    for block in blocks:
        exec(block, ns)  # the script's own __main__ block, as python runs it
    return 0


def _report(compiled, output: str | None) -> None:
    """The explain text; for a method, that of each instance's compiled function (each
    instance has its own cache)."""
    per_instance = list((getattr(compiled, "_instances", None) or {}).values())
    targets = per_instance if per_instance and not compiled.calls else [compiled]
    if output is None:
        sys.stdout.flush()
        print("\n=== gradwalk compile-explain ===", flush=True)
        for t in targets:
            t.explain(file=sys.stdout)
        return
    with open(output, "w", encoding="utf-8") as f:
        for t in targets:
            t.explain(file=f)


def _load(target: str) -> tuple[Any, str, Any, str, Any]:
    """Import the target's script or module; the module, its file, the attribute's owner, the
    attribute's name and the function."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise UsageError(f"TARGET {target!r} is not script.py:function or module:function")
    if where.endswith(".py") or os.sep in where or (os.altsep and os.altsep in where):
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise UsageError(f"no such script: {where}")
        module = _import_script(path)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise UsageError(f"cannot import module {where!r}: {e}") from None
        path = getattr(module, "__file__", None) or where
    owner, obj = None, module
    parts = name.split(".")
    for k, part in enumerate(parts):
        owner = obj
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"{'.'.join(parts[:k]) or where} has no attribute {part!r} "
                             f"(TARGET {target!r})") from None
    if not callable(obj):
        raise UsageError(f"{name} in {where} is a {type(obj).__name__}, not a function or "
                         "an nn.Module")
    if isinstance(obj, type):
        raise UsageError(f"{name} in {where} is a class; name a function, a method "
                         f"({name}.forward) or an nn.Module instance")
    fn = owner.__dict__.get(parts[-1], obj) if isinstance(owner, type) else obj
    if isinstance(fn, (staticmethod, classmethod)):
        raise UsageError(f"{name} is a {type(fn).__name__}; compile a function, a method or "
                         "an nn.Module")
    return module, path, owner, parts[-1], fn


def _import_script(path: str):
    stem = os.path.splitext(os.path.basename(path))[0]
    modname = stem if stem.isidentifier() and stem not in sys.modules else "__gradwalk_script__"
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {path} as a Python script")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise UsageError(f"{path}:{e.lineno}: syntax error: {e.msg}") from None
    return module


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either side)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def _main_blocks(path: str) -> list | None:
    """The code of the script's top-level ``if __name__ == "__main__":`` blocks, compiled with
    the script's file name and line numbers (``None``: the script has none)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError):
        return None
    blocks = [node for node in tree.body if isinstance(node, ast.If) and _is_main_test(node.test)]
    if not blocks:
        return None
    return [compile(ast.Module(body=node.body, type_ignores=[]), path, "exec") for node in blocks]
