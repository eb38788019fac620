"""The reduction kernels (sum, max/min with argmax/argmin) against numpy, on views of every kind
(compact, transposed, reversed, sliced, broadcast, 0-d), edge sizes (0, 1, primes, 33 x 65) and
rows longer than a block (2000, 5000; 100_000 on a real GPU).

The simulator runs every CUDA thread as a Python thread, so most tests shrink the block to one
warp (``small_blocks``) and the work per block (``ITEMS``), which also sends short rows down the
multi-block, two- and three-pass paths. ``test_default_blocks`` runs the real configuration, and
the ``shuffles`` tests run the warp-shuffle stage through the simulator's stand-in.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

cuda = pytest.importorskip("numba.cuda")
red = pytest.importorskip("engine._kernels.reduce")

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
FLOATS = [np.float32, np.float64]
TOL = {np.float32: 1e-5, np.float64: 1e-12}


@pytest.fixture(autouse=True, scope="module")
def quick_thread_switches():
    """The simulator's barrier waits on Python threads that the interpreter switches between every
    5 ms by default; switching sooner makes this module ~2.5x faster (and changes nothing else)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(before)


@pytest.fixture
def small_blocks(monkeypatch):
    """One warp per block, rows of up to 32 x 64 elements in one block: few blocks to simulate."""
    monkeypatch.setattr(red, "THREADS", 32)
    monkeypatch.setattr(red, "ITEMS", 64)


@pytest.fixture
def many_blocks(monkeypatch):
    """One warp per block and 2 elements per thread before a row is split over blocks (at most
    16 here): rows of a few hundred elements take the multi-block, multi-pass path."""
    monkeypatch.setattr(red, "THREADS", 32)
    monkeypatch.setattr(red, "ITEMS", 2)
    monkeypatch.setattr(red, "TARGET_BLOCKS", 16)


@pytest.fixture
def shuffles(monkeypatch):
    """Two warps per block, folded by warp shuffles (the simulator's stand-in for them)."""
    monkeypatch.setattr(red, "THREADS", 64)
    monkeypatch.setattr(red, "ITEMS", 2)
    monkeypatch.setattr(red, "TARGET_BLOCKS", 8)
    monkeypatch.setattr(red, "SHUFFLES", True)


# ---- views: a numpy view of a stored array, and the same view on the device --------------------------------


def device_view(view: np.ndarray, storage: np.ndarray) -> tuple:
    """(buffer, offset, strides) of the numpy ``view`` of the compact array ``storage``."""
    item = storage.itemsize
    offset = (view.__array_interface__["data"][0] - storage.__array_interface__["data"][0]) // item
    return cuda.to_device(storage.reshape(-1)), offset, tuple(s // item for s in view.strides)


def random(shape, dtype, rng, low=-1.0, high=1.0):
    if np.dtype(dtype).kind == "f":
        return rng.uniform(low, high, shape).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) < 0.5
    return rng.integers(int(low), int(high) + 1, shape).astype(dtype)


# name: (storage shape, the view of it the kernels read)
LAYOUTS = {
    "7": ((7,), lambda s: s),
    "13": ((13,), lambda s: s),
    "17": ((17,), lambda s: s),
    "1": ((1,), lambda s: s),
    "33x65": ((33, 65), lambda s: s),
    "33x65 transposed": ((65, 33), lambda s: s.T),
    "13x17 transposed": ((17, 13), lambda s: s.T),
    "17x13 reversed": ((17, 13), lambda s: s[::-1, ::-1]),
    "33x65 sliced": ((33, 65), lambda s: s[1::2, ::3]),
    "7x13 broadcast": ((13,), lambda s: np.broadcast_to(s, (7, 13))),
    "7x13 broadcast rows": ((7, 1), lambda s: np.broadcast_to(s, (7, 13))),
    "7x13x17": ((7, 13, 17), lambda s: s),
    "13x7x17 permuted": ((17, 7, 13), lambda s: s.transpose(2, 1, 0)),
    "0-d": ((), lambda s: s),
}


def all_axes(ndim):
    """Every sorted subset of the axes (for up to 3 axes: at most 8)."""
    return [tuple(d for d in range(ndim) if mask >> d & 1) for mask in range(1 << ndim)]


def run_sum(view, storage, axes, dtype):
    kept = tuple(n for d, n in enumerate(view.shape) if d not in axes)
    out = cuda.to_device(np.full(int(np.prod(kept)), poison(dtype), dtype))  # size 1 when nothing is kept
    red.sum(device_view(view, storage), view.shape, axes, out)
    return out.copy_to_host().reshape(kept)


