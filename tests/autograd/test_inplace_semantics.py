"""In-place semantics against PyTorch: forward-mode tangents through in-place ops (on dual
tensors, on views of them, into tensors without a tangent), writing through a view going through
the base's node (CopySlices: the base's retained grad and hooks, the views' regenerated nodes),
and ``zero_``/``fill_``/``copy_`` keeping the graph of a non-leaf.

Each program is written once against PyTorch's API and runs in both libraries (``oracle``).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

X = np.array([1.0, -2.0, 3.0, 0.5])
T = np.array([0.5, 1.0, -1.0, 2.0])
Z = np.array([2.0, -1.0])
TZ = np.array([1.5, -0.5])


def _out(t):
    """A result as NumPy (None stays None)."""
    return None if t is None else t.detach().numpy().copy()


def _same(mine, theirs):
    assert type(mine) is type(theirs) or (mine is None) == (theirs is None), (mine, theirs)
    if isinstance(theirs, (list, tuple)):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            _same(a, b)
    elif theirs is None:
        assert mine is None
    elif isinstance(theirs, str):
        assert mine == theirs
    else:
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- forward mode


def _dual(torch, x=X, t=T):
    fw = torch.autograd.forward_ad
    return fw.make_dual(torch.tensor(x), torch.tensor(t))


def _tangent(torch, y):
    return _out(torch.autograd.forward_ad.unpack_dual(y).tangent)


def _fw_mul_(torch):
    y = _dual(torch) * 1
    y.mul_(2)
    return [_out(y), _tangent(torch, y)]


def _fw_ops_on_a_clone(torch):
    y = _dual(torch).clone()
    y.add_(torch.tensor(X) * 3)
    a = _tangent(torch, y)
    y.clamp_(-1.0, 2.0)
    b = _tangent(torch, y)
    y.exp_()
    return [a, b, _tangent(torch, y), _out(y)]


def _fw_add_dual(torch):
    y = torch.tensor(X).clone()
    w = _dual(torch, X * 0.5, T[::-1].copy())
    y.add_(w)  # y had no tangent: it gets w's
    return [_out(y), _tangent(torch, y)]


def _fw_view_changes_the_base(torch):
    y = _dual(torch) * 1
    v = y[0:2]
    w = y[1:]  # a view made before the change sees it
    v.mul_(3)
    return [_tangent(torch, y), _tangent(torch, v), _tangent(torch, w), _tangent(torch, w * w)]


def _fw_setitem_dual_into_plain(torch):
    y = torch.zeros(4, dtype=torch.float64)
    y[1:3] = _dual(torch, Z, TZ)
    return [_out(y), _tangent(torch, y), _tangent(torch, y[2:])]


def _fw_setitem_constant_into_dual(torch):
    y = _dual(torch) * 2
    y[0] = 5.0
    y[2:].zero_()
    return [_out(y), _tangent(torch, y)]


def _fw_copy_fill(torch):
    y = _dual(torch) * 2
    y.copy_(_dual(torch, X[::-1].copy(), T))
    a = _tangent(torch, y)
    y.fill_(1.5)
    return [a, _tangent(torch, y)]


def _fw_view_chain(torch):
    y = (_dual(torch) * 1).reshape(2, 2)
    y.t()[1].mul_(-2)
    return [_out(y), _tangent(torch, y)]


def _fw_with_reverse(torch):
    # reverse mode through the same in-place program: the primal's gradient
    p = torch.tensor(X, requires_grad=True)
    fw = torch.autograd.forward_ad
    d = fw.make_dual(p, torch.tensor(T))
    y = d * 1
    y[1:3].mul_(torch.tensor(Z))
    tan = fw.unpack_dual(y).tangent
    (y * y).sum().backward()
    return [_out(tan), _out(p.grad)]


FORWARD = [_fw_mul_, _fw_ops_on_a_clone, _fw_add_dual, _fw_view_changes_the_base,
           _fw_setitem_dual_into_plain, _fw_setitem_constant_into_dual, _fw_copy_fill,
           _fw_view_chain, _fw_with_reverse]


@pytest.mark.parametrize("program", FORWARD, ids=lambda f: f.__name__[4:])
def test_forward_mode_follows_inplace_ops(program):
    def run(lib):
        with lib.autograd.forward_ad.dual_level():
            return program(lib)

    _same(run(gradwalk), oracle(run))


def _reverse_over_forward(lib):
    x = lib.tensor(X, requires_grad=True)

    def f(x):
        y = x * 1
        y[1:].mul_(x[:3])
        y.add_(2)
        return y.sin()

    out, tan = lib.func.jvp(f, (x,), (lib.tensor(T),))
    (g,) = lib.autograd.grad(tan.sum(), x)
    return [_out(out), _out(tan), _out(g)]


def test_the_gradient_of_a_tangent_through_inplace_ops():
    _same(_reverse_over_forward(gradwalk), oracle(_reverse_over_forward))


def test_tangent_tables_are_dropped_with_the_level():
    fw = gradwalk.autograd.forward_ad
    with fw.dual_level():
        y = _dual(gradwalk) * 1
        y[0:2].mul_(2)
        v = y[1:]
    assert fw.unpack_dual(v).tangent is None
    with fw.dual_level():
        assert fw.unpack_dual(v).tangent is None  # a new level knows nothing of the old one


# ---------------------------------------------------------------------------- CopySlices


def _cs_retained_base(torch):
    x = torch.tensor(X, requires_grad=True)
    v = x * 2
    v.retain_grad()
    seen = []
    v.register_hook(lambda g: seen.append(g.clone()))
    v[0:2].mul_(3)
    (v * v).sum().backward()
    return [_out(x.grad), _out(v.grad), [_out(g) for g in seen], v.grad_fn.name()]


def _cs_view_used_after(torch):
    x = torch.tensor(X, requires_grad=True)
    b = x * 2
    b.retain_grad()
    w = b[1:]
    w.retain_grad()
    other = b[:2]
    w.mul_(3)
    names = [w.grad_fn.name(), other.grad_fn.name(), b.grad_fn.name()]
    seen = []
    b.register_hook(lambda g: seen.append(g.clone()))  # on the base's new node
    ((w * w).sum() + (other * 5).sum()).backward()
    return [names, _out(x.grad), _out(b.grad), _out(w.grad), [_out(g) for g in seen]]


def _cs_plain_base_gets_a_graph(torch):
    x = torch.tensor(Z, requires_grad=True)
    b = torch.zeros(4, dtype=torch.float64)
    v = b[1:3]
    v.copy_(x * x)
    (b * torch.tensor(X)).sum().backward()
    return [b.grad_fn.name(), v.grad_fn.name(), _out(x.grad)]


def _cs_infinite_gradient(torch):
    # the overwritten region gets exactly zero, not inf * 0
    x = torch.tensor(X, requires_grad=True)
    y = x * 1
    y[0:2].mul_(2)
    z = (y - torch.tensor([2.0, -4.0, 0.0, 0.0])).sqrt()  # infinite slope at 0 in the view
    z.sum().backward()
    return [_out(x.grad)]


COPY_SLICES = [_cs_retained_base, _cs_view_used_after, _cs_plain_base_gets_a_graph,
               _cs_infinite_gradient]


@pytest.mark.parametrize("program", COPY_SLICES, ids=lambda f: f.__name__[4:])
def test_writing_through_a_view_goes_through_the_base(program):
    theirs = oracle(program)
    mine = program(gradwalk)
    _same(_names(mine), _names(theirs))


def _names(tree):
    """PyTorch prefixes some node names with its namespace (``torch::autograd::CopySlices``)."""
    if isinstance(tree, str):
        return tree.rpartition("::")[2]
    if isinstance(tree, list):
        return [_names(t) for t in tree]
    return tree


# ---------------------------------------------------------------------------- zero_/fill_/copy_


def _zf_zero(torch):
    x = torch.tensor(X, requires_grad=True)
    y = x * 2
    y.zero_()
    (y * torch.tensor(T)).sum().backward()
    return [_out(x.grad)]


def _zf_fill_then_use(torch):
    x = torch.tensor(X, requires_grad=True)
    y = x * 2
    y.fill_(5.0)
    (y * x).sum().backward()
    return [_out(x.grad)]


def _zf_copy(torch):
    x = torch.tensor(X, requires_grad=True)
    s = torch.tensor(Z[:1], requires_grad=True)
    y = x * 2
    y.copy_(s * 3)  # broadcast: every element of y comes from s
    (y * torch.tensor(T)).sum().backward()
    return [_out(x.grad), _out(s.grad)]


def _zf_on_views(torch):
    x = torch.tensor(X, requires_grad=True)
    s = torch.tensor(Z, requires_grad=True)
    y = x * 2
    y[:1].zero_()
    y[1:2].fill_(7.0)
    y[2:].copy_(s)
    (y * torch.tensor(T)).sum().backward()
    return [_out(y), _out(x.grad), _out(s.grad)]


ZERO_FILL_COPY = [_zf_zero, _zf_fill_then_use, _zf_copy, _zf_on_views]


@pytest.mark.parametrize("program", ZERO_FILL_COPY, ids=lambda f: f.__name__[4:])
def test_zero_fill_copy_keep_the_graph(program):
    _same(program(gradwalk), oracle(program))
