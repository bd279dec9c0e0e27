"""Every collective, on 2 and 4 processes, against NumPy (float32, float64, int64; every
ReduceOp; async handles; subgroups; object collectives; mismatches; checkpoints)."""

import pytest

from ._launch import checks, run


@pytest.mark.parametrize("n", [2, 4])
def test_collectives_match_numpy(n):
    done = checks(run("collectives_worker.py", n), n)
    assert min(done.values()) > 150
