"""grid_sample, affine_grid and interpolate's area mode against PyTorch: values and gradients of
the input and the grid, every mode and padding mode."""

import itertools

import numpy as np
import pytest

import gradwalk
from gradwalk.autograd import gradcheck

from .fn_parity import check_fn

rng = np.random.default_rng(0)
X4 = rng.standard_normal((2, 2, 4, 5))
G4 = rng.uniform(-1.3, 1.3, (2, 3, 4, 2))
X5 = rng.standard_normal((1, 2, 3, 4, 5))
G5 = rng.uniform(-1.3, 1.3, (1, 2, 3, 2, 3))
PADS = ["zeros", "border", "reflection"]


@pytest.mark.parametrize("mode,pad,align", list(itertools.product(
    ["bilinear", "bicubic"], PADS, [False, True])), ids=str)
def test_grid_sample_2d_matches_torch(mode, pad, align):
    check_fn(lambda F, x, g: F.grid_sample(x, g, mode, pad, align), [0, 1], X4, G4)


@pytest.mark.parametrize("pad,align", list(itertools.product(PADS, [False, True])), ids=str)
def test_grid_sample_3d_trilinear_matches_torch(pad, align):
    check_fn(lambda F, x, g: F.grid_sample(x, g, "bilinear", pad, align), [0, 1], X5, G5)


@pytest.mark.parametrize("x,g", [(X4, G4), (X5, G5)], ids=["4d", "5d"])
@pytest.mark.parametrize("pad", PADS)
def test_grid_sample_nearest_matches_torch(x, g, pad):
    check_fn(lambda F, t, s: F.grid_sample(t, s, "nearest", pad, False), [0, 1], x, g)


def test_grid_sample_gradient_is_the_finite_difference():
    x = gradwalk.tensor(X4[:1, :1], requires_grad=True)
    g = gradwalk.tensor(G4[:1] * 0.7, requires_grad=True)
    assert gradcheck(lambda a, b: gradwalk.nn.functional.grid_sample(
        a, b, padding_mode="reflection", align_corners=False), (x, g))


def test_grid_sample_refuses_bad_arguments():
    F = gradwalk.nn.functional
    x, g = gradwalk.tensor(X4), gradwalk.tensor(G4)
    with pytest.raises(ValueError, match="mode"):
        F.grid_sample(x, g, mode="cubic")
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, g, padding_mode="wrap")
    with pytest.raises(RuntimeError, match="bicubic"):
        F.grid_sample(gradwalk.tensor(X5), gradwalk.tensor(G5), mode="bicubic")
    with pytest.raises(RuntimeError, match="grid"):
        F.grid_sample(x, g[:1])


@pytest.mark.parametrize("size,align", [((2, 1, 3, 4), False), ((2, 1, 3, 4), True),
                                        ((2, 1, 1, 5), False), ((2, 1, 2, 3, 4), False),
                                        ((2, 1, 2, 3, 4), True)], ids=str)
def test_affine_grid_matches_torch(size, align):
    theta = rng.standard_normal((2, len(size) - 2, len(size) - 1))
    check_fn(lambda F, t: F.affine_grid(t, size, align), [0], theta)


def test_affine_grid_then_grid_sample_matches_torch():
    theta = np.array([[[0.8, -0.3, 0.1], [0.2, 0.9, -0.2]]] * 2)
    check_fn(lambda F, x, t: F.grid_sample(x, F.affine_grid(t, (2, 2, 3, 3), False),
                                           align_corners=False), [0, 1], X4, theta)


def test_affine_grid_refuses_a_bad_theta():
    with pytest.raises(ValueError, match="affine matrices"):
        gradwalk.nn.functional.affine_grid(gradwalk.zeros(2, 3, 3), (2, 1, 4, 4))


@pytest.mark.parametrize("x,kw", [
    (X4[:, :, :, 0], dict(size=3)), (X4, dict(size=(3, 2))), (X4, dict(scale_factor=1.7)),
    (X4, dict(scale_factor=0.6)), (X5, dict(size=(2, 3, 7)))], ids=str)
def test_interpolate_area_matches_torch(x, kw):
    check_fn(lambda F, t: F.interpolate(t, mode="area", **kw), [0], x)
