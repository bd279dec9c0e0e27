"""Every layer of ``gradwalk.nn`` compiled against eager, bit for bit.

The layers come from ``gradwalk.nn``'s own namespace (every ``Module`` subclass it exports),
their constructor arguments and inputs from one table (``tests/compiler/nn_cases.py``); a class
missing from the table fails ``test_every_layer_has_a_case``. Each layer runs twice (the first
call traces, the second runs the cached program), two ways:

- ``gradwalk.compile(layer)``, then an eager backward outside the region: outputs, gradients of
  the inputs and of every parameter, and the buffers (running statistics) after each call; in
  train mode, eval mode, float64, under ``no_grad``, and with the layer called twice in one
  compiled function;
- a compiled training step (forward, loss, ``backward()`` inside the compiled function): the
  loss, the inputs' and the parameters' ``.grad``, the buffers.

Each is compared with the same layer (same seed, same inputs, same random stream) run eagerly:
equal bit for bit (docs/compile.md: traced ops are eager's arithmetic; ops that run eagerly
inside a region are eager's ops).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradwalk
from tests.compiler.nn_cases import LAYERS, NOT_LAYERS, Case

nn = gradwalk.nn

CLASSES = sorted(n for n in dir(nn) if inspect.isclass(getattr(nn, n))
                 and issubclass(getattr(nn, n), nn.Module))


def test_every_layer_has_a_case():
    missing = [n for n in CLASSES if n not in LAYERS and n not in NOT_LAYERS]
    assert not missing, (f"gradwalk.nn layers without a case in tests/compiler/nn_cases.py: "
                         f"{missing}; add small constructor arguments and inputs there")
    stale = sorted((set(LAYERS) | set(NOT_LAYERS)) - set(CLASSES))
    assert not stale, f"cases for names gradwalk.nn does not export: {stale}"


def flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out] if isinstance(out, gradwalk.Tensor) else []


def _np(t):
    return None if t is None else np.array(t.detach().numpy(), copy=True)


def _buffers(layer):
    return {k: _np(v) for k, v in layer.state_dict().items()}


def _call(case, fn, xs):
    if case.call is not None:
        return case.call(nn, fn, *xs)
    return fn(*xs)


def _cotangents(outs, n):
    rng = np.random.default_rng(100 + n)
    return [gradwalk.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype) for o in outs]


def _total(outs, vs):
    total = None
    for o, v in zip(outs, vs):
        if o.requires_grad:
            term = (o * v).sum()
            total = term if total is None else total + term
    return total


def _run(name, compiled, inside, mode="train"):
    """Two calls of layer ``name``: per call the outputs, gradients and buffers. ``mode``:
    ``"train"``, ``"eval"``, ``"double"`` (float64 parameters and inputs, train mode) or
    ``"no_grad"`` (train mode, the calls under ``no_grad``: outputs and buffers only) or
    ``"twice"`` (the layer called twice on the same inputs in one compiled function)."""
    case = LAYERS[name]
    gradwalk.manual_seed(0)
    layer = case.make(nn)
    arrays = case.inputs(np.random.default_rng(0))
    if mode == "eval":
        layer.eval()
    if mode == "double":
        layer.double()
        arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    results = []
    if inside:
        def step(xs, n):
            outs = flat(_call(case, layer, xs))
            total = _total(outs, _cotangents(outs, n))
            if total is not None:
                total.backward()
            return outs

        fn = gradwalk.compile(step) if compiled else step
    elif mode == "twice":
        def both(*xs, case=case):
            return flat(_call(case, layer, xs)) + flat(_call(case, layer, xs))

        fn = gradwalk.compile(both) if compiled else both
        case = Case(None, None, None)
    else:
        fn = gradwalk.compile(layer) if compiled else layer
    for n in range(2):
        xs = [gradwalk.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        for p in layer.parameters():
            p.grad = None
        gradwalk.manual_seed(1 + n)
        with np.errstate(all="ignore"):
            if inside:
                outs = fn(xs, n)
                grads = [_np(x.grad) for x in xs] + [_np(p.grad) for p in layer.parameters()]
            elif mode == "no_grad":
                with gradwalk.no_grad():
                    outs = flat(_call(case, fn, xs))
                grads = []
            else:
                outs = flat(_call(case, fn, xs))
                total = _total(outs, _cotangents(outs, n))
                wrt = [x for x in xs if x.requires_grad] + list(layer.parameters())
                grads = []
                if total is not None:
                    grads = [_np(g) for g in gradwalk.autograd.grad(total, wrt,
                                                                     allow_unused=True)]
        flags = [(o.requires_grad, o.grad_fn is None) for o in outs]
        results.append(([_np(o) for o in outs], grads, _buffers(layer), flags))
    return results


def _same(got, want, what):
    assert len(got) == len(want), what
    for a, b in zip(got, want):
        if a is None or b is None:
            assert a is None and b is None, what
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, what
        np.testing.assert_array_equal(a, b, err_msg=what)


def _check(name, inside, mode="train"):
    want = _run(name, False, inside, mode)
    got = _run(name, True, inside, mode)
    for n, ((go, gg, gb, gf), (wo, wg, wb, wf)) in enumerate(zip(got, want)):
        assert gf == wf, f"{name}: requires_grad and grad_fn presence of the outputs, call {n}"
        _same(go, wo, f"{name}: outputs, call {n}")
        _same(gg, wg, f"{name}: gradients, call {n}")
        assert list(gb) == list(wb), f"{name}: state_dict keys, call {n}"
        _same(list(gb.values()), list(wb.values()), f"{name}: parameters and buffers, call {n}")


@pytest.mark.parametrize("mode", ["train", "eval", "double", "no_grad", "twice"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_compiled_layer_then_eager_backward_equals_eager(name, mode):
    _check(name, inside=False, mode=mode)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_compiled_training_step_of_a_layer_equals_eager(name):
    _check(name, inside=True)


def test_a_layer_compiled_runs_a_program():
    """Not every layer is eager inside a region: the traced ones run cached programs."""
    layer = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    cm = gradwalk.compile(layer)
    x = gradwalk.ones(2, 3)
    cm(x)
    cm(x)
    assert len(cm._compiled_call.programs) == 1
    assert cm(x).grad_fn.name() == "CompiledFunctionBackward"
