"""Dtypes: float16 through arithmetic, bfloat16 named but refused, as PyTorch prints them."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle


def _half_program(torch) -> list:
    x = torch.tensor([0.5, 1.25, -3.0]).half()
    y = torch.tensor([2.0, 0.1, 7.0], dtype=torch.float16)
    r = [x + y, x * y, x / y, x - 1.5, x ** 2, (x * 2.5).exp(), x.sum(), x.mean(),
         torch.cat([x, y]), x @ y, torch.where(x > 0, x, y), x.float() + y]
    return [[repr(v.dtype), v.float().tolist()] for v in r] + [repr(x)]


def test_float16_arithmetic_matches_pytorch():
    ours = _half_program(gradwalk)
    ref = oracle(_half_program)
    assert [v[0] for v in ours[:-1]] == [v[0].replace("torch.", "gradwalk.") for v in ref[:-1]]
    for (_, a), (_, b) in zip(ours[:-1], ref[:-1]):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-3)
    assert ours[-1] == ref[-1].replace("torch.", "gradwalk.")


def test_float16_gradient():
    x = gradwalk.tensor([1.0, 2.0], dtype=gradwalk.float16, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype is gradwalk.float16 and x.grad.tolist() == [2.0, 4.0]


def test_dtype_names_and_facts_match_pytorch():
    names = ["bfloat16", "float16", "half", "float32", "float", "float64", "double", "int8",
             "uint8", "int16", "short", "int32", "int", "int64", "long", "bool"]

    def facts(torch):
        return [[repr(getattr(torch, n)), getattr(torch, n).is_floating_point,
                 getattr(torch, n).itemsize] for n in names]

    assert [[r.replace("gradwalk.", "torch."), f, i] for r, f, i in facts(gradwalk)] == oracle(
        facts)


BFLOAT16_USES = {
    "tensor": lambda g: g.tensor([1.0], dtype=g.bfloat16),
    "zeros": lambda g: g.zeros(2, dtype=g.bfloat16),
    "to": lambda g: g.ones(2).to(g.bfloat16),
    "method": lambda g: g.ones(2).bfloat16(),
    "default": lambda g: g.set_default_dtype(g.bfloat16),
}


@pytest.mark.parametrize("use", sorted(BFLOAT16_USES))
def test_bfloat16_is_refused_with_the_remedy(use):
    with pytest.raises(TypeError, match="NumPy has no bfloat16.*float16.*float32"):
        BFLOAT16_USES[use](gradwalk)
    assert gradwalk.get_default_dtype() is gradwalk.float32


def test_half_method():
    assert gradwalk.ones(2).half().dtype is gradwalk.float16
    assert gradwalk.ones(2).half().float().dtype is gradwalk.float32


def _out_of_range(torch) -> list:
    calls = [lambda: torch.tensor(2**63), lambda: torch.tensor([1, 2**63]),
             lambda: torch.tensor(-2**63 - 1), lambda: torch.tensor(2**64),
             lambda: torch.tensor([[1], [2**70]]), lambda: torch.tensor(300, dtype=torch.uint8),
             lambda: torch.tensor([1, 300], dtype=torch.int8)]
    return [error_of(c) for c in calls] + [torch.tensor(-2**63).item(),
                                           torch.tensor(2**63 - 1).item()]


def test_out_of_range_python_ints_raise_as_pytorch():
    assert _out_of_range(gradwalk) == oracle(_out_of_range)
