"""``gradwalk.nn.parallel``: ``DistributedDataParallel`` (data parallel on
``gradwalk.distributed``).

Example:
    >>> from gradwalk.nn.parallel import DistributedDataParallel
    >>> DistributedDataParallel.__name__
    'DistributedDataParallel'
"""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
