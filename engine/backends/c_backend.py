"""The ``c`` device: our C library (csrc/, compiled by setup.py through cffi) computes the primitives.

Arrays are ``numpy.ndarray`` in host memory, so storage, views and indexing come from
``host.HostArrays`` (shared with the numpy device). Every primitive that computes on float32 or
float64 calls C; what C does not do (integer and bool arrays, an op name without a C code)
is handed to ``self.reference``, a ``NumpyBackend``, so what falls back is visible at the call.
The fused fast paths of ``base.Backend`` that the MLP runs hot are overridden with C kernels;
where one does not apply, a forward fast path uses the base class's default (composed from the
primitives, so still on C) and a backward one answers NotImplemented (the op then runs its own
derivative, from the primitives).

Each method does three things: **check** (dtypes, shapes, index ranges, the memory itself),
**plan** (``layout``: strides, broadcasting, reduce plans, GEMM leading dimensions, all pure
Python), **call C**. The C side trusts its inputs completely, so nothing reaches it unchecked:
cffi does not check dtypes; any numpy array may arrive (``Tensor.data = array``,
``numpy.frombuffer``, a field of a structured array), so an input whose address or strides are
not whole multiples of its item size (a misaligned buffer, a field view with a 6-byte stride)
is copied to a compact array first, and an array the C code writes into (fill, the optimizer
updates) must be writable, else EngineValueError. Op codes come from the header's enums
(engine.h), never from the order of a Python tuple.
"""

from __future__ import annotations

import warnings

import numpy as np

from engine.backends import layout
from engine.backends.base import Backend, check_sgd_buffer
from engine.backends.host import HostArrays
from engine.backends.numpy_backend import NumpyBackend
from engine.errors import DeviceError, DTypeError, EngineValueError, ShapeError

try:
    from engine._cengine import ffi, lib
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "the C library engine._cengine is not built (no C compiler at install time?); "
        "install a C compiler and reinstall with `pip install -e .`, or use device='numpy'"
    ) from exc

ISA_NAMES = tuple(ffi.string(lib.eng_isa_name(k)).decode() for k in (lib.ENG_ISA_GENERIC, lib.ENG_ISA_AVX2,
                                                                        lib.ENG_ISA_AVX512))


def supported_isas() -> list[str]:
    """The kernel sets this CPU runs, from the most portable up (``generic`` always)."""
    return [name for k, name in enumerate(ISA_NAMES) if lib.eng_isa_supported(k)]


def isa_error() -> str | None:
    """Why ``ENGINE_ISA`` cannot be honoured (one line), or None when it is unset or names a supported set."""
    import os

    wanted = os.environ.get("ENGINE_ISA", "")
    if not wanted:
        return None
    if wanted not in ISA_NAMES:
        return f"ENGINE_ISA={wanted!r} is not a kernel set; valid: {', '.join(ISA_NAMES)} (or unset for the best)"
    if wanted not in supported_isas():
        return (f"ENGINE_ISA={wanted!r}: this CPU does not support it; it runs {', '.join(supported_isas())} "
                f"(unset ENGINE_ISA for the best)")
    return None


def isa() -> str:
    """The kernel set the C library runs: ``generic``, ``avx2`` or ``avx512``."""
    return ISA_NAMES[lib.eng_isa()]


def set_isa(name: str) -> None:
    """Switch the C kernels to another supported set (tests; not while kernels run on other threads)."""
    if name not in ISA_NAMES or lib.eng_set_isa(ISA_NAMES.index(name)) != 0:
        raise EngineValueError(f"set_isa: {name!r} is not a kernel set this CPU runs; it runs "
                               f"{', '.join(supported_isas())}")


# dtype -> (kernel suffix, pointer type, array type for ffi.from_buffer, one-item array type). The
# array types are ctype objects, not strings: ffi.from_buffer then skips parsing the name (it runs
# about 40 times in a small MLP's train step).
_FLOATS = {
    np.dtype(np.float32): ("f32", "float *", ffi.typeof("float[]"), ffi.typeof("float[1]")),
    np.dtype(np.float64): ("f64", "double *", ffi.typeof("double[]"), ffi.typeof("double[1]")),
}
_INT64 = np.dtype(np.int64)

# Op names -> the header's codes. A name missing here has no C kernel and goes to the reference.
_UNARY_CODE = {
    "neg": lib.ENG_NEG, "exp": lib.ENG_EXP, "log": lib.ENG_LOG, "sigmoid": lib.ENG_SIGMOID, "tanh": lib.ENG_TANH,
    "relu": lib.ENG_RELU, "leaky_relu": lib.ENG_LEAKY_RELU, "elu": lib.ENG_ELU, "pow": lib.ENG_POW,
    "abs": lib.ENG_ABS, "sign": lib.ENG_SIGN,
}
_BINARY_CODE = {
    "add": lib.ENG_ADD, "sub": lib.ENG_SUB, "mul": lib.ENG_MUL, "div": lib.ENG_DIV,
    "maximum": lib.ENG_MAXIMUM, "minimum": lib.ENG_MINIMUM, "pow": lib.ENG_POWB,
}
_COMPARE_CODE = {
    "lt": lib.ENG_LT, "le": lib.ENG_LE, "gt": lib.ENG_GT, "ge": lib.ENG_GE, "eq": lib.ENG_EQ, "ne": lib.ENG_NE,
}
_ACT_CODE = {None: lib.ENG_ACT_NONE, "relu": lib.ENG_ACT_RELU, "sigmoid": lib.ENG_ACT_SIGMOID, "tanh": lib.ENG_ACT_TANH}
_LOSS_CODE = {"squared": lib.ENG_LOSS_SQUARED, "abs": lib.ENG_LOSS_ABS}
_NULL = ffi.NULL

