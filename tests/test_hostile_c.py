"""Hostile inputs for the backends (issue 8), the C library's side of it.

- Memory the C code cannot index by element strides (a misaligned buffer, a field of a
  structured array with a 6-byte stride, its reverse) is read through a compact copy, and
  read-only memory is never written (fill, the optimizer updates refuse it in one line).
- Matmul with any zero-size dimension, softmax of a 0-d tensor, log_softmax and
  cross_entropy at huge logits.
- Special values (NaN, +-inf, +-0, subnormals, the largest finite numbers) through every
  primitive, on every device, against PyTorch in float64 / float32; elementwise derivatives
  (written once, in engine/ops) through the Tensor API.
- The c device's fused backward kernels read hostile memory as the ops' derivatives
  (engine.ops.neural), run on the numpy reference, read a compact copy.
- A fork()ed child after the multi-threaded kernels ran (the OpenMP pool does not survive fork).
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from tensor_helpers import DEVICES, FLOAT_DTYPES, HAS_TORCH, torch

import engine
import engine.nn.functional as F
from engine.backends import get_backend
from engine.ops import neural

needs_c = pytest.mark.skipif("c" not in DEVICES, reason="the C library is not built")
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the oracle for these values)")


# numpy warns where special values make NaN/inf ("invalid value encountered in ..."): expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")


def assert_same(actual, expected, rtol: float = 0.0, atol: float = 0.0, signed_zeros: bool = True, what: str = ""):
    """Equal values, NaN where NaN, infinities of the same sign; with ``signed_zeros`` a zero must
    also have the expected sign. Finite values may differ by ``rtol * |expected| + atol``."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, expected {e.shape}"
    both_nan = np.isnan(a) & np.isnan(e)
    equal = a == e
    if signed_zeros:
        equal &= (e != 0) | (np.signbit(a) == np.signbit(e))
    with np.errstate(invalid="ignore"):
        near = np.isfinite(e) & np.isfinite(a) & (np.abs(a - e) <= rtol * np.abs(e) + atol) & ((a != 0) | (e != 0))
    ok = both_nan | equal | near
    if not ok.all():
        bad = np.flatnonzero(~ok)[:6]
        pairs = ", ".join(f"[{i}] {a.flat[i]!r} vs {e.flat[i]!r}" for i in bad)
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} differ: {pairs}")


class OnHost:
    """A device's backend called with numpy arrays and answering numpy arrays (``from_numpy`` and
    ``to_numpy`` around every call), so one backend-level test runs on every device, the opaque
    test backend included. Host arrays pass through as they are, strided views too."""

    def __init__(self, device: str) -> None:
        self.backend = get_backend(device)
        self.name = device

    def _in(self, a):
        return self.backend.from_numpy(a) if isinstance(a, np.ndarray) else a

    def _out(self, a):
        if isinstance(a, tuple):
            return tuple(self._out(v) for v in a)
        return a if a is None or a is NotImplemented or isinstance(a, (int, float)) else self.backend.to_numpy(a)

    def __getattr__(self, name: str):
        method = getattr(self.backend, name)

        def call(*args, **kwargs):
            return self._out(method(*(self._in(a) for a in args), **kwargs))

        return call


# ---------------------------------------------------------------------------------------------
# 1. Memory the C code must not be handed as it is
# ---------------------------------------------------------------------------------------------


def _field(values: np.ndarray) -> np.ndarray:
    """``values`` as field 'a' of a packed structured array: a stride of itemsize + 2 bytes."""
    s = np.zeros(values.size, dtype=[("a", values.dtype), ("b", "<i2")])
    s["a"] = values.ravel()
    return s["a"].reshape(values.shape) if values.ndim > 1 else s["a"]


def _misaligned(values: np.ndarray, writable: bool = True) -> np.ndarray:
    """``values`` in a buffer that starts one byte after an aligned address."""
    raw = b"\x00" + values.tobytes()
    out = np.frombuffer(bytearray(raw) if writable else raw, values.dtype, count=values.size, offset=1)
    return out.reshape(values.shape)


def hostile_views(values: np.ndarray) -> dict:
    """The same numbers in layouts no kernel can take as they are, keyed by a description."""
    views = {
        "read-only bytes": np.frombuffer(values.tobytes(), values.dtype).reshape(values.shape),
        "structured field": _field(values),
        "misaligned": _misaligned(values),
        "misaligned read-only": _misaligned(values, writable=False),
    }
    rev = _field(values[::-1].copy())[::-1]  # stride -(itemsize + 2), same logical values
    views["structured field reversed"] = rev
    if values.ndim == 2:
        views["misaligned transposed"] = _misaligned(np.ascontiguousarray(values.T)).T
        views["structured field transposed"] = _field(np.ascontiguousarray(values.T)).T
    for name, v in views.items():
        np.testing.assert_array_equal(v, values, err_msg=name)
    return views


