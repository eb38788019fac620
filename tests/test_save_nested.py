"""Issue 11, checkpoints as real programs write them: ``engine.save`` / ``engine.load`` of nested
structures (``{"epoch", "model", "optimizer", "scheduler", "loss"}``, optimizer and scheduler state
dicts, lists of tensors), compared with what ``torch.save`` / ``torch.load`` give for the same
structure; resuming training from a checkpoint on every device; old flat files; and the refusals
(unsupported leaves named by their path, malformed or oversize structure members)."""

from __future__ import annotations

import base64
import collections
import hashlib
import io
import json
import math
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_helpers import DEVICES

import engine
import engine.nn as nn
import engine.optim as optim
from engine.core import serialization
from engine.errors import EngineTypeError, EngineValueError
from engine.optim import lr_scheduler

STRUCTURE = "__engine_structure__.json"


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch.save / torch.load are the reference; install torch")


def round_trip(obj, **load_kwargs):
    buf = io.BytesIO()
    engine.save(obj, buf)
    buf.seek(0)
    return engine.load(buf, **load_kwargs)


def signature(obj):
    """What a loaded structure is, library-neutrally: container types, key types, leaf types and
    values (tensors as dtype, shape and values). Recursive: test structures are shallow."""
    name = type(obj).__name__
    if isinstance(obj, dict):
        return (name, [(type(k).__name__, k, signature(v)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (name, [signature(v) for v in obj])
    if hasattr(obj, "detach"):  # an engine or a torch tensor
        array = obj.detach().cpu().numpy() if hasattr(obj, "cpu") else obj.detach().to("numpy").numpy()
        return ("Tensor", str(obj.dtype).split(".")[-1], tuple(obj.shape), repr(array.tolist()))
    if isinstance(obj, (np.ndarray, np.generic)):
        return (name, obj.dtype.str, np.shape(obj), repr(np.asarray(obj).tolist()))
    return (name, repr(obj))  # repr: nan equals nan, -0.0 differs from 0.0


def to_torch(torch, obj):
    """The same Python structure with torch tensors (and torch.Size) in place of the engine's."""
    if isinstance(obj, engine.Tensor):
        return torch.tensor(obj.detach().to("numpy").numpy())
    if isinstance(obj, engine.Size):
        return torch.Size(obj)
    if isinstance(obj, dict):
        out = type(obj)()  # filled by item: Counter(pairs) would count the pairs
        for k, v in obj.items():
            out[k] = to_torch(torch, v)
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(torch, v) for v in obj)
    return obj


def torch_round_trip(torch, obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)  # numpy leaves need it; nothing else here does


# ---- what real programs save -------------------------------------------------------------------------------------


def model_and_training(seed: int, optimizer: str, scheduler: str):
    engine.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    make = {
        "SGD": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        "Adam": lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99), amsgrad=True),
        "AdamW": lambda p: optim.AdamW(p, lr=0.05),
        "RMSprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
        "Adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    }
    opt = make[optimizer](model.parameters())
    sched = {
        "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
        "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3, 4], gamma=0.3),
        "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
        "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
    }[scheduler](opt)
    return model, opt, sched


def train(model, opt, sched, epochs, data):
    x, y = data
    loss = None
    for _ in range(epochs):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        sched.step()
    return loss


COMBOS = [("SGD", "MultiStepLR"), ("Adam", "StepLR"), ("AdamW", "CosineAnnealingLR"), ("RMSprop", "ExponentialLR"),
          ("Adagrad", "StepLR")]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("optimizer, scheduler", COMBOS)
def test_resuming_from_a_checkpoint_continues_exactly_like_an_uninterrupted_run(tmp_path, device, optimizer,
                                                                                  scheduler):
    data = (engine.tensor(np.linspace(-1, 1, 24).reshape(8, 3), device=device),
            engine.tensor(np.cos(np.arange(8.0)).reshape(8, 1), device=device))
    model, opt, sched = model_and_training(0, optimizer, scheduler)
    model.to(device)
    train(model, opt, sched, 6, data)

    first, first_opt, first_sched = model_and_training(0, optimizer, scheduler)
    first.to(device)
    loss = train(first, first_opt, first_sched, 3, data)
    engine.save({"epoch": 3, "model": first.state_dict(), "optimizer": first_opt.state_dict(),
                 "scheduler": first_sched.state_dict(), "loss": loss.item()}, tmp_path / "ckpt.pt")

    resumed, resumed_opt, resumed_sched = model_and_training(1, optimizer, scheduler)  # other initial weights
    resumed.to(device)
    checkpoint = engine.load(tmp_path / "ckpt.pt", map_location=device)
    assert checkpoint["epoch"] == 3 and type(checkpoint["epoch"]) is int
    assert checkpoint["loss"] == loss.item() and type(checkpoint["loss"]) is float
    assert all(t.device == engine.device(device) for t in checkpoint["model"].values())
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed_sched.load_state_dict(checkpoint["scheduler"])
    train(resumed, resumed_opt, resumed_sched, 6 - checkpoint["epoch"], data)

    for (name, want), got in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert got.numpy().tobytes() == want.numpy().tobytes(), name  # bit for bit
    assert resumed_sched.get_last_lr() == sched.get_last_lr()
    assert resumed_sched.state_dict() == sched.state_dict()
    assert opt.param_groups[0]["lr"] == resumed_opt.param_groups[0]["lr"]


@pytest.mark.parametrize("optimizer, scheduler", COMBOS)
def test_optimizer_and_scheduler_state_dicts_come_back_with_their_types_and_load(torch, optimizer, scheduler):
    model, opt, sched = model_and_training(0, optimizer, scheduler)
    x = engine.ones(2, 3, dtype=engine.float64)
    train(model, opt, sched, 2, (x, engine.zeros(2, 1, dtype=engine.float64)))
    saved = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
    back = round_trip(saved)
    assert signature(back) == signature(saved)
    assert all(type(k) is int for k in back["optimizer"]["state"])
    assert back["optimizer"]["param_groups"][0]["params"] == list(range(4))
    # what torch.save / torch.load give for the same Python structure
    assert signature(back) == signature(torch_round_trip(torch, to_torch(torch, saved)))
    # and they load: into an optimizer and a scheduler of the same kind, which then say the same
    _, opt2, sched2 = model_and_training(1, optimizer, scheduler)
    opt2.load_state_dict(back["optimizer"])
    sched2.load_state_dict(back["scheduler"])
    assert signature(opt2.state_dict()) == signature(saved["optimizer"])
    assert sched2.state_dict() == saved["scheduler"]
    if scheduler == "MultiStepLR":
        assert type(back["scheduler"]["milestones"]) is Counter


def test_a_torch_style_checkpoint_matches_torch_round_trip(torch):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    checkpoint = {
        "epoch": 5, "model": model.state_dict(), "loss": 0.125, "best": float("inf"), "note": "lr 1e-3, ünïcødé",
        "history": [0.5, 0.25, float("nan"), -0.0], "shape": engine.ones(2, 3).shape, "flags": (True, False, None),
        "by_step": {0: engine.tensor(1.0), 10: engine.tensor([2, 3]), "0": "a string key beside an int key"},
        "tensors": [engine.tensor(True), engine.zeros(0, 3), engine.tensor([1, 2], dtype=engine.uint8)],
        "empty": [[], (), {}, OrderedDict()], "big": 2**100, "negative": -(2**63),
        "numpy": [np.float32(1.5), np.int64(7), np.bool_(True), np.float64(0.1), np.arange(6).reshape(2, 3)],
        "counter": Counter({"a": 2, 3: 1}),
    }
    ours = round_trip(checkpoint)
    assert signature(ours) == signature(checkpoint)
    assert signature(ours) == signature(torch_round_trip(torch, to_torch(torch, checkpoint)))
    assert type(ours["model"]) is OrderedDict and type(ours["by_step"]) is dict
    assert list(ours["by_step"]) == [0, 10, "0"]
    assert type(ours["flags"]) is tuple and type(ours["shape"]) is engine.Size
    assert type(ours["numpy"][0]) is np.float32 and type(ours["numpy"][4]) is np.ndarray


def test_a_flat_dict_of_tensors_is_the_one_place_types_differ_from_torch(torch):
    """A flat ``str -> tensor`` dict is written as it always was (a plain .npz, no structure member)
    and loads as an OrderedDict; torch gives back the dict type it was given."""
    flat = {"w": engine.ones(2), "b": engine.zeros(1)}
    ours, theirs = round_trip(flat), torch_round_trip(torch, to_torch(torch, flat))
    assert type(ours) is OrderedDict and type(theirs) is dict
    assert ours == OrderedDict(ours) and signature(dict(ours)) == signature(theirs)


def test_tensors_of_every_dtype_and_shape_in_a_structure(tmp_path):
    leaves = [engine.tensor(v, dtype=d) for v, d in [
        ([0, 255], engine.uint8), ([True, False], engine.bool), ([-(2**63), 2**63 - 1], engine.int64),
        ([1e-45, 3.4e38, -0.0], engine.float32), ([5e-324, float("nan"), float("-inf")], engine.float64)]]
    leaves += [engine.tensor(2.5), engine.arange(24.0).reshape(2, 3, 4), engine.arange(6.0).reshape(2, 3).t()]
    back = round_trip({"leaves": leaves, "again": tuple(leaves)})
    for want, got in zip(leaves, back["leaves"]):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.numpy().tobytes() == want.contiguous().numpy().tobytes()
    assert all(a is b for a, b in zip(back["leaves"], back["again"]))  # each tensor was stored once


@pytest.mark.parametrize("device", DEVICES)
def test_map_location_puts_every_tensor_on_the_device(device):
    saved = {"a": [engine.ones(2), {"b": engine.tensor(3)}], "n": 1}
    back = round_trip(saved, map_location=device)
    assert back["a"][0].device == engine.device(device) and back["a"][1]["b"].device == engine.device(device)
    assert back["a"][0].tolist() == [1.0, 1.0] and back["a"][1]["b"].item() == 3
    moved = {"x": engine.arange(4.0, device=device)}
    assert round_trip([moved], map_location="numpy")[0]["x"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_top_level_leaves_and_lists_round_trip():
    for value in (None, 5, -1.5, "text", True, [], (), [engine.ones(1), engine.zeros(2)], np.float32(2.0)):
        assert signature(round_trip(value)) == signature(value)
    single = round_trip(engine.tensor([1.0, 2.0]))
    assert isinstance(single, engine.Tensor) and single.tolist() == [1.0, 2.0]


def test_nested_file_is_still_a_numpy_archive_with_members_named_by_path(tmp_path):
    model = nn.Linear(2, 1)
    opt = optim.Adam(model.parameters())
    model(engine.ones(1, 2)).sum().backward()
    opt.step()
    engine.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, tmp_path / "c.pt")
    with np.load(tmp_path / "c.pt", allow_pickle=False) as archive:
        assert archive.files == [STRUCTURE, "model.weight", "model.bias", "optimizer.state.0.step",
                                 "optimizer.state.0.exp_avg", "optimizer.state.0.exp_avg_sq", "optimizer.state.1.step",
                                 "optimizer.state.1.exp_avg", "optimizer.state.1.exp_avg_sq"]
        np.testing.assert_array_equal(archive["model.weight"], model.weight.detach().numpy())
        structure = json.loads(archive[STRUCTURE])
    assert structure["format"] == "engine.save" and structure["version"] == 1
    assert structure["root"]["dict"][2] == ["epoch", 1]
    # Paths that would collide get distinct members.
    with zipfile.ZipFile(io.BytesIO(_bytes({"a.b": engine.ones(1), "a": {"b": engine.zeros(1)}, "n": None}))) as z:
        assert z.namelist() == [STRUCTURE, "a.b.npy", "a.b#2.npy"]
    back = round_trip({"a.b": engine.ones(1), "a": {"b": engine.zeros(1)}, "n": None})
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [0.0]


def _bytes(obj) -> bytes:
    buf = io.BytesIO()
    engine.save(obj, buf)
    return buf.getvalue()


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=3).map(lambda v: engine.tensor(v, dtype=engine.float64)),
    lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=3).filter(lambda k: "\\" not in k and "\0" not in k) | st.integers(), inner,
                      max_size=3),
    max_leaves=12,
))
def test_any_structure_of_supported_values_round_trips(value):
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value) and all(
            isinstance(v, engine.Tensor) for v in value.values()):
        value = {**value, 0: None}  # keep it nested: a flat dict of tensors loads as an OrderedDict
    assert signature(round_trip(value)) == signature(value)


