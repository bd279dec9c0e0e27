"""Sorting, selection and counting ops against PyTorch (recorded): the indices PyTorch picks on
ties and NaN (Note [sort order] in gradwalk/ops/sorting.py), int64 indices, the gradients to the
selected positions, and the evenly shared gradient of the whole-tensor median."""

import numpy as np
import pytest

import gradwalk
from tests.ops._mathops_parity import check, grad_of

NAN = float("nan")
TIES = [2.0, 1.0, 2.0, 3.0, 1.0, 3.0, 2.0, 1.0]
TIES_NAN = [2.0, 1.0, NAN, 3.0, 1.0, 3.0, NAN, 1.0]
ROWS = [[1.0, 1.0, 5.0], [2.0, 2.0, 2.0], [3.0, 1.0, 3.0]]


def _x(lib, data):
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


@pytest.mark.parametrize("data", [TIES, TIES_NAN, ROWS])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_and_puts_nan_above_numbers(data, descending):
    def fn(lib):
        x = _x(lib, data)
        v, i = lib.sort(x, dim=-1, descending=descending)
        return v, i, lib.argsort(x, dim=0, descending=descending), grad_of(lib, v, x)

    check(fn)


def test_msort_and_sort_of_0d():
    def fn(lib):
        x = _x(lib, ROWS)
        s = lib.sort(lib.tensor(3.0, dtype=lib.float64))
        return lib.msort(x), grad_of(lib, lib.msort(x), x), s.values, s.indices

    check(fn)


@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_indices_and_gradient(largest):
    def fn(lib):
        x = _x(lib, [[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, -2.2]])
        v, i = lib.topk(x, 2, dim=1, largest=largest)
        return v, i, grad_of(lib, v, x)

    check(fn)


def test_kthvalue_median_and_mode_pick_torchs_index_on_ties():
    def fn(lib):
        x = _x(lib, ROWS)
        y = _x(lib, TIES)
        k = lib.kthvalue(y, 2)
        med = lib.median(x, 1)
        mode = lib.mode(x, 1)
        mode_y = lib.mode(y)
        return (k.values, k.indices, med.values, med.indices, mode.values, mode.indices,
                mode_y.values, mode_y.indices, grad_of(lib, med.values, x),
                grad_of(lib, mode.values, x))

    check(fn)


def test_median_along_a_dim_with_nan():
    def fn(lib):
        x = _x(lib, [[1.0, NAN, 2.0, NAN], [NAN, 5.0, NAN, NAN], [4.0, 1.0, NAN, 3.0]])
        m = lib.median(x, 1, keepdim=True)
        n = lib.nanmedian(x, 1)
        return m.values, m.indices, n.values, n.indices, grad_of(lib, n.values, x)

    check(fn)


@pytest.mark.parametrize("data", [TIES, TIES_NAN])
def test_whole_tensor_median_shares_its_gradient_among_ties(data):
    def fn(lib):
        x = _x(lib, data)
        m, n = lib.median(x), lib.nanmedian(x)
        return m, n, grad_of(lib, m, x), grad_of(lib, n, x)

    check(fn)


def test_unique_and_unique_consecutive():
    def fn(lib):
        a = lib.tensor([[3, 1], [3, 1], [2, 2], [3, 1]])
        return (lib.unique(a), lib.unique(a, return_inverse=True, return_counts=True),
                lib.unique(a, dim=0, return_inverse=True, return_counts=True),
                lib.unique_consecutive(a, return_inverse=True, return_counts=True),
                lib.unique_consecutive(a, dim=0, return_counts=True))

    check(fn)


def test_counting_ops():
    def fn(lib):
        x = lib.tensor([0.5, 2.0, 2.0, 7.5, 10.0, -1.0], dtype=lib.float64)
        i = lib.tensor([0, 3, 3, 1])
        w = lib.tensor([0.5, 1.0, 2.0, 4.0], dtype=lib.float64)
        return (lib.bincount(i), lib.bincount(i, w, minlength=6), lib.histc(x, 4, 0, 10),
                lib.histc(x, bins=3), lib.histogram(x, 3), lib.histogram(
                    x, lib.tensor([0.0, 1.0, 5.0, 10.0], dtype=lib.float64), weight=x,
                    density=True))

    check(fn)


def test_bucketize_and_searchsorted():
    def fn(lib):
        b = lib.tensor([1.0, 3.0, 3.0, 5.0], dtype=lib.float64)
        v = lib.tensor([[3.0, 0.0], [6.0, 1.0]], dtype=lib.float64)
        seq = lib.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=lib.float64)
        return (lib.bucketize(v, b), lib.bucketize(v, b, right=True, out_int32=True),
                lib.searchsorted(b, v), lib.searchsorted(b, v, side="right"),
                lib.searchsorted(seq, v, sorter=lib.tensor([[0, 1, 2], [2, 1, 0]])),
                lib.searchsorted(b, 3.0))

    check(fn)


def test_argwhere_and_unravel_index():
    def fn(lib):
        x = lib.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
        return (lib.argwhere(x), lib.unravel_index(lib.tensor([[4, 1], [5, 0]]), (3, 2)),
                lib.unravel_index(lib.tensor(7), 10))

    check(fn)


def test_clear_errors():
    x = gradwalk.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="topk"):
        gradwalk.topk(x, 3)
    with pytest.raises(RuntimeError, match="kthvalue"):
        gradwalk.kthvalue(x, 0)
    with pytest.raises(RuntimeError, match="bincount"):
        gradwalk.bincount(gradwalk.tensor([1.0]))
    with pytest.raises(IndexError, match="median"):
        gradwalk.median(gradwalk.tensor([]))
    with pytest.raises(RuntimeError, match="side"):
        gradwalk.searchsorted(x, x, right=True, side="left")
    assert np.array_equal(gradwalk.sort(x).indices.numpy(), [0, 1])
