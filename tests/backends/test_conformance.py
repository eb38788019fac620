"""The backend contract, primitive by primitive, on every registered backend (as needle's backend tests).

Every required primitive of ``engine.backends.base.Backend`` (``base.REQUIRED``) runs on every
device of ``tensor_helpers.DEVICES`` (numpy, c when built, and the opaque test backend) on edge
shapes (0-size, 1, the primes 7 and 13, 0-d), on views a backend must read (transposed storage,
every other element, negative steps, expanded with stride 0) and in float32 and float64 (int64 and
bool where the primitive takes them), against the numpy reference reading compact copies of the
same numbers. Each result must have the reference's shape and dtype, be the backend's own array
type, and be compact unless the method returns a view.

Every fast path (``base.FAST_PATHS``) runs too: a forward fast path a backend overrides must agree
with ``base.Backend``'s default composed from its own primitives; a backward fast path it overrides
must agree with the op's derivative in ``engine.ops.neural``; all of them with the numpy reference.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from tensor_helpers import DEVICES

from engine.backends import base, get_backend
from engine.backends.base import Backend
from engine.errors import EngineValueError
from engine.ops import neural

REF = get_backend("numpy")
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
INT64, BOOL = np.dtype(np.int64), np.dtype(np.bool_)

pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")


# ---- inputs: the same numbers in every layout ------------------------------------------------------------


class Case(NamedTuple):
    """One input: ``values`` (compact, what the reference reads) and ``make(bk)``, the same numbers on
    backend ``bk`` in the layout ``label`` names."""

    label: str
    values: np.ndarray
    make: Callable


def random(shape: tuple, dtype, rng, special: bool = False) -> np.ndarray:
    """Random values of ``dtype``: floats in [-2, 2) (with NaN, +-inf, +-0 first when ``special``),
    int64 in [-5, 5), bools."""
    dtype = np.dtype(dtype)
    if dtype == BOOL:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype == INT64:
        return np.asarray(rng.integers(-5, 5, size=shape), dtype=np.int64)
    out = rng.uniform(-2, 2, size=shape).astype(dtype)
    if special and out.size:
        flat = out.reshape(-1)
        specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype)
        flat[: min(5, flat.size)] = specials[: min(5, flat.size)]
    return out


def views(values: np.ndarray) -> list:
    """(label, numpy view) pairs with ``values``' numbers: compact, transposed storage, every other
    element of a bigger buffer, and reversed (negative strides)."""
    out = [("compact", values)]
    if values.ndim >= 2:
        out.append(("transposed", np.ascontiguousarray(np.swapaxes(values, -1, -2)).swapaxes(-1, -2)))
    if values.ndim >= 1:
        big = np.zeros(tuple(2 * n + 1 for n in values.shape), values.dtype)
        every_other = tuple(slice(1, 2 * n + 1, 2) for n in values.shape)
        big[every_other] = values
        out.append(("stepped", big[every_other]))
        backwards = (slice(None, None, -1),) * values.ndim
        out.append(("reversed", np.ascontiguousarray(values[backwards])[backwards]))
    for label, v in out:
        np.testing.assert_array_equal(v, values, err_msg=label)
    return out


def cases(shape: tuple, dtype, seed: int = 0, special: bool = False, expand: bool = True) -> list:
    """Every layout of one random array of ``shape``, plus (``expand``) the same shape expanded from a
    smaller array (stride 0 on the repeated axes)."""
    rng = np.random.default_rng(seed)
    values = random(shape, dtype, rng, special)
    out = [Case(label, values, lambda bk, v=v: bk.from_numpy(v)) for label, v in views(values)]
    if expand and any(n > 1 for n in shape):
        small = tuple(1 if i == min(d for d, n in enumerate(shape) if n > 1) else n for i, n in enumerate(shape))
        base_values = random(small, dtype, rng, special)
        out.append(Case(f"expanded from {small}", np.broadcast_to(base_values, shape).copy(),
                        lambda bk, b=base_values: bk.expand(bk.from_numpy(b.copy()), shape)))
    if shape and expand:
        base_values = random((), dtype, rng, special)
        out.append(Case("expanded from ()", np.broadcast_to(base_values, shape).copy(),
                        lambda bk, b=base_values: bk.expand(bk.from_numpy(b.copy()), shape)))
    return out


SHAPES = [(), (0,), (1,), (7,), (13,), (3, 0), (1, 1), (7, 13), (2, 3, 5)]


# ---- checks ------------------------------------------------------------------------------------------------


# base.py: outputs own their memory; a compiled backend makes them compact, while the numpy reference
# (and the opaque backend, which runs it) may keep an input's memory order, as numpy and PyTorch do.
LOOSE_LAYOUT = {"numpy", "opaque"}


def array_type(bk) -> type:
    return type(bk.full((), 0, np.float32))


def tolerance(dtype) -> dict:
    if np.dtype(dtype) == np.float32:
        return {"rtol": 1e-5, "atol": 1e-5}
    return {"rtol": 1e-12, "atol": 1e-12}


def check(bk, got, want, what: str, view: bool = False, exact: bool = False) -> None:
    """``got`` (on ``bk``) equals the reference's answer ``want`` (host): same shape and dtype, the
    backend's own array type, compact unless it is a ``view``; values equal (NaN where NaN), within
    the dtype's tolerance unless ``exact``."""
    want = np.asarray(want)
    assert type(got) is array_type(bk), f"{what}: {type(got).__name__}, not the backend's array type"
    host = bk.to_numpy(got)
    assert host.shape == want.shape, f"{what}: shape {host.shape}, reference {want.shape}"
    assert host.dtype == want.dtype, f"{what}: dtype {host.dtype}, reference {want.dtype}"
    if not view and bk.name not in LOOSE_LAYOUT:
        assert bk.is_contiguous(got), f"{what}: the result is not compact"
    if exact or want.dtype.kind not in "f":
        np.testing.assert_array_equal(host, want, err_msg=what)
    else:
        np.testing.assert_allclose(host, want, equal_nan=True, err_msg=what, **tolerance(want.dtype))


