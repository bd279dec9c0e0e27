"""Names of a graph's values as the user wrote them (``autograd.explain_names``)."""

from __future__ import annotations

import sys

import gradwalk
from gradwalk import nn
from gradwalk.autograd.explain_names import (
    MAX_LEN,
    Namer,
    input_key,
    is_atomic,
    leaf_label,
    local_names,
)


def _namer():
    names = local_names(sys._getframe(1))
    return Namer(lambda leaf: leaf_label(leaf, names))


def test_expressions_follow_python_precedence():
    a = gradwalk.tensor(2.0, requires_grad=True)
    b = gradwalk.tensor(3.0, requires_grad=True)
    n = _namer()
    assert n.expr((a + b).grad_fn) == "a + b"
    assert n.expr(((a + b) * b).grad_fn) == "(a + b)*b"
    assert n.expr((a * (b + 1.0)).grad_fn) == "a*(b + constant)"
    assert n.expr((a - (b - a)).grad_fn) == "a - (b - a)"
    assert n.expr(((a - b) - a).grad_fn) == "a - b - a"
    assert n.expr((a / (a * b)).grad_fn) == "a/(a*b)"
    assert n.expr((-(a + b)).grad_fn) == "-(a + b)"
    assert n.expr(((a + b) ** 3).grad_fn) == "(a + b)**3"
    assert n.expr((a ** 2).grad_fn) == "a**2"           # recorded as square(a)
    assert n.expr((a ** b).grad_fn) == "a**b"
    assert n.expr((3.0 * a).grad_fn) == "3*a"            # the constant first, as written
    assert n.expr(a.sin().exp().grad_fn) == "exp(sin(a))"
    assert n.expr(a.reshape(1).sum(0).grad_fn) == "sum(reshape(a))"


def test_long_expressions_are_cut_with_dots():
    x = gradwalk.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(10):
        y = y.tanh()
    text = _namer().expr(y.grad_fn)
    assert len(text) <= MAX_LEN and text == "tanh(tanh(tanh(...)))"
    wide = (x.sin() + x.cos()) * (x.exp() + x.log()) * (x.sinh() + x.cosh())
    text = _namer().expr(wide.grad_fn)
    assert len(text) <= MAX_LEN and "..." in text


def test_variables_and_module_parameters_name_their_values():
    lin = nn.Linear(2, 1)
    h = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    names = local_names(sys._getframe(0))
    assert names[id(h)] == "h"
    assert names[id(lin.weight)] == "lin.weight" and names[id(lin.bias)] == "lin.bias"
    # a parameter's caller name beats its module-given .name; a user's .name beats all
    assert lin.weight.name == "weight" and leaf_label(lin.weight, names) == "lin.weight"
    named = gradwalk.tensor(1.0, requires_grad=True, name="theta")
    assert leaf_label(named, {id(named): "t"}) == "theta"


def test_is_atomic_and_input_keys():
    assert is_atomic("x") and is_atomic("model.0.weight") and is_atomic("2.5")
    assert is_atomic("sin(x + 1)") and not is_atomic("sin(x) + 1")
    assert not is_atomic("(a)*(b)") and not is_atomic("-1")
    x = gradwalk.tensor([1.0], requires_grad=True)
    node = gradwalk.where(x > 0, x, x * 2).grad_fn
    assert [input_key(node, i) for i in range(3)] == ["condition", "self", "other"]
    assert input_key(gradwalk.stack([x, x, x]).grad_fn, 2) == "tensors[2]"
