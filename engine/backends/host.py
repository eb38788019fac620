"""Arrays kept in host memory as ``numpy.ndarray``: storage, views and indexing for the
``numpy`` and ``c`` devices.

Both devices store tensors the same way, so the primitives that only move or view memory are
written once here; each device then computes its own way (numpy's ufuncs, or the C library).
"""

from __future__ import annotations

import numpy as np


def as_array(x) -> np.ndarray:
    """``x`` as an ndarray: numpy turns 0-d results into numpy scalars, and the contract promises arrays."""
    return x if type(x) is np.ndarray else np.asarray(x)


class HostArrays:
    """The storage, layout and indexing primitives of ``Backend`` over numpy arrays."""

    # ---- storage and transfer -----------------------------------------------------------------
    def from_numpy(self, array: np.ndarray) -> np.ndarray:
        return array

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        return x

    def full(self, shape: tuple, value: float, dtype) -> np.ndarray:
        out = np.empty(shape, dtype)  # np.full's Python wrapper costs more than this for small arrays
        out.fill(value)
        return out

    def copy(self, x: np.ndarray) -> np.ndarray:
        return np.array(x, copy=True, order="C")

    # ---- layout ---------------------------------------------------------------------------------
    def is_contiguous(self, x: np.ndarray) -> bool:
        return x.flags.c_contiguous

    def is_view(self, x: np.ndarray) -> bool:
        return x.base is not None

    def internal_overlap(self, x: np.ndarray) -> bool:
        return x.size > 1 and any(stride == 0 and n > 1 for n, stride in zip(x.shape, x.strides))

    def reshape(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        return x.reshape(shape)

    def permute(self, x: np.ndarray, axes: tuple) -> np.ndarray:
        return x.transpose(axes)

    def expand(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        """A view at every size. numpy's broadcast views are read-only; this one is writable, so
        ``fill_``/``zero_`` work on it (in-place arithmetic is refused above, ``internal_overlap``)."""
        if x.shape == tuple(shape):
            return x
        view = np.broadcast_to(x, shape)
        return np.lib.stride_tricks.as_strided(x, view.shape, view.strides, writeable=x.flags.writeable)

    # ---- indexing and data movement ----------------------------------------------------------------
    def getitem(self, x: np.ndarray, key: tuple) -> np.ndarray:
        out = as_array(x[key])
        if out.base is not None and any(isinstance(k, np.ndarray) for k in key):
            # An index-array gather is a copy, but numpy may hand it back as a view of a private
            # buffer (x[:, idx]); own it, so it is not taken for a view of x.
            out = out.copy()
        return out

    def setitem(self, x: np.ndarray, key: tuple, value) -> None:
        x[key] = value

    def index_add(self, shape: tuple, key: tuple, g: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, g.dtype)
        np.add.at(out, key, g)
        return out

    def gather(self, x: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, index, axis)

    def scatter_add(self, shape: tuple, axis: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, src.dtype)
        where = list(np.indices(index.shape, sparse=True))
        where[axis] = index
        np.add.at(out, tuple(where), src)
        return out

    def concatenate(self, arrays: list, axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    def fill(self, x: np.ndarray, value) -> None:
        x.fill(value)
