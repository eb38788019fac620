"""``engine.save`` / ``engine.load``: state dicts as numpy ``.npz`` archives, never pickle.

A file is a zip archive (what ``numpy.savez`` writes) holding one ``<key>.npy`` member per
entry, in order, each with its dtype and shape (0-d tensors stay 0-d). ``numpy.load`` reads
it too. Whole modules are not saved (that would need pickle): save ``model.state_dict()``.

Saving is atomic: the archive is written to a temporary file in the target's folder and
renamed over the target only once complete, so a failed save leaves the old file intact.

Loading trusts nothing in the file. It never unpickles, refuses object, structured and
unsupported dtypes, and checks every size an array header declares against the bytes the
archive really holds *before* allocating, then reads in bounded chunks. The total tensor
data it will allocate is capped at ``max_bytes``: by default :data:`DEFAULT_MAX_BYTES`
(4 GiB), or the environment variable ``ENGINE_LOAD_MAX_BYTES``; pass ``max_bytes=`` to raise
it for a bigger file you trust. Every malformed file is one :class:`EngineValueError` line
naming the path; a missing path is :class:`MissingFileError` (a ``FileNotFoundError``).

This module also holds the checks the command line and the drawing code run on output paths
before long work (:func:`check_output_dir`, :func:`check_output_file`).
"""

from __future__ import annotations

import math
import os
import secrets
import stat
import tempfile
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from engine.core.tensor import Tensor
from engine.errors import EngineError, EngineTypeError, EngineValueError, MissingFileError, PathError

# The key under which a single saved tensor is stored (``engine.save(t, path)``).
_SINGLE = "__engine_tensor__"
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


def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        # np.asarray, not np.ascontiguousarray: the latter turns a 0-d array into shape (1,).
        return np.asarray(value._backend.to_numpy(value._data))
    if isinstance(value, (np.ndarray, int, float, bool, np.generic)):
        array = np.asarray(value)
        if array.dtype.str[1:] in _LOADABLE:
            return array
        if array.dtype.kind in "fiub":
            raise EngineTypeError(
                f"save: entry {name!r} has numpy dtype {array.dtype}, which an engine tensor cannot hold; "
                "use bool, uint8, int64, float32 or float64"
            )
    raise EngineTypeError(
        f"save: entry {name!r} has type {type(value).__name__}; "
        "a state dict holds tensors (or numbers and numpy arrays)"
    )


def _check_key(name: object) -> str:
    """Keys become zip member names ``<key>.npy``; refuse the few that would not come back intact."""
    if not isinstance(name, str):
        raise EngineTypeError(f"save: state dict keys must be strings, got {type(name).__name__} {name!r}")
    if name == _SINGLE:
        raise EngineValueError(f"save: the key {_SINGLE!r} is reserved for a file holding a single tensor")
    if "\x00" in name or "\\" in name:
        # zip readers cut names at NUL, and Windows ones turn backslashes into '/'.
        raise EngineValueError(f"save: key {name!r} contains a NUL or backslash, which zip member names can't keep")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise EngineValueError(f"save: key {name!r} is not valid Unicode (a lone surrogate)") from None
    if size > 65_000:
        raise EngineValueError(f"save: key of {size} bytes is too long for a zip member name (at most 65000)")
    return name


def _write_archive(handle: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """One stored (uncompressed) ``<key>.npy`` member per entry, with a fixed timestamp so the
    same state dict always gives the same bytes. Keys are member names, never keyword
    arguments, so no key can collide with a parameter (``np.savez(f, **d)`` loses ``file``)."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write a state dict (``name -> tensor``) or a single tensor to ``f`` as ``.npz``.

    The path is used exactly as given (``model.pt`` stays ``model.pt``; numpy would add ``.npz``).
    The write is atomic: a temporary file in the same folder is renamed over ``f`` only when
    complete, so a failure leaves any existing file untouched. ``f`` may also be a binary file
    object (written directly). Keys are any strings without NUL or backslash; every dtype
    (bool, uint8, int64, float32, float64) and shape, 0-d included, comes back exactly.
    """
    # A model (anything with state_dict(); nn sits a layer above, so it is recognised by shape).
    if callable(getattr(obj, "state_dict", None)) and not hasattr(obj, "items"):
        raise EngineTypeError(
            f"save: saving a whole {type(obj).__name__} would need pickle; save model.state_dict() instead "
            "and load it with model.load_state_dict(engine.load(path))"
        )
    if isinstance(obj, Tensor):
        arrays = {_SINGLE: _as_array(_SINGLE, obj)}
    elif hasattr(obj, "items"):
        arrays = {_check_key(name): _as_array(name, value) for name, value in obj.items()}
    else:
        raise EngineTypeError(f"save: expected a state dict (name -> tensor) or a tensor, got {type(obj).__name__}")
    if hasattr(f, "write"):
        _write_archive(f, arrays)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise EngineTypeError(f"save: expected a path or a binary file object, got {type(f).__name__}")
    _save_atomically(arrays, os.fspath(f))


def _save_atomically(arrays: dict[str, np.ndarray], path: str) -> None:
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
            _write_archive(handle, arrays)
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
    """Read a file written by ``save``: an ordered ``name -> tensor`` dict (or the single tensor).

    ``map_location`` is the device to put the tensors on (default: the default device).
    ``weights_only`` is accepted for PyTorch compatibility; loading never unpickles anything.
    ``max_bytes`` caps the tensor data the file may make us allocate, in bytes, summed over
    all tensors (default: ``$ENGINE_LOAD_MAX_BYTES``, else 4 GiB). Sizes are checked against the
    archive first, so a small file cannot claim a large array whatever the cap.
    """
    from engine.core.dtypes import from_numpy_dtype
    from engine.core.tensor import tensor

    limit = _resolve_max_bytes(max_bytes)
    if hasattr(f, "read"):
        shown = "the file object"
        arrays = _read_checkpoint(f, shown, limit)
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
            arrays = _read_checkpoint(handle, shown, limit)
    else:
        raise EngineTypeError(f"load: expected a path or a binary file object, got {type(f).__name__}")
    out = OrderedDict(
        (name, tensor(array, dtype=from_numpy_dtype(array.dtype), device=map_location))
        for name, array in arrays.items()
    )
    if list(out) == [_SINGLE]:
        return out[_SINGLE]
    return out


def _read_checkpoint(handle: IO[bytes], shown: str, limit: int) -> dict[str, np.ndarray]:
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


def _read_archive(handle: IO[bytes], shown: str, limit: int) -> dict[str, np.ndarray]:
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
    total = 0
    with zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            member = info.filename
            if info.is_dir() or not member.endswith(".npy"):
                raise _Malformed(f"member {member!r} is not a .npy array")
            key = member[: -len(".npy")]
            if key in arrays:
                raise _Malformed(f"member {member!r} appears twice")
            _check_member_size(info, file_size)
            with archive.open(info) as fp:
                array, nbytes = _read_member(fp, info, limit - total, shown, limit)
            total += nbytes
            arrays[key] = array
    return arrays


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
    if nbytes > room:
        raise EngineValueError(
            f"load: {shown} holds more than max_bytes={limit} ({_human(limit)}) of tensor data "
            f"(member {member!r} alone is {_human(nbytes)}); if you trust the file, pass "
            f"engine.load(path, max_bytes=...) or set {MAX_BYTES_ENV}"
        )
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
