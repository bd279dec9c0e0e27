"""Tensor attributes and methods: metadata, conversion, copies, autograd attributes, hooks."""

import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

# ---------------------------------------------------------------------------------- metadata

def test_shape_size_dim_numel():
    t = gradwalk.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4)
    assert t.size(0) == 2 and t.size(-1) == 4 and t.size(1) == 3
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24
    s = gradwalk.tensor(1.5)
    assert s.shape == () and s.ndim == 0 and s.numel() == 1
    assert len(t) == 2
    with pytest.raises(IndexError, match=r"Dimension out of range .* got 3"):
        t.size(3)
    with pytest.raises(TypeError, match="0-d"):
        len(s)


def test_dtype_property_and_predicates():
    assert gradwalk.ones(1).dtype is gradwalk.float32
    assert gradwalk.ones(1).is_floating_point()
    assert not gradwalk.arange(2).is_floating_point()
    assert gradwalk.tensor([True]).dtype is gradwalk.bool
    assert gradwalk.is_tensor(gradwalk.ones(1)) and not gradwalk.is_tensor([1.0])


# ---------------------------------------------------------------------------------- conversion

def test_item_returns_python_numbers():
    assert gradwalk.tensor(2.5).item() == 2.5 and type(gradwalk.tensor(2.5).item()) is float
    assert type(gradwalk.tensor(3).item()) is int
    assert type(gradwalk.tensor(True).item()) is bool
    assert gradwalk.tensor([[7.0]]).item() == 7.0  # any one-element tensor
    with pytest.raises(RuntimeError, match="2 elements cannot be converted to Scalar"):
        gradwalk.ones(2).item()


def test_item_works_while_requiring_grad():
    x = gradwalk.tensor(2.0, requires_grad=True)
    assert (x * 3).item() == 6.0


def test_tolist():
    assert gradwalk.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert gradwalk.tensor(2.5).tolist() == 2.5
    assert gradwalk.tensor([1.0], requires_grad=True).tolist() == [1.0]


def test_numpy_shares_memory():
    t = gradwalk.zeros(3)
    a = t.numpy()
    a[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    assert a.dtype == np.float32


def test_numpy_raises_while_requiring_grad():
    x = gradwalk.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)\.numpy\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        (x * 2).numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_array_protocol():
    t = gradwalk.tensor([1.0, 2.0])
    assert np.asarray(t).tolist() == [1.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(gradwalk.arange(3)).dtype == np.int64
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(gradwalk.ones(2, requires_grad=True))


def test_to_and_dtype_shortcuts():
    i = gradwalk.tensor([1, 2])
    assert i.to(gradwalk.float64).dtype is gradwalk.float64
    assert i.to(dtype=gradwalk.float32).dtype is gradwalk.float32
    assert i.to(gradwalk.ones(1, dtype=gradwalk.float64)).dtype is gradwalk.float64
    assert i.float().dtype is gradwalk.float32
    assert i.double().dtype is gradwalk.float64
    f = gradwalk.tensor([1.7, -2.5])
    assert f.long().dtype is gradwalk.int64 and f.long().tolist() == [1, -2]  # truncation
    assert f.float() is f  # already float32: no copy, as in PyTorch
    assert f.to("cpu") is f
    with pytest.raises(TypeError, match="unexpected keyword"):
        f.to(colour="red")


def test_to_is_differentiable():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn.name() == "ToCopyBackward0"
    (y ** 2).sum().backward()
    assert x.grad.dtype is gradwalk.float32  # the gradient has the input's dtype
    assert x.grad.tolist() == [2.0, 4.0]


def test_casting_to_int_drops_the_graph():
    x = gradwalk.ones(2, requires_grad=True)
    assert not x.long().requires_grad


def test_python_number_protocols():
    assert float(gradwalk.tensor([2.5])) == 2.5
    assert int(gradwalk.tensor(2.7)) == 2
    assert bool(gradwalk.tensor(0.0)) is False
    assert [10, 20, 30][gradwalk.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gradwalk.tensor([0.0, 1.0]))


# ---------------------------------------------------------------------------------- copies

def test_clone_copies_and_keeps_the_gradient_path():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0" and not c.is_leaf
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    plain = gradwalk.ones(2)
    copy = plain.clone()
    copy.fill_(3.0)
    assert plain.tolist() == [1.0, 1.0]


def test_detach_shares_data_and_cuts_the_graph():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    d[0] = 10.0
    assert y.tolist() == [10.0, 4.0]  # same memory


def test_detach_in_place():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    assert repr(y) == "tensor([2., 4.])"


# ---------------------------------------------------------------------------------- autograd attrs

def test_requires_grad_flags():
    t = gradwalk.ones(2)
    assert not t.requires_grad and t.is_leaf
    assert t.requires_grad_() is t and t.requires_grad and t.is_leaf
    t.requires_grad_(False)
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad
    y = t * 2
    assert y.requires_grad and not y.is_leaf
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False


def test_ops_on_tensors_without_grad_are_leaves():
    y = gradwalk.ones(2) * 2
    assert y.is_leaf and y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("make", [
    lambda: gradwalk.tensor([1, 2]),
    lambda: gradwalk.arange(3),
    lambda: gradwalk.tensor([True]),
    lambda: gradwalk.ones(2, dtype=gradwalk.int32),
])
def test_integer_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="floating point"):
        make().requires_grad_()
    t = make()
    with pytest.raises(RuntimeError, match="floating point"):
        t.requires_grad = True


