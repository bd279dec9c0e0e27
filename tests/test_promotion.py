"""PyTorch's type promotion, tested exhaustively against torch (Note [type promotion] in
gradwalk/dtypes.py).

Every pair of gradwalk's dtypes, each as a tensor with dims, a 0-d tensor, and every kind of
Python number, goes through the binary ops; the result's dtype and values must be torch's, or
both must raise. The same function builds the table with torch (through the recorded oracle)
and with gradwalk, since ``import gradwalk as torch`` runs torch code.

Complex dtypes and Python complex numbers are in the table. Deliberate differences, checked as
such: the ops of ``COMPLEX_GAPS`` raise a TypeError on complex operands where torch computes
(gradwalk's rules for them are not checked for complex values, Note [complex ops] in
gradwalk/ops/complex.py), and where torch's result is complex32 (float16 beside a complex value)
gradwalk raises a TypeError (NumPy has no complex32); and ``maximum`` also takes Python numbers, where torch requires two
tensors (its scalar rows are left out).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128")
NUMBERS = {"py_bool": True, "py_int": 3, "py_float": 2.5, "py_complex": 1.5j}


def _operands(torch) -> dict:
    out = {}
    for name in DTYPES:
        dt = getattr(torch, name)
        out["t_" + name] = torch.tensor([1, 2]).to(dt)  # a tensor with a dim
        out["z_" + name] = torch.tensor(3).to(dt)  # a 0-d tensor
    out.update(NUMBERS)
    return out


OPS = {
    "add": lambda torch, a, b: a + b,
    "mul": lambda torch, a, b: a * b,
    "sub": lambda torch, a, b: a - b,
    "div": lambda torch, a, b: a / b,
    "true_divide": lambda torch, a, b: torch.true_divide(a, b),
    "div_trunc": lambda torch, a, b: torch.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda torch, a, b: torch.div(a, b, rounding_mode="floor"),
    "floor_divide": lambda torch, a, b: a // b,
    "pow": lambda torch, a, b: a ** b,
    "where": lambda torch, a, b: torch.where(torch.tensor([True, False]), a, b),
    "maximum": lambda torch, a, b: torch.maximum(a, b),
    "eq": lambda torch, a, b: a == b,
    "cat": lambda torch, a, b: torch.cat([a, b]),
}
TENSORS_ONLY = {"maximum"}  # gradwalk also takes numbers there (see the module's docstring)
COMPLEX_GAPS = {"pow"}  # complex ** complex: gradwalk raises a TypeError (see the docstring)


def _table(torch, op: str) -> dict:
    """``op`` on every pair of operands: ``[dtype name, values]`` or ``"raise"``."""
    f = OPS[op]
    operands = _operands(torch)
    res = {}
    for ka, a in operands.items():
        for kb, b in operands.items():
            if ka.startswith("py") and kb.startswith("py"):
                continue
            if op in TENSORS_ONLY and (ka.startswith("py") or kb.startswith("py")):
                continue
            try:
                with warnings.catch_warnings():  # torch's "ComplexHalf is experimental"
                    warnings.simplefilter("ignore")
                    r = f(torch, a, b)
            except Exception:  # raising is the result here
                res[f"{ka}|{kb}"] = "raise"
                continue
            name = repr(r.dtype).split(".")[-1]
            values = r.tolist()
            if "complex" in name:  # as [real, imaginary] pairs: the recordings hold no complex
                values = [[v.real, v.imag] for v in np.atleast_1d(np.asarray(values)).tolist()]
            res[f"{ka}|{kb}"] = [name, values]
    return res


def _close(a, b) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-6) or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("op", sorted(OPS))
def test_promotion_table_matches_torch(op):
    ref = oracle(lambda torch: _table(torch, op))
    ours = _table(gradwalk, op)
    assert list(ours) == list(ref)
    wrong = []
    for key, want in ref.items():
        got = ours[key]
        if want == "raise":
            if got != "raise":
                wrong.append(f"{key}: torch {want}, gradwalk {got}")
        elif got == "raise" and (want[0] == "complex32" or (
                op in COMPLEX_GAPS and want[0].startswith("complex"))):
            continue  # a gap that says so (COMPLEX_GAPS; no complex32), never a wrong value
        elif got == "raise" or got[0] != want[0] or not _close(want[1], got[1]):
            wrong.append(f"{key}: torch {want}, gradwalk {got}")
    assert not wrong, f"{op}: {len(wrong)} of {len(ref)} differ:\n" + "\n".join(wrong[:40])


def test_complex_numbers_promote_as_torch():
    assert (gradwalk.tensor([1.0]) + 1j).dtype is gradwalk.complex64
    assert (gradwalk.tensor([1.0], dtype=gradwalk.float64) * 1j).dtype is gradwalk.complex128
    assert (gradwalk.tensor([1]) * 2j).dtype is gradwalk.complex64
    with pytest.raises(TypeError, match="complex tensors are not supported"):
        gradwalk.tensor([1j]) ** gradwalk.tensor([1j])


# ------------------------------------------------------------------ result_type and friends

def _dtype_pairs(torch):
    return [(a, b) for a in DTYPES for b in DTYPES]


def test_promote_types_matches_torch():
    ref = oracle(lambda torch: [repr(torch.promote_types(getattr(torch, a), getattr(torch, b)))
                                for a, b in _dtype_pairs(torch)])
    ours = [repr(gradwalk.promote_types(getattr(gradwalk, a), getattr(gradwalk, b)))
            for a, b in _dtype_pairs(gradwalk)]
    assert [r.replace("torch.", "") for r in ref] == [o.replace("gradwalk.", "") for o in ours]


def test_can_cast_matches_torch():
    ref = oracle(lambda torch: [torch.can_cast(getattr(torch, a), getattr(torch, b))
                                for a, b in _dtype_pairs(torch)])
    assert [gradwalk.can_cast(getattr(gradwalk, a), getattr(gradwalk, b))
            for a, b in _dtype_pairs(gradwalk)] == ref


def _result_types(torch) -> dict:
    ops = _operands(torch)
    out = {}
    for ka, a in ops.items():
        for kb, b in ops.items():
            if ka.startswith("py") and kb.startswith("py") and not isinstance(a, bool):
                continue
            try:
                out[f"{ka}|{kb}"] = repr(torch.result_type(a, b)).split(".")[-1]
            except TypeError:
                out[f"{ka}|{kb}"] = "raise"
    return out


def test_result_type_matches_torch():
    # torch's complex32 (float16 beside a complex value) raises in gradwalk (no complex32)
    ref = {k: "raise" if v == "complex32" else v for k, v in oracle(_result_types).items()}
    assert _result_types(gradwalk) == ref


def test_promotion_api_rejects_non_dtypes():
    assert error_of(lambda: gradwalk.promote_types(gradwalk.int8, 3)) == oracle(
        lambda torch: error_of(lambda: torch.promote_types(torch.int8, 3)))
    with pytest.raises(TypeError, match="gradwalk dtype"):
        gradwalk.can_cast("float32", gradwalk.int8)


# ------------------------------------------------------------------ the cases users meet

def test_zero_dim_tensors_do_not_promote_dimensioned_ones():
    x = gradwalk.ones(3)
    assert (x * gradwalk.tensor(2.0, dtype=gradwalk.float64)).dtype is gradwalk.float32
    i = gradwalk.tensor([1, 2], dtype=gradwalk.int32)
    assert (i * gradwalk.tensor(2.0, dtype=gradwalk.float64)).dtype is gradwalk.float64
    assert (i + gradwalk.tensor(2)).dtype is gradwalk.int32
    assert (i * 2.5).dtype is gradwalk.float32


def test_default_dtype_decides_python_floats():
    gradwalk.set_default_dtype(gradwalk.float64)
    try:
        assert (gradwalk.tensor([1, 2]) * 2.5).dtype is gradwalk.float64
        assert (gradwalk.tensor([1, 2]) / 2).dtype is gradwalk.float64
        assert (gradwalk.ones(2, dtype=gradwalk.float32) * 2.5).dtype is gradwalk.float32
    finally:
        gradwalk.set_default_dtype(gradwalk.float32)


def test_integer_rounding_division_is_exact():
    a = np.array([-7, 7, -2**62 - 1, 9], dtype=np.int64)
    b = np.array([2, -2, 3, -4], dtype=np.int64)
    ref = oracle(lambda torch: [torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=m)
                                for m in ("trunc", "floor")])
    for m, want in zip(("trunc", "floor"), ref):
        got = gradwalk.div(gradwalk.tensor(a), gradwalk.tensor(b), rounding_mode=m)
        assert got.dtype is gradwalk.int64
        np.testing.assert_array_equal(got.numpy(), want)


def test_integer_division_by_zero_raises_as_torch():
    for m in ("trunc", "floor"):
        def call(torch, m=m):
            return torch.div(torch.tensor([1, 2]), torch.tensor([1, 0]), rounding_mode=m)

        assert error_of(call, gradwalk) == oracle(lambda torch, c=call: error_of(c, torch))
    assert error_of(lambda t: t.tensor([1]) // 0, gradwalk) == oracle(
        lambda torch: error_of(lambda t: t.tensor([1]) // 0, torch))


def test_rounding_division_of_floats_keeps_a_zero_gradient():
    x = gradwalk.tensor([1.5, -2.5], requires_grad=True)
    gradwalk.div(x, 2, rounding_mode="trunc").sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def _wrapping(torch) -> list:
    t = torch.tensor([1, 2], dtype=torch.int8)
    u = torch.tensor([1], dtype=torch.uint8)
    return [(t + 1000).tolist(), (t * 300).tolist(), (300 * t).tolist(), (t - 1000).tolist(),
            (u - 3).tolist(), (torch.tensor([1]) + 2**63).tolist(),
            repr((t + 1000).dtype)]


def test_python_ints_wrap_to_the_tensor_dtype_as_torch():
    ours = _wrapping(gradwalk)
    ref = oracle(_wrapping)
    assert ours[:-1] == ref[:-1] and ours[-1] == ref[-1].replace("torch.", "gradwalk.")
    with pytest.raises(OverflowError, match="64 bits"):
        gradwalk.tensor([1]) + 2**70
