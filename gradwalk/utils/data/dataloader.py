"""``gradwalk.utils.data.dataloader``: PyTorch's path to ``DataLoader``
(``torch.utils.data.dataloader``).

Example:
    >>> from gradwalk.utils.data.dataloader import DataLoader, default_collate
    >>> len(DataLoader(list(range(10)), batch_size=4))
    3
"""

from ...data.dataloader import DataLoader, default_collate, get_worker_info
from ...data.dataset import Dataset
from ...data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "get_worker_info", "Dataset", "Sampler",
           "SequentialSampler", "RandomSampler", "BatchSampler"]
