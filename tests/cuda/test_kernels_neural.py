"""Linear, softmax, cross-entropy and difference-loss kernels against numpy in float64, and
against PyTorch (CPU) where the special values (inf, NaN, huge logits) are the point."""

from __future__ import annotations

import math

import numpy as np
import pytest

cuda = pytest.importorskip("numba").cuda
mm = pytest.importorskip("engine._kernels.matmul")
nn = pytest.importorskip("engine._kernels.neural")

ACTS = [None, "relu", "sigmoid", "tanh"]
TOL = {np.float32: 2e-5, np.float64: 1e-12}
# Under the simulator the kernels' float arithmetic is numpy's, which warns where a GPU silently
# gives inf or NaN (the special-value tests want exactly those).
special_values = pytest.mark.filterwarnings("ignore::RuntimeWarning")


DEFAULTS = {"ROW_THREADS": nn.ROW_THREADS, "SUM_THREADS": nn.SUM_THREADS, "SUM_BLOCKS": nn.SUM_BLOCKS,
            "COLUMN_ROWS": nn.COLUMN_ROWS}


@pytest.fixture(autouse=True)
def small_launches(monkeypatch):
    """The simulator runs each thread in Python: one-warp blocks of the same kernels (the launch
    shapes are part of each kernel's cache key), and the matmul's test tile."""
    monkeypatch.setattr(mm, "TILE", mm.Tile(32, 64, 8, 8, 8))
    for name, value in {"ROW_THREADS": 32, "SUM_THREADS": 32, "SUM_BLOCKS": 4, "COLUMN_ROWS": 16}.items():
        monkeypatch.setattr(nn, name, value)


def dev(x):
    return cuda.to_device(np.ascontiguousarray(x).reshape(-1))


def poisoned(n, dtype):
    return cuda.to_device(np.full(n, np.nan, dtype))


def close(got, want, dtype, scale=1.0):
    tol = TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10 * scale)


def act_of(act, pre):
    return {None: pre, "relu": np.where(pre < 0, 0.0, pre), "sigmoid": 1 / (1 + np.exp(-pre)),
            "tanh": np.tanh(pre)}[act]


# ---- linear -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("act,dtype", [(act, np.float32) for act in ACTS] + [("tanh", np.float64)])
def test_linear_forward(act, dtype):
    rng = np.random.default_rng(1)
    m, k, n = 33, 17, 65  # 2 x 2 blocks of the test tile
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((m, k), (n, k), (n,)))
    out = poisoned(m * n, dtype)
    nn.linear_forward(dev(x), dev(w), dev(b), act, out, m, k, n)
    want = act_of(act, x.astype(np.float64) @ w.T.astype(np.float64) + b)
    close(out.copy_to_host().reshape(m, n), want, dtype, 10)
    if act == "relu":  # without a bias, and k = 0: act(0)
        out = poisoned(m * n, dtype)
        nn.linear_forward(dev(x), dev(w), None, act, out, m, k, n)
        close(out.copy_to_host().reshape(m, n), act_of(act, x.astype(np.float64) @ w.T), dtype, 10)
        out = poisoned(2 * 3, dtype)
        nn.linear_forward(dev(np.zeros(0, dtype)), dev(np.zeros(0, dtype)), dev(b[:3]), act, out, 2, 0, 3)
        close(out.copy_to_host().reshape(2, 3), np.broadcast_to(np.maximum(b[:3], 0), (2, 3)), dtype)


def test_linear_forward_relu_passes_nan():
    x = np.ones((2, 1), np.float32)
    w = np.array([[np.nan], [-2.0], [3.0]], np.float32)
    out = poisoned(6, np.float32)
    nn.linear_forward(dev(x), dev(w), dev(np.zeros(3, np.float32)), "relu", out, 2, 1, 3)
    row = out.copy_to_host()[3:]
    assert np.isnan(row[0]) and row[1] == 0 and row[2] == 3


@pytest.mark.parametrize("act,need", [(act, (True, True)) for act in ACTS] + [("sigmoid", (False, False))])
def test_linear_backward(act, need):
    rng = np.random.default_rng(2)
    m, k, n = 20, 9, 33
    x, w = rng.standard_normal((m, k)), rng.standard_normal((n, k))
    y = act_of(act, x @ w.T + rng.standard_normal(n))
    gy = rng.standard_normal((m, n))
    gpre = gy * {None: 1.0, "relu": np.where(y <= 0, 0.0, 1.0), "sigmoid": y * (1 - y), "tanh": 1 - y * y}[act]
    dtype = np.float64
    gx = poisoned(m * k, dtype) if need[0] else None
    gw = poisoned(n * k, dtype)
    gb = poisoned(n, dtype) if need[1] else None
    nn.linear_backward(dev(x), dev(w), dev(y), dev(gy), act, gx, gw, gb, m, k, n)
    close(gw.copy_to_host().reshape(n, k), gpre.T @ x, dtype)
    if need[0]:
        close(gx.copy_to_host().reshape(m, k), gpre @ w, dtype)
        close(gb.copy_to_host(), gpre.sum(0), dtype)


