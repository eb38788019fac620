"""Property tests with the strategies that would have found issue 8's bugs.

``engine.testing.strategies`` draws what hostile users hand the engine: foreign numpy arrays
(odd strides, read-only, misaligned, broadcast), 0-size and 0-d shapes, integer tensors beside
Python numbers, and special floats (NaN, inf, signed zeros, subnormals, the largest floats).
Each property runs on every device; PyTorch is the oracle where it is installed, and
``engine.testing.assert_devices_agree`` holds every device to the numpy reference everywhere
(outputs, gradients, NaN and inf in the same places), with or without PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensor_helpers import DEVICES, HAS_TORCH

import engine
from engine.testing import assert_close, assert_devices_agree, strategies

if HAS_TORCH:
    import torch

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the oracle for this test)")
devices = pytest.mark.parametrize("device", DEVICES)
FAST = settings(max_examples=60, deadline=None)


# ---- foreign arrays: copied on the way in, never read as they are ----------------------------------


@devices
@FAST
@given(array=strategies.foreign_arrays(dtype="float32"), entry=st.sampled_from(["tensor", "from_numpy", "data"]))
def test_foreign_arrays_compute_like_their_values(device, array, entry):
    values = np.array(array, dtype=np.float32)  # what the array holds, compactly
    if entry == "tensor":
        t = engine.tensor(array, device=device)
    elif entry == "from_numpy":
        t = engine.from_numpy(array).to(device)
    else:
        t = engine.zeros(1, device=device)
        t.data = array
    assert t.shape == values.shape and t.dtype == engine.float32
    assert_close((t * 2.0 + 1.0).sigmoid(), 1 / (1 + np.exp(-(values * 2 + 1))), rtol=1e-5, atol=1e-6)
    assert_close(t.sum(), values.sum(dtype=np.float64), rtol=1e-5, atol=1e-5)
    assert_close(t.reshape(-1) @ t.reshape(-1), float((values.astype(np.float64) ** 2).sum()), rtol=1e-4, atol=1e-4)
    t.fill_(0.5)  # our own memory: the foreign buffer (maybe read-only) is untouched
    assert_close(np.array(array, dtype=np.float32), values)


# ---- 0-size and 0-d shapes --------------------------------------------------------------------------


ZERO_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def _shape_ops(ndim: int) -> list:
    """Ops on a 0-size or 0-d input, each written so it runs unchanged on an engine or a torch tensor."""
    ops = [
        lambda a: (a * 2 + 1).sum(),
        lambda a: a.sigmoid().sum(),
        lambda a: (a.mean() if a.numel() else a.sum()),
    ]
    if ndim:
        ops += [lambda a: a.sum(dim=-1).sum(), lambda a: a.softmax(-1).sum(), lambda a: a.log_softmax(-1).sum()]
    else:
        ops += [lambda a: a.softmax(0) * a, lambda a: a.log_softmax(0) + a]
    return ops


@needs_torch
@devices
@FAST
@given(shape=ZERO_SHAPES, data=st.data())
def test_empty_and_zero_dim_shapes_match_pytorch(device, shape, data):
    values = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    x = engine.tensor(values, device=device, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    for fn in _shape_ops(values.ndim):
        x.grad, tx.grad = None, None
        ours, theirs = fn(x), fn(tx)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert_close(ours.detach(), theirs.detach().numpy(), rtol=1e-9, atol=1e-9)
        ours.sum().backward()
        theirs.sum().backward()
        assert_close(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-9)


@FAST
@given(shape=ZERO_SHAPES, data=st.data())
def test_empty_and_zero_dim_shapes_agree_on_every_device(shape, data):
    values = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    for fn in _shape_ops(values.ndim):
        report = assert_devices_agree(fn, values, devices=DEVICES)  # shapes, values, gradients
        assert len(report.comparisons) == 2 * (len(DEVICES) - 1)  # the output and the input's gradient
    x = engine.tensor(values, requires_grad=True)
    for other in DEVICES:
        assert x.detach().to(other).shape == shape


@needs_torch
@devices
@FAST
@given(
    batch=st.sampled_from([(), (0,), (2,), (1,), (2, 0)]),
    other_batch=st.sampled_from([(), (1,), (2,)]),
    m=st.integers(0, 3),
    k=st.integers(0, 3),
    n=st.integers(0, 3),
)
def test_matmul_with_zero_sizes_matches_pytorch(device, batch, other_batch, m, k, n):
    a = np.arange(np.prod(batch + (m, k)), dtype=np.float64).reshape(batch + (m, k)) / 7
    b = np.arange(np.prod(other_batch + (k, n)), dtype=np.float64).reshape(other_batch + (k, n)) / 5
    try:
        np.broadcast_shapes(batch, other_batch)
    except ValueError:
        return
    x, y = engine.tensor(a, device=device, requires_grad=True), engine.tensor(b, device=device, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = x @ y, tx @ ty
    assert tuple(out.shape) == tuple(tout.shape)
    assert_close(out.detach(), tout.detach().numpy())
    out.sum().backward()
    tout.sum().backward()
    assert_close(x.grad, tx.grad.numpy())
    assert_close(y.grad, ty.grad.numpy())


# ---- integer dtypes with Python numbers ---------------------------------------------------------------

INT_DTYPES = ["uint8", "int64", "bool"]


def _run(lib, dtype: str, values, op: str, scalar, reverse: bool):
    t = lib.tensor(values, dtype=getattr(lib, dtype))
    fns = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }
    return fns[op](scalar, t) if reverse else fns[op](t, scalar)


@needs_torch
@devices
@FAST
@given(
    dtype=st.sampled_from(INT_DTYPES),
    data=st.data(),
    op=st.sampled_from(["+", "-", "*", "/"]),
    scalar=strategies.scalars(),
    reverse=st.booleans(),
)
def test_integer_tensors_with_numbers_match_pytorch(device, dtype, data, op, scalar, reverse):
    values = data.draw(strategies.tensors(shape=(3,), dtype=dtype)).tolist()
    if isinstance(scalar, np.generic):
        scalar = scalar.item()  # torch treats numpy scalars as numbers too; compare on plain numbers
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _run(torch, dtype, values, op, scalar, reverse)
    except (RuntimeError, TypeError, ZeroDivisionError):
        theirs = None
    engine.set_default_device(device)
    try:
        if theirs is None:
            with pytest.raises(engine.EngineError):
                _run(engine, dtype, values, op, scalar, reverse)
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            ours = _run(engine, dtype, values, op, scalar, reverse)
    finally:
        engine.set_default_device("cpu")
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (values, op, scalar, reverse)
    assert_close(ours, theirs.numpy(), rtol=1e-6, atol=1e-5)


# ---- special values: every op agrees with PyTorch --------------------------------------------------

UNARY = {
    "neg": (lambda t: -t, lambda t: -t),
    "exp": (lambda t: t.exp(), lambda t: t.exp()),
    "log": (lambda t: t.log(), lambda t: t.log()),
    "sigmoid": (lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    "tanh": (lambda t: t.tanh(), lambda t: t.tanh()),
    "relu": (lambda t: t.relu(), lambda t: t.relu()),
    "abs": (lambda t: t.abs(), lambda t: t.abs()),
    "sqrt": (lambda t: t.sqrt(), lambda t: t.sqrt()),
    "pow 0.5": (lambda t: t**0.5, lambda t: t**0.5),
    "pow -0.5": (lambda t: t**-0.5, lambda t: t**-0.5),
    "pow 3": (lambda t: t**3, lambda t: t**3),
    "square": (lambda t: t**2, lambda t: t**2),
    "leaky_relu": (
        lambda t: engine.nn.functional.leaky_relu(t, 0.1),
        lambda t: torch.nn.functional.leaky_relu(t, 0.1),
    ),
    "elu": (lambda t: engine.nn.functional.elu(t), lambda t: torch.nn.functional.elu(t)),
    "softmax": (lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    "log_softmax": (lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1)),
    "sum": (lambda t: t.sum(), lambda t: t.sum()),
    "max": (lambda t: t.max(), lambda t: t.max()),
    "min": (lambda t: t.min(), lambda t: t.min()),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": lambda a, b: engine.maximum(a, b),
    "minimum": lambda a, b: engine.minimum(a, b),
}


def _both(fn, values: np.ndarray, device: str, grad: bool = True):
    """(ours, theirs) outputs and input gradients of ``fn`` on float64 ``values``."""
    x = engine.tensor(values, device=device, requires_grad=grad)
    tx = torch.tensor(values, requires_grad=grad)
    with np.errstate(all="ignore"):
        out = fn[0](x)
    tout = fn[1](tx)
    if grad:
        # A projection with distinct weights (the gradient of a plain sum of softmax is only rounding noise).
        weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
        with np.errstate(all="ignore"):
            (out * engine.tensor(weights, device=device)).sum().backward()
        (tout * torch.tensor(weights)).sum().backward()
    return out, tout, x.grad, tx.grad


@needs_torch
@devices
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_special_value_table_unary(device, dtype, name):
    info = np.finfo(dtype)
    table = np.array(
        [np.nan, np.inf, -np.inf, 0.0, -0.0, info.smallest_subnormal, -info.smallest_subnormal, info.max,
         -info.max, 1.0, -1.0, 0.5],
        dtype=dtype,
    )
    fn = UNARY[name]
    for values in ([v] for v in table) if name not in ("softmax", "log_softmax", "sum", "max", "min") else [table]:
        values = np.asarray(values, dtype=dtype)
        x = engine.tensor(values, device=device, requires_grad=True)
        tx = torch.tensor(values, requires_grad=True)
        with np.errstate(all="ignore"):
            out = fn[0](x)
            out.sum().backward()
        tout = fn[1](tx)
        tout.sum().backward()
        where = f"{name}({values.tolist()}) on {device}"
        assert out.dtype.name == dtype, where
        assert_close(out.detach(), tout.detach().numpy(), rtol=1e-5, atol=0, equal_nan=True), where
        assert_close(x.grad, tx.grad.numpy(), rtol=1e-5, atol=0, equal_nan=True), where


@needs_torch
@devices
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_special_value_table_binary(device, dtype, name):
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 2.0, -2.0, 0.5]
    a = np.array([x for x in specials for _ in specials], dtype=dtype)
    b = np.array([y for _ in specials for y in specials], dtype=dtype)
    x = engine.tensor(a, device=device, requires_grad=True)
    y = engine.tensor(b, device=device, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    fns = {
        "add": lambda p, q: p + q, "sub": lambda p, q: p - q, "mul": lambda p, q: p * q,
        "div": lambda p, q: p / q, "pow": lambda p, q: p**q,
    }
    with np.errstate(all="ignore"):
        if name in fns:
            out = fns[name](x, y)
        else:
            out = getattr(engine, name)(x, y)
        out.sum().backward()
    tout = fns[name](tx, ty) if name in fns else getattr(torch, name)(tx, ty)
    tout.sum().backward()
    assert_close(out.detach(), tout.detach().numpy(), rtol=1e-6, atol=0, equal_nan=True)
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-6, atol=0, equal_nan=True)
    assert_close(y.grad, ty.grad.numpy(), rtol=1e-6, atol=0, equal_nan=True)


@needs_torch
@devices
@FAST
@given(data=st.data(), name=st.sampled_from(["sigmoid", "tanh", "relu", "abs", "exp", "neg", "softmax", "sum"]))
def test_special_values_anywhere_match_pytorch(device, data, name):
    values = data.draw(hnp.arrays(np.float64, (4,), elements=strategies.special_floats("float64")))
    out, tout, g, tg = _both(UNARY[name], values, device)
    assert_close(out.detach(), tout.detach().numpy(), rtol=1e-9, atol=0, equal_nan=True)
    assert_close(g, tg.numpy(), rtol=1e-9, atol=0, equal_nan=True)


# ---- special values: every device as the numpy reference, with or without PyTorch --------------------


def _special_table(dtype: str) -> np.ndarray:
    info = np.finfo(dtype)
    return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, info.smallest_subnormal, -info.smallest_subnormal,
                     info.max, -info.max, 1.0, -1.0, 0.5], dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", [n for n in UNARY] + [f"{n} (binary)" for n in BINARY])
def test_special_values_agree_on_every_device(dtype, name):
    # atol=0: the largest finite numbers are in the table, and an absolute tolerance scaled by them
    # would pass anything; each element is held to rtol of itself, NaN and inf to the same places.
    rtol = 1e-6 if dtype == "float32" else 1e-12
    if name.endswith(" (binary)"):
        specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 2.0, -2.0, 0.5]
        a = np.array([x for x in specials for _ in specials], dtype=dtype)  # every pair of specials
        b = np.array([y for _ in specials for y in specials], dtype=dtype)
        fn, inputs = BINARY[name.removesuffix(" (binary)")], (a, b)
    else:
        fn, inputs = UNARY[name][0], (_special_table(dtype),)
    with np.errstate(all="ignore"):
        report = assert_devices_agree(fn, *inputs, devices=DEVICES, rtol=rtol, atol=0)
    assert len(report.comparisons) == (1 + len(inputs)) * (len(DEVICES) - 1)  # output and every gradient
