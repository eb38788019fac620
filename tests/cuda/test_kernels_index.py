"""The indexing kernels (take, put, add_at, gather, scatter_add) against numpy, with repeated
targets, strided / transposed / reversed / broadcast operands, 0-d operands and empty sizes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

cuda = pytest.importorskip("numba.cuda")
ix = pytest.importorskip("engine._kernels.index")

FLOATS = [np.float32, np.float64]


@pytest.fixture(autouse=True, scope="module")
def quick_thread_switches():
    """The simulator runs a block's threads as Python threads; switching between them sooner than
    the default 5 ms makes its barriers and launches faster (and changes nothing else)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(before)


def device_view(view: np.ndarray, storage: np.ndarray) -> tuple:
    """(buffer, offset, strides) of the numpy ``view`` of the compact array ``storage``."""
    item = storage.itemsize
    offset = (view.__array_interface__["data"][0] - storage.__array_interface__["data"][0]) // item
    return cuda.to_device(storage.reshape(-1)), offset, tuple(s // item for s in view.strides)


def values(shape, dtype, rng):
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) < 0.5
    return rng.integers(-100, 100, shape).astype(dtype)


# ---- take / put / add_at: element offsets computed on the host ------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 17, 300])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_take(n, dtype):
    rng = np.random.default_rng(n)
    buffer = values(40, dtype, rng)
    offsets = rng.integers(0, 40, n)  # repeats are fine for a read
    out = cuda.device_array(n, dtype)
    ix.take(cuda.to_device(buffer), cuda.to_device(offsets), out)
    np.testing.assert_array_equal(out.copy_to_host(), buffer[offsets])


# src: (storage shape, the view of it, the shape the kernel walks)
SOURCES = {
    "17": ((17,), lambda s: s),
    "3x5 transposed": ((5, 3), lambda s: s.T),
    "4x6 reversed": ((4, 6), lambda s: s[::-1, ::-1]),
    "4x6 broadcast": ((6,), lambda s: np.broadcast_to(s, (4, 6))),
    "0-d": ((), lambda s: s),
    "empty": ((0, 3), lambda s: s),
}


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_put_distinct_offsets(source, dtype):
    shape, make = SOURCES[source]
    rng = np.random.default_rng(len(source))
    storage = values(shape, dtype, rng)
    src = make(storage)
    buffer = values(60, dtype, rng)
    offsets = rng.permutation(60)[: src.size]
    device = cuda.to_device(buffer)
    ix.put(device, cuda.to_device(offsets), device_view(src, storage), src.shape)
    want = buffer.copy()
    want[offsets] = src.reshape(-1)
    np.testing.assert_array_equal(device.copy_to_host(), want)


def test_put_repeated_offsets_writes_one_of_them():
    src = np.arange(1, 7, dtype=np.float32)
    offsets = np.array([2, 5, 2, 2, 0, 5])
    device = cuda.to_device(np.zeros(8, np.float32))
    ix.put(device, cuda.to_device(offsets), device_view(src, src), src.shape)
    got = device.copy_to_host()
    assert got[2] in (1, 3, 4) and got[5] in (2, 6) and got[0] == 5
    assert not got[[1, 3, 4, 6, 7]].any()


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("dtype", FLOATS + [np.int64])
def test_add_at_adds_repeated_offsets(source, dtype):
    shape, make = SOURCES[source]
    rng = np.random.default_rng(len(source) + 1)
    storage = values(shape, dtype, rng)
    src = make(storage)
    buffer = values(9, dtype, rng)
    offsets = rng.integers(0, 9, src.size)  # many repeats: 24 sources into 9 places
    device = cuda.to_device(buffer)
    ix.add_at(device, cuda.to_device(offsets), device_view(src, storage), src.shape)
    want = buffer.copy()
    np.add.at(want, offsets, src.reshape(-1))
    np.testing.assert_allclose(device.copy_to_host(), want, rtol=1e-6)


# ---- gather / scatter_add along one axis -------------------------------------------------------------------------


def gather_reference(x: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    """PyTorch's gather: out[p] = x[p with p[axis] = index[p]], index no larger than x off the axis."""
    part = x[tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))]
    return np.take_along_axis(part, index, axis)


