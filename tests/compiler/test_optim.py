"""Every optimizer of ``gradwalk.optim`` in a compiled training step, against eager, bit for bit.

The optimizers come from ``gradwalk.optim``'s namespace (every ``Optimizer`` subclass), their
arguments from ``OPTIMIZERS`` (a list of small variants per class); a class missing from it fails
``test_every_optimizer_has_variants``. The whole step (``zero_grad``, forward, loss,
``backward()``, ``step()``, with a learning-rate scheduler stepping too) is compiled; after each
of four steps the parameters, their gradients, the optimizer's state (tensors and numbers) and
its ``param_groups`` equal the eager run's.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradwalk

optim = gradwalk.optim

CLASSES = sorted(n for n in dir(optim) if inspect.isclass(getattr(optim, n))
                 and issubclass(getattr(optim, n), optim.Optimizer)
                 and getattr(optim, n) is not optim.Optimizer)

OPTIMIZERS: dict[str, list[dict]] = {
    "ASGD": [dict(lr=0.05), dict(lr=0.05, t0=1.0, weight_decay=0.01, maximize=True)],
    "Adadelta": [dict(), dict(rho=0.8, weight_decay=0.1)],
    "Adafactor": [dict(lr=0.05), dict(lr=0.05, weight_decay=0.1, maximize=True)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                   initial_accumulator_value=0.1)],
    "Adam": [dict(lr=0.01), dict(lr=0.01, amsgrad=True, weight_decay=0.1),
             dict(lr=0.01, maximize=True, decoupled_weight_decay=True, weight_decay=0.1)],
    "AdamW": [dict(lr=0.01), dict(lr=0.01, amsgrad=True)],
    "Adamax": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, maximize=True)],
    "LBFGS": [dict(lr=0.5, max_iter=3), dict(lr=0.5, max_iter=3, line_search_fn="strong_wolfe")],
    "NAdam": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
    "RAdam": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)],
    "Rprop": [dict(lr=0.01), dict(lr=0.01, etas=(0.4, 1.3), maximize=True)],
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
            dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)],
}

L = optim.lr_scheduler
SCHEDULER_CLASSES = sorted(n for n in dir(L) if inspect.isclass(getattr(L, n))
                           and (issubclass(getattr(L, n), L.LRScheduler)
                                or n == "ReduceLROnPlateau")
                           and n not in ("LRScheduler", "_LRScheduler"))

# name -> a scheduler of the optimizer, with small arguments
SCHEDULERS = {
    "ChainedScheduler": lambda o: L.ChainedScheduler([L.StepLR(o, 2, 0.5),
                                                      L.ExponentialLR(o, 0.9)]),
    "ConstantLR": lambda o: L.ConstantLR(o, factor=0.5, total_iters=2),
    "CosineAnnealingLR": lambda o: L.CosineAnnealingLR(o, T_max=3, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "CyclicLR": lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2),
    "ExponentialLR": lambda o: L.ExponentialLR(o, gamma=0.7),
    "LambdaLR": lambda o: L.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    "LinearLR": lambda o: L.LinearLR(o, start_factor=0.25, total_iters=3),
    "MultiStepLR": lambda o: L.MultiStepLR(o, milestones=[1, 3], gamma=0.5),
    "MultiplicativeLR": lambda o: L.MultiplicativeLR(o, lambda e: 0.8),
    "OneCycleLR": lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=10),
    "PolynomialLR": lambda o: L.PolynomialLR(o, total_iters=3, power=2.0),
    "ReduceLROnPlateau": lambda o: L.ReduceLROnPlateau(o, patience=0, factor=0.5,
                                                       threshold=10.0),
    "SequentialLR": lambda o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=1),
                                                 L.ExponentialLR(o, 0.9)], milestones=[2]),
    "StepLR": lambda o: L.StepLR(o, step_size=2, gamma=0.5),
}

CASES = [(name, k) for name in sorted(OPTIMIZERS) for k in range(len(OPTIMIZERS[name]))]


def test_every_optimizer_has_variants():
    missing = [n for n in CLASSES if n not in OPTIMIZERS]
    assert not missing, (f"gradwalk.optim optimizers without variants in OPTIMIZERS "
                         f"(tests/compiler/test_optim.py): {missing}")
    assert set(OPTIMIZERS) <= set(CLASSES)


def _np(t):
    return None if t is None else np.array(t.detach().numpy(), copy=True)


def _state(opt):
    """The optimizer's state and param_groups, tensors as arrays, in a comparable form."""
    out = []
    for st in opt.state.values():
        for k in sorted(st):
            v = st[k]
            out.append((k, _np(v) if isinstance(v, gradwalk.Tensor) else v))
    for g in opt.param_groups:
        out.append(sorted((k, v) for k, v in g.items() if k != "params"))
    return out


