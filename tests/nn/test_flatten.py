"""``nn.Flatten`` and ``nn.Unflatten``: shapes, gradients, repr."""

import numpy as np
import pytest

from gradwalk import nn
from tests.fixtures.oracle import oracle

from .parity import check_layer


@pytest.mark.parametrize("args", [(), (0,), (1, 2), (-3, -2)])
def test_flatten_matches_torch(args):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    check_layer(lambda m: m.nn.Flatten(*args), x)
    assert repr(nn.Flatten(*args)) == oracle(lambda torch: repr(torch.nn.Flatten(*args)))


def test_unflatten_matches_torch():
    x = np.random.default_rng(1).standard_normal((2, 12, 3))
    check_layer(lambda m: m.nn.Unflatten(1, (3, 4)), x)
    check_layer(lambda m: m.nn.Unflatten(-1, (1, 3)), x)
    assert repr(nn.Unflatten(1, (3, 4))) == oracle(lambda torch: repr(torch.nn.Unflatten(1, (3, 4))))
