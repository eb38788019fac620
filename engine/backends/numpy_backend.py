"""The ``numpy`` device: every primitive of the backend contract written with numpy.

This is the reference: other devices are tested against it. A backend never knows about
gradients; it runs primitives on arrays. Arrays here are ``numpy.ndarray``; the ``c``
device reuses this class for storage and allocation and overrides the computations.

Elementwise op names (``UNARY``/``BINARY``/``COMPARE``) are shared by every backend.
"""

from __future__ import annotations

import numpy as np

UNARY = ("neg", "exp", "log", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "pow", "abs")
BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow")
COMPARE = ("lt", "le", "gt", "ge", "eq", "ne")
ACTIVATIONS = (None, "relu", "sigmoid", "tanh")

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


def _sign(x: np.ndarray) -> np.ndarray:
    """sign(x) in x's dtype: 1, -1, or 0 at 0 and at NaN (PyTorch's abs backward gives 0 there)."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _relu_grad(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g where x > 0 or x is NaN, else 0 (PyTorch's relu backward tests x <= 0, so NaN passes g).
    A multiply by the 0/1 mask is several times faster than np.where on random signs; np.where
    is kept for the rare non-finite g (inf * 0 = nan)."""
    passes = ~(x <= 0)
    out = np.multiply(g, passes)
    if not np.isfinite(out).all():
        return np.where(passes, g, g.dtype.type(0))
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


