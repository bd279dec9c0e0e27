"""Winograd F(2x2, 3x3) (``ops/conv_winograd.py``, Note [winograd F(2x2,3x3)]): PyTorch parity of
the values and the three gradients in float64 and float32 (with ``MIN_CHANNELS`` lowered so that
small shapes take it), the choice of the algorithm, the batch tiles, double backward and forward
AD through it."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import conv_gemm, conv_winograd
from tests.fixtures.oracle import oracle

F = gradwalk.nn.functional

CASES = [  # (n, c, o, (h, w), padding): odd and even outputs, no padding, wide padding
    (2, 3, 4, (6, 6), 1),
    (2, 2, 3, (7, 5), 1),
    (1, 3, 2, (5, 8), 0),
    (2, 2, 2, (3, 3), 0),  # one output
    (1, 2, 3, (4, 5), 2),
    (3, 1, 1, (9, 4), (0, 1)),
]
IDS = [f"winograd-{i}" for i in range(len(CASES))]


@pytest.fixture
def everywhere(monkeypatch):
    """Winograd for every 3x3 stride-1 convolution, whatever its width."""
    monkeypatch.setattr(conv_winograd, "MIN_CHANNELS", 1)


def _inputs(case, dtype):
    n, c, o, spatial, _ = case
    rng = np.random.default_rng(c * 10 + o + spatial[0])
    return [rng.standard_normal(s).astype(dtype) for s in ((n, c) + spatial, (o, c, 3, 3), (o,))]


def _run(m, case, arrays):
    xs = [m.tensor(a, requires_grad=True) for a in arrays]
    y = m.nn.functional.conv2d(*xs, padding=case[-1])
    g = np.cos(np.arange(y.numel()).reshape(tuple(y.shape))).astype(arrays[0].dtype)
    y.backward(m.tensor(g))
    return [y.detach().numpy()] + [t.grad.numpy() for t in xs]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_winograd_matches_torch_float64(case, everywhere):
    arrays = _inputs(case, np.float64)
    got = _run(gradwalk, case, arrays)
    for a, r in zip(got, oracle(lambda torch: _run(torch, case, arrays))):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_winograd_matches_torch_float32(case, everywhere):
    """Within the float32 defaults of ``torch.testing.assert_close`` (the rounding note)."""
    arrays = _inputs(case, np.float32)
    got = _run(gradwalk, case, arrays)
    for a, r in zip(got, oracle(lambda torch: _run(torch, case, arrays))):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, r, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_winograd_agrees_with_the_gemm_kernels(case, everywhere, monkeypatch):
    arrays = _inputs(case, np.float64)
    fast = _run(gradwalk, case, arrays)
    monkeypatch.setattr(conv_winograd, "applies", lambda *a: False)
    for a, r in zip(fast, _run(gradwalk, case, arrays)):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


def test_batch_tiles_add_up(everywhere, monkeypatch):
    case = (4, 3, 2, (5, 6), 1)
    arrays = _inputs(case, np.float64)
    whole = _run(gradwalk, case, arrays)
    monkeypatch.setattr(conv_gemm, "MAX_COLS_BYTES", 1)
    for a, r in zip(_run(gradwalk, case, arrays), whole):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def test_where_winograd_is_chosen():
    wide, f32 = (64, 64, 3, 3), np.dtype(np.float32)
    ok = dict(stride=(1, 1), dilation=(1, 1), groups=1)
    assert conv_winograd.applies((2, 64, 8, 8), wide, dtype=f32, **ok)
    assert conv_winograd.applies((2, 64, 8, 8), wide, dtype=np.dtype(np.float64), **ok)
    assert not conv_winograd.applies((2, 16, 8, 8), (32, 16, 3, 3), dtype=f32, **ok)  # narrow
    assert not conv_winograd.applies((2, 64, 8, 8), (64, 64, 5, 5), dtype=f32, **ok)
    assert not conv_winograd.applies((2, 64, 8, 8, 8), (64, 64, 3, 3, 3), dtype=f32, **ok)
    assert not conv_winograd.applies((2, 64, 8, 8), wide, dtype=f32, stride=(2, 2),
                                     dilation=(1, 1), groups=1)
    assert not conv_winograd.applies((2, 64, 8, 8), wide, dtype=f32, stride=(1, 1),
                                     dilation=(2, 2), groups=1)
    assert not conv_winograd.applies((2, 64, 8, 8), (64, 32, 3, 3), dtype=f32, stride=(1, 1),
                                     dilation=(1, 1), groups=2)
    assert not conv_winograd.applies((2, 64, 8, 8), wide, dtype=np.dtype(np.complex128), **ok)


def test_a_wide_layer_takes_winograd(monkeypatch):
    """At the default width the public ``conv2d`` calls the Winograd kernels, and agrees with
    the GEMM kernels."""
    calls = []
    for name in ("forward", "input_grad", "weight_grad"):
        real = getattr(conv_winograd, name)
        monkeypatch.setattr(conv_winograd, name,
                            lambda *a, _f=real, _n=name: calls.append(_n) or _f(*a))
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((1, 64, 4, 4), (64, 64, 3, 3), (64,))]
    case = (1, 64, 64, (4, 4), 1)
    fast = _run(gradwalk, case, arrays)
    assert sorted(calls) == ["forward", "input_grad", "weight_grad"]
    monkeypatch.setattr(conv_winograd, "applies", lambda *a: False)
    for a, r in zip(fast, _run(gradwalk, case, arrays)):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


def test_double_backward_and_forward_ad(everywhere):
    rng = np.random.default_rng(5)
    x, w, b = (gradwalk.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 2, 5, 4), (3, 2, 3, 3), (3,)))
    assert gradwalk.autograd.gradcheck(lambda *t: F.conv2d(*t, padding=1), (x, w, b))
    assert gradwalk.autograd.gradgradcheck(lambda *t: F.conv2d(*t, padding=1), (x, w, b))
    fwd = gradwalk.autograd.forward_ad
    tx = gradwalk.tensor(rng.standard_normal((2, 2, 5, 4)))
    with fwd.dual_level():
        y = F.conv2d(fwd.make_dual(x.detach(), tx), w.detach(), None, padding=1)
        tangent = fwd.unpack_dual(y).tangent
    want = F.conv2d(tx, w.detach(), None, padding=1)
    np.testing.assert_allclose(tangent.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
