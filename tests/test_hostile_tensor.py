"""Issue 8, the tensor core: hostile inputs must give PyTorch's answer or one clear error.

One test (or a small group) per root cause, each trying several variants on every device.
PyTorch is the oracle where it is installed; the expected values written out here are the
ones PyTorch 2.13 gives, so the tests also mean something without it.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from tensor_helpers import DEVICES, HAS_TORCH

import engine
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.testing import assert_close

if HAS_TORCH:
    import torch

devices = pytest.mark.parametrize("device", DEVICES)
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the oracle for this test)")


def one_line(exc: pytest.ExceptionInfo, *fragments: str) -> str:
    """The error is an EngineError with a one-line message naming ``fragments``."""
    assert isinstance(exc.value, engine.EngineError), type(exc.value).__mro__
    message = str(exc.value)
    assert "\n" not in message, message
    for f in fragments:
        assert f in message, f"{f!r} not in {message!r}"
    return message


# ---- 1. Tensor.data takes only a tensor's storage; anything else is copied ------------------------


def _foreign_arrays() -> dict:
    """Arrays no kernel should ever see as they are: odd strides, read-only, misaligned."""
    record = np.zeros(5, dtype=[("a", "<f4"), ("b", "<i2")])
    record["a"] = np.arange(5, dtype=np.float32)
    raw = np.arange(9, dtype=np.float32).tobytes()
    return {
        "field stride 6": record["a"],
        "field stride -6": record["a"][::-1],
        "read-only bytes": np.frombuffer(np.arange(5, dtype=np.float32).tobytes(), np.float32),
        "misaligned": np.frombuffer(raw, dtype=np.float32, count=5, offset=1),
        "float64 into float32": np.arange(5, dtype=np.float64),
        "list": [0.0, 1.0, 2.0, 3.0, 4.0],
    }


@devices
@pytest.mark.parametrize("kind", list(_foreign_arrays()))
def test_data_setter_copies_foreign_arrays(device, kind):
    source = _foreign_arrays()[kind]
    expected = np.array(source, dtype=np.float32)
    t = engine.zeros(5, device=device)
    t.data = source
    assert t.dtype == engine.float32 and t.device == device
    assert_close((t * 1.0).sum(), expected.sum())
    assert_close(t[::-1] * 2.0, expected[::-1] * 2)
    t.fill_(1.0)  # writes our own copy, never the foreign (possibly immutable) buffer
    assert_close(t, np.ones(5))
    if isinstance(source, np.ndarray):
        assert_close(source.astype(np.float64) if source.dtype.names is None else source, expected)


@devices
def test_data_setter_foreign_buffer_survives_sgd(device):
    p = nn.Parameter(engine.zeros(4, device=device))
    frozen = np.frombuffer(np.ones(4, dtype=np.float32).tobytes(), np.float32)
    p.data = frozen
    p.grad = engine.ones(4, device=device)
    optim.SGD([p], lr=0.5).step()
    assert_close(p.detach(), np.full(4, 0.5))
    assert (frozen == 1).all()


@devices
def test_data_setter_takes_a_tensors_storage_device_and_dtype(device):
    t = engine.zeros(3, device=device)
    other = engine.arange(4.0, dtype=engine.float64, device="numpy")
    t.data = other
    assert t.shape == (4,) and t.dtype == engine.float64 and t.device == "numpy"
    other.mul_(2)  # shared storage, as in PyTorch
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0]


# ---- 6. a tensor saved for backward and changed in place is caught ---------------------------------


@devices
@pytest.mark.parametrize(
    "change",
    ["mul_", "add_", "setitem", "fill_", "zero_", "copy_", "detach view", "slice view", "reshape view"],
)
def test_modified_saved_tensor_is_an_error(device, change):
    a = engine.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    b = engine.tensor([4.0, 5.0, 6.0], device=device, requires_grad=True)
    c = (a * b).sum()
    with engine.no_grad():
        if change == "mul_":
            b.mul_(10)
        elif change == "add_":
            b.add_(1.0)
        elif change == "setitem":
            b[0] = 7.0
        elif change == "fill_":
            b.fill_(0.5)
        elif change == "zero_":
            b.zero_()
        elif change == "copy_":
            b.copy_(engine.ones(3, device=device))
    if change == "detach view":
        b.detach().mul_(10)
    elif change == "slice view":
        b.detach()[1:].add_(1.0)
    elif change == "reshape view":
        b.detach().reshape(3, 1).mul_(3.0)
    with pytest.raises(engine.GradError) as exc:
        c.backward()
    one_line(exc, "modified by an inplace operation", "MulBackward0", "input 1", "version")


@devices
def test_modified_saved_output_is_an_error(device):
    x = engine.tensor([0.5, -1.0], device=device, requires_grad=True)
    y = x.exp()  # exp's backward reads its output
    loss = y.sum()
    with engine.no_grad():
        y.add_(1.0)
    with pytest.raises(engine.GradError) as exc:
        loss.backward()
    one_line(exc, "the output", "ExpBackward0")


@devices
def test_unsaved_inputs_may_change(device):
    # Add and Sum read nothing at backward, so changing an input after them is fine (PyTorch agrees).
    a = engine.tensor([1.0, 2.0], device=device, requires_grad=True)
    b = engine.tensor([3.0, 4.0], device=device)
    loss = (a + b).sum()
    b.mul_(10)
    loss.backward()
    assert a.grad.tolist() == [1.0, 1.0]
    # The version counts every in-place change.
    assert b._version == 1 and b.detach()._version == 1


@devices
def test_optimizer_step_before_backward_is_an_error(device):
    model = nn.Linear(3, 2).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = engine.ones(4, 3, device=device)
    loss = model(x).sum()
    loss.backward()
    opt.step()
    loss2 = (model(x) * model(x)).sum()
    opt.step()  # changes the weight loss2 saved
    with pytest.raises(engine.GradError):
        loss2.backward()


# ---- 7. integer and bool tensors follow PyTorch's type promotion -----------------------------------

PROMOTION_CASES = [
    # (description, engine fn, torch fn)
    ("uint8 * (1/255.)", lambda m: m.tensor([10, 200, 255], dtype=m.uint8) * (1 / 255.0)),
    ("uint8 - 0.5", lambda m: m.tensor([10, 200, 255], dtype=m.uint8) - 0.5),
    ("uint8 + 300 wraps", lambda m: m.tensor([10, 200, 255], dtype=m.uint8) + 300),
    ("uint8 + -1 wraps", lambda m: m.tensor([10, 200, 0], dtype=m.uint8) + (-1)),
    ("uint8 * 2 wraps", lambda m: m.tensor([10, 200, 255], dtype=m.uint8) * 2),
    ("uint8 / 2", lambda m: m.tensor([10, 200, 255], dtype=m.uint8) / 2),
    ("uint8.sum()", lambda m: m.tensor([10, 200, 255], dtype=m.uint8).sum()),
    ("uint8.sum(dim=0)", lambda m: m.tensor([[200, 100], [100, 1]], dtype=m.uint8).sum(dim=0)),
    ("bool.sum()", lambda m: m.tensor([True, True, False]).sum()),
    ("bool + 300", lambda m: m.tensor([True, False]) + 300),
    ("bool * 2.5", lambda m: m.tensor([True, False]) * 2.5),
    ("bool + bool", lambda m: m.tensor([True, False]) + m.tensor([True, True])),
    ("int64 + 1.5", lambda m: m.tensor([1, 2]) + 1.5),
    ("int64 / int64", lambda m: m.tensor([1, 2]) / m.tensor([2, 4])),
    ("uint8 + int64 1-d", lambda m: m.tensor([10, 200], dtype=m.uint8) + m.tensor([300, 1])),
    ("uint8 + int64 0-d", lambda m: m.tensor([10, 200], dtype=m.uint8) + m.tensor(300)),
    ("float32 + float64 0-d", lambda m: m.ones(2) + m.tensor(1.5, dtype=m.float64)),
    ("float64 0-d * float32", lambda m: m.tensor(2.0, dtype=m.float64) * m.ones(3)),
    ("int64 + float64 0-d", lambda m: m.tensor([1, 2]) + m.tensor(1.5, dtype=m.float64)),
    ("bool * int64 0-d", lambda m: m.tensor([True, False]) * m.tensor(3)),
    ("uint8 * float32 0-d", lambda m: m.tensor([3, 4], dtype=m.uint8) * m.tensor(0.5)),
    ("uint8 ** 2", lambda m: m.tensor([3, 20], dtype=m.uint8) ** 2),
    ("uint8 ** 0.5", lambda m: m.tensor([4, 9], dtype=m.uint8) ** 0.5),
    ("2 ** uint8", lambda m: 2 ** m.tensor([3, 9], dtype=m.uint8)),
    ("2.5 ** int64", lambda m: 2.5 ** m.tensor([1, 2])),
    ("-uint8 wraps", lambda m: -m.tensor([200, 100], dtype=m.uint8)),
    ("int64 max", lambda m: m.tensor([200, 100], dtype=m.uint8).max()),
    ("where(int, 2.5)", lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 2.5)),
    ("cat(uint8, float32)", lambda m: m.cat([m.ones(1, dtype=m.uint8), m.ones(1)])),
]


@needs_torch
@devices
@pytest.mark.parametrize("case", PROMOTION_CASES, ids=[c[0] for c in PROMOTION_CASES])
def test_type_promotion_matches_pytorch(device, case):
    _, fn = case
    engine.set_default_device(device)
    try:
        ours = fn(engine)
    finally:
        engine.set_default_device("cpu")
    theirs = fn(torch)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert_close(ours, theirs.numpy(), rtol=1e-6, atol=1e-6)


@devices
def test_uint8_image_normalisation_without_torch(device):
    img = engine.tensor([[0, 128, 255]], dtype=engine.uint8, device=device)
    scaled = img * (1 / 255.0)
    assert scaled.dtype == engine.float32
    assert_close(scaled, np.array([[0.0, 128 / 255, 1.0]]))
    assert (img - 0.5).tolist() == [[-0.5, 127.5, 254.5]]
    assert img.sum().item() == 383 and img.sum().dtype == engine.int64


@devices
def test_integer_errors_are_one_line(device):
    ints = engine.tensor([2, 3], device=device)
    with pytest.raises(engine.EngineValueError) as exc:
        ints**-1
    one_line(exc, "pow", "negative integer powers")
    with pytest.raises(engine.EngineValueError) as exc:
        ints ** engine.tensor([1, -2], device=device)
    one_line(exc, "pow", "negative integer powers")
    mask = engine.tensor([True, False], device=device)
    with pytest.raises(engine.DTypeError) as exc:
        _ = -mask
    one_line(exc, "neg", "bool", "~")
    for bad in (lambda: mask - mask, lambda: mask - 1, lambda: 1 - mask, lambda: engine.ones(2, device=device) - mask):
        with pytest.raises(engine.DTypeError) as exc:
            bad()
        one_line(exc, "sub", "bool")
    with pytest.raises(engine.EngineValueError) as exc:
        engine.ones(2, device=device) + 10**400
    one_line(exc, "add", "too large")
    with pytest.raises(engine.EngineValueError) as exc:
        ints + 2**63
    one_line(exc, "add", "int64")
    with pytest.raises(engine.DTypeError) as exc:
        ints.add_(1.5)
    one_line(exc, "add_", "float32", "int64")


# ---- 8. 0-d tensors stay 0-d -------------------------------------------------------------------------


@pytest.mark.parametrize("source", DEVICES)
@pytest.mark.parametrize("target", DEVICES)
def test_zero_dim_survives_device_moves(source, target):
    s = engine.tensor(3.0, device=source, requires_grad=True)
    moved = s.to(target)
    assert moved.shape == () and moved.item() == 3.0
    (moved * 2).backward()
    assert s.grad.shape == () and s.grad.item() == 2.0
    assert engine.tensor(7, device=source).to(target).shape == ()


class _Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(engine.tensor(2.5))
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x) * self.scale


@devices
def test_scalar_parameter_moves_and_reloads(device, tmp_path):
    model = _Scaled().to(device)
    assert model.scale.shape == () and model.scale.device == device
    model.double()
    assert model.scale.shape == () and model.scale.dtype == engine.float64
    path = tmp_path / "scaled.npz"
    engine.save(model.state_dict(), path)
    fresh = _Scaled().to(device).double()
    fresh.load_state_dict(engine.load(path))
    assert fresh.scale.shape == () and fresh.scale.item() == 2.5
    assert_close(fresh.lin.weight.detach(), model.lin.weight.detach())


# ---- 9. indexing with None and ... checks each index against its own dimension -------------------------


INDEX_KEYS = [
    (Ellipsis, None, np.array([-1])),
    (Ellipsis, None, 4),
    (Ellipsis, None, -5),
    (None, Ellipsis, 4),
    (Ellipsis, 1, None),
    (None, 2, None, Ellipsis, np.array([0, -1, 3])),
    (1, None, Ellipsis, None),
    (Ellipsis, np.array([True, False, True, False, True])),
    (np.array([2, -3]), None),
    (slice(None, None, 2), None, -1),
]


@devices
@pytest.mark.parametrize("key", INDEX_KEYS, ids=[repr(k) for k in INDEX_KEYS])
def test_index_with_none_and_ellipsis(device, key):
    base = np.arange(15.0).reshape(3, 5)
    x = engine.tensor(base, device=device, requires_grad=True)
    out = x[key]
    expected = base[key]
    assert tuple(out.shape) == expected.shape
    assert_close(out, expected)
    weights = np.arange(1.0, expected.size + 1).reshape(expected.shape)
    (out * engine.tensor(weights, dtype=engine.float64, device=device)).sum().backward()
    grad = np.zeros_like(base)
    np.add.at(grad, key, weights)
    assert_close(x.grad, grad)


@devices
def test_index_errors(device):
    x = engine.ones(3, 5, device=device)
    with pytest.raises(engine.EngineValueError) as exc:
        x[..., None, 5]
    one_line(exc, "index 5", "dimension 1", "size 5")
    with pytest.raises(engine.EngineValueError) as exc:
        x[..., None, np.array([-6])]
    one_line(exc, "index -6", "dimension 1")
    with pytest.raises(engine.EngineValueError) as exc:
        x[0, 0, 0]
    one_line(exc, "too many indices")
    with pytest.raises(engine.EngineValueError) as exc:
        x[..., 0, ...]
    one_line(exc, "single ellipsis")
    with pytest.raises(engine.ShapeError) as exc:
        x[np.array([True, False])]
    one_line(exc, "mask", "(2,)", "(3,)")
    with pytest.raises(engine.EngineTypeError) as exc:
        x[1.5]
    one_line(exc, "index", "float")


# ---- 11. grad mode belongs to the thread -------------------------------------------------------------


def test_no_grad_in_another_thread_does_not_stop_recording():
    inside, release, results = threading.Event(), threading.Event(), {}

    def evaluator():
        with engine.no_grad():
            inside.set()
            release.wait(5)
            results["other"] = engine.is_grad_enabled()

    thread = threading.Thread(target=evaluator)
    thread.start()
    inside.wait(5)
    w = engine.ones(2, requires_grad=True)
    recorded = (w * 3).sum()
    release.set()
    thread.join(5)
    assert engine.is_grad_enabled() and results["other"] is False
    assert recorded.requires_grad
    recorded.backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_interleaved_no_grad_blocks_restore_each_threads_mode():
    barrier = threading.Barrier(2)
    modes = []

    def worker(delay_exit: bool):
        block = engine.no_grad()
        block.__enter__()
        barrier.wait(5)
        if delay_exit:
            barrier.wait(5)
        block.__exit__(None, None, None)
        if not delay_exit:
            barrier.wait(5)
        modes.append(engine.is_grad_enabled())

    threads = [threading.Thread(target=worker, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert modes == [True, True]
    assert engine.is_grad_enabled()


def test_set_grad_enabled_restores_and_nests():
    with engine.set_grad_enabled(False):
        assert not engine.is_grad_enabled()
        with engine.enable_grad():
            assert engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()
    block = engine.no_grad()
    with block:
        with block:  # the same object entered twice
            assert not engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()

    @engine.set_grad_enabled(False)
    def evaluate(t):
        return (t * 2).requires_grad

    assert engine.is_grad_enabled()  # decorating switches nothing
    assert evaluate(engine.ones(1, requires_grad=True)) is False
    assert engine.is_grad_enabled()
    engine.set_grad_enabled(False)  # a plain call switches, as in PyTorch
    assert not engine.is_grad_enabled()
    engine.set_grad_enabled(True)


# ---- 12. cross_entropy with every target ignored: NaN loss, zero gradient ------------------------------


@devices
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_all_ignored_has_zero_gradient(device, smoothing, weighted):
    logits = engine.randn(3, 4, device=device, requires_grad=True)
    target = engine.tensor([-100, -100, -100], device=device)
    weight = engine.tensor([1.0, 2.0, 0.5, 1.0], device=device) if weighted else None
    loss = F.cross_entropy(logits, target, weight=weight, label_smoothing=smoothing)
    assert np.isnan(loss.item())
    loss.backward()
    assert logits.grad.tolist() == [[0.0] * 4] * 3
    # nll_loss and a custom ignore_index the same way
    logp = F.log_softmax(logits.detach().requires_grad_(), dim=1)
    nll = F.nll_loss(logp, engine.tensor([7, 7, 7], device=device), ignore_index=7)
    assert np.isnan(nll.item())


@devices
def test_cross_entropy_some_ignored_still_learns(device):
    logits = engine.zeros(2, 3, device=device, requires_grad=True)
    F.cross_entropy(logits, engine.tensor([1, -100], device=device)).backward()
    assert_close(logits.grad, np.array([[1 / 3, -2 / 3, 1 / 3], [0, 0, 0]]))


# ---- 14. casts to integers end the graph; Module.to refuses integer dtypes -------------------------


@devices
@pytest.mark.parametrize("cast", ["long", "int", "bool", "to int64", "to uint8", "type"])
def test_integer_cast_ends_the_graph(device, cast):
    x = engine.tensor([1.5, -2.5], device=device, requires_grad=True)
    out = {
        "long": lambda: x.long(),
        "int": lambda: x.int(),
        "bool": lambda: x.bool(),
        "to int64": lambda: x.to(engine.int64),
        "to uint8": lambda: x.abs().to(engine.uint8),
        "type": lambda: x.type(engine.int64),
    }[cast]()
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(engine.GradError):
        out.sum().backward()
    assert x.double().requires_grad  # float casts keep it


@pytest.mark.parametrize("dtype", [engine.int64, engine.uint8, engine.bool])
def test_module_to_integer_dtype_is_refused(dtype):
    model = nn.Linear(2, 2)
    before = model.weight.detach().clone()
    with pytest.raises(engine.EngineTypeError) as exc:
        model.to(dtype)
    one_line(exc, "Module.to", "floating point")
    with pytest.raises(engine.EngineTypeError):
        model.to("numpy", dtype=dtype)
    assert model.weight.dtype == engine.float32
    assert_close(model.weight.detach(), before)


# ---- 15. expand is a view at every size; in-place arithmetic on it is refused --------------------------


@devices
@pytest.mark.parametrize("n", [4, 70_000])
def test_expand_is_a_view(device, n):
    base = engine.zeros(1, n, device=device)
    wide = base.expand(3, n)
    with engine.no_grad():
        base.add_(2.0)
    assert wide[2, n - 1].item() == 2.0 and wide[0, 0].item() == 2.0
    for write in (lambda: wide.add_(1.0), lambda: wide.mul_(2.0), lambda: wide.copy_(engine.ones(3, n, device=device))):
        with pytest.raises(engine.EngineValueError) as exc:
            write()
        one_line(exc, "single memory location", "clone")
    wide.fill_(5.0)  # one value per location whatever the layout: allowed, as in PyTorch
    assert base[0, 0].item() == 5.0
    copy = wide.clone()
    copy.add_(1.0)
    assert copy[1, 1].item() == 6.0 and base[0, 1].item() == 5.0


@devices
def test_expand_gradient_and_errors(device):
    x = engine.tensor([[1.0], [2.0]], device=device, requires_grad=True)
    (x.expand(2, 3) * engine.tensor([1.0, 2.0, 3.0], device=device)).sum().backward()
    assert x.grad.tolist() == [[6.0], [6.0]]
    y = engine.ones(2, 3, device=device)
    for bad, fragment in (((-1, -1, -1), "leading"), ((3,), "number of sizes"), ((2, 4), "must match"),
                          ((2, -2, 3), "invalid size")):
        with pytest.raises(engine.ShapeError) as exc:
            y.expand(*bad)
        one_line(exc, "expand", fragment)
    assert y.expand(2, -1, -1).shape == (2, 2, 3)
    assert engine.ones(2, device=device).expand(0, 2).shape == (0, 2)


# ---- 16. max/min with NaN send the gradient to the NaN --------------------------------------------------


@devices
@pytest.mark.parametrize(
    "values, op, expected",
    [
        ([1.0, float("nan"), 3.0], "max", [0.0, 1.0, 0.0]),
        ([1.0, float("nan"), 3.0, float("nan")], "max", [0.0, 0.5, 0.0, 0.5]),
        ([1.0, float("nan"), 3.0], "min", [0.0, 1.0, 0.0]),
        ([3.0, 1.0, 3.0], "max", [0.5, 0.0, 0.5]),
        ([1.0, float("inf"), 3.0], "max", [0.0, 1.0, 0.0]),
        ([1.0, float("-inf"), -float("inf")], "min", [0.0, 0.5, 0.5]),
    ],
)
def test_max_min_gradient_with_special_values(device, values, op, expected):
    x = engine.tensor(values, dtype=engine.float64, device=device, requires_grad=True)
    getattr(x, op)().backward()
    assert x.grad.tolist() == expected


@devices
def test_max_along_dim_with_nan(device):
    x = engine.tensor([[1.0, float("nan")], [float("nan"), 3.0]], device=device, requires_grad=True)
    values, index = x.max(dim=1)
    assert np.isnan(values.tolist()).all() and index.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


# ---- 19. float32/float64 mixes promote as in PyTorch ---------------------------------------------------


@devices
def test_mixed_float_in_place_and_gradients(device):
    a = engine.ones(3, device=device)
    a.add_(engine.full((3,), 0.1, dtype=engine.float64, device=device))
    assert a.dtype == engine.float32
    assert_close(a, np.full(3, 1.1))
    a.mul_(engine.tensor(2.0, dtype=engine.float64, device=device))
    a.sub_(engine.ones(3, dtype=engine.float64, device=device), alpha=0.5)
    a.div_(engine.tensor([2, 2, 2], device=device))
    assert_close(a, np.full(3, (2.2 - 0.5) / 2))
    w = engine.ones(3, device=device, requires_grad=True)
    (w * 2).backward(engine.ones(3, dtype=engine.float64, device=device))
    assert w.grad.dtype == engine.float32 and w.grad.tolist() == [2.0] * 3
    logits = engine.zeros(2, 3, device=device, requires_grad=True)
    loss = F.cross_entropy(logits, engine.tensor([0, 1], device=device))
    loss.backward(engine.tensor(1, device=device))  # an int gradient, as PyTorch accepts
    assert logits.grad.dtype == engine.float32
    assert_close(logits.grad, np.array([[-1 / 3, 1 / 6, 1 / 6], [1 / 6, -1 / 3, 1 / 6]]))
    x64 = engine.ones(2, 2, dtype=engine.float64, device=device, requires_grad=True)
    (x64 + engine.ones(2, 2, device=device)).sum().backward()
    assert x64.grad.dtype == engine.float64


# ---- 21/22. raw errors become one line; what PyTorch refuses is refused -----------------------------


@pytest.mark.parametrize(
    "call, error, fragments",
    [
        (lambda: engine.arange(0, 10, 0), engine.EngineValueError, ["arange", "step must be nonzero"]),
        (lambda: engine.arange(0, 10, -1), engine.EngineValueError, ["arange", "inconsistent"]),
        (lambda: engine.arange(0, float("inf")), engine.EngineValueError, ["arange", "finite"]),
        (lambda: engine.linspace(0, 1, -1), engine.EngineValueError, ["linspace", "non-negative"]),
        (lambda: engine.eye(-1), engine.EngineValueError, ["eye", "n must be"]),
        (lambda: engine.eye(2, -3), engine.EngineValueError, ["eye", "m must be"]),
        (lambda: engine.randint(5, 2, (3,)), engine.EngineValueError, ["randint", "low must be less than high"]),
        (lambda: engine.randint(0, 2.5, (3,)), engine.EngineTypeError, ["randint", "integer"]),
        (lambda: engine.full((2,), "a"), engine.EngineTypeError, ["full", "fill_value", "str"]),
        (lambda: engine.full((2,), 10**400), engine.EngineValueError, ["full", "int64"]),
        (lambda: engine.full((2,), 10**400, dtype=engine.float32), engine.EngineValueError, ["full", "too large"]),
        (lambda: engine.zeros(2.5), engine.EngineTypeError, ["zeros", "integers", "2.5"]),
        (lambda: engine.ones((2, None)), engine.EngineTypeError, ["ones", "integers"]),
        (lambda: engine.rand(-1), engine.EngineValueError, ["rand", "negative"]),
        (lambda: engine.tensor([2**63]), engine.EngineValueError, ["tensor", "int64"]),
        (lambda: engine.tensor([-(2**63) - 1]), engine.EngineValueError, ["tensor", "int64"]),
        (lambda: engine.tensor([2**70, 1]), engine.EngineValueError, ["tensor", "int64"]),
        (lambda: engine.tensor(10**400), engine.EngineValueError, ["tensor", "too large even for float64"]),
        (lambda: engine.manual_seed(2**64), engine.EngineValueError, ["manual_seed", "64 bits"]),
        (lambda: engine.manual_seed("7"), engine.EngineTypeError, ["manual_seed", "integer"]),
        (lambda: engine.ones(2, 3).repeat(2), engine.ShapeError, ["repeat", "can not be smaller"]),
        (lambda: engine.ones(2, 3).repeat(-1, 1), engine.ShapeError, ["repeat", ">= 0"]),
        (lambda: engine.ones(2, 3).sum(dim=(0, 0)), engine.EngineValueError, ["sum", "dim 0 appears multiple"]),
        (lambda: engine.ones(2, 3).mean(dim=(1, -1)), engine.EngineValueError, ["mean", "dim 1 appears multiple"]),
        (lambda: engine.tensor([1.0], device="c:banana"), engine.DeviceError, ["invalid device string", "c:banana"]),
        (lambda: engine.tensor([1.0], device="cpu:-1"), engine.DeviceError, ["invalid device string"]),
        (
            lambda: engine.where(engine.tensor([True, False, True]), engine.ones(2), engine.ones(2)),
            engine.ShapeError,
            ["where", "(3,)", "(2,)", "broadcast"],
        ),
        (lambda: engine.where(engine.ones(2), engine.ones(2), 0.0), engine.DTypeError, ["where", "bool"]),
    ],
)
def test_bad_arguments_are_one_line_errors(call, error, fragments):
    with pytest.raises(error) as exc:
        call()
    one_line(exc, *fragments)


def test_manual_seed_accepts_what_pytorch_accepts():
    engine.manual_seed(-1)
    assert engine.initial_seed() == 2**64 - 1
    a = engine.rand(3).tolist()
    engine.manual_seed(2**64 - 1)
    assert engine.rand(3).tolist() == a
    engine.manual_seed(7.0)
    assert engine.initial_seed() == 7
    engine.manual_seed(0)


def test_device_index_forms():
    assert engine.tensor([1.0], device="cpu:0").device == engine.device("cpu")
    assert engine.tensor([1.0], device="numpy:0").device == "numpy"


@devices
def test_grad_assignment_is_checked(device):
    p = engine.ones(2, device=device, requires_grad=True)
    with pytest.raises(engine.EngineTypeError) as exc:
        p.grad = np.ones(2)
    one_line(exc, "grad", "Tensor or None", "ndarray")
    for bad, fragment in (
        (engine.ones(3, device=device), "shape (3,)"),
        (engine.ones(2, dtype=engine.float64, device=device), "dtype float64"),
    ):
        with pytest.raises(engine.EngineValueError) as exc:
            p.grad = bad
        one_line(exc, "grad", fragment)
    other = "numpy" if device != "numpy" else DEVICES[-1]
    if other != device:
        with pytest.raises(engine.EngineValueError) as exc:
            p.grad = engine.ones(2, device=other)
        one_line(exc, "grad", "device")
    p.grad = engine.full((2,), 3.0, device=device)
    p.grad = None
    assert p.grad is None


@pytest.mark.skipif(len(DEVICES) < 2, reason="needs two devices (the C library is not built)")
def test_cross_device_gradient_and_in_place_operand_are_refused():
    a = engine.ones(2, device="numpy", requires_grad=True)
    y = a * 2
    with pytest.raises(engine.DeviceError) as exc:
        y.backward(engine.ones(2, device="c"))
    one_line(exc, "backward", "device")
    b = engine.ones(2, device="numpy")
    for call in (lambda: b.add_(engine.ones(2, device="c")), lambda: b.__setitem__(0, engine.ones((), device="c"))):
        with pytest.raises(engine.DeviceError) as exc:
            call()
        one_line(exc, "device")


@devices
def test_bce_targets_outside_unit_interval_are_refused(device):
    p = engine.tensor([0.5, 0.5], device=device)
    for target in ([2.0, 0.0], [-0.5, 1.0], [float("nan"), 0.0]):
        with pytest.raises(engine.EngineValueError) as exc:
            F.binary_cross_entropy(p, engine.tensor(target, device=device))
        one_line(exc, "binary_cross_entropy", "target", "between 0 and 1")
    # soft targets inside [0, 1] are fine, and the logits form accepts any target (as PyTorch)
    F.binary_cross_entropy(p, engine.tensor([0.3, 1.0], device=device))
    F.binary_cross_entropy_with_logits(p, engine.tensor([2.0, -1.0], device=device))


# ---- 24. the optimizer goes on after model.double() / model.to(device) -------------------------------


@devices
@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.01)])
def test_optimizer_state_follows_the_parameters(device, make):
    engine.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    opt = make(model.parameters())
    x, y = engine.randn(8, 3, device=device), engine.randn(8, 1, device=device)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    first = step(x, y)
    model.double()
    x, y = x.double(), y.double()
    for _ in range(20):
        last = step(x, y)
    assert last < first
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, engine.Tensor):
                assert value.dtype == engine.float64
    other = [d for d in DEVICES if d != device]
    if other:
        model.to(other[0])
        step(x.to(other[0]), y.to(other[0]))
        for state in opt.state.values():
            for value in state.values():
                if isinstance(value, engine.Tensor):
                    assert value.device == other[0]
