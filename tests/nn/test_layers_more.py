"""Padding, channel dropout, shuffles, ``Bilinear``, instance norms and ``interpolate`` against
PyTorch: values, gradients, ``repr`` and ``state_dict`` keys."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

rng = np.random.default_rng(0)


def _run(lib, fn, arrays, seed=1):
    """``fn(lib, *inputs)`` and the inputs' gradients for a seeded cotangent."""
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(lib, *xs)
    c = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    (y * lib.tensor(c)).sum().backward()
    return [y.detach().numpy()] + [x.grad.numpy() for x in xs]


def _compare(ref, ours):
    assert len(ours) == len(ref)
    for k, (t, g) in enumerate(zip(ref, ours)):
        assert g.shape == t.shape, k
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12, err_msg=f"result {k}")


def _both(fn, arrays, seed=1):
    _compare(oracle(lambda torch: _run(torch, fn, arrays, seed)), _run(gradwalk, fn, arrays, seed))


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
    raised = oracle(lambda torch: error_of(
        lambda: torch.nn.functional.interpolate(torch.tensor(X1), **kw)))
    assert raised is not None and err.__name__ in raised, raised
    with pytest.raises(err):
        gradwalk.nn.functional.interpolate(gradwalk.tensor(X1), **kw)


def test_shuffles_bilinear_instance_norm():
    rng = np.random.default_rng(2)
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


def _module_run(lib, name, args, x):
    m = getattr(lib.nn, name)(*args)
    out = {"repr": repr(m), "keys": list(m.state_dict())}
    m.double()
    if name.startswith("InstanceNorm") and m.affine:
        rng = np.random.default_rng(3)
        w, b = rng.standard_normal(x.shape[1]), rng.standard_normal(x.shape[1])
        m.weight.data[...] = w if lib is gradwalk else lib.tensor(w)
        m.bias.data[...] = b if lib is gradwalk else lib.tensor(b)
    out["eval"] = _run(lib, lambda lib, t: m.eval()(t), [x])
    if getattr(m, "track_running_stats", False):
        m.train()
        m(lib.tensor(x))
        out["running"] = [m.running_mean.detach().numpy(), m.running_var.detach().numpy()]
        out["eval after"] = _run(lib, lambda lib, t: m.eval()(t), [x])
    return out


@pytest.mark.parametrize("name,args,x", MODULES, ids=[f"{m[0]}{m[1]}" for m in MODULES])
def test_modules_match_pytorch(name, args, x):
    ref = oracle(lambda torch: _module_run(torch, name, args, x))
    ours = _module_run(gradwalk, name, args, x)
    assert ours["repr"] == ref["repr"]
    assert ours["keys"] == ref["keys"]
    _compare(ref["eval"], ours["eval"])
    assert sorted(ours) == sorted(ref)
    if "running" in ref:
        for g, t in zip(ours["running"], ref["running"]):
            np.testing.assert_allclose(g, t, rtol=1e-12)
        _compare(ref["eval after"], ours["eval after"])


def _bilinear(lib, a, b, state=None):
    m = lib.nn.Bilinear(3, 4, 2).double()
    if state is not None:
        m.load_state_dict(state)
    return {"repr": repr(m), "state": {k: v.detach().numpy() for k, v in m.state_dict().items()},
            "run": _run(lib, lambda lib, s, t: m(s, t), [a, b])}


def test_bilinear_module():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    ref = oracle(lambda torch: _bilinear(torch, a, b))
    ours = _bilinear(gradwalk, a, b, ref["state"])
    assert ours["repr"] == ref["repr"]
    _compare(ref["run"], ours["run"])
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
