"""Safe checkpoints: ``gradwalk.save(obj, f)`` and ``gradwalk.load(f)``.

The file is a zip archive in NumPy's ``.npz`` layout: one ``.npy`` member per tensor, plus a
member ``__gradwalk__.json`` that describes the structure (dicts, OrderedDicts, lists, tuples,
numbers, strings, None, dtypes; NumPy scalars are stored as 0-d arrays) and points at the arrays
by name. Loading reads arrays with ``allow_pickle=False`` and parses JSON, so a checkpoint can
never run code, unlike ``pickle``. A file that is corrupted, truncated, made by something else,
or hostile (pickled data, object arrays, a bad or huge manifest, a zip bomb, missing arrays, zip
features it does not read) raises ``ValueError`` naming the problem (Note [load raises only
ValueError]); a file from ``torch.save`` is recognised and the message shows how to convert it.

Example:
    >>> import io, gradwalk
    >>> buf = io.BytesIO()
    >>> gradwalk.save({"w": gradwalk.ones(2), "step": 3}, buf)
    >>> _ = buf.seek(0)
    >>> gradwalk.load(buf)
    {'w': tensor([1., 1.]), 'step': 3}
"""

from __future__ import annotations

import errno
import io
import json
import lzma
import os
import secrets
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from .backend import to_numpy
from .dtypes import _NAMES as _DTYPES
from .dtypes import dtype
from .tensor import Tensor

FORMAT = "gradwalk-checkpoint"
VERSION = 1
MANIFEST = "__gradwalk__.json"
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_DEPTH = 200
MAX_RATIO = 1000  # uncompressed / compressed size of a member; beyond is a zip bomb
_ALLOWED_KINDS = "biufc"  # bool, int, uint, float, complex: never object/void/str arrays
_READABLE = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
             zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
# What the zip, zlib, bz2 and lzma readers raise for a damaged archive; see Note [load raises
# only ValueError].
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
               lzma.LZMAError, NotImplementedError, RuntimeError, OverflowError, struct.error)

PathOrFile = str | os.PathLike | BinaryIO


def save(obj: Any, f: PathOrFile) -> None:
    """Save tensors, arrays, and (nested) dicts/lists/tuples of them and of Python scalars,
    strings and None, e.g. a model's or an optimizer's ``state_dict()``.

    A path is written atomically (to a temporary file beside it, then renamed), so a crash
    mid-save never leaves a half-written checkpoint. A new file gets the mode that ``open()``
    would give it (``0o666`` less the umask); an existing file keeps its mode. Whole modules
    and optimizers are refused: save their ``state_dict()``.

    Example:
        >>> import gradwalk, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.gw")
        >>> gradwalk.save([gradwalk.tensor([1.0, 2.0]), {"lr": 0.1}], path)
        >>> gradwalk.load(path)
        [tensor([1., 2.]), {'lr': 0.1}]
    """
    arrays: dict[str, np.ndarray] = {}
    memo: dict[int, str] = {}
    tree = _encode(obj, arrays, memo, 0, "obj")
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree},
                          allow_nan=True).encode()
    if isinstance(f, str | os.PathLike):
        _save_path(os.fspath(f), manifest, arrays)
    elif hasattr(f, "write"):
        _write(f, manifest, arrays)
    else:
        raise TypeError(f"save() expects a path or a binary file object, got {type(f).__name__}")


