"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from collections import OrderedDict

import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle


def test_sequential_indexing_slicing_and_repr():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[-1], nn.Linear) and len(seq) == 3
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    assert seq(gradwalk.ones(4, 2)).shape == (4, 1)
    assert repr(seq) == oracle(lambda torch: repr(torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))))
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert repr(named) == oracle(lambda torch: repr(torch.nn.Sequential(
        OrderedDict(fc=torch.nn.Linear(2, 2), act=torch.nn.Tanh()))))


def test_sequential_mutation():
    seq = nn.Sequential(nn.Linear(2, 2))
    seq.append(nn.ReLU()).extend([nn.Tanh()])
    seq.insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Tanh"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"]
    seq[2] = nn.Sigmoid()
    assert isinstance(seq[2], nn.Sigmoid)
    with pytest.raises(IndexError):
        seq[5]


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    assert len(ml) == 4 and len(list(ml.parameters())) == 6

    def module_list(torch):
        t = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
        t.append(torch.nn.ReLU())
        return repr(t)

    assert repr(ml) == oracle(module_list)
    assert repr(nn.ModuleList()) == oracle(lambda torch: repr(torch.nn.ModuleList()))
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and len(ml) == 5
    with pytest.raises(NotImplementedError):
        ml(gradwalk.ones(1))


def test_module_dict():
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    md.pop("b")
    assert list(md) == ["a", "c"]
    assert repr(md) == oracle(lambda torch: repr(
        torch.nn.ModuleDict({"a": torch.nn.Linear(2, 2), "c": torch.nn.Tanh()})))


def test_parameter_list_and_dict():
    pl = nn.ParameterList([gradwalk.ones(2), nn.Parameter(gradwalk.zeros(3))])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pd = nn.ParameterDict({"w": gradwalk.ones(2)})
    pd["b"] = nn.Parameter(gradwalk.zeros(1))
    assert list(pd.keys()) == ["w", "b"] and isinstance(pd["w"], nn.Parameter)
    m = nn.Module()
    m.ps = pl
    assert [n for n, _ in m.named_parameters()] == ["ps.0", "ps.1"]
