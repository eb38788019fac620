"""Writing into selected places along an axis: ``scatter_add``.

The reads it mirrors live in ``shape.py`` (``Gather``), with ``IndexPut`` (replace at a host
key: ``scatter``, ``x[key] = v``); each write's derivative is the matching read, and each read's
derivative the matching write.
"""

from __future__ import annotations

from engine.autograd.op import Op


class ScatterAdd(Op):
    """out = zeros(shape) with src[p] added at p with p[dim] replaced by index[p] (repeats add up):
    PyTorch's ``scatter_add`` into zeros (the caller adds the tensor it scatters into).

    out[q] = sum over p with p -> q of src[p], so d out[q] / d src[p] = 1 where p lands on q:
    d src = g read back at the same places, gather(g, dim, index).
    """

    saved_inputs = (1,)  # backward reads the index

    @staticmethod
    def forward(ctx, src, index, dim, shape):
        ctx.index, ctx.dim = index, dim
        return ctx.backend.scatter_add(shape, dim, index, src)

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        # Off dim the index may cover only the front of the output; gather wants g cut to it there.
        cut = tuple(slice(None) if d == ctx.dim else slice(0, n) for d, n in enumerate(ctx.index.shape))
        return bk.gather(bk.getitem(g, cut), ctx.dim, ctx.index), None
