"""Every loss of ``gradwalk.nn.functional`` compiled against eager, bit for bit.

The losses come from the namespace (every function whose name has ``loss`` in it, and the
cross-entropies and ``kl_div``); their inputs and variants from ``LOSSES``; a loss missing from
it fails ``test_every_loss_has_a_case``. Every variant runs with each ``reduction`` the loss
takes, twice (the trace, then the cached program), with the backward outside the region and
inside it (``loss.backward()`` in the compiled function): the loss and the inputs' gradients
equal eager's.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradwalk
from tests.compiler.nn_cases import LAYERS, I, P, R, S, U, _pm, ins

F = gradwalk.nn.functional

EXTRA = ("cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div")
NAMES = sorted(n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))
               and ("loss" in n or n in EXTRA))


def _ctc_inputs(rng):
    lp = np.log(rng.dirichlet(np.ones(4), (6, 2))).astype(np.float32)
    return [lp, np.array([1, 2, 1, 3, 3, 1]), np.array([6, 5]), np.array([3, 3])]


# name -> [(inputs, keyword arguments)]
LOSSES: dict[str, list] = {
    "binary_cross_entropy": [(ins(U(3, 2), U(3, 2)), {}),
                             (ins(U(3, 2), U(3, 2)), {"weight": gradwalk.tensor([0.5, 2.0])})],
    "binary_cross_entropy_with_logits": [
        (ins(R(3, 2), U(3, 2)), {}),
        (ins(R(3, 2), U(3, 2)), {"pos_weight": gradwalk.tensor([0.5, 2.0])})],
    "cosine_embedding_loss": [(ins(R(3, 4), R(3, 4), S(1, -1, 1)), {"margin": 0.1})],
    "cross_entropy": [(ins(R(4, 3), I(3, 4)), {}),
                      (ins(R(4, 3), S(0, 2, -100, 1)), {"label_smoothing": 0.2}),
                      (ins(R(4, 3), U(4, 3)), {}),
                      (ins(R(4, 3), I(3, 4)), {"weight": gradwalk.tensor([0.2, 1.0, 3.0])})],
    "ctc_loss": [(_ctc_inputs, {}), (_ctc_inputs, {"zero_infinity": True})],
    "gaussian_nll_loss": [(ins(R(3, 2), R(3, 2), P(3, 2)), {}),
                          (ins(R(3, 2), R(3, 2), P(3, 2)), {"full": True})],
    "hinge_embedding_loss": [(ins(R(3, 2), _pm(3, 2)), {"margin": 0.5})],
    "huber_loss": [(ins(R(3, 2), R(3, 2)), {"delta": 0.5})],
    "kl_div": [(ins(R(3, 2), U(3, 2)), {}), (ins(R(3, 2), R(3, 2)), {"log_target": True})],
    "l1_loss": [(ins(R(3, 2), R(3, 2)), {})],
    "margin_ranking_loss": [(ins(R(4), R(4), _pm(4)), {"margin": 0.2})],
    "mse_loss": [(ins(R(3, 2), R(3, 2)), {})],
    "multi_margin_loss": [(ins(R(4, 3), I(3, 4)), {}), (ins(R(4, 3), I(3, 4)), {"p": 2})],
    "multilabel_margin_loss": [(ins(R(2, 4), lambda rng: np.array([[3, 0, -1, 1],
                                                                    [1, 2, 3, -1]])), {})],
    "multilabel_soft_margin_loss": [(ins(R(2, 4), lambda rng: (rng.random((2, 4)) < 0.5)
                                         .astype(np.float32)), {})],
    "nll_loss": [(ins(R(4, 3), I(3, 4)), {}), (ins(R(4, 3), S(0, -100, 2, 1)), {})],
    "poisson_nll_loss": [(ins(R(3, 2), P(3, 2)), {}),
                         (ins(P(3, 2), P(3, 2)), {"log_input": False, "full": True})],
    "smooth_l1_loss": [(ins(R(3, 2), R(3, 2)), {"beta": 0.5})],
    "soft_margin_loss": [(ins(R(3, 2), _pm(3, 2)), {})],
    "triplet_margin_loss": [(ins(R(3, 4), R(3, 4), R(3, 4)), {}),
                            (ins(R(3, 4), R(3, 4), R(3, 4)), {"swap": True, "p": 1.0})],
    "triplet_margin_with_distance_loss": [(ins(R(3, 4), R(3, 4), R(3, 4)), {})],
}


def _cases():
    out = []
    for name in sorted(LOSSES):
        takes = "reduction" in inspect.signature(getattr(F, name)).parameters
        for k in range(len(LOSSES[name])):
            for red in (("mean", "sum", "none") if takes else (None,)):
                out.append((name, k, red))
    return out


CASES = _cases()


def test_every_loss_has_a_case():
    missing = [n for n in NAMES if n not in LOSSES]
    assert not missing, f"gradwalk.nn.functional losses without a case in LOSSES: {missing}"
    assert set(LOSSES) <= set(NAMES)
    assert {n for n in LAYERS if n.endswith("Loss")}  # the loss modules: tests/compiler/test_nn


def _np(t):
    return None if t is None else np.array(t.detach().numpy(), copy=True)


def _run(name, k, red, compiled, inside):
    make, kwargs = LOSSES[name][k]
    kwargs = dict(kwargs) if red is None else dict(kwargs, reduction=red)
    arrays = make(np.random.default_rng(0))
    fn = getattr(F, name)

    def loss(*xs):
        out = fn(*xs, **kwargs)
        if inside:
            v = gradwalk.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)),
                                dtype=out.dtype)
            (out * v).sum().backward()
        return out

    call = gradwalk.compile(loss) if compiled else loss
    results = []
    for _ in range(2):
        xs = [gradwalk.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        out = call(*xs)
        if inside:
            grads = [_np(x.grad) for x in xs]
        else:
            v = gradwalk.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)),
                                dtype=out.dtype)
            wrt = [x for x in xs if x.requires_grad]
            grads = [_np(g) for g in gradwalk.autograd.grad((out * v).sum(), wrt,
                                                             allow_unused=True)]
        results.append((_np(out), grads))
    return results


def _same(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    assert a.shape == b.shape and a.dtype == b.dtype, what
    np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize("inside", [False, True], ids=["backward-outside", "backward-inside"])
@pytest.mark.parametrize("name,k,red", CASES, ids=[f"{n}-{k}-{r}" for n, k, r in CASES])
def test_compiled_loss_equals_eager(name, k, red, inside):
    with np.errstate(all="ignore"):
        want = _run(name, k, red, False, inside)
        got = _run(name, k, red, True, inside)
    for n, ((go, gg), (wo, wg)) in enumerate(zip(got, want)):
        _same(go, wo, f"{name} {k} {red}: value, call {n}")
        assert len(gg) == len(wg)
        for a, b in zip(gg, wg):
            _same(a, b, f"{name} {k} {red}: gradient, call {n}")