def check_pair(bk, got, want, what: str, **kwargs) -> None:
    """``check`` over tuples (None where the reference has None)."""
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    assert isinstance(got, tuple) and len(got) == len(want), f"{what}: {got!r}"
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, f"{what}[{i}]: expected None"
        else:
            check(bk, g, REF.to_numpy(w) if isinstance(w, np.ndarray) else w, f"{what}[{i}]", **kwargs)


@pytest.fixture(params=DEVICES)
def bk(request):
    return get_backend(request.param)


# ---- the contract itself --------------------------------------------------------------------------------------


def test_every_backend_implements_every_required_primitive(bk):
    assert isinstance(bk, Backend)
    assert len(base.REQUIRED) >= 20
    for name in base.REQUIRED:
        method = getattr(type(bk), name)
        assert not getattr(method, "__isabstractmethod__", False), f"{bk.name} does not implement {name}"
    for name in base.FAST_PATHS:
        assert callable(getattr(bk, name)), name


def test_a_backend_missing_one_primitive_cannot_be_made():
    complete = {name: (lambda self, *args, **kwargs: None) for name in base.REQUIRED}
    type("Complete", (Backend,), complete)()  # the premise: all of them is enough
    for name in base.REQUIRED:
        partial = type(f"Without_{name}", (Backend,), {k: v for k, v in complete.items() if k != name})
        with pytest.raises(TypeError, match=name):
            partial()


# ---- storage and transfer -------------------------------------------------------------------------------------


def test_storage(bk):
    for shape, dtype in itertools.product(SHAPES, (*FLOATS, INT64, BOOL)):
        for case in cases(shape, dtype, seed=len(shape)):
            what = f"{bk.name} {dtype} {shape} {case.label}"
            x = case.make(bk)
            np.testing.assert_array_equal(bk.to_numpy(x), case.values, err_msg=f"to_numpy of {what}")
            check(bk, bk.copy(x), case.values, f"copy of {what}", exact=True)
            for target in (*FLOATS, INT64, BOOL):
                if dtype.kind == "f" and target.kind != "f":
                    continue  # NaN and inf have no integer value (undefined in C, numpy warns)
                check(bk, bk.astype(x, target), REF.astype(case.values, target), f"astype {target} of {what}")
        for value in (0, 1.5, -3):
            if dtype != BOOL:
                check(bk, bk.full(shape, value, dtype), REF.full(shape, value, dtype), f"full {shape} {dtype}")
    # zeros and the one-element read, built on full and to_numpy
    check(bk, bk.zeros((3, 0), np.float32), np.zeros((3, 0), np.float32), "zeros")
    assert bk.scalar(bk.full((1, 1), 2.5, np.float64)) == 2.5


