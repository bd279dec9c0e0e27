"""gradwalk.save / gradwalk.load: round trips, and files that must be refused safely."""

import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import gradwalk


def _roundtrip(obj):
    buf = io.BytesIO()
    gradwalk.save(obj, buf)
    return gradwalk.load(io.BytesIO(buf.getvalue()))


def _bytes(obj):
    buf = io.BytesIO()
    gradwalk.save(obj, buf)
    return buf.getvalue()


def test_round_trip_nested_structures(tmp_path):
    obj = {
        "w": gradwalk.randn(3, 4, dtype=gradwalk.float64),
        "b": gradwalk.zeros(0),
        "i": gradwalk.tensor([1, 2], dtype=gradwalk.int64),
        "u8": gradwalk.tensor([[0, 255]], dtype=gradwalk.uint8),
        "mask": gradwalk.tensor([True, False]),
        "scalar": gradwalk.tensor(2.5),
        "nested": [1, 2.5, "s", None, True, (3, [4.0, {"deep": gradwalk.ones(2)}])],
        7: "int key",
        (1, "a"): "tuple key",
        "nan": float("nan"),
        "big": 2**80,
        "np": np.arange(3),
        "c": 1 + 2j,
    }
    path = tmp_path / "ckpt.gw"
    gradwalk.save(obj, path)
    out = gradwalk.load(str(path))
    assert set(out) == set(obj)
    for k in ("w", "b", "i", "u8", "mask", "scalar"):
        assert isinstance(out[k], gradwalk.Tensor)
        assert out[k].dtype == obj[k].dtype and out[k].shape == obj[k].shape
        np.testing.assert_array_equal(out[k].numpy(), obj[k].numpy())
    assert out["nested"][:5] == [1, 2.5, "s", None, True]
    assert isinstance(out["nested"][5], tuple) and out["nested"][5][0] == 3
    assert out["nested"][5][1][1]["deep"].tolist() == [1.0, 1.0]
    assert out[7] == "int key" and out[(1, "a")] == "tuple key"
    assert np.isnan(out["nan"]) and out["big"] == 2**80 and out["c"] == 1 + 2j
    assert isinstance(out["np"], np.ndarray) and out["np"].tolist() == [0, 1, 2]
    assert type(out["nested"][1]) is float and type(out["nested"][0]) is int


def test_requires_grad_ordered_dict_and_no_partial_file(tmp_path):
    sd = OrderedDict(weight=gradwalk.ones(2, requires_grad=True), bias=gradwalk.zeros(1))
    out = _roundtrip(sd)
    assert isinstance(out, OrderedDict) and list(out) == ["weight", "bias"]
    assert out["weight"].requires_grad and not out["bias"].requires_grad
    assert out["weight"].is_leaf
    path = tmp_path / "x.gw"
    with pytest.raises(TypeError, match="cannot store"):
        gradwalk.save({"f": lambda: 0}, path)
    assert os.listdir(tmp_path) == []  # nothing half-written left behind


def test_shared_tensor_stored_once():
    t = gradwalk.randn(100)
    raw = _bytes([t, t])
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert len([n for n in zf.namelist() if n.endswith(".npy")]) == 1
    a, b = gradwalk.load(io.BytesIO(raw))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_model_and_optimizer_state_dicts_round_trip():
    nn = gradwalk.nn
    if not hasattr(nn, "Linear"):
        pytest.skip("gradwalk.nn.Linear is not written yet")
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = gradwalk.optim.Adam(model.parameters(), lr=0.01)
    model(gradwalk.randn(5, 3)).sum().backward()
    opt.step()
    ckpt = _roundtrip({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3})
    model2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model2.load_state_dict(ckpt["model"])
    x = gradwalk.randn(2, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), model2(x).detach().numpy())
    opt2 = gradwalk.optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == 0.01 and ckpt["epoch"] == 3
    assert float(opt2.state[next(iter(model2.parameters()))]["step"]) == 1.0


# ---------------------------------------------------------------------- hostile and broken files
class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(arr, allow_pickle=False):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, allow_pickle=allow_pickle)
    return b.getvalue()


def _manifest(tree):
    return json.dumps({"format": "gradwalk-checkpoint", "version": 1, "tree": tree})


def _load_bytes(raw):
    return gradwalk.load(io.BytesIO(raw))


def test_pickle_file_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    raw = pickle.dumps({"x": _Evil(str(marker))})
    with pytest.raises(ValueError, match="pickle"):
        _load_bytes(raw)
    path = tmp_path / "evil.pt"
    path.write_bytes(raw)
    with pytest.raises(ValueError):
        gradwalk.load(path)
    assert not marker.exists()


def test_pickle_inside_the_archive_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil(str(marker))
    node = {"t": "tensor", "k": "a0", "dtype": "|O", "shape": [1]}
    raw = _zip({"__gradwalk__.json": _manifest(node), "a0.npy": _npy(evil, allow_pickle=True)})
    with pytest.raises(ValueError, match="a0.npy"):
        _load_bytes(raw)
    node2 = {"t": "pickle", "v": pickle.dumps(_Evil(str(marker))).hex()}
    with pytest.raises(ValueError, match="unknown entry type"):
        _load_bytes(_zip({"__gradwalk__.json": _manifest(node2)}))
    raw3 = _zip({"__gradwalk__.json": _manifest({"t": "none"}),
                 "data.pkl": pickle.dumps(_Evil(str(marker)))})
    assert _load_bytes(raw3) is None  # extra members are never read, let alone unpickled
    assert not marker.exists()


