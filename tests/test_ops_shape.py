"""Selection, data movement and creation against PyTorch, on every device.

The shape ops (gather, scatter, scatter_add, index_select, masked_fill, chunk, split, flip, roll,
tile, narrow, expand_as, view_as, movedim, repeat_interleave) are compared with PyTorch's values,
dtypes and gradients with ``check_op``, checked against central differences with ``gradcheck``
on hypothesis-drawn inputs, and held to their algebra (split then cat is the identity, flip twice
too, roll by n then -n, gather and scatter_add are adjoint). The creation functions are checked
for PyTorch's forms, dtypes and errors. Every user mistake is one line naming the op.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensor_helpers import DEVICES, HAS_TORCH, check_op

import engine
from engine.testing import assert_close, gradcheck, strategies

try:
    import torch
except ImportError:
    torch = None

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
devices = pytest.mark.parametrize("device", DEVICES)
float_dtypes = pytest.mark.parametrize("dtype", ["float32", "float64"])
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is the oracle here")


def one_line(error: type, builtin: type, *fragments: str):
    """``pytest.raises`` that also checks the builtin base, a one-line message and its fragments."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(error)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            if not handled:  # another exception: let it through as it is
                return False
            message = str(self.info.value)
            assert isinstance(self.info.value, (engine.EngineError, builtin)), type(self.info.value).__mro__
            assert isinstance(self.info.value, builtin)
            assert "\n" not in message, message
            for f in fragments:
                assert f in message, f"{f!r} not in {message!r}"
            return handled

    return _Check()


def idx(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


def leaf(values, device, dtype="float64"):
    return engine.tensor(values, dtype=dtype, device=device, requires_grad=True)


# ---- against PyTorch: values, dtypes, gradients ---------------------------------------------------------------
@needs_torch
@devices
@float_dtypes
@pytest.mark.parametrize(
    "name, fn, shapes",
    [
        ("gather dim 1", lambda x, i: x.gather(1, i), [(3, 4), idx([0, 3], [1, 1], [2, 0])]),
        ("gather dim 0", lambda x, i: x.gather(0, i), [(3, 4), idx([2, 0, 1, 1])]),
        ("gather smaller index", lambda x, i: x.gather(1, i), [(3, 4), idx([0, 1], [3, 3])]),
        ("gather 3-d", lambda x, i: x.gather(-1, i), [(2, 3, 4), np.array([[[3], [0], [1]], [[2], [2], [0]]])]),
        ("gather module", lambda x, i: x.gather(1, i), [(2, 5), idx([4, 4, 0], [1, 2, 3])]),
        ("scatter dim 1", lambda x, i, s: x.scatter(1, i, s), [(3, 4), idx([0, 3], [2, 1]), (2, 2)]),
        ("scatter dim 0", lambda x, i, s: x.scatter(0, i, s), [(3, 4), idx([2, 0, 1, 2], [0, 1, 2, 0]), (2, 4)]),
        ("scatter src bigger", lambda x, i, s: x.scatter(1, i, s), [(3, 4), idx([0, 3]), (2, 3)]),
        ("scatter value", lambda x, i: x.scatter(1, i, 2.5), [(3, 4), idx([0, 3, 3], [1, 1, 1])]),
        ("scatter_add", lambda x, i, s: x.scatter_add(1, i, s), [(3, 4), idx([0, 3, 0], [1, 1, 1]), (2, 3)]),
        ("scatter_add dim 0 src bigger", lambda x, i, s: x.scatter_add(0, i, s),
         [(3, 2), idx([2, 2], [2, 0], [0, 0]), (4, 2)]),
        ("index_select", lambda x, i: x.index_select(1, i), [(3, 4), np.array([3, 0, 3])]),
        ("index_select 0-d index", lambda x, i: x.index_select(0, i), [(3, 4), np.array(2)]),
        ("index_select empty", lambda x, i: x.index_select(0, i), [(3, 4), np.zeros(0, np.int64)]),
        ("masked_fill", lambda x, m: x.masked_fill(m, -1.5), [(3, 4), np.eye(3, 4, dtype=bool)]),
        ("masked_fill broadcast mask", lambda x, m: x.masked_fill(m, 0), [(2, 3), np.array([True, False, True])]),
        ("masked_fill bigger mask", lambda x, m: x.masked_fill(m, 1), [(3,), np.eye(2, 3, dtype=bool)]),
        ("masked_fill value tensor", lambda x, m, v: x.masked_fill(m, v), [(2, 3), np.eye(2, 3, dtype=bool), ()]),
        ("flip", lambda x: x.flip(0, 2), [(2, 3, 4)]),
        ("flip list", lambda x: x.flip([-1]), [(3, 4)]),
        ("flip none", lambda x: x.flip(()), [(3,)]),
        ("roll flat", lambda x: x.roll(5), [(3, 4)]),
        ("roll dims", lambda x: x.roll((1, -2), (0, 1)), [(3, 4)]),
        ("roll negative big", lambda x: x.roll(-7, 1), [(2, 3)]),
        ("tile", lambda x: x.tile(2, 1, 3), [(2, 3)]),
        ("tile fewer dims", lambda x: x.tile((2,)), [(2, 3)]),
        ("narrow", lambda x: x.narrow(1, 1, 2), [(3, 4)]),
        ("narrow negative start", lambda x: x.narrow(0, -2, 2), [(3, 4)]),
        ("movedim", lambda x: x.movedim(0, -1), [(2, 3, 4)]),
        ("movedim two", lambda x: x.movedim((0, 1), (2, 0)), [(2, 3, 4)]),
        ("moveaxis", lambda x: x.moveaxis(-1, 0), [(2, 3, 4)]),
        ("expand_as", lambda x, y: x.expand_as(y), [(3, 1), (2, 3, 4)]),
        ("view_as", lambda x, y: x.view_as(y), [(3, 4), (2, 6)]),
        ("repeat_interleave", lambda x: x.repeat_interleave(2, dim=1), [(2, 3)]),
        ("repeat_interleave flat", lambda x: x.repeat_interleave(3), [(2, 2)]),
        ("repeat_interleave counts", lambda x, r: x.repeat_interleave(r, dim=0), [(3, 2), np.array([2, 0, 1])]),
        ("split pieces", lambda x: x.split(2, 1)[1], [(3, 5)]),
        ("chunk piece", lambda x: x.chunk(3)[2], [(5, 2)]),
        ("unbind piece", lambda x: x.unbind(1)[2], [(2, 3)]),
    ],
)
def test_against_pytorch(device, dtype, name, fn, shapes):
    # PyTorch's own backward fails for a src bigger than the index (ScatterBackward0 returns the index's
    # shape); there the values are compared and the gradient is left to the gradcheck below.
    check_op(fn, fn, shapes, dtype, device, grad=None if "src bigger" in name else "projection")


@needs_torch
@devices
@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x: x.flip(1), [(2, 3)]),
        (lambda x: x.roll(1, 0), [(3, 2)]),
        (lambda x: x.tile(2), [(3,)]),
        (lambda x, i: x.gather(0, i), [(3,), np.array([2, 2, 0])]),
        (lambda x, i: x.index_select(0, i), [(3, 2), np.array([1, 1])]),
        (lambda x, m: x.masked_fill(m, True), [(2, 2), np.eye(2, dtype=bool)]),
        (lambda x, i: x.scatter(0, i, 0), [(4,), np.array([3, 1])]),
        (lambda x: x.narrow(0, 1, 1).movedim(0, 1), [(3, 2)]),
        (lambda x: x.repeat_interleave(2, 0), [(2,)]),
    ],
)
def test_integer_and_bool_tensors_keep_their_dtype(device, dtype, fn, shapes):
    shapes = [np.random.default_rng(1).integers(-3, 3, s).astype(dtype) if isinstance(s, tuple) else s for s in shapes]
    check_op(fn, fn, shapes, dtype, device, grad=None)