def test_integer_factories_cannot_require_grad():
    with pytest.raises(RuntimeError, match="int64"):
        gradwalk.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="int64"):
        gradwalk.zeros(2, dtype=gradwalk.int64, requires_grad=True)


def test_grad_fn_and_next_functions():
    a = gradwalk.tensor(2.0, requires_grad=True)
    b = gradwalk.tensor(3.0)
    c = a * b
    assert c.grad_fn.name() == "MulBackward0"
    assert repr(c) == "tensor(6., grad_fn=<MulBackward0>)"
    (first, _), (second, _) = c.grad_fn.next_functions
    assert first.name() == "AccumulateGrad" and first.variable is a
    assert second is None  # b needs no gradient
    d = c + 1
    assert d.grad_fn.next_functions[0][0] is c.grad_fn


GRAD_FN_CASES = {
    "add": lambda t, x: x + x, "radd": lambda t, x: 1 + x, "sub": lambda t, x: x - x,
    "rsub": lambda t, x: 1 - x, "mul": lambda t, x: x * x, "rmul": lambda t, x: 2 * x,
    "div": lambda t, x: x / x, "div scalar": lambda t, x: x / 2, "pow": lambda t, x: x ** 2,
    "pow tensor": lambda t, x: x ** x, "neg": lambda t, x: -x, "abs": lambda t, x: x.abs(),
    "exp": lambda t, x: x.exp(), "log": lambda t, x: x.log(), "log1p": lambda t, x: x.log1p(),
    "sqrt": lambda t, x: x.sqrt(), "sin": lambda t, x: x.sin(), "cos": lambda t, x: x.cos(),
    "tanh": lambda t, x: x.tanh(), "sigmoid": lambda t, x: x.sigmoid(),
    "relu": lambda t, x: x.relu(), "sum": lambda t, x: x.sum(), "sum dim": lambda t, x: x.sum(0),
    "mean": lambda t, x: x.mean(), "max": lambda t, x: x.max(), "mm": lambda t, x: x @ x,
    "dot": lambda t, x: x[0] @ x[0], "reshape": lambda t, x: x.reshape(4),
    "view": lambda t, x: x.view(4), "t": lambda t, x: x.t(),
    "transpose": lambda t, x: x.transpose(0, 1), "permute": lambda t, x: x.permute(1, 0),
    "select": lambda t, x: x[0], "slice": lambda t, x: x[:1],
    "index": lambda t, x: x[t.tensor([0, 1])], "unsqueeze": lambda t, x: x.unsqueeze(0),
    "expand": lambda t, x: x[:1].expand(3, 2), "cat": lambda t, x: t.cat([x, x]),
    "stack": lambda t, x: t.stack([x, x]), "clone": lambda t, x: x.clone(),
    "softmax": lambda t, x: x.softmax(0), "log_softmax": lambda t, x: x.log_softmax(0),
    "where": lambda t, x: t.where(x > 0, x, x), "clamp": lambda t, x: x.clamp(0, 1),
    "maximum": lambda t, x: t.maximum(x, x), "gather": lambda t, x: x.gather(0, t.tensor([[0]])),
    "index_select": lambda t, x: x.index_select(0, t.tensor([1])),
    "var": lambda t, x: x.var(), "prod": lambda t, x: x.prod(), "amax": lambda t, x: x.amax(0),
    "logsumexp": lambda t, x: x.logsumexp(0), "to": lambda t, x: x.to(t.float64),
    "masked_fill": lambda t, x: x.masked_fill(x > 1, 0.0), "cumsum": lambda t, x: x.cumsum(0),
}


@pytest.mark.parametrize("name", sorted(GRAD_FN_CASES))
def test_grad_fn_names_match_torch(name):
    make = GRAD_FN_CASES[name]

    def grad_fn_name(lib):
        x = lib.tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True)
        return make(lib, x).grad_fn.name()

    names = [grad_fn_name(gradwalk), oracle(grad_fn_name)]
    assert names[0] == names[1]


