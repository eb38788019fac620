"""Convolution and pooling as functions: ``conv1d``/``conv2d``, ``max_pool1d``/``2d``, ``avg_pool1d``/``2d`` and
``adaptive_avg_pool1d``/``2d`` (PyTorch's ``torch.nn.functional`` names and arguments).

Nothing here is a new op: each function is composed of tensor ops the engine already differentiates, so its
gradient is the chain rule through them and it runs on every device. The one idea is **im2col as a single
gather**:

1. the input (N, C, H, W) is laid out channels-last as a matrix of rows, one per pixel: (N*H*W, C);
2. where a window reaches into zero padding, one extra *fill row* (zeros for a convolution or an average,
   -inf for a max) is appended;
3. a host-computed integer array names, for every output pixel and every kernel tap, the row that tap reads
   (the fill row where the tap is in the padding; for ``padding_mode`` reflect / replicate / circular the
   mirrored, clamped or wrapped pixel); indexing with it gives the windows (N*OH*OW, KH*KW, C).

Then a convolution is one matrix product, out[p, o] = sum_{k, c} windows[p, k, c] W[o, c, k] + b[o], a max pool
is the max over the taps, and an average pool the sum over the taps divided by the window's size. Backward is
what those ops already know: the gather's gradient adds each window's gradient back onto the rows it read
(index_add: a pixel read by several windows collects all their contributions, the padding's share lands on
the fill row and is dropped); the product's gives dW = windows^T dout and dwindows = dout W; the max sends the
gradient to the first largest tap of each window, as PyTorch does.

The 1-d functions are the 2-d ones on a height of 1. Adaptive average pooling is two products with averaging
matrices, out = A_H x A_W^T, with A[i, j] = 1/len over output i's window [floor(i*In/Out), ceil((i+1)*In/Out)).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.core.tensor import Tensor, cat
from engine.errors import DeviceError, DTypeError, EngineTypeError, EngineValueError, ShapeError
from engine.ops import neural as _nn

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# ---- arguments ---------------------------------------------------------------------------------------------------


def _check_tensor(op: str, name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise EngineTypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}")
    return x


def _ints(op: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    """``value`` as ``n`` ints: an int is repeated, a sequence of 1 or ``n`` ints is taken as it is."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = list(value)
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            if len(items) == 1:
                return (int(items[0]),) * n
            if len(items) == n:
                return tuple(int(v) for v in items)
    plural = "" if n == 1 else "s"
    raise EngineValueError(f"{op}: {name} must be an int or a tuple of {n} int{plural}, got {value!r}")


def _check_positive(op: str, name: str, values: tuple[int, ...]) -> None:
    if any(v <= 0 for v in values):
        raise EngineValueError(f"{op}: {name} must be positive, got {values}")


def _check_dtype(op: str, x: Tensor, floating_only: bool = False) -> None:
    allowed = ("float32", "float64") if floating_only else ("float32", "float64", "int64", "uint8")
    if x.dtype.name not in allowed:
        raise DTypeError(f"{op}: not implemented for {x.dtype.name} input; use one of {', '.join(allowed)}")


def _check_same_device(op: str, name: str, t: Tensor, x: Tensor) -> None:
    if t._backend is not x._backend:
        raise DeviceError(
            f"{op}: {name} is on {t.device} but input is on {x.device}; move them to one device with .to()"
        )


def _check_rank(op: str, x: Tensor, dims: int) -> None:
    """An input of ``dims`` spatial dims takes a channel dim and an optional batch dim in front."""
    if x.ndim not in (dims + 1, dims + 2):
        raise ShapeError(
            f"{op}: expected {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, got input of shape "
            f"{tuple(x.shape)}"
        )


def _batched(x: Tensor, dims: int) -> Tensor:
    return x if x.ndim == dims + 2 else x.unsqueeze(0)


# ---- the geometry: output sizes and which row each tap reads (host integers only) ------------------------------


