"""Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from engine.core.tensor import Tensor
from engine.errors import EngineValueError
from engine.optim.optimizer import Optimizer


class SGD(Optimizer):
    """p <- p - lr d, where d = g + wd p (g negated first when ``maximize``), and with momentum m:

    buf <- m buf + (1 - dampening) d  (buf = d at the first step);  d <- d + m buf (Nesterov) or buf.

    ``foreach`` and ``fused`` are accepted for PyTorch compatibility: each device has one
    implementation (the backend's ``sgd_update``).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        self._check_nonnegative(group, "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise EngineValueError(
                f"SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum={group['momentum']} "
                f"and dampening={group['dampening']}"
            )

    def _update(self, p: Tensor, group: dict, state: dict) -> None:
        bk = p._backend
        momentum = group["momentum"]
        buf, first = None, False
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = p._like(bk.zeros(p._data.shape, p._data.dtype))
                state["momentum_buffer"] = buf
                first = True
            buf = buf._data
        g = self._grad_array(p)
        if group["maximize"]:
            g = bk.unary("neg", g)
        bk.sgd_update(p._data, g, buf, group["lr"], momentum, group["dampening"],
                      group["weight_decay"], group["nesterov"], first)
