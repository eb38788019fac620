"""The ``cuda`` device: tensors resident in GPU memory, primitives run by numba CUDA kernels.

An array here is a ``CudaArray``: a view (shape, element strides, element offset) into a flat
device buffer, as needle's NDArray. Views (reshape of compact data, permute, expand, basic
slicing) are made in Python without touching the GPU; computations launch the kernels of
``engine._kernels`` (the repository's kernels/ folder), which read strided views in place.
Only ``to_numpy`` (``.numpy()``, ``.item()``, ``.tolist()``, ``.cpu()``) copies back to the host.

numba is imported when this module is, i.e. the first time the ``cuda`` device is used:
``import engine`` never imports it. With numba's simulator (``NUMBA_ENABLE_CUDASIM=1``) the same
kernels run on the CPU, which is how the suite tests them without a GPU.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from engine.backends.base import ACTIVATIONS, Backend, check_sgd_buffer
from engine.backends.layout import broadcast_shapes
from engine.errors import DeviceError, ShapeError

try:
    from numba import cuda
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "numba is not installed; install the cuda extra: pip install 'backprop-engine[cuda]'"
    ) from exc

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def why_unavailable() -> str | None:
    """None when numba can run kernels here (a GPU, or the simulator), else one line saying why."""
    if SIMULATOR:
        return None
    try:
        if cuda.is_available():
            return None
        return "numba finds no CUDA GPU or driver on this machine (cuda.is_available() is False)"
    except Exception as exc:  # a driver numba cannot use
        return f"numba cannot use the CUDA driver: {type(exc).__name__}: {exc}"


_reason = why_unavailable()
if _reason is not None:
    raise ImportError(_reason)
if SIMULATOR:
    import warnings

    # The simulator runs the kernels as Python on numpy scalars, which warn on 1/0, 0/0 and
    # overflow; a GPU gives IEEE's answers (inf, NaN) silently, and so does the simulated device.
    # (The simulator re-issues them as "tid=[..] ctaid=[..]: ..." from the kernel's file, so the
    # module is the file's path: .../kernels/elementwise.)
    warnings.filterwarnings("ignore", message=r".*encountered in", category=RuntimeWarning,
                            module=r".*_?kernels[./]")

from engine._kernels import elementwise as _ew  # noqa: E402  (numba must be usable first)
from engine.backends import cuda_memory  # noqa: E402

cuda_memory.install()


def _compact_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _size(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class CudaArray:
    """A strided view into a flat device buffer (a 1-D numba device array of ``dtype``).

    ``shape`` and ``strides`` (in elements, 0 on a broadcast axis, negative for a reversed
    slice) locate element ``(i, j, ...)`` at ``buffer[offset + i*strides[0] + j*strides[1] ...]``.
    ``base`` is the array this one is a view of (None when it owns its buffer).
    """

    __slots__ = ("buffer", "shape", "strides", "offset", "dtype", "size", "ndim", "base", "__weakref__")

    def __init__(self, buffer, shape: tuple, strides: tuple | None = None, offset: int = 0, base=None) -> None:
        self.buffer = buffer
        self.shape = tuple(shape)
        self.strides = _compact_strides(self.shape) if strides is None else tuple(strides)
        self.offset = offset
        self.dtype = np.dtype(buffer.dtype)
        self.size = _size(self.shape)
        self.ndim = len(self.shape)
        self.base = base

    @property
    def view(self) -> tuple:
        """The (buffer, offset, strides) tuple the kernels take."""
        return (self.buffer, self.offset, self.strides)

    def is_compact(self) -> bool:
        return all(n == 1 or s == c for n, s, c in zip(self.shape, self.strides, _compact_strides(self.shape)))

    @property
    def __cuda_array_interface__(self) -> dict:
        """Version 3 of numba's interface: other libraries (PyTorch, CuPy) wrap this memory without a copy."""
        item = self.dtype.itemsize
        pointer = _address(self.buffer) + self.offset * item
        strides = None if self.is_compact() else tuple(s * item for s in self.strides)
        return {"shape": self.shape, "strides": strides, "data": (pointer, False),
                "typestr": self.dtype.str, "version": 3}

    def __repr__(self) -> str:
        return f"CudaArray(shape={self.shape}, dtype={self.dtype}, strides={self.strides}, offset={self.offset})"


