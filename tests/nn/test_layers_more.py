"""Padding, channel dropout, shuffles, ``Bilinear``, instance norms and ``interpolate`` against
PyTorch: values, gradients, ``repr`` and ``state_dict`` keys."""

import numpy as np
import pytest

import gradwalk

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


def _both(fn, arrays, seed=1):
    res = []
    for lib in (torch, gradwalk):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *xs)
        c = np.random.default_rng(seed).standard_normal(tuple(y.shape))
        (y * lib.tensor(c)).sum().backward()
        res.append([y.detach().numpy()] + [x.grad.numpy() for x in xs])
    for k, (t, g) in enumerate(zip(*res)):
        assert g.shape == t.shape, k
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12, err_msg=f"result {k}")


X1 = rng.standard_normal((2, 3, 7))
X2 = rng.standard_normal((2, 3, 5, 6))
X3 = rng.standard_normal((1, 2, 3, 4, 5))


INTERP = [
    (X1, dict(scale_factor=2, mode="nearest")), (X1, dict(size=4, mode="nearest")),
    (X1, dict(size=11, mode="nearest-exact")), (X1, dict(scale_factor=1.7, mode="linear")),
    (X1, dict(size=12, mode="linear", align_corners=True)),
    (X1, dict(size=3, mode="linear")),
    (X2, dict(scale_factor=2, mode="bilinear")),
    (X2, dict(size=(3, 9), mode="bilinear", align_corners=True)),
    (X2, dict(scale_factor=(1.5, 0.5), mode="bilinear", recompute_scale_factor=True)),
    (X2, dict(size=(8, 7), mode="bicubic")),
    (X2, dict(size=(8, 11), mode="bicubic", align_corners=True)),
    (X2, dict(scale_factor=3, mode="nearest")),
    (X3, dict(scale_factor=2, mode="trilinear")),
    (X3, dict(size=(2, 5, 3), mode="nearest")),
]


@pytest.mark.parametrize("x,kw", INTERP, ids=[str(k) for _, k in INTERP])
def test_interpolate(x, kw):
    _both(lambda lib, t: lib.nn.functional.interpolate(t, **kw), [x])


@pytest.mark.parametrize("kw,err", [
    (dict(scale_factor=2, mode="bilinear"), NotImplementedError),
    (dict(mode="nearest"), ValueError),
    (dict(size=4, mode="nearest", align_corners=True), ValueError),
])
def test_interpolate_errors(kw, err):
    with pytest.raises(err):
        torch.nn.functional.interpolate(torch.tensor(X1), **kw)
    with pytest.raises(err):
        gradwalk.nn.functional.interpolate(gradwalk.tensor(X1), **kw)


def test_shuffles_bilinear_instance_norm():
    _both(lambda lib, t: lib.nn.functional.pixel_shuffle(t, 2), [rng.standard_normal((2, 8, 3, 4))])
    _both(lambda lib, t: lib.nn.functional.pixel_unshuffle(t, 2), [X2[:, :, :4, :6]])
    _both(lambda lib, t: lib.nn.functional.channel_shuffle(t, 3),
          [rng.standard_normal((2, 6, 3))])
    _both(lambda lib, a, b, w, c: lib.nn.functional.bilinear(a, b, w, c),
          [rng.standard_normal((4, 3)), rng.standard_normal((4, 5)),
           rng.standard_normal((2, 3, 5)), rng.standard_normal(2)])
    _both(lambda lib, t, w, b: lib.nn.functional.instance_norm(t, weight=w, bias=b),
          [X2, rng.standard_normal(3), rng.standard_normal(3)])


