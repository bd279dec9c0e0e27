"""``nn.Linear`` and ``nn.Identity``: PyTorch parity, default init bounds, repr."""

import math

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle

from .parity import check_layer


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear_matches_torch(bias, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    check_layer(lambda m: m.nn.Linear(3, 4, bias=bias), x)


def test_linear_default_init_bounds():
    gradwalk.manual_seed(0)
    lin = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    w = lin.weight.detach().numpy()
    b = lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # a uniform on [-bound, bound] has std bound / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert w.std() > 0.5 * bound / math.sqrt(3)


def test_linear_repr_and_shapes_match_torch():
    ref = oracle(lambda torch: [repr(torch.nn.Linear(3, 4)),
                                repr(torch.nn.Linear(3, 4, bias=False))])
    assert [repr(nn.Linear(3, 4)), repr(nn.Linear(3, 4, bias=False))] == ref
    assert nn.Linear(3, 4).weight.shape == (4, 3)
    assert nn.Linear(3, 4).weight.dtype == gradwalk.float32


def test_linear_dtype_argument_and_mismatch_error():
    lin = nn.Linear(2, 2, dtype=gradwalk.float64)
    assert lin.weight.dtype == gradwalk.float64
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(2, 2)(gradwalk.ones(1, 2, dtype=gradwalk.float64))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        nn.Linear(3, 2)(gradwalk.ones(1, 2))


def test_identity_passes_through():
    x = gradwalk.ones(2)
    assert nn.Identity(3, foo=1)(x) is x
    assert repr(nn.Identity()) == oracle(lambda torch: repr(torch.nn.Identity()))
