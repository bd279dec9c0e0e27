"""In-place ops: version counters shared with views, stale saved values, leaves, gradients through
views of views (CopySlices) and stale sibling views, checked against PyTorch where installed."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# ---------------------------------------------------------------------------- version counters

def test_every_inplace_op_bumps_the_version_by_one():
    x = gradwalk.tensor([1.0, 2.0, 3.0])
    ops = [
        lambda t: t.add_(1), lambda t: t.sub_(1), lambda t: t.mul_(2), lambda t: t.div_(2),
        lambda t: t.pow_(2), lambda t: t.zero_(), lambda t: t.fill_(3.0),
        lambda t: t.clamp_(0.5, 2.0), lambda t: t.copy_(gradwalk.tensor([4.0, 5.0, 6.0])),
        lambda t: t.exp_(), lambda t: t.neg_(), lambda t: t.abs_(), lambda t: t.sqrt_(),
        lambda t: t.log_(), lambda t: t.sin_(), lambda t: t.cos_(), lambda t: t.tanh_(),
        lambda t: t.sigmoid_(), lambda t: t.relu_(), lambda t: t.reciprocal_(),
    ]
    for k, op in enumerate(ops, start=1):
        assert op(x) is x
        assert x._version == k


def test_augmented_assignment_and_setitem_are_in_place():
    x = gradwalk.tensor([1.0, 2.0])
    ident = id(x)
    x += 1
    x -= 0.5
    x *= 4
    x /= 2
    x[0] = 10.0
    assert id(x) == ident
    assert x._version == 5
    np.testing.assert_allclose(x.numpy(), [10.0, 5.0])


def test_views_share_the_version_counter_with_their_base():
    base = gradwalk.zeros(2, 3)
    v = base[0]
    t = base.t()
    r = base.reshape(6)
    vv = t[1:]
    v.add_(1)
    assert base._version == v._version == t._version == r._version == vv._version == 1
    np.testing.assert_allclose(base.numpy()[0], [1.0, 1.0, 1.0])
    vv.mul_(2)
    assert base._version == 2
    np.testing.assert_allclose(base.numpy(), [[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])


def test_detach_shares_the_version_counter():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    d.add_(1)
    assert x._version == 1
    np.testing.assert_allclose(x.detach().numpy(), [2.0, 3.0])


# ---------------------------------------------------------------------------- stale saved values

def test_modifying_a_saved_input_raises_with_op_shape_and_versions():
    x = gradwalk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = y.sin()  # SinBackward0 saves y
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        z.sum().backward()
    msg = str(info.value)
    assert msg.startswith("one of the variables needed for gradient computation has been "
                          "modified by an inplace operation: [gradwalk.FloatTensor [3]]")
    assert "output 0 of AddBackward0" in msg  # what produced the tensor now
    assert "is at version 1; expected version 0 instead" in msg
    assert "saved for the backward of SinBackward0" in msg  # the op that saved it
    assert "set_detect_anomaly(True)" in msg


def test_modifying_a_saved_output_raises():
    x = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float64, requires_grad=True)
    y = x.exp()  # saves its result
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[gradwalk.DoubleTensor \[2\]\], which is output "
                                           r"0 of ExpBackward0, is at version 1; expected "
                                           r"version 0"):
        y.sum().backward()


def test_modifying_a_saved_leaf_under_no_grad_raises_without_producer():
    w = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    x = gradwalk.tensor([3.0, 4.0], requires_grad=True)
    z = (w * x).sum()
    with gradwalk.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[gradwalk.FloatTensor \[2\]\] is at version 1; "
                                           "expected version 0 instead"):
        z.backward()


def test_an_op_that_saved_nothing_is_not_affected():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = (y + 1).sum()  # add saves nothing
    y.mul_(5)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_modifying_through_a_view_makes_the_base_stale():
    x = gradwalk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = y.exp().sum() + (y * y).sum()
    y[1:].zero_()
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        z.backward()


# ---------------------------------------------------------------------------- leaves

def test_inplace_on_a_leaf_that_requires_grad_raises():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x += 1
    assert x._version == 0
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 2.0])


def test_inplace_on_a_leaf_under_no_grad_works_and_bumps_the_version():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with gradwalk.no_grad():
        x.mul_(3)
        x[0] = 0.5
    assert x._version == 2
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    np.testing.assert_allclose(x.detach().numpy(), [0.5, 6.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 12.0])


def test_inplace_on_an_expanded_view_raises():
    y = gradwalk.tensor([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y.expand(3, 2).add_(1)


# ---------------------------------------------------------------------------- gradients

def test_chained_inplace_ops_match_the_out_of_place_chain():
    a = gradwalk.tensor([0.5, 1.5], dtype=gradwalk.float64, requires_grad=True)
    b = a * 1
    b += 1
    b -= 0.25
    b *= 3
    b /= 2
    b **= 2
    b.exp_()
    b.sum().backward()
    x = a.detach().numpy()
    u = ((x + 0.75) * 1.5)
    expected = np.exp(u ** 2) * 2 * u * 1.5
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-12)


def test_retain_grad_follows_the_tensor_through_inplace():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.retain_grad()
    y.mul_(2)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])  # d/dy_new of sum(y_new^2)
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def _view_cases(lib, case):
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
    y = x * 2
    a = y[0]
    b = y[:, 1:]
    c = y.t()
    if case == "slice":
        a.mul_(3)
        out = (y * y).sum()
    elif case == "stale_sibling_views":
        a.mul_(3)
        out = (b * b).sum() + (c[2] * 5).sum()
    elif case == "base_changed_views_stale":
        y.add_(x)
        out = (a[1:] * b[0]).sum() + c.pow(2).sum()
    elif case == "view_of_view":
        d = b[1]
        d.exp_()
        out = (y * y).sum() + a.sum() * 3
    elif case == "setitem_through_transpose":
        c[1:, 0] = x[0, :2] * 7
        out = y.sin().sum() + (b ** 2).sum()
    elif case == "reshape_view":
        r = y.view(3, 2)
        r[0] += 1
        r.mul_(2)
        out = (a * 3).sum() + (c * c).sum()
    elif case == "base_without_grad":
        z = lib.zeros(2, 3, dtype=lib.float64)
        z[1] = x[0] * 3
        z[0, 1:].copy_(x[1, :2].exp())
        out = (z * z).sum()
    elif case == "clamp_fill_through_view":
        y[1].clamp_(5.0, 11.0)
        y[0, :2].fill_(0.5)
        out = (y ** 3).sum() + (c.sum(0) * b[:, 0]).sum()
    out.backward()
    return _np(x.grad), _np(out)


VIEW_CASES = ["slice", "stale_sibling_views", "base_changed_views_stale", "view_of_view",
              "setitem_through_transpose", "reshape_view", "base_without_grad",
              "clamp_fill_through_view"]


@pytest.mark.parametrize("case", VIEW_CASES)
def test_inplace_through_views_matches_pytorch(case):
    g, v = _view_cases(gradwalk, case)
    tg, tv = oracle(lambda torch: _view_cases(torch, case))
    np.testing.assert_allclose(v, tv, rtol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12)


def test_slice_inplace_gradient_by_hand():
    # y = 2x; y[0] *= 3; out = sum(y^2): d out/dx = 2 * y_new * dy_new/dx
    x = gradwalk.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gradwalk.float64, requires_grad=True)
    y = x * 2
    y[0].mul_(3)
    assert y.grad_fn.name() == "CopySlices"
    (y * y).sum().backward()
    xv = x.detach().numpy()
    factor = np.array([[6.0, 6.0], [2.0, 2.0]])
    np.testing.assert_allclose(x.grad.numpy(), 2 * (xv * factor) * factor)


def _version_error(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    return str(info.value)


def test_version_error_matches_pytorch_wording():
    msgs = [_version_error(gradwalk), oracle(_version_error)]
    prefix = ("one of the variables needed for gradient computation has been modified by an "
              "inplace operation: [")
    for m in msgs:
        assert m.startswith(prefix)
        assert "FloatTensor [3]], which is output 0 of Exp" in m
        assert "is at version 1; expected version 0 instead. " in m


def _grad_fn_names(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.add_(1)
    z = x * 1
    z[0].mul_(2)
    return (y.grad_fn.name(), z.grad_fn.name().split("::")[-1])


def test_grad_fn_names_match_pytorch():
    names = [_grad_fn_names(gradwalk), oracle(_grad_fn_names)]
    assert names[0] == names[1] == ("AddBackward0", "CopySlices")


INPLACE_METHODS = [
    ("add_", (0.5,)), ("sub_", (0.25,)), ("mul_", (3.0,)), ("div_", (4.0,)), ("pow_", (3,)),
    ("exp_", ()), ("log_", ()), ("sqrt_", ()), ("sin_", ()), ("cos_", ()), ("tanh_", ()),
    ("sigmoid_", ()), ("relu_", ()), ("reciprocal_", ()), ("neg_", ()), ("abs_", ()),
    ("clamp_", (0.3, 0.7)), ("clamp_min_", (0.4,)), ("clamp_max_", (0.5,)), ("square_", ()),
    ("log1p_", ()), ("expm1_", ()), ("rsqrt_", ()), ("tan_", ()), ("atan_", ()), ("sinh_", ()),
    ("cosh_", ()), ("log2_", ()), ("erf_", ()), ("tril_", ()), ("floor_", ()),
    ("multiply_", (2.0,)), ("subtract_", (1.0,)), ("true_divide_", (2.0,)), ("zero_", ()),
    ("fill_", (2.0,)),
]


def _method_grads(lib, name, args):
    x = lib.tensor([[0.3, 0.6], [0.2, 0.9]], dtype=lib.float64, requires_grad=True)
    t = lib.tensor([[1.5, 2.0], [0.5, 1.0]], dtype=lib.float64, requires_grad=True)
    y = x * t
    r = getattr(y, name)(*args)
    assert r is y and y._version == 1
    (y * y).sum().backward()
    # zero_/fill_ cut the gradient: PyTorch delivers zeros, gradwalk a structural "no gradient"
    return tuple(np.zeros((2, 2)) if v.grad is None else v.grad.detach().numpy() for v in (x, t))


@pytest.mark.parametrize("name,args", INPLACE_METHODS, ids=[m[0] for m in INPLACE_METHODS])
def test_inplace_methods_match_pytorch(name, args):
    ours = _method_grads(gradwalk, name, args)
    theirs = oracle(lambda torch: _method_grads(torch, name, args))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_tensor_argument_inplace_methods_match_pytorch():
    def run(lib):
        x = lib.tensor([[0.3, 0.6], [0.2, 0.9]], dtype=lib.float64, requires_grad=True)
        t = lib.tensor([[1.5, 2.0], [0.5, 1.0]], dtype=lib.float64, requires_grad=True)
        y = x * 1
        y.addcmul_(t, x, value=0.5).addcdiv_(x, t, value=2).lerp_(t, 0.25)
        z = y * 1
        z.copy_(t * 2 + y)
        z[0].masked_fill_(lib.tensor([True, False]), 0.0)
        (z ** 2).sum().backward()
        return x.grad.detach().numpy(), t.grad.detach().numpy(), y._version, z._version

    ours, theirs = run(gradwalk), oracle(run)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10)
    assert ours[2:] == theirs[2:]


def _stale_saved_result_error(lib):
    x = lib.tensor([0.3, 0.6], dtype=lib.float64, requires_grad=True)
    y = x * 1
    y.tan_().atan_()  # tan saved its result, atan_ overwrote it
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    return str(info.value)


def test_chain_of_inplace_ops_that_save_values_raises_like_pytorch():
    msgs = [_stale_saved_result_error(gradwalk), oracle(_stale_saved_result_error)]
    for m in msgs:
        assert "which is output 0 of Tan" in m and "is at version 2; expected version 1" in m
