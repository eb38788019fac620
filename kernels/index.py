"""Indexing kernels: advanced-index reads and writes by precomputed element offsets (``take``,
``put``, ``add_at``), and PyTorch's ``gather`` / ``scatter_add`` along one axis.

All run one thread per selected element. Reads through a view use its strides (``offset_of``),
so transposed, reversed and broadcast operands need no copy. The two accumulating kernels add
with ``cuda.atomic.add``: repeated targets add up whatever order the threads run in (the order of
float additions, and so the last bits, may differ from run to run, as with PyTorch's
``index_add_``/``scatter_add_`` on a GPU).
"""

from __future__ import annotations

from engine._kernels.launch import grid, offset_of, size_of
from numba import cuda


def _nd(shape: tuple, *strides: tuple) -> tuple:
    """``shape`` and its strides as at least one axis: a 0-d operand is one element of stride 0
    (a kernel is then never compiled for an empty tuple)."""
    if len(shape) == 0:
        return ((1,), *(((0,),) * len(strides)))
    return (tuple(shape), *(tuple(s) for s in strides))


def _without(strides: tuple, axis: int) -> tuple:
    """``strides`` with the one of ``axis`` set to 0: the offset of every coordinate but that one."""
    return tuple(0 if d == axis else s for d, s in enumerate(strides))


def _compact_strides(shape: tuple) -> tuple:
    strides, pitch = [], 1
    for n in reversed(shape):
        strides.append(pitch)
        pitch *= n
    return tuple(reversed(strides))


# ---- kernels ----------------------------------------------------------------------------------------------


@cuda.jit
def _take_kernel(buffer, offsets, out):
    """out[i] = buffer[offsets[i]]  (the writes are coalesced; the reads go where the index says)"""
    i = cuda.grid(1)
    if i < out.size:
        out[i] = buffer[offsets[i]]


@cuda.jit
def _put_kernel(buffer, offsets, sb, so, ss, shape):
    """buffer[offsets[i]] = src[i], src a view of ``shape`` (broadcast by stride 0)"""
    i = cuda.grid(1)
    if i < offsets.size:
        buffer[offsets[i]] = sb[offset_of(i, shape, ss, so)]


@cuda.jit
def _add_at_kernel(buffer, offsets, sb, so, ss, shape):
    """buffer[offsets[i]] += src[i], atomically: repeated offsets add up"""
    i = cuda.grid(1)
    if i < offsets.size:
        cuda.atomic.add(buffer, offsets[i], sb[offset_of(i, shape, ss, so)])


@cuda.jit
def _gather_kernel(xb, xo, xs_rest, xs_axis, ib, io, istrides, ishape, out):
    """For each position p of the index (flat i, C order):
        out[i] = x[p with p[axis] replaced by index[p]]
    x's offset is that of p with the axis' coordinate left out (xs_rest has 0 there), plus
    index[p] * x's stride along the axis."""
    i = cuda.grid(1)
    if i < out.size:
        j = ib[offset_of(i, ishape, istrides, io)]
        out[i] = xb[offset_of(i, ishape, xs_rest, xo) + j * xs_axis]


@cuda.jit
def _scatter_add_kernel(out, os_rest, os_axis, ib, io, istrides, ishape, sb, so, ss, n):
    """For each position p of the index (flat i):
        out[p with p[axis] replaced by index[p]] += src[p]   (atomically)"""
    i = cuda.grid(1)
    if i < n:
        j = ib[offset_of(i, ishape, istrides, io)]
        cuda.atomic.add(out, offset_of(i, ishape, os_rest, 0) + j * os_axis, sb[offset_of(i, ishape, ss, so)])


# ---- what the backend calls --------------------------------------------------------------------------------


def take(buffer, offsets, out) -> None:
    """out[i] = buffer[offsets[i]] for every i; ``offsets`` an int64 device array of element
    offsets into the flat ``buffer`` (computed on the host for advanced indexing), ``out`` compact."""
    if out.size == 0:
        return
    blocks, threads = grid(out.size)
    _take_kernel[blocks, threads](buffer, offsets, out)


def put(buffer, offsets, src: tuple, shape: tuple) -> None:
    """buffer[offsets[i]] = src[i] for i over ``shape`` (C order); ``src = (buffer, offset,
    strides)`` a view of ``shape`` (broadcast by its strides); ``offsets`` has prod(shape) entries.
    Where an offset repeats, one of its writes lands (which one is not specified, as for PyTorch's
    index_put_ on a GPU)."""
    n = size_of(shape)
    if n == 0:
        return
    sb, so, ss = src
    shape, ss = _nd(shape, ss)
    blocks, threads = grid(n)
    _put_kernel[blocks, threads](buffer, offsets, sb, so, ss, shape)


def add_at(buffer, offsets, src: tuple, shape: tuple) -> None:
    """buffer[offsets[i]] += src[i] for i over ``shape``, with atomics so repeated offsets add up
    (numpy's np.add.at); float32/float64 (int64 as well)."""
    n = size_of(shape)
    if n == 0:
        return
    sb, so, ss = src
    shape, ss = _nd(shape, ss)
    blocks, threads = grid(n)
    _add_at_kernel[blocks, threads](buffer, offsets, sb, so, ss, shape)


def gather(x: tuple, shape: tuple, axis: int, index: tuple, index_shape: tuple, out) -> None:
    """PyTorch's gather: out[p] = x[p with p[axis] = index[p]] for p over ``index_shape``.

    ``x`` is a view of ``shape``, ``index`` an int64 view of ``index_shape`` (same number of axes;
    index_shape[d] <= shape[d] off the axis); its entries are in [0, shape[axis]) (the caller checks).
    ``out`` is compact over index_shape.
    """
    if out.size == 0:
        return
    xb, xo, xs = x
    ib, io, istrides = index
    ndim = len(index_shape)
    axis = axis % ndim if ndim else 0
    ishape, istrides, xs = _nd(index_shape, istrides, xs)
    blocks, threads = grid(out.size)
    _gather_kernel[blocks, threads](xb, xo, _without(xs, axis), xs[axis], ib, io, istrides, ishape, out)


def scatter_add(out, shape: tuple, axis: int, index: tuple, index_shape: tuple, src: tuple) -> None:
    """PyTorch's scatter_add: out[p with p[axis] = index[p]] += src[p] for p over ``index_shape``.

    ``out`` is compact of ``shape`` (the caller zero-fills it); ``index`` (int64) and ``src`` are
    views of ``index_shape``. Atomic adds, so repeated targets add up (float32/float64, int64).
    """
    n = size_of(index_shape)
    if n == 0:
        return
    ib, io, istrides = index
    sb, so, ss = src
    ndim = len(index_shape)
    axis = axis % ndim if ndim else 0
    ishape, istrides, ss, ostrides = _nd(index_shape, istrides, ss, _compact_strides(shape))
    blocks, threads = grid(n)
    _scatter_add_kernel[blocks, threads](out, _without(ostrides, axis), ostrides[axis], ib, io, istrides, ishape,
                                           sb, so, ss, n)
