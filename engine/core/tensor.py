"""``Tensor``: an n-d array on a device, with PyTorch's autograd API.

A tensor holds a backend array (``numpy.ndarray`` on the ``numpy`` and ``c`` devices),
its device, and, when it is the output of a recorded op, ``grad_fn``: the ``Op`` node that
made it. Every differentiable method below is a thin call of one ``Op`` from ``engine.ops``;
the calculus lives there, written once for every device. This module checks arguments,
promotes dtypes (``engine.core.dtypes``) and picks the op; what it does to an array it asks
the tensor's backend to do.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from engine.autograd.backward import run_backward
from engine.autograd.grad_mode import no_grad as _no_grad
from engine.autograd.op import GradMode, TensorBase
from engine.backends import Device, get_backend, resolve_name
from engine.backends import device as _device
from engine.backends.layout import broadcast_shapes
from engine.core import dtypes
from engine.core.dtypes import DType, as_dtype, from_numpy_dtype, result_dtype
from engine.core.indexing import normalize_key
from engine.core.tensor_math import MathMethods
from engine.core.tensor_shape import ShapeMethods, legacy_constructor_data
from engine.errors import DTypeError, EngineTypeError, EngineValueError, GradError, ShapeError
from engine.ops import elementwise as _ew
from engine.ops import linalg as _la
from engine.ops import neural as _nn
from engine.ops import shape as _shp


class Size(tuple):
    """A shape: a tuple that prints as ``engine.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"engine.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


