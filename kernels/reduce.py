"""Reductions: ``sum`` over any set of axes, and ``max``/``min`` with the index of the winner over
one axis or over all elements.

The host turns every reduction into the same 2-D problem: ``M`` outputs, each folding ``N`` inputs.
Element ``(m, r)`` of a view sits at ``offset + offset_of(m, kept) + offset_of(r, reduced)``, so
transposed, reversed (negative strides) and broadcast (stride 0) views are read in place. Before a
launch the axes of each group are sorted by stride and merged where they are contiguous, so a
reduction over all of a transposed matrix is one run of stride 1, and the kernel's index
arithmetic walks as few axes as possible.

One kernel shape serves both families. A block of ``THREADS`` threads holds ``MB`` outputs times
``R`` *reduction lanes* (``R * MB == THREADS``, both powers of two):

* *inner* layout (the reduced axes are the fastest in memory, e.g. a sum over the last axis): the
  ``R`` lanes of one output are neighbouring threads, so a warp reads a contiguous run of a row;
* *outer* layout (a kept axis is the fastest, e.g. a bias gradient: a sum over the batch axis):
  the ``MB`` outputs are neighbouring threads, so a warp reads a contiguous run across the outputs.

Each block runs three stages:

1. every thread folds its strided share of the row: ``r = start + lane, start + lane + R, ...``;
2. warp shuffles (``shfl_down_sync``) fold the lanes of one output that sit in the same warp;
3. one partial per warp goes through shared memory, and lane 0 of each output folds them in order.

A row longer than ``R * ITEMS`` elements is also split over ``C`` blocks along ``blockIdx.y`` (as
many as it takes to fill the GPU, at most ``MAX_CHUNKS``): each writes its partial into a small
``C x M`` scratch array (allocated here, freed when the call returns), and a second launch of the
same kernel reduces the scratch (a third, in the rare case that the scratch is long too). Every
fold happens in a fixed order, so a sum gives the same bits on every run (no float atomics).

Under numba's simulator stage 2 is skipped by default (``SHUFFLES``): see below.

``max``/``min`` fold ``(value, index)`` pairs with one rule (``better``): NaN beats any number and
the first NaN wins; between equal values the smaller index wins, as numpy's and PyTorch's
argmax/argmin do. The rule compares indices, not arrival order, so it holds whatever the order
the lanes, warps and blocks meet in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from engine._kernels.launch import offset_of, size_of
from numba import config, cuda, from_dtype

THREADS = 256  # threads per reduction block (a power of two >= 32); tests shrink it to reach the multi-block path
ITEMS = 8  # elements each thread folds on its own before a row is split over more blocks
TARGET_BLOCKS = 1024  # blocks that fill an H100/H200: 132 SMs x 8 resident blocks of 256 threads
MAX_CHUNKS = 1024  # blocks one row is split over at most (so the scratch stays <= 1024 x outputs)
WARP = 32
FULL_MASK = 0xFFFFFFFF
SIMULATOR = bool(config.ENABLE_CUDASIM)
# shuffles move 32- and 64-bit numbers; bool and uint8 travel as int32 (see _accumulator)
SUM_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.int64)}
EXTREME_DTYPES = SUM_DTYPES | {np.dtype(np.bool_), np.dtype(np.uint8)}

# ---- the warp shuffle, and its stand-in under numba's simulator ----------------------------------------

# Stage 2 of a block uses warp shuffles. numba's simulator has none, and its barriers are slow (every
# simulated thread is a Python thread), so there the block folds through shared memory alone
# (stage 3 with one lane per "warp") unless a test sets SHUFFLES = True to run the stand-in below.
SHUFFLES = not SIMULATOR

if SIMULATOR:
    # The stand-in has shfl_down_sync's meaning, through the shared array ``buf``: lane l gets lane
    # l + delta's value, or its own when l + delta leaves the warp. Every thread of the block calls
    # it (as every lane must call shfl_down_sync with a full mask), so block barriers are safe here;
    # the last one keeps buf unchanged until every thread has read.
    @cuda.jit(device=True)
    def _shfl_down(buf, t, value, delta):
        cuda.syncthreads()
        buf[t] = value
        cuda.syncthreads()
        got = buf[t + delta] if t % WARP + delta < WARP else value
        cuda.syncthreads()
        return got
else:
    @cuda.jit(device=True, inline=True)
    def _shfl_down(buf, t, value, delta):
        return cuda.shfl_down_sync(FULL_MASK, value, delta)


# ---- planning: axes sorted, merged, and the block shape ----------------------------------------------


def _pow2(n: int) -> int:
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def _compact_strides(shape) -> tuple:
    """C-order element strides of a compact array of ``shape``."""
    strides, pitch = [], 1
    for n in reversed(shape):
        strides.append(pitch)
        pitch *= n
    return tuple(reversed(strides))


def _group(axes: list) -> tuple:
    """Axes ``(size, stride, other_stride)`` sorted by |stride|, largest first (the last axis is the
    fastest in memory), size-1 axes dropped and neighbours merged where both strides allow
    (``s[d] == s[d+1] * size[d+1]``): fewer axes for ``offset_of`` to walk. Returns
    ``(shape, strides, other_strides)``, padded to one axis so a kernel never sees an empty tuple."""
    merged: list = []
    for n, s, o in sorted((a for a in axes if a[0] != 1), key=lambda a: -abs(a[1])):
        if merged and merged[-1][1] == s * n and merged[-1][2] == o * n:
            merged[-1] = (merged[-1][0] * n, s, o)
        else:
            merged.append((n, s, o))
    if not merged:
        merged = [(1, 0, 0)]
    shape, strides, others = zip(*merged)
    return tuple(shape), tuple(strides), tuple(others)


@dataclass(frozen=True)
class _Plan:
    """A reduction as M outputs of N elements each: element (m, r) of view x is at
    x_offset + offset_of(m, kshape, kstrides) + offset_of(r, rshape, rstrides).

    kept axes:    kshape, kstrides (into x), ostrides (into the compact output, C order)
    reduced axes: rshape, rstrides (into x), rpitch (the C-order index of an element over the
                  reduced axes: what argmax/argmin report)
    inner:        the block layout (see the module docstring)
    """

    kshape: tuple
    kstrides: tuple
    ostrides: tuple
    rshape: tuple
    rstrides: tuple
    rpitch: tuple
    inner: bool

    @property
    def M(self) -> int:
        return size_of(self.kshape)

    @property
    def N(self) -> int:
        return size_of(self.rshape)


def _plan(shape: tuple, strides: tuple, axes: tuple, rpitch: tuple) -> _Plan:
    kept = [d for d in range(len(shape)) if d not in axes]
    ostrides = _compact_strides([shape[d] for d in kept])
    kshape, kstrides, ostrides = _group([(shape[d], strides[d], ostrides[j]) for j, d in enumerate(kept)])
    rshape, rstrides, rpitch = _group([(shape[d], strides[d], rpitch[j]) for j, d in enumerate(axes)])
    # inner layout when the fastest axis in memory is a reduced one, or when nothing is kept
    many_kept, many_reduced = size_of(kshape) > 1, size_of(rshape) > 1
    inner = not many_kept or (many_reduced and abs(rstrides[-1]) <= abs(kstrides[-1]))
    return _Plan(kshape, kstrides, ostrides, rshape, rstrides, rpitch, inner)


def _scratch_plan(plan: _Plan, C: int) -> _Plan:
    """The plan of the next pass: the C x M scratch (compact, chunk-major), reduced over its C rows,
    into the same output."""
    compact = _compact_strides(plan.kshape)
    return _Plan(plan.kshape, compact, plan.ostrides, (C,), (plan.M,), (0,), inner=plan.M == 1)


def _block_shape(M: int, N: int, inner: bool) -> tuple[int, int]:
    """(R, MB): reduction lanes per output and outputs per block, R * MB == THREADS."""
    T = THREADS
    if inner:
        # about 4 elements per lane before the tree (a lane is cheap, a tree level is not); short
        # rows leave room for more rows per block
        R = min(T, _pow2(-(-N // 4)))
        return R, T // R
    # outer: a warp-wide run of outputs (one 128-byte line of float32) and up to T/32 rows in
    # flight; fewer outputs than that hand their spare threads to the rows
    MB = min(T, max(WARP, T // _pow2(N)), _pow2(M))
    return T // MB, MB


def _chunks(M: int, N: int, R: int, MB: int) -> tuple[int, int]:
    """(C, L): a row is split over C blocks of L elements each (L a multiple of R)."""
    blocks_m = -(-M // MB)
    # at least 2 elements a chunk, so every further pass is shorter than the one before
    C = max(1, min(-(-N // max(2, R * ITEMS)), -(-TARGET_BLOCKS // blocks_m), MAX_CHUNKS))
    if N == 0:
        return 1, R
    per_block = -(-N // C)
    L = -(-per_block // R) * R  # whole strides of R, so every lane starts at chunk start + lane
    return -(-N // L), L


# ---- kernels, built once per (dtype, block shape) and cached -------------------------------------------


@cuda.jit(device=True, inline=True)
def _at(i, shape, strides, base):
    """offset_of, without its divisions when the axes merged into one (the common case: the tuple's
    length is known when the kernel compiles, so the test costs nothing). 64-bit division is a
    long instruction sequence on a GPU; one per element would cost more than the load."""
    if len(shape) == 1:
        return base + i * strides[0]
    return offset_of(i, shape, strides, base)


def _lanes(R: int, MB: int, inner: bool, shuffles: bool) -> tuple[int, int, int]:
    """Where a block's reduction lanes sit among its threads.

    SR: the distance in thread ids between neighbouring lanes of one output (1 inner, MB outer);
    RPW: the lanes of one output that share a warp (folded by shuffles at distances SR..16);
    GROUPS: the warps holding lanes of one output (folded through shared memory).
    """
    SR = 1 if inner else MB
    RPW = max(1, min(WARP, SR * R) // SR) if shuffles else 1
    return SR, RPW, R // RPW


@cache
def _sum_kernel(dtype: np.dtype, threads: int, R: int, inner: bool, shuffles: bool):
    MB = threads // R
    SR, RPW, GROUPS = _lanes(R, MB, inner, shuffles)
    nb_dtype = from_dtype(dtype)
    zero = dtype.type(0)  # +0, so a sum of -0.0s (or of nothing) is +0.0, in x's own type

    @cuda.jit
    def kernel(xb, xo, kshape, kstrides, rshape, rstrides, M, N, L, out, ostrides, opitch):
        """For output m of this block and chunk c = blockIdx.y:
            out[c * opitch + offset_of(m, ostrides)] = sum over r in [c*L, min(N, (c+1)*L)) of x[m, r]
        """
        buf = cuda.shared.array(threads, nb_dtype)
        t = cuda.threadIdx.x
        ml = t // R if inner else t % MB
        rl = t % R if inner else t // MB
        m = cuda.blockIdx.x * MB + ml
        c = cuda.blockIdx.y
        acc = zero
        # stage 1: this thread's lanes of the row (threads past the last output keep 0 but stay
        # for the shuffles and barriers below, which need every thread of the block)
        if m < M:
            base = _at(m, kshape, kstrides, xo)
            for r in range(c * L + rl, min(N, (c + 1) * L), R):
                acc += xb[base + _at(r, rshape, rstrides, 0)]
        # stage 2: fold the lanes of this output held by this warp
        delta = RPW * SR // 2
        while delta >= SR:
            acc += _shfl_down(buf, t, acc, delta)
            delta //= 2
        # stage 3: fold one partial per warp, in warp order
        if GROUPS > 1:
            if rl % RPW == 0:
                buf[t] = acc
            cuda.syncthreads()
            if rl == 0:
                for g in range(1, GROUPS):
                    acc += buf[t + g * RPW * SR]
        if rl == 0 and m < M:
            out[c * opitch + _at(m, kshape, ostrides, 0)] = acc

    return kernel


def _accumulator(dtype: np.dtype) -> np.dtype:
    """The type max/min carry in registers: shuffles move 32- and 64-bit numbers only."""
    return np.dtype(np.int32) if dtype.itemsize < 4 else dtype


@cache
def _better_function(kind: str):
    """Is candidate (bv, bi) better than the current (av, ai)? Index -1 marks "nothing yet"."""
    if kind == "max":
        @cuda.jit(device=True, inline=True)
        def beats(b, a):
            return b > a
    elif kind == "min":
        @cuda.jit(device=True, inline=True)
        def beats(b, a):
            return b < a
    else:
        raise KeyError(kind)

    @cuda.jit(device=True, inline=True)
    def better(av, ai, bv, bi):
        if bi < 0:
            return False
        if ai < 0:
            return True
        if bv != bv:  # NaN is the extreme; among NaNs the first wins (never true for integers)
            return av == av or bi < ai
        if av != av:
            return False
        return beats(bv, av) or (bv == av and bi < ai)

    return better


@cache
def _extreme_kernel(kind: str, dtype: np.dtype, threads: int, R: int, inner: bool, shuffles: bool,
                    from_buffer: bool, with_indices: bool):
    """``from_buffer``: the pass over the scratch of a split row, whose candidates carry their
    index in a second array (``isrc``); otherwise the index is computed from r (``isrc`` is then
    the reduced axes' index pitches). ``with_indices``: write the winner's index as well."""
    MB = threads // R
    SR, RPW, GROUPS = _lanes(R, MB, inner, shuffles)
    acc = _accumulator(dtype)
    nb_acc, nb_int64 = from_dtype(acc), from_dtype(np.dtype(np.int64))
    to_acc = acc.type
    start = acc.type(0)
    better = _better_function(kind)

    if from_buffer:
        @cuda.jit(device=True, inline=True)
        def index_of(isrc, off, r, rshape):
            return isrc[off]
    else:
        @cuda.jit(device=True, inline=True)
        def index_of(isrc, off, r, rshape):
            return _at(r, rshape, isrc, 0)

    if dtype == np.bool_:
        @cuda.jit(device=True, inline=True)
        def store(values, o, v):
            values[o] = v != 0
    else:
        @cuda.jit(device=True, inline=True)
        def store(values, o, v):
            values[o] = v

    if with_indices:
        @cuda.jit(device=True, inline=True)
        def store_index(indices, o, i):
            indices[o] = i
    else:
        @cuda.jit(device=True, inline=True)
        def store_index(indices, o, i):
            pass

    @cuda.jit
    def kernel(xb, xo, kshape, kstrides, rshape, rstrides, isrc, M, N, L, values, indices, ostrides, opitch):
        """For output m of this block and chunk c = blockIdx.y, over r in [c*L, min(N, (c+1)*L)):
            (v, i) = the best (x[m, r], index(r)) by ``better``
            values[c * opitch + offset_of(m, ostrides)] = v;  indices[...] = i
        """
        vbuf = cuda.shared.array(threads, nb_acc)
        ibuf = cuda.shared.array(threads, nb_int64)
        t = cuda.threadIdx.x
        ml = t // R if inner else t % MB
        rl = t % R if inner else t // MB
        m = cuda.blockIdx.x * MB + ml
        c = cuda.blockIdx.y
        v = start
        i = np.int64(-1)
        # stage 1: this thread's lanes, in increasing r
        if m < M:
            base = _at(m, kshape, kstrides, xo)
            for r in range(c * L + rl, min(N, (c + 1) * L), R):
                off = base + _at(r, rshape, rstrides, 0)
                xv = to_acc(xb[off])
                xi = index_of(isrc, off, r, rshape)
                if better(v, i, xv, xi):
                    v = xv
                    i = xi
        # stage 2: within the warp, (value, index) pairs travel together
        delta = RPW * SR // 2
        while delta >= SR:
            ov = _shfl_down(vbuf, t, v, delta)
            oi = _shfl_down(ibuf, t, i, delta)
            if better(v, i, ov, oi):
                v = ov
                i = oi
            delta //= 2
        # stage 3: across warps through shared memory
        if GROUPS > 1:
            if rl % RPW == 0:
                vbuf[t] = v
                ibuf[t] = i
            cuda.syncthreads()
            if rl == 0:
                for g in range(1, GROUPS):
                    ov = vbuf[t + g * RPW * SR]
                    oi = ibuf[t + g * RPW * SR]
                    if better(v, i, ov, oi):
                        v = ov
                        i = oi
        if rl == 0 and m < M:
            o = c * opitch + _at(m, kshape, ostrides, 0)
            store(values, o, v)
            store_index(indices, o, i)

    return kernel


# ---- launches -------------------------------------------------------------------------------------------


def _run_sum(xb, xo, plan: _Plan, out) -> None:
    """One pass over ``plan`` into ``out``; when the rows were split over several blocks, it writes
    the scratch instead and the next pass reduces that."""
    R, MB = _block_shape(plan.M, plan.N, plan.inner)
    C, L = _chunks(plan.M, plan.N, R, MB)
    kernel = _sum_kernel(xb.dtype, THREADS, R, plan.inner, SHUFFLES)
    grid = (-(-plan.M // MB), C)
    if C == 1:
        kernel[grid, THREADS](xb, xo, plan.kshape, plan.kstrides, plan.rshape, plan.rstrides,
                              plan.M, plan.N, L, out, plan.ostrides, 0)
        return
    # scratch[c * M + m]: chunk c's partial sum of output m (m in the plan's sorted kept order)
    scratch = cuda.device_array(C * plan.M, xb.dtype)
    compact = _compact_strides(plan.kshape)
    kernel[grid, THREADS](xb, xo, plan.kshape, plan.kstrides, plan.rshape, plan.rstrides,
                          plan.M, plan.N, L, scratch, compact, plan.M)
    _run_sum(scratch, 0, _scratch_plan(plan, C), out)


def _run_extreme(kind, xb, xo, plan: _Plan, isrc, from_buffer, values, indices) -> None:
    """As _run_sum, for (value, index) pairs: ``isrc`` is the index pitches (first pass) or the
    scratch of indices (``from_buffer``, later passes)."""
    R, MB = _block_shape(plan.M, plan.N, plan.inner)
    C, L = _chunks(plan.M, plan.N, R, MB)
    grid = (-(-plan.M // MB), C)
    if C == 1:
        kernel = _extreme_kernel(kind, xb.dtype, THREADS, R, plan.inner, SHUFFLES, from_buffer, indices is not None)
        kernel[grid, THREADS](xb, xo, plan.kshape, plan.kstrides, plan.rshape, plan.rstrides, isrc,
                              plan.M, plan.N, L, values, values if indices is None else indices, plan.ostrides, 0)
        return
    # each chunk's winner, with its index: the second pass needs the indices to break ties
    sv = cuda.device_array(C * plan.M, xb.dtype)
    si = cuda.device_array(C * plan.M, np.int64)
    kernel = _extreme_kernel(kind, xb.dtype, THREADS, R, plan.inner, SHUFFLES, from_buffer, True)
    kernel[grid, THREADS](xb, xo, plan.kshape, plan.kstrides, plan.rshape, plan.rstrides, isrc,
                          plan.M, plan.N, L, sv, si, _compact_strides(plan.kshape), plan.M)
    _run_extreme(kind, sv, 0, _scratch_plan(plan, C), si, True, values, indices)


# ---- what the backend calls -------------------------------------------------------------------------------


def sum(x: tuple, shape: tuple, axes: tuple, out) -> None:
    """out[k] = sum of x over ``axes`` (sorted; all of them, some, or none: a copy), in x's dtype.

    ``x = (buffer, offset, strides)`` is a view of ``shape``; ``out`` is compact over the kept axes
    in order (size 1 when every axis is reduced). An empty reduction is 0, and every sum starts
    from +0. Pseudocode, for each kept index k:
        out[k] = 0;  for each r over the reduced axes: out[k] += x[k, r]
    run as described in the module docstring (block tree folds, a second pass for long rows).
    """
    xb, xo, xs = x
    if xb.dtype not in SUM_DTYPES:
        raise TypeError(f"sum: the cuda kernels sum float32, float64 and int64, not {xb.dtype} (cast first)")
    axes = tuple(sorted(a % len(shape) for a in axes)) if shape else ()
    plan = _plan(tuple(shape), tuple(xs), axes, (0,) * len(axes))
    if out.size != plan.M:
        raise ValueError(f"sum: out has {out.size} elements, but reducing {tuple(shape)} over {axes} keeps {plan.M}")
    if plan.M == 0:
        return
    _run_sum(xb, xo, plan, out)


def extreme(kind: str, x: tuple, shape: tuple, axis, values, indices=None) -> None:
    """``kind`` "max" or "min" of view ``x`` (of ``shape``) over one ``axis``, or over all elements
    when ``axis`` is None; ``values`` (x's dtype) and ``indices`` (int64, or None to skip them) are
    compact over the kept axes (size 1 for axis=None, where the index is the flat C-order one).

    For each kept index k:  (values[k], indices[k]) = the first (x[k, r], r) that is NaN, or else
    the first holding the largest (smallest) value. float32/float64/int64/bool/uint8.
    """
    if kind not in ("max", "min"):
        raise KeyError(kind)
    xb, xo, xs = x
    if xb.dtype not in EXTREME_DTYPES:
        raise TypeError(f"{kind}: the cuda kernels take float32, float64, int64, bool and uint8, not {xb.dtype}")
    ndim = len(shape)
    if axis is None:
        axes, rpitch = tuple(range(ndim)), _compact_strides(shape)
    else:
        axes, rpitch = ((axis % ndim,), (1,)) if ndim else ((), ())  # a 0-d x has one element
    plan = _plan(tuple(shape), tuple(xs), axes, rpitch)
    if values.size != plan.M or (indices is not None and indices.size != plan.M):
        raise ValueError(f"{kind}: values/indices must hold {plan.M} elements for {tuple(shape)} over axis {axis}")
    if plan.M == 0:
        return
    if plan.N == 0:
        raise ValueError(f"{kind}: the reduction is over an empty axis of shape {tuple(shape)}, which has no "
                         f"{'largest' if kind == 'max' else 'smallest'} element")
    _run_extreme(kind, xb, xo, plan, plan.rpitch, False, values, indices)
