"""The GEMM convolution kernels (``ops/conv_gemm.py``): PyTorch parity of values and of the
input, weight and bias gradients across strides, padding, dilation and groups (1-D, 2-D, 3-D and
transposed), agreement with the generic im2col code, the batch tiles of Note [bounded im2col]
with a lowered limit, and Note [shared padding]."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import conv as C
from gradwalk.ops import conv_gemm
from tests.fixtures.oracle import oracle

F = gradwalk.nn.functional

CASES = [  # (d, n, c, o, spatial, k, kwargs)
    (2, 2, 4, 6, (7, 6), (3, 3), dict(padding=1)),
    (2, 2, 4, 6, (7, 6), (3, 2), dict(stride=2, padding=(1, 0))),
    (2, 2, 4, 6, (9, 8), (3, 3), dict(stride=(2, 3), padding=2, dilation=(2, 1))),
    (2, 2, 4, 6, (7, 6), (3, 3), dict(padding=(0, 2), dilation=2)),
    (2, 3, 8, 4, (6, 6), (3, 3), dict(groups=2, padding=1)),
    (2, 2, 8, 8, (6, 7), (2, 3), dict(groups=4, stride=2)),
    (2, 2, 16, 8, (5, 5), (3, 3), dict(padding=1)),  # 8+ channels: the per-offset GEMMs
    (2, 2, 16, 16, (5, 6), (3, 3), dict(groups=2, padding=1, dilation=(1, 2))),
    (1, 2, 3, 5, (11,), (3,), dict(stride=2, padding=1)),
    (1, 2, 9, 6, (10,), (4,), dict(padding=2, dilation=2, groups=3)),
    (3, 1, 2, 3, (4, 5, 4), (2, 3, 2), dict(padding=1)),
    (3, 1, 2, 3, (5, 5, 4), (3, 2, 2), dict(stride=2, padding=(1, 0, 1))),
    # Note [shared padding]: "same" with an even kernel pads (0, 1) per dim; padding past the
    # kernel's extent (k=2, padding 2) takes the unshared grid in that dim
    (2, 2, 4, 6, (7, 6), (2, 2), dict(padding="same")),
    (2, 3, 8, 4, (5, 6), (2, 3), dict(padding=2)),
    (2, 2, 16, 8, (4, 5), (2, 3), dict(padding=(2, 1))),  # the per-offset GEMMs, unshared rows
    # mixed strides, a stride beyond the kernel (input positions no tap reaches)
    (2, 2, 4, 6, (7, 6), (3, 2), dict(stride=(2, 1), padding=1)),
    (2, 2, 3, 4, (9, 8), (2, 2), dict(stride=3, padding=1)),
    (1, 2, 3, 5, (13,), (5,), dict(stride=3, padding=2)),
]
IDS = [f"conv{c[0]}d-{i}" for i, c in enumerate(CASES)]
# checked against the generic code (itself checked against PyTorch above): Note [strided input
# gradient by phases] with a residue holding no input position (height 1 at stride 2), uneven
# padding, a dilation that is a multiple of the stride, unequal strides, a 3-D dilation
MORE = [
    (2, 2, 4, 6, (1, 5), (1, 3), dict(stride=2, padding=(0, 1))),
    (2, 2, 5, 3, (8, 9), (3, 3), dict(stride=2, padding=(1, 3), dilation=(2, 1))),
    (2, 1, 3, 4, (7, 10), (5, 5), dict(stride=(2, 3), padding=2)),
    (3, 1, 2, 3, (5, 6, 7), (2, 3, 2), dict(stride=(3, 2, 2), padding=1, dilation=(1, 1, 2))),
]
MORE_IDS = [f"more{c[0]}d-{i}" for i, c in enumerate(MORE)]


def _inputs(case):
    d, n, c, o, spatial, k, kw = case
    rng = np.random.default_rng(len(spatial) * 100 + c + o)
    x = rng.standard_normal((n, c) + spatial)
    w = rng.standard_normal((o, c // kw.get("groups", 1)) + k)
    b = rng.standard_normal(o)
    return x, w, b


def _gradwalk(case, x, w, b):
    d, kw = case[0], case[-1]
    xs = [gradwalk.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = getattr(F, f"conv{d}d")(*xs, **kw)
    g = np.cos(np.arange(y.numel()).reshape(tuple(y.shape)))
    y.backward(gradwalk.tensor(g))
    return [y.detach().numpy()] + [t.grad.numpy() for t in xs]


def _torch(case, x, w, b):
    d, kw = case[0], case[-1]

    def run(torch):
        xs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = getattr(torch.nn.functional, f"conv{d}d")(*xs, **kw)
        g = np.cos(np.arange(y.numel()).reshape(tuple(y.shape)))
        y.backward(torch.tensor(g))
        return [y.detach().numpy()] + [t.grad.numpy() for t in xs]
    return oracle(run)


def _close(got, want):
    for a, r in zip(got, want):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_values_and_gradients_match_torch(case):
    x, w, b = _inputs(case)
    _close(_gradwalk(case, x, w, b), _torch(case, x, w, b))


@pytest.mark.parametrize("case", CASES + MORE, ids=IDS + MORE_IDS)
def test_batch_tiles_add_up(case, monkeypatch):
    """Note [bounded im2col]: with the limit lowered to one byte every sample is its own tile,
    and the results (the weight gradient summed over the tiles) are the untiled ones."""
    x, w, b = _inputs(case)
    whole = _gradwalk(case, x, w, b)
    monkeypatch.setattr(conv_gemm, "MAX_COLS_BYTES", 1)
    assert len(conv_gemm._tiles(x.shape[0], 1000)) == x.shape[0]
    _close(_gradwalk(case, x, w, b), whole)


def test_tiles_cover_the_batch_once(monkeypatch):
    monkeypatch.setattr(conv_gemm, "MAX_COLS_BYTES", 2500)
    tiles = conv_gemm._tiles(10, 1000)
    assert [(t.start, t.stop) for t in tiles] == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    monkeypatch.setattr(conv_gemm, "MAX_COLS_BYTES", 256 << 20)
    assert len(conv_gemm._tiles(10, 1000)) == 1


@pytest.mark.parametrize("case", CASES + MORE, ids=IDS + MORE_IDS)
def test_gemm_kernels_agree_with_the_generic_code(case, monkeypatch):
    x, w, b = _inputs(case)
    fast = _gradwalk(case, x, w, b)
    monkeypatch.setattr(conv_gemm, "usable", lambda *a: False)
    _close(fast, _gradwalk(case, x, w, b))


TRANSPOSED = [
    (2, dict(stride=2, padding=1, output_padding=1)),
    (2, dict(stride=1, padding=1, dilation=2)),
    (2, dict(stride=(2, 3), groups=2)),
    (1, dict(stride=3, padding=1, output_padding=2)),
    (2, dict(stride=(2, 1), dilation=(1, 3), output_padding=(1, 2))),  # < stride or dilation
    (2, dict(stride=2, dilation=2, groups=2, output_padding=1)),  # the generic code
    (3, dict(stride=2, padding=1, output_padding=1)),
]


@pytest.mark.parametrize("d,kw", TRANSPOSED, ids=[f"transposed{d}d-{i}" for i, (d, _) in enumerate(TRANSPOSED)])
def test_conv_transpose_matches_torch(d, kw):
    rng = np.random.default_rng(7)
    spatial = (5, 4, 3)[:d]
    x = rng.standard_normal((2, 4) + spatial)
    w = rng.standard_normal((4, 6 // kw.get("groups", 1)) + (3, 2, 2)[:d])
    b = rng.standard_normal(6)

    def run(m, arrays):
        xs = [m.tensor(a, requires_grad=True) for a in arrays]
        y = getattr(m.nn.functional, f"conv_transpose{d}d")(*xs, **kw)
        g = np.sin(np.arange(y.numel()).reshape(tuple(y.shape)))
        y.backward(m.tensor(g))
        return [y.detach().numpy()] + [t.grad.numpy() for t in xs]

    _close(run(gradwalk, (x, w, b)), oracle(lambda torch: run(torch, (x, w, b))))


def test_the_fast_path_serves_plain_arrays_only():
    x = np.zeros((1, 1, 3, 3))
    assert conv_gemm.usable(x, x, None)
    assert not conv_gemm.usable(x, [1.0])
    # grouped strided convolutions are left to the generic code
    w = np.zeros((2, 1, 2, 2))
    assert conv_gemm.forward(np.zeros((1, 2, 4, 4)), w, None, (2, 2), ((0, 0), (0, 0)), (1, 1),
                             2) is None
    y = C._conv_fwd_np(np, np.zeros((1, 2, 4, 4)), w, None, (2, 2), ((0, 0), (0, 0)), (1, 1), 2)
    assert y.shape == (1, 2, 2, 2)


@pytest.mark.parametrize("k,padding,shared", [
    ((3, 3), ((1, 1), (1, 1)), True), ((2, 2), ((0, 1), (0, 1)), True),
    ((2, 3), ((2, 2), (1, 1)), False), ((3, 3), ((2, 2), (2, 2)), True)])
def test_the_grid_shares_padding_where_the_taps_allow(k, padding, shared):
    """Note [shared padding]: each size is padded by max(lo, hi) while min(lo, hi) is at most
    the kernel's extent minus one, and every tap of a valid position stays inside the buffer."""
    spatial = (5, 6)
    out = tuple(s + lo + hi - kk + 1 for s, (lo, hi), kk in zip(spatial, padding, k))
    grid = conv_gemm._Grid(spatial, k, padding, (1, 1), out)
    want = tuple(s + (max(lo, hi) if shared else lo + hi) for s, (lo, hi) in zip(spatial, padding))
    if not shared:  # the first dim pads by lo + hi, the second shares
        want = (spatial[0] + sum(padding[0]), spatial[1] + max(padding[1]))
    assert grid.padded == want
    assert grid.length(3) + grid.shifts[-1] <= grid.size(3)
