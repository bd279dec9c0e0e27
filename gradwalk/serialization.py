"""Safe checkpoints: ``gradwalk.save(obj, f)`` and ``gradwalk.load(f)``.

The file is a zip archive in NumPy's ``.npz`` layout: one ``.npy`` member per tensor, plus a member
``__gradwalk__.json`` that describes the structure (dicts, lists, tuples, numbers, strings, None)
and points at the arrays by name. Loading reads arrays with ``allow_pickle=False`` and parses JSON,
so a checkpoint can never run code, unlike ``pickle``. A file that is corrupted, truncated, made
by something else, or hostile (pickled data, object arrays, a bad or huge manifest, a
zip bomb, missing arrays) raises ``ValueError`` naming the problem.

Example:
    >>> import io, gradwalk
    >>> buf = io.BytesIO()
    >>> gradwalk.save({"w": gradwalk.ones(2), "step": 3}, buf)
    >>> _ = buf.seek(0)
    >>> gradwalk.load(buf)
    {'w': tensor([1., 1.]), 'step': 3}
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from .backend import to_numpy
from .tensor import Tensor

FORMAT = "gradwalk-checkpoint"
VERSION = 1
MANIFEST = "__gradwalk__.json"
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_DEPTH = 200
MAX_RATIO = 1000  # uncompressed / compressed size of a member; beyond is a zip bomb
_ALLOWED_KINDS = "biufc"  # bool, int, uint, float, complex: never object/void/str arrays

PathOrFile = str | os.PathLike | BinaryIO


def save(obj: Any, f: PathOrFile) -> None:
    """Save tensors, arrays, and (nested) dicts/lists/tuples of them and of Python scalars,
    strings and None, e.g. a model's or an optimizer's ``state_dict()``.

    A path is written atomically (to a temporary file, then renamed), so a crash mid-save
    never leaves a half-written checkpoint.

    Example:
        >>> import gradwalk, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.gw")
        >>> gradwalk.save([gradwalk.tensor([1.0, 2.0]), {"lr": 0.1}], path)
        >>> gradwalk.load(path)
        [tensor([1., 2.]), {'lr': 0.1}]
    """
    arrays: dict[str, np.ndarray] = {}
    memo: dict[int, str] = {}
    tree = _encode(obj, arrays, memo, 0)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree},
                          allow_nan=True).encode()
    if isinstance(f, str | os.PathLike):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".gradwalk-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                _write(fh, manifest, arrays)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    elif hasattr(f, "write"):
        _write(f, manifest, arrays)
    else:
        raise TypeError(f"save() expects a path or a binary file object, got {type(f).__name__}")


def _write(fh: BinaryIO, manifest: bytes, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(MANIFEST, manifest)
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def _encode(obj: Any, arrays: dict, memo: dict, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"save(): the object is nested deeper than {MAX_DEPTH} levels")
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, float):
        return {"t": "float", "v": float(obj)}
    if isinstance(obj, complex):
        return {"t": "complex", "v": [obj.real, obj.imag]}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, memo, depth)
    if isinstance(obj, Tensor | np.ndarray):
        is_tensor = isinstance(obj, Tensor)
        arr = to_numpy(obj.data) if is_tensor else obj
        if arr.dtype.kind not in _ALLOWED_KINDS:
            raise TypeError(f"save(): arrays of dtype {arr.dtype} cannot be saved (only "
                            "bool, integer, float and complex)")
        key = memo.get(id(obj))
        if key is None:
            key = memo[id(obj)] = f"a{len(arrays)}"
            arrays[key] = arr
        node = {"t": "tensor" if is_tensor else "ndarray", "k": key,
                "dtype": arr.dtype.str, "shape": list(arr.shape)}
        if is_tensor:
            node["requires_grad"] = bool(obj.requires_grad)
            node["param"] = type(obj).__name__ == "Parameter"
        return node
    if isinstance(obj, dict):
        kind = "odict" if isinstance(obj, OrderedDict) else "dict"
        items = [[_encode_key(k), _encode(v, arrays, memo, depth + 1)] for k, v in obj.items()]
        return {"t": kind, "v": items}
    if isinstance(obj, list | tuple):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {"t": kind, "v": [_encode(v, arrays, memo, depth + 1) for v in obj]}
    raise TypeError(
        f"save() cannot store an object of type {type(obj).__name__}: checkpoints hold tensors, "
        "arrays, dicts, lists, tuples, numbers, strings and None (save model.state_dict() "
        "rather than the model)")


def _encode_key(k: Any) -> Any:
    if isinstance(k, bool) or k is None:
        return _encode(k, {}, {}, 0)
    if isinstance(k, int | float | str):
        return _encode(k, {}, {}, 0)
    if isinstance(k, tuple) and all(isinstance(x, int | float | str) for x in k):
        return {"t": "tuple", "v": [_encode(x, {}, {}, 0) for x in k]}
    raise TypeError(f"save(): dict keys must be str, int, float, bool, None or tuples of them, "
                    f"got {type(k).__name__}")


def load(f: PathOrFile, map_location: Any = None, *, weights_only: bool = True) -> Any:
    """Load what ``save`` wrote. Never runs code from the file (no pickle).

    ``map_location="cuda"`` moves tensors to the GPU (needs CuPy); ``weights_only`` is accepted
    for PyTorch compatibility and is always effectively ``True``.

    Example:
        >>> import io, gradwalk
        >>> buf = io.BytesIO()
        >>> gradwalk.save((1, "a", None, gradwalk.zeros(1, dtype=gradwalk.int64)), buf)
        >>> gradwalk.load(io.BytesIO(buf.getvalue()))
        (1, 'a', None, tensor([0]))
    """
    source = _describe(f)
    if isinstance(f, str | os.PathLike):
        with open(f, "rb") as fh:
            return _load(fh, source, map_location)
    if hasattr(f, "read"):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        return _load(f, source, map_location)
    raise TypeError(f"load() expects a path or a binary file object, got {type(f).__name__}")


def _describe(f: Any) -> str:
    if isinstance(f, str | os.PathLike):
        return repr(os.fspath(f))
    return "the file object"


def _fail(source: str, why: str) -> ValueError:
    return ValueError(f"gradwalk.load: {source} is not a valid gradwalk checkpoint: {why}")


def _load(fh: BinaryIO, source: str, map_location: Any) -> Any:
    start = fh.tell()
    head = fh.read(4)
    fh.seek(start)
    if head[:2] != b"PK":
        hint = ""
        if head[:1] == b"\x80":
            hint = (" (it looks like a pickle, e.g. from torch.save; gradwalk never unpickles, "
                    "since that can run arbitrary code)")
        raise _fail(source, "it is not a zip archive" + hint)
    try:
        zf = zipfile.ZipFile(fh, "r")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _fail(source, f"the archive is corrupted or truncated ({e})") from None
    with zf:
        infos = {}
        for info in zf.infolist():
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) + 2**16:
                raise _fail(source, f"member {info.filename!r} claims {info.file_size} bytes "
                                    f"from {info.compress_size} compressed (a zip bomb?)")
            infos[info.filename] = info
        if MANIFEST not in infos:
            raise _fail(source, f"the manifest {MANIFEST} is missing (not written by "
                                "gradwalk.save?)")
        if infos[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            raise _fail(source, f"the manifest is {infos[MANIFEST].file_size} bytes, over the "
                                f"limit of {MAX_MANIFEST_BYTES}")
        try:
            raw = _read_member(zf, MANIFEST, MAX_MANIFEST_BYTES)
            manifest = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise _fail(source, f"the manifest is not valid JSON ({type(e).__name__}: "
                                f"{str(e)[:200]})") from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise _fail(source, f"the manifest cannot be read ({e})") from None
        if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
                or "tree" not in manifest):
            raise _fail(source, "the manifest does not describe a gradwalk checkpoint")
        if manifest.get("version") != VERSION:
            raise _fail(source, f"unsupported format version {manifest.get('version')!r} "
                                f"(this gradwalk reads version {VERSION})")
        cache: dict[str, np.ndarray] = {}
        try:
            return _decode(manifest["tree"], zf, infos, cache, source, map_location, 0)
        except RecursionError:
            raise _fail(source, "the structure is nested too deeply") from None


def _read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with zf.open(name) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"member {name!r} is larger than {limit} bytes")
    return data


def _decode(node: Any, zf, infos, cache, source: str, map_location, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _fail(source, f"the structure is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _fail(source, f"malformed manifest entry {str(node)[:80]!r}")
    t = node["t"]
    v = node.get("v")
    if t == "none":
        return None
    if t in ("bool", "int", "float", "str"):
        want = {"bool": bool, "int": int, "float": (int, float), "str": str}[t]
        if not isinstance(v, want) or (t == "int" and isinstance(v, bool)):
            raise _fail(source, f"a {t} entry holds {type(v).__name__}")
        return float(v) if t == "float" else v
    if t == "complex":
        if not (isinstance(v, list) and len(v) == 2
                and all(isinstance(x, int | float) for x in v)):
            raise _fail(source, "malformed complex entry")
        return complex(v[0], v[1])
    if t in ("list", "tuple"):
        if not isinstance(v, list):
            raise _fail(source, f"a {t} entry does not hold a list")
        items = [_decode(x, zf, infos, cache, source, map_location, depth + 1) for x in v]
        return tuple(items) if t == "tuple" else items
    if t in ("dict", "odict"):
        if not isinstance(v, list):
            raise _fail(source, "a dict entry does not hold a list of pairs")
        out: dict = OrderedDict() if t == "odict" else {}
        for pair in v:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise _fail(source, "a dict item is not a [key, value] pair")
            key = _decode(pair[0], zf, infos, cache, source, map_location, depth + 1)
            if isinstance(key, list | dict | Tensor | np.ndarray):
                raise _fail(source, f"a dict key has the unhashable type {type(key).__name__}")
            out[key] = _decode(pair[1], zf, infos, cache, source, map_location, depth + 1)
        return out
    if t in ("tensor", "ndarray"):
        arr = _array(node, zf, infos, cache, source)
        if t == "ndarray":
            return arr
        return _tensor(arr, node, map_location)
    raise _fail(source, f"unknown entry type {t!r}")


def _array(node: dict, zf, infos, cache, source: str) -> np.ndarray:
    key = node.get("k")
    if not isinstance(key, str):
        raise _fail(source, "a tensor entry has no array name")
    if key in cache:
        return cache[key]
    name = key + ".npy"
    if name not in infos:
        raise _fail(source, f"the array {name!r} named in the manifest is missing")
    try:
        arr = _read_npy(zf, infos[name], source)
    except ValueError as e:
        if str(e).startswith("gradwalk.load"):
            raise
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise _fail(source, f"array {name!r} cannot be read safely ({reason})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise _fail(source, f"array {name!r} is corrupted or truncated ({e})") from None
    if node.get("dtype") != arr.dtype.str or node.get("shape") != list(arr.shape):
        raise _fail(source, f"array {name!r} is {arr.dtype.str} {list(arr.shape)} but the "
                            f"manifest says {node.get('dtype')} {node.get('shape')}")
    cache[key] = arr
    return arr


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> np.ndarray:
    """Read one ``.npy`` member: header first, checked against the member's size, then exactly
    the bytes it announces (no pickle, no allocation larger than the file backs)."""
    fmt = np.lib.format
    name = info.filename
    with zf.open(info) as member:
        version = fmt.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(member, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(member, max_header_size=10000)
        else:
            raise _fail(source, f"array {name!r} has the unknown .npy version {version}")
        if dtype.hasobject or dtype.kind not in _ALLOWED_KINDS:
            raise _fail(source, f"array {name!r} has the disallowed dtype {dtype} (object, "
                                "string and structured arrays are never loaded)")
        count = 1
        for n in shape:
            count *= int(n)
        nbytes = count * dtype.itemsize
        header = member.tell()
        if header + nbytes != info.file_size:
            raise _fail(source, f"array {name!r} announces {list(shape)} {dtype} "
                                f"({nbytes} bytes) but the member holds "
                                f"{info.file_size - header} bytes of data")
        buf = bytearray(nbytes)
        if member.readinto(buf) != nbytes:
            raise _fail(source, f"array {name!r} is truncated")
    arr = np.frombuffer(buf, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C")


def _tensor(arr: np.ndarray, node: dict, map_location: Any) -> Tensor:
    data = arr
    if map_location is not None and str(map_location).startswith("cuda"):
        from .backend import get_namespace

        data = get_namespace("cuda").asarray(arr)
    t = Tensor._wrap(data)
    if node.get("param"):
        from . import nn

        param_cls = getattr(nn, "Parameter", None)
        if param_cls is not None:
            return param_cls(t, requires_grad=bool(node.get("requires_grad", True)))
    if node.get("requires_grad") and data.dtype.kind in "fc":
        t.requires_grad_(True)
    return t
