"""Every entry of PyTorch's op database that gradwalk implements, on complex128 samples: no
wrong value or gradient (``tests/ops/opinfo_complex.py``). Raising is a gap, not a failure."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch's op database imports it

from tests.ops.opinfo import load_op_db  # noqa: E402
from tests.ops.opinfo_complex import check_entry, entries_present  # noqa: E402

_ENTRIES = entries_present(load_op_db())


def _id(op) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


@pytest.mark.parametrize("op", _ENTRIES, ids=[_id(o) for o in _ENTRIES])
def test_no_wrong_answer_on_complex_samples(op):
    r = check_entry(op, torch)
    assert not r.wrong, f"{r.name}: " + "; ".join(f"sample {i}: {m}" for i, m in r.wrong)
