"""Module-level forms of the data-movement methods: ``engine.flip(x, dims)``, ``engine.split(x, 2)``...

Each is PyTorch's ``torch.<name>`` signature over the method of the same name
(``engine.core.tensor_shape.ShapeMethods``), where the checks and the calculus are.
"""

from __future__ import annotations

from typing import Any

from engine.core.tensor import Tensor
from engine.errors import EngineTypeError


def _tensor(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise EngineTypeError(f"{op}: input must be a tensor, got {type(x).__name__}")
    return x


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """``out[i][j] = input[i][index[i][j]]`` for dim 1 (``sparse_grad`` is accepted; the gradient is dense)."""
    return _tensor(input, "gather").gather(dim, index)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *, reduce=None) -> Tensor:  # noqa: A002
    """A copy of input with ``src`` (or the number ``value``) written at ``index`` along ``dim``."""
    return _tensor(input, "scatter").scatter(dim, index, src, value, reduce=reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of input with ``src`` added at ``index`` along ``dim`` (repeated places add up)."""
    return _tensor(input, "scatter_add").scatter_add(dim, index, src)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    return _tensor(input, "index_select").index_select(dim, index)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:  # noqa: A002
    return _tensor(input, "masked_fill").masked_fill(mask, value)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    return _tensor(input, "narrow").narrow(dim, start, length)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    return _tensor(tensor, "split").split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    return _tensor(input, "chunk").chunk(chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    return _tensor(input, "unbind").unbind(dim)


def flip(input: Tensor, dims) -> Tensor:  # noqa: A002
    """``input`` reversed along each of ``dims`` (a list or tuple of ints, as in PyTorch; an int is taken too)."""
    return _tensor(input, "flip").flip(dims)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    return _tensor(input, "fliplr").fliplr()


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    return _tensor(input, "flipud").flipud()


def roll(input: Tensor, shifts, dims=None) -> Tensor:  # noqa: A002
    return _tensor(input, "roll").roll(shifts, dims)


def tile(input: Tensor, dims) -> Tensor:  # noqa: A002
    return _tensor(input, "tile").tile(dims)


def movedim(input: Tensor, source, destination) -> Tensor:  # noqa: A002
    return _tensor(input, "movedim").movedim(source, destination)


moveaxis = movedim


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:
    """Each entry of ``input`` repeated ``repeats`` times along ``dim``. With ``input`` alone (an
    int64 tensor of counts), the indices 0, 1, ... each repeated that many times, as in PyTorch:
    ``repeat_interleave(tensor([2, 1]))`` is ``tensor([0, 0, 1])``."""
    input = _tensor(input, "repeat_interleave")  # noqa: A001
    if repeats is None:
        from engine.core.creation import arange

        counts = input
        if counts.ndim != 1:
            raise EngineTypeError(
                f"repeat_interleave: repeats alone must be a 1-d int64 tensor, got shape {tuple(counts.shape)}"
            )
        return arange(counts.shape[0], device=counts.device).repeat_interleave(counts, 0, output_size=output_size)
    return input.repeat_interleave(repeats, dim, output_size=output_size)
