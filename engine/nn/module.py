"""``Module``: the container of parameters and submodules that every layer and model subclasses.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it (in assignment order),
so ``parameters()``, ``state_dict()``, ``to(device)`` and ``repr`` find everything without the
user listing it. ``model(x)`` calls ``model.forward(x)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from engine.autograd.grad_mode import no_grad
from engine.core.tensor import Tensor
from engine.errors import EngineTypeError, EngineValueError, ShapeError
from engine.nn.parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: model keys it did not find, file keys it did not use."""

    missing_keys: list
    unexpected_keys: list


def _add_indent(text: str, spaces: int) -> str:
    """Indent every line but the first (PyTorch's layout for nested module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


class Module:
    """Base class of layers and models: subclass it, build layers in ``__init__``, write ``forward``."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- registration -----------------------------------------------------------------------
    def _registry(self, name: str) -> dict:
        registry = self.__dict__.get(name)
        if registry is None:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign a parameter or submodule before Module.__init__() is called; "
                "call super().__init__() first in __init__"
            )
        return registry

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._forget(name)
            self._registry("_parameters")[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._registry("_modules")[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise EngineTypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} as parameter {name!r}; "
                    "use nn.Parameter(...) or None"
                )
            params[name] = None
        elif params is not None and name in self._modules:
            if value is not None:
                raise EngineTypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} as child module {name!r}; "
                    "use an nn.Module or None"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise EngineTypeError(f"{type(self).__name__}: buffer {name!r} must be a tensor or None")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Remove ``name`` from wherever it was, so re-assigning a different kind of thing works."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            self.__dict__.get(registry, {}).pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when ordinary lookup fails: look in the registries (parameters first,
        # written out: a Linear reads its weight and bias here at every forward).
        params = self.__dict__.get("_parameters")
        if params is not None and name in params:
            return params[name]
        for registry in ("_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                del found[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise EngineTypeError(
                f"register_parameter: {name!r} must be an nn.Parameter or None, got {type(param).__name__}"
            )
        self._forget(name)
        self._registry("_parameters")[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor the module keeps and moves with ``to()`` but does not train (saved in state_dict)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise EngineTypeError(f"register_buffer: {name!r} must be a tensor or None, got {type(tensor).__name__}")
        self._forget(name)
        self._registry("_buffers")[name] = tensor
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (what assigning it to an attribute does)."""
        if module is not None and not isinstance(module, Module):
            raise EngineTypeError(f"add_module: {name!r} must be an nn.Module or None, got {type(module).__name__}")
        if not isinstance(name, str):
            raise EngineTypeError(f"add_module: module name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f'module name can\'t be empty or contain ".", got: {name!r}')
        if name not in self._registry("_modules") and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name)
        self._registry("_modules")[name] = module

    register_module = add_module

    # ---- traversal --------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, depth first, each once."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # iterative: deep models must not hit the recursion limit
            name, module = stack.pop()
            if id(module) in memo:
                continue
            memo.add(id(module))
            yield name, module
            children = [
                (f"{name}.{key}" if name else key, child) for key, child in module._modules.items() if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or id(value) in seen:
                    continue  # a tensor shared by two modules is listed once
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, in registration order, names dotted by submodule (``0.weight``)."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule and then on this module (``model.apply(init_weights)``)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- training state ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode here and below (Dropout reads it); ``eval()`` is ``train(False)``."""
        if not isinstance(mode, bool):
            raise EngineTypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None), or fill it with zeros when ``set_to_none=False``."""
        from engine.optim.optimizer import zero_grads

        zero_grads(self.parameters(), set_to_none)

    # ---- devices and dtypes -----------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move (and/or cast) every parameter and buffer *in place*: ``model.to("c")``, ``model.to(engine.float64)``.

        The Parameter objects stay the same, so an optimizer built before the move still holds them.
        A dtype applies to floating point tensors only (as in PyTorch), and only a floating
        point dtype may be given: an integer model would truncate every weight.
        """
        _check_module_dtype(args, kwargs)
        for t in list(self.parameters()) + list(self.buffers()):
            _move_in_place(t, args, kwargs)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    def float(self) -> Module:
        from engine.core.dtypes import float32

        return self.to(float32)

    def double(self) -> Module:
        from engine.core.dtypes import float64

        return self.to(float64)

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, in registration order.

        The tensors share storage with the model (detached unless ``keep_vars``), as in PyTorch.
        """
        out = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            skip = module.__dict__.get("_non_persistent", set())
            for registry in ("_parameters", "_buffers"):
                for name, value in module.__dict__[registry].items():
                    if value is None or name in skip:
                        continue
                    key = f"{module_prefix}.{name}" if module_prefix else name
                    out[key] = value if keep_vars else value.detach()
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this model's parameters and buffers, in place.

        Shapes must match exactly. With ``strict`` (the default), a key the model has that the
        dict lacks, or one the dict has that the model lacks, is an error; otherwise they are
        returned. Nothing is copied unless every check passes.
        """
        if not hasattr(state_dict, "items"):
            raise EngineTypeError(f"load_state_dict: expected a dict of tensors, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        where = f"load_state_dict for {type(self).__name__}"
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                shape = tuple(getattr(state_dict[key], "shape", ()))
                if shape != tuple(target.shape):
                    mismatched.append(
                        f"{key}: the checkpoint has shape {shape}, the model has shape {tuple(target.shape)}"
                    )
        if mismatched:
            raise ShapeError(f"{where}: size mismatch for " + "; ".join(mismatched))
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise EngineValueError(
                f"{where}: " + "; ".join(parts) + " (pass strict=False to load the keys that match)"
            )
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    _copy_into(target, state_dict[key])
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to ``path`` as a numpy ``.npz`` archive (no pickle)."""
        from engine.core.serialization import save

        save(self.state_dict(), path)

    def load(self, path: str, strict: bool = True) -> Module:
        """Read a file written by ``save`` into this model (``load_state_dict``); returns the model."""
        from engine.core.serialization import load

        self.load_state_dict(load(path), strict=strict)
        return self

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses, e.g. ``in_features=2, out_features=8, bias=True``."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _add_indent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _move_in_place(t: Tensor, args: tuple, kwargs: dict) -> None:
    """Give tensor ``t`` the storage of ``t.to(*args)``, keeping the object (and its grad) in step."""
    args, kwargs = _floating_only(t, args, kwargs)
    moved = t.detach().to(*args, **kwargs)
    # Always re-point: two devices may share host storage (numpy and c), so identity says nothing.
    t._data, t._device, t._backend = moved._data, moved._device, moved._backend
    if t.grad is not None:
        t.grad = t.grad.to(*args, **kwargs)


def _check_module_dtype(args: tuple, kwargs: dict) -> None:
    from engine.backends import Device
    from engine.core.dtypes import as_dtype

    dtypes_given = [a for a in args if not isinstance(a, (str, Device, Tensor))]
    if kwargs.get("dtype") is not None:
        dtypes_given.append(kwargs["dtype"])
    for d in dtypes_given:
        if not as_dtype(d).is_floating_point:
            raise EngineTypeError(
                f"Module.to only accepts floating point dtypes, but got desired dtype={as_dtype(d)}; "
                "cast the inputs instead, or use float32/float64"
            )


def _floating_only(t: Tensor, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Drop a dtype from the ``to`` arguments for integer/bool tensors: only floats are cast."""
    if t.dtype.is_floating_point:
        return args, kwargs
    from engine.backends import Device

    kept = tuple(a for a in args if isinstance(a, (str, Device)))
    return kept, {k: v for k, v in kwargs.items() if k == "device"}


def _copy_into(target: Tensor, value: Any) -> None:
    """target[...] = value, converting value to the target's device and dtype."""
    from engine.core.tensor import tensor

    source = value.detach() if isinstance(value, Tensor) else tensor(value)
    source = source.to(target.device).to(target.dtype)
    target._backend.setitem(target._data, (Ellipsis,), source._data)
    target._bump_version()