def test_leaf_grad_starts_none_and_accumulates():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_grad_setter_checks_type_shape_dtype():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    x.grad = gradwalk.ones(2)
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = [1.0, 2.0]
    with pytest.raises(RuntimeError, match=r"different size.*\[2\].*\[3\]"):
        x.grad = gradwalk.ones(3)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = gradwalk.ones(2, dtype=gradwalk.float64)
    x.grad = None
    assert x.grad is None


def test_non_leaf_grad_warns_and_retain_grad_keeps_it():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x * x
    z = y * 3
    y.retain_grad()
    z.backward()
    assert y.retains_grad and not z.retains_grad
    assert y.grad.item() == 3.0
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert z.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad.item() == 12.0  # a leaf: no warning


def test_retain_grad_on_a_leaf_is_a_no_op_and_needs_requires_grad():
    x = gradwalk.tensor(1.0, requires_grad=True)
    x.retain_grad()
    (x * 2).backward()
    assert x.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        gradwalk.tensor(1.0).retain_grad()


# ---------------------------------------------------------------------------------- hooks

def test_register_hook_on_a_leaf_sees_and_replaces_the_gradient():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def hook(g):
        seen.append(g.tolist())
        return g * 3

    handle = x.register_hook(hook)
    (x * x).sum().backward()
    assert seen == [[2.0, 4.0]]
    assert x.grad.tolist() == [6.0, 12.0]
    handle.remove()
    (x * x).sum().backward()
    assert seen == [[2.0, 4.0]] and x.grad.tolist() == [8.0, 16.0]


def test_register_hook_on_a_non_leaf_changes_what_flows_back():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.register_hook(lambda g: g * 0)
    (y * y).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [0.0, 0.0]


def test_register_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gradwalk.ones(2).register_hook(lambda g: g)
    x = gradwalk.ones(2, requires_grad=True)
    x.register_hook(lambda g: gradwalk.ones(3))
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 2).sum().backward()


# ---------------------------------------------------------------------------------- backward()

def test_backward_of_a_scalar():
    x = gradwalk.tensor(3.0, requires_grad=True)
    y = x ** 2 + 2 * x + 1
    assert y.backward() is None
    assert repr(x.grad) == "tensor(8.)"


def test_backward_with_gradient_weights_the_outputs():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(gradwalk.tensor([1.0, 0.5]))
    assert x.grad.tolist() == [2.0, 2.0]
    y = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    (y * 3).backward(gradient=gradwalk.tensor([2.0, -1.0], dtype=gradwalk.float64))
    assert y.grad.dtype is gradwalk.float32 and y.grad.tolist() == [6.0, -3.0]


def test_backward_gradient_of_the_wrong_shape_raises():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
        (x * x).backward(gradwalk.ones(3))


def test_backward_retain_graph_allows_a_second_call():
    x = gradwalk.tensor(2.0, requires_grad=True)
    y = x ** 3
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 24.0


def test_backward_create_graph_makes_the_gradient_differentiable():
    x = gradwalk.tensor(2.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == 12.0
    x.grad = None
    g.backward()  # d(3x^2)/dx = 6x
    assert x.grad.item() == 12.0


def test_backward_inputs_limits_accumulation():
    a = gradwalk.tensor(2.0, requires_grad=True)
    b = gradwalk.tensor(3.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 3.0 and b.grad is None
    c = a * 3
    (c * c).backward(inputs=[c])
    assert c.grad.item() == 12.0 and a.grad.item() == 3.0  # d(c*c)/dc = 2c, c = 6
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * b).backward(inputs=[])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (a * b).backward(inputs=[gradwalk.ones(1)])


def test_backward_matches_torch_for_methods_chain():
    def run(t):
        x = t.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        w = t.tensor([1.5, -0.5], requires_grad=True)
        y = (x.double() * 2).float().clone()
        z = (y @ w).exp().sum() + x.detach().sum()
        z.backward()
        return z.detach().numpy(), x.grad.detach().numpy(), w.grad.detach().numpy()

    for g, t in zip(run(gradwalk), oracle(run)):
        assert g.dtype == t.dtype
        np.testing.assert_allclose(g, t, rtol=1e-6)


def test_reductions_accept_numpy_axis_and_keepdims_as_pytorch_does():
    x = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    assert gradwalk.mean(x, axis=0).tolist() == [2.0, 3.0]
    assert x.max(axis=1).values.tolist() == [2.0, 4.0]
    x.logsumexp(axis=1).sum().backward()
    assert x.grad.shape == (2, 2)
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        x.sum(1, axis=0)
