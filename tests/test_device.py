"""``gradwalk.device``, ``layout`` and ``memory_format`` objects, as PyTorch's."""

import pickle

import numpy as np
import pytest

import gradwalk
from tests.fixtures.oracle import error_of, oracle

SPECS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda:1",), ("cuda", 2), ("meta",), ("mps",)]
BAD = [("foo",), ("cuda:x",), ("cpu:-1",), ("",), ("cuda:01",), ("cpu", "x"), ("cuda:1", 1),
       (1.5,), (0,)]


def _described(torch) -> list:
    out = []
    for spec in SPECS:
        d = torch.device(*spec)
        out.append([repr(d), str(d), d.type, d.index])
    return out


def test_device_objects_match_pytorch():
    assert _described(gradwalk) == oracle(_described)


@pytest.mark.parametrize("spec", BAD, ids=repr)
def test_bad_devices_raise_as_pytorch(spec):
    assert error_of(lambda t: t.device(*spec), gradwalk) == oracle(
        lambda torch: error_of(lambda t: t.device(*spec), torch))


def _equalities(torch) -> list:
    d = torch.device
    return [d("cpu") == d("cpu"), d("cuda") == d("cuda:0"), d("cuda:0") == d("cuda", 0),
            d("cpu") == "cpu", d("cpu") != d("cuda:0"), d(d("cuda:1")) == d("cuda:1"),
            len({d("cpu"), d("cpu"), d("cuda:0")})]


def test_device_equality_and_hash_match_pytorch():
    assert _equalities(gradwalk) == oracle(_equalities)


def test_tensor_device_is_a_device():
    x = gradwalk.zeros(2)
    assert isinstance(x.device, gradwalk.device)
    assert x.device == gradwalk.device("cpu") and x.device.type == "cpu"
    assert x.is_cpu and not x.is_cuda and x.layout is gradwalk.strided
    assert pickle.loads(pickle.dumps(gradwalk.device("cuda:1"))) == gradwalk.device("cuda:1")


@pytest.mark.parametrize("where", ["cpu", gradwalk.device("cpu"), "cpu:0"], ids=str)
def test_device_arguments_take_objects_and_strings(where):
    x = gradwalk.ones(2)
    for t in (gradwalk.zeros(2, device=where), gradwalk.tensor([1.0], device=where),
              gradwalk.zeros_like(x, device=where), gradwalk.arange(3, device=where),
              x.to(where), x.to(device=where), gradwalk.rand(2, device=where)):
        assert t.device == gradwalk.device("cpu")
    with pytest.raises(RuntimeError, match="device type"):
        gradwalk.zeros(2, device="gpu")


def test_layout_and_memory_format_names_match_pytorch():
    names = ["strided", "contiguous_format", "channels_last", "channels_last_3d",
             "preserve_format"]
    ref = oracle(lambda torch: [repr(getattr(torch, n)) for n in names])
    assert [repr(getattr(gradwalk, n)).replace("gradwalk.", "torch.") for n in names] == ref
    assert pickle.loads(pickle.dumps(gradwalk.channels_last)) is gradwalk.channels_last


def _formats(torch) -> list:
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    cl = x.contiguous(memory_format=torch.channels_last)
    v = x.to(memory_format=torch.channels_last)
    f = x.float(memory_format=torch.channels_last)
    like = torch.zeros_like(cl)
    e = torch.empty(2, 3, 4, 5, memory_format=torch.channels_last)
    x5 = torch.zeros(1, 2, 3, 4, 5).contiguous(memory_format=torch.channels_last_3d)
    return [cl.stride(), v.stride(), f.stride(), like.stride(), e.stride(), x5.stride(),
            cl.is_contiguous(), cl.is_contiguous(memory_format=torch.channels_last),
            torch.equal(cl, x), cl.contiguous().stride(),
            torch.zeros_like(cl, memory_format=torch.contiguous_format).stride()]


def test_memory_formats_match_pytorch():
    # gradwalk's strides are NumPy's, in bytes: _formats_gradwalk turns them into elements
    assert _formats_gradwalk() == oracle(_formats)


def _formats_gradwalk() -> list:
    g = gradwalk
    x = g.arange(2 * 3 * 4 * 5, dtype=g.float32).reshape(2, 3, 4, 5)
    cl = x.contiguous(memory_format=g.channels_last)
    v = x.to(memory_format=g.channels_last)
    f = x.float(memory_format=g.channels_last)
    like = g.zeros_like(cl)
    e = g.empty(2, 3, 4, 5, memory_format=g.channels_last)
    x5 = g.zeros(1, 2, 3, 4, 5).contiguous(memory_format=g.channels_last_3d)

    def st(t):
        return tuple(s // t._data.itemsize for s in t._data.strides)

    return [st(cl), st(v), st(f), st(like), st(e), st(x5), cl.is_contiguous(),
            cl.is_contiguous(memory_format=g.channels_last), g.equal(cl, x),
            st(cl.contiguous()), st(g.zeros_like(cl, memory_format=g.contiguous_format))]


def test_memory_format_copy_is_differentiable():
    x = gradwalk.ones(1, 2, 2, 2, requires_grad=True)
    y = x.contiguous(memory_format=gradwalk.channels_last)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 2, 2, 2), 3.0, np.float32))


def test_bad_layouts_and_formats_are_refused():
    with pytest.raises(TypeError, match="layout"):
        gradwalk.zeros(2, layout="strided")
    with pytest.raises(TypeError, match="memory_format"):
        gradwalk.ones(2).contiguous(memory_format="channels_last")
    with pytest.raises(RuntimeError, match="rank 4"):
        gradwalk.ones(2).contiguous(memory_format=gradwalk.channels_last)


def test_modules_move_to_device_objects():
    m = gradwalk.nn.Linear(2, 3)
    d = gradwalk.device("cpu")
    assert m.to(d) is m and m.to(device=d) is m
    assert m.weight.device == d and m(gradwalk.ones(1, 2).to(d)).shape == (1, 3)
    assert gradwalk.nn.Linear(2, 2, device=d).weight.device == d
