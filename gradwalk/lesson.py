"""The autograd lesson: its examples as small functions, and ``run()`` that teaches them.

Each example computes with a tensor library (gradwalk by default) and returns what it found, so
tests can check the numbers and ``run()`` can print them the way PyTorch prints tensors. Pass
``lib=torch`` to any example (or to ``run``) to watch PyTorch compute the same lesson. The
exercise is left to the learner: ``run`` prints it with the ``check`` command that tests an
answer, and ``exercise()`` holds the solution (for the tests).

Example:
    >>> from gradwalk import lesson
    >>> lesson.first_gradient()["x.grad"]
    tensor(8.)
    >>> r = lesson.chain_rule()
    >>> r["a.grad"], r["b.grad"]
    (tensor(3.), tensor(8.))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .cli.options import program

#: Points of the exercise, where autograd's derivative is checked against the hand derivative.
EXERCISE_POINTS = (-1.0, 0.5, 2.0)

#: The synthetic regression data: seed, size, and the weights it was generated from.
DATA_SEED = 0
DATA_SAMPLES = 32
TRUE_W = (2.0, -3.4, 1.5)
TRUE_B = 4.2
NOISE = 0.1


def _lib(lib: ModuleType | None) -> ModuleType:
    if lib is None:
        import gradwalk

        return gradwalk
    return lib


def first_gradient(lib: ModuleType | None = None) -> dict[str, Any]:
    """Example 1: one input, one output. ``y = x**2 + 2*x + 1`` at ``x = 3``; dy/dx = 2x + 2.

    Example:
        >>> from gradwalk import lesson
        >>> r = lesson.first_gradient()
        >>> r["y"], r["x.grad"]
        (tensor(16., grad_fn=<AddBackward0>), tensor(8.))
    """
    t = _lib(lib)
    x = t.tensor(3.0, requires_grad=True)
    y = x**2 + 2 * x + 1
    y.backward()
    return {"x": x, "y": y, "x.grad": x.grad}


def chain_rule(lib: ModuleType | None = None) -> dict[str, Any]:
    """Example 2: two inputs and the chain rule through an intermediate ``c``.

    ``c = a * b`` and ``d = c + b**2``, so dd/da = b = 3 and dd/db = a + 2b = 8 at a=2, b=3:
    ``b`` reaches ``d`` along two paths and autograd adds them up.

    Example:
        >>> from gradwalk import lesson
        >>> r = lesson.chain_rule()
        >>> r["d"], r["a.grad"], r["b.grad"]
        (tensor(15., grad_fn=<AddBackward0>), tensor(3.), tensor(8.))
    """
    t = _lib(lib)
    a = t.tensor(2.0, requires_grad=True)
    b = t.tensor(3.0, requires_grad=True)
    c = a * b
    d = c + b**2
    d.backward()
    return {"a": a, "b": b, "c": c, "d": d, "a.grad": a.grad, "b.grad": b.grad}


def regression_data(lib: ModuleType | None = None) -> tuple[Any, Any]:
    """The lesson's dataset: ``y = X @ TRUE_W + TRUE_B + noise``, made from a fixed seed.

    The numbers come from NumPy's generator seeded with ``DATA_SEED``, so every library (and
    every run) sees the same data; the global gradwalk seed is left alone.

    Example:
        >>> from gradwalk import lesson
        >>> X, y = lesson.regression_data()
        >>> X.shape, y.shape, X.dtype
        (gradwalk.Size([32, 3]), gradwalk.Size([32]), gradwalk.float32)
    """
    t = _lib(lib)
    rng = np.random.default_rng(DATA_SEED)
    features = rng.standard_normal((DATA_SAMPLES, len(TRUE_W)))
    noise = NOISE * rng.standard_normal(DATA_SAMPLES)
    targets = features @ np.array(TRUE_W) + TRUE_B + noise
    return (t.tensor(features.tolist(), dtype=t.float32),
            t.tensor(targets.tolist(), dtype=t.float32))


def linear_regression(lib: ModuleType | None = None, *, steps: int = 5,
                      lr: float = 0.1) -> dict[str, Any]:
    """Example 3: many parameters, one scalar loss.

    A linear model ``X @ w + b`` with ``w`` of shape (3,) and a scalar ``b``, scored by the mean
    squared error. One ``backward()`` fills ``w.grad`` and ``b.grad``; they are compared with the
    hand formulas ``dL/dw = 2/n X^T r`` and ``dL/db = 2/n sum(r)`` (``r`` the residual), then a
    few steps of gradient descent make the loss fall.

    Example:
        >>> from gradwalk import lesson
        >>> r = lesson.linear_regression(steps=3)
        >>> r["w.grad"].shape, bool(r["w.grad"].allclose(r["hand w.grad"], atol=1e-5))
        (gradwalk.Size([3]), True)
        >>> r["losses"][0] > r["losses"][-1]
        True
    """
    t = _lib(lib)
    X, y = regression_data(t)
    n = X.shape[0]
    w = t.zeros(3, requires_grad=True)
    b = t.tensor(0.0, requires_grad=True)

    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with t.no_grad():
        residual = X @ w + b - y
        hand_w = 2.0 / n * (X.t() @ residual)
        hand_b = 2.0 / n * residual.sum()
    result: dict[str, Any] = {
        "X": X, "y": y, "loss": loss, "w.grad": w.grad.clone(), "b.grad": b.grad.clone(),
        "hand w.grad": hand_w, "hand b.grad": hand_b,
    }

    losses = [loss.item()]
    for _ in range(steps):
        with t.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None  # gradients accumulate across backward() calls: reset them each step
        b.grad = None
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
    result.update({"w": w, "b": b, "losses": losses})
    return result


def exercise(lib: ModuleType | None = None,
             points: tuple[float, ...] = EXERCISE_POINTS) -> list[dict[str, Any]]:
    """The exercise: ``f(x) = x**3 + 2*sin(x)``; autograd's f'(x) beside ``3x^2 + 2cos(x)``.

    Example:
        >>> from gradwalk import lesson
        >>> row = lesson.exercise(points=(0.0,))[0]
        >>> row["autograd"], row["hand"]
        (tensor(2.), tensor(2.))
    """
    t = _lib(lib)
    rows = []
    for p in points:
        x = t.tensor(p, requires_grad=True)
        f = x**3 + 2 * t.sin(x)
        f.backward()
        with t.no_grad():
            hand = 3 * x**2 + 2 * t.cos(x)
        rows.append({"x": x, "f": f, "autograd": x.grad, "hand": hand,
                     "hand (float64)": 3 * p**2 + 2 * math.cos(p)})
    return rows


def run(print_fn: Callable[[str], Any] = print, *, lib: ModuleType | None = None) -> None:
    """Print the lesson: what each step does, then the values, as PyTorch would print them.

    Example:
        >>> from gradwalk import lesson
        >>> lines = []
        >>> lesson.run(lines.append)
        >>> any("x.grad = tensor(8.)" in line for line in lines)
        True
    """
    t = _lib(lib)
    say = print_fn

    say("The autograd lesson")
    say("===================")
    say("")
    say("The code below is PyTorch code. gradwalk runs it unchanged after one line:")
    say("   import gradwalk as torch")
    say("")
    say("1. One input. Mark x with requires_grad=True, compute with it, call backward():")
    say("   x = torch.tensor(3.0, requires_grad=True)")
    say("   y = x**2 + 2*x + 1")
    say("   y.backward()")
    r = first_gradient(t)
    say(f"   y = {r['y']!r}")
    say("   dy/dx = 2x + 2 = 8 at x = 3, and autograd agrees:")
    say(f"   x.grad = {r['x.grad']!r}")
    say("")

    say("2. Two inputs and the chain rule. b reaches d along two paths (through c and b**2);")
    say("   backward() adds the contributions:")
    say("   a = torch.tensor(2.0, requires_grad=True); b = torch.tensor(3.0, requires_grad=True)")
    say("   c = a * b; d = c + b**2; d.backward()")
    r = chain_rule(t)
    say(f"   c = {r['c']!r}")
    say(f"   d = {r['d']!r}")
    say(f"   a.grad = {r['a.grad']!r}    (dd/da = b = 3)")
    say(f"   b.grad = {r['b.grad']!r}    (dd/db = a + 2b = 8)")
    say("")

    say("3. Many parameters, one scalar loss: linear regression on "
        f"{DATA_SAMPLES} synthetic samples")
    say(f"   (seed {DATA_SEED}, y = X @ {list(TRUE_W)} + {TRUE_B} + noise).")
    say("   w = torch.zeros(3, requires_grad=True); b = torch.tensor(0.0, requires_grad=True)")
    say("   loss = ((X @ w + b - y) ** 2).mean(); loss.backward()")
    r = linear_regression(t)
    say(f"   loss = {r['loss']!r}")
    say(f"   w.grad = {r['w.grad']!r}")
    say(f"   2/n X^T (Xw + b - y) = {r['hand w.grad']!r}")
    say(f"   b.grad = {r['b.grad']!r}")
    say(f"   2/n sum(Xw + b - y) = {r['hand b.grad']!r}")
    say("   One backward() gave every parameter its gradient. Now a few steps of gradient")
    say("   descent (w -= lr * w.grad under no_grad(), then w.grad = None):")
    for k, value in enumerate(r["losses"]):
        say(f"   step {k}: loss = {value:.4f}" + ("  (before any step)" if k == 0 else ""))
    say(f"   w = {r['w']!r}")
    say(f"   b = {r['b']!r}")
    say("")

    say("Exercise. f(x) = x**3 + 2*sin(x). Work out f'(x) by hand, then let autograd check")
    say("   your answer at a few points (put your derivative in the quotes after --expect):")
    say(f'   {program()} check "x**3 + 2*sin(x)" --at '
        + " ".join(f"{p:g}" for p in EXERCISE_POINTS) + ' --expect "..."')
    say("")
    say("Next: gradwalk's own tools (not part of PyTorch) show what backward() does:")
    say("   with gradwalk.autograd.explain() as walk: y.backward()")
    say("   print(walk)            # the backward pass in order: each rule, each gradient sent")
    say("   gradwalk.viz.draw(y)   # a picture of the graph backward() walks (needs graphviz)")
