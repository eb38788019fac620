"""``engine.save`` / ``engine.load``: checkpoints as numpy ``.npz`` archives, never pickle.

A file is a zip archive (what ``numpy.savez`` writes) holding one ``<key>.npy`` member per
tensor, each with its dtype and shape (0-d tensors stay 0-d). ``numpy.load`` reads it too.

Two layouts, one reader:

* **flat** (a tensor, or a dict of ``str -> tensor`` such as ``model.state_dict()``): one
  member per entry, in order, and nothing else; it loads as an ``OrderedDict`` of tensors
  (or the single tensor), exactly as files written before nested structures existed.
* **nested** (anything else: ``{"epoch": 5, "model": model.state_dict(), "optimizer":
  optimizer.state_dict(), "loss": 0.31}``, lists of tensors, a scheduler's state dict): the
  tensors are members named by their path (``model.0.weight``, ``optimizer.state.0.exp_avg``)
  and one more member, ``__engine_structure__.json``, describes the tree in JSON. Containers
  are dict, OrderedDict, Counter (str or int keys), list, tuple and ``engine.Size``; leaves are
  tensors, numpy arrays and numbers, and Python int, float, bool, str and None. Loading gives
  the same structure back, the same types (int keys stay int, tuples stay tuples), and a tensor
  saved twice is one tensor again. JSON is data: reading it runs no code.

Whole modules are not saved (that would need pickle): save ``model.state_dict()``.

Saving is atomic: the archive is written to a temporary file in the target's folder and
renamed over the target only once complete, so a failed save leaves the old file intact.

Loading trusts nothing in the file. It never unpickles, refuses object, structured and
unsupported dtypes, and checks every size an array header declares against the bytes the
archive really holds *before* allocating, then reads in bounded chunks. The total it will
allocate (tensor data plus the structure's text) is capped at ``max_bytes``: by default
:data:`DEFAULT_MAX_BYTES` (4 GiB), or the environment variable ``ENGINE_LOAD_MAX_BYTES``; pass
``max_bytes=`` to raise it for a bigger file you trust. The structure is at most
:data:`MAX_STRUCTURE_BYTES`, nested at most :data:`MAX_DEPTH` deep (checked before it is
parsed, and walked without recursion), and must account for every member. Every malformed
file is one :class:`EngineValueError` line naming the path; a missing path is
:class:`MissingFileError` (a ``FileNotFoundError``).

This module also holds the checks the command line and the drawing code run on output paths
before long work (:func:`check_output_dir`, :func:`check_output_file`).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import stat
import tempfile
import zipfile
import zlib
from collections import Counter, OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from engine.core.tensor import Size, Tensor
from engine.errors import EngineError, EngineTypeError, EngineValueError, MissingFileError, PathError

# The key under which a single saved tensor is stored (``engine.save(t, path)``).
_SINGLE = "__engine_tensor__"
# The member describing a nested structure (JSON); a file without it is a flat one.
_STRUCTURE = "__engine_structure__.json"
_FORMAT, _VERSION = "engine.save", 1
MAX_DEPTH = 100  # containers inside containers, in a nested structure
MAX_STRUCTURE_BYTES = 64 * 2**20  # the structure's JSON text
_MAX_NODES = 2_000_000  # entries in a nested structure (a list of numbers belongs in a tensor)
_MAX_INT_DIGITS = 1000  # Python ints in a structure (int() of longer text is slow, and capped by Python)
DEFAULT_MAX_BYTES = 4 * 2**30
MAX_BYTES_ENV = "ENGINE_LOAD_MAX_BYTES"
_CHUNK = 1 << 20  # read array data 1 MiB at a time
# Deflate emits at most 258 bytes per ~2 bits of input (about 1032:1); a member declaring
# more than this from its compressed size is lying about its size.
_DEFLATE_MAX_RATIO = 1100
# Every dtype an engine tensor can hold exactly, and the narrower ones it widens losslessly.
_LOADABLE = {np.dtype(t).str[1:] for t in ("bool", "u1", "i1", "i2", "i4", "i8", "u2", "u4", "f2", "f4", "f8")}


# ---- output paths ------------------------------------------------------------------------------------------------


def check_output_dir(path: str | os.PathLike, op: str, create: bool = True) -> Path:
    """Make sure ``path`` is a folder this process can write into (made if missing).

    Raises :class:`PathError` in one line (naming ``op`` and the path) when ``path`` or one of
    its parents is a file, or the folder cannot be made or written. Meant to run *before*
    long work, so a bad ``--out`` fails in a second instead of after training. With
    ``create=False`` nothing is made: the nearest existing folder is checked instead.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise PathError(f"{op}: cannot use {str(path)!r} as a folder: it is a file")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise PathError(f"{op}: cannot create folder {str(path)!r}: {str(existing)!r} is a file")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PathError(f"{op}: cannot create folder {str(path)!r}: {exc.strerror or exc}") from None
        existing = path
    try:
        # The real test of writability (os.access says yes to root even on read-only mounts).
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise PathError(f"{op}: cannot write into folder {str(existing)!r}: {exc.strerror or exc}") from None
    return path


