"""Tensor collectives on MPI with torch.distributed's names: ``all_reduce``, ``broadcast``,
``reduce``, ``all_gather``, ``all_gather_into_tensor``, ``reduce_scatter``,
``reduce_scatter_tensor``, ``gather``, ``scatter``, ``all_to_all``; ``async_op=True`` gives a
``Work`` handle (point to point: ``p2p.py``).

Each call hands MPI the tensors' NumPy buffers (no serialization); results are written back
into the output tensors with ``copy_`` under ``no_grad``, so views and version counters stay
right.

Note [collective signatures]
    MPI trusts every rank to pass matching buffers: different element counts corrupt memory
    or hang, and different shapes with equal counts silently mix data. So before each
    collective the ranks compare a 63-bit hash of what they pass (dtype, shape, op, root) in
    one small all-reduce (max of ``h`` and of ``-h``: they agree iff max == min). On a mismatch
    every rank gathers all the descriptions and raises the same ``DistributedError`` naming
    them, so no rank is left waiting. ``recv`` (``p2p.py``) probes the incoming message and
    compares its size. The check costs one 16-byte all-reduce per call; ``DistributedDataParallel``
    checks its bucket layout once at wrap time and skips it per step.

Example:
    >>> import gradwalk, gradwalk.distributed as dist
    >>> dist.init_process_group("mpi", world_size=1, rank=0)
    >>> t = gradwalk.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import enum
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import from_numpy
from ..tensor import Tensor
from .process_group import DistributedError, ProcessGroup, _group, _mpi


class ReduceOp(enum.Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter`` combine the ranks' tensors.
    ``AVG`` is the sum divided by the group size (floating-point tensors only).

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.ReduceOp.SUM
        <ReduceOp.SUM: 'sum'>
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


def _mpi_op(op: Any, what: str, arr: np.ndarray) -> Any:
    MPI = _mpi()
    if isinstance(op, str):
        try:
            op = ReduceOp[op.upper()]
        except KeyError:
            pass
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{what}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX, BAND, "
                         f"BOR, BXOR), got {op!r}")
    kind = arr.dtype.kind
    if op is ReduceOp.AVG and kind not in "fc":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor (the average of "
                        f"integers would be truncated), got {arr.dtype}; use ReduceOp.SUM and "
                        "divide")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "biu":
        raise TypeError(f"{what}: ReduceOp.{op.name} needs an integer or bool tensor, got "
                        f"{arr.dtype}")
    if op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise TypeError(f"{what}: ReduceOp.{op.name} is undefined for complex tensors")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


class Work:
    """The handle of an ``async_op=True`` collective: ``wait()`` blocks until it is done (and
    the outputs are written); ``is_completed()`` polls.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> t = gradwalk.ones(3)
        >>> work = dist.all_reduce(t, async_op=True)
        >>> work.wait()
        True
        >>> work.is_completed()
        True
        >>> dist.destroy_process_group()
    """

    def __init__(self, request: Any, what: str, finish: Callable[[], None] | None = None,
                 keep: Any = None, outputs: list[Tensor] | None = None) -> None:
        self._requests = request if isinstance(request, list) else [request]
        self._what = what
        self._finish = finish
        self._keep = keep  # buffers MPI reads or writes until completion
        self._outputs = outputs or []
        self._done = False

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            self._keep = None
            if self._finish is not None:
                self._finish()

    def is_completed(self) -> bool:
        """Whether the operation has finished (completing it if MPI has)."""
        if self._done:
            return True
        MPI = _mpi()
        try:
            done = MPI.Request.Testall(self._requests)
        except MPI.Exception as e:
            raise DistributedError(f"{self._what} failed in MPI: {e}") from e
        if done:
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        """Block until done; ``timeout`` (seconds or a ``timedelta``) raises ``DistributedError``
        when it passes first. Returns ``True``."""
        if self._done:
            return True
        MPI = _mpi()
        if timeout is None:
            try:
                MPI.Request.Waitall(self._requests)
            except MPI.Exception as e:
                raise DistributedError(f"{self._what} failed in MPI: {e}") from e
            self._complete()
            return True
        seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
        deadline, pause = time.monotonic() + float(seconds), 1e-5
        while not self.is_completed():
            if time.monotonic() > deadline:
                raise DistributedError(
                    f"{self._what} did not finish within {seconds} s: another rank has not "
                    "joined the collective (it may have failed, or run different collectives)")
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)
        return True

    def result(self) -> list[Tensor]:
        """The output tensors (after ``wait()``)."""
        return list(self._outputs)

    def __repr__(self) -> str:
        return f"Work({self._what}, completed={self._done})"


# ------------------------------------------------------------------ helpers
def _tensor(t: Any, what: str, name: str = "tensor") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {name} must be a gradwalk Tensor, got {type(t).__name__}")
    return t


def _array(t: Tensor) -> np.ndarray:
    """A C-contiguous NumPy array with the tensor's values (the tensor's own memory when it is
    contiguous: MPI only reads it)."""
    a = t.detach().numpy()
    return a if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(a.shape)


def _store(t: Tensor, arr: np.ndarray) -> None:
    with no_grad():
        t.copy_(from_numpy(np.ascontiguousarray(arr).reshape(tuple(t.shape))))


def _desc(t: Tensor | np.ndarray) -> str:
    a = t if isinstance(t, np.ndarray) else t.detach().numpy()
    return f"{a.dtype} {list(a.shape)}"


def _hash(values: Sequence[Any]) -> int:
    digest = hashlib.blake2b(repr(tuple(values)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # 63 bits: -h is an int64 too


def _allgather_json(pg: ProcessGroup, obj: Any) -> list[Any]:
    """Every rank's JSON-able ``obj``, in group rank order (for error reports and objects)."""
    data = np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)
    sizes = np.zeros(pg.size(), dtype=np.int64)
    pg.comm.Allgather(np.array([data.size], dtype=np.int64), sizes)
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    displs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    pg.comm.Allgatherv(data, [out, (sizes, displs)])
    return [json.loads(out[d:d + s].tobytes()) for d, s in zip(displs, sizes)]