def test_fill_writes_every_layout_in_place(bk):
    for dtype in (*FLOATS, INT64):
        for shape in ((), (0,), (7,), (7, 13)):
            for case in cases(shape, dtype, expand=False):
                x = case.make(bk)
                bk.fill(x, 3)
                np.testing.assert_array_equal(bk.to_numpy(x), np.full(shape, 3, dtype), err_msg=f"{case.label}")


# ---- layout: views ----------------------------------------------------------------------------------------------


def test_views(bk):
    for shape, dtype in itertools.product(SHAPES, (np.dtype(np.float32), INT64)):
        for case in cases(shape, dtype):
            what = f"{bk.name} {shape} {case.label}"
            x = case.make(bk)
            # every layout but the compact one really is strided here (the premise of the other tests)
            assert bk.is_contiguous(x) == (case.label == "compact" or case.values.size <= 1), f"is_contiguous {what}"
            if case.values.size:  # an empty array: see test_an_empty_array_has_no_internal_overlap
                overlap = case.label.startswith("expanded") and case.values.size > 1
                assert bk.internal_overlap(x) == overlap, f"internal_overlap of {what}"
            flat = bk.reshape(x, (-1,))
            check(bk, flat, case.values.reshape(-1), f"reshape of {what}", view=True, exact=True)
            if case.label == "compact":
                assert bk.is_view(flat), f"reshape of a compact array is a view: {what}"
            axes = tuple(reversed(range(len(shape))))
            permuted = bk.permute(x, axes)
            check(bk, permuted, case.values.transpose(axes), f"permute of {what}", view=True, exact=True)
            assert bk.is_view(permuted)
            assert not bk.is_view(bk.copy(x))
            wide = (2, *shape)
            check(bk, bk.expand(x, wide), np.broadcast_to(case.values, wide), f"expand of {what}", view=True)


# ---- elementwise ------------------------------------------------------------------------------------------------

UNARY_CASES = [(op, 0.0) for op in base.UNARY if op not in ("leaky_relu", "elu", "pow")]
UNARY_CASES += [("leaky_relu", 0.1), ("elu", 1.0), ("elu", 0.5)]
UNARY_CASES += [("pow", a) for a in (2.0, 0.5, -1.5, 3.0)]
INTEGER_UNARY = ("neg", "relu", "abs", "sign")


def test_unary(bk):
    for (op, alpha), shape, dtype in itertools.product(UNARY_CASES, SHAPES, FLOATS):
        for case in cases(shape, dtype, seed=7, special=True):
            got = bk.unary(op, case.make(bk), alpha)
            check(bk, got, REF.unary(op, case.values, alpha), f"{bk.name} {op}({alpha}) {dtype} {shape} {case.label}")
    for op, shape in itertools.product(INTEGER_UNARY, SHAPES):
        for case in cases(shape, INT64, seed=3):
            check(bk, bk.unary(op, case.make(bk)), REF.unary(op, case.values), f"{bk.name} {op} int64 {shape}")
    for case in cases((7, 13), BOOL):
        check(bk, bk.unary("sign", case.make(bk)), REF.unary("sign", case.values), f"{bk.name} sign bool")


# shapes that broadcast, including 0-size and 0-d
PAIRS = [((), ()), ((7,), (7,)), ((7, 13), (7, 13)), ((7, 13), (13,)), ((7, 1), (1, 13)), ((3, 0), (1,)),
         ((), (7,)), ((1,), (2, 3, 5)), ((2, 3, 5), (3, 1))]


def _operand_pairs(shape_a, shape_b, dtype, seed, special=False):
    """(label, values a, values b, make a, make b): layouts of a with compact b, compact a with
    layouts of b, and a Python number on either side."""
    a_cases = cases(shape_a, dtype, seed, special)
    b_cases = cases(shape_b, dtype, seed + 1, special)
    for ca in a_cases:
        yield f"a {ca.label}", ca.values, b_cases[0].values, ca.make, b_cases[0].make
    for cb in b_cases[1:]:
        yield f"b {cb.label}", a_cases[0].values, cb.values, a_cases[0].make, cb.make
    number = 1.5 if dtype.kind == "f" else 3
    yield "b a number", a_cases[0].values, number, a_cases[0].make, lambda bk: number
    yield "a a number", number, b_cases[0].values, lambda bk: number, b_cases[0].make


