"""saved_tensors_hooks / save_on_cpu, and reading a node's saved values by name."""

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd.graph import (
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)
from gradwalk.ops import registry
from tests.fixtures.oracle import oracle


def _model(lib, x, w):
    y = x.exp()
    z = (y @ w).sin()
    return (z * z).sum() + y.tanh().sum()


def _run(lib, hooks):
    x = lib.tensor([0.1, 0.2, 0.3], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=lib.float64, requires_grad=True)
    if hooks is None:
        loss = _model(lib, x, w)
    else:
        with hooks:
            loss = _model(lib, x, w)
    loss.backward()
    return x.grad.detach().numpy().copy(), w.grad.detach().numpy().copy()


def test_pack_at_save_time_unpack_at_backward_time():
    events = []

    def pack(t):
        events.append("pack")
        return ("box", t.detach().clone())

    def unpack(p):
        events.append("unpack")
        return p[1]

    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(pack, unpack):
        y = x.sin()
        assert events == ["pack"]
    z = y.sum()
    assert events == ["pack"]
    z.backward()
    assert events == ["pack", "unpack"]
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]), rtol=1e-6)


def test_gradients_with_hooks_equal_gradients_without():
    plain = _run(gradwalk, None)
    hooked = _run(gradwalk, saved_tensors_hooks(lambda t: t.detach() * 1, lambda t: t))
    cpu = _run(gradwalk, save_on_cpu())
    for a, b, c in zip(plain, hooked, cpu):
        np.testing.assert_allclose(a, b, rtol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-12)


def test_unpack_value_is_what_backward_uses():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t * 0 + 10):
        y = x * x  # mul saves both inputs; backward reads the unpacked 10s
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_hooks_match_pytorch():
    ours = _run(gradwalk, saved_tensors_hooks(lambda t: t.detach() * 2, lambda t: t / 2))
    theirs = oracle(lambda torch: _run(torch, torch.autograd.graph.saved_tensors_hooks(
        lambda t: t.detach() * 2, lambda t: t / 2)))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_innermost_hooks_win_and_the_registry_hook_goes_away():
    used = []
    x = gradwalk.tensor([1.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: used.append("outer") or t, lambda t: t):
        with saved_tensors_hooks(lambda t: used.append("inner") or t, lambda t: t):
            x.exp()
        x.sin()
    assert used == ["inner", "outer"]
    assert not any(getattr(h, "__module__", "").endswith("graph") for h in
                   registry._forward_hooks)


def test_unpack_must_return_a_tensor():
    x = gradwalk.tensor([1.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: 3.0):
        y = x.sin()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.backward()


def test_custom_function_saved_tensors_are_packed():
    events = []

    class Sq(gradwalk.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = gradwalk.tensor(3.0, requires_grad=True)
    with saved_tensors_hooks(lambda t: events.append("pack") or t,
                             lambda t: events.append("unpack") or t):
        y = Sq.apply(x)
    y.backward()
    assert events == ["pack", "unpack"] and x.grad.item() == 6.0


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("no hooks in here"):
        with pytest.raises(RuntimeError, match="no hooks in here"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


# ------------------------------------------------------------------------- saved values by name

def test_saved_values_by_name():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    w = gradwalk.tensor([3.0, 4.0], requires_grad=True)
    m = x * w
    assert m.grad_fn._saved_self is x and m.grad_fn._saved_other is w
    e = x.exp()
    np.testing.assert_allclose(e.grad_fn._saved_result.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    p = x.pow(3)
    assert p.grad_fn._saved_self is x
    with pytest.raises(AttributeError):
        m.grad_fn._saved_nothing_like_this  # noqa: B018
    (m.sum() + e.sum()).backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        m.grad_fn._saved_self  # noqa: B018


def test_saved_values_by_name_unpack_packed_values():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: ("packed", t), lambda p: p[1] * 1):
        y = x.sin()
        e = x.exp()
    np.testing.assert_allclose(y.grad_fn._saved_self.detach().numpy(), [1.0, 2.0])
    np.testing.assert_allclose(e.grad_fn._saved_result.detach().numpy(), np.exp([1.0, 2.0]),
                               rtol=1e-6)


def _names(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = lib.tensor([[1.0, 0.5], [2.0, 1.0]], requires_grad=True)
    out = {
        "pow_exponent": x.pow(3).grad_fn._saved_exponent,
        "mm_mat2": x.mm(w).grad_fn._saved_mat2.detach().numpy().tolist(),
        "sum_dim": tuple(x.sum(0).grad_fn._saved_dim),
        "sum_keepdim": x.sum(0).grad_fn._saved_keepdim,
        "clamp": (x.clamp(0, 2).grad_fn._saved_min, x.clamp(0, 2).grad_fn._saved_max),
        "tanh_result": x.tanh().grad_fn._saved_result.detach().numpy().round(5).tolist(),
    }
    return out


def test_more_saved_names_match_pytorch():
    assert _names(gradwalk) == oracle(_names)


def _check_saved_names(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    m = x * w
    assert m.grad_fn._saved_self is x or np.allclose(m.grad_fn._saved_self.detach(), x.detach())
    assert np.allclose(m.grad_fn._saved_other.detach().numpy(), [3.0, 4.0])
    np.testing.assert_allclose(x.exp().grad_fn._saved_result.detach().numpy(),
                               np.exp([1.0, 2.0]), rtol=1e-6)
    return True


def test_saved_names_match_pytorch():
    # the same checks hold in torch (live) and in gradwalk
    assert oracle(_check_saved_names) is True
    _check_saved_names(gradwalk)


def test_hooks_are_per_thread():
    import threading

    packed = []
    other_thread_packed = []
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        x = gradwalk.tensor([1.0], requires_grad=True)
        with saved_tensors_hooks(lambda t: other_thread_packed.append(1) or t, lambda t: t):
            pass
        x.sin()  # the main thread's hooks are open, but not in this thread
        done.set()

    th = threading.Thread(target=other)
    th.start()
    with saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        started.set()
        done.wait(10)
        gradwalk.tensor([1.0], requires_grad=True).sin()
    th.join()
    assert packed == [1] and other_thread_packed == []
