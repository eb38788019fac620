"""The fused kernels of a network's hot path: linear layers, softmax, cross-entropy, and the
difference losses (MSE, L1), forward and backward.

Operands are compact flat device arrays (the backend makes them so) with their sizes passed
explicitly. Reductions are deterministic: each thread sums a fixed set of items in a fixed
order and blocks combine in a fixed tree, so a result never depends on scheduling.

Row kernels (softmax, cross-entropy) give each row ``width`` threads (a power of two up to
ROW_THREADS; short rows share a block, several rows to a block) and read a row in one pass for its
statistics and one for the output::

    # pass 1, online:  (top, total) with total = sum_j e^(x_j - top), top = max_j x_j
    for x in my part of the row:
        if x > top:   total = total * e^(top - x) + 1;  top = x     # rescale to the new max
        elif x > -inf: total += e^(x - top)
    merge the threads' (top, total) pairs in a shared-memory tree (rescaling the same way)
    # pass 2
    softmax = e^(x - top) / total;   log_softmax = (x - top) - log(total)

Special values come out as the C device's (and PyTorch's): a row of all -inf, or with a NaN or
a +inf, gives NaN; a huge finite logit (1e16) stays exact because ``top`` is kept apart from
log(total).
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

import numpy as np
from engine._kernels.launch import grid
from engine._kernels.matmul import matmul
from numba import cuda, from_dtype

# Launch shapes, read at each launch (and part of each kernel's cache key, so a test may set
# smaller ones: the simulator runs every thread in Python).
ROW_THREADS = 256  # threads per block of the row kernels (one or several rows per block), a power of 2
SUM_THREADS = 256  # threads per block of the flat reductions, a power of 2
SUM_BLOCKS = 1024  # most blocks a flat reduction uses: ~8 per SM on an H100, each a fixed share
COLUMN_ROWS = 256  # rows one block of the column sums covers (32 columns x 8 row-threads), a multiple of 8


def _constants(dtype: np.dtype):
    t = dtype.type
    return t(0), t(1), t(-math.inf), t(math.inf), t(math.nan)


# ---- rows: statistics shared by softmax and cross-entropy ------------------------------------------


@cache
def _row_functions(dtype: np.dtype):
    """Device functions (row_stats, row_total, log_of) for one dtype."""
    zero, one, ninf, inf, nan = _constants(dtype)

    @cuda.jit(device=True, inline=True)
    def rescale(s, m, top):
        """s e^(m - top): a partial sum taken against max m, restated against top >= m."""
        return s if m == top else s * math.exp(m - top)  # equal infinities: e^(inf - inf) would be NaN

    @cuda.jit(device=True, inline=True)
    def log_of(s):
        """log(s) with log(0) = -inf (a sum is never negative; NaN stays NaN)."""
        return math.log(s) if s > zero else (ninf if s == zero else nan)

    @cuda.jit(device=True, inline=True)
    def row_stats(x, base, cols, live, tx, width, slot, tops, totals):
        """(max, sum e^(x - max)) of the row x[base : base + cols], computed by its ``width``
        threads (tx = 0 .. width - 1) of which every one must call this (it has barriers).
        ``live`` is False for the padding rows of the last block. ``slot`` is the row's first
        entry in the shared arrays ``tops``/``totals``. A NaN, or a +inf, makes the sum NaN."""
        top, total = ninf, zero
        if live:
            for j in range(tx, cols, width):
                v = x[base + j]
                if v > top:
                    # e^(v - v) is 1, except NaN for v = +inf (inf - inf), as a plain max-then-sum gives
                    total = total * math.exp(top - v) + (one if v != inf else nan)
                    top = v
                elif v != ninf:  # -inf adds e^-inf = 0 (skipped: against top = -inf it would be NaN)
                    total += math.exp(v - top)  # NaN (a NaN, or +inf twice) poisons the sum
        tops[slot + tx] = top
        totals[slot + tx] = total
        half = width // 2
        while half > 0:
            cuda.syncthreads()
            if tx < half:
                m1, m2 = tops[slot + tx], tops[slot + tx + half]
                best = m1 if m1 >= m2 else m2  # tops are never NaN
                totals[slot + tx] = rescale(totals[slot + tx], m1, best) + rescale(totals[slot + tx + half], m2, best)
                tops[slot + tx] = best
            half //= 2
        cuda.syncthreads()
        return tops[slot], totals[slot]

    @cuda.jit(device=True, inline=True)
    def row_total(part, tx, width, slot, totals):
        """The sum of the ``width`` threads' partial sums ``part`` (a fixed tree: deterministic)."""
        totals[slot + tx] = part
        half = width // 2
        while half > 0:
            cuda.syncthreads()
            if tx < half:
                totals[slot + tx] = totals[slot + tx] + totals[slot + tx + half]
            half //= 2
        cuda.syncthreads()
        return totals[slot]

    return row_stats, row_total, log_of