def test_binary(bk):
    for op, (sa, sb), dtype in itertools.product(base.BINARY, PAIRS, (*FLOATS, INT64)):
        if dtype == INT64 and op in ("div", "pow"):
            continue  # the tensor layer promotes integer division; integer powers go through numpy's rules
        for label, a, b, make_a, make_b in _operand_pairs(sa, sb, dtype, seed=len(sa), special=True):
            want = REF.binary(op, a, b)
            check(bk, bk.binary(op, make_a(bk), make_b(bk)), want, f"{bk.name} {op} {dtype} {sa} {sb} {label}")


def test_compare(bk):
    for op, (sa, sb), dtype in itertools.product(base.COMPARE, PAIRS, (*FLOATS, INT64)):
        for label, a, b, make_a, make_b in _operand_pairs(sa, sb, dtype, seed=2, special=True):
            want = REF.compare(op, a, b)
            check(bk, bk.compare(op, make_a(bk), make_b(bk)), want, f"{bk.name} {op} {dtype} {sa} {sb} {label}")


def test_where(bk):
    for (sa, sb), dtype in itertools.product(PAIRS, (*FLOATS, INT64)):
        out_shape = np.broadcast_shapes(sa, sb)
        for cond in cases(out_shape, BOOL, seed=5):
            for label, a, b, make_a, make_b in _operand_pairs(sa, sb, dtype, seed=4, special=True):
                got = bk.where(cond.make(bk), make_a(bk), make_b(bk))
                check(bk, got, REF.where(cond.values, a, b), f"{bk.name} where {dtype} cond {cond.label} {label}",
                      exact=True)


# ---- reductions -------------------------------------------------------------------------------------------------


def _axes_for(ndim: int) -> list:
    """None (everything), each axis (and the last as -1), the first two, and no axis at all."""
    out = [None, ()] + [(d,) for d in range(ndim)]
    if ndim:
        out.append((-1,))
    if ndim >= 2:
        out.append((0, 1))
    return out


def test_sum(bk):
    for shape, dtype in itertools.product(SHAPES, (*FLOATS, INT64, BOOL)):
        for case, axes, keepdim in itertools.product(cases(shape, dtype, seed=9), _axes_for(len(shape)), (False, True)):
            got = bk.sum(case.make(bk), axes, keepdim)
            check(bk, got, REF.sum(case.values, axes, keepdim), f"{bk.name} sum {axes} keepdim={keepdim} "
                  f"{dtype} {shape} {case.label}")


def test_max_and_min(bk):
    for kind, shape, dtype in itertools.product(("max", "min"), SHAPES, (*FLOATS, INT64)):
        for case in cases(shape, dtype, seed=11):
            for axis, keepdim, arg in itertools.product([None, *range(len(shape))], (False, True), (True, False)):
                what = f"{bk.name} {kind} axis {axis} keepdim={keepdim} {dtype} {shape} {case.label}"
                reduced = case.values.size if axis is None else shape[axis]
                if reduced == 0:
                    with pytest.raises(ValueError):
                        getattr(bk, kind)(case.make(bk), axis, keepdim, arg)
                    continue
                got = getattr(bk, kind)(case.make(bk), axis, keepdim, arg)
                check_pair(bk, got, getattr(REF, kind)(case.values, axis, keepdim, arg), what, exact=True)
    # NaN wins, the first one; ties give the first index
    x = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, -1.0, -1.0]])
    for kind in ("max", "min"):
        got = getattr(bk, kind)(bk.from_numpy(x), 1)
        check_pair(bk, got, getattr(REF, kind)(x, 1), f"{bk.name} {kind} with NaN and ties", exact=True)


# ---- matmul -----------------------------------------------------------------------------------------------------

MATMUL_SHAPES = [  # (a, b) without transposes: (..., m, k) @ (..., k, n)
    ((7, 13), (13, 5)), ((1, 1), (1, 1)), ((7, 13), (13, 1)), ((1, 13), (13, 7)), ((0, 3), (3, 4)),
    ((3, 0), (0, 4)), ((2, 7, 13), (13, 5)), ((7, 13), (3, 13, 5)), ((2, 1, 3, 4), (5, 4, 6)), ((0, 3, 4), (4, 2)),
]


def _flip(shape: tuple, flag: bool) -> tuple:
    return (*shape[:-2], shape[-1], shape[-2]) if flag else shape


