"""Layout planning for compiled backends: how a kernel walks its operands, worked out in pure Python.

A compiled kernel (the C library now, CUDA next) sees raw buffers, sizes and element strides,
never an array object. Everything between "an array of this shape and these strides" and
"the numbers a kernel is called with" is decided here, once, for every such backend:

* ``broadcast_shapes``, ``broadcast_strides``, ``elementwise``: numpy's broadcasting as
  per-operand element strides (0 on a repeated axis), and whether every operand can be walked
  as one flat run (the fast case the kernels specialise on).
* ``normalize_axes``, ``reduction``: the kept axes first and the reduced ones last, as the
  reduction kernels want them (a free permutation of shape and strides).
* ``matmul_shapes``, ``gemm_operand``: the GEMM's M, N, K and batch, and for each operand the
  leading dimension, the transpose flag and the batch stride, or which copy is needed first.
* ``rows``: an axis of any tensor as the (rows, cols) block the row kernels (softmax) take.
* ``take_along_axis``, ``scatter_along_axis``: gather / scatter-add along one axis as strides.

Numbers in, numbers out: shapes and strides are tuples of ints, strides count elements (not
bytes), nothing here imports numpy or looks at an array. A user's mistake raises the engine's
one-line errors (``ShapeError``, ``EngineValueError``), naming ``op``.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.errors import EngineValueError, ShapeError

Shape = tuple  # of ints >= 0
Strides = tuple  # of ints, in elements; may be 0 (broadcast) or negative


# ---- shapes and strides ------------------------------------------------------------------------------


def size_of(shape: Shape) -> int:
    """The number of elements: the product of the sizes (1 for the 0-d shape ())."""
    n = 1
    for d in shape:
        n *= d
    return n


def broadcast_shapes(*shapes: Shape) -> Shape:
    """numpy's broadcasting: shapes are aligned at the right, and on each axis the sizes must be
    equal or 1 (a missing axis counts as 1); the result has the larger size.

    Raises ValueError with numpy's message when two sizes clash, e.g.
    ``broadcast_shapes((2,), (3,))``: "shape mismatch: ... arg 0 with shape (2,) and arg 1 with
    shape (3,)."
    """
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    owner = [None] * ndim  # which argument set each axis to its size (for the message)
    for i, shape in enumerate(shapes):
        lead = ndim - len(shape)
        for d, n in enumerate(shape):
            axis = lead + d
            if n == 1 or n == out[axis]:
                continue
            if out[axis] == 1:
                out[axis], owner[axis] = n, i
                continue
            j = owner[axis]
            raise ValueError(
                "shape mismatch: objects cannot be broadcast to a single shape.  Mismatch is between "
                f"arg {j} with shape {tuple(shapes[j])} and arg {i} with shape {tuple(shape)}."
            )
    return tuple(out)


def compact_strides(shape: Shape) -> Strides:
    """Element strides of a compact C-order array: the last axis moves by 1."""
    strides = [0] * len(shape)
    step = 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def element_strides(shape: Shape, byte_strides: Strides, itemsize: int) -> Strides | None:
    """Byte strides as element strides, or None when one is not a whole number of items (a field
    of a packed structured array: such memory needs a compact copy before a kernel reads it).
    The stride of an axis of size 0 or 1 never moves, so it comes back as 0."""
    out = []
    for n, s in zip(shape, byte_strides):
        if n <= 1:
            out.append(0)
        elif s % itemsize:
            return None
        else:
            out.append(s // itemsize)
    return tuple(out)


def is_compact(shape: Shape, strides: Strides) -> bool:
    """Whether (shape, strides) is a compact C-order layout (axes of size 1 may have any stride)."""
    step = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 0:
            return True
        if n != 1 and s != step:
            return False
        step *= n
    return True


def broadcast_strides(shape: Shape, strides: Strides, out_shape: Shape) -> Strides:
    """An operand's element strides over ``out_shape`` (which it broadcasts to): its own strides
    on its own axes, 0 on the axes it is repeated over (size 1, or missing at the left)."""
    lead = len(out_shape) - len(shape)
    out = [0] * len(out_shape)
    for d, (n, s) in enumerate(zip(shape, strides)):
        if n != 1:
            out[lead + d] = s
    return tuple(out)


# ---- elementwise ---------------------------------------------------------------------------------------


class Elementwise(NamedTuple):
    """How an elementwise kernel walks its operands. ``shape`` is the output's shape; the kernel
    loops over ``loop`` (``(size,)`` when every operand is one flat run: compact and of the
    output's shape, or a single element), with ``strides[i]`` the element strides of operand i
    over ``loop``."""

    shape: Shape
    loop: Shape
    strides: tuple


def elementwise(op: str, *operands: tuple) -> Elementwise:
    """The plan for an elementwise kernel over ``operands``, each a (shape, strides) pair, with
    numpy's broadcasting. A ShapeError names ``op`` when the shapes do not broadcast.

    Flat case (one loop, no index arithmetic): every operand either has the output's shape and is
    compact, or holds one element (stride 0). Otherwise every operand gets its broadcast strides
    over the output shape; the kernel's iterator merges the axes it can.
    """
    shapes = [shape for shape, _ in operands]
    try:
        out = shapes[0] if all(s == shapes[0] for s in shapes) else broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            f"{op}: shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast "
            "(on each axis, from the right, the sizes must be equal or 1)"
        ) from None
    flat = []
    for shape, strides in operands:
        if shape == out and is_compact(shape, strides):
            flat.append((1,))
        elif size_of(shape) == 1:
            flat.append((0,))
        else:
            break
    else:
        return Elementwise(out, (size_of(out),), tuple(flat))
    return Elementwise(out, out, tuple(broadcast_strides(s, st, out) for s, st in operands))


# ---- reductions ----------------------------------------------------------------------------------------


def normalize_axis(op: str, axis: int, ndim: int) -> int:
    """``axis`` in [0, ndim) (a negative one counts from the end); a 0-d array has the one axis 0
    (or -1), as in PyTorch."""
    nd = max(ndim, 1)
    if not -nd <= axis < nd:
        raise EngineValueError(f"{op}: dim {axis} is out of range for a {ndim}-d tensor (valid: {-nd} to {nd - 1})")
    return axis % nd


def normalize_axes(op: str, axes, ndim: int) -> tuple:
    """``axes`` (None: all of them) as sorted, distinct, non-negative axes of an ``ndim``-d array."""
    if axes is None:
        return tuple(range(ndim))
    out = set()
    for a in axes:
        if not (-ndim <= a < ndim or (ndim == 0 and a in (0, -1))):
            valid = f"{-ndim} to {ndim - 1}" if ndim else "0 or -1"
            raise EngineValueError(f"{op}: dim {a} is out of range for a {ndim}-d tensor (valid: {valid})")
        if ndim:
            out.add(a % ndim)
    return tuple(sorted(out))


class Reduction(NamedTuple):
    """A reduction kernel's view of its input: ``shape``/``strides`` with the kept axes first and
    the ``nred`` reduced axes last; it writes a compact array of ``kept_shape``, which is the
    result, seen as ``out_shape`` (keepdim: the reduced axes kept as 1). ``reduced`` counts the
    elements of each reduced block."""

    shape: Shape
    strides: Strides
    nred: int
    kept_shape: Shape
    out_shape: Shape
    reduced: int


def reduction(shape: Shape, strides: Strides, axes: tuple, keepdim: bool) -> Reduction:
    """The plan for reducing ``axes`` (normalised, see ``normalize_axes``) of (shape, strides)."""
    kept = [d for d in range(len(shape)) if d not in axes]
    order = kept + list(axes)
    kept_shape = tuple(shape[d] for d in kept)
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(shape)) if keepdim else kept_shape
    return Reduction(
        tuple(shape[d] for d in order),
        tuple(strides[d] for d in order),
        len(axes),
        kept_shape,
        out_shape,
        size_of(tuple(shape[d] for d in axes)),
    )


# ---- matrix products -----------------------------------------------------------------------------------


class Matmul(NamedTuple):
    """The sizes of ``op(a) @ op(b)``: batch axes (broadcast), their product, and M, N, K."""

    batch_shape: Shape
    batch: int
    m: int
    n: int
    k: int

    @property
    def out_shape(self) -> Shape:
        return (*self.batch_shape, self.m, self.n)


def matmul_shapes(a_shape: Shape, b_shape: Shape, transpose_a: bool, transpose_b: bool) -> Matmul:
    """M, N, K and the broadcast batch of ``op(a) @ op(b)`` (op: swap the last two axes when
    flagged). Both operands must be at least 2-d."""
    if len(a_shape) < 2 or len(b_shape) < 2:
        raise ShapeError(
            f"matmul: both operands need at least 2 dimensions, got shapes {a_shape} and {b_shape} "
            "(the op makes a vector a row or a column first)"
        )
    m, k = (a_shape[-1], a_shape[-2]) if transpose_a else (a_shape[-2], a_shape[-1])
    kb, n = (b_shape[-1], b_shape[-2]) if transpose_b else (b_shape[-2], b_shape[-1])
    if k != kb:
        raise ShapeError(
            f"matmul: inner sizes differ ({k} and {kb}) for shapes {a_shape} and {b_shape}"
            f"{' (a transposed)' if transpose_a else ''}{' (b transposed)' if transpose_b else ''}"
        )
    try:
        batch_shape = broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ShapeError(
            f"matmul: batch dimensions {a_shape[:-2]} and {b_shape[:-2]} of shapes {a_shape} and {b_shape} "
            "do not broadcast (each pair of sizes must be equal or 1)"
        ) from None
    return Matmul(batch_shape, size_of(batch_shape), m, n, k)


def matrix_layout(rows: int, cols: int, row_stride: int, col_stride: int, transposed: bool):
    """(leading dimension, transpose flag) that lets a BLAS-style kernel read a (rows, cols)
    matrix in place, or None when it needs a compact copy first.

    The kernel reads element (i, j) of a row-major matrix at ``i * ld + j``, or, with the flag
    flipped, of its transpose at ``j * ld + i``; so one of the two strides must be 1 and the other
    at least a whole row (no overlap). A transposed view just flips the flag. Broadcast rows
    (stride 0), negative or overlapping strides need the copy.
    """
    if (col_stride == 1 or cols == 1) and (rows == 1 or row_stride >= cols):
        return (row_stride if rows > 1 else cols) or 1, transposed
    if (row_stride == 1 or rows == 1) and (cols == 1 or col_stride >= rows):
        return (col_stride if cols > 1 else rows) or 1, not transposed
    return None


def batch_stride(batch_shape: Shape, strides: Strides) -> int | None:
    """The one element stride that walks the flattened batch axes in C order, given the operand's
    strides over ``batch_shape`` (0 where it is broadcast); None when no single stride does (the
    operand is then copied, broadcast, to a compact block of matrices). 0 when every batch entry
    is the same matrix.

    The innermost axis that moves gives the step; each axis further out must move by the whole
    block inside it (axes of size 1 never move)."""
    step = None
    block = 1  # elements (in units of step) covered by the axes inside this one
    for n, s in zip(reversed(batch_shape), reversed(strides)):
        if n == 1:
            continue
        if step is None:
            step, block = s, n
            continue
        if s != step * block:
            return None
        block *= n
    return 0 if step is None else step


class GemmOperand(NamedTuple):
    """How a GEMM reads one operand: first ``copy`` it (None: as it is; "compact": a C-order copy
    of the operand itself; "broadcast": a compact copy broadcast to the batch shape), then read
    matrix i of the batch at ``i * batch_stride`` with leading dimension ``ld`` and the kernel's
    transpose flag ``transposed``."""

    copy: str | None
    ld: int
    transposed: bool
    batch_stride: int


def gemm_operand(shape: Shape, strides: Strides, batch_shape: Shape, transposed: bool) -> GemmOperand:
    """The plan for one operand (at least 2-d) of a batched GEMM over ``batch_shape``."""
    rows, cols = shape[-2], shape[-1]
    for copy, st in ((None, strides), ("compact", compact_strides(shape))):
        matrix = matrix_layout(rows, cols, st[-2], st[-1], transposed)
        bs = batch_stride(batch_shape, broadcast_strides(shape[:-2], st[:-2], batch_shape))
        if matrix is not None and bs is not None:
            return GemmOperand(copy, matrix[0], matrix[1], bs)
    # Batch axes that no single stride walks (a broadcast axis between two that move): one
    # compact matrix per batch entry.
    return GemmOperand("broadcast", max(cols, 1), transposed, rows * cols if size_of(batch_shape) > 1 else 0)


# ---- rows along an axis (softmax) ------------------------------------------------------------------------


class Rows(NamedTuple):
    """An axis of a tensor as the (rows, cols) block a row kernel walks: ``perm`` moves ``axis``
    last; the block is compact in that order without a copy when ``in_place``; the kernel's
    compact output, of shape ``moved_shape``, goes back with the permutation ``inverse``, which
    needs a copy to be compact unless ``restore_in_place``."""

    axis: int
    rows: int
    cols: int
    perm: tuple
    inverse: tuple
    moved_shape: Shape
    in_place: bool
    restore_in_place: bool


def rows(op: str, shape: Shape, strides: Strides, axis: int) -> Rows:
    """The plan for a row kernel along ``axis`` of (shape, strides); a 0-d tensor is one row of
    one element (axis 0 or -1, as PyTorch)."""
    axis = normalize_axis(op, axis, len(shape))
    if not shape:
        return Rows(0, 1, 1, (), (), (), True, True)
    nd = len(shape)
    perm = tuple(d for d in range(nd) if d != axis) + (axis,)
    inverse = tuple(perm.index(d) for d in range(nd))
    moved_shape = tuple(shape[d] for d in perm)
    cols = shape[axis]
    # Moving the axis last changes nothing in memory when every axis after it has size 1.
    trivial = all(shape[d] == 1 for d in range(axis + 1, nd))
    in_place = is_compact(moved_shape, tuple(strides[d] for d in perm))
    return Rows(axis, size_of(shape) // cols if cols else 0, cols, perm, inverse, moved_shape, in_place, trivial)


# ---- gather / scatter along an axis -------------------------------------------------------------------------


class AlongAxis(NamedTuple):
    """A gather or scatter-add along ``axis`` as the kernels take it: the loop runs over ``shape``
    (the index's shape, broadcast); ``data_strides`` are the gathered-from (or scattered-into)
    array's strides over it with 0 on ``axis``, ``axis_stride`` its stride along ``axis``, and
    ``index_strides`` / ``value_strides`` those of the index and of the other operand."""

    shape: Shape
    data_strides: Strides
    axis_stride: int
    index_strides: Strides
    value_strides: Strides


def take_along_axis(
    op: str, x_shape: Shape, x_strides: Strides, axis: int, index_shape: Shape, index_strides: Strides
) -> AlongAxis:
    """``out[I] = x[I with I[axis] replaced by index[I]]`` (numpy's ``take_along_axis``: x and the
    index have one ndim and broadcast on every other axis). ``value_strides`` are the output's
    (compact). The index values are the caller's to check."""
    if len(index_shape) != len(x_shape):
        raise ShapeError(f"{op}: index of shape {index_shape} for input of shape {x_shape}: the ndims must match")
    axis = normalize_axis(op, axis, len(x_shape))
    if not x_shape:  # 0-d: one element, picked by a 0-d index (0 is its only valid value)
        return AlongAxis((), (), 0, (), ())
    x_free = x_shape[:axis] + (1,) + x_shape[axis + 1:]  # the indexed axis takes the index's size
    try:
        out = broadcast_shapes(x_free, index_shape)
    except ValueError:
        raise ShapeError(
            f"{op}: index of shape {index_shape} does not fit input of shape {x_shape} along dim {axis} "
            "(on every other axis the sizes must be equal or 1)"
        ) from None
    data = list(broadcast_strides(x_shape, x_strides, out))
    data[axis] = 0
    return AlongAxis(
        out, tuple(data), x_strides[axis], broadcast_strides(index_shape, index_strides, out), compact_strides(out)
    )


def scatter_along_axis(
    op: str, shape: Shape, axis: int, index_shape: Shape, index_strides: Strides, src_shape: Shape,
    src_strides: Strides,
) -> AlongAxis:
    """``out[I with I[axis] replaced by index[I]] += src[I]`` for every I of the index's shape, into
    a compact array of ``shape``: the index has ``shape``'s ndim and fits inside it on every other
    axis; src broadcasts to the index's shape. The index values are the caller's to check."""
    if len(index_shape) != len(shape):
        raise ShapeError(f"{op}: index of shape {index_shape} for output of shape {shape}: the ndims must match")
    axis = normalize_axis(op, axis, len(shape))
    if not shape:
        return AlongAxis((), (), 0, (), ())
    if any(i > n for d, (i, n) in enumerate(zip(index_shape, shape)) if d != axis):
        raise ShapeError(
            f"{op}: index of shape {index_shape} does not fit output of shape {shape} off dim {axis} "
            "(there it may not be larger)"
        )
    try:
        if broadcast_shapes(src_shape, index_shape) != tuple(index_shape):
            raise ValueError
    except ValueError:
        raise ShapeError(f"{op}: values of shape {src_shape} for an index of shape {index_shape}") from None
    out_strides = list(compact_strides(shape))
    axis_stride, out_strides[axis] = out_strides[axis], 0
    return AlongAxis(
        tuple(index_shape), tuple(out_strides), axis_stride, tuple(index_strides),
        broadcast_strides(src_shape, src_strides, index_shape),
    )
