"""Elementwise ops with numpy broadcasting, each with its derivative.

Every binary op's gradient goes through :func:`unbroadcast`, the one place where a
gradient flowing into a broadcast input is summed back to that input's shape.
"""

from __future__ import annotations

from engine.autograd.op import Function


def unbroadcast(backend, grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``.

    If ``x`` of shape (3, 1) was broadcast to (2, 3, 4), its gradient is the (2, 3, 4)
    gradient summed over axis 0 (added) and axis 2 (stretched from 1).
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    summed = backend.sum(grad, axes, keepdim=True) if axes else grad
    return backend.reshape(summed, shape)


def _shape(x) -> tuple:
    return getattr(x, "shape", ())


class Add(Function):
    """a + b;  d/da = 1, d/db = 1."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return ctx.backend.binary("add", a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return unbroadcast(ctx.backend, g, sa), unbroadcast(ctx.backend, g, sb)


class Sub(Function):
    """a - b;  d/da = 1, d/db = -1."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return ctx.backend.binary("sub", a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        gb = ctx.backend.unary("neg", g) if ctx.needs_input_grad[1] else None
        return unbroadcast(ctx.backend, g, sa), gb if gb is None else unbroadcast(ctx.backend, gb, sb)


class Mul(Function):
    """a * b;  d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return ctx.backend.binary("mul", a, b)

    @staticmethod
    def backward(ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        ga = unbroadcast(bk, bk.binary("mul", g, b), _shape(a)) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(bk, bk.binary("mul", g, a), _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """a / b;  d/da = 1/b, d/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return ctx.backend.binary("div", a, b)

    @staticmethod
    def backward(ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        g_over_b = bk.binary("div", g, b)
        ga = unbroadcast(bk, g_over_b, _shape(a)) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = bk.unary("neg", bk.binary("div", bk.binary("mul", g_over_b, a), b))
            gb = unbroadcast(bk, gb, _shape(b))
        return ga, gb


class Pow(Function):
    """a ** b elementwise (both tensors);  d/da = b a^(b-1), d/db = a^b ln a."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        out = ctx.backend.binary("pow", a, b)
        ctx.a, ctx.b, ctx.out = a, b, out
        return out

    @staticmethod
    def backward(ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        ga = gb = None
        if ctx.needs_input_grad[0]:
            slope = bk.binary("mul", b, bk.binary("pow", a, bk.binary("sub", b, 1)))
            # b = 0: a^0 is constant, so the slope is 0 even at a = 0 (not 0 * inf = nan).
            slope = bk.where(bk.compare("eq", b, b.dtype.type(0)), bk.binary("mul", g, 0.0), slope)
            ga = unbroadcast(bk, bk.binary("mul", g, slope), _shape(a))
        if ctx.needs_input_grad[1]:
            slope = bk.binary("mul", ctx.out, bk.unary("log", a))
            # At a = 0, b >= 0 the limit of a^b ln a is 0 (PyTorch's value), not 0 * -inf = nan.
            zero, nought = bk.binary("mul", g, 0.0), a.dtype.type(0)
            slope = bk.where(bk.compare("eq", a, nought), bk.where(bk.compare("ge", b, nought), zero, slope), slope)
            gb = unbroadcast(bk, bk.binary("mul", g, slope), _shape(b))
        return ga, gb


class Maximum(Function):
    """max(a, b) elementwise; the gradient goes to the larger input, split evenly on ties.

    As in PyTorch an input gets nothing only where it is strictly the loser, so where either
    is NaN (the result is NaN) both get the whole gradient.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return ctx.backend.binary(ctx.op, a, b)

    op = "maximum"
    loser = "lt"

    @classmethod
    def backward(cls, ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        half = bk.binary("mul", g, 0.5)
        zero = bk.binary("mul", g, 0.0)
        share = bk.where(bk.compare("eq", a, b), half, g)
        ga = bk.where(bk.compare(cls.loser, a, b), zero, share)
        gb = bk.where(bk.compare(cls.loser, b, a), zero, share)
        return unbroadcast(bk, ga, _shape(a)), unbroadcast(bk, gb, _shape(b))


class Minimum(Maximum):
    """min(a, b) elementwise; the gradient goes to the smaller input, split evenly on ties."""

    op = "minimum"
    loser = "gt"


class Where(Function):
    """cond ? a : b;  d/da = cond, d/db = not cond."""

    saved_inputs = (0,)  # backward reads the condition only

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond, ctx.shapes = cond, (_shape(a), _shape(b))
        return ctx.backend.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        zero = bk.binary("mul", g, 0.0)
        ga = unbroadcast(bk, bk.where(ctx.cond, g, zero), ctx.shapes[0])
        gb = unbroadcast(bk, bk.where(ctx.cond, zero, g), ctx.shapes[1])
        return None, ga, gb


class Clamp(Function):
    """min(max(x, lo), hi);  d/dx = 1 where lo <= x <= hi, else 0 (as PyTorch)."""

    saved_inputs = (0,)

    @staticmethod
    def forward(ctx, x, lo, hi):
        bk = ctx.backend
        ctx.x, ctx.lo, ctx.hi = x, lo, hi
        out = x
        if lo is not None:
            out = bk.binary("maximum", out, lo)
        if hi is not None:
            out = bk.binary("minimum", out, hi)
        return out

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        zero = bk.binary("mul", g, 0.0)
        if ctx.lo is not None:
            g = bk.where(bk.compare("ge", ctx.x, ctx.lo), g, zero)
        if ctx.hi is not None:
            g = bk.where(bk.compare("le", ctx.x, ctx.hi), g, zero)
        return g, None, None


class Unary(Function):
    """y = f(x) for the backend's unary ops; the derivative is the backend's ``unary_backward``.

    Subclasses only name the op: see the table below for each derivative.
    """

    op = ""
    saved_inputs = (0,)

    @classmethod
    def forward(cls, ctx, x, alpha=0.0):
        y = ctx.backend.unary(cls.op, x, alpha)
        ctx.x, ctx.y, ctx.alpha = x, y, alpha
        return y

    @classmethod
    def backward(cls, ctx, g):
        return ctx.backend.unary_backward(cls.op, ctx.x, ctx.y, g, ctx.alpha), None


def _unary(name: str, op: str, doc: str, reads: str) -> type:
    """A Unary subclass; ``reads`` says which of x and y its derivative is written from (the
    tensors that must not change in place before backward)."""
    saved = {"": ((), False), "x": ((0,), False), "y": ((), True), "xy": ((0,), True)}[reads]
    return type(name, (Unary,), {"op": op, "__doc__": doc, "saved_inputs": saved[0], "saves_output": saved[1]})


Neg = _unary("Neg", "neg", "-x;  d/dx = -1.", "")
Exp = _unary("Exp", "exp", "e^x;  d/dx e^x = e^x.", "y")
Log = _unary("Log", "log", "ln x;  d/dx ln x = 1/x.", "x")
Sigmoid = _unary("Sigmoid", "sigmoid", "s = 1/(1+e^-x);  d/dx s = s (1 - s).", "y")
Tanh = _unary("Tanh", "tanh", "tanh x;  d/dx tanh = 1 - tanh^2.", "y")
Relu = _unary("Relu", "relu", "max(0, x);  d/dx = 1 for x > 0, else 0.", "x")
LeakyRelu = _unary("LeakyRelu", "leaky_relu", "x or alpha x;  d/dx = 1 for x > 0, else alpha.", "x")
Elu = _unary("Elu", "elu", "x or alpha (e^x - 1);  d/dx = 1 for x > 0, else y + alpha.", "xy")
PowScalar = _unary("PowScalar", "pow", "x^a;  d/dx = a x^(a-1).", "x")
Abs = _unary("Abs", "abs", "|x|;  d/dx = sign(x), 0 at 0.", "x")