def _pairs(dtype: str, shape: tuple):
    """(name, hostile view, compact copy) for one random array."""
    rng = np.random.default_rng(sum(shape))
    values = rng.uniform(-2, 2, size=shape).astype(dtype)
    return [(name, v, values) for name, v in hostile_views(values).items()]


@needs_c
def test_hostile_views_are_what_they_claim():
    # The premise of the tests below: these layouts cannot be handed to C as they are.
    views = hostile_views(np.arange(6, dtype=np.float32))
    assert views["structured field"].strides == (6,) and not views["structured field"].flags.aligned
    assert views["structured field reversed"].strides == (-6,)
    assert not views["misaligned"].flags.aligned and views["misaligned"].flags.writeable
    assert not views["read-only bytes"].flags.writeable and not views["misaligned read-only"].flags.writeable


def fused(bk, name: str, *args):
    """Backward fast path ``name`` as an op runs it: the backend's fused kernel, or, where the backend
    has none (it answers NotImplemented: the numpy reference), the op's derivative from engine.ops."""
    out = getattr(bk, name)(*args)
    if out is NotImplemented:
        assert bk.name != "c", f"the c device's fused {name} declined floats it should take"
        out = getattr(neural, name)(bk, *args)
    return out


def _readers(dtype: str) -> dict:
    """Every primitive and fused kernel that reads an array x, as ``name -> f(backend, x)`` (x of
    shape (3, 4)); the other operands are ordinary arrays, or misaligned int64 targets/indices."""
    rng = np.random.default_rng(1)
    other = rng.uniform(-2, 2, size=(3, 4)).astype(dtype)
    square = rng.uniform(-1, 1, size=(3, 3)).astype(dtype)
    target = _misaligned(np.array([0, 3, 1], np.int64))
    rows = _misaligned(np.array([2, 0, 2], np.int64))
    picks = _misaligned(np.array([[3, 0], [1, 1], [2, 3]], np.int64))
    spots = _misaligned(np.array([[4, 0, 4, 1], [2, 2, 3, 0], [1, 0, 0, 4]], np.int64))
    scale = _misaligned(np.array(0.5, dtype))
    flip = "float64" if dtype == "float32" else "float32"
    readers = {
        "copy": lambda b, x: b.copy(x),
        "contiguous": lambda b, x: b.contiguous(x),
        "astype": lambda b, x: b.astype(x, flip),
        "compare": lambda b, x: b.compare("lt", x, other),
        "where": lambda b, x: b.where(other > 0, x, other),
        "matmul x @ w^T": lambda b, x: b.matmul(x, other.T),
        "matmul w^T @ x": lambda b, x: b.matmul(other.T, x),
        "matmul x @ x^T (flag)": lambda b, x: b.matmul(x, x, transpose_b=True),
        "cross_entropy": lambda b, x: b.cross_entropy(x, target),
        "cross_entropy backward": lambda b, x: fused(b, "cross_entropy_backward", x, target, x[:, 0]),
        "mse": lambda b, x: b.difference_loss("squared", x, other, True),
        "l1": lambda b, x: b.difference_loss("abs", other, x, False),
        "mse backward": lambda b, x: fused(b, "difference_loss_backward", "squared", x, scale, True),
        "l1 backward": lambda b, x: fused(b, "difference_loss_backward", "abs", x, scale, False),
        "linear x": lambda b, x: b.linear_forward(x, other, None, "relu"),
        "linear w, bias": lambda b, x: b.linear_forward(other, x, x[:, 0], "tanh"),
        "linear backward": lambda b, x: fused(b, "linear_backward", x, other, square, square, "sigmoid"),
        "index_add of rows": lambda b, x: b.index_add((4, 4), (rows,), x),
        "gather": lambda b, x: b.gather(x, 1, picks),
        "scatter_add": lambda b, x: b.scatter_add((3, 5), 1, spots, x),
    }
    for op in ("neg", "exp", "log", "tanh", "relu", "sigmoid", "elu", "pow", "abs", "sign"):
        readers[op] = lambda b, x, op=op: b.unary(op, x, 1.5)
    for op in ("add", "sub", "mul", "div", "maximum", "pow"):
        readers[f"{op} x x"] = lambda b, x, op=op: b.binary(op, x, x)
        readers[f"{op} x 1.5"] = lambda b, x, op=op: b.binary(op, x, 1.5)
        readers[f"{op} w x"] = lambda b, x, op=op: b.binary(op, other, x)
        readers[f"{op} x[:1] w"] = lambda b, x, op=op: b.binary(op, x[:1], other)
    for axes in (None, (0,), (1,)):
        readers[f"sum {axes}"] = lambda b, x, axes=axes: b.sum(x, axes)
    for axis, kind in itertools.product((None, 0, 1), ("max", "min")):
        readers[f"{kind} {axis}"] = lambda b, x, axis=axis, kind=kind: getattr(b, kind)(x, axis)
    for log in (False, True):
        readers[f"softmax log={log}"] = lambda b, x, log=log: b.softmax(x, 1, log)
        readers[f"softmax axis 0 log={log}"] = lambda b, x, log=log: b.softmax(x, 0, log)
        readers[f"softmax backward log={log}"] = lambda b, x, log=log: fused(b, "softmax_backward", x, x, 0, log)
    return readers


