"""The cuda device's caching allocator, its pool logic on the CPU (the numba plugin around it
needs a GPU; bench_gpu.py measures its effect there)."""

from __future__ import annotations

from engine.backends.cuda_memory import LARGE, SMALL, BlockPool, rounded


def test_sizes_round_to_interchangeable_blocks():
    assert rounded(0) == SMALL and rounded(1) == SMALL and rounded(SMALL) == SMALL and rounded(SMALL + 1) == 2 * SMALL
    assert rounded(1 << 20) == LARGE and rounded(LARGE + 1) == 2 * LARGE
    sizes = [4 * 100, 4 * 128, 4 * 1000, 4 * 4096 * 4096]
    for size in sizes:
        assert rounded(size) >= size and rounded(rounded(size)) == rounded(size)


def test_freed_blocks_are_reused_and_counted():
    pool = BlockPool()
    assert pool.take(1024) is None  # nothing cached: the driver must allocate
    pool.give(1024, "block-a")
    pool.give(1024, "block-b")
    pool.give(2048, "block-c")
    assert pool.stats() == {"hits": 0, "misses": 1, "cached_bytes": 4096}
    assert pool.take(1024) in ("block-a", "block-b")
    assert pool.take(2048) == "block-c"
    assert pool.take(4096) is None  # only exact rounded sizes are reused
    assert pool.stats()["hits"] == 2 and pool.stats()["misses"] == 2 and pool.stats()["cached_bytes"] == 1024


def test_drain_returns_every_cached_block():
    pool = BlockPool()
    for i in range(5):
        pool.give(512 * (i % 2 + 1), f"b{i}")
    blocks = pool.drain()
    assert sorted(blocks) == [f"b{i}" for i in range(5)]
    assert pool.stats()["cached_bytes"] == 0 and pool.take(512) is None
