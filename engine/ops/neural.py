"""The ops a neural network runs hot: fused linear, softmax, and the losses.

Each is one node with its own derivative (rather than a chain of elementwise nodes), written
with the log-sum-exp trick or PyTorch's clamps so it stays finite. Forward calls the
backend's fast path (a fused kernel, or the default composed from primitives in
``engine.backends.base``). Backward asks the backend for its fused backward kernel first; the
base class has none (it answers NotImplemented), and then the derivative written here runs,
from the primitives. That derivative is the definition: a fused kernel must agree with it
(tests/backends/test_conformance.py).
"""

from __future__ import annotations

from engine.autograd.op import Op
from engine.ops.elementwise import activation_grad

# ---- the derivatives, from primitives (also the reference for fused backward kernels) -------------


def linear_backward(bk, x, w, y, g, act, need_x: bool = True, need_bias: bool = True):
    """(gx, gw, gb) of y = act(x W^T + b): d pre = g act'(y);  gx = d pre W,  gW = d pre^T x,
    gb = column sums of d pre."""
    pre = activation_grad(bk, act, y, g)
    gx = bk.matmul(pre, w) if need_x else None
    gw = bk.matmul(pre, x, transpose_a=True)
    gb = bk.sum(pre, (0,)) if need_bias else None
    return gx, gw, gb


def softmax_backward(bk, y, g, axis: int, log: bool):
    """softmax: dx = y (g - sum(g y));  log_softmax: dx = g - e^y sum(g), sums along ``axis``."""
    axes = (axis,) if y.ndim else None
    if log:
        return bk.binary("sub", g, bk.binary("mul", bk.unary("exp", y), bk.sum(g, axes, keepdim=True)))
    return bk.binary("mul", y, bk.binary("sub", g, bk.sum(bk.binary("mul", g, y), axes, keepdim=True)))


def cross_entropy_backward(bk, logits, target, gloss):
    """d loss_r / d z_rj = gloss_r (softmax(z_r)_j - [j == t_r]) for logits (N, C), targets (N,)
    and ``gloss`` 0-d (a reduced loss's scale) or (N,) (one per row)."""
    n, c = logits.shape
    onehot = bk.scatter_add((n, c), 1, bk.reshape(target, (n, 1)), bk.full((n, 1), 1, logits.dtype))
    diff = bk.binary("sub", bk.softmax(logits, 1), onehot)
    scale = bk.reshape(gloss, (n, 1)) if gloss.ndim else gloss
    return bk.binary("mul", diff, scale)


def difference_loss_backward(bk, kind: str, diff, g, mean: bool):
    """d loss / d a = scale * slope(d) with slope 2 d (``squared``, MSE) or sign(d) (``abs``, L1:
    0 at 0 and at NaN), scale = g / n for a mean, else g (0-d, or per item for reduction none)."""
    slope = bk.binary("mul", diff, 2.0) if kind == "squared" else bk.unary("sign", diff)
    scale = bk.binary("div", g, float(diff.size)) if mean else g
    return bk.binary("mul", scale, slope)


# ---- the ops ----------------------------------------------------------------------------------------


class Linear(Op):
    """y = act(x W^T + b) for x (M, K), W (N, K), b (N,), act in {None, relu, sigmoid, tanh}.

    d pre = dy * act'(y);  dx = d pre @ W,  dW = d pre^T @ x,  db = column sums of d pre.
    """

    saved_inputs = (0, 1)
    saves_output = True

    @staticmethod
    def forward(ctx, x, w, b, act=None):
        y = ctx.backend.linear_forward(x, w, b, act)
        ctx.x, ctx.w, ctx.y, ctx.act = x, w, y, act
        return y

    @staticmethod
    def backward(ctx, g):
        need_x, _, need_b = ctx.needs_input_grad[:3]
        bk = ctx.backend
        fused = bk.linear_backward(ctx.x, ctx.w, ctx.y, g, ctx.act, need_x, need_b)
        if fused is NotImplemented:
            fused = linear_backward(bk, ctx.x, ctx.w, ctx.y, g, ctx.act, need_x, need_b)
        gx, gw, gb = fused
        return gx, gw, gb, None


class Softmax(Op):
    """s_i = e^(x_i - max) / sum_j e^(x_j - max) along ``dim``;  ds = s (g - sum(g s))."""

    log = False
    saved_inputs = ()
    saves_output = True

    @classmethod
    def forward(cls, ctx, x, dim):
        y = ctx.backend.softmax(x, dim, cls.log)
        ctx.y, ctx.dim = y, dim
        return y

    @classmethod
    def backward(cls, ctx, g):
        bk = ctx.backend
        gx = bk.softmax_backward(ctx.y, g, ctx.dim, cls.log)
        if gx is NotImplemented:
            gx = softmax_backward(bk, ctx.y, g, ctx.dim, cls.log)
        return gx, None


class LogSoftmax(Softmax):
    """log softmax = (x - max) - log sum e^(x - max);  dx = g - softmax * sum(g)."""

    log = True


def _reduce(bk, per_item, reduction: str):
    if reduction == "none":
        return per_item
    total = bk.sum(per_item, None, keepdim=False)
    if reduction == "sum":
        return total
    return bk.binary("div", total, float(per_item.size))


