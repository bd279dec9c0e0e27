"""LBFGS against PyTorch: the closure protocol, with and without the strong-Wolfe search."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _run(lib, kwargs, steps=6):
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((12, 5)), rng.standard_normal(12)
    w = lib.tensor(np.zeros(5), requires_grad=True)
    v = lib.tensor(np.full((2, 2), 0.3), requires_grad=True)
    At, bt = lib.tensor(A), lib.tensor(b)
    opt = lib.optim.LBFGS([w, v], **kwargs)
    evals = [0]

    def closure():
        evals[0] += 1
        opt.zero_grad()
        loss = ((At @ w - bt) ** 2).sum() + (v**4).sum() + (w.tanh() * v.sum()).sum()
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    state = opt.state[w]
    return np.array(losses), w.detach().numpy().copy(), evals[0], int(state["n_iter"]), \
        int(state["func_evals"])


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, history_size=3, max_iter=7),
    dict(lr=0.8, max_iter=4, max_eval=5, line_search_fn="strong_wolfe", history_size=2),
    dict(tolerance_grad=1e-3, tolerance_change=1e-4),
], ids=str)
def test_matches_pytorch(kwargs):
    ours = _run(gradwalk, kwargs)
    ref = oracle(lambda torch: _run(torch, kwargs))
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-9, atol=1e-12)
    assert ours[2:] == ref[2:]  # closure calls, iterations and evaluations


def test_needs_a_closure_and_one_group():
    w = gradwalk.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        gradwalk.optim.LBFGS([w]).step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        gradwalk.optim.LBFGS([{"params": [w]}, {"params": [gradwalk.zeros(1,
                                                                          requires_grad=True)]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        gradwalk.optim.LBFGS([w], line_search_fn="armijo")
