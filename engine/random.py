"""The engine's random numbers: one seeded numpy Generator behind ``manual_seed``.

``rand``, ``randn``, ``nn.init`` and ``DataLoader(shuffle=True)`` all draw from it, so
``engine.manual_seed(s)`` makes a whole program reproducible.
"""

from __future__ import annotations

import numpy as np

_state = {"generator": np.random.default_rng(0), "seed": 0}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the engine's generator; returns it."""
    _state["generator"] = np.random.default_rng(int(seed))
    _state["seed"] = int(seed)
    return _state["generator"]


def generator() -> np.random.Generator:
    return _state["generator"]


def initial_seed() -> int:
    return _state["seed"]
