"""``DistributedDataParallel``: data-parallel training on ``gradwalk.distributed`` (MPI).

Each process holds a replica of the model and trains on its own share of every batch; DDP
makes the replicas start equal (rank 0's parameters and buffers are broadcast at wrap time)
and stay equal (gradients are averaged across the processes during backward, bucket by
bucket, overlapping communication with the rest of backward: Note [gradient buckets] in
``_reducer.py``), so every optimizer step is the same on every rank.

Example:
    >>> import gradwalk, gradwalk.distributed as dist
    >>> from gradwalk import nn
    >>> from gradwalk.nn.parallel import DistributedDataParallel as DDP
    >>> dist.init_process_group("mpi", world_size=1, rank=0)
    >>> model = DDP(nn.Linear(3, 2))
    >>> model(gradwalk.ones(4, 3)).sum().backward()
    >>> model.module.weight.grad.shape
    gradwalk.Size([2, 3])
    >>> sorted(model.state_dict())
    ['module.bias', 'module.weight']
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...creation import from_numpy
from ...distributed.collectives import _check_same
from ...distributed.process_group import _group
from ..modules.module import Module
from ._reducer import Reducer


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training across the ranks of ``process_group``
    (default: all). Call it like the module; after ``loss.backward()`` every rank holds the
    gradients averaged over all ranks.

    ``bucket_cap_mb`` (default 25) sizes the gradient buckets; ``find_unused_parameters``
    allows parameters that get no gradient in some iterations; ``no_sync()`` skips the
    averaging (gradients accumulate locally) for gradient accumulation; ``broadcast_buffers``
    copies rank 0's buffers to all ranks at every forward. ``device_ids``, ``output_device``
    and ``dim`` are for GPU replicas and must be left at their defaults;
    ``gradient_as_bucket_view``, ``static_graph`` and ``check_reduction`` are accepted and
    change nothing.

    Example:
        >>> import gradwalk, gradwalk.distributed as dist
        >>> from gradwalk import nn
        >>> from gradwalk.nn.parallel import DistributedDataParallel as DDP
        >>> dist.init_process_group("mpi", world_size=1, rank=0)
        >>> model = DDP(nn.Linear(2, 1), bucket_cap_mb=1)
        >>> with model.no_sync():
        ...     model(gradwalk.ones(1, 2)).sum().backward()
        >>> model(gradwalk.ones(1, 2)).sum().backward()
        >>> model.module.bias.grad
        tensor([2.])
        >>> dist.destroy_process_group()
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs: Any) -> None:
        super().__init__()

        what = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{what}: module must be a gradwalk.nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, []) or output_device is not None or dim != 0:
            raise ValueError(f"{what}: device_ids, output_device and dim are for GPU replicas; "
                             "gradwalk's DDP keeps one replica per process: leave them unset")
        if kwargs:
            raise TypeError(f"{what}: unexpected arguments {sorted(kwargs)}")
        pg = _group(process_group, what)
        if pg is None:
            raise RuntimeError(f"{what}: this rank is not a member of process_group")
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap > 0:
            raise ValueError(f"{what}: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.process_group = pg
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_bytes_cap = int(cap * 1024 * 1024)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        layout = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        buffers = [(n, tuple(b.shape), str(b.dtype)) for n, b in module.named_buffers()]
        _check_same(pg, (what, layout, buffers), what,
                    f"{len(layout)} parameters of {sum(int(np.prod(s)) for _, s, _ in layout)} "
                    f"elements, {len(buffers)} buffers")
        self._comm = pg.comm.Dup()  # Note [gradient buckets]: a communicator of its own
        self._root = 0  # group rank of the source of parameters and buffers (global pg.ranks[0])
        self._bcast([p for _, p in module.named_parameters()] + list(module.buffers()))

        self.reducer = Reducer(named, self._comm, self.bucket_bytes_cap,
                               self.find_unused_parameters)

    def _bcast(self, tensors: list) -> None:
        if self._comm.Get_size() == 1:
            return
        with no_grad():
            for t in tensors:
                buf = np.array(t.detach().numpy(), order="C", copy=True)
                self._comm.Bcast(buf, root=self._root)
                if self._comm.Get_rank() != self._root:
                    t.copy_(from_numpy(buf))

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Run the module (after broadcasting buffers from rank 0); prepares the gradient
        reduction of the coming backward."""
        left = self.reducer.unfinished()
        if left:
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior "
                "iteration before starting a new one: these parameters got no gradient: "
                f"{left}. Pass find_unused_parameters=True if some parameters are not used in "
                "every forward, and make sure every output takes part in the loss")
        if self.broadcast_buffers:
            bufs = list(self.module.buffers())
            if bufs:
                self._bcast(bufs)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled():
            self.reducer.prepare(out, self.require_backward_grad_sync)
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context, forward/backward accumulate gradients locally without averaging
        them; the first backward after it averages the accumulated gradients.

        Example:
            >>> import gradwalk, gradwalk.distributed as dist
            >>> from gradwalk import nn
            >>> from gradwalk.nn.parallel import DistributedDataParallel as DDP
            >>> dist.init_process_group("mpi", world_size=1, rank=0)
            >>> m = DDP(nn.Linear(1, 1))
            >>> with m.no_sync():
            ...     m(gradwalk.ones(1, 1)).sum().backward()
            >>> m.reducer.stats["steps"]
            0
            >>> dist.destroy_process_group()
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self) -> str:
        return (f"buckets={len(self.reducer.buckets)}, bucket_cap_mb="
                f"{self.bucket_bytes_cap / 2**20:g}, world_size={self._comm.Get_size()}")