def poison(dtype):
    """A value no reduction here produces: an unwritten output element shows."""
    return np.nan if np.dtype(dtype).kind == "f" else 7777


def check_sum(got, view, axes, dtype):
    want = view.astype(np.float64).sum(axis=axes) if np.dtype(dtype).kind == "f" else view.sum(axis=axes)
    assert got.shape == np.shape(want)
    if np.dtype(dtype).kind == "f":
        scale = max(1.0, float(np.abs(view).sum(axis=axes, initial=0).max(initial=0)))
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)
    else:
        np.testing.assert_array_equal(got, want)


# ---- sum ---------------------------------------------------------------------------------------------------------


# float32 runs on every layout; the other dtypes on a few small ones (the simulator is slow)
SOME = ["17", "13x17 transposed", "7x13 broadcast rows"]
CASES = [(layout, np.float32) for layout in LAYOUTS] + [(layout, d) for d in (np.float64, np.int64) for layout in SOME]


@pytest.mark.parametrize("layout,dtype", CASES)
def test_sum_over_every_set_of_axes(layout, dtype, small_blocks):
    shape, make = LAYOUTS[layout]
    rng = np.random.default_rng(len(layout))
    storage = random(shape, dtype, rng, -100, 100)
    view = make(storage)
    for axes in all_axes(view.ndim):
        check_sum(run_sum(view, storage, axes, dtype), view, axes, dtype)


@pytest.mark.parametrize("shape,axes", [((0,), (0,)), ((3, 0), (1,)), ((3, 0), (0,)), ((0, 3), (1,)), ((0, 3), ()),
                                        ((2, 0, 3), (1,))])
def test_sum_of_empty_shapes(shape, axes, small_blocks):
    storage = np.zeros(shape, np.float32)
    got = run_sum(storage, storage, axes, np.float32)
    np.testing.assert_array_equal(got, storage.sum(axis=axes))


def test_sum_of_negative_zeros_is_positive_zero(small_blocks):
    for n in (1, 5, 100):
        storage = np.full(n, -0.0, np.float64)
        got = run_sum(storage, storage, (0,), np.float64)
        assert got == 0 and not np.signbit(got), "a sum starts from +0, as PyTorch's"


LONG_ROWS = [((2000,), (0,)), ((5, 401), (1,)), ((401, 5), (0,)), ((2000, 3), (0,)), ((3, 40, 50), (0, 2)),
             ((70, 60), (0, 1))]


@pytest.mark.parametrize("shape,axes,dtype", [(*case, np.float64) for case in LONG_ROWS] + [
    (*case, dtype) for dtype in (np.float32, np.int64) for case in LONG_ROWS[:2]])
def test_sum_of_rows_longer_than_a_block(shape, axes, dtype, many_blocks):
    """Rows split over many blocks: the partials go through the scratch and a second pass."""
    rng = np.random.default_rng(sum(shape))
    storage = random(shape, dtype, rng, -1000, 1000)
    check_sum(run_sum(storage, storage, axes, dtype), storage, axes, dtype)


def test_sum_in_three_passes(monkeypatch):
    """One element per lane: 2000 -> 63 partials -> 4 -> 1."""
    monkeypatch.setattr(red, "THREADS", 32)
    monkeypatch.setattr(red, "ITEMS", 1)
    storage = np.random.default_rng(0).integers(-50, 50, 2000).astype(np.int64)
    assert run_sum(storage, storage, (0,), np.int64) == storage.sum()


def test_sum_is_deterministic(many_blocks):
    """Fixed fold orders, no float atomics: the same bits every run."""
    storage = np.random.default_rng(1).standard_normal(2000).astype(np.float32)
    first = run_sum(storage, storage, (0,), np.float32)
    assert first.tobytes() == run_sum(storage, storage, (0,), np.float32).tobytes()


# Shapes that reach each use of the shuffles with 64-thread blocks (R lanes per output, MB outputs):
SHUFFLE_CASES = {
    "300, all": ((300,), lambda s: s, None),  # inner, R = 64: shuffles 16..1, then 2 warps; 3 chunks
    "3x40, rows": ((3, 40), lambda s: s, 1),  # inner, R = 16: shuffles 8..1 within half warps
    "200x5, columns": ((200, 5), lambda s: s, 0),  # outer, MB = 8, R = 8: shuffles 16, 8, then 2 warps
    "7x13 broadcast rows": ((7, 1), lambda s: np.broadcast_to(s, (7, 13)), 1),
}


def test_sum_with_warp_shuffles(shuffles):
    for shape, make, axis in SHUFFLE_CASES.values():
        storage = random(shape, np.int64, np.random.default_rng(2), -9, 9)
        view = make(storage)
        axes = tuple(range(view.ndim)) if axis is None else (axis,)
        check_sum(run_sum(view, storage, axes, np.int64), view, axes, np.int64)


