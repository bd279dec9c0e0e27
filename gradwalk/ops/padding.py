"""Negative pads of ``pad``: they remove elements, as PyTorch's (``constant`` and ``replicate``
modes)."""

from __future__ import annotations

import numpy as np

from . import registry as _registry


def crop(input, pad, mode):
    """A negative pad removes elements (constant and replicate modes, as PyTorch): the slices
    taken, and the pads left (the non-negative ones)."""
    if mode not in ("constant", "replicate"):
        raise RuntimeError(f"pad(): negative padding {list(pad)} is supported in 'constant' and "
                           f"'replicate' modes only, not {mode!r}")
    if mode == "replicate":  # out[i] = in[clamp(i - left, 0, n - 1)] along each padded dim
        for k in range(len(pad) // 2):
            d, lo, hi = input.ndim - 1 - k, pad[2 * k], pad[2 * k + 1]
            n = input.shape[d]
            if n + lo + hi < 0:
                raise RuntimeError(f"pad(): the input size {n} in dim {d}, plus negative "
                                   f"padding {lo} and {hi} resulted in a negative output size")
            idx = np.clip(np.arange(n + lo + hi) - lo, 0, max(n - 1, 0))
            input = input.index_select(d, _registry.wrap(idx.astype(np.int64)))
        return input, (0,) * len(pad)
    index = [slice(None)] * input.ndim
    for k in range(len(pad) // 2):
        d, lo, hi = input.ndim - 1 - k, pad[2 * k], pad[2 * k + 1]
        n = input.shape[d]
        if n + lo + hi < 0:
            raise RuntimeError(f"pad(): the input size {n} in dim {d}, plus negative padding "
                               f"{lo} and {hi} resulted in a negative output size, which is "
                               f"invalid. Check dimension {d} of your input.")
        start, stop = max(-lo, 0), n - max(-hi, 0)
        index[d] = slice(start, max(stop, start))
    return input[tuple(index)], tuple(max(p, 0) for p in pad)
