"""The Transformer layers against PyTorch: same weights (through ``state_dict``), same outputs
and gradients, post-norm and pre-norm, with causal and padding masks."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _run(lib, model, arrays, kwargs, train):
    """The output, input gradients and parameter gradients for a seeded cotangent."""
    model.train(train)
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = model(*xs, **{k: lib.tensor(v) for k, v in kwargs.items()})
    c = np.random.default_rng(5).standard_normal(tuple(y.shape))
    (y * lib.tensor(c)).sum().backward()
    return {"y": y.detach().numpy(), "input_grads": [x.grad.numpy() for x in xs],
            "param_grads": {n: p.grad.numpy() for n, p in model.named_parameters()}}


def _torch_side(torch, make, arrays, kwargs, train):
    tm = make(torch).double()
    state = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    return {"state": state, "keys": list(state), "run": _run(torch, tm, arrays, kwargs, train)}


def _compare(make, arrays, kwargs=None, train=True):
    """``make(lib)`` builds the model in torch and gradwalk; gradwalk's gets torch's weights."""
    kwargs = kwargs or {}
    ref = oracle(lambda torch: _torch_side(torch, make, arrays, kwargs, train))
    gm = make(gradwalk).double()
    res = gm.load_state_dict(ref["state"])
    assert not res.missing_keys and not res.unexpected_keys
    assert list(gm.state_dict()) == ref["keys"]
    ours, theirs = _run(gradwalk, gm, arrays, kwargs, train), ref["run"]
    np.testing.assert_allclose(ours["y"], theirs["y"], rtol=1e-9, atol=1e-10)
    for t, g in zip(theirs["input_grads"], ours["input_grads"]):
        np.testing.assert_allclose(g, t, rtol=1e-8, atol=1e-10)
    tp = theirs["param_grads"]
    for name, p in ours["param_grads"].items():
        np.testing.assert_allclose(p, tp[name], rtol=1e-8, atol=1e-10, err_msg=name)


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
    _compare(lambda lib: lib.nn.TransformerEncoderLayer(**kw), [SRC])
    _compare(lambda lib: lib.nn.TransformerEncoderLayer(**kw), [SRC],
             kwargs={"src_key_padding_mask": PAD})


def test_encoder_layer_batch_first_eval():
    kw = dict(d_model=8, nhead=4, dim_feedforward=12, batch_first=True)
    _compare(lambda lib: lib.nn.TransformerEncoderLayer(**kw), [SRC.transpose(1, 0, 2)],
             train=False)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(norm_first):
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    _compare(lambda lib: lib.nn.TransformerDecoderLayer(**kw), [TGT, SRC],
             kwargs={"tgt_mask": CAUSAL4})


def _encoder_stack(lib):
    layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    extra = {} if lib is gradwalk else {"enable_nested_tensor": False}
    return lib.nn.TransformerEncoder(layer, 2, lib.nn.LayerNorm(8), **extra)


def test_stacks_and_transformer():
    _compare(_encoder_stack, [SRC])
    _compare(lambda lib: lib.nn.TransformerDecoder(
        lib.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2), [TGT, SRC],
        kwargs={"tgt_mask": CAUSAL4})
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=16, dropout=0.0)
    _compare(lambda lib: lib.nn.Transformer(**kw), [SRC, TGT], kwargs={"tgt_mask": CAUSAL4})


def test_square_subsequent_mask_and_repr():
    kw = dict(d_model=8, nhead=2, dim_feedforward=16)
    mask, layer = oracle(lambda torch: (torch.nn.Transformer.generate_square_subsequent_mask(3),
                                        repr(torch.nn.TransformerEncoderLayer(**kw))))
    np.testing.assert_array_equal(
        gradwalk.nn.Transformer.generate_square_subsequent_mask(3).numpy(), mask)
    assert repr(gradwalk.nn.TransformerEncoderLayer(**kw)) == layer


def test_bad_activation_and_shapes():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        gradwalk.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    model = gradwalk.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number"):
        model(gradwalk.randn(5, 2, 8), gradwalk.randn(4, 3, 8))