def test_linear_backward_float32_many_rows_and_nan():
    """Column sums over more than one block of rows (a second pass over the partial sums), and a
    NaN output of relu passing its gradient through."""
    rng = np.random.default_rng(3)
    m, k, n = nn.COLUMN_ROWS * 3 + 5, 3, 4  # 4 blocks of rows: their partial sums are summed again
    x, w = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((n, k)).astype(np.float32)
    y = np.maximum(rng.standard_normal((m, n)), 0).astype(np.float32)
    y[0, 0] = np.nan
    gy = rng.standard_normal((m, n)).astype(np.float32)
    gpre = np.where(y <= 0, 0.0, gy.astype(np.float64))
    gx, gw, gb = poisoned(m * k, np.float32), poisoned(n * k, np.float32), poisoned(n, np.float32)
    nn.linear_backward(dev(x), dev(w), dev(y), dev(gy), "relu", gx, gw, gb, m, k, n)
    close(gb.copy_to_host(), gpre.sum(0), np.float32, 100)
    close(gw.copy_to_host().reshape(n, k), gpre.T @ x, np.float32, 100)
    close(gx.copy_to_host().reshape(m, k), gpre @ w, np.float32, 10)


def test_linear_backward_no_rows():
    """m = 0: gw and gb are zeros (sums over no rows), gx is empty."""
    k, n = 3, 5
    w = np.ones((n, k), np.float32)
    gw, gb = poisoned(n * k, np.float32), poisoned(n, np.float32)
    empty = cuda.device_array(0, np.float32)
    nn.linear_backward(empty, dev(w), empty, empty, "tanh", empty, gw, gb, 0, k, n)
    assert (gw.copy_to_host() == 0).all() and (gb.copy_to_host() == 0).all()


# ---- softmax and cross-entropy -----------------------------------------------------------------------


def torch_rows(x, fn):
    torch = pytest.importorskip("torch")
    return fn(torch.from_numpy(np.ascontiguousarray(x))).numpy()


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 17), (5, 300), (2, 2000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax(log, rows, cols, dtype):
    rng = np.random.default_rng(rows * cols)
    x = (rng.standard_normal((rows, cols)) * 5).astype(dtype)
    out = poisoned(rows * cols, dtype)
    nn.softmax(dev(x), rows, cols, out, log)
    x64 = x.astype(np.float64)
    shifted = x64 - x64.max(1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(1, keepdims=True))
    want = shifted - lse if log else np.exp(shifted - lse)
    close(out.copy_to_host().reshape(rows, cols), want, dtype)


@special_values
def test_softmax_special_values_match_torch():
    inf, nan = np.inf, np.nan
    x = np.array([
        [1e16, 0.0, -1e16, 1e16],  # huge logits: exact (log 2 survives beside 1e16)
        [-inf, -inf, -inf, -inf],  # all -inf: NaN
        [-inf, 1.0, 2.0, -inf],  # some -inf: 0 there
        [inf, 1.0, 2.0, 3.0],  # +inf: NaN
        [1.0, nan, 2.0, 3.0],  # NaN: NaN
        [3.0, 2.0, 1.0, inf],  # +inf after finite values
        [-inf, 5.0, 5.0, -inf],
    ], np.float32)
    import torch

    for log, fn in ((False, lambda t: torch.softmax(t, 1)), (True, lambda t: torch.log_softmax(t, 1))):
        out = poisoned(x.size, np.float32)
        nn.softmax(dev(x), *x.shape, out, log)
        np.testing.assert_allclose(out.copy_to_host().reshape(x.shape), torch_rows(x, fn), rtol=1e-6, atol=0)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward(log):
    rng = np.random.default_rng(4)
    rows, cols = 6, 37
    x = rng.standard_normal((rows, cols))
    shifted = x - x.max(1, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(1, keepdims=True)) if log else np.exp(shifted) / np.exp(shifted).sum(
        1, keepdims=True)
    gy = rng.standard_normal((rows, cols))
    want = gy - np.exp(y) * gy.sum(1, keepdims=True) if log else y * (gy - (gy * y).sum(1, keepdims=True))
    out = poisoned(rows * cols, np.float64)
    nn.softmax_backward(dev(y), dev(gy), rows, cols, out, log)
    close(out.copy_to_host().reshape(rows, cols), want, np.float64)


@pytest.mark.parametrize("rows,cols", [(1, 1), (7, 10), (3, 300)])
def test_cross_entropy(rows, cols):
    rng = np.random.default_rng(cols)
    z = (rng.standard_normal((rows, cols)) * 3).astype(np.float32)
    t = rng.integers(0, cols, rows).astype(np.int64)
    out = poisoned(rows, np.float32)
    nn.cross_entropy(dev(z), dev(t), rows, cols, out)
    z64 = z.astype(np.float64)
    top = z64.max(1)
    want = (top - z64[np.arange(rows), t]) + np.log(np.exp(z64 - top[:, None]).sum(1))
    close(out.copy_to_host(), want, np.float32)


@special_values
def test_cross_entropy_huge_logits_and_special_values():
    import torch

    inf = np.inf
    z = np.array([[1e16, 0.0, 1e16], [1e16, -1e16, 0.0], [-inf, -inf, -inf], [inf, 0.0, 1.0], [np.nan, 0, 1]],
                 np.float32)
    t = np.array([0, 1, 0, 1, 2], np.int64)
    out = poisoned(5, np.float32)
    nn.cross_entropy(dev(z), dev(t), 5, 3, out)
    want = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), reduction="none").numpy()
    got = out.copy_to_host()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got[0] == np.float32(math.log(2)) and got[1] == np.float32(2e16)