class NumpyBackend:
    """The reference implementation of the primitive set (DESIGN.md, "the contract")."""

    name = "numpy"

    # ---- allocation and transfer ---------------------------------------------------------
    def from_numpy(self, array: np.ndarray) -> np.ndarray:
        return array

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        return x

    def empty(self, shape: tuple, dtype: np.dtype) -> np.ndarray:
        return np.empty(shape, dtype)

    def zeros(self, shape: tuple, dtype: np.dtype) -> np.ndarray:
        return np.zeros(shape, dtype)

    def full(self, shape: tuple, value: float, dtype: np.dtype) -> np.ndarray:
        out = np.empty(shape, dtype)  # np.full's Python wrapper costs more than this for small arrays
        out.fill(value)
        return out

    def contiguous(self, x: np.ndarray) -> np.ndarray:
        """A C-contiguous copy (or ``x`` itself when it already is)."""
        # np.ascontiguousarray would turn a 0-d array into shape (1,); 0-d arrays are always contiguous.
        return x if x.flags.c_contiguous else np.ascontiguousarray(x)

    def copy(self, x: np.ndarray) -> np.ndarray:
        return np.array(x, copy=True, order="C")

    def astype(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)

    # ---- elementwise ---------------------------------------------------------------------
    def unary(self, op: str, x: np.ndarray, alpha: float = 0.0) -> np.ndarray:
        """y = f(x). ``alpha`` is the slope of leaky_relu, elu's alpha, or pow's exponent."""
        if op == "neg":
            return np.negative(x)
        if op == "exp":
            return np.exp(x)
        if op == "log":
            return np.log(x)
        if op == "sigmoid":
            return _sigmoid(x)
        if op == "tanh":
            return np.tanh(x)
        if op == "relu":  # np.maximum propagates NaN and returns its 2nd operand on ties (-0), as PyTorch
            return np.maximum(x.dtype.type(0), x)
        if op == "leaky_relu":
            return np.where(x > 0, x, x * x.dtype.type(alpha))
        if op == "elu":
            return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x.dtype.type(0), x)))  # keeps -0
        if op == "pow":
            return _power(x, alpha)
        if op == "abs":
            return np.abs(x)
        raise KeyError(op)

    def unary_backward(self, op: str, x: np.ndarray, y: np.ndarray, gy: np.ndarray, alpha: float = 0.0):
        """gx = gy * f'(x), with f' written from x or from y = f(x)."""
        t = x.dtype.type
        if op == "neg":
            return -gy
        if op == "exp":  # d/dx e^x = e^x = y
            return gy * y
        if op == "log":  # d/dx ln x = 1/x
            return gy / x
        if op == "sigmoid":  # d/dx s = s (1 - s)
            return gy * y * (1 - y)
        if op == "tanh":  # d/dx tanh = 1 - tanh^2
            return gy * (1 - y * y)
        if op == "relu":  # 1 for x > 0 (and NaN, as PyTorch), else 0
            return _relu_grad(x, gy)
        if op == "leaky_relu":  # 1 for x > 0, else alpha
            return np.where(x > 0, gy, gy * t(alpha))
        if op == "elu":  # alpha e^x for x <= 0 (from x: y + alpha cancels to 0 far left), else 1 (NaN too)
            return np.where(x <= 0, gy * (t(alpha) * np.exp(np.minimum(x, t(0)))), gy)
        if op == "pow":  # d/dx x^a = a x^(a-1); 0 when a = 0 (even at x = 0)
            if alpha == 0:
                return gy * t(0)
            return gy * (t(alpha) * _power(x, alpha - 1))
        if op == "abs":  # sign(x), 0 at 0
            return gy * _sign(x)
        raise KeyError(op)

    def binary(self, op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Elementwise ``a op b`` with numpy broadcasting; a and b share one dtype."""
        if op == "pow":
            return _power_elementwise(a, b)
        return _BINARY_UFUNC[op](a, b)

    def compare(self, op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Elementwise comparison with broadcasting; a bool array."""
        return _COMPARE_UFUNC[op](a, b)

    def where(self, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(cond, a, b)

    # ---- reductions ----------------------------------------------------------------------
    def sum(self, x: np.ndarray, axes: tuple | None, keepdim: bool = False) -> np.ndarray:
        """Sum over ``axes`` (None: all); the result keeps x's dtype (bool sums to int64)."""
        dtype = np.int64 if x.dtype == np.bool_ else x.dtype
        return np.asarray(np.sum(x, axis=axes, keepdims=keepdim, dtype=dtype))

    def max(self, x: np.ndarray, axis: int | None, keepdim: bool = False, arg: bool = True):
        """Largest value over one axis (None: all) and, when ``arg``, its first index."""
        values = np.asarray(np.max(x, axis=axis, keepdims=keepdim))
        if not arg:
            return values, None
        index = np.asarray(np.argmax(x, axis=axis, keepdims=keepdim))
        return values, index

    def min(self, x: np.ndarray, axis: int | None, keepdim: bool = False, arg: bool = True):
        values = np.asarray(np.min(x, axis=axis, keepdims=keepdim))
        if not arg:
            return values, None
        return values, np.asarray(np.argmin(x, axis=axis, keepdims=keepdim))

    # ---- matmul --------------------------------------------------------------------------
    def matmul(self, a: np.ndarray, b: np.ndarray, transpose_a: bool = False, transpose_b: bool = False):
        """op(a) @ op(b) over the last two axes, batch axes broadcast; op = transpose when flagged.

        Backward passes the flags instead of materialising a transpose.
        """
        if transpose_a:
            a = np.swapaxes(a, -1, -2)
        if transpose_b:
            b = np.swapaxes(b, -1, -2)
        return np.matmul(a, b)

    # ---- fused paths the MLP needs hot ----------------------------------------------------
    def linear_forward(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, act: str | None):
        """y = act(x @ w^T + bias) for x (M, K), w (N, K), bias (N,)."""
        y = x @ w.T
        if bias is not None:
            y += bias
        if act is not None:
            y = self.unary(act, y)
        return y

    def linear_backward(self, x, w, y, gy, act: str | None, need_x: bool = True, need_bias: bool = True):
        """Gradients of ``y = act(x w^T + b)``: (gx, gw, gb), act' taken from the output y."""
        if act is None:
            g = gy
        elif act == "relu":
            g = _relu_grad(y, gy)
        else:
            g = self.unary_backward(act, y, y, gy)
        gx = g @ w if need_x else None
        gw = g.T @ x
        gb = g.sum(axis=0) if need_bias else None
        return gx, gw, gb

    def softmax(self, x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
        """softmax (or log_softmax) along ``axis``, with the max subtracted for stability."""
        if x.size == 0:
            return np.empty_like(x)  # no rows (or empty rows): nothing to normalise, as in PyTorch
        shifted = x - np.max(x, axis=axis, keepdims=True)
        if log:
            return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        e = np.exp(shifted)
        return e / np.sum(e, axis=axis, keepdims=True)

    def softmax_backward(self, y: np.ndarray, gy: np.ndarray, axis: int, log: bool = False):
        """softmax: gx = y (gy - sum(gy y)); log_softmax: gx = gy - e^y sum(gy)."""
        if log:
            return gy - np.exp(y) * np.sum(gy, axis=axis, keepdims=True)
        return y * (gy - np.sum(gy * y, axis=axis, keepdims=True))

    def cross_entropy(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Per-row loss logsumexp(z) - z[target] for logits (N, C), int targets (N,)."""
        logp = self.softmax(logits, axis=1, log=True)
        return -logp[np.arange(logits.shape[0]), target]

    def cross_entropy_backward(self, logits: np.ndarray, target: np.ndarray, gloss: np.ndarray):
        """d loss_r / d z_rj = gloss_r (softmax(z_r)_j - [j == target_r])."""
        g = self.softmax(logits, axis=1)
        g[np.arange(logits.shape[0]), target] -= 1
        return g * (gloss.reshape(-1, 1) if gloss.ndim else gloss)

    # ---- difference losses (MSE, L1) ------------------------------------------------------
    def difference_items(self, kind: str, diff: np.ndarray) -> np.ndarray:
        """The loss of each difference d: d*d for ``squared`` (MSE), |d| for ``abs`` (L1)."""
        return self.binary("mul", diff, diff) if kind == "squared" else self.unary("abs", diff)

    def difference_loss(self, kind: str, a: np.ndarray, b: np.ndarray, mean: bool):
        """(diff, loss): diff = a - b (broadcast), loss = sum_i item(diff_i), divided by the
        item count when ``mean`` (0/0 = NaN for no items, as PyTorch), as a 0-d array."""
        diff = self.binary("sub", a, b)
        total = self.sum(self.difference_items(kind, diff), None)
        return diff, self.binary("div", total, total.dtype.type(diff.size)) if mean else total

    def difference_loss_backward(self, kind: str, diff: np.ndarray, g: np.ndarray, mean: bool) -> np.ndarray:
        """d loss / d a = scale * slope(d), scale = g / n for a mean, else g; the slope is
        2 d for ``squared`` and sign(d) (0 at 0) for ``abs``. ``g`` is 0-d for a reduced loss,
        or diff's shape for ``reduction="none"``."""
        if kind == "squared":
            slope = self.binary("mul", diff, diff.dtype.type(2))
        else:  # through the primitives, so a subclass's device computes it too
            slope = self.unary_backward("abs", diff, diff, self.full(diff.shape, 1, diff.dtype))
        scale = self.binary("div", g, diff.dtype.type(diff.size)) if mean else g
        return self.binary("mul", scale, slope)

    # ---- optimizer updates, in place ------------------------------------------------------
    def sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first) -> None:
        """PyTorch SGD: d = g + wd p; buf = m buf + (1 - damp) d; d = nesterov ? d + m buf : buf; p -= lr d."""
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
        """PyTorch Adam: m, v moving averages of g and g^2; p -= lr m_hat / (sqrt(v_hat) + eps)."""
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

    # ---- views and indexing ----------------------------------------------------------------
    def reshape(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        return x.reshape(shape)

    def permute(self, x: np.ndarray, axes: tuple) -> np.ndarray:
        """A strided view with the axes reordered (no copy)."""
        return x.transpose(axes)

    def broadcast_to(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        """``x`` repeated to ``shape`` (numpy's rules). Small results are materialised:
        ``np.broadcast_to`` costs more than copying a few thousand numbers."""
        x = np.asarray(x)
        if x.shape == tuple(shape):
            return x
        size = 1
        for n in shape:
            size *= n
        if size > 65536:
            return np.broadcast_to(x, shape)
        out = np.empty(shape, x.dtype)
        np.copyto(out, x)
        return out

    def expand(self, x: np.ndarray, shape: tuple) -> np.ndarray:
        """``x`` broadcast to ``shape`` as a view at every size (stride 0 on the repeated axes),
        so writes through ``x`` show in the result, as in PyTorch. Numpy's broadcast views are
        read-only; this one is writable so that ``fill_``/``zero_`` work, and in-place
        arithmetic on it is refused above (``internal_overlap``)."""
        x = np.asarray(x)
        if x.shape == tuple(shape):
            return x
        view = np.broadcast_to(x, shape)
        return np.lib.stride_tricks.as_strided(x, view.shape, view.strides, writeable=x.flags.writeable)

    def internal_overlap(self, x: np.ndarray) -> bool:
        """Whether two elements of ``x`` are one memory location (an expanded view)."""
        return any(stride == 0 and n > 1 for n, stride in zip(x.shape, x.strides))

    def shares_memory(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether ``a`` is a view into ``b``'s memory (a reshape, permutation, slice or expand)."""
        return a.base is not None and np.may_share_memory(a, b)

    def getitem(self, x: np.ndarray, key) -> np.ndarray:
        """Basic slicing (a view) or integer-array indexing (a copy)."""
        return x[key]

    def index_backward(self, g: np.ndarray, shape: tuple, key) -> np.ndarray:
        """Zeros of ``shape`` with g added at ``key`` (repeated integer indices add up)."""
        out = np.zeros(shape, g.dtype)
        np.add.at(out, key, g)
        return out

    def concatenate(self, arrays: list, axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    def setitem(self, x: np.ndarray, key, value) -> None:
        x[key] = value

    def iadd(self, x: np.ndarray, y: np.ndarray) -> None:
        """x += y in place (gradient accumulation)."""
        np.add(x, y, out=x)

    def imul(self, x: np.ndarray, y) -> None:
        np.multiply(x, y, out=x)

    def fill(self, x: np.ndarray, value) -> None:
        x.fill(value)
