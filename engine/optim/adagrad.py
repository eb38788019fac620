"""Adagrad (Duchi et al., 2011): per-element learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

from engine.autograd.grad_mode import no_grad
from engine.core.tensor import Tensor
from engine.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """g <- g + wd p;  clr = lr / (1 + (t - 1) lr_decay);  s <- s + g^2;  p <- p - clr g / (sqrt(s) + eps).

    ``s`` starts at ``initial_accumulator_value``; as in PyTorch the state (``step`` 0 and ``sum``)
    is created with the optimizer, not at the first step. ``maximize`` negates g first;
    ``foreach`` and ``fused`` are accepted and ignored.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        self._check_nonnegative(group, "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _init_group_state(self, group: dict) -> None:
        for p in group["params"]:
            bk = p._backend
            self.state[p] = {
                "step": 0,
                "sum": p._like(bk.full(p._data.shape, group["initial_accumulator_value"], p._data.dtype)),
            }

    def _update(self, p: Tensor, group: dict, state: dict) -> None:
        if not state:  # the state was dropped (a load_state_dict without it): start afresh
            state["step"] = 0
            state["sum"] = p._like(p._backend.full(p._data.shape, group["initial_accumulator_value"],
                                                   p._data.dtype))
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        with no_grad():
            g = self._grad_tensor(p, group["maximize"])
            if group["weight_decay"]:
                g = g + p * group["weight_decay"]
            state["sum"].add_(g * g)
            p.sub_(g / (state["sum"].sqrt() + group["eps"]) * clr)
