"""The ``numpy`` device: every primitive of the backend contract (``base.Backend``) written with numpy.

This is the reference: other devices are tested against it. Like every backend it knows
nothing about gradients. Storage, views and indexing come from ``host.HostArrays`` (shared
with the ``c`` device); the computations are numpy's ufuncs, made to agree with PyTorch on
special values (signed zeros, NaN, infinities) where numpy's own choice differs.
"""

from __future__ import annotations

import numpy as np

from engine.backends.base import SCANS, Backend, check_sgd_buffer
from engine.backends.host import HostArrays, as_array

_BINARY_UFUNC = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "pow": np.power,
}
_COMPARE_UFUNC = {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), in place on one buffer. e^-x may overflow to inf for x < -88
    (float32), and 1 / (1 + inf) = 0 is then the right answer, so the warning is muted."""
    out = np.negative(x, out=np.empty_like(x))  # out= keeps 0-d results arrays, not numpy scalars
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _power(x: np.ndarray, a: float) -> np.ndarray:
    """x ** a for a scalar a, as PyTorch computes it: 0.5 is sqrt(x) and -0.5 is 1/sqrt(x), so
    (-inf) ** 0.5 and (-inf) ** -0.5 are NaN and (-0) ** -0.5 is -inf (C's pow gives +inf, 0, +inf)."""
    with np.errstate(all="ignore"):  # 0 ** -1 = inf and (-1) ** 0.5 = NaN are answers, not warnings
        if a == -0.5:
            return np.reciprocal(np.sqrt(x))
        return np.power(x, x.dtype.type(a))  # numpy already takes sqrt for 0.5


def _power_elementwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b elementwise with C's pow, as PyTorch's tensor ** tensor. numpy's loop takes sqrt
    when the exponent is one 0.5 repeated, which differs from pow at a = -inf (NaN, pow gives
    +inf) and a = -0 (-0, pow gives +0); those are put right (|a| is pow's answer for both)."""
    with np.errstate(all="ignore"):  # 0 ** -1 = inf and (-8) ** 0.5 = NaN are answers, not warnings
        out = np.power(a, b)
    if out.dtype.kind == "f":
        half = np.equal(b, 0.5)
        if half.any():
            out = np.where(half & ((a == -np.inf) | (a == 0)), np.abs(a), out)
    return out


# The math unary ops that are one numpy ufunc each (numpy's answers at NaN, +-inf, +-0 and outside a domain
# are C's, as PyTorch's). "round" is rint: halves go to the even neighbour, as torch.round.
_MATH_UFUNC = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
    "exp2": np.exp2, "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1,
    "floor": np.floor, "ceil": np.ceil, "round": np.rint, "trunc": np.trunc,
}

# W. J. Cody's rational Chebyshev approximations of erf and erfc ("Rational Chebyshev approximations for
# the error function", Math. Comp. 1969; netlib specfun CALERF), good to about 1e-16 relative in float64.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
          8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
          2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
          3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
          6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
          2.33520497626869185e-3)


