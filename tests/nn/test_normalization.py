"""Normalization layers: PyTorch parity in training and eval mode, running statistics,
momentum=None, affine=False, repr, and second-order gradients of the fused ops."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from gradwalk.autograd import gradcheck, gradgradcheck

from .parity import check_layer, load_from_torch

torch = pytest.importorskip("torch")


def _randomize(tmod, seed=0):
    """Non-trivial affine parameters and running statistics on the torch module."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, p in tmod.named_parameters():
            p.copy_(torch.tensor(rng.standard_normal(p.shape)))
        for _, b in tmod.named_buffers():
            if b.is_floating_point():
                b.copy_(torch.tensor(rng.uniform(0.5, 1.5, b.shape)))


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 3, 2)),
                                       ("BatchNorm3d", (2, 3, 2, 2, 2))])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_matches_torch(cls, shape, training):
    tmod, gmod = getattr(torch.nn, cls)(3), getattr(nn, cls)(3)
    _randomize(tmod)
    tmod.train(training)
    gmod.train(training)
    x = np.random.default_rng(1).standard_normal(shape)
    check_layer(tmod, gmod, x)
    # the running statistics were updated the same way
    for name, tb in tmod.named_buffers():
        np.testing.assert_allclose(gmod.get_buffer(name).numpy(), tb.numpy(), rtol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("kw", [dict(momentum=None), dict(affine=False), dict(bias=False),
                                dict(track_running_stats=False), dict(momentum=0.3, eps=1e-3)])
def test_batchnorm_options_match_torch_over_steps(kw):
    tmod, gmod = torch.nn.BatchNorm2d(2, **kw), nn.BatchNorm2d(2, **kw)
    load_from_torch(tmod, gmod)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((3, 2, 2, 2))
        check_layer(tmod, gmod, x, load=False)
    tmod.eval()
    gmod.eval()
    check_layer(tmod, gmod, rng.standard_normal((3, 2, 2, 2)), load=False)
    sd_t = tmod.state_dict()
    sd_g = gmod.state_dict()
    assert list(sd_t) == list(sd_g)
    for k in sd_t:
        np.testing.assert_allclose(sd_g[k].numpy(), sd_t[k].numpy(), rtol=1e-12, err_msg=k)


def test_batchnorm_state_and_errors():
    bn = nn.BatchNorm2d(3)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == gradwalk.int64
    bn.double()
    assert bn.num_batches_tracked.dtype == gradwalk.int64  # integer buffers keep their dtype
    assert bn.running_mean.dtype == gradwalk.float64
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(gradwalk.zeros(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(gradwalk.zeros(1, 3))
    for kw in (dict(momentum=None), dict(affine=False), dict(bias=False)):
        assert repr(nn.BatchNorm2d(3, **kw)) == repr(torch.nn.BatchNorm2d(3, **kw))


@pytest.mark.parametrize("shape,norm", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(shape, norm, affine):
    tmod = torch.nn.LayerNorm(norm, elementwise_affine=affine)
    gmod = nn.LayerNorm(norm, elementwise_affine=affine)
    _randomize(tmod, 3)
    check_layer(tmod, gmod, np.random.default_rng(4).standard_normal(shape))
    assert repr(gmod) == repr(tmod)


def test_layernorm_without_bias_and_is_one_node():
    tmod, gmod = torch.nn.LayerNorm(4, bias=False), nn.LayerNorm(4, bias=False)
    _randomize(tmod, 5)
    check_layer(tmod, gmod, np.random.default_rng(5).standard_normal((3, 4)))
    y = nn.LayerNorm(4)(gradwalk.zeros(2, 4))
    assert y.grad_fn.name() == "NativeLayerNormBackward0"


@pytest.mark.parametrize("kw", [dict(), dict(affine=False), dict(bias=False)])
def test_groupnorm_matches_torch(kw):
    tmod, gmod = torch.nn.GroupNorm(2, 4, **kw), nn.GroupNorm(2, 4, **kw)
    _randomize(tmod, 6)
    check_layer(tmod, gmod, np.random.default_rng(6).standard_normal((3, 4, 5)))
    assert repr(gmod) == repr(tmod)


def test_norm_ops_second_order_gradients():
    rng = np.random.default_rng(7)
    x = gradwalk.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    w = gradwalk.tensor(rng.standard_normal(3), requires_grad=True)
    b = gradwalk.tensor(rng.standard_normal(3), requires_grad=True)
    F = nn.functional
    bn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert gradcheck(bn, (x, w, b)) and gradgradcheck(bn, (x, w, b))
    w2 = gradwalk.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b2 = gradwalk.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    ln = lambda x, w, b: F.layer_norm(x, (3, 2), w, b)  # noqa: E731
    assert gradcheck(ln, (x, w2, b2)) and gradgradcheck(ln, (x, w2, b2))
