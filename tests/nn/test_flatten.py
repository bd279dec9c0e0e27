"""``nn.Flatten`` and ``nn.Unflatten``: shapes, gradients, repr."""

import numpy as np
import pytest

from gradwalk import nn

from .parity import check_layer

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("args", [(), (0,), (1, 2), (-3, -2)])
def test_flatten_matches_torch(args):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    check_layer(torch.nn.Flatten(*args), nn.Flatten(*args), x, load=False)
    assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


def test_unflatten_matches_torch():
    x = np.random.default_rng(1).standard_normal((2, 12, 3))
    check_layer(torch.nn.Unflatten(1, (3, 4)), nn.Unflatten(1, (3, 4)), x, load=False)
    check_layer(torch.nn.Unflatten(-1, (1, 3)), nn.Unflatten(-1, (1, 3)), x, load=False)
    assert repr(nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))