def _check_same(pg: ProcessGroup, values: Sequence[Any], what: str, describe: str) -> None:
    """Note [collective signatures]: raise on every rank unless all pass the same ``values``."""
    if pg.size() == 1:
        return
    MPI = _mpi()
    h = _hash(values)
    buf = np.array([h, -h], dtype=np.int64)
    pg.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.MAX)
    if buf[0] == -buf[1]:
        return
    seen = _allgather_json(pg, str(describe))
    listing = "; ".join(f"rank {pg.ranks[i]}: {d}" for i, d in enumerate(seen))
    raise DistributedError(f"{what}: the ranks passed different arguments ({listing}); every "
                           "rank must call the same collective with tensors of the same shape "
                           "and dtype")


def _run(what: str, start: Callable[[], Any], finish: Callable[[], None] | None,
         async_op: bool, keep: Any = None, outputs: list[Tensor] | None = None) -> Work | None:
    MPI = _mpi()
    try:
        request = start()
    except MPI.Exception as e:
        raise DistributedError(f"{what} failed in MPI: {e}") from e
    work = Work(request, what, finish, keep, outputs)
    if async_op:
        return work
    work.wait()
    return None


def _root(pg: ProcessGroup, rank: int, what: str, name: str) -> int:
    return pg.group_rank(rank, f"{what}: {name}")


def _avg(op: Any) -> bool:
    return op is ReduceOp.AVG or (isinstance(op, str) and op.upper() == "AVG")


def _op_key(op: Any) -> str:
    return op.name if isinstance(op, ReduceOp) else str(op).upper()


