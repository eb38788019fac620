"""``parameters_to_vector`` and ``vector_to_parameters``: all parameters as one flat vector and back."""

from __future__ import annotations

from collections.abc import Iterable

from engine.core.tensor import Tensor
from engine.errors import EngineTypeError, ShapeError


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated in order (a new tensor, in the graph)."""
    from engine.core.tensor import cat

    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise EngineTypeError(f"parameters_to_vector: entry {i} is a {type(p).__name__}, not a tensor")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Point each parameter's ``.data`` at its consecutive slice of the 1-D ``vec`` (as PyTorch: the
    parameters then share ``vec``'s storage)."""
    if not isinstance(vec, Tensor):
        raise EngineTypeError(f"vector_to_parameters: expected 'vec' to be a tensor, but got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ShapeError(
            f"vector_to_parameters: vec must be 1-D with {total} elements (the parameters' total), "
            f"got shape {tuple(vec.shape)}"
        )
    offset = 0
    for p in params:
        n = p.numel()
        p.data = vec[offset:offset + n].view_as(p).data
        offset += n