@needs_c
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_c_reads_hostile_memory_like_a_compact_copy(dtype):
    # Before: a stride of 6 bytes was divided down to 1 element (garbage), -6 walked off the
    # buffer (segfault), and a misaligned pointer was undefined behaviour. Now each view reads
    # as the numpy reference reads the same numbers from a compact array.
    c, ref = get_backend("c"), get_backend("numpy")
    rtol = 1e-6 if dtype == "float32" else 1e-13
    readers = _readers(dtype)
    for view_name, x, values in _pairs(dtype, (3, 4)):
        for name, read in readers.items():
            got, want = read(c, x), read(ref, values)
            got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
            for g, w in zip(got, want):
                if w is not None:
                    assert_same(g, w, rtol=rtol, signed_zeros=False, what=f"{name} of a {view_name} view")
    other = np.ones((4, 5), dtype)
    for view_name, x, values in _pairs(dtype, (2, 3, 4)):  # batched
        what = f"of a (2, 3, 4) {view_name} view"
        assert_same(c.matmul(x, other), ref.matmul(values, other), rtol=rtol, what=f"matmul {what}")
        assert_same(c.matmul(other.T, x, transpose_b=True), ref.matmul(other.T, values, transpose_b=True),
                    rtol=rtol, what=f"matmul {what}")
        assert_same(c.sum(x, (0, 2)), ref.sum(values, (0, 2)), rtol=rtol, what=f"sum {what}")


@needs_c
def test_the_issue_example_no_longer_crashes():
    # t.data = s['a'][::-1]; (t * 1.0).sum() segfaulted on the c device: here at the backend.
    c = get_backend("c")
    s = np.zeros(5, dtype=[("a", "<f4"), ("b", "<i2")])
    s["a"] = np.arange(5)
    for view, want in ((s["a"][::-1], 10.0), (s["a"], 10.0), (s["a"][::2], 6.0), (s["a"][::-2], 6.0)):
        assert float(c.sum(c.binary("mul", view, 1.0), None)) == want
        assert float(c.sum(view, None)) == want


def _read_only(dtype: str, shape=(2, 3)) -> np.ndarray:
    return np.frombuffer(np.arange(math.prod(shape), dtype=dtype).tobytes(), dtype).reshape(shape)


