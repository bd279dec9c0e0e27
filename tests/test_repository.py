"""The repository stands alone: docs and docstrings cite no file outside it, the licence ships,
and the NumPy floor that ``pyproject.toml`` declares is the one ``.ci/run`` tests."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# ../shared/..., absolute paths of a machine (/work, /tmp, /root, /home, /Users, C:\), and issue
# titles or numbers ("issue 14", 'issue "Train real models"')
OUTSIDE = re.compile(r"\.\./shared\b|(?<![\w.~-])/(?:work|tmp|root|home|Users)/|\b[A-Z]:\\\\"
                     r"|\bissues? ?(?:#?\d+|\")", re.IGNORECASE)


def _docs() -> list[Path]:
    return sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("benchmarks/**/*.md"),
                   *ROOT.glob("examples/**/*.md")])


def _sources() -> list[Path]:
    return sorted(p for d in ("gradwalk", "benchmarks", "examples", "tests")
                  for p in (ROOT / d).rglob("*.py"))


def _docstrings(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                line = node.body[0].lineno if node.body else 1
                yield line, doc


def test_docs_cite_nothing_outside_the_repository():
    bad = []
    for path in _docs():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "docs must stand alone (no ../shared, machine paths, issue titles):\n" + \
        "\n".join(bad)


def test_docstrings_cite_nothing_outside_the_repository():
    bad = []
    for path in _sources():
        for line, doc in _docstrings(path):
            for k, text in enumerate(doc.splitlines()):
                if OUTSIDE.search(text):
                    bad.append(f"{path.relative_to(ROOT)}:{line + k}: {text.strip()}")
    assert not bad, "docstrings must stand alone (no ../shared, machine paths, issue titles):\n" \
        + "\n".join(bad)


@pytest.mark.parametrize("text", ["see ../shared/DESIGN.md", "run /tmp/x.py", "in /work/main",
                                  'issue "Train real models"', "issue 14", "/root/.cache"])
def test_the_check_catches_outside_references(text):
    assert OUTSIDE.search(text)


@pytest.mark.parametrize("text", ["gradwalk/ops/registry.py", "tmp_path / 'x'", "a/tmp/b",
                                  "docs/benchmarks.md", "https://example.org/work/x"])
def test_the_check_lets_repository_paths_pass(text):
    assert not OUTSIDE.search(text)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_file_and_metadata():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the gradwalk developers" in text
    project = _pyproject()["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not the deprecated table
    assert "LICENSE" in project["license-files"]


def _release(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_ci_tests_the_declared_numpy_floor():
    (dep,) = [d for d in _pyproject()["project"]["dependencies"] if d.startswith("numpy")]
    floor = re.fullmatch(r"numpy>=([\d.]+)", dep.replace(" ", ""))
    assert floor, dep
    ci = re.search(r"^NUMPY_MIN=([\d.]+)$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
    assert ci, ".ci/run sets NUMPY_MIN"
    assert _release(ci.group(1)) == _release(floor.group(1))