def check_output_file(path: str | os.PathLike, op: str, create: bool = True) -> Path:
    """Make sure a file can be written at ``path`` (its folder is made if missing, unless
    ``create=False``).

    Raises :class:`PathError` in one line when ``path`` is a folder (or ends with a path
    separator), its folder cannot be made or written, or the file exists and is read-only.
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        raise PathError(f"{op}: cannot write {text!r}: it is a folder; give a file name")
    path = Path(text)
    check_output_dir(path.parent, op, create)
    if path.exists() and not os.access(path, os.W_OK):
        raise PathError(f"{op}: cannot write {text!r}: the file is read-only")
    return path


# ---- save ----------------------------------------------------------------------------------------------------------


def _as_array(where: str, value: Any) -> np.ndarray:
    """The numpy array to store for a tensor or numpy value; ``where`` names it in errors."""
    if isinstance(value, Tensor):
        # np.asarray, not np.ascontiguousarray: the latter turns a 0-d array into shape (1,).
        return np.asarray(value._backend.to_numpy(value._data))
    if isinstance(value, (np.ndarray, int, float, bool, np.generic)):
        array = np.asarray(value)
        if array.dtype.str[1:] in _LOADABLE:
            return array
        hint = "an engine tensor cannot hold; use bool, uint8, int64, float32 or float64"
        if array.dtype.kind not in "fiub":
            hint = "engine.save does not keep: it keeps numpy arrays and numbers of bool, int and float dtypes"
        raise EngineTypeError(f"save: {where} has numpy dtype {array.dtype}, which {hint}")
    raise EngineTypeError(f"save: {where} has type {type(value).__name__}; engine.save keeps tensors")


def _check_key(name: object, path: tuple | None = None) -> str | int:
    """A dict key that comes back intact: a string without NUL or backslash (flat files make keys
    zip member names ``<key>.npy``; one rule for both layouts) or, inside a nested structure
    (``path`` says where the dict sits), an int."""
    if path is not None and type(name) is int:
        return _check_int(name, _where((*path, name)))
    if not isinstance(name, str):
        what = "state dict keys must be strings" if path is None else "dict keys must be strings or ints"
        where = "" if path is None else f" in {_where(path)}"
        raise EngineTypeError(f"save: {what}, got {type(name).__name__} {_short(repr(name))}{where}")
    if path is None and name == _SINGLE:
        raise EngineValueError(f"save: the key {_SINGLE!r} is reserved for a file holding a single tensor")
    if "\x00" in name or "\\" in name:
        # zip readers cut names at NUL, and Windows ones turn backslashes into '/'.
        raise EngineValueError(
            f"save: key {_short(repr(name))} contains a NUL or backslash, which zip member names can't keep"
        )
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise EngineValueError(f"save: key {_short(repr(name))} is not valid Unicode (a lone surrogate)") from None
    if size > 65_000:
        raise EngineValueError(f"save: key of {size} bytes is too long for a zip member name (at most 65000)")
    return name


def _check_int(value: int, where: str) -> int:
    if value.bit_length() > 3 * _MAX_INT_DIGITS and len(str(abs(value))) > _MAX_INT_DIGITS:
        raise EngineValueError(f"save: {where} holds an int of more than {_MAX_INT_DIGITS} digits; store it as a str")
    return value


def _short(text: str, limit: int = 200) -> str:
    """``text`` cut in the middle to at most about ``limit`` characters (for error lines)."""
    return text if len(text) <= limit else text[: limit // 2] + "..." + text[-(limit // 2) :]


def _where(path: tuple) -> str:
    """``entry 'optimizer.state.0.exp_avg'``: a place in a structure, as error messages name it."""
    return "the top level" if not path else "entry " + repr(_short(".".join(str(k) for k in path)))


def _write_archive(handle: IO[bytes], arrays: dict[str, np.ndarray], structure: bytes | None = None) -> None:
    """One stored (uncompressed) ``<key>.npy`` member per entry (after the structure member, if
    any), with a fixed timestamp so the same checkpoint always gives the same bytes. Keys are
    member names, never keyword arguments, so no key can collide with a parameter
    (``np.savez(f, **d)`` loses ``file``)."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        if structure is not None:
            archive.writestr(zipfile.ZipInfo(_STRUCTURE, date_time=(1980, 1, 1, 0, 0, 0)), structure)
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _is_flat(obj: Any) -> bool:
    """A state dict as flat files have always held it: ``str -> tensor`` (an empty plain dict is
    nested instead, so that it loads as ``{}``, as from torch)."""
    if not hasattr(obj, "items") or (type(obj) is dict and not obj):
        return False
    return all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def _needs_pickle(value: Any) -> bool:
    """A model or an optimizer (anything with ``state_dict()``; nn sits a layer above, so it is
    recognised by shape)."""
    return callable(getattr(value, "state_dict", None)) and not hasattr(value, "items")


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write a tensor, a state dict, or a nested checkpoint to ``f`` as ``.npz``.

    ``obj`` may be a tensor, a flat state dict (``name -> tensor``: a plain numpy archive, as
    always), or any nesting of dict / OrderedDict / Counter (str or int keys), list, tuple and
    ``engine.Size`` whose leaves are tensors, numpy arrays and numbers, and Python int, float,
    bool, str and None: ``{"epoch": 5, "model": model.state_dict(), "optimizer":
    optimizer.state_dict()}``. Anything else (a set, a function, a whole model) is refused in
    one line naming where it sits, before the file is touched.

    The path is used exactly as given (``model.pt`` stays ``model.pt``; numpy would add ``.npz``).
    The write is atomic: a temporary file in the same folder is renamed over ``f`` only when
    complete, so a failure leaves any existing file untouched. ``f`` may also be a binary file
    object (written directly). Keys are any strings without NUL or backslash; every dtype
    (bool, uint8, int64, float32, float64) and shape, 0-d included, comes back exactly.
    """
    if _needs_pickle(obj):
        raise EngineTypeError(
            f"save: saving a whole {type(obj).__name__} would need pickle; save model.state_dict() instead "
            "and load it with model.load_state_dict(engine.load(path))"
        )
    structure = None
    if isinstance(obj, Tensor):
        arrays = {_SINGLE: _as_array("the tensor", obj)}
    elif _is_flat(obj):
        arrays = {_check_key(name): _as_array(_where((name,)), value) for name, value in obj.items()}
    else:
        tree, arrays = _encode(obj)
        text = json.dumps({"format": _FORMAT, "version": _VERSION, "root": tree},
                          ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        if len(text) > MAX_STRUCTURE_BYTES:
            raise EngineValueError(
                f"save: the structure takes {_human(len(text))} of JSON, more than engine.load reads "
                f"({_human(MAX_STRUCTURE_BYTES)}); put long lists of numbers into tensors"
            )
        structure = text.encode("ascii")
    if hasattr(f, "write"):
        _write_archive(f, arrays, structure)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise EngineTypeError(f"save: expected a path or a binary file object, got {type(f).__name__}")
    _save_atomically(arrays, structure, os.fspath(f))


# The JSON form of a nested structure (``root`` of the structure member). JSON's own null, true,
# false, ints, floats and strings stand for themselves; everything else is an object with one key:
#   {"dict" | "OrderedDict" | "Counter": [[key, node], ...]}   key: a JSON string or int
#   {"list" | "tuple" | "Size": [node, ...]}
#   {"tensor" | "ndarray" | "numpy": "<member key>"}   (numpy: a numpy number, stored 0-d)
#   {"float": "nan" | "inf" | "-inf"}
_MAPPINGS = {dict: "dict", OrderedDict: "OrderedDict", Counter: "Counter"}
_SEQUENCES = {list: "list", tuple: "tuple", Size: "Size"}
_SUPPORTED = (
    "engine.save keeps tensors, numpy arrays and numbers, Python int/float/bool/str/None, and dicts "
    "(str or int keys), lists and tuples of them (it never pickles)"
)


def _encode(obj: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """The JSON tree for ``obj`` and the arrays its tensor leaves point at (walked with a stack,
    not recursion: depth is bounded by :data:`MAX_DEPTH`, cycles and oversize trees refused)."""
    arrays: dict[str, np.ndarray] = {}
    names: dict[int, str] = {}  # id(leaf) -> member key: an object saved twice is stored once
    root: list = [None]
    # (value, its path, ids of the containers above it, the list or pair to write its node into, index)
    stack: list[tuple[Any, tuple, tuple, list, int]] = [(obj, (), (), root, 0)]
    nodes = 0
    while stack:
        value, path, above, slot, index = stack.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            raise EngineValueError(
                f"save: the structure has more than {_MAX_NODES} entries; put long lists of numbers into tensors"
            )
        kind = type(value)
        if value is None or kind in (bool, str):
            slot[index] = value
        elif kind is int:
            slot[index] = _check_int(value, _where(path))
        elif kind is float:
            slot[index] = value if math.isfinite(value) else {"float": repr(value)}
        elif isinstance(value, (Tensor, np.ndarray, np.generic)):
            tag = "tensor" if isinstance(value, Tensor) else "ndarray" if isinstance(value, np.ndarray) else "numpy"
            if id(value) not in names:
                names[id(value)] = _member_key(path, arrays)
                arrays[names[id(value)]] = _as_array(_where(path), value)
            slot[index] = {tag: names[id(value)]}
        elif kind in _MAPPINGS or kind in _SEQUENCES:
            if id(value) in above:
                raise EngineValueError(f"save: {_where(path)} contains itself (a cycle); a checkpoint must be a tree")
            if len(above) >= MAX_DEPTH:
                raise EngineValueError(f"save: {_where(path)} is nested more than {MAX_DEPTH} containers deep")
            inner = (*above, id(value))
            if kind in _MAPPINGS:
                pairs = [[_check_key(k, path), None] for k in value]
                slot[index] = {_MAPPINGS[kind]: pairs}
                children = [(v, (*path, k), inner, pair, 1) for pair, (k, v) in zip(pairs, value.items())]
            else:
                items = [None] * len(value)
                slot[index] = {_SEQUENCES[kind]: items}
                children = [(v, (*path, i), inner, items, i) for i, v in enumerate(value)]
            stack.extend(reversed(children))  # first child on top: member names come in order
        elif _needs_pickle(value):
            raise EngineTypeError(
                f"save: {_where(path)} is a {kind.__name__}; saving it whole would need pickle: "
                "save its .state_dict() instead"
            )
        else:
            what = "tuple" if isinstance(value, tuple) else "list" if isinstance(value, list) else \
                "dict" if isinstance(value, dict) else None
            hint = f" (a {what} subclass; convert it to a plain {what})" if what else ""
            raise EngineTypeError(f"save: {_where(path)} is a {kind.__name__}{hint}; {_SUPPORTED}")
    return root[0], arrays


def _member_key(path: tuple, taken: dict) -> str:
    """A member key for the tensor at ``path``: the dotted path, as ``state_dict`` names entries
    (``optimizer.state.0.exp_avg``), made unique; numpy shows it as the archive's entry name."""
    key = ".".join(str(k) for k in path) or "tensor"
    if len(key.encode("utf-8")) > 1000:
        key = f"tensor{len(taken)}"
    unique, n = key, 1
    while unique in taken:
        n += 1
        unique = f"{key}#{n}"
    return unique


