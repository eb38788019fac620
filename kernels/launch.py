"""Launch configurations and the index arithmetic every kernel family shares."""

from __future__ import annotations

from functools import lru_cache

from numba import cuda

THREADS = 256  # threads per block for 1-D elementwise launches: 8 warps, enough to hide latency


@lru_cache(maxsize=4096)
def grid(n: int, threads: int = THREADS) -> tuple[int, int]:
    """(blocks, threads) covering ``n`` elements, one element per thread (computed once per n)."""
    return max(1, (n + threads - 1) // threads), threads


@cuda.jit(device=True, inline=True)
def offset_of(i, shape, strides, base):
    """The element offset of a strided view at flat (C-order) position ``i`` of ``shape``:
    base + sum_d ((i // pitch_d) % shape_d) * strides_d, walking the axes from the last."""
    off = base
    rem = i
    for d in range(len(shape) - 1, -1, -1):
        n = shape[d]
        off += (rem % n) * strides[d]
        rem //= n
    return off


def size_of(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
