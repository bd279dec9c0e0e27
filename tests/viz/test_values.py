"""The values a picture shows (``viz.values``, Note [values without recording])."""

from __future__ import annotations

import numpy as np

import gradwalk
from gradwalk.viz.values import CAP, find_values


def test_rerun_and_derived_constants():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    h = x.sin()
    y = (h + 3.0) * 2.0 - 0.5
    vals, consts = find_values([y])
    mul = y.grad_fn.next_functions[0][0]
    add = mul.next_functions[0][0]
    np.testing.assert_allclose(vals[h.grad_fn], np.sin([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(vals[add], np.sin([1.0, 2.0]) + 3.0, rtol=1e-6)
    np.testing.assert_allclose(vals[mul], (np.sin([1.0, 2.0]) + 3.0) * 2, rtol=1e-6)
    # add and sub keep nothing: their constants follow from their outputs (the Mul saved the
    # Add's; the Sub's is the root) and inputs
    assert float(consts[(add, 1)]) == 3.0 and float(consts[(y.grad_fn, 1)]) == 0.5
    assert consts[(add, 1)].shape == ()  # a Python number, broadcast: one value
    # nothing was recorded on the nodes
    assert y.grad_fn.meta is None and add.meta is None


def test_a_constant_tensor_stays_a_tensor():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = (x + gradwalk.tensor([5.0, 5.0])) * 2.0
    vals, consts = find_values([y])
    add = y.grad_fn.next_functions[0][0]
    np.testing.assert_array_equal(consts[(add, 1)], [5.0, 5.0])


def test_rsub_and_sub_of_a_constant_on_the_left():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = (10.0 - x) * 1.5
    _, consts = find_values([y])
    node = y.grad_fn.next_functions[0][0]
    assert node.name() == "RsubBackward1"
    assert float(consts[(node, 0)]) == 10.0


def test_no_reruns_after_backward_or_after_an_inplace_change():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x.exp() * 3.0
    y.backward()
    vals, consts = find_values([y])
    assert set(vals) == {y.grad_fn, x._accumulator()}  # the root and the leaf only
    a = gradwalk.tensor(1.0, requires_grad=True)
    z = (a + 1.0) + 1.0
    with gradwalk.no_grad():
        a.mul_(100.0)
    vals, consts = find_values([z])
    inner = z.grad_fn.next_functions[0][0]
    assert inner not in vals and not consts  # a re-run would disagree with z: none kept


def test_big_intermediates_are_not_recomputed():
    side = int(np.sqrt(CAP)) + 1
    w = gradwalk.ones(side, side, requires_grad=True)
    y = (w * 2.0).sin().sum()
    vals, _ = find_values([y])
    sin = y.grad_fn.next_functions[0][0]
    assert sin not in vals
    mul = sin.next_functions[0][0]
    assert mul in vals  # sin saved its input (the Mul's output): known without a re-run