def _run(name, kwargs, compiled, steps=4, scheduler="StepLR"):
    gradwalk.manual_seed(0)
    model = gradwalk.nn.Sequential(gradwalk.nn.Linear(3, 4), gradwalk.nn.Tanh(),
                                   gradwalk.nn.Linear(4, 1)).double()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    sched = SCHEDULERS[scheduler](opt)

    def step(x, y):
        def closure():
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss

        if name == "LBFGS":
            loss = opt.step(closure)
        else:
            loss = closure()
            opt.step()
        if scheduler == "ReduceLROnPlateau":
            sched.step(loss)  # reads the loss: a graph break
        else:
            sched.step()
        return loss

    fn = gradwalk.compile(step) if compiled else step
    rng = np.random.default_rng(0)
    history = []
    for _ in range(steps):
        x = gradwalk.tensor(rng.standard_normal((5, 3)))
        y = gradwalk.tensor(rng.standard_normal((5, 1)))
        loss = fn(x, y)
        history.append((_np(loss), [_np(p) for p in model.parameters()],
                        [_np(p.grad) for p in model.parameters()], _state(opt),
                        [sched.get_last_lr() if hasattr(sched, "get_last_lr") else None]))
    if compiled:  # the forward and the loss ran as cached programs, not all eagerly
        assert fn.programs and fn.calls == steps
    return history


def _same(a, b, what):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), what
        assert a.shape == b.shape and a.dtype == b.dtype, what
        np.testing.assert_array_equal(a, b, err_msg=what)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), what
        for x, y in zip(a, b):
            _same(x, y, what)
    else:
        assert a == b or (a != a and b != b), f"{what}: {a!r} != {b!r}"


@pytest.mark.parametrize("name,k", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_compiled_training_step_with_optimizer_equals_eager(name, k):
    kwargs = OPTIMIZERS[name][k]
    with np.errstate(all="ignore"):
        want = _run(name, kwargs, False)
        got = _run(name, kwargs, True)
    for n, (g, w) in enumerate(zip(got, want)):
        _same(g[0], w[0], f"{name}{kwargs}: loss, step {n}")
        _same(g[1], w[1], f"{name}{kwargs}: parameters, step {n}")
        _same(g[2], w[2], f"{name}{kwargs}: gradients, step {n}")
        _same(g[3], w[3], f"{name}{kwargs}: state and param_groups, step {n}")
    assert not np.array_equal(want[0][1][0], want[-1][1][0])  # the parameters moved


def test_every_scheduler_has_a_case():
    missing = [n for n in SCHEDULER_CLASSES if n not in SCHEDULERS]
    assert not missing, f"lr schedulers without a case in SCHEDULERS: {missing}"
    assert set(SCHEDULERS) <= set(SCHEDULER_CLASSES)


@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_compiled_training_step_with_scheduler_equals_eager(scheduler):
    kwargs = {"lr": 0.1, "momentum": 0.9}
    want = _run("SGD", kwargs, False, steps=5, scheduler=scheduler)
    got = _run("SGD", kwargs, True, steps=5, scheduler=scheduler)
    for n, (g, w) in enumerate(zip(got, want)):
        for part, a, b in zip(("loss", "parameters", "gradients", "state", "lr"), g, w):
            _same(a, b, f"{scheduler}: {part}, step {n}")
    assert len({dict(w[3][-1])["lr"] for w in want}) > 1  # the learning rate changed