def test_structured_and_string_arrays_refused():
    arr = np.zeros(2, dtype=[("a", "<i4")])
    node = {"t": "tensor", "k": "a0", "dtype": arr.dtype.str, "shape": [2]}
    with pytest.raises(ValueError, match="disallowed dtype"):
        _load_bytes(_zip({"__gradwalk__.json": _manifest(node), "a0.npy": _npy(arr)}))
    s = np.array(["ab"])
    node = {"t": "ndarray", "k": "a0", "dtype": s.dtype.str, "shape": [1]}
    with pytest.raises(ValueError, match="disallowed dtype"):
        _load_bytes(_zip({"__gradwalk__.json": _manifest(node), "a0.npy": _npy(s)}))


@pytest.mark.parametrize("manifest,match", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "does not describe"),
    (json.dumps({"format": "other", "tree": {}}).encode(), "does not describe"),
    (json.dumps({"format": "gradwalk-checkpoint", "version": 99, "tree": {}}).encode(),
     "version 99"),
    (_manifest({"t": "int", "v": "1"}).encode(), "int entry"),
    (_manifest({"t": "list", "v": 5}).encode(), "list"),
    (_manifest({"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]}).encode(),
     "unhashable"),
    (_manifest({"t": "tensor", "k": "a7", "dtype": "<f4", "shape": []}).encode(), "missing"),
    (_manifest("x" * 10).encode(), "malformed"),
    (b"[" * 100000 + b"]" * 100000, "JSON|nested"),
])
def test_bad_manifests(manifest, match):
    with pytest.raises(ValueError, match=match):
        _load_bytes(_zip({"__gradwalk__.json": manifest}))


def test_deeply_nested_tree_is_refused():
    tree = {"t": "none"}
    for _ in range(300):
        tree = {"t": "list", "v": [tree]}
    with pytest.raises(ValueError, match="nested"):
        _load_bytes(_zip({"__gradwalk__.json": _manifest(tree)}))


def test_manifest_shape_mismatch_refused():
    node = {"t": "tensor", "k": "a0", "dtype": "<f4", "shape": [3]}
    raw = _zip({"__gradwalk__.json": _manifest(node),
                "a0.npy": _npy(np.zeros(2, np.float32))})
    with pytest.raises(ValueError, match="manifest says"):
        _load_bytes(raw)


def test_zip_bomb_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("__gradwalk__.json", _manifest({"t": "none"}))
        zf.writestr("a0.npy", b"\0" * (50 * 2**20))
    with pytest.raises(ValueError, match="zip bomb"):
        _load_bytes(buf.getvalue())


def test_huge_manifest_refused(monkeypatch):
    from gradwalk import serialization

    monkeypatch.setattr(serialization, "MAX_MANIFEST_BYTES", 1000)
    raw = _zip({"__gradwalk__.json": _manifest({"t": "str", "v": "x" * 5000})})
    with pytest.raises(ValueError, match="over the limit"):
        _load_bytes(raw)


def test_truncated_and_corrupted_files(tmp_path):
    raw = _bytes({"w": gradwalk.randn(1000), "b": gradwalk.randn(10)})
    for cut in (10, len(raw) // 2, len(raw) - 30):
        with pytest.raises(ValueError, match="not a valid gradwalk checkpoint"):
            _load_bytes(raw[:cut])
    flipped = bytearray(raw)
    pos = raw.index(b"\x93NUMPY") + 300
    flipped[pos] ^= 0xFF
    with pytest.raises(ValueError, match="corrupted"):
        _load_bytes(bytes(flipped))
    for junk in (b"", b"hello world", b"\x93NUMPY" + b"\0" * 20):
        with pytest.raises(ValueError, match="not a zip"):
            _load_bytes(junk)


def test_wrong_argument_types():
    with pytest.raises(TypeError, match="path or a binary file"):
        gradwalk.save({}, 3)
    with pytest.raises(TypeError, match="path or a binary file"):
        gradwalk.load(3)


def test_npy_header_claiming_a_huge_array_is_refused():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    node = {"t": "tensor", "k": "a0", "dtype": "<f8", "shape": [10**12]}
    raw = _zip({"__gradwalk__.json": _manifest(node), "a0.npy": header.getvalue() + b"\0" * 64})
    with pytest.raises(ValueError, match="announces"):
        _load_bytes(raw)


def test_loaded_arrays_are_writable_and_fortran_order_kept():
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    out = _roundtrip({"t": gradwalk.tensor(a), "n": a})
    out["t"].add_(1)
    np.testing.assert_array_equal(out["t"].numpy(), a + 1)
    np.testing.assert_array_equal(out["n"], a)


def test_huge_npy_header_refused():
    d = repr({"descr": "<f8", "fortran_order": False, "shape": (1,)})
    header = d + " " * 200000 + "\n"
    blob = b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header.encode()
    node = {"t": "tensor", "k": "a0", "dtype": "<f8", "shape": [1]}
    raw = _zip({"__gradwalk__.json": _manifest(node), "a0.npy": blob + b"\0" * 8})
    with pytest.raises(ValueError, match="a0.npy"):
        _load_bytes(raw)
