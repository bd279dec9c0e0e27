"""Recurrent layers: PyTorch parity (outputs, final states, gradients of inputs, initial states
and every weight), parameter names, repr."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle

from .parity import check_layer

CASES = [dict(), dict(num_layers=2), dict(bidirectional=True), dict(batch_first=True),
         dict(num_layers=2, bidirectional=True, batch_first=True), dict(bias=False)]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", CASES, ids=[str(c) for c in CASES])
def test_rnn_matches_torch(cls, kw):
    x = np.random.default_rng(0).standard_normal((4, 3, 5))
    check_layer(lambda m: getattr(m.nn, cls)(5, 6, **kw), x)


def test_rnn_relu_and_initial_state():
    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 2, 5))
    check_layer(lambda m: m.nn.RNN(3, 5, num_layers=2, nonlinearity="relu"), x, h0)


def test_lstm_initial_state_and_unbatched_input():
    rng = np.random.default_rng(2)
    x, h0, c0 = rng.standard_normal((4, 3)), rng.standard_normal((2, 5)), rng.standard_normal(
        (2, 5))
    check_layer(lambda m: m.nn.LSTM(3, 5, bidirectional=True), x, h0, c0,
                call=lambda m, x, h, c: m(x, (h, c)))


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(cls):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4))
    check_layer(lambda m: getattr(m.nn, cls)(4, 5), x)
    h = rng.standard_normal((3, 5))
    if cls == "LSTMCell":
        check_layer(lambda m: getattr(m.nn, cls)(4, 5), x, h, h * 0.5,
                    call=lambda m, x, h, c: m(x, (h, c)))
    else:
        check_layer(lambda m: getattr(m.nn, cls)(4, 5), x, h)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_parameter_names_shapes_and_repr_match_torch(cls):
    kw = dict(num_layers=2, bidirectional=True, batch_first=True, dropout=0.5)
    def names_and_reprs(m):
        mod = getattr(m.nn, cls)(3, 4, **kw)
        return ([(n, tuple(p.shape)) for n, p in mod.named_parameters()], repr(mod),
                repr(getattr(m.nn, cls)(3, 4)))

    t_names, t_repr, t_plain = oracle(names_and_reprs)
    g = getattr(nn, cls)(3, 4, **kw)
    assert t_names == [(n, p.shape) for n, p in g.named_parameters()]
    assert repr(g) == t_repr
    assert repr(getattr(nn, cls)(3, 4)) == t_plain


def test_rnn_init_bounds_and_errors():
    gradwalk.manual_seed(0)
    lstm = nn.LSTM(3, 16)
    for p in lstm.parameters():
        assert np.abs(p.detach().numpy()).max() <= 0.25  # 1 / sqrt(16)
    with pytest.raises(RuntimeError, match="input_size"):
        lstm(gradwalk.zeros(2, 1, 4))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        lstm(gradwalk.zeros(2, 1, 3), (gradwalk.zeros(1, 2, 16), gradwalk.zeros(1, 2, 16)))


def test_rnn_dropout_between_layers_only_in_training():
    gradwalk.manual_seed(0)
    rnn = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = gradwalk.randn(5, 2, 3)
    rnn.eval()
    a, _ = rnn(x)
    b, _ = rnn(x)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    rnn.train()
    c, _ = rnn(x)
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())
