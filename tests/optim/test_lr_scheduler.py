"""Learning-rate schedules give PyTorch's lr sequences."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

N = 30


def _sequence(lib, make, opt_name="SGD", opt_kwargs=None, groups=1, steps=N):
    params = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    kwargs = opt_kwargs or dict(lr=0.1, momentum=0.9)
    pg = [{"params": [p], "lr": kwargs["lr"] * (i + 1)} for i, p in enumerate(params)]
    opt = getattr(lib.optim, opt_name)(pg, **kwargs)
    sched = make(lib.optim.lr_scheduler, opt)
    lrs = [list(sched.get_last_lr())]
    moms = [[g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append([g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups])
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    return np.array(lrs, dtype=float), np.array(moms, dtype=float)


SCHEDULES = {
    "step": lambda L, o: L.StepLR(o, step_size=4, gamma=0.5),
    "multistep": lambda L, o: L.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "exponential": lambda L, o: L.ExponentialLR(o, gamma=0.9),
    "cosine": lambda L, o: L.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "cosine_restart_region": lambda L, o: L.CosineAnnealingLR(o, T_max=7),
    "lambda": lambda L, o: L.LambdaLR(o, lambda e: 1.0 / (1 + e) ** 0.5),
    "linear_warmup": lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=8),
    "linear_decay": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                            total_iters=12),
    "onecycle_cos": lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=N + 1),
    "onecycle_linear_3phase": lambda L, o: L.OneCycleLR(
        o, max_lr=[0.5, 0.8][:len(o.param_groups)], epochs=4, steps_per_epoch=8, anneal_strategy="linear",
        three_phase=True, pct_start=0.25),
    "sequential": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.25, total_iters=5),
            L.CosineAnnealingLR(o, T_max=20, eta_min=0.01)], milestones=[5]),
    "sequential3": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.5, total_iters=4), L.StepLR(o, 3, gamma=0.5),
            L.ExponentialLR(o, gamma=0.95)], milestones=[4, 12]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("groups", [1, 2])
def test_lr_sequence_matches_pytorch(name, groups):
    make = SCHEDULES[name]
    ours, our_m = _sequence(gradwalk, make, groups=groups)
    ref, ref_m = oracle(lambda torch: _sequence(torch, make, groups=groups))
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(our_m, ref_m, rtol=1e-12, atol=1e-15)
    assert len(set(ours[:, 0].round(12))) > 1  # the schedule changed the lr


def test_onecycle_cycles_adam_beta1_like_pytorch():
    make = lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=20)  # noqa: E731
    kwargs = dict(lr=0.001, betas=(0.9, 0.99))
    ours, our_m = _sequence(gradwalk, make, "Adam", kwargs, steps=19)
    ref, ref_m = oracle(lambda torch: _sequence(torch, make, "Adam", kwargs, steps=19))
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    np.testing.assert_allclose(our_m, ref_m, rtol=1e-12)


def test_onecycle_errors():
    L = gradwalk.optim.lr_scheduler
    opt = gradwalk.optim.SGD([gradwalk.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="total_steps"):
        L.OneCycleLR(opt, max_lr=1.0)
    s = L.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    s.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        s.step()
    plain = gradwalk.optim.Adagrad([gradwalk.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum"):
        L.OneCycleLR(plain, max_lr=1.0, total_steps=5)


def test_scheduler_state_dict_round_trip():
    L = gradwalk.optim.lr_scheduler
    w = gradwalk.zeros(1, requires_grad=True)
    opt = gradwalk.optim.SGD([w], lr=1.0)
    s = L.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        opt.step()
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    opt2 = gradwalk.optim.SGD([w], lr=1.0)
    s2 = L.CosineAnnealingLR(opt2, T_max=10)
    s2.load_state_dict(sd)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    for _ in range(3):
        s.step()
        s2.step()
    assert s.get_last_lr() == s2.get_last_lr()


def test_sequential_validates():
    L = gradwalk.optim.lr_scheduler
    opt = gradwalk.optim.SGD([gradwalk.zeros(1, requires_grad=True)], lr=1.0)
    other = gradwalk.optim.SGD([gradwalk.zeros(1, requires_grad=True)], lr=1.0)
    a, b = L.StepLR(opt, 2), L.StepLR(other, 2)
    with pytest.raises(ValueError, match="same optimizer"):
        L.SequentialLR(opt, [a, b], milestones=[3])
    with pytest.raises(ValueError, match="one more"):
        L.SequentialLR(opt, [a, L.StepLR(opt, 3)], milestones=[])


def test_resume_requires_initial_lr():
    opt = gradwalk.optim.SGD([gradwalk.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        gradwalk.optim.lr_scheduler.StepLR(opt, 3, last_epoch=5)
