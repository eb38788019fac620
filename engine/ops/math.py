"""Elementwise math and reductions beyond the basics: sin ... erf, clamping to tensor bounds, atan2,
var/std, norms, prod, cumulative sums and products, logsumexp, amax/amin.

Each op computes its forward from backend primitives and writes its derivative in ``backward``,
as in ``elementwise.py``. The gradients follow PyTorch's formulas (``derivatives.yaml``), including
its choices where the calculus has no single answer: 0 at a zero std or norm, the product of the
others at a zero of ``prod``, an even split between tied maxima of ``amax``. Ops that are
compositions of existing ones (``frac``, ``lerp``, ``square``, sort's values...) are composed in
``engine/core/tensor_math.py`` instead.
"""

from __future__ import annotations

import math

from engine.autograd.op import Op
from engine.ops.elementwise import Unary

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _mul(bk, a, b):
    return bk.binary("mul", a, b)


def _div(bk, a, b):
    return bk.binary("div", a, b)


# ---- elementwise: trigonometric and hyperbolic -----------------------------------------------------


class Sin(Unary):
    """sin x;  d/dx sin = cos."""

    op = "sin"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _mul(bk, g, bk.unary("cos", ctx.x)), None


class Cos(Unary):
    """cos x;  d/dx cos = -sin."""

    op = "cos"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _mul(bk, g, bk.unary("neg", bk.unary("sin", ctx.x))), None


class Tan(Unary):
    """tan x;  d/dx tan = 1 + tan^2 (from the output y, as PyTorch)."""

    op = "tan"
    saved_inputs = ()
    saves_output = True

    @staticmethod
    def backward(ctx, g):
        bk, y = ctx.backend, ctx.y
        return _mul(bk, g, bk.binary("add", _mul(bk, y, y), 1.0)), None


def _rsqrt(bk, v):
    """1 / sqrt(v) (the pow primitive's -0.5 form: +inf at +0, NaN below 0)."""
    return bk.unary("pow", v, -0.5)


class Asin(Unary):
    """asin x on [-1, 1];  d/dx asin = 1 / sqrt(1 - x^2) (inf at +-1, NaN outside, as PyTorch)."""

    op = "asin"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        return _mul(bk, g, _rsqrt(bk, bk.binary("sub", 1.0, _mul(bk, x, x)))), None


class Acos(Unary):
    """acos x on [-1, 1];  d/dx acos = -1 / sqrt(1 - x^2)."""

    op = "acos"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        return bk.unary("neg", _mul(bk, g, _rsqrt(bk, bk.binary("sub", 1.0, _mul(bk, x, x))))), None


class Atan(Unary):
    """atan x;  d/dx atan = 1 / (1 + x^2)."""

    op = "atan"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        return _div(bk, g, bk.binary("add", _mul(bk, x, x), 1.0)), None


class Sinh(Unary):
    """sinh x = (e^x - e^-x) / 2;  d/dx sinh = cosh."""

    op = "sinh"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _mul(bk, g, bk.unary("cosh", ctx.x)), None


class Cosh(Unary):
    """cosh x = (e^x + e^-x) / 2;  d/dx cosh = sinh."""

    op = "cosh"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _mul(bk, g, bk.unary("sinh", ctx.x)), None


class Asinh(Unary):
    """asinh x = ln(x + sqrt(x^2 + 1));  d/dx asinh = 1 / sqrt(x^2 + 1)."""

    op = "asinh"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        return _mul(bk, g, _rsqrt(bk, bk.binary("add", _mul(bk, x, x), 1.0))), None


class Acosh(Unary):
    """acosh x = ln(x + sqrt(x^2 - 1)) for x >= 1;  d/dx acosh = 1 / sqrt(x^2 - 1)."""

    op = "acosh"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        return _mul(bk, g, _rsqrt(bk, bk.binary("sub", _mul(bk, x, x), 1.0))), None


