"""Winograd F(2x2, 3x3): the 3x3 stride-1 convolution and its two gradients with 2.25x fewer
multiplications than the GEMM of ``ops/conv_gemm.py``.

Note [winograd F(2x2,3x3)]
    A 2x2 block of outputs of a 3x3 correlation reads a 4x4 tile ``d`` of the input; with the
    transforms ``U = G w G^T`` (4x4 per output and input channel), ``V = B^T d B`` and
    ``Y = A^T M A``, where ``M[xi] = U[xi] @ V[xi]`` for each of the 16 tile positions ``xi``
    (a GEMM over the channels), the block is exact in exact arithmetic (Lavin and Gray, 2015).
    The gradients are the transposes of these linear maps: ``dM = A dY A^T``, then
    ``dU[xi] = dM[xi] @ V[xi]^T`` (``dw = G^T dU G``) and ``dV[xi] = U[xi]^T @ dM[xi]``, folded
    back onto the input by ``B dV B^T`` over the overlapping tiles. So all three products are 16
    GEMMs of a quarter of the size of the direct ones (``16 / 36`` of the multiplications).

    Layout: channels last. The padded input is ``(N, rows, column parity, column // 2, C)``
    and the tiles are ordered ``(n, i, j)`` with the channels innermost, so every transform step
    is one NumPy add over runs of ``tiles-per-row * C`` contiguous values (a tile's column ``b``
    is the parity plane ``b % 2`` shifted by ``b // 2``), where channel-major tiles would give
    runs of ``tiles-per-row`` only, and batch-innermost ones a transposing copy in and out
    (3.5 ns an element measured, against 0.8 for the channels-last moves). The 16 products
    are a loop of plain BLAS calls ``(T, C) @ (C, O)``.

    Rounding: the transforms have entries 0, +-1 and +-1/2 (exact in binary floating point); a
    tile's output sums 16 products per channel where the direct sum has 9, and ``G``'s halves
    are applied to the weight once. Measured in float32 against a float64 reference, the
    largest error relative to the largest output is 1-3e-7 (the direct GEMM's: 1-6e-7), inside
    the float32 defaults of ``torch.testing.assert_close`` (``rtol=1.3e-6, atol=1e-5``), which
    PyTorch's OpInfo tests of ``conv2d`` use on the CPU, and the ``1e-4`` of the benchmarks'
    checks. ``tests/ops/test_conv_winograd.py`` checks it against PyTorch in float32 and
    float64.

    Chosen (``applies``) for 2-D, 3x3, stride 1, dilation 1, one group, real floating operands,
    and at least ``MIN_CHANNELS`` (64) input and output channels. The transforms are memory
    passes over 16 / 4 times the input and output, which NumPy runs at about a nanosecond an
    element; they cost more than the multiplications saved below that width. Measured with one
    thread (forward and both gradients, 2 MB tiles): 16 -> 32 channels on 64x16x16 1.5x slower
    than the GEMMs, 32 -> 32 even, 64 -> 64 on 32x16x16 1.2x faster, 128 -> 128 on 16x8x8
    1.3x faster. The batch is tiled like Note [bounded im2col]; every temporary is a scratch
    buffer (Note [conv scratch buffers]): at 32x64x16x16 the forward and the two gradients
    took 2818, 2472 and 2537 page faults a call before.
"""

from __future__ import annotations

import numpy as np

from . import conv_gemm as _gemm
from . import conv_scratch as _S

MIN_CHANNELS = 64

