"""Process groups on MPI: ``init_process_group``, ranks, ``new_group``, ``barrier``, teardown.

MPI (through ``mpi4py``) is the engine: the launcher (``mpirun``/``mpiexec``, or
``python -m gradwalk.distributed.run``) starts the processes and tells each its rank; a
process group is an MPI communicator. ``mpi4py`` is imported lazily, on the first call that
needs it, so ``import gradwalk.distributed`` works without it.

Note [failing fast instead of hanging]
    MPI has no timeouts: when one rank stops taking part, the others wait in their next
    collective for ever. So ``init_process_group`` installs an exception hook: a rank whose
    script raises prints the traceback and the line ``gradwalk.distributed: rank R of N
    raised ...; aborting all N ranks``, then calls ``MPI_Abort``, and the launcher ends every
    other rank. A rank killed by a signal is noticed by the launcher itself, which ends the
    others. A rank that leaves with ``sys.exit(code)`` while others still wait is not an
    exception: end such scripts with an exception instead, or run under ``MPIEXEC_TIMEOUT``.
    Collectives check that every rank passes the same shapes and dtypes (Note [collective
    signatures] in ``collectives.py``), so a mismatch raises on every rank instead of
    corrupting memory or hanging.

Example:
    >>> import gradwalk.distributed as dist
    >>> dist.init_process_group("mpi", world_size=1, rank=0)  # alone, without a launcher
    >>> dist.get_rank(), dist.get_world_size(), dist.is_initialized()
    (0, 1, True)
    >>> dist.destroy_process_group()
    >>> dist.is_initialized()
    False
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from datetime import timedelta
from typing import Any

INSTALL = ('pip install "gradwalk[distributed]"  (or: pip install mpi4py==4.1.2 mpich==5.0.2)')

#: Environment variables that MPI launchers set in the processes they start.
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMI_FD", "PMI_PORT", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                  "HYDI_CONTROL_FD", "MPI_LOCALNRANKS", "PMI_ID")

_BACKENDS = ("mpi",)


class DistributedError(RuntimeError):
    """A collective or process-group call that cannot go on (bad arguments, a mismatch between
    ranks, no process group)."""


def _mpi() -> Any:
    """The ``mpi4py.MPI`` module, imported on first use, or a clear error with the install
    command."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(
            "gradwalk.distributed needs mpi4py and an MPI library, which are not installed. "
            f"Install them with: {INSTALL}") from e
    return MPI


def is_available() -> bool:
    """``True`` when ``mpi4py`` can be imported (MPI is not initialized by this check).

    Example:
        >>> import gradwalk.distributed as dist
        >>> isinstance(dist.is_available(), bool)
        True
    """
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """The same as ``is_available()``: the MPI backend is the only one.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.is_mpi_available() == dist.is_available()
        True
    """
    return is_available()


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator plus the map from
    global ranks (what ``src``/``dst`` arguments name, as in PyTorch) to ranks in the group.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> pg = dist.new_group([0])
        >>> pg.size(), pg.rank(), pg.ranks
        (1, 0, [0])
        >>> dist.destroy_process_group()
    """

    def __init__(self, comm: Any, ranks: list[int]) -> None:
        self.comm = comm
        self.ranks = list(ranks)  # global rank of each group rank
        self._index = {g: i for i, g in enumerate(self.ranks)}

    def rank(self) -> int:
        """This process's rank in the group."""
        return self.comm.Get_rank()

    def size(self) -> int:
        """The number of ranks in the group."""
        return self.comm.Get_size()

    def group_rank(self, global_rank: int, what: str = "rank") -> int:
        """The group rank of ``global_rank``; a clear error when it is not in the group."""
        if not isinstance(global_rank, int) or global_rank not in self._index:
            raise DistributedError(
                f"{what}={global_rank!r} is not a rank of this process group (its global ranks "
                f"are {self.ranks})")
        return self._index[global_rank]

    def backend(self) -> str:
        return "mpi"

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', ranks={self.ranks})"


class _State:
    world: ProcessGroup | None = None
    groups: list[ProcessGroup] = []
    timeout: timedelta = timedelta(minutes=30)
    old_hooks: tuple | None = None