def _save_atomically(arrays: dict[str, np.ndarray], structure: bytes | None, path: str) -> None:
    target = Path(os.path.realpath(path))  # through a symlink, replace the file it points to
    if target.is_dir():
        raise PathError(f"save: cannot write {path!r}: it is a folder; give a file name")
    if not target.parent.is_dir():
        raise PathError(f"save: cannot write {path!r}: the folder {str(target.parent)!r} does not exist")
    # Keep an existing file's permissions; a new one gets the usual 0o666 less the umask.
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise PathError(f"save: cannot write into folder {str(target.parent)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_archive(handle, arrays, structure)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PathError(
                f"save: cannot write {path!r}: {exc.strerror or exc}; any existing file is unchanged"
            ) from None
        raise


# ---- load ----------------------------------------------------------------------------------------------------------


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return str(n)


def _resolve_max_bytes(max_bytes: int | None) -> int:
    source = "max_bytes"
    if max_bytes is None:
        text = os.environ.get(MAX_BYTES_ENV)
        if not text:
            return DEFAULT_MAX_BYTES
        source = MAX_BYTES_ENV
        try:
            max_bytes = int(text)
        except ValueError:
            raise EngineValueError(f"load: {MAX_BYTES_ENV}={text!r} is not a whole number of bytes") from None
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise EngineValueError(f"load: {source} must be a non-negative int (bytes), got {max_bytes!r}")
    return max_bytes