@lru_cache(maxsize=1024)
def _row_launch(rows: int, cols: int, threads: int) -> tuple:
    """(blocks, (width, rows per block)): width = the power of two >= cols, at most ``threads``,
    threads per row; a block of ``threads`` threads holds threads // width rows."""
    width = 1
    while width < cols and width < threads:
        width *= 2
    per_block = threads // width
    return (rows + per_block - 1) // per_block, (width, per_block)


@cache
def _softmax_kernel(dtype: np.dtype, log: bool, threads: int):
    row_stats, _, log_of = _row_functions(dtype)
    nb = from_dtype(dtype)
    one = dtype.type(1)

    @cuda.jit
    def kernel(x, rows, cols, out):
        """out[r] = softmax(x[r]) or log_softmax(x[r]), one row per blockDim.x threads."""
        tops = cuda.shared.array(threads, nb)
        totals = cuda.shared.array(threads, nb)
        tx, width = cuda.threadIdx.x, cuda.blockDim.x
        row = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
        base = row * cols
        top, total = row_stats(x, base, cols, row < rows, tx, width, cuda.threadIdx.y * width, tops, totals)
        if row < rows:
            if log:
                lse = log_of(total)
                for j in range(tx, cols, width):
                    out[base + j] = (x[base + j] - top) - lse
            else:
                inv = one / total
                for j in range(tx, cols, width):
                    out[base + j] = math.exp(x[base + j] - top) * inv

    return kernel


@cache
def _softmax_backward_kernel(dtype: np.dtype, log: bool, threads: int):
    _, row_total, _ = _row_functions(dtype)
    nb = from_dtype(dtype)
    zero = dtype.type(0)

    @cuda.jit
    def kernel(y, gy, rows, cols, out):
        """softmax: out = y (gy - sum(gy y));  log_softmax: out = gy - e^y sum(gy), per row."""
        totals = cuda.shared.array(threads, nb)
        tx, width = cuda.threadIdx.x, cuda.blockDim.x
        row = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
        base = row * cols
        part = zero
        if row < rows:
            for j in range(tx, cols, width):
                part += gy[base + j] if log else gy[base + j] * y[base + j]
        s = row_total(part, tx, width, cuda.threadIdx.y * width, totals)
        if row < rows:
            for j in range(tx, cols, width):
                if log:
                    out[base + j] = gy[base + j] - math.exp(y[base + j]) * s
                else:
                    out[base + j] = y[base + j] * (gy[base + j] - s)

    return kernel


@cache
def _cross_entropy_kernel(dtype: np.dtype, threads: int):
    row_stats, _, log_of = _row_functions(dtype)
    nb = from_dtype(dtype)

    @cuda.jit
    def kernel(z, target, rows, cols, out):
        """out[r] = (max_r - z[r, t_r]) + log sum_j e^(z[r, j] - max_r): the max kept apart, so
        nothing is lost to rounding at huge logits."""
        tops = cuda.shared.array(threads, nb)
        totals = cuda.shared.array(threads, nb)
        tx, width = cuda.threadIdx.x, cuda.blockDim.x
        row = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
        base = row * cols
        top, total = row_stats(z, base, cols, row < rows, tx, width, cuda.threadIdx.y * width, tops, totals)
        if row < rows and tx == 0:
            out[row] = (top - z[base + target[row]]) + log_of(total)

    return kernel


