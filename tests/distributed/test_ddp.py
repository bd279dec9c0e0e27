"""DistributedDataParallel on 2 and 4 processes: N x (B/N) == 1 x B over 20 steps (SGD with
momentum, Adam; one and several buckets), no_sync accumulation, uneven last batches through
DistributedSampler, unused parameters, buffers; the n=2 run goes through the launcher."""

import pytest

from ._launch import checks, run


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_matches_one_process(n):
    done = checks(run("ddp_worker.py", n, launcher=(n == 2)), n)
    assert min(done.values()) >= 25
