"""The ``c`` device: our C library (csrc/, compiled by setup.py through cffi) runs every primitive.

numpy stays the storage and allocator: arrays are ``numpy.ndarray``, and this class
inherits the pure data-movement primitives (views, reshape, indexing by slices,
concatenation) from the numpy backend. Everything that computes calls C.

The C side trusts its inputs completely, so every check happens here, before the call:
dtype (float32 or float64, the same for all operands: cffi does not check), shapes and
strides taken from the arrays themselves, contiguity where a kernel needs it, and
integer targets/indices range-checked. Any numpy array may arrive (``Tensor.data = array``,
``numpy.frombuffer``, a field of a structured array), so the memory itself is checked too:
an input whose address or strides are not whole multiples of its item size (a misaligned
buffer, a field view with a 6-byte stride) is copied to a compact array first, and an array
the C code writes into (fill, the optimizer updates) must be writable, else EngineValueError.
Integer and bool tensors (counting, masks) are not what the kernels are for; their few
elementwise ops fall back to the numpy reference.
"""

from __future__ import annotations

import warnings

import numpy as np

from engine.backends.numpy_backend import NumpyBackend
from engine.errors import DTypeError, EngineValueError, ShapeError

try:
    from engine._cengine import ffi, lib
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "the C library engine._cengine is not built (no C compiler at install time?); "
        "install a C compiler and reinstall with `pip install -e .`, or use device='numpy'"
    ) from exc

_FLOATS = {
    np.dtype(np.float32): ("f32", "float *", "float[]"),
    np.dtype(np.float64): ("f64", "double *", "double[]"),
}
# Op codes come from the header's enums (engine.h), never from the order of a Python tuple.
_UNARY_CODE = {
    "neg": lib.ENG_NEG, "exp": lib.ENG_EXP, "log": lib.ENG_LOG, "sigmoid": lib.ENG_SIGMOID, "tanh": lib.ENG_TANH,
    "relu": lib.ENG_RELU, "leaky_relu": lib.ENG_LEAKY_RELU, "elu": lib.ENG_ELU, "pow": lib.ENG_POW, "abs": lib.ENG_ABS,
}
_BINARY_CODE = {
    "add": lib.ENG_ADD, "sub": lib.ENG_SUB, "mul": lib.ENG_MUL, "div": lib.ENG_DIV,
    "maximum": lib.ENG_MAXIMUM, "minimum": lib.ENG_MINIMUM, "pow": lib.ENG_POWB,
}
_COMPARE_CODE = {
    "lt": lib.ENG_LT, "le": lib.ENG_LE, "gt": lib.ENG_GT, "ge": lib.ENG_GE, "eq": lib.ENG_EQ, "ne": lib.ENG_NE,
}
_ACT_CODE = {None: lib.ENG_ACT_NONE, "relu": lib.ENG_ACT_RELU, "sigmoid": lib.ENG_ACT_SIGMOID, "tanh": lib.ENG_ACT_TANH}
_NULL = ffi.NULL


_KERNELS: dict = {}


def _kernel(name: str, dtype: np.dtype):
    """``lib.eng_<name>_f32`` or ``_f64`` for ``dtype`` (looked up once)."""
    key = (name, dtype)
    fn = _KERNELS.get(key)
    if fn is None:
        fn = _KERNELS[key] = getattr(lib, f"eng_{name}_{_FLOATS[dtype][0]}")
    return fn


def _ptr(array: np.ndarray):
    """A typed pointer to the first logical element (strided arrays too)."""
    if array.flags.c_contiguous:
        # from_buffer is the fast path (keyword arguments would triple its cost), and the
        # pointer keeps the array alive while in use. Read-only arrays are accepted.
        return ffi.from_buffer(_FLOATS[array.dtype][2], array)
    return ffi.cast(_FLOATS[array.dtype][1], array.ctypes.data)


def _cptr(array: np.ndarray, ctype: str):
    if array.flags.c_contiguous:
        return ffi.cast(ctype, ffi.from_buffer(array))
    return ffi.cast(ctype, array.ctypes.data)


# Where (as on x86-64 and arm64) a float is aligned to its own size, numpy's ``aligned`` flag
# also says that every stride is a whole number of items.
_ALIGNED_TO_SIZE = all(dtype.alignment == dtype.itemsize for dtype in _FLOATS)


