"""Rprop and Adafactor against PyTorch: the same loss curve, parameters and state over 20 steps
in float64."""


import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

STEPS = 20


def _run(lib, name, kwargs, grouped=False):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((16, 4))
    y_np = rng.integers(0, 3, size=16)
    init = [rng.standard_normal((4, 8)) * 0.5, rng.standard_normal(8) * 0.1,
            rng.standard_normal((2, 8, 3)) * 0.5, rng.standard_normal(3) * 0.1]
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    params = [lib.tensor(a.copy(), requires_grad=True) for a in init]
    groups = params if not grouped else [{"params": params[:2]},
                                         {"params": params[2:], "lr": 0.003}]
    opt = getattr(lib.optim, name)(groups, **kwargs)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        w1, b1, w2, b2 = params
        loss = lib.nn.functional.cross_entropy(lib.relu(x @ w1 + b1) @ w2.sum(0) + b2, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    states = [{k: np.asarray(v.numpy()) for k, v in s.items()}
              for s in opt.state_dict()["state"].values()]
    return np.array(losses), [p.detach().numpy().copy() for p in params], states


CONFIGS = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-4, 1e-2), d=1.5, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.1, d=1.0, maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=lambda v: str(v))
@pytest.mark.parametrize("grouped", [False, True])
def test_loss_curve_matches_pytorch(name, kwargs, grouped):
    ours, our_params, our_states = _run(gradwalk, name, kwargs, grouped)
    ref, ref_params, ref_states = oracle(lambda torch: _run(torch, name, kwargs, grouped))
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
    for a, b in zip(our_params, ref_params):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours[0], ours[-1])
    assert len(our_states) == len(ref_states)
    for mine, theirs in zip(our_states, ref_states):
        assert set(mine) == set(theirs)
        for k, v in theirs.items():
            assert mine[k].dtype == v.dtype, k
            np.testing.assert_allclose(mine[k], v, rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name,kwargs,match", [
    ("Rprop", dict(etas=(1.5, 2.0)), "eta values"),
    ("Rprop", dict(lr=-1.0), "learning rate"),
    ("Adafactor", dict(beta2_decay=0.5), "beta2_decay"),
    ("Adafactor", dict(d=0.5), "Clipping threshold"),
    ("Adafactor", dict(eps=(-1.0, 1e-3)), "epsilon1"),
])
def test_bad_hyperparameters_raise(name, kwargs, match):
    w = gradwalk.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        getattr(gradwalk.optim, name)([w], **kwargs)


def test_state_dict_round_trip_continues_the_same_curve():
    def run(resume):
        rng = np.random.default_rng(2)
        w = gradwalk.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        opt = gradwalk.optim.Adafactor([w], lr=0.1)
        out = []
        for i in range(6):
            if resume and i == 3:
                sd = opt.state_dict()
                opt = gradwalk.optim.Adafactor([w], lr=0.1)
                opt.load_state_dict(sd)
            opt.zero_grad()
            loss = (w.sin() * w).sum()
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out
    assert run(True) == run(False)
