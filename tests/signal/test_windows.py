"""gradwalk.signal.windows and the torch.*_window factories against PyTorch (recorded oracle)."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

WINDOWS = {"bartlett": {}, "blackman": {}, "cosine": {}, "exponential": {"tau": 2.5},
           "gaussian": {"std": 0.7}, "general_cosine": {"a": [0.46, 0.23, 0.31]},
           "general_hamming": {"alpha": 0.6}, "hamming": {}, "hann": {}, "kaiser": {"beta": 4.0},
           "nuttall": {}}


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_windows_match_torch(name):
    kw = WINDOWS[name]

    def run(m):
        w = m.signal.windows
        out = []
        for n in (0, 1, 2, 7, 10):
            for sym in (True, False):
                out.append(getattr(w, name)(n, sym=sym, dtype=m.float64, **kw))
        out.append(getattr(w, name)(6, **kw))  # the default dtype
        return out

    ours, ref = run(gradwalk), oracle(run)
    for a, b in zip(ours, ref, strict=True):
        assert a.numpy().dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-6 if b.dtype == np.float32 else 1e-12,
                                   atol=1e-7 if b.dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
def test_window_factories_match_torch(name):
    def run(m):
        fn = getattr(m, name)
        return [fn(n, periodic, dtype=m.float64) for n in (0, 1, 2, 5, 8)
                for periodic in (True, False)]

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15)


def test_window_arguments_are_checked_as_in_torch():
    w = gradwalk.signal.windows
    cases = [lambda m: m.signal.windows.hann(-1), lambda m: m.signal.windows.gaussian(3, std=0.0),
             lambda m: m.signal.windows.hann(3, dtype=m.int64),
             lambda m: m.signal.windows.exponential(3, center=1.0)]
    for case in cases:
        expected = oracle(lambda torch, c=case: error_of(c, torch))
        with pytest.raises(ValueError):
            case(gradwalk)
        assert expected[0] == "ValueError"
    assert w.kaiser(4, requires_grad=True).requires_grad
