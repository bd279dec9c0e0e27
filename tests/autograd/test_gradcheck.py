"""gradcheck / gradgradcheck: pass on correct rules, fail with a side-by-side report on wrong
ones."""

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import Function, gradcheck, gradgradcheck
from tests.fixtures.oracle import oracle


def _x(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return gradwalk.tensor(rng.standard_normal(shape), dtype=gradwalk.float64,
                           requires_grad=True)


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # the right answer is 2 * x * g


class RightSquareWrongSecond(Function):
    """First derivative right, but its backward is not differentiable correctly (uses a
    detached x), so gradgradcheck must fail while gradcheck passes."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x.detach() * g


def test_importable_both_ways():
    from gradwalk.autograd.gradcheck import gradcheck as gc
    from gradwalk.autograd.gradcheck import gradgradcheck as ggc

    assert gc is gradwalk.autograd.gradcheck and ggc is gradwalk.autograd.gradgradcheck


def test_passes_on_builtin_ops():
    x, w = _x(3), _x(3, 2, seed=1)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, w))
    assert gradcheck(lambda a: (a.exp() * a.sin()).sum(), (x,))
    assert gradcheck(lambda a: (a.softmax(0), a.pow(2)), (x,))  # several outputs


def test_fails_on_a_wrong_backward_and_reports_both_jacobians():
    x = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float64, requires_grad=True)
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError) as info:
        gradcheck(WrongSquare.apply, (x,))
    msg = str(info.value)
    assert "Jacobian mismatch for output 0 with respect to input 0" in msg
    lines = msg.splitlines()
    assert lines[1].split() == ["numerical:", "analytical:"]
    # side by side: row 1 of the numerical Jacobian [2, 0] next to the analytical [1, 0]
    assert lines[2].replace("[", " ").replace("]", " ").split() == [
        "2.", "0.", "1.", "0."]


def test_non_tensor_and_no_grad_inputs_are_skipped():
    x = _x(2)
    c = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float64)
    assert gradcheck(lambda a, b, k: a * b * k, (x, c, 3.0))
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda b: b * 2, (c,))


def test_gradgradcheck():
    x = _x(3, seed=2)
    assert gradgradcheck(lambda a: (a.sin() * a).exp(), (x,))
    assert gradcheck(RightSquareWrongSecond.apply, (x,))
    assert gradgradcheck(RightSquareWrongSecond.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_with_given_grad_outputs():
    x = _x(2, seed=3)
    v = _x(2, seed=4)
    assert gradgradcheck(lambda a: a ** 3, (x,), (v,))


def test_float32_inputs_warn():
    x = gradwalk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda a: a * 2, (x,), eps=1e-3, atol=1e-2, raise_exception=False)


def _torch_verdict(torch):
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)

    class TorchWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    return torch.autograd.gradcheck(TorchWrong.apply, (x,), raise_exception=False)


def test_agrees_with_torch_gradcheck_verdicts():
    theirs = oracle(_torch_verdict)
    gx = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float64, requires_grad=True)
    ours = gradcheck(WrongSquare.apply, (gx,), raise_exception=False)
    assert ours is theirs is False