_KERNELS: dict = {}


def _kernel(name: str, dtype: np.dtype):
    """``lib.eng_<name>_f32`` or ``_f64`` for ``dtype`` (looked up once)."""
    key = (name, dtype)
    fn = _KERNELS.get(key)
    if fn is None:
        fn = _KERNELS[key] = getattr(lib, f"eng_{name}_{_FLOATS[dtype][0]}")
    return fn


# The hot paths index these directly rather than through _kernel.
_MATMUL = {dt: _kernel("matmul", dt) for dt in _FLOATS}
_BINARY = {dt: _kernel("binary", dt) for dt in _FLOATS}
_LINEAR_FORWARD = {dt: _kernel("linear_forward", dt) for dt in _FLOATS}
_LINEAR_BACKWARD = {dt: _kernel("linear_backward", dt) for dt in _FLOATS}
_SGD = {dt: _kernel("sgd", dt) for dt in _FLOATS}
_DIFF_LOSS = {dt: _kernel("diff_loss", dt) for dt in _FLOATS}
_DIFF_LOSS_BACKWARD = {dt: _kernel("diff_loss_backward", dt) for dt in _FLOATS}

# Stride arrays for the flat fast path: one contiguous run, or one repeated element.
_UNIT_STRIDE = ffi.new("int64_t[1]", [1])
_ZERO_STRIDE = ffi.new("int64_t[1]", [0])


# ---- check: what C may be handed -----------------------------------------------------------------------


def _ptr(array: np.ndarray):
    """A typed pointer to the first logical element of a float array (strided arrays too: C
    then walks it by element strides). The caller keeps ``array`` alive during the call."""
    if array.flags.c_contiguous:
        # from_buffer is the fast path (keyword arguments would triple its cost). Read-only arrays are accepted.
        return ffi.from_buffer(_FLOATS[array.dtype][2], array)
    return ffi.cast(_FLOATS[array.dtype][1], array.ctypes.data)


def _cptr(array: np.ndarray, ctype: str):
    """A ``ctype`` pointer to the first logical element of an int64 or bool array."""
    return ffi.cast(ctype, array.ctypes.data)


def _ints(values) -> object:
    """A C array of int64 (shapes, strides); never empty, so 0-d calls get a valid pointer."""
    return ffi.new("int64_t[]", list(values) or [0])


def _is_float(*arrays) -> bool:
    for a in arrays:
        if a.__class__ is not np.ndarray or a.dtype not in _FLOATS:
            return False
    return True


def _compact(x: np.ndarray) -> np.ndarray:
    """``x`` when it is compact and aligned (what the contiguous kernels index by), else a
    compact copy (numpy copies any layout, misaligned and odd strides included). Also applied to
    what the numpy reference answers: numpy gives a transposed input's result the same layout,
    and the contract promises compact outputs."""
    flags = x.flags
    if flags.c_contiguous and flags.aligned:
        return x
    return np.array(x, order="C")


def _compact_pair(pair: tuple) -> tuple:
    """(values, indices) from the reference, compact (numpy keeps an input's layout in its results)."""
    values, index = pair
    return _compact(values), (None if index is None else _compact(index))


def _addressed(x: np.ndarray):
    """(x, its element strides) when C can walk ``x`` in place: its first element aligned and
    every stride a whole number of items; else (a compact copy, its strides)."""
    if x.flags.aligned:
        strides = layout.element_strides(x.shape, x.strides, x.itemsize)
        if strides is not None:
            return x, strides
    x = np.array(x, order="C")
    return x, layout.compact_strides(x.shape)


def _index_array(op: str, index, limit: int, what: str = "index") -> np.ndarray:
    """``index`` as an aligned int64 array whose every entry is in [0, limit): C reads
    ``data[index * stride]``, so an entry outside would read or write outside the array."""
    if index.__class__ is not np.ndarray or index.dtype.kind not in "iu":
        raise DTypeError(f"{op}: the {what} must be an integer array, got {getattr(index, 'dtype', type(index))}")
    if index.dtype != _INT64 or not index.flags.aligned:
        index = np.array(index, dtype=np.int64, order="C")
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= limit:
            bad = low if low < 0 else high
            raise EngineValueError(f"{op}: {what} {bad} is out of bounds for a dimension of size {limit}")
    return index


def _check_writable(op: str, what: str, array) -> None:
    """The C kernels write in place into ``array``: refuse read-only memory (numpy.frombuffer
    of bytes, a broadcast view) with the op's name, instead of writing into it."""
    if array is not None and not array.flags.writeable:
        raise EngineValueError(
            f"{op}: the {what}'s storage (shape {array.shape}, {array.dtype}) is read-only memory, "
            "so it cannot be updated in place; give it a writable copy (numpy.array(a) or tensor.clone())"
        )


def _check_linear(x, w, bias, y=None) -> None:
    """The shapes the fused linear kernels index by: x (m, k), w (n, k), bias (n,), y (m, n).
    engine.nn.functional.linear checks them for users; this guards the C call itself."""
    if (
        x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]
        or (bias is not None and bias.shape != (w.shape[0],))
        or (y is not None and y.shape != (x.shape[0], w.shape[0]))
    ):
        raise ShapeError(
            f"linear: shapes x {x.shape}, weight {w.shape}, bias {None if bias is None else bias.shape}"
            f"{'' if y is None else f', output {y.shape}'} do not fit (x (m, k), weight (n, k), bias (n,))"
        )