@needs_torch
@devices
@pytest.mark.parametrize(
    "pieces, shape, dim",
    [
        (lambda t: t.split(2), (5, 3), 0), (lambda t: t.split([1, 3, 1]), (5, 3), 0),
        (lambda t: t.split(4, dim=1), (2, 9), 1), (lambda t: t.split((0, 2), -1), (3, 2), 1),
        (lambda t: t.chunk(3), (6, 2), 0), (lambda t: t.chunk(4), (6, 2), 0), (lambda t: t.chunk(2, -1), (2, 5), 1),
        (lambda t: t.split(3, 0), (0, 2), 0), (lambda t: t.chunk(2), (0,), 0), (lambda t: t.unbind(1), (3, 2), None),
    ],
)
def test_split_chunk_and_unbind_give_pytorchs_pieces_and_gradients(device, pieces, shape, dim):
    values = np.random.default_rng(0).uniform(-1, 1, shape)
    ours, theirs = pieces(engine.tensor(values, device=device)), pieces(torch.tensor(values))
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        assert_close(a, b.numpy())

    def joined(x, lib):
        """Every piece, the k-th weighted by k + 1, joined again: one output whose gradient reaches all."""
        weighted = [p * (k + 1) for k, p in enumerate(pieces(x))]
        return lib.stack(weighted, 1) if dim is None else lib.cat(weighted, dim)

    if values.size:
        check_op(lambda x: joined(x, engine), lambda x: joined(x, torch), [values], "float64", device,
                 grad="projection")