class _Malformed(Exception):
    """Internal: why a file is not a readable checkpoint (turned into one EngineValueError)."""


def load(
    f: str | os.PathLike | IO[bytes],
    map_location: Any = None,
    weights_only: bool = True,
    *,
    max_bytes: int | None = None,
) -> Any:
    """Read a file written by ``save``: the single tensor, an ordered ``name -> tensor`` dict (a
    flat file, or any ``.npz`` of numeric arrays), or the nested structure that was saved.

    ``map_location`` is the device to put the tensors on (default: the default device).
    ``weights_only`` is accepted for PyTorch compatibility; loading never unpickles anything.
    ``max_bytes`` caps what the file may make us allocate, in bytes, summed over all tensors
    and the structure's text (default: ``$ENGINE_LOAD_MAX_BYTES``, else 4 GiB). Sizes are checked
    against the archive first, so a small file cannot claim a large array whatever the cap.
    """
    limit = _resolve_max_bytes(max_bytes)
    if hasattr(f, "read"):
        shown = "the file object"
        arrays, structure = _read_checkpoint(f, shown, limit)
    elif isinstance(f, (str, os.PathLike)):
        shown = repr(os.fspath(f))
        if os.path.isdir(f):
            raise PathError(f"load: {shown} is a folder, not a file written by engine.save")
        if not os.path.exists(f):
            raise MissingFileError(f"load: no such file {shown}")
        try:
            handle = open(f, "rb")  # closed by the with below
        except OSError as exc:
            raise PathError(f"load: cannot read {shown}: {exc.strerror or exc}") from None
        with handle:
            arrays, structure = _read_checkpoint(handle, shown, limit)
    else:
        raise EngineTypeError(f"load: expected a path or a binary file object, got {type(f).__name__}")
    if structure is not None:
        try:
            return _decode(structure["root"], arrays, map_location)
        except _Malformed as exc:
            raise EngineValueError(f"load: {shown} is not a checkpoint engine.save wrote: {exc}") from None
    out = OrderedDict((name, _to_tensor(array, map_location)) for name, array in arrays.items())
    if list(out) == [_SINGLE]:
        return out[_SINGLE]
    return out