@cache
def _cross_entropy_backward_kernel(dtype: np.dtype, threads: int):
    row_stats, _, _ = _row_functions(dtype)
    nb = from_dtype(dtype)
    zero = dtype.type(0)

    @cuda.jit
    def kernel(z, target, gloss, gstride, rows, cols, out):
        """out[r, j] = g_r (softmax(z_r)_j - [j == t_r]), g_r = gloss[r * gstride] (stride 0:
        one scale for every row)."""
        tops = cuda.shared.array(threads, nb)
        totals = cuda.shared.array(threads, nb)
        tx, width = cuda.threadIdx.x, cuda.blockDim.x
        row = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
        base = row * cols
        top, total = row_stats(z, base, cols, row < rows, tx, width, cuda.threadIdx.y * width, tops, totals)
        if row < rows:
            g = gloss[row * gstride]
            scale = g / total
            t = target[row]
            for j in range(tx, cols, width):
                out[base + j] = math.exp(z[base + j] - top) * scale - (g if j == t else zero)

    return kernel


# ---- flat reductions: the difference losses --------------------------------------------------------


@cuda.jit(device=True, inline=True)
def _block_total(part, tid, threads, totals):
    """The sum of one block's ``threads`` partial sums (fixed tree); every thread must call it."""
    totals[tid] = part
    half = threads // 2
    while half > 0:
        cuda.syncthreads()
        if tid < half:
            totals[tid] = totals[tid] + totals[tid + half]
        half //= 2
    cuda.syncthreads()
    return totals[0]


def _item_function(kind: str):
    if kind == "squared":
        def item(d):
            return d * d
    elif kind == "abs":
        def item(d):
            return abs(d)
    else:
        raise KeyError(kind)
    return cuda.jit(device=True, inline=True)(item)


@cache
def _difference_kernel(kind: str, dtype: np.dtype, threads: int):
    item = _item_function(kind)
    nb = from_dtype(dtype)
    zero = dtype.type(0)

    @cuda.jit
    def kernel(a, b, n, diff, partials):
        """diff = a - b; partials[block] = sum of item(diff) over the block's grid-stride share."""
        totals = cuda.shared.array(threads, nb)
        tid = cuda.threadIdx.x
        part = zero
        for i in range(cuda.blockIdx.x * threads + tid, n, cuda.gridDim.x * threads):
            d = a[i] - b[i]
            diff[i] = d
            part += item(d)
        total = _block_total(part, tid, threads, totals)
        if tid == 0:
            partials[cuda.blockIdx.x] = total

    return kernel


@cache
def _finish_kernel(dtype: np.dtype, threads: int):
    nb = from_dtype(dtype)
    zero = dtype.type(0)

    @cuda.jit
    def kernel(partials, count, divisor, loss):
        """loss[0] = (sum of partials[0 : count]) / divisor, one block."""
        totals = cuda.shared.array(threads, nb)
        tid = cuda.threadIdx.x
        part = zero
        for i in range(tid, count, threads):
            part += partials[i]
        total = _block_total(part, tid, threads, totals)
        if tid == 0:
            loss[0] = total / divisor  # 0 / 0 = NaN: the mean of no items, as PyTorch

    return kernel


@cache
def _difference_backward_kernel(kind: str, dtype: np.dtype):
    zero, one = dtype.type(0), dtype.type(1)
    two = dtype.type(2)
    if kind == "squared":
        def slope(d):
            return d * two
    elif kind == "abs":
        def slope(d):
            return one if d > zero else (-one if d < zero else zero)  # 0 at 0 and at NaN
    else:
        raise KeyError(kind)
    slope = cuda.jit(device=True, inline=True)(slope)

    @cuda.jit
    def kernel(diff, g, n, divisor, out):
        """out = (g / divisor) slope(diff)."""
        i = cuda.grid(1)
        if i < n:
            out[i] = (g[0] / divisor) * slope(diff[i])

    return kernel