@needs_torch
@devices
def test_scatter_with_repeated_places_keeps_the_last_write(device):
    # PyTorch leaves the winner open; its CPU kernel (and the engine, on every device) keeps the last write.
    index = np.array([0, 0, 0, 0, 1, 1])
    src = np.arange(1.0, 7.0)
    i = engine.tensor(index, device=device)
    ours = engine.zeros(5, device=device).scatter(0, i, engine.tensor(src, dtype=engine.float32, device=device))
    theirs = torch.zeros(5).scatter(0, torch.tensor(index), torch.tensor(src, dtype=torch.float32))
    assert_close(ours, theirs.numpy())
    rows = np.array([[1, 1, 0], [2, 2, 2]])
    values = np.arange(6.0).reshape(2, 3)
    ours = engine.zeros(2, 3, dtype=engine.float64, device=device).scatter(1, engine.tensor(rows, device=device),
                                                                          engine.tensor(values, device=device))
    theirs = torch.zeros(2, 3, dtype=torch.float64).scatter(1, torch.tensor(rows), torch.tensor(values))
    assert_close(ours, theirs.numpy())
    # the losing writes do not reach the output: their gradient is 0 (PyTorch would give them the winner's)
    s = leaf(src, device)
    engine.zeros(5, dtype=engine.float64, device=device).scatter(0, i, s).sum().backward()
    assert s.grad.tolist() == [0, 0, 0, 1, 0, 1]


# ---- gradients against central differences ----------------------------------------------------------------------
@st.composite
def index_along(draw, shape, dim, size, unique=False):
    """An int64 index of ``shape`` with entries in [0, size) (each row distinct along dim when ``unique``)."""
    if unique:
        lines = []
        moved = list(shape)
        count = moved.pop(dim)
        for _ in range(int(np.prod(moved))):
            lines.append(draw(st.permutations(range(size)))[:count])
        block = np.array(lines, dtype=np.int64).reshape(*moved, count)
        return np.moveaxis(block, -1, dim)
    return np.array(draw(st.lists(st.integers(0, size - 1), min_size=int(np.prod(shape)),
                                  max_size=int(np.prod(shape)))), dtype=np.int64).reshape(shape)


@st.composite
def along_a_dim(draw, unique=False):
    """(x shape, dim, index) with the index no bigger than x off dim (and no longer than x on dim when unique)."""
    shape = draw(strategies.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, n)) if k != dim else draw(st.integers(1, n if unique else 4))
                        for k, n in enumerate(shape))
    return shape, dim, draw(index_along(index_shape, dim, shape[dim], unique))


@devices
@SETTINGS
@given(data=st.data())
def test_gather_scatter_and_scatter_add_gradients(device, data):
    shape, dim, index = data.draw(along_a_dim())
    x = data.draw(strategies.tensors(shape=shape, device=device, requires_grad=True))
    i = engine.tensor(index, device=device)
    src = data.draw(strategies.tensors(shape=index.shape, device=device, requires_grad=True))
    assert gradcheck(lambda a: a.gather(dim, i), x)
    assert gradcheck(lambda a, s: a.scatter_add(dim, i, s), x, src)
    assert gradcheck(lambda a, s: a.scatter(dim, i, s), x, src)  # repeats too: the losing writes get 0
    assert gradcheck(lambda a: a.scatter(dim, i, -1.0), x)


@devices
@SETTINGS
@given(data=st.data())
def test_selection_and_movement_gradients(device, data):
    shape = data.draw(strategies.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(strategies.tensors(shape=shape, device=device, requires_grad=True))
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    n = shape[dim]
    picks = engine.tensor(data.draw(st.lists(st.integers(0, n - 1), max_size=5)), dtype=engine.int64, device=device)
    mask_shape = shape[data.draw(st.integers(0, ndim)):]  # a mask that broadcasts
    mask = data.draw(strategies.tensors(shape=mask_shape, dtype="bool", device=device))
    value = data.draw(strategies.tensors(shape=(), device=device, requires_grad=True))
    start = data.draw(st.integers(-n, n - 1))
    length = data.draw(st.integers(0, n - (start % n)))
    shift = data.draw(st.integers(-6, 6))
    reps = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    dims = data.draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    assert gradcheck(lambda a: a.index_select(dim, picks), x)
    assert gradcheck(lambda a, v: a.masked_fill(mask, v), x, value)
    assert gradcheck(lambda a: a.narrow(dim, start, length), x)
    assert gradcheck(lambda a: a.roll(shift, dim), x)
    assert gradcheck(lambda a: a.roll(shift), x)
    assert gradcheck(lambda a: a.flip(dims), x)
    assert gradcheck(lambda a: a.tile(2, 1), x)
    assert gradcheck(lambda a: a.movedim(dim, 0), x)
    assert gradcheck(lambda a: a.repeat_interleave(engine.tensor(reps, device=device), dim), x)
    assert gradcheck(lambda a: engine.cat([p * (k + 1) for k, p in enumerate(a.chunk(3, dim))], dim), x)


# ---- algebra -------------------------------------------------------------------------------------------------
@devices
@SETTINGS
@given(data=st.data())
def test_split_then_cat_flip_twice_and_roll_back_are_the_identity(device, data):
    shape = data.draw(strategies.shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    x = data.draw(strategies.tensors(shape=shape, device=device))
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(1, 6))
    assert engine.cat(list(x.split(size, dim)), dim).equal(x)
    chunks = x.chunk(size, dim)
    assert len(chunks) <= size and sum(c.shape[dim] for c in chunks) == shape[dim]
    if shape[dim]:
        assert engine.cat(list(chunks), dim).equal(x)
    sizes = data.draw(st.lists(st.integers(0, 3), max_size=4))
    sizes.append(shape[dim] - sum(sizes))
    if sizes[-1] >= 0:
        assert engine.cat(list(x.split(sizes, dim)), dim).equal(x)
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True))
    assert x.flip(dims).flip(dims).equal(x)
    shift = data.draw(st.integers(-12, 12))
    assert x.roll(shift, dim).roll(-shift, dim).equal(x)
    assert x.roll(shift).roll(-shift).equal(x)
    assert np.array_equal(x.roll(shift, dim).numpy(), np.roll(x.numpy(), shift, dim))
    assert np.array_equal(x.flip(dims).numpy(), np.flip(x.numpy(), dims))


