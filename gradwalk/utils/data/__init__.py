"""``gradwalk.utils.data``: PyTorch's spelling of ``gradwalk.data`` (``torch.utils.data``).

Example:
    >>> import gradwalk
    >>> from gradwalk.utils.data import DataLoader, TensorDataset
    >>> len(DataLoader(TensorDataset(gradwalk.arange(10)), batch_size=4))
    3
"""

from ...data import *  # noqa: F403
from ...data import DataLoader, Dataset, Subset, TensorDataset, random_split  # noqa: F401
from ...data.dataloader import get_worker_info  # noqa: F401
from . import dataloader, dataset, sampler  # noqa: F401  (torch's submodules)
from .distributed import DistributedSampler  # noqa: F401
