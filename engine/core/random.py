"""The engine's random numbers: one seeded numpy Generator behind ``manual_seed``.

``rand``, ``randn``, ``nn.init`` and ``DataLoader(shuffle=True)`` all draw from it, so
``engine.manual_seed(s)`` makes a whole program reproducible.
"""

from __future__ import annotations

import numpy as np

_state = {"generator": np.random.default_rng(0), "seed": 0}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the engine's generator; returns it.

    As in PyTorch the seed is a 64-bit integer: negative seeds count from 2**64 (``-1`` is
    ``2**64 - 1``), and anything outside [-2**63, 2**64) is a one-line error.
    """
    import numbers

    from engine.errors import EngineTypeError, EngineValueError

    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Real, np.integer, np.floating)):
        raise EngineTypeError(f"manual_seed: the seed must be an integer, got {type(seed).__name__} {seed!r}")
    if isinstance(seed, (float, np.floating)) and not np.isfinite(seed):
        raise EngineValueError(f"manual_seed: the seed must be a finite number, got {seed}")
    value = int(seed)
    if not -(2**63) <= value < 2**64:
        raise EngineValueError(f"manual_seed: the seed {value} does not fit in 64 bits (valid: -2**63 to 2**64 - 1)")
    value %= 2**64
    _state["generator"] = np.random.default_rng(value)
    _state["seed"] = value
    return _state["generator"]


def generator() -> np.random.Generator:
    return _state["generator"]


def initial_seed() -> int:
    return _state["seed"]
