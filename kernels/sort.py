"""A stable sort along one axis, by rank: one thread per element.

Thread ``(r, j)`` reads element ``v = x[r, j]`` and counts the elements of its row that come
before it: those smaller (larger when descending), and the equal ones at a smaller position (so
equal values keep their order: the sort is stable). That count is where ``v`` goes, and ``j`` is
written beside it as its index. NaN counts as larger than every number and equal to NaN, as
PyTorch orders them (last ascending, first descending); -0 and +0 are equal.

The rank form is simple, deterministic and reads views in place (rows as in ``scan.py``), but it
does n comparisons per element: right for the rows a learner sorts (topk of logits, a few thousand
elements), quadratic for very long rows (a merge or radix sort, as CUB's, is the fix).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from engine._kernels.launch import grid, offset_of
from engine._kernels.scan import block, compact_strides, outer
from numba import cuda


@cache
def _sort_kernel(dtype: np.dtype, descending: bool):
    @cuda.jit(device=True, inline=True)
    def before(w, v):
        """Whether w sorts strictly before v (NaN is the largest value)."""
        if descending:
            return w > v or (w != w and v == v)
        return w < v or (v != v and w == w)

    @cuda.jit
    def kernel(xb, xo, xs, shape, ostrides, x_step, o_step, n, values, indices, total):
        i = cuda.grid(1)
        if i < total:
            r = i // n
            j = i - r * n
            src = offset_of(r, shape, xs, xo)
            v = xb[src + j * x_step]
            rank = 0
            for k in range(n):
                w = xb[src + k * x_step]
                if before(w, v) or (k < j and (w == v or (w != w and v != v))):
                    rank += 1
            dst = offset_of(r, shape, ostrides, 0) + rank * o_step
            values[dst] = v
            indices[dst] = j

    return kernel


def sort(x: tuple, shape: tuple, axis: int, descending: bool, values, indices) -> None:
    """Sort view ``x = (buffer, offset, strides)`` of ``shape`` along ``axis``: the compact
    ``values`` (x's dtype; not bool, which the backend sorts as uint8) and int64 ``indices``."""
    if values.size == 0 or not shape:
        return
    n = shape[axis]
    xb, xo, xs = x
    row_shape, xs = outer(shape, xs, axis)
    _, ostrides = outer(shape, compact_strides(shape), axis)
    blocks, threads = grid(values.size, block(values.size))
    _sort_kernel(np.dtype(values.dtype), descending)[blocks, threads](
        xb, xo, xs, row_shape, ostrides, x[2][axis], compact_strides(shape)[axis], n, values, indices, values.size)
