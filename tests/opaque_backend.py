"""A test-only backend whose arrays are opaque: the proof that nothing above the backend line
touches an array's internals.

``Opaque`` wraps a numpy array and exposes only what the contract allows above the line
(``shape``, ``ndim``, ``size``, ``dtype``): no ``flags``, no ``strides``, no ``__array__``, no
arithmetic operators, no indexing. ``OpaqueBackend`` implements every required primitive by
unwrapping, calling the numpy backend, and wrapping the result, and keeps the base class's
composed fast paths. If autograd, Tensor, nn or optim reached into an array (``np.asarray`` of
device data, ``.flags``, ``x[...]``), the suites run on device ``"opaque"`` would fail.

Registered as device ``"opaque"`` by ``tests/conftest.py``.
"""

from __future__ import annotations

import numpy as np

from engine.backends.base import Backend
from engine.backends.numpy_backend import NumpyBackend

_REFERENCE = NumpyBackend()


class Opaque:
    """A device array the engine may only look at through its metadata."""

    __slots__ = ("_a",)

    def __init__(self, array: np.ndarray) -> None:
        if not isinstance(array, np.ndarray):
            raise TypeError(f"Opaque wraps numpy arrays, got {type(array).__name__}")
        self._a = array

    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)

    def __repr__(self) -> str:
        return f"Opaque(shape={self.shape}, dtype={self.dtype})"

    def __array__(self, *args, **kwargs):
        raise TypeError("an opaque device array can't be read as a numpy array; use backend.to_numpy")

    def __bool__(self):
        raise TypeError("an opaque device array has no truth value")

    def __len__(self):
        raise TypeError("an opaque device array has no len(); use .shape")

    def __iter__(self):
        raise TypeError("an opaque device array is not iterable")


def _raw(x):
    return x._a if isinstance(x, Opaque) else x


def _wrap(x):
    return Opaque(x) if isinstance(x, np.ndarray) else x


def _key(key):
    if isinstance(key, tuple):
        return tuple(_raw(k) for k in key)
    return _raw(key)


class OpaqueBackend(Backend):
    """Every required primitive through the numpy reference, on opaque arrays."""

    name = "opaque"

    def from_numpy(self, array):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy takes numpy arrays, got {type(array).__name__}")
        return Opaque(array)

    def to_numpy(self, x):
        return _REFERENCE.to_numpy(_raw(x))

    def full(self, shape, value, dtype):
        return Opaque(_REFERENCE.full(shape, value, dtype))

    def copy(self, x):
        return Opaque(_REFERENCE.copy(_raw(x)))

    def astype(self, x, dtype):
        return Opaque(_REFERENCE.astype(_raw(x), dtype))

    def is_contiguous(self, x):
        return _REFERENCE.is_contiguous(_raw(x))

    def reshape(self, x, shape):
        return Opaque(_REFERENCE.reshape(_raw(x), shape))

    def permute(self, x, axes):
        return Opaque(_REFERENCE.permute(_raw(x), axes))

    def expand(self, x, shape):
        return Opaque(_REFERENCE.expand(_raw(x), shape))

    def is_view(self, x):
        return _REFERENCE.is_view(_raw(x))

    def internal_overlap(self, x):
        return _REFERENCE.internal_overlap(_raw(x))

    def unary(self, op, x, alpha=0.0):
        return Opaque(_REFERENCE.unary(op, _raw(x), alpha))

    def binary(self, op, a, b):
        return Opaque(_REFERENCE.binary(op, _raw(a), _raw(b)))

    def compare(self, op, a, b):
        return Opaque(_REFERENCE.compare(op, _raw(a), _raw(b)))

    def where(self, cond, a, b):
        return Opaque(_REFERENCE.where(_raw(cond), _raw(a), _raw(b)))

    def sum(self, x, axes, keepdim=False):
        return Opaque(_REFERENCE.sum(_raw(x), axes, keepdim))

    def max(self, x, axis, keepdim=False, arg=True):
        values, index = _REFERENCE.max(_raw(x), axis, keepdim, arg)
        return Opaque(values), _wrap(index)

    def min(self, x, axis, keepdim=False, arg=True):
        values, index = _REFERENCE.min(_raw(x), axis, keepdim, arg)
        return Opaque(values), _wrap(index)

    def scan(self, op, x, axis):
        return Opaque(_REFERENCE.scan(op, _raw(x), axis))

    def sort(self, x, axis, descending=False):
        values, index = _REFERENCE.sort(_raw(x), axis, descending)
        return Opaque(values), Opaque(index)

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        return Opaque(_REFERENCE.matmul(_raw(a), _raw(b), transpose_a, transpose_b))

    def getitem(self, x, key):
        return Opaque(_REFERENCE.getitem(_raw(x), _key(key)))

    def setitem(self, x, key, value):
        _REFERENCE.setitem(_raw(x), _key(key), _raw(value))

    def index_add(self, shape, key, g):
        return Opaque(_REFERENCE.index_add(shape, _key(key), _raw(g)))

    def gather(self, x, axis, index):
        return Opaque(_REFERENCE.gather(_raw(x), axis, _raw(index)))

    def scatter_add(self, shape, axis, index, src):
        return Opaque(_REFERENCE.scatter_add(shape, axis, _raw(index), _raw(src)))

    def concatenate(self, arrays, axis):
        return Opaque(_REFERENCE.concatenate([_raw(a) for a in arrays], axis))

    def fill(self, x, value):
        _REFERENCE.fill(_raw(x), value)
