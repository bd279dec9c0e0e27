"""``Parameter``: a Tensor subclass, requires grad by default, shares data, repr."""

import copy

import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle


def test_parameter_basics_and_repr_match_torch():
    p = nn.Parameter(gradwalk.tensor([1.0, 2.0]))
    assert isinstance(p, gradwalk.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == oracle(lambda torch: repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]))))
    q = nn.Parameter(gradwalk.ones(2), requires_grad=False)
    assert not q.requires_grad
    assert repr(q) == oracle(lambda torch: repr(torch.nn.Parameter(torch.ones(2),
                                                                  requires_grad=False)))


def test_parameter_shares_data_and_ops_return_tensors():
    t = gradwalk.ones(3)
    p = nn.Parameter(t)
    assert p._data is t._data
    y = p * 2
    assert type(y) is gradwalk.Tensor and y.requires_grad
    y.sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]
    assert type(p.detach()) is gradwalk.Tensor


def test_parameter_deepcopy_and_errors():
    p = nn.Parameter(gradwalk.ones(2))
    p.name = "w"
    c = copy.deepcopy(p)
    assert isinstance(c, nn.Parameter) and c._data is not p._data and c.name == "w"
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Parameter([1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(gradwalk.tensor([1, 2]))
    m = nn.Module()
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("w", _nonleaf())


def _nonleaf():
    p = nn.Parameter(gradwalk.ones(1))
    p.grad_fn = (gradwalk.ones(1, requires_grad=True) * 2).grad_fn
    return p
