"""The ops a neural network runs hot: fused linear, softmax, and the losses.

Each loss is one node with its own derivative (rather than a chain of elementwise nodes),
written with the log-sum-exp trick or PyTorch's clamps so it stays finite.
"""

from __future__ import annotations

from engine.autograd.op import Function


class Linear(Function):
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
        gx, gw, gb = ctx.backend.linear_backward(ctx.x, ctx.w, ctx.y, g, ctx.act, need_x, need_b)
        return gx, gw, gb, None


class Softmax(Function):
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
        return ctx.backend.softmax_backward(ctx.y, g, ctx.dim, cls.log), None


class LogSoftmax(Softmax):
    """log softmax = x - max - log sum e^(x - max);  dx = g - softmax * sum(g)."""

    log = True


def _reduce(bk, per_item, reduction: str):
    if reduction == "none":
        return per_item
    total = bk.sum(per_item, None, keepdim=False)
    if reduction == "sum":
        return total
    return bk.binary("div", total, per_item.dtype.type(per_item.size))


def _reduction_grad(bk, g, shape, dtype, reduction: str):
    """The upstream gradient of each item under ``reduction``: ``g`` itself for ``none``,
    else a 0-d scale (g, or g/n for ``mean``) that broadcasts against the items."""
    if reduction == "none":
        return g
    if reduction == "sum":
        return g
    n = 1
    for s in shape:
        n *= s
    return bk.binary("div", g, dtype.type(n))


class CrossEntropy(Function):
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
        n = ctx.logits.shape[0]
        gloss = _reduction_grad(bk, g, (n,), ctx.logits.dtype, ctx.reduction)
        return bk.cross_entropy_backward(ctx.logits, ctx.target, gloss), None


class BinaryCrossEntropy(Function):
    """loss = -(y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does.

    d loss / d p = (p - y) / max(p (1 - p), 1e-12).
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
        scale = _reduction_grad(bk, g, p.shape, p.dtype, ctx.reduction)
        # d loss / d y = log q - log p (a target may require grad too, as in PyTorch)
        gy = bk.unary("neg", bk.binary("mul", scale, ctx.log_ratio)) if ctx.needs_input_grad[1] else None
        return bk.binary("mul", scale, slope), gy


class BinaryCrossEntropyWithLogits(Function):
    """loss = max(z, 0) - z y + log(1 + e^-|z|)  (stable for any z);  d loss / dz = sigmoid(z) - y."""

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
        scale = _reduction_grad(bk, g, z.shape, z.dtype, ctx.reduction)
        gy = bk.unary("neg", bk.binary("mul", scale, z)) if ctx.needs_input_grad[1] else None  # d loss / d y = -z
        return bk.binary("mul", scale, slope), gy


class _DifferenceLoss(Function):
    """A loss of ``d = a - b`` item by item, reduced; ``kind`` names the per-item loss and its
    slope (the backend's difference-loss primitives). d loss / da = scale * slope(d),
    d loss / db = -that, each unbroadcast to its input."""

    kind = ""
    saved_inputs = ()  # backward reads the difference it computed, not a or b

    @classmethod
    def forward(cls, ctx, a, b, reduction="mean"):
        bk = ctx.backend
        ctx.shapes, ctx.reduction = (a.shape, b.shape), reduction
        if reduction == "none":
            ctx.diff = bk.binary("sub", a, b)
            return bk.difference_items(cls.kind, ctx.diff)
        # One fused primitive for the reduced loss: the difference, the sum of its items, the mean.
        ctx.diff, loss = bk.difference_loss(cls.kind, a, b, mean=reduction == "mean")
        return loss

    @classmethod
    def backward(cls, ctx, g):
        from engine.ops.elementwise import unbroadcast

        bk, diff = ctx.backend, ctx.diff
        ga = bk.difference_loss_backward(cls.kind, diff, g, mean=ctx.reduction == "mean")
        gb = bk.unary("neg", ga) if ctx.needs_input_grad[1] else None
        return (
            unbroadcast(bk, ga, ctx.shapes[0]),
            None if gb is None else unbroadcast(bk, gb, ctx.shapes[1]),
        )


class MSE(_DifferenceLoss):
    """mean (a - b)^2;  d/da = 2 (a - b) / n."""

    kind = "squared"


class L1(_DifferenceLoss):
    """mean |a - b|;  d/da = sign(a - b) / n (0 where a = b, as PyTorch)."""

    kind = "abs"