def test_matmul(bk):
    for (sa, sb), ta, tb, dtype in itertools.product(MATMUL_SHAPES, (False, True), (False, True), (*FLOATS, INT64)):
        a_cases = cases(_flip(sa, ta), dtype, seed=1)
        b_cases = cases(_flip(sb, tb), dtype, seed=2)
        pairs = [(ca, b_cases[0]) for ca in a_cases] + [(a_cases[0], cb) for cb in b_cases[1:]]
        for ca, cb in pairs:
            what = f"{bk.name} matmul {sa} @ {sb} flags {ta} {tb} {dtype} a {ca.label} b {cb.label}"
            got = bk.matmul(ca.make(bk), cb.make(bk), ta, tb)
            check(bk, got, REF.matmul(ca.values, cb.values, ta, tb), what)


# ---- indexing and data movement ---------------------------------------------------------------------------------

KEYS = [
    (3,), (-1,), (slice(1, 6, 2),), (slice(None, None, -3),), (Ellipsis, 2), (None, slice(2, 5)),
    (slice(None), slice(12, 0, -4)), (np.array([0, 6, 6, 2]),), (slice(None), np.array([12, 0, 0])),
    (np.array([True, False, True, False, False, True, True]),), (np.array([1, 2]), np.array([3, 4])),
]


def test_getitem_setitem_and_index_add(bk):
    for dtype, key in itertools.product((*FLOATS, INT64), KEYS):
        for case in cases((7, 13), dtype, seed=13, expand=False):
            what = f"{bk.name} [{key}] {dtype} {case.label}"
            basic = not any(isinstance(k, np.ndarray) for k in key)
            x = case.make(bk)
            picked = bk.getitem(x, key)
            want = REF.getitem(case.values, key)
            # getitem promises a view or a copy, not a compact copy
            check(bk, picked, want, f"getitem {what}", view=True, exact=True)
            if basic:  # an index array's copy: see test_an_advanced_index_copy_is_not_a_view
                assert bk.is_view(picked), f"is_view of getitem {what}"
            g = random(want.shape, dtype, np.random.default_rng(1))
            check(bk, bk.index_add((7, 13), key, bk.from_numpy(g)), REF.index_add((7, 13), key, g), f"index_add {what}")
            for value in (2, random(want.shape, dtype, np.random.default_rng(2))):
                target, expect = bk.copy(x), case.values.copy()
                bk.setitem(target, key, bk.from_numpy(value) if isinstance(value, np.ndarray) else value)
                REF.setitem(expect, key, value)
                check(bk, target, expect, f"setitem {what}", exact=True)
    # rows: a 1-D target, 0-size gradients, and a strided gradient
    for dtype in FLOATS:
        rows = np.array([4, 0, 4, 12])
        g = random((4,), dtype, np.random.default_rng(3))
        check(bk, bk.index_add((13,), (rows,), bk.from_numpy(g)), REF.index_add((13,), (rows,), g), "index_add 1-D")
        empty = np.zeros((0, 5), dtype)
        got = bk.index_add((7, 5), (np.zeros(0, np.int64),), bk.from_numpy(empty))
        check(bk, got, np.zeros((7, 5), dtype), "index_add of nothing")
        for case in cases((4, 5), dtype, seed=4, expand=True):
            got = bk.index_add((13, 5), (rows,), case.make(bk))
            check(bk, got, REF.index_add((13, 5), (rows,), case.values), f"index_add rows {case.label}")


def _index(shape: tuple, limit: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, limit, size=shape).astype(np.int64)


GATHERS = [  # (x shape, axis, index shape)
    ((7, 13), 1, (7, 3)), ((7, 13), 0, (4, 13)), ((7, 13), -1, (7, 1)), ((7, 13), 1, (1, 5)), ((13,), 0, (20,)),
    ((2, 3, 5), 1, (2, 4, 5)), ((7, 13), 1, (7, 0)), ((0, 3), 1, (0, 2)), ((1, 13), 0, (3, 13)),
]


def test_gather_and_scatter_add(bk):
    for (xs, axis, ishape), dtype in itertools.product(GATHERS, (*FLOATS, INT64)):
        index = _index(ishape, xs[axis], seed=len(ishape))
        out_shape = tuple(n if d == axis % len(xs) else max(n, i) for d, (n, i) in enumerate(zip(xs, ishape)))
        for label, ix in views(index):  # the index in every layout too
            for xc in cases(xs, dtype, seed=6):
                what = f"{bk.name} gather {xs} axis {axis} index {ishape} {label} {dtype} x {xc.label}"
                got = bk.gather(xc.make(bk), axis, bk.from_numpy(ix))
                check(bk, got, REF.gather(xc.values, axis, index), what, exact=True)
            for sc in cases(ishape, dtype, seed=8):
                what = f"{bk.name} scatter_add {out_shape} axis {axis} index {ishape} {label} {dtype} src {sc.label}"
                got = bk.scatter_add(out_shape, axis, bk.from_numpy(ix), sc.make(bk))
                check(bk, got, REF.scatter_add(out_shape, axis, index, sc.values), what)