@needs_c
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_c_refuses_to_write_into_read_only_memory(dtype):
    # np.frombuffer over bytes is read-only: fill_ and the optimizers wrote into the bytes
    # object itself (an immutable Python object) through the C pointer.
    c = get_backend("c")
    raw = np.arange(6, dtype=dtype).tobytes()
    for p in (np.frombuffer(raw, dtype), np.frombuffer(raw, dtype).reshape(2, 3), _misaligned(np.ones(6, dtype), False),
              np.broadcast_to(np.ones(3, dtype), (2, 3))):
        g = np.ones(p.shape, dtype)
        with pytest.raises(engine.EngineValueError, match=r"^fill: the tensor's storage .* is read-only"):
            c.fill(p, 1.0)
        with pytest.raises(engine.EngineValueError, match=r"^sgd update: the parameter's storage .* read-only"):
            c.sgd_update(p, g, None, 0.1, 0.0, 0.0, 0.0, False, True)
        with pytest.raises(engine.EngineValueError, match=r"^adam update: the parameter's storage .* read-only"):
            c.adam_update(p, g, np.zeros(p.shape, dtype), np.zeros(p.shape, dtype), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)
    assert raw == np.arange(6, dtype=dtype).tobytes()  # nothing was written
    # Read-only optimizer state, with a writable parameter.
    p, g = np.ones((2, 3), dtype), np.ones((2, 3), dtype)
    with pytest.raises(engine.EngineValueError, match=r"^sgd update: the momentum buffer's storage"):
        c.sgd_update(p, g, _read_only(dtype), 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(engine.EngineValueError, match=r"^adam update: the first moment"):
        c.adam_update(p, g, _read_only(dtype), np.zeros((2, 3), dtype), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)
    with pytest.raises(engine.EngineValueError, match=r"^adam update: the second moment"):
        c.adam_update(p, g, np.zeros((2, 3), dtype), _read_only(dtype), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)
    np.testing.assert_array_equal(p, 1)  # refused before anything was updated


@needs_c
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_c_updates_misaligned_and_strided_storage_in_place(dtype):
    # Writable but not addressable by element strides: updated in place, as numpy would.
    c, ref = get_backend("c"), get_backend("numpy")
    rng = np.random.default_rng(3)
    start = rng.uniform(-1, 1, size=6).astype(dtype)
    grad = rng.uniform(-1, 1, size=6).astype(dtype)
    makers = {
        "misaligned": _misaligned,
        "structured field": _field,
        "reversed field": lambda v: _field(v[::-1].copy())[::-1],
    }
    for name, make in makers.items():
        p, want = make(start.copy()), start.copy()
        c.fill(p, 2.5)
        ref.fill(want, 2.5)
        np.testing.assert_array_equal(p, want, err_msg=f"{name}: fill")
        for momentum, first in ((0.0, True), (0.9, True), (0.9, False)):
            p, want = make(start.copy()), start.copy()
            buf, want_buf = make(grad.copy()), grad.copy()
            c.sgd_update(p, make(grad.copy()), buf, 0.1, momentum, 0.0, 0.01, False, first)
            ref.sgd_update(want, grad.copy(), want_buf, 0.1, momentum, 0.0, 0.01, False, first)
            assert_same(p, want, rtol=1e-6, what=f"{name}: sgd p")
            assert_same(buf, want_buf, rtol=1e-6, what=f"{name}: sgd buf")
        p, m, v = make(start.copy()), make(np.zeros(6, dtype)), make(np.zeros(6, dtype))
        want, wm, wv = start.copy(), np.zeros(6, dtype), np.zeros(6, dtype)
        c.adam_update(p, make(grad.copy()), m, v, 0.1, 0.9, 0.999, 1e-8, 0.0, 1)
        ref.adam_update(want, grad.copy(), wm, wv, 0.1, 0.9, 0.999, 1e-8, 0.0, 1)
        for got, exp, what in ((p, want, "p"), (m, wm, "m"), (v, wv, "v")):
            assert_same(got, exp, rtol=1e-5 if dtype == "float32" else 1e-12, what=f"{name}: adam {what}")


# ---------------------------------------------------------------------------------------------
# 2. Matmul with zero-size dimensions
# ---------------------------------------------------------------------------------------------


def _matmul_shapes():
    """Operand shapes that torch accepts: every mix of zero/non-zero batch, m, k, n, with
    broadcast batches and 1-D operands."""
    batches = [((), ()), ((2,), (2,)), ((0,), (0,)), ((2,), ()), ((), (3,)), ((1,), (0,)), ((0, 1), (1, 3))]
    for (ba, bb), m, k, n in itertools.product(batches, (0, 3), (0, 2), (0, 4)):
        yield ba + (m, k), bb + (k, n)
    for k in (0, 3):
        yield (k,), (k,)
        yield (k,), (k, 4)
        yield (2, 0, k), (k,)
        yield (k,), (0, k, 4)
        yield (5, k), (k,)


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_matmul_with_zero_size_dimensions_matches_torch(device):
    # ones(2,0,3) @ ones(2,3,4) raised numpy's reshape error on the c device.
    rng = np.random.default_rng(0)
    checked = 0
    for sa, sb in _matmul_shapes():
        A, B = rng.standard_normal(sa), rng.standard_normal(sb)
        a = engine.tensor(A, device=device, requires_grad=True)
        b = engine.tensor(B, device=device, requires_grad=True)
        out = a @ b
        out.sum().backward()
        ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
        tout = ta @ tb
        tout.sum().backward()
        what = f"{sa} @ {sb}"
        assert tuple(out.shape) == tuple(tout.shape), what
        assert_same(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, what=what)
        assert_same(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, signed_zeros=False, what=f"grad a of {what}")
        assert_same(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12, signed_zeros=False, what=f"grad b of {what}")
        checked += 1
    assert checked == 66


@needs_c
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_backend_matmul_with_zero_sizes_and_transpose_flags(dtype):
    c, ref = get_backend("c"), get_backend("numpy")
    rng = np.random.default_rng(2)
    for (ba, bb), m, k, n, ta, tb in itertools.product(
        [((), ()), ((2,), (2,)), ((0,), (0,)), ((2,), ()), ((1,), (3,)), ((3, 1), (1, 0))],
        (0, 1, 5), (0, 3), (0, 1, 4), (False, True), (False, True),
    ):
        a = rng.uniform(-1, 1, size=ba + ((k, m) if ta else (m, k))).astype(dtype)
        b = rng.uniform(-1, 1, size=bb + ((n, k) if tb else (k, n))).astype(dtype)
        got, want = c.matmul(a, b, ta, tb), ref.matmul(a, b, ta, tb)
        assert got.shape == want.shape and got.dtype == want.dtype
        what = f"{a.shape} @ {b.shape}, transposed {ta} {tb}"
        assert_same(got, want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6, what=what)
        if k == 0:
            assert (got == 0).all()  # sums of no products


@needs_c
def test_backend_matmul_refuses_batches_that_do_not_broadcast():
    c = get_backend("c")
    with pytest.raises(engine.ShapeError, match=r"^matmul: batch dimensions \(2,\) and \(3,\)"):
        c.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))
    # The contract's operands are at least 2-d (the op makes a vector a row or a column first).
    for a, b in (((), (3,)), ((3,), (3, 2)), ((2, 3), (3,))):
        with pytest.raises(engine.ShapeError, match=r"^matmul: both operands need at least 2 dimensions"):
            c.matmul(np.ones(a), np.ones(b))
    for flags in ((False, False), (True, False), (False, True)):  # the compact 2-D path and the general one
        for a in (np.ones((2, 3)), np.ones((4, 2, 3))):
            with pytest.raises(engine.ShapeError, match=r"^matmul: inner sizes differ"):
                c.matmul(a, np.ones((4, 5)), *flags)


