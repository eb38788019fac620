"""``engine.cuda``: what PyTorch's ``torch.cuda`` offers the lectures' code.

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.cuda.manual_seed_all(777)

Nothing here imports numba until a function needs it, so ``import engine`` stays light and a
machine without numba or a GPU answers ``is_available()`` with False (``why_unavailable()``
says why in one line).
"""

from __future__ import annotations

from typing import Any


def why_unavailable() -> str | None:
    """None when the ``cuda`` device works here (a GPU, or numba's simulator), else the reason."""
    try:
        from engine.backends import get_backend

        get_backend("cuda")
    except Exception as exc:  # DeviceError with the reason, or anything a broken driver raises
        return str(exc)
    return None


def is_available() -> bool:
    """Whether tensors can be made on ``"cuda"``."""
    return why_unavailable() is None


def device_count() -> int:
    return 1 if is_available() else 0


def current_device() -> int:
    return 0


def get_device_name(device: Any = None) -> str:
    """The GPU's name (``"CUDA simulator"`` under numba's simulator)."""
    from numba import cuda

    from engine.backends import get_backend

    get_backend("cuda")  # raises the one-line reason when there is none
    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device: Any = None) -> tuple[int, int]:
    from numba import cuda

    from engine.backends import get_backend

    get_backend("cuda")
    return tuple(cuda.get_current_device().compute_capability)


def synchronize() -> None:
    """Wait until every kernel launched so far has finished (for timing)."""
    from numba import cuda

    from engine.backends import get_backend

    get_backend("cuda")
    cuda.synchronize()


def manual_seed(seed: int) -> None:
    """Seed the random numbers of GPU tensors. The engine draws them on the host from one generator
    and copies them over, so this is ``engine.manual_seed``: the same seed gives the same numbers
    on every device."""
    from engine.core.random import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed


def memory_stats() -> dict:
    """The caching allocator's counts: blocks reused (hits), allocations from the driver (misses)
    and bytes cached for reuse."""
    from engine.backends.cuda_memory import POOL

    return POOL.stats()


def empty_cache() -> None:
    """Give the blocks the caching allocator keeps for reuse back to the driver (as PyTorch's)."""
    from engine.backends.cuda_memory import release_cached

    release_cached()
