"""Views and data movement: reshape, permute, expand, indexing, cat."""

from __future__ import annotations

from engine.autograd.op import Function
from engine.ops.elementwise import unbroadcast


class Reshape(Function):
    """Same elements, new shape;  the gradient is reshaped back."""

    saved_inputs = ()
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.backend.reshape(x, shape)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.reshape(g, ctx.shape), None


class Permute(Function):
    """Axes reordered as a strided view;  the gradient is permuted back by the inverse order."""

    saved_inputs = ()
    view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return ctx.backend.permute(x, axes)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.permute(g, ctx.inverse), None


class Expand(Function):
    """Broadcast to a larger shape (a view at every size);  the gradient is summed back (unbroadcast)."""

    saved_inputs = ()
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.backend.expand(x, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(ctx.backend, g, ctx.shape), None


class Index(Function):
    """x[key] for basic slices and integer arrays;  the gradient is scattered (added) back."""

    saved_inputs = ()
    view = True  # basic slicing is a view; an integer-array gather is a copy (the backend tells)

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.key = x.shape, key
        return ctx.backend.getitem(x, key)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.index_backward(g, ctx.shape, ctx.key), None


class Cat(Function):
    """Concatenation along ``dim``;  each input's gradient is its slice of the output's."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.sizes, ctx.dim = [a.shape[dim] for a in arrays], dim
        return ctx.backend.concatenate(list(arrays), dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for n in ctx.sizes:
            key = (slice(None),) * ctx.dim + (slice(start, start + n),)
            grads.append(ctx.backend.getitem(g, key))
            start += n
        return tuple(grads)


class Cast(Function):
    """A dtype conversion;  the gradient is converted back to the input's dtype."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return ctx.backend.astype(x, dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.astype(g, ctx.dtype), None


class Contiguous(Function):
    """A compact copy;  the gradient passes through unchanged."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.copy(x)

    @staticmethod
    def backward(ctx, g):
        return g