# ---- files written before nested structures ----------------------------------------------------------------------

# engine.save({"w": tensor([1.5, -2.0]), "epoch": 3, "lr": 0.5, "steps": np.arange(3), "flag": True}) as the
# engine wrote it before nested structures existed (numbers stored as 0-d arrays), zlib'd and base64'd.
OLD_FILE = zlib.decompress(base64.b64decode(
    "eNoL8GZm0WWAAEWGa87erP+hgJVBhKFcL6+gkpFBgKEDqgRGT/YL9Q2IZGQoY6hWT0ktTi5St1JQt0kzUddRUE/LLyopSsyLzy9KSQWJuyXmFKcC"
    "xYszEgtSgXwNIx1NHYVaBQoAFwPDAXugMw4EoDj/5rZdL2DO5wQ6P7UgPzmDNC9kWhDlBUo9APQCM9QdqF4oeDcpE+YFNqAXcopIjAK6uR/iigf2"
    "qO7/7iD0CjkKiktSC4phXpgBVTaDGlFgTI1UBAGMUJoJa5Q06f64DPMSB9BLaTmJ6TAfNUJVNeLzUU2SIb0ihTHAm5FJlxk1R3dAUw0rAwI0gP0M"
    "zt/oWkC5CKaFE0XLfiAJz1Po2kApF6aNDUVbE9AuSDpG1wNKLTOgCQLVKidgXMDTDro2UIw0QkOdA0WbKDBXweInwJsV7A5WIOQGOuECOMcBAICp"
    "A/g="
))