def _address(buffer) -> int:
    """The device address of a flat buffer's first element (a host address under the simulator,
    whose device arrays are numpy arrays in disguise)."""
    if SIMULATOR:
        return buffer._ary.ctypes.data
    return buffer.__cuda_array_interface__["data"][0]


def wrap_interface(obj: Any) -> CudaArray:
    """A ``CudaArray`` over the memory of any object exposing ``__cuda_array_interface__`` (a
    PyTorch or CuPy CUDA tensor), without a copy; ``obj`` is kept alive by the buffer."""
    desc = obj.__cuda_array_interface__
    dtype = np.dtype(desc["typestr"])
    shape = tuple(desc["shape"])
    item = dtype.itemsize
    if desc.get("strides") is None:
        strides = _compact_strides(shape)
    else:
        if any(s % item for s in desc["strides"]):
            raise DeviceError(f"as_tensor: strides {desc['strides']} are not whole {dtype} elements")
        strides = tuple(s // item for s in desc["strides"])
    pointer = desc["data"][0]
    if _size(shape) == 0:
        return CudaArray(cuda.device_array(1, dtype=dtype), shape)
    low = sum(s * (n - 1) for n, s in zip(shape, strides) if s < 0)
    high = sum(s * (n - 1) for n, s in zip(shape, strides) if s > 0)
    span = high - low + 1
    start = pointer + low * item
    if SIMULATOR:
        import ctypes

        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

        raw = (ctypes.c_char * (span * item)).from_address(start)
        buffer = FakeCUDAArray(np.frombuffer(raw, dtype=dtype))
        buffer._owner = obj  # keep the memory's owner alive as long as the view
    else:
        flat = {"shape": (span,), "strides": None, "data": (start, False), "typestr": dtype.str, "version": 3}
        buffer = cuda.from_cuda_array_interface(flat, owner=obj)
    return CudaArray(buffer, shape, strides, -low)


def _empty(shape: tuple, dtype) -> CudaArray:
    dtype = np.dtype(dtype)
    return CudaArray(cuda.device_array(max(_size(shape), 1), dtype=dtype), shape)


def _is_number(x: Any) -> bool:
    return not isinstance(x, CudaArray)


class CudaBackend(Backend):
    """The primitives of ``base.Backend`` on the GPU (see each method's contract there)."""

    name = "cuda"

    # ---- storage and transfer -----------------------------------------------------------------
    def from_numpy(self, array: np.ndarray) -> CudaArray:
        host = np.ascontiguousarray(array).reshape(-1) if array.size else np.zeros(1, array.dtype)
        return CudaArray(cuda.to_device(host), array.shape)

    def wrap_interface(self, obj: Any) -> CudaArray:
        """Another library's CUDA array, as ours, sharing its memory (``engine.as_tensor``)."""
        return wrap_interface(obj)

    def to_numpy(self, x: CudaArray) -> np.ndarray:
        compact = x if (x.is_compact() and x.offset == 0 and x.buffer.size == max(x.size, 1)) else self.copy(x)
        host = compact.buffer.copy_to_host()
        return host[: x.size].reshape(x.shape)

    def full(self, shape: tuple, value: float, dtype) -> CudaArray:
        out = _empty(shape, dtype)
        _ew.fill(out.view, out.shape, value)
        return out

    def copy(self, x: CudaArray) -> CudaArray:
        out = _empty(x.shape, x.dtype)
        _ew.copy(x.view, x.shape, out.buffer)
        return out

    def astype(self, x: CudaArray, dtype) -> CudaArray:
        out = _empty(x.shape, dtype)
        _ew.copy(x.view, x.shape, out.buffer)
        return out

    # ---- layout -------------------------------------------------------------------------------
    def is_contiguous(self, x: CudaArray) -> bool:
        return x.is_compact()

    def is_view(self, x: CudaArray) -> bool:
        return x.base is not None

    def internal_overlap(self, x: CudaArray) -> bool:
        return x.size > 1 and any(s == 0 and n > 1 for n, s in zip(x.shape, x.strides))

    def reshape(self, x: CudaArray, shape: tuple) -> CudaArray:
        if not x.is_compact():
            x = self.copy(x)
            return CudaArray(x.buffer, shape, None, x.offset)
        return CudaArray(x.buffer, shape, None, x.offset, base=x)

    def permute(self, x: CudaArray, axes: tuple) -> CudaArray:
        return CudaArray(x.buffer, tuple(x.shape[a] for a in axes), tuple(x.strides[a] for a in axes), x.offset, x)

    def expand(self, x: CudaArray, shape: tuple) -> CudaArray:
        shape = tuple(shape)
        if x.shape == shape:
            return x
        lead = len(shape) - x.ndim
        strides = [0] * lead + [0 if (n == 1 and m != 1) else s for n, m, s in zip(x.shape, shape[lead:], x.strides)]
        return CudaArray(x.buffer, shape, tuple(strides), x.offset, x)

    # ---- elementwise --------------------------------------------------------------------------
    def _operands(self, *operands):
        """The broadcast shape and each operand as a kernel view (or the number it is)."""
        arrays = [o for o in operands if isinstance(o, CudaArray)]
        shape = broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        views = []
        for o in operands:
            if isinstance(o, CudaArray):
                views.append(self.expand(o, shape).view if o.shape != shape else o.view)
            elif isinstance(o, np.ndarray):
                raise DeviceError("cuda: a host numpy array reached a GPU kernel; move it with .to('cuda') first")
            else:
                views.append(o)
        return shape, views

    def unary(self, op: str, x: CudaArray, alpha: float = 0.0) -> CudaArray:
        out = _empty(x.shape, x.dtype)
        _ew.unary(op, x.view, x.shape, out.buffer, alpha)
        return out

    def binary(self, op: str, a, b) -> CudaArray:
        shape, (va, vb) = self._operands(a, b)
        dtype = (a if isinstance(a, CudaArray) else b).dtype
        out = _empty(shape, dtype)
        _ew.binary(op, va, vb, shape, out.buffer)
        return out

    def compare(self, op: str, a, b) -> CudaArray:
        shape, (va, vb) = self._operands(a, b)
        out = _empty(shape, np.bool_)
        _ew.binary(op, va, vb, shape, out.buffer, compare=True)
        return out

    def where(self, cond: CudaArray, a, b) -> CudaArray:
        shape, (vc, va, vb) = self._operands(cond, a, b)
        dtype = a.dtype if isinstance(a, CudaArray) else b.dtype if isinstance(b, CudaArray) else np.result_type(a, b)
        out = _empty(shape, dtype)
        _ew.where(vc, va, vb, shape, out.buffer)
        return out

    # ---- reductions -----------------------------------------------------------------------------
    def sum(self, x: CudaArray, axes: tuple | None, keepdim: bool = False) -> CudaArray:
        from engine._kernels import reduce as _red

        axes = tuple(range(x.ndim)) if axes is None else tuple(sorted(axes))
        if x.dtype == np.bool_:
            x = self.astype(x, np.int64)
        kept = tuple(n for i, n in enumerate(x.shape) if i not in axes)
        out = _empty(kept, x.dtype)
        _red.sum(x.view, x.shape, axes, out.buffer)
        if keepdim:
            return CudaArray(out.buffer, tuple(1 if i in axes else n for i, n in enumerate(x.shape)))
        return out

    def _extreme(self, kind: str, x: CudaArray, axis, keepdim: bool, arg: bool):
        from engine._kernels import reduce as _red

        if axis is None:
            kept = (1,) * x.ndim if keepdim else ()
        else:
            kept = tuple(1 if i == axis else n for i, n in enumerate(x.shape)) if keepdim else tuple(
                n for i, n in enumerate(x.shape) if i != axis)
        values = _empty(kept, x.dtype)
        index = _empty(kept, np.int64) if arg else None
        _red.extreme(kind, x.view, x.shape, axis, values.buffer, index.buffer if arg else None)
        return values, index

    def max(self, x: CudaArray, axis, keepdim: bool = False, arg: bool = True):
        return self._extreme("max", x, axis, keepdim, arg)

    def min(self, x: CudaArray, axis, keepdim: bool = False, arg: bool = True):
        return self._extreme("min", x, axis, keepdim, arg)

    def scan(self, op: str, x: CudaArray, axis: int) -> CudaArray:
        """A kernel thread per row walks it in order (engine/_kernels/scan.py)."""
        from engine._kernels import scan as _scan

        out = _empty(x.shape, x.dtype)
        if x.ndim == 0:
            _ew.copy(x.view, x.shape, out.buffer)
        else:
            _scan.scan(op, x.view, x.shape, axis, out.buffer)
        return out

    def sort(self, x: CudaArray, axis: int, descending: bool = False):
        """A kernel thread per element finds its rank in its row (engine/_kernels/sort.py); bools
        are sorted as uint8."""
        from engine._kernels import sort as _sort

        if x.dtype == np.bool_:
            values, index = self.sort(self.astype(x, np.uint8), axis, descending)
            return self.astype(values, np.bool_), index
        values, index = _empty(x.shape, x.dtype), _empty(x.shape, np.int64)
        if x.ndim == 0:
            _ew.copy(x.view, x.shape, values.buffer)
            _ew.fill(index.view, index.shape, 0)
        else:
            _sort.sort(x.view, x.shape, axis, descending, values.buffer, index.buffer)
        return values, index

    # ---- matmul -----------------------------------------------------------------------------------
    def matmul(self, a: CudaArray, b: CudaArray, transpose_a: bool = False, transpose_b: bool = False) -> CudaArray:
        from engine._kernels import matmul as _mm

        if a.ndim < 2 or b.ndim < 2:
            raise ShapeError(
                f"matmul: the cuda primitive takes operands of 2 or more dims, got {a.shape} and {b.shape}"
            )
        m = a.shape[-1] if transpose_a else a.shape[-2]
        k = a.shape[-2] if transpose_a else a.shape[-1]
        kb = b.shape[-1] if transpose_b else b.shape[-2]
        n = b.shape[-2] if transpose_b else b.shape[-1]
        if k != kb:
            raise ShapeError(f"matmul: inner sizes differ ({k} and {kb}) for shapes {a.shape} and {b.shape}")
        batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = _empty((*batch, m, n), a.dtype)
        if out.size:
            _mm.matmul(a.view, b.view, a.shape, b.shape, transpose_a, transpose_b, out.buffer)
        return out

    # ---- indexing and data movement ------------------------------------------------------------------
    def _basic_view(self, x: CudaArray, key: tuple) -> CudaArray | None:
        """``x[key]`` as a view when the key holds only ints, slices, None and ...; else None."""
        if any(isinstance(k, np.ndarray) for k in key):
            return None
        used = sum(1 for k in key if k is not None and k is not Ellipsis)
        shape, strides, offset, dim = [], [], x.offset, 0
        for k in key:
            if k is Ellipsis:
                for _ in range(x.ndim - used):
                    shape.append(x.shape[dim])
                    strides.append(x.strides[dim])
                    dim += 1
            elif k is None:
                shape.append(1)
                strides.append(0)
            elif isinstance(k, slice):
                start, stop, step = k.indices(x.shape[dim])
                count = len(range(start, stop, step))
                shape.append(count)
                strides.append(x.strides[dim] * step)
                offset += (start if count else 0) * x.strides[dim]
                dim += 1
            else:
                i = int(k)
                offset += (i + x.shape[dim] if i < 0 else i) * x.strides[dim]
                dim += 1
        shape += x.shape[dim:]
        strides += x.strides[dim:]
        return CudaArray(x.buffer, tuple(shape), tuple(strides), offset, x)

    def _offsets(self, x: CudaArray, key: tuple) -> np.ndarray:
        """The buffer offsets of the elements ``x[key]`` selects, computed on the host (keys are host
        arrays by the contract): numpy indexes a grid of x's element offsets with the key itself, so
        every rule of numpy's advanced indexing holds."""
        grid = np.full(x.shape, x.offset, dtype=np.int64)
        for axis, (n, s) in enumerate(zip(x.shape, x.strides)):
            ramp = np.arange(n, dtype=np.int64) * s
            grid += ramp.reshape((n,) + (1,) * (x.ndim - axis - 1))
        return np.ascontiguousarray(grid[key])  # a basic part of the key can leave a strided view

    def getitem(self, x: CudaArray, key: tuple) -> CudaArray:
        view = self._basic_view(x, key)
        if view is not None:
            return view
        from engine._kernels import index as _ix

        offsets = self._offsets(x, key)
        out = _empty(offsets.shape, x.dtype)
        if out.size:
            _ix.take(x.buffer, cuda.to_device(offsets.reshape(-1)), out.buffer)
        return out

    def setitem(self, x: CudaArray, key: tuple, value) -> None:
        view = self._basic_view(x, key)
        if view is not None:
            if isinstance(value, CudaArray):
                _ew.assign(view.view, self.expand(value, view.shape).view, view.shape)
            else:
                _ew.fill(view.view, view.shape, value)
            return
        from engine._kernels import index as _ix

        offsets = self._offsets(x, key)
        if offsets.size == 0:
            return
        src = value if isinstance(value, CudaArray) else self.full((), value, x.dtype)
        if src.dtype != x.dtype:
            src = self.astype(src, x.dtype)
        _ix.put(x.buffer, cuda.to_device(offsets.reshape(-1)), self.expand(src, offsets.shape).view, offsets.shape)

    def index_add(self, shape: tuple, key: tuple, g: CudaArray) -> CudaArray:
        from engine._kernels import index as _ix

        out = self.zeros(shape, g.dtype)
        offsets = self._offsets(out, key)
        if offsets.size:
            _ix.add_at(out.buffer, cuda.to_device(offsets.reshape(-1)), self.expand(g, offsets.shape).view,
                       offsets.shape)
        return out

    def gather(self, x: CudaArray, axis: int, index: CudaArray) -> CudaArray:
        from engine._kernels import index as _ix

        out = _empty(index.shape, x.dtype)
        if out.size:
            _ix.gather(x.view, x.shape, axis, index.view, index.shape, out.buffer)
        return out

    def scatter_add(self, shape: tuple, axis: int, index: CudaArray, src: CudaArray) -> CudaArray:
        from engine._kernels import index as _ix

        out = self.zeros(shape, src.dtype)
        if index.size:
            _ix.scatter_add(out.buffer, shape, axis, index.view, index.shape, src.view)
        return out

    def concatenate(self, arrays: list, axis: int) -> CudaArray:
        shape = list(arrays[0].shape)
        shape[axis] = sum(a.shape[axis] for a in arrays)
        out = _empty(tuple(shape), arrays[0].dtype)
        start = 0
        for a in arrays:
            key = (slice(None),) * axis + (slice(start, start + a.shape[axis]),)
            part = self._basic_view(out, key)
            _ew.assign(part.view, a.view, part.shape)
            start += a.shape[axis]
        return out

    def fill(self, x: CudaArray, value) -> None:
        _ew.fill(x.view, x.shape, value)

    # ---- fast paths -------------------------------------------------------------------------------
    def linear_forward(self, x, w, bias, act):
        from engine._kernels import neural as _nn

        if act not in ACTIVATIONS or x.dtype != w.dtype:
            return Backend.linear_forward(self, x, w, bias, act)
        x, w = self.contiguous(x), self.contiguous(w)
        bias = None if bias is None else self.contiguous(bias)
        m, k = x.shape
        n = w.shape[0]
        out = _empty((m, n), x.dtype)
        if out.size:
            _nn.linear_forward(_flat(x), _flat(w), None if bias is None else _flat(bias), act, out.buffer, m, k, n)
        return out

    def linear_backward(self, x, w, y, gy, act, need_x: bool = True, need_bias: bool = True):
        from engine._kernels import neural as _nn

        if act not in ACTIVATIONS:
            return NotImplemented
        x, w, y = self.contiguous(x), self.contiguous(w), self.contiguous(y)
        gy = self.contiguous(self.expand(gy, y.shape))
        m, k = x.shape
        n = w.shape[0]
        gx = _empty((m, k), x.dtype) if need_x else None
        gw = _empty((n, k), x.dtype)
        gb = _empty((n,), x.dtype) if need_bias else None
        _nn.linear_backward(_flat(x), _flat(w), _flat(y), _flat(gy), act, None if gx is None else gx.buffer,
                            gw.buffer, None if gb is None else gb.buffer, m, k, n)
        return gx, gw, gb

    def _rows(self, x: CudaArray, axis: int) -> tuple[CudaArray, tuple]:
        """``x`` with ``axis`` moved last, compact: (rows, cols) for the row kernels, and the
        permutation that puts the result back."""
        if x.ndim == 0:
            return self.reshape(x, (1, 1)), ()
        order = [i for i in range(x.ndim) if i != axis] + [axis]
        moved = self.contiguous(self.permute(x, tuple(order)))
        inverse = tuple(order.index(i) for i in range(x.ndim))
        return moved, inverse

    def _unrows(self, out: CudaArray, moved_shape: tuple, inverse: tuple, shape: tuple) -> CudaArray:
        if not shape:
            return self.reshape(out, ())
        return self.contiguous(self.permute(CudaArray(out.buffer, moved_shape), inverse))

    def softmax(self, x: CudaArray, axis: int, log: bool = False) -> CudaArray:
        from engine._kernels import neural as _nn

        if x.size == 0:
            return self.copy(x)
        moved, inverse = self._rows(x, axis)
        cols = moved.shape[-1] if moved.ndim else 1
        out = _empty(moved.shape, x.dtype)
        _nn.softmax(_flat(moved), moved.size // cols, cols, out.buffer, log)
        return self._unrows(out, moved.shape, inverse, x.shape)

    def softmax_backward(self, y, gy, axis: int, log: bool = False):
        from engine._kernels import neural as _nn

        if y.size == 0:
            return self.copy(y)
        ym, inverse = self._rows(y, axis)
        gm, _ = self._rows(self.expand(gy, y.shape), axis)
        cols = ym.shape[-1] if ym.ndim else 1
        out = _empty(ym.shape, y.dtype)
        _nn.softmax_backward(_flat(ym), _flat(gm), ym.size // cols, cols, out.buffer, log)
        return self._unrows(out, ym.shape, inverse, y.shape)

    def cross_entropy(self, logits, target):
        from engine._kernels import neural as _nn

        logits, target = self.contiguous(logits), self.contiguous(target)
        rows, cols = logits.shape
        out = _empty((rows,), logits.dtype)
        if rows:
            _nn.cross_entropy(_flat(logits), _flat(target), rows, cols, out.buffer)
        return out

    def cross_entropy_backward(self, logits, target, gloss):
        from engine._kernels import neural as _nn

        logits, target = self.contiguous(logits), self.contiguous(target)
        rows, cols = logits.shape
        if not isinstance(gloss, CudaArray):
            gloss = self.full((), gloss, logits.dtype)
        gloss = self.contiguous(gloss)
        out = _empty((rows, cols), logits.dtype)
        if rows:
            _nn.cross_entropy_backward(_flat(logits), _flat(target), _flat(gloss), rows, cols, out.buffer)
        return out

    def difference_loss(self, kind: str, a, b, mean: bool):
        from engine._kernels import neural as _nn

        if a.shape != b.shape or a.dtype != b.dtype:
            return Backend.difference_loss(self, kind, a, b, mean)
        a, b = self.contiguous(a), self.contiguous(b)
        diff = _empty(a.shape, a.dtype)
        loss = _empty((), a.dtype)
        _nn.difference_loss(kind, _flat(a), _flat(b), a.size, float(a.size) if mean else 1.0, _flat(diff),
                            loss.buffer)
        return diff, loss

    def difference_loss_backward(self, kind: str, diff, g, mean: bool):
        from engine._kernels import neural as _nn

        if not isinstance(g, CudaArray) or g.size != 1:
            return NotImplemented
        diff, g = self.contiguous(diff), self.contiguous(g)
        out = _empty(diff.shape, diff.dtype)
        _nn.difference_loss_backward(kind, _flat(diff), _flat(g), diff.size, float(diff.size) if mean else 1.0,
                                     out.buffer)
        return out

    def sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first) -> None:
        from engine._kernels import optim as _opt

        check_sgd_buffer(momentum, buf)
        if not p.is_compact() or (buf is not None and not buf.is_compact()):
            return Backend.sgd_update(self, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first)
        g = self.contiguous(self.expand(g, p.shape))
        _opt.sgd(_flat(p), _flat(g), None if buf is None else _flat(buf), p.size, lr, momentum, dampening,
                 weight_decay, nesterov, first)

    def adam_update(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step) -> None:
        from engine._kernels import optim as _opt

        if not (p.is_compact() and m.is_compact() and v.is_compact()):
            return Backend.adam_update(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)
        g = self.contiguous(self.expand(g, p.shape))
        _opt.adam(_flat(p), _flat(g), _flat(m), _flat(v), p.size, lr, beta1, beta2, eps, weight_decay, step)


def _flat(x: CudaArray):
    """The compact array's elements as a 1-D device array (a slice of its buffer: no copy)."""
    if x.offset == 0 and x.buffer.size == x.size:
        return x.buffer
    return x.buffer[x.offset : x.offset + x.size]

