"""What ``gradwalk.distributed.run`` starts in every process: it sets torchrun's environment
variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``) from the MPI
launcher's, then runs the script (or ``-m`` module) as ``__main__``.

Example:
    >>> launcher_env({"PMI_RANK": "1", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1",
    ...               "MPI_LOCALNRANKS": "2"})
    {'RANK': '1', 'WORLD_SIZE': '4', 'LOCAL_RANK': '1', 'LOCAL_WORLD_SIZE': '2'}
"""

from __future__ import annotations

import os
import runpy
import sys

_SOURCES = {
    "RANK": ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"),
    "WORLD_SIZE": ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"),
    "LOCAL_RANK": ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK"),
    "LOCAL_WORLD_SIZE": ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"),
}


def launcher_env(environ: dict[str, str]) -> dict[str, str]:
    """torchrun's variables, from the MPI launcher's ones found in ``environ``."""
    out = {}
    for name, sources in _SOURCES.items():
        for src in sources:
            if environ.get(src, "") != "":
                out[name] = environ[src]
                break
    return out


def main(argv: list[str]) -> None:
    """``argv``: ``[script, args...]`` or ``["-m", module, args...]``."""
    os.environ.update(launcher_env(dict(os.environ)))
    if argv[:1] == ["-m"]:
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
