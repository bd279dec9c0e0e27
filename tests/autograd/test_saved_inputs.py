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
    "2/y": lambda y, w: 2 / y,
    "2.5/y": lambda y, w: 2.5 / y,
    # the logits (y) change after the loss; the target is w's argmax class, [2]
    "cross_entropy": lambda y, w: _F(y).cross_entropy(y.reshape(1, 3), w.argmax().reshape(1)),
    "cross_entropy_sum": lambda y, w: _F(y).cross_entropy(
        y.reshape(3, 1).expand(3, 2) * 1, w.long() % 2, reduction="sum"),
    "cross_entropy_none": lambda y, w: _F(y).cross_entropy(
        y.reshape(3, 1).expand(3, 2) * 1, w.long() % 2, reduction="none"),
    "cross_entropy_ignore": lambda y, w: _F(y).cross_entropy(
        y.reshape(3, 1).expand(3, 2) * 1, w.long() % 2, ignore_index=0),
}


def _F(t):
    """The ``nn.functional`` module of ``t``'s library."""
    import importlib
    return importlib.import_module(type(t).__module__.split(".")[0] + ".nn.functional")


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
    ours, theirs = _run(gradwalk, name, changed), oracle(lambda torch: _run(torch, name, changed))
    if theirs == "raises" or ours == "raises":
        assert ours == theirs
    else:  # the same gradient up to the last bit's rounding
        assert ours == pytest.approx(theirs, rel=1e-14, abs=1e-300)


def test_cross_entropy_under_create_graph_raises_after_the_logits_change():
    """The fused rule's create_graph form differentiates through the logits (Note
    [cross_entropy keeps the softmax]): changed after the loss, they raise, never a gradient
    of the changed values."""
    x = gradwalk.tensor([[1.0, 2.0, 0.5]], dtype=gradwalk.float64, requires_grad=True)
    y = x * 1
    loss = gradwalk.nn.functional.cross_entropy(y, gradwalk.tensor([1]))
    (g,) = gradwalk.autograd.grad(loss, x, create_graph=True)  # unchanged: the double backward
    y.mul_(3)
    with pytest.raises(RuntimeError, match="cross_entropy's logits changed in place"):
        gradwalk.autograd.grad(loss, x, create_graph=True)
    assert g.requires_grad
