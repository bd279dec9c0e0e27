"""The ``Module`` API: registration, iteration, modes, conversion, state dicts, hooks, repr."""

import copy
import pickle

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from tests.fixtures.oracle import oracle


def Net(lib=gradwalk):
    m = lib.nn

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.conv = m.Conv2d(1, 2, 3)
            self.bn = m.BatchNorm2d(2)
            self.head = m.Sequential(m.Flatten(), m.Linear(8, 3), m.ReLU(), m.Dropout(0.5))
            self.register_buffer("scale", lib.ones(1))
            self.register_buffer("tmp", lib.zeros(1), persistent=False)

        def forward(self, x):
            return self.head(self.bn(self.conv(x))) * self.scale

    return Net()


def _names(net):
    return {"parameters": [n for n, _ in net.named_parameters()],
            "buffers": [n for n, _ in net.named_buffers()],
            "modules": [n for n, _ in net.named_modules()],
            "children": [n for n, _ in net.named_children()],
            "state_dict": list(net.state_dict()), "n_modules": len(list(net.modules()))}


def test_names_and_order_match_torch():
    g, t = Net(), oracle(lambda torch: _names(Net(torch)))
    assert _names(g) == t
    assert "tmp" not in g.state_dict()
    assert len(list(g.children())) == 3


def test_repr_matches_torch():
    assert repr(Net()) == oracle(lambda torch: repr(Net(torch)))


def test_parameters_are_named_for_graph_tools():
    g = Net()
    for name, p in g.named_parameters():
        assert p.name == name
    assert isinstance(g.head[1].weight, nn.Parameter)


def test_shared_parameters_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_state_dict_round_trip_and_torch_load():
    gradwalk.manual_seed(0)
    t = oracle(lambda torch: {k: v.detach().numpy() for k, v in Net(torch).double().state_dict()
                              .items()})
    g = Net().double()
    g.load_state_dict(t)
    for k, v in g.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), t[k])
    g2 = Net().double()
    assert repr(g2.load_state_dict(g.state_dict())) == "<All keys matched successfully>"
    x = gradwalk.randn(2, 1, 4, 4, dtype=gradwalk.float64)
    g.eval()
    g2.eval()
    np.testing.assert_array_equal(g(x).detach().numpy(), g2(x).detach().numpy())
    # state_dict tensors share memory with the parameters, detached
    sd = g.state_dict()
    assert not sd["conv.weight"].requires_grad
    assert np.shares_memory(sd["conv.weight"].numpy(), g.conv.weight.detach().numpy())
    assert g.state_dict(keep_vars=True)["conv.weight"] is g.conv.weight


def test_load_state_dict_strict_errors():
    lin = nn.Linear(2, 3)
    sd = dict(lin.state_dict())
    del sd["bias"]
    sd["extra"] = gradwalk.zeros(1)
    with pytest.raises(RuntimeError) as e:
        lin.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra".' in msg
    res = lin.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                           r"shape torch.Size\(\[2, 2\]\)"):
        lin.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(3)})


def test_load_state_dict_keeps_parameter_identity_and_casts():
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert lin.weight is w and w.dtype == gradwalk.float32
    assert float(w.sum()) == 4.0


def test_train_eval_propagates_and_changes_behaviour():
    g = Net()
    assert g.training and g.head[3].training
    g.eval()
    assert not any(m.training for m in g.modules())
    x = gradwalk.randn(4, 1, 4, 4)
    assert np.array_equal(g(x).detach().numpy(), g(x).detach().numpy())
    g.train()
    assert all(m.training for m in g.modules())


