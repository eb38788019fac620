"""RMSprop (Hinton's lecture 6e): divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable

from engine.autograd.grad_mode import no_grad
from engine.core.tensor import Tensor
from engine.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """g <- g + wd p;  s <- alpha s + (1 - alpha) g^2;  avg = sqrt(s) + eps, or, ``centered``,
    sqrt(s - a^2) + eps with a <- alpha a + (1 - alpha) g (the variance instead of the raw second moment);

    p <- p - lr g / avg, or with momentum mu: buf <- mu buf + g / avg, p <- p - lr buf.
    ``maximize`` negates g first; ``foreach`` and ``capturable`` are accepted and ignored.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        self._check_nonnegative(group, "eps", "momentum", "weight_decay", "alpha")

    def _update(self, p: Tensor, group: dict, state: dict) -> None:
        bk = p._backend
        if not state:
            state["step"] = 0
            state["square_avg"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
            if group["momentum"] > 0:
                state["momentum_buffer"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
            if group["centered"]:
                state["grad_avg"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
        state["step"] += 1
        alpha, momentum = group["alpha"], group["momentum"]
        with no_grad():
            g = self._grad_tensor(p, group["maximize"])
            if group["weight_decay"]:
                g = g + p * group["weight_decay"]
            square_avg = state["square_avg"]
            square_avg.mul_(alpha).add_(g * g, alpha=1 - alpha)
            if group["centered"]:
                grad_avg = state["grad_avg"]
                grad_avg.add_(g - grad_avg, alpha=1 - alpha)  # lerp toward g
                avg = (square_avg - grad_avg * grad_avg).sqrt() + group["eps"]
            else:
                avg = square_avg.sqrt() + group["eps"]
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(g / avg)
                p.sub_(buf * group["lr"])
            else:
                p.sub_(g / avg * group["lr"])