# 100_000 elements take ~8 s in the simulator: there they are left out (not skipped: the simulator
# suite's summary must show no skips), and run wherever a GPU runs this folder.
LONG = [2000, 5000] + ([] if SIMULATOR else [100_000, 1_000_000])


@pytest.mark.parametrize("n", LONG)
def test_default_blocks(n):
    """The real configuration (256 threads, 8 items a thread): one block for 2000, three chunks
    for 5000; on a GPU also 49 and 489 chunks."""
    rng = np.random.default_rng(n)
    storage = rng.standard_normal(n).astype(np.float32)
    check_sum(run_sum(storage, storage, (0,), np.float32), storage, (0,), np.float32)
    run_extreme_and_check("max", storage, storage, 0)


def test_default_blocks_on_matrices():
    """The real configuration on the two layouts of a 40 x 50 matrix: rows (inner) and columns (outer)."""
    matrix = np.random.default_rng(7).standard_normal((40, 50)).astype(np.float32)
    for view in (matrix, matrix.T):
        check_sum(run_sum(view, matrix, (1,), np.float32), view, (1,), np.float32)
        run_extreme_and_check("min", view, matrix, 0)


# ---- max / min ------------------------------------------------------------------------------------------------


def run_extreme(kind, view, storage, axis, with_indices=True):
    if axis is None:
        kept = ()
    else:
        kept = tuple(n for d, n in enumerate(view.shape) if d != axis)
    size = int(np.prod(kept))
    dtype = storage.dtype
    values = cuda.to_device(np.full(size, poison(dtype) if dtype.kind in "fi" else 0, dtype))
    indices = cuda.to_device(np.full(size, -7, np.int64)) if with_indices else None
    red.extreme(kind, device_view(view, storage), view.shape, axis, values, indices)
    return values.copy_to_host().reshape(kept), (indices.copy_to_host().reshape(kept) if with_indices else None)


def run_extreme_and_check(kind, view, storage, axis, values_only_too=False):
    values, indices = run_extreme(kind, view, storage, axis)
    if view.size == 0 or (axis is not None and view.shape[axis] == 0):
        return
    arg = np.argmax if kind == "max" else np.argmin
    want_index = arg(view, axis=axis)
    want = np.take_along_axis(view, np.expand_dims(want_index, axis), axis).squeeze(axis) if axis is not None \
        else view.reshape(-1)[want_index]
    np.testing.assert_array_equal(indices, want_index)
    np.testing.assert_array_equal(values, want)  # NaN matches NaN here
    if not values_only_too:
        return
    only_values, none = run_extreme(kind, view, storage, axis, with_indices=False)
    assert none is None
    np.testing.assert_array_equal(only_values, want)


EXTREME_DTYPES = [np.float32, np.float64, np.int64, np.bool_, np.uint8]


def kinds_and_axes(ndim):
    """Both kinds over all elements, then max and min by turns over the single axes: max and min
    share every line but one comparison, and the simulator is slow."""
    return [("max", None), ("min", None)] + [(("min", "max")[d % 2], d) for d in range(ndim)]


EXTREME_CASES = [(layout, np.float32) for layout in LAYOUTS] + [
    (layout, d) for d in EXTREME_DTYPES[1:] for layout in SOME[1:]]


@pytest.mark.parametrize("layout,dtype", EXTREME_CASES)
def test_extreme_over_each_axis_and_all(layout, dtype, small_blocks):
    """Few distinct values (0..3), so most rows hold ties: the first index must win."""
    shape, make = LAYOUTS[layout]
    storage = random(shape, dtype, np.random.default_rng(len(layout)), 0, 3)
    if np.dtype(dtype).kind == "f":
        storage = np.floor(storage)
    view = make(storage)
    for kind, axis in kinds_and_axes(view.ndim):
        run_extreme_and_check(kind, view, storage, axis)


@pytest.mark.parametrize("layout,dtype", [("33x65 sliced", np.float32), ("17x13 reversed", np.float32),
                                          ("13x17 transposed", np.float64)])
def test_nan_is_the_extreme_and_the_first_nan_wins(layout, dtype, small_blocks):
    shape, make = LAYOUTS[layout]
    rng = np.random.default_rng(4)
    storage = np.floor(random(shape, dtype, rng, 0, 3))
    storage[rng.random(shape) < 0.05] = np.nan
    storage.reshape(-1)[[3, 40]] = [np.inf, -np.inf]
    view = make(storage)
    for kind, axis in kinds_and_axes(view.ndim):
        run_extreme_and_check(kind, view, storage, axis)


