"""A caching allocator for the ``cuda`` device, as PyTorch's: freed blocks are kept and reused.

A training step allocates and frees the same sizes every step (activations, gradients,
scratch). ``cudaMalloc``/``cudaFree`` synchronise the device and cost tens of microseconds each,
so without a cache allocation would dominate a small step. ``BlockPool`` keeps freed blocks in
free lists by rounded size; ``CachingMemoryManager`` plugs it into numba through its External
Memory Management interface (``numba.cuda.set_memory_manager``), so every device array numba
makes (ours included) draws from the pool, and a block returns to the pool, not to the driver,
when its last reference goes.

Sizes are rounded up to 512 bytes below 1 MiB and to 2 MiB above, so blocks of nearby sizes are
interchangeable. When the driver runs out of memory the cached blocks are released and the
allocation is tried again. ``ENGINE_CUDA_CACHING=0`` turns the cache off (numba's own manager).
Under numba's simulator there is no device memory to manage: ``install`` does nothing there.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict

SMALL = 512
LARGE = 2 << 20
LARGE_FROM = 1 << 20


def rounded(size: int) -> int:
    """The block size a request of ``size`` bytes gets (never 0)."""
    size = max(int(size), 1)
    step = SMALL if size < LARGE_FROM else LARGE
    return (size + step - 1) // step * step


class BlockPool:
    """Free lists of device blocks by size, with the counts a benchmark reports."""

    def __init__(self) -> None:
        self._free: dict[int, list] = defaultdict(list)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.cached_bytes = 0

    def take(self, size: int):
        """A cached block of exactly ``size`` bytes (already rounded), or None."""
        with self._lock:
            blocks = self._free.get(size)
            if blocks:
                self.hits += 1
                self.cached_bytes -= size
                return blocks.pop()
            self.misses += 1
            return None

    def give(self, size: int, pointer) -> None:
        """Keep a block that its last user released."""
        with self._lock:
            self._free[size].append(pointer)
            self.cached_bytes += size

    def drain(self) -> list:
        """Every cached block, removed from the pool (to hand back to the driver)."""
        with self._lock:
            blocks = [p for ps in self._free.values() for p in ps]
            self._free.clear()
            self.cached_bytes = 0
            return blocks

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "cached_bytes": self.cached_bytes}


POOL = BlockPool()


def _manager_class():
    """The numba EMM plugin class (built lazily: it subclasses numba's manager)."""
    import weakref

    from numba.cuda.cudadrv import driver

    class CachingMemoryManager(driver.NumbaCUDAMemoryManager):
        """numba's device-memory manager with ``memalloc`` served from ``POOL``."""

        def memalloc(self, size):
            block = rounded(size)
            pointer = POOL.take(block)
            if pointer is None:
                pointer = self._allocate(block)
            context = weakref.proxy(self.context)
            # The finalizer runs when the last reference to the memory goes: back to the pool.
            memory = driver.AutoFreePointer(context, pointer, size, finalizer=lambda: POOL.give(block, pointer))
            return memory.own()

        def _allocate(self, block: int):
            try:
                return driver.driver.cuMemAlloc(block)
            except driver.CudaAPIError:
                # Out of memory (or close): give the cached blocks back to the driver, then retry once.
                for pointer in POOL.drain():
                    driver.driver.cuMemFree(pointer)
                self.deallocations.clear()
                return driver.driver.cuMemAlloc(block)

    return CachingMemoryManager


def release_cached() -> None:
    """Free every cached block (``engine.cuda.empty_cache()``); nothing to do without the plugin."""
    blocks = POOL.drain()
    if not blocks or not _installed["active"]:
        return
    from numba.cuda.cudadrv import driver

    for pointer in blocks:
        driver.driver.cuMemFree(pointer)


_installed = {"done": False, "active": False}


def install() -> None:
    """Make numba allocate through the pool (once, before the CUDA context exists)."""
    if _installed["done"]:
        return
    _installed["done"] = True
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.environ.get("ENGINE_CUDA_CACHING") == "0":
        return
    from numba import cuda

    cuda.set_memory_manager(_manager_class())
    _installed["active"] = True
