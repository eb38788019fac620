"""Elementwise kernels: unary ops, binary ops and comparisons with broadcasting over strided
views, ``where``, copies (with a dtype cast), fills and strided assignment.

Every kernel runs one thread per output element: thread ``i`` finds each operand's element at
flat position ``i`` of the output shape through the operand's own strides (0 on a broadcast
axis), so transposed, sliced, reversed and expanded views are read in place, with no copy.
Special values follow PyTorch (relu keeps -0 and NaN, sign(NaN) = 0, x^0.5 is sqrt), as the
numpy and C devices do.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from engine._kernels.launch import grid, offset_of
from numba import cuda

# ---- the ops, as device functions chosen when a kernel is built (one kernel per op and dtype) ----


def _unary_function(op: str, dtype: np.dtype):
    """The device function y = f(x, alpha) of unary op ``op`` for ``dtype`` (constants typed so
    float32 stays float32)."""
    t = dtype.type
    zero, one = t(0), t(1)
    # Above this e^x overflows float64. On a GPU exp returns inf there by itself; numba's simulator
    # runs Python's math.exp, which raises OverflowError instead, so the guard makes the simulator
    # agree with the GPU (x + inf: inf, and NaN stays NaN).
    e_max, inf = t(709.782712893384), t(math.inf)

    if op == "neg":
        def f(x, a):
            return -x
    elif op == "exp":
        def f(x, a):
            return math.exp(x) if x <= e_max else x + inf
    elif op == "log":
        def f(x, a):
            return math.log(x) if x > zero else (-math.inf if x == zero else math.nan)
    elif op == "sigmoid":
        def f(x, a):
            # e^-x = inf below -88 (float32) or -709 (the guard): 1 / inf = 0, right
            return one / (one + (math.exp(-x) if -x <= e_max else -x + inf))
    elif op == "tanh":
        def f(x, a):
            return math.tanh(x)
    elif op == "relu":
        def f(x, a):
            return zero if x < zero else x  # keeps -0 and NaN, as PyTorch
    elif op == "leaky_relu":
        def f(x, a):
            return x if x > zero else x * a
    elif op == "elu":
        def f(x, a):
            return x if x > zero else a * math.expm1(x)  # -0 stays -0
    elif op == "abs":
        def f(x, a):
            return abs(x)
    elif op == "sign":
        def f(x, a):
            return one if x > zero else (-one if x < zero else zero)  # 0 at NaN, as PyTorch
    elif op == "pow":
        def f(x, a):
            # PyTorch's forms: 0.5 is sqrt (so (-inf)^0.5 is NaN, (-0)^0.5 is -0), -0.5 is 1/sqrt,
            # small integer powers are products; anything else is C's pow.
            if a == 0.5:
                return math.sqrt(x) if x >= zero or x != x else math.nan
            if a == -0.5:
                return one / math.sqrt(x) if x >= zero or x != x else math.nan
            if a == 2.0:
                return x * x
            if a == 3.0:
                return x * x * x
            if a == -1.0:
                return one / x
            return math.pow(x, a)
    else:
        f = _math_function(op, dtype)
    return cuda.jit(device=True, inline=True)(f)


def _math_function(op: str, dtype: np.dtype):
    """The plain-Python function y = f(x, alpha) of one of the math unary ops (sin ... round).

    Each is libdevice's function where there is one, behind guards that give C's answers at the
    edges without calling it there: outside a domain NaN (asin(2)), at a pole +-inf (log2(0)),
    beyond the overflow point inf (sinh(1000)). On a GPU the guards only restate what libdevice
    returns; numba's simulator runs Python's math module, which raises instead, so they make the
    simulator agree with the GPU. floor, ceil, trunc and round are written without math.floor
    (Python's returns an int, and fails at inf): a float of |x| >= 2^(mantissa bits) is already
    an integer, any smaller one converts to int64 exactly.
    """
    t = dtype.type
    zero, one, half, two = t(0), t(1), t(0.5), t(2)
    nan, inf = t(math.nan), t(math.inf)
    whole = t(2.0**23) if dtype == np.float32 else t(2.0**52)  # from here on every float is an integer
    # Above these e^x, sinh, cosh and 2^x overflow float64 (the simulator computes in float64; a
    # float32 result overflows earlier by itself, to the same inf).
    e_max, sinh_max, exp2_max = t(709.782712893384), t(710.4758600739439), t(1024.0)

    @cuda.jit(device=True, inline=True)
    def truncate(x):
        if not abs(x) < whole:  # NaN, +-inf and floats too large to have a fraction
            return x
        r = t(int(x))  # toward zero, exact below 2^mantissa
        return x * zero if r == zero else r  # x * 0 keeps the sign of zero: trunc(-0.5) = -0

    if op == "sin":
        def f(x, a):
            return math.sin(x) if abs(x) < inf else nan
    elif op == "cos":
        def f(x, a):
            return math.cos(x) if abs(x) < inf else nan
    elif op == "tan":
        def f(x, a):
            return math.tan(x) if abs(x) < inf else nan
    elif op == "asin":
        def f(x, a):
            return math.asin(x) if abs(x) <= one else nan
    elif op == "acos":
        def f(x, a):
            return math.acos(x) if abs(x) <= one else nan
    elif op == "atan":
        def f(x, a):
            return math.atan(x)
    elif op == "sinh":
        def f(x, a):
            if abs(x) > sinh_max:
                return inf if x > zero else -inf
            return math.sinh(x)
    elif op == "cosh":
        def f(x, a):
            return inf if abs(x) > sinh_max else math.cosh(x)
    elif op == "asinh":
        def f(x, a):
            return math.asinh(x)
    elif op == "acosh":
        def f(x, a):
            return math.acosh(x) if x >= one else nan
    elif op == "atanh":
        def f(x, a):
            if abs(x) < one:
                return math.atanh(x)
            if abs(x) == one:
                return x * inf  # +-inf with x's sign
            return nan
    elif op == "exp2":
        def f(x, a):
            return inf if x >= exp2_max else math.pow(two, x)
    elif op == "log2":
        def f(x, a):
            return math.log2(x) if x > zero else (-inf if x == zero else nan)
    elif op == "log10":
        def f(x, a):
            return math.log10(x) if x > zero else (-inf if x == zero else nan)
    elif op == "log1p":
        def f(x, a):
            return math.log1p(x) if x > -one else (-inf if x == -one else nan)
    elif op == "expm1":
        def f(x, a):
            return inf if x > e_max else math.expm1(x)
    elif op == "erf":
        def f(x, a):
            return math.erf(x)
    elif op == "trunc":
        def f(x, a):
            return truncate(x)
    elif op == "floor":
        def f(x, a):
            r = truncate(x)
            return r - one if r > x else r
    elif op == "ceil":
        def f(x, a):
            r = truncate(x)
            return r + one if r < x else r
    elif op == "round":
        def f(x, a):
            # to the nearest integer, halves to the even one (C's rint, torch.round)
            if not abs(x) < whole:
                return x
            r = truncate(x)
            r = r - one if r > x else r  # floor
            d = x - r  # in [0, 1), exact
            if d > half or (d == half and int(r) % 2 != 0):
                r = r + one
            return x * zero if r == zero else r  # -0.4 rounds to -0
    else:
        raise KeyError(op)
    return f


def _binary_function(op: str, dtype: np.dtype):
    """The device function z = a op b, with PyTorch's NaN rules for maximum/minimum."""
    if op == "add":
        def f(a, b):
            return a + b
    elif op == "sub":
        def f(a, b):
            return a - b
    elif op == "mul":
        def f(a, b):
            return a * b
    elif op == "div":
        def f(a, b):
            return a / b  # IEEE: x/0 is ±inf, 0/0 is NaN (numba's CUDA target does not raise)
    elif op == "maximum":
        def f(a, b):
            return a if (a > b or a != a) else b  # NaN wins, as PyTorch
    elif op == "minimum":
        def f(a, b):
            return a if (a < b or a != a) else b
    elif op == "pow":
        def f(a, b):
            return math.pow(a, b)
    else:
        raise KeyError(op)
    return cuda.jit(device=True, inline=True)(f)


def _compare_function(op: str):
    if op == "lt":
        def f(a, b):
            return a < b
    elif op == "le":
        def f(a, b):
            return a <= b
    elif op == "gt":
        def f(a, b):
            return a > b
    elif op == "ge":
        def f(a, b):
            return a >= b
    elif op == "eq":
        def f(a, b):
            return a == b
    elif op == "ne":
        def f(a, b):
            return a != b
    else:
        raise KeyError(op)
    return cuda.jit(device=True, inline=True)(f)


# ---- kernels, built once per (op, dtype) and cached ---------------------------------------------


@cache
def _unary_kernel(op: str, dtype: np.dtype):
    f = _unary_function(op, dtype)

    @cuda.jit
    def kernel(xb, xo, xs, shape, out, alpha):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = f(xb[offset_of(i, shape, xs, xo)], alpha)

    return kernel


@cache
def _binary_kernel(op: str, dtype: np.dtype, kinds: str, compare: bool):
    """``kinds`` is "vv", "vs" or "sv": which operands are views (v) or one number (s)."""
    f = _compare_function(op) if compare else _binary_function(op, dtype)
    if kinds == "vv":
        @cuda.jit
        def kernel(ab, ao, asd, bb, bo, bsd, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                out[i] = f(ab[offset_of(i, shape, asd, ao)], bb[offset_of(i, shape, bsd, bo)])
    elif kinds == "vs":
        @cuda.jit
        def kernel(ab, ao, asd, b, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                out[i] = f(ab[offset_of(i, shape, asd, ao)], b)
    else:
        @cuda.jit
        def kernel(a, bb, bo, bsd, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                out[i] = f(a, bb[offset_of(i, shape, bsd, bo)])
    return kernel


@cache
def _where_kernel(kinds: str):
    """``kinds``: for a and b, "v" (a view) or "s" (one number)."""
    if kinds == "vv":
        @cuda.jit
        def kernel(cb, co, cs, ab, ao, asd, bb, bo, bsd, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                x = ab[offset_of(i, shape, asd, ao)]  # both sides loaded: a select, not a branch
                y = bb[offset_of(i, shape, bsd, bo)]
                out[i] = x if cb[offset_of(i, shape, cs, co)] else y
    elif kinds == "vs":
        @cuda.jit
        def kernel(cb, co, cs, ab, ao, asd, y, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                x = ab[offset_of(i, shape, asd, ao)]
                out[i] = x if cb[offset_of(i, shape, cs, co)] else y
    elif kinds == "sv":
        @cuda.jit
        def kernel(cb, co, cs, x, bb, bo, bsd, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                y = bb[offset_of(i, shape, bsd, bo)]
                out[i] = x if cb[offset_of(i, shape, cs, co)] else y
    else:
        @cuda.jit
        def kernel(cb, co, cs, x, y, shape, out):
            i = cuda.grid(1)
            if i < out.size:
                out[i] = x if cb[offset_of(i, shape, cs, co)] else y
    return kernel


@cuda.jit
def _copy_kernel(xb, xo, xs, shape, out):
    """out[i] = x at flat position i (a compact copy; a cast when out's dtype differs)."""
    i = cuda.grid(1)
    if i < out.size:
        out[i] = xb[offset_of(i, shape, xs, xo)]


@cuda.jit
def _assign_kernel(db, do, ds, shape, sb, so, ss, n):
    """dst[i] = src[i] over a strided destination (setitem, in-place updates)."""
    i = cuda.grid(1)
    if i < n:
        db[offset_of(i, shape, ds, do)] = sb[offset_of(i, shape, ss, so)]


@cuda.jit
def _fill_kernel(db, do, ds, shape, value, n):
    i = cuda.grid(1)
    if i < n:
        db[offset_of(i, shape, ds, do)] = value


# ---- what the backend calls -------------------------------------------------------------------------


def _pad(shape: tuple, *operands):
    """A 0-d shape as (1,) and 0-d views with stride 0: kernels index shapes with at least one
    axis (numba can't compile offset_of over an empty tuple)."""
    if shape:
        return (shape, *operands)
    return ((1,), *((o[0], o[1], (0,)) if isinstance(o, tuple) else o for o in operands))


def _cast(value, dtype: np.dtype):
    """A number as ``dtype``'s scalar type, so the kernel is typed (and compiled) for that dtype."""
    return np.asarray(value).astype(dtype)[()] if dtype.kind != "b" else bool(value)


def unary(op: str, x: tuple, shape: tuple, out, alpha: float = 0.0) -> None:
    """out = f(x) for view ``x = (buffer, offset, strides)`` of ``shape``; ``out`` is compact."""
    if out.size == 0:
        return
    shape, x = _pad(shape, x)
    blocks, threads = grid(out.size)
    _unary_kernel(op, out.dtype)[blocks, threads](*x, shape, out, _cast(alpha, out.dtype))


def binary(op: str, a, b, shape: tuple, out, compare: bool = False) -> None:
    """out = a op b (or the comparison) over ``shape``; each operand a view tuple or a number."""
    if out.size == 0:
        return
    shape, a, b = _pad(shape, a, b)
    blocks, threads = grid(out.size)
    a_view, b_view = isinstance(a, tuple), isinstance(b, tuple)
    dtype = (a[0] if a_view else b[0]).dtype
    if a_view and b_view:
        _binary_kernel(op, dtype, "vv", compare)[blocks, threads](*a, *b, shape, out)
    elif a_view:
        _binary_kernel(op, dtype, "vs", compare)[blocks, threads](*a, _cast(b, dtype), shape, out)
    else:
        _binary_kernel(op, dtype, "sv", compare)[blocks, threads](_cast(a, dtype), *b, shape, out)


def where(cond: tuple, a, b, shape: tuple, out) -> None:
    """out = a where cond else b; cond is a bool view, a and b views or numbers."""
    if out.size == 0:
        return
    shape, cond, a, b = _pad(shape, cond, a, b)
    blocks, threads = grid(out.size)
    a_view, b_view = isinstance(a, tuple), isinstance(b, tuple)
    kinds = ("v" if a_view else "s") + ("v" if b_view else "s")
    args = [*cond]
    args += list(a) if a_view else [_cast(a, out.dtype)]
    args += list(b) if b_view else [_cast(b, out.dtype)]
    _where_kernel(kinds)[blocks, threads](*args, shape, out)


def copy(x: tuple, shape: tuple, out) -> None:
    """out = the view x, compact (and cast to out's dtype)."""
    if out.size == 0:
        return
    shape, x = _pad(shape, x)
    blocks, threads = grid(out.size)
    _copy_kernel[blocks, threads](*x, shape, out)


def assign(dst: tuple, src: tuple, shape: tuple) -> None:
    """dst = src elementwise over ``shape``; both views (src broadcast by its strides)."""
    n = 1
    for s in shape:
        n *= s
    if n == 0:
        return
    shape, dst, src = _pad(shape, dst, src)
    blocks, threads = grid(n)
    _assign_kernel[blocks, threads](*dst, shape, *src, n)


def fill(dst: tuple, shape: tuple, value) -> None:
    """Every element of the view dst set to ``value``."""
    n = 1
    for s in shape:
        n *= s
    if n == 0:
        return
    shape, dst = _pad(shape, dst)
    blocks, threads = grid(n)
    _fill_kernel[blocks, threads](*dst, shape, _cast(value, dst[0].dtype), n)
