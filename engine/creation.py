"""Tensor factories: zeros, ones, full, empty, rand, randn, arange, linspace, eye, *_like."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.dtypes import as_dtype, float32, int64
from engine.errors import EngineValueError
from engine.random import generator
from engine.tensor import Tensor, tensor


def _shape(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise EngineValueError(f"size: negative dimension in {shape}")
    return shape


def _make(array: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    np_dtype = as_dtype(dtype).np if dtype is not None else array.dtype
    return tensor(array.astype(np_dtype, copy=False), device=device, requires_grad=requires_grad, dtype=np_dtype)


def zeros(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), (as_dtype(dtype) if dtype else float32).np), None, device, requires_grad)


def ones(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), (as_dtype(dtype) if dtype else float32).np), None, device, requires_grad)


def empty(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = int64 if isinstance(fill_value, int) and not isinstance(fill_value, bool) else float32
    return _make(np.full(_shape((size,)), fill_value, as_dtype(dtype).np), None, device, requires_grad)


def rand(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the generator ``manual_seed`` seeds."""
    return _make(generator().random(_shape(size)), dtype or float32, device, requires_grad)


def randn(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the generator ``manual_seed`` seeds."""
    return _make(generator().standard_normal(_shape(size)), dtype or float32, device, requires_grad)


def randint(low: int, high: int | None = None, size=(), dtype: Any = None, device: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    return _make(generator().integers(low, high, _shape((size,))), dtype or int64, device, False)


def randperm(n: int, dtype: Any = None, device: Any = None) -> Tensor:
    return _make(generator().permutation(n), dtype or int64, device, False)


def arange(start, end=None, step=1, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = float32 if values.dtype.kind == "f" else int64
    return _make(values, dtype, device, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _make(np.linspace(start, end, steps), dtype or float32, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m), dtype or float32, device, requires_grad)


def _like(fn, t: Tensor, dtype, device, requires_grad, *args) -> Tensor:
    return fn(*args, tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(tuple(t.shape), fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(tuple(t.shape), dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor with ``array``'s values and dtype (float64 stays float64, as in PyTorch)."""
    return tensor(array, dtype=array.dtype if array.dtype.kind == "f" else None)


def FloatTensor(*data) -> Tensor:  # noqa: N802 - PyTorch's name
    """``FloatTensor([[1, 2]])`` (data) or ``FloatTensor(2, 3)`` (an uninitialised shape: zeros here)."""
    if data and all(isinstance(d, int) for d in data):
        return zeros(*data, dtype=float32)
    return tensor(data[0] if data else [], dtype=float32)


def LongTensor(*data) -> Tensor:  # noqa: N802
    if data and all(isinstance(d, int) for d in data):
        return zeros(*data, dtype=int64)
    return tensor(data[0] if data else [], dtype=int64)


def DoubleTensor(*data) -> Tensor:  # noqa: N802
    from engine.dtypes import float64

    if data and all(isinstance(d, int) for d in data):
        return zeros(*data, dtype=float64)
    return tensor(data[0] if data else [], dtype=float64)


def ByteTensor(*data) -> Tensor:  # noqa: N802
    """uint8 data (``ByteTensor([True, False])`` holds 1 and 0), as in PyTorch."""
    from engine.dtypes import uint8

    if data and all(isinstance(d, int) and not isinstance(d, bool) for d in data):
        return zeros(*data, dtype=uint8)
    return tensor(data[0] if data else [], dtype=uint8)


def BoolTensor(*data) -> Tensor:  # noqa: N802
    from engine.dtypes import bool_

    return tensor(data[0] if data else [], dtype=bool_)
