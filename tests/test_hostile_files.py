"""Issue 8, checkpoints: every malformed file is one EngineError, sizes are checked before
allocating, saving is atomic, and every key, dtype and shape (0-d included) round-trips."""

from __future__ import annotations

import io
import os
import stat
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import engine
from engine import nn
from engine.core.serialization import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, MissingFileError, PathError
from engine.errors import EngineError, EngineTypeError, EngineValueError


def npy(shape="(1,)", descr="'<f8'", data=b"\0" * 8, version=(1, 0), fortran="False") -> bytes:
    """A .npy member written by hand, so the header can say anything."""
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}".encode("latin1")
    prefix = 10 if version == (1, 0) else 12
    header += b" " * (63 - (prefix + len(header)) % 64) + b"\n"
    size = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + size + header + data


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def with_declared_size(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size recorded for the only member, in both zip headers."""
    data = bytearray(data)
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def good_checkpoint() -> bytes:
    buf = io.BytesIO()
    engine.save({"w": engine.ones(64), "b": engine.zeros(3)}, buf)
    return buf.getvalue()


GOOD = good_checkpoint()

MALFORMED = {
    "empty": (b"", "the file is empty"),
    "text": (b"hello, world\n", "not a zip archive"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a zip archive"),
    "single npy": (npy(), "holds a single .npy array"),
    "truncated to 10 bytes": (GOOD[:10], "not a zip archive (or it is truncated)"),
    "truncated to half": (GOOD[: len(GOOD) // 2], "truncated"),
    "last byte cut": (GOOD[:-1], "truncated"),
    "bad CRC": (GOOD[:120] + bytes([GOOD[120] ^ 0xFF]) + GOOD[121:], "Bad CRC-32"),
    "4 TiB declared in 200 bytes": (zip_of({"w.npy": npy(shape="(1099511627776,)", descr="'<f4'", data=b"")}),
                                    "declares shape (1099511627776,) of float32 (4 TiB) but holds 0 bytes"),
    "2-D huge declared": (zip_of({"w.npy": npy(shape="(1048576, 1048576)")}), "(8 TiB) but holds 8 bytes"),
    "object dtype": (zip_of({"w.npy": npy(descr="'|O'", data=b"\x80\x04N.")}), "has dtype '|O'"),
    "structured dtype": (zip_of({"w.npy": npy(descr="[('a', '<f8')]")}), "has dtype '|V8'"),
    "complex dtype": (zip_of({"w.npy": npy(descr="'<c16'", data=b"\0" * 16)}), "has dtype '<c16'"),
    "string dtype": (zip_of({"w.npy": npy(descr="'<U1'", data=b"\0" * 4)}), "has dtype '<U1'"),
    "uint64 dtype": (zip_of({"w.npy": npy(descr="'<u8'")}), "has dtype '<u8'"),
    "long double": (zip_of({"w.npy": npy(descr="'<f16'", data=b"\0" * 16)}), "has dtype '<f16'"),
    "header is code": (zip_of({"w.npy": npy(shape="__import__('os').getcwd()")}), "valid .npy header"),
    "header garbage": (zip_of({"w.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': oops}\n"}), "valid .npy header"),
    "no magic": (zip_of({"w.npy": b"just some bytes"}), "valid .npy header"),
    "format 3.0": (zip_of({"w.npy": npy(version=(3, 0))}), "format version 3.0"),
    "negative shape": (zip_of({"w.npy": npy(shape="(-1,)", data=b"")}), "invalid shape (-1,)"),
    "bool in shape": (zip_of({"w.npy": npy(shape="(True,)")}), "invalid shape (True,)"),
    "too much data": (zip_of({"w.npy": npy(data=b"\0" * 16)}), "(8 bytes) but holds 16 bytes"),
    "too little data": (zip_of({"w.npy": npy(shape="(2,)")}), "(16 bytes) but holds 8 bytes"),
    "not an array member": (zip_of({"readme.txt": b"hi"}), "member 'readme.txt' is not a .npy array"),
    "folder member": (zip_of({"sub/": b""}), "member 'sub/' is not a .npy array"),
    "bzip2 member": (zip_of({"w.npy": npy()}, zipfile.ZIP_BZIP2), "compression method 12"),
    "deflate size lie": (with_declared_size(zip_of({"w.npy": npy()}, zipfile.ZIP_DEFLATED), 2**31),
                         "more than deflate can produce"),
    "stored size lie": (with_declared_size(zip_of({"w.npy": npy()}), 2**31), "two recorded sizes differ"),
    # nested checkpoints: the JSON structure member (more in tests/test_save_nested.py)
    "structure not JSON": (zip_of({"__engine_structure__.json": b"{oops"}), "structure member is not valid JSON"),
    "structure 100k deep": (zip_of({"__engine_structure__.json": b"[" * 100_000}), "nested more than 100 containers"),
    "structure runs code?": (zip_of({"__engine_structure__.json": b'{"format": "engine.save", "version": 1, '
                                                                  b'"root": {"__import__": "os"}}'}),
                             "unknown entry '__import__' at the top level"),
    "structure points nowhere": (zip_of({"__engine_structure__.json": b'{"format": "engine.save", "version": 1, '
                                                                      b'"root": {"tensor": "w"}}'}),
                                 "points the top level at 'w', which is no member"),
    "structure leaves a member out": (zip_of({"__engine_structure__.json": b'{"format": "engine.save", "version": 1, '
                                                                           b'"root": null}', "w.npy": npy()}),
                                      "member 'w.npy' is not used by its structure"),
    "structure bzip2": (zip_of({"__engine_structure__.json": b"{}"}, zipfile.ZIP_BZIP2), "compression method 12"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_files_are_one_line_engine_errors_naming_the_path(tmp_path, name):
    data, words = MALFORMED[name]
    path = tmp_path / "hostile.npz"
    path.write_bytes(data)
    with pytest.raises(EngineValueError) as info:
        engine.load(path, max_bytes=2**50)  # even with the cap out of the way
    message = str(info.value)
    assert message.startswith(f"load: {str(path)!r} ")
    assert words in message
    assert "\n" not in message and "0x" not in message
    # The same bytes through a file object: the same refusal.
    with pytest.raises(EngineValueError, match="load: the file object"):
        engine.load(io.BytesIO(data))


def test_duplicate_member_names_are_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("w.npy", npy())
        archive.writestr("w.npy", npy())
    with pytest.raises(EngineValueError, match="member 'w.npy' appears twice"):
        engine.load(io.BytesIO(buf.getvalue()))


def test_missing_file_and_folder_and_unreadable(tmp_path):
    with pytest.raises(MissingFileError, match="load: no such file") as info:
        engine.load(tmp_path / "nope.npz")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, EngineError)
    with pytest.raises(PathError, match="is a folder, not a file written by engine.save"):
        engine.load(tmp_path)
    with pytest.raises(EngineTypeError, match="load: expected a path or a binary file object, got int"):
        engine.load(3)


# ---- the size cap ------------------------------------------------------------------------------------------------


def test_cap_refuses_before_allocating_and_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "big.npz"
    engine.save({"a": engine.zeros(1000), "b": engine.zeros(1000)}, path)  # 2 x 4000 bytes of float32
    assert len(engine.load(path, max_bytes=8000)) == 2
    with pytest.raises(EngineValueError) as info:
        engine.load(path, max_bytes=7999)  # the total counts, not each tensor alone
    assert "holds more than max_bytes=7999" in str(info.value)
    assert f"pass engine.load(path, max_bytes=...) or set {MAX_BYTES_ENV}" in str(info.value)
    monkeypatch.setenv(MAX_BYTES_ENV, "3999")
    with pytest.raises(EngineValueError, match="max_bytes=3999"):
        engine.load(path)
    assert len(engine.load(path, max_bytes=10_000)) == 2  # the argument beats the variable
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    with pytest.raises(EngineValueError, match=f"{MAX_BYTES_ENV}='lots' is not a whole number"):
        engine.load(path)
    monkeypatch.delenv(MAX_BYTES_ENV)
    assert DEFAULT_MAX_BYTES == 4 * 2**30
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(EngineValueError, match="max_bytes must be a non-negative int"):
            engine.load(path, max_bytes=bad)


def test_compressed_archives_load_and_a_bomb_is_capped(tmp_path):
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, w=np.arange(10.0), zeros=np.zeros(2_000_000))  # 16 MB of zeros, ~16 KB on disk
    assert os.path.getsize(path) < 100_000
    loaded = engine.load(path)
    assert loaded["w"].tolist() == list(np.arange(10.0)) and loaded["zeros"].shape == (2_000_000,)
    with pytest.raises(EngineValueError, match="max_bytes=1000000"):
        engine.load(path, max_bytes=1_000_000)


def test_a_lying_deflate_stream_allocates_no_more_than_declared(tmp_path):
    # The header and the zip record 1 MB; the deflate stream really holds 40 MB. zipfile stops
    # reading at the recorded size, the CRC then fails, and nothing near 40 MB is allocated.
    data = npy(shape="(125000,)", data=b"\0" * 40_000_000)
    declared = len(npy(shape="(125000,)", data=b"")) + 1_000_000
    lying = with_declared_size(zip_of({"w.npy": data}, zipfile.ZIP_DEFLATED), declared)
    path = tmp_path / "lie.npz"
    path.write_bytes(lying)
    tracemalloc.start()
    try:
        with pytest.raises(EngineValueError, match="Bad CRC-32|past its declared size"):
            engine.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


# ---- saving ------------------------------------------------------------------------------------------------------


def test_keys_that_collide_with_numpy_parameters_round_trip(tmp_path):
    state = {
        "file": engine.tensor([1.0, 2.0]),
        "allow_pickle": engine.tensor([3]),
        "args": engine.tensor(True),
        "kwds": engine.tensor(4.0),
        "compress": engine.tensor([5], dtype=engine.uint8),
    }
    engine.save(state, tmp_path / "c.npz")
    back = engine.load(tmp_path / "c.npz")
    assert list(back) == list(state)
    for key, value in state.items():
        assert back[key].dtype == value.dtype and back[key].tolist() == value.tolist(), key


@pytest.mark.parametrize("key", ["0.weight", "layers.10.bias", "ünïcødé.权重", "a/b", "a/../../b", "/abs", "", " ",
                                 "x.npy", "..", "a" * 1000])
def test_key_rule_anything_but_nul_and_backslash_round_trips(tmp_path, key):
    engine.save({key: engine.tensor([1.0]), "other": engine.tensor(2.0)}, tmp_path / "k.npz")
    back = engine.load(tmp_path / "k.npz")
    assert list(back) == [key, "other"]
    with np.load(tmp_path / "k.npz") as archive:  # a plain numpy archive
        assert archive.files == [key, "other"]


@pytest.mark.parametrize(
    "key, error, words",
    [
        ("a\x00b", EngineValueError, "NUL or backslash"),
        ("a\\b", EngineValueError, "NUL or backslash"),
        ("\ud800", EngineValueError, "lone surrogate"),
        ("__engine_tensor__", EngineValueError, "reserved"),
        # An int key is kept in a nested structure (tests/test_save_nested.py); other types are not.
        (3.5, EngineTypeError, "keys must be strings or ints, got float 3.5"),
        (True, EngineTypeError, "keys must be strings or ints, got bool True"),
        (("a",), EngineTypeError, "keys must be strings"),
    ],
)
def test_unsafe_keys_are_refused_before_touching_the_file(tmp_path, key, error, words):
    path = tmp_path / "k.npz"
    path.write_bytes(b"old")
    with pytest.raises(error, match=words):
        engine.save({key: engine.tensor(1.0)}, path)
    assert path.read_bytes() == b"old"


@pytest.mark.parametrize(
    "values, dtype",
    [
        ([0, 1, 255, 7], engine.uint8),
        ([True, False, True], engine.bool),
        ([-(2**63), 2**63 - 1, 0], engine.int64),
        ([1.5, -0.0, 1e-45, 3.4e38], engine.float32),
        ([5e-324, -0.0, float("nan"), float("inf"), 1e308, 0.1], engine.float64),
    ],
)
def test_every_dtype_round_trips_bit_for_bit(tmp_path, values, dtype):
    t = engine.tensor(values, dtype=dtype)
    engine.save({"t": t, "m": t.reshape(1, -1)}, tmp_path / "d.npz")
    back = engine.load(tmp_path / "d.npz")
    for key in ("t", "m"):
        assert back[key].dtype == dtype
        assert back[key].numpy().tobytes() == engine.load(tmp_path / "d.npz")[key].numpy().tobytes()
    assert back["t"].numpy().tobytes() == t.numpy().tobytes()
    assert back["m"].shape == (1, len(values))


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (1,), (2, 3, 4), (1, 1, 1, 1)])
def test_every_shape_round_trips_0d_included(tmp_path, shape):
    t = engine.arange(int(np.prod(shape)), dtype=engine.float64).reshape(*shape) if shape else engine.tensor(7.0)
    engine.save(t, tmp_path / "one.npz")
    back = engine.load(tmp_path / "one.npz")
    assert back.shape == shape and back.tolist() == t.tolist()
    engine.save({"x": t, "n": engine.tensor(3)}, tmp_path / "sd.npz")
    sd = engine.load(tmp_path / "sd.npz")
    assert sd["x"].shape == shape and sd["n"].shape == ()


def test_non_contiguous_and_fortran_and_big_endian_arrays_load_correctly(tmp_path):
    t = engine.arange(6, dtype=engine.float64).reshape(2, 3).t()  # a transposed view
    engine.save({"t": t}, tmp_path / "v.npz")
    assert engine.load(tmp_path / "v.npz")["t"].tolist() == t.tolist()
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "np.npz", f=fortran, be=np.arange(3, dtype=">i8"), h=np.float16(0.5))
    back = engine.load(tmp_path / "np.npz")
    assert back["f"].tolist() == fortran.tolist()
    assert back["be"].dtype == engine.int64 and back["be"].tolist() == [0, 1, 2]
    assert back["h"].dtype == engine.float32 and back["h"].shape == () and back["h"].item() == 0.5


class Scalars(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(engine.tensor(2.5))
        self.lin = nn.Linear(2, 1)


def test_module_with_a_0d_parameter_loads_its_own_checkpoint(tmp_path):
    model = Scalars()
    engine.save(model.state_dict(), tmp_path / "m.npz")
    fresh = Scalars()
    with engine.no_grad():
        fresh.scale.fill_(0.0)
    fresh.load_state_dict(engine.load(tmp_path / "m.npz"))
    assert fresh.scale.shape == () and fresh.scale.item() == 2.5
    model.save(tmp_path / "m2.npz")
    assert Scalars().load(tmp_path / "m2.npz").scale.item() == 2.5


def test_failed_save_leaves_the_old_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    engine.save({"w": engine.ones(3)}, path)
    good = path.read_bytes()
    with pytest.raises(EngineTypeError):
        engine.save({"w": engine.ones(3), "bad": object()}, path)  # refused before writing

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(PathError, match="No space left on device; any existing file is unchanged"):
        engine.save({"w": engine.zeros(3)}, path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        engine.save({"w": engine.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert engine.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "target, words",
    [
        (lambda tmp: tmp, "it is a folder; give a file name"),
        (lambda tmp: tmp / "missing" / "c.npz", "does not exist"),
        (lambda tmp: tmp / "afile" / "c.npz", "does not exist"),
    ],
)
def test_save_to_a_bad_place_is_one_line(tmp_path, target, words):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(PathError, match=words) as info:
        engine.save({"w": engine.ones(1)}, target(tmp_path))
    assert str(info.value).startswith("save: cannot write ")
    assert sorted(os.listdir(tmp_path)) == ["afile"]


def test_save_keeps_permissions_follows_symlinks_and_is_deterministic(tmp_path):
    path = tmp_path / "c.npz"
    engine.save({"w": engine.ones(2)}, path)
    os.chmod(path, 0o640)
    engine.save({"w": engine.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    link = tmp_path / "latest.npz"
    link.symlink_to(path)
    engine.save({"w": engine.full((2,), 3.0)}, link)
    assert link.is_symlink() and engine.load(path)["w"].tolist() == [3.0, 3.0]
    first = path.read_bytes()
    engine.save({"w": engine.full((2,), 3.0)}, path)
    assert path.read_bytes() == first  # same state dict, same bytes (no timestamps)
    assert zlib.crc32(first) == zlib.crc32(path.read_bytes())


def test_file_objects_round_trip():
    buf = io.BytesIO()
    engine.save({"a": engine.tensor([1, 2], dtype=engine.uint8)}, buf)
    buf.seek(0)
    back = engine.load(buf)
    assert back["a"].dtype == engine.uint8 and back["a"].tolist() == [1, 2]