def test_concatenate(bk):
    for dtype, axis in itertools.product((*FLOATS, INT64, BOOL), (0, 1, -1)):
        parts = [cases(shape, dtype, seed=i, expand=True) for i, shape in enumerate([(3, 4), (3, 4), (3, 4)])]
        for choice in zip(*parts):
            got = bk.concatenate([c.make(bk) for c in choice], axis)
            want = REF.concatenate([c.values for c in choice], axis)
            # layout: see test_the_reference_returns_compact_arrays
            check(bk, got, want, f"{bk.name} concatenate axis {axis} {dtype} {[c.label for c in choice]}", exact=True,
                  view=True)
    check(bk, bk.concatenate([bk.from_numpy(np.zeros((0, 2))), bk.from_numpy(np.ones((3, 2)))], 0), np.ones((3, 2)),
          "concatenate with an empty part", exact=True)


# ---- fast paths ------------------------------------------------------------------------------------------------


def overrides(bk, name: str) -> bool:
    """Whether ``bk``'s class replaces base.Backend's ``name``."""
    return getattr(type(bk), name) is not getattr(Backend, name)


def run_fast_path(bk, name: str, *args):
    """Fast path ``name`` as an op runs it on ``bk``: its own answer, or (a backward one answering
    NotImplemented) the op's derivative from engine.ops.neural on the same backend."""
    out = getattr(bk, name)(*args)
    if out is NotImplemented:
        assert name.endswith("_backward"), f"{bk.name}.{name} answered NotImplemented"
        out = getattr(neural, name)(bk, *args)
    return out


def default_of(bk, name: str, *args):
    """What ``bk`` would answer without its override: base.Backend's composed default (forward), or
    the op's derivative (backward)."""
    if name.endswith("_backward"):
        return getattr(neural, name)(bk, *args)
    return getattr(Backend, name)(bk, *args)


def compare_fast_path(bk, name: str, dev_args: tuple, host_args: tuple, what: str, answered: dict) -> None:
    """The backend's fast path against the numpy reference's composed default (or derivative), and,
    when the backend overrides it, against its own default on the same inputs."""
    want = default_of(REF, name, *host_args)
    got = run_fast_path(bk, name, *dev_args)
    check_pair(bk, got, want, f"{what} vs the reference")
    if overrides(bk, name):
        own = getattr(bk, name)(*dev_args)
        if own is not NotImplemented:
            answered[name] = answered.get(name, 0) + 1
            check_pair(bk, own, default_of(bk, name, *dev_args), f"{what} vs its own default")


def _dev(bk, x):
    return bk.from_numpy(x) if isinstance(x, np.ndarray) else x


def assert_answered(bk, answered: dict, *names: str) -> None:
    """Each fast path ``bk`` overrides answered at least once (else its comparison with the
    op's derivative never ran)."""
    for name in names:
        if overrides(bk, name):
            assert answered.get(name, 0) > 0, f"{bk.name}.{name} never answered: its comparison never ran"


def test_linear(bk):
    answered: dict = {}
    rng = np.random.default_rng(21)
    for (m, k, n), act, dtype, bias in itertools.product(
        [(7, 13, 5), (1, 1, 1), (0, 3, 2), (4, 2, 8), (3, 0, 2)], base.ACTIVATIONS, FLOATS, (True, False)
    ):
        b = random((n,), dtype, rng) if bias else None
        w = random((n, k), dtype, rng)
        for xc in cases((m, k), dtype, seed=m, expand=False):
            what = f"{bk.name} linear ({m}, {k}) -> {n} act {act} {dtype} bias {bias} x {xc.label}"
            x = xc.make(bk)
            compare_fast_path(bk, "linear_forward", (x, _dev(bk, w), _dev(bk, b), act), (xc.values, w, b, act),
                              what, answered)
            y = REF.linear_forward(xc.values, w, b, act)
            gy = random(y.shape, dtype, rng)
            for need_x, need_bias in ((True, True), (False, True), (True, False)):
                compare_fast_path(
                    bk, "linear_backward", (x, _dev(bk, w), _dev(bk, y), _dev(bk, gy), act, need_x, need_bias),
                    (xc.values, w, y, gy, act, need_x, need_bias), f"{what} backward {need_x} {need_bias}", answered,
                )
    assert_answered(bk, answered, "linear_forward", "linear_backward")


