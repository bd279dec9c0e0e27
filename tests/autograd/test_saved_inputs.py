"""Which inputs a node keeps decides which later in-place changes raise at backward: gradwalk
must raise exactly where PyTorch does (Note [saves_if] in gradwalk/ops/rules.py). Each program
changes one input of an op in place after the op, then runs backward; the gradient, or the fact
that both libraries raise, is compared with PyTorch (recorded)."""

from __future__ import annotations

import pytest

import gradwalk
from tests.fixtures.oracle import oracle

PROGRAMS = {
    "y*2": lambda y, w: y * 2,
    "2*y": lambda y, w: 2 * y,
    "y/2": lambda y, w: y / 2,
    "y*w": lambda y, w: y * w,
    "w*y": lambda y, w: w * y,
    "y/w": lambda y, w: y / w,
    "w/y": lambda y, w: w / y,
    "add_alpha_tensor": lambda y, w: y.add(w, alpha=2),
    "add_alpha_number": lambda y, w: y.add(2, alpha=3),
}


def _run(lib, name, changed):
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([2.0, 3.0, 4.0], dtype=lib.float64)
    y = x * 1
    z = PROGRAMS[name](y, w)
    (y if changed == "y" else w).mul_(3)
    try:
        z.sum().backward()
    except RuntimeError:
        return "raises"
    return x.grad.tolist()


@pytest.mark.parametrize("changed", ["y", "w"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_in_place_change_after_the_op_raises_where_torch_does(name, changed):
    assert _run(gradwalk, name, changed) == oracle(lambda torch: _run(torch, name, changed))
