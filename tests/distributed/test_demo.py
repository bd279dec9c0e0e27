"""The distributed demo under the launcher, and the launcher's command line."""

import subprocess
import sys

from gradwalk.distributed.run import build_command

from ._launch import ROOT, clean_env, mpiexec


def test_demo_distributed_under_the_launcher():
    exe = mpiexec()
    cmd = [sys.executable, "-m", "gradwalk.distributed.run", "-n", "2", "--oversubscribe",
           "--mpiexec", exe, "-m", "gradwalk", "demo", "--distributed", "--dataset", "digits",
           "--epochs", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=ROOT,
                          stdin=subprocess.DEVNULL, env=clean_env(MPIEXEC_TIMEOUT="90"))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Data-parallel training on 2 processes" in out
    assert "rank 0: 719 samples" in out and "rank 1: 719 samples" in out, out
    assert out.count("test accuracy:") == 1  # rank 0 only
    acc = float(out.split("test accuracy:")[1].split("%")[0])
    assert acc > 60, out


def test_launcher_command():
    cmd = build_command(["-n", "3", "--oversubscribe", "train.py", "--lr", "1"],
                        mpiexec="/x/mpiexec", flavour="openmpi")
    boot = ["-m", "gradwalk.distributed._bootstrap"]
    assert cmd == ["/x/mpiexec", "-n", "3", "--oversubscribe", sys.executable, *boot,
                   "train.py", "--lr", "1"]
    cmd = build_command(["-n", "2", "-m", "gradwalk", "demo", "--distributed"],
                        mpiexec="mpiexec", flavour="mpich")
    assert cmd == ["mpiexec", "-n", "2", sys.executable, *boot, "-m", "gradwalk", "demo",
                   "--distributed"]
