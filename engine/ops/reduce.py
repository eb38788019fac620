"""Reductions: sum, mean, max, min over any set of axes, with keepdim."""

from __future__ import annotations

from engine.autograd.op import Op


def _keepdim_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Op):
    """sum over ``axes``;  d/dx_i = 1: the gradient, with the reduced axes kept as 1, is expanded
    back to x's shape by the backward driver."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return ctx.backend.sum(x, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.reshape(g, _keepdim_shape(ctx.shape, ctx.axes)), None, None


class Mean(Op):
    """sum / n over ``axes``;  d/dx_i = 1/n."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        n = 1
        for a in axes:
            n *= x.shape[a]
        ctx.n = n
        return ctx.backend.binary("div", ctx.backend.sum(x, axes, keepdim), float(n))

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        return bk.reshape(bk.binary("div", g, float(ctx.n)), _keepdim_shape(ctx.shape, ctx.axes)), None, None


class Max(Op):
    """max over one axis (or all). Over all elements the gradient is split evenly among the
    elements equal to the result (the NaNs when it is NaN); along a dim it goes to the index
    max(dim) returns (both as PyTorch)."""

    kind = "max"
    saved_inputs = (0,)

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        bk = ctx.backend
        values, index = getattr(bk, cls.kind)(x, axis, True, arg=axis is not None)
        ctx.x, ctx.values_keep, ctx.axis, ctx.index = x, values, axis, index
        if keepdim:
            return values
        return bk.reshape(values, tuple(n for i, n in enumerate(values.shape) if axis is not None and i != axis))

    @staticmethod
    def backward(ctx, g):
        bk, x = ctx.backend, ctx.x
        g = bk.reshape(g, ctx.values_keep.shape)
        if ctx.axis is not None:
            # Along a dim, PyTorch sends the gradient to the returned index only (first on ties).
            return bk.scatter_add(x.shape, ctx.axis, ctx.index, g), None, None
        # NaN != NaN, so where the result is NaN "equal" means "is NaN".
        v = ctx.values_keep
        hit = bk.where(bk.compare("ne", v, v), bk.compare("ne", x, x), bk.compare("eq", x, v))
        mask = bk.astype(hit, x.dtype)
        count = bk.sum(mask, None, keepdim=True)
        return bk.binary("mul", mask, bk.binary("div", g, count)), None, None


class Min(Max):
    """min over one axis (or all); ties and NaN as in :class:`Max`."""

    kind = "min"