def _erfc_tail(y: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """e^(-y^2) num / den with y^2 split as (trunc(16 y) / 16)^2 + rest, so that e^(-y^2) keeps its
    last digits where y^2 is large (Cody's trick)."""
    head = np.trunc(y * 16) / 16
    rest = (y - head) * (y + head)
    return np.exp(-head * head) * np.exp(-rest) * num / den


def _erf(x: np.ndarray) -> np.ndarray:
    """erf(x) = (2/sqrt(pi)) int_0^x e^(-t^2) dt, computed in float64 and rounded to x's dtype.

    numpy has no erf ufunc (scipy's is not a dependency): Cody's three ranges, |x| <= 0.46875
    (erf = x P(x^2)/Q(x^2)), up to 4 (erfc = e^(-x^2) P(|x|)/Q(|x|)) and beyond (erfc from an
    expansion in 1/x^2); erf = 1 - erfc outside the first, with x's sign. NaN stays NaN, erf(+-inf)
    = +-1, erf(-0) = -0.
    """
    v = x.astype(np.float64)
    y = np.abs(v)
    with np.errstate(all="ignore"):
        # |x| <= 0.46875
        sq = y * y
        num, den = _ERF_A[4] * sq, sq
        for a, b in zip(_ERF_A[:3], _ERF_B[:3]):
            num, den = (num + a) * sq, (den + b) * sq
        small = v * (num + _ERF_A[3]) / (den + _ERF_B[3])
        # 0.46875 < |x| <= 4: erfc
        num, den = _ERF_C[8] * y, y
        for c, d in zip(_ERF_C[:7], _ERF_D[:7]):
            num, den = (num + c) * y, (den + d) * y
        middle = _erfc_tail(y, num + _ERF_C[7], den + _ERF_D[7])
        # |x| > 4: erfc = e^(-x^2) (1/sqrt(pi) - R(1/x^2) / x^2) / |x|; it is 0 in float64 beyond 26.543
        inv = 1 / sq
        num, den = _ERF_P[5] * inv, inv
        for p, q in zip(_ERF_P[:4], _ERF_Q[:4]):
            num, den = (num + p) * inv, (den + q) * inv
        tail = (0.56418958354775628695 - inv * (num + _ERF_P[4]) / (den + _ERF_Q[4])) / y
        large = np.where(y >= 26.543, 0.0, _erfc_tail(y, tail, 1.0))
        erfc = np.where(y <= 4, middle, large)
        out = np.where(y <= 0.46875, small, np.copysign((0.5 - erfc) + 0.5, v))
    out = np.where(np.isnan(v), v, out)
    return as_array(out.astype(x.dtype, copy=False))


def _is_zero(x) -> bool:
    """Whether ``x`` is the number 0 (not an array)."""
    return type(x) is not np.ndarray and x == 0


class NumpyBackend(HostArrays, Backend):
    """The reference implementation of the primitives (see ``base.Backend`` for each contract)."""

    name = "numpy"

    def astype(self, x: np.ndarray, dtype) -> np.ndarray:
        return x.astype(dtype)

    # ---- elementwise ---------------------------------------------------------------------
    def unary(self, op: str, x: np.ndarray, alpha: float = 0.0) -> np.ndarray:
        if op == "neg":
            return as_array(np.negative(x))
        if op in ("exp", "log"):
            with np.errstate(all="ignore"):  # exp(1000) = inf and log(0) = -inf are answers, not warnings
                return as_array(np.exp(x) if op == "exp" else np.log(x))
        if op == "sigmoid":
            return _sigmoid(x)
        if op == "tanh":
            return as_array(np.tanh(x))
        if op == "relu":  # np.maximum propagates NaN and returns its 2nd operand on ties (-0), as PyTorch
            return as_array(np.maximum(x.dtype.type(0), x))
        if op == "leaky_relu":
            return as_array(np.where(x > 0, x, x * x.dtype.type(alpha)))
        if op == "elu":  # keeps -0
            return as_array(np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x.dtype.type(0), x))))
        if op == "pow":
            return as_array(_power(x, alpha))
        if op == "abs":
            return as_array(np.abs(x))
        if op == "sign":  # 0 at NaN, as PyTorch's sign
            if x.dtype == np.bool_:
                return x.copy()
            return as_array((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))
        ufunc = _MATH_UFUNC.get(op)
        if ufunc is not None:
            with np.errstate(all="ignore"):  # log2(0) = -inf and asin(2) = NaN are answers, not warnings
                return as_array(ufunc(x))
        if op == "erf":
            return _erf(x)
        raise KeyError(op)

    def binary(self, op: str, a, b) -> np.ndarray:
        if op == "pow":
            return as_array(_power_elementwise(a, b))
        with np.errstate(all="ignore"):  # 1/0 = inf and 0/0 = NaN are IEEE's answers (as PyTorch), not warnings
            out = _BINARY_UFUNC[op](a, b)
        return out if type(out) is np.ndarray else np.asarray(out)  # 0-d results come back as numpy scalars

    def compare(self, op: str, a, b) -> np.ndarray:
        out = _COMPARE_UFUNC[op](a, b)
        return out if type(out) is np.ndarray else np.asarray(out)

    def where(self, cond: np.ndarray, a, b) -> np.ndarray:
        # where(mask, 0, g) is relu's backward. np.where branches on every element (a random
        # mask costs ~4 ns each); g times the 0/1 mask is branch-free and exact for finite g.
        zero_a, zero_b = _is_zero(a), _is_zero(b)
        if zero_a != zero_b:
            values = b if zero_a else a
            if type(values) is np.ndarray and values.dtype.kind == "f" and values.shape == cond.shape:
                keep = np.logical_not(cond) if zero_a else cond
                out = as_array(np.multiply(values, keep))
                if np.isfinite(out).all():
                    np.add(out, 0, out=out)  # x * 0 is -0 for negative x; where gives +0
                    return out
        return as_array(np.where(cond, a, b))

    # ---- reductions ----------------------------------------------------------------------
    def sum(self, x: np.ndarray, axes: tuple | None, keepdim: bool = False) -> np.ndarray:
        dtype = np.int64 if x.dtype == np.bool_ else x.dtype
        out = np.add.reduce(x, axis=axes, dtype=dtype, keepdims=keepdim)  # numpy starts sums at +0
        return out if type(out) is np.ndarray else np.asarray(out)

    def max(self, x: np.ndarray, axis: int | None, keepdim: bool = False, arg: bool = True):
        values = as_array(np.max(x, axis=axis, keepdims=keepdim))
        if not arg:
            return values, None
        return values, as_array(np.argmax(x, axis=axis, keepdims=keepdim))

    def min(self, x: np.ndarray, axis: int | None, keepdim: bool = False, arg: bool = True):
        values = as_array(np.min(x, axis=axis, keepdims=keepdim))
        if not arg:
            return values, None
        return values, as_array(np.argmin(x, axis=axis, keepdims=keepdim))

    def scan(self, op: str, x: np.ndarray, axis: int) -> np.ndarray:
        if op not in SCANS:
            raise KeyError(op)
        if x.ndim == 0:
            return x.copy()
        # float32 accumulates in float64, one rounding per result (PyTorch's CPU kernels do the same)
        accumulate = np.float64 if x.dtype == np.float32 else x.dtype
        with np.errstate(all="ignore"):  # inf - inf and overflow are answers (NaN, inf), not warnings
            out = (np.cumsum if op == "sum" else np.cumprod)(x, axis=axis, dtype=accumulate)
        return np.ascontiguousarray(out, dtype=x.dtype)  # numpy keeps a transposed input's layout: make it C order

    def sort(self, x: np.ndarray, axis: int, descending: bool = False):
        if x.ndim == 0:
            return x.copy(), np.zeros((), np.int64)
        if descending:
            # A stable ascending sort of the reversed row, read backwards, is a stable descending sort:
            # equal values come out in their first order, and NaN (numpy's last) comes first.
            n = x.shape[axis]
            order = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
            index = np.subtract(n - 1, order, dtype=np.int64)
        else:
            index = np.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
        index = np.ascontiguousarray(index)
        return np.ascontiguousarray(np.take_along_axis(x, index, axis)), index

    # ---- matmul --------------------------------------------------------------------------
    def matmul(self, a: np.ndarray, b: np.ndarray, transpose_a: bool = False, transpose_b: bool = False):
        if transpose_a:
            a = np.swapaxes(a, -1, -2)
        if transpose_b:
            b = np.swapaxes(b, -1, -2)
        out = np.matmul(a, b)
        return out if type(out) is np.ndarray else np.asarray(out)

    # ---- fast paths (forward and updates only: derivatives are engine/ops' business) ---------
    def linear_forward(self, x: np.ndarray, w: np.ndarray, bias, act):
        y = x @ w.T
        if bias is not None:
            y += bias
        return y if act is None else self.unary(act, y)

    def sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first) -> None:
        check_sgd_buffer(momentum, buf)
        d = g + weight_decay * p if weight_decay else g
        if momentum:
            if first:
                buf[...] = d
            else:
                buf *= momentum
                buf += (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        if p.dtype == np.float32 and p.size <= 4096:
            # PyTorch's p.add_(d, alpha=-lr) rounds p - lr*d once (a fused multiply-add). The float32 product is
            # exact in float64, so one rounding back to float32 gives torch's bits (the lectures' logs, to the digit).
            # Big tensors skip the float64 round trip: it would cost more than the matmuls around it.
            p[...] = p.astype(np.float64) - np.float64(np.float32(lr)) * d.astype(np.float64)
        else:
            p -= lr * d

    def adam_update(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step) -> None:
        if weight_decay:
            g = g + weight_decay * p
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        bias1 = 1 - beta1**step
        bias2 = 1 - beta2**step
        denom = np.sqrt(v) / np.sqrt(bias2) + eps
        p -= (lr / bias1) * (m / denom)