MODULES = [
    ("ZeroPad1d", ((1, 2),), X1), ("ZeroPad2d", (2,), X2), ("ZeroPad3d", (1,), X3),
    ("ConstantPad1d", (2, 3.5), X1), ("ConstantPad2d", ((1, 2, 3, 0), -1.0), X2),
    ("ConstantPad3d", (1, 0.5), X3), ("ReflectionPad1d", (2,), X1),
    ("ReflectionPad2d", ((1, 2, 0, 3),), X2), ("ReflectionPad3d", (1,), X3),
    ("ReplicationPad1d", (3,), X1), ("ReplicationPad2d", (1,), X2),
    ("ReplicationPad3d", (2,), X3), ("CircularPad1d", (2,), X1), ("CircularPad2d", (1,), X2),
    ("CircularPad3d", (1,), X3), ("PixelShuffle", (1,), X2), ("PixelUnshuffle", (1,), X2),
    ("ChannelShuffle", (3,), X2), ("InstanceNorm1d", (3,), X1),
    ("InstanceNorm2d", (3, 1e-5, 0.1, True), X2),
    ("InstanceNorm2d", (3, 1e-3, 0.2, True, True), X2), ("InstanceNorm3d", (2,), X3),
    ("Upsample", (None, 2.0), X2), ("Upsample", ((4, 9), None, "bilinear", True), X2),
    ("UpsamplingNearest2d", (None, 2), X2), ("UpsamplingBilinear2d", ((7, 3),), X2),
    ("Dropout1d", (0.3,), X1), ("Dropout2d", (), X2), ("Dropout3d", (), X3),
    ("AlphaDropout", (0.2,), X1), ("FeatureAlphaDropout", (), X2),
]


@pytest.mark.parametrize("name,args,x", MODULES, ids=[f"{m[0]}{m[1]}" for m in MODULES])
def test_modules_match_pytorch(name, args, x):
    tm, gm = getattr(torch.nn, name)(*args), getattr(gradwalk.nn, name)(*args)
    assert repr(gm) == repr(tm)
    assert list(gm.state_dict()) == list(tm.state_dict())
    tm.double()
    gm.double()
    if name.startswith("InstanceNorm") and tm.affine:
        w, b = rng.standard_normal(x.shape[1]), rng.standard_normal(x.shape[1])
        for m, lib in ((tm, torch), (gm, gradwalk)):
            m.weight.data[...] = lib.tensor(w) if lib is torch else w
            m.bias.data[...] = lib.tensor(b) if lib is torch else b
    _both(lambda lib, t: (tm if lib is torch else gm).eval()(t), [x])
    if getattr(tm, "track_running_stats", False):
        for m in (tm, gm):
            m.train()
        tm(torch.tensor(x))
        gm(gradwalk.tensor(x))
        np.testing.assert_allclose(gm.running_mean.numpy(), tm.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gm.running_var.numpy(), tm.running_var.numpy(), rtol=1e-12)
        _both(lambda lib, t: (tm if lib is torch else gm).eval()(t), [x])


def test_bilinear_module():
    tm, gm = torch.nn.Bilinear(3, 4, 2).double(), gradwalk.nn.Bilinear(3, 4, 2).double()
    assert repr(gm) == repr(tm)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    _both(lambda lib, s, t: (tm if lib is torch else gm)(s, t), [a, b])
    bound = 1 / np.sqrt(3)
    w = gradwalk.nn.Bilinear(3, 4, 2).weight.detach().numpy()
    assert np.abs(w).max() <= bound and w.std() > bound / 4


@pytest.mark.parametrize("name,x", [("dropout1d", X1), ("dropout2d", X2), ("dropout3d", X3)])
def test_channel_dropout_zeroes_whole_channels(name, x):
    gradwalk.manual_seed(0)
    y = getattr(gradwalk.nn.functional, name)(gradwalk.tensor(np.abs(x) + 1), 0.5).numpy()
    per_channel = y.reshape(y.shape[0], y.shape[1], -1)
    zero = (per_channel == 0).all(-1)
    kept = (per_channel != 0).all(-1)
    assert (zero | kept).all() and zero.any() and kept.any()
    np.testing.assert_allclose(per_channel[kept], 2 * (np.abs(x) + 1).reshape(
        per_channel.shape)[kept])


def test_alpha_dropout_keeps_mean_and_variance():
    gradwalk.manual_seed(0)
    x = gradwalk.randn(200000, dtype=gradwalk.float64)
    y = gradwalk.nn.functional.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
