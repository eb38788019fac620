"""Matrix products: 2-D, batched with broadcast batch axes, and the 1-D cases of ``@``."""

from __future__ import annotations

from engine.autograd.op import Function
from engine.ops.elementwise import unbroadcast


class MatMul(Function):
    """C = A @ B;  dA = dC @ B^T, dB = A^T @ dC (transposes passed as flags, never materialised).

    1-D operands follow numpy/PyTorch: a vector on the left is a row (1, K), on the
    right a column (K, 1), and the added axis is dropped from the result.
    """

    @staticmethod
    def forward(ctx, a, b):
        bk = ctx.backend
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        a2 = bk.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = bk.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        ctx.a, ctx.b = a2, b2
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
            ga = bk.matmul(g, ctx.b, transpose_b=True)
            ga = bk.reshape(unbroadcast(bk, ga, ctx.a.shape), ctx.a_shape)
        if ctx.needs_input_grad[1]:
            gb = bk.matmul(ctx.a, g, transpose_a=True)
            gb = bk.reshape(unbroadcast(bk, gb, ctx.b.shape), ctx.b_shape)
        return ga, gb
