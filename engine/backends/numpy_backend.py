"""The ``numpy`` device: every primitive of the backend contract (``base.Backend``) written with numpy.

This is the reference: other devices are tested against it. Like every backend it knows
nothing about gradients. Storage, views and indexing come from ``host.HostArrays`` (shared
with the ``c`` device); the computations are numpy's ufuncs, made to agree with PyTorch on
special values (signed zeros, NaN, infinities) where numpy's own choice differs.
"""

from __future__ import annotations

import numpy as np

from engine.backends.base import Backend
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
    if a == -0.5:
        return np.reciprocal(np.sqrt(x))
    return np.power(x, x.dtype.type(a))  # numpy already takes sqrt for 0.5


def _power_elementwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b elementwise with C's pow, as PyTorch's tensor ** tensor. numpy's loop takes sqrt
    when the exponent is one 0.5 repeated, which differs from pow at a = -inf (NaN, pow gives
    +inf) and a = -0 (-0, pow gives +0); those are put right (|a| is pow's answer for both)."""
    out = np.power(a, b)
    if out.dtype.kind == "f":
        half = np.equal(b, 0.5)
        if half.any():
            out = np.where(half & ((a == -np.inf) | (a == 0)), np.abs(a), out)
    return out


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
        if op == "exp":
            return as_array(np.exp(x))
        if op == "log":
            return as_array(np.log(x))
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
        raise KeyError(op)

    def binary(self, op: str, a, b) -> np.ndarray:
        if op == "pow":
            return as_array(_power_elementwise(a, b))
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