@pytest.mark.parametrize("dtype", FLOATS)
def test_extreme_of_long_rows(dtype, many_blocks):
    """Rows over many 32-thread blocks: the chunk winners meet in later passes, where the tie and
    NaN rules must still pick the first index."""
    rng = np.random.default_rng(5)
    n = 2000 if dtype == np.float32 else 500
    storage = np.floor(random((n,), dtype, rng, 0, 3))
    for kind in ("max", "min"):
        run_extreme_and_check(kind, storage, storage, None, values_only_too=True)
    matrix = np.floor(random((3, 300), dtype, rng, 0, 1))  # a long axis per kept row, and the outer layout
    run_extreme_and_check("max", matrix, matrix, 1, values_only_too=True)
    run_extreme_and_check("min", matrix.T, matrix, 0)
    storage[[n - 500, n - 200, n - 1]] = np.nan  # in different chunks: the first NaN wins
    run_extreme_and_check("max", storage, storage, 0)
    equal = np.full(n, -np.inf, dtype)  # every element ties: index 0
    run_extreme_and_check("min", equal, equal, None)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.uint8])
def test_extreme_of_long_rows_of_integers(dtype, many_blocks):
    storage = random((500,), dtype, np.random.default_rng(8), 0, 3)
    run_extreme_and_check("max", storage, storage, None, values_only_too=True)
    run_extreme_and_check("min", storage, storage, 0)


def test_extreme_of_integer_limits(small_blocks):
    info = np.iinfo(np.int64)
    storage = np.array([0, info.max, -5, info.min, info.max, info.min], np.int64)
    for kind in ("max", "min"):
        run_extreme_and_check(kind, storage, storage, None)
    small = np.array([3, 255, 0, 255, 0], np.uint8)
    for kind in ("max", "min"):
        run_extreme_and_check(kind, small, small, 0, values_only_too=True)


@pytest.mark.parametrize("case", list(SHUFFLE_CASES))
def test_extreme_with_warp_shuffles(case, shuffles):
    shape, make, axis = SHUFFLE_CASES[case]
    rng = np.random.default_rng(6)
    storage = np.floor(random(shape, np.float32, rng, 0, 3))
    storage[rng.random(shape) < 0.02] = np.nan
    view = make(storage)
    run_extreme_and_check("max", view, storage, axis, values_only_too=True)
    run_extreme_and_check("min", view, storage, axis)


def test_extreme_of_empty_shapes(small_blocks):
    empty_rows = np.zeros((0, 3), np.float32)
    run_extreme("max", empty_rows, empty_rows, 1)  # no outputs: nothing to do
    with pytest.raises(ValueError, match="max: the reduction is over an empty axis"):
        run_extreme("max", empty_rows, empty_rows, 0)
    with pytest.raises(ValueError, match="min: the reduction is over an empty axis"):
        run_extreme("min", empty_rows, empty_rows, None)


def test_extreme_of_a_0d_view_along_axis_0(small_blocks):
    """PyTorch allows dim=0 on a 0-d tensor: the one element, at index 0."""
    storage = np.array(4.5, np.float32)
    values, indices = run_extreme("min", storage.reshape(1), storage.reshape(1), 0)
    assert values.item() == 4.5 and indices.item() == 0
    out, where = cuda.to_device(np.zeros(1, np.float32)), cuda.to_device(np.full(1, -7, np.int64))
    red.extreme("max", device_view(storage, storage), (), 0, out, where)
    assert out.copy_to_host()[0] == 4.5 and where.copy_to_host()[0] == 0


def test_outputs_of_the_wrong_size_are_refused(small_blocks):
    storage = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"sum: out has 3 elements, but reducing \(3, 4\) over \(0,\) keeps 4"):
        red.sum(device_view(storage, storage), (3, 4), (0,), cuda.device_array(3, np.float32))
    with pytest.raises(ValueError, match="max: values/indices must hold 3 elements"):
        red.extreme("max", device_view(storage, storage), (3, 4), 1, cuda.device_array(3, np.float32),
                    cuda.device_array(4, np.int64))


def test_other_dtypes_are_refused_by_name():
    flags = np.zeros(4, np.bool_)
    with pytest.raises(TypeError, match="sum: the cuda kernels sum float32, float64 and int64, not bool"):
        red.sum(device_view(flags, flags), (4,), (0,), cuda.device_array(1, np.int64))
    halves = np.zeros(4, np.float16)
    with pytest.raises(TypeError, match="max: the cuda kernels take .* not float16"):
        red.extreme("max", device_view(halves, halves), (4,), None, cuda.device_array(1, np.float16))
