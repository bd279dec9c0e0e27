"""Module groups for ``draw(..., collapse_modules=...)`` (``viz.collapse``)."""

from __future__ import annotations

import sys

import gradwalk
from gradwalk import nn
from gradwalk.viz import collapse as C
from gradwalk.viz.graph import _collect


def test_param_owners_prefer_the_model_over_a_layer_variable():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Sequential(nn.Linear(2, 1)))
    first = model[0]
    owners = C.param_owners({"first": first, "model": model})
    assert owners[id(model[0].weight)] == ("0", "Linear")
    assert owners[id(model[2][0].bias)] == ("2.0", "Linear")
    alone = C.param_owners({"first": first})
    assert alone[id(first.weight)] == ("first", "Linear")
    classes = C.module_classes({"model": model})
    assert classes["model"] == "Sequential" and classes["2"] == "Sequential"


def test_groups_of_a_recurrent_layer_and_a_head():
    rnn = nn.GRU(2, 3, num_layers=2)
    head = nn.Linear(3, 1)
    out, _ = rnn(gradwalk.ones(4, 1, 2))
    y = head(out).sum()
    g = _collect([y])
    groups, classes = C.groups(g, C.frame_modules(sys._getframe(0)))
    ops = [n for n in g.order if type(n).__name__ != "AccumulateGrad"]
    assert groups.get(y.grad_fn) is None                      # the drawn sum stays alone
    assert {groups.get(n) for n in ops} == {None, "rnn", "head"}
    assert sum(1 for n in ops if groups.get(n) == "head") == 1  # its one linear
    # the fused node of each layer: all ops but the drawn sum and the head's linear
    assert sum(1 for n in ops if groups.get(n) == "rnn") == len(ops) - 2 >= 2
    assert classes["rnn"] == "GRU" and classes["head"] == "Linear"


def test_without_modules_in_the_frame_dotted_names_group():
    model = nn.Sequential(nn.Linear(2, 2))
    y = model(gradwalk.ones(1, 2)).sum()
    g = _collect([y])
    groups, classes = C.groups(g, {})
    assert set(groups.values()) == {"0"} and classes == {}
    assert C.cut("a.b.c", 1) == "a" and C.cut("a.b.c", None) == "a.b.c"
