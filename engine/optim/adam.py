"""Adam (Kingma & Ba, 2015) with PyTorch's bias correction, L2 or decoupled weight decay, and AMSGrad;
AdamW (Loshchilov & Hutter, 2019) is Adam with the decoupled decay on by default."""

from __future__ import annotations

import math
from collections.abc import Iterable

from engine.autograd.grad_mode import no_grad
from engine.core.tensor import Tensor, maximum
from engine.errors import EngineValueError
from engine.optim.optimizer import Optimizer


class Adam(Optimizer):
    """g <- g + wd p (L2), or p <- p (1 - lr wd) first (``decoupled_weight_decay``, AdamW);

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr m_hat / (sqrt(v_hat) + eps),
    with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t) (v_hat from the running maximum of v
    with ``amsgrad``). ``maximize`` negates g first. ``foreach``, ``capturable`` and ``fused``
    are accepted for PyTorch compatibility (each device has one implementation).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise EngineValueError(f"{self._name()}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise EngineValueError(
                    f"{self._name()}: invalid beta parameter at index {i}: {beta}; it must be in [0, 1)"
                )
        if not group["eps"] >= 0:
            raise EngineValueError(f"{self._name()}: invalid epsilon value {group['eps']}; it must be >= 0")
        self._check_nonnegative(group, "weight_decay")

    def _update(self, p: Tensor, group: dict, state: dict) -> None:
        bk = p._backend
        if not state:
            state["step"] = 0
            state["exp_avg"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
            state["exp_avg_sq"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = p._like(bk.zeros(p._data.shape, p._data.dtype))
        state["step"] += 1
        lr, weight_decay = group["lr"], group["weight_decay"]
        if weight_decay and group["decoupled_weight_decay"]:
            # AdamW: shrink the weights directly, outside the adaptive scaling.
            bk.setitem(p._data, (Ellipsis,), bk.binary("mul", p._data, 1 - lr * weight_decay))
            weight_decay = 0.0
        if group["amsgrad"]:
            self._amsgrad_update(p, group, state, weight_decay)
            return
        g = self._grad_array(p)
        if group["maximize"]:
            g = bk.unary("neg", g)
        beta1, beta2 = group["betas"]
        bk.adam_update(p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                       lr, beta1, beta2, group["eps"], weight_decay, state["step"])

    def _amsgrad_update(self, p: Tensor, group: dict, state: dict, weight_decay: float) -> None:
        """Adam with v_hat taken from the running maximum of v (Reddi et al., 2018), in tensor ops."""
        beta1, beta2 = group["betas"]
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if "max_exp_avg_sq" not in state:  # amsgrad switched on after the first steps
            state["max_exp_avg_sq"] = v.clone()
        v_max = state["max_exp_avg_sq"]
        with no_grad():
            g = self._grad_tensor(p, group["maximize"])
            if weight_decay:
                g = g + p * weight_decay
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).add_(g * g, alpha=1 - beta2)
            v_max.copy_(maximum(v_max, v))
            denom = v_max.sqrt() / math.sqrt(1 - beta2**step) + group["eps"]
            p.sub_(m / denom * (group["lr"] / (1 - beta1**step)))


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p (1 - lr wd) before each Adam step (default wd 0.01)."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
