"""Reductions at their edges, against PyTorch (recorded): ``var``/``std`` with no degree of
freedom left give NaN values, gradients and tangents, never a Python ``ZeroDivisionError``."""

import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

CASES = [("var", [2.0], 1), ("std", [2.0], 1), ("var", [2.0], 2), ("std", [2.0], 2),
         ("var", [[1.0, 3.0]], 1), ("std", [[1.0, 3.0]], 1)]


def _run(lib, name, data, correction):
    x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
    y = getattr(x, name)(dim=0, correction=correction)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name,data,correction", CASES)
def test_no_degree_of_freedom_left_matches_pytorch(name, data, correction):
    def ref(torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns "degrees of freedom is <= 0"
            return _run(torch, name, data, correction)

    expected = oracle(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and gradwalk's internals stay quiet
        got = _run(gradwalk, name, data, correction)
    for g, t in zip(got, expected):
        np.testing.assert_array_equal(g, t)


def test_tangent_is_nan_too():
    fw = gradwalk.autograd.forward_ad
    with fw.dual_level():
        x = fw.make_dual(gradwalk.tensor([2.0], dtype=gradwalk.float64),
                         gradwalk.tensor([1.0], dtype=gradwalk.float64))
        assert np.isnan(fw.unpack_dual(x.var()).tangent.numpy()).all()
