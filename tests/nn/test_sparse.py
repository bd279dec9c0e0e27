"""``nn.Embedding``: PyTorch parity, padding_idx, max_norm, from_pretrained, errors, repr."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle

from .parity import check_layer

IDS = np.array([[1, 3, 0, 3], [2, 0, 4, 1]])


@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=0), dict(padding_idx=-1),
                                dict(scale_grad_by_freq=True)])
def test_embedding_matches_torch(kw):
    check_layer(lambda m: m.nn.Embedding(5, 3, **kw), IDS)
    assert repr(nn.Embedding(5, 3, **kw)) == oracle(lambda torch: repr(torch.nn.Embedding(5, 3,
                                                                                          **kw)))


def test_embedding_padding_row_starts_at_zero_and_gets_no_grad():
    emb = nn.Embedding(5, 3, padding_idx=2)
    assert not emb.weight.detach().numpy()[2].any()
    emb(gradwalk.tensor([2, 2, 1])).sum().backward()
    assert not emb.weight.grad.numpy()[2].any() and emb.weight.grad.numpy()[1].all()


def test_embedding_max_norm_matches_torch():
    ours, ref = check_layer(lambda m: m.nn.Embedding(5, 3, max_norm=0.5), IDS)
    np.testing.assert_allclose(ours["weight"], ref["weight"], rtol=1e-12)


def test_embedding_from_pretrained_and_errors():
    w = gradwalk.eye(4)
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    assert emb(gradwalk.tensor([3])).tolist() == [[0.0, 0.0, 0.0, 1.0]]
    with pytest.raises(IndexError, match="index out of range"):
        emb(gradwalk.tensor([4]))
    with pytest.raises(RuntimeError, match="Long, Int"):
        emb(gradwalk.tensor([1.0]))