def _save_path(path: str | bytes, manifest: bytes, arrays: dict[str, np.ndarray]) -> None:
    """Note [atomic save keeps open()'s permissions]: the checkpoint is written to a temporary
    file in the target's directory and renamed over the target, so readers see the old file or
    the new one, never half of one. The temporary file is made with ``os.open(..., 0o666)``, so
    the umask applies exactly as for ``open(path, "wb")`` (``tempfile.mkstemp`` would make it
    0o600, and the rename would carry that mode to the checkpoint); when the target exists, its
    mode is copied. A symlink is followed (its target is replaced, the link stays), and a FIFO
    or device is written into, as ``open()`` would. Errors name the user's path, never the
    temporary one."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if os.path.islink(path):
        path = os.path.realpath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"save(): {folder!r} is not a directory", path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"save(): the directory {folder!r} does not "
                                "exist (create it first, e.g. with os.makedirs)", path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"save(): {path!r} is a directory; give a file "
                                "name such as 'checkpoint.gw' inside it", path)
    if os.path.exists(path) and not os.path.isfile(path):  # a FIFO or a device: write into it
        with open(path, "wb") as fh:
            _write(fh, manifest, arrays)
        return
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise type(e)(e.errno, f"save(): cannot write {path!r}: {e.strerror}",
                          path) from None
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise FileExistsError(errno.EEXIST, f"save(): cannot make a temporary file beside "
                              f"{path!r}", path)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            _write(fh, manifest, arrays)
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None:
            raise type(e)(e.errno, f"save(): cannot write {path!r}: {e.strerror}",
                          path) from None
        raise


def _write(fh: BinaryIO, manifest: bytes, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(MANIFEST, manifest)
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


_SCALARS = {type(None): "none", bool: "bool", int: "int", float: "float", str: "str"}


def _encode(obj: Any, arrays: dict, memo: dict, depth: int, where: str) -> Any:
    """Note [a loaded object is what was saved]: every value comes back with the type it was
    saved with, so its ``repr`` is the same: an ``np.float32`` scalar stays one (it is stored as
    a 0-d array), an OrderedDict stays ordered, a Parameter stays a Parameter. Types that the
    format cannot rebuild without running code (subclasses such as namedtuples, IntEnums or
    defaultdicts, modules, arbitrary objects) are refused at save time with the remedy, rather
    than coming back as something else."""
    if depth > MAX_DEPTH:
        raise ValueError(f"save(): the object is nested deeper than {MAX_DEPTH} levels")
    cls = type(obj)
    kind = _SCALARS.get(cls)
    if kind is not None:
        return {"t": kind} if obj is None else {"t": kind, "v": obj}
    if cls is complex:
        return {"t": "complex", "v": [obj.real, obj.imag]}
    if isinstance(obj, Tensor | np.ndarray | np.generic):
        return _encode_array(obj, arrays, memo, where)
    if isinstance(obj, dtype):
        return {"t": "dtype", "v": obj.name}
    if cls is dict or cls is OrderedDict:
        items = [[_encode_key(k, where), _encode(v, arrays, memo, depth + 1, f"{where}[{k!r}]")]
                 for k, v in obj.items()]
        return {"t": "odict" if cls is OrderedDict else "dict", "v": items}
    if cls is list or cls is tuple:
        return {"t": cls.__name__,
                "v": [_encode(v, arrays, memo, depth + 1, f"{where}[{i}]")
                      for i, v in enumerate(obj)]}
    size = _size_type()
    if size is not None and cls is size:
        return {"t": "size", "v": [_encode(v, arrays, memo, depth + 1, where) for v in obj]}
    raise TypeError(_refusal(obj, where))


def _size_type() -> type | None:
    """``gradwalk.Size`` (a tuple subclass) where the package has one."""
    return getattr(sys.modules.get(__package__ or ""), "Size", None)


def _encode_array(obj: Any, arrays: dict, memo: dict, where: str) -> dict:
    if isinstance(obj, np.generic):
        arr, t = np.asarray(obj), "npscalar"
    elif isinstance(obj, Tensor):
        arr, t = to_numpy(obj._data), "tensor"
    else:
        arr, t = obj, "ndarray"
    if arr.dtype.kind not in _ALLOWED_KINDS:
        raise TypeError(f"save(): {where} is an array of dtype {arr.dtype}, which cannot be "
                        "saved (only bool, integer, float and complex)")
    key = memo.get(id(obj))
    if key is None:
        key = memo[id(obj)] = f"a{len(arrays)}"
        arrays[key] = arr
    node = {"t": t, "k": key, "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if t == "tensor":
        node["requires_grad"] = bool(obj.requires_grad)
        node["param"] = type(obj).__name__ == "Parameter"
    return node


def _refusal(obj: Any, where: str) -> str:
    cls = type(obj)
    name = cls.__name__
    at = "" if where == "obj" else f" ({where})"
    if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
        what = ("optimizer" if hasattr(obj, "param_groups") else
                "model" if hasattr(obj, "parameters") else "scheduler")
        return (f"save() does not store a whole {name}{at}: checkpoints hold data, never "
                f"code, so that loading one is safe. Save its state instead: "
                f"gradwalk.save({what}.state_dict(), path); to restore, build the {name} as "
                f"before and call {what}.load_state_dict(gradwalk.load(path))")
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        hint = f"save tuple({where}) or {where}._asdict() instead"
    elif isinstance(obj, dict | list | tuple):
        hint = f"save {cls.__mro__[-2].__name__}({where}) instead"
    elif isinstance(obj, bool | int | float | complex | str):
        base = next(b for b in (bool, int, float, complex, str) if isinstance(obj, b))
        hint = f"save {base.__name__}({where}) instead"
    else:
        hint = "convert it to one of those first"
    return (f"save() cannot store {where}, an object of type {name}: checkpoints hold tensors, "
            "arrays, NumPy scalars, dtypes, dicts, OrderedDicts, lists, tuples, numbers, "
            f"strings and None (exactly those types, so that load() returns what was saved); "
            f"{hint}")


def _encode_key(k: Any, where: str) -> Any:
    if type(k) in _SCALARS:
        return _encode(k, {}, {}, 0, where)
    if type(k) is tuple and all(type(x) in _SCALARS for x in k):
        return {"t": "tuple", "v": [_encode(x, {}, {}, 0, where) for x in k]}
    raise TypeError(f"save(): the dict keys of {where} must be str, int, float, bool, None or "
                    f"tuples of them, got {k!r} of type {type(k).__name__}")


def load(f: PathOrFile, map_location: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> Any:
    """Load what ``save`` wrote. Never runs code from the file (no pickle).

    The arguments are PyTorch's: ``map_location`` is ``None``, a device (``"cpu"``, ``"cuda"``,
    ``"cuda:0"``; CUDA needs CuPy), a dict from saved locations to devices (gradwalk saves
    every tensor from ``"cpu"``), or a function ``(tensor, location) -> tensor or None``.
    ``weights_only`` may be ``True``, ``False`` or ``None``: a gradwalk checkpoint only ever
    holds data, so all three load it the same safe way. ``mmap`` is accepted and ignored (the
    arrays are read into memory). A file that is not a valid checkpoint raises ``ValueError``.

    Example:
        >>> import io, gradwalk
        >>> buf = io.BytesIO()
        >>> gradwalk.save((1, "a", None, gradwalk.zeros(1, dtype=gradwalk.int64)), buf)
        >>> gradwalk.load(io.BytesIO(buf.getvalue()), map_location="cpu", weights_only=True)
        (1, 'a', None, tensor([0]))
    """
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load(): weights_only must be True, False or None, got {weights_only!r}")
    if mmap is not None and not isinstance(mmap, bool):
        raise TypeError(f"load(): mmap must be True, False or None, got {mmap!r}")
    move = _mover(map_location)
    source = _describe(f)
    if isinstance(f, str | os.PathLike):
        with open(f, "rb") as fh:
            return _load(fh, source, move)
    if hasattr(f, "read"):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        return _load(f, source, move)
    raise TypeError(f"load() expects a path or a binary file object, got {type(f).__name__}")


def _mover(map_location: Any) -> Any:
    """A function that puts a loaded CPU tensor where ``map_location`` says (``None``: stay)."""
    if map_location is None:
        return None
    if callable(map_location) and not isinstance(map_location, str | dict):
        def call(t: Tensor) -> Tensor:
            out = map_location(t, "cpu")
            if out is None:
                return t
            if not isinstance(out, Tensor):
                raise TypeError(f"load(): map_location returned {type(out).__name__}; it must "
                                "return a tensor or None")
            return out
        return call
    if isinstance(map_location, dict):
        return _mover(map_location.get("cpu"))
    name = str(getattr(map_location, "type", map_location))
    if not isinstance(map_location, str) and not hasattr(map_location, "type"):
        raise TypeError(f"load(): map_location must be None, a device, a dict or a function, "
                        f"got {type(map_location).__name__}")
    if name.startswith("cpu"):
        return None
    if not name.startswith("cuda"):
        raise ValueError(f"load(): unknown map_location {map_location!r}; expected 'cpu', "
                         "'cuda' or 'cuda:N'")
    from .backend import get_namespace

    xp = get_namespace("cuda")

    def to_gpu(t: Tensor) -> Tensor:
        out = Tensor._wrap(xp.asarray(t._data))
        if type(t).__name__ == "Parameter":
            return type(t)(out, requires_grad=t.requires_grad)
        return out.requires_grad_(True) if t.requires_grad else out
    return to_gpu


def _describe(f: Any) -> str:
    if isinstance(f, str | os.PathLike):
        return repr(os.fspath(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else "the file object"


def _fail(source: str, why: str) -> ValueError:
    return ValueError(f"gradwalk.load: {source} is not a valid gradwalk checkpoint: {why}")


_TORCH_HINT = (
    "it looks like a PyTorch checkpoint (torch.save), which stores Python pickles; gradwalk "
    "never unpickles, since that can run arbitrary code. Convert it once where PyTorch is "
    "installed, e.g. for a state dict: sd = torch.load(path, weights_only=True); "
    "gradwalk.save({k: gradwalk.from_numpy(v.detach().cpu().numpy()) for k, v in sd.items()}, "
    "'model.gw')")


def _load(fh: BinaryIO, source: str, move: Any) -> Any:
    """Note [load raises only ValueError]: whatever the bytes, ``load`` either returns the saved
    object or raises ``ValueError`` saying why (I/O errors on the path itself, such as a missing
    file, stay ``OSError``). Members are vetted against the central directory before any is
    read: encryption, compression methods other than stored/deflate/bzip2/LZMA, zip versions
    beyond what ``zipfile`` extracts, and implausible compression ratios are refused by name.
    The zip, zlib, bz2 and lzma readers are only called inside ``except _ZIP_ERRORS`` (what they
    raise for damaged data), and every manifest entry is type-checked before use (an integer
    too large for a float, an unhashable or non-scalar dict key). Code that runs after a value
    is decoded (``map_location``) is outside these handlers, so its own errors pass through.
    ``test_mutated_checkpoints_raise_only_value_error`` fuzzes this."""
    start = fh.tell()
    head = fh.read(4)
    fh.seek(start)
    if head[:2] != b"PK":
        hint = ""
        if head[:1] == b"\x80":
            hint = " (" + _TORCH_HINT.replace("it looks like", "it looks like a pickle, e.g.", 1)
            hint = hint.replace("a pickle, e.g. a PyTorch", "a pickle, e.g. a legacy PyTorch") + ")"
        raise _fail(source, "it is not a zip archive" + hint)
    try:
        zf = zipfile.ZipFile(fh, "r")
    except NotImplementedError as e:
        raise _fail(source, f"the archive uses a zip feature gradwalk does not read "
                            f"({e})") from None
    except (*_ZIP_ERRORS, ValueError) as e:
        raise _fail(source, f"the archive is corrupted or truncated ({e})") from None
    with zf:
        infos = _vet_members(zf, source, fh.seek(0, io.SEEK_END) - start)
        if MANIFEST not in infos:
            if any(n == "data.pkl" or n.endswith("/data.pkl") for n in infos):
                raise _fail(source, _TORCH_HINT)
            raise _fail(source, f"the manifest {MANIFEST} is missing (not written by "
                                "gradwalk.save?)")
        if infos[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            raise _fail(source, f"the manifest is {infos[MANIFEST].file_size} bytes, over the "
                                f"limit of {MAX_MANIFEST_BYTES}")
        try:
            raw = _read_member(zf, infos[MANIFEST], MAX_MANIFEST_BYTES)
            manifest = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise _fail(source, f"the manifest is not valid JSON ({type(e).__name__}: "
                                f"{str(e)[:200]})") from None
        except _ZIP_ERRORS as e:
            raise _fail(source, f"the manifest cannot be read ({e})") from None
        if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
                or "tree" not in manifest):
            raise _fail(source, "the manifest does not describe a gradwalk checkpoint")
        if manifest.get("version") != VERSION:
            raise _fail(source, f"unsupported format version {str(manifest.get('version'))[:40]} "
                                f"(this gradwalk reads version {VERSION})")
        cache: dict[str, np.ndarray] = {}
        try:
            return _decode(manifest["tree"], zf, infos, cache, source, move, 0)
        except RecursionError:
            raise _fail(source, "the structure is nested too deeply") from None


def _vet_members(zf: zipfile.ZipFile, source: str, size: int) -> dict[str, zipfile.ZipInfo]:
    infos = {}
    for info in zf.infolist():
        name = info.filename
        if info.compress_size > size:
            raise _fail(source, f"member {name!r} claims {info.compress_size} compressed bytes, "
                                f"more than the whole file ({size} bytes)")
        if info.flag_bits & 0x41:
            raise _fail(source, f"member {name!r} is encrypted (gradwalk reads no encrypted "
                                "archives)")
        if info.flag_bits & 0x20:
            raise _fail(source, f"member {name!r} uses compressed patched data, which gradwalk "
                                "does not read")
        if info.compress_type not in _READABLE:
            raise _fail(source, f"member {name!r} uses zip compression method "
                                f"{info.compress_type}, which gradwalk does not read (it reads "
                                f"{', '.join(_READABLE.values())})")
        if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
            v = info.extract_version
            raise _fail(source, f"member {name!r} needs zip version {v // 10}.{v % 10} to "
                                "extract, newer than this reader handles")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) + 2**16:
            raise _fail(source, f"member {name!r} claims {info.file_size} bytes from "
                                f"{info.compress_size} compressed (a zip bomb?)")
        infos[name] = info
    return infos


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"member {info.filename!r} is larger than {limit} bytes")
    return data


_SCALAR_TYPES = {"bool": bool, "int": int, "float": (int, float), "str": str}


def _decode(node: Any, zf, infos, cache, source: str, move, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _fail(source, f"the structure is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _fail(source, f"malformed manifest entry {str(node)[:80]!r}")
    t = node["t"]
    v = node.get("v")
    if t == "none":
        return None
    if t in _SCALAR_TYPES:
        if not isinstance(v, _SCALAR_TYPES[t]) or (t != "bool" and isinstance(v, bool)):
            raise _fail(source, f"a {t} entry holds {type(v).__name__}")
        return _float(v, source) if t == "float" else v
    if t == "complex":
        if not (isinstance(v, list) and len(v) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)):
            raise _fail(source, "malformed complex entry")
        return complex(_float(v[0], source), _float(v[1], source))
    if t in ("list", "tuple", "size"):
        if not isinstance(v, list):
            raise _fail(source, f"a {t} entry does not hold a list")
        items = [_decode(x, zf, infos, cache, source, move, depth + 1) for x in v]
        if t == "list":
            return items
        if t == "size" and not all(type(n) is int and n >= 0 for n in items):
            raise _fail(source, "a size entry holds something other than sizes")
        size = _size_type() if t == "size" else None
        return tuple(items) if size is None else size(items)
    if t in ("dict", "odict"):
        if not isinstance(v, list):
            raise _fail(source, "a dict entry does not hold a list of pairs")
        out: dict = OrderedDict() if t == "odict" else {}
        for pair in v:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise _fail(source, "a dict item is not a [key, value] pair")
            key = _decode_key(pair[0], source)
            out[key] = _decode(pair[1], zf, infos, cache, source, move, depth + 1)
        return out
    if t == "dtype":
        if not (isinstance(v, str) and v in _DTYPES):
            raise _fail(source, f"unknown dtype {str(v)[:40]!r}")
        return _DTYPES[v]
    if t in ("tensor", "ndarray", "npscalar"):
        arr = _array(node, zf, infos, cache, source)
        if t == "ndarray":
            return arr
        if t == "npscalar":
            if arr.ndim != 0:
                raise _fail(source, f"a NumPy scalar entry has the shape {list(arr.shape)}")
            return arr[()]
        t_ = _tensor(arr, node)
        return t_ if move is None else move(t_)
    raise _fail(source, f"unknown entry type {t[:40]!r}")


def _float(v: int | float, source: str) -> float:
    try:
        return float(v)
    except OverflowError:
        raise _fail(source, f"a float entry holds an integer of {len(str(v))} digits, too "
                            "large for a float") from None


def _decode_key(node: Any, source: str) -> Any:
    """Keys are what ``_encode_key`` writes: scalars, or tuples of scalars."""
    t = node.get("t") if isinstance(node, dict) else None
    if t == "tuple" and isinstance(node.get("v"), list):
        return tuple(_decode_scalar_key(x, source) for x in node["v"])
    return _decode_scalar_key(node, source)


def _decode_scalar_key(node: Any, source: str) -> Any:
    t = node.get("t") if isinstance(node, dict) else None
    if t in ("none", "bool", "int", "float", "str"):
        return _decode(node, None, {}, {}, source, None, 0)
    if t in ("list", "dict", "odict", "tuple"):
        raise _fail(source, f"a dict key has the unhashable type {t} (keys are numbers, "
                            "strings, None, or tuples of them)")
    raise _fail(source, f"a dict key is a {str(t)[:40]} entry (keys are numbers, strings, "
                        "None, or tuples of them)")


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
    except (TypeError, SyntaxError, RecursionError) as e:
        raise _fail(source, f"array {name!r} cannot be read safely ({type(e).__name__})") from None
    except _ZIP_ERRORS as e:
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
            shape, fortran, dt = fmt.read_array_header_1_0(member, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dt = fmt.read_array_header_2_0(member, max_header_size=10000)
        else:
            raise _fail(source, f"array {name!r} has the unknown .npy version {version}")
        if dt.hasobject or dt.kind not in _ALLOWED_KINDS:
            raise _fail(source, f"array {name!r} has the disallowed dtype {dt} (object, "
                                "string and structured arrays are never loaded)")
        count = 1
        for n in shape:
            count *= int(n)
        nbytes = count * dt.itemsize
        header = member.tell()
        if header + nbytes != info.file_size:
            raise _fail(source, f"array {name!r} announces {list(shape)} {dt} "
                                f"({nbytes} bytes) but the member holds "
                                f"{info.file_size - header} bytes of data")
        buf = bytearray(nbytes)
        if member.readinto(buf) != nbytes:
            raise _fail(source, f"array {name!r} is truncated")
    arr = np.frombuffer(buf, dtype=dt, count=count)
    return arr.reshape(shape, order="F" if fortran else "C")


def _tensor(arr: np.ndarray, node: dict) -> Tensor:
    t = Tensor._wrap(arr)
    if node.get("param"):
        from . import nn

        param_cls = getattr(nn, "Parameter", None)
        if param_cls is not None:
            wants = bool(node.get("requires_grad", True)) and arr.dtype.kind in "fc"
            return param_cls(t, requires_grad=wants)
    if node.get("requires_grad") and arr.dtype.kind in "fc":
        t.requires_grad_(True)
    return t
