"""Tensor dtypes: ``engine.float32`` (the default), ``float64``, ``int64``, ``uint8``, ``bool``."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from engine.errors import DTypeError, EngineValueError


class DType:
    """A tensor element type; ``np`` is the numpy dtype that stores it."""

    __slots__ = ("name", "np", "is_floating_point")

    def __init__(self, name: str, np_dtype: type) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"

    def __repr__(self) -> str:
        return f"engine.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool_ = DType("bool", np.bool_)

_BY_NUMPY = {d.np: d for d in (float32, float64, int64, uint8, bool_)}
_BY_NAME = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "int64": int64, "long": int64, "uint8": uint8, "bool": bool_,
}
_NUMPY_PROMOTE = {  # numpy kinds we accept and the dtype they become
    "f": float32, "i": int64, "u": int64, "b": bool_,
}


def as_dtype(dtype: object) -> DType:
    """Turn ``engine.float32``, ``"float32"``, ``numpy.float32`` or ``float`` into a DType."""
    if isinstance(dtype, DType):
        return dtype
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        npd = np.dtype(dtype)
    except TypeError:
        npd = None
    if npd is not None and npd in _BY_NUMPY:
        return _BY_NUMPY[npd]
    raise DTypeError(f"dtype: {dtype!r} is not supported; use engine.float32, float64, int64 or bool")


def from_numpy_dtype(npd: np.dtype) -> DType:
    """The engine dtype that stores numpy arrays of dtype ``npd``."""
    found = _BY_NUMPY.get(npd)
    if found is not None:
        return found
    if npd.kind == "f" and npd.itemsize == 8:
        return float64
    if npd.kind in _NUMPY_PROMOTE:
        return _NUMPY_PROMOTE[npd.kind]
    raise DTypeError(f"tensor: numpy dtype {npd} is not supported; use float32, float64, int64 or bool data")


def result_dtype(a: DType, b: DType) -> DType:
    """PyTorch's promotion for two tensors: bool < uint8 < int64 < float32 < float64."""
    order = (bool_, uint8, int64, float32, float64)
    return a if order.index(a) >= order.index(b) else b


def category(dtype: DType) -> int:
    """PyTorch's dtype categories for promotion: 0 bool, 1 integer, 2 floating point."""
    if dtype is bool_:
        return 0
    return 2 if dtype.is_floating_point else 1


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    """Combine the promoted dtype of a higher-priority group of operands with a lower one:
    the lower group only counts when it is of a higher category (PyTorch's result_type)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if category(lower) > category(higher):
        return result_dtype(higher, lower)
    return higher


def promote(dimensioned: list, zero_dim: list, scalars: list) -> DType:
    """PyTorch's type promotion for one op: tensors with dimensions decide first, then 0-d
    tensors, then Python numbers (given as the dtype they stand for: float32 for a float,
    int64 for an int, bool for a bool), each group counting only if it brings a higher
    category (``uint8 tensor * 0.5`` is float32; ``float32 tensor + float64 0-d`` stays float32).
    """

    def group(ds: list) -> DType | None:
        out = None
        for d in ds:
            out = d if out is None else result_dtype(out, d)
        return out

    return _combine(group(dimensioned), _combine(group(zero_dim), group(scalars)))


# ---- Python numbers beside tensors -----------------------------------------------------------------


def is_number(x: Any) -> bool:
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, (complex, np.complexfloating))


def number_dtype(x: Any) -> DType:
    """The dtype a Python (or numpy) number stands for in promotion: bool, int64, or the
    default float32 for any float (PyTorch: ``int_tensor * 0.5`` is float32)."""
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, (numbers.Integral, np.integer)):
        return int64
    return float32


def short_text(x: Any) -> str:
    text = str(x)
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} digits)"


def number_as(x: Any, dtype: DType, op: str) -> np.generic:
    """Number ``x`` as a numpy scalar of ``dtype``. Integers wrap into uint8 modulo 256 as in
    PyTorch (``uint8 + 300`` adds 44); a number no float or int64 can hold is a one-line error."""
    npd = dtype.np
    if dtype.is_floating_point:
        try:
            value = float(x)
        except OverflowError:
            raise EngineValueError(
                f"{op}: the number {short_text(x)} is too large to be a float (the largest float64 is about 1.8e308)"
            ) from None
        with np.errstate(over="ignore"):  # beyond float32's range it is inf, as IEEE rounds it
            return np.asarray(value).astype(npd)[()]
    if dtype is bool_:
        return np.bool_(x)
    value = int(x)
    if not -(2**63) <= value < 2**63:
        raise EngineValueError(
            f"{op}: the integer {short_text(x)} does not fit in int64 (valid: -2**63 to 2**63 - 1); "
            "use a float, or a float tensor"
        )
    return np.asarray(value, np.int64).astype(npd)[()]


# ---- creation ------------------------------------------------------------------------------------
