"""The composite losses and distances of ``nn/functional_losses.py`` and their modules against
PyTorch: values and gradients of every input, for every reduction."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

rng = np.random.default_rng(0)
X1, X2, X3 = (rng.standard_normal((5, 4)) for _ in range(3))
SIGN = np.where(rng.random(5) > 0.5, 1.0, -1.0)
PROB = rng.random((5, 4))
PROB /= PROB.sum(1, keepdims=True)
COUNTS = rng.poisson(2.0, (5, 4)).astype(float)
VAR = rng.random((5, 4)) + 0.1
LABELS = (rng.random((5, 4)) > 0.5).astype(float)
CLASSES = rng.integers(0, 4, 5)
WEIGHT = rng.random(4) + 0.5

# (name, float inputs (require grad), other inputs, kwargs)
CASES = [
    ("kl_div", (np.log(PROB + 0.1), PROB), (), {}),
    ("kl_div", (np.log(PROB + 0.1), np.log(PROB)), (), {"log_target": True}),
    ("cosine_similarity", (X1, X2), (), {}),
    ("cosine_similarity", (X1, X2), (), {"dim": 0}),
    ("pairwise_distance", (X1, X2), (), {}),
    ("pairwise_distance", (X1, X2), (), {"p": 1.0, "keepdim": True}),
    ("triplet_margin_loss", (X1, X2, X3), (), {}),
    ("triplet_margin_loss", (X1, X2, X3), (), {"swap": True, "p": 1.0, "margin": 2.0}),
    ("margin_ranking_loss", (X1[:, 0], X2[:, 0]), (SIGN,), {"margin": 0.3}),
    ("hinge_embedding_loss", (X1[:, 0],), (SIGN,), {"margin": 0.5}),
    ("poisson_nll_loss", (X1,), (COUNTS,), {}),
    ("poisson_nll_loss", (VAR,), (COUNTS,), {"log_input": False, "full": True}),
    ("gaussian_nll_loss", (X1, X2, VAR), (), {}),
    ("gaussian_nll_loss", (X1, X2, VAR[:, :1]), (), {"full": True}),
    ("cosine_embedding_loss", (X1, X2), (SIGN,), {"margin": 0.2}),
    ("soft_margin_loss", (X1,), (np.sign(X2),), {}),
    ("multilabel_soft_margin_loss", (X1,), (LABELS,), {}),
    ("multilabel_soft_margin_loss", (X1,), (LABELS, WEIGHT), {}),
    ("multi_margin_loss", (X1,), (CLASSES,), {}),
    ("multi_margin_loss", (X1,), (CLASSES,), {"p": 2, "margin": 0.5}),
    ("multi_margin_loss", (X1,), (CLASSES, 1, 1.0, WEIGHT), {}),
]


def _run(lib, name, floats, others, kw, reduction):
    xs = [lib.tensor(a, requires_grad=True) for a in floats]
    rest = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in others]
    if reduction is not None:
        kw = dict(kw, reduction=reduction)
    out = getattr(lib.nn.functional, name)(*xs, *rest, **kw)
    c = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * lib.tensor(c)).sum().backward()
    return [out.detach().numpy()] + [x.grad.numpy() for x in xs]


# every reduction of every loss; the distances have no reduction argument
RUNS = [pytest.param(*c, r, id=f"{c[0]}-{i}-{r}") for i, c in enumerate(CASES)
        for r in ([None] if c[0] in ("cosine_similarity", "pairwise_distance")
                  else [None, "sum", "none"])]


@pytest.mark.parametrize("name,floats,others,kw,reduction", RUNS)
def test_matches_pytorch(name, floats, others, kw, reduction):
    ref = oracle(lambda torch: _run(torch, name, floats, others, kw, reduction))
    ours = _run(gradwalk, name, floats, others, kw, reduction)
    for k, (t, g) in enumerate(zip(ref, ours)):
        assert g.shape == t.shape, k
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12, err_msg=f"result {k}")


def _kl_div_batchmean(lib):
    return lib.nn.functional.kl_div(lib.tensor(X1), lib.tensor(PROB), reduction="batchmean")


def test_kl_div_batchmean():
    ref = oracle(_kl_div_batchmean)
    ours = _kl_div_batchmean(gradwalk)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12)


def test_one_hot_matches_pytorch():
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        ref = oracle(lambda torch, n=n: torch.nn.functional.one_hot(torch.tensor(idx), n))
        ours = gradwalk.nn.functional.one_hot(gradwalk.tensor(idx), n)
        assert ours.dtype == gradwalk.int64
        np.testing.assert_array_equal(ours.numpy(), ref)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 5]), 3),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([-1, 0])),
    lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0])),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.zeros(2, 3), lib.zeros(2, 3),
                                                    lib.ones(3, 2)),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.zeros(2), lib.zeros(2),
                                                    -lib.ones(2)),
    lambda lib: lib.nn.functional.kl_div(lib.zeros(2), lib.zeros(2), reduction="avg"),
])
def test_errors_like_pytorch(call):
    raised = oracle(lambda torch: error_of(call, torch))
    assert raised is not None and ("RuntimeError" in raised or "ValueError" in raised), raised
    ours = error_of(call, gradwalk)
    # gradwalk's error is an instance of (a class named as) torch's
    assert ours is not None and raised[0] in ours, (ours, raised)


MODULES = [
    ("KLDivLoss", {"reduction": "batchmean"}, (np.log(PROB + 0.1), PROB), ()),
    ("CosineSimilarity", {}, (X1, X2), ()),
    ("PairwiseDistance", {"p": 3.0}, (X1, X2), ()),
    ("TripletMarginLoss", {"margin": 0.5}, (X1, X2, X3), ()),
    ("MarginRankingLoss", {"margin": 0.1}, (X1[:, 0], X2[:, 0]), (SIGN,)),
    ("HingeEmbeddingLoss", {}, (X1[:, 0],), (SIGN,)),
    ("CosineEmbeddingLoss", {}, (X1, X2), (SIGN,)),
    ("PoissonNLLLoss", {}, (X1,), (COUNTS,)),
    ("GaussianNLLLoss", {}, (X1, X2, VAR), ()),
    ("SoftMarginLoss", {}, (X1,), (np.sign(X2),)),
    ("MultiLabelSoftMarginLoss", {}, (X1,), (LABELS,)),
    ("MultiMarginLoss", {"p": 2}, (X1,), (CLASSES,)),
]


def _module_run(lib, name, kw, floats, others):
    mod = getattr(lib.nn, name)(**kw)
    xs = [lib.tensor(a, requires_grad=True) for a in floats]
    out = mod(*xs, *[lib.tensor(a) for a in others])
    out.sum().backward()
    return repr(mod), [out.detach().numpy()] + [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("name,kw,floats,others", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_pytorch(name, kw, floats, others):
    ref_repr, ref = oracle(lambda torch: _module_run(torch, name, kw, floats, others))
    our_repr, ours = _module_run(gradwalk, name, kw, floats, others)
    assert our_repr == ref_repr
    for t, g in zip(ref, ours):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)
