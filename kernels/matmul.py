"""Matrix products over broadcast batches: a tiled kernel (shared memory plus per-thread
register tiles) and the naive kernel the tests compare it against.

What both compute, for out of shape (*batch, m, n)::

    for z, i, j:   out[z, i, j] = act(sum_p opA[z, i, p] * opB[z, p, j] + bias[j])

where opA is a's last two axes (swapped when ``transpose_a``), opB likewise, a batch axis of
size 1 (or missing) is reused for every z (numpy's broadcasting), and bias/act are the optional
epilogue (none for a plain matmul). Operands are strided views ``(buffer, offset, strides)``:
a transpose, flag or view, is only a swap of the two strides the kernel walks, never a copy.

The tiled kernel (one block per TILE.bm x TILE.bn tile of out, batch on grid z)::

    acc[TM][TN] = 0                                   # registers: this thread's outputs
    for s in range(slices + 1):                       # slices of bk along k
        if s < slices: load slice s of A and B from global memory into registers
        if s > 0:                                     # meanwhile, the math on slice s - 1:
            for p in range(bk):                       # outer products out of shared memory
                a = A[p][my TM rows];  b = B[p][my TN cols]       # fragments into registers
                acc += a (x) b                                    # TM*TN fused multiply-adds
        if s < slices: store the registers into the shared buffer s % 2; syncthreads
    out[my rows, my cols] = act(acc + bias)          # the epilogue, bounds-checked

The global loads of slice s are issued before the math on slice s - 1 and used only after it
(two shared buffers, one barrier per slice), so their latency hides behind 2*bk*TM*TN FMAs.
Each loads into shared memory k-major (A transposed on the way), through the operand's own
strides: consecutive threads take consecutive elements along whichever axis has the smaller
stride, so row-major, transposed and flagged operands are all read coalesced.

Each thread owns TM x TN outputs as (TM/4) x (TN/4) patches of 4 x 4, spaced a quarter-tile
apart (rows ty*4 + q and bm/2 + ty*4 + q for the default 8 x 8): its fragment reads are 4
consecutive words (ptxas emits 16-byte LDS.128), and the 32 threads of a warp sit as an 8 x 4
patch, so a warp's fragment read touches 8 (B) or 4 (A) distinct 16-byte words: no bank
conflicts. A padding row between shared rows keeps the transposing stores conflict-free too.

Checked without a GPU by compiling to sm_90 (numba -> PTX -> ptxas, CUDA 13): the fp32 kernel
has no local memory and no spills, ~175-210 registers (one 256-thread block per SM), and its
inner loop is 8 LDS.128 per 128 FFMA with ~16 other instructions. Not yet timed on a GPU.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache
from typing import NamedTuple

import numpy as np
from engine._kernels.elementwise import _unary_function
from engine._kernels.launch import offset_of, size_of
from numba import cuda, from_dtype, types


class Tile(NamedTuple):
    """A tiled kernel's shape: a block computes a bm x bn tile of out in slices of bk, each of
    its (bm/tm) x (bn/tn) threads a tm x tn register tile (tm, tn multiples of 4)."""

    bm: int
    bn: int
    bk: int
    tm: int
    tn: int


# The configuration every launch uses (read at call time; part of the kernel cache key).
# 128 x 128 x 8 with 8 x 8 per thread: 256 threads, 64 accumulators each, 4 16-byte shared loads
# per 64 FMAs, 17 KB of shared memory (fp32) for the two buffers. The simulator runs each thread
# in Python, so the tests swap in a one-warp Tile(32, 64, 8, 8, 8): the same code paths.
TILE = Tile(128, 128, 8, 8, 8)

# Array indices are cast to unsigned where they are formed from int64 arithmetic: numba then skips
# Python's negative-index wraparound (a sign test and an add on every access of the inner loops).
U = np.uint64

PAD = 4  # words added to each shared row: transposing stores from a k-contiguous tile stay conflict-free
MAX_GRID_YZ = 65535  # CUDA's limit on grid y and z; larger counts loop inside the kernel
NAIVE_THREADS = 16  # the naive kernel's blocks are 16 x 16 threads, one output each


# ---- the epilogue, chosen when a kernel is built -------------------------------------------------


def _epilogue(dtype: np.dtype, has_bias: bool, act: str | None):
    """The device function finish(v, bias, col) = act(v + bias[col]) (each part optional)."""
    f = None if act is None else _unary_function(act, dtype)
    zero = dtype.type(0)
    if has_bias and f is not None:
        def finish(v, bias, col):
            return f(v + bias[col], zero)
    elif has_bias:
        def finish(v, bias, col):
            return v + bias[col]
    elif f is not None:
        def finish(v, bias, col):
            return f(v, zero)
    else:
        def finish(v, bias, col):
            return v
    return cuda.jit(device=True, inline=True)(finish)


# ---- the tiled kernel ------------------------------------------------------------------------------------


@cache
def _tiled_kernel(dtype: np.dtype, tile: Tile, a_k_fast: bool, b_n_fast: bool, has_bias: bool, act: str | None):
    """The tiled kernel for one dtype, tile shape, operand layout and epilogue.

    ``a_k_fast``: consecutive threads load consecutive k of A (A's k stride is the small one, a
    row-major A); else consecutive rows (a transposed A). ``b_n_fast`` likewise for B's columns.
    Either way a warp's global loads are coalesced for the layout it was chosen for."""
    bm, bn, bk, tm, tn = tile
    tx_count, ty_count = bn // tn, bm // tm
    threads = tx_count * ty_count
    a_loads, b_loads = bm * bk // threads, bk * bn // threads
    if tm % 4 or tn % 4 or bk % 2 or a_loads * threads != bm * bk or b_loads * threads != bk * bn:
        raise ValueError(f"matmul: tile {tile} needs tm and tn multiples of 4, an even bk, and "
                         f"bm*bk and bk*bn multiples of its {threads} threads")
    sub_m, sub_n = ty_count * 4, tx_count * 4  # distance between a thread's 4 x 4 patches
    # Shared tiles are flat and k-major: A's element (p, row) of buffer c at (c*bk + p)*a_width + row.
    a_width, b_width = bm + PAD, bn + PAD
    a_size, b_size = 2 * bk * a_width, 2 * bk * b_width
    nb = from_dtype(dtype)
    zero = dtype.type(0)
    finish = _epilogue(dtype, has_bias, act)
    warp_patches = tx_count % 8 == 0 and ty_count % 4 == 0

    @cuda.jit(device=True, inline=True)
    def thread_xy(t):
        """(column, row) of thread t in the ty_count x tx_count grid of register tiles."""
        if warp_patches:  # warp w covers an 8 x 4 patch: fragment reads hit 8 and 4 distinct words
            w, lane = t // 32, t % 32
            return (w % (tx_count // 8)) * 8 + lane % 8, (w // (tx_count // 8)) * 4 + lane // 8
        return t % tx_count, t // tx_count

    @cuda.jit(device=True, inline=True)
    def a_slot(q, t):
        """(row, k) within the tile of this thread's q-th A load, and its flat shared index."""
        idx = t + q * threads
        if a_k_fast:  # a warp reads bk consecutive k of 32 // bk rows
            r, p = idx // bk, idx % bk
        else:  # a warp reads 32 consecutive rows of one k
            p, r = idx // bm, idx % bm
        return r, p, p * a_width + r

    @cuda.jit(device=True, inline=True)
    def b_slot(q, t):
        idx = t + q * threads
        if b_n_fast:
            p, c = idx // bn, idx % bn
        else:
            c, p = idx // bk, idx % bk
        return c, p, p * b_width + c

    @cuda.jit
    def kernel(ab, ao, asm, ask, bb, bo, bsk, bsn, batch_shape, a_bstrides, b_bstrides, nbatch,
               out, m, n, k, bias):
        sa = cuda.shared.array(a_size, nb)
        sb = cuda.shared.array(b_size, nb)
        acc = cuda.local.array((tm, tn), nb)  # registers: every index below is a constant once unrolled
        af = cuda.local.array(tm, nb)
        bf = cuda.local.array(tn, nb)
        ra = cuda.local.array(a_loads, nb)  # the next slice, staged between global and shared memory
        rb = cuda.local.array(b_loads, nb)
        a_at = cuda.local.array(a_loads, types.int64)  # global index of each staged element at k0 = 0
        b_at = cuda.local.array(b_loads, types.int64)
        t = cuda.threadIdx.x
        tx, ty = thread_xy(t)
        col0 = cuda.blockIdx.x * bn
        slices = (k + bk - 1) // bk
        # Grid y and z are capped at 65535: a block walks every gridDim-th row tile and batch.
        for z in range(cuda.blockIdx.z, nbatch, cuda.gridDim.z):
            abase = offset_of(z, batch_shape, a_bstrides, ao)
            bbase = offset_of(z, batch_shape, b_bstrides, bo)
            for row0 in range(cuda.blockIdx.y * bm, m, cuda.gridDim.y * bm):
                for i in range(tm):
                    for j in range(tn):
                        acc[i, j] = zero
                for q in range(a_loads):
                    r, p, _ = a_slot(q, t)
                    a_at[q] = abase + (row0 + r) * asm + p * ask if row0 + r < m else -1  # -1: a padding row
                for q in range(b_loads):
                    c, p, _ = b_slot(q, t)
                    b_at[q] = bbase + (col0 + c) * bsn + p * bsk if col0 + c < n else -1
                for s in range(slices + 1):
                    cur = s & 1
                    if s < slices:  # slice s: global loads issued first, in flight during the math
                        k0 = s * bk
                        for q in range(a_loads):
                            _, p, _ = a_slot(q, t)
                            ra[q] = ab[U(a_at[q] + k0 * ask)] if a_at[q] >= 0 and k0 + p < k else zero
                        for q in range(b_loads):
                            _, p, _ = b_slot(q, t)
                            rb[q] = bb[U(b_at[q] + k0 * bsk)] if b_at[q] >= 0 and k0 + p < k else zero
                    if s > 0:  # math on slice s - 1, from the buffer filled last step
                        # Two k steps per trip: LLVM unrolls the pair (not all bk: too long), which halves
                        # the loop's bookkeeping against its 2 * tm * tn FMAs.
                        for p2 in range(0, bk, 2):
                            for h in range(2):
                                pa = ((cur ^ 1) * bk + p2 + h) * a_width + ty * 4
                                pb = ((cur ^ 1) * bk + p2 + h) * b_width + tx * 4
                                for i in range(tm):
                                    af[i] = sa[U(pa + (i // 4) * sub_m + i % 4)]
                                for j in range(tn):
                                    bf[j] = sb[U(pb + (j // 4) * sub_n + j % 4)]
                                for i in range(tm):
                                    for j in range(tn):
                                        acc[i, j] = cuda.fma(af[i], bf[j], acc[i, j])
                    if s < slices:  # into the buffer nobody reads this step
                        for q in range(a_loads):
                            sa[U(cur * (bk * a_width) + a_slot(q, t)[2])] = ra[q]
                        for q in range(b_loads):
                            sb[U(cur * (bk * b_width) + b_slot(q, t)[2])] = rb[q]
                    cuda.syncthreads()
                obase = z * m * n
                for i in range(tm):
                    r = row0 + (i // 4) * sub_m + ty * 4 + i % 4
                    for j in range(tn):
                        c = col0 + (j // 4) * sub_n + tx * 4 + j % 4
                        if r < m and c < n:
                            out[U(obase + r * n + c)] = finish(acc[i, j], bias, c)

    return kernel, threads


# ---- the naive kernel: the reference -------------------------------------------------------------------


@cache
def _naive_kernel(dtype: np.dtype):
    zero = dtype.type(0)

    @cuda.jit
    def kernel(ab, ao, asm, ask, bb, bo, bsk, bsn, batch_shape, a_bstrides, b_bstrides, nbatch, out, m, n, k):
        """out[z, i, j] = sum_p A[z, i, p] * B[z, p, j], one thread per output, p in order."""
        j, i = cuda.grid(2)
        if i >= m or j >= n:
            return
        for z in range(cuda.blockIdx.z, nbatch, cuda.gridDim.z):
            pa = offset_of(z, batch_shape, a_bstrides, ao) + i * asm
            pb = offset_of(z, batch_shape, b_bstrides, bo) + j * bsn
            total = zero
            for p in range(k):
                total += ab[pa + p * ask] * bb[pb + p * bsk]
            out[z * m * n + i * n + j] = total

    return kernel


# ---- the plan shared by both: sizes, strides, broadcast batches ----------------------------------------


class _Plan(NamedTuple):
    m: int
    n: int
    k: int
    batch_shape: tuple  # the output's batch axes ((1,) when there are none)
    a_bstrides: tuple  # a's strides along them (0 where a's axis is missing or 1)
    b_bstrides: tuple
    nbatch: int
    asm: int  # a's element strides along op(a)'s rows and k
    ask: int
    bsk: int  # b's along op(b)'s k and columns
    bsn: int


def _batch_strides(shape: tuple, strides: tuple, batch: tuple) -> tuple:
    """An operand's strides over the output batch axes: 0 where it is missing or broadcast."""
    own, own_strides = shape[:-2], strides[:-2]
    lead = len(batch) - len(own)
    return tuple(
        0 if d < lead or own[d - lead] == 1 else own_strides[d - lead] for d in range(len(batch))
    )


@lru_cache(maxsize=1024)
def _plan(a_shape: tuple, a_strides: tuple, b_shape: tuple, b_strides: tuple, transpose_a: bool,
          transpose_b: bool) -> _Plan:
    """Everything a launch needs that depends only on shapes, strides and flags (computed once)."""
    if len(a_shape) < 2 or len(b_shape) < 2:
        raise ValueError(f"matmul: operands must be at least 2-d, got shapes {a_shape} and {b_shape}")
    (asm, ask), (m, k) = a_strides[-2:], a_shape[-2:]
    if transpose_a:
        asm, ask, m, k = ask, asm, k, m
    (bsk, bsn), (kb, n) = b_strides[-2:], b_shape[-2:]
    if transpose_b:
        bsk, bsn, kb, n = bsn, bsk, n, kb
    if k != kb:
        raise ValueError(f"matmul: inner sizes differ ({k} and {kb}) for shapes {a_shape} and {b_shape}")
    batch = tuple(np.broadcast_shapes(a_shape[:-2], b_shape[:-2]))
    a_bs, b_bs = _batch_strides(a_shape, a_strides, batch), _batch_strides(b_shape, b_strides, batch)
    if not batch:
        batch, a_bs, b_bs = (1,), (0,), (0,)
    return _Plan(m, n, k, batch, a_bs, b_bs, size_of(batch), asm, ask, bsk, bsn)


def _operands(plan: _Plan, a: tuple, b: tuple) -> tuple:
    """The kernels' leading arguments, common to both."""
    (ab, ao, _), (bb, bo, _) = a, b
    return (ab, ao, plan.asm, plan.ask, bb, bo, plan.bsk, plan.bsn, plan.batch_shape, plan.a_bstrides,
            plan.b_bstrides, plan.nbatch)


# ---- what the backend calls ------------------------------------------------------------------------------


def matmul(a: tuple, b: tuple, a_shape: tuple, b_shape: tuple, transpose_a: bool, transpose_b: bool, out,
           *, bias=None, act: str | None = None) -> None:
    """out = act(op(a) @ op(b) + bias) with the tiled kernel (see the module docstring).

    ``a``, ``b``: views (buffer, offset, strides) of shapes (*batch_a, ra, ca), (*batch_b, rb, cb);
    batches broadcast. ``out``: a compact (*batch, m, n) device array. The epilogue is optional:
    ``bias`` a compact device array of n items added to every row, ``act`` None, "relu",
    "sigmoid" or "tanh". k = 0 gives act(bias) (zeros for a plain product)."""
    plan = _plan(a_shape, tuple(a[2]), b_shape, tuple(b[2]), transpose_a, transpose_b)
    if out.size == 0:
        return
    tile = TILE
    a_k_fast = abs(plan.ask) <= abs(plan.asm)  # the contiguous axis (if any) runs across threads
    b_n_fast = abs(plan.bsn) <= abs(plan.bsk)
    kernel, threads = _tiled_kernel(out.dtype, tile, a_k_fast, b_n_fast, bias is not None, act)
    blocks = (math.ceil(plan.n / tile.bn), min(math.ceil(plan.m / tile.bm), MAX_GRID_YZ),
              min(plan.nbatch, MAX_GRID_YZ))
    dummy = out if bias is None else bias  # never read without a bias
    kernel[blocks, threads](*_operands(plan, a, b), out, plan.m, plan.n, plan.k, dummy)


def matmul_naive(a: tuple, b: tuple, a_shape: tuple, b_shape: tuple, transpose_a: bool, transpose_b: bool,
                 out) -> None:
    """out = op(a) @ op(b) as ``matmul``, one thread per output running a plain dot product."""
    plan = _plan(a_shape, tuple(a[2]), b_shape, tuple(b[2]), transpose_a, transpose_b)
    if out.size == 0:
        return
    t = NAIVE_THREADS
    blocks = (math.ceil(plan.n / t), math.ceil(plan.m / t), min(plan.nbatch, MAX_GRID_YZ))
    _naive_kernel(out.dtype)[blocks, (t, t)](*_operands(plan, a, b), out, plan.m, plan.n, plan.k)