# ---- linear backward: gpre = gy act'(y) and its column sums ----------------------------------------


def _activation_grad(act: str | None, dtype: np.dtype):
    """The device function gpre = gy act'(y), act' written from the output y."""
    zero, one = dtype.type(0), dtype.type(1)
    if act is None:
        def f(g, y):
            return g
    elif act == "relu":
        def f(g, y):
            return zero if y <= zero else g  # a NaN output passes g, as PyTorch
    elif act == "sigmoid":
        def f(g, y):
            return g * (y * (one - y))
    elif act == "tanh":
        def f(g, y):
            return g * (one - y * y)
    else:
        raise KeyError(act)
    return cuda.jit(device=True, inline=True)(f)


@cache
def _gpre_kernel(act: str | None, dtype: np.dtype):
    f = _activation_grad(act, dtype)

    @cuda.jit
    def kernel(gy, y, n, gpre):
        """gpre = gy act'(y), elementwise."""
        i = cuda.grid(1)
        if i < n:
            gpre[i] = f(gy[i], y[i])

    return kernel


@cache
def _column_sum_kernel(act: str | None, dtype: np.dtype, write: bool, rows_per_block: int):
    """Column sums of gpre = gy act'(y) over blocks of ``rows_per_block`` rows (gpre written too when
    ``write``): 32 threads across columns (coalesced rows), 8 down the rows."""
    f = _activation_grad(act, dtype)
    nb = from_dtype(dtype)
    zero = dtype.type(0)

    @cuda.jit
    def kernel(gy, y, m, n, gpre, sums):
        """sums[blockIdx.y, c] = sum of gpre[r, c] over the block's rows, in a fixed order."""
        part_of = cuda.shared.array((8, 32), nb)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        c = cuda.blockIdx.x * 32 + tx
        first = cuda.blockIdx.y * rows_per_block
        part = zero
        if c < n:
            for r in range(first + ty, min(first + rows_per_block, m), 8):
                g = f(gy[r * n + c], y[r * n + c])
                if write:
                    gpre[r * n + c] = g
                part += g
        part_of[ty, tx] = part
        cuda.syncthreads()
        if ty == 0 and c < n:
            total = zero
            for q in range(8):
                total += part_of[q, tx]
            sums[cuda.blockIdx.y * n + c] = total

    return kernel


