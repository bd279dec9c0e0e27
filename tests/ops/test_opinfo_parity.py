"""Every entry of PyTorch's op database that gradwalk implements, compared with torch.

The harness is ``tests/ops/opinfo.py`` (its docstring says what is compared; ``python -m
tests.ops.opinfo`` prints the coverage table). A test fails when gradwalk returns a different
value, dtype or shape, a different gradient or a different JVP than torch on one of the entry's
float64 samples. ``KNOWN_WRONG`` lists the entries that are still wrong, each with the reason: they
are strict expected failures, so fixing one makes its test fail until the entry is removed here.
Samples on which gradwalk raises a clear error while torch computes are gaps in the surface, not
wrong answers; the coverage table counts them.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch's op database imports it

from tests.ops.opinfo import check_entry, entries_present, load_op_db  # noqa: E402

KNOWN_WRONG: dict[str, str] = {}

_ENTRIES = entries_present(load_op_db())


def _id(op) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


@pytest.mark.parametrize("op", [
    pytest.param(o, id=_id(o), marks=pytest.mark.xfail(reason=KNOWN_WRONG[_id(o)], strict=True))
    if _id(o) in KNOWN_WRONG else pytest.param(o, id=_id(o))
    for o in _ENTRIES])
def test_no_wrong_answer(op):
    r = check_entry(op, torch)
    assert not r.wrong, f"{r.name}: " + "; ".join(f"sample {i}: {m}" for i, m in r.wrong)


def test_known_wrong_entries_exist():
    names = {_id(o) for o in _ENTRIES}
    assert set(KNOWN_WRONG) <= names, set(KNOWN_WRONG) - names


def test_coverage_floor():
    """The entries present do not shrink (219 on the day the harness was written)."""
    assert len(_ENTRIES) >= 219