def test_zero_grad_and_requires_grad():
    lin = nn.Linear(2, 1)
    lin(gradwalk.ones(3, 2)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert float(lin.weight.grad.abs().sum()) == 0.0
    lin(gradwalk.ones(3, 2)).sum().backward()
    lin.zero_grad()
    assert lin.weight.grad is None
    lin.requires_grad_(False)
    assert not any(p.requires_grad for p in lin.parameters())


def test_to_double_float_keep_objects():
    g = Net()
    params = list(g.parameters())
    g.double()
    assert all(p.dtype == gradwalk.float64 for p in g.parameters())
    assert [id(p) for p in g.parameters()] == [id(p) for p in params]
    assert g.bn.num_batches_tracked.dtype == gradwalk.int64
    g.float()
    assert all(p.dtype == gradwalk.float32 for p in g.parameters())
    g.to(gradwalk.float64)
    assert g.scale.dtype == gradwalk.float64
    with pytest.raises(TypeError, match="floating point"):
        g.to(gradwalk.int64)


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append("post") or out + 1)
    out = lin(gradwalk.ones(1, 2))
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1)
    h1.remove()
    h2.remove()
    lin(gradwalk.ones(1, 2))
    assert calls == ["pre", "post"]
    seen = []
    lin.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs),
                              with_kwargs=True)
    lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0],), {}), with_kwargs=True)
    lin(gradwalk.ones(1, 2))
    assert seen == [{}]


def test_hook_order_and_prepend():
    m = nn.Identity()
    order = []
    m.register_forward_hook(lambda *a: order.append(1))
    m.register_forward_hook(lambda *a: order.append(0), prepend=True)
    m(gradwalk.zeros(1))
    assert order == [0, 1]


def test_apply_and_attribute_errors():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Linear", "Sequential"]
    with pytest.raises(AttributeError, match="'Sequential' object has no attribute 'nope'"):
        net.nope  # noqa: B018
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'weight'"):
        net[0].weight = 3
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_attribute_reassignment_moves_between_stores():
    m = nn.Module()
    m.a = nn.Parameter(gradwalk.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'Linear' as parameter 'a'"):
        m.a = nn.Linear(1, 1)  # as in PyTorch: a parameter name takes parameters (or None)
    m.a = None
    assert m.a is None and list(m.parameters()) == []
    m.c = 1.0
    m.c = nn.Linear(1, 1)
    assert "c" in m._modules and "c" not in m.__dict__
    m.c = nn.Parameter(gradwalk.ones(1))
    assert "c" in m._parameters and "c" not in m._modules
    del m.a
    assert not hasattr(m, "a")
    m.b = nn.Buffer(gradwalk.ones(2))
    assert list(m.state_dict()) == ["c", "b"]
    m.b = gradwalk.zeros(2)
    assert float(m.b.sum()) == 0.0 and list(m.state_dict()) == ["c", "b"]


def test_deepcopy_and_pickle():
    gradwalk.manual_seed(0)
    net = Net()
    c = copy.deepcopy(net)
    assert isinstance(c.conv.weight, nn.Parameter)
    assert c.conv.weight is not net.conv.weight
    np.testing.assert_array_equal(c.conv.weight.detach().numpy(),
                                  net.conv.weight.detach().numpy())
    seq = net.head
    p = pickle.loads(pickle.dumps(seq))
    assert isinstance(p[1].bias, nn.Parameter) and p[1].bias.requires_grad
    np.testing.assert_array_equal(p[1].bias.detach().numpy(), seq[1].bias.detach().numpy())
    assert repr(p) == repr(seq)


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("head.1") is net.head[1]
    assert net.get_parameter("head.1.weight") is net.head[1].weight
    assert net.get_buffer("bn.running_mean") is net.bn.running_mean
    with pytest.raises(AttributeError):
        net.get_submodule("head.9")


def test_load_state_dict_assign_replaces_parameters():
    lin = nn.Linear(2, 2)
    new_w = gradwalk.ones(2, 2, dtype=gradwalk.float64)
    lin.load_state_dict({"weight": new_w, "bias": np.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    assert lin.weight.dtype == gradwalk.float64 and lin.weight._data is new_w._data
    with pytest.raises(RuntimeError, match="Missing key"):
        lin.load_state_dict({"weight": new_w}, assign=True)