class Atanh(Unary):
    """atanh x = ln((1 + x) / (1 - x)) / 2 on (-1, 1);  d/dx atanh = 1 / (1 - x^2)."""

    op = "atanh"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        return _div(bk, g, bk.binary("sub", 1.0, _mul(bk, x, x))), None


# ---- elementwise: exponentials and logarithms ------------------------------------------------------


class Exp2(Unary):
    """2^x;  d/dx 2^x = 2^x ln 2 = y ln 2."""

    op = "exp2"
    saved_inputs = ()
    saves_output = True

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _mul(bk, g, _mul(bk, ctx.y, LN2)), None


class Log2(Unary):
    """log2 x = ln x / ln 2;  d/dx = 1 / (x ln 2)."""

    op = "log2"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _div(bk, g, _mul(bk, ctx.x, LN2)), None


class Log10(Unary):
    """log10 x = ln x / ln 10;  d/dx = 1 / (x ln 10)."""

    op = "log10"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _div(bk, g, _mul(bk, ctx.x, LN10)), None


class Log1p(Unary):
    """ln(1 + x), exact for tiny x;  d/dx = 1 / (1 + x)."""

    op = "log1p"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _div(bk, g, bk.binary("add", ctx.x, 1.0)), None


class Expm1(Unary):
    """e^x - 1, exact for tiny x;  d/dx = e^x = y + 1."""

    op = "expm1"
    saved_inputs = ()
    saves_output = True

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return _mul(bk, g, bk.binary("add", ctx.y, 1.0)), None


class Erf(Unary):
    """erf x = (2/sqrt(pi)) int_0^x e^(-t^2) dt;  d/dx erf = (2/sqrt(pi)) e^(-x^2)."""

    op = "erf"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        bell = bk.unary("exp", bk.unary("neg", _mul(bk, x, x)))
        return _mul(bk, g, _mul(bk, bell, TWO_OVER_SQRT_PI)), None


# ---- elementwise: steps (zero gradient, as PyTorch) -------------------------------------------------


class Step(Unary):
    """A piecewise-constant function: its derivative is 0 wherever it exists, and PyTorch
    returns 0 at the jumps too (zeros, even where the incoming gradient is inf or NaN)."""

    saved_inputs = ()

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.full(g.shape, 0, g.dtype), None


class Floor(Step):
    """floor x, the largest integer <= x;  d/dx = 0."""

    op = "floor"


class Ceil(Step):
    """ceil x, the smallest integer >= x;  d/dx = 0."""

    op = "ceil"


class Round(Step):
    """x rounded to the nearest integer, halves to even;  d/dx = 0."""

    op = "round"


class Trunc(Step):
    """x rounded toward 0;  d/dx = 0."""

    op = "trunc"


class Sign(Step):
    """-1, 0 or 1;  d/dx = 0."""

    op = "sign"


# ---- binary -----------------------------------------------------------------------------------------


def _signbit(bk, v):
    """Whether v is negative, -0 included (v < 0, or v == 0 and 1/v = -inf); NaN is not."""
    with_zero = bk.compare("lt", bk.binary("div", 1.0, bk.where(bk.compare("eq", v, 0), v, 1.0)), 0)
    return bk.where(bk.compare("eq", v, 0), with_zero, bk.compare("lt", v, 0))


