"""``Parameter``: a tensor that a ``Module`` owns and an optimizer updates."""

from __future__ import annotations

from typing import Any

from engine.core.tensor import Tensor
from engine.errors import EngineTypeError


class Parameter(Tensor):
    """A leaf tensor that requires grad; assigning one to a ``Module`` attribute registers it.

    ``nn.Parameter(t)`` shares ``t``'s storage (as in PyTorch): it is the same numbers seen
    as a trainable leaf. ``requires_grad=False`` makes a frozen parameter.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            from engine.core.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise EngineTypeError(
                f"Parameter: expected a tensor, got {type(data).__name__}; wrap it with engine.tensor()"
            )
        p = cls._make(data._data, data._device, data._backend)
        if requires_grad:
            p.requires_grad_(True)  # checks the dtype is floating point
        return p

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        # Everything happens in __new__; Tensor.__init__ would build a second copy.
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce__(self):
        raise EngineTypeError("Parameter: pickling is not supported; save a state_dict with engine.save()")
