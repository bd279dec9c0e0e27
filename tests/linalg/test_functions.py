"""gradwalk.linalg's matrix functions and products against PyTorch (recorded oracle)."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

from .helpers import assert_same, run


def _x(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


CASES = {
    "matrix_exp": (lambda m, a: m.linalg.matrix_exp(a), [_x(0, (2, 3, 3))]),
    "matrix_exp_large_norm": (lambda m, a: m.matrix_exp(4 * a), [_x(1, (3, 3))]),
    "matrix_power_5": (lambda m, a: m.linalg.matrix_power(a, 5), [_x(2, (3, 3))]),
    "matrix_power_neg": (lambda m, a: m.linalg.matrix_power(a + 3 * m.eye(3, dtype=a.dtype),
                                                            -2), [_x(3, (3, 3))]),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                  [_x(4, (3,)), _x(5, (3, 4)), _x(6, (4, 2))]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b, dim=0), [_x(7, (3, 2)), _x(8, (3, 2))]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b), [_x(9, (2, 3)), _x(10, (3,))]),
    "vander": (lambda m, x: m.linalg.vander(x, N=4), [_x(11, (3,))]),
    "diagonal": (lambda m, a: m.linalg.diagonal(a, offset=-1, dim1=0, dim2=2),
                 [_x(12, (3, 2, 4))]),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a + m.eye(4, dtype=a.dtype).reshape(4, 2, 2),
                                                  ind=1), [_x(13, (4, 2, 2))]),
    "tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(a + m.eye(6, dtype=a.dtype)
                                                         .reshape(2, 3, 6), b),
                    [_x(14, (2, 3, 6)), _x(15, (2, 3))]),
    **{f"lstsq_{d}_{s}": (lambda m, a, b, d=d: m.linalg.lstsq(a, b, driver=d), [
        _x(16, s), _x(17, (s[0], 2))]) for d in ("gels", "gelsy", "gelsd", "gelss")
       for s in ((5, 3), (3, 3), (2, 4))},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, xs = CASES[name]
    # lstsq: PyTorch has no second derivative of it; diagonal: its gradient is constant
    double = not name.startswith("lstsq") and name != "diagonal"
    ref = oracle(lambda torch: run(torch, fn, xs, double=double))
    assert_same(run(gradwalk, fn, xs, double=double), ref)


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_fields_as_torch(driver):
    a, b = _x(18, (5, 3)), _x(19, (5, 2))

    def fields(m):
        r = m.linalg.lstsq(m.tensor(a), m.tensor(b), driver=driver)
        return [(tuple(t.shape), str(t.dtype).split(".")[-1]) for t in r]

    assert fields(gradwalk) == [tuple(f) if isinstance(f, list) else f for f in
                                [tuple(x) for x in oracle(lambda torch: fields(torch))]]