class Atan2(Op):
    """atan2(y, x), the angle of the point (x, y) in (-pi, pi];
    d/dy = x / (x^2 + y^2),  d/dx = -y / (x^2 + y^2)  (NaN at the origin, as PyTorch).

    Forward from atan: atan(y / x), plus pi with y's sign when x is negative (-0 included),
    which also gives C's answers for a zero or infinite x or y; the two cases it can't reach,
    0/0 and inf/inf, are set apart: atan2(+-0, +0) = +-0, atan2(+-0, -0) = +-pi,
    atan2(+-inf, +inf) = +-pi/4, atan2(+-inf, -inf) = +-3pi/4.
    """

    @staticmethod
    def forward(ctx, y, x):
        bk = ctx.backend
        ctx.y, ctx.x = y, x
        left = _signbit(bk, x)
        pi = bk.full((), math.pi, y.dtype)  # arrays, not numbers: where() of two numbers has no dtype
        half_turn = bk.where(_signbit(bk, y), bk.unary("neg", pi), pi)  # pi with y's sign
        # y / x is NaN at 0/0 and inf/inf, which are replaced below: divide by 1 there instead
        # (no NaN made, and no warning on the numpy device).
        both_zero = bk.where(bk.compare("eq", x, 0), bk.compare("eq", y, 0), False)
        ratio = bk.binary("div", y, bk.where(both_zero, 1.0, x))
        angle = bk.unary("atan", ratio)
        angle = bk.where(left, bk.binary("add", angle, half_turn), angle)
        angle = bk.where(both_zero, bk.where(left, half_turn, y), angle)
        x_inf = bk.compare("eq", bk.unary("abs", x), math.inf)
        both_inf = bk.where(x_inf, bk.compare("eq", bk.unary("abs", y), math.inf), False)
        corner = bk.where(left, _mul(bk, half_turn, 0.75), _mul(bk, half_turn, 0.25))  # +-3pi/4 or +-pi/4
        return bk.where(both_inf, corner, angle)

    @staticmethod
    def backward(ctx, g):
        bk, y, x = ctx.backend, ctx.y, ctx.x
        scaled = _div(bk, g, bk.binary("add", _mul(bk, x, x), _mul(bk, y, y)))
        gy = _mul(bk, scaled, x) if ctx.needs_input_grad[0] else None
        gx = bk.unary("neg", _mul(bk, scaled, y)) if ctx.needs_input_grad[1] else None
        return gy, gx


