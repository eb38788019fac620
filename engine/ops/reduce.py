"""Reductions: sum, mean, max, min over any set of axes, with keepdim."""

from __future__ import annotations

from engine.function import Function


def _keepdim_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """sum over ``axes``;  d/dx_i = 1: the gradient is broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return ctx.backend.sum(x, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        g = bk.reshape(g, _keepdim_shape(ctx.shape, ctx.axes))
        return bk.broadcast_to(g, ctx.shape), None, None


class Mean(Function):
    """sum / n over ``axes``;  d/dx_i = 1/n."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        n = 1
        for a in axes:
            n *= x.shape[a]
        ctx.n = n
        return ctx.backend.binary("div", ctx.backend.sum(x, axes, keepdim), x.dtype.type(n))

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        g = bk.reshape(bk.binary("div", g, g.dtype.type(ctx.n)), _keepdim_shape(ctx.shape, ctx.axes))
        return bk.broadcast_to(g, ctx.shape), None, None


class Max(Function):
    """max over one axis (or all); the gradient goes to the maximal entries, split evenly on ties."""

    kind = "max"

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        bk = ctx.backend
        values, _ = getattr(bk, cls.kind)(x, axis, True, arg=False)
        ctx.x, ctx.values_keep, ctx.axis = x, values, axis
        if keepdim:
            return values
        return bk.reshape(values, tuple(n for i, n in enumerate(values.shape) if axis is not None and i != axis))

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        mask = bk.astype(bk.compare("eq", ctx.x, ctx.values_keep), ctx.x.dtype)
        axes = tuple(range(ctx.x.ndim)) if ctx.axis is None else (ctx.axis,)
        count = bk.sum(mask, axes, keepdim=True)
        g = bk.reshape(g, ctx.values_keep.shape)
        return bk.binary("mul", mask, bk.binary("div", g, count)), None, None


class Min(Max):
    """min over one axis (or all); the gradient goes to the minimal entries, split evenly on ties."""

    kind = "min"
