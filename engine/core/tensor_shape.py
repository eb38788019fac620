"""Tensor methods that move or select data (``x.flip()``, ``x.index_select()``, ``x.chunk()``...).

``ShapeMethods`` is a mixin of ``Tensor``: each method checks its arguments and is written with
the views and ops the tensor already has (``x[key]``, ``reshape``, ``permute``, ``repeat``,
``clone``), or one op from ``engine.ops``; so each is differentiable wherever its parts are, on
every device. This module sits below ``engine.core.tensor`` (which imports the mixin), so it
reaches tensors only through ``self``.

Two writes have a rule PyTorch leaves open:

- ``scatter`` with an index that names one place several times: the last write in the index's
  C order wins (what PyTorch's CPU kernel does), on every device; the writes that lose get a
  zero gradient (they do not reach the output; PyTorch hands them the winner's gradient).
- the index of ``gather``/``scatter``/``scatter_add`` may be smaller than ``self`` off ``dim``:
  only the front corner it covers takes part, as in PyTorch.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from engine.autograd.op import TensorBase
from engine.backends.layout import broadcast_shapes
from engine.core import dtypes
from engine.errors import DeviceError, DTypeError, EngineTypeError, EngineValueError, ShapeError
from engine.ops import elementwise as _ew
from engine.ops import movement as _mv
from engine.ops import shape as _shp


def normalize_dim(dim: Any, ndim: int, op: str) -> int:
    """``dim`` in [0, ndim) (a 0-d tensor counts as 1-d, as in PyTorch), or a one-line error."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, (bool, np.bool_)):
        raise EngineTypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise EngineValueError(f"{op}: dim {dim} is out of range for a {ndim}-d tensor (valid: {-n} to {n - 1})")
    return int(dim) % n


def _integer(value: Any, op: str, name: str) -> int:
    """A Python int from an int, a numpy integer or a one-element integer tensor; else a one-line error."""
    if isinstance(value, TensorBase) and value._data.size == 1 and not value.dtype.is_floating_point:
        value = value._backend.scalar(value._data)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise EngineTypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def _integers(values: Any, op: str, name: str) -> tuple:
    """``f(1, 2)``, ``f((1, 2))`` or ``f(1)`` as a tuple of Python ints."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = tuple(values[0])
    return tuple(_integer(v, op, name) for v in values)


def _axis_key(d: int, part: Any) -> tuple:
    """The key that applies ``part`` (a slice, an int, an index array) to dimension ``d`` only."""
    return (slice(None),) * d + (part,)


def _index_tensor(x: TensorBase, index: Any, op: str) -> TensorBase:
    """``index`` checked as an int64 tensor on ``x``'s device."""
    if not isinstance(index, TensorBase):
        raise EngineTypeError(f"{op}: index must be an int64 tensor, got {type(index).__name__}")
    if index.dtype is not dtypes.int64:
        raise DTypeError(f"{op}: index must be an int64 tensor, got {index.dtype.name}; use index.long()")
    if index._backend is not x._backend:
        raise DeviceError(
            f"{op}: the index is on device {index.device} but the tensor is on {x.device}; move it with .to(device)"
        )
    return index


def _bounds(index: TensorBase) -> tuple:
    """(smallest, largest) entry of a non-empty index, with one transfer to the host."""
    bk, x = index._backend, index._data
    low, high = bk.min(x, None, arg=False)[0], bk.max(x, None, arg=False)[0]
    both = bk.concatenate([bk.reshape(low, (1,)), bk.reshape(high, (1,))], 0)
    low, high = bk.to_numpy(both).tolist()
    return low, high


def _check_range(op: str, low: int, high: int, d: int, n: int) -> None:
    if low < 0 or high >= n:
        bad = low if low < 0 else high
        raise EngineValueError(
            f"{op}: index {bad} is out of bounds for dimension {d} with size {n} (valid: 0 to {n - 1})"
        )


def _one_d(t: TensorBase) -> TensorBase:
    """A 0-d tensor as 1-d: gather and the scatters count a 0-d tensor as one dimension (PyTorch)."""
    return t.reshape(1) if t.ndim == 0 else t