def _normalize_dim(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise EngineTypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise EngineValueError(f"{op}: dim {dim} is out of range for a {ndim}-d tensor (valid: {-n} to {n - 1})")
    return dim % n



class Tensor(MathMethods, ShapeMethods, TensorBase):
    """An n-d array with a device, a dtype and (optionally) a gradient.

    Created with ``engine.tensor(data, dtype=None, device=None, requires_grad=False)``
    or ``engine.Tensor(data)``/``FloatTensor``/``LongTensor``. See the module docstring.
    """

    __slots__ = (
        "_data", "_device", "_backend", "requires_grad", "_grad", "grad_fn", "_retain", "_version_box", "__weakref__"
    )
    __array_priority__ = 1000  # numpy scalars on the left defer to our operators

    def __init__(self, *data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False):
        # engine.Tensor(list) is PyTorch's legacy constructor: float32 whatever the data (torch.Tensor([0, 1, 2]));
        # engine.Tensor(784, 30) is a shape (uninitialised in PyTorch, zeros here).
        data = legacy_constructor_data(data, "Tensor")
        made = tensor(
            data,
            dtype=dtype if dtype is not None or isinstance(data, Tensor) else dtypes.float32,
            device=device,
            requires_grad=requires_grad,
        )
        self._data, self._device, self._backend = made._data, made._device, made._backend
        self.requires_grad, self._grad, self.grad_fn, self._retain = made.requires_grad, None, None, False
        self._version_box = made._version_box

    @classmethod
    def _make(
        cls, data, device: Device, backend, requires_grad: bool = False, version_box: list | None = None
    ) -> Tensor:
        """A tensor around backend array ``data``. ``version_box`` is the in-place version counter
        of the memory ``data`` lives in: pass the owner's when ``data`` is a view of another tensor."""
        t = object.__new__(cls)
        t._data = data
        t._device = device
        t._backend = backend
        t.requires_grad = requires_grad
        t._grad = None
        t.grad_fn = None
        t._retain = False
        t._version_box = [0] if version_box is None else version_box
        return t

    def _like(self, data, requires_grad: bool = False) -> Tensor:
        """A new tensor on this device around ``data`` (new memory: its own version counter)."""
        t = object.__new__(Tensor)  # _make written out: every op's output is made here
        t._data = data
        t._device = self._device
        t._backend = self._backend
        t.requires_grad = requires_grad
        t._grad = None
        t.grad_fn = None
        t._retain = False
        t._version_box = [0]
        return t

    def _alias(self) -> Tensor:
        """A tensor over this one's memory, without history (``detach``, ``.data``)."""
        return Tensor._make(self._data, self._device, self._backend, False, self._version_box)

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (PyTorch's ``t._version``).

        Backward compares it with the version each saved tensor had at forward time, so a
        tensor changed after it was used can never give a silently wrong gradient.
        """
        return self._version_box[0]

    def _bump_version(self) -> None:
        self._version_box[0] += 1

    # ---- properties -----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        return self._data.shape[_normalize_dim(dim, self.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> DType:
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> Device:
        return self._device

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def data(self) -> Tensor:
        """The same storage without autograd history (PyTorch's ``.data``)."""
        return self._alias()

    @data.setter
    def data(self, value: Tensor) -> None:
        """``t.data = other``: ``t`` now holds ``other``'s storage (its shape, dtype and device too).

        Only a tensor's storage is taken as is. Anything else (a numpy array, a list) is
        copied into new storage of ``t``'s dtype and device, so a foreign array (read-only,
        misaligned, with odd strides) can never become what the kernels read and write.
        """
        if isinstance(value, Tensor):
            self._data, self._device, self._backend = value._data, value._device, value._backend
            self._version_box = value._version_box
            return
        made = tensor(value, dtype=self.dtype, device=self._device)
        self._data, self._version_box = made._data, made._version_box

    @property
    def grad(self) -> Tensor | None:
        """d root / d self after ``root.backward()`` (None until then); backward adds into it."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise EngineTypeError(
                    f"grad: assigned grad expected to be a Tensor or None but got {type(value).__name__}"
                )
            problem = None
            if tuple(value.shape) != tuple(self.shape):
                problem = f"of shape {tuple(value.shape)} to a tensor of shape {tuple(self.shape)}"
            elif value.dtype != self.dtype:
                problem = f"of dtype {value.dtype.name} to a tensor of dtype {self.dtype.name}"
            elif value._backend is not self._backend:
                problem = f"on device {value.device} to a tensor on device {self.device}"
            if problem:
                raise EngineValueError(f"grad: attempting to assign a gradient {problem}; they must match")
        self._grad = value

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        return bool(self._backend.is_contiguous(self._data))

    # ---- conversion -----------------------------------------------------------------------
    @property
    def __cuda_array_interface__(self) -> dict:
        """numba's interface for a ``cuda`` tensor's memory, so PyTorch, CuPy or numba wrap it without a
        copy (``torch.as_tensor(t, device="cuda")``); absent on other devices, as in PyTorch."""
        interface = getattr(self._data, "__cuda_array_interface__", None)
        if interface is None:
            raise AttributeError(f"__cuda_array_interface__: only cuda tensors have one, this one is on {self.device}")
        if self.requires_grad:
            raise GradError(
                "__cuda_array_interface__: can't share the memory of a tensor that requires grad; use .detach()"
            )
        return interface

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise GradError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self._backend.to_numpy(self._data)

    def item(self) -> float | int | bool:
        if self.numel() != 1:
            raise EngineValueError(
                "item: only a tensor with one element can be converted to a Python number, "
                f"got shape {tuple(self.shape)}"
            )
        return self._backend.to_numpy(self._data).reshape(()).item()

    def tolist(self):
        return self._backend.to_numpy(self._data).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise EngineValueError(
                f"bool: the truth value of a tensor with {self.numel()} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __index__(self) -> int:
        if self.dtype not in (dtypes.int64, dtypes.bool_) or self.numel() != 1:
            raise EngineTypeError("index: only a one-element integer tensor can be used as an index")
        return int(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise EngineTypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise EngineTypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __array__(self, dtype=None, copy=None):
        array = self._backend.to_numpy(self._data)
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        from engine.core.printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # As PyTorch: a 0-d tensor formats as its Python number (f"{w.grad}" -> "8.0"), with or without a spec.
        if self._data.ndim == 0 or (self.numel() == 1 and spec):
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    # ---- autograd -------------------------------------------------------------------------
    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None) -> None:
        """d self / d leaf for every leaf that requires grad, *added* into ``leaf.grad``.

        ``gradient`` (the vector of a vector-Jacobian product) may be left out only for
        a one-element tensor, where it is 1.
        """
        if not self.requires_grad:
            raise GradError(
                "backward: this tensor does not require grad and has no grad_fn; "
                "create its inputs with requires_grad=True"
            )
        if gradient is None:
            if self.numel() != 1:
                raise GradError(
                    f"backward: grad can be implicitly created only for scalar outputs, got shape "
                    f"{tuple(self.shape)}; pass gradient= of that shape or reduce first (.sum(), .mean())"
                )
            g = self._backend.full(self._data.shape, 1, self._data.dtype)
        else:
            gt = gradient if isinstance(gradient, Tensor) else tensor(gradient, dtype=self.dtype, device=self.device)
            if gt._backend is not self._backend:
                from engine.errors import DeviceError

                raise DeviceError(
                    f"backward: the gradient is on device {gt.device} but the tensor is on {self.device}; "
                    "move the gradient with .to(device)"
                )
            if tuple(gt.shape) != tuple(self.shape):
                raise ShapeError(
                    f"backward: gradient has shape {tuple(gt.shape)} but the tensor has shape {tuple(self.shape)}"
                )
            g = gt._data
            if g.dtype != self._data.dtype:
                # PyTorch casts a gradient of another dtype (a float64 or an int tensor) to the tensor's dtype.
                g = self._backend.astype(g, self._data.dtype)
        run_backward(self, g)

    def _accumulate_grad(self, g, owned: bool = False) -> None:
        """Add ``g`` into ``.grad``. ``owned``: the caller guarantees no one else holds ``g``,
        so it can become ``.grad`` without a copy."""
        if not (self.requires_grad and (self.grad_fn is None or self._retain)):
            return
        if g.dtype != self._data.dtype:
            g, owned = self._backend.astype(g, self._data.dtype), True
        if self._grad is None:
            # Otherwise a copy: the same gradient array may flow into several tensors.
            self._grad = self._like(g if owned else self._backend.copy(g))
        else:
            self._grad = self._like(self._backend.binary("add", self._grad._data, g))

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is not None:
            self._retain = True
            self.grad_fn.retained = self
        return self

    def __deepcopy__(self, memo: dict) -> Tensor:
        """``copy.deepcopy``: new memory with the same values (and grad), on the same device; only
        leaves can be copied, as in PyTorch (a copied graph would have nowhere to send gradients)."""
        if self.grad_fn is not None:
            raise GradError(
                "deepcopy: only tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol; use .detach().clone()"
            )
        if id(self) in memo:
            return memo[id(self)]
        copied = object.__new__(type(self))
        copied._data = self._backend.copy(self._data)
        copied._device, copied._backend = self._device, self._backend
        copied.requires_grad, copied.grad_fn, copied._retain = self.requires_grad, None, False
        copied._version_box = [0]
        copied._grad = None
        memo[id(self)] = copied
        if self._grad is not None:
            copied._grad = self._grad.__deepcopy__(memo)
        return copied

    def detach(self) -> Tensor:
        """The same storage without history: changes through either are seen by both (and by
        backward's version check)."""
        return self._alias()

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_floating_point:
            raise DTypeError(f"requires_grad_: only floating point tensors can require gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise GradError("requires_grad_: can't turn off requires_grad on a non-leaf tensor; use detach()")
        self.requires_grad = requires_grad
        return self

    # ---- devices and dtypes -----------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or keywords; a copy only if needed."""
        target_device, target_dtype = kwargs.get("device"), kwargs.get("dtype")
        for a in args:
            if isinstance(a, (str, Device)):
                target_device = a
            elif isinstance(a, Tensor):
                target_device, target_dtype = a.device, a.dtype
            else:
                target_dtype = a
        out = self
        if target_dtype is not None and as_dtype(target_dtype) != self.dtype:
            from engine.ops.shape import Cast

            target_dtype = as_dtype(target_dtype)
            # A cast to an integer or bool dtype ends the graph: it has no derivative (PyTorch).
            out = Cast.apply(out if target_dtype.is_floating_point else out.detach(), target_dtype.np)
        if target_device is not None:
            name = resolve_name(target_device)
            if name != out._device.type:
                target = get_backend(name)
                out = _shp.ToDevice.apply(out, target)
                out._device, out._backend = _device(name), target
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int64)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def type(self, dtype: Any = None):
        if dtype is None:
            return {
                "float32": "engine.FloatTensor",
                "float64": "engine.DoubleTensor",
                "int64": "engine.LongTensor",
                "uint8": "engine.ByteTensor",
                "bool": "engine.BoolTensor",
            }[self.dtype.name]
        return self.to(dtype)

    def clone(self) -> Tensor:
        from engine.ops.shape import Contiguous

        return Contiguous.apply(self)

    def contiguous(self) -> Tensor:
        return self if self.is_contiguous() else self.clone()

    # ---- arithmetic -----------------------------------------------------------------------
    def _operand(self, other: Any, op: str, floating: bool = False) -> tuple[Tensor, Any]:
        """Bring ``other`` to this tensor's device and both to one dtype, by PyTorch's promotion
        (``dtypes.promote``). ``other`` is returned as a tensor, or as a numpy scalar of the
        common dtype when it is a Python number. ``floating``: the op's result is floating point
        (true division), so an integer common dtype becomes float32.
        """
        if isinstance(other, Tensor):
            if other._backend is not self._backend:
                from engine.errors import DeviceError

                raise DeviceError(
                    f"{op}: tensors on different devices ({self.device} and {other.device}); "
                    "move them to one device with .to(device)"
                )
            a_shape, b_shape = self._data.shape, other._data.shape
            if a_shape != b_shape:
                try:
                    broadcast_shapes(a_shape, b_shape)
                except ValueError:
                    raise ShapeError(
                        f"{op}: shapes {tuple(a_shape)} and {tuple(b_shape)} do not broadcast; "
                        "each trailing dimension must match or be 1"
                    ) from None
            a_dtype, b_dtype = self.dtype, other.dtype
            if a_dtype is b_dtype and not floating:
                return self, other
            dims, zeros = [], []
            (dims if len(a_shape) else zeros).append(a_dtype)
            (dims if len(b_shape) else zeros).append(b_dtype)
            common = dtypes.promote(dims, zeros, [])
            if floating and not common.is_floating_point:
                common = dtypes.float32
            a = self if a_dtype is common else self.to(common)
            b = other if b_dtype is common else other.to(common)
            return a, b
        if isinstance(other, (numbers.Number, np.generic)) and not isinstance(other, (str, bytes)):
            if type(other) is float and self._data.dtype.kind == "f" and -3.4e38 < other < 3.4e38:
                return self, self._data.dtype.type(other)  # the common case, kept cheap: x * 0.5
            if isinstance(other, (complex, np.complexfloating)):
                raise DTypeError(f"{op}: complex numbers are not supported")
            scalar = dtypes.number_dtype(other)
            own = self.dtype
            if self._data.ndim:
                common = dtypes.promote([own], [], [scalar])
            else:
                common = dtypes.promote([], [own], [scalar])
            if floating and not common.is_floating_point:
                common = dtypes.float32
            a = self if own is common else self.to(common)
            return a, dtypes.number_as(other, common, op)
        if isinstance(other, (list, tuple, np.ndarray)):
            return self._operand(tensor(other, device=self.device), op, floating)
        raise EngineTypeError(f"{op}: unsupported operand type {type(other).__name__}; use a tensor or a Python number")

    def _binary(self, fn, other, op: str, reverse: bool = False, floating: bool = False) -> Tensor:
        a, b = self._operand(other, op, floating)
        if reverse:
            a, b = b, a
        return fn.apply(a, b)

    def __add__(self, other):
        return self._binary(_ew.Add, other, "add")

    def __radd__(self, other):
        return self._binary(_ew.Add, other, "add", reverse=True)

    def __sub__(self, other):
        self._no_bool_subtraction(other)
        return self._binary(_ew.Sub, other, "sub")

    def __rsub__(self, other):
        self._no_bool_subtraction(other)
        return self._binary(_ew.Sub, other, "sub", reverse=True)

    def _no_bool_subtraction(self, other) -> None:
        # A Python bool counts too: PyTorch wraps it as a bool tensor.
        other_is_bool = isinstance(other, (bool, np.bool_)) or (
            isinstance(other, Tensor) and other.dtype is dtypes.bool_
        )
        if self.dtype is dtypes.bool_ or other_is_bool:
            raise DTypeError(
                "sub: subtraction, the `-` operator, with a bool tensor is not supported; "
                "use `^` (logical xor) or `~` (logical not), or convert with .long() or .float() first"
            )

    def __mul__(self, other):
        return self._binary(_ew.Mul, other, "mul")

    def __rmul__(self, other):
        return self._binary(_ew.Mul, other, "mul", reverse=True)

    def __truediv__(self, other):
        return self._binary(_ew.Div, other, "div", floating=True)

    def __rtruediv__(self, other):
        return self._binary(_ew.Div, other, "div", reverse=True, floating=True)

    def __pow__(self, other):
        if isinstance(other, (numbers.Real, np.integer, np.floating)) and not isinstance(other, (bool, np.bool_)):
            exponent = float(dtypes.number_as(other, dtypes.float64, "pow"))
            if exponent == 2.0 and self.dtype.is_floating_point:
                return _ew.Mul.apply(self, self)  # x*x: exact, and one fast primitive
            integral = isinstance(other, (numbers.Integral, np.integer))
            a = self if self.dtype.is_floating_point or integral else self.float()
            if not a.dtype.is_floating_point and exponent < 0:
                _negative_integer_power()
            return _ew.PowScalar.apply(a, exponent)
        return self._pow(other, reverse=False)

    def __rpow__(self, other):
        return self._pow(other, reverse=True)

    def _pow(self, other, reverse: bool) -> Tensor:
        """Elementwise ``self ** other`` (or ``other ** self``) with promotion."""
        a, b = self._operand(other, "pow")
        if reverse:
            a, b = b, a
        base = a if isinstance(a, Tensor) else b
        if not base.dtype.is_floating_point:
            # int ** negative int has no integer answer: refused as in PyTorch (numpy would raise its own error).
            negative = (b < 0).any().item() if isinstance(b, Tensor) else b < 0
            if negative:
                _negative_integer_power()
        return _ew.Pow.apply(a, b)

    def __neg__(self):
        if self.dtype is dtypes.bool_:
            raise DTypeError(
                "neg: negation, the `-` operator, on a bool tensor is not supported; "
                "to invert a mask use `~` (logical not)"
            )
        return _ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.Abs.apply(self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(tensor(other, device=self.device), self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__
    abs = __abs__
    multiply = __mul__
    subtract = __sub__
    divide = __truediv__

    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        return matmul(self, other)

    def dot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise ShapeError(f"dot: expected two 1-d tensors, got shapes {tuple(self.shape)} and {tuple(other.shape)}")
        return matmul(self, other)

    # comparisons give bool tensors (no gradient)
    def _compare(self, other, op: str) -> Tensor:
        a, b = self._operand(other, op)
        raw_b = b._data if isinstance(b, Tensor) else b
        return a._like(a._backend.compare(op, a._data, raw_b))

    def __lt__(self, other):
        return self._compare(other, "lt")

    def __le__(self, other):
        return self._compare(other, "le")

    def __gt__(self, other):
        return self._compare(other, "gt")

    def __ge__(self, other):
        return self._compare(other, "ge")

    def __eq__(self, other):  # type: ignore[override]
        return self._compare(other, "eq")

    def __ne__(self, other):  # type: ignore[override]
        return self._compare(other, "ne")

    __hash__ = object.__hash__
    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def __and__(self, other):
        """Logical and of bool tensors: a where a is false, else b."""
        a, b = self._logical_operands(other, "and")
        return self._like(self._backend.where(a, b, False))

    def __or__(self, other):
        """Logical or of bool tensors: true where a is, else b."""
        a, b = self._logical_operands(other, "or")
        return self._like(self._backend.where(a, True, b))

    __rand__, __ror__ = __and__, __or__

    def __xor__(self, other):
        a, b = self._logical_operands(other, "xor")
        return self._like(self._backend.compare("ne", a, b))

    def __invert__(self):
        if self.dtype != dtypes.bool_:
            raise DTypeError(f"invert: ~ needs a bool tensor, got {self.dtype}")
        return self._like(self._backend.compare("eq", self._data, False))

    def _logical_operands(self, other, op: str):
        if self.dtype is not dtypes.bool_ or (isinstance(other, Tensor) and other.dtype is not dtypes.bool_):
            other_type = other.dtype.name if isinstance(other, Tensor) else type(other).__name__
            raise DTypeError(f"{op}: logical operators need bool tensors, got {self.dtype.name} and {other_type}")
        a, b = self._operand(other, op)
        return a._data, b._data if isinstance(b, Tensor) else bool(b)

    def equal(self, other: Tensor) -> bool:
        """True when both have the same shape and every element is equal (NaN is never equal)."""
        return tuple(self.shape) == tuple(other.shape) and bool((self == other).all())

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
        """|self - other| <= atol + rtol |other| elementwise (a bool tensor); infinities must match."""
        a, b = self._operand(other, "isclose")
        b = b if isinstance(b, Tensor) else a._like(a._backend.full((), b, a._data.dtype))
        with _no_grad():
            if not a.dtype.is_floating_point:
                return a == b
            finite = (a - b).abs() <= atol + rtol * b.abs()
            close = finite | (a == b)  # equal infinities; inf - inf would be NaN
            if equal_nan:
                close = close | ((a != a) & (b != b))
        return close

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """Whether every element is close (``isclose``), as ``torch.allclose``."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    # ---- elementwise functions ------------------------------------------------------------------
    def _float_input(self, op: str) -> Tensor:
        if not self.dtype.is_floating_point:
            return self.float()
        return self

    def exp(self):
        return _ew.Exp.apply(self._float_input("exp"))

    def log(self):
        return _ew.Log.apply(self._float_input("log"))

    def sigmoid(self):
        return _ew.Sigmoid.apply(self._float_input("sigmoid"))

    def tanh(self):
        return _ew.Tanh.apply(self._float_input("tanh"))

    def relu(self):
        return _ew.Relu.apply(self)

    def sqrt(self):
        return _ew.PowScalar.apply(self._float_input("sqrt"), 0.5)

    # ---- reductions -----------------------------------------------------------------------
    def softmax(self, dim: int):
        return softmax(self, dim)

    def log_softmax(self, dim: int):
        return log_softmax(self, dim)

    # ---- shapes and views --------------------------------------------------------------------
    def _resolve_shape(self, shape: Sequence, op: str) -> tuple:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        shape = tuple(int(s) for s in shape)
        n = self.numel()
        if shape.count(-1) > 1:
            raise ShapeError(f"{op}: only one dimension can be -1, got {shape}")
        known = 1
        for s in shape:
            if s != -1:
                if s < 0:
                    raise ShapeError(f"{op}: invalid size {s} in shape {shape}")
                known *= s
        if -1 in shape:
            if known == 0 or n % known:
                raise ShapeError(f"{op}: shape {shape} is invalid for input of size {n} (shape {tuple(self.shape)})")
            shape = tuple(n // known if s == -1 else s for s in shape)
        elif known != n:
            raise ShapeError(f"{op}: shape {shape} is invalid for input of size {n} (shape {tuple(self.shape)})")
        return shape

    def view(self, *shape) -> Tensor:
        """The same storage seen with a new shape; needs contiguous data (else use reshape)."""
        shape = self._resolve_shape(shape, "view")
        if not self.is_contiguous() and self.numel() > 1:
            raise ShapeError(
                f"view: the tensor (shape {tuple(self.shape)}) is not contiguous, so its storage cannot be "
                "viewed with a new shape; use .reshape(...) instead"
            )
        return _shp.Reshape.apply(self, shape)

    def reshape(self, *shape) -> Tensor:
        return _shp.Reshape.apply(self, self._resolve_shape(shape, "reshape"))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s = _normalize_dim(start_dim, self.ndim, "flatten")
        e = _normalize_dim(end_dim, self.ndim, "flatten")
        shape = self.shape
        return self.reshape(*shape[:s], -1, *shape[e + 1 :])

    def permute(self, *dims) -> Tensor:
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        axes = tuple(_normalize_dim(d, self.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ShapeError(
                f"permute: dims {dims} are not a permutation of the {self.ndim} dims of {tuple(self.shape)}"
            )
        return _shp.Permute.apply(self, axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        axes = list(range(self.ndim))
        a, b = _normalize_dim(dim0, self.ndim, "transpose"), _normalize_dim(dim1, self.ndim, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return _shp.Permute.apply(self, tuple(axes)) if self.ndim > 1 else self

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor with <= 2 dims, got shape {tuple(self.shape)}")
        return self.T

    def squeeze(self, dim: int | None = None) -> Tensor:
        shape = self.shape
        if dim is None:
            return self.reshape(*(s for s in shape if s != 1))
        d = _normalize_dim(dim, self.ndim, "squeeze")
        if self.ndim == 0 or shape[d] != 1:
            return self
        return self.reshape(*shape[:d], *shape[d + 1 :])

    def unsqueeze(self, dim: int) -> Tensor:
        d = _normalize_dim(dim, self.ndim + 1, "unsqueeze")
        shape = self.shape
        return self.reshape(*shape[:d], 1, *shape[d:])

    def expand(self, *shape) -> Tensor:
        """A view with size-1 dimensions repeated (stride 0) and new leading dimensions added;
        -1 keeps an existing size. Writes to the original show through it; in-place arithmetic
        on it is refused (its elements share memory)."""
        shape = _int_sizes(shape, "expand")
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ShapeError(
                f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({self.ndim}, shape {tuple(self.shape)})"
            )
        target = []
        for i, s in enumerate(shape):
            if s == -1 and i < lead:
                raise ShapeError(f"expand: the size -1 isn't allowed in a leading, non-existing dimension {i}")
            if s < -1:
                raise ShapeError(f"expand: invalid size {s} in {shape}; sizes must be >= 0 (or -1 to keep one)")
            own = self.shape[i - lead] if i >= lead else 1
            size = own if s == -1 else s
            if own != 1 and own != size:
                raise ShapeError(
                    f"expand: the expanded size {size} must match the existing size {own} at non-singleton "
                    f"dimension {i} (shape {tuple(self.shape)} to {shape})"
                )
            target.append(size)
        return _shp.Expand.apply(self, tuple(target))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def repeat(self, *sizes) -> Tensor:
        """Tile the tensor ``sizes[i]`` times along dimension i (extra leading sizes add dimensions).

        Written as a view and a copy: (s0, s1) -> (1, s0, 1, s1) -> expand to (n0, s0, n1, s1)
        -> reshape to (n0 s0, n1 s1); the gradient flows back through both.
        """
        sizes = _int_sizes(sizes, "repeat")
        if len(sizes) < self.ndim:
            raise ShapeError(
                f"repeat: number of dimensions of repeat dims ({len(sizes)}) can not be smaller than the number of "
                f"dimensions of the tensor ({self.ndim}, shape {tuple(self.shape)})"
            )
        if any(n < 0 for n in sizes):
            raise ShapeError(f"repeat: repeat counts must be >= 0, got {sizes}")
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        spread = []
        for s in shape:
            spread += [1, s]
        tiled = []
        for n, s in zip(sizes, shape):
            tiled += [n, s]
        out = self.reshape(*spread).expand(*tiled)
        return out.reshape(*(n * s for n, s in zip(sizes, shape)))

    # ---- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key) -> Tensor:
        return _shp.Index.apply(self, normalize_key(self, key))

    def __setitem__(self, key, value) -> None:
        self._check_inplace("setitem", overlap_ok=True)
        if isinstance(value, Tensor):
            if value._backend is not self._backend:
                from engine.errors import DeviceError

                raise DeviceError(
                    f"setitem: the value is on device {value.device} but the tensor is on {self.device}; "
                    "move it with .to(device)"
                )
            if value.dtype != self.dtype:
                value = value.to(self.dtype)
        key = normalize_key(self, key)
        if self._records_inplace("setitem", value):
            self._adopt(_shp.IndexPut.apply(self._history(), value if isinstance(value, Tensor) else
                                            self._scalar_tensor(value), key))
            return
        self._backend.setitem(self._data, key, value._data if isinstance(value, Tensor) else value)
        self._bump_version()

    # ---- in place ------------------------------------------------------------------------------
    def _check_inplace(self, op: str, overlap_ok: bool = False) -> None:
        """Refuse an in-place change that autograd or the memory layout can't honour.

        ``overlap_ok``: the op writes one value per location whatever the layout (``fill_``,
        ``zero_``, ``setitem``), so an expanded tensor may take it, as in PyTorch.
        """
        if GradMode.enabled and self.requires_grad and self.grad_fn is None:
            raise GradError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place operation; "
                "wrap the update in `with engine.no_grad():` or use an out-of-place op"
            )
        if not overlap_ok and self._backend.internal_overlap(self._data):
            raise EngineValueError(
                f"{op}: unsupported operation: more than one element of the written-to tensor (shape "
                f"{tuple(self.shape)}, an expanded view) refers to a single memory location; .clone() it first"
            )

    def _records_inplace(self, op: str, *others) -> bool:
        """Whether an in-place change must be recorded in the graph (as PyTorch does): grad mode is
        on and this tensor, or an operand, requires grad. A tensor whose memory a graph view shares
        can't be changed that way (its views' history would be silently wrong): one clear error."""
        if not GradMode.enabled:
            return False
        if not (self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)):
            return False
        if len(self._version_box) > 1:
            raise GradError(
                f"{op}: in-place operation on a tensor that is, or has, a view inside a graph (shape "
                f"{tuple(self.shape)}) is not supported; use an out-of-place op, or .clone() first"
            )
        return True

    def _history(self) -> Tensor:
        """A new tensor object standing for this one as it is now (its memory and its grad_fn), to be
        an input of the op that changes it in place: the op's node must not see the tensor after the
        change (its grad_fn will be that node)."""
        old = Tensor._make(self._data, self._device, self._backend, self.requires_grad, self._version_box)
        old.grad_fn = self.grad_fn
        return old

    def _scalar_tensor(self, value) -> Tensor:
        return self._like(self._backend.full((), dtypes.number_as(value, self.dtype, "setitem"), self._data.dtype))

    def _adopt(self, result: Tensor) -> Tensor:
        """Finish an in-place change recorded in the graph: write ``result``'s values into this
        tensor's memory (its views see them; its version goes up) and make ``result``'s node this
        tensor's grad_fn, so backward flows through the change."""
        if result.dtype != self.dtype:
            result = result.to(self.dtype)
        self._backend.setitem(self._data, (Ellipsis,), result._data)
        self._bump_version()
        self.grad_fn = result.grad_fn
        self.requires_grad = result.requires_grad
        if self._retain and self.grad_fn is not None:
            self.grad_fn.retained = self
        return self

    def _inplace(self, op: str, other) -> Tensor:
        """``self op= other``: computed in the promoted dtype (PyTorch's rule), then written back in
        ``self``'s dtype, which must be able to hold it (a float result can't go into an int tensor).

        Under grad mode with a tensor that requires grad involved, the change is recorded in the graph:
        the op runs out of place on this tensor's current value and this tensor adopts the result."""
        name = op + "_"
        self._check_inplace(name)
        if self._records_inplace(name, other):
            fn = {"add": _ew.Add, "sub": _ew.Sub, "mul": _ew.Mul, "div": _ew.Div}[op]
            old = self._history()
            if fn.saved_inputs is None:
                # The op reads its inputs at backward, and this memory is about to change: keep a copy.
                old = old.clone()
            operand = old if other is self else other
            a, b = old._operand(operand, name, floating=op == "div")
            result = fn.apply(a, b)
            if tuple(result.shape) != tuple(self.shape):
                raise ShapeError(
                    f"{name}: the result shape {tuple(result.shape)} does not match the in-place tensor's shape "
                    f"{tuple(self.shape)}"
                )
            if dtypes.category(result.dtype) > dtypes.category(self.dtype):
                raise DTypeError(
                    f"{name}: result type {result.dtype.name} can't be cast to the desired output type "
                    f"{self.dtype.name}"
                )
            return self._adopt(result)
        a, b = self._operand(other, name, floating=op == "div")
        result = self._backend.binary(op, a._data, b._data if isinstance(b, Tensor) else b)
        if result.shape != self._data.shape:
            raise ShapeError(
                f"{name}: the result shape {result.shape} does not match the in-place tensor's shape "
                f"{tuple(self.shape)}"
            )
        if result.dtype != self._data.dtype:
            result_type = from_numpy_dtype(result.dtype)
            if dtypes.category(result_type) > dtypes.category(self.dtype):
                raise DTypeError(
                    f"{name}: result type {result_type.name} can't be cast to the desired output type {self.dtype.name}"
                )
            result = self._backend.astype(result, self._data.dtype)
        self._backend.setitem(self._data, (Ellipsis,), result)
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add", other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub", other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul", other)

    def div_(self, other):
        return self._inplace("div", other)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_", overlap_ok=True)
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise EngineValueError(f"fill_: only a one-element tensor can fill, got shape {tuple(value.shape)}")
            value = value.item()
        if not dtypes.is_number(value):
            raise EngineTypeError(f"fill_: the value must be a number, got {type(value).__name__}")
        if self._records_inplace("fill_"):  # the old values no longer matter: their gradient is 0
            return self._adopt(_shp.IndexPut.apply(self._history(), self._scalar_tensor(value), (Ellipsis,)))
        self._backend.fill(self._data, dtypes.number_as(value, self.dtype, "fill_"))
        self._bump_version()
        return self

    def copy_(self, src: Tensor) -> Tensor:
        """Copy ``src``'s values (broadcast to this shape, from any device and dtype) into this tensor."""
        self._check_inplace("copy_")
        if not isinstance(src, Tensor):
            raise EngineTypeError(f"copy_: src must be a tensor, got {type(src).__name__}")
        try:
            fits = broadcast_shapes(tuple(src.shape), tuple(self.shape)) == tuple(self.shape)
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"copy_: src of shape {tuple(src.shape)} can't be broadcast to shape {tuple(self.shape)}")
        if self._records_inplace("copy_", src):  # d/d src = 1 (summed over broadcast), d/d old self = 0
            moved = src.to(self.device).to(self.dtype)
            return self._adopt(_shp.IndexPut.apply(self._history(), moved, (Ellipsis,)))
        self._backend.setitem(self._data, (Ellipsis,), src.detach().to(self.device)._data)
        self._bump_version()
        return self

    def detach_(self) -> Tensor:
        """Cut this tensor from its graph, in place (it becomes a leaf that does not require grad)."""
        if self.grad_fn is not None and self._backend.is_view(self._data):
            raise GradError("detach_: can't detach a view in place; use .detach() (a new tensor)")
        self.grad_fn, self.requires_grad = None, False
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from engine.core.random import generator

        return self._set_random(generator().uniform(a, b, self._data.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from engine.core.random import generator

        return self._set_random(generator().normal(mean, std, self._data.shape))

    def _set_random(self, values: np.ndarray) -> Tensor:
        self._check_inplace("random fill", overlap_ok=True)
        if self._records_inplace("random fill"):
            drawn = self._like(self._backend.from_numpy(values.astype(self._data.dtype)))
            return self._adopt(_shp.IndexPut.apply(self._history(), drawn, (Ellipsis,)))
        self._backend.setitem(self._data, (Ellipsis,), self._backend.from_numpy(values.astype(self._data.dtype)))
        self._bump_version()
        return self




def _in_place_form(name: str):
    """``x.exp_()`` from ``x.exp()``: the result, in x's dtype, written into x (recorded in the graph
    when x or an argument requires grad, like every in-place change; see ``copy_``)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_inplace(name + "_")
        # In the graph, the op may save its input for backward (relu does): give it a copy of the
        # old values, since this memory is about to change.
        source = self.clone() if self._records_inplace(name + "_", *args, *kwargs.values()) else self
        result = getattr(source, name)(*args, **kwargs)
        if dtypes.category(result.dtype) > dtypes.category(self.dtype):
            raise DTypeError(
                f"{name}_: result type {result.dtype.name} can't be cast to the desired output type {self.dtype.name}"
            )
        return self.copy_(result)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: ``x.{name}_(...)`` writes ``x.{name}(...)`` into x."
    return method


for _name in (
    "abs", "neg", "exp", "log", "sigmoid", "tanh", "relu", "sqrt", "rsqrt", "sin", "cos", "tan", "floor", "ceil",
    "round", "trunc", "sign", "reciprocal", "clamp", "clip", "clamp_min", "clamp_max", "pow", "square", "log1p",
    "expm1", "erf", "lerp", "frac", "exp2", "log2", "log10",
):
    if not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _in_place_form(_name))

def _int_sizes(sizes: tuple, op: str) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple of Python ints; anything else is a one-line error."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Size)):
        sizes = tuple(sizes[0])
    for s in sizes:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer, Tensor)):
            raise EngineTypeError(f"{op}: sizes must be integers, got {type(s).__name__} {s!r} in {tuple(sizes)}")
    return tuple(int(s) for s in sizes)


def _extremes(t: Tensor) -> tuple:
    """(smallest, largest) element of a non-empty tensor, with one transfer to the host."""
    bk, x = t._backend, t._data
    low, high = bk.min(x, None, arg=False)[0], bk.max(x, None, arg=False)[0]
    both = bk.concatenate([bk.reshape(low, (1,)), bk.reshape(high, (1,))], 0)
    low, high = bk.to_numpy(both).tolist()
    return low, high


def _negative_integer_power() -> None:
    raise EngineValueError(
        "pow: integers to negative integer powers are not allowed; use a float tensor (x.float() ** -1)"
    )


def _default_dtype_for(array: np.ndarray, from_numpy: bool) -> np.dtype:
    kind = array.dtype.kind
    if kind == "f":
        # A numpy float64 array stays float64 (as in PyTorch); Python floats become float32.
        return np.dtype(np.float64) if from_numpy and array.dtype == np.float64 else np.dtype(np.float32)
    if kind in "iu":
        # numpy's uint8 stays uint8 (images), as in PyTorch; other integers become int64.
        return np.dtype(np.uint8) if from_numpy and array.dtype == np.uint8 else np.dtype(np.int64)
    if kind == "b":
        return np.dtype(np.bool_)
    raise DTypeError(f"tensor: can't make a tensor from data of numpy dtype {array.dtype}")


def _to_array(data: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        return data._backend.to_numpy(data._data)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)):
        parts = [_to_array(d) if isinstance(d, Tensor) else d for d in data]
        try:
            return np.array(parts)
        except ValueError:
            raise ShapeError("tensor: nested lists have inconsistent lengths (a ragged array)") from None
    if isinstance(data, (numbers.Number, np.generic)):
        return np.asarray(data)
    raise EngineTypeError(f"tensor: can't make a tensor from {type(data).__name__}; use numbers, lists or arrays")


def _refuse_huge_integers(array: np.ndarray) -> None:
    """numpy keeps ints beyond 64 bits as Python objects: name the first one in one line."""
    for value in array.flat:
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            fits_float = abs(value) <= sys.float_info.max
            hint = "use a float for big numbers" if fits_float else "it is too large even for float64"
            raise EngineValueError(
                f"tensor: the integer {dtypes.short_text(value)} does not fit in int64 "
                f"(valid: -2**63 to 2**63 - 1); {hint}"
            )


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, numpy arrays, tensors).

    Floats become float32 and ints int64 unless ``dtype`` says otherwise (as PyTorch).
    """
    array = _to_array(data)
    if array.dtype.kind == "O":
        _refuse_huge_integers(array)
    if array.dtype.kind not in "fiub":
        raise EngineTypeError(f"tensor: data of type {array.dtype} is not numeric; use numbers, lists or arrays")
    from_numpy = isinstance(data, (np.ndarray, np.generic))  # numpy's float64 stays float64, as in PyTorch
    np_dtype = as_dtype(dtype).np if dtype is not None else _default_dtype_for(array, from_numpy)
    if array.dtype == np.uint64 and np_dtype.kind != "f" and array.size and array.max() >= 2**63:
        # Python ints from 2**63 to 2**64 - 1 arrive as uint64: as int64 they would wrap to negatives.
        raise EngineValueError(
            f"tensor: the integer {int(array.max())} does not fit in int64 (valid: -2**63 to 2**63 - 1); "
            "pass dtype=engine.float64 to store it as a float"
        )
    if isinstance(data, Tensor) and dtype is None:
        np_dtype = data._data.dtype
    array = np.array(array, dtype=np_dtype, copy=True, order="C")
    name = resolve_name(device if device is not None else _default_device())
    backend = get_backend(name)
    t = Tensor._make(backend.from_numpy(array), _device(name), backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _default_device() -> str:
    from engine.backends import default_device_name

    return default_device_name()


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules (1-D, 2-D and batched, batch axes broadcast)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise EngineTypeError(f"matmul: expected two tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.dtype != b.dtype:
        raise DTypeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied ({k_a} != {k_b})")
    if a.ndim > 2 or b.ndim > 2:
        try:
            broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        except ValueError:
            raise ShapeError(
                f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} do not broadcast"
            ) from None
    if not a.dtype.is_floating_point:
        return a._like(a._backend.matmul(a._data, b._data))
    return _la.MatMul.apply(a, b)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    x, y = a._operand(b, "maximum")
    return _ew.Maximum.apply(x, y)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    x, y = a._operand(b, "minimum")
    return _ew.Minimum.apply(x, y)


def softmax(x: Tensor, dim: int) -> Tensor:
    return _nn.Softmax.apply(x._float_input("softmax"), _normalize_dim(dim, x.ndim, "softmax"))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return _nn.LogSoftmax.apply(x._float_input("log_softmax"), _normalize_dim(dim, x.ndim, "log_softmax"))


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing ``dim``; all other sizes must match."""
    tensors = list(tensors)
    if not tensors:
        raise EngineValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    d = _normalize_dim(dim, first.ndim, "cat")
    common = first.dtype
    for t in tensors[1:]:
        common = result_dtype(common, t.dtype)
        if t.ndim != first.ndim or any(t.shape[i] != first.shape[i] for i in range(first.ndim) if i != d):
            raise ShapeError(
                f"cat: sizes of tensors must match except in dimension {d}; "
                f"got {tuple(first.shape)} and {tuple(t.shape)}"
            )
    return _shp.Cat.apply(*(t if t.dtype == common else t.to(common) for t in tensors), dim=d)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise EngineValueError("stack: expected a non-empty list of tensors")
    for t in tensors[1:]:
        if tuple(t.shape) != tuple(tensors[0].shape):
            raise ShapeError(
                f"stack: expects each tensor to be equal size, got {tuple(tensors[0].shape)} and {tuple(t.shape)}"
            )
    d = _normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], dim=d)


def where(cond: Tensor, a: Any, b: Any) -> Tensor:
    """``cond ? a : b`` elementwise, with broadcasting; a and b may be numbers.

    ``cond`` is a bool tensor; a and b are promoted to one dtype as for ``a + b``.
    """
    ref = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else cond if isinstance(cond, Tensor) else None
    device = ref.device if ref is not None else None
    if not isinstance(cond, Tensor):
        cond = tensor(cond, dtype=dtypes.bool_, device=device)
    if cond.dtype is not dtypes.bool_:
        raise DTypeError(f"where: the condition must be a bool tensor, got {cond.dtype.name}; compare first (x > 0)")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a, device=cond.device)
    if isinstance(a, Tensor):
        x, y = a._operand(b, "where")
    else:
        y, x = b._operand(a, "where")
    if not isinstance(x, Tensor):
        x = y._like(y._backend.full((), x, y._data.dtype))
    if not isinstance(y, Tensor):
        y = x._like(x._backend.full((), y, x._data.dtype))
    try:
        broadcast_shapes(tuple(cond.shape), tuple(x.shape), tuple(y.shape))
    except ValueError:
        raise ShapeError(
            f"where: shapes of condition {tuple(cond.shape)}, input {tuple(x.shape)} and other {tuple(y.shape)} "
            "do not broadcast; each trailing dimension must match or be 1"
        ) from None
    return _ew.Where.apply(cond, x, y)
