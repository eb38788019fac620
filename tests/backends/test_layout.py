"""engine.backends.layout, the pure-Python planning every compiled backend shares, against numpy's own
layout arithmetic (numbers in, numbers out: no arrays are handed to it)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import engine
from engine.backends import layout


def _estrides(a: np.ndarray) -> tuple:
    return layout.element_strides(a.shape, a.strides, a.itemsize)


SHAPES = [(), (0,), (1,), (7,), (3, 0), (1, 1), (7, 1), (1, 13), (7, 13), (2, 1, 5), (2, 3, 5)]


def test_broadcast_shapes_is_numpys():
    for shapes in itertools.chain(itertools.product(SHAPES, repeat=2), itertools.product(SHAPES[:6], repeat=3)):
        try:
            want = np.broadcast_shapes(*shapes)
        except ValueError as exc:
            with pytest.raises(ValueError) as err:
                layout.broadcast_shapes(*shapes)
            assert str(err.value) == str(exc), shapes
            continue
        assert layout.broadcast_shapes(*shapes) == want, shapes
    assert layout.broadcast_shapes() == ()


def test_strides_of_numpy_views():
    base = np.zeros((6, 14, 10))
    views = [base, base[::2], base[:, ::-3], base.transpose(2, 0, 1), base[1:2, :, 3], base[..., ::-1][:, 5]]
    for v in views:
        st = _estrides(v)
        assert layout.is_compact(v.shape, st) == v.flags.c_contiguous, v.strides
        for n, s, b in zip(v.shape, st, v.strides):
            assert s == (0 if n <= 1 else b // 8)
        compact = _estrides(np.empty(v.shape))  # 0 on axes of size 1, which never move
        assert all(n <= 1 or s == c for n, s, c in zip(v.shape, layout.compact_strides(v.shape), compact))
    field = np.zeros(4, dtype=[("a", "<f4"), ("b", "<i2")])["a"]  # a 6-byte stride: not whole items
    assert layout.element_strides(field.shape, field.strides, 4) is None


def test_broadcast_strides_and_elementwise_plans():
    for a_shape, b_shape in itertools.product(SHAPES, repeat=2):
        try:
            out = np.broadcast_shapes(a_shape, b_shape)
        except ValueError:
            with pytest.raises(engine.ShapeError, match=r"^add: shapes .* do not broadcast"):
                layout.elementwise("add", (a_shape, layout.compact_strides(a_shape)), (b_shape, (0,) * len(b_shape)))
            continue
        a = np.empty(a_shape)
        st = layout.broadcast_strides(a.shape, _estrides(a), out)
        view = np.broadcast_to(a, out)
        assert st == _estrides(view), (a_shape, out)
        plan = layout.elementwise("add", (a_shape, _estrides(a)), (b_shape, layout.compact_strides(b_shape)))
        assert plan.shape == out
        flat = all(s == out or int(np.prod(s)) == 1 for s in (a_shape, b_shape))
        assert (plan.loop == (int(np.prod(out)),)) == flat or len(out) == 1, (a_shape, b_shape, plan)
    # a strided operand of the right shape is not flat
    t = np.empty((13, 7)).T
    plan = layout.elementwise("mul", (t.shape, _estrides(t)), ((7, 13), layout.compact_strides((7, 13))))
    assert plan.loop == (7, 13) and plan.strides[0] == (1, 7)


def test_reduction_plans():
    x = np.empty((2, 3, 5, 7)).transpose(3, 1, 0, 2)  # shape (7, 3, 2, 5)
    st = _estrides(x)
    for axes in [(), (0,), (1, 3), (0, 1, 2, 3), (-1,)]:
        norm = layout.normalize_axes("sum", axes, x.ndim)
        assert norm == tuple(sorted(a % 4 for a in axes))
        for keepdim in (False, True):
            plan = layout.reduction(x.shape, st, norm, keepdim)
            assert plan.out_shape == np.sum(x, axis=norm, keepdims=keepdim).shape
            kept = [d for d in range(4) if d not in norm]
            assert plan.shape == tuple(x.shape[d] for d in kept + list(norm))
            assert plan.strides == tuple(st[d] for d in kept + list(norm))
            assert plan.nred == len(norm) and plan.reduced == int(np.prod([x.shape[d] for d in norm]))
    assert layout.normalize_axes("sum", None, 3) == (0, 1, 2)
    assert layout.normalize_axes("sum", (0,), 0) == () and layout.normalize_axes("sum", (-1,), 0) == ()
    for bad, ndim in (((2,), 2), ((-3,), 2), ((1,), 0)):
        with pytest.raises(engine.EngineValueError, match=rf"^sum: dim {bad[0]} is out of range for a {ndim}-d"):
            layout.normalize_axes("sum", bad, ndim)


def test_matmul_shapes():
    plan = layout.matmul_shapes((2, 1, 3, 4), (5, 6, 4), False, True)
    assert plan == ((2, 5), 10, 3, 6, 4) and plan.out_shape == (2, 5, 3, 6)
    assert layout.matmul_shapes((4, 3), (4, 5), True, False).out_shape == (3, 5)
    with pytest.raises(engine.ShapeError, match=r"^matmul: inner sizes differ \(4 and 5\)"):
        layout.matmul_shapes((3, 4), (5, 6), False, False)
    with pytest.raises(engine.ShapeError, match=r"^matmul: batch dimensions \(2,\) and \(3,\)"):
        layout.matmul_shapes((2, 3, 4), (3, 4, 5), False, False)
    with pytest.raises(engine.ShapeError, match=r"^matmul: both operands need at least 2 dimensions"):
        layout.matmul_shapes((4,), (4, 5), False, False)


def _read_as_gemm(buffer: np.ndarray, offset: int, rows: int, cols: int, ld: int, flag: bool, asked: bool):
    """What a BLAS-style kernel reads with (ld, flag) at ``offset``, as op(matrix) for the asked flag."""
    stored = (cols, rows) if flag != asked else (rows, cols)  # the matrix as the kernel sees it
    r, c = stored
    got = np.array([[buffer[offset + i * ld + j] for j in range(c)] for i in range(r)]).reshape(r, c)
    return got.T if flag != asked else got


def test_gemm_operands_read_the_right_numbers():
    buffer = np.arange(400.0)
    for rows, cols in ((3, 4), (1, 4), (3, 1), (1, 1)):
        base = buffer[: rows * cols * 4].reshape(rows * 2, cols * 2)
        for name, m in {"compact": base[:rows, :cols].copy(), "rows stepped": base[::2, :cols],
                        "transposed": np.ascontiguousarray(base[:rows, :cols].T).T,
                        "broadcast rows": np.broadcast_to(base[:1, :cols], (rows, cols)),
                        "reversed": base[:rows, :cols][::-1]}.items():
            st = _estrides(m)
            for asked in (False, True):
                found = layout.matrix_layout(rows, cols, st[0], st[1], asked)
                if found is None:
                    assert name in ("broadcast rows", "reversed") and rows > 1, name
                    continue
                ld, flag = found
                flat = m.base if m.base is not None else m
                offset = (m.__array_interface__["data"][0] - flat.__array_interface__["data"][0]) // 8
                src = np.asarray(flat).reshape(-1)
                np.testing.assert_array_equal(_read_as_gemm(src, offset, rows, cols, ld, flag, asked), m, err_msg=name)


def test_gemm_batch_strides_and_copies():
    assert layout.batch_stride((2, 3), (15, 5)) == 5  # one stride walks both axes
    assert layout.batch_stride((2, 3), (0, 0)) == 0  # the same matrix for every entry
    assert layout.batch_stride((2, 3), (5, 0)) is None  # broadcast inside: no single stride
    assert layout.batch_stride((1, 4), (99, -20)) == -20
    a = np.empty((2, 3, 4, 5))
    assert layout.gemm_operand(a.shape, _estrides(a), (2, 3), False) == (None, 5, False, 20)
    t = np.empty((2, 3, 5, 4)).swapaxes(-1, -2)
    assert layout.gemm_operand(t.shape, _estrides(t), (2, 3), False) == (None, 4, True, 20)
    b = np.empty((4, 5))
    assert layout.gemm_operand(b.shape, _estrides(b), (2, 3), True) == (None, 5, True, 0)
    s = np.empty((8, 5))[::2]  # rows two apart: read in place with ld 10
    assert layout.gemm_operand(s.shape, _estrides(s), (), False) == (None, 10, False, 0)
    r = np.empty((4, 5))[::-1]
    assert layout.gemm_operand(r.shape, _estrides(r), (3,), False) == ("compact", 5, False, 0)
    mid = np.empty((2, 1, 4, 5))  # batch (2, 3): broadcast in the middle
    assert layout.gemm_operand(mid.shape, _estrides(mid), (2, 3), False) == ("broadcast", 5, False, 20)


def test_rows_plans():
    x = np.empty((2, 3, 5))
    for axis in (0, 1, 2, -1):
        plan = layout.rows("softmax", x.shape, _estrides(x), axis)
        moved = np.moveaxis(x, axis, -1)
        assert plan.moved_shape == moved.shape and plan.cols == x.shape[axis] and plan.rows * plan.cols == x.size
        assert np.transpose(x, plan.perm).shape == moved.shape
        assert np.transpose(np.empty(plan.moved_shape), plan.inverse).shape == x.shape
        assert plan.in_place == plan.restore_in_place == (axis % 3 == 2)
    assert layout.rows("softmax", (), (), -1)[:3] == (0, 1, 1)
    assert layout.rows("softmax", (4, 1), (1, 0), 0).restore_in_place  # moving past size-1 axes is free
    with pytest.raises(engine.EngineValueError, match=r"^log_softmax: dim 3 is out of range for a 3-d tensor"):
        layout.rows("log_softmax", x.shape, _estrides(x), 3)


def test_along_axis_plans():
    x = np.empty((7, 13))[::-1]
    index = np.empty((7, 3), np.int64)
    plan = layout.take_along_axis("gather", x.shape, _estrides(x), 1, index.shape, _estrides(index))
    assert plan == ((7, 3), (-13, 0), 1, (3, 1), (3, 1))
    plan = layout.take_along_axis("gather", x.shape, _estrides(x), 0, (1, 13), (0, 1))  # index broadcast
    assert plan.shape == (1, 13) and plan.axis_stride == -13
    plan = layout.scatter_along_axis("scatter_add", (7, 13), 0, (4, 13), (13, 1), (4, 13), (0, 1))
    assert plan == ((4, 13), (0, 1), 13, (13, 1), (0, 1))
    with pytest.raises(engine.ShapeError, match=r"^gather: index of shape \(3,\) for input of shape \(7, 13\)"):
        layout.take_along_axis("gather", (7, 13), (13, 1), 0, (3,), (1,))
    with pytest.raises(engine.ShapeError, match=r"^scatter_add: values of shape \(2, 2\) for an index of shape"):
        layout.scatter_along_axis("scatter_add", (7, 13), 1, (7, 3), (3, 1), (2, 2), (2, 1))