# ---------------------------------------------------------------------------------------------
# 3 and 10. softmax of 0-d tensors, log_softmax and cross_entropy at huge logits
# ---------------------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_softmax_of_a_0d_tensor_matches_torch(device):
    # c raised numpy's AxisError; torch gives 1 (softmax) and 0 (log_softmax), NaN for NaN/inf.
    for value, log, dim, dtype in itertools.product(
        (3.0, 0.0, -1e30, math.nan, math.inf, -math.inf), (False, True), (0, -1), ("float32", "float64")
    ):
        x = engine.tensor(value, device=device, dtype=dtype, requires_grad=True)
        y = engine.log_softmax(x, dim) if log else engine.softmax(x, dim)
        y.backward(engine.tensor(0.75, device=device, dtype=dtype))
        tx = torch.tensor(value, dtype=getattr(torch, dtype), requires_grad=True)
        ty = torch.log_softmax(tx, dim) if log else torch.softmax(tx, dim)
        ty.backward(torch.tensor(0.75, dtype=tx.dtype))
        what = f"{'log_' if log else ''}softmax({value}) dim {dim} {dtype}"
        assert y.shape == () and str(y.dtype).endswith(dtype), what
        assert_same(y.detach().numpy(), ty.detach().numpy(), what=what)
        assert_same(x.grad.numpy(), tx.grad.numpy(), signed_zeros=False, what=f"grad of {what}")


@needs_c
def test_backend_softmax_axes_and_empty_dims():
    c, ref = get_backend("c"), get_backend("numpy")
    for shape, axis in (((0,), 0), ((0, 3), 1), ((3, 0), 1), ((3, 0), 0), ((2, 0, 4), -1), ((1,), -1), ((4,), 0)):
        x = np.ones(shape)
        for log in (False, True):
            got, want = c.softmax(x, axis, log), ref.softmax(x, axis, log)
            assert got.shape == want.shape == shape
            assert_same(got, want, rtol=1e-15)
            assert_same(c.softmax_backward(got, x, axis, log), fused(ref, "softmax_backward", want, x, axis, log),
                        rtol=1e-15)
    for shape, axis in (((), 1), ((3,), 1), ((3,), -2), ((2, 3), 2)):
        with pytest.raises(engine.EngineValueError, match=r"^(log_)?softmax: dim -?\d is out of range for a \d-d"):
            c.softmax(np.ones(shape), axis)


