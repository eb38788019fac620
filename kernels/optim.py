"""Optimizer steps, in place on compact flat buffers: one thread per parameter, every state
tensor read once and written once (a step is bound by memory bandwidth, so one fused pass).

The arithmetic is PyTorch's (torch.optim.SGD and Adam, L2 weight decay), in the order the C
device writes it, with the hyperparameters cast to the parameter's dtype.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from engine._kernels.launch import grid
from numba import cuda


@cache
def _sgd_kernel(dtype: np.dtype, momentum: bool):
    zero = dtype.type(0)

    if momentum:
        @cuda.jit
        def kernel(p, g, buf, n, neg_lr, mom, keep, wd, nesterov, first):
            """d = g + wd p;  buf = d (first step) or mom buf + keep d  (keep = 1 - dampening);
            d = d + mom buf (Nesterov) or buf;  p = p - lr d (one rounding: a fused multiply-add)."""
            i = cuda.grid(1)
            if i < n:
                d = g[i]
                if wd != zero:
                    d = d + wd * p[i]
                b = d if first else mom * buf[i] + keep * d
                buf[i] = b
                d = d + mom * b if nesterov else b
                p[i] = cuda.fma(neg_lr, d, p[i])
    else:
        @cuda.jit
        def kernel(p, g, n, neg_lr, wd):
            """d = g + wd p;  p = p - lr d."""
            i = cuda.grid(1)
            if i < n:
                d = g[i]
                if wd != zero:
                    d = d + wd * p[i]
                p[i] = cuda.fma(neg_lr, d, p[i])

    return kernel


@cache
def _adam_kernel(dtype: np.dtype):
    zero = dtype.type(0)

    @cuda.jit
    def kernel(p, g, m, v, n, w1, beta2, w2, eps, wd, step_size, bc2_sqrt):
        """d = g + wd p;  m = m + (1 - b1)(d - m)  (torch's lerp);  v = b2 v + (1 - b2) d^2;
        p = p - step_size m / (sqrt(v) / sqrt(1 - b2^t) + eps),  step_size = lr / (1 - b1^t)."""
        i = cuda.grid(1)
        if i < n:
            d = g[i]
            if wd != zero:
                d = d + wd * p[i]
            mi = m[i] + w1 * (d - m[i])
            vi = beta2 * v[i] + w2 * d * d
            m[i] = mi
            v[i] = vi
            p[i] = p[i] - step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))

    return kernel


def sgd(p, g, buf, n: int, lr: float, momentum: float, dampening: float, weight_decay: float,
        nesterov: bool, first: bool) -> None:
    """PyTorch's SGD step on n items, in place on p (and the momentum buffer ``buf``, None
    without momentum): d = g + wd p; buf = d at the first step, else m buf + (1 - dampening) d;
    d = d + m buf (Nesterov) or buf; p -= lr d."""
    if n == 0:
        return
    t = p.dtype.type
    blocks, threads = grid(n)
    if momentum:
        _sgd_kernel(p.dtype, True)[blocks, threads](
            p, g, buf, n, t(-lr), t(momentum), t(1 - dampening), t(weight_decay), bool(nesterov), bool(first)
        )
    else:
        _sgd_kernel(p.dtype, False)[blocks, threads](p, g, n, t(-lr), t(weight_decay))


def adam(p, g, m, v, n: int, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
         step: int) -> None:
    """PyTorch's Adam step ``step`` (1, 2, ...) on n items, in place on p, m, v: g += wd p;
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    The bias corrections are computed once, in double precision, on the host."""
    if n == 0:
        return
    t = p.dtype.type
    bias1 = 1.0 - float(beta1) ** step
    bias2 = 1.0 - float(beta2) ** step
    blocks, threads = grid(n)
    _adam_kernel(p.dtype)[blocks, threads](
        p, g, m, v, n, t(1 - beta1), t(beta2), t(1 - beta2), t(eps), t(weight_decay), t(lr / bias1),
        t(math.sqrt(bias2)),
    )
