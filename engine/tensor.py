"""``Tensor``: an n-d array on a device, with PyTorch's autograd API.

A tensor holds a backend array (``numpy.ndarray`` on the ``numpy`` and ``c`` devices),
its device, and, when it is the output of a recorded op, ``grad_fn``: the ``Function``
node that made it. Every differentiable method below is a thin call of one ``Function``
from ``engine.ops``; the calculus lives there, written once for every device.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from engine import dtypes
from engine.backends import Device, get_backend, resolve_name
from engine.backends import device as _device
from engine.dtypes import DType, as_dtype, from_numpy_dtype, result_dtype
from engine.errors import DTypeError, EngineTypeError, EngineValueError, GradError, ShapeError
from engine.function import GradMode, run_backward


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


def _normalize_dims(dim, ndim: int, op: str) -> tuple:
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = tuple(sorted({_normalize_dim(d, ndim, op) for d in dims}))
    return out if ndim else ()


class Tensor:
    """An n-d array with a device, a dtype and (optionally) a gradient.

    Created with ``engine.tensor(data, dtype=None, device=None, requires_grad=False)``
    or ``engine.Tensor(data)``/``FloatTensor``/``LongTensor``. See the module docstring.
    """

    __slots__ = ("_data", "_device", "_backend", "requires_grad", "grad", "grad_fn", "_retain", "__weakref__")
    __array_priority__ = 1000  # numpy scalars on the left defer to our operators

    def __init__(self, data: Any = (), dtype: Any = None, device: Any = None, requires_grad: bool = False):
        # engine.Tensor(list) is PyTorch's legacy constructor: float32 whatever the data (torch.Tensor([0, 1, 2])).
        made = tensor(
            data,
            dtype=dtype if dtype is not None or isinstance(data, Tensor) else dtypes.float32,
            device=device,
            requires_grad=requires_grad,
        )
        self._data, self._device, self._backend = made._data, made._device, made._backend
        self.requires_grad, self.grad, self.grad_fn, self._retain = made.requires_grad, None, None, False

    @classmethod
    def _make(cls, data, device: Device, backend, requires_grad: bool = False) -> Tensor:
        t = object.__new__(cls)
        t._data = data
        t._device = device
        t._backend = backend
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._retain = False
        return t

    def _like(self, data, requires_grad: bool = False) -> Tensor:
        return Tensor._make(data, self._device, self._backend, requires_grad)

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
        return self._like(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value, self._data.dtype)

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    # ---- conversion -----------------------------------------------------------------------
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
        from engine.tensor_repr import tensor_repr

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
            if tuple(gt.shape) != tuple(self.shape):
                raise ShapeError(
                    f"backward: gradient has shape {tuple(gt.shape)} but the tensor has shape {tuple(self.shape)}"
                )
            g = gt._data
        run_backward(self, g)

    def _accumulate_grad(self, g, owned: bool = False) -> None:
        """Add ``g`` into ``.grad``. ``owned``: the caller guarantees no one else holds ``g``,
        so it can become ``.grad`` without a copy."""
        if not (self.requires_grad and (self.grad_fn is None or self._retain)):
            return
        if g.dtype != self._data.dtype:
            g, owned = self._backend.astype(g, self._data.dtype), True
        if g.shape != self._data.shape:
            g, owned = self._backend.broadcast_to(g, self._data.shape), False
        if self.grad is None:
            # Otherwise a copy: the same gradient array may flow into several tensors.
            self.grad = self._like(g if owned else self._backend.copy(g))
        else:
            self.grad = self._like(self._backend.binary("add", self.grad._data, g))

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is not None:
            self._retain = True
            self.grad_fn.retained = self
        return self

    def detach(self) -> Tensor:
        return self._like(self._data)

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

            out = Cast.apply(out, as_dtype(target_dtype).np)
        if target_device is not None:
            name = resolve_name(target_device)
            if name != out._device.type:
                out = _ToDevice.apply(out, name)
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
    def _operand(self, other: Any, op: str) -> tuple[Tensor, Any]:
        """Bring ``other`` to this tensor's device and a common dtype (PyTorch's promotion)."""
        if isinstance(other, Tensor):
            if other._backend is not self._backend:
                from engine.errors import DeviceError

                raise DeviceError(
                    f"{op}: tensors on different devices ({self.device} and {other.device}); "
                    "move them to one device with .to(device)"
                )
            if other.ndim == 0 and self.ndim > 0 and other.dtype.is_floating_point == self.dtype.is_floating_point:
                # A 0-d tensor takes part like a Python number (PyTorch's rule).
                return self, other.to(self.dtype) if other.dtype != self.dtype else other
            if self._data.shape != other._data.shape:
                try:
                    np.broadcast_shapes(self._data.shape, other._data.shape)
                except ValueError:
                    raise ShapeError(
                        f"{op}: shapes {tuple(self.shape)} and {tuple(other.shape)} do not broadcast; "
                        "each trailing dimension must match or be 1"
                    ) from None
            common = result_dtype(self.dtype, other.dtype)
            a = self if self.dtype == common else self.to(common)
            b = other if other.dtype == common else other.to(common)
            return a, b
        if isinstance(other, (bool, np.bool_)):
            other = int(other)
        if isinstance(other, numbers.Number):
            if isinstance(other, complex):
                raise DTypeError(f"{op}: complex numbers are not supported")
            kind = self._data.dtype.kind
            if kind in "bi" and isinstance(other, float) or (isinstance(other, np.floating)):
                a = self if kind == "f" else self.to(dtypes.float32)
                return a, a._data.dtype.type(other)
            if kind == "b":
                a = self.to(dtypes.int64)
                return a, a._data.dtype.type(other)
            return self, self._data.dtype.type(other)
        if isinstance(other, (list, tuple, np.ndarray)):
            return self._operand(tensor(other, device=self.device), op)
        raise EngineTypeError(f"{op}: unsupported operand type {type(other).__name__}; use a tensor or a Python number")

    def _binary(self, fn, other, op: str, reverse: bool = False) -> Tensor:
        a, b = self._operand(other, op)
        if reverse:
            a, b = b, a
        return fn.apply(a, b)

    def __add__(self, other):
        return self._binary(_ew.Add, other, "add")

    def __radd__(self, other):
        return self._binary(_ew.Add, other, "add", reverse=True)

    def __sub__(self, other):
        return self._binary(_ew.Sub, other, "sub")

    def __rsub__(self, other):
        return self._binary(_ew.Sub, other, "sub", reverse=True)

    def __mul__(self, other):
        return self._binary(_ew.Mul, other, "mul")

    def __rmul__(self, other):
        return self._binary(_ew.Mul, other, "mul", reverse=True)

    def __truediv__(self, other):
        a = self if self.dtype.is_floating_point else self.float()
        if isinstance(other, Tensor) and not other.dtype.is_floating_point:
            other = other.float()
        return a._binary(_ew.Div, other, "div")

    def __rtruediv__(self, other):
        a = self if self.dtype.is_floating_point else self.float()
        return a._binary(_ew.Div, other, "div", reverse=True)

    def __pow__(self, other):
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            if float(other) == 2.0 and self.dtype.is_floating_point:
                return _ew.Mul.apply(self, self)  # x*x: exact, and one fast primitive
            a = self if self.dtype.is_floating_point or isinstance(other, int) else self.float()
            return _ew.PowScalar.apply(a, float(other))
        return self._binary(_ew.Pow, other, "pow")

    def __rpow__(self, other):
        return self._binary(_ew.Pow, other, "pow", reverse=True)

    def __neg__(self):
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
        return self._logical(other, np.logical_and)

    def __or__(self, other):
        return self._logical(other, np.logical_or)

    def __invert__(self):
        if self.dtype != dtypes.bool_:
            raise DTypeError(f"invert: ~ needs a bool tensor, got {self.dtype}")
        return self._like(self._backend.compare("eq", self._data, False))

    def _logical(self, other, fn):
        o = other._data if isinstance(other, Tensor) else other
        return self._like(self._backend.from_numpy(fn(self._backend.to_numpy(self._data), o)))

    def equal(self, other: Tensor) -> bool:
        return tuple(self.shape) == tuple(other.shape) and bool((self == other).all())

    def all(self) -> Tensor:
        return self._like(np.asarray(np.all(self._backend.to_numpy(self._data))))

    def any(self) -> Tensor:
        return self._like(np.asarray(np.any(self._backend.to_numpy(self._data))))

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

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise EngineValueError("clamp: give at least one of min and max")
        if not self.dtype.is_floating_point and any(isinstance(v, float) for v in (min, max)):
            return self.float().clamp(min, max)  # an int tensor with float bounds becomes float32 (PyTorch)
        lo = None if min is None else self._data.dtype.type(min)
        hi = None if max is None else self._data.dtype.type(max)
        return _ew.Clamp.apply(self, lo, hi)

    clip = clamp

    # ---- reductions -----------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if x.dtype == dtypes.bool_:
            x = x.long()
        return _red.Sum.apply(x, _normalize_dims(dim, x.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim: bool = False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if not x.dtype.is_floating_point:
            raise DTypeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {x.dtype.name.capitalize()}"
            )
        return _red.Mean.apply(x, _normalize_dims(dim, x.ndim, "mean"), keepdim)

    def _extreme(self, fn, kind: str, dim, keepdim: bool):
        if self.numel() == 0:
            raise EngineValueError(f"{kind}: the tensor is empty (shape {tuple(self.shape)}); there is no {kind}")
        if dim is None:
            return fn.apply(self, None, False)
        axis = _normalize_dim(dim, self.ndim, kind)
        if self.ndim == 0:
            return fn.apply(self, None, False), self._like(np.zeros((), np.int64))
        values = fn.apply(self, axis, keepdim)
        _, index = getattr(self._backend, kind)(self._data, axis, keepdim, arg=True)
        return _MinMax(values, self._like(index), kind)

    def max(self, dim=None, keepdim: bool = False):
        """max over all elements, or ``(values, indices)`` along ``dim``."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        return self._extreme(_red.Max, "max", dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        return self._extreme(_red.Min, "min", dim, keepdim)

    def amax(self, dim=None, keepdim: bool = False):
        out = self.max(dim, keepdim)
        return out if dim is None else out[0]

    def argmax(self, dim=None, keepdim: bool = False):
        return self._arg("max", dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return self._arg("min", dim, keepdim)

    def _arg(self, kind: str, dim, keepdim: bool):
        if dim is None:
            flat = self._backend.reshape(self._backend.contiguous(self._data), (-1,))
            _, index = getattr(self._backend, kind)(flat, 0, False, arg=True)
            return self._like(index)
        axis = _normalize_dim(dim, self.ndim, "arg" + kind)
        _, index = getattr(self._backend, kind)(self._data, axis, keepdim, arg=True)
        return self._like(index)

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
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        lead = len(shape) - self.ndim
        target = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        try:
            np.broadcast_shapes(tuple(self.shape), target)
        except ValueError:
            raise ShapeError(f"expand: shape {tuple(self.shape)} cannot be expanded to {target}") from None
        return _shp.Expand.apply(self, target)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def repeat(self, *sizes) -> Tensor:
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        out = self
        for dim, n in enumerate(sizes[len(sizes) - self.ndim :] if len(sizes) >= self.ndim else sizes):
            if n != 1:
                out = cat([out] * n, dim=dim)
        return out

    # ---- indexing ---------------------------------------------------------------------------
    def _key(self, key):
        """Turn index tensors into numpy arrays and check integer indices are in range."""
        items = key if isinstance(key, tuple) else (key,)
        out = []
        dim = 0
        for k in items:
            if isinstance(k, Tensor):
                k = self._backend.to_numpy(k._data)
                if k.dtype.kind == "f":
                    raise EngineTypeError("index: tensors used as indices must be long or bool, got a float tensor")
            if isinstance(k, list):
                k = np.asarray(k)
            if isinstance(k, np.ndarray) and k.dtype.kind in "iu":
                n = self._data.shape[dim] if dim < self.ndim else 0
                if k.size and (k.max() >= n or k.min() < -n):
                    bad = int(k.max() if k.max() >= n else k.min())
                    raise EngineValueError(f"index: index {bad} is out of bounds for dimension {dim} with size {n}")
                k = np.where(k < 0, k + n, k)
            elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
                n = self._data.shape[dim] if dim < self.ndim else 0
                if not -n <= k < n:
                    raise EngineValueError(f"index: index {k} is out of bounds for dimension {dim} with size {n}")
            out.append(k)
            if k is None:
                continue
            if k is Ellipsis:
                dim = self.ndim - (len(items) - len(out))
                continue
            dim += k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1
        return tuple(out)

    def __getitem__(self, key) -> Tensor:
        return _shp.Index.apply(self, self._key(key))

    def __setitem__(self, key, value) -> None:
        self._check_inplace("setitem")
        v = value._data if isinstance(value, Tensor) else value
        self._backend.setitem(self._data, self._key(key), v)

    # ---- in place ------------------------------------------------------------------------------
    def _check_inplace(self, op: str) -> None:
        if GradMode.enabled and self.requires_grad and self.grad_fn is None:
            raise GradError(
                f"{op}: a leaf tensor that requires grad is used in an in-place operation; "
                "wrap the update in `with engine.no_grad():` or use an out-of-place op"
            )
        if GradMode.enabled and self.grad_fn is not None:
            raise GradError(f"{op}: in-place operations on tensors that are part of a graph are not supported")

    def _inplace(self, op: str, other) -> Tensor:
        self._check_inplace(op + "_")
        o = other._data if isinstance(other, Tensor) else other
        result = self._backend.binary(op, self._data, o)
        if result.shape != self._data.shape:
            raise ShapeError(
                f"{op}_: the result shape {result.shape} does not match the in-place tensor's shape {tuple(self.shape)}"
            )
        if result.dtype != self._data.dtype:
            if self._data.dtype.kind != "f" and result.dtype.kind == "f":
                raise DTypeError(f"{op}_: result type {from_numpy_dtype(result.dtype)} can't be cast to {self.dtype}")
            result = result.astype(self._data.dtype)
        self._backend.setitem(self._data, Ellipsis, result)
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
        self._check_inplace("zero_")
        self._backend.fill(self._data, 0)
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self._backend.fill(self._data, value)
        return self

    def copy_(self, src: Tensor) -> Tensor:
        self._check_inplace("copy_")
        self._backend.setitem(self._data, Ellipsis, src.to(self.device)._data)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from engine.random import generator

        return self._set_random(generator().uniform(a, b, self._data.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from engine.random import generator

        return self._set_random(generator().normal(mean, std, self._data.shape))

    def _set_random(self, values: np.ndarray) -> Tensor:
        self._check_inplace("random fill")
        self._backend.setitem(self._data, Ellipsis, self._backend.from_numpy(values.astype(self._data.dtype)))
        return self


class _MinMax(tuple):
    """``(values, indices)`` of ``max(dim=...)``, also readable as ``.values`` and ``.indices``."""

    def __new__(cls, values: Tensor, indices: Tensor, kind: str = "max"):
        out = super().__new__(cls, (values, indices))
        out.kind = kind
        return out

    def __repr__(self) -> str:
        return f"engine.return_types.{self.kind}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


class _ToDevice:
    """A copy to another device; the gradient is copied back. (A Function across backends.)"""

    @staticmethod
    def apply(x: Tensor, name: str) -> Tensor:
        from engine.function import Function

        target = get_backend(name)

        class ToDevice(Function):
            @staticmethod
            def forward(ctx, a):
                return target.from_numpy(np.ascontiguousarray(x._backend.to_numpy(a)))

            @staticmethod
            def backward(ctx, g):
                return x._backend.from_numpy(np.ascontiguousarray(target.to_numpy(g)))

        out = ToDevice.apply(x)
        out._device, out._backend = _device(name), target
        return out


# ---- creation ------------------------------------------------------------------------------------


def _default_dtype_for(array: np.ndarray, from_numpy: bool) -> np.dtype:
    kind = array.dtype.kind
    if kind == "f":
        # A numpy float64 array stays float64 (as in PyTorch); Python floats become float32.
        return np.dtype(np.float64) if from_numpy and array.dtype == np.float64 else np.dtype(np.float32)
    if kind in "iu":
        return np.dtype(np.int64)
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


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, numpy arrays, tensors).

    Floats become float32 and ints int64 unless ``dtype`` says otherwise (as PyTorch).
    """
    array = _to_array(data)
    if array.dtype.kind not in "fiub":
        raise EngineTypeError(f"tensor: data of type {array.dtype} is not numeric; use numbers, lists or arrays")
    np_dtype = as_dtype(dtype).np if dtype is not None else _default_dtype_for(array, isinstance(data, np.ndarray))
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
            np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
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
    """``cond ? a : b`` elementwise, with broadcasting; a and b may be numbers."""
    ref = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if ref is None:
        ref = tensor(a, device=cond.device)
    if not ref.dtype.is_floating_point and any(isinstance(v, float) for v in (a, b)):
        ref = ref.float()  # an int tensor beside a float number becomes float32 (PyTorch)
    x, y = ref._operand(a, "where")[1] if ref is not a else ref, ref._operand(b, "where")[1] if ref is not b else ref
    if isinstance(x, Tensor) and isinstance(y, Tensor) and x.dtype != y.dtype:
        common = result_dtype(x.dtype, y.dtype)
        x, y = x.to(common), y.to(common)
    if not isinstance(x, Tensor):
        x = ref._like(np.asarray(x, dtype=y._data.dtype if isinstance(y, Tensor) else ref._data.dtype))
    if not isinstance(y, Tensor):
        y = ref._like(np.asarray(y, dtype=x._data.dtype))
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond, dtype=bool)
    return _ew.Where.apply(c, x, y)


# The op modules import this one (Function -> Tensor), so they come last.
from engine import function as _function  # noqa: E402

_function._Tensor = Tensor
from engine.ops import elementwise as _ew  # noqa: E402
from engine.ops import linalg as _la  # noqa: E402
from engine.ops import neural as _nn  # noqa: E402
from engine.ops import reduce as _red  # noqa: E402
from engine.ops import shape as _shp  # noqa: E402