class ClampBounds(Op):
    """min(max(x, lo), hi) with tensor bounds (either may be None); PyTorch's gradients:
    d/dx = 1 where lo <= x <= hi;  d/dlo = 1 where x < lo (and lo < hi when both are given);
    d/dhi = 1 where x > hi, or wherever hi < lo (then the result is hi)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        bk = ctx.backend
        ctx.x, ctx.lo, ctx.hi = x, lo, hi
        out = x
        if lo is not None:
            out = bk.binary("maximum", out, lo)  # NaN in x or a bound gives NaN, as PyTorch
        if hi is not None:
            out = bk.binary("minimum", out, hi)
        return out

    @staticmethod
    def backward(ctx, g):
        bk, x, lo, hi = ctx.backend, ctx.x, ctx.lo, ctx.hi
        gx = glo = ghi = None
        if ctx.needs_input_grad[0]:
            gx = g
            if lo is not None:
                gx = bk.where(bk.compare("ge", x, lo), gx, 0.0)
            if hi is not None:
                gx = bk.where(bk.compare("le", x, hi), gx, 0.0)
        if lo is not None and ctx.needs_input_grad[1]:
            below = bk.compare("lt", x, lo)
            if hi is not None:
                below = bk.where(bk.compare("lt", lo, hi), below, False)
            glo = bk.where(below, g, 0.0)
        if hi is not None and ctx.needs_input_grad[2]:
            above = bk.compare("gt", x, hi)
            if lo is not None:
                above = bk.where(bk.compare("lt", hi, lo), True, above)
            ghi = bk.where(above, g, 0.0)
        return gx, glo, ghi


# ---- reductions -------------------------------------------------------------------------------------


def keep_shape(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with the reduced ``axes`` kept as 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _squeeze(bk, y, shape: tuple, axes: tuple, keepdim: bool):
    """A result computed with the reduced axes kept as 1, reshaped as keepdim asks."""
    if keepdim:
        return y
    return bk.reshape(y, tuple(n for i, n in enumerate(shape) if i not in axes))


def extreme_keep(bk, x, axes: tuple, kind: str):
    """max (or min) over several axes, kept as 1: one axis at a time (max of maxes), NaN winning
    as in the primitive. The axes are not empty."""
    if len(axes) == x.ndim and axes:
        return getattr(bk, kind)(x, None, True, arg=False)[0]
    out = x
    for a in axes:
        out = getattr(bk, kind)(out, a, True, arg=False)[0]
    return out


class Amax(Op):
    """max over any set of axes (no indices);  d/dx_i = 1/k for each of the k elements equal to the
    result, 0 elsewhere (PyTorch's even split; a row whose max is NaN has no element equal to it,
    so its gradient is NaN, as PyTorch's)."""

    kind = "max"
    saved_inputs = (0,)
    saves_output = True

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        bk = ctx.backend
        y = extreme_keep(bk, x, axes, cls.kind)
        ctx.x, ctx.y, ctx.axes = x, y, axes
        return _squeeze(bk, y, x.shape, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        bk, x, y = ctx.backend, ctx.x, ctx.y
        mask = bk.astype(bk.compare("eq", x, y), x.dtype)
        count = bk.sum(mask, ctx.axes, keepdim=True)
        share = _div(bk, bk.reshape(g, y.shape), count)
        return _mul(bk, mask, share), None, None


class Amin(Amax):
    """min over any set of axes; gradient as :class:`Amax`."""

    kind = "min"


class Var(Op):
    """The variance over ``axes``: sum((x - mean)^2) / max(0, n - correction), PyTorch's
    ``correction`` (1: Bessel's unbiased estimate; 0: the population variance);
    d/dx_i = 2 (x_i - mean) / (n - correction)  (the mean's own dependence on x_i cancels, since
    the deviations sum to 0). n - correction <= 0 gives inf or NaN, as PyTorch."""

    root = False  # Std: the square root of the same
    saved_inputs = ()
    saves_output = True

    @classmethod
    def forward(cls, ctx, x, axes, correction, keepdim):
        bk = ctx.backend
        n = _count(x.shape, axes)
        if n:
            mean = _div(bk, bk.sum(x, axes, keepdim=True), float(n))
        else:  # nothing to average: the result is 0 * inf = NaN below, as PyTorch's
            mean = bk.full(keep_shape(x.shape, axes), 0, x.dtype)
        dev = bk.binary("sub", x, mean)
        dof = n - correction
        # 1 / max(0, dof) written as a product: dof <= 0 gives inf, and inf * 0 = NaN, PyTorch's answers
        scale = 1.0 / dof if dof > 0 else math.inf
        var = _mul(bk, bk.sum(_mul(bk, dev, dev), axes, keepdim=True), scale)
        out = bk.unary("pow", var, 0.5) if cls.root else var
        ctx.dev, ctx.dof, ctx.axes, ctx.y = dev, dof, axes, out
        return _squeeze(bk, out, x.shape, axes, keepdim)

    @classmethod
    def backward(cls, ctx, g):
        bk, y = ctx.backend, ctx.y
        g = bk.reshape(g, y.shape)
        if cls.root:
            # d std = d var / (2 std); 0 where std = 0 (a constant row), as PyTorch
            flat = bk.compare("eq", y, 0)
            g = bk.where(flat, 0.0, _div(bk, g, _mul(bk, bk.where(flat, 1.0, y), 2.0)))
        two_over = 2.0 / ctx.dof if ctx.dof != 0 else math.inf
        return _mul(bk, _mul(bk, g, ctx.dev), two_over), None, None, None


class Std(Var):
    """The standard deviation sqrt(var);  d/dx = d var/dx / (2 std), and 0 where std is 0."""

    root = True


class Norm(Op):
    """The vector p-norm over ``axes``: (sum |x|^p)^(1/p); p = inf: max |x|, -inf: min |x|,
    0: the count of nonzeros. PyTorch's gradients (``linalg_vector_norm_backward``):

    p = 2: x / norm;  p = 1: sign(x);  p = +-inf: sign(x) / k on the k elements where |x| is the
    norm;  p = 0: 0;  other p: sign(x) |x|^(p-1) / norm^(p-1)  (and 0 wherever the norm is 0, and
    for p < 1 where x is 0).
    """

    saves_output = True

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        bk = ctx.backend
        ctx.x, ctx.p, ctx.axes = x, p, axes
        if p == 2:
            y = bk.unary("pow", bk.sum(_mul(bk, x, x), axes, keepdim=True), 0.5)
        elif p == 1:
            y = bk.sum(bk.unary("abs", x), axes, keepdim=True)
        elif p == math.inf or p == -math.inf:
            y = extreme_keep(bk, bk.unary("abs", x), axes, "max" if p > 0 else "min")
        elif p == 0:
            y = bk.sum(bk.astype(bk.compare("ne", x, 0), x.dtype), axes, keepdim=True)
        else:
            y = bk.unary("pow", bk.sum(bk.unary("pow", bk.unary("abs", x), p), axes, keepdim=True), 1.0 / p)
        ctx.y = y
        return _squeeze(bk, y, x.shape, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        bk, x, y, p = ctx.backend, ctx.x, ctx.y, ctx.p
        g = bk.reshape(g, y.shape)
        if p == 0:
            return bk.full(x.shape, 0, x.dtype), None, None, None
        if p == 1:
            return _mul(bk, g, bk.unary("sign", x)), None, None, None
        if p == math.inf or p == -math.inf:
            size = bk.unary("abs", x)
            mask = bk.astype(bk.where(bk.compare("eq", size, y), True, bk.compare("ne", size, size)), x.dtype)
            share = _div(bk, g, bk.sum(mask, ctx.axes, keepdim=True))
            return _mul(bk, bk.unary("sign", x), _mul(bk, mask, share)), None, None, None
        zero_norm = bk.compare("eq", y, 0)
        y = bk.where(zero_norm, 1.0, y)  # those get 0 below: divide by 1 there, not by 0
        if p == 2:
            local = _div(bk, x, y)
        else:
            scaled = _mul(bk, bk.unary("sign", x), bk.unary("pow", bk.unary("abs", x), p - 1))
            if p < 1:  # |x|^(p-1) is inf at x = 0, where PyTorch takes 0
                scaled = bk.where(bk.compare("eq", x, 0), 0.0, scaled)
            local = _div(bk, scaled, bk.unary("pow", y, p - 1))
        return bk.where(zero_norm, 0.0, _mul(bk, g, local)), None, None, None


def _last_along(bk, s, axis: int):
    """The last entry of ``s`` along ``axis``, kept as a size-1 axis (a compact copy)."""
    n = s.shape[axis]
    key = (slice(None),) * axis + (slice(n - 1, n),)
    return bk.copy(bk.getitem(s, key))


def product_keep(bk, x, axis: int):
    """The product along ``axis`` kept as 1: the last entry of the running product (1 when the axis
    is empty)."""
    if x.shape[axis] == 0:
        return bk.full(keep_shape(x.shape, (axis,)), 1, x.dtype)
    return _last_along(bk, bk.scan("prod", x, axis), axis)


class Prod(Op):
    """The product along ``axis`` (all elements when the caller flattened first);
    d/dx_i = prod of the other elements, which PyTorch (and this op) compute by cases on the
    number of zeros in the row, so a zero never divides: none, y / x_i; exactly one, the product
    of the others at the zero and 0 elsewhere; two or more, 0."""

    saved_inputs = (0,)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        bk = ctx.backend
        ctx.x, ctx.axis = x, axis
        y = product_keep(bk, x, axis)
        return _squeeze(bk, y, x.shape, (axis,), keepdim)

    @staticmethod
    def backward(ctx, g):
        bk, x, axis = ctx.backend, ctx.x, ctx.axis
        zero = bk.compare("eq", x, 0)
        zeros = bk.sum(bk.astype(zero, x.dtype), (axis,), keepdim=True)
        safe = bk.where(zero, 1.0, x)
        others = product_keep(bk, safe, axis)  # the product of the nonzero elements
        none = _div(bk, others, safe)  # every element's "others" when the row has no zero
        only_zero = bk.where(bk.compare("eq", zeros, 1), zero, False)
        local = bk.where(bk.compare("eq", zeros, 0), none, bk.where(only_zero, others, 0.0))
        g = bk.reshape(g, keep_shape(x.shape, (axis,)))
        return _mul(bk, g, local), None, None


def _flip(bk, x, axis: int):
    """``x`` reversed along ``axis`` (a view)."""
    return bk.getitem(x, (slice(None),) * axis + (slice(None, None, -1),))


def reverse_cumsum(bk, x, axis: int):
    """out_j = x_j + x_(j+1) + ... + x_(n-1): the scan of the reversed array, reversed back."""
    return _flip(bk, bk.scan("sum", _flip(bk, x, axis), axis), axis)


class Cumsum(Op):
    """y_j = x_0 + ... + x_j along ``axis``;  d/dx_k = sum over j >= k of g_j (a reversed cumsum)."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return ctx.backend.scan("sum", x, axis)

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g, None
        return reverse_cumsum(ctx.backend, g, ctx.axis), None


class Cumprod(Op):
    """y_j = x_0 x_1 ... x_j along ``axis``;  d/dx_k = sum over j >= k of g_j prod_(i<=j, i!=k) x_i.

    Before the row's first zero that is (reversed cumsum of g y)_k / x_k; at the first zero z
    it is the reversed cumsum of g y' with y' the running product of x with x_z set to 1; after
    it, 0 (every product holds x_z = 0). The same cases as PyTorch's, without dividing by 0.
    """

    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        y = ctx.backend.scan("prod", x, axis)
        ctx.x, ctx.y, ctx.axis = x, y, axis
        return y

    @staticmethod
    def backward(ctx, g):
        bk, x, y, axis = ctx.backend, ctx.x, ctx.y, ctx.axis
        if x.ndim == 0:
            return g, None
        zero = bk.compare("eq", x, 0)
        # zeros at or before each position (in x's dtype: only the counts 0 and 1 matter, and they are exact)
        seen = bk.scan("sum", bk.astype(zero, x.dtype), axis)
        before = bk.compare("eq", seen, 0)
        first = bk.where(zero, bk.compare("eq", seen, 1), False)
        early = _div(bk, reverse_cumsum(bk, _mul(bk, g, y), axis), bk.where(before, x, 1.0))
        y_skip = bk.scan("prod", bk.where(first, 1.0, x), axis)
        at_first = reverse_cumsum(bk, _mul(bk, g, y_skip), axis)
        return bk.where(before, early, bk.where(first, at_first, 0.0)), None


class Logsumexp(Op):
    """log sum_i e^(x_i) over ``axes``, computed as m + log sum e^(x_i - m) with m the max (taken
    as 0 when it is +-inf, as PyTorch, so an all -inf row gives -inf, not NaN);
    d/dx_i = e^(x_i - y): the softmax over the same axes. An empty reduction is -inf."""

    saved_inputs = (0,)
    saves_output = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        bk = ctx.backend
        kept = keep_shape(x.shape, axes)
        if _count(x.shape, axes) == 0:
            y = bk.full(kept, -math.inf, x.dtype)
        else:
            m = extreme_keep(bk, x, axes, "max")
            m = bk.where(bk.compare("eq", bk.unary("abs", m), math.inf), 0.0, m)
            total = bk.sum(bk.unary("exp", bk.binary("sub", x, m)), axes, keepdim=True)
            y = bk.binary("add", bk.unary("log", total), m)
        ctx.x, ctx.y = x, y
        return _squeeze(bk, y, x.shape, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        bk, x, y = ctx.backend, ctx.x, ctx.y
        g = bk.reshape(g, y.shape)
        return _mul(bk, g, bk.unary("exp", bk.binary("sub", x, y))), None, None
