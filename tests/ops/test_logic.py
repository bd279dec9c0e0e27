"""Bitwise operators against PyTorch (recorded): ``&``, ``|``, ``^``, ``<<``, ``>>``, ``~`` on
integer and bool tensors and Python ints, their dtypes, and the error for floats."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

OPS = {
    "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "lshift": lambda a, b: a << b, "rshift": lambda a, b: a >> b,
    "bitwise_and": lambda a, b: a.bitwise_and(b), "bitwise_or": lambda a, b: a.bitwise_or(b),
}

OPERANDS = [
    ("int64-int64", lambda L: (L.tensor([3, 12, -7]), L.tensor([5, 2, 1]))),
    ("int32-int", lambda L: (L.tensor([3, 12, 7], dtype=L.int32), 2)),
    ("int32-int64", lambda L: (L.tensor([3, 12, 7], dtype=L.int32), L.tensor([1, 2, 3]))),
    ("bool-bool", lambda L: (L.tensor([True, False, True]), L.tensor([True, True, False]))),
    ("bool-int64", lambda L: (L.tensor([True, False, True]), L.tensor([2, 2, 3]))),
    ("int-tensor", lambda L: (3, L.tensor([4, 1, 2]))),
    ("broadcast", lambda L: (L.tensor([[1], [6]]), L.tensor([3, 4, 5]))),
]


def _result(t):
    return t.numpy(), str(t.dtype).split(".")[-1]


# every operator with every pair of operands, but the method forms with a Python int first (an
# int has no such method) and the shifts of bool tensors (torch has none)
CASES = [pytest.param(op, make, id=f"{op}-{name}") for op in OPS for name, make in OPERANDS
         if not (name == "int-tensor" and op.startswith("bitwise"))
         and not (name.startswith("bool") and op in ("lshift", "rshift"))]


@pytest.mark.parametrize("op,make", CASES)
def test_matches_pytorch(op, make):
    ref = oracle(lambda torch: _result(OPS[op](*make(torch))))
    values, dtype = _result(OPS[op](*make(gradwalk)))
    assert dtype == ref[1]
    np.testing.assert_array_equal(values, ref[0])


def test_invert_matches_pytorch():
    for make in (lambda L: L.tensor([0, 5, -3]), lambda L: L.tensor([True, False])):
        ref = oracle(lambda torch, make=make: _result(~make(torch)))
        values, dtype = _result(~make(gradwalk))
        assert dtype == ref[1]
        np.testing.assert_array_equal(values, ref[0])


@pytest.mark.parametrize("call", [
    lambda L: L.tensor([1.0]) | L.tensor([1.0]),
    lambda L: L.tensor([1.0]) & 1,
    lambda L: L.tensor([3]) ^ 1.5,
    lambda L: L.tensor([4.0]) << 1,
])
def test_floats_raise_as_pytorch(call):
    ref = oracle(lambda torch: error_of(call, torch))
    assert ref is not None
    with pytest.raises(Exception) as err:
        call(gradwalk)
    assert type(err.value).__name__ == ref[0]
    assert "integer or bool" in str(err.value)