class GroupMember:
    """``GroupMember.WORLD`` is the default group (``None`` before ``init_process_group``);
    ``NON_GROUP_MEMBER`` is what ``new_group`` returns to ranks outside the new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


def _launched() -> bool:
    return any(v in os.environ for v in _LAUNCHER_VARS)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"the environment variable {name}={value!r} is not an integer") from None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the default process group: every process of the MPI job, ranks as the launcher set
    them.

    ``backend`` must be ``"mpi"`` (or ``None``). ``world_size`` and ``rank`` (or the ``env://``
    variables ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``) are checked against what MPI says.
    Without a launcher only a one-process group is possible, and only when asked for explicitly
    (``world_size=1, rank=0``, or ``WORLD_SIZE=1 RANK=0``), as PyTorch's ``env://`` needs its
    variables. ``timeout`` is kept for ``Work.wait`` (Note [failing fast instead of hanging]).

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("gloo")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: init_process_group: unknown backend 'gloo'; gradwalk.distributed runs on MPI...
    """
    launch = ("start the processes with an MPI launcher (python -m gradwalk.distributed.run -n 4 "
              "script.py, or mpirun -n 4 python script.py)")
    if backend is not None and str(backend).lower() not in _BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; gradwalk.distributed "
                         f"runs on MPI: use backend='mpi' (or None) and {launch}")
    if init_method not in (None, "env://"):
        raise ValueError(
            f"init_process_group: init_method={init_method!r} is not supported with the MPI "
            "backend: the MPI launcher does the rendezvous, so pass no init_method (or 'env://')")
    if store is not None:
        raise ValueError("init_process_group: store= is not used by the MPI backend (the MPI "
                         "launcher does the rendezvous); pass no store")
    if _State.world is not None:
        raise RuntimeError("trying to initialize the default process group twice; call "
                           "destroy_process_group() first")
    want_size = world_size if world_size != -1 else _env_int("WORLD_SIZE")
    want_rank = rank if rank != -1 else _env_int("RANK")
    if not _launched():
        if want_size is None or want_rank is None:
            raise RuntimeError(
                "init_process_group: this process was not started by an MPI launcher, so it "
                f"has no rank and world size. To train on N processes, {launch}. To run alone, "
                "pass world_size=1, rank=0 (or set WORLD_SIZE=1 RANK=0)")
        if want_size != 1:
            raise RuntimeError(
                f"init_process_group: world_size={want_size} was asked for, but this process "
                f"was not started by an MPI launcher, so it is alone; {launch}")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    comm.Set_errhandler(MPI.ERRORS_RETURN)
    size, me = comm.Get_size(), comm.Get_rank()
    local = _env_int("LOCAL_RANK")
    problems = []
    if want_size is not None and want_size != size:
        problems.append(f"world_size={want_size} but the MPI launcher started {size} processes")
    if want_rank is not None and want_rank != me:
        problems.append(f"rank={want_rank} but MPI gave this process rank {me}")
    if local is not None:
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)
        mine = node.Get_rank()
        node.Free()
        if local != mine:
            problems.append(f"LOCAL_RANK={local} but this is process {mine} on its machine")
    if problems:
        comm.Free()
        raise RuntimeError("init_process_group: " + "; ".join(problems) + ". Leave rank and "
                           "world_size unset (and unset RANK/WORLD_SIZE/LOCAL_RANK) to take "
                           "them from the MPI launcher")
    _State.world = ProcessGroup(comm, list(range(size)))
    _State.groups = [_State.world]
    GroupMember.WORLD = _State.world
    _State.timeout = timeout if timeout is not None else timedelta(minutes=30)
    _install_abort_hooks()


def _install_abort_hooks() -> None:
    """Note [failing fast instead of hanging]: an uncaught exception on one rank aborts the job."""
    if _State.old_hooks is not None:
        return
    old_sys, old_thread = sys.excepthook, threading.excepthook

    def abort(exc_type, exc, tb, where: str = "") -> None:
        world = _State.world
        if world is None or world.size() == 1 or issubclass(exc_type, KeyboardInterrupt):
            return
        size = world.size()
        me = _mpi().COMM_WORLD.Get_rank()
        lines = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(f"[rank {me}] {lines}")
        sys.stderr.write(f"gradwalk.distributed: rank {me} of {size} raised {exc_type.__name__}"
                         f"{where}: {exc}; aborting all {size} ranks\n")
        sys.stderr.flush()
        sys.stdout.flush()
        # give the launcher's output forwarding a moment: Abort kills every rank at once, and a
        # message still in the pipe to mpiexec would be lost (seen on a loaded machine)
        time.sleep(1.0)
        _mpi().COMM_WORLD.Abort(1)
        os._exit(1)  # Abort does not return; never fall through to a hang

    def sys_hook(exc_type, exc, tb) -> None:
        if _State.world is None or _State.world.size() == 1:
            old_sys(exc_type, exc, tb)
            return
        abort(exc_type, exc, tb)
        old_sys(exc_type, exc, tb)  # KeyboardInterrupt: Python's own report

    def thread_hook(args) -> None:
        if args.exc_type is not SystemExit:
            abort(args.exc_type, args.exc_value, args.exc_traceback,
                  f" in thread {getattr(args.thread, 'name', '?')}")
        old_thread(args)

    sys.excepthook, threading.excepthook = sys_hook, thread_hook
    _State.old_hooks = (old_sys, old_thread)


