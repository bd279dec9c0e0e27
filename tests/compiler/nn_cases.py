"""Small constructor arguments and inputs for every layer of ``gradwalk.nn`` (one table).

``LAYERS`` maps a class name of ``gradwalk.nn`` to a ``Case``: ``make(nn)`` builds the layer,
``inputs(rng)`` gives its inputs (float arrays become tensors that require grad, integer and
boolean arrays plain tensors), ``call(nn, layer, *xs)`` calls it (default ``layer(*xs)``).
``NOT_LAYERS`` names the classes of ``gradwalk.nn`` that are not layers one can call, each with
the reason. ``tests/compiler/test_nn.py`` fails for a class in neither, so a new layer is
covered the day it is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Case:
    make: Callable[[Any], Any]
    inputs: Callable[[np.random.Generator], list]
    call: Callable | None = None


def R(*shape):
    """A float32 standard-normal array maker."""
    return lambda rng: rng.standard_normal(shape).astype(np.float32)


def P(*shape):
    """A positive float32 array maker (0.1 .. 1.1)."""
    return lambda rng: (rng.random(shape) + 0.1).astype(np.float32)


def U(*shape):
    """A float32 array in (0.05, 0.95): probabilities."""
    return lambda rng: (rng.random(shape) * 0.9 + 0.05).astype(np.float32)


def I(high, *shape):  # noqa: E743
    """An int64 array in [0, high)."""
    return lambda rng: rng.integers(0, high, shape).astype(np.int64)


def S(*values):
    """A fixed int64 array (targets, lengths)."""
    return lambda rng: np.array(values, dtype=np.int64)


def ins(*makers):
    return lambda rng: [m(rng) for m in makers]


def _pm(*shape):
    """Targets of +1/-1."""
    return lambda rng: np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


def _unpool(pool):
    def call(nn, layer, x):
        out, idx = getattr(nn.functional, pool)(x, 2, return_indices=True)
        return layer(out, idx)
    return call


def _c(make, *makers, call=None):
    return Case(make, ins(*makers), call)


# fmt: off
LAYERS: dict[str, Case] = {
    # activations
    "CELU": _c(lambda nn: nn.CELU(0.7), R(2, 3)),
    "ELU": _c(lambda nn: nn.ELU(), R(2, 3)),
    "GELU": _c(lambda nn: nn.GELU(), R(2, 3)),
    "GLU": _c(lambda nn: nn.GLU(), R(2, 4)),
    "Hardshrink": _c(lambda nn: nn.Hardshrink(0.3), R(2, 3)),
    "Hardsigmoid": _c(lambda nn: nn.Hardsigmoid(), R(2, 3)),
    "Hardswish": _c(lambda nn: nn.Hardswish(), R(2, 3)),
    "Hardtanh": _c(lambda nn: nn.Hardtanh(-0.5, 0.5), R(2, 3)),
    "Identity": _c(lambda nn: nn.Identity(), R(2, 3)),
    "LeakyReLU": _c(lambda nn: nn.LeakyReLU(0.1), R(2, 3)),
    "LogSigmoid": _c(lambda nn: nn.LogSigmoid(), R(2, 3)),
    "LogSoftmax": _c(lambda nn: nn.LogSoftmax(dim=1), R(2, 3)),
    "Mish": _c(lambda nn: nn.Mish(), R(2, 3)),
    "PReLU": _c(lambda nn: nn.PReLU(3), R(2, 3)),
    "RReLU": _c(lambda nn: nn.RReLU(), R(2, 3)),
    "ReLU": _c(lambda nn: nn.ReLU(), R(2, 3)),
    "ReLU6": _c(lambda nn: nn.ReLU6(), R(2, 3)),
    "SELU": _c(lambda nn: nn.SELU(), R(2, 3)),
    "SiLU": _c(lambda nn: nn.SiLU(), R(2, 3)),
    "Sigmoid": _c(lambda nn: nn.Sigmoid(), R(2, 3)),
    "Softmax": _c(lambda nn: nn.Softmax(dim=-1), R(2, 3)),
    "Softmax2d": _c(lambda nn: nn.Softmax2d(), R(1, 3, 2, 2)),
    "Softmin": _c(lambda nn: nn.Softmin(dim=1), R(2, 3)),
    "Softplus": _c(lambda nn: nn.Softplus(beta=2.0), R(2, 3)),
    "Softshrink": _c(lambda nn: nn.Softshrink(0.3), R(2, 3)),
    "Softsign": _c(lambda nn: nn.Softsign(), R(2, 3)),
    "Tanh": _c(lambda nn: nn.Tanh(), R(2, 3)),
    "Tanhshrink": _c(lambda nn: nn.Tanhshrink(), R(2, 3)),
    "Threshold": _c(lambda nn: nn.Threshold(0.1, -1.0), R(2, 3)),
    "MultiheadAttention": _c(lambda nn: nn.MultiheadAttention(4, 2), R(3, 2, 4), R(3, 2, 4),
                             R(3, 2, 4)),
    # linear, containers, shape
    "Linear": _c(lambda nn: nn.Linear(3, 2), R(4, 3)),
    "LazyLinear": _c(lambda nn: nn.LazyLinear(2), R(4, 3)),
    "NonDynamicallyQuantizableLinear": _c(lambda nn: nn.NonDynamicallyQuantizableLinear(3, 2),
                                          R(4, 3)),
    "Bilinear": _c(lambda nn: nn.Bilinear(3, 2, 4), R(5, 3), R(5, 2)),
    "Sequential": _c(lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)),
                     R(5, 3)),
    "Flatten": _c(lambda nn: nn.Flatten(), R(2, 3, 2)),
    "Unflatten": _c(lambda nn: nn.Unflatten(1, (2, 3)), R(2, 6)),
    "ChannelShuffle": _c(lambda nn: nn.ChannelShuffle(2), R(1, 4, 2, 2)),
    "PixelShuffle": _c(lambda nn: nn.PixelShuffle(2), R(1, 4, 2, 2)),
    "PixelUnshuffle": _c(lambda nn: nn.PixelUnshuffle(2), R(1, 1, 4, 4)),
    "Fold": _c(lambda nn: nn.Fold((3, 3), 2), R(1, 4, 4)),
    "Unfold": _c(lambda nn: nn.Unfold(2), R(1, 2, 3, 3)),
    "Upsample": _c(lambda nn: nn.Upsample(scale_factor=2, mode="nearest"), R(1, 2, 2, 2)),
    "UpsamplingBilinear2d": _c(lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
                               R(1, 2, 2, 2)),
    "UpsamplingNearest2d": _c(lambda nn: nn.UpsamplingNearest2d(scale_factor=2), R(1, 2, 2, 2)),
    "CosineSimilarity": _c(lambda nn: nn.CosineSimilarity(), R(3, 4), R(3, 4)),
    "PairwiseDistance": _c(lambda nn: nn.PairwiseDistance(), R(3, 4), R(3, 4)),
    # embeddings
    "Embedding": _c(lambda nn: nn.Embedding(5, 3), I(5, 2, 3)),
    "EmbeddingBag": _c(lambda nn: nn.EmbeddingBag(5, 3, mode="mean"), I(5, 2, 3)),
    # convolutions
    "Conv1d": _c(lambda nn: nn.Conv1d(2, 3, 2), R(2, 2, 5)),
    "Conv2d": _c(lambda nn: nn.Conv2d(2, 3, 2, padding=1), R(1, 2, 4, 4)),
    "Conv3d": _c(lambda nn: nn.Conv3d(2, 2, 2), R(1, 2, 3, 3, 3)),
    "ConvTranspose1d": _c(lambda nn: nn.ConvTranspose1d(2, 3, 2, stride=2), R(2, 2, 4)),
    "ConvTranspose2d": _c(lambda nn: nn.ConvTranspose2d(2, 3, 2), R(1, 2, 3, 3)),
    "ConvTranspose3d": _c(lambda nn: nn.ConvTranspose3d(2, 2, 2), R(1, 2, 2, 2, 2)),
    "LazyConv1d": _c(lambda nn: nn.LazyConv1d(3, 2), R(2, 2, 5)),
    "LazyConv2d": _c(lambda nn: nn.LazyConv2d(3, 2), R(1, 2, 4, 4)),
    "LazyConv3d": _c(lambda nn: nn.LazyConv3d(2, 2), R(1, 2, 3, 3, 3)),
    "LazyConvTranspose1d": _c(lambda nn: nn.LazyConvTranspose1d(3, 2), R(2, 2, 4)),
    "LazyConvTranspose2d": _c(lambda nn: nn.LazyConvTranspose2d(3, 2), R(1, 2, 3, 3)),
    "LazyConvTranspose3d": _c(lambda nn: nn.LazyConvTranspose3d(2, 2), R(1, 2, 2, 2, 2)),
    # padding
    "CircularPad1d": _c(lambda nn: nn.CircularPad1d(1), R(1, 2, 4)),
    "CircularPad2d": _c(lambda nn: nn.CircularPad2d(1), R(1, 2, 3, 3)),
    "CircularPad3d": _c(lambda nn: nn.CircularPad3d(1), R(1, 1, 2, 2, 2)),
    "ConstantPad1d": _c(lambda nn: nn.ConstantPad1d(1, 0.5), R(1, 2, 4)),
    "ConstantPad2d": _c(lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -1.0), R(1, 2, 3, 3)),
    "ConstantPad3d": _c(lambda nn: nn.ConstantPad3d(1, 2.0), R(1, 1, 2, 2, 2)),
    "ReflectionPad1d": _c(lambda nn: nn.ReflectionPad1d(1), R(1, 2, 4)),
    "ReflectionPad2d": _c(lambda nn: nn.ReflectionPad2d(1), R(1, 2, 3, 3)),
    "ReflectionPad3d": _c(lambda nn: nn.ReflectionPad3d(1), R(1, 1, 2, 2, 2)),
    "ReplicationPad1d": _c(lambda nn: nn.ReplicationPad1d(1), R(1, 2, 4)),
    "ReplicationPad2d": _c(lambda nn: nn.ReplicationPad2d(1), R(1, 2, 3, 3)),
    "ReplicationPad3d": _c(lambda nn: nn.ReplicationPad3d(1), R(1, 1, 2, 2, 2)),
    "ZeroPad1d": _c(lambda nn: nn.ZeroPad1d(1), R(1, 2, 4)),
    "ZeroPad2d": _c(lambda nn: nn.ZeroPad2d(1), R(1, 2, 3, 3)),
    "ZeroPad3d": _c(lambda nn: nn.ZeroPad3d(1), R(1, 1, 2, 2, 2)),
    # pooling
    "AdaptiveAvgPool1d": _c(lambda nn: nn.AdaptiveAvgPool1d(2), R(1, 2, 5)),
    "AdaptiveAvgPool2d": _c(lambda nn: nn.AdaptiveAvgPool2d(2), R(1, 2, 5, 4)),
    "AdaptiveAvgPool3d": _c(lambda nn: nn.AdaptiveAvgPool3d(2), R(1, 1, 3, 3, 3)),
    "AdaptiveMaxPool1d": _c(lambda nn: nn.AdaptiveMaxPool1d(2), R(1, 2, 5)),
    "AdaptiveMaxPool2d": _c(lambda nn: nn.AdaptiveMaxPool2d(2), R(1, 2, 5, 4)),
    "AdaptiveMaxPool3d": _c(lambda nn: nn.AdaptiveMaxPool3d(2), R(1, 1, 3, 3, 3)),
    "AvgPool1d": _c(lambda nn: nn.AvgPool1d(2), R(1, 2, 5)),
    "AvgPool2d": _c(lambda nn: nn.AvgPool2d(2, padding=1), R(1, 2, 4, 4)),
    "AvgPool3d": _c(lambda nn: nn.AvgPool3d(2), R(1, 1, 3, 3, 3)),
    "MaxPool1d": _c(lambda nn: nn.MaxPool1d(2), R(1, 2, 5)),
    "MaxPool2d": _c(lambda nn: nn.MaxPool2d(2, stride=1), R(1, 2, 4, 4)),
    "MaxPool3d": _c(lambda nn: nn.MaxPool3d(2), R(1, 1, 3, 3, 3)),
    "MaxUnpool1d": _c(lambda nn: nn.MaxUnpool1d(2), R(1, 2, 6), call=_unpool("max_pool1d")),
    "MaxUnpool2d": _c(lambda nn: nn.MaxUnpool2d(2), R(1, 2, 4, 4), call=_unpool("max_pool2d")),
    "MaxUnpool3d": _c(lambda nn: nn.MaxUnpool3d(2), R(1, 1, 4, 4, 4),
                      call=_unpool("max_pool3d")),
    # normalization
    "BatchNorm1d": _c(lambda nn: nn.BatchNorm1d(3), R(4, 3)),
    "BatchNorm2d": _c(lambda nn: nn.BatchNorm2d(2), R(3, 2, 2, 2)),
    "BatchNorm3d": _c(lambda nn: nn.BatchNorm3d(2), R(2, 2, 2, 2, 2)),
    "LazyBatchNorm1d": _c(lambda nn: nn.LazyBatchNorm1d(), R(4, 3)),
    "LazyBatchNorm2d": _c(lambda nn: nn.LazyBatchNorm2d(), R(3, 2, 2, 2)),
    "LazyBatchNorm3d": _c(lambda nn: nn.LazyBatchNorm3d(), R(2, 2, 2, 2, 2)),
    "InstanceNorm1d": _c(lambda nn: nn.InstanceNorm1d(2, affine=True), R(2, 2, 5)),
    "InstanceNorm2d": _c(lambda nn: nn.InstanceNorm2d(2, track_running_stats=True),
                         R(2, 2, 3, 3)),
    "InstanceNorm3d": _c(lambda nn: nn.InstanceNorm3d(2), R(1, 2, 2, 2, 3)),
    "LazyInstanceNorm1d": _c(lambda nn: nn.LazyInstanceNorm1d(affine=True), R(2, 2, 5)),
    "LazyInstanceNorm2d": _c(lambda nn: nn.LazyInstanceNorm2d(), R(2, 2, 3, 3)),
    "LazyInstanceNorm3d": _c(lambda nn: nn.LazyInstanceNorm3d(), R(1, 2, 2, 2, 3)),
    "GroupNorm": _c(lambda nn: nn.GroupNorm(2, 4), R(3, 4, 2)),
    "LayerNorm": _c(lambda nn: nn.LayerNorm(3), R(2, 4, 3)),
    "RMSNorm": _c(lambda nn: nn.RMSNorm(3), R(2, 4, 3)),
    "LocalResponseNorm": _c(lambda nn: nn.LocalResponseNorm(2), R(1, 4, 3, 3)),
    # dropout (random: runs eagerly inside a region, the stream must be eager's)
    "Dropout": _c(lambda nn: nn.Dropout(0.3), R(4, 5)),
    "Dropout1d": _c(lambda nn: nn.Dropout1d(0.3), R(2, 4, 5)),
    "Dropout2d": _c(lambda nn: nn.Dropout2d(0.3), R(2, 4, 3, 3)),
    "Dropout3d": _c(lambda nn: nn.Dropout3d(0.3), R(2, 4, 2, 2, 2)),
    "AlphaDropout": _c(lambda nn: nn.AlphaDropout(0.3), R(4, 5)),
    "FeatureAlphaDropout": _c(lambda nn: nn.FeatureAlphaDropout(0.3), R(2, 4, 3, 3)),
    # recurrent
    "RNN": _c(lambda nn: nn.RNN(3, 4), R(5, 2, 3)),
    "LSTM": _c(lambda nn: nn.LSTM(3, 4, num_layers=2), R(5, 2, 3)),
    "GRU": _c(lambda nn: nn.GRU(3, 4, batch_first=True), R(2, 5, 3)),
    "RNNCell": _c(lambda nn: nn.RNNCell(3, 4), R(2, 3), R(2, 4)),
    "LSTMCell": _c(lambda nn: nn.LSTMCell(3, 4), R(2, 3)),
    "GRUCell": _c(lambda nn: nn.GRUCell(3, 4), R(2, 3), R(2, 4)),
    # transformers (dropout 0: the random stream is tested by the dropout layers)
    "TransformerEncoderLayer": _c(lambda nn: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0),
                                  R(3, 2, 4)),
    "TransformerDecoderLayer": _c(lambda nn: nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0),
                                  R(3, 2, 4), R(2, 2, 4)),
    "TransformerEncoder": _c(lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), 2), R(3, 2, 4)),
    "TransformerDecoder": _c(lambda nn: nn.TransformerDecoder(
        nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0), 2), R(3, 2, 4), R(2, 2, 4)),
    "Transformer": _c(lambda nn: nn.Transformer(4, 2, 1, 1, 8, dropout=0.0), R(3, 2, 4),
                      R(2, 2, 4)),
    # losses
    "BCELoss": _c(lambda nn: nn.BCELoss(), U(3, 2), U(3, 2)),
    "BCEWithLogitsLoss": _c(lambda nn: nn.BCEWithLogitsLoss(), R(3, 2), U(3, 2)),
    "CTCLoss": _c(lambda nn: nn.CTCLoss(), lambda rng: np.log(
        np.random.default_rng(1).dirichlet(np.ones(4), (6, 2))).astype(np.float32),
        S(1, 2, 1, 3, 3, 1), S(6, 5), S(3, 3)),
    "CosineEmbeddingLoss": _c(lambda nn: nn.CosineEmbeddingLoss(0.1), R(3, 4), R(3, 4),
                              S(1, -1, 1)),
    "CrossEntropyLoss": _c(lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), R(4, 3),
                           I(3, 4)),
    "GaussianNLLLoss": _c(lambda nn: nn.GaussianNLLLoss(), R(3, 2), R(3, 2), P(3, 2)),
    "HingeEmbeddingLoss": _c(lambda nn: nn.HingeEmbeddingLoss(), R(3, 2), _pm(3, 2)),
    "HuberLoss": _c(lambda nn: nn.HuberLoss(delta=0.5), R(3, 2), R(3, 2)),
    "KLDivLoss": _c(lambda nn: nn.KLDivLoss(reduction="batchmean"), R(3, 2), U(3, 2)),
    "L1Loss": _c(lambda nn: nn.L1Loss(), R(3, 2), R(3, 2)),
    "MSELoss": _c(lambda nn: nn.MSELoss(), R(3, 2), R(3, 2)),
    "MarginRankingLoss": _c(lambda nn: nn.MarginRankingLoss(0.2), R(4), R(4), _pm(4)),
    "MultiLabelMarginLoss": _c(lambda nn: nn.MultiLabelMarginLoss(), R(2, 4),
                               lambda rng: np.array([[3, 0, -1, 1], [1, 2, 3, -1]])),
    "MultiLabelSoftMarginLoss": _c(lambda nn: nn.MultiLabelSoftMarginLoss(), R(2, 4),
                                   lambda rng: (rng.random((2, 4)) < 0.5).astype(np.float32)),
    "MultiMarginLoss": _c(lambda nn: nn.MultiMarginLoss(), R(4, 3), I(3, 4)),
    "NLLLoss": _c(lambda nn: nn.NLLLoss(), R(4, 3), I(3, 4)),
    "PoissonNLLLoss": _c(lambda nn: nn.PoissonNLLLoss(), R(3, 2), P(3, 2)),
    "SmoothL1Loss": _c(lambda nn: nn.SmoothL1Loss(beta=0.5), R(3, 2), R(3, 2)),
    "SoftMarginLoss": _c(lambda nn: nn.SoftMarginLoss(), R(3, 2), _pm(3, 2)),
    "TripletMarginLoss": _c(lambda nn: nn.TripletMarginLoss(), R(3, 4), R(3, 4), R(3, 4)),
    "TripletMarginWithDistanceLoss": _c(lambda nn: nn.TripletMarginWithDistanceLoss(),
                                        R(3, 4), R(3, 4), R(3, 4)),
}
# fmt: on

NOT_LAYERS: dict[str, str] = {
    "Module": "the base class: its forward is not implemented",
    "ModuleDict": "a container without forward (its layers are tested one by one)",
    "ModuleList": "a container without forward (its layers are tested one by one)",
    "ParameterDict": "a container of parameters without forward",
    "ParameterList": "a container of parameters without forward",
    "RNNBase": "the base class of RNN, LSTM and GRU: no forward (as torch's)",
    "RNNCellBase": "the base class of the cells: no forward (RNNCell, LSTMCell, GRUCell are)",
}
