"""gradwalk.save / gradwalk.load: round trips, and files that must be refused safely."""

import io
import json
import os
import pickle
import struct
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


# ---------------------------------------------------------------------- file modes and paths
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and umask")


@posix_only
def test_save_respects_the_umask_and_keeps_an_existing_mode(tmp_path):
    old = os.umask(0o022)
    try:
        gradwalk.save({"w": gradwalk.ones(2)}, tmp_path / "new.gw")
        assert os.stat(tmp_path / "new.gw").st_mode & 0o777 == 0o644
        os.umask(0o077)
        gradwalk.save({}, tmp_path / "private.gw")
        assert os.stat(tmp_path / "private.gw").st_mode & 0o777 == 0o600
        reference = tmp_path / "ref.txt"
        with open(reference, "wb"):
            pass
        assert os.stat(reference).st_mode & 0o777 == 0o600  # same as open() under this umask
        os.umask(0o022)
        existing = tmp_path / "existing.gw"
        existing.write_bytes(b"old")
        os.chmod(existing, 0o640)
        gradwalk.save({"x": 1}, existing)
        assert os.stat(existing).st_mode & 0o777 == 0o640
        assert gradwalk.load(existing) == {"x": 1}
    finally:
        os.umask(old)
    assert sorted(os.listdir(tmp_path)) == ["existing.gw", "new.gw", "private.gw", "ref.txt"]


def test_save_into_a_missing_directory_names_the_users_path(tmp_path):
    target = tmp_path / "no" / "such" / "ckpt.gw"
    with pytest.raises(FileNotFoundError) as info:
        gradwalk.save({"w": gradwalk.ones(1)}, target)
    assert str(target) in str(info.value) and info.value.filename == str(target)
    assert "does not exist" in str(info.value) and ".tmp" not in str(info.value)
    with pytest.raises(IsADirectoryError, match="is a directory") as info:
        gradwalk.save({}, tmp_path)
    assert ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_save_errors_name_the_users_path_not_the_temporary_file(tmp_path, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="not a directory") as info:
        gradwalk.save({}, afile / "c.gw")
    assert info.value.filename == str(afile / "c.gw")

    def refuse(path, *args):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match="Permission denied") as info:
        gradwalk.save({}, tmp_path / "c.gw")
    assert info.value.filename == str(tmp_path / "c.gw") and ".tmp" not in str(info.value)
    monkeypatch.undo()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(OSError, match="No space left") as info:
        gradwalk.save({}, tmp_path / "c.gw")
    assert info.value.filename == str(tmp_path / "c.gw") and ".tmp" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["afile"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_save_into_a_fifo_writes_into_it(tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    gradwalk.save({"v": gradwalk.arange(3)}, fifo)
    reader.join(timeout=30)
    assert got and _load_bytes(got[0])["v"].tolist() == [0, 1, 2]
    assert fifo.is_fifo()


@posix_only
def test_save_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "real.gw"
    gradwalk.save({"v": 1}, real)
    link = tmp_path / "link.gw"
    link.symlink_to(real)
    gradwalk.save({"v": 2}, link)
    assert link.is_symlink() and gradwalk.load(real) == {"v": 2}


# ---------------------------------------------------------------------- zip features and streams
def _patch(raw, local_offset, central_offset, fmt, value):
    """Set a field of the (single) member in its local header and central directory entry."""
    b = bytearray(raw)
    struct.pack_into(fmt, b, local_offset, value)
    struct.pack_into(fmt, b, b.rfind(b"PK\x01\x02") + central_offset, value)
    return bytes(b)


def _one_member_zip():
    return _zip({"__gradwalk__.json": _manifest({"t": "str", "v": "x" * 200})})


@pytest.mark.parametrize("method", [1, 6, 9, 93, 95, 98, 99])
def test_unreadable_compression_methods_are_named(method):
    raw = _patch(_one_member_zip(), 8, 10, "<H", method)
    with pytest.raises(ValueError, match=f"compression method {method}, which gradwalk does not"):
        _load_bytes(raw)


@pytest.mark.parametrize("version", [64, 99, 0xFF])
def test_zip_versions_beyond_the_reader_are_refused(version):
    raw = _patch(_one_member_zip(), 4, 6, "<H", version)
    with pytest.raises(ValueError, match="zip"):
        _load_bytes(raw)


@pytest.mark.parametrize("flag,match", [(0x1, "encrypted"), (0x41, "encrypted"),
                                        (0x40, "encrypted"), (0x20, "patched")])
def test_encrypted_and_patched_members_are_refused(flag, match):
    raw = _patch(_one_member_zip(), 6, 8, "<H", flag)
    with pytest.raises(ValueError, match=match):
        _load_bytes(raw)


def _recompressed(raw, compression):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, \
            zipfile.ZipFile(out, "w", compression=compression) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    return out.getvalue()


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                         zipfile.ZIP_LZMA])
def test_compressed_archives_load_and_corrupt_streams_raise_value_error(compression):
    obj = {"w": gradwalk.arange(50.0), "s": "y" * 300}
    raw = _recompressed(_bytes(obj), compression)
    out = _load_bytes(raw)
    assert out["s"] == obj["s"] and out["w"].tolist() == obj["w"].tolist()
    rng = np.random.default_rng(compression)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        starts = [i.header_offset + 30 + len(i.filename) for i in zf.infolist()]
    refused = 0
    for start in starts:
        for _ in range(10):
            b = bytearray(raw)
            pos = start + int(rng.integers(0, 40))  # the stream's header and first blocks
            b[pos] ^= int(rng.integers(1, 256))
            try:
                got = _load_bytes(bytes(b))
            except ValueError as e:
                assert "not a valid gradwalk checkpoint" in str(e)
                refused += 1
            else:  # a byte the decoder ignores: then the data must be intact
                assert got["s"] == obj["s"] and got["w"].tolist() == obj["w"].tolist()
    assert refused >= 10


