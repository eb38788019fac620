"""Adam (Kingma & Ba, 2015) with PyTorch's bias correction and (L2) weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from engine.core.tensor import Tensor
from engine.errors import EngineValueError
from engine.optim.optimizer import Optimizer


class Adam(Optimizer):
    """g <- g + wd p;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;

    p <- p - lr m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise EngineValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise EngineValueError(f"Adam: invalid beta parameter at index {i}: {beta}; it must be in [0, 1)")
        if group["eps"] < 0:
            raise EngineValueError(f"Adam: invalid epsilon value {group['eps']}; it must be >= 0")
        if group["weight_decay"] < 0:
            raise EngineValueError(f"Adam: invalid weight_decay value {group['weight_decay']}; it must be >= 0")

    def _update(self, p: Tensor, group: dict, state: dict) -> None:
        bk = p._backend
        if not state:
            state["step"] = 0
            state["exp_avg"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
            state["exp_avg_sq"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
        state["step"] += 1
        beta1, beta2 = group["betas"]
        bk.adam_update(p._data, self._grad_array(p), state["exp_avg"]._data, state["exp_avg_sq"]._data,
                       group["lr"], beta1, beta2, group["eps"], group["weight_decay"], state["step"])
