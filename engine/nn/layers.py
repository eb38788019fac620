"""Layers: ``Linear``, the activations, ``Identity``, ``Flatten``/``Unflatten``, ``Dropout``, and the
containers ``Sequential``, ``ModuleList`` and ``ModuleDict``.

``Sequential`` fuses a ``Linear`` followed directly by ``ReLU``, ``Sigmoid`` or ``Tanh`` into one
fused linear node (one kernel call forward and one backward instead of two each): the fast path
for MLPs, with the same numbers and gradients as running the two layers one after the other.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from engine.core.tensor import Tensor
from engine.errors import EngineTypeError, EngineValueError
from engine.nn import functional as F
from engine.nn import init
from engine.nn.module import Module
from engine.nn.module import _add_indent as _indent
from engine.nn.parameter import Parameter


class Identity(Module):
    """y = x (a placeholder layer; accepts and ignores any constructor arguments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return input


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features) and b of shape (out_features,).

    Initialised as PyTorch does: W and b from U(-1/sqrt(in_features), 1/sqrt(in_features))
    (``kaiming_uniform_`` with a = sqrt(5) for W), drawn in that order from the engine's generator.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise EngineValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        from engine.core.creation import empty

        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor, activation: str | None = None) -> Tensor:  # noqa: A002
        return F.linear(input, self.weight, self.bias, activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


# ---- activations ----------------------------------------------------------------------------------

class ReLU(Module):
    """max(0, x);  d/dx = 1 for x > 0, else 0."""

    fused = "relu"  # the name Sequential passes to the fused linear kernel

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + e^-x);  d/dx = s (1 - s)."""

    fused = "sigmoid"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.sigmoid(input)


class Tanh(Module):
    """tanh x;  d/dx = 1 - tanh^2."""

    fused = "tanh"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanh(input)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x Phi(x) (Phi the standard normal CDF), or its tanh approximation with ``approximate='tanh'``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise EngineValueError(f"GELU: approximate must be either 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, a smooth ReLU; linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax along ``dim``: probabilities that sum to 1."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax along ``dim`` (pair it with ``NLLLoss``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, self.dim)


class Flatten(Module):
    """Merge dims ``start_dim`` to ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: Unflatten(1, (2, 5)) takes (N, 10) to (N, 2, 5).

    One entry of ``unflattened_size`` may be -1 (inferred), as in ``view``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise EngineTypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)) or any(
            isinstance(d, bool) or not isinstance(d, int) for d in unflattened_size
        ):
            raise EngineTypeError(
                f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        shape = tuple(input.shape)
        if not -len(shape) <= self.dim < len(shape):
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for a {len(shape)}-d input")
        d = self.dim % len(shape)
        return input.reshape(*shape[:d], *self.unflattened_size, *shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """While training, zero each element with probability p and scale the rest by 1/(1-p); identity in eval()."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise EngineValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# ---- containers -----------------------------------------------------------------------------------

def _fusable(layer: Module, following: Module | None) -> str | None:
    """The activation name to fuse into ``layer``, when layer is a plain Linear followed by a plain activation.

    Subclasses that override ``forward`` are never fused: their own forward must run.
    """
    if following is None or type(layer).forward is not Linear.forward or not isinstance(layer, Linear):
        return None
    act = getattr(type(following), "fused", None)
    if act is None or type(following).forward is not _ACTIVATION_FORWARD.get(act):
        return None
    return act


class Sequential(Module):
    """Run modules in order, each one's output the next one's input.

    ``Sequential(a, b, c)`` names them ``0``, ``1``, ``2``; ``Sequential(OrderedDict(name=module))``
    keeps the names. Indexing, slicing, ``len`` and iteration work as on a list.
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self._add(name, module)
        else:
            for i, module in enumerate(args):
                self._add(str(i), module)

    def _add(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise EngineTypeError(f"Sequential: entry {name} is a {type(module).__name__}, not an nn.Module")
        self.add_module(name, module)

    def forward(self, input: Any) -> Any:  # noqa: A002
        layers = list(self._modules.values())
        n = len(layers)
        i = 0
        while i < n:
            layer = layers[i]
            act = _fusable(layer, layers[i + 1]) if i + 1 < n else None
            if act is not None:
                input = layer.forward(input, act)  # Linear + activation: one fused node
                i += 2
            else:
                input = layer(input)
                i += 1
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _index(self, idx: int) -> int:
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"Sequential: index {idx} is out of range for {n} modules")
        return idx % n

    def __getitem__(self, idx: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[self._index(idx)][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        name = list(self._modules)[self._index(idx)]
        if not isinstance(module, Module):
            raise EngineTypeError(f"Sequential: entry {name} must be an nn.Module, got {type(module).__name__}")
        self._modules[name] = module

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)
        targets = names[idx] if isinstance(idx, slice) else [names[self._index(idx)]]
        for name in targets:
            del self._modules[name]

    def append(self, module: Module) -> Sequential:
        self._add(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent registers (no forward of its own).

    Indexing (negative too), slices (a new ModuleList), assignment, ``del``, ``insert``, ``pop``,
    ``append``, ``extend``, ``+`` and ``+=`` behave as on a list; entries are named ``0``, ``1``, ...
    and renumbered after a deletion, as in PyTorch.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _abs_index(self, idx: int) -> int:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise EngineTypeError(f"ModuleList: indices must be integers or slices, not {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"ModuleList: index {idx} is out of range for {n} modules")
        return idx % n

    def _renumber(self, modules: list) -> None:
        """Name the modules 0..n-1 in order (mutating the registry in place keeps every view of it)."""
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    @staticmethod
    def _check(module: object) -> Module:
        if not isinstance(module, Module):
            raise EngineTypeError(f"ModuleList: entries must be nn.Modules, got {type(module).__name__}")
        return module

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), self._check(module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise EngineTypeError(
                f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}"
            )
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, self._check(module))
        self._renumber(modules)

    def pop(self, key: int | slice) -> Module | ModuleList:
        value = self[key]
        del self[key]
        return value

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Module | ModuleList:
        values = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(values[idx])
        return values[self._abs_index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self._modules[str(self._abs_index(idx))] = self._check(module)

    def __delitem__(self, idx: int | slice) -> None:
        values = list(self._modules.values())
        if isinstance(idx, slice):
            del values[idx]
        else:
            del values[self._abs_index(idx)]
        self._renumber(values)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        combined = ModuleList(self)
        combined.extend(other)
        return combined

    def __repr__(self) -> str:
        """PyTorch's layout, with runs of identical entries folded: ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list] = []  # [first index, last index, text]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            label = f"({first}): {text}" if first == last else f"({first}-{last}): {last - first + 1} x {text}"
            lines.append(_indent(label, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of named modules whose parameters the parent registers (no forward of its own).

    Keeps insertion order; ``update`` takes a mapping or an iterable of (name, module) pairs.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise EngineTypeError(f"ModuleDict: {key!r} must be an nn.Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        value = self[key]
        del self[key]
        return value

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        if not isinstance(modules, Iterable):
            raise EngineTypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, but got "
                f"{type(modules).__name__}"
            )
        for j, pair in enumerate(modules):
            if not isinstance(pair, Iterable) or isinstance(pair, (str, Module)):
                raise EngineTypeError(
                    f"ModuleDict update sequence element #{j} should be a (name, module) pair; is {type(pair).__name__}"
                )
            pair = tuple(pair)
            if len(pair) != 2:
                raise EngineValueError(
                    f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is required"
                )
            self[pair[0]] = pair[1]


_ACTIVATION_FORWARD = {"relu": ReLU.forward, "sigmoid": Sigmoid.forward, "tanh": Tanh.forward}