def test_member_claiming_more_bytes_than_the_file_holds():
    raw = _one_member_zip()
    b = bytearray(raw)
    cd = b.rfind(b"PK\x01\x02")
    struct.pack_into("<II", b, cd + 20, 2**31, 2**31)  # compressed and uncompressed sizes
    with pytest.raises(ValueError, match="more than the whole file"):
        _load_bytes(bytes(b))


# ---------------------------------------------------------------------- manifest values
def test_huge_integer_in_a_float_field_and_bad_keys():
    digits = "7" * 400
    for tree in ({"t": "float", "v": 0}, {"t": "complex", "v": [0, 1]}):
        text = _manifest(tree).replace('"v": 0', f'"v": {digits}').replace("[0,", f"[{digits},")
        with pytest.raises(ValueError, match="400 digits"):
            _load_bytes(_zip({"__gradwalk__.json": text}))
    bad_keys = [({"t": "tuple", "v": [{"t": "list", "v": []}]}, "unhashable type list"),
                ({"t": "tuple", "v": [{"t": "dict", "v": []}]}, "unhashable type dict"),
                ({"t": "tuple", "v": [{"t": "tuple", "v": []}]}, "unhashable type tuple"),
                ({"t": "ndarray", "k": "a0", "dtype": "<f8", "shape": []}, "ndarray entry"),
                ({"t": "dtype", "v": "float32"}, "dtype entry"),
                ("plain", "dict key")]
    for key, match in bad_keys:
        tree = {"t": "dict", "v": [[key, {"t": "none"}]]}
        with pytest.raises(ValueError, match=match):
            _load_bytes(_zip({"__gradwalk__.json": _manifest(tree)}))


@pytest.mark.parametrize("tree,match", [
    ({"t": "dtype", "v": "float128"}, "unknown dtype"),
    ({"t": "dtype", "v": 3}, "unknown dtype"),
    ({"t": "float", "v": True}, "float entry holds bool"),
    ({"t": "complex", "v": [True, 1]}, "malformed complex"),
    ({"t": "npscalar", "k": "a0", "dtype": "<f8", "shape": [1]}, "shape"),
    ({"t": "size", "v": [{"t": "str", "v": "x"}]}, "size entry"),
    ({"t": "size", "v": [{"t": "int", "v": -1}]}, "size entry"),
])
def test_bad_typed_entries(tree, match):
    members = {"__gradwalk__.json": _manifest(tree), "a0.npy": _npy(np.zeros(1))}
    with pytest.raises(ValueError, match=match):
        _load_bytes(_zip(members))


# ---------------------------------------------------------------------- PyTorch files
def test_a_torch_style_zip_gets_a_conversion_hint():
    raw = _zip({"archive/data.pkl": pickle.dumps({}), "archive/version": b"3\n"})
    with pytest.raises(ValueError, match=r"PyTorch checkpoint \(torch.save\)") as info:
        _load_bytes(raw)
    assert "torch.load(path, weights_only=True)" in str(info.value)
    assert "gradwalk.save(" in str(info.value)


