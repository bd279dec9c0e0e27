"""The gradient reducer behind ``DistributedDataParallel``: buckets, hooks, overlap.

Note [gradient buckets]
    Parameters are grouped into buckets of at most ``bucket_cap_mb`` MiB (the first one 1 MiB,
    as in PyTorch, so that communication starts early), one dtype per bucket, in *reverse*
    order of ``module.parameters()``: backward reaches the last layers first, so the first
    bucket fills first. Each bucket is one flat NumPy buffer; a parameter's post-accumulate-
    grad hook copies its ``.grad`` into its slot, and when a bucket's last slot is filled the
    bucket is all-reduced with a non-blocking ``MPI_Iallreduce`` while backward goes on. MPI
    requires every rank to start collectives on a communicator in the same order, so buckets
    are started strictly in index order (a bucket that fills early waits for the ones before
    it), and the reducer has its own communicator, so user collectives between forward and
    backward cannot interleave with it. MPI makes progress on a started reduction only inside
    MPI calls, so every hook also tests the reductions in flight. When the last bucket has
    started (all gradients are in), the reducer waits for all of them, divides by the world
    size and copies the averages back into ``.grad``: backward returns with averaged
    gradients. Every gradient element is sent once per step (``bytes_per_step``).

Note [unused parameters]
    A parameter that gets no gradient in a backward would keep its bucket from ever
    starting. With ``find_unused_parameters=True`` the forward walks the autograd graph from
    the outputs (``grad_fn.next_functions``) and marks the parameters it does not reach as
    ready (their slots are zeros); after the reduction a small all-reduce of "used" flags
    tells which parameters no rank used, whose ``.grad`` is left alone. Without it, a
    reduction left unfinished raises at the next forward, naming the parameters (as PyTorch).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import from_numpy
from ...tensor import Tensor

FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    def __init__(self, index: int, params: list[tuple[str, Tensor]], dtype: np.dtype) -> None:
        self.index = index
        self.params = params
        self.sizes = [int(np.prod(p.shape)) for _, p in params]
        self.offsets = list(np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(int))
        self.flat = np.zeros(sum(self.sizes), dtype=dtype)
        self.pending = len(params)
        self.request: Any = None

    @property
    def nbytes(self) -> int:
        return self.flat.nbytes


def assign_buckets(params: list[tuple[str, Tensor]], cap_bytes: int,
                   first_bytes: int = FIRST_BUCKET_BYTES) -> list[list[tuple[str, Tensor]]]:
    """Note [gradient buckets]: reverse parameter order, one dtype per bucket, the first
    bucket capped at ``min(first_bytes, cap_bytes)``, the others at ``cap_bytes``."""
    done: list[list[tuple[str, Tensor]]] = []
    open_: dict[Any, tuple[list, int]] = {}
    limit = {}
    for name, p in reversed(params):
        arr = p.detach().numpy()
        key = arr.dtype
        cur, size = open_.get(key, ([], 0))
        cur.append((name, p))
        size += arr.nbytes
        cap = limit.setdefault(key, min(first_bytes, cap_bytes))
        if size >= cap:
            done.append(cur)
            limit[key] = cap_bytes
            cur, size = [], 0
        open_[key] = (cur, size)
    done += [cur for cur, _ in open_.values() if cur]
    return done


class Reducer:
    """Buckets and hooks for one ``DistributedDataParallel`` (Note [gradient buckets])."""

    def __init__(self, named_params: list[tuple[str, Tensor]], comm: Any, cap_bytes: int,
                 find_unused: bool) -> None:
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = comm
        self.world = comm.Get_size()
        self.find_unused = find_unused
        self.buckets: list[_Bucket] = []
        self.where: dict[int, tuple[int, int]] = {}
        for i, group in enumerate(assign_buckets(named_params, cap_bytes)):
            b = _Bucket(i, group, group[0][1].detach().numpy().dtype)
            self.buckets.append(b)
            for j, (_, p) in enumerate(group):
                self.where[id(p)] = (i, j)
        self.params = [p for _, p in named_params]
        self.names = {id(p): n for n, p in named_params}
        self.handles = [p.register_post_accumulate_grad_hook(self._hook) for p in self.params]
        self.sync = True
        self.used = np.zeros(len(self.params), dtype=np.int32)
        self.index = {id(p): k for k, p in enumerate(self.params)}
        self.bytes_per_step = sum(b.nbytes for b in self.buckets)
        self.stats = {"steps": 0, "bytes": 0, "wait_s": 0.0, "last_wait_s": 0.0,
                      "last_hidden_share": 0.0}
        self._reset()

    # ---------------------------------------------------------------- per iteration
    def _reset(self) -> None:
        for b in self.buckets:
            b.pending = len(b.params)
            b.request = None
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        self.started = False
        self.used[:] = 0

    def unfinished(self) -> list[str]:
        """Names of parameters not yet ready in a reduction that has started."""
        if not self.started:
            return []
        return [self.names[id(p)] for k, p in enumerate(self.params) if not self.ready[k]]

    def prepare(self, outputs: Any, sync: bool) -> None:
        """Called by forward: decide whether this iteration syncs; mark unused parameters."""
        self.sync = sync
        if not (sync and self.find_unused):
            return
        reached: set[int] = set()
        seen: set[int] = set()
        outs = _tensors(outputs)
        stack = [t.grad_fn for t in outs if t.grad_fn is not None]
        reached.update(id(t) for t in outs if t.grad_fn is None and t.requires_grad)
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            var = getattr(fn, "variable", None)
            if var is not None:
                reached.add(id(var))
            for nxt, _ in getattr(fn, "next_functions", ()):
                if nxt is not None:
                    stack.append(nxt)
        for p in self.params:
            if id(p) not in reached:
                self._mark(p, used=False)

    # ---------------------------------------------------------------- hooks
    def _hook(self, p: Tensor) -> None:
        if not self.sync:
            return
        k = self.index[id(p)]
        if self.ready[k]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[id(p)]!r} got its gradient "
                "twice in one iteration (a second backward through the same forward, or a "
                "parameter shared outside the module); run forward again before each backward, "
                "or use no_sync() for the extra backward")
        self._mark(p, used=True)

    def _mark(self, p: Tensor, used: bool) -> None:
        k = self.index[id(p)]
        bi, j = self.where[id(p)]
        b = self.buckets[bi]
        view = b.flat[b.offsets[j]:b.offsets[j] + b.sizes[j]]
        g = p.grad if used else None
        if g is None:
            view[:] = 0
        else:
            view[:] = g.detach().numpy().reshape(-1)
            self.used[k] = 1
        self.ready[k] = True
        self.started = True
        b.pending -= 1
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            nb = self.buckets[self.next_bucket]
            nb.request = self.comm.Iallreduce(self.MPI.IN_PLACE, nb.flat, op=self.MPI.SUM)
            self.next_bucket += 1
        inflight = [x.request for x in self.buckets[:self.next_bucket] if x.request is not None]
        if self.next_bucket == len(self.buckets):
            self._finalize(inflight)
        elif inflight:
            self.MPI.Request.Testall(inflight)  # let MPI progress (Note [gradient buckets])

    def _finalize(self, inflight: list[Any]) -> None:
        # buckets whose all-reduce already finished while backward ran (before this wait)
        hidden = sum(b.nbytes for b in self.buckets[:-1] if b.request.Test())
        t0 = time.perf_counter()
        self.MPI.Request.Waitall(inflight)
        waited = time.perf_counter() - t0
        self.stats["steps"] += 1
        self.stats["bytes"] += self.bytes_per_step
        self.stats["wait_s"] += waited
        self.stats["last_wait_s"] = waited
        self.stats["last_hidden_share"] = hidden / max(self.bytes_per_step, 1)
        used = None
        if self.find_unused:
            used = self.used.copy()
            self.comm.Allreduce(self.MPI.IN_PLACE, used, op=self.MPI.MAX)
        with no_grad():
            for b in self.buckets:
                b.flat /= self.world
                for (_, p), off, n in zip(b.params, b.offsets, b.sizes):
                    if used is not None and not used[self.index[id(p)]]:
                        continue
                    avg = b.flat[off:off + n].reshape(tuple(p.shape))
                    if p.grad is None:
                        p.grad = from_numpy(avg.copy())
                    else:
                        p.grad.copy_(from_numpy(avg))
        self._reset()

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


def _tensors(obj: Any) -> list[Tensor]:
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    if isinstance(obj, list | tuple):
        return [t for v in obj for t in _tensors(v)]
    return []
