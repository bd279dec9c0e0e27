"""Scratch buffers for the convolution kernels: the temporaries of one call, kept for the next.

Note [conv scratch buffers]
    The GEMM and Winograd kernels (``ops/conv_gemm.py``, ``ops/conv_winograd.py``) make a few
    large temporaries per call: the placed (zero-padded) input, the im2col matrix, the GEMM's
    result before it is moved into the output, the output gradient on the grid, the fold's
    accumulator. Each is megabytes at the benchmark sizes, above glibc's mmap threshold or
    large enough that freeing it trims the heap, so the next call faults the same memory in
    again, page by page. On the measured machine (a virtual machine) a minor page fault costs
    about 4 us: the 16x3x32x32 forward took 1006 faults, 4 of its 5 ms (0.9 ms with the
    memory kept), and the 64x16x16x16 forward and input gradient 1451 and 1123 faults.

    ``take`` hands out such a temporary from a pool of raw byte buffers keyed by size (a new
    one when none is free) and ``give`` returns it once the call no longer needs it. Only
    temporaries go through the pool, never an array the kernels return or a view of one: the
    kernels copy their results into fresh arrays. A buffer taken is removed from the pool
    until given back, so nested or concurrent calls never share one; a call that raises
    simply drops its buffers. The pool holds at most ``POOL_BYTES`` (64 MB; the batch tiles of
    Note [bounded im2col] keep each temporary to a few MB at most): a buffer that does not fit
    empties the pool first, so a change of shapes does not leave old sizes behind.
    ``clear()`` frees everything (the tests use it to check that results do not alias it).
"""

from __future__ import annotations

import math

import numpy as np

POOL_BYTES = 64 << 20
_pool: dict[int, list[np.ndarray]] = {}
_held = [0]  # bytes in the pool


def take(shape: tuple, dtype, zero: bool = False) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` from the pool (zero-filled with ``zero``),
    to be given back with ``give`` (Note [conv scratch buffers])."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    free = _pool.get(nbytes)
    if free:
        raw = free.pop()
        _held[0] -= nbytes
    else:
        raw = np.empty(nbytes, np.uint8)
    a = raw.view(dtype).reshape(shape)
    if zero:
        a.fill(0)
    return a


def give(*arrays) -> None:
    """Return arrays made by ``take`` to the pool (None is skipped)."""
    for a in arrays:
        if a is None:
            continue
        raw = a if a.base is None else a.base
        nbytes = raw.nbytes
        if nbytes > POOL_BYTES:
            continue
        if _held[0] + nbytes > POOL_BYTES:
            clear()
        _pool.setdefault(nbytes, []).append(raw)
        _held[0] += nbytes


def clear() -> None:
    """Free every pooled buffer."""
    _pool.clear()
    _held[0] = 0


def held() -> int:
    """Bytes held by the pool now."""
    return _held[0]