def _fill_number(value: Any, dtype: dtypes.DType, op: str) -> np.generic:
    """A Python number as a scalar of ``dtype`` (floats into an integer dtype truncate toward 0, as in
    PyTorch); one that dtype can't hold (inf, nan, 2**70 into int64) is a one-line error."""
    if not dtypes.is_number(value):
        raise EngineTypeError(f"{op}: value must be a number, got {type(value).__name__} {value!r}")
    if not dtype.is_floating_point and dtype is not dtypes.bool_ and isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise EngineValueError(f"{op}: value {value} cannot be converted to {dtype.name} without overflow")
    return dtypes.number_as(value, dtype, op)


def _last_writes(shape: tuple, d: int, index: np.ndarray) -> tuple:
    """The places ``scatter`` writes, one write per place: (key into the output, key into the
    index/src) as tuples of 1-d host arrays. Where the index names a place several times, the last
    write in the index's C order is kept (PyTorch leaves the winner open; its CPU kernel does this)."""
    where = [np.broadcast_to(g, index.shape) for g in np.indices(index.shape, sparse=True)]
    where[d] = index
    flat = np.ravel_multi_index(tuple(w.reshape(-1) for w in where), shape)
    # np.unique gives each value's first position; over the reversed order that is the last write.
    _, first_from_end = np.unique(flat[::-1], return_index=True)
    kept = np.sort(flat.size - 1 - first_from_end)
    return np.unravel_index(flat[kept], shape), np.unravel_index(kept, index.shape)


def legacy_constructor_data(args: tuple, op: str = "Tensor") -> Any:
    """What PyTorch's legacy constructors mean by their arguments (``Tensor(784, 30)``,
    ``FloatTensor(2, 3)``, ``Tensor(Size([2, 3]))``, ``Tensor([1, 2])``), as data for ``engine.tensor``.

    Integers, or one ``Size``, are a shape: uninitialised memory in PyTorch, zeros here (returned
    as a numpy array of zeros). One sequence, array or tensor is the data itself (a plain tuple
    such as ``(2, 3)`` is data, as in PyTorch). No argument is an empty 1-d tensor. A lone float or
    bool is refused: it is neither a size nor a sequence.
    """
    if not args:
        return np.zeros((0,))
    first = args[0]
    size_object = isinstance(first, tuple) and type(first).__name__ == "Size"  # engine.Size, torch.Size
    is_int = isinstance(first, (numbers.Integral, np.integer)) and not isinstance(first, (bool, np.bool_))
    if len(args) == 1 and not size_object and not is_int:
        if dtypes.is_number(first):
            raise EngineTypeError(
                f"{op}: data must be a sequence (got {type(first).__name__}); "
                f"use engine.tensor({first!r}) for a 0-d tensor"
            )
        return first
    sizes = tuple(first) if size_object and len(args) == 1 else args
    for s in sizes:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (numbers.Integral, np.integer)):
            raise EngineTypeError(
                f"{op}: sizes must be integers, got {type(s).__name__} {s!r} in {tuple(sizes)}; "
                f"pass data as one list: {op}([1.0, 2.0])"
            )
    shape = tuple(int(s) for s in sizes)
    if any(s < 0 for s in shape):
        raise EngineValueError(f"{op}: negative dimension in {shape}; sizes must be >= 0")
    return np.zeros(shape)


