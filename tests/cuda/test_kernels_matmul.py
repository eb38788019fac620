"""The tiled matmul kernel against the naive one and numpy (float64), on shapes that cross tile
edges, transposes by flag and by strides, broadcast batches, and empty sizes.

The simulator runs every CUDA thread in Python, so most tests use a small tile of the same
design (one warp of 8 x 8 register tiles, bk = 8); ``test_default_tile`` runs the real one.
"""

from __future__ import annotations

import numpy as np
import pytest

cuda = pytest.importorskip("numba").cuda
mm = pytest.importorskip("engine._kernels.matmul")

DEFAULT = mm.TILE
SMALL = mm.Tile(32, 64, 8, 8, 8)  # 32 threads: 2 x 2 patches of 4 x 4 each, warps as 8 x 4
TOL = {np.float32: 2e-5, np.float64: 1e-12}


@pytest.fixture(autouse=True)
def small_tile(monkeypatch):
    monkeypatch.setattr(mm, "TILE", SMALL)


def strided(base: np.ndarray, offset: int, shape: tuple, strides: tuple):
    """A view of the flat host array ``base``: (its device view tuple, its values on the host)."""
    host = np.lib.stride_tricks.as_strided(base[offset:], shape, tuple(s * base.itemsize for s in strides))
    return (cuda.to_device(base), offset, strides), host.copy()


def compact(x: np.ndarray):
    x = np.ascontiguousarray(x)
    strides = tuple(s // x.itemsize for s in x.strides)
    return strided(x.reshape(-1), 0, x.shape, strides)


def product(a, b, a_shape, b_shape, ta, tb, out_shape, dtype, fn=None):
    """Run ``fn`` (the tiled kernel by default) into a NaN-poisoned output; return it on the host."""
    out = cuda.to_device(np.full(int(np.prod(out_shape)), np.nan, dtype))
    (fn or mm.matmul)(a, b, a_shape, b_shape, ta, tb, out)
    return out.copy_to_host().reshape(out_shape)


def reference(ah, bh, ta, tb):
    ah, bh = ah.astype(np.float64), bh.astype(np.float64)
    return np.matmul(np.swapaxes(ah, -1, -2) if ta else ah, np.swapaxes(bh, -1, -2) if tb else bh)


def check(got, want, dtype):
    assert got.shape == want.shape
    assert not np.isnan(got).any(), "an output element was never written"
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)


@pytest.mark.parametrize(
    "m,k,n,dtype",
    [(1, 1, 1, np.float32), (1, 17, 1, np.float32), (17, 1, 1, np.float32), (1, 1, 17, np.float64),
     (33, 65, 31, np.float32), (40, 9, 70, np.float64)],
)
def test_shapes_crossing_tile_edges(m, k, n, dtype):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, ah = compact(rng.standard_normal((m, k)).astype(dtype))
    b, bh = compact(rng.standard_normal((k, n)).astype(dtype))
    got = product(a, b, (m, k), (k, n), False, False, (m, n), dtype)
    check(got, reference(ah, bh, False, False), dtype)
    naive = product(a, b, (m, k), (k, n), False, False, (m, n), dtype, mm.matmul_naive)
    check(got, naive, dtype)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_transpose_flags(ta, tb):
    m, k, n = 35, 19, 66
    rng = np.random.default_rng(int(ta) * 2 + int(tb))
    a_shape = (k, m) if ta else (m, k)
    b_shape = (n, k) if tb else (k, n)
    a, ah = compact(rng.standard_normal(a_shape).astype(np.float32))
    b, bh = compact(rng.standard_normal(b_shape).astype(np.float32))
    got = product(a, b, a_shape, b_shape, ta, tb, (m, n), np.float32)
    check(got, reference(ah, bh, ta, tb), np.float32)


def test_transposed_and_sliced_views_read_in_place():
    """A transpose by swapped strides, a column slice with a step, a reversed axis and an offset:
    the kernel walks each view's own strides."""
    rng = np.random.default_rng(7)
    m, k, n = 33, 10, 31
    base_a = rng.standard_normal(k * m + 5).astype(np.float32)
    a, ah = strided(base_a, 5, (m, k), (1, m))  # a stored (k, m), read as its transpose
    base_b = rng.standard_normal(k * 2 * n).astype(np.float32)
    b, bh = strided(base_b, (k - 1) * 2 * n, (k, n), (-2 * n, 2))  # rows reversed, every other column
    got = product(a, b, (m, k), (k, n), False, False, (m, n), np.float32)
    check(got, reference(ah, bh, False, False), np.float32)
    # the same view with the flag on top: op(a^T view) is the stored (k, m) matrix itself
    got_t = product(a, a, (m, k), (m, k), True, False, (k, k), np.float32)
    check(got_t, reference(ah, ah, True, False), np.float32)


