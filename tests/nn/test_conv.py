"""``nn.Conv1d/2d/3d`` and the fused ``conv`` op: PyTorch parity (values and gradients of
input, weight and bias), padding modes, errors, repr, and second-order gradients."""

import numpy as np
import pytest

import gradwalk
from gradwalk import nn
from gradwalk.autograd import gradcheck, gradgradcheck
from tests.fixtures.oracle import oracle

from .parity import check_layer

CONV2D_CASES = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
    dict(padding="same", dilation=2),
    dict(padding="same", kernel_size=(4, 2)),
    dict(padding="valid"),
    dict(groups=2, padding=1),
    dict(groups=4, bias=False),
    dict(padding=1, padding_mode="reflect"),
    dict(padding=(1, 2), padding_mode="circular"),
    dict(padding=1, padding_mode="replicate"),
]


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=[str(c) for c in CONV2D_CASES])
def test_conv2d_matches_torch(kw):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    x = np.random.default_rng(1).standard_normal((2, 4, 7, 6))
    check_layer(lambda m: m.nn.Conv2d(4, 8, k, **kw), x)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=2, dilation=2),
                                dict(padding="same", groups=3)])
def test_conv1d_matches_torch(kw):
    x = np.random.default_rng(2).standard_normal((2, 3, 9))
    check_layer(lambda m: m.nn.Conv1d(3, 6, 3, **kw), x)


def test_conv3d_matches_torch():
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 5, 4))
    check_layer(lambda m: m.nn.Conv3d(2, 3, 2, padding=1), x)


def test_conv2d_unbatched_input():
    x = np.random.default_rng(4).standard_normal((3, 5, 5))
    check_layer(lambda m: m.nn.Conv2d(3, 2, 3), x)


@pytest.mark.parametrize("kw", CONV2D_CASES[:8], ids=[str(c) for c in CONV2D_CASES[:8]])
def test_conv2d_repr_matches_torch(kw):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    assert repr(nn.Conv2d(4, 8, k, **kw)) == oracle(lambda torch: repr(torch.nn.Conv2d(4, 8, k,
                                                                                       **kw)))


def test_conv_init_bounds():
    gradwalk.manual_seed(0)
    conv = nn.Conv2d(4, 8, 3)
    bound = 1 / np.sqrt(4 * 9)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    assert conv.weight.detach().numpy().std() > 0.4 * bound


def test_conv_second_order_gradients():
    rng = np.random.default_rng(5)
    x = gradwalk.tensor(rng.standard_normal((2, 4, 5, 4)), requires_grad=True)
    w = gradwalk.tensor(rng.standard_normal((2, 2, 3, 2)), requires_grad=True)
    b = gradwalk.tensor(rng.standard_normal(2), requires_grad=True)
    f = lambda x, w, b: nn.functional.conv2d(x, w, b, stride=(2, 1), padding=1,  # noqa: E731
                                             dilation=(1, 2), groups=2)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv_double_backward_matches_torch():
    rng = np.random.default_rng(6)
    xa, wa = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))

    def run(m):
        x, w = m.tensor(xa, requires_grad=True), m.tensor(wa, requires_grad=True)
        y = m.nn.functional.conv2d(x, w, stride=2, padding=1)
        (gx,) = m.autograd.grad((y * y).sum(), [x], create_graph=True)
        (gx * gx).sum().backward()
        return w.grad.numpy()

    np.testing.assert_allclose(run(gradwalk), oracle(run), rtol=1e-9, atol=1e-9)


def test_conv_errors_name_the_problem():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match="expected input.*to have 3 channels"):
        conv(gradwalk.zeros(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        conv(gradwalk.zeros(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match="3D .*or 4D"):
        conv(gradwalk.zeros(5, 5))
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="Input type .* and weight type"):
        conv(gradwalk.zeros(1, 3, 5, 5, dtype=gradwalk.float64))


def test_conv_is_one_node():
    conv = nn.Conv2d(2, 3, 3)
    y = conv(gradwalk.zeros(1, 2, 4, 4))
    assert y.grad_fn.name() == "ConvolutionBackward0"
    assert y.grad_fn.next_functions[0][0] is None  # the input needs no gradient


TRANSPOSE_CASES = [dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1),
                   dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2)),
                   dict(groups=2, dilation=2), dict(bias=False, stride=3, padding=2)]


TRANSPOSE3D_CASES = [dict(), dict(stride=2, padding=1, output_padding=1),
                     dict(groups=2, dilation=(1, 2, 1), bias=False)]


@pytest.mark.parametrize("kw", TRANSPOSE3D_CASES, ids=[str(c) for c in TRANSPOSE3D_CASES])
def test_conv_transpose3d_matches_torch(kw):
    x = np.random.default_rng(8).standard_normal((1, 4, 3, 2, 3))
    check_layer(lambda m: m.nn.ConvTranspose3d(4, 2, 2, **kw), x)
    assert repr(nn.ConvTranspose3d(4, 2, 2, **kw)) == oracle(
        lambda torch: repr(torch.nn.ConvTranspose3d(4, 2, 2, **kw)))


@pytest.mark.parametrize("kw", TRANSPOSE_CASES, ids=[str(c) for c in TRANSPOSE_CASES])
def test_conv_transpose2d_matches_torch(kw):
    x = np.random.default_rng(7).standard_normal((2, 4, 4, 5))
    check_layer(lambda m: m.nn.ConvTranspose2d(4, 6, 3, **kw), x)
    assert repr(nn.ConvTranspose2d(4, 6, 3, **kw)) == oracle(
        lambda torch: repr(torch.nn.ConvTranspose2d(4, 6, 3, **kw)))


def test_conv_transpose1d_and_output_size_match_torch():
    x = np.random.default_rng(8).standard_normal((2, 3, 5))
    check_layer(lambda m: m.nn.ConvTranspose1d(3, 2, 3, stride=2), x)
    x2 = np.random.default_rng(9).standard_normal((1, 2, 3, 3))
    check_layer(lambda m: m.nn.ConvTranspose2d(2, 2, 3, stride=2), x2,
                call=lambda m, x: m(x, output_size=(8, 8)))


def test_conv_transpose_second_order_and_errors():
    rng = np.random.default_rng(10)
    x = gradwalk.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = gradwalk.tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    f = lambda x, w: nn.functional.conv_transpose2d(x, w, stride=2,  # noqa: E731
                                                    output_padding=1)
    assert gradcheck(f, (x, w)) and gradgradcheck(f, (x, w))
    with pytest.raises(ValueError, match="output padding must be"):
        nn.ConvTranspose2d(2, 2, 3, output_padding=1)(gradwalk.zeros(1, 2, 3, 3))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
