"""The most common ~226 names of PyTorch's tutorial and nn code (``tests/utils/common_ops.txt``,
Note [the common-ops list] in ``tests/utils/common_ops.py``): every one exists in gradwalk, and
at least 95% of those that PyTorch's op database covers pass its OpInfo comparison."""

from __future__ import annotations

import pytest

import gradwalk
from tests.utils import common_ops

ROWS = common_ops.read()


def test_the_list_holds_226_distinct_names():
    assert len(ROWS) == 226 and len(set(ROWS)) == 226
    assert {k for k, _ in ROWS} == {"torch", "F", "Tensor", "nn"}


def test_every_common_name_is_in_gradwalk():
    missing = [f"{k}.{n}" for k, n in ROWS if not hasattr(common_ops.namespace(gradwalk, k), n)]
    assert missing == []


def test_every_common_name_is_in_pytorch():
    torch = pytest.importorskip("torch")
    assert [f"{k}.{n}" for k, n in ROWS if not hasattr(common_ops.namespace(torch, k), n)] == []


def test_the_list_is_what_the_script_builds():
    torch = pytest.importorskip("torch")
    if torch.__version__.split("+")[0] != "2.13.0":
        pytest.skip("the counts are of torch 2.13.0's sources")
    assert common_ops.render(common_ops.build(torch)) == common_ops.OUT.read_text()


def test_common_ops_pass_their_opinfo_comparison():
    torch = pytest.importorskip("torch")
    pytest.importorskip("expecttest")  # torch's op database imports it
    n, ok, problems = common_ops.parity(torch)
    assert n >= 100  # most listed names are ops with entries
    assert ok >= 0.95 * n, problems


# ------------------------------------------------------------------ the names added for the list
import numpy as np  # noqa: E402

from tests.fixtures.oracle import oracle  # noqa: E402

STRIDES = {
    "contiguous": lambda t: t.zeros(2, 3, 4).stride(),
    "permuted": lambda t: t.zeros(2, 3, 4).permute(2, 0, 1).stride(),
    "expanded": lambda t: t.zeros(3, 1).expand(3, 4).stride(),
    "sliced": lambda t: t.zeros(4, 5)[:, ::2].stride(),
    "flipped": lambda t: t.zeros(2, 3).flip(0).stride(),
    "0-d": lambda t: t.tensor(1.0).stride(),
    "one dim": lambda t: t.zeros(2, 3).t().stride(0),
    "channels_last": lambda t: t.zeros(1, 2, 3, 3).contiguous(
        memory_format=t.channels_last).stride(),
}


@pytest.mark.parametrize("case", list(STRIDES))
def test_stride_matches_pytorch(case):
    assert gradwalk.zeros(1).is_sparse is False
    ref = oracle(lambda torch: STRIDES[case](torch))
    ours = STRIDES[case](gradwalk)
    assert (list(ours) if isinstance(ours, tuple) else ours) == (
        list(ref) if isinstance(ref, (tuple, list)) else ref)


PADS = [((-1, 2), "constant"), ((1, -2, -1, 1), "constant"), ((-2, -2), "constant"),
        ((-1, 2), "replicate"), ((2, -3), "replicate"), ((-4, 2), "replicate")]


@pytest.mark.parametrize("pad,mode", PADS, ids=str)
def test_negative_pad_crops_as_pytorch(pad, mode):
    def run(lib):
        x = lib.tensor(np.arange(12.0).reshape(1, 3, 4), requires_grad=True)
        y = lib.nn.functional.pad(x, pad, mode=mode)
        (y * y).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    ours, ref = run(gradwalk), oracle(run)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "amax", "prod", "std"])
@pytest.mark.parametrize("dim", [0, -1])
def test_a_0d_tensors_dim_0_is_the_tensor(name, dim):
    def run(lib):
        x = lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
        y = getattr(lib, name)(x, dim, keepdim=True)
        y.backward()
        return y.detach().numpy(), x.grad.numpy(), tuple(y.shape)

    ours, ref = run(gradwalk), oracle(run)
    np.testing.assert_array_equal(ours[0], ref[0])
    np.testing.assert_array_equal(ours[1], ref[1])
    assert ours[2] == tuple(ref[2])


def test_zero_and_the_like_factories_take_what_pytorch_takes():
    x = gradwalk.ones(2, 3, dtype=gradwalk.float64)
    assert gradwalk.zero_(x) is x and float(x.abs().sum()) == 0.0
    for fn in (gradwalk.randn_like, gradwalk.rand_like):
        y = fn(x, device="cpu")
        assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