def _column_sums(act: str | None, gy, y, m: int, n: int, gpre, out) -> None:
    """out (n,) = column sums of gy act'(y) (m, n), gpre written when given. Over COLUMN_ROWS rows
    the blocks' partial sums (one row each) are summed again the same way: deterministic."""
    per_block = COLUMN_ROWS
    row_blocks = max(1, (m + per_block - 1) // per_block)
    sums = out if row_blocks == 1 else cuda.device_array(row_blocks * n, out.dtype)
    blocks = ((n + 31) // 32, row_blocks)
    write = gpre is not None
    _column_sum_kernel(act, out.dtype, write, per_block)[blocks, (32, 8)](gy, y, m, n, gpre if write else out, sums)
    if row_blocks > 1:
        _column_sums(None, sums, sums, row_blocks, n, None, out)


# ---- what the backend calls ----------------------------------------------------------------------------


def linear_forward(x, w, bias, act: str | None, out, m: int, k: int, n: int) -> None:
    """out (m, n) = act(x @ w^T + bias) for x (m, k), w (n, k), bias (n,) or None: the tiled
    matmul with bias and activation fused into its store."""
    if m == 0 or n == 0:
        return
    matmul((x, 0, (k, 1)), (w, 0, (k, 1)), (m, k), (n, k), False, True, out, bias=bias, act=act)


def linear_backward(x, w, y, gy, act: str | None, gx, gw, gb, m: int, k: int, n: int) -> None:
    """Gradients of y = act(x @ w^T + b): gpre = gy act'(y) (relu: 0 where y <= 0; sigmoid:
    y (1 - y); tanh: 1 - y^2); gx (m, k) = gpre @ w when gx is given; gw (n, k) = gpre^T @ x;
    gb (n,) = column sums of gpre when gb is given. gpre lives in a scratch array (none for
    act None: it is gy itself)."""
    if act is None:
        gpre = gy
        if gb is not None and n:
            _column_sums(None, gy, gy, m, n, None, gb)
    else:
        gpre = cuda.device_array(m * n, gy.dtype)
        if gb is not None and n:
            _column_sums(act, gy, y, m, n, gpre, gb)  # one pass: gpre and its column sums
        elif m * n:
            blocks, threads = grid(m * n)
            _gpre_kernel(act, gy.dtype)[blocks, threads](gy, y, m * n, gpre)
    compact_gpre = (gpre, 0, (n, 1))
    if gx is not None:
        matmul(compact_gpre, (w, 0, (k, 1)), (m, n), (n, k), False, False, gx)
    matmul(compact_gpre, (x, 0, (k, 1)), (m, n), (m, k), True, False, gw)


def softmax(x, rows: int, cols: int, out, log: bool) -> None:
    """out = softmax (or log_softmax when ``log``) of each row of the compact (rows, cols) x."""
    if rows == 0 or cols == 0:
        return
    blocks, shape = _row_launch(rows, cols, ROW_THREADS)
    _softmax_kernel(out.dtype, bool(log), ROW_THREADS)[blocks, shape](x, rows, cols, out)


def softmax_backward(y, gy, rows: int, cols: int, out, log: bool) -> None:
    """From the output y: softmax out = y (gy - sum(gy y)); log_softmax out = gy - e^y sum(gy)."""
    if rows == 0 or cols == 0:
        return
    blocks, shape = _row_launch(rows, cols, ROW_THREADS)
    _softmax_backward_kernel(out.dtype, bool(log), ROW_THREADS)[blocks, shape](y, gy, rows, cols, out)


def cross_entropy(logits, target, rows: int, cols: int, out) -> None:
    """out[r] = logsumexp(z_r) - z_r[t_r] for logits (rows, cols) and int64 targets in range."""
    if rows == 0:
        return
    blocks, shape = _row_launch(rows, cols, ROW_THREADS)
    _cross_entropy_kernel(out.dtype, ROW_THREADS)[blocks, shape](logits, target, rows, cols, out)


def cross_entropy_backward(logits, target, gloss, rows: int, cols: int, out) -> None:
    """out[r, j] = g_r (softmax(z_r)_j - [j == t_r]); gloss holds one g per row, or one for all."""
    if rows == 0 or cols == 0:
        return
    blocks, shape = _row_launch(rows, cols, ROW_THREADS)
    gstride = 0 if gloss.size == 1 else 1
    kernel = _cross_entropy_backward_kernel(out.dtype, ROW_THREADS)
    kernel[blocks, shape](logits, target, gloss, gstride, rows, cols, out)


def difference_loss(kind: str, a, b, n: int, divisor: float, diff, loss) -> None:
    """diff = a - b over n items; loss[0] = sum of item(diff) / divisor, item d^2 ("squared") or
    |d| ("abs"). Two launches: block partial sums, then one block adds them in order."""
    dtype, threads = diff.dtype, SUM_THREADS
    blocks = max(1, min(SUM_BLOCKS, (n + threads - 1) // threads))
    partials = cuda.device_array(blocks, dtype)
    _difference_kernel(kind, dtype, threads)[blocks, threads](a, b, n, diff, partials)
    _finish_kernel(dtype, threads)[1, threads](partials, blocks, dtype.type(divisor), loss)


def difference_loss_backward(kind: str, diff, g, n: int, divisor: float, out) -> None:
    """out = (g[0] / divisor) slope(diff), slope 2d ("squared") or sign(d) ("abs", 0 at 0 and NaN)."""
    if n == 0:
        return
    blocks, threads = grid(n)
    _difference_backward_kernel(kind, out.dtype)[blocks, threads](diff, g, n, out.dtype.type(divisor), out)