SOFTMAX_CASES = [((), 0), ((), -1), ((0,), 0), ((1,), 0), ((7,), 0), ((7, 13), 1), ((7, 13), 0), ((7, 13), -1),
                 ((2, 3, 5), 1), ((3, 0), 0), ((3, 0), 1), ((13, 1), 1)]


def test_softmax(bk):
    answered: dict = {}
    for (shape, axis), log, dtype in itertools.product(SOFTMAX_CASES, (False, True), FLOATS):
        for xc in cases(shape, dtype, seed=3):
            what = f"{bk.name} {'log_' if log else ''}softmax {shape} axis {axis} {dtype} {xc.label}"
            compare_fast_path(bk, "softmax", (xc.make(bk), axis, log), (xc.values, axis, log), what, answered)
            y = REF.softmax(xc.values, axis, log)
            for gc in cases(shape, dtype, seed=4)[:3]:
                compare_fast_path(bk, "softmax_backward", (_dev(bk, y), gc.make(bk), axis, log),
                                  (y, gc.values, axis, log), f"{what} backward, g {gc.label}", answered)
    assert_answered(bk, answered, "softmax", "softmax_backward")


def test_cross_entropy(bk):
    answered: dict = {}
    rng = np.random.default_rng(23)
    for (n, c), dtype in itertools.product([(7, 13), (1, 1), (0, 4), (13, 2)], FLOATS):
        target = rng.integers(0, c, size=n).astype(np.int64)
        for lc in cases((n, c), dtype, seed=n, expand=False):
            what = f"{bk.name} cross_entropy ({n}, {c}) {dtype} {lc.label}"
            compare_fast_path(bk, "cross_entropy", (lc.make(bk), _dev(bk, target)), (lc.values, target), what,
                              answered)
            for gloss in (np.array(0.25, dtype), random((n,), dtype, rng)):
                compare_fast_path(bk, "cross_entropy_backward", (lc.make(bk), _dev(bk, target), _dev(bk, gloss)),
                                  (lc.values, target, gloss), f"{what} backward gloss {gloss.shape}", answered)
    assert_answered(bk, answered, "cross_entropy", "cross_entropy_backward")


def test_difference_losses(bk):
    answered: dict = {}
    rng = np.random.default_rng(24)
    for kind, mean, dtype in itertools.product(("squared", "abs"), (True, False), FLOATS):
        for shape_a, shape_b in [((), ()), ((0,), (0,)), ((7, 13), (7, 13)), ((7,), (7,)), ((7, 13), (13,))]:
            b = random(shape_b, dtype, rng)
            for ac in cases(shape_a, dtype, seed=5):
                what = f"{bk.name} {kind} loss mean={mean} {dtype} {shape_a} {shape_b} a {ac.label}"
                compare_fast_path(bk, "difference_loss", (kind, ac.make(bk), _dev(bk, b), mean),
                                  (kind, ac.values, b, mean), what, answered)
                diff = REF.binary("sub", ac.values, b)
                if ac.label == "compact" and diff.size:  # an exact zero difference: L1's slope is 0 there
                    diff.reshape(-1)[0] = 0
                for g in (np.array(1.5, dtype), random(diff.shape, dtype, rng)):  # reduced, or reduction none
                    compare_fast_path(bk, "difference_loss_backward", (kind, _dev(bk, diff), _dev(bk, g), mean),
                                      (kind, diff, g, mean), f"{what} backward g {g.shape}", answered)
    assert_answered(bk, answered, "difference_loss", "difference_loss_backward")


def _updated(bk, name: str, how: str, state: dict, args: tuple, steps: int) -> dict:
    """Run an optimizer update ``steps`` times on copies of ``state`` (host arrays) placed on ``bk``
    (p as a transposed view when ``how`` says so); return the state after it, on the host."""
    dev = {}
    for key, value in state.items():
        if key == "p" and how == "transposed" and value.ndim == 2:
            dev[key] = bk.permute(bk.from_numpy(np.ascontiguousarray(value.T)), (1, 0))
        else:
            dev[key] = bk.from_numpy(value.copy())
    for step in range(1, steps + 1):
        if name == "sgd_update":
            lr, momentum, dampening, wd, nesterov = args
            call = (dev["p"], dev["g"], dev.get("buf"), lr, momentum, dampening, wd, nesterov, step == 1)
        else:
            lr, b1, b2, eps, wd = args
            call = (dev["p"], dev["g"], dev["m"], dev["v"], lr, b1, b2, eps, wd, step)
        if how == "default":
            getattr(Backend, name)(bk, *call)
        else:
            getattr(bk, name)(*call)
    return {key: bk.to_numpy(value).copy() for key, value in dev.items()}


