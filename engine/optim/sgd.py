"""Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from engine.core.tensor import Tensor
from engine.errors import EngineValueError
from engine.optim.optimizer import Optimizer, _follow_param


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

    def _step_group(self, group: dict) -> None:
        # Optimizer._step_group with SGD's update written in: the group's hyperparameters are read
        # once, not once per parameter (a small model's step is mostly this Python).
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        states = self.state
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            data, bk = p._data, p._backend
            if grad._backend is not bk or grad._data.shape != data.shape:
                raise self._grad_mismatch(p, grad)
            state = states.get(p)
            if state:
                _follow_param(p, state)
            buf, first = None, False
            if momentum:
                if state is None:
                    state = states[p] = {}
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = p._like(bk.zeros(data.shape, data.dtype))
                    first = True
                buf = buf._data
            g = grad._data
            if g.dtype != data.dtype:
                g = self._grad_array(p)
            # (any layout of g is fine: every backend's sgd_update reads strided gradients)
            if maximize:
                g = bk.unary("neg", g)
            bk.sgd_update(data, g, buf, lr, momentum, dampening, weight_decay, nesterov, first)
            # The parameter changed in place: a graph built from its old values can't backward now.
            p._version_box[0] += 1