def _addressable(array: np.ndarray) -> bool:
    """Whether C can walk ``array`` by element strides: its first element is aligned and every
    stride (of an axis longer than 1) is a whole number of items."""
    if not array.flags.aligned:
        return False
    if _ALIGNED_TO_SIZE:
        return True
    item = array.itemsize
    return all(s % item == 0 for n, s in zip(array.shape, array.strides) if n > 1)


def _readable(array):
    """``array`` itself when C can read it in place, else a compact, aligned copy (numpy
    copies any layout). Non-arrays pass through for the caller to reject."""
    if array.__class__ is np.ndarray and not _addressable(array):
        return np.array(array, order="C")
    return array


def _check_writable(op: str, what: str, array) -> None:
    """The C kernels write in place into ``array``: refuse read-only memory (numpy.frombuffer
    of bytes, a broadcast view) with the op's name, instead of writing into it."""
    if array is not None and not array.flags.writeable:
        raise EngineValueError(
            f"{op}: the {what}'s storage (shape {array.shape}, {array.dtype}) is read-only memory, "
            "so it cannot be updated in place; give it a writable copy (numpy.array(a) or tensor.clone())"
        )


def _shape_arg(shape) -> object:
    return ffi.new("int64_t[]", list(shape) or [1])


def _strides_arg(array: np.ndarray, shape: tuple) -> object:
    """Element strides of ``array`` broadcast to ``shape`` (0 where it is broadcast)."""
    nd, lead = len(shape), len(shape) - array.ndim
    strides = [0] * nd
    item = array.itemsize
    for i in range(array.ndim):
        if array.shape[i] != 1:
            strides[lead + i] = array.strides[i] // item
    return ffi.new("int64_t[]", strides or [0])


_MATMUL = {np.dtype(np.float32): lib.eng_matmul_f32, np.dtype(np.float64): lib.eng_matmul_f64}
_BINARY = {np.dtype(np.float32): lib.eng_binary_f32, np.dtype(np.float64): lib.eng_binary_f64}
_LINEAR_FORWARD = {np.dtype(np.float32): lib.eng_linear_forward_f32, np.dtype(np.float64): lib.eng_linear_forward_f64}
_LINEAR_BACKWARD = {
    np.dtype(np.float32): lib.eng_linear_backward_f32,
    np.dtype(np.float64): lib.eng_linear_backward_f64,
}
_LOSS_CODE = {"squared": lib.ENG_LOSS_SQUARED, "abs": lib.ENG_LOSS_ABS}
_SGD = {np.dtype(np.float32): lib.eng_sgd_f32, np.dtype(np.float64): lib.eng_sgd_f64}

# Stride arrays for the flat fast path: one contiguous run, or one repeated element.
_UNIT_STRIDE = ffi.new("int64_t[1]", [1])
_ZERO_STRIDE = ffi.new("int64_t[1]", [0])


def _flat_layout(a: np.ndarray, b: np.ndarray):
    """(output shape, a's stride, b's stride) when both operands can be walked as one flat
    run (same shape and compact, or one of them a single element); None otherwise."""
    if a.shape == b.shape:
        if a.flags.c_contiguous and b.flags.c_contiguous:
            return a.shape, _UNIT_STRIDE, _UNIT_STRIDE
        return None
    if b.size == 1 and b.ndim <= a.ndim and a.flags.c_contiguous:
        return a.shape, _UNIT_STRIDE, _ZERO_STRIDE
    if a.size == 1 and a.ndim <= b.ndim and b.flags.c_contiguous:
        return b.shape, _ZERO_STRIDE, _UNIT_STRIDE
    return None


def _is_float(*arrays) -> bool:
    for a in arrays:
        if a.__class__ is not np.ndarray or a.dtype not in _FLOATS:
            return False
    return True


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


