"""Normalization layers: PyTorch parity in training and eval mode, running statistics,
momentum=None, affine=False, repr, and second-order gradients of the fused ops."""

import sys

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from gradwalk.autograd import gradcheck, gradgradcheck
from tests.fixtures.oracle import oracle

from .parity import check_layer, compare_runs, load_state, run_layer, state_of


def _randomize(mod, seed=0):
    """Non-trivial affine parameters and running statistics on the module (of torch: gradwalk's
    copy gets them through ``check_layer``)."""
    m = sys.modules[type(mod).__module__.partition(".")[0]]
    rng = np.random.default_rng(seed)
    with m.no_grad():
        for _, p in mod.named_parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape))))
        for _, b in mod.named_buffers():
            if b.is_floating_point():
                b.copy_(m.tensor(rng.uniform(0.5, 1.5, tuple(b.shape))))
    return mod


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 3, 2)),
                                       ("BatchNorm3d", (2, 3, 2, 2, 2))])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_matches_torch(cls, shape, training):
    x = np.random.default_rng(1).standard_normal(shape)
    ours, ref = check_layer(lambda m: _randomize(getattr(m.nn, cls)(3)).train(training), x)
    # the running statistics were updated the same way
    for name in [n for n, _ in getattr(nn, cls)(3).named_buffers()]:
        np.testing.assert_allclose(ours[name], ref[name], rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("kw", [dict(momentum=None), dict(affine=False), dict(bias=False),
                                dict(track_running_stats=False), dict(momentum=0.3, eps=1e-3)])
def test_batchnorm_options_match_torch_over_steps(kw):
    def steps(m, state=None):
        mod = m.nn.BatchNorm2d(2, **kw).double()
        if state is not None:
            load_state(mod, state)
        start = state_of(mod)
        rng = np.random.default_rng(2)
        runs = [run_layer(m, mod, [rng.standard_normal((3, 2, 2, 2))]) for _ in range(3)]
        mod.eval()
        runs.append(run_layer(m, mod, [rng.standard_normal((3, 2, 2, 2))]))
        return {"start": start, "runs": runs, "state": state_of(mod)}

    ref = oracle(steps)
    ours = steps(gradwalk, ref["start"])
    for a, b in zip(ours["runs"], ref["runs"], strict=True):
        compare_runs(a, b)
    sd_t = ref["state"]
    sd_g = ours["state"]
    assert list(sd_t) == list(sd_g)
    for k in sd_t:
        np.testing.assert_allclose(sd_g[k], sd_t[k], rtol=1e-12, err_msg=k)


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
    kws = (dict(momentum=None), dict(affine=False), dict(bias=False))
    assert [repr(nn.BatchNorm2d(3, **kw)) for kw in kws] == oracle(
        lambda torch: [repr(torch.nn.BatchNorm2d(3, **kw)) for kw in kws])


@pytest.mark.parametrize("shape,norm", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(shape, norm, affine):
    make = lambda m: m.nn.LayerNorm(norm, elementwise_affine=affine)  # noqa: E731
    check_layer(lambda m: _randomize(make(m), 3),
                np.random.default_rng(4).standard_normal(shape))
    assert repr(make(gradwalk)) == oracle(lambda torch: repr(make(torch)))


def test_layernorm_without_bias_and_is_one_node():
    check_layer(lambda m: _randomize(m.nn.LayerNorm(4, bias=False), 5),
                np.random.default_rng(5).standard_normal((3, 4)))
    y = nn.LayerNorm(4)(gradwalk.zeros(2, 4))
    assert y.grad_fn.name() == "NativeLayerNormBackward0"


@pytest.mark.parametrize("kw", [dict(), dict(affine=False), dict(bias=False)])
def test_groupnorm_matches_torch(kw):
    check_layer(lambda m: _randomize(m.nn.GroupNorm(2, 4, **kw), 6),
                np.random.default_rng(6).standard_normal((3, 4, 5)))
    assert repr(nn.GroupNorm(2, 4, **kw)) == oracle(lambda torch: repr(torch.nn.GroupNorm(2, 4,
                                                                                         **kw)))


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
