"""``nn.Dropout``: training drops and rescales, eval is the identity, gradients follow."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle


def test_dropout_train_and_eval():
    gradwalk.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = gradwalk.ones(100, 100, dtype=gradwalk.float64, requires_grad=True)
    y = drop(x)
    vals = y.detach().numpy()
    assert set(np.unique(vals)) <= {0.0, 1 / 0.75}
    assert abs((vals == 0).mean() - 0.25) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), vals)  # grad is the mask / (1 - p)
    drop.eval()
    assert drop(x) is x


def test_dropout_edge_cases_and_repr():
    x = gradwalk.ones(10)
    assert nn.Dropout(0.0)(x) is x
    assert float(nn.Dropout(1.0)(x).sum()) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.3)) == oracle(lambda torch: repr(torch.nn.Dropout(0.3)))
