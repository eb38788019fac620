"""``engine.nn.functional`` (``F``): layers and losses as plain functions, with PyTorch's signatures.

Each function checks its inputs (shapes, dtypes, label ranges) and names what was wrong,
then calls one fused op from ``engine.ops`` where there is one: ``linear`` is one node
(``x W^T + b`` and its activation), ``cross_entropy`` is one node (log-sum-exp and the
``softmax - one_hot`` gradient). The rarer options (class weights, ``ignore_index``, label
smoothing, probability targets) are composed from ``log_softmax`` and indexing.

The normalizations (``batch_norm``, ``layer_norm``), ``embedding``, ``gelu``, ``softplus`` and
the robust losses (``smooth_l1_loss``, ``huber_loss``) are compositions of tensor ops: their
gradients are those of the ops they are made of, with no derivative of their own to get wrong.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from engine.backends.layout import broadcast_shapes
from engine.core import dtypes
from engine.core.tensor import Tensor, _extremes, where
from engine.core.tensor import log_softmax as _log_softmax
from engine.core.tensor import softmax as _softmax
from engine.errors import DTypeError, EngineTypeError, EngineValueError, ShapeError
from engine.ops import elementwise as _ew
from engine.ops import neural as _nn
from engine.ops import shape as _shape_ops

_REDUCTIONS = ("mean", "sum", "none")
_FUSED_ACTIVATIONS = (None, "relu", "sigmoid", "tanh")


def _check_tensor(op: str, name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise EngineTypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}")
    return x


def _check_reduction(op: str, reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise EngineValueError(f"{op}: reduction={reduction!r} is not valid; use 'mean', 'sum' or 'none'")
    return reduction


def _check_floating(op: str, name: str, x: Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}: {name} must be a floating point tensor, got {x.dtype.name}; convert it with .float()")


def _check_same_dtype(op: str, input: Tensor, target: Tensor) -> None:  # noqa: A002 - PyTorch's name
    if input.dtype != target.dtype:
        raise DTypeError(
            f"{op}: input and target must have the same dtype, got input {input.dtype.name} and target "
            f"{target.dtype.name}; convert the target with .to({input.dtype.name})"
        )


def _check_device(op: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if input._backend is not target._backend:
        from engine.errors import DeviceError

        raise DeviceError(
            f"{op}: input is on {input.device} but target is on {target.device}; move them to one device with .to()"
        )


# ---- layers ---------------------------------------------------------------------------------------

def _linear_fast_path_ok(input, weight, bias, activation) -> bool:  # noqa: A002
    """True for the common case that needs no reshaping: 2-D input and weight of one dtype and
    device, fitting shapes. (A train step of a small MLP is mostly Python overhead, so the hot
    path checks the raw arrays once instead of calling properties.) The layout is left to the
    backend: every linear_forward/linear_backward compacts what it reads. Everything else goes
    through the full checks below."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        return False
    x, w = input._data, weight._data
    if (
        x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1] or x.dtype != w.dtype
        or input._backend is not weight._backend or activation not in _FUSED_ACTIVATIONS
    ):
        return False
    if bias is not None:
        b = bias._data
        if b.shape != (w.shape[0],) or b.dtype != w.dtype or bias._backend is not weight._backend:
            return False
    return True


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None, activation: str | None = None) -> Tensor:  # noqa: A002
    """y = act(x W^T + b) for x (..., in), W (out, in), b (out,): one fused node.

    dx = d pre W, dW = d pre^T x, db = column sums of d pre, where d pre = dy * act'(y).
    Leading dimensions of x are flattened into rows for the kernel and restored after;
    a 1-D x is one row. ``activation`` (one of None, 'relu', 'sigmoid', 'tanh') is an
    engine extension used by ``Sequential`` to fuse a Linear with its activation.
    """
    if _linear_fast_path_ok(input, weight, bias, activation):
        return _nn.Linear.apply(input, weight, bias, activation)
    _check_tensor("linear", "input", input)
    _check_tensor("linear", "weight", weight)
    if activation not in _FUSED_ACTIVATIONS:
        raise EngineValueError(f"linear: activation {activation!r} is not fused; use None, 'relu', 'sigmoid' or 'tanh'")
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    out_features, in_features = weight.shape
    if input.ndim == 0 or input.shape[-1] != in_features:
        raise ShapeError(
            f"linear: input shape {tuple(input.shape)} does not fit weight shape {tuple(weight.shape)}; "
            f"the input's last dimension must be in_features={in_features}"
        )
    if bias is not None:
        _check_tensor("linear", "bias", bias)
        if tuple(bias.shape) != (out_features,):
            raise ShapeError(
                f"linear: bias must have shape ({out_features},) for weight {tuple(weight.shape)}, "
                f"got {tuple(bias.shape)}"
            )
    for name, t in (("input", input), ("bias", bias)):
        if t is not None and t.dtype != weight.dtype:
            raise DTypeError(
                f"linear: {name} is {t.dtype.name} but weight is {weight.dtype.name}; they must have the same dtype "
                f"(convert the {name} with .to({weight.dtype.name}) or the model with .to({t.dtype.name}))"
            )
    lead = tuple(input.shape[:-1])
    rows = input.reshape(-1, in_features) if input.ndim != 2 else input
    # The kernels read compact row-major buffers (DESIGN.md: Python owns strides).
    out = _nn.Linear.apply(rows.contiguous(), weight.contiguous(), bias, activation)
    return out if input.ndim == 2 else out.reshape(*lead, out_features)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x);  d/dx = 1 for x > 0, else 0."""
    return _check_tensor("relu", "input", input).relu()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + e^-x);  d/dx = s (1 - s)."""
    return _check_tensor("sigmoid", "input", input).sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh x;  d/dx = 1 - tanh^2."""
    return _check_tensor("tanh", "input", input).tanh()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, else slope x;  d/dx = 1 or slope."""
    x = _check_tensor("leaky_relu", "input", input)
    _check_floating("leaky_relu", "input", x)
    return _ew.LeakyRelu.apply(x, float(negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, else alpha (e^x - 1);  d/dx = 1 or y + alpha."""
    x = _check_tensor("elu", "input", input)
    _check_floating("elu", "input", x)
    return _ew.Elu.apply(x, float(alpha))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x Phi(x), Phi the standard normal CDF: x/2 (1 + erf(x / sqrt 2));  d/dx = Phi(x) + x phi(x).

    ``approximate='tanh'``: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Both are composed from
    tensor ops (``erf``, ``tanh``), whose derivatives give the gradient.
    """
    x = _check_tensor("gelu", "input", input)
    if approximate not in ("none", "tanh"):
        raise EngineValueError(f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    _check_floating("gelu", "input", x)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (inner.tanh() + 1.0)
    return x * 0.5 * ((x * math.sqrt(0.5)).erf() + 1.0)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold;  d/dx = sigmoid(beta x) (or 1).

    The exponential only sees values up to the threshold (the others are replaced by 0 before
    it), so a large x gives neither inf in the unused branch nor a NaN gradient through it.
    """
    x = _check_tensor("softplus", "input", input)
    _check_floating("softplus", "input", x)
    scaled = x * beta
    linear = scaled > threshold
    safe = where(linear, 0.0, scaled)
    return where(linear, x, safe.exp().log1p() / beta)


def _implicit_dim(op: str, ndim: int) -> int:
    """PyTorch's legacy choice when ``dim`` is left out: 0 for 0-, 1- and 3-d input, else 1."""
    warnings.warn(
        f"{op}: implicit dimension choice is deprecated; pass dim= explicitly", UserWarning, stacklevel=3
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: object = None) -> Tensor:  # noqa: A002
    """e^(x_i - max) / sum_j e^(x_j - max) along ``dim``;  ds = s (g - sum(g s))."""
    x = _check_tensor("softmax", "input", input)
    x = x if dtype is None else x.to(dtype)
    return _softmax(x, _implicit_dim("softmax", x.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: object = None) -> Tensor:  # noqa: A002
    """x - max - log sum e^(x - max) along ``dim``;  dx = g - softmax(x) sum(g)."""
    x = _check_tensor("log_softmax", "input", input)
    x = x if dtype is None else x.to(dtype)
    return _log_softmax(x, _implicit_dim("log_softmax", x.ndim) if dim is None else dim)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (only when training)."""
    if not 0.0 <= p <= 1.0:
        raise EngineValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from engine.core.random import generator

    keep = generator().random(tuple(input.shape)) >= p
    mask = (keep / (1.0 - p)).astype(input._data.dtype)
    return input * input._like(input._backend.from_numpy(mask))


# ---- normalization and embeddings -------------------------------------------------------------------

def _check_stat(op: str, name: str, t: Tensor | None, channels: int, x: Tensor) -> None:
    """A per-channel vector (running mean/var, weight, bias): shape (C,), the input's device."""
    if t is None:
        return
    _check_tensor(op, name, t)
    if tuple(t.shape) != (channels,):
        raise ShapeError(
            f"{op}: {name} must have shape ({channels},) (one value per channel of input {tuple(x.shape)}), "
            f"got {tuple(t.shape)}"
        )
    if t._backend is not x._backend:
        from engine.errors import DeviceError

        raise DeviceError(f"{op}: {name} is on {t.device} but input is on {x.device}; move them to one device")


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1 of (N, C, ...)).

    Training: mean and the biased var over every dim but 1 (the batch's statistics; the
    gradient flows through them), and the running buffers move in place:
    r <- (1 - momentum) r + momentum s, with the *unbiased* variance (n / (n - 1)) for
    ``running_var``, as in PyTorch. Otherwise the running buffers are the statistics.
    """
    op = "batch_norm"
    x = _check_tensor(op, "input", input)
    _check_floating(op, "input", x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must have a batch and a channel dimension (N, C, ...), got {tuple(x.shape)}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_stat(op, name, t, channels, x)
    axes = (0, *range(2, x.ndim))
    count = x.numel() // channels if channels else 0
    bcast = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        if count <= 1:
            raise EngineValueError(
                f"{op}: expected more than 1 value per channel when training, got input size {tuple(x.shape)}"
            )
        mean = x.mean(dim=axes, keepdim=True)
        centered = x - mean
        squares = (centered * centered).sum(dim=axes, keepdim=True)
        var = squares / count
        if running_mean is not None or running_var is not None:
            from engine.autograd.grad_mode import no_grad

            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1.0 - momentum).add_(mean.reshape(channels).to(running_mean.dtype),
                                                           alpha=momentum)
                if running_var is not None:
                    unbiased = squares.reshape(channels) / (count - 1)
                    running_var.mul_(1.0 - momentum).add_(unbiased.to(running_var.dtype), alpha=momentum)
    else:
        if running_mean is None or running_var is None:
            raise EngineValueError(
                f"{op}: running_mean and running_var must be given when training=False (they are the statistics)"
            )
        mean = running_mean.reshape(*bcast).to(x.dtype)
        var = running_var.reshape(*bcast).to(x.dtype)
        centered = x - mean
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(*bcast)
    if bias is not None:
        out = out + bias.reshape(*bcast)
    return out


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, the statistics (biased variance) taken
    over the last ``len(normalized_shape)`` dims of each sample; the gradient flows through them."""
    op = "layer_norm"
    x = _check_tensor(op, "input", input)
    _check_floating(op, "input", x)
    shape = _normalized_shape(op, normalized_shape)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(
            f"{op}: given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size {list(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_tensor(op, name, t)
            if tuple(t.shape) != shape:
                raise ShapeError(f"{op}: {name} must have shape {shape} (normalized_shape), got {tuple(t.shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    if not axes:  # normalized_shape=() normalizes each element on its own: (x - x) / sqrt(0 + eps)
        out = (x - x) / math.sqrt(eps)
    else:
        mean = x.mean(dim=axes, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=axes, keepdim=True)
        out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _normalized_shape(op: str, normalized_shape: object) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape):
        raise EngineValueError(f"{op}: normalized_shape must be an int or a sequence of non-negative ints, "
                               f"got {normalized_shape!r}")
    return shape


def _padding_index(op: str, padding_idx: int | None, rows: int) -> int | None:
    """PyTorch's rule: a negative padding_idx counts from the end; it must name a row."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int) or not -rows <= padding_idx < rows:
        raise EngineValueError(f"{op}: padding_idx must be within num_embeddings ({rows}), got {padding_idx!r}")
    return padding_idx % rows


def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """out[..., :] = weight[input[...], :]: row lookup for integer indices of any shape.

    d weight = the output gradients added back into the rows they came from (``gather`` along
    dim 0, whose backward is ``scatter_add``), except the ``padding_idx`` row, which gets none.
    ``max_norm`` first rescales, in place, each looked-up row whose ``norm_type``-norm exceeds it.
    ``sparse=True`` is accepted, but the gradient is dense (the engine has no sparse tensors).
    """
    op = "embedding"
    idx = _check_tensor(op, "input", input)
    w = _check_tensor(op, "weight", weight)
    if idx.dtype is not dtypes.int64:
        raise DTypeError(f"{op}: indices (input) must be an int64 (long) tensor, got {idx.dtype.name}; use .long()")
    if w.ndim != 2:
        raise ShapeError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(w.shape)}")
    if idx._backend is not w._backend:
        from engine.errors import DeviceError

        raise DeviceError(f"{op}: input is on {idx.device} but weight is on {w.device}; move them to one device")
    if scale_grad_by_freq:
        raise EngineValueError(f"{op}: scale_grad_by_freq=True is not supported; use the default False")
    rows, dim = w.shape
    padding_idx = _padding_index(op, padding_idx, rows)
    flat = idx.reshape(-1)
    if flat.numel():
        low, high = _extremes(flat)
        if low < 0 or high >= rows:
            bad = low if low < 0 else high
            raise EngineValueError(
                f"{op}: index {bad} is out of range for {rows} embeddings (valid: 0 to {rows - 1})"
            )
    if max_norm is not None:
        _renorm_rows(w, flat, float(max_norm), float(norm_type))
    index = flat.reshape(-1, 1).expand(flat.shape[0], dim).contiguous()
    out = _shape_ops.Gather.apply(w, index, 0)
    if padding_idx is not None and w.requires_grad:
        # The padding row's value is looked up as stored but gets no gradient.
        out = where((flat == padding_idx).reshape(-1, 1), out.detach(), out)
    return out.reshape(*idx.shape, dim)


def _renorm_rows(weight: Tensor, flat: Tensor, max_norm: float, norm_type: float) -> None:
    """weight[i] *= max_norm / (norm + 1e-7) for each looked-up row i whose norm exceeds max_norm
    (in place and outside the graph, as PyTorch's ``embedding_renorm_``; bumps the version)."""
    import numpy as np

    from engine.autograd.grad_mode import no_grad

    bk = weight._backend
    ids = np.unique(bk.to_numpy(flat._data))  # host keys, as the setitem primitive takes them
    with no_grad():
        picked = weight._like(bk.getitem(weight._data, (ids,)))
        if math.isinf(norm_type):
            norms = picked.abs().amax(dim=1)
        else:
            norms = (picked.abs() ** norm_type).sum(dim=1) ** (1.0 / norm_type)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        bk.setitem(weight._data, (ids,), (picked * scale.reshape(-1, 1))._data)
    weight._bump_version()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape ``(*tensor.shape, num_classes)`` with a 1 at each label (no gradient)."""
    t = _check_tensor("one_hot", "tensor", tensor)
    if t.dtype != dtypes.int64:
        raise DTypeError(f"one_hot: expects an int64 (long) tensor of class labels, got {t.dtype.name}")
    low, high = _extremes(t) if t.numel() else (0, -1)
    if num_classes == -1:
        if t.numel() == 0:
            raise EngineValueError("one_hot: can't infer the number of classes from an empty tensor; pass num_classes")
        num_classes = high + 1
    if t.numel() and (low < 0 or high >= num_classes):
        bad = low if low < 0 else high
        raise EngineValueError(
            f"one_hot: label {bad} is out of range for {num_classes} classes (valid: 0 to {num_classes - 1})"
        )
    bk, shape = t._backend, tuple(t.shape)
    at = bk.reshape(t._data, (*shape, 1))
    out = bk.scatter_add((*shape, num_classes), len(shape), at, bk.full((*shape, 1), 1, t._data.dtype))
    return t._like(out)


# ---- losses ---------------------------------------------------------------------------------------

def _pair(op: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if (
        isinstance(input, Tensor) and isinstance(target, Tensor) and input._backend is target._backend
        and input._data.dtype == target._data.dtype and input._data.dtype.kind == "f"
    ):
        return  # the common case, checked on the raw arrays (losses run every step)
    _check_tensor(op, "input", input)
    _check_tensor(op, "target", target)
    _check_device(op, input, target)
    _check_floating(op, "input", input)
    _check_same_dtype(op, input, target)


def _warn_if_broadcast(input: Tensor, target: Tensor) -> None:  # noqa: A002
    """PyTorch's warning when a regression loss broadcasts target against input (often a bug:
    (N, 1) against (N,) gives an (N, N) loss)."""
    if input._data.shape != target._data.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning, stacklevel=3,
        )


def _broadcastable(op: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if input._data.shape == target._data.shape:
        return
    try:
        broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise ShapeError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} do not broadcast; "
            "give them the same shape"
        ) from None


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """mean (x - y)^2 (or the sum, or per element);  d/dx = 2 (x - y) / n. Shapes broadcast."""
    if (
        (reduction == "mean" or reduction == "sum") and isinstance(input, Tensor) and isinstance(target, Tensor)
        and input._backend is target._backend and input._data.shape == target._data.shape
        and input._data.dtype == target._data.dtype and input._data.dtype.kind == "f"
    ):
        # The common case (what _pair, _broadcastable and _check_reduction accept, with nothing to
        # warn about), checked in one go: a regression loss runs every step.
        return _nn.MSE.apply(input, target, reduction=reduction)
    _pair("mse_loss", input, target)
    _broadcastable("mse_loss", input, target)
    _warn_if_broadcast(input, target)
    return _nn.MSE.apply(input, target, reduction=_check_reduction("mse_loss", reduction))


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """mean |x - y|;  d/dx = sign(x - y) / n. Shapes broadcast."""
    _pair("l1_loss", input, target)
    _broadcastable("l1_loss", input, target)
    _warn_if_broadcast(input, target)
    return _nn.L1.apply(input, target, reduction=_check_reduction("l1_loss", reduction))


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair as a ``reduction`` string (with its warning)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
        UserWarning, stacklevel=3,
    )
    return reduction


def _reduce(per_item: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return per_item
    return per_item.sum() if reduction == "sum" else per_item.mean()


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = x - y;  d/dx = d / beta or sign(d).

    ``beta = 0`` is ``l1_loss`` (as in PyTorch: the quadratic piece would divide by zero).
    """
    op = "smooth_l1_loss"
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    _pair(op, input, target)
    _broadcastable(op, input, target)
    _warn_if_broadcast(input, target)
    reduction = _check_reduction(op, reduction)
    if beta < 0:
        raise EngineValueError(f"{op}: does not support negative values for beta, got beta={beta}")
    if beta == 0:
        return _nn.L1.apply(input, target, reduction=reduction)
    diff = (input - target).abs()
    return _reduce(where(diff < beta, diff * diff * 0.5 / beta, diff - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta), for d = x - y;  d/dx = d or delta sign(d).

    Equal to ``delta * smooth_l1_loss(x, y, beta=delta)``. ``weight`` multiplies each element's loss.
    """
    op = "huber_loss"
    _pair(op, input, target)
    _broadcastable(op, input, target)
    _warn_if_broadcast(input, target)
    reduction = _check_reduction(op, reduction)
    if not delta > 0:
        raise EngineValueError(f"{op}: does not support non-positive values for delta, got delta={delta}")
    diff = (input - target).abs()
    per_item = where(diff < delta, diff * diff * 0.5, (diff - 0.5 * delta) * delta)
    if weight is not None:
        _check_tensor(op, "weight", weight)
        if tuple(weight.shape) != tuple(input.shape):
            raise ShapeError(f"{op}: weight shape {tuple(weight.shape)} must equal input shape {tuple(input.shape)}")
        per_item = per_item * weight
    return _reduce(per_item, reduction)


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{op}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)}; "
            "reshape the target (e.g. y.view(-1, 1) or y.squeeze())"
        )


def _weighted(op: str, per_item: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """Multiply per-item losses by ``weight`` (broadcast) and reduce (mean over the items)."""
    if weight is not None:
        _check_tensor(op, "weight", weight)
        _broadcastable(op, per_item, weight)
        per_item = per_item * weight
    if reduction == "none":
        return per_item
    return per_item.sum() if reduction == "sum" else per_item.mean()


def _check_unit_interval(op: str, name: str, x: Tensor, hint: str) -> None:
    """Every element of ``x`` in [0, 1] (NaN is outside), else a one-line error with ``hint``."""
    if not x.numel():
        return
    bk = x._backend
    low = float(bk.to_numpy(bk.min(x._data, None, arg=False)[0]))
    high = float(bk.to_numpy(bk.max(x._data, None, arg=False)[0]))
    if not (low >= 0.0 and high <= 1.0):  # also catches NaN
        bad = low if not low >= 0.0 else high
        raise EngineValueError(f"{op}: all elements of {name} should be between 0 and 1, found {bad}; {hint}")


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"  # noqa: A002
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), each log clamped at -100;  d/dp = (p - y) / (p (1 - p)).

    ``input`` holds probabilities (apply sigmoid first, or use binary_cross_entropy_with_logits).
    """
    op = "binary_cross_entropy"
    _pair(op, input, target)
    _same_shape(op, input, target)
    reduction = _check_reduction(op, reduction)
    _check_unit_interval(op, "input", input, "apply sigmoid first or use binary_cross_entropy_with_logits")
    _check_unit_interval(op, "target", target, "targets are probabilities (0 and 1 for labels)")
    if weight is None:
        return _nn.BinaryCrossEntropy.apply(input, target, reduction=reduction)
    return _weighted(op, _nn.BinaryCrossEntropy.apply(input, target, reduction="none"), weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """max(z, 0) - z y + log(1 + e^-|z|) = BCE(sigmoid(z), y), stable for any z;  d/dz = sigmoid(z) - y."""
    op = "binary_cross_entropy_with_logits"
    _pair(op, input, target)
    _same_shape(op, input, target)
    reduction = _check_reduction(op, reduction)
    if pos_weight is not None:
        # loss = (1 - y) z + (1 + (w - 1) y) softplus(-z), softplus(-z) = relu(-z) + log(1 + e^-|z|)
        _check_tensor(op, "pos_weight", pos_weight)
        _broadcastable(op, input, pos_weight)
        softplus_neg = (-input).relu() + (1.0 + (-input.abs()).exp()).log()
        per_item = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * softplus_neg
        return _weighted(op, per_item, weight, reduction)
    if weight is None:
        return _nn.BinaryCrossEntropyWithLogits.apply(input, target, reduction=reduction)
    return _weighted(op, _nn.BinaryCrossEntropyWithLogits.apply(input, target, reduction="none"), weight, reduction)


def _class_rows(op: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, tuple]:
    """Logits as rows (N, C) and labels (N,): class dim moved last for (N, C, d1, ...) input.

    Returns the rows, the labels and the shape per-item losses have under reduction='none'.
    """
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ShapeError(
                f"{op}: for 1-D input of shape {tuple(input.shape)} (one sample) the target must be a 0-d label, "
                f"got shape {tuple(target.shape)}"
            )
        return input.reshape(1, -1), target.reshape(1), ()
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ShapeError(
            f"{op}: expected target of shape {expected} (one class label per sample) for input of shape "
            f"{tuple(input.shape)}, got target shape {tuple(target.shape)}"
        )
    if input.ndim == 2:
        return input, target, expected
    classes = input.shape[1]
    moved = input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
    return moved, target.reshape(-1), expected


def _check_labels(op: str, labels: Tensor, classes: int, ignore_index: int) -> tuple[bool, bool]:
    """Every label in [0, C) or equal to ``ignore_index``; returns (any ignored, any kept).

    Checked on the device; only three numbers come back to the host (one transfer)."""
    if labels.numel() == 0:
        return False, False
    bk, x = labels._backend, labels._data
    ignored = bk.compare("eq", x, ignore_index)
    kept = bk.where(ignored, 0, x)  # an ignored label stands in as 0, which is always valid
    stats = [
        bk.reshape(bk.min(kept, None, arg=False)[0], (1,)),
        bk.reshape(bk.max(kept, None, arg=False)[0], (1,)),
        bk.reshape(bk.sum(bk.astype(ignored, x.dtype), None), (1,)),
    ]
    low, high, n_ignored = bk.to_numpy(bk.concatenate(stats, 0)).tolist()
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise EngineValueError(
            f"{op}: target {bad} is out of bounds for {classes} classes (valid: 0 to {classes - 1})"
        )
    return n_ignored > 0, n_ignored < labels.numel()


def _check_label_dtype(op: str, target: Tensor) -> None:
    if target.dtype != dtypes.int64:
        raise DTypeError(
            f"{op}: class-label targets must be int64 (long), got {target.dtype.name}; use target.long(), "
            "or float targets of the input's shape for class probabilities"
        )


def _check_class_weight(op: str, weight: Tensor | None, classes: int, dtype) -> None:
    if weight is None:
        return
    _check_tensor(op, "weight", weight)
    if tuple(weight.shape) != (classes,):
        raise ShapeError(f"{op}: weight must have shape ({classes},) (one per class), got {tuple(weight.shape)}")
    if weight.dtype != dtype:
        raise DTypeError(f"{op}: weight is {weight.dtype.name} but input is {dtype.name}; they must match")


def _nll_rows(
    logp: Tensor, labels: Tensor, weight: Tensor | None, ignore_index: int, reduction: str, shape: tuple,
    any_kept: bool,
) -> Tensor:
    """-w[t_r] logp[r, t_r] per row; ``mean`` divides by the sum of the weights of the rows kept."""
    n = logp.shape[0]
    keep = labels != ignore_index
    safe = where(keep, labels, 0)  # an ignored label picks column 0 and is then multiplied by 0
    picked = logp.gather(1, safe.reshape(n, 1)).reshape(n)
    scale = keep.to(logp.dtype)
    if weight is not None:
        scale = scale * weight.gather(0, safe)
    per_item = -picked * scale
    if reduction == "none":
        return per_item.reshape(shape)
    total = per_item.sum()
    if reduction == "sum":
        return total
    return _weighted_mean(total, scale.sum(), any_kept)


def _weighted_mean(total: Tensor, weight_sum: Tensor, any_kept: bool) -> Tensor:
    """``total / weight_sum``. When every target is ignored the loss is NaN, as in PyTorch, but its
    gradient is zero, not 0 * (1/0) = NaN: nothing was measured, so nothing moves. (Zero class
    weights on kept targets divide by zero for real: NaN loss and NaN gradient, as in PyTorch.)"""
    if not any_kept:
        return total * 0.0 + math.nan
    return total / weight_sum


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-logp[r, t_r] averaged over rows, for log-probabilities (N, C) (``log_softmax`` output)."""
    op = "nll_loss"
    _check_tensor(op, "input", input)
    _check_tensor(op, "target", target)
    _check_device(op, input, target)
    _check_floating(op, "input", input)
    _check_label_dtype(op, target)
    reduction = _check_reduction(op, reduction)
    rows, labels, shape = _class_rows(op, input, target)
    classes = rows.shape[1]
    _, any_kept = _check_labels(op, labels, classes, ignore_index)
    _check_class_weight(op, weight, classes, input.dtype)
    return _nll_rows(rows, labels, weight, ignore_index, reduction, shape, any_kept)


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """logsumexp(z) - z[t] per sample, averaged: softmax and negative log-likelihood in one node.

    d loss / dz = softmax(z) - one_hot(t) (divided by N for the mean). ``input`` is raw scores
    (N, C), (C,) or (N, C, d1, ...); ``target`` is int64 labels in [0, C), or float class
    probabilities of the input's shape.
    """
    op = "cross_entropy"
    _check_tensor(op, "input", input)
    _check_tensor(op, "target", target)
    _check_device(op, input, target)
    _check_floating(op, "input", input)
    reduction = _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise EngineValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0] if input.ndim == 1 else 0
    _check_class_weight(op, weight, classes, input.dtype)
    if target.dtype.is_floating_point:
        return _cross_entropy_probs(op, input, target, weight, reduction, label_smoothing)
    _check_label_dtype(op, target)
    rows, labels, shape = _class_rows(op, input, target)
    any_ignored, any_kept = _check_labels(op, labels, classes, ignore_index)
    if weight is None and not any_ignored and label_smoothing == 0.0:
        loss = _nn.CrossEntropy.apply(rows, labels.contiguous(), reduction=reduction)
        return loss.reshape(shape) if reduction == "none" else loss
    logp = _log_softmax(rows, 1)
    nll = _nll_rows(logp, labels, weight, ignore_index, reduction, shape, any_kept)
    if label_smoothing == 0.0:
        return nll
    # Smoothing mixes in the uniform distribution: (1 - e) nll + e mean_c(-w_c logp_c).
    kept = labels != ignore_index
    keep = kept.to(logp.dtype)
    spread = -(logp * weight).sum(dim=1) if weight is not None else -logp.sum(dim=1)
    smooth = spread * keep / classes
    if reduction == "none":
        smooth = smooth.reshape(shape)
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        kept_weight = keep if weight is None else keep * weight.gather(0, where(kept, labels, 0))
        smooth = _weighted_mean(smooth.sum(), kept_weight.sum(), any_kept)
    return nll * (1.0 - label_smoothing) + smooth * label_smoothing


def _cross_entropy_probs(
    op: str, input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, label_smoothing: float  # noqa: A002
) -> Tensor:
    """-sum_c w_c y_c log softmax(z)_c per sample, for targets that are class probabilities."""
    _check_same_dtype(op, input, target)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(
            f"{op}: float targets are class probabilities and must have the input's shape {tuple(input.shape)}, "
            f"got {tuple(target.shape)}; for class labels pass an int64 tensor"
        )
    class_dim = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_dim]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    logp = _log_softmax(input, class_dim)
    terms = logp * target
    if weight is not None:
        shape = [1] * input.ndim
        shape[class_dim] = classes
        terms = terms * weight.reshape(*shape)
    per_item = -terms.sum(dim=class_dim)
    if reduction == "none":
        return per_item
    if reduction == "sum":
        return per_item.sum()
    # PyTorch divides by the number of samples (not by C), whatever the weights.
    return per_item.sum() / float(max(math.prod(per_item.shape), 1))


# The convolution and pooling functions live in their own module (conv_functional imports nothing from here).
from engine.nn.conv_functional import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]
