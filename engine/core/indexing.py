"""What ``x[key]`` means: a key in numpy's terms, checked against the tensor's shape.

Index tensors become host integer or bool arrays (the backend contract's keys); every integer
index is checked against the dimension it indexes and made non-negative; ``None`` adds a
dimension and indexes none, ``...`` stands for the dimensions no other entry indexes, a bool
mask indexes as many dimensions as it has, anything else indexes one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.autograd.op import TensorBase
from engine.errors import EngineTypeError, EngineValueError, ShapeError


def normalize_key(x, key) -> tuple:
    """The index ``key`` in numpy's terms, checked against this tensor's shape.

    Index tensors become integer or bool arrays; every integer index is checked against
    the dimension it indexes and made non-negative. ``None`` adds a dimension and indexes
    none, ``...`` stands for the dimensions no other entry indexes, a bool mask indexes
    as many dimensions as it has, anything else indexes one.
    """
    items = key if isinstance(key, tuple) else (key,)
    entries = [_key_entry(x, k) for k in items]
    if sum(k is Ellipsis for k in entries) > 1:
        raise EngineValueError("index: an index can only have a single ellipsis ('...')")
    used = sum(_dims_indexed(k) for k in entries)
    if used > x.ndim:
        raise EngineValueError(
            f"index: too many indices for a tensor of dimension {x.ndim} (shape {tuple(x.shape)}): "
            f"the index uses {used}"
        )
    out = []
    dim = 0
    for k in entries:
        if k is Ellipsis:
            dim += x.ndim - used
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_:
            covered = tuple(x.shape[dim : dim + k.ndim])
            if k.shape != covered:
                raise ShapeError(
                    f"index: the mask of shape {k.shape} does not match the indexed shape {covered} "
                    f"(dimensions {dim} to {dim + k.ndim - 1} of {tuple(x.shape)})"
                )
        elif isinstance(k, np.ndarray):
            n = x._data.shape[dim]
            if k.size and (k.max() >= n or k.min() < -n):
                bad = int(k.max() if k.max() >= n else k.min())
                raise EngineValueError(f"index: index {bad} is out of bounds for dimension {dim} with size {n}")
            k = np.where(k < 0, k + n, k)
        elif isinstance(k, int):
            n = x._data.shape[dim]
            if not -n <= k < n:
                raise EngineValueError(f"index: index {k} is out of bounds for dimension {dim} with size {n}")
        out.append(k)
        dim += _dims_indexed(k)
    return tuple(out)

def _key_entry(x, k):
    """One entry of an index, in numpy's terms (ints, slices, None, ..., int or bool arrays)."""
    if k is None or k is Ellipsis or isinstance(k, slice):
        if isinstance(k, slice):
            for part in (k.start, k.stop, k.step):
                if part is not None and (isinstance(part, bool) or not isinstance(part, (int, np.integer, TensorBase))):
                    raise EngineTypeError(
                        f"index: slice parts must be integers or None, got {type(part).__name__} in {k}"
                    )
            if k.step is not None and int(k.step) == 0:
                raise EngineValueError("index: slice step cannot be zero")
            return slice(*(None if p is None else int(p) for p in (k.start, k.stop, k.step)))
        return k
    if isinstance(k, (bool, np.bool_)):
        return np.asarray(k)  # a 0-d mask: adds a dimension of size 1 (True) or 0 (False)
    if isinstance(k, (int, np.integer)):
        return int(k)
    if isinstance(k, TensorBase):
        if k.dtype.is_floating_point:
            raise EngineTypeError(
                "index: tensors used as indices must be long or bool (or uint8), got a float tensor"
            )
        k = x._backend.to_numpy(k._data)
        if k.dtype == np.uint8:  # PyTorch's legacy byte mask
            k = k.astype(np.bool_)
    elif isinstance(k, (list, np.ndarray)):
        try:
            k = np.asarray(k)
        except ValueError:
            raise EngineValueError("index: a nested list index has inconsistent lengths") from None
        if k.size == 0 and k.dtype.kind == "f":
            k = k.astype(np.int64)  # [] is an empty integer index
    else:
        raise EngineTypeError(
            f"index: only integers, slices, None, ..., and long or bool tensors are valid indices, "
            f"got {type(k).__name__}"
        )
    if k.dtype.kind not in "iub":
        raise EngineTypeError(f"index: index arrays must hold integers or bools, got {k.dtype}")
    return k


def _dims_indexed(k: Any) -> int:
    """How many dimensions of the indexed tensor one (normalised) index entry consumes."""
    if k is None or k is Ellipsis:
        return 0
    if isinstance(k, np.ndarray) and k.dtype == np.bool_:
        return k.ndim
    return 1
