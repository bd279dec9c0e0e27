"""``gradwalk.data``: datasets, data loaders, and small bundled datasets.

Example:
    >>> import gradwalk
    >>> x, y = gradwalk.data.load_digits()
    >>> loader = gradwalk.data.DataLoader(gradwalk.data.TensorDataset(x, y), batch_size=64,
    ...                                   shuffle=True, generator=0)
    >>> xb, yb = next(iter(loader))
    >>> xb.shape, yb.shape
    (gradwalk.Size([64, 64]), gradwalk.Size([64]))
"""

from .dataloader import DataLoader, default_collate
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .datasets import (
    char_vocab,
    encode_text,
    load_digits,
    load_text,
    make_moons,
    make_spirals,
    train_test_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split", "DataLoader",
           "default_collate", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "load_digits", "train_test_split", "make_moons", "make_spirals", "load_text",
           "char_vocab", "encode_text"]