def test_a_real_torch_save_file_gets_the_hint_and_the_recipe_works(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    with pytest.raises(ValueError, match="PyTorch checkpoint") as info:
        gradwalk.load(path)
    assert "weights_only=True" in str(info.value)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="legacy PyTorch checkpoint"):
        gradwalk.load(legacy)
    sd = torch.load(path, weights_only=True)  # the recipe the message gives
    out = tmp_path / "model.gw"
    gradwalk.save({k: gradwalk.from_numpy(v.detach().cpu().numpy()) for k, v in sd.items()}, out)
    model = gradwalk.nn.Linear(3, 2)
    model.load_state_dict(gradwalk.load(out))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), sd[name].numpy())
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    want = torch.nn.functional.linear(torch.from_numpy(x), sd["weight"], sd["bias"])
    np.testing.assert_allclose(model(gradwalk.tensor(x)).detach().numpy(), want.numpy(),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- what comes back
def _saved_values():
    nn = gradwalk.nn
    return [
        gradwalk.ones(2, dtype=gradwalk.float64), gradwalk.ones(2, dtype=gradwalk.float16),
        gradwalk.tensor(3), gradwalk.tensor([True, False]), gradwalk.zeros(0, 3),
        gradwalk.ones(2, 3).t(), gradwalk.ones(2, requires_grad=True),
        nn.Parameter(gradwalk.ones(2)), nn.Parameter(gradwalk.ones(2), requires_grad=False),
        np.float32(1.5), np.float64(0.1), np.int64(-3), np.uint8(7), np.bool_(True),
        np.complex128(1 - 2j), np.array(2.0), np.ones(2, np.float32), np.zeros((0, 2), np.int8),
        -0.0, float("inf"), float("-inf"), 1e300, 5e-324, complex(1.5, -0.0), 2**100, -(2**70),
        "é\x00", "", True, None, (), (1,), [], {}, OrderedDict(b=1, a=2),
        gradwalk.float32, gradwalk.int64, gradwalk.bool_,
        {(1, "a", None, True, 2.5): 1, None: 2, False: 3, 1.5: 4, -1: 5},
        {"nested": [(1, [2, {"x": gradwalk.arange(3)}])]},
    ]


@pytest.mark.parametrize("index", range(len(_saved_values())))
def test_repr_and_type_of_a_loaded_object_match_what_was_saved(index):
    obj = _saved_values()[index]
    out = _roundtrip(obj)
    assert repr(out) == repr(obj) and type(out) is type(obj)
    if isinstance(obj, Tensor := gradwalk.Tensor):
        assert isinstance(out, Tensor) and out.requires_grad == obj.requires_grad
        assert out.is_leaf and out.dtype == obj.dtype
    if isinstance(obj, np.ndarray | np.generic):
        assert out.dtype == obj.dtype


def test_nan_scalars_round_trip():
    out = _roundtrip([float("nan"), np.float32("nan"), complex(float("nan"), 1)])
    assert np.isnan(out[0]) and type(out[1]) is np.float32 and np.isnan(out[1])
    assert np.isnan(out[2].real) and out[2].imag == 1


def test_a_non_leaf_tensor_loads_as_pytorch_loads_it():
    y = gradwalk.ones(2, requires_grad=True) * 2
    out = _roundtrip(y)
    assert out.is_leaf and out.requires_grad and out.grad_fn is None
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(torch.ones(2, requires_grad=True) * 2, buf)
    buf.seek(0)
    ref = torch.load(buf, weights_only=True)
    assert ref.is_leaf and ref.requires_grad and repr(out) == repr(ref).replace("torch", "gradwalk")


def test_a_size_type_round_trips_when_the_package_has_one(monkeypatch):
    class Size(tuple):
        pass

    monkeypatch.setattr(gradwalk, "Size", Size, raising=False)
    out = _roundtrip({"shape": Size((2, 3))})
    assert type(out["shape"]) is Size and out["shape"] == (2, 3)


def test_whole_modules_and_optimizers_are_refused_with_the_state_dict_recipe():
    nn = gradwalk.nn
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"gradwalk.save\(model.state_dict\(\), path\)") as info:
        gradwalk.save(model, io.BytesIO())
    assert "model.load_state_dict(gradwalk.load(path))" in str(info.value)
    opt = gradwalk.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"gradwalk.save\(optimizer.state_dict\(\), path\)"):
        gradwalk.save(opt, io.BytesIO())
    with pytest.raises(TypeError, match=r"whole Sequential \(obj\['model'\]\)"):
        gradwalk.save({"model": nn.Sequential(nn.Linear(1, 1)), "epoch": 1}, io.BytesIO())


