"""Tensor factories: zeros, ones, full, empty, rand, randn, normal, randint, randperm, arange, linspace,
logspace, eye, *_like, and PyTorch's legacy constructors (``FloatTensor(2, 3)``)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from engine.autograd.grad_mode import is_grad_enabled, no_grad
from engine.backends.layout import broadcast_shapes
from engine.core import dtypes
from engine.core.dtypes import as_dtype, float32, int64
from engine.core.random import generator
from engine.core.tensor import Size, Tensor, tensor, where
from engine.core.tensor_shape import legacy_constructor_data
from engine.errors import DTypeError, EngineTypeError, EngineValueError, ShapeError


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


def _rng(given: Any, op: str) -> np.random.Generator:
    """The generator to draw from: the engine's (``manual_seed``), or a ``numpy.random.Generator`` given
    as ``generator=`` (the engine has no Generator class of its own)."""
    if given is None:
        return generator()
    if not isinstance(given, np.random.Generator):
        raise EngineTypeError(f"{op}: generator must be None or a numpy.random.Generator, got {type(given).__name__}")
    return given


def _make(array: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    np_dtype = as_dtype(dtype).np if dtype is not None else array.dtype
    return tensor(array.astype(np_dtype, copy=False), device=device, requires_grad=requires_grad, dtype=np_dtype)


def _sizes(sizes: tuple, size: Any, op: str) -> tuple:
    """The shape of ``f(2, 3)``, ``f((2, 3))``, ``f(Size)`` or ``f(size=(2, 3))`` (one way, not both)."""
    if size is not None:
        if sizes:
            raise EngineTypeError(f"{op}: got the sizes twice, as arguments {sizes} and as size={size!r}")
        sizes = (size,)
    return _shape(sizes, op)


def zeros(*sizes, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _sizes(sizes, size, "zeros")
    return _make(np.zeros(shape, (as_dtype(dtype) if dtype else float32).np), None, device, requires_grad)


def ones(*sizes, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _sizes(sizes, size, "ones")
    return _make(np.ones(shape, (as_dtype(dtype) if dtype else float32).np), None, device, requires_grad)


def empty(*sizes, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised memory in PyTorch; zeros here (the same values every run)."""
    shape = _sizes(sizes, size, "empty")
    return zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad)


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


