"""Convolution kernels on NumPy arrays: the forward and its two gradients as a few large GEMMs.

``ops/conv.py`` declares the ops and calls these kernels for plain ``ndarray`` operands (its
generic im2col code serves CuPy, ``vmap``'s batched arrays and the differentiable namespace).

Note [convolution layouts]
    OpenBLAS runs a GEMM fastest when the long dimension (the output positions) is the inner one
    of the result, and NumPy copies fastest when the inner runs are long. Two layouts serve the
    two cases, both batch-tiled (Note [bounded im2col]):

    * Stride 1 ("flat shifts"). The zero-padded input is laid out channel-major, ``(C, N * cell)``
      with ``cell`` the padded spatial size, and every output position is computed on the padded
      grid (the few positions past the valid ones are computed and dropped; Note [shared
      padding]). The receptive
      field's tap at kernel offset ``o`` is then the same array shifted by one constant,
      ``shift(o) = sum(o_d * dilation_d * gridstride_d)``, so the im2col matrix is ``K`` plain
      row copies ``cols[:, o] = x[:, shift(o):shift(o) + L]`` (memcpy speed, where a strided
      window copy moves runs of one output row), the forward is one GEMM ``(O, C*K) @ (C*K, L)``
      and the output is a strided view of its result. The weight gradient is the GEMM
      ``g (O, L) @ cols^T`` with ``g`` scattered onto the same grid (zeros at the dropped
      positions); with 8 or more channels per group it is one GEMM per kernel offset on the
      shifted views themselves, without im2col (measured faster: the copy is skipped, and a
      GEMM with a reduction dimension of ``L`` is still efficient). The input gradient is the
      GEMM ``w^T @ g`` folded back by ``K`` contiguous shifted adds, with no scatter.
    * Other strides ("channels last"). The padded input is moved to ``(N, *spatial, C)``, where
      a receptive field row is one contiguous run of ``k_w * C`` values; im2col copies those runs
      into ``(N * P, K * C)``, the forward is ``cols @ w^T`` (the positions outermost) and the
      gradients are ``g^T @ cols`` and, per kernel offset, ``g @ w[:, :, offset]`` added into
      a phase-split accumulator (Note [strided input gradient by phases]). Grouped
      convolutions with a stride fall back to the generic code. Measured and not taken: the
      input gradient by phases as a stride-1 im2col of ``g`` and a GEMM per residue of the
      stride ran 5.8-6.2 ms against the fold's 5.4-5.6 at 8x32x28x28, k5 s2, and the
      cache-sized tiles of Note [bounded im2col] slowed this layout's GEMMs down (``cache=False``
      here).

    Chosen per call (``forward``, ``input_grad``, ``weight_grad``, ``grads``): stride 1 takes
    the flat shifts (3x3 with 64 channels and more Winograd's, Note [winograd F(2x2,3x3)]),
    other strides the channels-last layout, grouped strided calls the generic code. Measured
    with one thread at the benchmark sizes (2026-12-02, a loaded machine: ranges are wide):
    the positions as the inner dimension of the GEMM's result, ``(O, C*K) @ (C*K, L)``, ran
    at 43 GFLOP/s against 32 for ``(L, C*K) @ (C*K, O)`` at 64x16x16x16 (72 and 68 at
    8x32x28x28, where the channels-last layout needs the positions outermost); cache-sized
    batch tiles (0.5 to 8 MB) differed by less than the noise; Winograd at 16 -> 32 channels
    was 1.5x slower than the GEMMs (Note [winograd F(2x2,3x3)]).

Note [strided input gradient by phases]
    The input gradient of a strided convolution adds, for each kernel offset ``f``, the
    product ``g @ w[:, :, f]`` (positions x channels) at the padded positions ``f * dilation +
    stride * m``. In the padded layout ``(N, *padded, C)`` those positions are strided, so
    each add ran over runs of ``C`` values (32 at 8x32x28x28, k5 s2: 25 adds took 4 ms, 3 ns
    an element). Split each padded dim ``p`` into its residue and quotient by the stride,
    ``p = stride * q + r``, laid out ``(N, r_1, q_1, ..., r_d, q_d, C)``: an offset's
    positions are then one residue and a contiguous range of quotients, and the add runs over
    ``out_last * C`` contiguous values (448 there: 1.3 ms, four times faster). The product is
    made per offset, one GEMM ``(P, O) @ (O, C)`` into a cache-sized buffer added at once,
    instead of one ``(P, O) @ (O, K * C)`` GEMM whose result lays each offset's block with a
    stride of ``K * C``: the 25 small GEMMs cost about 1 ms more than the big one, the adds 3
    ms less. The interior is copied out once per residue of the strides (``_unphase``).

Note [shared padding]
    On the stride-1 grid a sample's bottom padding rows can be the next sample's top padding
    rows, and a row's right padding the next row's left padding (the flat shift of a tap past
    the end of a row lands in the next row's left zeros): each spatial size is padded by
    ``max(lo, hi)`` instead of ``lo + hi``, plus a tail of zeros after the last cell for the last
    taps. This holds while ``min(lo, hi)`` is at most the kernel's extent minus one (then
    every tap that leaves a row or a sample reads zeros, and every output position still fits
    in a row), which "same" padding meets; otherwise the grid pads by ``lo + hi``. Fewer
    dropped positions: a 3x3 kernel with padding 1 on 16x16 computes 289 positions per
    sample instead of 324 (on 8x8, 81 instead of 100), and the three GEMMs shrink by as much.

Note [bias in the GEMM]
    The forward's GEMM result is strided on the grid (or channels last), and the output is a
    copy of it. Adding the bias in that copy, ``np.add(view, b[:, None, None], out=y)``, made
    NumPy run its broadcasting loop over rows of ``out_w`` values: 0.9 ms at 64x32x16x16 where
    the plain copy takes 0.3. On the stride-1 grid with one group the im2col scratch has one
    more row, all ones, and the weight matrix the bias as one more column, so the GEMM adds it
    (one more term in each sum, 145 instead of 144 there); elsewhere the bias is added after
    the copy over each contiguous output plane (``_add_bias``: 0.2 ms more instead of 0.6).

Note [one pass for both gradients]
    When the backward needs both the input and the weight gradient of a stride-1 convolution
    (``_conv_vjp`` in ``ops/conv_rules.py``), one pass over the batch tiles makes both: the
    tile's output gradient is placed on the grid once, where the two separate kernels placed
    it twice (a zero fill and a strided copy of the output gradient, about 0.4 ms at
    64x32x16x16).

Note [saved forward data]
    The weight gradient reads the input in the layout the forward already made: the placed
    input on the stride-1 grid (one buffer per batch tile, about the input's size), the im2col
    rows of the channels-last layout (``K`` times the input). When the weight requires a
    gradient and grad mode is on, ``conv2d`` passes a fresh ``saved`` list in the node's
    params (as ``max_pool`` keeps its argmax, Note [saved argmax] in ``ops/conv.py``); the
    forward leaves those scratch buffers in it instead of giving them back to the pool, and
    the weight gradient uses them instead of rebuilding them, when they were made from the
    same input array (``is``) for the same geometry and tiles. The rule gives them back to the
    pool afterwards (Note [conv scratch buffers]); a second backward through a retained graph
    finds the list empty and rebuilds. The input cannot have changed in between: an in-place
    change of a saved tensor makes the backward raise. Memory: at most ``SAVE_BYTES`` (64 MB) a
    call, else nothing is kept. Measured at 8x32x28x28, k5 s2: the weight gradient's im2col
    (padding and copying, 1.0-1.3 ms of its 4-5) is gone; on the grid, its placing of the
    input (0.4 ms at 64x16x16x16). Measured and not taken: keeping the grid's im2col rows
    instead, for one GEMM ``g @ cols^T`` a tile in place of one per kernel offset: faster
    alone with the rows in cache (0.46-0.56 against 0.56-0.72 ms a tile), slower in the step
    (15.5-16.0 against 14.3-14.6 ms at 64x16x16x16), which reads 11 MB of rows back from
    memory.

Note [bounded im2col]
    The im2col matrix is ``K`` times the input. When it would exceed ``MAX_COLS_BYTES`` (256
    MB) the batch is processed in tiles of as many samples as fit (at least one); the weight
    gradient sums over the tiles. Tests lower the limit to check that the tiles add up.

    On the stride-1 grid the same tiles also keep the work in cache: a tile's im2col is at
    most ``CACHE_COLS_BYTES`` (2 MB, about the second-level caches of the two cores measured),
    so its copy, its GEMM and the folds that follow run on data the previous step just wrote.
    Measured with one thread on the benchmark sizes: the GEMMs run at 60-66 GFLOP/s on such
    tiles against 41-49 on the whole batch, and the copies and adds gain more.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import conv_scratch as _S

MAX_COLS_BYTES = 256 << 20
SAVE_BYTES = 64 << 20
CACHE_COLS_BYTES = 2 << 20
_as_strided = np.lib.stride_tricks.as_strided
_windows_view = np.lib.stride_tricks.sliding_window_view


class _Saved:
    """What a forward kept for its weight gradient: the input it was made from, the geometry
    and batch tiles it holds for, one scratch buffer per tile (Note [saved forward data])."""

    __slots__ = ("x", "key", "bufs")

    def __init__(self, x, key, bufs):
        self.x, self.key, self.bufs = x, key, bufs


def _bounds(tiles) -> tuple:
    return tuple((t.start, t.stop) for t in tiles)


def _claim(saved, x, key):
    """The buffers a forward saved for this input and geometry (taken out of ``saved``), or
    None."""
    if saved:
        for i, s in enumerate(saved):
            if s.x is x and s.key == key:
                del saved[i]
                return s.bufs
    return None


def release(saved) -> None:
    """Give the buffers still in ``saved`` back to the scratch pool, and empty it."""
    while saved:
        _S.give(*saved.pop().bufs)


def usable(*arrays) -> bool:
    """Whether the kernels apply: every operand a plain NumPy array (or None)."""
    return all(a is None or type(a) is np.ndarray for a in arrays)


def _tiles(n: int, per_sample: int, cache: bool = True):
    """Batch slices of at most ``MAX_COLS_BYTES`` (and ``CACHE_COLS_BYTES`` with ``cache``) of
    im2col each (Note [bounded im2col])."""
    limit = min(MAX_COLS_BYTES, CACHE_COLS_BYTES) if cache else MAX_COLS_BYTES
    step = max(1, min(n, limit // max(per_sample, 1)))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _bmm(a, b, out=None):
    """(G, M, K) @ (G, K, N): one plain BLAS call when there is one group; into ``out`` (G, M, N)
    when given."""
    if a.shape[0] == 1:
        if out is None:
            return np.matmul(a[0], b[0])[None]
        np.matmul(a[0], b[0], out=out[0])
        return out
    return np.matmul(a, b, out=out)


def _interior(padding, spatial) -> tuple:
    return tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, spatial))


# --------------------------------------------------------------------------------------------
# stride 1: flat shifts


class _Grid:
    """The padded grid of a stride-1 convolution (Note [convolution layouts], Note [shared
    padding])."""

    def __init__(self, spatial, k, padding, dilation, out):
        self.padded = tuple(s + (max(lo, hi) if min(lo, hi) <= (kk - 1) * dl else lo + hi)
                            for s, (lo, hi), kk, dl in zip(spatial, padding, k, dilation))
        strides, acc = [], 1
        for p in reversed(self.padded):
            strides.append(acc)
            acc *= p
        self.strides = tuple(reversed(strides))
        self.cell = acc
        self.shifts = [sum(o * dl * st for o, dl, st in zip(offs, dilation, self.strides))
                       for offs in itertools.product(*(range(kk) for kk in k))]
        self.out = tuple(out)
        self.padding = padding
        self.spatial = tuple(spatial)

    def length(self, n: int) -> int:
        """The grid positions computed: up to the last valid output position."""
        return (n - 1) * self.cell + sum((m - 1) * st for m, st in zip(self.out, self.strides)) + 1

    def size(self, n: int) -> int:
        """The length of a placed input: the cells, and the zeros the last taps read past them."""
        return max(n * self.cell, self.length(n) + self.shifts[-1])

    def place(self, x):
        """(N, C, *spatial) -> zero-padded (C, size), a scratch buffer (Note [conv scratch
        buffers])."""
        n, c = x.shape[:2]
        buf = _S.take((c, self.size(n)), x.dtype, zero=True)
        cells = buf[:, :n * self.cell].reshape((c, n) + self.padded)
        cells[(slice(None), slice(None)) + _interior(self.padding, self.spatial)] = \
            x.swapaxes(0, 1)
        return buf

    def place_grad(self, g):
        """(N, O, *out) -> (O, L): the output gradient on the grid, zeros at dropped positions
        (a view of a scratch buffer)."""
        n, o = g.shape[:2]
        buf = _S.take((o, n) + self.padded, g.dtype, zero=True)
        buf[(slice(None), slice(None)) + tuple(slice(0, m) for m in g.shape[2:])] = \
            g.swapaxes(0, 1)
        return buf.reshape(o, -1)[:, :self.length(n)]

    def cols(self, xf, n, ones: bool = False):
        """(C, K, L) im2col of the placed input: one row copy per kernel offset (scratch). With
        ``ones``, the scratch is (C * K + 1, L), its last row ones (Note [bias in the GEMM]),
        and it is returned instead."""
        length = self.length(n)
        c, kk = xf.shape[0], len(self.shifts)
        if ones:
            buf = _S.take((c * kk + 1, length), xf.dtype)
            buf[-1] = 1
            cols = buf[:-1].reshape(c, kk, length)
        else:
            buf = cols = _S.take((c, kk, length), xf.dtype)
        for i, sh in enumerate(self.shifts):
            cols[:, i] = xf[:, sh:sh + length]
        return buf

    def view(self, yf, n):
        """(O, L) results as the (O, N, *out) view of the valid positions."""
        isz = yf.itemsize
        return _as_strided(yf, (yf.shape[0], n) + self.out,
                           (yf.strides[0], self.cell * isz) + tuple(s * isz for s in self.strides))


def _flat_forward(x, w, b, padding, dilation, groups, out, y, saved=None):
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    grid = _Grid(x.shape[2:], k, padding, dilation, out)
    wm = w.reshape(groups, o // groups, -1)
    ones = b is not None and groups == 1  # Note [bias in the GEMM]
    if ones:
        wm = np.concatenate([wm[0], b.reshape(o, 1).astype(wm.dtype)], axis=1)[None]
    per = c * len(grid.shifts) * grid.cell * x.itemsize
    tiles = _tiles(n, per)
    keep = [] if saved is not None and grid.size(n) * c * x.itemsize <= SAVE_BYTES else None
    for sl in tiles:
        xt = x[sl]
        nt = xt.shape[0]
        length = grid.length(nt)
        xf = grid.place(xt)
        cols = grid.cols(xf, nt, ones)
        if keep is None:
            _S.give(xf)
        else:
            keep.append(xf)
        yf = _S.take((o, length), y.dtype)
        _bmm(wm, cols.reshape(groups, -1, length), out=yf.reshape(groups, o // groups, length))
        _S.give(cols)
        np.copyto(y[sl], grid.view(yf, nt).swapaxes(0, 1))
        if b is not None and not ones:
            _add_bias(y[sl], b)
        _S.give(yf)
    if keep is not None:
        saved.append(_Saved(x, ("flat", tuple(k), padding, dilation, groups, _bounds(tiles)),
                            keep))
    return y


def _add_bias(y, b):
    """``y += b`` per channel on a contiguous (N, O, *out): over whole planes, not the runs of a
    strided view (Note [bias in the GEMM])."""
    y3 = y.reshape(y.shape[0], y.shape[1], -1)
    np.add(y3, b.reshape(-1, 1), out=y3)


def _flat_weight_grad(x, g, w_shape, padding, dilation, groups, saved=None):
    """``g @ cols^T``; with 8 or more channels per group one GEMM per kernel offset and group
    on shifted views of the placed input, without im2col (Note [convolution layouts])."""
    return _flat_grads(x, g, None, tuple(x.shape), w_shape, padding, dilation, groups,
                       saved)[1]


def _flat_input_grad(g, w, x_shape, padding, dilation, groups):
    """``w^T @ g`` folded back by one shifted add per kernel offset."""
    return _flat_grads(None, g, w, x_shape, w.shape, padding, dilation, groups)[0]


def _flat_grads(x, g, w, x_shape, w_shape, padding, dilation, groups, saved=None):
    """The input gradient (when ``w`` is given) and the weight gradient (when ``x`` is), in one
    pass over the batch tiles: each tile's output gradient is placed on the grid once for both
    (Note [one pass for both gradients])."""
    n, c = x_shape[:2]
    o = w_shape[0]
    k = w_shape[2:]
    grid = _Grid(x_shape[2:], k, padding, dilation, g.shape[2:])
    og, cg = o // groups, c // groups
    kk = len(grid.shifts)
    gx = gw = part = wt = None
    if w is not None:
        wt = w.reshape(groups, og, -1).transpose(0, 2, 1)  # (G, Cg*K, Og)
        gx = np.empty(tuple(x_shape), g.dtype)
        inner = _interior(padding, x_shape[2:])
    if x is not None and cg >= 8:
        gw = np.zeros((kk, groups, og, cg), np.result_type(x, g))
        part = np.empty((og, cg), gw.dtype)
    tiles = _tiles(n, c * kk * grid.cell * g.itemsize)
    keep = None if x is None else _claim(saved, x, (
        "flat", tuple(k), padding, dilation, groups, _bounds(tiles)))
    for ti, sl in enumerate(tiles):
        gt = g[sl]
        nt = gt.shape[0]
        length = grid.length(nt)
        gf = grid.place_grad(gt)
        if x is not None:
            xf = grid.place(x[sl]) if keep is None else keep[ti]
            if cg < 8:
                cols = grid.cols(xf, nt)
                tile = _bmm(gf.reshape(groups, og, -1),
                            cols.reshape(groups, -1, length).transpose(0, 2, 1))
                _S.give(cols)
                gw = tile if gw is None else gw + tile
            else:
                for i, sh in enumerate(grid.shifts):
                    for j in range(groups):
                        np.matmul(gf[j * og:(j + 1) * og],
                                  xf[j * cg:(j + 1) * cg, sh:sh + length].T, out=part)
                        gw[i, j] += part
            _S.give(xf)
        if w is not None:
            gc = _S.take((c, kk, length), gx.dtype)
            _bmm(wt, gf.reshape(groups, og, -1), out=gc.reshape(groups, -1, length))
            acc = _S.take((c, grid.size(nt)), gx.dtype, zero=True)
            for i, sh in enumerate(grid.shifts):
                acc[:, sh:sh + length] += gc[:, i]
            _S.give(gc)
            full = acc[:, :nt * grid.cell].reshape((c, nt) + grid.padded)
            np.copyto(gx[sl], full[(slice(None), slice(None)) + inner].swapaxes(0, 1))
            _S.give(acc)
        _S.give(gf)
    if x is not None:
        gw = gw.reshape(w_shape) if cg < 8 else np.ascontiguousarray(
            np.moveaxis(gw, 0, -1)).reshape(w_shape)
    return gx, gw


# --------------------------------------------------------------------------------------------
# other strides: channels last


def _nhwc_padded(x, padding):
    n, c = x.shape[:2]
    d = x.ndim - 2
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
    buf = _S.take((n,) + padded + (c,), x.dtype, zero=True)
    buf[(slice(None),) + _interior(padding, x.shape[2:])] = np.moveaxis(x, 1, -1)
    return buf, d


def _nhwc_cols(x, k, stride, padding, dilation, out):
    """(N * P, K * C) im2col rows, one per output position (``out`` crops the positions); a
    scratch buffer (Note [conv scratch buffers])."""
    buf, d = _nhwc_padded(x, padding)
    keff = tuple(dl * (kk - 1) + 1 for kk, dl in zip(k, dilation))
    win = _windows_view(buf, keff, axis=tuple(range(1, 1 + d)))  # (N, *pos, C, *keff)
    win = win[(slice(None),) + tuple(slice(0, s * (m - 1) + 1, s) for s, m in zip(stride, out))
              + (slice(None),) + tuple(slice(None, None, dl) for dl in dilation)]
    n, c = x.shape[0], x.shape[1]
    cols = _S.take((n,) + tuple(out) + tuple(k) + (c,), x.dtype)
    np.copyto(cols, np.moveaxis(win, 1 + d, -1))
    _S.give(buf)
    return cols.reshape(n * math.prod(out), -1)


def _wm_last(w):
    """(O, C, *k) -> (O, K * C), the channels-last order of the im2col rows."""
    return np.ascontiguousarray(np.moveaxis(w, 1, -1)).reshape(w.shape[0], -1)


def _last_forward(x, w, b, stride, padding, dilation, out, y, saved=None):
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    wmt = _wm_last(w).T
    per = c * math.prod(k) * math.prod(out) * x.itemsize
    tiles = _tiles(n, per, cache=False)
    keep = [] if saved is not None and n * per <= SAVE_BYTES else None
    for sl in tiles:
        xt = x[sl]
        cols = _nhwc_cols(xt, k, stride, padding, dilation, out)
        yt = np.matmul(cols, wmt, out=_S.take((cols.shape[0], o), y.dtype))  # (Nt * P, O)
        if keep is None:
            _S.give(cols)
        else:
            keep.append(cols)
        np.copyto(y[sl], np.moveaxis(yt.reshape((xt.shape[0],) + tuple(out) + (o,)), -1, 1))
        if b is not None:
            _add_bias(y[sl], b)
        _S.give(yt)
    if keep is not None:
        saved.append(_Saved(x, ("last", tuple(k), stride, padding, dilation, tuple(out),
                                _bounds(tiles)), keep))
    return y


def _last_weight_grad(x, g, w_shape, stride, padding, dilation, saved=None):
    n, c = x.shape[:2]
    o = w_shape[0]
    k = tuple(w_shape[2:])
    out = tuple(g.shape[2:])
    per = c * math.prod(k) * math.prod(out) * x.itemsize
    gw = None
    tiles = _tiles(n, per, cache=False)
    keep = _claim(saved, x, ("last", k, stride, padding, dilation, out, _bounds(tiles)))
    for ti, sl in enumerate(tiles):
        cols = _nhwc_cols(x[sl], k, stride, padding, dilation, out) if keep is None \
            else keep[ti]
        g2 = np.moveaxis(g[sl], 1, -1).reshape(-1, o)
        part = g2.T @ cols
        _S.give(cols)
        gw = part if gw is None else gw + part
    gw = gw.reshape((o,) + k + (c,))
    return np.ascontiguousarray(np.moveaxis(gw, -1, 1))


def _last_input_grad(g, w, x_shape, stride, padding, dilation):
    """``g @ w`` per kernel offset, each added into the phase-split accumulator at once (Note
    [strided input gradient by phases])."""
    n, c = x_shape[:2]
    o = w.shape[0]
    k = tuple(w.shape[2:])
    out = tuple(g.shape[2:])
    wk = np.ascontiguousarray(np.moveaxis(w.reshape(o, c, -1), -1, 0))  # (K, O, C)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], padding))
    q = tuple(-(-p // s) for p, s in zip(padded, stride))
    phased = (n,) + tuple(v for pair in zip(stride, q) for v in pair) + (c,)
    gx = np.empty(tuple(x_shape), g.dtype)
    per = c * math.prod(k) * math.prod(out) * g.itemsize
    taps = []
    for offs in itertools.product(*(range(kk) for kk in k)):
        taps.append((slice(None),) + tuple(
            v for f, dl, s, m in zip(offs, dilation, stride, out)
            for v in ((f * dl) % s, slice((f * dl) // s, (f * dl) // s + m))))
    for sl in _tiles(n, per, cache=False):
        gt = g[sl]
        nt = gt.shape[0]
        g2 = np.ascontiguousarray(np.moveaxis(gt, 1, -1)).reshape(-1, o)  # (a broadcast g too)
        acc = _S.take((nt,) + phased[1:], gx.dtype, zero=True)
        part = _S.take((g2.shape[0], c), gx.dtype)
        pv = part.reshape((nt,) + out + (c,))
        for t, dst in enumerate(taps):
            np.matmul(g2, wk[t], out=part)
            acc[dst] += pv
        _S.give(part)
        _unphase(acc, gx[sl], stride, padding)
        _S.give(acc)
    return gx


def _unphase(acc, gx, stride, padding):
    """Copy the interior of the phase-split padded ``acc`` (N, s_1, q_1, ..., s_d, q_d, C) into
    ``gx`` (N, C, *spatial): one strided copy per residue of the strides."""
    spatial = gx.shape[2:]
    for res in itertools.product(*(range(s) for s in stride)):
        src, dst = [slice(None)], [slice(None), slice(None)]
        for r, s, (lo, _), m in zip(res, stride, padding, spatial):
            y0 = (r - lo) % s  # the first interior position of residue r
            cnt = len(range(y0, m, s))
            q0 = (lo + y0) // s
            src += [r, slice(q0, q0 + cnt)]
            dst.append(slice(y0, m, s))
        if any(v.stop == v.start for v in src[2::2]):
            continue
        np.copyto(gx[tuple(dst)], np.moveaxis(acc[tuple(src)], -1, 1))


# --------------------------------------------------------------------------------------------
# entry points (plain ndarrays; ``None`` when the generic code must serve the call)


def forward(x, w, b, stride, padding, dilation, groups, saved=None):
    """The convolution of ``x`` with ``w`` (+ ``b``), or None when these kernels do not apply.
    A ``saved`` list receives what the weight gradient can reuse (Note [saved forward
    data])."""
    k = w.shape[2:]
    out = tuple((n + lo + hi - (dl * (kk - 1) + 1)) // s + 1 for n, kk, s, (lo, hi), dl in zip(
        x.shape[2:], k, stride, padding, dilation))
    y = np.empty((x.shape[0], w.shape[0]) + out, np.result_type(x, w))
    if all(s == 1 for s in stride):
        return _flat_forward(x, w, b, padding, dilation, groups, out, y, saved)
    if groups == 1:
        return _last_forward(x, w, b, stride, padding, dilation, out, y, saved)
    return None


def input_grad(g, w, x_shape, stride, padding, dilation, groups):
    """The gradient of the convolution in its input (a transposed convolution), or None."""
    if all(s == 1 for s in stride):
        return _flat_input_grad(g, w, x_shape, padding, dilation, groups)
    if groups == 1:
        return _last_input_grad(g, w, x_shape, stride, padding, dilation)
    return None


def grads(x, g, w, stride, padding, dilation, groups, saved=None):
    """Both gradients, ``(input_grad, weight_grad)``, in one pass on the stride-1 grid (Note
    [one pass for both gradients]), or None where the separate kernels serve."""
    if all(s == 1 for s in stride):
        return _flat_grads(x, g, w, tuple(x.shape), tuple(w.shape), padding, dilation, groups,
                           saved)
    return None


def weight_grad(x, g, w_shape, stride, padding, dilation, groups, saved=None):
    """The gradient of the convolution in its weight, or None."""
    if all(s == 1 for s in stride):
        return _flat_weight_grad(x, g, w_shape, padding, dilation, groups, saved)
    if groups == 1:
        return _last_weight_grad(x, g, w_shape, stride, padding, dilation, saved)
    return None