def _reduction_grad(bk, g, shape, reduction: str):
    """The upstream gradient of each item under ``reduction``: ``g`` itself for ``none`` and
    ``sum`` (0-d there), ``g / n`` for ``mean``."""
    if reduction != "mean":
        return g
    n = 1
    for s in shape:
        n *= s
    return bk.binary("div", g, float(n))


class CrossEntropy(Op):
    """loss_r = logsumexp(z_r) - z_r[t_r] for logits (N, C) and integer targets (N,).

    d loss_r / d z_rj = softmax(z_r)_j - [j == t_r]; ``mean`` divides by N.
    """

    @staticmethod
    def forward(ctx, logits, target, reduction="mean"):
        bk = ctx.backend
        ctx.logits, ctx.target, ctx.reduction = logits, target, reduction
        return _reduce(bk, bk.cross_entropy(logits, target), reduction)

    @staticmethod
    def backward(ctx, g):
        bk = ctx.backend
        gloss = _reduction_grad(bk, g, (ctx.logits.shape[0],), ctx.reduction)
        gz = bk.cross_entropy_backward(ctx.logits, ctx.target, gloss)
        if gz is NotImplemented:
            gz = cross_entropy_backward(bk, ctx.logits, ctx.target, gloss)
        return gz, None


class BinaryCrossEntropy(Op):
    """loss = -(y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does.

    d loss / d p = (p - y) / max(p (1 - p), 1e-12);  d loss / d y = log(1 - p) - log p.
    """

    @staticmethod
    def forward(ctx, p, y, reduction="mean"):
        bk = ctx.backend
        log_p = bk.binary("maximum", bk.unary("log", p), -100.0)
        log_q = bk.binary("maximum", bk.unary("log", bk.binary("sub", 1.0, p)), -100.0)
        ctx.p, ctx.y, ctx.reduction, ctx.log_ratio = p, y, reduction, bk.binary("sub", log_p, log_q)
        # -(y log p + (1 - y) log q) = -(log q + y (log p - log q))
        inner = bk.binary("add", log_q, bk.binary("mul", y, ctx.log_ratio))
        return _reduce(bk, bk.unary("neg", inner), reduction)

    @staticmethod
    def backward(ctx, g):
        bk, p, y = ctx.backend, ctx.p, ctx.y
        denom = bk.binary("maximum", bk.binary("mul", p, bk.binary("sub", 1.0, p)), 1e-12)
        slope = bk.binary("div", bk.binary("sub", p, y), denom)
        scale = _reduction_grad(bk, g, p.shape, ctx.reduction)
        gy = bk.unary("neg", bk.binary("mul", scale, ctx.log_ratio)) if ctx.needs_input_grad[1] else None
        return bk.binary("mul", scale, slope), gy


class BinaryCrossEntropyWithLogits(Op):
    """loss = max(z, 0) - z y + log(1 + e^-|z|)  (stable for any z);  d loss / dz = sigmoid(z) - y,
    d loss / dy = -z."""

    @staticmethod
    def forward(ctx, z, y, reduction="mean"):
        bk = ctx.backend
        ctx.z, ctx.y, ctx.reduction = z, y, reduction
        softplus = bk.unary("log", bk.binary("add", 1.0, bk.unary("exp", bk.unary("neg", bk.unary("abs", z)))))
        per_item = bk.binary("add", bk.binary("sub", bk.unary("relu", z), bk.binary("mul", z, y)), softplus)
        return _reduce(bk, per_item, reduction)

    @staticmethod
    def backward(ctx, g):
        bk, z, y = ctx.backend, ctx.z, ctx.y
        slope = bk.binary("sub", bk.unary("sigmoid", z), y)
        scale = _reduction_grad(bk, g, z.shape, ctx.reduction)
        gy = bk.unary("neg", bk.binary("mul", scale, z)) if ctx.needs_input_grad[1] else None
        return bk.binary("mul", scale, slope), gy


class _DifferenceLoss(Op):
    """A loss of ``d = a - b`` item by item, reduced; ``kind`` names the per-item loss (the
    backend's difference-loss fast path). d loss / da = scale * slope(d), d loss / db = -that."""

    kind = ""
    saved_inputs = ()  # backward reads the difference it computed, not a or b

    @classmethod
    def forward(cls, ctx, a, b, reduction="mean"):
        bk = ctx.backend
        ctx.reduction = reduction
        if reduction == "none":
            ctx.diff = bk.binary("sub", a, b)
            return bk.binary("mul", ctx.diff, ctx.diff) if cls.kind == "squared" else bk.unary("abs", ctx.diff)
        # One fused primitive for the reduced loss: the difference, the sum of its items, the mean.
        ctx.diff, loss = bk.difference_loss(cls.kind, a, b, reduction == "mean")
        return loss

    @classmethod
    def backward(cls, ctx, g):
        bk, diff = ctx.backend, ctx.diff
        mean = ctx.reduction == "mean"
        ga = bk.difference_loss_backward(cls.kind, diff, g, mean)
        if ga is NotImplemented:
            ga = difference_loss_backward(bk, cls.kind, diff, g, mean)
        gb = bk.unary("neg", ga) if ctx.needs_input_grad[1] else None
        return ga, gb


class MSE(_DifferenceLoss):
    """mean (a - b)^2;  d/da = 2 (a - b) / n."""

    kind = "squared"


class L1(_DifferenceLoss):
    """mean |a - b|;  d/da = sign(a - b) / n (0 where a = b, as PyTorch)."""

    kind = "abs"
