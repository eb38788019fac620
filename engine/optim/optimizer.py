"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and ``step``, as in PyTorch.

A subclass writes ``_update(p, group, state)`` for one parameter; the arithmetic itself is a
backend primitive (``sgd_update``, ``adam_update``) that changes the parameter's storage in
place, so each device runs its own kernel and the Parameter objects never change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from engine.autograd.grad_mode import enable_grad
from engine.core.tensor import Tensor
from engine.errors import EngineTypeError, EngineValueError, GradError


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Set each tensor's ``.grad`` to None, or fill it with zeros (``set_to_none=False``).

    Shared by ``Module.zero_grad`` and ``Optimizer.zero_grad``.
    """
    for p in params:
        if p._grad is None:
            continue
        if set_to_none:
            p._grad = None
        else:
            p.grad = p.grad.detach()
            p.grad._backend.fill(p.grad._data, 0)
            p.grad._bump_version()


def _follow_param(p: Tensor, state: dict) -> None:
    """Keep a parameter's state tensors (momentum, moving averages) on its device and in its
    dtype: after ``model.double()`` or ``model.to(device)`` the optimizer goes on, as in PyTorch."""
    for key, value in state.items():
        if isinstance(value, Tensor) and (value._backend is not p._backend or value._data.dtype != p._data.dtype):
            state[key] = value.to(p.device).to(p.dtype)


class Optimizer:
    """Base class: ``params`` is an iterable of tensors or of dicts (``{"params": [...], "lr": ...}``).

    ``param_groups`` is a list of dicts holding each group's parameters and hyperparameters
    (edit ``group["lr"]`` to change the learning rate); ``state`` maps a parameter to its buffers.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict] = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise EngineTypeError(
                f"{self._name()}: params must be an iterable of tensors (e.g. model.parameters() or [w, b]), "
                "got a single tensor; wrap it in a list"
            )
        groups = list(params)
        if not groups:
            raise EngineValueError(f"{self._name()}: got an empty parameter list; pass model.parameters() or [w, b]")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, param_group: dict) -> None:
        """Add a group: its own ``params`` and any hyperparameters that differ from the defaults."""
        if not isinstance(param_group, dict):
            raise EngineTypeError(f"{self._name()}: a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params or ())
        if not params:
            raise EngineValueError(f"{self._name()}: a parameter group has an empty 'params' list")
        index = sum(len(g["params"]) for g in self.param_groups)
        for i, p in enumerate(params, start=index):
            self._check_param(i, p)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len(seen) + len(params) != len(seen | {id(p) for p in params}):
            raise EngineValueError(
                f"{self._name()}: some parameters appear more than once (in one group or across groups); "
                "list each parameter once"
            )
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_param(self, i: int, p: object) -> None:
        if not isinstance(p, Tensor):
            raise EngineTypeError(f"{self._name()}: parameter {i} is a {type(p).__name__}, not a tensor")
        if not p.is_leaf:
            raise GradError(
                f"{self._name()}: parameter {i} (shape {tuple(p.shape)}) is not a leaf tensor (it was computed from "
                "other tensors); optimize the leaf it came from, or .detach().requires_grad_() it"
            )
        # A tensor that does not require grad (a frozen layer) is accepted, as in PyTorch:
        # it never gets a gradient, so step() leaves it alone.

    def _check_group(self, group: dict) -> None:
        """Validate a group's hyperparameters; subclasses extend it."""
        lr = group.get("lr")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0:
            raise EngineValueError(f"{self._name()}: invalid learning rate lr={lr!r}; it must be a number >= 0")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient (None), or fill them with zeros when ``set_to_none=False``."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (those with ``grad`` None are skipped).

        ``closure``, if given, re-evaluates the model and returns the loss (called first, with grad on).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if grad._backend is not p._backend or grad._data.shape != p._data.shape:
                    raise GradError(
                        f"{self._name()}: the gradient of a parameter of shape {tuple(p.shape)} on {p.device} "
                        f"has shape {tuple(grad.shape)} on {grad.device}; they must match"
                    )
                state = self.state.setdefault(p, {})
                if state:
                    _follow_param(p, state)
                self._update(p, group, state)
                # The parameter changed in place: a graph built from its old values can't backward now.
                p._version_box[0] += 1
        return loss

    def _update(self, p: Tensor, group: dict, state: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _grad_array(p: Tensor):
        """The gradient's storage in the parameter's dtype and layout, as the kernels expect."""
        g = p._grad._data
        if g.dtype != p._data.dtype:
            g = p._backend.astype(g, p._data.dtype)
        return p._backend.contiguous(g)

    def __repr__(self) -> str:
        lines = [f"{self._name()} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
