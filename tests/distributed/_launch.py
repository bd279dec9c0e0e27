"""Run a worker script under the MPI launcher from a test, with a timeout."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers")
INSTALL = 'pip install "gradwalk[distributed]" (mpi4py==4.1.2 mpich==5.0.2)'


def mpiexec() -> str:
    """The MPI launcher, or skip the test when MPI is not installed."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip(f"mpi4py is not installed: {INSTALL}")
    from gradwalk.distributed.run import find_mpiexec

    found = find_mpiexec()
    if found is None:
        pytest.skip(f"no MPI launcher (mpiexec) is installed: {INSTALL}")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any MPI launcher's variables, gradwalk importable."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDI_", "MPI_LOCAL", "HYDRA_"))
           and k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["OMPI_ALLOW_RUN_AS_ROOT"] = env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env.update(extra)
    return env


def run(worker: str, n: int, *args: str, timeout: float = 60, launcher: bool = False,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``mpiexec -n N python workers/<worker> args`` (or through ``gradwalk.distributed.run``
    when ``launcher``); the test fails (not hangs) when it takes longer than ``timeout``."""
    exe = mpiexec()
    script = os.path.join(WORKERS, worker)
    if launcher:
        cmd = [sys.executable, "-m", "gradwalk.distributed.run", "-n", str(n), "--oversubscribe",
               "--mpiexec", exe, script, *args]
    else:
        cmd = [exe, "-n", str(n)]
        from gradwalk.distributed.run import flavour_of

        if flavour_of(exe) == "openmpi":
            cmd.append("--oversubscribe")
        cmd += [sys.executable, script, *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              stdin=subprocess.DEVNULL,
                              env=env or clean_env(MPIEXEC_TIMEOUT=str(int(timeout))))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(cmd)} did not finish within {timeout} s (a hang):\n"
                    f"{e.stdout}\n{e.stderr}")


def checks(proc: subprocess.CompletedProcess, n: int) -> dict[int, int]:
    """Assert that the job succeeded and every rank reported ``DONE``; the number of checks
    each rank passed."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"exit status {proc.returncode}:\n{out[-6000:]}"
    # the launcher forwards each rank's output in chunks: lines of two ranks may run together
    done = {int(r): int(c) for r, c in re.findall(r"DONE rank=(\d+) checks=(\d+)", proc.stdout)}
    assert sorted(done) == list(range(n)), f"not every rank finished:\n{out[-6000:]}"
    return done
