"""``gradwalk.utils.data.dataset``: PyTorch's path to the datasets (``torch.utils.data.dataset``).

Example:
    >>> import gradwalk
    >>> from gradwalk.utils.data.dataset import TensorDataset
    >>> len(TensorDataset(gradwalk.arange(4)))
    4
"""

from ...data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]
