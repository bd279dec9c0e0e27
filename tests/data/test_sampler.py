"""Samplers as PyTorch's: lengths, how often each index comes, argument checks."""

from __future__ import annotations

from collections import Counter

import pytest

import gradwalk
from gradwalk.data import RandomSampler, SubsetRandomSampler
from tests.fixtures.oracle import error_of, oracle

CASES = [dict(), dict(num_samples=3), dict(num_samples=11), dict(replacement=True),
         dict(replacement=True, num_samples=25)]


def _shape_of(torch, kw):
    """What does not depend on the random stream: the length, and how often each index comes
    (sorted counts; with replacement only their total)."""
    s = torch.utils.data.sampler.RandomSampler(range(5), generator=torch.Generator().manual_seed(0), **kw)
    got = list(s)
    counts = sorted(Counter(got).values())
    return {"len": len(s), "n": len(got), "in_range": all(0 <= i < 5 for i in got),
            "counts": sum(counts) if kw.get("replacement") else counts,
            "num_samples": s.num_samples}


@pytest.mark.parametrize("kw", CASES, ids=str)
def test_random_sampler_as_pytorch(kw):
    ref = oracle(lambda torch: _shape_of(torch, kw))
    assert _shape_of(gradwalk, kw) == ref


@pytest.mark.parametrize("bad", [dict(replacement=1), dict(num_samples=0),
                                 dict(num_samples=2.5), dict(num_samples=-1)], ids=str)
def test_random_sampler_checks_its_arguments(bad):
    ref = oracle(lambda torch: error_of(lambda: torch.utils.data.RandomSampler(range(3), **bad)))
    assert ref is not None and error_of(lambda: RandomSampler(range(3), **bad)) == ref


def test_the_draws_follow_the_generator():
    a = list(RandomSampler(range(50), generator=gradwalk.Generator().manual_seed(3)))
    b = list(RandomSampler(range(50), generator=gradwalk.Generator().manual_seed(3)))
    c = list(RandomSampler(range(50), generator=gradwalk.Generator().manual_seed(4)))
    assert a == b and a != c and sorted(a) == list(range(50))
    r = RandomSampler(range(4), replacement=True, num_samples=400,
                      generator=gradwalk.Generator().manual_seed(0))
    assert set(r) == {0, 1, 2, 3}  # with replacement, indices repeat


def test_subset_random_sampler_and_the_loader():
    assert sorted(SubsetRandomSampler([9, 2, 5])) == [2, 5, 9]
    ds = gradwalk.data.TensorDataset(gradwalk.arange(6.0))
    loader = gradwalk.data.DataLoader(ds, batch_size=4, sampler=RandomSampler(
        ds, replacement=True, num_samples=10))
    assert [len(b[0]) for b in loader] == [4, 4, 2]


def _weighted(torch):
    S = torch.utils.data.WeightedRandomSampler
    s = S([0.0, 2.0, 0.0, 1.0], 40, generator=torch.Generator().manual_seed(0))
    got = list(s)
    errors = [error_of(lambda: S([[1.0, 2.0]], 4)), error_of(lambda: S([1.0, 2.0], 0)),
              error_of(lambda: list(S([1.0, 2.0], 3, replacement=False)))]
    return {"len": len(s), "support": sorted(set(got)), "errors": errors,
            "no_repeat": sorted(S([1.0, 1.0, 1.0], 3, replacement=False))}


def test_weighted_random_sampler_as_pytorch():
    assert _weighted(gradwalk) == oracle(_weighted)