@devices
@SETTINGS
@given(data=st.data())
def test_gather_and_scatter_add_are_adjoint(device, data):
    # <gather(x, i), y> = <x, scatter_add(0, i, y)>: each is the other's transpose
    shape, dim, index = data.draw(along_a_dim())
    x = data.draw(strategies.tensors(shape=shape, device=device))
    y = data.draw(strategies.tensors(shape=index.shape, device=device))
    i = engine.tensor(index, device=device)
    left = (x.gather(dim, i) * y).sum().item()
    right = (x * engine.zeros_like(x).scatter_add(dim, i, y)).sum().item()
    assert math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)


@devices
@SETTINGS
@given(data=st.data())
def test_scatter_with_distinct_places_is_undone_by_gather(device, data):
    shape, dim, index = data.draw(along_a_dim(unique=True))
    x = data.draw(strategies.tensors(shape=shape, device=device))
    src = data.draw(strategies.tensors(shape=index.shape, device=device))
    i = engine.tensor(index, device=device)
    assert x.scatter(dim, i, src).gather(dim, i).equal(src)
    assert x.scatter_add(dim, i, src).gather(dim, i).sub(x.gather(dim, i)).sub(src).abs().max().item() < 1e-12


# ---- module-level forms, in-place forms ---------------------------------------------------------------------
@devices
def test_module_level_forms_match_the_methods(device):
    x = engine.arange(24.0, device=device).reshape(2, 3, 4)
    i = engine.tensor([[[0, 3]], [[1, 1]]], device=device)
    assert engine.gather(x, 2, i).equal(x.gather(2, i))
    assert engine.scatter(x, 2, i, 7.0).equal(x.scatter(2, i, value=7.0))
    src = engine.ones(2, 1, 2, device=device)
    assert engine.scatter(x, 2, i, src).equal(x.scatter(2, i, src=src))
    assert engine.scatter_add(x, 2, i, src).equal(x.scatter_add(2, i, src))
    picks = engine.tensor([2, 0], device=device)
    assert engine.index_select(x, 1, picks).equal(x.index_select(1, picks))
    assert engine.masked_fill(x, x > 5, 0.0).equal(x.masked_fill(x > 5, 0.0))
    assert engine.narrow(x, 2, 1, 2).equal(x.narrow(2, 1, 2))
    assert all(a.equal(b) for a, b in zip(engine.split(x, [1, 3], 2), x.split([1, 3], 2)))
    assert all(a.equal(b) for a, b in zip(engine.chunk(x, 2, 1), x.chunk(2, 1)))
    assert all(a.equal(b) for a, b in zip(engine.unbind(x, 1), x.unbind(1)))
    assert engine.flip(x, [0, 2]).equal(x.flip(0, 2)) and engine.flip(x, 1).equal(x.flip(1))
    assert engine.fliplr(x).equal(x.flip(1)) and engine.flipud(x).equal(x.flip(0))
    assert engine.roll(x, 1, 2).equal(x.roll(1, 2)) and engine.tile(x, (2,)).equal(x.tile(2))
    assert engine.movedim(x, 0, 2).equal(x.movedim(0, 2)) and engine.moveaxis(x, 0, 2).equal(x.movedim(0, 2))
    assert engine.repeat_interleave(x, 2, 1).equal(x.repeat_interleave(2, 1))
    counts = engine.tensor([2, 0, 1], device=device)
    assert engine.repeat_interleave(counts).tolist() == [0, 0, 2]


