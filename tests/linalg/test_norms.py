"""gradwalk.linalg's norms, cond and matrix_rank against PyTorch (recorded oracle), zero
vectors included (PyTorch's subgradient: 0)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

from .helpers import assert_same, run

X = np.random.default_rng(0).standard_normal((3, 4))
ZEROS = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]])

CASES = {
    **{f"vector_{o}": (lambda m, x, o=o: m.linalg.vector_norm(x, o, dim=-1), [X])
       for o in (2, 1, 3, 0.5, 1.5, math.inf, -math.inf, 0, -1)},
    **{f"vector_zero_{o}": (lambda m, x, o=o: m.linalg.vector_norm(x, o, dim=-1), [ZEROS])
       for o in (2, 1, 3, 1.5, math.inf)},
    **{f"matrix_{o}": (lambda m, x, o=o: m.linalg.matrix_norm(x, o), [X])
       for o in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)},
    "matrix_dims_keepdim": (lambda m, x: m.linalg.matrix_norm(x, 1, dim=(1, 0), keepdim=True),
                            [X]),
    "norm_default": (lambda m, x: m.linalg.norm(x), [X]),
    "norm_dim": (lambda m, x: m.linalg.norm(x, 3, dim=0, keepdim=True), [X]),
    "cond": (lambda m, x: m.linalg.cond(x @ x.mT), [X]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, xs = CASES[name]
    smooth = "zero" not in name and "inf" not in name and name != "vector_0"
    ref = oracle(lambda torch: run(torch, fn, xs, double=smooth))
    assert_same(run(gradwalk, fn, xs, double=smooth), ref)


def test_cond_in_other_norms():
    # PyTorch's gradient of cond(A, 'fro') fails (it changes inv's output in place): values only
    a = X @ X.T
    for p in ("fro", 1, -np.inf):
        ref = oracle(lambda torch, p=p: torch.linalg.cond(torch.tensor(a), p))
        np.testing.assert_allclose(gradwalk.linalg.cond(gradwalk.tensor(a), p).numpy(), ref,
                                   rtol=1e-10)


@pytest.mark.parametrize("hermitian", [False, True])
def test_matrix_rank(hermitian):
    a = X.T @ X  # rank 3 of 4
    ref = oracle(lambda torch: torch.linalg.matrix_rank(torch.tensor(a), hermitian=hermitian))
    got = gradwalk.linalg.matrix_rank(gradwalk.tensor(a), hermitian=hermitian)
    assert got.dtype == gradwalk.int64 and np.array_equal(got.numpy(), ref)


def test_inf_norm_of_empty_raises_as_torch():
    with pytest.raises(RuntimeError, match="inf norm on an empty tensor"):
        gradwalk.linalg.vector_norm(gradwalk.zeros(0), math.inf)
