"""``engine.save`` / ``engine.load``: state dicts as numpy ``.npz`` archives, never pickle.

A file holds one array per key (``0.weight``, ``0.bias``...), in order, with its dtype.
Loading uses ``numpy.load(allow_pickle=False)``, so opening a file from elsewhere can't run
code. Whole modules are not saved (that would need pickle): save ``model.state_dict()``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.errors import EngineTypeError, EngineValueError
from engine.tensor import Tensor

# The key under which a single saved tensor is stored (``engine.save(t, path)``).
_SINGLE = "__engine_tensor__"


def _as_array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.ascontiguousarray(value._backend.to_numpy(value._data))
    if isinstance(value, (np.ndarray, int, float, bool, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind in "fiub":
            return array
    raise EngineTypeError(
        f"save: entry {name!r} is a {type(value).__name__}; a state dict holds tensors (or numbers and numpy arrays)"
    )


def save(obj: Any, f: str | os.PathLike) -> None:
    """Write a state dict (``name -> tensor``) or a single tensor to the path ``f`` as ``.npz``.

    The path is used exactly as given (``model.pt`` stays ``model.pt``; numpy would add ``.npz``).
    """
    from engine.nn.module import Module

    if isinstance(obj, Module):
        raise EngineTypeError(
            f"save: saving a whole {type(obj).__name__} would need pickle; save model.state_dict() instead "
            "and load it with model.load_state_dict(engine.load(path))"
        )
    if isinstance(obj, Tensor):
        arrays = {_SINGLE: _as_array(_SINGLE, obj)}
    elif hasattr(obj, "items"):
        arrays = {}
        for name, value in obj.items():
            if not isinstance(name, str):
                raise EngineTypeError(f"save: state dict keys must be strings, got {name!r}")
            arrays[name] = _as_array(name, value)
    else:
        raise EngineTypeError(f"save: expected a state dict (name -> tensor) or a tensor, got {type(obj).__name__}")
    with open(f, "wb") as handle:  # a file object, so numpy does not append ".npz" to the name
        np.savez(handle, **arrays)


def load(f: str | os.PathLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read a file written by ``save``: an ordered ``name -> tensor`` dict (or the single tensor).

    ``map_location`` is the device to put the tensors on (default: the default device).
    ``weights_only`` is accepted for PyTorch compatibility; loading never unpickles anything.
    """
    from engine.tensor import tensor

    try:
        archive = np.load(f, allow_pickle=False)
    except ValueError as exc:
        raise EngineValueError(f"load: {os.fspath(f)!r} is not an archive written by engine.save ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise EngineValueError(f"load: {os.fspath(f)!r} holds a single array, not an archive written by engine.save")
    with archive:
        out = OrderedDict((name, tensor(archive[name], device=map_location)) for name in archive.files)
    if list(out) == [_SINGLE]:
        return out[_SINGLE]
    return out