def test_files_written_before_load_the_same_way():
    back = engine.load(io.BytesIO(OLD_FILE))
    assert type(back) is OrderedDict and list(back) == ["w", "epoch", "lr", "steps", "flag"]
    assert all(isinstance(v, engine.Tensor) for v in back.values())  # numbers came back as 0-d tensors, as before
    assert back["w"].tolist() == [1.5, -2.0] and back["epoch"].dtype == engine.int64 and back["epoch"].item() == 3
    assert back["lr"].dtype == engine.float64 and back["flag"].dtype == engine.bool
    assert back["steps"].tolist() == [0, 1, 2]


def test_flat_state_dicts_and_single_tensors_are_written_byte_for_byte_as_before():
    sd = OrderedDict([("0.weight", engine.arange(6, dtype=engine.float32).reshape(2, 3)),
                      ("0.bias", engine.tensor([1, 2], dtype=engine.int64)), ("n", engine.tensor(True)),
                      ("u", engine.tensor([7], dtype=engine.uint8)), ("d", engine.tensor(0.5, dtype=engine.float64))])
    # SHA-256 of what the engine wrote for these before nested structures existed
    assert hashlib.sha256(_bytes(sd)).hexdigest() == "f33e153eed39dc3c941510905b6bdb9998eb91e8a62a00a10c0a20cc253c3d54"
    assert hashlib.sha256(_bytes(engine.tensor([1.5, 2.5]))).hexdigest() == \
        "54b73a8b7ebfad4218709d5e50b87eca63e210554653cda3fa393f46b2227c14"
    with zipfile.ZipFile(io.BytesIO(_bytes(sd))) as z:
        assert STRUCTURE not in z.namelist()


