"""Helpers for PyTorch parity tests of ``gradwalk.nn`` layers (float64, same weights).

``check_layer(tmod, gmod, *arrays)`` copies the torch layer's weights into the gradwalk layer
through ``load_state_dict`` (``.detach().numpy()``), runs both on the same inputs, and compares
the outputs, the gradients of the float inputs and of every parameter (by name) for a random
cotangent on every output.
"""

from __future__ import annotations

import numpy as np

import gradwalk


def flat(out):
    """The tensors of a (nested) tuple output, in order, skipping None."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [] if out is None else [out]


def load_from_torch(tmod, gmod):
    """Make ``gmod`` float64 and give it ``tmod``'s parameters and buffers."""
    tmod.double()
    gmod.double()
    result = gmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return gmod


def check_layer(tmod, gmod, *arrays, seed=0, atol=1e-10, rtol=1e-8, call=None, load=True):
    """Run both layers on ``arrays`` (float arrays become inputs that require grad) and
    compare outputs and gradients. ``call(mod, *inputs)`` defaults to ``mod(*inputs)``."""
    import torch

    if load:
        load_from_torch(tmod, gmod)
    call = call or (lambda m, *xs: m(*xs))
    tin = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    gin = [gradwalk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    tout = flat(call(tmod, *tin))
    gout = flat(call(gmod, *gin))
    assert len(tout) == len(gout), f"{len(tout)} torch outputs, {len(gout)} gradwalk outputs"
    rng = np.random.default_rng(seed)
    tl, gl = 0, 0
    for t, g in zip(tout, gout):
        assert tuple(t.shape) == tuple(g.shape), f"shape {tuple(t.shape)} vs {g.shape}"
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg="forward")
        if t.requires_grad:
            c = rng.standard_normal(t.shape)
            tl = tl + (t * torch.tensor(c)).sum()
            gl = gl + (g * gradwalk.tensor(c)).sum()
    if isinstance(tl, int):
        return
    tl.backward()
    gl.backward()
    for i, (t, g) in enumerate(zip(tin, gin)):
        if t.requires_grad:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"grad of input {i}")
    tparams = dict(tmod.named_parameters())
    gparams = dict(gmod.named_parameters())
    assert sorted(tparams) == sorted(gparams)
    for name, tp in tparams.items():
        gp = gparams[name]
        if tp.grad is None:
            assert gp.grad is None or not gp.grad.numpy().any(), name
            continue
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"grad of parameter {name}")
