"""Adadelta, Adamax, NAdam, RAdam and ASGD against PyTorch: the same loss curve over 20 steps."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

STEPS = 20


def _run(lib, name, kwargs, grouped=False):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((16, 4))
    y_np = rng.integers(0, 3, size=16)
    init = [rng.standard_normal((4, 8)) * 0.5, rng.standard_normal(8) * 0.1,
            rng.standard_normal((8, 3)) * 0.5, rng.standard_normal(3) * 0.1]
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    params = [lib.tensor(a.copy(), requires_grad=True) for a in init]
    groups = params if not grouped else [{"params": params[:2]},
                                         {"params": params[2:], "lr": 0.003}]
    opt = getattr(lib.optim, name)(groups, **kwargs)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        w1, b1, w2, b2 = params
        loss = lib.nn.functional.cross_entropy(lib.relu(x @ w1 + b1) @ w2 + b2, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    state = {k: np.asarray(v.numpy()) for k, v in opt.state_dict()["state"][0].items()}
    return np.array(losses), [p.detach().numpy().copy() for p in params], state


CONFIGS = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.01)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=lambda v: str(v))
@pytest.mark.parametrize("grouped", [False, True])
def test_loss_curve_matches_pytorch(name, kwargs, grouped):
    ours, our_params, ours_state = _run(gradwalk, name, kwargs, grouped)
    ref, ref_params, ref_state = oracle(lambda torch: _run(torch, name, kwargs, grouped))
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
    for a, b in zip(our_params, ref_params):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours[0], ours[-1])
    assert set(ours_state) == set(ref_state)
    for k, v in ref_state.items():
        np.testing.assert_allclose(ours_state[k], v, rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
                                  "Adafactor"])
def test_defaults_match_pytorch(name):
    import inspect

    def signature(lib):  # the parameters' names, and the defaults of those that have one
        params = inspect.signature(getattr(lib.optim, name)).parameters
        return list(params), {k: p.default for k, p in params.items()
                              if p.default is not inspect.Parameter.empty}

    ours = inspect.signature(getattr(gradwalk.optim, name)).parameters
    ref_names, ref_defaults = oracle(signature)
    assert list(ours) == ref_names
    for k, default in ref_defaults.items():
        assert ours[k].default == default, k


@pytest.mark.parametrize("name,kwargs,word", [
    ("Adadelta", dict(lr=-1.0), "learning rate"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adamax", dict(betas=(1.0, 0.9)), "beta"),
    ("NAdam", dict(momentum_decay=-1.0), "momentum_decay"),
    ("RAdam", dict(eps=-1.0), "epsilon"),
    ("ASGD", dict(weight_decay=-1.0), "weight_decay"),
])
def test_bad_hyperparameters_raise(name, kwargs, word):
    p = gradwalk.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=word):
        getattr(gradwalk.optim, name)([p], **kwargs)
    raised = oracle(lambda torch: error_of(
        lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)))
    assert raised is not None and "ValueError" in raised, raised