def test_broadcast_batches():
    rng = np.random.default_rng(3)
    a, ah = compact(rng.standard_normal((2, 1, 5, 7)).astype(np.float32))
    b, bh = compact(rng.standard_normal((3, 7, 4)).astype(np.float32))
    got = product(a, b, (2, 1, 5, 7), (3, 7, 4), False, False, (2, 3, 5, 4), np.float32)
    check(got, reference(ah, bh, False, False), np.float32)
    # a 2-d weight against a batch, the batch transposed by flag; and an expanded (stride 0) batch axis
    w, wh = compact(rng.standard_normal((6, 5)).astype(np.float32))
    x, xh = compact(rng.standard_normal((3, 5, 4)).astype(np.float32))
    got = product(x, w, (3, 5, 4), (6, 5), True, True, (3, 4, 6), np.float32)
    check(got, reference(xh, wh, True, True), np.float32)
    base = rng.standard_normal(4 * 9).astype(np.float32)
    e, eh = strided(base, 0, (3, 4, 9), (0, 9, 1))  # one (4, 9) matrix expanded over 3 batches
    y, yh = compact(rng.standard_normal((3, 9, 2)).astype(np.float32))
    got = product(e, y, (3, 4, 9), (3, 9, 2), False, False, (3, 4, 2), np.float32)
    check(got, reference(eh, yh, False, False), np.float32)
    naive = product(e, y, (3, 4, 9), (3, 9, 2), False, False, (3, 4, 2), np.float32, mm.matmul_naive)
    check(got, naive, np.float32)


def test_empty_sizes():
    a, _ = compact(np.ones((4, 0), np.float32))
    b, _ = compact(np.ones((0, 3), np.float32))
    assert (product(a, b, (4, 0), (0, 3), False, False, (4, 3), np.float32) == 0).all()  # k = 0: zeros
    assert (product(a, b, (4, 0), (0, 3), False, False, (4, 3), np.float32, mm.matmul_naive) == 0).all()
    c, _ = compact(np.ones((0, 5), np.float32))
    d, _ = compact(np.ones((5, 3), np.float32))
    out = cuda.device_array(0, np.float32)
    mm.matmul(c, d, (0, 5), (5, 3), False, False, out)  # m = 0: nothing launched
    mm.matmul(d, c, (5, 3), (0, 5), True, True, out)  # n = 0 (via the flags)
    e, _ = compact(np.ones((0, 2, 5), np.float32))
    mm.matmul(e, d, (0, 2, 5), (5, 3), False, False, out)  # an empty batch
    with pytest.raises(ValueError, match="inner sizes"):
        mm.matmul(c, c, (0, 5), (0, 5), False, False, out)


def test_grid_limits_loop_inside_the_kernel(monkeypatch):
    """With grid y and z capped at 1, one block column walks every row tile and batch."""
    monkeypatch.setattr(mm, "MAX_GRID_YZ", 1)
    rng = np.random.default_rng(11)
    a, ah = compact(rng.standard_normal((3, 70, 6)).astype(np.float32))
    b, bh = compact(rng.standard_normal((3, 6, 5)).astype(np.float32))
    got = product(a, b, (3, 70, 6), (3, 6, 5), False, False, (3, 70, 5), np.float32)
    check(got, reference(ah, bh, False, False), np.float32)


@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh"])
def test_epilogue_bias_and_activation(act):
    rng = np.random.default_rng(5)
    m, k, n = 9, 12, 70
    a, ah = compact(rng.standard_normal((m, k)).astype(np.float32))
    w, wh = compact(rng.standard_normal((n, k)).astype(np.float32))
    bias = rng.standard_normal(n).astype(np.float32)
    out = cuda.to_device(np.full(m * n, np.nan, np.float32))
    mm.matmul(a, w, (m, k), (n, k), False, True, out, bias=cuda.to_device(bias), act=act)
    pre = reference(ah, wh, False, True) + bias
    want = {None: pre, "relu": np.maximum(pre, 0), "sigmoid": 1 / (1 + np.exp(-pre)), "tanh": np.tanh(pre)}[act]
    check(out.copy_to_host().reshape(m, n), want, np.float32)


def test_default_tile(monkeypatch):
    """The production tile (128 x 128 x 8, 256 threads of 8 x 8): one block, ragged edges, a batch."""
    assert DEFAULT == (128, 128, 8, 8, 8)
    monkeypatch.setattr(mm, "TILE", DEFAULT)
    rng = np.random.default_rng(13)
    a, ah = compact(rng.standard_normal((2, 33, 20)).astype(np.float32))
    b, bh = compact(rng.standard_normal((31, 20)).astype(np.float32))
    got = product(a, b, (2, 33, 20), (31, 20), False, True, (2, 33, 31), np.float32)
    check(got, reference(ah, bh, False, True), np.float32)
