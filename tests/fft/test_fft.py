"""gradwalk.fft against PyTorch (recorded oracle): values, gradients of any order, forward mode."""

from __future__ import annotations

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

X = np.random.default_rng(3).standard_normal((3, 4, 5))

CASES = [  # (function, kwargs)
    ("irfft", {}), ("irfft", {"n": 7}), ("irfft", {"n": 4, "dim": 1, "norm": "ortho"}),
    ("irfft", {"dim": 0, "norm": "forward"}), ("irfft2", {}), ("irfft2", {"s": (3, 9)}),
    ("irfftn", {}), ("irfftn", {"s": (2, 6), "dim": (0, 2), "norm": "ortho"}),
    ("irfftn", {"dim": (1,)}), ("irfftn", {"s": (4, -1)}),
    ("hfft", {}), ("hfft", {"n": 3, "norm": "ortho"}), ("hfft2", {"norm": "forward"}),
    ("hfftn", {"s": (5, 3, 4)}),
]


def _ids(case):
    return f"{case[0]}-" + "-".join(f"{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_transform_and_its_gradients_match_torch(case):
    name, kw = case

    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = getattr(m.fft, name)(x, **kw)
        w = m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), requires_grad=True)
        (g,) = m.autograd.grad((y * w).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), w)  # the rule's own rule (double backward)
        return y.detach(), g.detach(), h

    ours, ref = run(gradwalk), oracle(run)
    np.testing.assert_allclose(ours[0].numpy(), ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[1].numpy(), ref[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[2].numpy(), ref[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["irfftn", "hfft"])
def test_forward_mode_matches_torch(name):
    t = np.sin(np.arange(X.size)).reshape(X.shape)

    def run(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            y = getattr(m.fft, name)(fw.make_dual(m.tensor(X), m.tensor(t)))
            return fw.unpack_dual(y).tangent

    np.testing.assert_allclose(run(gradwalk).numpy(), oracle(run), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dim", [None, 0, (1, 2), -1])
def test_shifts_match_torch(dim):
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = m.fft.fftshift(x, dim=dim) * 2.0 + m.fft.ifftshift(x, dim=dim)
        y.backward(m.tensor(np.arange(X.size, dtype=float).reshape(X.shape)))
        return y.detach(), x.grad

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12)


def test_frequencies_match_torch():
    def run(m):
        return (m.fft.fftfreq(5), m.fft.fftfreq(6, d=0.1, dtype=m.float64),
                m.fft.rfftfreq(7, d=2.0), m.fft.rfftfreq(4, dtype=m.float64))

    for a, b in zip(run(gradwalk), oracle(run), strict=True):
        assert a.numpy().dtype == b.dtype
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-6)


def test_float32_and_integer_inputs():
    x = np.arange(6).reshape(2, 3)

    def run(m):
        return (str(m.fft.irfft(m.tensor(x, dtype=m.float32)).dtype),
                str(m.fft.irfft(m.tensor(x)).dtype))

    assert [s.split(".")[-1] for s in run(gradwalk)] == [s.split(".")[-1] for s in oracle(run)]


def test_errors_are_torch_errors():
    one = np.ones(1)
    assert oracle(lambda torch: error_of(lambda: torch.fft.irfft(torch.tensor(one))))[0] == \
        "RuntimeError"
    with pytest.raises(RuntimeError, match="Invalid number of data points"):
        gradwalk.fft.irfft(gradwalk.tensor(one))
    assert oracle(lambda torch: error_of(
        lambda: torch.fft.irfft(torch.ones(3), norm="bad")))[0] == "RuntimeError"
    with pytest.raises(RuntimeError, match="Invalid normalization mode"):
        gradwalk.fft.irfft(gradwalk.ones(3), norm="bad")


Z = X + 1j * np.random.default_rng(4).standard_normal((3, 4, 5))

COMPLEX_CASES = [  # (function, input, kwargs): the complex transforms, and c2r of complex input
    ("fft", "z", {}), ("fft", "x", {"n": 7}), ("ifft", "z", {"dim": 0, "norm": "ortho"}),
    ("fft2", "z", {"s": (3, 6)}), ("ifft2", "x", {}), ("fftn", "z", {"norm": "forward"}),
    ("ifftn", "z", {"s": (2, 3), "dim": (0, 2)}), ("rfft", "x", {}),
    ("rfft", "x", {"n": 6, "dim": 1}), ("rfft2", "x", {"norm": "ortho"}),
    ("rfftn", "x", {"s": (4, 3, 7)}), ("irfft", "z", {}), ("irfft", "z", {"n": 5}),
    ("irfft2", "z", {"s": (3, 9)}), ("irfftn", "z", {"norm": "forward"}), ("hfft", "z", {}),
    ("hfft", "z", {"n": 3, "norm": "ortho"}), ("hfft2", "z", {}),
    ("hfftn", "z", {"s": (5, 3, 4)}), ("ihfft", "x", {}), ("ihfft2", "x", {"s": (2, 6)}),
    ("ihfftn", "x", {"norm": "ortho"}),
]


@pytest.mark.parametrize("case", COMPLEX_CASES,
                         ids=[f"{c[0]}-{c[1]}-" + _ids(("", c[2]))[1:] for c in COMPLEX_CASES])
def test_complex_transforms_and_their_gradients_match_torch(case):
    name, which, kw = case

    def run(m):
        x = m.tensor(Z if which == "z" else X, requires_grad=True)
        y = getattr(m.fft, name)(x, **kw)
        c = np.cos(np.arange(y.numel())).reshape(tuple(y.shape))
        if y.is_complex():
            c = c + 1j * np.sin(np.arange(y.numel())).reshape(tuple(y.shape))
        w = m.tensor(c, requires_grad=True)
        (g,) = m.autograd.grad((y * w).real.sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g.abs() ** 2).sum(), w)  # the rule's own rule
        return y.detach(), g.detach(), h

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        assert ours.numpy().dtype == ref.dtype
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_complex_forward_mode_matches_torch():
    t = np.sin(np.arange(Z.size)).reshape(Z.shape) + 0.5j

    def run(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            z = fw.make_dual(m.tensor(Z), m.tensor(t))
            y = m.fft.fft2(z) + m.fft.rfft(fw.make_dual(m.tensor(X), m.tensor(t.real)))[..., :1]
            return fw.unpack_dual(y).tangent, fw.unpack_dual(m.fft.irfft(z)).tangent

    for ours, ref in zip(run(gradwalk), oracle(run), strict=True):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_complex_transform_dtypes_and_errors_match_torch():
    def run(m):
        x32 = m.tensor(X, dtype=m.float32)
        dts = [repr(t.dtype).split(".")[-1] for t in (
            m.fft.fft(x32), m.fft.rfft(x32), m.fft.irfft(m.fft.rfft(x32)),
            m.fft.fft(m.tensor([1, 2, 3])), m.fft.ihfft(x32))]
        errs = [error_of(lambda: m.fft.rfft(m.tensor(Z))), error_of(lambda: m.fft.ihfft(
            m.tensor(Z))), error_of(lambda: m.fft.fft(m.tensor(1.0)))]
        return dts, [e[0] for e in errs]

    assert run(gradwalk) == oracle(run)
    with pytest.raises(RuntimeError, match="real input tensor"):
        gradwalk.fft.rfft(gradwalk.tensor(Z))