def _conv_out(size: int, kernel: int, stride: int, before: int, after: int, dilation: int) -> int:
    """floor((size + padding - dilation (kernel - 1) - 1) / stride) + 1."""
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def _pool_out(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size: as a convolution's, rounded up with ``ceil_mode``, except that the last
    window must start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1  # // rounds towards -inf, as PyTorch's div_rtn
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _taps(out: int, size: int, kernel: int, stride: int, before: int, dilation: int, mode: str):
    """(index, outside), each (out, kernel): the input position tap k of output i reads,
    i*stride - before + k*dilation, folded into [0, size) as ``mode`` pads, and where it lies in zero padding."""
    i = np.arange(out)[:, None] * stride - before + np.arange(kernel)[None, :] * dilation
    if mode == "reflect":  # ... 2 1 | 0 1 2 ... size-1 | size-2 ...  (padding < size, so one fold is enough)
        i = np.abs(i)
        i = np.where(i >= size, 2 * (size - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, size - 1)
    elif mode == "circular":
        i = np.mod(i, size)
    outside = (i < 0) | (i >= size)
    return np.clip(i, 0, max(size - 1, 0)), outside


@functools.lru_cache(maxsize=16)
def _window_rows(
    n: int, h: int, w: int, out: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
    before: tuple[int, int], dilation: tuple[int, int], mode: str,
) -> tuple[np.ndarray, bool]:
    """The rows of the (N*H*W [+ fill row], C) matrix that the windows read, in (n, oh, ow, kh, kw) order,
    flattened; and whether any tap reads the fill row (index N*H*W), i.e. lies in zero padding."""
    hi, h_out = _taps(out[0], h, kernel[0], stride[0], before[0], dilation[0], mode)
    wi, w_out = _taps(out[1], w, kernel[1], stride[1], before[1], dilation[1], mode)
    pixel = hi[:, None, :, None] * w + wi[None, :, None, :]  # (oh, ow, kh, kw): h * W + w
    rows = np.arange(n, dtype=np.int64).reshape(n, 1, 1, 1, 1) * (h * w) + pixel
    outside = h_out[:, None, :, None] | w_out[None, :, None, :]
    padded = bool(outside.any())
    if padded:
        rows = np.where(outside, n * h * w, rows)
    rows = np.ascontiguousarray(rows.reshape(-1), dtype=np.int64)
    rows.flags.writeable = False  # cached: shared by every call with this geometry
    return rows, padded


def _windows(
    x: Tensor, out: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
    before: tuple[int, int], dilation: tuple[int, int], mode: str, fill: float,
) -> Tensor:
    """(N*OH*OW, KH*KW, C): for each output pixel of x (N, C, H, W), the C values under each kernel tap
    (``fill`` where the tap lies in zero padding). One gather: its gradient adds back onto the pixels read."""
    from engine.core.creation import full

    n, c, h, w = x.shape
    if kernel == stride and before == (0, 0) and dilation == (1, 1) and mode == "zeros" and all(
        o * k <= s for o, k, s in zip(out, kernel, (h, w))
    ):
        # windows side by side (a pool's default): each pixel is read at most once, so a reshape and a permute
        # (a copy; its gradient a copy back) do what the gather would, without the gather's scattered adds
        used = x
        if (out[0] * kernel[0], out[1] * kernel[1]) != (h, w):  # the rows and columns no window reaches
            used = x[:, :, : out[0] * kernel[0], : out[1] * kernel[1]]
        tiles = used.reshape(n, c, out[0], kernel[0], out[1], kernel[1]).permute(0, 2, 4, 3, 5, 1)
        return tiles.reshape(n * out[0] * out[1], kernel[0] * kernel[1], c)
    rows = x.permute(0, 2, 3, 1).reshape(n * h * w, c)  # channels-last: one row per pixel
    index, padded = _window_rows(n, h, w, out, kernel, stride, before, dilation, mode)
    if padded:
        rows = cat([rows, full((1, c), fill, dtype=x.dtype, device=x.device)])
    return rows[index].reshape(n * out[0] * out[1], kernel[0] * kernel[1], c)


def _channels_first(rows: Tensor, n: int, out: tuple[int, int]) -> Tensor:
    """(N*OH*OW, C) rows back to a compact (N, C, OH, OW) tensor, as PyTorch's kernels return."""
    return rows.reshape(n, out[0], out[1], rows.shape[-1]).permute(0, 3, 1, 2).contiguous()


def _lowest(x: Tensor) -> float:
    """The fill of a max pool's padding: below every value of x's dtype."""
    return -math.inf if x.dtype.is_floating_point else int(np.iinfo(x.dtype.np).min)


# ---- convolution -------------------------------------------------------------------------------------------------


def _conv_padding(
    op: str, padding: Any, dims: int, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(before, after) padding per spatial dim; 'same' pads dilation*(kernel-1) in all, the odd one after."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * dims, (0,) * dims
        if padding == "same":
            if any(s != 1 for s in stride):
                raise EngineValueError(
                    f"{op}: padding='same' is not supported for strided convolutions, got stride={stride}"
                )
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
        raise EngineValueError(f"{op}: invalid padding string {padding!r}; use 'same', 'valid' or ints")
    pads = _ints(op, "padding", padding, dims)
    if any(p < 0 for p in pads):
        raise EngineValueError(f"{op}: negative padding is not supported, got padding={pads}")
    return pads, pads


def _conv(
    op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,  # noqa: A002
    dilation: Any, groups: int, padding_mode: str = "zeros",
) -> Tensor:
    """Shared by conv1d and conv2d (``dims`` spatial dims): checks in the caller's terms, then the 2-d case."""
    x = _check_tensor(op, "input", input)
    _check_tensor(op, "weight", weight)
    _check_rank(op, x, dims)
    if weight.ndim != dims + 2:
        raise ShapeError(
            f"{op}: weight must be {dims + 2}-D (out_channels, in_channels/groups, *kernel_size), got shape "
            f"{tuple(weight.shape)}"
        )
    _check_dtype(op, x)
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        got = f"weight {weight.dtype.name}" + ("" if bias is None else f", bias {bias.dtype.name}")
        raise DTypeError(
            f"{op}: input is {x.dtype.name} but {got}; they must have the same dtype (convert the input with "
            f".to({weight.dtype.name}) or the layer with .to({x.dtype.name}))"
        )
    _check_same_device(op, "weight", weight, x)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise EngineValueError(f"{op}: groups must be a positive int, got {groups!r}")
    stride = _ints(op, "stride", stride, dims)
    dilation = _ints(op, "dilation", dilation, dims)
    _check_positive(op, "stride", stride)
    _check_positive(op, "dilation", dilation)
    kernel = tuple(weight.shape[2:])
    before, after = _conv_padding(op, padding, dims, kernel, stride, dilation)
    if padding_mode not in PADDING_MODES:
        raise EngineValueError(f"{op}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")

    xb = _batched(x, dims)
    channels, out_channels = xb.shape[1], weight.shape[0]
    if out_channels % groups:
        raise ShapeError(
            f"{op}: groups={groups} must divide the weight's out_channels, got weight of shape {tuple(weight.shape)}"
        )
    if channels != weight.shape[1] * groups:
        raise ShapeError(
            f"{op}: given groups={groups}, weight of shape {tuple(weight.shape)} expects input {tuple(xb.shape)} "
            f"to have {weight.shape[1] * groups} channels, but got {channels} channels"
        )
    if bias is not None:
        _check_tensor(op, "bias", bias)
        _check_same_device(op, "bias", bias, x)
        if tuple(bias.shape) != (out_channels,):
            raise ShapeError(f"{op}: bias must have shape ({out_channels},) for weight {tuple(weight.shape)}, "
                             f"got {tuple(bias.shape)}")
    spatial = tuple(xb.shape[2:])
    padded = tuple(s + b + a for s, b, a in zip(spatial, before, after))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < r for p, r in zip(padded, reach)):
        raise ShapeError(
            f"{op}: padded input size per channel {padded} is smaller than the (dilated) kernel size {reach}; "
            f"input {tuple(x.shape)}, weight {tuple(weight.shape)}"
        )
    if padding_mode in ("reflect", "circular"):
        for s, b, a in zip(spatial, before, after):
            if (padding_mode == "reflect" and max(b, a) >= s) or (padding_mode == "circular" and max(b, a) > s):
                limit = "less than" if padding_mode == "reflect" else "at most"
                raise EngineValueError(
                    f"{op}: padding_mode={padding_mode!r} needs padding {limit} the input size, got padding "
                    f"{tuple(zip(before, after))} for input {tuple(x.shape)}"
                )

    if dims == 1:  # a 1-d convolution is a 2-d one over a height of 1
        xb, weight = xb.unsqueeze(2), weight.unsqueeze(2)
        kernel, stride, dilation = (1, *kernel), (1, *stride), (1, *dilation)
        before, after = (0, *before), (0, *after)
    out = _conv2d(xb, weight, bias, kernel, stride, before, after, dilation, groups, padding_mode)
    if dims == 1:
        out = out.squeeze(2)
    return out if x.ndim == dims + 2 else out.squeeze(0)


def _conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None, kernel: tuple[int, int], stride: tuple[int, int],
    before: tuple[int, int], after: tuple[int, int], dilation: tuple[int, int], groups: int, mode: str,
) -> Tensor:
    """out[n, o, i, j] = b[o] + sum_{c, p, q} x[n, g(o) C/G + c, i s0 - t0 + p d0, j s1 - t1 + q d1] W[o, c, p, q]
    (t = padding before; taps in the padding read zeros, or the folded pixel for other padding modes)."""
    n, c, h, w = x.shape
    o = weight.shape[0]
    out = tuple(_conv_out(s, k, st, b, a, d) for s, k, st, b, a, d in zip((h, w), kernel, stride, before, after,
                                                                             dilation))
    taps = kernel[0] * kernel[1]
    if taps == 1 and stride == (1, 1) and before == (0, 0) and after == (0, 0):
        cols = x.permute(0, 2, 3, 1).reshape(n * h * w, c)  # a 1x1 convolution reads each pixel once
    else:
        cols = _windows(x, out, kernel, stride, before, dilation, mode, 0).reshape(n * out[0] * out[1], taps * c)
    if groups == 1:
        # columns are (tap, channel); the weight (O, C, KH, KW) as (O, KH*KW*C) in that order
        w2 = weight.permute(0, 2, 3, 1).reshape(o, taps * c)
        if cols.dtype.is_floating_point:
            rows = _nn.Linear.apply(cols.contiguous(), w2.contiguous(), bias, None)  # cols W^T + b, one node
        else:
            rows = cols @ w2.t() if bias is None else cols @ w2.t() + bias
        return _channels_first(rows, n, out)
    # groups: channel group g meets only the weight rows of group g, a batch of G matrix products
    cg, og = c // groups, o // groups
    m = n * out[0] * out[1]
    cols = cols.reshape(m, taps, groups, cg).permute(2, 0, 1, 3).reshape(groups, m, taps * cg)
    wg = weight.reshape(groups, og, cg, kernel[0], kernel[1]).permute(0, 3, 4, 2, 1).reshape(groups, taps * cg, og)
    rows = (cols @ wg).permute(1, 0, 2).reshape(m, o)
    if bias is not None:
        rows = rows + bias
    return _channels_first(rows, n, out)


def conv2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation of input (N, C, H, W) (or unbatched (C, H, W)) with weight (O, C/groups, KH, KW):

    out[n, o, i, j] = bias[o] + sum_{c, p, q} x_pad[n, c, i*stride + p*dilation, j*stride + q*dilation] W[o, c, p, q]

    with c over the input channels of o's group and x_pad zero-padded by ``padding`` (ints, or 'valid' = 0 or
    'same' = the output keeps the input's size, stride 1). Output (N, O, OH, OW) with
    OH = floor((H + 2 padding - dilation (KH - 1) - 1) / stride) + 1. Gradients: dx[pixel] = sum of
    dout[o, window] W[o, tap] over the windows and taps that read it; dW[o, c, tap] = sum over windows of
    dout[o, window] x[c, window's tap]; dbias = dout summed over N, OH, OW.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation of input (N, C, L) (or (C, L)) with weight (O, C/groups, K):
    out[n, o, i] = bias[o] + sum_{c, k} x_pad[n, c, i*stride + k*dilation] W[o, c, k] (as conv2d, one dim)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


# ---- pooling -----------------------------------------------------------------------------------------------------


def _pool_args(
    op: str, x: Tensor, dims: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
    kind: str,
) -> tuple[Tensor, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Checked pooling arguments: (batched input, kernel, stride, padding, dilation, output size)."""
    _check_rank(op, x, dims)
    kernel = _ints(op, "kernel_size", kernel_size, dims)
    stride = kernel if stride is None or (isinstance(stride, Sequence) and len(stride) == 0) else _ints(
        op, "stride", stride, dims)
    pads = _ints(op, "padding", padding, dims)
    dilation = _ints(op, "dilation", dilation, dims)
    _check_positive(op, "kernel_size", kernel)
    _check_positive(op, "stride", stride)
    _check_positive(op, "dilation", dilation)
    for k, p, d in zip(kernel, pads, dilation):
        half = (d * (k - 1) + 1) // 2 if kind == "max" else k // 2
        if p < 0 or p > half or p > k // 2:
            raise EngineValueError(
                f"{op}: padding must be at most half of the kernel size, got padding={pads}, kernel_size={kernel}"
                + (f", dilation={dilation}" if kind == "max" else "")
            )
    xb = _batched(x, dims)
    spatial = tuple(xb.shape[2:])
    out = tuple(_pool_out(s, k, st, p, d, bool(ceil_mode)) for s, k, st, p, d in zip(spatial, kernel, stride, pads,
                                                                                  dilation))
    if any(o <= 0 for o in out) or any(s == 0 for s in spatial):
        raise ShapeError(
            f"{op}: input of shape {tuple(x.shape)} gives output size {out} for kernel_size={kernel}, "
            f"stride={stride}, padding={pads}: output size is too small"
        )
    return xb, kernel, stride, pads, dilation, out


def _lift(dims: int, xb: Tensor, *pairs: tuple[int, ...]) -> tuple:
    """The 2-d view of a 1-d pooling: a height of 1, kernel 1, stride 1, no padding, dilation 1 in front."""
    if dims == 2:
        return (xb, *pairs)
    fronts = (1, 1, 0, 1, 1)  # kernel, stride, padding, dilation, out
    return (xb.unsqueeze(2), *((f, *p) for f, p in zip(fronts, pairs)))


def _max_pool(
    op: str, dims: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,  # noqa: A002
    ceil_mode: bool, return_indices: bool,
):
    x = _check_tensor(op, "input", input)
    _check_dtype(op, x)
    xb, kernel, stride, pads, dilation, out = _pool_args(op, x, dims, kernel_size, stride, padding, dilation,
                                                         ceil_mode, "max")
    xb, kernel, stride, pads, dilation, out = _lift(dims, xb, kernel, stride, pads, dilation, out)
    n, c, h, w = xb.shape
    windows = _windows(xb, out, kernel, stride, pads, dilation, "zeros", _lowest(xb))
    if n == 0 or c == 0:  # nothing to compare: an empty output, still in the graph
        values = _channels_first(windows.sum(dim=1).to(xb.dtype), n, out)
        indices = values.long() if return_indices else None
    else:
        best = windows.max(dim=1)  # gradient to the first largest tap of each window, as PyTorch's kernel
        values = _channels_first(best.values, n, out)
        indices = _argmax_pixels(best.indices, n, h, w, out, kernel, stride, pads, dilation) if return_indices else None
    if dims == 1:
        values = values.squeeze(2)
        indices = None if indices is None else indices.squeeze(2)
    if x.ndim == dims + 1:
        values = values.squeeze(0)
        indices = None if indices is None else indices.squeeze(0)
    return (values, indices) if return_indices else values


def _argmax_pixels(taps: Tensor, n: int, h: int, w: int, out, kernel, stride, pads, dilation) -> Tensor:
    """The flat input position (h * W + w) of each window's largest tap: a host table of each tap's pixel,
    gathered at the tap index the max chose."""
    from engine.autograd.grad_mode import no_grad
    from engine.core.tensor import tensor

    hi, _ = _taps(out[0], h, kernel[0], stride[0], pads[0], dilation[0], "zeros")
    wi, _ = _taps(out[1], w, kernel[1], stride[1], pads[1], dilation[1], "zeros")
    pixel = (hi[:, None, :, None] * w + wi[None, :, None, :]).reshape(out[0] * out[1], kernel[0] * kernel[1])
    with no_grad():
        table = tensor(np.tile(pixel, (n, 1)), device=taps.device)  # (N*OH*OW, taps)
        c = taps.shape[-1]
        chosen = table.unsqueeze(2).expand(table.shape[0], table.shape[1], c).gather(1, taps.unsqueeze(1))
        return _channels_first(chosen.squeeze(1), n, out)


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The largest value of each kernel_size window of input (N, C, H, W) (or (C, H, W)), windows ``stride``
    apart (default: kernel_size, windows side by side), over the input padded with -inf by ``padding``.
    d out / d x = 1 at the first largest value of each window (row-major order), 0 elsewhere; a pixel in
    several windows collects each window's gradient. ``return_indices`` also gives each maximum's flat
    position h * W + w in its (H, W) plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """max_pool2d over one dim: input (N, C, L) or (C, L)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_divisors(out, spatial, kernel, stride, pads, ceil_mode, count_include_pad, divisor_override) -> np.ndarray:
    """(OH*OW, 1) divisors of PyTorch's average pool: the window's size clipped to the padded input (with
    ``count_include_pad``) or to the input itself, or ``divisor_override``."""
    if divisor_override is not None:
        return np.full((out[0] * out[1], 1), float(divisor_override))
    sizes = []
    for o, s, k, st, p in zip(out, spatial, kernel, stride, pads):
        start = np.arange(o) * st - p
        end = np.minimum(start + k, s + p)
        with_pad = end - start
        inside = np.minimum(end, s) - np.maximum(start, 0)
        sizes.append(with_pad if count_include_pad else inside)
    return (sizes[0][:, None] * sizes[1][None, :]).reshape(-1, 1).astype(np.float64)


def _avg_pool(
    op: str, dims: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,  # noqa: A002
    count_include_pad: bool, divisor_override: int | None,
) -> Tensor:
    from engine.core.dtypes import float64
    from engine.core.tensor import tensor

    x = _check_tensor(op, "input", input)
    _check_dtype(op, x)
    if divisor_override is not None and (
        isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer))
        or divisor_override == 0
    ):
        raise EngineValueError(f"{op}: divisor_override must be a nonzero int or None, got {divisor_override!r}")
    xb, kernel, stride, pads, dilation, out = _pool_args(op, x, dims, kernel_size, stride, padding, 1, ceil_mode,
                                                         "avg")
    xb, kernel, stride, pads, dilation, out = _lift(dims, xb, kernel, stride, pads, dilation, out)
    n, c, h, w = xb.shape
    divisors = _avg_divisors(out, (h, w), kernel, stride, pads, ceil_mode, count_include_pad, divisor_override)
    sums = _windows(xb, out, kernel, stride, pads, dilation, "zeros", 0).sum(dim=1)  # (N*OH*OW, C)
    sums = sums.reshape(n, out[0] * out[1], c)
    if x.dtype.is_floating_point:
        means = sums / tensor(divisors, dtype=x.dtype, device=x.device)
    else:  # integers: the sum divided and rounded towards zero, as PyTorch's integer kernel
        means = (sums.to(float64) / tensor(divisors, dtype=float64, device=x.device)).trunc().to(x.dtype)
    result = _channels_first(means.reshape(n * out[0] * out[1], c), n, out)
    if dims == 1:
        result = result.squeeze(2)
    return result if x.ndim == dims + 2 else result.squeeze(0)


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each kernel_size window of input (N, C, H, W) (or (C, H, W)), windows ``stride`` apart
    (default: kernel_size) over the input zero-padded by ``padding``: the window's sum divided by its size
    (counting the padding with ``count_include_pad``, else only the input's pixels; or ``divisor_override``).
    d out / d x = 1 / divisor for every pixel of the window."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """avg_pool2d over one dim: input (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


# ---- adaptive average pooling ------------------------------------------------------------------------------------


def _averaging_matrix(out: int, size: int) -> np.ndarray:
    """A (out, size): row i averages input [floor(i size / out), ceil((i + 1) size / out))."""
    a = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        a[i, start:end] = 1.0 / (end - start)
    return a


def _adaptive_avg_pool(op: str, dims: int, input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    from engine.core.tensor import tensor

    x = _check_tensor(op, "input", input)
    _check_rank(op, x, dims)
    _check_dtype(op, x, floating_only=True)
    spatial = tuple(x.shape[-dims:])
    sizes = list(output_size) if isinstance(output_size, Sequence) and not isinstance(output_size, str) else None
    if sizes is not None and len(sizes) == dims:
        sizes = [s if s is not None else spatial[i] for i, s in enumerate(sizes)]
    out = _ints(op, "output_size", sizes if sizes is not None else output_size, dims)
    if any(o < 0 for o in out) or any(s == 0 for s in spatial):
        raise ShapeError(f"{op}: cannot pool input of shape {tuple(x.shape)} to output_size {out}")
    # out = A_H x A_W^T over the last two dims (one product for 1-d)
    a_w = tensor(_averaging_matrix(out[-1], spatial[-1]).T, dtype=x.dtype, device=x.device)
    result = x @ a_w
    if dims == 2:
        a_h = tensor(_averaging_matrix(out[0], spatial[0]), dtype=x.dtype, device=x.device)
        result = a_h @ result
    return result.contiguous()


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:  # noqa: A002
    """The mean over PyTorch's adaptive windows, giving an (OH, OW) = ``output_size`` output (None keeps that
    dim) whatever the input's (H, W): output row i covers input rows [floor(i H / OH), ceil((i + 1) H / OH)).
    A linear map, out = A_H x A_W^T, so dx = A_H^T dout A_W."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:  # noqa: A002
    """adaptive_avg_pool2d over one dim: input (N, C, L) or (C, L)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
]
