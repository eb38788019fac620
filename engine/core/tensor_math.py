"""Tensor methods for elementwise math and reductions beyond the basics (``x.sin()``, ``x.std()``...).

``MathMethods`` is a mixin of ``Tensor``: each method checks its arguments, promotes dtypes (as
PyTorch: integer and bool inputs of sin, exp2, erf... become float32; floor, round, sign keep
integers as they are) and applies one op from ``engine.ops`` (the derivative lives there) or a
composition of tensor ops whose gradients are already right (``frac = x - trunc(x)``, ``lerp``,
the values of ``sort``/``topk`` gathered at the sorted indices). This module sits below
``engine.core.tensor``, which imports the mixin, so it reaches tensors only through ``self``.

Reductions take numpy's names too, as PyTorch does: ``axis`` for ``dim`` and ``keepdims`` for
``keepdim`` (``x.sum(axis=1, keepdims=True)``).

``unique`` is computed on the host: the size of its result depends on the data, so the device's
values come back once (one transfer), numpy finds the distinct values, and they go back.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from engine.autograd.op import TensorBase
from engine.backends.layout import broadcast_shapes
from engine.core import dtypes
from engine.errors import DTypeError, EngineTypeError, EngineValueError, ShapeError
from engine.ops import elementwise as _ew
from engine.ops import math as _m
from engine.ops import reduce as _red
from engine.ops import shape as _shp

# ---- arguments ------------------------------------------------------------------------------------------


def normalize_dim(dim: Any, ndim: int, op: str) -> int:
    """``dim`` in [0, ndim) (a 0-d tensor counts as 1-d, as in PyTorch), or a one-line error."""
    n = max(ndim, 1)
    if isinstance(dim, TensorBase) and dim._data.size == 1 and not dim.dtype.is_floating_point:
        dim = dim.item()
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, (bool, np.bool_)):
        raise EngineTypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise EngineValueError(f"{op}: dim {dim} is out of range for a {ndim}-d tensor (valid: {-n} to {n - 1})")
    return int(dim) % n


def normalize_dims(dim: Any, ndim: int, op: str, empty_means_all: bool = True) -> tuple:
    """The sorted axes ``dim`` names (an int, a tuple or list of them); None means every axis, and so
    does an empty tuple where PyTorch reads it so (sum, mean, amax, std...; not all/any)."""
    if dim is None or (empty_means_all and isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = [normalize_dim(d, ndim, op) for d in dims]
    if len(set(axes)) != len(axes):
        twice = next(d for d in axes if axes.count(d) > 1)
        raise EngineValueError(f"{op}: dim {twice} appears multiple times in the list of dims {dims}")
    return tuple(sorted(axes)) if ndim else ()


def _alias(value: Any, default: Any, alias: Any, name: str, alias_name: str, op: str) -> Any:
    """PyTorch's numpy-style keyword aliases: ``axis`` for ``dim``, ``keepdims`` for ``keepdim``
    (``value`` is what the caller gave for the PyTorch name, ``default`` that parameter's default)."""
    if alias is None:
        return value
    if value is not default and value != default:
        raise EngineTypeError(f"{op}: got both {name} and {alias_name} ({alias_name} is numpy's name for {name}); "
                              "give one")
    return alias


def _dim_arg(dim: Any, axis: Any, op: str, default: Any = None) -> Any:
    return _alias(dim, default, axis, "dim", "axis", op)


def _keepdim_arg(keepdim: bool, keepdims: Any, op: str) -> bool:
    return bool(_alias(keepdim, False, keepdims, "keepdim", "keepdims", op))


def _reduced_size(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class ReturnPair(tuple):
    """``(values, indices)`` of max/min along a dim, sort and topk, also readable as ``.values`` and
    ``.indices`` (PyTorch's ``torch.return_types.sort`` and friends)."""

    def __new__(cls, values, indices, kind: str):
        out = super().__new__(cls, (values, indices))
        out.kind = kind
        return out

    def __repr__(self) -> str:
        return f"engine.return_types.{self.kind}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class MathMethods:
    """Elementwise math and reductions; mixed into ``engine.core.tensor.Tensor``."""

    __slots__ = ()

    # ---- elementwise math: float results (integers and bools become float32, as in PyTorch) -------------
    def _math(self, op, name: str):
        return op.apply(self._float_input(name))

    def sin(self):
        return self._math(_m.Sin, "sin")

    def cos(self):
        return self._math(_m.Cos, "cos")

    def tan(self):
        return self._math(_m.Tan, "tan")

    def asin(self):
        return self._math(_m.Asin, "asin")

    def acos(self):
        return self._math(_m.Acos, "acos")

    def atan(self):
        return self._math(_m.Atan, "atan")

    def sinh(self):
        return self._math(_m.Sinh, "sinh")

    def cosh(self):
        return self._math(_m.Cosh, "cosh")

    def asinh(self):
        return self._math(_m.Asinh, "asinh")

    def acosh(self):
        return self._math(_m.Acosh, "acosh")

    def atanh(self):
        return self._math(_m.Atanh, "atanh")

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def exp2(self):
        return self._math(_m.Exp2, "exp2")

    def log2(self):
        return self._math(_m.Log2, "log2")

    def log10(self):
        return self._math(_m.Log10, "log10")

    def log1p(self):
        return self._math(_m.Log1p, "log1p")

    def expm1(self):
        return self._math(_m.Expm1, "expm1")

    def erf(self):
        return self._math(_m.Erf, "erf")

    def rsqrt(self):
        """1 / sqrt(x) (inf at 0, NaN below);  d/dx = -x^(-3/2) / 2 (the pow op's derivative)."""
        return _ew.PowScalar.apply(self._float_input("rsqrt"), -0.5)

    def reciprocal(self):
        """1 / x (integers become float32);  d/dx = -1/x^2 (division's derivative)."""
        return self._binary(_ew.Div, 1, "reciprocal", reverse=True, floating=True)

    def square(self):
        """x * x, in x's dtype (bool becomes int64, as PyTorch)."""
        x = self.long() if self.dtype is dtypes.bool_ else self
        return _ew.Mul.apply(x, x)

    # ---- steps: integer-valued results, zero gradient ---------------------------------------------------
    def _step(self, op, name: str):
        if self.dtype is dtypes.bool_:
            raise DTypeError(f"{name}: not implemented for bool tensors; convert with .float() or .long() first")
        if not self.dtype.is_floating_point:
            return self.clone()  # integers are whole already (PyTorch returns them unchanged)
        return op.apply(self)

    def floor(self):
        return self._step(_m.Floor, "floor")

    def ceil(self):
        return self._step(_m.Ceil, "ceil")

    def trunc(self):
        return self._step(_m.Trunc, "trunc")

    fix = trunc

    def round(self, decimals: int = 0):
        """Round to the nearest integer, halves to the even one (``round(2.5) = 2``); with
        ``decimals``, to that many decimal places, as PyTorch: round(x 10^d) / 10^d (for d < 0,
        round(x / 10^-d) 10^-d)."""
        if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
            raise EngineTypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
        if decimals == 0:
            return self._step(_m.Round, "round")
        if not self.dtype.is_floating_point:
            raise DTypeError(f"round: decimals={decimals} is not implemented for {self.dtype.name} tensors "
                             "(as in PyTorch); round integers without decimals or convert with .float()")
        if decimals > 0:
            scale = 10.0 ** int(decimals)
            return _m.Round.apply(self * scale) / scale
        scale = 10.0 ** -int(decimals)
        return _m.Round.apply(self / scale) * scale

    def sign(self):
        """-1, 0 or 1 in x's dtype (0 at NaN; a bool tensor is its own sign)."""
        if self.dtype is dtypes.bool_:
            return self.clone()
        return _m.Sign.apply(self)

    def frac(self):
        """x - trunc(x), with x's sign (frac(-2.5) = -0.5);  d/dx = 1."""
        if not self.dtype.is_floating_point:
            raise DTypeError(f"frac: not implemented for {self.dtype.name} tensors (an integer has no fraction); "
                             "convert with .float() first")
        return self - _m.Trunc.apply(self)

    # ---- clamping --------------------------------------------------------------------------------------
    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """min(max(x, min), max) elementwise; the bounds are numbers or tensors (broadcast).
        Where min > max the result is max, as in PyTorch."""
        if min is None and max is None:
            raise EngineValueError("clamp: give at least one of min and max")
        return self._clamp(min, max, "clamp")

    clip = clamp

    def clamp_min(self, min):  # noqa: A002
        """max(x, min) elementwise (PyTorch's clamp_min)."""
        return self._clamp(min, None, "clamp_min")

    def clamp_max(self, max):  # noqa: A002
        """min(x, max) elementwise (PyTorch's clamp_max)."""
        return self._clamp(None, max, "clamp_max")

    def _clamp(self, lo, hi, name: str):
        for bound in (lo, hi):
            if bound is not None and not isinstance(bound, TensorBase) and not dtypes.is_number(bound):
                raise EngineTypeError(f"{name}: a bound must be a number or a tensor, got {type(bound).__name__}")
        if lo is not None and hi is not None and isinstance(lo, TensorBase) != isinstance(hi, TensorBase):
            kinds = " and ".join("a tensor" if isinstance(v, TensorBase) else type(v).__name__ for v in (lo, hi))
            raise EngineTypeError(f"{name}: min and max must both be numbers or both tensors (as in PyTorch), "
                                  f"got {kinds}")
        if not isinstance(lo, TensorBase) and not isinstance(hi, TensorBase):
            if not self.dtype.is_floating_point and any(isinstance(v, float) for v in (lo, hi)):
                return self.float()._clamp(lo, hi, name)  # an int tensor with float bounds becomes float32
            low = None if lo is None else dtypes.number_as(lo, self.dtype, name)
            high = None if hi is None else dtypes.number_as(hi, self.dtype, name)
            return _ew.Clamp.apply(self, low, high)
        # Tensor bounds: one dtype for the three by PyTorch's promotion (x's category wins over a 0-d
        # bound's), and shapes that broadcast.
        x = self
        for bound in (lo, hi):
            if bound is not None:
                x, _ = x._operand(bound, name)
        bounds = [b if b is None or b.dtype is x.dtype else b.to(x.dtype) for b in (lo, hi)]
        shapes = [tuple(t.shape) for t in (x, *bounds) if t is not None]
        try:
            broadcast_shapes(*shapes)
        except ValueError:
            raise ShapeError(f"{name}: shapes {', '.join(map(str, shapes))} do not broadcast; "
                             "each trailing dimension must match or be 1") from None
        return _m.ClampBounds.apply(x, bounds[0], bounds[1])

    # ---- binary ----------------------------------------------------------------------------------------
    def atan2(self, other):
        """The angle of the point (other, self) in (-pi, pi]: atan2(y, x) with y = self."""
        if not isinstance(other, TensorBase):
            raise EngineTypeError(f"atan2: argument 'other' must be a tensor, not {type(other).__name__}")
        y, x = self._operand(other, "atan2", floating=True)
        return _m.Atan2.apply(y, x)

    arctan2 = atan2

    def lerp(self, end, weight):
        """self + weight (end - self), PyTorch's way: for |weight| >= 0.5 as end - (end - self)(1 - weight),
        which is exact at weight = 1. ``end`` is a tensor of self's dtype; ``weight`` a number or
        such a tensor (all three broadcast)."""
        if not isinstance(end, TensorBase):
            raise EngineTypeError(f"lerp: argument 'end' must be a tensor, not {type(end).__name__}")
        if not self.dtype.is_floating_point:
            raise DTypeError(f"lerp: not implemented for {self.dtype.name} tensors; convert with .float() first")
        for what, t in (("end", end), ("weight", weight)):
            if isinstance(t, TensorBase) and t.dtype is not self.dtype:
                raise DTypeError(f"lerp: expected dtype {self.dtype.name} for `{what}` but got dtype {t.dtype.name}")
        diff = end - self
        if isinstance(weight, TensorBase):
            small = self + weight * diff
            large = end - diff * (1 - weight)
            return _ew.Where.apply(weight.abs() < 0.5, small, large)
        if not dtypes.is_number(weight) or isinstance(weight, (bool, np.bool_)):
            raise EngineTypeError(f"lerp: weight must be a number or a tensor, got {type(weight).__name__}")
        w = dtypes.number_as(weight, self.dtype, "lerp")
        if abs(w) < 0.5:
            return self + diff * w
        return end - diff * (w.dtype.type(1) - w)  # 1 - w in the tensor's precision, as PyTorch

    # ---- reductions: sums, means and extremes, with numpy's axis/keepdims aliases --------------------------
    def sum(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):
        dim, keepdim = _dim_arg(dim, axis, "sum"), _keepdim_arg(keepdim, keepdims, "sum")
        x = self if dtype is None else self.to(dtype)
        if dtype is None and not x.dtype.is_floating_point and x.dtype is not dtypes.int64:
            x = x.long()  # bool and uint8 sum to int64, as in PyTorch (no wrap at 256)
        return _red.Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):
        dim, keepdim = _dim_arg(dim, axis, "mean"), _keepdim_arg(keepdim, keepdims, "mean")
        x = self if dtype is None else self.to(dtype)
        if not x.dtype.is_floating_point:
            raise DTypeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {x.dtype.name.capitalize()}"
            )
        return _red.Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The largest element, or ``(values, indices)`` along ``dim``; ``max(other)`` is ``maximum``."""
        if isinstance(dim, TensorBase):
            return _ew.Maximum.apply(*self._operand(dim, "maximum"))
        return self._math_extreme(_red.Max, "max", _dim_arg(dim, axis, "max"), _keepdim_arg(keepdim, keepdims, "max"))

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        if isinstance(dim, TensorBase):
            return _ew.Minimum.apply(*self._operand(dim, "minimum"))
        return self._math_extreme(_red.Min, "min", _dim_arg(dim, axis, "min"), _keepdim_arg(keepdim, keepdims, "min"))

    def _math_extreme(self, op, kind: str, dim, keepdim: bool):
        if self.numel() == 0:
            raise EngineValueError(f"{kind}: the tensor is empty (shape {tuple(self.shape)}); there is no {kind}")
        if dim is None:
            return op.apply(self, None, False)
        axis = normalize_dim(dim, self.ndim, kind)
        if self.ndim == 0:
            return ReturnPair(op.apply(self, None, False), self._like(self._backend.zeros((), np.int64)), kind)
        values = op.apply(self, axis, keepdim)
        _, index = getattr(self._backend, kind)(self._data, axis, keepdim, arg=True)
        return ReturnPair(values, self._like(index), kind)

    def amax(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None):
        """The largest element over ``dim`` (an int or a tuple; all by default), without indices;
        the gradient is split evenly between tied maxima (unlike ``max(dim)``, as in PyTorch)."""
        return self._amax(_m.Amax, "amax", _dim_arg(dim, axis, "amax", ()), _keepdim_arg(keepdim, keepdims, "amax"))

    def amin(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None):
        return self._amax(_m.Amin, "amin", _dim_arg(dim, axis, "amin", ()), _keepdim_arg(keepdim, keepdims, "amin"))

    def _amax(self, op, kind: str, dim, keepdim: bool):
        axes = normalize_dims(dim, self.ndim, kind)
        empty = [a for a in axes if self.shape[a] == 0]
        if empty or (self.numel() == 0 and not axes):
            where = f"dim {empty[0]}" if empty else "the tensor"
            raise EngineValueError(f"{kind}: expected reduction {where} to have non-zero size (shape "
                                   f"{tuple(self.shape)}); there is no {kind[1:]} of nothing")
        if not axes:  # a 0-d tensor is its own max
            return self.clone()
        return op.apply(self, axes, keepdim)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The index of the first largest element (of the flattened tensor when ``dim`` is None)."""
        return self._math_arg("max", _dim_arg(dim, axis, "argmax"), _keepdim_arg(keepdim, keepdims, "argmax"))

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        return self._math_arg("min", _dim_arg(dim, axis, "argmin"), _keepdim_arg(keepdim, keepdims, "argmin"))

    def _math_arg(self, kind: str, dim, keepdim: bool):
        bk = self._backend
        if dim is None:
            if self.numel() == 0:
                raise EngineValueError(f"arg{kind}: the tensor is empty (shape {tuple(self.shape)}); give a dim")
            flat = bk.reshape(bk.contiguous(self._data), (-1,))
            _, index = getattr(bk, kind)(flat, 0, False, arg=True)
            if keepdim:  # PyTorch keeps every dim as 1
                index = bk.reshape(index, (1,) * self.ndim)
            return self._like(index)
        d = normalize_dim(dim, self.ndim, "arg" + kind)
        if self.ndim and self.shape[d] == 0:
            raise EngineValueError(f"arg{kind}: expected reduction dim {d} to have non-zero size "
                                   f"(shape {tuple(self.shape)})")
        if self.ndim == 0:
            return self._like(bk.zeros((), np.int64))
        _, index = getattr(bk, kind)(self._data, d, keepdim, arg=True)
        return self._like(index)

    def all(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """True where every element over ``dim`` is nonzero (True over nothing); bool, or uint8 for a
        uint8 tensor (PyTorch's rule)."""
        return self._logical("all", _dim_arg(dim, axis, "all"), _keepdim_arg(keepdim, keepdims, "all"))

    def any(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """True where some element over ``dim`` is nonzero (False over nothing)."""
        return self._logical("any", _dim_arg(dim, axis, "any"), _keepdim_arg(keepdim, keepdims, "any"))

    def _logical(self, kind: str, dim, keepdim: bool):
        bk = self._backend
        truth = self._data if self.dtype is dtypes.bool_ else bk.compare("ne", self._data, 0)
        axes = normalize_dims(dim, self.ndim, kind, empty_means_all=False)
        if axes:
            kept = _m.keep_shape(tuple(self.shape), axes)
            if _reduced_size(tuple(self.shape), axes) == 0:
                out = bk.full(kept, kind == "all", np.bool_)
            else:
                out = _m.extreme_keep(bk, truth, axes, "min" if kind == "all" else "max")
            if not keepdim:
                out = bk.reshape(out, tuple(n for i, n in enumerate(self.shape) if i not in axes))
        else:
            out = truth if truth is not self._data else bk.copy(truth)
        if self.dtype is dtypes.uint8:
            out = bk.astype(out, np.uint8)
        return self._like(out)

    # ---- reductions: spread ------------------------------------------------------------------------------
    def _spread(self, op, name: str, dim, unbiased, keepdim: bool, correction, axis, keepdims):
        if isinstance(dim, (bool, np.bool_)):  # x.std(False): PyTorch's std(unbiased) form
            if unbiased is not None:
                raise EngineTypeError(f"{name}: unbiased given twice")
            dim, unbiased = None, bool(dim)
        dim, keepdim = _dim_arg(dim, axis, name), _keepdim_arg(keepdim, keepdims, name)
        if unbiased is not None and correction is not None:
            raise EngineTypeError(f"{name}: give unbiased or correction, not both (unbiased=False is correction=0)")
        if correction is None:
            correction = 0 if unbiased is False else 1
        if not dtypes.is_number(correction) or isinstance(correction, (bool, np.bool_)):
            raise EngineTypeError(f"{name}: correction must be a number, got {type(correction).__name__}")
        if not self.dtype.is_floating_point:
            raise DTypeError(f"{name}: std and var only support floating point dtypes, got {self.dtype.name}; "
                             "convert with .float() first")
        return op.apply(self, normalize_dims(dim, self.ndim, name), float(correction), keepdim)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None):
        """sum((x - mean)^2) / (n - correction) over ``dim``; correction 1 (the default, or
        ``unbiased=True``) is Bessel's unbiased estimate, 0 (``unbiased=False``) the population variance."""
        return self._spread(_m.Var, "var", dim, unbiased, keepdim, correction, axis, keepdims)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None):
        """sqrt(var) with var's arguments; its gradient is 0 where it is 0 (PyTorch's choice)."""
        return self._spread(_m.Std, "std", dim, unbiased, keepdim, correction, axis, keepdims)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None):
        """The vector p-norm over ``dim`` (all elements by default): (sum |x|^p)^(1/p), p = 2 (also
        'fro'), 1, inf (max |x|), -inf (min |x|), 0 (count of nonzeros) or any other number."""
        x = self if dtype is None else self.to(dtype)
        if not x.dtype.is_floating_point:
            raise DTypeError(f"norm: expected a floating point tensor, got {x.dtype.name}; convert with .float() first")
        if isinstance(p, str):
            if p == "nuc":
                raise EngineValueError("norm: p='nuc' (the nuclear norm, a sum of singular values) is not supported; "
                                       "use p='fro' or a number")
            if p != "fro":
                raise EngineValueError(f"norm: order {p!r} is not supported; use 'fro' or a number (2, 1, inf...)")
            p = 2
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (numbers.Real, np.integer, np.floating)):
            raise EngineTypeError(f"norm: p must be a number or 'fro', got {type(p).__name__}")
        p = float(p)
        if math.isnan(p):
            raise EngineValueError("norm: p must not be NaN")
        axes = normalize_dims(dim, x.ndim, "norm")
        if math.isinf(p) and _reduced_size(tuple(x.shape), axes) == 0 and (axes or x.numel() == 0):
            raise EngineValueError(f"norm: can't compute the {p} norm of an empty tensor (shape {tuple(x.shape)}): "
                                   "the max of nothing has no value")
        return _m.Norm.apply(x, p, axes, keepdim)

    # ---- reductions: products, running sums and products, logsumexp --------------------------------------
    def _counting_input(self, dtype, name: str):
        """``self`` as the dtype a sum or product runs in: ``dtype`` when given, else integers and bools
        as int64 (PyTorch's rule: no wrap at 256 for uint8)."""
        if dtype is not None:
            return self.to(dtype)
        if not self.dtype.is_floating_point and self.dtype is not dtypes.int64:
            return self.long()
        return self

    def prod(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None):
        """The product of all elements, or along one ``dim``; its gradient is right at zeros (the
        product of the other elements)."""
        dim, keepdim = _dim_arg(dim, axis, "prod"), _keepdim_arg(keepdim, keepdims, "prod")
        x = self._counting_input(dtype, "prod")
        if dim is None:
            return _m.Prod.apply(x.reshape(-1), 0, False)
        d = normalize_dim(dim, x.ndim, "prod")
        if x.ndim == 0:
            return _m.Prod.apply(x.reshape(1), 0, False)
        return _m.Prod.apply(x, d, keepdim)

    def cumsum(self, dim=None, *, dtype=None, axis=None):
        """y_j = x_0 + ... + x_j along ``dim`` (integers and bools sum as int64)."""
        return self._running(_m.Cumsum, "cumsum", _dim_arg(dim, axis, "cumsum"), dtype)

    def cumprod(self, dim=None, *, dtype=None, axis=None):
        """y_j = x_0 x_1 ... x_j along ``dim``; its gradient is right at zeros."""
        return self._running(_m.Cumprod, "cumprod", _dim_arg(dim, axis, "cumprod"), dtype)

    def _running(self, op, name: str, dim, dtype):
        if dim is None:
            raise EngineTypeError(f"{name}: missing the required argument dim (the axis to run along)")
        x = self._counting_input(dtype, name)
        return op.apply(x, normalize_dim(dim, x.ndim, name))

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """log sum e^x over ``dim`` (an int or a tuple), without overflow: the max is taken out first.
        Integers become float32."""
        dim, keepdim = _dim_arg(dim, axis, "logsumexp"), _keepdim_arg(keepdim, keepdims, "logsumexp")
        if dim is None:
            raise EngineTypeError("logsumexp: missing the required argument dim (an int or a tuple of ints)")
        x = self._float_input("logsumexp")
        return _m.Logsumexp.apply(x, normalize_dims(dim, x.ndim, "logsumexp"), keepdim)

    # ---- ordering ------------------------------------------------------------------------------------------
    def _sorted_index(self, axis: int, descending: bool):
        """The int64 tensor of positions that sort ``self`` along ``axis`` (stable; NaN largest)."""
        return self._like(self._backend.sort(self._data, axis, descending)[1])

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False, *, axis=None):
        """``(values, indices)`` sorted along ``dim``; always stable (``stable`` is accepted): equal values
        keep their order. NaN sorts as the largest value. The values' gradient goes back to the
        places they came from."""
        d = normalize_dim(_dim_arg(dim, axis, "sort", -1), self.ndim, "sort")
        if self.ndim == 0:
            return ReturnPair(self.clone(), self._like(self._backend.zeros((), np.int64)), "sort")
        index = self._sorted_index(d, bool(descending))
        return ReturnPair(_shp.Gather.apply(self, index, d), index, "sort")

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False, *, axis=None):
        """The indices that sort ``self`` along ``dim`` (stable)."""
        d = normalize_dim(_dim_arg(dim, axis, "argsort", -1), self.ndim, "argsort")
        if self.ndim == 0:
            return self._like(self._backend.zeros((), np.int64))
        return self._sorted_index(d, bool(descending))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, axis=None):  # noqa: A002
        """``(values, indices)`` of the k largest (``largest=False``: smallest) elements along ``dim``,
        in order (also for ``sorted=False``: an order is allowed there); ties keep their first order.
        The values' gradient goes to the picked elements."""
        if isinstance(k, TensorBase) and k.numel() == 1:
            k = k.item()
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise EngineTypeError(f"topk: k must be an int, got {type(k).__name__}")
        if self.dtype is dtypes.bool_:
            raise DTypeError("topk: bool tensors are not supported (as in PyTorch); convert with .long() first")
        d = normalize_dim(_dim_arg(dim, axis, "topk", -1), self.ndim, "topk")
        size = self.shape[d] if self.ndim else 1
        if not 0 <= k <= size:
            raise EngineValueError(f"topk: selected index k out of range: k = {k} for dim {d} of size {size} "
                                   f"(valid: 0 to {size})")
        if self.ndim == 0:
            return ReturnPair(self.clone(), self._like(self._backend.zeros((), np.int64)), "topk")
        bk = self._backend
        index = bk.sort(self._data, d, bool(largest))[1]
        index = self._like(bk.copy(bk.getitem(index, (slice(None),) * d + (slice(0, int(k)),))))
        return ReturnPair(_shp.Gather.apply(self, index, d), index, "topk")

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
               dim=None):
        """The distinct values, ascending (``sorted=False`` sorts too: any order is allowed there), and
        optionally the inverse (where each element went, of self's shape) and the counts. With
        ``dim``, the distinct slices along it. NaN is never equal to NaN, so each NaN is its own value
        (last), as in PyTorch. Computed on the host: the result's size depends on the data. No gradient."""
        bk = self._backend
        host = np.asarray(bk.to_numpy(self._data))
        if dim is None:
            flat = host.reshape(-1)
            values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
            inverse = inverse.reshape(tuple(self.shape))
        else:
            d = normalize_dim(dim, self.ndim, "unique")
            if self.ndim == 0:
                raise EngineValueError("unique: a 0-d tensor has no dim to take slices along; leave dim out")
            values, inverse, counts = np.unique(host, return_inverse=True, return_counts=True, axis=d,
                                                equal_nan=False)
            inverse = inverse.reshape(-1)

        def device(a: np.ndarray, dtype) -> Any:
            return self._like(bk.from_numpy(np.ascontiguousarray(a, dtype=dtype)))

        out = [device(values, host.dtype)]
        if return_inverse:
            out.append(device(inverse, np.int64))
        if return_counts:
            out.append(device(counts, np.int64))
        return out[0] if len(out) == 1 else tuple(out)
