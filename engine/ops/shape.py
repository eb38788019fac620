"""Views and data movement: reshape, permute, expand, indexing, cat, dtype casts, device moves."""

from __future__ import annotations

from engine.autograd.op import Op


class Reshape(Op):
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


class Permute(Op):
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


class Expand(Op):
    """Broadcast to a larger shape (a view at every size);  the gradient, in the expanded shape,
    is summed back to the input's shape by the backward driver."""

    saved_inputs = ()
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        return ctx.backend.expand(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None


class Index(Op):
    """x[key] for basic slices and index arrays;  the gradient is scattered (added) back."""

    saved_inputs = ()
    view = True  # basic slicing is a view; an index-array gather is a copy (the backend tells)

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.key = x.shape, key
        return ctx.backend.getitem(x, key)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.index_add(ctx.shape, ctx.key, g), None


class Cat(Op):
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


class Cast(Op):
    """A dtype conversion;  the gradient is converted back to the input's dtype."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return ctx.backend.astype(x, dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.astype(g, ctx.dtype), None


class Contiguous(Op):
    """A compact copy;  the gradient passes through unchanged."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.copy(x)

    @staticmethod
    def backward(ctx, g):
        return g


class ToDevice(Op):
    """A copy to another backend (through host memory);  the gradient is copied back.

    ``apply`` wraps the result as if it stayed on the source device; the caller
    (``Tensor.to``) gives it the target device, which this op's forward already used.
    """

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, target):
        ctx.target = target
        return target.from_numpy(_host_copy(ctx.backend, x))

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.from_numpy(_host_copy(ctx.target, g)), None


def _host_copy(backend, x):
    """A compact host copy of ``x`` that shares memory with nothing (numpy and c both keep numpy
    arrays, and a tensor moved between them must not alias its source)."""
    return backend.to_numpy(backend.copy(x))


class Gather(Op):
    """out[p] = x[p with p[dim] replaced by index[p]] (PyTorch's ``gather``);
    dx = zeros with g added back at the same places (``scatter_add``)."""

    saved_inputs = (1,)  # backward reads the index

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.shape, ctx.index, ctx.dim = x.shape, index, dim
        return ctx.backend.gather(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.scatter_add(ctx.shape, ctx.dim, ctx.index, g), None, None


class IndexPut(Op):
    """out = x with out[key] = v (v broadcast to the selection): what an in-place ``x[key] = v``
    (and ``fill_``, ``copy_``) records in the graph;  dx = g with g[key] = 0,  dv = g[key]."""

    saved_inputs = ()

    @staticmethod
    def forward(ctx, x, v, key):
        bk = ctx.backend
        ctx.key = key
        out = bk.copy(x)
        bk.setitem(out, key, v)
        return out

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        gx = None
        if ctx.needs_input_grad[0]:
            gx = bk.copy(g)
            bk.setitem(gx, ctx.key, 0)
        gv = bk.copy(bk.getitem(g, ctx.key)) if ctx.needs_input_grad[1] else None
        return gx, gv, None
