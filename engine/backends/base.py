"""The backend contract: what a device must do so that every op, layer and optimizer runs on it.

A backend holds arrays of its own (numpy arrays, device buffers...) and runs *primitives* on
them. It knows nothing about gradients: every derivative is written once, in ``engine.ops``,
in terms of these primitives. Above this line nobody touches an array's internals; the one
thing read from an array directly is its metadata:

    x.shape (tuple of ints), x.ndim, x.size, x.dtype (a numpy dtype: float32, float64, int64,
    uint8 or bool)

Everything else goes through a backend method. A new device implements the required
primitives below (the abstract methods); the fused *fast paths* at the end have defaults
composed from the primitives, and a backend overrides one only to go faster. A conformance
test (tests/backends/test_conformance.py) runs every primitive and every override on every
backend against the numpy backend.

Conventions that hold for every method:

* Inputs may be any layout the backend made (views included: strided, transposed, expanded
  with stride 0, sliced with negative steps). Outputs are new arrays that own their memory
  unless the method says it returns a *view*, which shares the input's memory. A compiled
  backend makes them compact (C order); the numpy reference may keep an input's memory order,
  as numpy and PyTorch do, so code above this line asks ``is_contiguous`` before assuming.
* ``dtype`` arguments are numpy dtypes. Two array operands of one call share a dtype (the
  tensor layer promotes first); a Python number operand takes the array's dtype.
* Shapes broadcast as in numpy where a method says so. A 0-d array is one element.
* Index keys (``getitem``, ``setitem``, ``index_add``) are tuples of ints, slices, ``None``,
  ``Ellipsis`` and host (numpy) integer or bool arrays, already checked against the shape.
"""

from __future__ import annotations

import abc
from typing import Any

from engine.errors import EngineValueError


def check_sgd_buffer(momentum: float, buf: object) -> None:
    """The one error for an SGD update given momentum but no momentum buffer (a compiled kernel
    would read and write the buffer through a null pointer)."""
    if momentum and buf is None:
        raise EngineValueError(f"sgd update: momentum {momentum} needs a momentum buffer, got None")

Array = Any  # a backend's array type; only .shape/.ndim/.size/.dtype are read above this line

# The elementwise op names every backend understands (the C library takes the matching
# ENG_* codes from its header).
UNARY = (
    "neg", "exp", "log", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "pow", "abs", "sign",
    # elementwise math (issue 11); a backend without code for one computes it some other way (the C
    # library hands these to its numpy reference)
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "exp2", "log2", "log10", "log1p", "expm1", "erf", "floor", "ceil", "round", "trunc",
)
SCANS = ("sum", "prod")
BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "pow")
COMPARE = ("lt", "le", "gt", "ge", "eq", "ne")
ACTIVATIONS = (None, "relu", "sigmoid", "tanh")


