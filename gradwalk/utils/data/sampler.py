"""``gradwalk.utils.data.sampler``: PyTorch's path to the samplers (``torch.utils.data.sampler``).

Example:
    >>> from gradwalk.utils.data.sampler import SequentialSampler
    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
"""

from ...data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]
