"""Test-suite wiring: the recorded PyTorch oracle (see Note [Recorded oracle] in
``tests/fixtures/oracle.py``) learns which test is running and, when recording, writes the
fixtures at the end of the session."""

from __future__ import annotations

import pytest

from tests.fixtures import oracle as _oracle


@pytest.fixture(autouse=True)
def _oracle_test_name(request):
    _oracle.start_test(request.node.nodeid)
    yield


def pytest_sessionfinish(session, exitstatus):
    if _oracle.RECORD:
        for path in _oracle.write_recorded():
            print(f"\nrecorded {path.relative_to(_oracle.TESTS.parent)}")