# ---- refusals when saving ----------------------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize(
    "obj, error, words",
    [
        ({"optimizer": {"state": {0: {"foo": {1, 2}}}}}, EngineTypeError, "entry 'optimizer.state.0.foo' is a set"),
        ({"a": [1, 2, object()]}, EngineTypeError, "entry 'a.2' is a object; engine.save keeps tensors"),
        ({"f": len}, EngineTypeError, "entry 'f' is a builtin_function_or_method"),
        ({"model": nn.Linear(1, 1)}, EngineTypeError, "entry 'model' is a Linear; saving it whole would need pickle"),
        ({"o": optim.SGD([engine.ones(1, requires_grad=True)], lr=0.1)}, EngineTypeError,
         "entry 'o' is a SGD; saving it whole would need pickle: save its .state_dict() instead"),
        ({"d": collections.defaultdict(int)}, EngineTypeError, "entry 'd' is a defaultdict (a dict subclass"),
        ({"p": Point(1, 2)}, EngineTypeError, "entry 'p' is a Point (a tuple subclass; convert it to a plain tuple)"),
        ({"c": 1j}, EngineTypeError, "entry 'c' is a complex"),
        ({"b": b"bytes"}, EngineTypeError, "entry 'b' is a bytes"),
        ({"z": np.complex128(1j)}, EngineTypeError, "entry 'z' has numpy dtype complex128"),
        ({"u": np.uint64(1)}, EngineTypeError, "entry 'u' has numpy dtype uint64"),
        ({"s": np.array(["x"])}, EngineTypeError, "entry 's' has numpy dtype <U1, which engine.save does not keep"),
        (np.ones(2, dtype=np.complex64), EngineTypeError, "the top level has numpy dtype complex64"),
        ({"k": {(1, 2): 3}}, EngineTypeError, "dict keys must be strings or ints, got tuple (1, 2) in entry 'k'"),
        ({"k": {None: 3}}, EngineTypeError, "dict keys must be strings or ints, got NoneType None in entry 'k'"),
        ({"k": {1.5: 3}, "t": engine.ones(1)}, EngineTypeError, "got float 1.5 in entry 'k'"),
        ({"k": {"a\\b": 3}}, EngineValueError, "contains a NUL or backslash"),
        ({"big": 10**1200}, EngineValueError, "entry 'big' holds an int of more than 1000 digits"),
        ({1: {2: {3}}}, EngineTypeError, "entry '1.2' is a set"),
        ({1, 2}, EngineTypeError, "the top level is a set"),
    ],
)
def test_unsupported_values_are_refused_in_one_line_naming_their_path(tmp_path, obj, error, words):
    path = tmp_path / "c.pt"
    path.write_bytes(b"old")
    with pytest.raises(error) as info:
        engine.save(obj, path)
    assert str(info.value).startswith("save: ") and words in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == b"old"


