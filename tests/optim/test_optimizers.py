"""Optimizer parity with PyTorch: same model, data and init give the same loss curve."""

import io

import numpy as np
import pytest

import gradwalk
from gradwalk import optim
from tests.fixtures.oracle import oracle

STEPS = 20


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4))
    y = rng.integers(0, 3, size=16)
    init = [rng.standard_normal((4, 8)) * 0.5, rng.standard_normal(8) * 0.1,
            rng.standard_normal((8, 3)) * 0.5, rng.standard_normal(3) * 0.1]
    return x, y, init


def _loss(lib, F, params, x, y):
    w1, b1, w2, b2 = params
    h = lib.relu(x @ w1 + b1)
    return F.cross_entropy(h @ w2 + b2, y)


def _groups(params, grouped):
    if not grouped:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.003}]


def _run(lib, opt_name, kwargs, grouped=False, steps=STEPS):
    x_np, y_np, init = _problem()
    F = lib.nn.functional
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    params = [lib.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(lib.optim, opt_name)(_groups(params, grouped), **kwargs)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(lib, F, params, x, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), [p.detach().numpy().copy() for p in params], opt


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=lambda v: str(v))
def test_loss_curve_matches_pytorch(name, kwargs):
    ours, our_params, _ = _run(gradwalk, name, kwargs)
    ref, ref_params = oracle(lambda torch: _run(torch, name, kwargs)[:2])
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
    for a, b in zip(our_params, ref_params):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours[0], ours[-1])  # the loss did move


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_match_pytorch(name):
    kwargs = dict(lr=0.02, momentum=0.9) if name != "Adam" else dict(lr=0.02)
    ours, _, opt = _run(gradwalk, name, kwargs, grouped=True)
    ref = oracle(lambda torch: _run(torch, name, kwargs, grouped=True)[0])
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.003]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, centered=True,
                                                          momentum=0.5)),
                                         ("Adagrad", dict(lr=0.1))])
def test_state_dict_resume_through_checkpoint(name, kwargs):
    """10 steps, save and reload the optimizer state, 10 more == 20 steps straight."""
    straight, final, _ = _run(gradwalk, name, kwargs)
    x_np, y_np, init = _problem()
    x, y = gradwalk.tensor(x_np), gradwalk.tensor(y_np)
    params = [gradwalk.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **kwargs)
    losses = []

    def train(o, n):
        for _ in range(n):
            o.zero_grad()
            loss = _loss(gradwalk, gradwalk.nn.functional, params, x, y)
            loss.backward()
            o.step()
            losses.append(loss.item())

    train(opt, 10)
    buf = io.BytesIO()
    gradwalk.save(opt.state_dict(), buf)
    buf.seek(0)
    opt2 = getattr(optim, name)(params, lr=123.0)
    opt2.load_state_dict(gradwalk.load(buf))
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    train(opt2, 10)
    np.testing.assert_allclose(losses, straight, rtol=0, atol=0)
    for p, f in zip(params, final):
        np.testing.assert_array_equal(p.detach().numpy(), f)


def test_state_dict_layout_matches_pytorch():
    _, _, ours = _run(gradwalk, "Adam", dict(lr=0.01), grouped=True, steps=2)
    keys = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")

    def layout(torch):
        b = _run(torch, "Adam", dict(lr=0.01), grouped=True, steps=2)[2].state_dict()
        return {"state": sorted(b["state"]), "state2": sorted(b["state"][2]),
                "params": [g["params"] for g in b["param_groups"]],
                "groups": [{k: g[k] for k in keys} for g in b["param_groups"]],
                "step": float(b["state"][0]["step"]), "exp_avg3": b["state"][3]["exp_avg"]}

    a, b = ours.state_dict(), oracle(layout)
    assert sorted(a["state"]) == b["state"] == [0, 1, 2, 3]
    assert sorted(a["state"][2]) == b["state2"]
    assert [g["params"] for g in a["param_groups"]] == b["params"]
    for ga, gb in zip(a["param_groups"], b["groups"], strict=True):
        for key in keys:
            assert ga[key] == gb[key], key
    assert float(a["state"][0]["step"]) == b["step"] == 2.0
    np.testing.assert_allclose(a["state"][3]["exp_avg"].numpy(), b["exp_avg3"], rtol=1e-10)


def test_updates_are_in_place_and_bump_version():
    w = gradwalk.ones(3, requires_grad=True)
    view = w.detach()[1:]
    data = w._data
    v0 = w._version
    opt = optim.Adam([w], lr=0.5)
    (w * 2).sum().backward()
    opt.step()
    assert w._data is data
    assert w._version == v0 + 1
    np.testing.assert_allclose(view.numpy(), [0.5, 0.5], rtol=1e-6)
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_step_skips_params_without_grad_and_closure_returns_loss():
    a = gradwalk.ones(2, requires_grad=True)
    b = gradwalk.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 2.0
    np.testing.assert_array_equal(a.detach().numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert len(opt.state) == 0  # plain SGD keeps no state


def test_zero_grad_modes():
    w = gradwalk.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_add_param_group_and_validation():
    a = gradwalk.zeros(2, requires_grad=True)
    b = gradwalk.zeros(2, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.5, 0.9)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({a}, lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([a], lr=-1.0)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="groups"):
        optim.SGD([a], lr=0.1).load_state_dict(opt.state_dict())


def test_repr_lists_groups():
    opt = optim.SGD([gradwalk.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def test_float32_params_stay_float32():
    w = gradwalk.ones(3, requires_grad=True)
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        opt = getattr(optim, name)([w], lr=0.01)
        w.grad = None
        (w * w).sum().backward()
        opt.step()
        assert w.dtype == gradwalk.float32
        assert all(v.dtype in (gradwalk.float32,) for v in opt.state[w].values()
                   if isinstance(v, gradwalk.Tensor))
