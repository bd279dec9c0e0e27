"""Faults: a rank that raises, or is killed, ends the whole job quickly with a clear message
(no hang); bad init_process_group calls give clear messages."""

import sys
import time

import pytest

import gradwalk.distributed as dist

from ._launch import run


@pytest.mark.parametrize("n", [2, 4])
def test_a_rank_raising_aborts_every_rank(n):
    start = time.monotonic()
    proc = run("fault_worker.py", n, "raise", timeout=60)
    took = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"gradwalk.distributed: rank 1 of {n} raised ValueError: the data file is corrupt; " \
           f"aborting all {n} ranks" in out, out
    assert "[rank 1] Traceback" in out and "should not happen" not in out, out
    assert took < 45, f"the job took {took:.1f} s to end"


def test_a_killed_rank_ends_the_job():
    start = time.monotonic()
    proc = run("fault_worker.py", 4, "kill", timeout=60)
    took = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "signal 9" in out or "Killed" in out or "killed" in out, out
    assert "should not happen" not in out, out
    assert took < 45, f"the job took {took:.1f} s to end"


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'nccl'.*backend='mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="init_method='tcp://.*' is not supported"):
        dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")
    assert not dist.is_initialized()


def test_no_launcher(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "PMI_RANK", "PMI_SIZE", "PMI_FD", "OMPI_COMM_WORLD_SIZE",
                "HYDI_CONTROL_FD", "MPI_LOCALNRANKS", "PMIX_RANK", "PMI_PORT", "PMI_ID"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(RuntimeError, match="not started by an MPI launcher.*"
                                           "gradwalk.distributed.run -n 4 script.py"):
        dist.init_process_group("mpi")
    with pytest.raises(RuntimeError, match="world_size=4 was asked for.*not started by an MPI"):
        dist.init_process_group("mpi", world_size=4, rank=0)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(RuntimeError, match="world_size=2 was asked for"):
        dist.init_process_group()
    assert not dist.is_initialized()


def test_no_process_group():
    import gradwalk

    with pytest.raises(dist.DistributedError, match="not been initialized.*init_process_group"):
        dist.all_reduce(gradwalk.ones(2))


def test_without_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    from gradwalk.distributed.process_group import _mpi

    with pytest.raises(RuntimeError, match=r'needs mpi4py.*pip install "gradwalk\[distributed\]"'):
        _mpi()