def test_types_that_would_come_back_as_something_else_are_refused():
    import enum
    from collections import defaultdict, namedtuple

    class Color(enum.IntEnum):
        RED = 1

    point = namedtuple("Point", "x y")
    cases = [(point(1, 2), "_asdict()"), (defaultdict(int, a=1), r"save dict\(obj\)"),
             (Color.RED, r"save int\(obj\)"), (np.str_("a"), "dtype <U1"),
             ({"k": {1, 2}}, r"obj\['k'\], an object of type set"),
             ({point(1, 2): 0}, "dict keys"), ({(1, (2,)): 0}, "dict keys")]
    for obj, match in cases:
        with pytest.raises(TypeError, match=match):
            gradwalk.save(obj, io.BytesIO())


# ---------------------------------------------------------------------- PyTorch's load arguments
def test_load_accepts_pytorchs_arguments(tmp_path):
    sd = {"w": gradwalk.ones(2, requires_grad=True), "step": 1}
    path = tmp_path / "c.gw"
    gradwalk.save(sd, path)
    seen = []

    def keep_on_cpu(storage, location):
        seen.append(location)
        return storage

    for kwargs in ({}, {"weights_only": True}, {"weights_only": False},
                   {"weights_only": None}, {"map_location": "cpu"},
                   {"map_location": {"cuda:0": "cpu"}}, {"map_location": keep_on_cpu},
                   {"map_location": lambda storage, loc: None}, {"mmap": False}):
        out = gradwalk.load(path, **kwargs)
        assert repr(out) == repr(sd)
    assert seen == ["cpu"]
    out = gradwalk.load(path, lambda storage, loc: storage * 2)
    assert out["w"].tolist() == [2.0, 2.0]


def test_load_argument_errors_are_clear(tmp_path, monkeypatch):
    path = tmp_path / "c.gw"
    gradwalk.save({"w": gradwalk.ones(1)}, path)
    with pytest.raises(ValueError, match="unknown map_location 'tpu'"):
        gradwalk.load(path, map_location="tpu")
    with pytest.raises(TypeError, match="map_location must be"):
        gradwalk.load(path, map_location=3)
    with pytest.raises(TypeError, match="weights_only must be"):
        gradwalk.load(path, weights_only="yes")
    with pytest.raises(TypeError, match="must return a tensor or None"):
        gradwalk.load(path, map_location=lambda s, loc: 3)

    def user_bug(storage, location):
        raise KeyError("the user's own error")

    with pytest.raises(KeyError, match="the user's own error"):  # not turned into "bad file"
        gradwalk.load(path, map_location=user_bug)


def test_map_location_cuda_moves_tensors_to_the_cuda_namespace(tmp_path, monkeypatch):
    import gradwalk.backend as backend

    class FakeCupy:
        @staticmethod
        def asarray(a):
            return np.array(a) + 100  # marks the move

    real = backend.get_namespace
    monkeypatch.setattr(backend, "get_namespace",
                        lambda device: FakeCupy if str(device).startswith("cuda") else real(device))
    sd = {"p": gradwalk.nn.Parameter(gradwalk.ones(1)), "b": gradwalk.ones(1), "n": np.ones(1)}
    path = tmp_path / "c.gw"
    gradwalk.save(sd, path)
    for where in ("cuda", "cuda:0", {"cpu": "cuda:0"}):
        out = gradwalk.load(path, map_location=where)
        assert type(out["p"]) is gradwalk.nn.Parameter and out["p"].requires_grad
        assert out["p"].tolist() == [101.0] and out["b"].tolist() == [101.0]
        assert not out["b"].requires_grad and out["n"].tolist() == [1.0]


# ---------------------------------------------------------------------- fuzzing
def _fuzz_variants():
    obj = {"w": gradwalk.arange(12.0).reshape(3, 4) / 7, "i": gradwalk.arange(5),
           "s": np.float32(2.5),
           "n": [1, 2.5, None, "x", (1, 2)], (1, "a"): True, "d": gradwalk.float64, "c": 1 + 2j,
           "p": gradwalk.nn.Parameter(gradwalk.zeros(2))}
    raw = _bytes(obj)
    return obj, [raw] + [_recompressed(raw, c) for c in (zipfile.ZIP_DEFLATED,
                                                          zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)]


