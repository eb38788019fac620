"""Running sums and products along one axis (``cumsum``, ``cumprod``): one thread per row.

The host sees ``x`` as ``rows`` rows of ``n`` elements along ``axis``: row ``r`` starts at
``offset_of(r, outer, strides, offset)``, where ``outer`` is x's shape with the axis set to 1, and
its elements sit ``stride[axis]`` apart, so transposed, reversed and broadcast views are read in
place. Each thread walks its row in order, so a result has the same bits on every run. float32 is
accumulated in float64 (each output rounded once), as PyTorch's CPU kernels and the numpy device.

One thread per row is the simple form: it is as fast as the memory when there are many rows, and
slow for one very long row (a work-efficient block scan, as CUB's, would fix that).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from engine._kernels.launch import THREADS, grid, offset_of
from numba import cuda


def outer(shape: tuple, strides: tuple, axis: int) -> tuple:
    """(shape with ``axis`` set to 1, strides) as at least one axis, for ``offset_of`` over the rows
    (a 0-d array is one row of one element)."""
    if not shape:
        return (1,), (0,)
    return tuple(1 if d == axis else n for d, n in enumerate(shape)), tuple(strides)


def block(n: int) -> int:
    """Threads per block for ``n`` threads in all: whole warps, no more than the launch needs (a
    handful of rows gets one warp, not 256 idle threads; numba's simulator runs each as a thread)."""
    return min(THREADS, 32 * max(1, (n + 31) // 32))


def compact_strides(shape: tuple) -> tuple:
    strides, pitch = [], 1
    for n in reversed(shape):
        strides.append(pitch)
        pitch *= max(n, 1)
    return tuple(reversed(strides))


@cache
def _scan_kernel(op: str, dtype: np.dtype):
    if op not in ("sum", "prod"):
        raise KeyError(op)
    acc = np.float64 if dtype == np.float32 else dtype.type
    start = acc(0 if op == "sum" else 1)
    product = op == "prod"

    @cuda.jit
    def kernel(xb, xo, xs, shape, ostrides, x_step, o_step, n, out, rows):
        """out[row r, j] = x[r, 0] op ... op x[r, j], for the row of thread r."""
        r = cuda.grid(1)
        if r < rows:
            src = offset_of(r, shape, xs, xo)
            dst = offset_of(r, shape, ostrides, 0)
            total = start
            for j in range(n):
                value = acc(xb[src + j * x_step])
                total = total * value if product else total + value
                out[dst + j * o_step] = total

    return kernel


def scan(op: str, x: tuple, shape: tuple, axis: int, out) -> None:
    """The inclusive scan (``op`` "sum" or "prod") of view ``x = (buffer, offset, strides)`` of
    ``shape`` along ``axis`` into the compact ``out`` of the same shape."""
    n = shape[axis] if shape else 1
    rows = out.size // n if n else 0
    if rows == 0:
        return
    xb, xo, xs = x
    row_shape, xs = outer(shape, xs, axis)
    _, ostrides = outer(shape, compact_strides(shape), axis)
    x_step = x[2][axis] if shape else 0
    o_step = compact_strides(shape)[axis] if shape else 0
    blocks, threads = grid(rows, block(rows))
    _scan_kernel(op, np.dtype(out.dtype))[blocks, threads](xb, xo, xs, row_shape, ostrides, x_step, o_step, n,
                                                            out, rows)
