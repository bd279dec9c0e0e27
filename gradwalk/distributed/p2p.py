"""Point to point: ``send``, ``recv``, ``isend``, ``irecv`` (torch.distributed's names).

Example:
    >>> import gradwalk, gradwalk.distributed as dist
    >>> dist.init_process_group("mpi", world_size=1, rank=0)
    >>> w = dist.isend(gradwalk.tensor([2.0]), dst=0)
    >>> out = gradwalk.zeros(1)
    >>> dist.recv(out, src=0), out
    (0, tensor([2.]))
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .collectives import Work, _array, _desc, _root, _run, _store, _tensor
from .process_group import DistributedError, ProcessGroup, _group, _mpi


def isend(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> Work:
    """Start sending ``tensor`` to rank ``dst``; returns a ``Work``.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> w = dist.isend(gradwalk.tensor([1.0]), dst=0)
        >>> t = gradwalk.zeros(1)
        >>> dist.recv(t, src=0)
        0
        >>> _ = w.wait()
        >>> t
        tensor([1.])
        >>> dist.destroy_process_group()
    """
    what = "send"
    pg = _group(group, what)
    if pg is None:
        raise DistributedError(f"{what}: this rank is not in the group")
    buf = _array(_tensor(tensor, what)).copy()
    peer = _root(pg, dst, what, "dst")
    return _run(what, lambda: pg.comm.Isend(buf, dest=peer, tag=tag), None, True, buf)


def send(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst`` (which calls ``recv``); blocks until the buffer may be
    reused.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> w = dist.irecv(out := gradwalk.zeros(2), src=0)
        >>> dist.send(gradwalk.tensor([3.0, 4.0]), dst=0)
        >>> _ = w.wait()
        >>> out
        tensor([3., 4.])
        >>> dist.destroy_process_group()
    """
    isend(tensor, dst, group, tag).wait()


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0) -> Work:
    """Start receiving into ``tensor`` from rank ``src`` (any rank when ``None``); returns a
    ``Work``. The incoming message is not size-checked (``recv`` checks it).

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> w = dist.irecv(out := gradwalk.zeros(1), src=0)
        >>> dist.send(gradwalk.tensor([5.0]), dst=0)
        >>> w.wait()
        True
        >>> dist.destroy_process_group()
    """
    what = "recv"
    pg = _group(group, what)
    if pg is None:
        raise DistributedError(f"{what}: this rank is not in the group")
    tensor = _tensor(tensor, what)
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else _root(pg, src, what, "src")
    buf = np.empty_like(_array(tensor))
    return _run(what, lambda: pg.comm.Irecv(buf, source=peer, tag=tag),
                lambda: _store(tensor, buf), True, buf, [tensor])


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when ``None``); returns the sender's
    rank. A message of another size than ``tensor`` raises ``DistributedError``.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> _ = dist.isend(gradwalk.tensor([1, 2]), dst=0)
        >>> dist.recv(gradwalk.zeros(3, dtype=gradwalk.int64), src=0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gradwalk.distributed.process_group.DistributedError: recv: rank 0 sent 16 bytes, but...
        >>> dist.destroy_process_group()
    """
    what = "recv"
    pg = _group(group, what)
    if pg is None:
        raise DistributedError(f"{what}: this rank is not in the group")
    tensor = _tensor(tensor, what)
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else _root(pg, src, what, "src")
    buf = np.empty_like(_array(tensor))
    status = MPI.Status()
    pg.comm.Probe(source=peer, tag=tag, status=status)
    got, sender = status.Get_count(MPI.BYTE), status.Get_source()
    if got != buf.nbytes:
        junk = np.empty(got, dtype=np.uint8)  # take the message off the wire, then refuse it
        pg.comm.Recv(junk, source=sender, tag=tag)
        raise DistributedError(
            f"{what}: rank {pg.ranks[sender]} sent {got} bytes, but the tensor ({_desc(buf)}) "
            f"holds {buf.nbytes}; send and recv must use tensors of the same shape and dtype")
    pg.comm.Recv(buf, source=sender, tag=tag)
    _store(tensor, buf)
    return pg.ranks[sender]