def _check_state(op: str, p, *state) -> None:
    """Optimizer state is updated in place over p.size items: it must match p exactly."""
    for s in state:
        if s is not None and (s.__class__ is not np.ndarray or s.shape != p.shape or s.dtype != p.dtype):
            raise ShapeError(
                f"{op} update: state of shape {getattr(s, 'shape', None)} and dtype {getattr(s, 'dtype', None)} "
                f"for a parameter of shape {p.shape} and dtype {p.dtype}; it must match the parameter"
            )


def _operands(op: str, a, b):
    """(a, b) as two float arrays of one dtype, a Python number made a 0-d array of the other's
    dtype (as the contract says); None when C does not take them (integers, bools, two numbers)."""
    a_is, b_is = a.__class__ is np.ndarray, b.__class__ is np.ndarray
    if a_is and b_is:
        if a.dtype not in _FLOATS or b.dtype not in _FLOATS:
            return None
        if a.dtype != b.dtype:
            raise DTypeError(f"{op}: operands have different dtypes ({a.dtype} and {b.dtype}); promote them first")
        return a, b
    if a_is and a.dtype in _FLOATS and _is_number(b):
        return a, np.asarray(b, dtype=a.dtype)
    if b_is and b.dtype in _FLOATS and _is_number(a):
        return np.asarray(a, dtype=b.dtype), b
    return None


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


