"""The size targets of the package's layout: a core read in one sitting, no file too long."""

from __future__ import annotations

import ast
from pathlib import Path

import gradwalk

PACKAGE = Path(gradwalk.__file__).parent
ROOT = PACKAGE.parent  # the repository root

#: The core a student reads: the engine's walk, its nodes and graph, the op registry and the
#: Tensor class. Not core: the Tensor's method mixins, the op declarations, and what plugs into
#: the core from outside it (saved-tensor hooks, ``autograd/saved_hooks.py``, through the
#: registry's forward hooks; PyTorch's message texts, ``autograd/messages.py``; running hooks,
#: ``autograd/hooks.py``; listeners and structural zeros).
WALK = ("autograd/engine.py", "autograd/node.py", "autograd/graph.py")
TENSOR_AND_REGISTRY = ("ops/registry.py", "tensor.py")
CORE_LIMIT = 1500
TENSOR_AND_REGISTRY_LIMIT = 550  # their share of the core
FILE_LIMIT = 800

#: Files over the limit that work in progress splits: remove an entry when its split lands.
PENDING: set[str] = set()

#: The directories beside the package that keep to the same file limit.
BESIDE = ("tests", "benchmarks", "examples")


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def _count(names) -> dict:
    return {name: _lines(PACKAGE / name) for name in names}


def test_core_is_at_most_1500_lines():
    counts = _count(WALK + TENSOR_AND_REGISTRY)
    assert sum(counts.values()) <= CORE_LIMIT, (
        f"the core is {sum(counts.values())} lines (limit {CORE_LIMIT}): {counts}")


def test_tensor_and_registry_keep_to_their_share_of_the_core():
    counts = _count(TENSOR_AND_REGISTRY)
    assert sum(counts.values()) <= TENSOR_AND_REGISTRY_LIMIT, counts


def test_no_file_is_over_800_lines():
    long = {str(p.relative_to(PACKAGE)): _lines(p) for p in PACKAGE.rglob("*.py")
            if _lines(p) > FILE_LIMIT}
    assert not set(long) - PENDING, f"files over {FILE_LIMIT} lines (split them by domain): {long}"
    done = {name for name in PENDING if name not in long}
    assert not done, f"{done} are within the limit now: remove them from PENDING"


def test_no_file_in_tests_benchmarks_or_examples_is_over_800_lines():
    missing = [d for d in BESIDE if not (ROOT / d).is_dir()]
    assert not missing, f"{missing} not found beside the package in {ROOT}: is it a checkout?"
    long = {str(p.relative_to(ROOT)): _lines(p) for d in BESIDE
            for p in sorted((ROOT / d).rglob("*.py")) if _lines(p) > FILE_LIMIT}
    assert not long, (
        f"files over {FILE_LIMIT} lines in {'/, '.join(BESIDE)}/: {long}. Split them by domain "
        "into modules next to them (as tests/ops/op_samples.py keeps the entry point and "
        "op_samples_base.py, op_samples_nn.py hold the rest)")


def _runtime_imports(tree: ast.AST):
    """The import statements of a module, except those under ``if TYPE_CHECKING:``."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(n) for n in ast.walk(node))
    return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and id(n) not in skip]


def test_the_ops_do_not_import_tensor_py():
    # Note [binding] in ops/registry.py: the ops get the Tensor class from ``registry.bind``.
    climbs = []
    for path in sorted((PACKAGE / "ops").glob("*.py")):
        for node in _runtime_imports(ast.parse(path.read_text())):
            if node.level == 2 and node.module in ("tensor", "creation"):
                climbs.append(f"{path.name}:{node.lineno} imports ..{node.module}")
    allowed = {"nn.py"}  # nn.dropout draws from creation's generator (creation imports tensor)
    assert [c for c in climbs if c.split(":")[0] not in allowed] == [], climbs


def test_no_module_injects_the_tensor_class_into_another():
    # Note [binding] in ops/registry.py: the class travels by ``bind`` calls (registry, engine,
    # hooks), each module setting its own global; no module assigns another module's ``Tensor``.
    injections = [f"{p.relative_to(PACKAGE)}:{i + 1}" for p in PACKAGE.rglob("*.py")
                  for i, line in enumerate(p.read_text().splitlines())
                  if ".Tensor = " in line and not line.lstrip().startswith("#")]
    assert injections == [], injections
