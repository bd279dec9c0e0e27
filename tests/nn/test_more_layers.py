"""The layers of ``nn/modules/more_layers.py`` against PyTorch in float64 (same weights):
outputs, input gradients and parameter gradients; reprs."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle

from .parity import check_layer

rng = np.random.default_rng(0)


def _distinct(shape, seed=0):
    r = np.random.default_rng(seed)
    return r.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 2.0


X5 = _distinct((2, 2, 4, 4, 6))
X4 = _distinct((2, 3, 6, 8), 1)
X3 = _distinct((2, 3, 8), 2)

LAYERS = [
    ("MaxPool3d", lambda m: m.nn.MaxPool3d(2), X5),
    ("MaxPool3d-idx", lambda m: m.nn.MaxPool3d(3, 2, 1, return_indices=True), X5),
    ("AvgPool3d", lambda m: m.nn.AvgPool3d(3, 2, 1, count_include_pad=False), X5),
    ("AdaptiveAvgPool3d", lambda m: m.nn.AdaptiveAvgPool3d((3, None, 4)), X5),
    ("AdaptiveMaxPool1d", lambda m: m.nn.AdaptiveMaxPool1d(3, return_indices=True), X3),
    ("AdaptiveMaxPool2d", lambda m: m.nn.AdaptiveMaxPool2d((4, 3)), X4),
    ("AdaptiveMaxPool3d", lambda m: m.nn.AdaptiveMaxPool3d(2), X5),
    ("Unfold", lambda m: m.nn.Unfold((2, 3), padding=1, stride=2), X4),
    ("RMSNorm", lambda m: m.nn.RMSNorm(8), X4),
    ("RMSNorm-2d", lambda m: m.nn.RMSNorm((6, 8), eps=1e-3, elementwise_affine=False), X4),
    ("LocalResponseNorm", lambda m: m.nn.LocalResponseNorm(3, 0.2, 0.7, 2.0), X4),
]


@pytest.mark.parametrize("name,make,x", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, make, x):
    check_layer(make, x)


def test_fold_matches_torch():
    cols = rng.standard_normal((2, 12, 10))
    check_layer(lambda m: m.nn.Fold((5, 6), 2, stride=(2, 1)), cols)


@pytest.mark.parametrize("d,x", [(1, X3), (2, X4), (3, X5)], ids=["1d", "2d", "3d"])
def test_max_unpool_layers_match_torch(d, x):
    def call(mod, t):
        lib = gradwalk if isinstance(t, gradwalk.Tensor) else __import__("torch")
        y, i = getattr(lib.nn, f"MaxPool{d}d")(2, return_indices=True)(t)
        return mod(y, i)
    check_layer(lambda m: getattr(m.nn, f"MaxUnpool{d}d")(2), x, call=call)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_layer_matches_torch(mode):
    ids = np.array([1, 2, 4, 5, 4, 3, 2, 6])
    offs = np.array([0, 3, 3, 6])
    check_layer(lambda m: m.nn.EmbeddingBag(7, 3, mode=mode, padding_idx=2), ids, offs)


def test_embedding_bag_from_pretrained_and_repr():
    bag = nn.EmbeddingBag.from_pretrained(gradwalk.eye(3), mode="sum")
    assert not bag.weight.requires_grad
    np.testing.assert_array_equal(bag(gradwalk.tensor([[0, 2]])).numpy(), [[1.0, 0.0, 1.0]])
    ref = oracle(lambda torch: repr(torch.nn.EmbeddingBag(10, 3, mode="max", padding_idx=1)))
    assert repr(nn.EmbeddingBag(10, 3, mode="max", padding_idx=1)) == ref


def test_losses_match_torch():
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    check_layer(lambda m: m.nn.TripletMarginWithDistanceLoss(margin=0.7, swap=True), a, p, n)
    check_layer(lambda m: m.nn.TripletMarginWithDistanceLoss(
        distance_function=m.nn.PairwiseDistance(p=1.0), reduction="sum"), a, p, n, key="l1")
    target = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0], [2, 2, 1, -1]])
    check_layer(lambda m: m.nn.MultiLabelMarginLoss(reduction="none"),
                rng.standard_normal((4, 4)), target)


REPRS = [
    ("MaxPool3d", "lambda m: m.nn.MaxPool3d(3, 2, 1)"),
    ("AvgPool3d", "lambda m: m.nn.AvgPool3d(2)"),
    ("AdaptiveMaxPool2d", "lambda m: m.nn.AdaptiveMaxPool2d((2, 3))"),
    ("AdaptiveAvgPool3d", "lambda m: m.nn.AdaptiveAvgPool3d(1)"),
    ("MaxUnpool2d", "lambda m: m.nn.MaxUnpool2d(2)"),
    ("Fold", "lambda m: m.nn.Fold((4, 5), 2)"),
    ("Unfold", "lambda m: m.nn.Unfold(3, padding=1)"),
    ("RMSNorm", "lambda m: m.nn.RMSNorm([2, 3])"),
    ("LocalResponseNorm", "lambda m: m.nn.LocalResponseNorm(2)"),
]


@pytest.mark.parametrize("name,src", REPRS, ids=[r[0] for r in REPRS])
def test_repr_matches_torch(name, src):
    make = eval(src)
    assert repr(make(gradwalk)) == oracle(lambda torch: repr(make(torch)))


def test_rnn_flatten_parameters_is_a_no_op():
    lstm = nn.LSTM(2, 3, num_layers=2)
    before = {k: v.numpy().copy() for k, v in lstm.state_dict().items()}
    assert lstm.flatten_parameters() is None
    after = lstm.state_dict()
    assert sorted(before) == sorted(after)
    for k, v in before.items():
        np.testing.assert_array_equal(after[k].numpy(), v)