@pytest.mark.parametrize("per_row", [False, True])
def test_cross_entropy_backward(per_row):
    rng = np.random.default_rng(5)
    rows, cols = 9, 21
    z = rng.standard_normal((rows, cols)) * 4
    z[0, :] = 1e16 * np.sign(z[0])  # huge logits stay finite here too
    t = rng.integers(0, cols, rows).astype(np.int64)
    g = rng.standard_normal(rows) if per_row else np.array([0.25])
    soft = np.exp(z - z.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    onehot = np.eye(cols)[t]
    want = (soft - onehot) * (g[:, None] if per_row else g[0])
    out = poisoned(rows * cols, np.float64)
    nn.cross_entropy_backward(dev(z), dev(t), dev(g), rows, cols, out)
    close(out.copy_to_host().reshape(rows, cols), want, np.float64)


# ---- difference losses -------------------------------------------------------------------------------


@special_values
@pytest.mark.parametrize("kind", ["squared", "abs"])
@pytest.mark.parametrize("n", [0, 1, 17, 300])
def test_difference_loss(kind, n):
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    divisor = float(n)  # a mean (0 / 0 = NaN for no items, as PyTorch)
    diff, loss = poisoned(n, np.float32), poisoned(1, np.float32)
    nn.difference_loss(kind, dev(a), dev(b), n, divisor, diff, loss)
    d = a.astype(np.float64) - b
    np.testing.assert_array_equal(diff.copy_to_host(), a - b)
    items = d * d if kind == "squared" else np.abs(d)
    if n == 0:
        assert np.isnan(loss.copy_to_host()[0])
    else:
        close(loss.copy_to_host()[0], items.sum() / divisor, np.float32, 10)
    # deterministic: the same bits every time
    again = poisoned(1, np.float32)
    nn.difference_loss(kind, dev(a), dev(b), n, divisor, diff, again)
    np.testing.assert_array_equal(again.copy_to_host(), loss.copy_to_host())


def test_difference_loss_many_blocks():
    """More items than SUM_BLOCKS blocks take in one sweep: the grid-stride loop and the final sum."""
    rng = np.random.default_rng(6)
    n = 3 * nn.SUM_BLOCKS * nn.SUM_THREADS + 7
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    diff, loss = poisoned(n, np.float64), poisoned(1, np.float64)
    nn.difference_loss("squared", dev(a), dev(b), n, 1.0, diff, loss)
    close(loss.copy_to_host()[0], ((a - b) ** 2).sum(), np.float64, 100)


@pytest.mark.parametrize("kind", ["squared", "abs"])
def test_difference_loss_backward(kind):
    d = np.array([1.5, -2.0, 0.0, -0.0, np.nan, 3.0], np.float32)
    g = np.array([0.5], np.float32)
    out = poisoned(d.size, np.float32)
    nn.difference_loss_backward(kind, dev(d), dev(g), d.size, 3.0, out)
    slope = 2 * d if kind == "squared" else np.nan_to_num(np.sign(d), nan=0.0)
    np.testing.assert_allclose(out.copy_to_host(), (0.5 / 3.0) * slope, rtol=1e-6)


def test_production_launch_shapes(monkeypatch):
    """The default launch shapes (256-thread blocks) on small inputs: rows sharing a block, a
    row over one block, a flat reduction over two blocks."""
    for name, value in DEFAULTS.items():
        monkeypatch.setattr(nn, name, value)
    assert nn.ROW_THREADS == nn.SUM_THREADS == 256
    rng = np.random.default_rng(8)
    for rows, cols in ((3, 10), (2, 300)):
        x = rng.standard_normal((rows, cols)).astype(np.float32)
        out = poisoned(rows * cols, np.float32)
        nn.softmax(dev(x), rows, cols, out, True)
        x64 = x.astype(np.float64)
        want = x64 - x64.max(1, keepdims=True)
        want -= np.log(np.exp(want).sum(1, keepdims=True))
        close(out.copy_to_host().reshape(rows, cols), want, np.float32)
    n = 300
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    diff, loss = poisoned(n, np.float32), poisoned(1, np.float32)
    nn.difference_loss("squared", dev(a), dev(b), n, 1.0, diff, loss)
    close(loss.copy_to_host()[0], ((a.astype(np.float64) - b) ** 2).sum(), np.float32, 100)
