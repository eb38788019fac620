"""Tensor factories: zeros, ones, full, empty, rand, randn, arange, linspace, eye, *_like."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from engine.core import dtypes
from engine.core.dtypes import as_dtype, float32, int64
from engine.core.random import generator
from engine.core.tensor import Size, Tensor, tensor
from engine.errors import EngineTypeError, EngineValueError


def _shape(size: tuple, op: str = "size") -> tuple:
    """A shape from ``f(2, 3)`` or ``f((2, 3))``: non-negative integers only (``zeros(2.5)`` is refused)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (numbers.Integral, np.integer, Tensor)):
            raise EngineTypeError(
                f"{op}: sizes must be integers, got {type(s).__name__} {s!r} in {tuple(size)}"
            )
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise EngineValueError(f"{op}: negative dimension in {shape}; sizes must be >= 0")
    return shape


def _number(op: str, name: str, value) -> float | int:
    """``value`` as a Python number, or a one-line error naming the argument."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise EngineTypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    return value


def _make(array: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    np_dtype = as_dtype(dtype).np if dtype is not None else array.dtype
    return tensor(array.astype(np_dtype, copy=False), device=device, requires_grad=requires_grad, dtype=np_dtype)


def zeros(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _shape(size, "zeros")
    return _make(np.zeros(shape, (as_dtype(dtype) if dtype else float32).np), None, device, requires_grad)


def ones(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _shape(size, "ones")
    return _make(np.ones(shape, (as_dtype(dtype) if dtype else float32).np), None, device, requires_grad)


def empty(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if isinstance(fill_value, (bool, np.bool_)):
        from engine.core.dtypes import bool_

        dtype = bool_ if dtype is None else dtype
    else:
        fill_value = _number("full", "fill_value", fill_value)
    if dtype is None:
        dtype = int64 if isinstance(fill_value, (int, np.integer)) else float32

    value = dtypes.number_as(fill_value, as_dtype(dtype), "full")
    return _make(np.full(_shape((size,), "full"), value, as_dtype(dtype).np), None, device, requires_grad)


def rand(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the generator ``manual_seed`` seeds."""
    return _make(generator().random(_shape(size, "rand")), dtype or float32, device, requires_grad)


def randn(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the generator ``manual_seed`` seeds."""
    return _make(generator().standard_normal(_shape(size, "randn")), dtype or float32, device, requires_grad)


def randint(low: int, high: int | tuple | None = None, size=None, dtype: Any = None, device: Any = None) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None and isinstance(high, (tuple, list, Size)):
        low, high, size = 0, low, high  # PyTorch's two-argument form: randint(high, size)
    if high is None:
        low, high = 0, low
    if size is None:
        raise EngineTypeError("randint: missing the size argument, e.g. randint(0, 10, (3,))")
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
            raise EngineTypeError(f"randint: {name} must be an integer, got {type(value).__name__} {value!r}")
    if low >= high:
        raise EngineValueError(f"randint: low must be less than high, got low={low} and high={high}")
    shape = _shape(size if isinstance(size, (tuple, list, Size)) else (size,), "randint")
    return _make(generator().integers(low, high, shape), dtype or int64, device, False)


def randperm(n: int, dtype: Any = None, device: Any = None) -> Tensor:
    (count,) = _shape((n,), "randperm")
    return _make(generator().permutation(count), dtype or int64, device, False)


def arange(start, end=None, step=1, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to (not including) end."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number("arange", n, v) for n, v in (("start", start), ("end", end), ("step", step)))
    for name, value in (("start", start), ("end", end), ("step", step)):
        if not math.isfinite(value):
            raise EngineValueError(f"arange: {name} must be finite, got {value}")
    if step == 0:
        raise EngineValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise EngineValueError(
            f"arange: upper bound and lower bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = float32 if values.dtype.kind == "f" else int64
    return _make(values, dtype, device, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from start to end, both included."""
    start, end = _number("linspace", "start", start), _number("linspace", "end", end)
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) and steps < 0:
        raise EngineValueError(f"linspace: number of steps must be non-negative, got {steps}")
    (count,) = _shape((steps,), "linspace")
    return _make(np.linspace(start, end, count), dtype or float32, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity (m = n when left out)."""
    for name, value in (("n", n), ("m", m)):
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value < 0:
            raise EngineValueError(f"eye: {name} must be greater or equal to 0, got {value}")
    rows, cols = _shape((n, n if m is None else m), "eye")
    return _make(np.eye(rows, cols), dtype or float32, device, requires_grad)


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


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory where that is safe: a tensor is returned as it is (or
    moved/cast), and any object exposing ``__cuda_array_interface__`` (a PyTorch or CuPy CUDA
    tensor) is wrapped on the ``cuda`` device without a copy. Anything else (numbers, lists, numpy
    arrays) is copied, as ``engine.tensor`` does: a foreign host array never becomes a tensor's memory.
    """
    if isinstance(data, Tensor):
        out = data
    elif hasattr(data, "__cuda_array_interface__"):
        from engine.backends import device as _device
        from engine.backends import get_backend

        backend = get_backend("cuda")
        out = Tensor._make(backend.wrap_interface(data), _device("cuda"), backend)
    else:
        return tensor(data, dtype=dtype, device=device)
    if dtype is not None or device is not None:
        out = out.to(*(a for a in (device, dtype) if a is not None))
    return out


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor with ``array``'s values and dtype (float64 stays float64, as in PyTorch)."""
    return tensor(array, dtype=array.dtype if array.dtype.kind == "f" else None)


def FloatTensor(*data) -> Tensor:  # noqa: N802 - PyTorch's name
    """``FloatTensor([[1, 2]])`` (data) or ``FloatTensor(2, 3)`` (an uninitialised shape: zeros here)."""
    if data and all(isinstance(d, int) and not isinstance(d, bool) for d in data):
        return zeros(*data, dtype=float32)
    return tensor(data[0] if data else [], dtype=float32)


def LongTensor(*data) -> Tensor:  # noqa: N802
    if data and all(isinstance(d, int) and not isinstance(d, bool) for d in data):
        return zeros(*data, dtype=int64)
    return tensor(data[0] if data else [], dtype=int64)


def DoubleTensor(*data) -> Tensor:  # noqa: N802
    from engine.core.dtypes import float64

    if data and all(isinstance(d, int) and not isinstance(d, bool) for d in data):
        return zeros(*data, dtype=float64)
    return tensor(data[0] if data else [], dtype=float64)


def ByteTensor(*data) -> Tensor:  # noqa: N802
    """uint8 data (``ByteTensor([True, False])`` holds 1 and 0), as in PyTorch."""
    from engine.core.dtypes import uint8

    if data and all(isinstance(d, int) and not isinstance(d, bool) for d in data):
        return zeros(*data, dtype=uint8)
    return tensor(data[0] if data else [], dtype=uint8)


def BoolTensor(*data) -> Tensor:  # noqa: N802
    from engine.core.dtypes import bool_

    return tensor(data[0] if data else [], dtype=bool_)
