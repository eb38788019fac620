"""Reductions: sum, mean, max, min over any set of axes, with keepdim."""

from __future__ import annotations

import numpy as np

from engine.autograd.op import Function


def _keepdim_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """sum over ``axes``;  d/dx_i = 1: the gradient is broadcast back to x's shape."""

    saved_inputs = ()

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

    saved_inputs = ()

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
    """max over one axis (or all). Over all elements the gradient is split evenly among tied
    maxima; along a dim it goes to the index max(dim) returns (both as PyTorch)."""

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
        bk = ctx.backend
        if ctx.axis is not None:
            # Along a dim, PyTorch sends the gradient to the returned index only (first on ties):
            # mask = (position along the axis == index).
            ramp = [1] * ctx.x.ndim
            ramp[ctx.axis] = ctx.x.shape[ctx.axis]
            positions = bk.from_numpy(np.arange(ctx.x.shape[ctx.axis], dtype=ctx.x.dtype).reshape(ramp))
            mask = bk.astype(bk.compare("eq", positions, bk.astype(ctx.index, ctx.x.dtype)), ctx.x.dtype)
            return bk.binary("mul", mask, bk.reshape(g, ctx.values_keep.shape)), None, None
        # The elements equal to the result share the gradient. A NaN result is made by the NaN
        # elements (NaN != NaN, so "equal" is "is NaN" there), as in PyTorch.
        x, v = ctx.x, ctx.values_keep
        hit = bk.where(bk.compare("ne", v, v), bk.compare("ne", x, x), bk.compare("eq", x, v))
        mask = bk.astype(hit, ctx.x.dtype)
        axes = tuple(range(ctx.x.ndim)) if ctx.axis is None else (ctx.axis,)
        count = bk.sum(mask, axes, keepdim=True)
        g = bk.reshape(g, ctx.values_keep.shape)
        return bk.binary("mul", mask, bk.binary("div", g, count)), None, None


class Min(Max):
    """min over one axis (or all); ties as in :class:`Max`."""

    kind = "min"