@devices
def test_in_place_forms_write_into_self(device):
    x = engine.zeros(2, 4, device=device)
    i = engine.tensor([[1], [3]], device=device)
    assert x.scatter_(1, i, 1.0) is x and x.tolist() == [[0, 1, 0, 0], [0, 0, 0, 1]] and x._version == 1
    assert x.scatter_add_(1, i, engine.full((2, 1), 2.0, device=device)) is x
    assert x.tolist() == [[0, 3, 0, 0], [0, 0, 0, 3]] and x._version == 2
    assert x.masked_fill_(x == 0, -1.0) is x and x.tolist() == [[-1, 3, -1, -1], [-1, -1, -1, 3]]
    src = engine.tensor([[5.0], [6.0]], device=device)
    assert x.scatter_(1, i, src).tolist() == [[-1, 5, -1, -1], [-1, -1, -1, 6]]
    # the one-hot line of the labs
    y = engine.tensor([2, 0, 1], device=device)
    one_hot = engine.zeros(3, 3, device=device).scatter_(1, y.unsqueeze(1), 1)
    assert one_hot.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    w = engine.ones(3, requires_grad=True, device=device)
    with one_line(engine.GradError, RuntimeError, "scatter_", "leaf"):
        w.scatter_(0, engine.tensor([0], device=device), 2.0)
    with one_line(engine.GradError, RuntimeError, "masked_fill_", "leaf"):
        w.masked_fill_(w > 0, 2.0)
    with one_line(engine.GradError, RuntimeError, "scatter_add_", "leaf"):
        w.scatter_add_(0, engine.tensor([0], device=device), w.detach())
    with engine.no_grad():
        w.masked_fill_(engine.tensor([True, False, False], device=device), 0.0)
        w.scatter_(0, engine.tensor([2], device=device), 4.0)
    assert w.tolist() == [0, 1, 4] and w.requires_grad and w.grad_fn is None
    with one_line(engine.ShapeError, ValueError, "masked_fill_", "(2, 3)", "(3,)"):
        engine.zeros(3, device=device).masked_fill_(engine.ones(2, 3, dtype=engine.bool, device=device), 1.0)


# ---- errors ----------------------------------------------------------------------------------------------------
@devices
def test_shape_op_mistakes_are_one_line(device):
    x = engine.zeros(3, 4, device=device)
    i = engine.tensor([[0, 1]], device=device)
    with one_line(engine.DTypeError, TypeError, "gather", "int64", "float32"):
        x.gather(1, i.float())
    with one_line(engine.ShapeError, ValueError, "gather", "(2,)", "(3, 4)"):
        x.gather(1, engine.tensor([0, 1], device=device))
    with one_line(engine.ShapeError, ValueError, "gather", "(4, 1)"):
        x.gather(1, engine.zeros(4, 1, dtype=engine.int64, device=device))
    with one_line(engine.EngineValueError, ValueError, "gather", "index 4", "size 4"):
        x.gather(1, i + 3)
    with one_line(engine.EngineValueError, ValueError, "gather", "dim 2", "out of range"):
        x.gather(2, i)
    with one_line(engine.EngineValueError, ValueError, "scatter", "index -1", "size 4"):
        x.scatter(1, i - 1, 1.0)
    with one_line(engine.DTypeError, TypeError, "scatter", "float32", "float64"):
        x.scatter(1, i, engine.ones(1, 2, dtype=engine.float64, device=device))
    with one_line(engine.ShapeError, ValueError, "scatter_add", "(1, 2)", "src (1, 1)"):
        x.scatter_add(1, i, engine.ones(1, 1, device=device))
    with one_line(engine.ShapeError, ValueError, "scatter", "(4, 1)", "self (3, 4)"):
        x.scatter(1, engine.zeros(4, 1, dtype=engine.int64, device=device), engine.ones(4, 1, device=device))
    with one_line(engine.ShapeError, ValueError, "scatter", "as many dims"):
        x.scatter(1, engine.tensor([0], device=device), 1.0)
    with one_line(engine.EngineTypeError, TypeError, "scatter_add", "src must be a tensor"):
        x.scatter_add(1, i, 1.0)
    with one_line(engine.EngineTypeError, TypeError, "scatter", "src", "value"):
        x.scatter(1, i)
    with one_line(engine.EngineValueError, ValueError, "scatter", "reduce"):
        x.scatter(1, i, 1.0, reduce="multiply")
    with one_line(engine.EngineValueError, ValueError, "scatter", "inf", "int64"):
        x.long().scatter(1, i, math.inf)
    with one_line(engine.ShapeError, ValueError, "index_select", "vector", "(1, 2)"):
        x.index_select(1, i)
    with one_line(engine.EngineValueError, ValueError, "index_select", "index -1"):
        x.index_select(1, engine.tensor([-1], device=device))
    with one_line(engine.DTypeError, TypeError, "masked_fill", "boolean", "int64"):
        x.masked_fill(engine.ones(3, 4, dtype=engine.int64, device=device), 1.0)
    with one_line(engine.ShapeError, ValueError, "masked_fill", "(2,)", "(3, 4)"):
        x.masked_fill(engine.ones(2, dtype=engine.bool, device=device), 1.0)
    with one_line(engine.ShapeError, ValueError, "masked_fill", "0-d value", "(2,)"):
        x.masked_fill(x > 0, engine.ones(2, device=device))
    with one_line(engine.EngineTypeError, TypeError, "masked_fill", "number", "str"):
        x.masked_fill(x > 0, "a")
    with one_line(engine.EngineValueError, ValueError, "chunk", "greater than 0"):
        x.chunk(0)
    with one_line(engine.ShapeError, ValueError, "chunk", "1-dimensional"):
        engine.tensor(1.0, device=device).chunk(2)
    with one_line(engine.EngineValueError, ValueError, "split", "sum exactly to 3", "[1, 1]"):
        x.split([1, 1])
    with one_line(engine.EngineValueError, ValueError, "split", "non-negative"):
        x.split(-1)
    with one_line(engine.EngineValueError, ValueError, "split", "0"):
        x.split(0)
    with one_line(engine.EngineValueError, ValueError, "flip", "dim 0 appears multiple times"):
        x.flip(0, -2)
    with one_line(engine.EngineValueError, ValueError, "roll", "align", "2 shifts and 1 dims"):
        x.roll((1, 1), 0)
    with one_line(engine.EngineTypeError, TypeError, "roll", "shifts", "float"):
        x.roll(1.5)
    with one_line(engine.EngineValueError, ValueError, "tile", ">= 0"):
        x.tile(-1)
    with one_line(engine.EngineValueError, ValueError, "narrow", "start out of range", "[-4, 4]", "5"):
        x.narrow(1, 5, 0)
    with one_line(engine.EngineValueError, ValueError, "narrow", "start (2) + length (3) exceeds", "(4)"):
        x.narrow(1, 2, 3)
    with one_line(engine.EngineValueError, ValueError, "narrow", "length must be non-negative"):
        x.narrow(1, 0, -1)
    with one_line(engine.ShapeError, ValueError, "narrow", "0-d"):
        engine.tensor(1.0, device=device).narrow(0, 0, 1)
    with one_line(engine.EngineValueError, ValueError, "movedim", "same number of dims"):
        x.movedim((0, 1), (1,))
    with one_line(engine.EngineValueError, ValueError, "movedim", "repeated dim in `destination`"):
        x.movedim((0, 1), (1, 1))
    with one_line(engine.ShapeError, ValueError, "repeat_interleave", "same size", "= 2", "= 3"):
        x.repeat_interleave(engine.tensor([1, 2], device=device), 0)
    with one_line(engine.EngineValueError, ValueError, "repeat_interleave", "negative"):
        x.repeat_interleave(-1)
    with one_line(engine.DeviceError, ValueError, "gather", "index"):
        other = "opaque" if device != "opaque" else "numpy"
        x.gather(1, i.to(other))