def _logit_rows(dtype: str) -> np.ndarray:
    """Rows of logits: huge equal and near-equal values, -inf entries, all -inf, +inf, NaN."""
    inf = math.inf
    big = [1e6, 1e7, 1e16] + ([1e30, 3e38] if dtype == "float32" else [1e100, 1e300])
    rows = [[b, b, b / 2 if b < 1e30 else b] for b in big]
    rows += [[-b, -b, -b] for b in big] + [[b, -b, 0.0] for b in big]
    rows += [[1.0, -inf, 0.5], [-inf, -inf, 3.0], [-inf, -inf, -inf], [inf, 1.0, 2.0], [inf, inf, -inf],
             [math.nan, 1.0, 2.0], [0.0, -0.0, 5e-324 if dtype == "float64" else 1e-45]]
    return np.array(rows, dtype=dtype)


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_softmax_family_at_huge_and_infinite_logits_matches_torch(device, dtype):
    # c computed x - (max + log sum): 0.0 instead of -log 2 for float64 [1e16, 1e16], 16% off at 1e7.
    # The reference is PyTorch in float64, rounded to the dtype (x - max overflows float32 at 3e38).
    bk = OnHost(device)
    x = _logit_rows(dtype)
    g = np.random.default_rng(4).uniform(-1, 1, size=x.shape).astype(dtype)
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    tol = {"rtol": 2e-6 if dtype == "float32" else 1e-13, "atol": 1e-7 if dtype == "float32" else 1e-15}
    for log in (False, True):
        ty = torch.log_softmax(tx, 1) if log else torch.softmax(tx, 1)
        (tg,) = torch.autograd.grad(ty, tx, torch.tensor(g, dtype=torch.float64))
        y = bk.softmax(x, 1, log)
        name = "log_softmax" if log else "softmax"
        assert_same(y, ty.detach().numpy().astype(dtype), signed_zeros=False, **tol, what=f"{name} {device} {dtype}")
        gx = fused(bk, "softmax_backward", y, g, 1, log)
        assert_same(gx, tg.numpy().astype(dtype), signed_zeros=False, **tol, what=f"{name} backward {device} {dtype}")
    target = np.arange(x.shape[0]) % 3
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction="none")
    gl = np.linspace(0.5, 2.0, x.shape[0]).astype(dtype)
    (tgl,) = torch.autograd.grad(tl, tx, torch.tensor(gl, dtype=torch.float64))
    loss, glog = bk.cross_entropy(x, target), fused(bk, "cross_entropy_backward", x, target, gl)
    what = f"cross_entropy {device} {dtype}"
    assert_same(loss, tl.detach().numpy().astype(dtype), signed_zeros=False, **tol, what=what)
    assert_same(glog, tgl.numpy().astype(dtype), signed_zeros=False, **tol, what=f"backward of {what}")
    # the numbers from the issue
    assert_same(bk.softmax(np.array([1e16, 1e16]), 0, True), [-math.log(2)] * 2, rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# 16. Special values through every primitive
# ---------------------------------------------------------------------------------------------


def special_values(dtype: str, repeat: int = 4) -> np.ndarray:
    """NaN, +-inf, +-0, the smallest subnormal and normal, the largest finite number, and
    ordinary values around the places where exp/sigmoid/tanh saturate; repeated so that PyTorch
    runs its vectorised loops as well as its scalar ones."""
    fi = np.finfo(dtype)
    base = [math.nan, math.inf, -math.inf, 0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny,
            fi.max, -fi.max, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 20.0, -20.0, 100.0, -100.0, 800.0, -800.0]
    return np.tile(np.array(base, dtype=dtype), repeat)


_TORCH_UNARY = {
    "neg": lambda t, a: -t,
    "exp": lambda t, a: t.exp(),
    "log": lambda t, a: t.log(),
    "sigmoid": lambda t, a: t.sigmoid(),
    "tanh": lambda t, a: t.tanh(),
    "relu": lambda t, a: t.relu(),
    "leaky_relu": lambda t, a: torch.nn.functional.leaky_relu(t, a),
    "elu": lambda t, a: torch.nn.functional.elu(t, a),
    "pow": lambda t, a: t**a,
    "abs": lambda t, a: t.abs(),
    "sign": lambda t, a: t.sign(),
}
# The same through the engine's Tensor API (its derivatives are engine/ops', written once).
_ENGINE_UNARY = {
    "neg": lambda t, a: -t,
    "exp": lambda t, a: t.exp(),
    "log": lambda t, a: t.log(),
    "sigmoid": lambda t, a: t.sigmoid(),
    "tanh": lambda t, a: t.tanh(),
    "relu": lambda t, a: t.relu(),
    "leaky_relu": lambda t, a: F.leaky_relu(t, a),
    "elu": lambda t, a: F.elu(t, a),
    "pow": lambda t, a: t**a,
    "abs": lambda t, a: t.abs(),
}
_UNARY_CASES = [("neg", 0.0), ("exp", 0.0), ("log", 0.0), ("sigmoid", 0.0), ("tanh", 0.0), ("relu", 0.0),
                ("leaky_relu", 0.01), ("elu", 1.0), ("elu", 0.5), ("abs", 0.0), ("sign", 0.0)]
_UNARY_CASES += [("pow", a) for a in (0.5, -0.5, 1.5, -1.5, 2.5, 2.0, 3.0, -1.0, -2.0, 1.0, 0.0)]


def _tolerances(dtype: str) -> dict:
    # A few ulp (libm vs PyTorch's SLEEF); atol = the smallest normal number: PyTorch flushes
    # sigmoid(-100) in float32 to 0, our C gives the subnormal 3.8e-44 (the true value).
    if dtype == "float32":
        return {"rtol": 4e-6, "atol": float(np.finfo(np.float32).tiny)}
    return {"rtol": 1e-13, "atol": float(np.finfo(np.float64).tiny)}


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op,alpha", _UNARY_CASES)
def test_unary_special_values_match_torch(device, dtype, op, alpha):
    # c: sqrt(-inf) = (-inf)**0.5 gave +inf and (-inf)**-0.5 gave 0 (torch: NaN); relu's
    # gradient at NaN was 0 (torch passes g); elu's slope far left was 0 (y + alpha cancelled).
    # Forward at the backend (the primitive), the gradient through Tensors (the op's derivative).
    bk = OnHost(device)
    x = special_values(dtype)
    gy = np.linspace(-2, 2, x.size).astype(dtype)
    t = torch.tensor(x, requires_grad=True)
    ty = _TORCH_UNARY[op](t, alpha)
    what = f"{op}({alpha}) {device} {dtype}"
    y = bk.unary(op, x, alpha)
    assert y.dtype == x.dtype, what
    assert_same(y, ty.detach().numpy(), **_tolerances(dtype), what=what)
    if op not in _ENGINE_UNARY:
        return  # sign: no Tensor method (abs's and L1's derivatives use it, checked there)
    if (op, alpha) == ("pow", 2.0):
        # The tensor layer computes x ** 2 as x * x (exact, one primitive), so its gradient is g x + g x,
        # where torch's pow takes g (2 x): they differ where 2 x overflows and g x + g x does not.
        t = torch.tensor(x, requires_grad=True)
        ty = t * t
    ty.backward(torch.tensor(gy))
    e = engine.tensor(x, device=device, requires_grad=True)
    _ENGINE_UNARY[op](e, alpha).backward(engine.tensor(gy, device=device))
    assert_same(_ENGINE_UNARY[op](e, alpha).detach().numpy(), ty.detach().numpy(), **_tolerances(dtype),
                what=f"tensor {what}")
    want_g = t.grad.numpy()
    if op == "elu":
        # At NaN PyTorch's scalar loop (x <= 0 ? ... : g) passes g, its vectorised loop (x > 0 ? g : ...)
        # gives NaN; the engine follows the scalar definition, as relu does.
        want_g = np.where(np.isnan(x), gy, want_g)
    # gradients compare without the sign of zero (g * mask gives -0 where torch writes 0)
    assert_same(e.grad.numpy(), want_g, signed_zeros=False, **_tolerances(dtype), what=f"backward of {what}")


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_sqrt_and_relu_at_special_values_through_tensors(device):
    # The issue's examples, end to end through Tensor ops and autograd.
    for dtype in ("float32", "float64"):
        x = engine.tensor([-math.inf, -0.0, 0.0, 4.0, math.inf, math.nan], device=device, dtype=dtype)
        tx = torch.tensor(x.numpy())
        assert_same(x.sqrt().numpy(), tx.sqrt().numpy(), what="sqrt")
        assert_same((x**0.5).numpy(), (tx**0.5).numpy(), what="x ** 0.5")
        assert_same((x**-0.5).numpy(), (tx**-0.5).numpy(), what="x ** -0.5")
        assert np.isnan(x.sqrt().numpy()[0]) and np.isnan((x**-0.5).numpy()[0])
        r = engine.tensor([math.nan, -1.0, 0.0, 2.0], device=device, dtype=dtype, requires_grad=True)
        r.relu().sum().backward()
        assert_same(r.grad.numpy(), [1.0, 0.0, 0.0, 1.0], what="relu gradient (1 at NaN, as torch)")


_TORCH_BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "maximum": torch.maximum,
                 "minimum": torch.minimum, "pow": torch.pow} if HAS_TORCH else {}


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_binary_special_values_match_torch(device, dtype, op):
    # Every pair of special values, as two arrays, as array op one number, and with the
    # second operand broadcast (numpy's power took sqrt for a repeated 0.5: NaN at -inf where
    # torch's tensor ** tensor gives +inf).
    bk = OnHost(device)
    v = special_values(dtype, repeat=1)
    a, b = (np.array(p, dtype=dtype) for p in zip(*itertools.product(v, v)))
    want = _TORCH_BINARY[op](torch.tensor(a), torch.tensor(b)).numpy()
    tol = _tolerances(dtype)
    assert_same(bk.binary(op, a, b), want, **tol, what=f"{op} {device} {dtype}")
    assert_same(bk.binary(op, a.reshape(v.size, v.size), b.reshape(v.size, v.size).T.copy().T),
                want.reshape(v.size, v.size), **tol, what=f"{op} strided")
    for k, s in enumerate(v):
        rows = slice(k, a.size, v.size)  # every a paired with b = s
        one = np.array(s, dtype=dtype)
        assert_same(bk.binary(op, a[rows], one), want[rows], **tol, what=f"{op} with 0-d b = {s}")
        assert_same(bk.binary(op, a[rows], one.reshape(1)), want[rows], **tol, what=f"{op} with b = [{s}]")
        assert_same(bk.binary(op, a[rows], float(s)), want[rows], **tol, what=f"{op} with float b = {s}")


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_compare_and_where_special_values_match_torch(device, dtype):
    bk = OnHost(device)
    v = special_values(dtype, repeat=1)
    a, b = (np.array(p, dtype=dtype) for p in zip(*itertools.product(v, v)))
    ta, tb = torch.tensor(a), torch.tensor(b)
    for op in ("lt", "le", "gt", "ge", "eq", "ne"):
        got = bk.compare(op, a, b)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, getattr(torch, op)(ta, tb).numpy(), err_msg=op)
    cond = np.isnan(a) | (a > b)
    assert_same(bk.where(cond, a, b), torch.where(torch.tensor(cond), ta, tb).numpy(), what="where")


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
def test_reductions_of_special_values_match_torch(device, dtype):
    # max/min: NaN wins and the index is that of the first NaN; ties give the first index.
    bk = OnHost(device)
    fi = np.finfo(dtype)
    pool = np.array([math.nan, math.inf, -math.inf, 0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal,
                     1.0, -1.0, fi.max], dtype=dtype)
    rng = np.random.default_rng(5)
    for trial in range(60):
        shape = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(1, 4)))
        x = rng.choice(pool, size=shape).astype(dtype)
        if trial % 2:
            x = x.T  # strided
        tx = torch.tensor(np.ascontiguousarray(x))
        for axis in [None, *range(x.ndim)]:
            finite_sum = x[np.abs(x) < fi.max]  # a sum of +-max overflows in an order-dependent way
            if axis is None and finite_sum.size == x.size:
                assert_same(bk.sum(x, None), tx.sum().numpy(), rtol=1e-6, atol=float(fi.tiny), what=f"sum {x.tolist()}")
            if axis is not None:
                xs = np.where(np.abs(x) == fi.max, 1.0, x).astype(dtype)
                assert_same(bk.sum(xs, (axis,)), torch.tensor(np.ascontiguousarray(xs)).sum(axis).numpy(),
                            rtol=1e-6, atol=float(fi.tiny), what=f"sum axis {axis} of {xs.tolist()}")
            for kind in ("max", "min"):
                values, index = getattr(bk, kind)(x, axis)
                if axis is None:
                    want_v = getattr(tx, kind)().numpy()
                    want_i = getattr(tx, "arg" + kind)().numpy()
                else:
                    r = getattr(tx, kind)(axis)
                    want_v, want_i = r.values.numpy(), r.indices.numpy()
                what = f"{kind} axis {axis} of {x.tolist()}"
                assert_same(values, want_v, signed_zeros=False, what=what)
                np.testing.assert_array_equal(index, want_i, err_msg=what)