def test_cycles_depth_and_size_are_refused_without_recursion(monkeypatch):
    loop: list = []
    loop.append({"x": loop})
    with pytest.raises(EngineValueError, match=r"entry '0.x' contains itself \(a cycle\)"):
        engine.save(loop, io.BytesIO())
    deep: list = []
    for _ in range(serialization.MAX_DEPTH - 1):
        deep = [deep]
    assert round_trip(deep) == deep  # MAX_DEPTH containers: fine
    with pytest.raises(EngineValueError, match=f"is nested more than {serialization.MAX_DEPTH} containers deep"):
        engine.save([deep], io.BytesIO())
    very_deep: list = []
    for _ in range(100_000):  # far past Python's recursion limit: refused, not a RecursionError
        very_deep = [very_deep]
    with pytest.raises(EngineValueError, match="containers deep"):
        engine.save(very_deep, io.BytesIO())
    shared = [engine.ones(1)]  # the same list twice is no cycle
    assert round_trip([shared, shared])[1][0].tolist() == [1.0]
    monkeypatch.setattr(serialization, "_MAX_NODES", 50)
    with pytest.raises(EngineValueError, match="more than 50 entries; put long lists of numbers into tensors"):
        engine.save({"losses": [0.5] * 60}, io.BytesIO())
    monkeypatch.setattr(serialization, "_MAX_NODES", 2_000_000)
    monkeypatch.setattr(serialization, "MAX_STRUCTURE_BYTES", 100)
    with pytest.raises(EngineValueError, match="of JSON, more than engine.load reads"):
        engine.save({"losses": [0.5] * 60}, io.BytesIO())