def scatter_add_reference(shape, axis, index, src, dtype):
    out = np.zeros(shape, dtype)
    where = list(np.indices(index.shape, sparse=True))
    where[axis] = index
    np.add.at(out, tuple(where), src)
    return out


# x: (storage shape, the view of it)
INPUTS = {
    "7x13x17": ((7, 13, 17), lambda s: s),
    "7x13x17 permuted": ((17, 13, 7), lambda s: s.transpose(2, 1, 0)),
    "5x6 reversed": ((5, 6), lambda s: s[::-1, ::-1]),
    "5x6 broadcast": ((6,), lambda s: np.broadcast_to(s, (5, 6))),
    "17": ((17,), lambda s: s),
}


# the 3-d inputs in float32; every dtype on the smaller ones (the simulator is slow)
GATHER_CASES = [(name, np.float32) for name in INPUTS] + [
    (name, dtype) for dtype in (np.float64, np.int64, np.bool_) for name in ("5x6 reversed", "5x6 broadcast", "17")]


@pytest.mark.parametrize("name,dtype", GATHER_CASES)
def test_gather(name, dtype):
    shape, make = INPUTS[name]
    rng = np.random.default_rng(len(name))
    storage = values(shape, dtype, rng)
    x = make(storage)
    for axis in range(x.ndim):
        # the index is smaller than x off the axis (PyTorch allows it) and longer along it, and is
        # itself a transposed view when it has 2 or more axes
        ishape = tuple(n + 3 if d == axis else max(1, n - 1) for d, n in enumerate(x.shape))
        istorage = rng.integers(0, x.shape[axis], ishape[::-1])
        index = istorage.transpose()
        out = cuda.device_array(index.size, dtype)
        ix.gather(device_view(x, storage), x.shape, axis - x.ndim if axis % 2 else axis,  # negative axes too
                  device_view(index, istorage), index.shape, out)
        np.testing.assert_array_equal(out.copy_to_host().reshape(index.shape), gather_reference(x, axis, index))


def test_gather_of_0d_and_empty():
    x = np.array(2.5, np.float32)
    out = cuda.device_array(1, np.float32)
    index = np.array(0, np.int64)
    ix.gather(device_view(x, x), (), 0, device_view(index, index), (), out)
    assert out.copy_to_host()[0] == 2.5
    empty = np.zeros((0, 3), np.int64)
    ix.gather(device_view(x, x), (), 0, device_view(empty, empty), (0, 3), cuda.device_array(0, np.float32))


@pytest.mark.parametrize("name,dtype", [("7x13x17", np.float32), ("7x13x17 permuted", np.float64)] + [
    (name, dtype) for dtype in (np.float32, np.float64, np.int64) for name in ("5x6 reversed", "5x6 broadcast", "17")])
def test_scatter_add(name, dtype):
    shape, make = INPUTS[name]
    rng = np.random.default_rng(len(name) + 2)
    sstorage = values(shape, dtype, rng)
    src = make(sstorage)  # src and index have the index's shape; out is larger along the axis
    for axis in range(src.ndim):
        out_shape = tuple(n - 2 if d == axis and n > 3 else n + 1 for d, n in enumerate(src.shape))
        istorage = rng.integers(0, out_shape[axis], src.shape[::-1])  # repeats along the axis
        index = istorage.transpose()
        out = cuda.to_device(np.zeros(int(np.prod(out_shape)), dtype))
        ix.scatter_add(out, out_shape, axis, device_view(index, istorage), index.shape, device_view(src, sstorage))
        want = scatter_add_reference(out_shape, axis, index, src, dtype)
        np.testing.assert_allclose(out.copy_to_host().reshape(out_shape), want, rtol=1e-5, atol=1e-5)


def test_scatter_add_of_0d_and_empty():
    src = np.array(1.5, np.float64)
    index = np.array(0, np.int64)
    out = cuda.to_device(np.zeros(1, np.float64))
    ix.scatter_add(out, (), 0, device_view(index, index), (), device_view(src, src))
    assert out.copy_to_host()[0] == 1.5
    empty = np.zeros((0,), np.int64)
    ix.scatter_add(out, (1,), 0, device_view(empty, empty), (0,), device_view(empty, empty))
    assert out.copy_to_host()[0] == 1.5