# G (4x3): the weight transform
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def applies(x_shape, w_shape, stride, dilation, groups, dtype) -> bool:
    """Whether Winograd serves this convolution (Note [winograd F(2x2,3x3)])."""
    return (len(w_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and groups == 1
            and all(s == 1 for s in stride) and all(d == 1 for d in dilation)
            and dtype in (np.float32, np.float64)
            and w_shape[0] >= MIN_CHANNELS and w_shape[1] >= MIN_CHANNELS)


class _Tiles:
    """The tile geometry of one call: output (ho, wo), tiles (th, tw), padded input rows."""

    def __init__(self, spatial, padding):
        (h, w), ((pt, pb), (pl, pr)) = spatial, padding
        self.h, self.w, self.pt, self.pl = h, w, pt, pl
        self.ho, self.wo = h + pt + pb - 2, w + pl + pr - 2
        self.th, self.tw = (self.ho + 1) // 2, (self.wo + 1) // 2

    def per_sample(self, channels: int, itemsize: int) -> int:
        return 16 * channels * self.th * self.tw * itemsize

    def columns(self, p: int):
        """For column parity ``p``: the first input column whose padded column has parity
        ``p``, and that padded column's index in its parity plane."""
        first = (p - self.pl) % 2
        return first, (first + self.pl) // 2


def _u(w):
    """U = G w G^T as (16, O, C), in ``w``'s dtype."""
    u = np.einsum("ai,ocij,bj->aboc", _G, w, _G, optimize=True)
    return np.ascontiguousarray(u.astype(w.dtype, copy=False)).reshape(16, w.shape[0], w.shape[1])


def _w_from_du(du, w_shape, dtype):
    """dw = G^T dU G: dU as (16, O, C) -> (O, C, 3, 3)."""
    return np.einsum("ai,aboc,bj->ocij", _G, du.reshape((4, 4) + du.shape[1:]), _G,
                     optimize=True).astype(dtype, copy=False)


def _placed(x, t: _Tiles):
    """(N, C, H, W) -> zero-padded (N, 2th + 2, 2, tw + 1, C): rows, column parity, column // 2,
    channels (Note [winograd F(2x2,3x3)])."""
    n, c = x.shape[:2]
    buf = _S.take((n, 2 * t.th + 2, 2, t.tw + 1, c), x.dtype, zero=True)
    src = x.transpose(0, 2, 3, 1)  # (N, H, W, C)
    for p in (0, 1):
        first, q0 = t.columns(p)
        cols = src[:, :, first::2]
        keep = min(cols.shape[2], t.tw + 1 - q0)
        buf[:, t.pt:t.pt + t.h, p, q0:q0 + keep] = cols[:, :, :keep]
    return buf


def _v(xq, t: _Tiles):
    """V = B^T d B for every tile: (16, N * th * tw, C)."""
    n, c = xq.shape[0], xq.shape[-1]
    th, tw = t.th, t.tw
    r = [xq[:, a:a + 2 * th:2] for a in range(4)]  # (N, th, 2, tw + 1, C)
    t1 = _S.take((4, n, th, 2, tw + 1, c), xq.dtype)
    np.subtract(r[0], r[2], out=t1[0])
    np.add(r[1], r[2], out=t1[1])
    np.subtract(r[2], r[1], out=t1[2])
    np.subtract(r[1], r[3], out=t1[3])
    cl = [t1[:, :, :, b % 2, b // 2:b // 2 + tw] for b in range(4)]  # (4, N, th, tw, C)
    v = _S.take((4, 4, n, th, tw, c), xq.dtype)
    np.subtract(cl[0], cl[2], out=v[:, 0])
    np.add(cl[1], cl[2], out=v[:, 1])
    np.subtract(cl[2], cl[1], out=v[:, 2])
    np.subtract(cl[1], cl[3], out=v[:, 3])
    _S.give(t1)
    return v.reshape(16, -1, c)


def _mm16(a, b, out):
    """out[i] = a[i] @ b[i] for the 16 tile positions (a loop of plain BLAS calls: measured
    faster than one stacked ``matmul``)."""
    for i in range(16):
        np.matmul(a[i], b[i], out=out[i])
    return out


def _y_from_m(m, t: _Tiles, n):
    """Y = A^T M A: M (16, T, O) -> (N, 2th, 2tw, O), channels last."""
    o = m.shape[-1]
    m = m.reshape(4, 4, n, t.th, t.tw, o)
    s = _S.take((2, 4, n, t.th, t.tw, o), m.dtype)
    np.add(m[0], m[1], out=s[0])
    s[0] += m[2]
    np.subtract(m[1], m[2], out=s[1])
    s[1] -= m[3]
    y = _S.take((n, t.th, 2, t.tw, 2, o), m.dtype)
    for r in (0, 1):
        np.add(s[r, 0], s[r, 1], out=y[:, :, r, :, 0])
        y[:, :, r, :, 0] += s[r, 2]
        np.subtract(s[r, 1], s[r, 2], out=y[:, :, r, :, 1])
        y[:, :, r, :, 1] -= s[r, 3]
    _S.give(s)
    return y.reshape(n, 2 * t.th, 2 * t.tw, o)


def _dm(g, t: _Tiles):
    """dM = A dY A^T: (N, O, ho, wo) -> (16, N * th * tw, O)."""
    n, o = g.shape[:2]
    th, tw = t.th, t.tw
    gh = _S.take((n, 2 * th, 2 * tw, o), g.dtype, zero=True)
    gh[:, :t.ho, :t.wo] = g.transpose(0, 2, 3, 1)
    gt = gh.reshape(n, th, 2, tw, 2, o)
    d1 = _S.take((2, 4, n, th, tw, o), g.dtype)  # d1[r, b]: the columns' transpose
    for r in (0, 1):
        g0, g1 = gt[:, :, r, :, 0], gt[:, :, r, :, 1]
        d1[r, 0] = g0
        np.add(g0, g1, out=d1[r, 1])
        np.subtract(g0, g1, out=d1[r, 2])
        np.negative(g1, out=d1[r, 3])
    _S.give(gh)
    dm = _S.take((4, 4, n, th, tw, o), g.dtype)
    dm[0] = d1[0]
    np.add(d1[0], d1[1], out=dm[1])
    np.subtract(d1[0], d1[1], out=dm[2])
    np.negative(d1[1], out=dm[3])
    _S.give(d1)
    return dm.reshape(16, -1, o)


def _fold_dv(dv, t: _Tiles, n):
    """B dV B^T folded onto the padded input: dV (16, T, C) -> (N, 2th + 2, 2, tw + 1, C)."""
    th, tw = t.th, t.tw
    c = dv.shape[-1]
    dv = dv.reshape(4, 4, n, th, tw, c)
    dt1 = _S.take((4, n, th, 2, tw + 1, c), dv.dtype, zero=True)
    # tile column b takes sum_b' B^T[b', b] dV[:, b'] (columns 0, 1, 2, 3 are the parity
    # planes 0, 1, 0, 1 shifted by 0, 0, 1, 1)
    dt1[:, :, :, 0, 0:tw] = dv[:, 0]
    tmp = np.subtract(dv[:, 1], dv[:, 2], out=_S.take((4, n, th, tw, c), dv.dtype))
    tmp += dv[:, 3]
    dt1[:, :, :, 1, 0:tw] = tmp
    np.add(dv[:, 1], dv[:, 2], out=tmp)
    tmp -= dv[:, 0]
    dt1[:, :, :, 0, 1:tw + 1] += tmp
    dt1[:, :, :, 1, 1:tw + 1] -= dv[:, 3]
    _S.give(tmp)
    dxq = _S.take((n, 2 * th + 2, 2, tw + 1, c), dv.dtype, zero=True)
    dxq[:, 0:2 * th:2] = dt1[0]
    tmp = np.subtract(dt1[1], dt1[2], out=_S.take(dt1.shape[1:], dv.dtype))
    tmp += dt1[3]
    dxq[:, 1:2 * th + 1:2] = tmp
    np.add(dt1[1], dt1[2], out=tmp)
    tmp -= dt1[0]
    dxq[:, 2:2 * th + 2:2] += tmp
    dxq[:, 3:2 * th + 3:2] -= dt1[3]
    _S.give(tmp, dt1)
    return dxq


def _unplace(dxq, t: _Tiles, out):
    """The inverse of ``_placed``: write the interior of ``dxq`` into ``out`` (N, C, H, W)."""
    dst = out.transpose(0, 2, 3, 1)  # (N, H, W, C)
    rows = dxq[:, t.pt:t.pt + t.h]
    for p in (0, 1):
        first, q0 = t.columns(p)
        cols = dst[:, :, first::2]
        np.copyto(cols, rows[:, :, p, q0:q0 + cols.shape[2]])


def forward(x, w, b, padding):
    """The convolution (+ bias) ``(N, C, H, W) * (O, C, 3, 3)``, stride 1."""
    n, c = x.shape[:2]
    o = w.shape[0]
    t = _Tiles(x.shape[2:], padding)
    dtype = np.result_type(x, w)
    y = np.empty((n, o, t.ho, t.wo), dtype)
    ut = _u(w.astype(dtype, copy=False)).transpose(0, 2, 1)  # (16, C, O)
    x = x.astype(dtype, copy=False)
    for sl in _gemm._tiles(n, t.per_sample(max(c, o), x.itemsize)):
        xt = x[sl]
        nt = xt.shape[0]
        xq = _placed(xt, t)
        v = _v(xq, t)
        _S.give(xq)
        m = _mm16(v, ut, _S.take((16, v.shape[1], o), dtype))
        _S.give(v)
        yv = _y_from_m(m, t, nt)[:, :t.ho, :t.wo].transpose(0, 3, 1, 2)
        _S.give(m)
        np.copyto(y[sl], yv)
        if b is not None:
            _gemm._add_bias(y[sl], b)  # Note [bias in the GEMM]
        _S.give(yv)
    return y


def input_grad(g, w, x_shape, padding):
    """The gradient of ``forward`` in its input."""
    n, c = x_shape[:2]
    o = w.shape[0]
    t = _Tiles(x_shape[2:], padding)
    dtype = np.result_type(g, w)
    u = _u(w.astype(dtype, copy=False))  # (16, O, C)
    gx = np.empty(tuple(x_shape), dtype)
    for sl in _gemm._tiles(n, t.per_sample(max(c, o), g.itemsize)):
        gt = g[sl].astype(dtype, copy=False)
        nt = gt.shape[0]
        dm = _dm(gt, t)
        dv = _mm16(dm, u, _S.take((16, dm.shape[1], c), dtype))
        _S.give(dm)
        dxq = _fold_dv(dv, t, nt)
        _S.give(dv)
        _unplace(dxq, t, gx[sl])
        _S.give(dxq)
    return gx


def weight_grad(x, g, w_shape, padding):
    """The gradient of ``forward`` in its weight."""
    n = x.shape[0]
    c, o = w_shape[1], w_shape[0]
    t = _Tiles(x.shape[2:], padding)
    dtype = np.result_type(x, g)
    du = np.zeros((16, o, c), dtype)
    part = np.empty((16, o, c), dtype)
    for sl in _gemm._tiles(n, t.per_sample(max(c, o), x.itemsize)):
        xq = _placed(x[sl].astype(dtype, copy=False), t)
        v = _v(xq, t)
        _S.give(xq)
        dm = _dm(g[sl].astype(dtype, copy=False), t)
        du += _mm16(dm.transpose(0, 2, 1), v, part)
        _S.give(v, dm)
    return _w_from_du(du, w_shape, dtype)
