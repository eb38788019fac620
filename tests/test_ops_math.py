"""Elementwise math and the reductions of issue 11 against PyTorch, on every device.

- forward values, shapes, dtypes and gradients of each op (``check_op``), float32 and float64;
- special values (NaN, +-inf, +-0, domain edges, halves for round) forward, and gradients at the
  points PyTorch makes a choice (a zero std or norm, zeros in prod and cumprod, tied or NaN
  maxima, all -inf logsumexp, crossed clamp bounds);
- integer and bool inputs (which ops keep the dtype, which become float32, which refuse);
- numpy's ``axis``/``keepdims`` aliases, the error messages;
- the two new primitives, ``scan`` and ``sort``, on every backend and layout against the numpy
  reference (stability, NaN order);
- hypothesis: every differentiable op's backward against central differences (``gradcheck``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensor_helpers import DEVICES, FLOAT_DTYPES, check_op, torch

import engine
from engine.backends import get_backend
from engine.testing import assert_close, gradcheck, strategies

# numpy's warnings for 1/0 and inf - inf (the answers are PyTorch's inf and NaN), and PyTorch's for a std of one value
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning",
                                        "ignore:.*degrees of freedom is <= 0:UserWarning")
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle here")
devices = pytest.mark.parametrize("device", DEVICES)
dtypes = pytest.mark.parametrize("dtype", FLOAT_DTYPES)

POS = {"low": 0.5, "high": 2.5}
UNIT = {"low": -0.9, "high": 0.9}

# name -> (engine fn, torch fn, input shapes, check_op keywords)
ELEMENTWISE = {
    "sin": (lambda a: a.sin(), lambda a: a.sin(), [(3, 4)], {}),
    "cos": (lambda a: engine.cos(a), lambda a: torch.cos(a), [(3, 4)], {}),
    "tan": (lambda a: a.tan(), lambda a: a.tan(), [(3, 4)], {"low": -1.2, "high": 1.2}),
    "asin": (lambda a: a.asin(), lambda a: a.asin(), [(3, 4)], UNIT),
    "acos": (lambda a: engine.arccos(a), lambda a: torch.arccos(a), [(3, 4)], UNIT),
    "atan": (lambda a: a.atan(), lambda a: a.atan(), [(3, 4)], {}),
    "sinh": (lambda a: a.sinh(), lambda a: a.sinh(), [(3, 4)], {}),
    "cosh": (lambda a: a.cosh(), lambda a: a.cosh(), [(3, 4)], {}),
    "asinh": (lambda a: a.asinh(), lambda a: a.asinh(), [(3, 4)], {}),
    "acosh": (lambda a: a.acosh(), lambda a: a.acosh(), [(3, 4)], {"low": 1.1, "high": 3.0}),
    "atanh": (lambda a: a.atanh(), lambda a: a.atanh(), [(3, 4)], UNIT),
    "exp2": (lambda a: a.exp2(), lambda a: a.exp2(), [(3, 4)], {}),
    "log2": (lambda a: a.log2(), lambda a: a.log2(), [(3, 4)], POS),
    "log10": (lambda a: engine.log10(a), lambda a: torch.log10(a), [(3, 4)], POS),
    "log1p": (lambda a: a.log1p(), lambda a: a.log1p(), [(3, 4)], UNIT),
    "expm1": (lambda a: a.expm1(), lambda a: a.expm1(), [(3, 4)], {}),
    "erf": (lambda a: a.erf(), lambda a: a.erf(), [(3, 4)], {}),
    "rsqrt": (lambda a: a.rsqrt(), lambda a: a.rsqrt(), [(3, 4)], POS),
    "reciprocal": (lambda a: a.reciprocal(), lambda a: a.reciprocal(), [(3, 4)], POS),
    "square": (lambda a: engine.square(a), lambda a: torch.square(a), [(3, 4)], {}),
    "floor": (lambda a: a.floor(), lambda a: a.floor(), [(3, 4)], {"low": -3, "high": 3}),
    "ceil": (lambda a: a.ceil(), lambda a: a.ceil(), [(3, 4)], {"low": -3, "high": 3}),
    "round": (lambda a: a.round(), lambda a: a.round(), [(3, 4)], {"low": -3, "high": 3}),
    "round_decimals": (lambda a: a.round(decimals=2), lambda a: a.round(decimals=2), [(3, 4)], {}),
    "round_tens": (lambda a: engine.round(a, decimals=-1), lambda a: torch.round(a, decimals=-1), [(3, 4)],
                   {"low": -99, "high": 99}),
    "trunc": (lambda a: a.trunc(), lambda a: a.trunc(), [(3, 4)], {"low": -3, "high": 3}),
    "fix": (lambda a: engine.fix(a), lambda a: torch.fix(a), [(3, 4)], {"low": -3, "high": 3}),
    "sign": (lambda a: a.sign(), lambda a: a.sign(), [(3, 4)], {}),
    "frac": (lambda a: a.frac(), lambda a: a.frac(), [(3, 4)], {"low": -3, "high": 3}),
    "clamp_min_number": (lambda a: a.clamp_min(0.3), lambda a: a.clamp_min(0.3), [(3, 4)], {}),
    "clamp_max_number": (lambda a: engine.clamp_max(a, -0.2), lambda a: torch.clamp_max(a, -0.2), [(3, 4)], {}),
    "clamp_min_tensor": (lambda a, b: a.clamp_min(b), lambda a, b: a.clamp_min(b), [(3, 4), (4,)], {}),
    "clamp_max_tensor": (lambda a, b: a.clamp_max(b), lambda a, b: a.clamp_max(b), [(3, 1), (3, 4)], {}),
    "clamp_tensors": (lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.clamp(b, c), [(3, 4), (4,), (3, 1)], {}),
    "clip_tensors": (lambda a, b: engine.clip(a, b, b + 1), lambda a, b: torch.clip(a, b, b + 1), [(3, 4), (3, 4)],
                     {}),
    "lerp_small": (lambda a, b: a.lerp(b, 0.3), lambda a, b: a.lerp(b, 0.3), [(3, 4), (4,)], {}),
    "lerp_large": (lambda a, b: engine.lerp(a, b, 0.8), lambda a, b: torch.lerp(a, b, 0.8), [(3, 4), (3, 4)], {}),
    "lerp_tensor": (lambda a, b, w: a.lerp(b, w), lambda a, b, w: a.lerp(b, w), [(3, 4), (3, 4), (4,)],
                    {"low": -1, "high": 1.5}),
    "atan2": (lambda a, b: a.atan2(b), lambda a, b: a.atan2(b), [(3, 4), (3, 4)], {}),
    "atan2_broadcast": (lambda a, b: engine.arctan2(a, b), lambda a, b: torch.arctan2(a, b), [(3, 1), (4,)], {}),
}


@needs_torch
@devices
@dtypes
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_against_torch(name, dtype, device):
    fn, tfn, shapes, kw = ELEMENTWISE[name]
    check_op(fn, tfn, shapes, dtype=dtype, device=device, grad="projection", **kw)


@needs_torch
@devices
@pytest.mark.parametrize("name", ["sin", "exp2", "floor", "sign", "atan2", "clamp_tensors", "lerp_large"])
def test_elementwise_on_non_contiguous_and_0d_inputs(name, device):
    fn, tfn, shapes, kw = ELEMENTWISE[name]
    def flipped(t):  # every axis reversed: a transposed view
        return t.permute(*reversed(range(t.ndim)))

    transposed = [tuple(reversed(s)) for s in shapes]
    check_op(lambda *xs: fn(*map(flipped, xs)), lambda *ts: tfn(*map(flipped, ts)), transposed, device=device, **kw)
    check_op(fn, tfn, [()] * len(shapes), device=device, **kw)
    check_op(fn, tfn, [(0, 4)] * len(shapes), device=device, **kw)


REDUCTIONS = {
    "std": (lambda a: a.std(), lambda a: a.std(), [(3, 4, 5)], {}),
    "std_dim": (lambda a: a.std(1), lambda a: a.std(1), [(3, 4, 5)], {}),
    "std_dims_keep": (lambda a: a.std((0, 2), keepdim=True), lambda a: a.std((0, 2), keepdim=True), [(3, 4, 5)], {}),
    "std_population": (lambda a: a.std(0, unbiased=False), lambda a: a.std(0, unbiased=False), [(3, 4)], {}),
    "std_positional_unbiased": (lambda a: a.std(False), lambda a: a.std(False), [(3, 4)], {}),
    "var": (lambda a: a.var(), lambda a: a.var(), [(3, 4)], {}),
    "var_correction": (lambda a: engine.var(a, -1, correction=2), lambda a: torch.var(a, -1, correction=2),
                       [(3, 4)], {}),
    "std_mean": (lambda a: engine.std_mean(a, 1), lambda a: torch.std_mean(a, 1), [(3, 4)], {}),
    "var_mean": (lambda a: engine.var_mean(a, (0, 1), keepdim=True),
                 lambda a: torch.var_mean(a, (0, 1), keepdim=True), [(3, 4)], {}),
    "norm": (lambda a: a.norm(), lambda a: a.norm(), [(3, 4)], {}),
    "norm_dim_keep": (lambda a: a.norm(2, 1, True), lambda a: a.norm(2, 1, True), [(3, 4)], {}),
    "norm_fro_dims": (lambda a: engine.norm(a, "fro", (0, 2)), lambda a: torch.norm(a, "fro", (0, 2)),
                      [(2, 3, 4)], {}),
    "norm_1": (lambda a: a.norm(1, 0), lambda a: a.norm(1, 0), [(3, 4)], {}),
    "norm_inf": (lambda a: a.norm(math.inf, 1), lambda a: a.norm(math.inf, 1), [(3, 4)], {}),
    "norm_minus_inf": (lambda a: a.norm(-math.inf), lambda a: a.norm(-math.inf), [(3, 4)], {}),
    "norm_3": (lambda a: a.norm(3, -1), lambda a: a.norm(3, -1), [(3, 4)], {}),
    "norm_half": (lambda a: a.norm(0.5, 0), lambda a: a.norm(0.5, 0), [(3, 4)], POS),
    "norm_1_5": (lambda a: a.norm(1.5), lambda a: a.norm(1.5), [(3, 4)], {}),
    "prod": (lambda a: a.prod(), lambda a: a.prod(), [(3, 4)], {}),
    "prod_dim": (lambda a: a.prod(1), lambda a: a.prod(1), [(3, 4)], {}),
    "prod_dim_keep": (lambda a: engine.prod(a, 0, True), lambda a: torch.prod(a, 0, True), [(3, 4)], {}),
    "cumsum": (lambda a: a.cumsum(1), lambda a: a.cumsum(1), [(3, 4)], {}),
    "cumsum_dim0": (lambda a: engine.cumsum(a, dim=0), lambda a: torch.cumsum(a, dim=0), [(5, 2, 3)], {}),
    "cumprod": (lambda a: a.cumprod(-1), lambda a: a.cumprod(-1), [(3, 4)], {}),
    "cumprod_dim0": (lambda a: a.cumprod(0), lambda a: a.cumprod(0), [(5, 2, 3)], {}),
    "logsumexp": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [(3, 4)], {}),
    "logsumexp_dims_keep": (lambda a: engine.logsumexp(a, (0, 2), True), lambda a: torch.logsumexp(a, (0, 2), True),
                            [(2, 3, 4)], {"low": -30, "high": 30}),
    "amax": (lambda a: a.amax(), lambda a: a.amax(), [(3, 4)], {}),
    "amax_dims": (lambda a: a.amax((0, 2)), lambda a: a.amax((0, 2)), [(2, 3, 4)], {}),
    "amin_keep": (lambda a: engine.amin(a, 1, keepdim=True), lambda a: torch.amin(a, 1, keepdim=True), [(3, 4)], {}),
    "sort": (lambda a: a.sort(), lambda a: a.sort(), [(3, 5)], {}),
    "sort_desc_dim0": (lambda a: engine.sort(a, 0, descending=True), lambda a: torch.sort(a, 0, descending=True),
                       [(5, 3)], {}),
    "argsort": (lambda a: a.argsort(1, True).float() + a, lambda a: a.argsort(1, True).float() + a, [(3, 5)], {}),
    "topk": (lambda a: a.topk(2), lambda a: a.topk(2), [(3, 5)], {}),
    "topk_smallest_dim0": (lambda a: engine.topk(a, 3, dim=0, largest=False),
                           lambda a: torch.topk(a, 3, dim=0, largest=False), [(5, 3)], {}),
    "max_dim": (lambda a: a.max(1), lambda a: a.max(1), [(3, 4)], {}),
    "min_all": (lambda a: engine.min(a), lambda a: torch.min(a), [(3, 4)], {}),
    "sum_empty_dims": (lambda a: a.sum(dim=()), lambda a: a.sum(dim=()), [(3, 4)], {}),
}


@needs_torch
@devices
@dtypes
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_against_torch(name, dtype, device):
    fn, tfn, shapes, kw = REDUCTIONS[name]
    check_op(fn, tfn, shapes, dtype=dtype, device=device, grad="projection", **kw)


@needs_torch
@devices
@pytest.mark.parametrize("name", ["std_dim", "norm_dim_keep", "prod_dim", "cumsum", "cumprod", "logsumexp", "sort",
                                  "topk", "amax_dims"])
def test_reductions_on_views(name, device):
    """A transposed and a reversed input are read as they are."""
    fn, tfn, shapes, kw = REDUCTIONS[name]
    check_op(lambda a: fn(a.transpose(0, 1).flip(0)), lambda a: tfn(a.transpose(0, 1).flip(0)),
             [tuple(reversed(shapes[0][:2])) + tuple(shapes[0][2:])], device=device, **kw)


@needs_torch
@devices
def test_reductions_of_0d_and_empty_tensors(device):
    for fn in (lambda a: a.std(), lambda a: a.var(0, correction=0), lambda a: a.norm(), lambda a: a.prod(),
               lambda a: a.prod(0), lambda a: a.cumsum(0), lambda a: a.cumprod(-1), lambda a: a.logsumexp(0),
               lambda a: a.amax(), lambda a: a.sort(), lambda a: a.topk(1), lambda a: a.norm(1, 0)):
        check_op(fn, fn, [()], device=device)
    for fn in (lambda a: a.prod(), lambda a: a.prod(1), lambda a: a.norm(), lambda a: a.logsumexp(1),
               lambda a: a.cumsum(1), lambda a: a.cumprod(0), lambda a: a.sort(0), lambda a: a.amax(1),
               lambda a: a.var(1), lambda a: a.topk(0, 1)):
        check_op(fn, fn, [(0, 3)], device=device)


# ---- special values ----------------------------------------------------------------------------------------

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1.0, -1.0, 2.0, -2.0, 1e-8,
           -1e-8, 100.0, -100.0, 1000.0, -1000.0, 0.49999997, 8388609.0, 4.5e15 + 0.5, 3e38, -3e38]
UNARY_NAMES = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2",
               "log2", "log10", "log1p", "expm1", "erf", "rsqrt", "reciprocal", "square", "floor", "ceil", "round",
               "trunc", "sign", "frac"]


def same(actual: np.ndarray, expected: np.ndarray, dtype: str) -> np.ndarray:
    """Elementwise: equal up to a few ulp, with the same sign (of zeros too), or both NaN."""
    rtol = 4e-7 if dtype == "float32" else 1e-15
    close = np.isclose(actual, expected, rtol=rtol, atol=0) & (np.signbit(actual) == np.signbit(expected))
    return close | (np.isnan(actual) & np.isnan(expected))


def _disagreements(actual, expected, inputs) -> list:
    ok = same(np.asarray(actual, np.float64), np.asarray(expected, np.float64), str(np.asarray(actual).dtype))
    return [(inputs[k], actual.flat[k], expected.flat[k]) for k in np.flatnonzero(~ok)]


@needs_torch
@devices
@dtypes
def test_special_values_forward(dtype, device):
    values = np.array(SPECIAL, dtype)
    bad = {}
    for name in UNARY_NAMES:
        got = getattr(engine.tensor(values, device=device), name)().numpy()
        want = getattr(torch.tensor(values), name)().numpy()
        assert got.dtype == want.dtype
        if wrong := _disagreements(got, want, values):
            bad[name] = wrong
    assert not bad, bad


@needs_torch
@devices
@dtypes
def test_atan2_special_pairs(dtype, device):
    grid_y, grid_x = np.meshgrid(np.array(SPECIAL, dtype), np.array(SPECIAL, dtype))
    got = engine.atan2(engine.tensor(grid_y, device=device), engine.tensor(grid_x, device=device)).numpy()
    want = torch.atan2(torch.tensor(grid_y), torch.tensor(grid_x)).numpy()
    assert not _disagreements(got, want, list(zip(grid_y.flat, grid_x.flat)))


def grads_agree(fn, values, device, dtype="float64", **tensor_kw):
    """fn's gradient of a weighted sum, here and in PyTorch, on the same input values (NaN where
    PyTorch gives NaN)."""
    x = engine.tensor(values, dtype=dtype, device=device, requires_grad=True)
    t = torch.tensor(np.asarray(values, dtype), requires_grad=True)
    out, tout = fn(x), fn(t)
    out = out[0] if isinstance(out, tuple) else out
    tout = tout[0] if isinstance(tout, tuple) else tout
    w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(tout.shape)).astype(dtype)
    assert_close(out.detach(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    (out * engine.tensor(w, device=device)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    assert_close(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


ZERO_CASES = {
    "std_constant": (lambda a: a.std(1), [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]),
    "std_single": (lambda a: a.std(0, unbiased=False), [[3.0, 1.0]]),
    "norm_zero": (lambda a: a.norm(dim=1), [[0.0, 0.0], [3.0, -4.0]]),
    "norm3_zero": (lambda a: a.norm(3, 1), [[0.0, 0.0], [3.0, -4.0]]),
    "norm_half_zero": (lambda a: a.norm(0.5, 1), [[0.0, 0.0], [0.0, -4.0]]),
    "norm_inf_ties": (lambda a: a.norm(math.inf, 1), [[2.0, -2.0, 1.0], [0.0, 0.0, 0.0]]),
    "norm_minus_inf": (lambda a: a.norm(-math.inf), [[2.0, 0.0, -2.0]]),
    "norm_1_zero": (lambda a: a.norm(1), [[0.0, 1.0, -2.0]]),
    "prod_one_zero": (lambda a: a.prod(1), [[2.0, 0.0, 3.0], [2.0, 5.0, 3.0], [0.0, 0.0, 1.0]]),
    "prod_all_one_zero": (lambda a: a.prod(), [[2.0, 0.0], [3.0, -1.5]]),
    "prod_all_two_zeros": (lambda a: a.prod(), [[2.0, 0.0], [0.0, -1.5]]),
    "cumprod_zeros": (lambda a: a.cumprod(1), [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 2.0, 3.0, 4.0, 5.0],
                                               [1.5, 2.0, 3.0, 4.0, 0.0], [1.0, 2.0, 3.0, -1.0, 0.5]]),
    "cumprod_zeros_dim0": (lambda a: a.cumprod(0), [[2.0, 0.0], [0.0, 3.0], [4.0, 0.0]]),
    "amax_ties": (lambda a: a.amax(1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
    "amin_ties_all": (lambda a: a.amin(), [[1.0, 3.0], [1.0, 2.0]]),
    "amax_nan": (lambda a: a.amax(1), [[1.0, math.nan, 2.0], [1.0, 2.0, 0.0]]),
    "logsumexp_all_minus_inf": (lambda a: a.logsumexp(1), [[-math.inf, -math.inf], [0.0, 1.0]]),
    "logsumexp_inf": (lambda a: a.logsumexp(1), [[math.inf, 1.0], [0.0, 1.0]]),
    "floor_at_inf": (lambda a: a.floor() * 1.0, [[math.inf, -2.5, 3.0]]),
    "sort_ties": (lambda a: a.sort(1, descending=True), [[1.0, 3.0, 3.0, 2.0]]),
    "cumsum_inf": (lambda a: a.cumsum(1), [[1.0, math.inf, 2.0]]),
}


@needs_torch
@devices
@pytest.mark.parametrize("name", list(ZERO_CASES))
def test_gradients_where_pytorch_makes_a_choice(name, device):
    fn, values = ZERO_CASES[name]
    grads_agree(fn, values, device)


@needs_torch
@devices
def test_clamp_with_crossed_tensor_bounds(device):
    x, lo, hi = [[0.0, 2.0, 5.0, 1.0]], [[1.0, 3.0, 1.0, 0.5]], [[3.0, 1.0, 4.0, 1.0]]
    e = [engine.tensor(v, dtype="float64", device=device, requires_grad=True) for v in (x, lo, hi)]
    t = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, lo, hi)]
    out, tout = e[0].clamp(e[1], e[2]), t[0].clamp(t[1], t[2])
    assert_close(out.detach(), tout.detach().numpy())
    (out * engine.tensor([[1.0, 2.0, 3.0, 4.0]], dtype="float64", device=device)).sum().backward()
    (tout * torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)).sum().backward()
    for a, b in zip(e, t):
        assert_close(a.grad, b.grad.numpy())


@needs_torch
@devices
def test_sort_and_topk_order_nan_and_ties_like_pytorch(device):
    values = np.array([[3.0, math.nan, 1.0, 3.0, -0.0, 0.0, math.nan, -math.inf, 1.0]])
    x, t = engine.tensor(values, device=device), torch.tensor(values)
    for descending in (False, True):
        got, want = x.sort(descending=descending), t.sort(descending=descending, stable=True)
        assert_close(got.values, want.values.numpy())
        assert got.indices.tolist() == want.indices.tolist()
    assert x.topk(3).indices.tolist() == [[1, 6, 0]]  # NaN is the largest; ties keep their first order
    assert x.topk(3, largest=False).indices.tolist() == [[7, 4, 5]]
    assert x.argsort(descending=True).tolist() == t.argsort(descending=True, stable=True).tolist()


# ---- dtypes ------------------------------------------------------------------------------------------------------

INTEGER_INPUTS = {"int64": [[1, -2, 0], [3, 7, -1]], "uint8": [[1, 2, 0], [3, 7, 255]], "bool": [[True, False, True]]}


@needs_torch
@devices
@pytest.mark.parametrize("kind", list(INTEGER_INPUTS))
def test_integer_and_bool_inputs_follow_pytorch(kind, device):
    values = INTEGER_INPUTS[kind]
    fns = {name: (lambda a, n=name: getattr(a, n)()) for name in UNARY_NAMES}
    fns.update({
        "cumsum": lambda a: a.cumsum(1), "cumprod": lambda a: a.cumprod(0), "prod": lambda a: a.prod(),
        "prod_dim": lambda a: a.prod(1), "all": lambda a: a.all(), "any_dim": lambda a: a.any(1),
        "all_keep": lambda a: a.all(0, keepdim=True), "logsumexp": lambda a: a.logsumexp(1),
        "sort": lambda a: a.sort(1, descending=True)[0], "argsort": lambda a: a.argsort(1),
        "amax": lambda a: a.amax(0), "clamp_min": lambda a: a.clamp_min(1.5), "topk": lambda a: a.topk(1)[0],
        "unique": lambda a: a.unique(), "reciprocal": lambda a: a.reciprocal(),
    })
    x = engine.tensor(values, dtype=kind, device=device)
    t = torch.tensor(values, dtype=getattr(torch, kind))
    for name, fn in fns.items():
        try:
            want = fn(t)
        except (RuntimeError, TypeError, NotImplementedError):
            with pytest.raises(engine.EngineError):  # PyTorch refuses: so do we, in one line
                fn(x)
            continue
        got = fn(x)
        assert got.dtype.name == str(want.dtype).removeprefix("torch."), name
        assert_close(got, want.numpy(), rtol=1e-6)


# ---- numpy's names, the module-level forms, errors ---------------------------------------------------------------


@needs_torch
@devices
def test_numpy_style_axis_and_keepdims(device):
    values = np.random.default_rng(3).uniform(-2, 2, (3, 4))
    x, t = engine.tensor(values, device=device), torch.tensor(values)
    for name in ["sum", "mean", "amax", "amin", "std", "var", "prod", "logsumexp", "all", "any", "argmax", "argmin"]:
        got, want = getattr(x, name)(axis=1, keepdims=True), getattr(t, name)(axis=1, keepdims=True)
        assert_close(got, want.numpy(), rtol=1e-12)
        got, want = getattr(engine, name)(x, axis=0), getattr(torch, name)(t, axis=0)
        assert_close(got, want.numpy(), rtol=1e-12)
    for name in ["max", "min"]:
        assert_close(getattr(x, name)(axis=0).values, getattr(t, name)(axis=0).values.numpy())
        assert getattr(engine, name)(x, axis=1, keepdims=True).indices.tolist() == \
            getattr(torch, name)(t, axis=1, keepdims=True).indices.tolist()
    for name in ["cumsum", "cumprod", "sort", "argsort"]:
        got, want = getattr(x, name)(axis=0), getattr(t, name)(axis=0)
        assert_close(got[0] if isinstance(got, tuple) else got, (want[0] if isinstance(want, tuple) else want).numpy())
    assert_close(x.topk(2, axis=0).values, t.topk(2, axis=0).values.numpy())
    assert tuple(x.argmax(keepdim=True).shape) == (1, 1)
    with pytest.raises(engine.EngineTypeError, match="sum: got both dim and axis"):
        x.sum(0, axis=1)


@devices
def test_unique(device):
    x = engine.tensor([[3.0, 1.0, math.nan], [1.0, 3.0, math.nan]], device=device)
    values, inverse, counts = engine.unique(x, return_inverse=True, return_counts=True)
    assert values.device == device and str(values.tolist()) == "[1.0, 3.0, nan, nan]"  # each NaN its own value
    assert inverse.tolist() == [[1, 0, 2], [0, 1, 3]] and counts.tolist() == [2, 2, 1, 1]
    rows = engine.tensor([[1, 2], [0, 5], [1, 2]], device=device)
    values, inverse = rows.unique(dim=0, return_inverse=True)
    assert values.tolist() == [[0, 5], [1, 2]] and inverse.tolist() == [1, 0, 1] and values.dtype == engine.int64
    assert engine.tensor([], device=device).unique().shape == (0,)
    if torch is not None:
        t = torch.tensor([[3, 1, 2], [1, 3, 3]])
        assert engine.tensor(t.numpy()).unique(return_counts=True)[1].tolist() == \
            torch.unique(t, return_counts=True)[1].tolist()


@devices
def test_grad_fn_names_and_return_types(device):
    x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    assert x.sin().grad_fn.name() == "SinBackward0" and x.logsumexp(1).grad_fn.name() == "LogsumexpBackward0"
    assert x.std().grad_fn.name() == "StdBackward0" and x.cumprod(0).grad_fn.name() == "CumprodBackward0"
    out = x.sort(1, descending=True)
    assert type(out).__name__ == "ReturnPair" and out.indices.dtype == engine.int64
    assert repr(out).startswith("engine.return_types.sort(\nvalues=tensor(")
    values, indices = x.topk(1)
    assert values.tolist() == [[2.0], [4.0]] and indices.tolist() == [[1], [1]]


ERRORS = [
    (lambda x: x.long().std(), engine.DTypeError, "std: std and var only support floating point"),
    (lambda x: x.long().norm(), engine.DTypeError, "norm: expected a floating point tensor, got int64"),
    (lambda x: x.norm("nuc"), engine.EngineValueError, "nuclear norm"),
    (lambda x: x.norm("abc"), engine.EngineValueError, "order 'abc' is not supported"),
    (lambda x: x.topk(5), engine.EngineValueError, r"topk: selected index k out of range: k = 5 for dim 1 of size 3"),
    (lambda x: x.topk(-1), engine.EngineValueError, "topk: selected index k out of range"),
    (lambda x: x.bool().topk(1), engine.DTypeError, "topk: bool tensors are not supported"),
    (lambda x: x.cumsum(), engine.EngineTypeError, "cumsum: missing the required argument dim"),
    (lambda x: x.cumsum(2), engine.EngineValueError, "cumsum: dim 2 is out of range for a 2-d tensor"),
    (lambda x: x.logsumexp(), engine.EngineTypeError, "logsumexp: missing the required argument dim"),
    (lambda x: x.amax((0, 0)), engine.EngineValueError, "amax: dim 0 appears multiple times"),
    (lambda x: x[:, :0].amax(1), engine.EngineValueError, "amax: expected reduction dim 1 to have non-zero size"),
    (lambda x: x[:, :0].norm(math.inf, 1), engine.EngineValueError, "can't compute the inf norm of an empty"),
    (lambda x: x.long().frac(), engine.DTypeError, "frac: not implemented for int64"),
    (lambda x: x.bool().floor(), engine.DTypeError, "floor: not implemented for bool"),
    (lambda x: x.long().round(decimals=1), engine.DTypeError, "round: decimals=1 is not implemented for int64"),
    (lambda x: x.atan2(2.0), engine.EngineTypeError, "atan2: argument 'other' must be a tensor, not float"),
    (lambda x: x.lerp(x.double(), 0.5), engine.DTypeError, "lerp: expected dtype float32 for `end`"),
    (lambda x: x.long().lerp(x.long(), 0.5), engine.DTypeError, "lerp: not implemented for int64"),
    (lambda x: x.clamp_min("a"), engine.EngineTypeError, "clamp_min: a bound must be a number or a tensor"),
    (lambda x: x.clamp(x[0, :2], x[:, :1]), engine.ShapeError, r"clamp: shapes \(2, 3\) and \(2,\) do not"),
    (lambda x: x[:1].clamp(x[:, :1], engine.zeros(3, 1, device="numpy")), engine.ShapeError,
     r"clamp: shapes \(1, 3\), \(2, 1\), \(3, 1\) do not broadcast"),
    (lambda x: x.clamp(x, 1.0), engine.EngineTypeError, "clamp: min and max must both be numbers or both tensors"),
    (lambda x: x.std(unbiased=True, correction=0), engine.EngineTypeError, "std: give unbiased or correction"),
    (lambda x: x.unique(dim=5), engine.EngineValueError, "unique: dim 5 is out of range"),
]


@pytest.mark.parametrize("fn, error, message", ERRORS)
def test_errors_are_one_line(fn, error, message):
    x = engine.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device="numpy")
    with pytest.raises(error, match=message) as info:
        fn(x)
    assert "\n" not in str(info.value)


# ---- the primitives: scan and sort on every backend and layout ----------------------------------------------------

REF = get_backend("numpy")


def layouts(values: np.ndarray):
    """(label, make(bk)) for the same numbers as compact, transposed, reversed and expanded arrays."""
    out = [("compact", lambda bk: bk.from_numpy(values.copy()))]
    if values.ndim == 2:
        out.append(("transposed", lambda bk: bk.permute(bk.from_numpy(np.ascontiguousarray(values.T)), (1, 0))))
        out.append(("reversed", lambda bk: bk.getitem(bk.from_numpy(np.ascontiguousarray(values[::-1])),
                                                      (slice(None, None, -1),))))
        row = values[:1]
        out.append(("expanded", lambda bk: bk.expand(bk.from_numpy(row.copy()), values.shape)))
    return out


def primitive_inputs(dtype):
    rng = np.random.default_rng(5)
    if dtype == "bool":
        return rng.random((7, 13)) < 0.5
    if dtype == "int64":
        return rng.integers(-3, 4, (7, 13)).astype(np.int64)
    x = rng.integers(-3, 4, (7, 13)).astype(dtype) * 0.5  # many ties: stability shows
    x[0, 3] = x[2, 5] = x[4, 0] = np.nan
    x[1, 1], x[1, 2], x[3, 3] = -0.0, np.inf, -np.inf
    return x


@devices
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_sort_and_scan_primitives_agree_with_the_reference(dtype, device):
    bk = get_backend(device)
    values = primitive_inputs(dtype)
    for label, make in layouts(values):
        expected_values = np.broadcast_to(values[:1], values.shape) if label == "expanded" else values
        for axis in (0, 1):
            for descending in (False, True):
                got_v, got_i = bk.sort(make(bk), axis, descending)
                want_v, want_i = REF.sort(np.ascontiguousarray(expected_values), axis, descending)
                np.testing.assert_array_equal(bk.to_numpy(got_i), want_i, err_msg=f"{label} {axis} {descending}")
                np.testing.assert_array_equal(bk.to_numpy(got_v), want_v)
                assert bk.to_numpy(got_i).dtype == np.int64 and bk.to_numpy(got_v).dtype == values.dtype
            if dtype == "bool":
                continue
            for op in ("sum", "prod"):
                got = bk.to_numpy(bk.scan(op, make(bk), axis))
                want = REF.scan(op, np.ascontiguousarray(expected_values), axis)
                np.testing.assert_array_equal(got, want, err_msg=f"{op} {label} {axis}")
                assert got.dtype == values.dtype and got.flags.c_contiguous
    for op in ("sum", "prod"):  # 0-d and empty arrays
        assert bk.to_numpy(bk.scan(op, bk.from_numpy(np.asarray(values.flat[1])), 0)).shape == ()
        assert bk.to_numpy(bk.scan(op, bk.from_numpy(values[:, :0].copy()), 1)).shape == (7, 0)
    v, i = bk.sort(bk.from_numpy(np.asarray(values.flat[1])), 0)
    assert bk.to_numpy(v).shape == () and bk.to_numpy(i).tolist() == 0


def test_the_reference_primitives_themselves():
    x = np.array([[2.0, np.nan, 1.0, 2.0, -np.inf]], np.float32)
    v, i = REF.sort(x, 1)
    assert i.tolist() == [[4, 2, 0, 3, 1]]  # stable, NaN last
    v, i = REF.sort(x, 1, descending=True)
    assert i.tolist() == [[1, 0, 3, 2, 4]] and np.isnan(v[0, 0])  # stable, NaN first
    # float32 running sums are accumulated in float64 (PyTorch's CPU kernels round once per result)
    big = np.array([1.0, 1e8, 1.0, -1e8, 1.0], np.float32)
    assert REF.scan("sum", big, 0).tolist() == [1.0, 100000000.0, 100000000.0, 2.0, 3.0]
    assert REF.scan("prod", np.array([2, 3, 4], np.int64), 0).tolist() == [2, 6, 24]


# ---- hypothesis: gradients against central differences -----------------------------------------------------------

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
GAP = 1e-3


def leaf(draw, shape, low=-3.0, high=3.0, device="numpy"):
    # no subnormals: a central difference of x0 * x1 at 5e-324 underflows to nonsense
    elements = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return draw(strategies.tensors(shape=shape, elements=elements, device=device, requires_grad=True))


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
nonscalar = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)

SMOOTH = {  # name: (fn, low, high)
    "sin": (lambda x: x.sin(), -3.0, 3.0),
    "cos": (lambda x: x.cos(), -3.0, 3.0),
    "tan": (lambda x: x.tan(), -1.3, 1.3),
    "asin": (lambda x: x.asin(), -0.95, 0.95),
    "acos": (lambda x: x.acos(), -0.95, 0.95),
    "atan": (lambda x: x.atan(), -3.0, 3.0),
    "sinh": (lambda x: x.sinh(), -3.0, 3.0),
    "cosh": (lambda x: x.cosh(), -3.0, 3.0),
    "asinh": (lambda x: x.asinh(), -3.0, 3.0),
    "acosh": (lambda x: x.acosh(), 1.05, 3.0),
    "atanh": (lambda x: x.atanh(), -0.95, 0.95),
    "exp2": (lambda x: x.exp2(), -3.0, 3.0),
    "log2": (lambda x: x.log2(), 0.1, 3.0),
    "log10": (lambda x: x.log10(), 0.1, 3.0),
    "log1p": (lambda x: x.log1p(), -0.9, 3.0),
    "expm1": (lambda x: x.expm1(), -3.0, 3.0),
    "erf": (lambda x: x.erf(), -3.0, 3.0),
    "rsqrt": (lambda x: x.rsqrt(), 0.1, 3.0),
    "reciprocal": (lambda x: x.reciprocal(), 0.1, 3.0),
    "square": (lambda x: x.square(), -3.0, 3.0),
    "frac": (lambda x: x.frac() + x.floor() + x.round() + x.sign() * x, 0.05, 0.45),
    "lerp": (lambda x: x.lerp(x * x, 0.7) + x.lerp(x.exp(), 0.2), -2.0, 2.0),
    "logsumexp": (lambda x: x.logsumexp(tuple(range(x.ndim))), -3.0, 3.0),
    "var": (lambda x: x.var(correction=0) * x.sum(), -3.0, 3.0),
    "cumsum": (lambda x: x.cumsum(-1) * x, -3.0, 3.0),
    "cumprod": (lambda x: x.cumprod(0), -2.0, 2.0),
    "prod": (lambda x: x.prod(), -2.0, 2.0),
    "norm_3": (lambda x: x.norm(3), 0.2, 3.0),
}


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, name=st.sampled_from(sorted(SMOOTH)))
def test_elementwise_and_smooth_reduction_gradients(device, data, shape, name):
    fn, low, high = SMOOTH[name]
    assert gradcheck(fn, leaf(data.draw, shape, low, high, device))


@devices
@SETTINGS
@given(data=st.data(), shape=nonscalar, dim=st.integers(-1, 2),
       name=st.sampled_from(["std", "var", "norm", "norm_1", "norm_inf", "prod", "cumprod", "logsumexp", "amax",
                             "amin", "sort", "topk"]))
def test_reduction_gradients_along_a_dim(device, data, shape, dim, name):
    assume(-len(shape) <= dim < len(shape))
    x = leaf(data.draw, shape, device=device)
    values = x.detach().numpy()
    axis = dim % len(shape)
    fns = {
        "std": lambda t: t.std(dim, keepdim=True), "var": lambda t: t.var(dim, unbiased=False),
        "norm": lambda t: t.norm(dim=dim), "norm_1": lambda t: t.norm(1, dim),
        "norm_inf": lambda t: t.norm(math.inf, dim),
        "prod": lambda t: t.prod(dim), "cumprod": lambda t: t.cumprod(dim), "logsumexp": lambda t: t.logsumexp(dim),
        "amax": lambda t: t.amax(dim), "amin": lambda t: t.amin(dim, keepdim=True),
        "sort": lambda t: t.sort(dim, descending=True).values, "topk": lambda t: t.topk(1, dim).values,
    }
    if name in ("norm", "norm_1", "norm_inf", "std"):
        assume(bool(np.all(np.abs(values) > GAP)))  # |x| has a kink at 0
        if name == "std":
            assume(shape[axis] > 1 and bool(np.all(np.std(values, axis=axis) > 0.1)))
    if name in ("norm_inf", "amax", "amin", "sort", "topk"):  # ties switch the winner
        key = np.abs(values) if name == "norm_inf" else values
        s = np.sort(key, axis=axis)
        assume(shape[axis] < 2 or bool(np.all(np.diff(s, axis=axis) > GAP)))
    assert gradcheck(fns[name], x)


@devices
@SETTINGS
@given(data=st.data(), shp=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=2, max_side=3))
def test_binary_and_bounds_gradients(device, data, shp):
    a = leaf(data.draw, shp.input_shapes[0], device=device)
    b = leaf(data.draw, shp.input_shapes[1], device=device)
    c = leaf(data.draw, shp.input_shapes[2], low=0.2, high=0.8, device=device)
    av, bv = np.broadcast_arrays(a.detach().numpy(), b.detach().numpy())
    # atan2 is singular at the origin and jumps from pi to -pi across the negative x axis
    assume(bool(np.all(np.abs(av) + np.abs(bv) > 0.1)) and bool(np.all((np.abs(av) > GAP) | (bv > 0))))
    assert gradcheck(lambda y, x: y.atan2(x), a, b)
    assume(bool(np.all(np.abs(av - bv) > GAP)) and bool(np.all(np.abs(av - bv - 1) > GAP)))
    assert gradcheck(lambda x, lo: x.clamp(lo, lo + 1), a, b)
    assert gradcheck(lambda x, y, w: x.lerp(y, w), a, b, c)
