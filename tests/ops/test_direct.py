"""``ops/direct.py`` (Note [direct apply]): ``linear``'s node recorded without the generic
``registry.apply`` is the node ``apply`` records, field by field, and falls back where it must."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import direct, nn
from gradwalk.ops.registry import apply

_FIELDS = ("op", "saved", "versions", "out", "out_vc", "params", "shapes", "dtypes")


def _tensors(rx, rw, rb, dtype=np.float64):
    rng = np.random.default_rng(0)
    x = gradwalk.tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=rx)
    w = gradwalk.tensor(rng.standard_normal((2, 3)).astype(dtype), requires_grad=rw)
    b = gradwalk.tensor(rng.standard_normal(2).astype(dtype), requires_grad=rb)
    return x, w, b


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("rx,rw,rb", [(True, True, True), (False, True, True),
                                      (True, False, False), (False, False, True)])
def test_the_direct_node_is_the_generic_one(bias, rx, rw, rb):
    x, w, b = _tensors(rx, rw, rb)
    x2 = x * 1.0 if rx else x  # an input with a producer node, not only leaves
    op = nn.LINEAR if bias else nn.LINEAR_NOBIAS
    args = (x2, w, b) if bias else (x2, w)
    fast = direct.apply_linear(op, nn._linear_fwd, *args)
    ref = apply(op, *args)
    np.testing.assert_array_equal(fast.detach().numpy(), ref.detach().numpy())
    assert fast.requires_grad == ref.requires_grad
    f, r = fast.grad_fn, ref.grad_fn
    if r is None:
        assert f is None
        return
    for name in _FIELDS:
        assert getattr(f, name) == getattr(r, name), name
    assert f.edges == r.edges


def test_linear_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((5, 3), (4, 3), (4,))]
    g = [gradwalk.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    gradwalk.nn.functional.linear(*g).tanh().sum().backward()
    torch.nn.functional.linear(*t).tanh().sum().backward()
    for a, b in zip(g, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_the_cases_left_to_apply_still_work():
    x, w, _ = _tensors(True, True, False)
    b32 = gradwalk.zeros(2, dtype=gradwalk.float32, requires_grad=True)  # another dtype
    y = gradwalk.nn.functional.linear(x, w, b32)
    assert y.dtype == gradwalk.float64 and y.grad_fn.name() == "AddmmBackward0"
    y.sum().backward()
    assert b32.grad.dtype == gradwalk.float32
    w1 = gradwalk.ones(3, dtype=gradwalk.float64, requires_grad=True)  # a 1-D weight
    gradwalk.nn.functional.linear(x, w1).sum().backward()
    np.testing.assert_allclose(w1.grad.numpy(), x.detach().numpy().sum(0))