# ---------------------------------------------------------------------------------------------
# 25. fork() after the multi-threaded kernels ran
# ---------------------------------------------------------------------------------------------

_FORK_PRELUDE = """
import os, sys, time
import numpy as np
from engine.backends import get_backend
from engine.backends.c_backend import in_forked_child, num_threads

c = get_backend("c")
a = np.ones((256, 256), np.float32)
big = np.ones(1 << 20, np.float32)

def work(_=None):
    # each big enough to run on every thread of the pool
    return float(c.matmul(a, a)[0, 0]), float(c.sum(big, None)), float(c.unary("neg", big)[-1])

EXPECTED = (256.0, float(1 << 20), -1.0)
assert work() == EXPECTED  # the parent's pool now exists
"""


def _run_fork_script(body: str) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="2", PYTHONWARNINGS="ignore::DeprecationWarning")
    script = _FORK_PRELUDE + textwrap.dedent(body)
    try:
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as exc:  # the script's own timeouts should fire first
        pytest.fail(f"the fork test script hung: {exc}")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_c
@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_forked_child_runs_c_ops_after_the_thread_pool_started():
    # Before: the child's first multi-threaded kernel waited forever for the parent's
    # OpenMP worker threads, which fork does not copy.
    out = _run_fork_script("""
        pid = os.fork()
        if pid == 0:
            ok = work() == EXPECTED and num_threads() == 1
            os._exit(0 if ok else 3)
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                sys.exit("the forked child hung in a C op")
            time.sleep(0.02)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert work() == EXPECTED and not in_forked_child()  # the parent keeps its threads
        print("ok", num_threads())
    """)
    assert out.startswith("ok")


@needs_c
@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_multiprocessing_fork_workers_run_c_ops():
    out = _run_fork_script("""
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map_async(work, range(4)).get(timeout=60)
        assert results == [EXPECTED] * 4, results
        print("ok")
    """)
    assert out.strip() == "ok"


@needs_c
def test_set_num_threads_checks_its_argument():
    from engine.backends.c_backend import num_threads, set_num_threads

    before = num_threads()
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(engine.EngineValueError, match=r"^set_num_threads: expected a whole number"):
            set_num_threads(bad)
    set_num_threads(before)
    assert num_threads() == before
