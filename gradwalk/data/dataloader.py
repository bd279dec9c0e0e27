"""DataLoader: batches from a dataset, in order or shuffled, collated into tensors (the samplers
that order them are in ``sampler.py``)."""

from __future__ import annotations

import collections.abc as cabc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..creation import Generator
from ..ops.shape import stack
from ..tensor import Tensor
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def default_collate(batch: list[Any]) -> Any:
    """Merge a list of samples into a batch, keeping the samples' structure.

    Tensors and arrays are stacked along a new first dim; Python floats become a float64 tensor,
    ints an int64 tensor, bools a bool tensor; strings stay a list; dicts, tuples and lists are
    collated field by field (tuples and lists come back as lists, as in PyTorch).

    Example:
        >>> import gradwalk
        >>> from gradwalk.data import default_collate
        >>> default_collate([(gradwalk.tensor([1.0]), 0), (gradwalk.tensor([2.0]), 1)])
        [tensor([[1.],
                [2.]]), tensor([0, 1])]
        >>> default_collate([{"x": 1.5}, {"x": 2.5}])
        {'x': tensor([1.5000, 2.5000], dtype=gradwalk.float64)}
    """
    if len(batch) == 0:
        raise ValueError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch))
    if isinstance(elem, np.ndarray | np.generic):
        if isinstance(elem, np.ndarray) and elem.dtype.kind not in "biufc":
            raise TypeError(f"default_collate: arrays of dtype {elem.dtype} cannot be batched")
        return Tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, cabc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}. Pass collate_fn= to batch other types")


class DataLoader:
    """Iterate over a dataset in batches.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (a ``gradwalk.Generator``,
    or an int seed; the default generator, seeded by ``gradwalk.manual_seed``, otherwise).
    ``drop_last`` drops a final short batch. ``collate_fn`` merges a list of samples (default:
    ``default_collate``). Batches of a ``TensorDataset`` are sliced in one step, not sample by
    sample. Loading runs in the calling process (``num_workers`` is accepted and ignored).

    Example:
        >>> import gradwalk
        >>> ds = gradwalk.data.TensorDataset(gradwalk.arange(10.0), gradwalk.arange(10) % 2)
        >>> loader = gradwalk.data.DataLoader(ds, batch_size=4, shuffle=True, generator=0)
        >>> [len(x) for x, y in loader], len(loader)
        ([4, 4, 2], 3)
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False,
                 generator: Generator | int | None = None, **kwargs: Any) -> None:
        if isinstance(generator, int) and not isinstance(generator, bool):
            generator = Generator().manual_seed(generator)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if isinstance(dataset, IterableDataset):
            for opt, value in (("shuffle", shuffle or None), ("sampler", sampler),
                               ("batch_sampler", batch_sampler)):
                if value is not None:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{opt} option, but got {opt}={value!r}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self.drop_last = drop_last
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size if batch_sampler is not None else None
        self.batch_sampler = batch_sampler
        self._auto_collate = collate_fn is None
        self.collate_fn = default_collate if collate_fn is None else collate_fn

    def __iter__(self) -> Iterator[Any]:
        ds = self.dataset
        if isinstance(ds, IterableDataset):
            yield from self._stream(ds)
            return
        if self.batch_sampler is None:  # batch_size=None: samples one by one
            for idx in self.sampler:
                yield ds[idx]
            return
        fast = self._auto_collate and isinstance(ds, TensorDataset)
        for indices in self.batch_sampler:
            if fast:
                idx = np.asarray(indices, dtype=np.int64)
                yield [_take(t, idx) for t in ds.tensors]
            else:
                yield self.collate_fn([ds[i] for i in indices])

    def _stream(self, ds: IterableDataset) -> Iterator[Any]:
        if self.batch_size is None:
            yield from ds
            return
        batch: list = []
        for sample in ds:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # PyTorch's TypeError when the stream has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)


def get_worker_info() -> None:
    """Information about the loader worker this code runs in: always ``None`` in gradwalk, whose
    ``DataLoader`` loads in the calling process (PyTorch returns ``None`` there too).

    Example:
        >>> from gradwalk.utils.data import get_worker_info
        >>> get_worker_info() is None
        True
    """
    return None


def _take(t: Tensor, idx: np.ndarray) -> Tensor:
    """Rows ``idx`` of ``t``: a plain copy, or a differentiable gather if ``t`` needs grad."""
    if t.requires_grad:
        return t[Tensor(idx)]
    from ..backend import xp_of

    xp = xp_of(t._data)
    return Tensor._wrap(t._data[xp.asarray(idx)])


__all__ = ["DataLoader", "default_collate", "get_worker_info", "Sampler", "SequentialSampler",
           "RandomSampler", "BatchSampler"]