class CBackend(NumpyBackend):
    """The primitive set, computed by the C library."""

    name = "c"

    def __init__(self) -> None:
        self.build_info = ffi.string(lib.eng_build_info()).decode()

    # ---- helpers ------------------------------------------------------------------------
    def _operand(self, x, like: np.ndarray) -> np.ndarray:
        """A Python or numpy scalar as a 0-d array of ``like``'s dtype; arrays pass through."""
        if isinstance(x, np.ndarray):
            if x.dtype != like.dtype and x.dtype in _FLOATS and like.dtype in _FLOATS:
                raise DTypeError(f"c backend: operands have different dtypes ({x.dtype} and {like.dtype})")
            return x
        return np.asarray(x, dtype=like.dtype)

    def contiguous(self, x: np.ndarray) -> np.ndarray:
        """``x`` when it is compact and aligned (what the kernels index by), else a copy."""
        flags = x.flags
        if flags.c_contiguous and flags.aligned:
            return x
        return self.copy(x)

    def copy(self, x: np.ndarray) -> np.ndarray:
        if not _is_float(x) or not _addressable(x):
            return super().copy(x)  # numpy copies any layout (odd strides, misaligned)
        out = np.empty(x.shape, x.dtype)
        if x.size:
            _kernel("copy", x.dtype)(x.ndim, _shape_arg(x.shape), _ptr(x), _strides_arg(x, x.shape), _ptr(out))
        return out

    def astype(self, x: np.ndarray, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype == x.dtype:
            return self.copy(x)
        if not (_is_float(x) and dtype in _FLOATS) or not _addressable(x):
            return super().astype(x, dtype)
        out = np.empty(x.shape, dtype)
        if x.size:
            fn = lib.eng_cast_f32_f64 if x.dtype == np.float32 else lib.eng_cast_f64_f32
            fn(x.ndim, _shape_arg(x.shape), _ptr(x), _strides_arg(x, x.shape), _ptr(out))
        return out

    def fill(self, x: np.ndarray, value) -> None:
        flags = x.flags
        if not flags.writeable:
            _check_writable("fill", "tensor", x)
        if _is_float(x) and flags.c_contiguous and flags.aligned:
            _kernel("fill", x.dtype)(x.size, _ptr(x), float(value))
        else:
            super().fill(x, value)

    # ---- elementwise ---------------------------------------------------------------------
    def unary(self, op: str, x: np.ndarray, alpha: float = 0.0) -> np.ndarray:
        if not _is_float(x) or op not in _UNARY_CODE:
            return super().unary(op, x, alpha)
        x = self.contiguous(x)
        out = np.empty(x.shape, x.dtype)
        _kernel("unary", x.dtype)(_UNARY_CODE[op], x.size, _ptr(x), _ptr(out), float(alpha))
        return out

    def unary_backward(self, op: str, x, y, gy, alpha: float = 0.0):
        if not _is_float(x, y, gy):
            return super().unary_backward(op, x, y, gy, alpha)
        shape = x.shape
        if y.shape != shape:
            raise ShapeError(f"{op} backward: input shape {shape} and output shape {y.shape} differ")
        if gy.shape != shape:
            gy = self.expand(gy, shape)
        x, y, gy = self.contiguous(x), self.contiguous(y), self.contiguous(gy)
        if not (x.dtype == y.dtype == gy.dtype):
            raise DTypeError(f"{op} backward: dtypes differ ({x.dtype}, {y.dtype}, {gy.dtype})")
        out = np.empty(shape, x.dtype)
        _kernel("unary_backward", x.dtype)(_UNARY_CODE[op], x.size, _ptr(x), _ptr(y), _ptr(gy), _ptr(out), float(alpha))
        return out

    def _broadcast(self, a: np.ndarray, b: np.ndarray) -> tuple:
        """(out shape, ndim, C shape, a strides, b strides) for a two-operand kernel."""
        flat = _flat_layout(a, b)
        if flat is not None:
            shape, sa, sb = flat
            size = 1
            for n in shape:
                size *= n
            return shape, 1, ffi.new("int64_t[1]", [size]), sa, sb
        shape = np.broadcast_shapes(a.shape, b.shape)
        return shape, len(shape), _shape_arg(shape), _strides_arg(a, shape), _strides_arg(b, shape)

    def _flat_binary(self, op: str, a, b):
        """The hot case of ``binary`` with the least Python: a compact float array and a
        second operand that is either a compact array of the same shape and dtype or a
        single number. Returns None when the general path is needed."""
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
            pb, sb = ffi.new(array_type[:-2] + "[1]", [b]), _ZERO_STRIDE
        else:
            return None
        out = np.empty(a.shape, dtype)
        n = out.size
        if n:
            pa, po = ffi.from_buffer(array_type, a), ffi.from_buffer(array_type, out)
            shape = ffi.new("int64_t[1]", [n])
            if swapped:
                _BINARY[dtype](_BINARY_CODE[op], 1, shape, pb, sb, pa, _UNIT_STRIDE, po)
            else:
                _BINARY[dtype](_BINARY_CODE[op], 1, shape, pa, _UNIT_STRIDE, pb, sb, po)
        return out

    def binary(self, op: str, a, b) -> np.ndarray:
        fast = self._flat_binary(op, a, b)
        if fast is not None:
            return fast
        out = self._broadcasting("binary", _BINARY_CODE[op], a, b, None)
        return super().binary(op, a, b) if out is None else out

    def compare(self, op: str, a, b) -> np.ndarray:
        out = self._broadcasting("compare", _COMPARE_CODE[op], a, b, np.bool_)
        return super().compare(op, a, b) if out is None else out

    def _broadcasting(self, kernel: str, code: int, a, b, out_dtype):
        """Run a two-operand broadcasting kernel (``binary`` or ``compare``); None when the
        operands are not two floats of one dtype (the numpy reference handles those)."""
        like = a if isinstance(a, np.ndarray) else b
        a, b = self._operand(a, like), self._operand(b, like)
        if not _is_float(a, b) or a.dtype != b.dtype:
            return None
        a, b = _readable(a), _readable(b)
        shape, ndim, cshape, sa, sb = self._broadcast(a, b)
        out = np.empty(shape, out_dtype or a.dtype)
        if out.size:
            out_ptr = _cptr(out, "uint8_t *") if out_dtype is np.bool_ else _ptr(out)
            _kernel(kernel, a.dtype)(code, ndim, cshape, _ptr(a), sa, _ptr(b), sb, out_ptr)
        return out

    def where(self, cond, a, b) -> np.ndarray:
        like = a if isinstance(a, np.ndarray) else b
        a, b = self._operand(a, like), self._operand(b, like)
        cond = np.asarray(cond)
        if not _is_float(a, b) or a.dtype != b.dtype or cond.dtype != np.bool_:
            return super().where(cond, a, b)
        a, b = _readable(a), _readable(b)
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
        out = np.empty(shape, a.dtype)
        if out.size:
            _kernel("where", a.dtype)(
                len(shape),
                _shape_arg(shape),
                _cptr(cond, "uint8_t *"),
                _strides_arg(cond, shape),
                _ptr(a),
                _strides_arg(a, shape),
                _ptr(b),
                _strides_arg(b, shape),
                _ptr(out),
            )
        return out

    # ---- reductions ----------------------------------------------------------------------
    def _reduce_layout(self, x: np.ndarray, axes: tuple):
        """Shape and element strides with the reduced axes moved last (a free permutation)."""
        kept = [i for i in range(x.ndim) if i not in axes]
        order = kept + list(axes)
        shape = [x.shape[i] for i in order]
        strides = [x.strides[i] // x.itemsize for i in order]
        return kept, ffi.new("int64_t[]", shape or [1]), ffi.new("int64_t[]", strides or [0])

    def sum(self, x: np.ndarray, axes: tuple | None, keepdim: bool = False) -> np.ndarray:
        if not _is_float(x):
            return super().sum(x, axes, keepdim)
        axes = tuple(range(x.ndim)) if axes is None else tuple(axes)
        flags = x.flags
        if len(axes) == x.ndim and flags.c_contiguous and flags.aligned:
            # Everything, of a compact array: one flat run (the loss reductions, every step).
            out = np.empty((1,) * x.ndim if keepdim else (), x.dtype)
            array_type = _FLOATS[x.dtype][2]
            _kernel("sum", x.dtype)(
                1, ffi.new("int64_t[1]", [x.size]), ffi.from_buffer(array_type, x), _UNIT_STRIDE, 1,
                ffi.from_buffer(array_type, out),
            )
            return out
        x = _readable(x)
        kept, cshape, cstrides = self._reduce_layout(x, axes)
        out = np.empty([x.shape[i] for i in kept], x.dtype)
        if out.size:
            _kernel("sum", x.dtype)(x.ndim, cshape, _ptr(x), cstrides, len(axes), _ptr(out))
        if keepdim:
            out = out.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])
        return out

    def _extreme(self, kind: str, x: np.ndarray, axis, keepdim: bool, arg: bool):
        axes = tuple(range(x.ndim)) if axis is None else (axis,)
        x = _readable(x)
        kept, cshape, cstrides = self._reduce_layout(x, axes)
        kept_shape = [x.shape[i] for i in kept]
        values = np.empty(kept_shape, x.dtype)
        index = np.empty(kept_shape, np.int64) if arg else None
        if x.size == 0:
            raise EngineValueError(f"{kind}: the reduced block of shape {x.shape} is empty; there is no {kind}")
        if values.size:
            _kernel(kind, x.dtype)(
                x.ndim,
                cshape,
                _ptr(x),
                cstrides,
                len(axes),
                _ptr(values),
                _cptr(index, "int64_t *") if arg else _NULL,
            )
        if keepdim:
            shape = [1 if i in axes else n for i, n in enumerate(x.shape)]
            values = values.reshape(shape)
            index = index.reshape(shape) if arg else None
        return values, index

    def max(self, x: np.ndarray, axis, keepdim: bool = False, arg: bool = True):
        if not _is_float(x):
            return super().max(x, axis, keepdim, arg)
        return self._extreme("max", x, axis, keepdim, arg)

    def min(self, x: np.ndarray, axis, keepdim: bool = False, arg: bool = True):
        if not _is_float(x):
            return super().min(x, axis, keepdim, arg)
        return self._extreme("min", x, axis, keepdim, arg)

    # ---- matmul --------------------------------------------------------------------------
    @staticmethod
    def _matrix_layout(m: np.ndarray, transposed: bool):
        """(array, leading dim, transpose flag) for the last two axes of ``m`` as the kernel
        wants them: one unit stride and a leading dimension that covers a whole row. A
        transposed view just flips the flag; anything else (broadcast rows, negative or
        overlapping strides) is copied to a compact array first."""
        item = m.itemsize
        rows, cols = m.shape[-2], m.shape[-1]
        s_row, s_col = m.strides[-2] // item, m.strides[-1] // item
        if (s_col == 1 or cols == 1) and (rows == 1 or s_row >= cols):
            return m, (s_row if rows > 1 else cols) or 1, transposed
        if (s_row == 1 or rows == 1) and (cols == 1 or s_col >= rows):
            return m, (s_col if cols > 1 else rows) or 1, not transposed
        return np.ascontiguousarray(m), max(cols, 1), transposed

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
                raise EngineValueError(f"matmul: inner sizes differ ({k} and {kb})")
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
            return super().matmul(a, b, transpose_a, transpose_b)
        if a.ndim < 2 or b.ndim < 2:
            return self._matmul_vectors(a, b, transpose_a, transpose_b)
        m = a.shape[-1] if transpose_a else a.shape[-2]
        k = a.shape[-2] if transpose_a else a.shape[-1]
        kb = b.shape[-1] if transpose_b else b.shape[-2]
        n = b.shape[-2] if transpose_b else b.shape[-1]
        if k != kb:
            raise EngineValueError(f"matmul: inner sizes differ ({k} and {kb})")
        try:
            batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ShapeError(
                f"matmul: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} of shapes {a.shape} and {b.shape} "
                "do not broadcast (each pair of sizes must be equal or 1)"
            ) from None
        batch = 1
        for d in batch_shape:
            batch *= d
        if batch == 0 or m == 0 or n == 0 or k == 0:
            # Nothing to multiply: an empty result, or sums of no products (zeros), as numpy/torch.
            return np.zeros((*batch_shape, m, n), a.dtype)
        a, b = _readable(a), _readable(b)
        a3, bsa = self._batched(a, batch_shape)
        b3, bsb = self._batched(b, batch_shape)
        a_mat, lda, ta = self._matrix_layout(a3, transpose_a)
        b_mat, ldb, tb = self._matrix_layout(b3, transpose_b)
        # A compacted copy has its own batch stride.
        bsa = a_mat.shape[-2] * a_mat.shape[-1] if a_mat is not a3 and bsa else bsa
        bsb = b_mat.shape[-2] * b_mat.shape[-1] if b_mat is not b3 and bsb else bsb
        a3, b3 = a_mat, b_mat
        out = np.empty((*batch_shape, m, n), a.dtype)
        if out.size:
            _kernel("matmul", a.dtype)(
                batch,
                m,
                n,
                k,
                _ptr(a3),
                lda,
                bsa,
                int(ta),
                _ptr(b3),
                ldb,
                bsb,
                int(tb),
                _ptr(out),
                max(n, 1),
                m * n,
                0.0,
            )
        return out

    def _matmul_vectors(self, a: np.ndarray, b: np.ndarray, transpose_a: bool, transpose_b: bool):
        """``@`` with a 1-D operand, as numpy/torch: a vector on the left is a row (1, k), on the
        right a column (k, 1), and that axis is dropped from the result (a transpose flag does
        not change a vector)."""
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        out = self.matmul(a2, b2, transpose_a and a.ndim > 1, transpose_b and b.ndim > 1)
        if a.ndim == 1:
            out = out.reshape(out.shape[:-2] + out.shape[-1:])
        if b.ndim == 1:
            out = out.reshape(out.shape[:-1])
        return out

    @staticmethod
    def _batched(x: np.ndarray, batch_shape: tuple):
        """``x`` as (batch, rows, cols) or a single matrix, and its batch stride in elements
        (0: the same matrix for every batch entry)."""
        if x.ndim == 2:
            return x, 0
        lead = x.shape[:-2]
        if all(d == 1 for d in lead):
            return x.reshape(x.shape[-2:]), 0
        if lead == batch_shape and len(lead) == 1 and x.strides[0] > 0:
            return x, x.strides[0] // x.itemsize
        flat = np.ascontiguousarray(np.broadcast_to(x, (*batch_shape, *x.shape[-2:]))).reshape(-1, *x.shape[-2:])
        return flat, flat.strides[0] // flat.itemsize

    # ---- fused MLP paths -------------------------------------------------------------------
    def linear_forward(self, x, w, bias, act):
        _check_linear(x, w, bias)
        dtype = x.dtype
        if not _is_float(x, w) or w.dtype != dtype or (bias is not None and bias.dtype != dtype):
            return super().linear_forward(x, w, bias, act)
        # Compacting is a no-op on the hot path (every Linear's forward); pointers are made directly.
        x, w = self.contiguous(x), self.contiguous(w)
        at, fb = _FLOATS[dtype][2], ffi.from_buffer
        m, n = x.shape[0], w.shape[0]
        out = np.empty((m, n), dtype)
        _LINEAR_FORWARD[dtype](
            m, x.shape[1], n, fb(at, x), fb(at, w), _NULL if bias is None else fb(at, self.contiguous(bias)),
            _ACT_CODE[act], fb(at, out),
        )
        return out

    def linear_backward(self, x, w, y, gy, act, need_x: bool = True, need_bias: bool = True):
        _check_linear(x, w, None, y)
        dtype = x.dtype
        if not _is_float(x, w, y, gy) or not (w.dtype == y.dtype == gy.dtype == dtype):
            return super().linear_backward(x, w, y, gy, act, need_x, need_bias)
        if gy.shape != y.shape:
            gy = self.expand(gy, y.shape)
        x, w, y, gy = self.contiguous(x), self.contiguous(w), self.contiguous(y), self.contiguous(gy)
        at, fb = _FLOATS[dtype][2], ffi.from_buffer
        m, k = x.shape
        n = w.shape[0]
        gpre = np.empty((m, n), dtype)
        gx = np.empty((m, k), dtype) if need_x else None
        gw = np.empty((n, k), dtype)
        gb = np.empty((n,), dtype) if need_bias else None
        _LINEAR_BACKWARD[dtype](
            m, k, n, fb(at, x), fb(at, w), fb(at, y), fb(at, gy), _ACT_CODE[act], fb(at, gpre),
            _NULL if gx is None else fb(at, gx), fb(at, gw), _NULL if gb is None else fb(at, gb),
        )
        return gx, gw, gb

    def _rows(self, x: np.ndarray, axis: int) -> np.ndarray:
        """``x`` with ``axis`` moved last, contiguous: (rows, cols) for the row kernels."""
        return self.contiguous(np.moveaxis(x, axis, -1))

    @staticmethod
    def _softmax_axis(op: str, shape: tuple, axis: int) -> int:
        """``axis`` of ``shape`` made non-negative; a 0-d tensor has the one axis 0 (or -1), as in PyTorch."""
        nd = max(len(shape), 1)
        if not -nd <= axis < nd:
            raise EngineValueError(f"{op}: dim {axis} is out of range for shape {shape} (valid: {-nd} to {nd - 1})")
        return axis % nd

    def softmax(self, x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
        if not _is_float(x):
            return super().softmax(x, axis, log)
        axis = self._softmax_axis("log_softmax" if log else "softmax", x.shape, axis)
        if x.ndim == 0:  # one element: softmax 1, log_softmax 0 (NaN for NaN or +-inf), as PyTorch
            return self.softmax(x.reshape(1), 0, log).reshape(())
        moved = self._rows(x, axis)
        out = np.empty(moved.shape, x.dtype)
        cols = moved.shape[-1] if moved.ndim else 1
        if out.size:
            _kernel("softmax", x.dtype)(out.size // cols, cols, _ptr(moved), _ptr(out), int(log))
        return np.moveaxis(out, -1, axis)

    def softmax_backward(self, y, gy, axis: int, log: bool = False):
        if not _is_float(y, gy) or y.dtype != gy.dtype:
            return super().softmax_backward(y, gy, axis, log)
        axis = self._softmax_axis("log_softmax backward" if log else "softmax backward", y.shape, axis)
        if y.ndim == 0:
            return self.softmax_backward(y.reshape(1), np.reshape(gy, 1), 0, log).reshape(())
        ym = self._rows(y, axis)
        gm = self._rows(self.expand(gy, y.shape), axis)
        out = np.empty(ym.shape, y.dtype)
        cols = ym.shape[-1] if ym.ndim else 1
        if out.size:
            _kernel("softmax_backward", y.dtype)(out.size // cols, cols, _ptr(ym), _ptr(gm), _ptr(out), int(log))
        return np.moveaxis(out, -1, axis)

    def _check_targets(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        target = np.ascontiguousarray(target, dtype=np.int64)
        if not target.flags.aligned:  # ascontiguousarray keeps a misaligned compact buffer as it is
            target = target.copy()
        rows, cols = logits.shape
        if target.shape != (rows,):
            raise EngineValueError(f"cross_entropy: targets of shape {target.shape} for logits of shape {logits.shape}")
        if rows and (target.min() < 0 or target.max() >= cols):
            bad = int(target.min() if target.min() < 0 else target.max())
            raise EngineValueError(f"cross_entropy: target {bad} is out of bounds for {cols} classes")
        return target

    def cross_entropy(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        if not _is_float(logits):
            return super().cross_entropy(logits, target)
        logits = self.contiguous(logits)
        target = self._check_targets(logits, target)
        out = np.empty(logits.shape[0], logits.dtype)
        if out.size:
            _kernel("cross_entropy", logits.dtype)(
                logits.shape[0], logits.shape[1], _ptr(logits), _cptr(target, "int64_t *"), _ptr(out)
            )
        return out

    def cross_entropy_backward(self, logits, target, gloss):
        if not _is_float(logits):
            return super().cross_entropy_backward(logits, target, gloss)
        logits = self.contiguous(logits)
        target = self._check_targets(logits, target)
        gloss = self.contiguous(self.expand(self._operand(gloss, logits), (logits.shape[0],)))
        out = np.empty(logits.shape, logits.dtype)
        if out.size:
            _kernel("cross_entropy_backward", logits.dtype)(
                logits.shape[0], logits.shape[1], _ptr(logits), _cptr(target, "int64_t *"), _ptr(gloss), _ptr(out)
            )
        return out

    # ---- difference losses ---------------------------------------------------------------------
    def difference_loss(self, kind: str, a, b, mean: bool):
        if not _is_float(a, b) or a.dtype != b.dtype or a.shape != b.shape:
            return super().difference_loss(kind, a, b, mean)  # broadcasting, or integers: the reference
        a, b = self.contiguous(a), self.contiguous(b)
        diff = np.empty(a.shape, a.dtype)
        loss = np.empty((), a.dtype)
        divisor = a.size if mean else 1
        _kernel("diff_loss", a.dtype)(_LOSS_CODE[kind], a.size, _ptr(a), _ptr(b), divisor, _ptr(diff), _ptr(loss))
        return diff, loss

    def difference_loss_backward(self, kind: str, diff, g, mean: bool):
        if not _is_float(diff) or g.__class__ is not np.ndarray or g.dtype != diff.dtype or g.ndim:
            return super().difference_loss_backward(kind, diff, g, mean)  # per-item g (reduction none)
        diff, g = self.contiguous(diff), self.contiguous(g)
        ga = np.empty(diff.shape, diff.dtype)
        divisor = diff.size if mean else 1
        _kernel("diff_loss_backward", diff.dtype)(_LOSS_CODE[kind], diff.size, _ptr(diff), _ptr(g), divisor, _ptr(ga))
        return ga

    # ---- optimizers, in place ----------------------------------------------------------------
    def _update_operands(self, p, *arrays):
        flags = p.flags
        if not (flags.c_contiguous and flags.aligned) or not _is_float(p):
            return None
        out = []
        for a in arrays:
            if a is None:
                out.append(None)
                continue
            a = self.contiguous(self.expand(a, p.shape)) if a.shape != p.shape else self.contiguous(a)
            if a.dtype != p.dtype:
                raise DTypeError(f"optimizer update: parameter is {p.dtype} but its gradient/state is {a.dtype}")
            out.append(a)
        return out

    def sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first) -> None:
        _check_state("sgd", p, buf)
        fp = p.flags
        fbuf = None if buf is None else buf.flags
        if not fp.writeable or (fbuf is not None and not fbuf.writeable):
            _check_writable("sgd update", "parameter", p)
            _check_writable("sgd update", "momentum buffer", buf)
        if not (_is_float(p) and fp.c_contiguous and fp.aligned) or (
            fbuf is not None and not (fbuf.c_contiguous and fbuf.aligned)
        ):  # a strided or misaligned target: numpy updates it in place
            return super().sgd_update(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first)
        fg = g.flags if g.__class__ is np.ndarray else None
        if fg is None or g.shape != p.shape or g.dtype != p.dtype or not (fg.c_contiguous and fg.aligned):
            (g,) = self._update_operands(p, g)  # broadcast, compact, or a clear dtype error
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
        operands = self._update_operands(p, g)
        fm, fv = m.flags, v.flags
        if operands is None or not (fm.c_contiguous and fv.c_contiguous and fm.aligned and fv.aligned):
            return super().adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)
        (g,) = operands
        _kernel("adam", p.dtype)(p.size, _ptr(p), _ptr(g), _ptr(m), _ptr(v), lr, beta1, beta2, eps, weight_decay, step)

    # ---- indexing ----------------------------------------------------------------------------
    def index_backward(self, g: np.ndarray, shape: tuple, key) -> np.ndarray:
        """Row scatter-add in C for ``x[int_array]``; other keys use the numpy reference."""
        idx = key[0] if isinstance(key, tuple) and len(key) == 1 else None
        if (
            isinstance(idx, np.ndarray)
            and idx.dtype.kind in "iu"
            and idx.ndim == 1
            and _is_float(g)
            and len(shape) >= 1
        ):
            rowlen = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            out = np.zeros(shape, g.dtype)
            src = self.contiguous(g)
            index = np.ascontiguousarray(idx, dtype=np.int64)
            if not index.flags.aligned:
                index = index.copy()
            if index.size and rowlen:
                if index.min() < 0 or index.max() >= shape[0]:
                    raise EngineValueError(f"index: an index is out of bounds for dimension 0 with size {shape[0]}")
                _kernel("scatter_add_rows", g.dtype)(
                    index.size, rowlen, _cptr(index, "int64_t *"), _ptr(src), _ptr(out)
                )
            return out
        return super().index_backward(g, shape, key)


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