@devices
def test_zero_d_and_empty_edges_follow_pytorch(device):
    s = engine.tensor(3.0, device=device)
    assert s.scatter(0, engine.tensor([0], device=device), 2.0).tolist() == 2.0
    assert s.scatter_add(0, engine.tensor([0], device=device), engine.tensor([5.0], device=device)).item() == 8.0
    assert s.gather(0, engine.tensor(0, device=device)).shape == ()
    assert s.index_select(0, engine.tensor([0], device=device)).shape == ()
    assert s.flip(0).item() == 3.0 and s.roll(2).item() == 3.0 and s.movedim(0, 0).item() == 3.0
    assert engine.zeros(4, device=device).scatter(0, engine.tensor(1, device=device), 2.0).tolist() == [0, 2, 0, 0]
    x = engine.ones(2, 3, device=device)
    nothing = engine.zeros(0, dtype=engine.int64, device=device)
    assert x.scatter(1, nothing, 5.0).equal(x) and x.scatter_add(1, nothing, x).equal(x)
    assert engine.zeros(0, 3, device=device).roll(1, 0).shape == (0, 3)
    assert x.tile(()).equal(x) and x.narrow(1, 3, 0).shape == (2, 0)
    assert x.narrow(1, engine.tensor(1, device=device), 2).shape == (2, 2)  # a 0-d index tensor as start
    assert [tuple(p.shape) for p in engine.zeros(0, device=device).split(0)] == [(0,)]


# ---- creation --------------------------------------------------------------------------------------------------
@devices
def test_normal_has_pytorchs_forms(device):
    engine.manual_seed(0)
    big = engine.normal(2.0, 3.0, (20000,), device=device)
    assert big.dtype == engine.float32 and big.shape == (20000,) and big.device == device
    assert abs(big.mean().item() - 2.0) < 0.1 and abs((big - 2.0).pow(2).mean().sqrt().item() - 3.0) < 0.1
    assert engine.normal(0, 1, size=(2, 3), dtype=engine.float64, device=device).dtype == engine.float64
    mean = engine.arange(4.0, device=device).reshape(4, 1) * 100
    out = engine.normal(mean, engine.full((3,), 0.01, device=device))
    assert out.shape == (4, 3) and out.device == device and (out - mean).abs().max().item() < 0.1
    assert engine.normal(mean).shape == (4, 1) and engine.normal(0.0, engine.ones(2, device=device)).shape == (2,)
    assert engine.normal(mean.double(), engine.ones(1, device=device)).dtype == engine.float64
    assert engine.normal(mean, engine.ones(1, dtype=engine.float64, device=device)).dtype == engine.float32
    assert engine.normal(engine.zeros(3, device=device), 0.0).tolist() == [0, 0, 0]
    engine.manual_seed(5)
    first = engine.normal(0.0, 1.0, (4,)).tolist()
    engine.manual_seed(5)
    assert engine.normal(0.0, 1.0, (4,)).tolist() == first
    # not reparameterised (PyTorch's NormalBackward): the result requires grad, the gradient is zero
    m = engine.zeros(3, requires_grad=True, device=device)
    s = engine.ones(3, requires_grad=True, device=device)
    drawn = engine.normal(m, s)
    assert drawn.requires_grad
    drawn.sum().backward()
    assert m.grad.tolist() == [0, 0, 0] and s.grad.tolist() == [0, 0, 0]
    assert engine.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad


