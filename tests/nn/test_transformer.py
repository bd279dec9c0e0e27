"""The Transformer layers against PyTorch: same weights (through ``state_dict``), same outputs
and gradients, post-norm and pre-norm, with causal and padding masks."""

import numpy as np
import pytest

import gradwalk

torch = pytest.importorskip("torch")


def _load(tm, gm):
    tm.double()
    gm.double()
    sd = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    res = gm.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys
    assert list(gm.state_dict()) == list(tm.state_dict())


def _compare(tm, gm, arrays, masks=(), kwargs=None, train=True):
    _load(tm, gm)
    tm.train(train)
    gm.train(train)
    kwargs = kwargs or {}
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    gin = [gradwalk.tensor(a, requires_grad=True) for a in arrays]
    tk = {k: torch.tensor(v) for k, v in kwargs.items()}
    gk = {k: gradwalk.tensor(v) for k, v in kwargs.items()}
    ty = tm(*tin, **tk)
    gy = gm(*gin, **gk)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-9, atol=1e-10)
    c = np.random.default_rng(5).standard_normal(ty.shape)
    (ty * torch.tensor(c)).sum().backward()
    (gy * gradwalk.tensor(c)).sum().backward()
    for t, g in zip(tin, gin):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    tp = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-10, err_msg=name)


rng = np.random.default_rng(0)
SRC = rng.standard_normal((5, 2, 8))
TGT = rng.standard_normal((4, 2, 8))
CAUSAL4 = np.triu(np.full((4, 4), -np.inf), 1)
PAD = np.array([[False, False, False, True, True], [False] * 5])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(norm_first, activation):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, activation=activation,
              norm_first=norm_first)
    _compare(torch.nn.TransformerEncoderLayer(**kw), gradwalk.nn.TransformerEncoderLayer(**kw),
             [SRC])
    _compare(torch.nn.TransformerEncoderLayer(**kw), gradwalk.nn.TransformerEncoderLayer(**kw),
             [SRC], kwargs={"src_key_padding_mask": PAD})


def test_encoder_layer_batch_first_eval():
    kw = dict(d_model=8, nhead=4, dim_feedforward=12, batch_first=True)
    _compare(torch.nn.TransformerEncoderLayer(**kw), gradwalk.nn.TransformerEncoderLayer(**kw),
             [SRC.transpose(1, 0, 2)], train=False)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(norm_first):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    _compare(torch.nn.TransformerDecoderLayer(**kw), gradwalk.nn.TransformerDecoderLayer(**kw),
             [TGT, SRC], kwargs={"tgt_mask": CAUSAL4})


def test_stacks_and_transformer():
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    g_layer = gradwalk.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    _compare(torch.nn.TransformerEncoder(t_layer, 2, torch.nn.LayerNorm(8),
                                         enable_nested_tensor=False),
             gradwalk.nn.TransformerEncoder(g_layer, 2, gradwalk.nn.LayerNorm(8)), [SRC])
    t_dec = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)
    g_dec = gradwalk.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)
    _compare(torch.nn.TransformerDecoder(t_dec, 2), gradwalk.nn.TransformerDecoder(g_dec, 2),
             [TGT, SRC], kwargs={"tgt_mask": CAUSAL4})
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=16, dropout=0.0)
    _compare(torch.nn.Transformer(**kw), gradwalk.nn.Transformer(**kw), [SRC, TGT],
             kwargs={"tgt_mask": CAUSAL4})


def test_square_subsequent_mask_and_repr():
    np.testing.assert_array_equal(
        gradwalk.nn.Transformer.generate_square_subsequent_mask(3).numpy(),
        torch.nn.Transformer.generate_square_subsequent_mask(3).numpy())
    kw = dict(d_model=8, nhead=2, dim_feedforward=16)
    assert repr(gradwalk.nn.TransformerEncoderLayer(**kw)) == repr(
        torch.nn.TransformerEncoderLayer(**kw))


def test_bad_activation_and_shapes():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        gradwalk.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    model = gradwalk.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number"):
        model(gradwalk.randn(5, 2, 8), gradwalk.randn(4, 3, 8))
