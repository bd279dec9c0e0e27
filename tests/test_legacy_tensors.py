"""``FloatTensor``, ``LongTensor``... : PyTorch's typed constructors and isinstance checks."""

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import oracle

NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor"]


def _made(torch) -> list:
    out = []
    for name in NAMES:
        cls = getattr(torch, name)
        a = cls([1, 0, 2])
        b = cls(2, 3)
        c = cls()
        d = cls(torch.Size([2]))
        out.append([repr(a.dtype), a.tolist(), tuple(b.shape), tuple(c.shape), tuple(d.shape),
                    a.type(), [isinstance(torch.zeros(1, dtype=getattr(torch, n.replace(
                        "Tensor", "").lower().replace("char", "int8").replace(
                        "byte", "uint8").replace("short", "int16"))), cls) for n in NAMES],
                    isinstance(a, torch.Tensor)])
    return out


def test_typed_constructors_match_pytorch():
    def norm(v):
        if isinstance(v, str):
            return v.replace("gradwalk.", "torch.")
        if isinstance(v, list):
            return [norm(x) for x in v]
        return v

    assert norm(_made(gradwalk)) == oracle(_made)


def test_type_conversions_by_type_and_name():
    x = gradwalk.tensor([1.5, 2.5])
    assert x.type(gradwalk.LongTensor).dtype is gradwalk.int64
    assert x.type("torch.IntTensor").dtype is gradwalk.int32
    assert x.type("gradwalk.DoubleTensor").dtype is gradwalk.float64
    assert gradwalk.FloatTensor.dtype is gradwalk.float32
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.WeirdTensor")


def test_typed_constructors_refuse_what_pytorch_refuses():
    with pytest.raises(TypeError, match="expected a tensor of dtype"):
        gradwalk.FloatTensor(gradwalk.zeros(2, dtype=gradwalk.float64))
    with pytest.raises(TypeError, match="sequence of data"):
        gradwalk.FloatTensor(2.5)
    t = gradwalk.zeros(2)
    assert gradwalk.FloatTensor(t) is t
    np.testing.assert_array_equal(gradwalk.LongTensor(np.array([1, 2])).numpy(), [1, 2])