class ShapeMethods:
    """Data movement and selection; mixed into ``engine.core.tensor.Tensor``."""

    __slots__ = ()

    # ---- reading along a dimension -------------------------------------------------------------
    def gather(self, dim: int, index, *, sparse_grad: bool = False):
        """``out[i][j] = self[i][index[i][j]]`` for dim 1 (any dim alike): one entry per position of
        ``index`` (int64, as many dims as self, no bigger than self except along ``dim``).

        d self = zeros with g added back at the same places (scatter_add). ``sparse_grad`` is
        accepted for PyTorch's signature; the gradient is dense.
        """
        d = normalize_dim(dim, self.ndim, "gather")
        index = _index_tensor(self, index, "gather")
        x, idx = _one_d(self), _one_d(index)
        if idx.ndim != x.ndim or any(idx.shape[k] > x.shape[k] for k in range(x.ndim) if k != d):
            raise ShapeError(
                f"gather: index of shape {tuple(index.shape)} does not fit input of shape {tuple(self.shape)}: "
                f"it needs as many dims, and no bigger sizes except along dim {d}"
            )
        if idx.numel():
            _check_range("gather", *_bounds(idx), d, x.shape[d])
        if any(idx.shape[k] < x.shape[k] for k in range(x.ndim) if k != d):
            # Off dim only the front corner the index covers is read: cut self to it (a view).
            x = x[tuple(slice(None) if k == d else slice(0, idx.shape[k]) for k in range(x.ndim))]
        out = _shp.Gather.apply(x, idx, d)
        return out.reshape(()) if index.ndim == 0 else out

    def index_select(self, dim: int, index):
        """The entries ``index`` (a 1-d int64 tensor) picks along ``dim``, in its order (repeats allowed):
        ``out[..., k, ...] = self[..., index[k], ...]``; d self = g added back at those places."""
        d = normalize_dim(dim, self.ndim, "index_select")
        index = _index_tensor(self, index, "index_select")
        if index.ndim > 1:
            raise ShapeError(
                f"index_select: index is supposed to be a vector (0-d or 1-d), got shape {tuple(index.shape)}"
            )
        host = np.asarray(index._backend.to_numpy(index._data)).reshape(-1)
        if self.ndim == 0:
            if host.size != 1:
                raise ShapeError(f"index_select: index to a 0-d tensor can have only 1 value, got {host.size}")
            _check_range("index_select", int(host.min()), int(host.max()), 0, 1)
            return self.reshape(1)[host].reshape(())
        if host.size:
            _check_range("index_select", int(host.min()), int(host.max()), d, self.shape[d])
        return self[_axis_key(d, host)]

    def narrow(self, dim: int, start, length: int):
        """``self`` restricted to ``start <= i < start + length`` along ``dim``: a view (writes show in self).
        A negative ``start`` counts from the end."""
        if self.ndim == 0:
            raise ShapeError("narrow: cannot be applied to a 0-d tensor")
        d = normalize_dim(dim, self.ndim, "narrow")
        start, length = _integer(start, "narrow", "start"), _integer(length, "narrow", "length")
        n = self.shape[d]
        if not -n <= start <= n:
            raise EngineValueError(
                f"narrow: start out of range (expected to be in range of [{-n}, {n}], but got {start})"
            )
        start = start + n if start < 0 else start
        if length < 0:
            raise EngineValueError(f"narrow: length must be non-negative, got {length}")
        if start + length > n:
            raise EngineValueError(
                f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {d}"
            )
        return self[_axis_key(d, slice(start, start + length))]

    # ---- writing along a dimension -------------------------------------------------------------
    def _scatter_operands(self, op: str, dim, index, src) -> tuple:
        """(dim, index) checked for scatter/scatter_add, and src's device and dtype (src may be None)."""
        d = normalize_dim(dim, self.ndim, op)
        index = _index_tensor(self, index, op)
        if src is not None:
            if src._backend is not self._backend:
                raise DeviceError(
                    f"{op}: src is on device {src.device} but the tensor is on {self.device}; move it with .to(device)"
                )
            if src.dtype is not self.dtype:
                raise DTypeError(
                    f"{op}: expected self.dtype to be equal to src.dtype, got {self.dtype.name} and {src.dtype.name}"
                )
        if index.numel() == 0:
            return d, index
        own, idx = tuple(_one_d(self).shape), tuple(_one_d(index).shape)
        if len(idx) != len(own):
            raise ShapeError(
                f"{op}: index of shape {tuple(index.shape)} must have as many dims as self (shape {tuple(self.shape)})"
            )
        source = tuple(_one_d(src).shape) if src is not None else None
        if source is not None and len(source) != len(idx):
            raise ShapeError(
                f"{op}: index of shape {tuple(index.shape)} must have as many dims as src (shape {tuple(src.shape)})"
            )
        too_big = any(idx[k] > own[k] for k in range(len(own)) if k != d)
        if source is not None:
            too_big = too_big or any(i > s for i, s in zip(idx, source))
        if too_big:
            against_src = f" and no larger than src {source}" if source is not None else ""
            raise ShapeError(
                f"{op}: expected index {idx} to be no larger than self {own} apart from dimension {d}{against_src}"
            )
        return d, index

    def scatter(self, dim: int, index, src=None, value=None, *, reduce=None):
        """A copy of self with ``out[index[i][j]][j] = src[i][j]`` for dim 0 (any dim alike); with a
        number ``value`` instead of ``src``, that number is written. Places named twice: the last
        write in index order wins (module docstring).

        d self = g with zeros where a value was written; d src = g read back at the places each
        winning entry went (0 for entries that were overwritten).
        """
        if reduce is not None:
            raise EngineValueError(f"scatter: reduce={reduce!r} is not supported; use scatter_add for 'add'")
        if src is not None and not isinstance(src, TensorBase):
            src, value = None, src  # scatter(dim, index, 2.0): the number is the value
        if src is None and value is None:
            raise EngineTypeError("scatter: give src (a tensor) or value (a number)")
        d, index = self._scatter_operands("scatter", dim, index, src)
        if index.numel() == 0:
            return self.clone()
        x, idx = _one_d(self), _one_d(index)
        host = np.asarray(idx._backend.to_numpy(idx._data))
        _check_range("scatter", int(host.min()), int(host.max()), d, x.shape[d])
        target, source = _last_writes(tuple(x.shape), d, host)
        v = _one_d(src)[source] if src is not None else _fill_number(value, self.dtype, "scatter")
        out = _shp.IndexPut.apply(x, v, key=target)
        return out.reshape(()) if self.ndim == 0 else out

    def scatter_add(self, dim: int, index, src):
        """A copy of self with ``out[index[i][j]][j] += src[i][j]`` for dim 0 (any dim alike); places
        named several times add every value. d self = g; d src = g read back at the same places."""
        if not isinstance(src, TensorBase):
            raise EngineTypeError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
        d, index = self._scatter_operands("scatter_add", dim, index, src)
        if index.numel() == 0:
            return self.clone()
        x, idx, s = _one_d(self), _one_d(index), _one_d(src)
        _check_range("scatter_add", *_bounds(idx), d, x.shape[d])
        if tuple(s.shape) != tuple(idx.shape):
            s = s[tuple(slice(0, n) for n in idx.shape)]  # only the part the index covers is read
        out = x + _mv.ScatterAdd.apply(s, idx, dim=d, shape=tuple(x.shape))
        return out.reshape(()) if self.ndim == 0 else out

    def masked_fill(self, mask, value):
        """``value`` where the bool ``mask`` is true, self elsewhere (mask and self broadcast);
        ``value`` is a number or a 0-d tensor, cast to self's dtype.

        d self = g where the mask is false; d value = the sum of g where it is true.
        """
        if not isinstance(mask, TensorBase):
            raise EngineTypeError(f"masked_fill: mask must be a bool tensor, got {type(mask).__name__}")
        if mask.dtype is not dtypes.bool_:
            raise DTypeError(f"masked_fill: only supports boolean masks, got a mask of dtype {mask.dtype.name}")
        if mask._backend is not self._backend:
            raise DeviceError(
                f"masked_fill: the mask is on device {mask.device} but the tensor is on {self.device}; "
                "move it with .to(device)"
            )
        try:
            broadcast_shapes(tuple(self.shape), tuple(mask.shape))
        except ValueError:
            raise ShapeError(
                f"masked_fill: the mask of shape {tuple(mask.shape)} does not broadcast with the tensor's "
                f"shape {tuple(self.shape)}"
            ) from None
        if isinstance(value, TensorBase):
            if value.ndim != 0:
                raise ShapeError(
                    f"masked_fill: only supports a 0-d value tensor, got one of shape {tuple(value.shape)}"
                )
            v = value.to(self.device).to(self.dtype)
        else:
            v = self._like(self._backend.full((), _fill_number(value, self.dtype, "masked_fill"), self._data.dtype))
        return _ew.Where.apply(mask, v, self)

    # The in-place forms are their out-of-place result written back with copy_, so they get whatever
    # copy_ does in a graph; the check comes first so that a refusal names the op the user called.
    def scatter_(self, dim: int, index, src=None, value=None, *, reduce=None):
        """In-place ``scatter``."""
        self._check_inplace("scatter_")
        return self.copy_(self.scatter(dim, index, src, value, reduce=reduce))

    def scatter_add_(self, dim: int, index, src):
        """In-place ``scatter_add``."""
        self._check_inplace("scatter_add_")
        return self.copy_(self.scatter_add(dim, index, src))

    def masked_fill_(self, mask, value):
        """In-place ``masked_fill``: the mask must broadcast to self's shape (self's shape is kept)."""
        self._check_inplace("masked_fill_")
        if isinstance(mask, TensorBase):
            try:
                fits = broadcast_shapes(tuple(self.shape), tuple(mask.shape)) == tuple(self.shape)
            except ValueError:
                fits = True  # masked_fill names the mismatch
            if not fits:
                raise ShapeError(
                    f"masked_fill_: the mask of shape {tuple(mask.shape)} is bigger than the tensor's shape "
                    f"{tuple(self.shape)}; an in-place result keeps the tensor's shape"
                )
        return self.copy_(self.masked_fill(mask, value))

    # ---- pieces ---------------------------------------------------------------------------------
    def split(self, split_size, dim: int = 0) -> tuple:
        """Views of consecutive pieces along ``dim``: of ``split_size`` each (the last may be smaller),
        or of the sizes in a list (which must add up to the dimension's size)."""
        if self.ndim == 0:
            raise ShapeError("split: expects at least a 1-dimensional tensor")
        d = normalize_dim(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size, (list, tuple)):
            sizes = [_integer(s, "split", "split_sizes") for s in split_size]
            if any(s < 0 for s in sizes):
                raise EngineValueError(f"split: split_sizes must be non-negative, got {sizes}")
            if sum(sizes) != n:
                raise EngineValueError(
                    f"split: split_sizes must sum exactly to {n} (the size of dim {d}), but got split_sizes={sizes}"
                )
        else:
            size = _integer(split_size, "split", "split_size")
            if size < 0:
                raise EngineValueError(f"split: split_size must be non-negative, got {size}")
            if size == 0 and n:
                raise EngineValueError(f"split: split_size can only be 0 if the dimension's size is 0, got size {n}")
            sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
        pieces, start = [], 0
        for s in sizes:
            pieces.append(self[_axis_key(d, slice(start, start + s))])
            start += s
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """At most ``chunks`` views along ``dim``, each of ceil(size / chunks) (the last may be smaller,
        and there may be fewer: 6 in 4 chunks is 2 + 2 + 2, as in PyTorch)."""
        if self.ndim == 0:
            raise ShapeError("chunk: expects at least a 1-dimensional tensor")
        chunks = _integer(chunks, "chunk", "chunks")
        if chunks <= 0:
            raise EngineValueError(f"chunk: expects `chunks` to be greater than 0, got {chunks}")
        d = normalize_dim(dim, self.ndim, "chunk")
        n = self.shape[d]
        if n == 0:
            return tuple(self[_axis_key(d, slice(0, 0))] for _ in range(chunks))
        return self.split(-(-n // chunks), d)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim``, each without that dimension (views)."""
        if self.ndim == 0:
            raise ShapeError("unbind: dimension specified as 0 but the tensor has no dimensions")
        d = normalize_dim(dim, self.ndim, "unbind")
        return tuple(self[_axis_key(d, i)] for i in range(self.shape[d]))

    # ---- rearranging ------------------------------------------------------------------------------
    def flip(self, *dims):
        """A copy with the order of the entries reversed along each of ``dims``: a reversed view
        (step -1), then compacted, as PyTorch's flip returns new memory. d self = g flipped back."""
        dims = _integers(dims, "flip", "dims")
        ds = [normalize_dim(d, self.ndim, "flip") for d in dims]
        if len(set(ds)) != len(ds):
            twice = next(d for d in ds if ds.count(d) > 1)
            raise EngineValueError(f"flip: dim {twice} appears multiple times in the list of dims {dims}")
        if self.ndim == 0 or not ds:
            return self.clone()
        return self[tuple(slice(None, None, -1) if k in ds else slice(None) for k in range(self.ndim))].clone()

    def fliplr(self):
        """flip(1): left and right swapped (needs at least 2 dims)."""
        if self.ndim < 2:
            raise ShapeError(f"fliplr: input must be >= 2-d, got shape {tuple(self.shape)}")
        return self.flip(1)

    def flipud(self):
        """flip(0): up and down swapped (needs at least 1 dim)."""
        if self.ndim < 1:
            raise ShapeError("flipud: input must be >= 1-d, got a 0-d tensor")
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """Entries moved ``shifts`` places along ``dims`` (forward for a positive shift), those pushed
        off the end coming back at the start; with no dims, over the flattened tensor (shape kept).
        Two views joined with cat: d self = g rolled back."""
        shift_list = _integers(shifts if isinstance(shifts, (tuple, list)) else (shifts,), "roll", "shifts")
        if dims is None:
            if len(shift_list) != 1:
                raise EngineValueError(
                    f"roll: shifts and dimensions must align: {len(shift_list)} shifts and no dims; "
                    "without dims give one shift"
                )
            if self.ndim == 0:
                return self.clone()
            return self.reshape(-1).roll(shift_list[0], 0).reshape(self.shape)
        dim_list = _integers(dims if isinstance(dims, (tuple, list)) else (dims,), "roll", "dims")
        if not shift_list:
            raise EngineValueError("roll: `shifts` required")
        if len(shift_list) != len(dim_list):
            raise EngineValueError(
                f"roll: shifts and dimensions must align: {len(shift_list)} shifts and {len(dim_list)} dims"
            )
        if self.ndim == 0:
            raise EngineValueError(f"roll: dimension specified as {dim_list[0]} but the tensor has no dimensions")
        out = self
        for shift, dim in zip(shift_list, dim_list):
            d = normalize_dim(dim, self.ndim, "roll")
            n = out.shape[d]
            s = shift % n if n else 0
            if s:
                # The last s entries come first: cat(x[n - s:], x[:n - s]).
                out = _shp.Cat.apply(out[_axis_key(d, slice(n - s, n))], out[_axis_key(d, slice(0, n - s))], dim=d)
        return self.clone() if out is self else out

    def tile(self, *dims):
        """The tensor repeated ``dims[i]`` times along dimension i; fewer dims than the tensor has
        are padded with 1s in front (``repeat`` is the other way round: it needs them all)."""
        sizes = _integers(dims, "tile", "dims")
        if any(n < 0 for n in sizes):
            raise EngineValueError(f"tile: repetitions must be >= 0, got {sizes}")
        sizes = (1,) * (self.ndim - len(sizes)) + sizes
        return self.repeat(*sizes) if sizes else self.clone()

    def movedim(self, source, destination):
        """A view with the dims ``source`` moved to positions ``destination``; the other dims keep
        their order in the places left."""
        src = source if isinstance(source, (tuple, list)) else (source,)
        dst = destination if isinstance(destination, (tuple, list)) else (destination,)
        if len(src) != len(dst):
            raise EngineValueError(
                f"movedim: source ({list(src)}, {len(src)} dims) should contain the same number of dims as "
                f"destination ({list(dst)}, {len(dst)} dims)"
            )
        s = [normalize_dim(d, self.ndim, "movedim") for d in src]
        t = [normalize_dim(d, self.ndim, "movedim") for d in dst]
        for name, given, ds in (("source", src, s), ("destination", dst, t)):
            if len(set(ds)) != len(ds):
                raise EngineValueError(f"movedim: repeated dim in `{name}` ({list(given)})")
        if self.ndim == 0:
            return self
        order = [None] * self.ndim
        for a, b in zip(s, t):
            order[b] = a
        rest = iter(d for d in range(self.ndim) if d not in s)
        order = [next(rest) if o is None else o for o in order]
        return self.permute(*order)

    moveaxis = movedim

    def repeat_interleave(self, repeats, dim: int | None = None, *, output_size: int | None = None):
        """Each entry repeated ``repeats`` times in place (``[1, 2]`` -> ``[1, 1, 2, 2]``) along ``dim``
        (over the flattened tensor when dim is None); ``repeats`` is an int or one count per entry
        (a 0-d or 1-d int64 tensor). An index_select: d self = g summed over each entry's copies."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else normalize_dim(dim, self.ndim, "repeat_interleave")
        if x.ndim == 0:
            x = x.reshape(1)
        n = x.shape[d]
        if isinstance(repeats, TensorBase):
            if repeats.dtype is not dtypes.int64:
                raise DTypeError(f"repeat_interleave: repeats must be an int64 tensor, got {repeats.dtype.name}")
            if repeats.ndim > 1:
                raise ShapeError(
                    f"repeat_interleave: repeats must be a 0-d or 1-d tensor, got shape {tuple(repeats.shape)}"
                )
            counts = np.asarray(repeats._backend.to_numpy(repeats._data)).reshape(-1)
            if counts.size == 1:
                counts = np.full(n, counts[0])
            elif counts.size != n:
                raise ShapeError(
                    f"repeat_interleave: repeats must have the same size as input along dim {d}, but got "
                    f"repeats.size(0) = {counts.size} and input.size({d}) = {n}"
                )
        else:
            counts = np.full(n, _integer(repeats, "repeat_interleave", "repeats"))
        if counts.size and counts.min() < 0:
            raise EngineValueError(f"repeat_interleave: repeats can not be negative, got {int(counts.min())}")
        if output_size is not None and int(counts.sum()) != output_size:
            raise EngineValueError(
                f"repeat_interleave: output_size {output_size} does not match the repeats' sum {int(counts.sum())}"
            )
        return x[_axis_key(d, np.repeat(np.arange(n), counts))]
