"""ctc_loss and nn.CTCLoss against PyTorch: values and gradients with respect to the
log-probabilities and to the logits, padded and concatenated targets, every reduction."""

import numpy as np
import pytest

import gradwalk

from .fn_parity import check_fn
from .parity import check_layer

rng = np.random.default_rng(0)
T, N, C = 6, 3, 4
LOGITS = rng.standard_normal((T, N, C))
LP = LOGITS - np.log(np.exp(LOGITS).sum(2, keepdims=True))
PADDED = np.array([[1, 2, 2], [3, 0, 0], [1, 1, 3]])
CONCAT = np.array([1, 2, 2, 3, 1, 3])

CASES = [
    (PADDED, [6, 5, 4], [3, 1, 3], dict()),
    (PADDED, [6, 5, 4], [3, 1, 3], dict(reduction="sum")),
    (PADDED, [6, 5, 2], [3, 1, 3], dict(reduction="none", zero_infinity=True)),
    (CONCAT, [6, 5, 4], [3, 1, 2], dict(reduction="none")),
    (np.array([[0, 2, 2], [3, 1, 1], [1, 1, 3]]), [6, 5, 4], [3, 0, 3],
     dict(blank=3, reduction="none")),
]


@pytest.mark.parametrize("tg,il,tl,kw", CASES, ids=[str(c[3]) for c in CASES])
def test_ctc_loss_matches_torch(tg, il, tl, kw):
    check_fn(lambda F, lp, t: F.ctc_loss(lp, t, il, tl, **kw), [0], LP, tg)
    check_fn(lambda F, z, t: F.ctc_loss(z.log_softmax(2), t, il, tl, **kw), [0], LOGITS, tg,
             key="logits")


def test_ctc_loss_unbatched_and_tensor_lengths_match_torch():
    check_fn(lambda F, lp, t: F.ctc_loss(lp, t, [6], [2]), [0], LP[:, 0], np.array([1, 2]))
    check_fn(lambda F, lp, t, il, tl: F.ctc_loss(lp, t, il, tl), [0], LP, PADDED,
             np.array([6, 4, 5]), np.array([2, 1, 3]), key="tensors")


def test_ctc_loss_layer_matches_torch():
    lengths = ([6, 5, 4], [3, 1, 3])
    check_layer(lambda m: m.nn.CTCLoss(blank=0, reduction="mean"), LP, PADDED,
                call=lambda mod, lp, t: mod(lp, t, *lengths))


def test_ctc_loss_refuses_bad_arguments():
    F = gradwalk.nn.functional
    lp = gradwalk.tensor(LP)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(lp, gradwalk.tensor(PADDED), [7, 5, 4], [3, 1, 3])
    with pytest.raises(RuntimeError, match="one length per batch"):
        F.ctc_loss(lp, gradwalk.tensor(PADDED), [6, 5], [3, 1, 3])
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(lp, gradwalk.tensor(PADDED), [6, 5, 4], [3, 1, 3], blank=4)
    with pytest.raises(RuntimeError, match="integers"):
        F.ctc_loss(lp, gradwalk.tensor(PADDED * 1.0), [6, 5, 4], [3, 1, 3])
