"""DistributedSampler gives PyTorch's indices (same seed, epoch, replicas, rank; shuffle and
drop_last variants), and torch_randperm is torch.randperm."""

import itertools

import pytest

from gradwalk.utils.data import DistributedSampler as Exported
from gradwalk.utils.data.distributed import DistributedSampler, torch_randperm


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("n, seed", [(0, 0), (1, 3), (2, 0), (17, 5), (1000, 123), (5, 2**33 + 7)])
def test_randperm_is_torchs(n, seed):
    torch = _torch()
    g = torch.Generator()
    g.manual_seed(seed)
    assert torch_randperm(n, seed) == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize("shuffle, drop_last", list(itertools.product([True, False], repeat=2)))
def test_indices_match_torch(shuffle, drop_last):
    TorchSampler = _torch().utils.data.distributed.DistributedSampler
    for length, replicas, seed, epoch in itertools.product([1, 3, 10, 13, 50], [1, 2, 3, 4, 8],
                                                           [0, 42], [0, 5]):
        if drop_last and length < replicas:
            continue  # torch gives every rank nothing; covered by test_tiny_dataset
        for rank in range(replicas):
            ours = DistributedSampler(range(length), num_replicas=replicas, rank=rank,
                                      shuffle=shuffle, seed=seed, drop_last=drop_last)
            theirs = TorchSampler(range(length), num_replicas=replicas, rank=rank,
                                  shuffle=shuffle, seed=seed, drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (length, replicas, rank, seed, epoch)
            assert len(ours) == len(theirs) == len(list(ours))


def test_tiny_dataset():
    TorchSampler = _torch().utils.data.distributed.DistributedSampler
    for drop_last in (True, False):
        ours = DistributedSampler(range(2), num_replicas=4, rank=3, drop_last=drop_last)
        theirs = TorchSampler(range(2), num_replicas=4, rank=3, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_every_index_is_covered_and_padding_repeats_the_first():
    parts = [list(DistributedSampler(range(10), num_replicas=4, rank=k, shuffle=False))
             for k in range(4)]
    assert sorted(i for p in parts for i in p) == sorted(list(range(10)) + [0, 1])


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(range(4), num_replicas=4, rank=4)
    with pytest.raises(ValueError, match="Invalid num_replicas 0"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(RuntimeError, match="pass num_replicas and rank.*init_process_group"):
        DistributedSampler(range(4))
    assert Exported is DistributedSampler
