"""Random programs, run in gradwalk and in PyTorch (float64), give the same values and gradients.

Hypothesis draws (live, with torch installed) a few leaves of broadcast-compatible shapes and a short program: a chain of
elementwise, broadcasting binary, reduction, shape and matrix steps. Each step's choices depend
only on shapes and the drawn integers, so both engines run the same program. Without torch, a
fixed set of programs drawn the same way from seeded NumPy generators is checked against torch's
recorded results (Note [Recorded oracle] in ``tests/fixtures/oracle.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradwalk
from tests.fixtures.oracle import oracle, torch_or_none

# ---------------------------------------------------------------------------------------------
# the program language: each step maps (engine, current value, a partner, an int) to a value

UNARY = {
    "tanh": lambda m, x: m.tanh(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "sin": lambda m, x: m.sin(x),
    "atan": lambda m, x: m.atan(x),
    "square": lambda m, x: x * x,
    "log1p_sq": lambda m, x: m.log(x * x + 1.0),
    "sqrt_sq": lambda m, x: m.sqrt(x * x + 0.5),
    "exp_neg_sq": lambda m, x: m.exp(-(x * x)),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "relu": lambda m, x: m.relu(x),
    "abs": lambda m, x: m.abs(x),
    "scale": lambda m, x: 0.5 * x - 1.25,
    "clamp": lambda m, x: m.clamp(x, -0.5, 0.7),
}

BINARY = {
    "add": lambda m, x, y: x + y,
    "sub": lambda m, x, y: x - y,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / (y * y + 1.0),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "where": lambda m, x, y: m.where(x > y, x, y * 2.0),
    "pow": lambda m, x, y: m.pow(x * x + 1.0, m.tanh(y)),
}


def _reduce(name, m, x, k):
    dim = k % x.ndim
    keepdim = bool(k & 8)
    if name == "sum":
        return x.sum(dim=dim, keepdim=keepdim)
    if name == "mean":
        return x.mean(dim=dim, keepdim=keepdim)
    if name == "amax":
        return x.amax(dim=dim, keepdim=keepdim)
    if name == "logsumexp":
        return m.logsumexp(x, dim=dim, keepdim=keepdim)
    if name == "var" and x.shape[dim] > 1:
        return x.var(dim=dim, keepdim=keepdim)
    if name == "norm":
        return m.norm(x * x + 0.1, dim=dim, keepdim=keepdim)
    if name == "cumsum":
        return m.cumsum(x, dim=dim)
    if name == "prod":
        return m.prod(x, dim=dim, keepdim=keepdim)
    return m.softmax(x, dim=dim)


REDUCE = ("sum", "mean", "amax", "logsumexp", "softmax", "var", "norm", "cumsum", "prod")


def _reshape(name, m, x, k):
    if name == "transpose" and x.ndim >= 2:
        return x.transpose(-1, -2)
    if name == "unsqueeze":
        return x.unsqueeze(k % (x.ndim + 1))
    if name == "flip" and x.ndim >= 1:
        return m.flip(x, (k % x.ndim,))
    if name == "slice" and x.ndim >= 1 and x.shape[-1] > 1:
        return x[..., 1:]
    if name == "matmul" and x.ndim >= 2:
        return x @ x.transpose(-1, -2)
    if name == "cat" and x.ndim >= 1:
        return m.cat([x, m.tanh(x)], dim=k % x.ndim)
    if name == "stack":
        return m.stack([x, x * x], dim=k % (x.ndim + 1))
    if name == "index" and x.ndim >= 1:
        return x[..., [0, 0]] if k & 1 else x[[0, 0]]
    if name == "reshape":
        return x.reshape(-1)
    return x * 1.0


RESHAPE = ("transpose", "unsqueeze", "flip", "slice", "matmul", "cat", "stack", "index",
           "reshape")
STEPS = tuple(UNARY) + tuple(BINARY) + REDUCE + RESHAPE


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        return False
    return True


def run_program(m, leaves, steps):
    """Run ``steps`` on ``leaves`` in engine ``m`` (gradwalk or torch); the last value."""
    pool = list(leaves)
    x = pool[0]
    for name, k in steps:
        if name in UNARY:
            x = UNARY[name](m, x)
        elif name in BINARY:
            partners = [p for p in pool if _broadcasts(p.shape, x.shape)]
            x = BINARY[name](m, x, partners[k % len(partners)])
        elif name in REDUCE:
            x = _reduce(name, m, x, k) if x.ndim else UNARY["tanh"](m, x)
        else:
            x = _reshape(name, m, x, k)
        pool.append(x)
    # every leaf takes part, so every gradient is compared
    for leaf in leaves[1:]:
        if _broadcasts(leaf.shape, x.shape):
            x = x + 0.1 * m.sin(leaf)
        else:
            x = x + 0.1 * m.sin(leaf).sum()
    return x


# ---------------------------------------------------------------------------------------------
# drawing programs


@st.composite
def programs(draw):
    base = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        drop = draw(st.integers(0, len(base)))  # leading dims left out
        shape = [1 if draw(st.booleans()) and draw(st.booleans()) else s for s in base[drop:]]
        shapes.append(tuple(shape))
    steps = draw(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 2 ** 16)),
                          min_size=1, max_size=6))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return shapes, steps, seed


def _run_engine(m, xs, steps, v_seed):
    """The program's value and the leaves' gradients (zeros where unused) in engine ``m``."""
    leaves = [m.tensor(x, dtype=m.float64, requires_grad=True) for x in xs]
    out = run_program(m, leaves, steps)
    v = np.random.default_rng(v_seed).standard_normal(tuple(out.shape))
    grads = m.autograd.grad(out, leaves, m.tensor(v), allow_unused=True)
    return {"shape": tuple(int(s) for s in out.shape), "value": out.detach().numpy(),
            "grads": [np.zeros(x.shape) if g is None else np.asarray(g.detach().numpy())
                      for g, x in zip(grads, xs)]}


def _compare(ours, ref, xs, steps):
    assert ours["shape"] == ref["shape"], f"{steps}: shapes differ"
    np.testing.assert_allclose(ours["value"], ref["value"], rtol=1e-9, atol=1e-12,
                               err_msg=f"values of {steps}")
    for i, (a, b, x) in enumerate(zip(ours["grads"], ref["grads"], xs)):
        assert a.shape == x.shape, f"{steps}: gradient {i} has shape {a.shape}, not {x.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10,
                                   err_msg=f"gradient of leaf {i} ({x.shape}) in {steps}")


@settings(max_examples=40, deadline=None)
@given(programs())
def test_random_programs_match_torch(program):
    torch = torch_or_none()
    if torch is None:
        pytest.skip("hypothesis draws new programs each run: needs torch live "
                    "(test_seeded_programs_match_torch covers the recorded ones)")
    shapes, steps, seed = program
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in shapes]
    v_seed = int(rng.integers(2 ** 32))
    ref = _run_engine(torch, xs, steps, v_seed)
    _compare(_run_engine(gradwalk, xs, steps, v_seed), ref, xs, steps)


def seeded_program(seed):
    """A program drawn as ``programs()`` draws one, from a seeded NumPy generator."""
    rng = np.random.default_rng(seed)
    base = [int(s) for s in rng.integers(1, 5, size=rng.integers(0, 4))]
    shapes = []
    for _ in range(rng.integers(1, 4)):
        drop = int(rng.integers(0, len(base) + 1))
        shapes.append(tuple(1 if rng.random() < 0.25 else s for s in base[drop:]))
    steps = [(STEPS[int(rng.integers(len(STEPS)))], int(rng.integers(0, 2 ** 16 + 1)))
             for _ in range(rng.integers(1, 7))]
    xs = [rng.standard_normal(s) for s in shapes]
    return xs, steps, int(rng.integers(2 ** 32))


@pytest.mark.parametrize("seed", range(40))
def test_seeded_programs_match_torch(seed):
    xs, steps, v_seed = seeded_program(seed)
    ref = oracle(lambda torch: _run_engine(torch, xs, steps, v_seed))
    _compare(_run_engine(gradwalk, xs, steps, v_seed), ref, xs, steps)
