"""Convolution and pooling layers: ``Conv1d``/``Conv2d``, ``MaxPool1d``/``2d``, ``AvgPool1d``/``2d`` and
``AdaptiveAvgPool1d``/``2d`` (PyTorch keeps the pools in ``torch/nn/modules/pooling.py``; here they sit beside
the convolutions they follow in a CNN).

A ``Conv2d(C, O, k)`` holds a weight (O, C/groups, kH, kW) and a bias (O,) and slides the kernel over the input:
each output pixel is the weighted sum of the C x kH x kW input values under it. The math, and how it is computed
(one gather of the windows and one matrix product), is in ``engine.nn.conv_functional``.
"""

from __future__ import annotations

import math
from typing import Any

from engine.core.tensor import Tensor
from engine.errors import EngineValueError
from engine.nn import conv_functional as CF
from engine.nn import init
from engine.nn.module import Module
from engine.nn.parameter import Parameter


def _count(op: str, name: str, value: object, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        kind = "positive" if positive else "non-negative"
        raise EngineValueError(f"{op}: {name} must be a {kind} int, got {value!r}")
    return value


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the arguments, the parameters, PyTorch's initialisation and repr."""

    _dims = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        op, n = type(self).__name__, self._dims
        self.in_channels = _count(op, "in_channels", in_channels)
        self.out_channels = _count(op, "out_channels", out_channels)
        self.groups = _count(op, "groups", groups, positive=True)
        if in_channels % groups:
            raise EngineValueError(f"{op}: in_channels={in_channels} must be divisible by groups={groups}")
        if out_channels % groups:
            raise EngineValueError(f"{op}: out_channels={out_channels} must be divisible by groups={groups}")
        self.kernel_size = CF._ints(op, "kernel_size", kernel_size, n)
        self.stride = CF._ints(op, "stride", stride, n)
        self.dilation = CF._ints(op, "dilation", dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise EngineValueError(f"{op}: invalid padding string {padding!r}; use 'same', 'valid' or ints")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise EngineValueError(f"{op}: padding='same' is not supported for strided convolutions")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = CF._ints(op, "padding", padding, n)
        if padding_mode not in CF.PADDING_MODES:
            raise EngineValueError(
                f"{op}: padding_mode must be one of {CF.PADDING_MODES}, got padding_mode={padding_mode!r}"
            )
        self.padding_mode = padding_mode
        self.transposed = False
        self.output_padding = (0,) * n
        from engine.core.creation import empty

        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """W ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b from the same range,
        fan_in = in_channels/groups * prod(kernel_size): PyTorch's default, drawn in the same order."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # noqa: A002
        return CF._conv(self._op, self._dims, input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups, self.padding_mode)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        n = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """y = conv2d(x, W, b): input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in/groups, kH, kW),
    output (N, C_out, H_out, W_out) with H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1.
    ``padding`` may be 'same' or 'valid'; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'."""

    _dims = 2
    _op = "conv2d"


class Conv1d(_ConvNd):
    """y = conv1d(x, W, b): input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups, k), output
    (N, C_out, L_out) with L_out = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1."""

    _dims = 1
    _op = "conv1d"


# ---- pooling ---------------------------------------------------------------------------------------------------

class _MaxPoolNd(Module):
    """The arguments of MaxPool1d/2d, kept as given (an int stays an int in the repr, as in PyTorch)."""

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """The largest value of each kernel_size window, windows ``stride`` apart (default: kernel_size):
    (N, C, H, W) -> (N, C, H_out, W_out); the gradient goes to each window's (first) largest value."""

    def forward(self, input: Tensor):  # noqa: A002
        return CF.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """MaxPool2d over one dim: (N, C, L) -> (N, C, L_out)."""

    def forward(self, input: Tensor):  # noqa: A002
        return CF.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(Module):
    """The mean of each kernel_size window, windows ``stride`` apart (default: kernel_size):
    (N, C, H, W) -> (N, C, H_out, W_out); each pixel of a window gets 1/divisor of its gradient."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return CF.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """AvgPool2d over one dim: (N, C, L) -> (N, C, L_out). Its arguments are kept as 1-tuples, as PyTorch's."""

    def __init__(
        self,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] | None = None,
        padding: int | tuple[int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = CF._ints("AvgPool1d", "kernel_size", kernel_size, 1)
        self.stride = CF._ints("AvgPool1d", "stride", stride if stride is not None else kernel_size, 1)
        self.padding = CF._ints("AvgPool1d", "padding", padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return CF.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (H_out, W_out) whatever the input's size (None keeps a dim):
    ``AdaptiveAvgPool2d((1, 1))`` is the global average pool of ResNet's head."""

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return CF.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """AdaptiveAvgPool2d over one dim: (N, C, L) -> (N, C, output_size)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return CF.adaptive_avg_pool1d(input, self.output_size)


__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "MaxPool1d",
    "MaxPool2d",
]