def _to_tensor(array: np.ndarray, device: Any) -> Tensor:
    from engine.core.dtypes import from_numpy_dtype
    from engine.core.tensor import tensor

    return tensor(array, dtype=from_numpy_dtype(array.dtype), device=device)


def _read_checkpoint(handle: IO[bytes], shown: str, limit: int) -> tuple[dict[str, np.ndarray], dict | None]:
    try:
        return _read_archive(handle, shown, limit)
    except _Malformed as exc:
        raise EngineValueError(f"load: {shown} is not a checkpoint engine.save wrote: {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
            RuntimeError, OSError) as exc:
        if isinstance(exc, EngineError):
            raise
        reason = str(exc).split("\n")[0] or type(exc).__name__
        raise EngineValueError(f"load: {shown} is damaged or not a checkpoint engine.save wrote ({reason})") from None


def _read_archive(handle: IO[bytes], shown: str, limit: int) -> tuple[dict[str, np.ndarray], dict | None]:
    """The archive's arrays by key, and its parsed structure member (None for a flat file)."""
    file_size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    if file_size == 0:
        raise _Malformed("the file is empty")
    head = handle.read(6)
    handle.seek(0)
    if head == b"\x93NUMPY":
        raise _Malformed("it holds a single .npy array (numpy.save), not an archive")
    if not zipfile.is_zipfile(handle):
        raise _Malformed("it is not a zip archive (or it is truncated)")
    handle.seek(0)
    arrays: dict[str, np.ndarray] = {}
    structure = None
    total = 0
    with zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            member = info.filename
            if member == _STRUCTURE and structure is None:
                _check_member_size(info, file_size)
                _check_room(info.file_size, limit - total, shown, limit, member)
                with archive.open(info) as fp:
                    structure = _parse_structure(_read_exactly(fp, info))
                total += info.file_size
                continue
            if info.is_dir() or not member.endswith(".npy"):
                what = "appears twice" if member == _STRUCTURE else "is not a .npy array"
                raise _Malformed(f"member {member!r} {what}")
            key = member[: -len(".npy")]
            if key in arrays:
                raise _Malformed(f"member {member!r} appears twice")
            _check_member_size(info, file_size)
            with archive.open(info) as fp:
                array, nbytes = _read_member(fp, info, limit - total, shown, limit)
            total += nbytes
            arrays[key] = array
    return arrays, structure


