"""``gradwalk.distributed``: training across processes and machines on MPI, with
torch.distributed's names and arguments.

Start N processes with ``python -m gradwalk.distributed.run -n N script.py`` (or
``mpirun -n N python script.py``); in the script, ``init_process_group("mpi")`` joins them,
``get_rank()``/``get_world_size()`` say who is who, the collectives (``all_reduce``,
``broadcast``, ...) move tensors, and ``gradwalk.nn.parallel.DistributedDataParallel`` averages
gradients during backward. Needs ``mpi4py`` and an MPI library:
``pip install "gradwalk[distributed]"``. See the docs (``docs/distributed.md``).

Example:
    >>> import gradwalk, gradwalk.distributed as dist
    >>> dist.init_process_group("mpi", world_size=1, rank=0)
    >>> t = gradwalk.tensor([1.0, 2.0]) * (dist.get_rank() + 1)
    >>> dist.all_reduce(t)
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()
"""

from . import checkpoint
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_to_all,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .objects import all_gather_object, broadcast_object_list, gather_object
from .p2p import irecv, isend, recv, send
from .process_group import (
    DistributedError,
    GroupMember,
    ProcessGroup,
    barrier,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    new_group,
)

__all__ = [
    "DistributedError", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all", "barrier",
    "broadcast", "broadcast_object_list", "checkpoint", "destroy_process_group", "gather",
    "gather_object", "get_backend", "get_rank", "get_world_size", "init_process_group", "irecv",
    "is_available", "is_initialized", "is_mpi_available", "isend", "new_group", "recv",
    "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter", "send",
]
