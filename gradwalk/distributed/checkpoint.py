"""Checkpoints in a distributed run: written by rank 0 only, atomically; read by every rank.

``save`` has rank 0 write with ``gradwalk.save`` (a temporary file, then a rename, so a crash
never leaves half a checkpoint) and then waits at a barrier, so that when ``save`` returns on
any rank the file is complete. ``load`` reads it on every rank (``gradwalk.load``: JSON and
``.npy`` members, never pickle). The path must be on a file system every rank sees (one
machine, or a shared one).

Example:
    >>> import os, tempfile, gradwalk, gradwalk.distributed as dist
    >>> dist.init_process_group("mpi", world_size=1, rank=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.gw")
    >>> dist.checkpoint.save({"w": gradwalk.ones(2), "step": 7}, path)
    >>> dist.checkpoint.load(path)["step"]
    7
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import os
from typing import Any

from .. import serialization
from .process_group import ProcessGroup, _group


def save(obj: Any, path: str | os.PathLike, group: ProcessGroup | None = None,
         src: int = 0) -> None:
    """Rank ``src`` (default 0) writes ``obj`` to ``path`` atomically; every rank returns once
    the file is complete.

    Example:
        >>> import os, tempfile, gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "m.gw")
        >>> dist.checkpoint.save({"b": gradwalk.zeros(1)}, path)
        >>> os.path.exists(path)
        True
        >>> dist.destroy_process_group()
    """
    pg = _group(group, "checkpoint.save")
    if pg is None:
        return
    root = pg.group_rank(src, "checkpoint.save: src")
    failure = None
    if pg.rank() == root:
        try:
            serialization.save(obj, path)
        except Exception as e:
            failure = e
    from .objects import broadcast_object_list

    status = [None if failure is None else f"{type(failure).__name__}: {failure}"]
    broadcast_object_list(status, src=src, group=pg)
    if failure is not None:
        raise failure
    if status[0] is not None:
        raise RuntimeError(f"checkpoint.save: rank {src} could not write {os.fspath(path)!r}: "
                           f"{status[0]}")


def load(path: str | os.PathLike, map_location: Any = None) -> Any:
    """Read a checkpoint on this rank (``gradwalk.load``; every rank may call it).

    Example:
        >>> import os, tempfile, gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "m.gw")
        >>> dist.checkpoint.save([1, 2], path)
        >>> dist.checkpoint.load(path)
        [1, 2]
        >>> dist.destroy_process_group()
    """
    return serialization.load(path, map_location)