# ------------------------------------------------------------------ collectives
def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across the ranks with ``op``; every rank gets the result in place.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> t = gradwalk.tensor([2.0, 4.0])
        >>> dist.all_reduce(t, op=dist.ReduceOp.AVG)
        >>> t
        tensor([2., 4.])
        >>> dist.destroy_process_group()
    """
    what = "all_reduce"
    pg = _group(group, what)
    if pg is None:
        return None
    tensor = _tensor(tensor, what)
    send = _array(tensor)
    mop = _mpi_op(op, what, send)
    _check_same(pg, ("all_reduce", send.dtype.str, send.shape, _op_key(op)), what,
                f"{_desc(send)}, op {_op_key(op)}")
    recv = np.empty_like(send)
    n = pg.size()

    def finish() -> None:
        _store(tensor, recv / n if _avg(op) else recv)

    return _run(what, lambda: pg.comm.Iallreduce(send, recv, op=mop), finish, async_op,
                (send, recv), [tensor])


def broadcast(tensor: Tensor, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> t = gradwalk.tensor([1, 2])
        >>> dist.broadcast(t, src=0)
        >>> t
        tensor([1, 2])
        >>> dist.destroy_process_group()
    """
    what = "broadcast"
    pg = _group(group, what)
    if pg is None:
        return None
    tensor = _tensor(tensor, what)
    root = _root(pg, src, what, "src")
    buf = _array(tensor).copy()
    _check_same(pg, ("broadcast", buf.dtype.str, buf.shape, src), what,
                f"{_desc(buf)}, src {src}")
    mine = pg.rank() == root
    return _run(what, lambda: pg.comm.Ibcast(buf, root=root),
                None if mine else (lambda: _store(tensor, buf)), async_op, buf, [tensor])


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across the ranks with ``op`` into ``tensor`` on rank ``dst`` (the
    others' tensors are left as they were).

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> t = gradwalk.tensor([3.0])
        >>> dist.reduce(t, dst=0, op=dist.ReduceOp.MAX)
        >>> t
        tensor([3.])
        >>> dist.destroy_process_group()
    """
    what = "reduce"
    pg = _group(group, what)
    if pg is None:
        return None
    tensor = _tensor(tensor, what)
    root = _root(pg, dst, what, "dst")
    send = _array(tensor)
    mop = _mpi_op(op, what, send)
    _check_same(pg, ("reduce", send.dtype.str, send.shape, dst, _op_key(op)), what,
                f"{_desc(send)}, dst {dst}, op {_op_key(op)}")
    recv = np.empty_like(send)
    n, mine = pg.size(), pg.rank() == root

    def finish() -> None:
        if mine:
            _store(tensor, recv / n if _avg(op) else recv)

    return _run(what, lambda: pg.comm.Ireduce(send, recv, op=mop, root=root), finish, async_op,
                (send, recv), [tensor])


def _same_shapes(tensors: Sequence[Any], like: Tensor, what: str, name: str, n: int) -> None:
    if not isinstance(tensors, list | tuple) or len(tensors) != n:
        length = len(tensors) if hasattr(tensors, "__len__") else "?"
        raise ValueError(f"{what}: {name} must be a list of {n} tensors (one per rank), got "
                         f"{type(tensors).__name__} of length {length}")
    for i, t in enumerate(tensors):
        _tensor(t, what, f"{name}[{i}]")
        if tuple(t.shape) != tuple(like.shape) or t.dtype != like.dtype:
            raise ValueError(f"{what}: {name}[{i}] is {_desc(t)}, but the tensor is "
                             f"{_desc(like)}; they must match")


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Every rank's ``tensor``, into ``tensor_list`` (one per rank, in rank order).

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = [gradwalk.zeros(2)]
        >>> dist.all_gather(out, gradwalk.tensor([5.0, 6.0]))
        >>> out
        [tensor([5., 6.])]
        >>> dist.destroy_process_group()
    """
    what = "all_gather"
    pg = _group(group, what)
    if pg is None:
        return None
    tensor = _tensor(tensor, what)
    n = pg.size()
    _same_shapes(tensor_list, tensor, what, "tensor_list", n)
    send = _array(tensor)
    _check_same(pg, ("all_gather", send.dtype.str, send.shape), what, _desc(send))
    recv = np.empty((n, *send.shape), dtype=send.dtype)

    def finish() -> None:
        for i, t in enumerate(tensor_list):
            _store(t, recv[i])

    return _run(what, lambda: pg.comm.Iallgather(send, recv), finish, async_op, (send, recv),
                list(tensor_list))


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """Every rank's ``input_tensor`` concatenated along dim 0 (or stacked, when
    ``output_tensor`` has one more dim) into ``output_tensor``.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = gradwalk.zeros(2)
        >>> dist.all_gather_into_tensor(out, gradwalk.tensor([1.0, 2.0]))
        >>> out
        tensor([1., 2.])
        >>> dist.destroy_process_group()
    """
    what = "all_gather_into_tensor"
    pg = _group(group, what)
    if pg is None:
        return None
    inp, out = _tensor(input_tensor, what, "input_tensor"), _tensor(output_tensor, what,
                                                                    "output_tensor")
    n = pg.size()
    ishape, oshape = tuple(inp.shape), tuple(out.shape)
    cat = ishape and oshape == (n * ishape[0], *ishape[1:])
    if not (cat or oshape == (n, *ishape)) or out.dtype != inp.dtype:
        raise ValueError(f"{what}: output_tensor is {_desc(out)}, but with {n} ranks and an "
                         f"input of {_desc(inp)} it must be {inp.dtype} "
                         f"{[n * ishape[0], *ishape[1:]] if ishape else [n]}")
    send = _array(inp)
    _check_same(pg, (what, send.dtype.str, send.shape), what, _desc(send))
    recv = np.empty((n, *send.shape), dtype=send.dtype)
    return _run(what, lambda: pg.comm.Iallgather(send, recv), lambda: _store(out, recv),
                async_op, (send, recv), [out])


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Reduce ``input_list[i]`` across the ranks with ``op`` into ``output`` on rank ``i``.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = gradwalk.zeros(2)
        >>> dist.reduce_scatter(out, [gradwalk.tensor([1.0, 2.0])])
        >>> out
        tensor([1., 2.])
        >>> dist.destroy_process_group()
    """
    what = "reduce_scatter"
    pg = _group(group, what)
    if pg is None:
        return None
    output = _tensor(output, what, "output")
    n = pg.size()
    _same_shapes(input_list, output, what, "input_list", n)
    send = np.ascontiguousarray(np.stack([_array(t) for t in input_list]))
    return _reduce_scatter(pg, what, output, send, op, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None,
                          async_op: bool = False) -> Work | None:
    """Reduce ``input`` across the ranks with ``op`` and give rank ``i`` the ``i``-th of the
    ``N`` equal dim-0 chunks, in ``output``.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = gradwalk.zeros(3)
        >>> dist.reduce_scatter_tensor(out, gradwalk.tensor([1.0, 2.0, 3.0]))
        >>> out
        tensor([1., 2., 3.])
        >>> dist.destroy_process_group()
    """
    what = "reduce_scatter_tensor"
    pg = _group(group, what)
    if pg is None:
        return None
    output, input = _tensor(output, what, "output"), _tensor(input, what, "input")
    n = pg.size()
    oshape, ishape = tuple(output.shape), tuple(input.shape)
    if not ((oshape and ishape == (n * oshape[0], *oshape[1:])) or ishape == (n, *oshape)) \
            or output.dtype != input.dtype:
        raise ValueError(f"{what}: input is {_desc(input)}, but with {n} ranks and an output "
                         f"of {_desc(output)} it must be {output.dtype} "
                         f"{[n * oshape[0], *oshape[1:]] if oshape else [n]}")
    send = _array(input).reshape((n, *oshape))
    return _reduce_scatter(pg, what, output, send, op, async_op)


def _reduce_scatter(pg: ProcessGroup, what: str, output: Tensor, send: np.ndarray, op: Any,
                    async_op: bool) -> Work | None:
    mop = _mpi_op(op, what, send)
    _check_same(pg, (what, send.dtype.str, send.shape, _op_key(op)), what,
                f"{_desc(send[0])} per rank, op {_op_key(op)}")
    recv = np.empty(send.shape[1:], dtype=send.dtype)
    n = pg.size()

    def finish() -> None:
        _store(output, recv / n if _avg(op) else recv)

    return _run(what, lambda: pg.comm.Ireduce_scatter_block(send, recv, op=mop), finish,
                async_op, (send, recv), [output])


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int = 0,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (``None`` elsewhere).

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = [gradwalk.zeros(1)]
        >>> dist.gather(gradwalk.tensor([7.0]), out, dst=0)
        >>> out
        [tensor([7.])]
        >>> dist.destroy_process_group()
    """
    what = "gather"
    pg = _group(group, what)
    if pg is None:
        return None
    tensor = _tensor(tensor, what)
    root = _root(pg, dst, what, "dst")
    n, mine = pg.size(), pg.rank() == root
    if mine:
        _same_shapes(gather_list, tensor, what, "gather_list", n)
    elif gather_list is not None:
        raise ValueError(f"{what}: gather_list must be None on ranks other than dst={dst}")
    send = _array(tensor)
    _check_same(pg, (what, send.dtype.str, send.shape, dst), what, f"{_desc(send)}, dst {dst}")
    recv = np.empty((n, *send.shape), dtype=send.dtype) if mine else None

    def finish() -> None:
        if mine:
            for i, t in enumerate(gather_list):
                _store(t, recv[i])

    return _run(what, lambda: pg.comm.Igather(send, recv, root=root), finish, async_op,
                (send, recv), list(gather_list or []))


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int = 0,
            group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``scatter_list[i]`` of rank ``src`` into ``tensor`` on rank ``i``.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> t = gradwalk.zeros(2)
        >>> dist.scatter(t, [gradwalk.tensor([1.0, 9.0])], src=0)
        >>> t
        tensor([1., 9.])
        >>> dist.destroy_process_group()
    """
    what = "scatter"
    pg = _group(group, what)
    if pg is None:
        return None
    tensor = _tensor(tensor, what)
    root = _root(pg, src, what, "src")
    n, mine = pg.size(), pg.rank() == root
    if mine:
        _same_shapes(scatter_list, tensor, what, "scatter_list", n)
        send = np.ascontiguousarray(np.stack([_array(t) for t in scatter_list]))
    elif scatter_list is not None:
        raise ValueError(f"{what}: scatter_list must be None on ranks other than src={src}")
    else:
        send = None
    like = _array(tensor)
    _check_same(pg, (what, like.dtype.str, like.shape, src), what, f"{_desc(like)}, src {src}")
    recv = np.empty_like(like)
    return _run(what, lambda: pg.comm.Iscatter(send, recv, root=root),
                lambda: _store(tensor, recv), async_op, (send, recv), [tensor])


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor],
               group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Rank ``i`` sends ``input_tensor_list[j]`` to rank ``j``, which receives it in its
    ``output_tensor_list[i]`` (sizes may differ between pairs).

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = [gradwalk.zeros(3)]
        >>> dist.all_to_all(out, [gradwalk.tensor([1.0, 2.0, 3.0])])
        >>> out
        [tensor([1., 2., 3.])]
        >>> dist.destroy_process_group()
    """
    what = "all_to_all"
    pg = _group(group, what)
    if pg is None:
        return None
    n = pg.size()
    for name, lst in (("output_tensor_list", output_tensor_list),
                      ("input_tensor_list", input_tensor_list)):
        if not isinstance(lst, list | tuple) or len(lst) != n:
            raise ValueError(f"{what}: {name} must be a list of {n} tensors (one per rank)")
        for i, t in enumerate(lst):
            _tensor(t, what, f"{name}[{i}]")
    ins = [_array(t) for t in input_tensor_list]
    dtypes = {a.dtype for a in ins} | {t.detach().numpy().dtype for t in output_tensor_list}
    if len(dtypes) != 1:
        raise ValueError(f"{what}: all input and output tensors must have one dtype, got "
                         f"{sorted(str(d) for d in dtypes)}")
    dtype = dtypes.pop()
    _check_same(pg, (what, dtype.str), what, str(dtype))
    if n > 1:  # Note [collective signatures]: what j sends me must fit my output slot j
        MPI = _mpi()
        sent = np.array([_hash(a.shape) for a in ins], dtype=np.int64)
        got = np.empty(n, dtype=np.int64)
        pg.comm.Alltoall(sent, got)
        want = [_hash(tuple(t.shape)) for t in output_tensor_list]
        bad = [j for j in range(n) if got[j] != want[j]]
        flag = np.array([1 if bad else 0], dtype=np.int64)
        pg.comm.Allreduce(MPI.IN_PLACE, flag, op=MPI.MAX)
        if flag[0]:
            shapes = _allgather_json(pg, {"in": [list(a.shape) for a in ins],
                                          "out": [list(t.shape) for t in output_tensor_list]})
            raise DistributedError(
                f"{what}: input_tensor_list[j] on rank i must have the shape of "
                f"output_tensor_list[i] on rank j; the ranks passed {shapes}")
    counts = np.array([a.size for a in ins], dtype=np.int64)
    rcounts = np.array([int(np.prod(t.shape)) for t in output_tensor_list], dtype=np.int64)
    send = np.concatenate([a.ravel() for a in ins]) if ins else np.empty(0, dtype)
    recv = np.empty(int(rcounts.sum()), dtype=dtype)
    sd = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    rd = np.concatenate([[0], np.cumsum(rcounts)[:-1]]).astype(np.int64)

    def finish() -> None:
        for t, d, c in zip(output_tensor_list, rd, rcounts):
            _store(t, recv[d:d + c])

    return _run(what, lambda: pg.comm.Ialltoallv([send, (counts, sd)], [recv, (rcounts, rd)]),
                finish, async_op, (send, recv), list(output_tensor_list))
