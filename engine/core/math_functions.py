"""Module-level forms of the math methods: ``engine.sin(x)``, ``engine.std(x, dim=1)``,
``engine.atan2(y, x)``, ``engine.sort(x, descending=True)``...

Each takes the tensor first (numbers and lists are made tensors, as ``engine.exp`` does) and
calls the method of the same name (``engine.core.tensor_math``), with the same arguments,
numpy's ``axis``/``keepdims`` aliases included. ``std_mean`` and ``var_mean`` exist only here,
as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from engine.core.tensor import Tensor, tensor


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _method(name: str):
    """``f(input, *args, **kwargs) = input.name(*args, **kwargs)``."""

    def f(input: Any, *args: Any, **kwargs: Any):  # noqa: A002 - PyTorch's parameter name
        return getattr(_as_tensor(input), name)(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``engine.{name}(x, ...)`` is ``x.{name}(...)``; see ``Tensor.{name}``."
    return f


# elementwise
sin, cos, tan = _method("sin"), _method("cos"), _method("tan")
asin, acos, atan = _method("asin"), _method("acos"), _method("atan")
sinh, cosh = _method("sinh"), _method("cosh")
asinh, acosh, atanh = _method("asinh"), _method("acosh"), _method("atanh")
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
exp2, log2, log10 = _method("exp2"), _method("log2"), _method("log10")
log1p, expm1, erf = _method("log1p"), _method("expm1"), _method("erf")
rsqrt, reciprocal, square = _method("rsqrt"), _method("reciprocal"), _method("square")
floor, ceil, trunc, fix = _method("floor"), _method("ceil"), _method("trunc"), _method("trunc")
round = _method("round")  # noqa: A001 - PyTorch's name
sign, frac = _method("sign"), _method("frac")
clamp, clip = _method("clamp"), _method("clamp")
clamp_min, clamp_max = _method("clamp_min"), _method("clamp_max")
lerp, atan2 = _method("lerp"), _method("atan2")
arctan2 = atan2

# reductions
sum = _method("sum")  # noqa: A001
mean = _method("mean")
max, min = _method("max"), _method("min")  # noqa: A001
amax, amin = _method("amax"), _method("amin")
argmax, argmin = _method("argmax"), _method("argmin")
all, any = _method("all"), _method("any")  # noqa: A001
std, var = _method("std"), _method("var")
norm = _method("norm")
prod = _method("prod")
cumsum, cumprod = _method("cumsum"), _method("cumprod")
logsumexp = _method("logsumexp")

# ordering
sort, argsort, topk = _method("sort"), _method("argsort"), _method("topk")
unique = _method("unique")


def _spread_mean(name: str, x: Tensor, dim, unbiased, keepdim, correction, axis, keepdims) -> tuple:
    spread = getattr(x, name)(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    if isinstance(dim, bool):  # std_mean(x, False): the unbiased form, over every element
        dim = None
    mean_dim = dim if axis is None else axis
    return spread, x.mean(mean_dim, keepdim if keepdims is None else keepdims)


def std_mean(input: Any, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,  # noqa: A002
             keepdims=None) -> tuple:
    """(std, mean) over the same ``dim`` (``std``'s arguments)."""
    return _spread_mean("std", _as_tensor(input), dim, unbiased, keepdim, correction, axis, keepdims)


def var_mean(input: Any, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,  # noqa: A002
             keepdims=None) -> tuple:
    """(var, mean) over the same ``dim`` (``var``'s arguments)."""
    return _spread_mean("var", _as_tensor(input), dim, unbiased, keepdim, correction, axis, keepdims)


__all__ = [
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh", "exp2", "log2", "log10", "log1p", "expm1", "erf", "rsqrt",
    "reciprocal", "square", "floor", "ceil", "trunc", "fix", "round", "sign", "frac", "clamp", "clip", "clamp_min",
    "clamp_max", "lerp", "atan2", "arctan2", "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "all",
    "any", "std", "var", "std_mean", "var_mean", "norm", "prod", "cumsum", "cumprod", "logsumexp", "sort", "argsort",
    "topk", "unique",
]