def test_normal_mistakes_are_one_line():
    with one_line(engine.EngineValueError, ValueError, "normal", "std >= 0.0", "-1"):
        engine.normal(0.0, -1.0, (2,))
    with one_line(engine.EngineValueError, ValueError, "normal", "all elements of std"):
        engine.normal(engine.zeros(2), engine.tensor([1.0, -1.0]))
    with one_line(engine.EngineValueError, ValueError, "normal", "nan"):
        engine.normal(0.0, math.nan, (2,))
    with one_line(engine.EngineTypeError, TypeError, "normal", "size"):
        engine.normal(0.0, 1.0)
    with one_line(engine.EngineTypeError, TypeError, "normal", "size"):
        engine.normal(engine.zeros(3), 1.0, (3,))
    with one_line(engine.DTypeError, TypeError, "normal", "mean", "int64"):
        engine.normal(engine.zeros(3, dtype=engine.int64), 1.0)
    with one_line(engine.DTypeError, TypeError, "normal", "int64"):
        engine.normal(0, 1, (2,), dtype=engine.int64)
    with one_line(engine.ShapeError, ValueError, "normal", "(3,)", "(4,)"):
        engine.normal(engine.zeros(3), engine.ones(4))


@devices
def test_randint_randperm_and_the_ranges(device):
    engine.manual_seed(1)
    for draw, low, high in [
        (lambda: engine.randint(10, (50,), device=device), 0, 10),
        (lambda: engine.randint(3, 10, (50,), device=device), 3, 10),
        (lambda: engine.randint(high=4, size=(50,), device=device), 0, 4),
        (lambda: engine.randint(low=-5, high=-1, size=(50,), device=device), -5, -1),
        (lambda: engine.randint(10, size=engine.Size([5, 10]), device=device), 0, 10),
    ]:
        t = draw()
        assert t.dtype == engine.int64 and t.device == device and t.numel() == 50
        assert low <= t.min().item() and t.max().item() < high
    assert engine.randint(10, (3,), dtype=engine.float32).dtype == engine.float32
    assert engine.randint(0, 2, (2,), dtype=engine.float64, requires_grad=True).requires_grad
    assert engine.randint(10, (0,)).shape == (0,)
    perm = engine.randperm(7, device=device)
    assert sorted(perm.tolist()) == list(range(7)) and perm.dtype == engine.int64
    seeded = [engine.randperm(9, generator=np.random.default_rng(4)).tolist() for _ in range(2)]
    assert seeded[0] == seeded[1] == np.random.default_rng(4).permutation(9).tolist()
    expected = np.random.default_rng(2).integers(0, 5, 3).tolist()
    assert engine.randint(5, (3,), generator=np.random.default_rng(2)).tolist() == expected
    with one_line(engine.EngineTypeError, TypeError, "randperm", "generator", "str"):
        engine.randperm(3, generator="seed")
    assert engine.randperm(5, dtype=engine.float32).dtype == engine.float32 and engine.randperm(0).shape == (0,)
    with one_line(engine.EngineValueError, ValueError, "randint", "low", "high"):
        engine.randint(5, 5, (3,))
    with one_line(engine.EngineTypeError, TypeError, "randint", "high", "float"):
        engine.randint(0, 5.5, (3,))
    with one_line(engine.EngineTypeError, TypeError, "randint", "size"):
        engine.randint(0, 5)
    with one_line(engine.DTypeError, TypeError, "requires_grad", "int64"):
        engine.randint(0, 2, (2,), requires_grad=True)
    with one_line(engine.EngineValueError, ValueError, "randperm", "-1"):
        engine.randperm(-1)


