"""Loss modules: PyTorch parity of values and gradients (input and, where differentiable,
target) for every reduction and option; the fused loss ops' forward rules."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle

REDUCTIONS = ["mean", "sum", "none"]


def _compare(cls, kwargs, x, t, wrt_target=True, seed=0, rtol=1e-9):
    """Run the torch and gradwalk loss on the same arrays; compare value and gradients."""
    def run(m):
        kw = {k: (m.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        loss = getattr(m.nn, cls)(**kw)
        xi = m.tensor(x, requires_grad=True)
        ti = m.tensor(t, requires_grad=wrt_target and t.dtype.kind == "f")
        out = loss(xi, ti)
        c = np.random.default_rng(seed).standard_normal(tuple(out.shape))
        (out * m.tensor(c)).sum().backward()
        return [out.detach().numpy(), xi.grad.numpy()] + (
            [ti.grad.numpy()] if ti.requires_grad else [])

    res = [oracle(run), run(gradwalk)]
    assert len(res[0]) == len(res[1])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-12)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
T_CLS = np.array([0, 4, 2, 1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=RNG.uniform(0.5, 2, 5)),
                                  dict(ignore_index=2), dict(label_smoothing=0.2),
                                  dict(weight=RNG.uniform(0.5, 2, 5), label_smoothing=0.1,
                                       ignore_index=4)],
                         ids=["plain", "weight", "ignore", "smooth", "all"])
def test_cross_entropy_loss_matches_torch(reduction, opts):
    _compare("CrossEntropyLoss", dict(reduction=reduction, **opts), X, T_CLS)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_and_kdim(reduction):
    p = np.random.default_rng(1).dirichlet(np.ones(5), 4)
    _compare("CrossEntropyLoss", dict(reduction=reduction), X, p, wrt_target=False)
    x3 = np.random.default_rng(2).standard_normal((2, 3, 4))
    _compare("CrossEntropyLoss", dict(reduction=reduction), x3, np.array([[0, 1, 2, 1],
                                                                          [2, 2, 0, 1]]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction):
    logp = np.log(np.random.default_rng(3).dirichlet(np.ones(5), 4))
    _compare("NLLLoss", dict(reduction=reduction), logp, T_CLS)
    _compare("NLLLoss", dict(reduction=reduction, weight=np.arange(1.0, 6.0), ignore_index=0),
             logp, T_CLS)


@pytest.mark.parametrize("cls,opts", [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}),
                                      ("SmoothL1Loss", dict(beta=0.5)),
                                      ("SmoothL1Loss", dict(beta=0.0)), ("HuberLoss", {}),
                                      ("HuberLoss", dict(delta=0.7))])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(cls, opts, reduction):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4))
    t = x + rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.05, 2.0, (3, 4))  # no |d| == beta
    _compare(cls, dict(reduction=reduction, **opts), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_loss_matches_torch(reduction, weighted):
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, (3, 4))
    t = rng.uniform(0, 1, (3, 4))
    kw = dict(reduction=reduction)
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, 4)
    _compare("BCELoss", kw, p, t)


def test_bce_loss_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 1.0])
    _compare("BCELoss", dict(reduction="sum"), p, t, wrt_target=False, rtol=1e-8)
    # the target gradient is the derivative of the clamped loss: log(1-p) - log(p) with both
    # logs clamped at -100, finite where PyTorch gives inf
    ti = gradwalk.tensor(t, requires_grad=True)
    nn.BCELoss(reduction="sum")(gradwalk.tensor(p), ti).backward()
    np.testing.assert_allclose(ti.grad.numpy(), [100.0, -100.0, 0.0])
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        nn.BCELoss()(gradwalk.tensor([1.5]), gradwalk.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_loss_matches_torch(reduction):
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    _compare("BCEWithLogitsLoss", dict(reduction=reduction), x, t)
    _compare("BCEWithLogitsLoss", dict(reduction=reduction, pos_weight=rng.uniform(0.5, 3, 4),
                                       weight=rng.uniform(0.5, 2, 4)), x, t)


def test_loss_reprs_and_buffers_match_torch():
    classes = ("CrossEntropyLoss", "MSELoss", "L1Loss", "BCELoss", "NLLLoss")
    w = np.ones(3)

    def reprs_and_buffers(m):
        return ([repr(getattr(m.nn, cls)()) for cls in classes],
                list(m.nn.CrossEntropyLoss(weight=m.tensor(w)).state_dict()))

    assert reprs_and_buffers(gradwalk) == oracle(reprs_and_buffers)


def test_loss_errors():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.L1Loss(reduction="avg")(gradwalk.zeros(2), gradwalk.zeros(2))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        nn.SmoothL1Loss(beta=-1.0)(gradwalk.zeros(2), gradwalk.zeros(2))
    with pytest.raises(ValueError, match="different to the input size"):
        nn.BCELoss()(gradwalk.zeros(2), gradwalk.zeros(3))
    with pytest.warns(UserWarning, match="different to the input size"):
        nn.L1Loss()(gradwalk.zeros(2, 1), gradwalk.zeros(2))
