"""Elementwise ops, each with its derivative written from the backend's forward primitives.

A binary op's gradient is returned in the broadcast shape it was computed in; the backward
driver (``engine.autograd.backward.fit_to_shape``) sums it back to each input's shape.
"""

from __future__ import annotations

import numbers

from engine.autograd.op import Op

# ---- binary ---------------------------------------------------------------------------------------


class Add(Op):
    """a + b;  d/da = 1, d/db = 1."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.binary("add", a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Op):
    """a - b;  d/da = 1, d/db = -1."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, a, b):
        return ctx.backend.binary("sub", a, b)

    @staticmethod
    def backward(ctx, g):
        return g, ctx.backend.unary("neg", g) if ctx.needs_input_grad[1] else None


class Mul(Op):
    """a * b;  d/da = b, d/db = a."""

    read_when = ((1,), (0,))  # a is read only for db, b only for da

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return ctx.backend.binary("mul", a, b)

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        ga = bk.binary("mul", g, ctx.b) if ctx.needs_input_grad[0] else None
        gb = bk.binary("mul", g, ctx.a) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Op):
    """a / b;  d/da = 1/b, d/db = -a/b^2 = -(a/b)/b (no b^2 to overflow)."""

    read_when = ((1,), (0, 1))  # a only for db; b for both

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return ctx.backend.binary("div", a, b)

    @staticmethod
    def backward(ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        g_over_b = bk.binary("div", g, b)
        ga = g_over_b if ctx.needs_input_grad[0] else None
        gb = bk.unary("neg", bk.binary("div", bk.binary("mul", g_over_b, a), b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Op):
    """a ** b elementwise (both tensors);  d/da = b a^(b-1), d/db = a^b ln a."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        bk = ctx.backend
        if isinstance(a, numbers.Number):  # a number base (2 ** t): backward needs log(a) as an array
            a = bk.full((), a, b.dtype)
        out = bk.binary("pow", a, b)
        ctx.a, ctx.b, ctx.out = a, b, out
        return out

    @staticmethod
    def backward(ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        ga = gb = None
        if ctx.needs_input_grad[0]:
            slope = bk.binary("mul", b, bk.binary("pow", a, bk.binary("sub", b, 1)))
            # b = 0: a^0 is constant, so the slope is 0 even at a = 0 (not 0 * inf = nan).
            slope = bk.where(bk.compare("eq", b, 0), 0.0, slope)
            ga = bk.binary("mul", g, slope)
        if ctx.needs_input_grad[1]:
            slope = bk.binary("mul", ctx.out, bk.unary("log", a))
            # At a = 0, b >= 0 the limit of a^b ln a is 0 (PyTorch's value), not 0 * -inf = nan.
            at_zero = bk.where(bk.compare("ge", b, 0), 0.0, slope)
            slope = bk.where(bk.compare("eq", a, 0), at_zero, slope)
            gb = bk.binary("mul", g, slope)
        return ga, gb


class Maximum(Op):
    """max(a, b) elementwise; the gradient goes to the larger input, split evenly on ties.

    As in PyTorch an input gets nothing only where it is strictly the loser, so where either
    is NaN (the result is NaN) both get the whole gradient.
    """

    op = "maximum"
    loser = "lt"

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.a, ctx.b = a, b
        return ctx.backend.binary(cls.op, a, b)

    @classmethod
    def backward(cls, ctx, g):
        bk, a, b = ctx.backend, ctx.a, ctx.b
        share = bk.where(bk.compare("eq", a, b), bk.binary("mul", g, 0.5), g)
        ga = bk.where(bk.compare(cls.loser, a, b), 0.0, share)
        gb = bk.where(bk.compare(cls.loser, b, a), 0.0, share)
        return ga, gb


class Minimum(Maximum):
    """min(a, b) elementwise; the gradient goes to the smaller input, split evenly on ties."""

    op = "minimum"
    loser = "gt"


class Where(Op):
    """cond ? a : b;  d/da = cond, d/db = not cond."""

    saved_inputs = (0,)  # backward reads the condition only

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return ctx.backend.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        ga = bk.where(ctx.cond, g, 0.0) if ctx.needs_input_grad[1] else None
        gb = bk.where(ctx.cond, 0.0, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Clamp(Op):
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
        if ctx.lo is not None:
            g = bk.where(bk.compare("ge", ctx.x, ctx.lo), g, 0.0)
        if ctx.hi is not None:
            g = bk.where(bk.compare("le", ctx.x, ctx.hi), g, 0.0)
        return g, None, None


# ---- unary ----------------------------------------------------------------------------------------


class Unary(Op):
    """y = f(x) for one of the backend's unary primitives (``op``); ``alpha`` is the op's
    parameter (a slope, elu's alpha, an exponent). Each subclass writes its derivative."""

    op = ""
    saved_inputs = (0,)

    @classmethod
    def forward(cls, ctx, x, alpha=0.0):
        y = ctx.backend.unary(cls.op, x, alpha)
        ctx.x, ctx.y, ctx.alpha = x, y, alpha
        return y


def activation_grad(bk, act: str | None, y, g):
    """g * act'(pre) for the activations fused into Linear, written from the output y = act(pre):
    relu' = [y > 0] (NaN passes g, as PyTorch), sigmoid' = y (1 - y), tanh' = 1 - y^2."""
    if act is None:
        return g
    if act == "relu":
        return bk.where(bk.compare("le", y, 0), 0.0, g)
    if act == "sigmoid":
        return bk.binary("mul", g, bk.binary("mul", y, bk.binary("sub", 1.0, y)))
    if act == "tanh":
        return bk.binary("mul", g, bk.binary("sub", 1.0, bk.binary("mul", y, y)))
    raise KeyError(act)


class Neg(Unary):
    """-x;  d/dx = -1."""

    op = "neg"
    saved_inputs = ()

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.unary("neg", g), None


class Exp(Unary):
    """e^x;  d/dx e^x = e^x = y."""

    op = "exp"
    saved_inputs = ()
    saves_output = True

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.binary("mul", g, ctx.y), None


class Log(Unary):
    """ln x;  d/dx ln x = 1/x."""

    op = "log"

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.binary("div", g, ctx.x), None


class Sigmoid(Unary):
    """s = 1/(1+e^-x);  d/dx s = s (1 - s)."""

    op = "sigmoid"
    saved_inputs = ()
    saves_output = True

    @staticmethod
    def backward(ctx, g):
        return activation_grad(ctx.backend, "sigmoid", ctx.y, g), None


class Tanh(Unary):
    """tanh x;  d/dx tanh = 1 - tanh^2."""

    op = "tanh"
    saved_inputs = ()
    saves_output = True

    @staticmethod
    def backward(ctx, g):
        return activation_grad(ctx.backend, "tanh", ctx.y, g), None


class Relu(Unary):
    """max(0, x);  d/dx = 0 for x <= 0, else 1 (so NaN passes the gradient, as PyTorch)."""

    op = "relu"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return bk.where(bk.compare("le", ctx.x, 0), 0.0, g), None


class LeakyRelu(Unary):
    """x for x > 0, else alpha x;  d/dx = 1 for x > 0, else alpha."""

    op = "leaky_relu"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return bk.where(bk.compare("gt", ctx.x, 0), g, bk.binary("mul", g, ctx.alpha)), None


class Elu(Unary):
    """x for x > 0, else alpha (e^x - 1);  d/dx = 1 for x > 0, else alpha e^x (written from x:
    y + alpha would cancel to 0 far left). NaN passes the gradient, as PyTorch's x <= 0 test."""

    op = "elu"

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        left = bk.binary("mul", g, bk.binary("mul", bk.unary("exp", bk.binary("minimum", x, 0.0)), ctx.alpha))
        return bk.where(bk.compare("le", x, 0), left, g), None


class PowScalar(Unary):
    """x^a for a number a;  d/dx = a x^(a-1), and 0 when a = 0 (even at x = 0)."""

    op = "pow"

    @staticmethod
    def backward(ctx, g):
        bk, a = ctx.backend, ctx.alpha
        if a == 0:
            return bk.binary("mul", g, 0.0), None
        return bk.binary("mul", g, bk.binary("mul", bk.unary("pow", ctx.x, a - 1), a)), None


class Abs(Unary):
    """|x|;  d/dx = sign(x): 0 at 0 and at NaN (as PyTorch)."""

    op = "abs"

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return bk.binary("mul", g, bk.unary("sign", ctx.x)), None