def _check_room(nbytes: int, room: int, shown: str, limit: int, member: str) -> None:
    if nbytes > room:
        raise EngineValueError(
            f"load: {shown} holds more than max_bytes={limit} ({_human(limit)}) of data "
            f"(member {member!r} alone is {_human(nbytes)}); if you trust the file, pass "
            f"engine.load(path, max_bytes=...) or set {MAX_BYTES_ENV}"
        )


def _read_exactly(fp: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    """The structure member's bytes: its size is checked against the cap before reading."""
    if info.file_size > MAX_STRUCTURE_BYTES:
        raise _Malformed(
            f"its structure member is {_human(info.file_size)}, more than engine.load reads "
            f"({_human(MAX_STRUCTURE_BYTES)})"
        )
    data = fp.read(info.file_size)
    if len(data) != info.file_size:
        raise _Malformed(f"member {info.filename!r} ends early (truncated)")
    if fp.read(1):  # reading to the end also makes zipfile check the CRC
        raise _Malformed(f"member {info.filename!r} has data past its declared size")
    return data


# JSON text with its strings blanked: what is left shows the nesting. The pattern is the
# "unrolled loop" form (no nested quantifier over one alternative), linear in the text.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# JSON levels per structure level: {"dict": [[key, node]]} is three; the root sits in one more.
_MAX_JSON_DEPTH = 3 * (MAX_DEPTH + 1) + 1


def _json_depth(text: bytes) -> int:
    """The deepest nesting of brackets in ``text`` (JSON with its strings removed), counted a
    chunk at a time with numpy: a running sum of +1 per opening and -1 per closing bracket."""
    deepest = depth = 0
    for start in range(0, len(text), _CHUNK):
        chunk = np.frombuffer(text, dtype=np.uint8, count=min(_CHUNK, len(text) - start), offset=start)
        steps = ((chunk == ord("[")) | (chunk == ord("{"))).astype(np.int32)
        steps -= (chunk == ord("]")) | (chunk == ord("}"))
        running = np.cumsum(steps) + depth
        deepest, depth = max(deepest, int(running.max())), int(running[-1])
    return deepest


def _parse_structure(data: bytes) -> dict:
    """Parse the structure member's JSON (``{"format", "version", "root"}``), refusing over-deep
    nesting *before* the parser (which recurses) sees it, non-standard constants and over-long ints."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("its structure member is not UTF-8 text") from None
    if _json_depth(_JSON_STRING.sub("", text).encode("utf-8", "replace")) > _MAX_JSON_DEPTH:
        raise _Malformed(f"its structure is nested more than {MAX_DEPTH} containers deep")

    def constant(name: str) -> Any:
        raise _Malformed(f"its structure holds the non-JSON constant {name}")

    def integer(digits: str) -> int:
        if len(digits) > _MAX_INT_DIGITS + 1:
            raise _Malformed(f"its structure holds an int of more than {_MAX_INT_DIGITS} digits")
        return int(digits)

    try:
        parsed = json.loads(text, parse_constant=constant, parse_int=integer)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise _Malformed(f"its structure member is not valid JSON ({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(parsed, dict) or parsed.get("format") != _FORMAT or set(parsed) != {"format", "version", "root"}:
        raise _Malformed(f"its structure member is not an {_FORMAT} structure")
    version = parsed["version"]
    if version != _VERSION or type(version) is not int:
        raise _Malformed(
            f"its structure has version {_short(repr(version), 40)}; this engine reads version {_VERSION} "
            "(a newer engine wrote it?)"
        )
    return parsed


class _Frame:
    """A container being rebuilt: its JSON children, and the values made from them so far."""

    __slots__ = ("tag", "path", "keys", "children", "values", "next")

    def __init__(self, tag: str, path: tuple, keys: list | None, children: list) -> None:
        self.tag, self.path, self.keys, self.children = tag, path, keys, children
        self.values: list = []
        self.next = 0  # the child to visit next

    def finish(self) -> Any:
        if self.keys is None:
            if self.tag == "Size":
                if not all(type(v) is int and v >= 0 for v in self.values):
                    raise _Malformed(f"its structure has a Size of other than counts at {_where(self.path)}")
                return Size(self.values)
            return self.values if self.tag == "list" else tuple(self.values)
        mapping = _TAGGED_MAPPINGS[self.tag](zip(self.keys, self.values))
        if len(mapping) != len(self.keys):
            raise _Malformed(f"its structure has a dict with a repeated key at {_where(self.path)}")
        return mapping


_TAGGED_MAPPINGS: dict[str, Any] = {
    "dict": dict, "OrderedDict": OrderedDict, "Counter": lambda pairs: Counter(dict(pairs)),
}
_TAGGED_SEQUENCES = {"list", "tuple", "Size"}
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode(root: Any, arrays: dict[str, np.ndarray], device: Any) -> Any:
    """Rebuild the saved structure from its JSON tree, with a stack rather than recursion (the
    nesting was bounded before parsing). Every member must be used, each as one kind of leaf."""
    made: dict[str, tuple[str, Any]] = {}  # member key -> (kind, value): a tensor saved twice is one tensor
    stack: list[_Frame] = []  # the containers being rebuilt, outermost first

    def leaf(tag: str, key: Any, path: tuple) -> Any:
        if not isinstance(key, str) or key not in arrays:
            raise _Malformed(f"its structure points {_where(path)} at {_short(repr(key), 80)}, which is no member")
        if key in made:
            if made[key][0] != tag:
                raise _Malformed(f"member {key + '.npy'!r} is used as both a {made[key][0]} and a {tag}")
            return made[key][1]
        array = arrays[key]
        if tag == "numpy":
            if array.ndim:
                raise _Malformed(f"member {key + '.npy'!r} holds shape {array.shape}, not a number")
            value = array[()]
        else:
            value = array if tag == "ndarray" else _to_tensor(array, device)
        made[key] = (tag, value)
        return value

    def visit(node: Any, path: tuple, depth: int) -> tuple[bool, Any]:
        """(True, value) for a leaf; (False, None) after pushing a frame for a container."""
        if node is None or type(node) in (bool, int, float, str):
            return True, node
        if not isinstance(node, dict) or len(node) != 1:
            raise _Malformed(f"its structure has a malformed entry at {_where(path)}")
        ((tag, body),) = node.items()
        if tag in ("tensor", "ndarray", "numpy"):
            return True, leaf(tag, body, path)
        if tag == "float" and isinstance(body, str) and body in _SPECIAL_FLOATS:
            return True, _SPECIAL_FLOATS[body]
        if (tag not in _TAGGED_MAPPINGS and tag not in _TAGGED_SEQUENCES) or not isinstance(body, list):
            raise _Malformed(f"its structure has an unknown entry {_short(repr(tag), 40)} at {_where(path)}")
        if depth >= MAX_DEPTH:
            raise _Malformed(f"its structure is nested more than {MAX_DEPTH} containers deep")
        if tag in _TAGGED_SEQUENCES:
            stack.append(_Frame(tag, path, None, [(i, child) for i, child in enumerate(body)]))
            return False, None
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise _Malformed(f"its structure has a dict entry that is not a [str or int key, value] pair "
                                 f"at {_where(path)}")
        stack.append(_Frame(tag, path, [key for key, _ in body], [tuple(pair) for pair in body]))
        return False, None

    done, result = visit(root, (), 0)
    while stack:
        frame = stack[-1]
        if frame.next < len(frame.children):
            key, child = frame.children[frame.next]
            frame.next += 1
            done, value = visit(child, (*frame.path, key), len(stack))
            if done:  # else its frame is on top now, and appends its value when finished
                frame.values.append(value)
            continue
        stack.pop()
        value = frame.finish()
        if stack:
            stack[-1].values.append(value)
        else:
            result = value
    unused = [key for key in arrays if key not in made]
    if unused:
        raise _Malformed(f"member {_short(unused[0]) + '.npy'!r} is not used by its structure")
    return result


def _check_member_size(info: zipfile.ZipInfo, file_size: int) -> None:
    """The uncompressed size a member declares must be possible for the bytes it occupies."""
    member = info.filename
    if info.flag_bits & 0x1:
        raise _Malformed(f"member {member!r} is encrypted")
    if info.compress_size > file_size:
        raise _Malformed(f"member {member!r} claims {info.compress_size} bytes in a {file_size}-byte file (truncated?)")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise _Malformed(f"member {member!r} is stored uncompressed but its two recorded sizes differ")
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > info.compress_size * _DEFLATE_MAX_RATIO + 1024:
            raise _Malformed(
                f"member {member!r} declares {info.file_size} bytes from {info.compress_size} compressed bytes, "
                "more than deflate can produce"
            )
    else:
        raise _Malformed(
            f"member {member!r} uses zip compression method {info.compress_type}; engine.load reads stored or "
            "deflated members (what numpy.savez and numpy.savez_compressed write)"
        )


def _read_member(fp: IO[bytes], info: zipfile.ZipInfo, room: int, shown: str, limit: int) -> tuple[np.ndarray, int]:
    """Parse one ``.npy`` member's header (never pickle), check it, then read exactly its data."""
    member = info.filename
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise _Malformed(
                f"member {member!r} uses .npy format version {version[0]}.{version[1]}; expected 1.0 or 2.0"
            )
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        # Parses the header text with ast.literal_eval (no code runs) and caps its length.
        shape, fortran_order, dtype = read_header(fp)
    except ValueError:
        raise _Malformed(f"member {member!r} does not start with a valid .npy header") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.str[1:] not in _LOADABLE:
        raise _Malformed(
            f"member {member!r} has dtype {dtype.str!r}; engine tensors hold bool, uint8, int64, float32, "
            "float64 (and narrower ints and floats, widened)"
        )
    if any(isinstance(d, bool) or d < 0 for d in shape):
        raise _Malformed(f"member {member!r} declares the invalid shape {shape}")
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    data_size = info.file_size - fp.tell()
    if nbytes != data_size:
        declared, held = _human(nbytes), _human(max(data_size, 0))
        if declared == held:  # close sizes: show the bytes
            declared, held = f"{nbytes} bytes", f"{data_size} bytes"
        raise _Malformed(
            f"member {member!r} declares shape {shape} of {dtype.name} ({declared}) but holds {held} of data"
        )
    _check_room(nbytes, room, shown, limit, member)
    array = np.empty(count, dtype=dtype)
    raw = array.view(np.uint8)
    filled = 0
    while filled < nbytes:  # bounded chunks: never more than the declared, checked size
        chunk = fp.read(min(_CHUNK, nbytes - filled))
        if not chunk:
            raise _Malformed(f"member {member!r} ends early (truncated)")
        raw[filled : filled + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        filled += len(chunk)
    if fp.read(1):  # reading to the end also makes zipfile check the CRC
        raise _Malformed(f"member {member!r} has data past its declared size")
    shape = tuple(shape)
    array = array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)
    return array, nbytes