@needs_torch
@devices
def test_ranges_and_likes_match_pytorch(device):
    cases = [
        ("arange", (0, 1, 0.1), {}), ("arange", (1, 2.5, 0.5), {}), ("arange", (0.5, 3), {}), ("arange", (5.0,), {}),
        ("arange", (0, 1, 0.3), {"dtype": "float64"}), ("arange", (10, 0, -3), {}), ("arange", (-1.0, 1.0, 0.25), {}),
        ("linspace", (0, 1, 5), {}), ("linspace", (0, 10, 5), {"dtype": "int64"}), ("linspace", (-2, 2, 1), {}),
        ("logspace", (0, 2, 3), {}), ("logspace", (0, 2, 3), {"base": 2}), ("logspace", (-1, 1, 7), {}),
        ("logspace", (0, 2, 3), {"dtype": "int64"}), ("logspace", (0, 1, 0), {}), ("logspace", (0, 1, 1), {}),
        ("logspace", (-1, 1, 5), {"base": -2}), ("logspace", (1, 3, 4), {"dtype": "float64", "base": 3}),
        ("eye", (3,), {}), ("eye", (2, 4), {"dtype": "int64"}),
    ]
    for name, args, kwargs in cases:
        ours = getattr(engine, name)(*args, device=device, **{k: getattr(engine, v) if k == "dtype" else v
                                                               for k, v in kwargs.items()})
        theirs = getattr(torch, name)(*args, **{k: getattr(torch, v) if k == "dtype" else v
                                                for k, v in kwargs.items()})
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (name, args, kwargs)
        assert tuple(ours.shape) == tuple(theirs.shape), (name, args, kwargs)
        assert_close(ours, theirs.numpy(), rtol=2e-7 if ours.dtype == engine.float32 else 1e-12, atol=0)
    source = engine.zeros(2, 3, dtype=engine.int64, device=device)
    truncated = engine.full_like(source, 2.7)
    assert truncated.tolist() == [[2, 2, 2]] * 2 and truncated.dtype == engine.int64
    assert engine.full_like(source.bool(), 2).dtype == engine.bool
    assert engine.full_like(source.float(), 2).tolist()[0][0] == 2.0
    blank = engine.empty_like(source)
    assert blank.dtype == engine.int64 and blank.shape == (2, 3) and blank.device == device and not blank.any()
    assert engine.empty_like(source, dtype=engine.float64).dtype == engine.float64
    assert engine.empty_like(source.float(), requires_grad=True).requires_grad
    for make in (engine.zeros, engine.ones, engine.empty, engine.rand, engine.randn):
        assert make(engine.Size([2, 3]), device=device).shape == (2, 3)
        assert make(size=(2, 3)).shape == (2, 3) and make([2, 3]).shape == (2, 3) and make(()).shape == ()
        assert make(torch.Size([4])).shape == (4,)
        with one_line(engine.EngineTypeError, TypeError, "twice"):
            make(2, size=(2,))
    assert engine.zeros(2, 3, dtype=engine.int64).dtype == engine.int64 and engine.ones(size=[2]).tolist() == [1, 1]


def test_legacy_constructors_read_sizes_and_data_as_pytorch():
    w = engine.Tensor(784, 30)
    assert w.shape == (784, 30) and w.dtype == engine.float32 and not w.any()
    assert engine.Tensor(3).shape == (3,) and engine.Tensor(0).shape == (0,) and engine.Tensor().shape == (0,)
    assert engine.Tensor(engine.Size([2, 3])).shape == (2, 3) and engine.Tensor(np.int64(2)).shape == (2,)
    assert engine.Tensor((2, 3)).tolist() == [2.0, 3.0] and engine.Tensor([2, 3]).dtype == engine.float32
    assert engine.Tensor(np.array([1, 2])).tolist() == [1.0, 2.0]
    assert engine.Tensor(engine.tensor([1, 2])).dtype == engine.int64  # a tensor keeps its dtype, as in PyTorch
    assert engine.Tensor(2, 3, device="numpy").device == "numpy"
    assert engine.FloatTensor(2, 3).shape == (2, 3) and engine.FloatTensor(engine.Size([2])).tolist() == [0.0, 0.0]
    assert engine.LongTensor(2, 3).dtype == engine.int64 and engine.LongTensor([2.7, 3]).tolist() == [2, 3]
    assert engine.DoubleTensor(1, 1).dtype == engine.float64 and engine.ByteTensor(2).dtype == engine.uint8
    assert engine.BoolTensor(2).tolist() == [False, False] and engine.BoolTensor([1, 0]).tolist() == [True, False]
    assert engine.FloatTensor([[1, 2]]).tolist() == [[1.0, 2.0]] and engine.FloatTensor().shape == (0,)
    if HAS_TORCH:
        for args in [(2, 3), (3,), (0,), (torch.Size([2, 3]),), ((2, 3),), ([2, 3],), ()]:
            assert tuple(engine.Tensor(*args).shape) == tuple(torch.Tensor(*args).shape), args
    with one_line(engine.EngineTypeError, TypeError, "Tensor", "sequence", "float"):
        engine.Tensor(2.5)
    with one_line(engine.EngineTypeError, TypeError, "Tensor", "sequence", "bool"):
        engine.Tensor(True)
    with one_line(engine.EngineTypeError, TypeError, "FloatTensor", "integers", "3.0"):
        engine.FloatTensor(2, 3.0)
    with one_line(engine.EngineValueError, ValueError, "Tensor", "negative", "(2, -1)"):
        engine.Tensor(2, -1)