def _restore_hooks() -> None:
    if _State.old_hooks is not None:
        sys.excepthook, threading.excepthook = _State.old_hooks
        _State.old_hooks = None


def is_initialized() -> bool:
    """Whether ``init_process_group`` was called (and not undone).

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.is_initialized()
        False
    """
    return _State.world is not None


def _world(what: str) -> ProcessGroup:
    if _State.world is None:
        raise DistributedError(
            f"{what}: the default process group has not been initialized; call "
            "gradwalk.distributed.init_process_group('mpi') first, in a process started by an "
            "MPI launcher")
    return _State.world


def _group(group: ProcessGroup | None, what: str) -> ProcessGroup | None:
    """The group to use (``None`` means the world); ``None`` back when this rank is outside it."""
    world = _world(what)
    if group is None or group is world:
        return world
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{what}: group must be a ProcessGroup from new_group() or None, not "
                        f"{type(group).__name__}")
    return group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the world); -1 outside the group.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> dist.get_rank()
        0
        >>> dist.destroy_process_group()
    """
    pg = _group(group, "get_rank")
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of ranks in ``group`` (default: the world); -1 outside the group.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> dist.get_world_size()
        1
        >>> dist.destroy_process_group()
    """
    pg = _group(group, "get_world_size")
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """``"mpi"``, the only backend.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> dist.get_backend()
        'mpi'
        >>> dist.destroy_process_group()
    """
    _group(group, "get_backend")
    return "mpi"


def new_group(ranks: list[int] | None = None, timeout: timedelta | None = None,
              backend: str | None = None, pg_options: Any = None,
              use_local_synchronization: bool = False) -> Any:
    """A process group of the given global ranks (default: all). Every rank of the world must
    call it, with the same ``ranks``, as in PyTorch; ranks outside get
    ``GroupMember.NON_GROUP_MEMBER``.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> dist.new_group([0, 3])
        Traceback (most recent call last):
        ...
        ValueError: new_group: ranks must be distinct ranks of the world (0..0), got [0, 3]
        >>> dist.destroy_process_group()
    """
    world = _world("new_group")
    if backend is not None and str(backend).lower() not in _BACKENDS:
        raise ValueError(f"new_group: unknown backend {backend!r}; only 'mpi' is supported")
    n = world.size()
    ranks = list(range(n)) if ranks is None else [int(r) for r in ranks]
    if len(set(ranks)) != len(ranks) or any(not 0 <= r < n for r in ranks):
        raise ValueError(f"new_group: ranks must be distinct ranks of the world (0..{n - 1}), "
                         f"got {ranks}")
    ranks = sorted(ranks)
    from .collectives import _check_same

    _check_same(world, [len(ranks), *ranks], "new_group", "the ranks list")
    MPI = _mpi()
    me = world.rank()
    color = 0 if me in ranks else MPI.UNDEFINED
    comm = world.comm.Split(color, ranks.index(me) if me in ranks else 0)
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    comm.Set_errhandler(MPI.ERRORS_RETURN)
    pg = ProcessGroup(comm, ranks)
    _State.groups.append(pg)
    return pg


def barrier(group: ProcessGroup | None = None, async_op: bool = False,
            device_ids: Any = None) -> Any:
    """Wait until every rank of ``group`` reaches this call.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> dist.barrier()
        >>> dist.destroy_process_group()
    """
    from .collectives import Work

    pg = _group(group, "barrier")
    if pg is None:
        return None
    if async_op:
        return Work(pg.comm.Ibarrier(), "barrier")
    pg.comm.Barrier()
    return None


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free ``group``, or (default) every group and the default one. MPI itself stays
    initialized (it cannot start twice in one process), so ``init_process_group`` may be called
    again.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> dist.destroy_process_group()
        >>> dist.is_initialized()
        False
    """
    if group is None or group is _State.world:
        for pg in _State.groups:
            try:
                pg.comm.Free()
            except Exception:
                pass
        _State.world, _State.groups = None, []
        GroupMember.WORLD = None
        _restore_hooks()
        return
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    if group in _State.groups:
        _State.groups.remove(group)
        group.comm.Free()
