"""``ops/direct.py`` (Note [direct apply]): ``linear``'s node recorded without the generic
``registry.apply`` is the node ``apply`` records, field by field, and falls back where it must."""

import numpy as np
import pytest

import gradwalk
from gradwalk.ops import direct, linalg, nn
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
    fast = direct.apply_linear(op, *args) if bias else direct.apply_product(op, *args)
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


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)), ((4,), (4,))])
@pytest.mark.parametrize("ra,rb", [(True, True), (True, False), (False, True)])
def test_the_direct_product_node_is_the_generic_one(sa, sb, ra, rb):
    rng = np.random.default_rng(1)
    a = gradwalk.tensor(rng.standard_normal(sa), requires_grad=ra)
    b = gradwalk.tensor(rng.standard_normal(sb), requires_grad=rb)
    op = linalg.DOT if len(sa) == len(sb) == 1 else linalg.MATMUL
    fast, ref = direct.apply_product(op, a, b), apply(op, a, b)
    np.testing.assert_array_equal(fast.detach().numpy(), ref.detach().numpy())
    assert type(fast._data) is np.ndarray and fast.shape == ref.shape
    for name in _FIELDS:
        assert getattr(fast.grad_fn, name) == getattr(ref.grad_fn, name), name
    assert fast.grad_fn.edges == ref.grad_fn.edges
    assert (a @ b).grad_fn.op is op  # the public operator takes the direct path


@pytest.mark.parametrize("sa,sb", [((3, 4), (4,)), ((4,), (4, 3)), ((2, 3, 4), (4,))])
def test_matrix_vector_gradients_match_torch(sa, sb):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(sa), rng.standard_normal(sb)]
    g = [gradwalk.tensor(x, requires_grad=True) for x in arrays]
    t = [torch.tensor(x, requires_grad=True) for x in arrays]
    for m, (a, b) in ((gradwalk, g), (torch, t)):
        y = m.tanh(a @ b)
        (ga,) = m.autograd.grad(y.sum(), a, create_graph=True)
        (ga * ga).sum().backward()
    for a, b in zip(g, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("rx,rw", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("strided", [False, True])
def test_linear_2d_fast_paths_match_torch(dtype, bias, rx, rw, strided):
    # apply_linear's written-out forward and linear's 2-D rule (``g @ w``, ``g.T @ x``), with
    # each input wanting a gradient or not, transposed (strided) inputs, and the rule's double
    # backward
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal((6, 4)).astype(dtype)
    w0 = rng.standard_normal((5, 4)).astype(dtype)
    b0 = rng.standard_normal(5).astype(dtype)
    out = []
    for m in (gradwalk, torch):
        # the leaves hold the arrays (transposed when strided); the layer reads views of them
        x = m.tensor(x0.T.copy() if strided else x0, requires_grad=rx)
        w = m.tensor(w0.T.copy() if strided else w0, requires_grad=rw)
        b = m.tensor(b0, requires_grad=True)
        y = m.nn.functional.linear(x.T if strided else x, w.T if strided else w,
                                   b if bias else None)
        wanted = [t for t, r in ((x, rx), (w, rw), (b, bias)) if r]
        grads = m.autograd.grad(m.tanh(y).sum(), wanted, create_graph=True)
        sum(gr.square().sum() for gr in grads).backward()
        out.append([y.detach().numpy()] + [gr.detach().numpy() for gr in grads]
                   + [t.grad.numpy() for t in wanted])
    eps = 1e-6 if dtype == np.float32 else 1e-13  # of the largest entry: float32 cancels
    for a, b in zip(*out):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=100 * eps, atol=eps * np.abs(b).max())