# ---- refusals when loading ---------------------------------------------------------------------------------------


def npy_bytes(array) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def archive(structure, members=None, method=zipfile.ZIP_STORED) -> bytes:
    """A nested checkpoint written by hand: ``structure`` is the root node (or raw bytes of the
    whole member), ``members`` maps keys to arrays."""
    if not isinstance(structure, bytes):
        structure = json.dumps({"format": "engine.save", "version": 1, "root": structure}).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr(STRUCTURE, structure)
        for key, array in (members or {}).items():
            z.writestr(key + ".npy", npy_bytes(array))
    return buf.getvalue()


def wrap(root) -> bytes:
    return json.dumps({"format": "engine.save", "version": 1, "root": root}).encode()


ONE = {"w": np.ones(2)}
MALFORMED_STRUCTURES = {
    "not UTF-8": (archive(b"\xff\xfe{}"), "its structure member is not UTF-8 text"),
    "not JSON": (archive(b'{"format": "engine.save", '), "its structure member is not valid JSON"),
    "a list": (archive(b"[1, 2]"), "is not an engine.save structure"),
    "other format": (archive(b'{"format": "pickle", "version": 1, "root": null}'), "not an engine.save structure"),
    "extra field": (archive(b'{"format": "engine.save", "version": 1, "root": null, "code": "x"}'),
                    "not an engine.save structure"),
    "newer version": (archive(b'{"format": "engine.save", "version": 2, "root": null}'),
                      "has version 2; this engine reads version 1"),
    "version true": (archive(b'{"format": "engine.save", "version": true, "root": null}'), "has version True"),
    "NaN constant": (archive(wrap(0)[:-2] + b"NaN}"), "non-JSON constant NaN"),
    "huge int": (archive(wrap(0)[:-2] + b"9" * 5000 + b"}"), "an int of more than 1000 digits"),
    "100k brackets": (archive(b'{"root": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "nested more than 100"),
    "101 lists": (archive(json.loads('{"list": [' * 101 + "]}" * 101)), "nested more than 100 containers deep"),
    "unknown tag": (archive({"pickle": "os.system"}), "unknown entry 'pickle' at the top level"),
    "two tags": (archive({"list": [], "tuple": []}), "malformed entry at the top level"),
    "bare list": (archive({"list": [[1, 2]]}), "malformed entry at entry '0'"),
    "tag with a number": (archive({"dict": 5}), "unknown entry 'dict'"),
    "float tag with a list": (archive({"float": ["nan"]}), "unknown entry 'float'"),
    "float tag with text": (archive({"float": "1.5"}), "unknown entry 'float'"),
    "pair of three": (archive({"dict": [["a", 1, 2]]}), "not a [str or int key, value] pair at the top level"),
    "bool key": (archive({"dict": [[True, 1]]}), "not a [str or int key, value] pair"),
    "null key": (archive({"dict": [["a", {"dict": [[None, 1]]}]]}), "pair at entry 'a'"),
    "repeated key": (archive({"OrderedDict": [["a", 1], ["a", 2]]}), "a dict with a repeated key at the top level"),
    "repeated Counter key": (archive({"Counter": [[1, 1], [1, 2]]}), "repeated key"),
    "negative Size": (archive({"Size": [2, -1]}), "a Size of other than counts"),
    "float Size": (archive({"Size": [2.5]}), "a Size of other than counts"),
    "missing member": (archive({"tensor": "w"}), "points the top level at 'w', which is no member"),
    "member not a name": (archive({"tensor": ["w"]}, ONE), "which is no member"),
    "unused member": (archive({"list": []}, ONE), "member 'w.npy' is not used by its structure"),
    "two kinds": (archive({"list": [{"tensor": "w"}, {"ndarray": "w"}]}, ONE), "used as both a tensor and a ndarray"),
    "numpy leaf not 0-d": (archive({"numpy": "w"}, ONE), "member 'w.npy' holds shape (2,), not a number"),
}


@pytest.mark.parametrize("name", list(MALFORMED_STRUCTURES))
def test_malformed_structures_are_one_line_engine_errors(tmp_path, name):
    data, words = MALFORMED_STRUCTURES[name]
    path = tmp_path / "hostile.pt"
    path.write_bytes(data)
    with pytest.raises(EngineValueError) as info:
        engine.load(path)
    message = str(info.value)
    assert message.startswith(f"load: {str(path)!r} is not a checkpoint engine.save wrote: ")
    assert words in message and "\n" not in message and len(message) < 400


def test_a_second_structure_member_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, pytest.warns(UserWarning):
        z.writestr(STRUCTURE, wrap(None))
        z.writestr(STRUCTURE, wrap(None))
    with pytest.raises(EngineValueError, match=f"member '{STRUCTURE}' appears twice"):
        engine.load(io.BytesIO(buf.getvalue()))


def test_the_structure_counts_toward_max_bytes_and_has_its_own_cap(monkeypatch):
    data = _bytes({"losses": [0.5] * 1000, "w": engine.zeros(10)})  # ~4 KB of JSON, 40 bytes of tensor
    structure_size = len(zipfile.ZipFile(io.BytesIO(data)).read(STRUCTURE))
    assert engine.load(io.BytesIO(data), max_bytes=structure_size + 40)["losses"] == [0.5] * 1000
    with pytest.raises(EngineValueError) as info:
        engine.load(io.BytesIO(data), max_bytes=structure_size + 39)
    assert f"holds more than max_bytes={structure_size + 39}" in str(info.value)
    with pytest.raises(EngineValueError, match=f"member '{STRUCTURE}' alone is"):
        engine.load(io.BytesIO(data), max_bytes=100)
    monkeypatch.setattr(serialization, "MAX_STRUCTURE_BYTES", 1000)
    with pytest.raises(EngineValueError, match=r"its structure member is \d.* KiB, more than engine.load reads"):
        engine.load(io.BytesIO(data))


def test_a_deflated_structure_is_read_and_a_lying_one_refused():
    deflated = archive({"dict": [["w", {"tensor": "w"}], ["n", 3]]}, ONE, zipfile.ZIP_DEFLATED)
    back = engine.load(io.BytesIO(deflated))
    assert back["n"] == 3 and back["w"].tolist() == [1.0, 1.0]
    data = bytearray(archive({"list": [0] * 10}, method=zipfile.ZIP_DEFLATED))
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 22: local + 26] = data[central + 24: central + 28] = (2**31).to_bytes(4, "little")
    with pytest.raises(EngineValueError, match="more than deflate can produce"):
        engine.load(io.BytesIO(bytes(data)))


def test_special_floats_and_big_ints_survive_and_json_stays_strict():
    values = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308, 0.1, 2**64, -(10**999)]
    back = round_trip({"v": values})["v"]
    assert [repr(v) for v in back] == [repr(v) for v in values]
    structure = zipfile.ZipFile(io.BytesIO(_bytes({"v": values}))).read(STRUCTURE)
    json.loads(structure, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