def test_optimizer_updates(bk):
    rng = np.random.default_rng(25)
    settings = {
        "sgd_update": [(0.1, 0.0, 0.0, 0.0, False), (0.05, 0.9, 0.1, 0.01, True), (0.05, 0.9, 0.0, 0.0, False)],
        "adam_update": [(0.01, 0.9, 0.999, 1e-8, 0.0), (0.1, 0.8, 0.99, 1e-6, 0.01)],
    }
    for (name, all_args), shape, dtype in itertools.product(settings.items(), [(7, 13), (1,), (0,), ()], FLOATS):
        for args in all_args:
            state = {"p": random(shape, dtype, rng), "g": random(shape, dtype, rng)}
            if name == "sgd_update" and args[1]:
                state["buf"] = np.zeros(shape, dtype)
            if name == "adam_update":
                state["m"], state["v"] = np.zeros(shape, dtype), np.zeros(shape, dtype)
            want = _updated(REF, name, "default", state, args, steps=3)
            hows = ["own", "transposed"] + (["default"] if overrides(bk, name) else [])
            for how in hows:
                got = _updated(bk, name, how, state, args, steps=3)
                for key in want:
                    np.testing.assert_allclose(got[key], want[key], equal_nan=True, **tolerance(dtype),
                                               err_msg=f"{bk.name} {name} {args} {shape} {dtype} {how}: {key}")


def test_sgd_momentum_without_a_buffer_is_one_line(bk):
    # A regression: the c device's fast path passed NULL for the buffer and the kernel wrote through it
    # (the process died with SIGSEGV). Every backend, and the composed default, refuses it in one line.
    for dtype, shape in itertools.product(FLOATS, [(3,), (2, 5), ()]):
        p, g = bk.from_numpy(np.ones(shape, dtype)), bk.from_numpy(np.ones(shape, dtype))
        for update in (bk.sgd_update, lambda *a: Backend.sgd_update(bk, *a)):
            for nesterov, first in ((False, True), (True, False)):
                with pytest.raises(EngineValueError,
                                   match="^sgd update: momentum 0.9 needs a momentum buffer, got None$"):
                    update(p, g, None, 0.1, 0.9, 0.0, 0.0, nesterov, first)
        np.testing.assert_array_equal(bk.to_numpy(p), np.ones(shape, dtype))  # untouched


# ---- the shared host code (host.py) on the edges base.py's words cover ----------------------------------------


def test_the_reference_results_own_their_memory():
    # base.py: computed results are new arrays, not views; the numpy reference may keep an input's memory
    # order (as numpy and PyTorch do), while compiled backends promise compact results (checked above).
    t = np.arange(24.0).reshape(2, 4, 3).transpose(2, 1, 0)  # a transposed view
    results = {
        "unary": REF.unary("neg", t),
        "binary": REF.binary("add", t, 1.0),
        "sum": REF.sum(t, (2,)),
        "max": REF.max(t, 2)[0],
        "astype": REF.astype(t, np.float32),
        "concatenate": REF.concatenate([t, t], 0),
    }
    shared = [name for name, out in results.items() if np.shares_memory(out, t) or REF.is_view(out)]
    assert not shared, f"results that are views: {shared}"


def test_an_empty_array_has_no_internal_overlap():
    assert not REF.internal_overlap(np.zeros((3, 0)))
    assert not REF.internal_overlap(np.broadcast_to(np.zeros((1, 0)), (4, 0)))
    assert REF.internal_overlap(REF.expand(np.zeros((1, 3)), (4, 3)))


def test_an_advanced_index_copy_is_not_a_view():
    x = np.zeros((7, 13))
    assert not REF.is_view(REF.getitem(x, (slice(None), np.array([12, 0, 0]))))
    assert not REF.is_view(REF.getitem(x, (np.array([1, 2]), slice(None))))
    assert REF.is_view(REF.getitem(x, (slice(1, 3),)))
