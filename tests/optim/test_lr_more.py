"""The schedules of ``optim/lr_more.py`` against PyTorch: the same lrs (and momenta) per step."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _opt(lib, name="SGD", **kw):
    p = lib.zeros(1, requires_grad=True)
    q = lib.zeros(1, requires_grad=True)
    groups = [{"params": [p]}, {"params": [q], "lr": 0.5}]
    return getattr(lib.optim, name)(groups, lr=1.0, **kw)


def _trace(lib, make, steps=25, metric=None, opt_name="SGD", opt_kw=None):
    opt = _opt(lib, opt_name, **(opt_kw or {}))
    sched = make(lib.optim.lr_scheduler, opt)
    rows = []
    for k in range(steps):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric(k))
        row = list(sched.get_last_lr())
        for g in opt.param_groups:
            row.append(g.get("momentum", g.get("betas", (0,))[0] if "betas" in g else 0))
        rows.append(row)
    return np.array(rows, dtype=float)


SCHEDULES = [
    ("ConstantLR", lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=4)),
    ("MultiplicativeLR", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.0)),
    ("PolynomialLR", lambda L, o: L.PolynomialLR(o, total_iters=10, power=2.0)),
    ("ChainedScheduler", lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.5, total_iters=3), L.ExponentialLR(o, gamma=0.9)])),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR2", lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                                          step_size_down=5, mode="triangular2")),
    ("CyclicLRexp", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                            mode="exp_range", gamma=0.9,
                                            cycle_momentum=False)),
    ("WarmRestarts", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                               eta_min=0.01)),
]


@pytest.mark.parametrize("name,make", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_pytorch(name, make):
    kw = dict(momentum=0.9)
    ref = oracle(lambda torch: _trace(torch, make, opt_kw=kw))
    np.testing.assert_allclose(_trace(gradwalk, make, opt_kw=kw), ref, rtol=1e-12, atol=1e-15)


def test_cyclic_cycles_adams_beta1():
    make = SCHEDULES[4][1]
    ref = oracle(lambda torch: _trace(torch, make, opt_name="Adam"))
    np.testing.assert_allclose(_trace(gradwalk, make, opt_name="Adam"), ref, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(patience=2),
    dict(mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(patience=0, min_lr=[0.05, 0.2], eps=1e-3),
], ids=str)
def test_reduce_on_plateau_matches_pytorch(kwargs):
    def metric(k):
        return [1.0, 0.9, 0.95, 0.95, 0.94, 0.97, 0.8, 0.8, 0.8, 0.8][k % 10]

    def make(L, o):
        return L.ReduceLROnPlateau(o, **kwargs)

    ref = oracle(lambda torch: _trace(torch, make, metric=metric))
    np.testing.assert_allclose(_trace(gradwalk, make, metric=metric), ref, rtol=1e-12)


def test_errors_match_pytorch():
    L = gradwalk.optim.lr_scheduler
    o = _opt(gradwalk)
    with pytest.raises(ValueError):
        L.ReduceLROnPlateau(o, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        L.ReduceLROnPlateau(o, mode="middle")
    with pytest.raises(ValueError, match="T_0"):
        L.CosineAnnealingWarmRestarts(o, T_0=0)
    with pytest.raises(ValueError, match="momentum"):
        L.CyclicLR(gradwalk.optim.Adagrad([gradwalk.zeros(1, requires_grad=True)]), 0.1, 1.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        L.ChainedScheduler([L.ReduceLROnPlateau(o)])
