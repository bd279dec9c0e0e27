"""The layers are real: a module imports nothing above its layer (see docs/architecture.md).

Layers, bottom up: backend and dtypes; the autograd core (grad mode, nodes, the engine, saved
tensor hooks); the ops; ``tensor.py``; the APIs built on Tensors (autograd's ``backward``,
``grad``, ``Function``, ``functional``, ``forward_ad``..., ``func``, ``nn``, ``optim``,
``data``); the tools (cli, viz, demo).

Each check imports one module in a fresh interpreter and reads ``sys.modules``. The package's
own ``gradwalk/__init__.py`` re-exports the whole library (``import gradwalk`` must give all of
PyTorch's surface), so the check registers a bare ``gradwalk`` package (only its ``__path__``)
first: what is then loaded is what the module and the packages between it and the top import.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "gradwalk"

_PROBE = """
import importlib, sys, types
pkg = types.ModuleType("gradwalk")
pkg.__path__ = [sys.argv[1]]
sys.modules["gradwalk"] = pkg
importlib.import_module(sys.argv[2])
print("\\n".join(sorted(m for m in sys.modules if m.startswith("gradwalk."))))
"""

_API = ("gradwalk.tensor", "gradwalk.nn", "gradwalk.func", "gradwalk.optim", "gradwalk.data",
        "gradwalk.creation", "gradwalk.autograd._api", "gradwalk.autograd.function",
        "gradwalk.autograd.functional", "gradwalk.autograd.forward_ad",
        "gradwalk.autograd.gradcheck", "gradwalk.autograd.anomaly_mode",
        "gradwalk.autograd.explain", "gradwalk.cli", "gradwalk.viz", "gradwalk.demo")
_OPS = ("gradwalk.ops",)

# module -> the modules (and packages) it must not load
LOW_LAYER = {
    "gradwalk.backend": _OPS + _API + ("gradwalk.autograd",),
    "gradwalk.dtypes": _OPS + _API + ("gradwalk.autograd",),
    "gradwalk.autograd": _OPS + _API,
    "gradwalk.autograd.grad_mode": _OPS + _API,
    "gradwalk.autograd.node": _OPS + _API,
    "gradwalk.autograd.engine": _OPS + _API,
    "gradwalk.autograd.graph": _OPS + _API,
    "gradwalk.autograd.saved_hooks": _OPS + _API,
    "gradwalk.autograd.messages": _OPS + _API,
    "gradwalk.ops.registry": _API,
    "gradwalk.tensor": _API[1:],
}


def _loaded(module: str) -> list[str]:
    r = subprocess.run([sys.executable, "-c", _PROBE, str(ROOT), module], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.mark.parametrize("module", sorted(LOW_LAYER))
def test_low_layer_imports_nothing_above_it(module):
    loaded = _loaded(module)
    assert module in loaded
    above = [m for m in loaded for bad in LOW_LAYER[module] if m == bad or m.startswith(bad + ".")]
    assert not above, f"importing {module} loads modules of a higher layer: {above}"


def test_the_probe_sees_a_climb():
    # the check can fail: an API module loads tensor.py (and the ops)
    loaded = _loaded("gradwalk.autograd.forward_ad")
    assert "gradwalk.tensor" in loaded and "gradwalk.ops.registry" in loaded


def test_the_full_package_still_binds_the_autograd_api():
    code = ("import sys, gradwalk; m = sys.modules['gradwalk.autograd.gradcheck']; "
            "a = gradwalk.autograd; "
            "print(callable(a.gradcheck), a.gradcheck is m.gradcheck, a.grad.__module__, "
            "type(a.explain).__name__, a.functional.__name__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, cwd=ROOT.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True", "gradwalk.autograd._api", "type",
                                "gradwalk.autograd.functional"]


# ------------------------------------------------------------------ no function-local imports

# Files whose imports all sit at module level: a function-local import of a gradwalk module hides
# an import that climbs the layers. Optional dependencies are imported where they are used.
OPTIONAL = {"scipy", "sympy", "graphviz", "tqdm", "matplotlib", "cupy", "mpi4py", "numba"}
TOP_LEVEL_IMPORTS_ONLY = sorted(
    [p for sub in ("nn", "optim", "func") for p in (ROOT / sub).rglob("*.py")]
    + [ROOT / "autograd" / f"{m}.py" for m in ("__init__", "_api", "forward_ad", "grad_mode",
                                               "functional", "gradcheck", "anomaly_mode")]
    + [ROOT / "creation.py", ROOT / "__init__.py"])


def _local_imports(path: pathlib.Path) -> list[str]:
    """``line: module`` for every import inside a function of ``path`` (optional deps aside)."""
    tree = ast.parse(path.read_text())
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [f"{node.lineno}: {n}" for n in names if n.split(".")[0] not in OPTIONAL]
    return found


@pytest.mark.parametrize("path", TOP_LEVEL_IMPORTS_ONLY, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_local_imports(path):
    assert _local_imports(path) == []


def test_local_import_check_can_fail(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import numpy\n\n\ndef f():\n    from ..tensor import Tensor\n"
                 "    import scipy.special\n    import json\n")
    assert _local_imports(f) == ["5: ..tensor", "7: json"]
