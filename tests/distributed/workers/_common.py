"""Shared by the worker scripts: counting checks and comparing with NumPy."""

from __future__ import annotations

import numpy as np

COUNT = [0]


def close(got, want, dtype=None, what: str = "") -> None:
    got = np.asarray(got)
    want = np.asarray(want)
    dtype = dtype or want.dtype
    if np.dtype(dtype).kind in "iub":
        ok = got.shape == want.shape and np.array_equal(got, want)
    else:
        rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-12
        ok = got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=rtol)
    assert ok, f"{what}: got {got!r}, want {want!r}"
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}, want {dtype}"
    COUNT[0] += 1


def check(cond: bool, what: str) -> None:
    assert cond, what
    COUNT[0] += 1


def raises(exc, fn, *words: str, what: str = "") -> str:
    try:
        fn()
    except exc as e:
        msg = str(e)
        for w in words:
            assert w in msg, f"{what}: {w!r} not in the message {msg!r}"
        COUNT[0] += 1
        return msg
    raise AssertionError(f"{what}: expected {exc.__name__}")


def done(rank: int) -> None:
    print(f"DONE rank={rank} checks={COUNT[0]}", flush=True)