class CBackend(HostArrays, Backend):
    """The primitive set, computed by the C library (see ``base.Backend`` for each contract)."""

    name = "c"

    def __init__(self) -> None:
        why = isa_error()
        if why:
            raise DeviceError(f"device 'c': {why}")
        self.reference = NumpyBackend()  # integers, bools and anything without a C kernel
        self.build_info = ffi.string(lib.eng_build_info()).decode()

    # ---- storage ------------------------------------------------------------------------------------
    def copy(self, x: np.ndarray) -> np.ndarray:
        """A compact copy; C walks any float layout it can address by element strides."""
        if not _is_float(x) or not x.flags.aligned:
            return self.reference.copy(x)
        strides = layout.element_strides(x.shape, x.strides, x.itemsize)
        if strides is None:
            return self.reference.copy(x)  # numpy copies odd strides (a packed structured field)
        out = np.empty(x.shape, x.dtype)
        if x.size:
            _kernel("copy", x.dtype)(x.ndim, _ints(x.shape), _ptr(x), _ints(strides), _ptr(out))
        return out

    def astype(self, x: np.ndarray, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype == x.dtype:
            return self.copy(x)
        if not (_is_float(x) and dtype in _FLOATS):
            return _compact(self.reference.astype(x, dtype))
        x, strides = _addressed(x)
        out = np.empty(x.shape, dtype)
        if x.size:
            cast = lib.eng_cast_f32_f64 if x.dtype == np.float32 else lib.eng_cast_f64_f32
            cast(x.ndim, _ints(x.shape), _ptr(x), _ints(strides), _ptr(out))
        return out

    def fill(self, x: np.ndarray, value) -> None:
        flags = x.flags
        if not flags.writeable:
            _check_writable("fill", "tensor", x)
        if _is_float(x) and flags.c_contiguous and flags.aligned:
            _kernel("fill", x.dtype)(x.size, _ptr(x), float(value))
        else:
            self.reference.fill(x, value)  # numpy writes any layout in place

    # ---- elementwise -------------------------------------------------------------------------------------
    def unary(self, op: str, x: np.ndarray, alpha: float = 0.0) -> np.ndarray:
        code = _UNARY_CODE.get(op)
        if code is None or not _is_float(x):
            return _compact(self.reference.unary(op, x, alpha))
        x = _compact(x)
        out = np.empty(x.shape, x.dtype)
        _kernel("unary", x.dtype)(code, x.size, _ptr(x), _ptr(out), float(alpha))
        return out

    def _flat_binary(self, code: int, a, b):
        """The hot case of ``binary`` with the least Python: a compact float array and a second
        operand that is either a compact array of the same shape and dtype or a single number.
        Returns None when the general path is needed."""
        if a.__class__ is not np.ndarray:
            if b.__class__ is not np.ndarray:
                return None
            a, b, swapped = b, a, True
        else:
            swapped = False
        dtype = a.dtype
        info = _FLOATS.get(dtype)
        flags = a.flags
        if info is None or not (flags.c_contiguous and flags.aligned):
            return None
        array_type = info[2]
        if b.__class__ is np.ndarray:
            flags = b.flags
            if b.dtype != dtype or not (flags.c_contiguous and flags.aligned):
                return None
            if b.shape == a.shape:
                sb = _UNIT_STRIDE
            elif b.size == 1 and b.ndim <= a.ndim:  # one number, repeated over a
                sb = _ZERO_STRIDE
            elif a.size == 1 and a.ndim <= b.ndim:  # a is the single number: walk b instead
                a, b, swapped, sb = b, a, not swapped, _ZERO_STRIDE
            else:
                return None
            pb = ffi.from_buffer(array_type, b)
        elif isinstance(b, (float, int, np.floating)) and not isinstance(b, bool):
            pb, sb = ffi.new(info[3], [b]), _ZERO_STRIDE
        else:
            return None
        out = np.empty(a.shape, dtype)
        n = out.size
        if n:
            pa, po = ffi.from_buffer(array_type, a), ffi.from_buffer(array_type, out)
            shape = ffi.new("int64_t[1]", [n])
            if swapped:
                _BINARY[dtype](code, 1, shape, pb, sb, pa, _UNIT_STRIDE, po)
            else:
                _BINARY[dtype](code, 1, shape, pa, _UNIT_STRIDE, pb, sb, po)
        return out

    def binary(self, op: str, a, b) -> np.ndarray:
        code = _BINARY_CODE.get(op)
        if code is None:
            return _compact(self.reference.binary(op, a, b))
        out = self._flat_binary(code, a, b)
        if out is None:
            out = self._broadcasting(op, "binary", code, a, b, None)
        return _compact(self.reference.binary(op, a, b)) if out is None else out

    def compare(self, op: str, a, b) -> np.ndarray:
        code = _COMPARE_CODE.get(op)
        out = None if code is None else self._broadcasting(op, "compare", code, a, b, np.bool_)
        return _compact(self.reference.compare(op, a, b)) if out is None else out

    def _broadcasting(self, op: str, kernel: str, code: int, a, b, out_dtype):
        """Run a two-operand broadcasting kernel (``binary`` or ``compare``); None when the
        operands are not floats of one dtype (the reference takes those)."""
        pair = _operands(op, a, b)
        if pair is None:
            return None
        (a, sa), (b, sb) = _addressed(pair[0]), _addressed(pair[1])
        plan = layout.elementwise(op, (a.shape, sa), (b.shape, sb))
        out = np.empty(plan.shape, out_dtype or a.dtype)
        if out.size:
            out_ptr = _cptr(out, "uint8_t *") if out_dtype is np.bool_ else _ptr(out)
            _kernel(kernel, a.dtype)(
                code, len(plan.loop), _ints(plan.loop), _ptr(a), _ints(plan.strides[0]), _ptr(b),
                _ints(plan.strides[1]), out_ptr,
            )
        return out

    def where(self, cond, a, b) -> np.ndarray:
        pair = _operands("where", a, b)
        if pair is None or cond.__class__ is not np.ndarray or cond.dtype != np.bool_:
            return _compact(self.reference.where(cond, a, b))
        (a, sa), (b, sb) = _addressed(pair[0]), _addressed(pair[1])
        sc = layout.element_strides(cond.shape, cond.strides, 1)  # bools: whole items, always aligned
        plan = layout.elementwise("where", (cond.shape, sc), (a.shape, sa), (b.shape, sb))
        out = np.empty(plan.shape, a.dtype)
        if out.size:
            _kernel("where", a.dtype)(
                len(plan.loop), _ints(plan.loop), _cptr(cond, "uint8_t *"), _ints(plan.strides[0]), _ptr(a),
                _ints(plan.strides[1]), _ptr(b), _ints(plan.strides[2]), _ptr(out),
            )
        return out

    # ---- reductions ----------------------------------------------------------------------------------
    def sum(self, x: np.ndarray, axes: tuple | None, keepdim: bool = False) -> np.ndarray:
        if not _is_float(x):
            return _compact(self.reference.sum(x, axes, keepdim))
        flags = x.flags
        every = axes is None or (len(axes) == x.ndim and layout.normalize_axes("sum", axes, x.ndim) == tuple(axes))
        if every and flags.c_contiguous and flags.aligned:
            # Everything, of a compact array: one flat run (the loss reductions, every step).
            out = np.empty((1,) * x.ndim if keepdim else (), x.dtype)
            array_type = _FLOATS[x.dtype][2]
            _kernel("sum", x.dtype)(
                1, ffi.new("int64_t[1]", [x.size]), ffi.from_buffer(array_type, x), _UNIT_STRIDE, 1,
                ffi.from_buffer(array_type, out),
            )
            return out
        x, strides = _addressed(x)
        plan = layout.reduction(x.shape, strides, layout.normalize_axes("sum", axes, x.ndim), keepdim)
        out = np.empty(plan.kept_shape, x.dtype)
        if out.size:
            _kernel("sum", x.dtype)(x.ndim, _ints(plan.shape), _ptr(x), _ints(plan.strides), plan.nred, _ptr(out))
        return out.reshape(plan.out_shape)

    def _extreme(self, kind: str, x: np.ndarray, axis, keepdim: bool, arg: bool):
        """max or min (with the index of the first one) over one axis or all of them."""
        axes = layout.normalize_axes(kind, None if axis is None else (axis,), x.ndim)
        x, strides = _addressed(x)
        plan = layout.reduction(x.shape, strides, axes, keepdim)
        if plan.reduced == 0:
            raise EngineValueError(f"{kind}: the reduced block of shape {x.shape} is empty; there is no {kind}")
        values = np.empty(plan.kept_shape, x.dtype)
        index = np.empty(plan.kept_shape, np.int64) if arg else None
        if values.size:
            _kernel(kind, x.dtype)(
                x.ndim, _ints(plan.shape), _ptr(x), _ints(plan.strides), plan.nred, _ptr(values),
                _cptr(index, "int64_t *") if arg else _NULL,
            )
        return values.reshape(plan.out_shape), (index.reshape(plan.out_shape) if arg else None)

    def max(self, x: np.ndarray, axis: int | None, keepdim: bool = False, arg: bool = True):
        if not _is_float(x):
            return _compact_pair(self.reference.max(x, axis, keepdim, arg))
        return self._extreme("max", x, axis, keepdim, arg)

    def min(self, x: np.ndarray, axis: int | None, keepdim: bool = False, arg: bool = True):
        if not _is_float(x):
            return _compact_pair(self.reference.min(x, axis, keepdim, arg))
        return self._extreme("min", x, axis, keepdim, arg)

    # The C library has no scan or sort kernel: the numpy reference computes them (compact results).
    def scan(self, op: str, x: np.ndarray, axis: int) -> np.ndarray:
        return _compact(self.reference.scan(op, x, axis))

    def sort(self, x: np.ndarray, axis: int, descending: bool = False):
        return _compact_pair(self.reference.sort(x, axis, descending))

    # ---- matmul --------------------------------------------------------------------------------------
    def matmul(self, a: np.ndarray, b: np.ndarray, transpose_a: bool = False, transpose_b: bool = False):
        dtype = a.dtype
        info = _FLOATS.get(dtype)
        fa, fb = a.flags, b.flags
        if (
            info is not None and b.dtype == dtype and a.ndim == 2 and b.ndim == 2
            and fa.c_contiguous and fb.c_contiguous and fa.aligned and fb.aligned
        ):
            # The common case with as little Python as possible: at n <= 128 the call
            # overhead, not the kernel, decides how we compare with numpy.
            m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
            kb, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
            if k != kb:
                raise ShapeError(f"matmul: inner sizes differ ({k} and {kb}) for shapes {a.shape} and {b.shape}")
            out = np.empty((m, n), dtype)
            if m and n:
                array_type = info[2]
                _MATMUL[dtype](
                    1, m, n, k, ffi.from_buffer(array_type, a), a.shape[1] or 1, 0, transpose_a,
                    ffi.from_buffer(array_type, b), b.shape[1] or 1, 0, transpose_b,
                    ffi.from_buffer(array_type, out), n, 0, 0.0,
                )
            return out
        if not _is_float(a, b) or a.dtype != b.dtype:
            return _compact(self.reference.matmul(a, b, transpose_a, transpose_b))
        plan = layout.matmul_shapes(a.shape, b.shape, transpose_a, transpose_b)
        if not (plan.batch and plan.m and plan.n and plan.k):
            # Nothing to multiply: an empty result, or sums of no products (zeros), as numpy/torch.
            return np.zeros(plan.out_shape, dtype)
        a, pa = self._gemm_operand(a, plan.batch_shape, transpose_a)
        b, pb = self._gemm_operand(b, plan.batch_shape, transpose_b)
        out = np.empty(plan.out_shape, dtype)
        _kernel("matmul", dtype)(
            plan.batch, plan.m, plan.n, plan.k, _ptr(a), pa.ld, pa.batch_stride, int(pa.transposed),
            _ptr(b), pb.ld, pb.batch_stride, int(pb.transposed), _ptr(out), plan.n, plan.m * plan.n, 0.0,
        )
        return out

    def _gemm_operand(self, x: np.ndarray, batch_shape: tuple, transposed: bool):
        """(x or the copy its plan asks for, the plan: leading dimension, flag, batch stride)."""
        x, strides = _addressed(x)
        plan = layout.gemm_operand(x.shape, strides, batch_shape, transposed)
        if plan.copy == "compact":
            x = self.copy(x)
        elif plan.copy == "broadcast":
            x = self.copy(self.expand(x, (*batch_shape, *x.shape[-2:])))
        return x, plan

    # ---- indexing ----------------------------------------------------------------------------------------
    def index_add(self, shape: tuple, key: tuple, g: np.ndarray) -> np.ndarray:
        """Rows added in C for ``x[int_array]`` (the backward of a row lookup); any other key
        goes to the reference (numpy.add.at)."""
        idx = key[0] if len(key) == 1 else None
        if (
            idx.__class__ is not np.ndarray or idx.dtype.kind not in "iu" or idx.ndim != 1 or not shape
            or not _is_float(g) or g.shape != (idx.size, *shape[1:])
        ):
            return self.reference.index_add(shape, key, g)
        # Keys come normalised (negative entries wrapped); the range is checked again because C
        # writes at out + index * row.
        index = _index_array("index", idx, shape[0])
        g, gs = _addressed(g)
        # scatter-add along axis 0 with the index repeated along each row (stride 0 there)
        (si,) = layout.element_strides(index.shape, index.strides, index.itemsize)
        plan = layout.scatter_along_axis("index", shape, 0, g.shape, (si,) + (0,) * (len(shape) - 1), g.shape, gs)
        out = np.zeros(shape, g.dtype)
        if g.size:
            _kernel("scatter_add", g.dtype)(
                len(plan.shape), _ints(plan.shape), _cptr(index, "int64_t *"), _ints(plan.index_strides), _ptr(g),
                _ints(plan.value_strides), _ptr(out), _ints(plan.data_strides), plan.axis_stride,
            )
        return out

    def gather(self, x: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
        if not _is_float(x) or index.__class__ is not np.ndarray or index.dtype.kind not in "iu":
            return _compact(self.reference.gather(x, axis, index))
        x, sx = _addressed(x)
        ax = layout.normalize_axis("gather", axis, x.ndim)
        index = _index_array("gather", index, x.shape[ax] if x.ndim else 1)
        plan = layout.take_along_axis(
            "gather", x.shape, sx, ax, index.shape, layout.element_strides(index.shape, index.strides, index.itemsize)
        )
        out = np.empty(plan.shape, x.dtype)
        if out.size:
            _kernel("gather", x.dtype)(
                len(plan.shape), _ints(plan.shape), _ptr(x), _ints(plan.data_strides), plan.axis_stride,
                _cptr(index, "int64_t *"), _ints(plan.index_strides), _ptr(out),
            )
        return out

    def scatter_add(self, shape: tuple, axis: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
        if not _is_float(src) or index.__class__ is not np.ndarray or index.dtype.kind not in "iu":
            return self.reference.scatter_add(shape, axis, index, src)
        ax = layout.normalize_axis("scatter_add", axis, len(shape))
        index = _index_array("scatter_add", index, shape[ax] if shape else 1)
        src, ss = _addressed(src)
        si = layout.element_strides(index.shape, index.strides, index.itemsize)
        plan = layout.scatter_along_axis("scatter_add", tuple(shape), ax, index.shape, si, src.shape, ss)
        out = np.zeros(shape, src.dtype)
        if index.size:
            _kernel("scatter_add", src.dtype)(
                len(plan.shape), _ints(plan.shape), _cptr(index, "int64_t *"), _ints(plan.index_strides),
                _ptr(src), _ints(plan.value_strides), _ptr(out), _ints(plan.data_strides), plan.axis_stride,
            )
        return out

    # ---- fused MLP paths (fast paths of base.Backend) -------------------------------------------------------
    def linear_forward(self, x, w, bias, act):
        # Every Linear's forward runs this, so the common case (compact, aligned arrays of one
        # float dtype) is checked inline on the raw arrays, with no helper calls: at small
        # shapes these checks, not the kernel, are the cost. Anything else takes the general
        # path below, which compacts what needs it.
        code = _ACT_CODE.get(act, -1)
        if x.__class__ is np.ndarray and w.__class__ is np.ndarray and code >= 0:
            dtype = x.dtype
            info = _FLOATS.get(dtype)
            fx, fw = x.flags, w.flags
            if (
                info is not None and w.dtype == dtype and x.ndim == 2 and w.ndim == 2 and x.shape[1] == w.shape[1]
                and fx.c_contiguous and fx.aligned and fw.c_contiguous and fw.aligned
            ):
                m, k = x.shape
                n = w.shape[0]
                at, fb = info[2], ffi.from_buffer
                if bias is None:
                    pb = _NULL
                elif (
                    bias.__class__ is np.ndarray and bias.dtype == dtype and bias.shape == (n,)
                    and bias.flags.c_contiguous and bias.flags.aligned
                ):
                    pb = fb(at, bias)
                else:
                    pb = None
                if pb is not None:
                    out = np.empty((m, n), dtype)
                    _LINEAR_FORWARD[dtype](m, k, n, fb(at, x), fb(at, w), pb, code, fb(at, out))
                    return out
        _check_linear(x, w, bias)
        dtype = x.dtype
        if code < 0 or not _is_float(x, w) or w.dtype != dtype or (bias is not None and bias.dtype != dtype):
            return Backend.linear_forward(self, x, w, bias, act)
        x, w = _compact(x), _compact(w)
        at, fb = _FLOATS[dtype][2], ffi.from_buffer
        m, n = x.shape[0], w.shape[0]
        out = np.empty((m, n), dtype)
        _LINEAR_FORWARD[dtype](
            m, x.shape[1], n, fb(at, x), fb(at, w), _NULL if bias is None else fb(at, _compact(bias)), code,
            fb(at, out),
        )
        return out

    def linear_backward(self, x, w, y, gy, act, need_x: bool = True, need_bias: bool = True):
        code = _ACT_CODE.get(act, -1)
        # The common case inline, as in linear_forward: four compact, aligned arrays of one float
        # dtype whose shapes fit (x (m, k), w (n, k), y and gy (m, n)). Anything else is checked
        # and compacted by _linear_backward_operands first.
        info = None
        if code >= 0 and x.__class__ is np.ndarray and w.__class__ is np.ndarray and y.__class__ is np.ndarray \
                and gy.__class__ is np.ndarray:
            dtype = x.dtype
            info = _FLOATS.get(dtype)
            fx, fw, fy, fg = x.flags, w.flags, y.flags, gy.flags
            if info is not None and not (
                w.dtype == dtype and y.dtype == dtype and gy.dtype == dtype
                and x.ndim == 2 and w.ndim == 2 and x.shape[1] == w.shape[1]
                and y.shape == (x.shape[0], w.shape[0]) and gy.shape == y.shape
                and fx.c_contiguous and fw.c_contiguous and fy.c_contiguous and fg.c_contiguous
                and fx.aligned and fw.aligned and fy.aligned and fg.aligned
            ):
                info = None
        if info is None:
            operands = self._linear_backward_operands(x, w, y, gy, code)
            if operands is None:
                return NotImplemented
            x, w, y, gy = operands
            dtype = x.dtype
            info = _FLOATS[dtype]
        at, fb = info[2], ffi.from_buffer
        m, k = x.shape
        n = w.shape[0]
        gpre = np.empty((m, n), dtype)
        gx = np.empty((m, k), dtype) if need_x else None
        gw = np.empty((n, k), dtype)
        gb = np.empty((n,), dtype) if need_bias else None
        _LINEAR_BACKWARD[dtype](
            m, k, n, fb(at, x), fb(at, w), fb(at, y), fb(at, gy), code, fb(at, gpre),
            _NULL if gx is None else fb(at, gx), fb(at, gw), _NULL if gb is None else fb(at, gb),
        )
        return gx, gw, gb

    def _linear_backward_operands(self, x, w, y, gy, code):
        """(x, w, y, gy) checked and compact for the fused backward kernel, gy expanded to y's shape;
        None when the kernel does not take them (an unknown activation, integers, mixed dtypes)."""
        _check_linear(x, w, None, y)
        dtype = x.dtype
        if code < 0 or not _is_float(x, w, y, gy) or not (w.dtype == y.dtype == gy.dtype == dtype):
            return None
        if gy.shape != y.shape:
            gy = self.expand(gy, y.shape)
        return _compact(x), _compact(w), _compact(y), _compact(gy)

    def _rows(self, op: str, x: np.ndarray, axis: int):
        """(x as the compact (rows, cols) block of its ``axis``, the plan)."""
        x, strides = _addressed(x)
        plan = layout.rows(op, x.shape, strides, axis)
        moved = x.transpose(plan.perm)
        return (moved if plan.in_place else self.copy(moved)), plan

    def _unrows(self, out: np.ndarray, plan) -> np.ndarray:
        """The kernel's compact output in ``plan.moved_shape`` back in the input's axis order, compact."""
        out = out.transpose(plan.inverse)
        return out if plan.restore_in_place else self.copy(out)

    def softmax(self, x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
        if not _is_float(x):
            return Backend.softmax(self, x, axis, log)
        op = "log_softmax" if log else "softmax"
        # A 0-d x is one row of one element: softmax 1, log_softmax 0 (NaN for NaN or +-inf), as PyTorch.
        rows, plan = self._rows(op, x, axis)
        out = np.empty(plan.moved_shape, x.dtype)
        if out.size:
            _kernel("softmax", x.dtype)(plan.rows, plan.cols, _ptr(rows), _ptr(out), int(log))
        return self._unrows(out, plan)

    def softmax_backward(self, y, gy, axis: int, log: bool = False):
        if not _is_float(y, gy) or y.dtype != gy.dtype:
            return NotImplemented
        op = "log_softmax backward" if log else "softmax backward"
        if gy.shape != y.shape:
            gy = self.expand(gy, y.shape)
        ym, plan = self._rows(op, y, axis)
        gm, _ = self._rows(op, gy, axis)
        out = np.empty(plan.moved_shape, y.dtype)
        if out.size:
            _kernel("softmax_backward", y.dtype)(plan.rows, plan.cols, _ptr(ym), _ptr(gm), _ptr(out), int(log))
        return self._unrows(out, plan)

    def _targets(self, op: str, logits: np.ndarray, target) -> np.ndarray:
        """Class indices for (N, C) logits: N int64 entries in [0, C) (C reads logits[r, target[r]])."""
        if logits.ndim != 2:
            raise ShapeError(f"{op}: logits of shape {logits.shape}; expected (N, C)")
        rows, cols = logits.shape
        if target.__class__ is not np.ndarray or target.shape != (rows,):
            raise EngineValueError(
                f"{op}: targets of shape {getattr(target, 'shape', None)} for logits of shape {logits.shape}"
            )
        return _compact(_index_array(op, target, cols, "target"))

    def cross_entropy(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        if not _is_float(logits):
            return Backend.cross_entropy(self, logits, target)
        target = self._targets("cross_entropy", logits, target)
        logits = _compact(logits)
        out = np.empty(logits.shape[0], logits.dtype)
        if out.size:
            _kernel("cross_entropy", logits.dtype)(
                logits.shape[0], logits.shape[1], _ptr(logits), _cptr(target, "int64_t *"), _ptr(out)
            )
        return out

    def cross_entropy_backward(self, logits, target, gloss):
        pair = _operands("cross_entropy backward", logits, gloss) if _is_float(logits) else None
        if pair is None:
            return NotImplemented
        logits, gloss = pair
        target = self._targets("cross_entropy backward", logits, target)
        if gloss.shape not in ((), (1,), (logits.shape[0],)):
            raise ShapeError(f"cross_entropy backward: gradient of shape {gloss.shape} for {logits.shape[0]} rows")
        logits = _compact(logits)
        gloss = _compact(self.expand(gloss, (logits.shape[0],)))  # 0-d (a reduced loss) or one per row
        out = np.empty(logits.shape, logits.dtype)
        if out.size:
            _kernel("cross_entropy_backward", logits.dtype)(
                logits.shape[0], logits.shape[1], _ptr(logits), _cptr(target, "int64_t *"), _ptr(gloss), _ptr(out)
            )
        return out

    def difference_loss(self, kind: str, a, b, mean: bool):
        code = _LOSS_CODE.get(kind)
        info = _FLOATS.get(a.dtype) if a.__class__ is np.ndarray and b.__class__ is np.ndarray else None
        if code is None or info is None or b.dtype != a.dtype or a.shape != b.shape:
            return Backend.difference_loss(self, kind, a, b, mean)  # broadcasting, or integers: composed
        # (the compact checks written out: every regression step runs this)
        flags = a.flags
        if not (flags.c_contiguous and flags.aligned):
            a = _compact(a)
        flags = b.flags
        if not (flags.c_contiguous and flags.aligned):
            b = _compact(b)
        dtype, at, fb = a.dtype, info[2], ffi.from_buffer
        diff = np.empty(a.shape, dtype)
        loss = np.empty((), dtype)
        n = a.size
        _DIFF_LOSS[dtype](code, n, fb(at, a), fb(at, b), n if mean else 1, fb(at, diff), fb(at, loss))
        return diff, loss

    def difference_loss_backward(self, kind: str, diff, g, mean: bool):
        code = _LOSS_CODE.get(kind)
        info = _FLOATS.get(diff.dtype) if diff.__class__ is np.ndarray and g.__class__ is np.ndarray else None
        if code is None or info is None or g.dtype != diff.dtype or g.ndim:
            return NotImplemented  # per-item g (reduction none): the op's own derivative
        flags = diff.flags
        if not (flags.c_contiguous and flags.aligned):
            diff = _compact(diff)
        if not g.flags.aligned:  # 0-d: always contiguous
            g = _compact(g)
        dtype, at, fb = diff.dtype, info[2], ffi.from_buffer
        ga = np.empty(diff.shape, dtype)
        n = diff.size
        _DIFF_LOSS_BACKWARD[dtype](code, n, fb(at, diff), fb(at, g), n if mean else 1, fb(at, ga))
        return ga

    # ---- optimizers, in place ----------------------------------------------------------------------------
    def _update_operand(self, p, g):
        """The gradient as the update kernels read it: p's shape and dtype, compact."""
        if g.shape != p.shape:
            g = self.expand(g, p.shape)
        if g.dtype != p.dtype:
            raise DTypeError(f"optimizer update: parameter is {p.dtype} but its gradient is {g.dtype}")
        return _compact(g)

    def sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first) -> None:
        # The common case inline (it runs for every parameter at every step): a writable, compact,
        # aligned float parameter, its gradient (and momentum buffer) of the same shape, dtype and layout.
        if p.__class__ is np.ndarray and g.__class__ is np.ndarray:
            dtype = p.dtype
            info = _FLOATS.get(dtype)
            fp, fg = p.flags, g.flags
            if (
                info is not None and g.dtype == dtype and g.shape == p.shape and fp.writeable and fp.c_contiguous
                and fp.aligned and fg.c_contiguous and fg.aligned
            ):
                at, fb = info[2], ffi.from_buffer
                if buf is None:
                    pbuf = None if momentum else _NULL  # (momentum without a buffer: the error below)
                elif buf.__class__ is np.ndarray and buf.dtype == dtype and buf.shape == p.shape and (
                    buf.flags.writeable and buf.flags.c_contiguous and buf.flags.aligned
                ):
                    pbuf = fb(at, buf)
                else:
                    pbuf = None
                if pbuf is not None:
                    _SGD[dtype](
                        p.size, fb(at, p), fb(at, g), pbuf, lr, momentum, dampening, weight_decay, int(nesterov),
                        int(first),
                    )
                    return
        _check_state("sgd", p, buf)
        check_sgd_buffer(momentum, buf)  # (the kernel would read and write buf[i] through NULL)
        fp = p.flags
        fbuf = None if buf is None else buf.flags
        if not fp.writeable or (fbuf is not None and not fbuf.writeable):
            _check_writable("sgd update", "parameter", p)
            _check_writable("sgd update", "momentum buffer", buf)
        if not (_is_float(p) and fp.c_contiguous and fp.aligned) or (
            fbuf is not None and not (fbuf.c_contiguous and fbuf.aligned)
        ):  # a strided or misaligned target: numpy updates it in place
            return self.reference.sgd_update(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first)
        fg = g.flags if g.__class__ is np.ndarray else None
        if fg is None or g.shape != p.shape or g.dtype != p.dtype or not (fg.c_contiguous and fg.aligned):
            g = self._update_operand(p, g)  # broadcast, compact, or a clear dtype error
        at, fb = _FLOATS[p.dtype][2], ffi.from_buffer
        _SGD[p.dtype](
            p.size, fb(at, p), fb(at, g), _NULL if buf is None else fb(at, buf), lr, momentum, dampening,
            weight_decay, int(nesterov), int(first),
        )

    def adam_update(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step) -> None:
        _check_state("adam", p, m, v)
        _check_writable("adam update", "parameter", p)
        _check_writable("adam update", "first moment (exp_avg)", m)
        _check_writable("adam update", "second moment (exp_avg_sq)", v)
        fp, fm, fv = p.flags, m.flags, v.flags
        if not (_is_float(p) and fp.c_contiguous and fm.c_contiguous and fv.c_contiguous) or not (
            fp.aligned and fm.aligned and fv.aligned
        ):  # a strided or misaligned target: numpy updates it in place
            return self.reference.adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)
        g = self._update_operand(p, g)
        _kernel("adam", p.dtype)(p.size, _ptr(p), _ptr(g), _ptr(m), _ptr(v), lr, beta1, beta2, eps, weight_decay, step)


def num_threads() -> int:
    """Threads the C kernels use (``OMP_NUM_THREADS`` when built with OpenMP, else 1; always 1
    in a forked child, see ``in_forked_child``)."""
    return lib.eng_num_threads()


def in_forked_child() -> bool:
    """True in the child of a ``fork()`` (``os.fork``, multiprocessing's "fork" start method).

    GNU OpenMP's thread pool does not survive fork: a child that entered a multi-threaded
    region would wait forever for threads that are gone (PyTorch's CPU ops hang there). The
    C library registers a ``pthread_atfork`` handler that puts the child on one thread, so
    the child's kernels run serially instead of hanging; use the "spawn" or "forkserver"
    start method for children that should be multi-threaded.
    """
    return bool(lib.eng_in_forked_child())


def set_num_threads(n: int) -> None:
    """Threads for the C kernels (n >= 1). In a forked child the kernels stay on one thread."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise EngineValueError(f"set_num_threads: expected a whole number of threads >= 1, got {n!r}")
    if n > 1 and in_forked_child():
        warnings.warn(
            "set_num_threads: in a forked child the c device runs on one thread (OpenMP's thread pool "
            "does not survive fork); start workers with the 'spawn' or 'forkserver' method for more",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    lib.eng_set_num_threads(int(n))
