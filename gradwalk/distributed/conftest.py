"""The doctests here run a one-process group, which needs mpi4py; without it they are skipped
(``pip install "gradwalk[distributed]"`` to run them)."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("mpi4py") else ["*.py"]