def test_mutated_checkpoints_raise_only_value_error():
    """Seeded random byte edits (overwrite, delete, insert) of valid checkpoints, stored and
    compressed: every load either returns the saved data or raises ValueError."""
    obj, variants = _fuzz_variants()
    want = repr(obj)
    rng = np.random.default_rng(14)
    outcomes = {"loaded": 0, "refused": 0}
    for raw in variants:
        for _ in range(200):
            b = bytearray(raw)
            for _ in range(int(rng.integers(1, 4))):
                pos = int(rng.integers(0, len(b)))
                op = rng.random()
                if op < 0.6:
                    b[pos] = int(rng.integers(0, 256))
                elif op < 0.8:
                    del b[pos:pos + int(rng.integers(1, 9))]
                else:
                    b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 9)), np.uint8).tobytes()
            try:
                out = _load_bytes(bytes(b))
            except ValueError as e:
                assert str(e).startswith("gradwalk.load:"), str(e)
                outcomes["refused"] += 1
            else:
                assert repr(out) == want
                outcomes["loaded"] += 1
    assert outcomes["refused"] > 400


def test_mutated_zip_headers_raise_only_value_error():
    """The same for edits aimed at the zip structures (local headers, central directory, end
    record), where the reader's own exceptions come from."""
    obj, variants = _fuzz_variants()
    want = repr(obj)
    rng = np.random.default_rng(1414)
    for raw in variants:
        marks = [m for sig in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06")
                 for m in _find_all(raw, sig)]
        for _ in range(150):
            b = bytearray(raw)
            pos = min(marks[int(rng.integers(0, len(marks)))] + int(rng.integers(4, 46)),
                      len(b) - 1)
            b[pos] = int(rng.integers(0, 256))
            try:
                out = _load_bytes(bytes(b))
            except ValueError as e:
                assert str(e).startswith("gradwalk.load:"), str(e)
            else:
                assert repr(out) == want


def _find_all(raw, sig):
    out, i = [], raw.find(sig)
    while i >= 0:
        out.append(i)
        i = raw.find(sig, i + 1)
    return out


def test_an_open_file_is_named_in_the_message(tmp_path):
    path = tmp_path / "junk.gw"
    path.write_bytes(b"not a checkpoint")
    with open(path, "rb") as fh, pytest.raises(ValueError, match=f"{str(path)!r} is not a valid"):
        gradwalk.load(fh)


def test_an_integer_parameter_marked_requires_grad_loads_without_grad():
    arr = np.arange(3)
    node = {"t": "tensor", "k": "a0", "dtype": arr.dtype.str, "shape": [3], "param": True,
            "requires_grad": True}
    out = _load_bytes(_zip({"__gradwalk__.json": _manifest(node), "a0.npy": _npy(arr)}))
    assert type(out) is gradwalk.nn.Parameter and not out.requires_grad
    assert out.tolist() == [0, 1, 2]


_JSON_VALUES = [None, True, False, -1, 0, 3, 2**70, 1.5, float("inf"), "x", "", [], {}, [1, 2],
                {"t": "none"}, "<i8", "<f4", "|b1", "a0", "a1", "tensor", "ndarray", "npscalar",
                "dtype", "size", "dict", "tuple", "list", "float64", [[]],
                [[{"t": "none"}, {"t": "none"}]], {"t": "list", "v": [{"t": "list", "v": []}]}]


def _json_nodes(x, out):
    if isinstance(x, dict | list):
        out.append(x)
        for v in (x.values() if isinstance(x, dict) else x):
            _json_nodes(v, out)
    return out


def test_mutated_manifests_raise_only_value_error():
    """Seeded edits of the manifest's values (types, names, dtypes, shapes, flags) beside the
    real arrays: every load returns something or raises ValueError."""
    import copy
    import random

    _, variants = _fuzz_variants()
    with zipfile.ZipFile(io.BytesIO(variants[0])) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["__gradwalk__.json"])
    rng = random.Random(14)
    for _ in range(300):
        m = json.loads(json.dumps(manifest))
        for _ in range(rng.randint(1, 3)):
            node = rng.choice(_json_nodes(m["tree"], []))
            if isinstance(node, dict):
                key = rng.choice([*node, "t", "v", "k", "dtype", "shape", "param",
                                  "requires_grad"])
                node[key] = copy.deepcopy(rng.choice(_JSON_VALUES))
            elif node:
                node[rng.randrange(len(node))] = copy.deepcopy(rng.choice(_JSON_VALUES))
        text = json.dumps(m).replace(str(2**70), "7" * 400)  # and an integer too big for floats
        try:
            _load_bytes(_zip({**members, "__gradwalk__.json": text}))
        except ValueError as e:
            assert str(e).startswith("gradwalk.load:"), str(e)
