"""Object collectives: ``broadcast_object_list``, ``all_gather_object``, ``gather_object``.

Note [no unpickling of other ranks' data]
    PyTorch pickles objects for these calls, so any rank (or anyone who can speak the wire
    protocol) can run code in every other. Here objects travel as JSON by default: numbers,
    strings, booleans, None, lists and dicts with string keys (tuples arrive as lists, as in
    ``json``). ``allow_pickle=True`` (every rank must pass it) uses ``pickle`` instead, for
    peers you trust. A payload says which it is; a pickled one reaching a rank that did not
    allow pickle is refused, never loaded. An object that cannot be encoded makes every rank
    raise (the sizes exchanged first carry the failure), so nobody is left waiting.

Example:
    >>> import gradwalk.distributed as dist
    >>> dist.init_process_group("mpi", world_size=1, rank=0)
    >>> out = [None]
    >>> dist.all_gather_object(out, {"loss": 0.5})
    >>> out
    [{'loss': 0.5}]
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np

from .process_group import DistributedError, ProcessGroup, _group

_JSON, _PICKLE = b"J", b"P"


def _encode(obj: Any, allow_pickle: bool) -> tuple[bytes | None, str]:
    if allow_pickle:
        try:
            return _PICKLE + pickle.dumps(obj), ""
        except Exception as e:
            return None, f"{type(e).__name__}: {e}"
    try:
        return _JSON + json.dumps(obj, allow_nan=True).encode(), ""
    except (TypeError, ValueError) as e:
        return None, f"{type(e).__name__}: {e}"


def _decode(data: bytes, allow_pickle: bool, sender: int, what: str) -> Any:
    kind, body = data[:1], data[1:]
    if kind == _JSON:
        return json.loads(body)
    if kind == _PICKLE:
        if not allow_pickle:
            raise DistributedError(
                f"{what}: rank {sender} sent a pickled object, which is not loaded unless "
                "this rank passes allow_pickle=True (pickle can run code; allow it only for "
                "peers you trust)")
        return pickle.loads(body)
    raise DistributedError(f"{what}: rank {sender} sent an unknown payload")


def _fail(what: str, bad: list[int], why: str) -> DistributedError:
    return DistributedError(
        f"{what}: rank(s) {bad} could not encode their object{(' (' + why + ')') if why else ''}"
        "; objects travel as JSON (numbers, strings, bools, None, lists, dicts with string "
        "keys): convert them, or pass allow_pickle=True on every rank if all peers are trusted")


def _exchange(pg: ProcessGroup, obj: Any, allow_pickle: bool, what: str,
              root: int | None) -> list[Any] | None:
    """All ranks' objects (``root=None``), or only to rank ``root`` (others get ``None``)."""
    payload, why = _encode(obj, allow_pickle)
    n = pg.size()
    size = np.array([-1 if payload is None else len(payload)], dtype=np.int64)
    sizes = np.empty(n, dtype=np.int64)
    pg.comm.Allgather(size, sizes)
    bad = [pg.ranks[i] for i in range(n) if sizes[i] < 0]
    if bad:
        raise _fail(what, bad, why if payload is None else "")
    data = np.frombuffer(payload, dtype=np.uint8)
    displs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    mine = root is None or pg.rank() == root
    out = np.empty(int(sizes.sum()) if mine else 0, dtype=np.uint8)
    if root is None:
        pg.comm.Allgatherv(data, [out, (sizes, displs)])
    else:
        pg.comm.Gatherv(data, [out, (sizes, displs)] if mine else None, root=root)
    if not mine:
        return None
    return [_decode(out[d:d + s].tobytes(), allow_pickle, pg.ranks[i], what)
            for i, (d, s) in enumerate(zip(displs, sizes))]


def all_gather_object(object_list: list[Any], obj: Any, group: ProcessGroup | None = None, *,
                      allow_pickle: bool = False) -> None:
    """Every rank's ``obj`` into ``object_list`` (of length world size), in rank order.

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = [None]
        >>> dist.all_gather_object(out, object())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gradwalk.distributed.process_group.DistributedError: all_gather_object: rank(s) [0]...
        >>> dist.destroy_process_group()
    """
    what = "all_gather_object"
    pg = _group(group, what)
    if pg is None:
        return
    if not isinstance(object_list, list) or len(object_list) != pg.size():
        raise ValueError(f"{what}: object_list must be a list of length {pg.size()} (the "
                         "group size)")
    object_list[:] = _exchange(pg, obj, allow_pickle, what, None)


def gather_object(obj: Any, object_gather_list: list[Any] | None = None, dst: int = 0,
                  group: ProcessGroup | None = None, *, allow_pickle: bool = False) -> None:
    """Every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (``None`` elsewhere).

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> out = [None]
        >>> dist.gather_object([1, "a"], out, dst=0)
        >>> out
        [[1, 'a']]
        >>> dist.destroy_process_group()
    """
    what = "gather_object"
    pg = _group(group, what)
    if pg is None:
        return
    root = pg.group_rank(dst, f"{what}: dst")
    if pg.rank() == root and (not isinstance(object_gather_list, list)
                              or len(object_gather_list) != pg.size()):
        raise ValueError(f"{what}: object_gather_list must be a list of length {pg.size()} on "
                         f"dst={dst}")
    got = _exchange(pg, obj, allow_pickle, what, root)
    if got is not None:
        object_gather_list[:] = got


def broadcast_object_list(object_list: list[Any], src: int = 0,
                          group: ProcessGroup | None = None, device: Any = None, *,
                          allow_pickle: bool = False) -> None:
    """Replace ``object_list``'s items on every rank by those of rank ``src`` (the lists must
    have the same length everywhere).

    Example:
        >>> import gradwalk.distributed as dist
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> objs = [{"epoch": 3}, "ready"]
        >>> dist.broadcast_object_list(objs, src=0)
        >>> objs
        [{'epoch': 3}, 'ready']
        >>> dist.destroy_process_group()
    """
    what = "broadcast_object_list"
    pg = _group(group, what)
    if pg is None:
        return
    if not isinstance(object_list, list):
        raise TypeError(f"{what}: object_list must be a list, got {type(object_list).__name__}")
    root = pg.group_rank(src, f"{what}: src")
    mine = pg.rank() == root
    payload, why = _encode(list(object_list), allow_pickle) if mine else (b"", "")
    head = np.array([-1 if payload is None else len(payload), len(object_list)], dtype=np.int64)
    pg.comm.Bcast(head, root=root)
    if head[0] < 0:
        raise _fail(what, [pg.ranks[root]], why)
    buf = np.frombuffer(payload, dtype=np.uint8).copy() if mine else np.empty(int(head[0]),
                                                                               np.uint8)
    pg.comm.Bcast(buf, root=root)
    if head[1] != len(object_list):
        raise DistributedError(f"{what}: rank {src} broadcasts {head[1]} objects, but this "
                               f"rank's object_list has {len(object_list)}; the lists must "
                               "have the same length on every rank")
    if not mine:
        object_list[:] = _decode(buf.tobytes(), allow_pickle, src, what)
