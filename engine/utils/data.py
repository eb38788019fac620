"""``Dataset``, ``TensorDataset``, ``Subset``, ``random_split`` and ``DataLoader``, as in PyTorch.

A ``DataLoader`` walks a dataset in mini-batches: it takes ``batch_size`` indices at a time
(shuffled each epoch from the engine's generator when ``shuffle=True``, so ``manual_seed``
makes it repeatable) and collates the items by stacking. For a ``TensorDataset`` it skips
the per-item work and indexes every tensor once with the whole batch of indices.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from engine.core.tensor import Tensor
from engine.errors import EngineTypeError, EngineValueError, ShapeError


class Dataset:
    """Anything with ``__getitem__(i)`` and ``__len__``: subclass it and write both."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Item i is ``(t[i] for t in tensors)``; all tensors must have the same first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise EngineValueError("TensorDataset: give at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise EngineTypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a tensor")
            if t.ndim == 0:
                raise ShapeError(
                    f"TensorDataset: argument {i} is a 0-d tensor; each tensor needs a first (sample) dimension"
                )
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise ShapeError(
                f"TensorDataset: size mismatch between tensors: first dimensions are {sizes}; they must be equal"
            )
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order (``indices`` kept as given, as in PyTorch).

    ``subset[i]`` is ``dataset[indices[i]]``; a list of positions looks them all up at once
    (``dataset[[indices[i] for i in positions]]``), as PyTorch's Subset does.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int | list) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """Items at several positions (what a batching loader asks for)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def _permutation(n: int, generator: Any) -> list[int]:
    """A random order of range(n): from the engine's generator (``manual_seed``), or from
    ``generator`` (a ``numpy.random.Generator``, or anything ``engine.randperm`` accepts)."""
    if generator is None:
        from engine.core.random import generator as default

        return default().permutation(n).tolist()
    if isinstance(generator, np.random.Generator):
        return generator.permutation(n).tolist()
    from engine.core.creation import randperm

    try:
        return randperm(n, generator=generator).tolist()
    except TypeError:
        raise EngineTypeError(
            f"random_split: generator must be None or a numpy.random.Generator, got {type(generator).__name__}"
        ) from None


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: Any = None) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths, PyTorch's way.

    Lengths that sum to 1 (and not more) are fractions: each split gets floor(n * fraction)
    items and the remainder is dealt one by one from the first split on. The order comes from
    ``generator``, by default the engine's own (so ``engine.manual_seed`` makes it repeatable).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise EngineValueError(f"random_split: Fraction at index {i} is not between 0 and 1, got {fraction}")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):  # the remainder goes round-robin
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              UserWarning, stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise EngineValueError(
            f"random_split: Sum of input lengths does not equal the length of the input dataset! "
            f"(lengths {list(lengths)} sum to {sum(lengths)}, not the dataset size {n})"
        )
    order = _permutation(n, generator)
    out, start = [], 0
    for count in lengths:
        out.append(Subset(dataset, order[start : start + count]))
        start += count
    return out


def default_collate(batch: list) -> Any:
    """Stack a list of items into a batch: tensors -> one stacked tensor, numbers -> a tensor,
    tuples/lists -> a tuple of collated fields, dicts -> a dict of collated values."""
    from engine.core.tensor import stack, tensor

    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch)
    if isinstance(first, np.ndarray):
        return tensor(np.stack(batch))
    if isinstance(first, (bool, np.bool_)):
        return tensor(batch)
    if isinstance(first, numbers.Integral):
        return tensor(batch)  # int64
    if isinstance(first, numbers.Real):
        return tensor(np.asarray(batch, dtype=np.float64))  # PyTorch collates Python floats to float64
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([item[key] for item in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in batch):
            raise ShapeError("default_collate: each item in the batch must have the same number of fields")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise EngineTypeError(f"default_collate: can't batch items of type {type(first).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    ``shuffle`` draws a new order each epoch; ``drop_last`` drops a final batch smaller than
    ``batch_size``. ``num_workers`` is accepted for PyTorch compatibility and ignored (batches
    are made in this process). ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list], Any] | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        bad_size = isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0
        if batch_size is not None and bad_size:
            raise EngineValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise EngineTypeError(f"DataLoader: the dataset ({type(dataset).__name__}) needs __getitem__ and __len__")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.num_workers = num_workers

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            from engine.core.random import generator

            return generator().permutation(n)
        return np.arange(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        if self.batch_size is None:  # no batching: items one by one, as PyTorch does
            for i in order:
                yield self.dataset[int(i)]
            return
        fast = type(self.dataset) is TensorDataset and self.collate_fn is None
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            if len(indices) < self.batch_size and self.drop_last:
                return
            if fast:
                yield tuple(_take(t, indices) for t in self.dataset.tensors)
            else:
                items = [self.dataset[int(i)] for i in indices]
                yield (self.collate_fn or default_collate)(items)


def _take(t: Tensor, indices: np.ndarray) -> Tensor:
    """Rows ``indices`` of ``t`` in one gather (a graph node only when ``t`` requires grad)."""
    if t.requires_grad:
        return t[indices]
    return t._like(t._backend.getitem(t._data, (indices,)))
