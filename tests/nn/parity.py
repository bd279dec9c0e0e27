"""Helpers for PyTorch parity tests of ``gradwalk.nn`` layers (float64, same weights).

``check_layer(make, *arrays)`` builds the layer with ``make(torch)`` (PyTorch's initialisation)
and ``make(gradwalk)``, copies torch's parameters and buffers into the gradwalk layer through
``load_state_dict``, runs both on the same inputs, and compares the outputs, the gradients of the
float inputs and of every parameter (by name) for a random cotangent on every output. Torch's
side runs through the recorded oracle (Note [Recorded oracle] in ``tests/fixtures/oracle.py``),
so these tests run without torch too.
"""

from __future__ import annotations

import sys

import numpy as np

import gradwalk
from tests.fixtures.oracle import oracle


def flat(out):
    """The tensors of a (nested) tuple output, in order, skipping None."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [] if out is None else [out]


def lib_of(obj):
    """The library (gradwalk or torch) a tensor or module belongs to."""
    if isinstance(obj, (gradwalk.Tensor, gradwalk.nn.Module)):
        return gradwalk
    return sys.modules["torch"]


def state_of(mod) -> dict:
    """A module's parameters and buffers as NumPy arrays, by name."""
    return {k: np.array(v.detach().numpy()) for k, v in mod.state_dict().items()}


def load_state(mod, state: dict):
    """Give gradwalk module ``mod`` the (torch-made) ``state``."""
    result = mod.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    return mod


def run_layer(m, mod, arrays, call=None, seed=0) -> dict:
    """Run ``mod`` (of library ``m``) on ``arrays`` (float arrays become inputs that require
    grad), back-propagate a seeded random cotangent on every output; the outputs, input
    gradients and parameter gradients (None where a parameter got none) as NumPy arrays."""
    call = call or (lambda mod, *xs: mod(*xs))
    xs = [m.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = flat(call(mod, *xs))
    rng = np.random.default_rng(seed)
    total = None
    for t in outs:
        if t.requires_grad:
            term = (t * m.tensor(rng.standard_normal(tuple(t.shape)))).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return {
        "outs": [t.detach().numpy() for t in outs],
        "requires_grad": [bool(t.requires_grad) for t in outs],
        "input_grads": [None if x.grad is None else x.grad.numpy() for x in xs
                        if x.requires_grad] if total is not None else [],
        "param_grads": {n: None if p.grad is None else p.grad.numpy()
                        for n, p in mod.named_parameters()} if total is not None else {},
    }


def compare_runs(ours: dict, ref: dict, rtol=1e-8, atol=1e-10) -> None:
    """``run_layer``'s results for gradwalk against torch's."""
    assert len(ours["outs"]) == len(ref["outs"]), (
        f"{len(ref['outs'])} torch outputs, {len(ours['outs'])} gradwalk outputs")
    for g, t in zip(ours["outs"], ref["outs"]):
        assert g.shape == t.shape, f"shape {t.shape} vs {g.shape}"
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg="forward")
    assert ours["requires_grad"] == ref["requires_grad"]
    assert len(ours["input_grads"]) == len(ref["input_grads"])
    for i, (g, t) in enumerate(zip(ours["input_grads"], ref["input_grads"])):
        assert g is not None and t is not None, f"grad of input {i}"
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=f"grad of input {i}")
    if not ref["requires_grad"] or not any(ref["requires_grad"]):
        return
    assert sorted(ref["param_grads"]) == sorted(ours["param_grads"])
    for name, tp in ref["param_grads"].items():
        gp = ours["param_grads"][name]
        if tp is None:
            assert gp is None or not gp.any(), name
            continue
        assert gp is not None, name
        np.testing.assert_allclose(gp, tp, rtol=rtol, atol=atol,
                                   err_msg=f"grad of parameter {name}")


def check_layer(make, *arrays, seed=0, atol=1e-10, rtol=1e-8, call=None, key=None):
    """Build the layer with ``make(lib)`` for torch and gradwalk, give gradwalk's torch's float64
    state, run both on ``arrays`` and compare outputs and gradients (see ``run_layer``).
    ``call(mod, *inputs)`` defaults to ``mod(*inputs)``. Returns both layers' states after the
    run (running statistics) as ``(ours, torch's)``."""

    def torch_side(torch):
        mod = make(torch).double()
        state = state_of(mod)
        run = run_layer(torch, mod, arrays, call, seed)
        return {"state": state, "run": run, "after": state_of(mod)}

    ref = oracle(torch_side, key=key)
    gmod = load_state(make(gradwalk).double(), ref["state"])
    compare_runs(run_layer(gradwalk, gmod, arrays, call, seed), ref["run"], rtol, atol)
    return state_of(gmod), ref["after"]
