"""``repr`` of tensors: exactly what PyTorch prints (``gradwalk.`` in place of ``torch.``)."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle


@pytest.fixture
def default_float64():
    gradwalk.set_default_dtype(gradwalk.float64)
    try:
        yield
    finally:
        gradwalk.set_default_dtype(gradwalk.float32)


def _as_torch(text: str) -> str:
    return text.replace("gradwalk.", "torch.")


# Reasoned by hand from PyTorch's printing rules (4 decimals, a shared column width, integer-valued
# floats end in ".", scientific notation when the range of magnitudes is wide), and from the
# examples of the autograd lesson. These run without PyTorch installed.
LITERAL = [
    (lambda t: t.tensor(8.0), "tensor(8.)"),
    (lambda t: t.tensor(0.077), "tensor(0.0770)"),
    (lambda t: t.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda t: t.tensor(3), "tensor(3)"),
    (lambda t: t.tensor([True, False]), "tensor([ True, False])"),
    (lambda t: t.tensor([1.5, -2.0]), "tensor([ 1.5000, -2.0000])"),
    (lambda t: t.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda t: t.tensor([1.0, 2.0], dtype=t.float64), "tensor([1., 2.], dtype=gradwalk.float64)"),
    (lambda t: t.tensor([1, 2], dtype=t.int32), "tensor([1, 2], dtype=gradwalk.int32)"),
    (lambda t: t.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda t: t.eye(2), "tensor([[1., 0.],\n        [0., 1.]])"),
]


@pytest.mark.parametrize("make,expected", LITERAL)
def test_repr_literal(make, expected):
    assert repr(make(gradwalk)) == expected


def test_repr_grad_fn():
    x = gradwalk.tensor(1.0, requires_grad=True)
    assert repr(x * 2) == "tensor(2., grad_fn=<MulBackward0>)"
    assert repr(x + 1) == "tensor(2., grad_fn=<AddBackward0>)"


def _vals(n, lo=-3.0, hi=3.0, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, n).round(6).tolist()


# Each case builds the same tensor in gradwalk and in PyTorch from the module given.
PARITY = {
    "scalar": lambda t: t.tensor(0.0770),
    "scalar int-valued": lambda t: t.tensor(-3.0),
    "scalar int": lambda t: t.tensor(-42),
    "scalar bool": lambda t: t.tensor(True),
    "scalar sci": lambda t: t.tensor(1.5e-7),
    "scalar big": lambda t: t.tensor(123456789.0),
    "scalar nan": lambda t: t.tensor(float("nan")),
    "scalar -inf": lambda t: t.tensor(float("-inf")),
    "negative zero": lambda t: t.tensor([0.0, -0.0]),
    "ints": lambda t: t.tensor([-1, 200, 3]),
    "int32": lambda t: t.tensor([[1, -2], [30, 4]], dtype=t.int32),
    "uint8": lambda t: t.tensor([0, 255], dtype=t.uint8),
    "bools 2d": lambda t: t.tensor([[True, False], [False, True]]),
    "int-valued floats": lambda t: t.tensor([1.0, -20.0, 300.0]),
    "int-valued wide": lambda t: t.tensor([1.0, 1e9]),
    "int-valued ratio": lambda t: t.tensor([1.0, 2000.0]),
    "decimals": lambda t: t.tensor([0.5, -0.25, 3.125]),
    "sci small": lambda t: t.tensor([1e-5, 0.5]),
    "sci large": lambda t: t.tensor([1.5, 2e8]),
    "sci ratio": lambda t: t.tensor([0.001, 12.5]),
    "sci negative": lambda t: t.tensor([-1e-10, 3.0]),
    "nan inf": lambda t: t.tensor([float("nan"), 1.0, float("inf")]),
    "nan zero": lambda t: t.tensor([float("nan"), 0.0]),
    "inf decimals": lambda t: t.tensor([float("-inf"), 1.5]),
    "sci nan": lambda t: t.tensor([1e-5, float("nan")]),
    "zeros": lambda t: t.zeros(3),
    "2d": lambda t: t.tensor([[1.5, 2.0], [3.0, -4.25]]),
    "3d": lambda t: t.tensor([[[1.5, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, -8.25]]]),
    "4d ints": lambda t: t.arange(24).reshape(1, 2, 3, 4),
    "wraps lines": lambda t: t.tensor(_vals(30)),
    "wide 2d": lambda t: t.tensor(_vals(60)).reshape(3, 20),
    "float64": lambda t: t.tensor([1.0, 2.5], dtype=t.float64),
    "float16": lambda t: t.ones(2, 3, dtype=t.float16),
    "float64 requires grad": lambda t: t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True),
    "requires grad 2d": lambda t: t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
    "grad_fn": lambda t: t.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn float64": lambda t: t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True).sum(),
    "grad_fn pow": lambda t: t.tensor(3.0, requires_grad=True) ** 2,
    "grad_fn sub": lambda t: t.tensor(3.0, requires_grad=True) - 1,
    "grad_fn div": lambda t: t.tensor(3.0, requires_grad=True) / 2,
    "grad_fn neg": lambda t: -t.tensor(3.0, requires_grad=True),
    "grad_fn mean": lambda t: t.ones(3, requires_grad=True).mean(),
    "grad_fn matmul": lambda t: t.ones(2, 2, requires_grad=True) @ t.ones(2, 2),
    "grad_fn exp": lambda t: t.exp(t.tensor(0.0, requires_grad=True)),
    "detached": lambda t: (t.tensor(3.0, requires_grad=True) * 2).detach(),
    "summarized 1d": lambda t: t.arange(2000, dtype=t.float32),
    "summarized 2d": lambda t: t.arange(2000).reshape(40, 50),
    "summarized 3d": lambda t: (t.arange(3000, dtype=t.float32) / 7).reshape(10, 10, 30),
    "summarized sci": lambda t: t.arange(1, 1201, dtype=t.float64).reshape(2, 600) / 3000,
    "not summarized at 1000": lambda t: t.arange(1000),
    "empty": lambda t: t.zeros(0),
    "empty 2d": lambda t: t.zeros(2, 0),
    "empty float64": lambda t: t.zeros(0, 3, dtype=t.float64),
    "empty int64": lambda t: t.tensor([], dtype=t.int64),
    "empty bool": lambda t: t.tensor([], dtype=t.bool),
    "empty requires grad": lambda t: t.zeros(0, requires_grad=True),
    "linspace": lambda t: t.linspace(-3, 3, 25),
    "eye": lambda t: t.eye(3),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_repr_matches_pytorch(name):
    make = PARITY[name]
    assert _as_torch(repr(make(gradwalk))) == oracle(lambda torch: repr(make(torch)))


def _repr_with_float64_default(torch, make):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return repr(make(torch))
    finally:
        torch.set_default_dtype(old)


@pytest.mark.parametrize("name", ["decimals", "int-valued floats", "2d", "grad_fn", "empty",
                                  "float64", "summarized 2d"])
def test_repr_matches_pytorch_with_float64_default(name, default_float64):
    make = PARITY[name]
    expected = oracle(lambda torch: _repr_with_float64_default(torch, make))
    assert _as_torch(repr(make(gradwalk))) == expected


def test_float32_shows_dtype_when_default_is_float64(default_float64):
    assert repr(gradwalk.tensor([1.0], dtype=gradwalk.float32)) == (
        "tensor([1.], dtype=gradwalk.float32)")
    assert repr(gradwalk.tensor([1.0])) == "tensor([1.])"


def test_grad_repr_matches_pytorch():
    def run(t):
        x = t.tensor([0.5, -1.5, 2.0], requires_grad=True)
        (x.sin() * x).sum().backward()
        return x.grad

    assert _as_torch(repr(run(gradwalk))) == oracle(lambda torch: repr(run(torch)))


def test_str_and_format():
    x = gradwalk.tensor([1.0, 2.0])
    assert str(x) == repr(x)
    assert f"{gradwalk.tensor(2.5):.2f}" == "2.50"


# ---------------------------------------------------------------------------------- print options

PRINT_OPTIONS = {
    "precision2": dict(precision=2),
    "precision6": dict(precision=6),
    "threshold5": dict(threshold=5),
    "edgeitems1": dict(threshold=5, edgeitems=1),
    "linewidth30": dict(linewidth=30),
    "sci_on": dict(sci_mode=True),
    "sci_off": dict(sci_mode=False),
    "short": dict(profile="short"),
    "full": dict(profile="full"),
}


def _printed_with_options(torch, options: dict) -> list:
    rng = np.random.default_rng(7)
    values = [
        torch.tensor(rng.standard_normal(12).astype(np.float32)),
        torch.tensor(rng.standard_normal((4, 5)).astype(np.float32) * 1e3),
        torch.tensor([1e-5, 1.0, 250.0]),
        torch.tensor([1.0, 2.0, 3.0]),
        torch.arange(12),
        torch.arange(24).reshape(4, 6),
        torch.tensor([[1.5, -2.25], [3.0, 1e9]]),
        torch.tensor(3.14159265),
    ]
    set_options = torch.set_printoptions
    set_options(**options)
    try:
        return [repr(v) for v in values] + [repr(torch.zeros(1100))]
    finally:
        set_options(profile="default")


@pytest.mark.parametrize("name", sorted(PRINT_OPTIONS))
def test_print_options_match_pytorch(name):
    ref = oracle(lambda torch: _printed_with_options(torch, PRINT_OPTIONS[name]))
    assert [_as_torch(s) for s in _printed_with_options(gradwalk, PRINT_OPTIONS[name])] == ref


def test_print_options_reset_and_get():
    gradwalk.set_printoptions(precision=2, sci_mode=True)
    try:
        assert gradwalk.get_printoptions()["precision"] == 2
        assert gradwalk.get_printoptions()["sci_mode"] is True
        gradwalk.set_printoptions(precision=3)  # every call resets sci_mode, as in PyTorch
        assert gradwalk.get_printoptions()["sci_mode"] is None
    finally:
        gradwalk.set_printoptions(profile="default")
    assert gradwalk.get_printoptions() == oracle(
        lambda torch: torch._tensor_str.get_printoptions())
    with pytest.raises(ValueError, match="profile"):
        gradwalk.set_printoptions(profile="tiny")
