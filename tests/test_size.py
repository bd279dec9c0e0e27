"""``gradwalk.Size``: the tuple ``.shape`` and ``.size()`` return, as PyTorch's ``torch.Size``."""

import pickle

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle


def _sizes(torch) -> list:
    x = torch.zeros(2, 3, 4)
    s = x.shape
    return [repr(s), str(s), repr(x.size()), repr(torch.zeros(()).shape), s.numel(),
            torch.Size([]).numel(), s == (2, 3, 4), isinstance(s, tuple), repr(s[1:]),
            repr(s[::-1]), s[0], repr(s + (5,)), repr((1,) + s), repr(s * 2), s.count(3),
            s.index(4), repr(torch.Size([np.int64(2), 3])), repr(torch.Size(torch.tensor([2, 3]))),
            x.size(-1), list(s)]


def test_size_matches_pytorch():
    ours = [v.replace("gradwalk.", "torch.") if isinstance(v, str) else v
            for v in _sizes(gradwalk)]
    assert ours == oracle(_sizes)


def test_shape_is_a_size():
    s = gradwalk.ones(2, 1).shape
    assert type(s) is gradwalk.Size and type(gradwalk.ones(2).size()) is gradwalk.Size
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is type(s)
    assert gradwalk.zeros(s).shape == s  # a Size is a shape argument


@pytest.mark.parametrize("bad", [[2.5], ["a"], [None]], ids=repr)
def test_bad_sizes_raise_as_pytorch(bad):
    assert error_of(lambda t: t.Size(bad), gradwalk) == oracle(
        lambda torch: error_of(lambda t: t.Size(bad), torch))
