"""Matrix products: 2-D, batched with broadcast batch axes, and the 1-D cases of ``@``."""

from __future__ import annotations

from engine.autograd.op import Op


class MatMul(Op):
    """C = A @ B;  dA = dC @ B^T, dB = A^T @ dC (transposes passed as flags, never materialised).

    1-D operands follow numpy/PyTorch: a vector on the left is a row (1, K), on the right a
    column (K, 1), and the added axis is dropped from the result. Gradients come back in the
    broadcast batch shape; the backward driver sums them to each input's shape.
    """

    @staticmethod
    def forward(ctx, a, b):
        bk = ctx.backend
        a2 = bk.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = bk.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        ctx.a, ctx.b = a2, b2
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        out = bk.matmul(a2, b2)
        ctx.out_shape = out.shape
        if a.ndim == 1 or b.ndim == 1:
            shape = out.shape[:-2] + ((out.shape[-2],) if a.ndim > 1 else ()) + ((out.shape[-1],) if b.ndim > 1 else ())
            out = bk.reshape(out, shape)
        return out

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        g = bk.reshape(g, ctx.out_shape)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _unvector(bk, bk.matmul(g, ctx.b, transpose_b=True), ctx.a_shape)
        if ctx.needs_input_grad[1]:
            gb = _unvector(bk, bk.matmul(ctx.a, g, transpose_a=True), ctx.b_shape)
        return ga, gb


def _unvector(bk, grad, shape: tuple):
    """A 1-D operand's gradient, computed as a row or column matrix, back to a vector (summed
    over the batch axes it was broadcast over)."""
    if len(shape) != 1:
        return grad
    lead = tuple(range(grad.ndim - 2))
    if lead:
        grad = bk.sum(grad, lead)
    return bk.reshape(grad, shape)
