"""unfold/fold, pdist, rms_norm, local_response_norm, embedding_bag, the margin losses and the
old upsample names against PyTorch (values and gradients), and their errors."""

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import gradcheck, gradgradcheck

from .fn_parity import check_fn

rng = np.random.default_rng(0)
IMG = rng.standard_normal((2, 3, 5, 6))
ROWS = rng.standard_normal((5, 4))
W = rng.standard_normal((7, 3))

IM2COL = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1),
          dict(kernel_size=3, dilation=2, padding=(1, 2), stride=(1, 2))]


@pytest.mark.parametrize("kw", IM2COL, ids=str)
def test_unfold_matches_torch(kw):
    check_fn(lambda F, x: F.unfold(x, **kw), [0], IMG)
    check_fn(lambda F, x: F.unfold(x, **kw), [0], IMG[0], key="unbatched")


@pytest.mark.parametrize("kw", IM2COL, ids=str)
def test_fold_matches_torch(kw):
    cols = gradwalk.nn.functional.unfold(gradwalk.tensor(IMG), **kw)
    arr = rng.standard_normal(tuple(cols.shape))
    check_fn(lambda F, c: F.fold(c, (5, 6), **kw), [0], arr)
    check_fn(lambda F, c: F.fold(c, (5, 6), **kw), [0], arr[0], key="unbatched")


def test_fold_of_unfold_counts_the_windows_and_has_second_order():
    x = gradwalk.tensor(IMG[:1, :1], requires_grad=True)
    F = gradwalk.nn.functional
    assert gradgradcheck(lambda t: F.fold(F.unfold(t, 2, padding=1), (5, 6), 2, padding=1),
                         (x,))


def test_unfold_and_fold_refuse_bad_shapes():
    F = gradwalk.nn.functional
    with pytest.raises(NotImplementedError, match="3D or 4D"):
        F.unfold(gradwalk.zeros(3, 4), 2)
    with pytest.raises(RuntimeError, match="divisible"):
        F.fold(gradwalk.zeros(1, 5, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(gradwalk.zeros(1, 4, 5), (3, 3), 2)
    with pytest.raises(RuntimeError, match="no sliding block"):
        F.unfold(gradwalk.zeros(1, 1, 2, 2), 3)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0], ids=str)
def test_pdist_matches_torch(p):
    check_fn(lambda F, x: F.pdist(x, p), [0], ROWS)


def test_pdist_of_equal_rows_has_zero_gradient_as_torch():
    x = ROWS.copy()
    x[2] = x[0]
    check_fn(lambda F, t: F.pdist(t), [0], x)


@pytest.mark.parametrize("shape,weight,eps", [((4,), True, None), ((3, 4), False, 1e-3),
                                              ((4,), False, None)], ids=str)
def test_rms_norm_matches_torch(shape, weight, eps):
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal(shape)
    if weight:
        check_fn(lambda F, t, v: F.rms_norm(t, shape, v, eps), [0, 1], x, w)
    else:
        check_fn(lambda F, t: F.rms_norm(t, shape, None, eps), [0], x)


@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((2, 6, 3, 4), 2), ((1, 4, 2, 2, 3), 5)],
                         ids=str)
def test_local_response_norm_matches_torch(shape, size):
    x = rng.standard_normal(shape)
    check_fn(lambda F, t: F.local_response_norm(t, size, alpha=0.3, beta=0.6, k=1.5), [0], x)


IDS_1D = np.array([1, 2, 4, 5, 4, 3, 2, 6])
OFFS = np.array([0, 3, 3, 6])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("pad", [None, 4])
def test_embedding_bag_with_offsets_matches_torch(mode, pad):
    check_fn(lambda F, w, i, o: F.embedding_bag(i, w, o, mode=mode, padding_idx=pad), [0],
             W, IDS_1D, OFFS)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_and_last_offset_match_torch(mode):
    ids = rng.integers(0, 7, (3, 4))
    check_fn(lambda F, w, i: F.embedding_bag(i, w, mode=mode), [0], W, ids)
    last = np.array([0, 2, 5, 8])
    check_fn(lambda F, w, i, o: F.embedding_bag(i, w, o, mode=mode, include_last_offset=True),
             [0], W, IDS_1D, last, key="last")


def test_embedding_bag_per_sample_weights_match_torch():
    psw = rng.standard_normal(len(IDS_1D))
    check_fn(lambda F, w, i, o, s: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=s),
             [0, 3], W, IDS_1D, OFFS, psw)


def test_embedding_bag_refuses_bad_arguments():
    F = gradwalk.nn.functional
    w = gradwalk.tensor(W)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(gradwalk.tensor([[1, 2]]), w, mode="mean",
                        per_sample_weights=gradwalk.ones(1, 2))
    with pytest.raises(ValueError, match="offsets"):
        F.embedding_bag(gradwalk.tensor([1, 2]), w)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding_bag(gradwalk.tensor([[1, 9]]), w)
    with pytest.raises(RuntimeError, match="integer"):
        F.embedding_bag(gradwalk.tensor([[1.0]]), w)


A, P, N = (rng.standard_normal((4, 3)) for _ in range(3))


@pytest.mark.parametrize("kw", [dict(), dict(swap=True, margin=0.5), dict(reduction="sum"),
                                dict(reduction="none")], ids=str)
def test_triplet_margin_with_distance_loss_matches_torch(kw):
    check_fn(lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n, **kw), [0, 1, 2],
             A, P, N)
    check_fn(lambda F, a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), **kw),
        [0, 1, 2], A, P, N, key="cosine")


TARGETS = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0], [2, 2, 1, -1]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss_matches_torch(reduction):
    x = rng.standard_normal((4, 4))
    check_fn(lambda F, t, y: F.multilabel_margin_loss(t, y, reduction=reduction), [0], x,
             TARGETS)
    check_fn(lambda F, t, y: F.multilabel_margin_loss(t, y, reduction=reduction), [0], x[0],
             TARGETS[0], key="1d")


def test_multilabel_margin_loss_gradient_is_the_finite_difference():
    x = gradwalk.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    y = gradwalk.tensor(TARGETS)
    assert gradcheck(lambda t: gradwalk.nn.functional.multilabel_margin_loss(t, y), (x,))


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample:UserWarning")
def test_upsample_nearest_and_bilinear_match_torch():
    x = rng.standard_normal((1, 2, 3, 4))
    check_fn(lambda F, t: F.upsample_nearest(t, scale_factor=2), [0], x)
    check_fn(lambda F, t: F.upsample_bilinear(t, (5, 7)), [0], x, key="bilinear")
