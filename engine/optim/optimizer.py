"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``step`` and state dicts, as in PyTorch.

A subclass writes ``_update(p, group, state)`` for one parameter. SGD and Adam call a backend
fast path (``sgd_update``, ``adam_update``: one fused kernel per device, with a default composed
from primitives in ``engine/backends/base.py``); the others are written with tensor ops under
``no_grad``, in place on the parameter's storage, so every device runs them and the Parameter
objects never change.

``state_dict()`` is PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params":
[indices]}]}``, the parameters numbered in group order; ``load_state_dict`` maps the indices back
onto this optimizer's parameters and casts each state tensor to its parameter's device and dtype.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
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


def _cast_state(p: Tensor, value: Any, key: Any = None) -> Any:
    """A loaded state value made ready for parameter ``p``: tensors on p's device (and in p's dtype
    when p is floating point, as PyTorch), nested dicts and sequences alike; ``step`` as an int."""
    if key == "step":
        return _step_number(value)
    if isinstance(value, Tensor):
        value = value.to(p.device)
        return value.to(p.dtype) if p.dtype.is_floating_point and value.dtype.is_floating_point else value
    if isinstance(value, dict):
        return {k: _cast_state(p, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, v) for v in value)
    return value


def _step_number(value: Any) -> int:
    """The step count from a state dict: PyTorch stores a float32 0-d tensor, we keep an int."""
    number = value.item() if isinstance(value, Tensor) else value
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) or number < 0:
        raise EngineValueError(f"load_state_dict: 'step' must be a count >= 0, got {value!r}")
    return int(number)


class Optimizer:
    """Base class: ``params`` is an iterable of tensors or of dicts (``{"params": [...], "lr": ...}``).

    ``param_groups`` is a list of dicts holding each group's parameters and hyperparameters
    (edit ``group["lr"]`` to change the learning rate); ``state`` maps a parameter to its buffers
    (a ``defaultdict(dict)``, as in PyTorch). The step count in ``state[p]["step"]`` is an int here
    (PyTorch keeps a float32 0-d tensor); ``state_dict()`` writes it as PyTorch does.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
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
        self._init_group_state(group)

    def _init_group_state(self, group: dict) -> None:
        """State a subclass creates up front rather than at the first step (Adagrad's sums)."""

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
        if group.get("differentiable"):
            raise EngineValueError(
                f"{self._name()}: differentiable=True is not supported (the update is not recorded in a graph)"
            )

    def _check_nonnegative(self, group: dict, *keys: str) -> None:
        for key in keys:
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise EngineValueError(f"{self._name()}: invalid {key} value {value!r}; it must be >= 0")

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
        self._opt_called = True  # read by the learning-rate schedulers (their order-of-calls warning)
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        """Update each parameter of ``group`` that has a gradient (``_update`` for one parameter).
        A subclass may override this to read the group's hyperparameters once per group."""
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            if grad._backend is not p._backend or grad._data.shape != p._data.shape:
                raise self._grad_mismatch(p, grad)
            # Read without creating an entry: an optimizer that keeps nothing for p (SGD
            # without momentum) leaves ``state`` empty, as PyTorch's does.
            state = self.state.get(p)
            if state is None:
                state = {}
            elif state:
                _follow_param(p, state)
            self._update(p, group, state)
            if state and p not in self.state:
                self.state[p] = state
            # The parameter changed in place: a graph built from its old values can't backward now.
            p._version_box[0] += 1

    def _grad_mismatch(self, p: Tensor, grad: Tensor) -> GradError:
        return GradError(
            f"{self._name()}: the gradient of a parameter of shape {tuple(p.shape)} on {p.device} "
            f"has shape {tuple(grad.shape)} on {grad.device}; they must match"
        )

    def _update(self, p: Tensor, group: dict, state: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _grad_array(p: Tensor):
        """The gradient's storage in the parameter's dtype and layout, as the kernels expect."""
        g = p._grad._data
        if g.dtype != p._data.dtype:
            g = p._backend.astype(g, p._data.dtype)
        return p._backend.contiguous(g)

    @staticmethod
    def _grad_tensor(p: Tensor, maximize: bool = False) -> Tensor:
        """The gradient as a tensor in the parameter's dtype, outside any graph (negated to maximize)."""
        g = p._grad.detach()
        if g.dtype != p.dtype:
            g = g.to(p.dtype)
        return -g if maximize else g

    # ---- state dicts ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{hyperparameters..., "params": [indices]}]}``.

        Parameters are numbered 0, 1, ... across the groups in order. The state tensors are the
        optimizer's own (not copies, as in PyTorch: save or clone them); ``step`` is written as
        a float32 0-d tensor on the host, PyTorch's form.
        """
        from engine.core.dtypes import float32
        from engine.core.tensor import tensor

        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        packed_state = {}
        for p, value in self.state.items():
            entry = dict(value)
            if isinstance(entry.get("step"), int):
                entry["step"] = tensor(float(entry["step"]), dtype=float32, device="cpu")
            packed_state[index[id(p)] if isinstance(p, Tensor) else p] = entry
        return {"state": packed_state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take the hyperparameters and state of ``state_dict`` (from ``state_dict()`` of an optimizer
        of the same kind over parameters of the same shapes, in the same group layout).

        State tensors are moved to their parameter's device and cast to its dtype (floating
        point ones); a tensor already there is used as it is, not copied, as in PyTorch.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise EngineValueError(
                f"{self._name()}.load_state_dict: expected a dict with 'state' and 'param_groups' (from "
                f"optimizer.state_dict()), got {type(state_dict).__name__}"
            )
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise EngineValueError(
                f"{self._name()}.load_state_dict: loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}, this optimizer has {len(self.param_groups)})"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved.get("params", ())):
                raise EngineValueError(
                    f"{self._name()}.load_state_dict: loaded state dict contains a parameter group that doesn't "
                    f"match the size of optimizer's group (group {i}: {len(saved.get('params', ()))} parameters "
                    f"saved, {len(group['params'])} here)"
                )
        by_index = dict(
            zip(chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in self.param_groups))
        )
        state: defaultdict[Any, dict] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in by_index:
                p = by_index[key]
                for name, t in value.items():
                    if isinstance(t, Tensor) and name != "step" and tuple(t.shape) not in ((), tuple(p.shape)):
                        raise EngineValueError(
                            f"{self._name()}.load_state_dict: state {name!r} of parameter {key} has shape "
                            f"{tuple(t.shape)}, but the parameter has shape {tuple(p.shape)}"
                        )
                state[p] = _cast_state(p, value)
            else:
                state[key] = value  # state of no parameter is kept as it is (PyTorch's choice)
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            merged = {**self.defaults, **saved, "params": group["params"]}
            self._check_group(merged)
            groups.append(merged)
        self.state = state
        self.param_groups = groups

    def __repr__(self) -> str:
        text = self._name() + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(k for k in group if k != "params"):
                text += f"    {key}: {group[key]}\n"
        return text + ")"