def rand(*sizes, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the generator ``manual_seed`` seeds."""
    return _make(generator().random(_sizes(sizes, size, "rand")), dtype or float32, device, requires_grad)


def randn(*sizes, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the generator ``manual_seed`` seeds."""
    return _make(generator().standard_normal(_sizes(sizes, size, "randn")), dtype or float32, device, requires_grad)


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2), drawn as ``mean + std * z`` with z ~ N(0, 1) from the generator
    ``manual_seed`` seeds. PyTorch's forms:

    - ``normal(mean, std, size)`` with numbers: a float32 tensor of ``size`` (``dtype``, ``device``,
      ``requires_grad`` as for ``randn``);
    - ``normal(mean, std)`` with a tensor for either or both: one sample per element of their
      broadcast shape, on their device, in mean's dtype (std's when mean is a number).

    As in PyTorch the sample is not reparameterised: d out / d mean = d out / d std = 0, and the
    result requires grad when a tensor argument does (write ``mean + std * randn_like(mean)`` for
    the reparameterised draw).
    """
    rng = _rng(generator, "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        mean, std = _number("normal", "mean", mean), _number("normal", "std", std)
        if size is None:
            raise EngineTypeError("normal: with numbers for mean and std give size, e.g. normal(0.0, 1.0, (2, 3))")
        if not std >= 0:
            raise EngineValueError(f"normal: expects std >= 0.0, but found std {std}")
        target = as_dtype(dtype) if dtype is not None else float32
        if not target.is_floating_point:
            raise DTypeError(f"normal: samples are floating point; got dtype {target.name}, use float32 or float64")
        shape = _shape(size if isinstance(size, (tuple, list, Size)) else (size,), "normal")
        with np.errstate(invalid="ignore", over="ignore"):
            values = mean + std * rng.standard_normal(shape)
        return _make(values, target, device, requires_grad)
    if size is not None:
        raise EngineTypeError("normal: size is only for numbers mean and std; with a tensor the result takes its shape")
    for name, t in (("mean", mean), ("std", std)):
        if isinstance(t, Tensor) and not t.dtype.is_floating_point:
            raise DTypeError(f"normal: {name} must be a floating point tensor, got {t.dtype.name}")
        if not isinstance(t, Tensor):
            _number("normal", name, t)
    if len(tensors) == 2 and tensors[0].device != tensors[1].device:
        from engine.errors import DeviceError

        raise DeviceError(f"normal: mean is on device {mean.device} but std is on {std.device}; use one device")
    if isinstance(std, Tensor):
        if std.numel() and not bool((std >= 0).all()):
            raise EngineValueError("normal: expects all elements of std >= 0.0")
    elif not std >= 0:
        raise EngineValueError(f"normal: expects std >= 0.0, but found std {std}")
    try:
        shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        raise ShapeError(
            f"normal: the shapes of mean {tuple(mean.shape)} and std {tuple(std.shape)} do not broadcast"
        ) from None
    target = mean.dtype if isinstance(mean, Tensor) else std.dtype
    on = tensors[0].device
    z = _make(rng.standard_normal(shape), target, on, False)
    plain = [t.detach() if isinstance(t, Tensor) else t for t in (mean, std)]
    with no_grad():
        out = (plain[1] * z + plain[0]).to(target)
    never = zeros(shape, dtype=dtypes.bool_, device=on)
    for t in tensors:
        if t.requires_grad and is_grad_enabled():
            # A link with derivative 0, as PyTorch's NormalBackward: where(False, t, out) is out,
            # and its gradient to t is zero everywhere.
            out = where(never, t, out).to(target)
    return out


def randint(low: int | None = None, high: int | tuple | None = None, size=None, *, generator: Any = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (keywords too: ``randint(high=10, size=(3,))``); int64 unless ``dtype`` says otherwise."""
    if size is None and isinstance(high, (tuple, list, Size)):
        low, high, size = 0, low, high  # PyTorch's two-argument form: randint(high, size)
    if high is None:
        low, high = 0, low
    elif low is None:
        low = 0
    if high is None:
        raise EngineTypeError("randint: missing the high argument, e.g. randint(10, (3,))")
    if size is None:
        raise EngineTypeError("randint: missing the size argument, e.g. randint(0, 10, (3,))")
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
            raise EngineTypeError(f"randint: {name} must be an integer, got {type(value).__name__} {value!r}")
    if low >= high:
        raise EngineValueError(f"randint: low must be less than high, got low={low} and high={high}")
    shape = _shape(size if isinstance(size, (tuple, list, Size)) else (size,), "randint")
    return _make(_rng(generator, "randint").integers(low, high, shape), dtype or int64, device, requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """0, 1, ..., n - 1 in a random order (int64 unless ``dtype`` says otherwise)."""
    (count,) = _shape((n,), "randperm")
    return _make(_rng(generator, "randperm").permutation(count), dtype or int64, device, requires_grad)


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


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` numbers from base**start to base**end, evenly spaced in the exponent (both ends
    included): base ** linspace(start, end, steps), computed in float64 and rounded once."""
    start, end = _number("logspace", "start", start), _number("logspace", "end", end)
    base = _number("logspace", "base", base)
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) and steps < 0:
        raise EngineValueError(f"logspace: number of steps must be non-negative, got {steps}")
    (count,) = _shape((steps,), "logspace")
    target = as_dtype(dtype) if dtype is not None else float32
    with np.errstate(invalid="ignore", over="ignore"):  # a negative base gives nan between integer exponents
        values = np.power(float(base), np.linspace(start, end, count)).astype(target.np)
    return _make(values, target, device, requires_grad)


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


def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised memory of t's shape in PyTorch; zeros here (the same values every run)."""
    return zeros_like(t, dtype=dtype, device=device, requires_grad=requires_grad)


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


def legacy_tensor(args: tuple, dtype: Any, op: str, device: Any = None) -> Tensor:
    """PyTorch's legacy constructors: ``FloatTensor(2, 3)`` or ``FloatTensor(Size([2, 3]))`` is a
    shape (uninitialised in PyTorch, zeros here), ``FloatTensor([[1, 2]])`` is data, in ``dtype``
    (``engine.core.tensor_shape.legacy_constructor_data`` reads the arguments)."""
    return tensor(legacy_constructor_data(args, op), dtype=dtype, device=device)


def FloatTensor(*data, device: Any = None) -> Tensor:  # noqa: N802 - PyTorch's name
    """``FloatTensor([[1, 2]])`` (data) or ``FloatTensor(2, 3)`` (a shape: zeros here)."""
    return legacy_tensor(data, float32, "FloatTensor", device)


def LongTensor(*data, device: Any = None) -> Tensor:  # noqa: N802
    return legacy_tensor(data, int64, "LongTensor", device)


def DoubleTensor(*data, device: Any = None) -> Tensor:  # noqa: N802
    return legacy_tensor(data, dtypes.float64, "DoubleTensor", device)


def ByteTensor(*data, device: Any = None) -> Tensor:  # noqa: N802
    """uint8 data (``ByteTensor([True, False])`` holds 1 and 0), as in PyTorch."""
    return legacy_tensor(data, dtypes.uint8, "ByteTensor", device)


def BoolTensor(*data, device: Any = None) -> Tensor:  # noqa: N802
    return legacy_tensor(data, dtypes.bool_, "BoolTensor", device)