class Backend(abc.ABC):
    """A device's primitives. Subclass it, implement the abstract methods, register the class
    in ``engine.backends.REGISTRY``; see docs/ARCHITECTURE.md."""

    name: str = ""

    # ---- storage and transfer ------------------------------------------------------------------
    @abc.abstractmethod
    def from_numpy(self, array) -> Array:
        """A device array with ``array``'s shape, dtype and values, owning its memory (a copy
        unless ``array`` was made for this purpose and nothing else holds it)."""

    @abc.abstractmethod
    def to_numpy(self, x: Array):
        """A numpy array with ``x``'s values (it may share memory on a host backend: read it, don't
        write it)."""

    @abc.abstractmethod
    def full(self, shape: tuple, value: float, dtype) -> Array:
        """A new compact array of ``shape`` filled with ``value`` (cast to ``dtype``)."""

    @abc.abstractmethod
    def copy(self, x: Array) -> Array:
        """A compact copy of ``x`` (any layout in, C order out)."""

    @abc.abstractmethod
    def astype(self, x: Array, dtype) -> Array:
        """``x`` converted to ``dtype``, as a new compact array (float to int truncates toward 0)."""

    # ---- layout: views and what they share ------------------------------------------------------
    @abc.abstractmethod
    def is_contiguous(self, x: Array) -> bool:
        """Whether ``x`` is laid out compactly in C order (a 0-d or 1-element array always is)."""

    @abc.abstractmethod
    def reshape(self, x: Array, shape: tuple) -> Array:
        """``x``'s elements in C order with a new ``shape`` (same size): a view when the layout
        allows it (always for a contiguous ``x``), else a compact copy."""

    @abc.abstractmethod
    def permute(self, x: Array, axes: tuple) -> Array:
        """A view with the axes reordered: ``out.shape[i] == x.shape[axes[i]]``."""

    @abc.abstractmethod
    def expand(self, x: Array, shape: tuple) -> Array:
        """A view of ``x`` broadcast to ``shape`` (numpy's rules; stride 0 on the repeated axes).
        Writes through ``x`` show in it; elements of it may share one memory location."""

    @abc.abstractmethod
    def is_view(self, x: Array) -> bool:
        """Whether ``x`` shares another array's memory (it was made by reshape, permute, expand or
        getitem with a basic key). A view op's output that is a view shares its input's version
        counter; a gradient that is not a view may become ``.grad`` without a copy."""

    @abc.abstractmethod
    def internal_overlap(self, x: Array) -> bool:
        """Whether two elements of ``x`` are one memory location (an expanded view)."""

    # ---- elementwise ----------------------------------------------------------------------------
    @abc.abstractmethod
    def unary(self, op: str, x: Array, alpha: float = 0.0) -> Array:
        """``f(x)`` elementwise for ``op`` in ``UNARY``; ``alpha`` is leaky_relu's slope, elu's alpha
        or pow's exponent. Floating dtypes; neg, relu, abs and sign also take integers.

        neg -x; exp e^x; log ln x; sigmoid 1/(1+e^-x); tanh; relu max(x, 0) keeping -0 and NaN;
        leaky_relu x if x > 0 else alpha x; elu x if x > 0 else alpha (e^x - 1); pow x^alpha
        (alpha 0.5 is sqrt, so (-inf)^0.5 is NaN, as PyTorch); abs |x|; sign -1, 0 or 1 (0 at NaN).

        The math functions take floating dtypes only and answer as C's libm (PyTorch's values at
        NaN, +-inf, +-0 and outside a domain: NaN, never an error): sin cos tan; asin acos (NaN
        outside [-1, 1]) atan; sinh cosh; asinh acosh (NaN below 1) atanh (+-inf at +-1); exp2 2^x;
        log2 log10 (-inf at 0, NaN below); log1p ln(1 + x) (-inf at -1); expm1 e^x - 1; erf
        (2/sqrt(pi)) int_0^x e^(-t^2) dt; floor ceil trunc; round to the nearest integer, halves to
        even (0.5 -> 0, 1.5 -> 2, -0.5 -> -0). The integer-valued ones keep the sign of zero and
        return NaN and +-inf unchanged.
        """

    @abc.abstractmethod
    def binary(self, op: str, a: Array | float, b: Array | float) -> Array:
        """``a op b`` elementwise with broadcasting, for ``op`` in ``BINARY`` (one of a, b may be a
        Python number). Integer division is not asked for (the tensor layer promotes to float)."""

    @abc.abstractmethod
    def compare(self, op: str, a: Array | float, b: Array | float) -> Array:
        """``a op b`` elementwise with broadcasting, for ``op`` in ``COMPARE``: a bool array."""

    @abc.abstractmethod
    def where(self, cond: Array, a: Array | float, b: Array | float) -> Array:
        """``a`` where the bool array ``cond`` is true, else ``b``; the three broadcast."""

    # ---- reductions -----------------------------------------------------------------------------
    @abc.abstractmethod
    def sum(self, x: Array, axes: tuple | None, keepdim: bool = False) -> Array:
        """Sum over ``axes`` (None: all) in ``x``'s dtype; an empty sum is 0, a sum of -0s is +0."""

    @abc.abstractmethod
    def max(self, x: Array, axis: int | None, keepdim: bool = False, arg: bool = True):
        """(values, indices): the largest element over one axis (None: all elements, keepdim then
        keeps every axis as 1) and, when ``arg``, the int64 index of its first occurrence along
        ``axis`` (else None). NaN is the largest (the first NaN wins). The reduced axis is not empty."""

    @abc.abstractmethod
    def min(self, x: Array, axis: int | None, keepdim: bool = False, arg: bool = True):
        """As ``max``, for the smallest element (NaN still wins)."""

    @abc.abstractmethod
    def scan(self, op: str, x: Array, axis: int) -> Array:
        """The inclusive running sum (``op`` "sum") or product ("prod") of ``x`` along ``axis``, in
        ``x``'s dtype (int64 and floats; the tensor layer casts bools and uint8 to int64 first):
        ``out[..., j, ...] = x[..., 0, ...] op ... op x[..., j, ...]``, compact, of ``x``'s shape.
        A 0-d ``x`` is one element (its own scan). float32 is accumulated in float64 and each
        result rounded once (as PyTorch's CPU kernels), so a long float32 cumsum drifts no more
        than one rounding per element. Backward of cumsum is a scan of the reversed gradient."""

    @abc.abstractmethod
    def sort(self, x: Array, axis: int, descending: bool = False):
        """(values, indices): ``x`` sorted along ``axis`` (compact, ``x``'s dtype) and the int64
        position each value came from (``values = gather(x, axis, indices)``). Stable: equal values
        keep their order (in both directions). NaN counts as larger than every number (last
        ascending, first descending, as PyTorch); -0 and +0 are equal. A 0-d ``x`` is one element."""

    # ---- matmul ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def matmul(self, a: Array, b: Array, transpose_a: bool = False, transpose_b: bool = False) -> Array:
        """``op(a) @ op(b)`` over the last two axes, op = swap of the last two axes when flagged;
        both at least 2-d, batch axes broadcast, any of them may be 0 (a 0 inner size gives zeros).
        Backward passes the flags instead of materialising a transpose."""

    # ---- indexing and data movement --------------------------------------------------------------
    @abc.abstractmethod
    def getitem(self, x: Array, key: tuple) -> Array:
        """``x[key]`` (numpy's rules): a view for basic keys (ints, slices, None, ...), a copy when
        the key holds an index array."""

    @abc.abstractmethod
    def setitem(self, x: Array, key: tuple, value: Array | float) -> None:
        """``x[key] = value`` in place (value broadcast to the selection and cast to x's dtype)."""

    @abc.abstractmethod
    def index_add(self, shape: tuple, key: tuple, g: Array) -> Array:
        """Zeros of ``shape`` (g's dtype) with ``g`` added at ``key``; repeated indices add up. The
        backward of ``x[key]``: ``g`` has the shape ``x[key]`` had."""

    @abc.abstractmethod
    def gather(self, x: Array, axis: int, index: Array) -> Array:
        """``out[p] = x[p with p[axis] replaced by index[p]]`` for an int64 device array ``index``
        with x's ndim and entries in [0, x.shape[axis]) (PyTorch's ``gather``; the tensor layer
        checks the range): picks one entry per row, e.g. each target's logit."""

    @abc.abstractmethod
    def scatter_add(self, shape: tuple, axis: int, index: Array, src: Array) -> Array:
        """Zeros of ``shape`` (src's dtype) with ``src[p]`` added at ``p`` with ``p[axis]`` replaced
        by ``index[p]`` (index and src of one shape, entries in range): the backward of ``gather``,
        and one-hot rows. Repeated indices add up."""

    @abc.abstractmethod
    def concatenate(self, arrays: list, axis: int) -> Array:
        """The arrays (one dtype, equal shapes but along ``axis``) joined along ``axis``."""

    @abc.abstractmethod
    def fill(self, x: Array, value: float) -> None:
        """Set every element of ``x`` to ``value``, in place."""

    # ---- conveniences built on the primitives (not to be overridden) ------------------------------
    def zeros(self, shape: tuple, dtype) -> Array:
        return self.full(shape, 0, dtype)

    def contiguous(self, x: Array) -> Array:
        """``x`` itself when it is compact, else a compact copy."""
        return x if self.is_contiguous(x) else self.copy(x)

    def scalar(self, x: Array) -> float | int | bool:
        """The Python number held by a one-element array (a host round trip on a device)."""
        return self.to_numpy(x).reshape(()).item()

    # ---- fast paths: defaults composed from the primitives; override to go faster -------------------
    # Forward fast paths and optimizer updates have working defaults here. The backward fast paths
    # (linear_backward, softmax_backward, cross_entropy_backward, difference_loss_backward) return
    # NotImplemented here: the op then runs its own backward, written in engine/ops from the
    # primitives, so every derivative formula lives in one place. An override must agree with it
    # (the conformance suite checks).

    def linear_forward(self, x: Array, w: Array, bias: Array | None, act: str | None) -> Array:
        """y = act(x @ w^T + bias) for x (M, K), w (N, K), bias (N,) or None, act in ACTIVATIONS."""
        y = self.matmul(x, w, transpose_b=True)
        if bias is not None:
            y = self.binary("add", y, bias)
        return y if act is None else self.unary(act, y)

    def linear_backward(self, x, w, y, gy, act, need_x: bool = True, need_bias: bool = True):
        """(gx, gw, gb) of ``y = act(x w^T + b)``, or NotImplemented (see above)."""
        return NotImplemented

    def softmax(self, x: Array, axis: int, log: bool = False) -> Array:
        """softmax along ``axis`` (log_softmax when ``log``), the row max subtracted first:
        log_softmax = (x - max) - log sum e^(x - max). A 0-d x is one row of one element."""
        if x.size == 0:
            return self.copy(x)
        peak, _ = self.max(x, axis, keepdim=True, arg=False)
        shifted = self.binary("sub", x, peak)
        e = self.unary("exp", shifted)
        total = self.sum(e, (axis,) if x.ndim else None, keepdim=True)
        if log:
            return self.binary("sub", shifted, self.unary("log", total))
        return self.binary("div", e, total)

    def softmax_backward(self, y, gy, axis: int, log: bool = False):
        """d softmax (or log_softmax) from its output ``y``, or NotImplemented (see above)."""
        return NotImplemented

    def cross_entropy(self, logits: Array, target) -> Array:
        """Per-row loss logsumexp(z_r) - z_r[t_r] for logits (N, C) and int64 targets (N,) in [0, C)."""
        n = logits.shape[0]
        logp = self.softmax(logits, 1, log=True)
        picked = self.gather(logp, 1, self.reshape(target, (n, 1)))
        return self.unary("neg", self.reshape(picked, (n,)))

    def cross_entropy_backward(self, logits, target, gloss):
        """d loss_r / d logits, or NotImplemented (see above)."""
        return NotImplemented

    def difference_loss(self, kind: str, a: Array, b: Array, mean: bool):
        """(diff, loss): diff = a - b (broadcast); loss = sum of item(diff), item(d) = d^2 for kind
        ``squared`` (MSE) or |d| for ``abs`` (L1), divided by the item count when ``mean`` (0/0 is
        NaN for no items, as PyTorch), as a 0-d array."""
        diff = self.binary("sub", a, b)
        items = self.binary("mul", diff, diff) if kind == "squared" else self.unary("abs", diff)
        total = self.sum(items, None)
        return diff, (self.binary("div", total, float(diff.size)) if mean else total)

    def difference_loss_backward(self, kind: str, diff, g, mean: bool):
        """d loss / d a from the saved difference, or NotImplemented (see above)."""
        return NotImplemented

    def sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first) -> None:
        """PyTorch's SGD step, in place on ``p`` (and the momentum buffer ``buf``):
        d = g + wd p; buf = m buf + (1 - dampening) d (buf = d at the first step);
        d = d + m buf (Nesterov) or buf; p = p - lr d.

        ``buf`` is None exactly when momentum is 0; momentum without a buffer is a one-line
        EngineValueError on every backend (:func:`check_sgd_buffer`), never a write through nothing."""
        check_sgd_buffer(momentum, buf)
        d = self.binary("add", g, self.binary("mul", p, weight_decay)) if weight_decay else g
        if momentum:
            if first:
                self.setitem(buf, (Ellipsis,), d)
            else:
                new = self.binary("add", self.binary("mul", buf, momentum), self.binary("mul", d, 1 - dampening))
                self.setitem(buf, (Ellipsis,), new)
            d = self.binary("add", d, self.binary("mul", buf, momentum)) if nesterov else buf
        self.setitem(p, (Ellipsis,), self.binary("sub", p, self.binary("mul", d, lr)))

    def adam_update(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step) -> None:
        """PyTorch's Adam step, in place on ``p``, ``m`` and ``v``: g = g + wd p;
        m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
        p = p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""
        mul, add = (lambda a, b: self.binary("mul", a, b)), (lambda a, b: self.binary("add", a, b))
        if weight_decay:
            g = add(g, mul(p, weight_decay))
        self.setitem(m, (Ellipsis,), add(mul(m, beta1), mul(g, 1 - beta1)))
        self.setitem(v, (Ellipsis,), add(mul(v, beta2), mul(mul(g, g), 1 - beta2)))
        bias1 = 1 - beta1**step
        bias2 = 1 - beta2**step
        denom = add(self.binary("div", self.unary("pow", v, 0.5), bias2**0.5), eps)
        self.setitem(p, (Ellipsis,), self.binary("sub", p, mul(self.binary("div", m, denom), lr / bias1)))


REQUIRED = tuple(sorted(name for name, f in vars(Backend).items() if getattr(f, "__isabstractmethod__", False)))
FAST_PATHS = (
    "linear_forward", "linear_backward", "softmax", "softmax_backward", "cross_entropy",
    "cross_entropy_backward", "difference_loss", "difference_loss_backward", "sgd_update", "adam_update",
)
