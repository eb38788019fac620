"""Gradient clipping: ``clip_grad_norm_`` (rescale all gradients together) and ``clip_grad_value_``
(clamp each element), in place on ``p.grad``, as ``torch.nn.utils``.

Composed from tensor ops under ``no_grad`` (abs, powers, sums, max, one in-place multiply or
copy per gradient), so each runs on the gradient's own device.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

from engine.autograd.grad_mode import no_grad
from engine.core.tensor import Tensor
from engine.errors import EngineTypeError, GradError


def _as_list(op: str, tensors: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        return [tensors]
    if not isinstance(tensors, Iterable):
        raise EngineTypeError(f"{op}: expected a tensor or an iterable of tensors, got {type(tensors).__name__}")
    is_generator = isinstance(tensors, types.GeneratorType)
    out = list(tensors)
    if is_generator and not out:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise EngineTypeError(f"{op}: entry {i} is a {type(t).__name__}, not a tensor")
    return out


def _vector_norm(x: Tensor, p: float) -> Tensor:
    """||x||_p over every element: max |x| for inf, min |x| for -inf, the count of nonzeros for 0,
    else (sum |x|^p)^(1/p) (sqrt(sum x^2) for p = 2)."""
    if x.numel() == 0:
        return x.sum() * 0.0  # an empty tensor has norm 0 (and keeps its dtype and device)
    if p == math.inf:
        return x.abs().amax()
    if p == -math.inf:
        return x.abs().min()
    if p == 0:
        return (x != 0).sum().to(x.dtype)
    if p == 1:
        return x.abs().sum()
    if p == 2:
        return (x * x).sum().sqrt()
    return (x.abs() ** p).sum() ** (1.0 / p)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` seen as one vector: the norm of their norms.

    A 0-d tensor on the first tensor's device (``tensor(0.)`` when there are none).
    ``foreach`` is accepted for PyTorch compatibility (there is one implementation).
    """
    from engine.core.dtypes import float64
    from engine.core.tensor import stack, tensor

    tensors = _as_list("get_total_norm", tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    first = tensors[0]
    with no_grad():
        norms = [_vector_norm(t.detach(), norm_type) for t in tensors]
        # Norms of mixed dtypes are stacked in the widest one (PyTorch's promotion).
        dtype = float64 if any(n.dtype is float64 for n in norms) else norms[0].dtype
        total = _vector_norm(stack([n.to(first.device).to(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise GradError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    """grad <- grad * min(max_norm / (total_norm + 1e-6), 1) for every parameter with a gradient."""
    grads = [p.grad for p in _as_list("clip_grads_with_norm_", parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device).to(g.dtype))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients together so that their total ``norm_type``-norm is at most ``max_norm``.

    grad <- grad * min(max_norm / (total + 1e-6), 1), in place; returns the total norm measured
    before clipping (a 0-d tensor). ``error_if_nonfinite`` raises when that norm is NaN or inf.
    """
    params = _as_list("clip_grad_norm_", parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list("clip_grad_value_", parameters):
            if p.grad is not None:
                p.grad.copy_(p.grad.clamp(-clip_value, clip_value))
