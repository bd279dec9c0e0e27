"""``DistributedSampler``: each rank's share of a dataset, the same indices as PyTorch's.

Note [torch's permutation]
    With ``shuffle=True`` PyTorch permutes the indices with ``torch.randperm(n, generator=g)``,
    ``g.manual_seed(seed + epoch)``: a Fisher-Yates shuffle driven by the 32-bit outputs of a
    Mersenne Twister (MT19937) seeded with the low 32 bits of the seed (the original
    ``init_genrand``), swapping ``r[i]`` with ``r[i + x % (n - i)]``. NumPy's legacy
    ``RandomState(seed)`` seeds the same generator the same way, so the permutation here is
    PyTorch's index for index: a run may switch between the two and keep its data order.
    (PyTorch uses another algorithm from ``n >= 2**32 / 20``; so does not this sampler, which
    refuses such sizes.)

Example:
    >>> from gradwalk.utils.data.distributed import DistributedSampler
    >>> s = DistributedSampler(range(10), num_replicas=4, rank=1, shuffle=False)
    >>> list(s), len(s)
    ([1, 5, 9], 3)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from ...data import Sampler

_MAX_N = (2**32 - 1) // 20


def torch_randperm(n: int, seed: int) -> list[int]:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()``, computed
    with NumPy (Note [torch's permutation]).

    Example:
        >>> sorted(torch_randperm(5, 0)) == list(range(5))
        True
    """
    if n >= _MAX_N:
        raise ValueError(f"DistributedSampler: datasets of {n} or more samples need PyTorch's "
                         f"other permutation algorithm, which is not implemented (max "
                         f"{_MAX_N - 1})")
    state = np.random.RandomState(int(seed) & 0xFFFFFFFF).get_state()
    bits = np.random.MT19937()
    bits.state = {"bit_generator": "MT19937", "state": {"key": state[1], "pos": state[2]}}
    raw = bits.random_raw(max(n - 1, 0)).astype(np.int64)
    z = raw % (n - np.arange(max(n - 1, 0), dtype=np.int64)) + np.arange(max(n - 1, 0))
    r = list(range(n))
    for i, j in enumerate(z.tolist()):
        r[i], r[j] = r[j], r[i]
    return r


class DistributedSampler(Sampler):
    """Indices of the part of ``dataset`` that rank ``rank`` of ``num_replicas`` trains on
    (defaults: the default process group's rank and size). The indices are (with ``shuffle``)
    permuted with ``seed + epoch``, padded by repeating the first ones to a multiple of
    ``num_replicas`` (or, with ``drop_last``, cut to one), and dealt out round-robin, so every
    rank gets ``len(self)`` indices. Call ``set_epoch(epoch)`` before each epoch for a new
    order.

    Example:
        >>> from gradwalk.utils.data.distributed import DistributedSampler
        >>> s = DistributedSampler(range(7), num_replicas=2, rank=0, seed=3)
        >>> s.set_epoch(1)
        >>> len(s), len(list(s))
        (4, 4)
        >>> len(DistributedSampler(range(7), num_replicas=2, rank=0, drop_last=True))
        3
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "gradwalk.distributed.init_process_group() first to take them from the "
                    "default process group")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"Invalid num_replicas {num_replicas}, it should be a positive "
                             "integer")
        if not isinstance(rank, int) or rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        indices = torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            elif indices:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``seed + epoch`` for the next permutation (call it at the start of each epoch,
        on every rank).

        Example:
            >>> from gradwalk.utils.data.distributed import DistributedSampler
            >>> s = DistributedSampler(range(4), num_replicas=1, rank=0)
            >>> s.set_epoch(2)
            >>> s.epoch
            2
        """
        self.epoch = epoch

    def __repr__(self) -> str:
        return (f"DistributedSampler(num_replicas={self.num_replicas}, rank={self.rank}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})")
