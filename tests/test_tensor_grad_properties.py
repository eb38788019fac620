"""Every differentiable op's backward against central differences, on hypothesis-drawn inputs.

float64 throughout; ``engine.testing.gradcheck`` checks every element of every input.
Inputs stay inside each op's domain (log, pow, div: positive; BCE probabilities in
(0.05, 0.95)) and away from kinks and ties (relu, abs, max, clamp...), where the
derivative is not defined and a central difference straddles two slopes.

Then the devices against each other: ``engine.testing.assert_devices_agree`` runs the same ops and
random programs of them on every device and holds outputs and gradients to the numpy reference, far
tighter than a central difference can (1e-9 relative in float64).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensor_helpers import DEVICES

import engine
from engine.ops import elementwise as ew
from engine.ops import neural as nn_ops
from engine.testing import assert_devices_agree, gradcheck, strategies

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
GAP = 1e-3  # how far from a kink or a tie inputs must stay

devices = pytest.mark.parametrize("device", DEVICES)


def values(low: float = -3.0, high: float = 3.0):
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def leaf(draw, shape, low=-3.0, high=3.0, device="numpy"):
    """A float64 tensor that requires grad, drawn with the public strategy."""
    return draw(strategies.tensors(shape=shape, elements=values(low, high), device=device, requires_grad=True))


def host(t) -> np.ndarray:
    return t.detach().numpy()


def away_from(x: np.ndarray, points) -> bool:
    return all(bool(np.all(np.abs(x - p) > GAP)) for p in points)


def no_near_ties(x: np.ndarray, axis) -> bool:
    """The largest and the smallest entries along ``axis`` are each clear of the runner-up."""
    if x.size < 2 or (axis is not None and x.shape[axis] < 2):
        return True
    s = np.sort(x.reshape(-1) if axis is None else x, axis=-1 if axis is None else axis)
    ax = -1 if axis is None else axis
    lo = np.abs(np.diff(np.take(s, [0, 1], axis=ax), axis=ax))
    hi = np.abs(np.diff(np.take(s, [-1, -2], axis=ax), axis=ax))
    return bool(np.all(lo > GAP) and np.all(hi > GAP))


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
pair_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


# ---- elementwise binary with broadcasting ----------------------------------------------------------


@devices
@SETTINGS
@given(data=st.data(), shp=pair_shapes, op=st.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_arithmetic(device, data, shp, op):
    low = 0.5 if op == "div" else -3.0
    a = leaf(data.draw, shp.input_shapes[0], device=device)
    b = leaf(data.draw, shp.input_shapes[1], low=low, device=device)
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y}[op]
    assert gradcheck(fn, a, b)


@devices
@SETTINGS
@given(data=st.data(), shp=pair_shapes)
def test_pow_tensor_tensor_positive_base(device, data, shp):
    a = leaf(data.draw, shp.input_shapes[0], low=0.5, high=3.0, device=device)
    b = leaf(data.draw, shp.input_shapes[1], low=-2.0, high=2.0, device=device)
    assert gradcheck(lambda x, y: x**y, a, b)


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, exponent=st.sampled_from([2, 3, -1, 0.5, -1.5, 2.5, 1.0]))
def test_pow_tensor_scalar(device, data, shape, exponent):
    positive = not float(exponent).is_integer()
    a = leaf(data.draw, shape, low=0.5 if positive or exponent < 0 else -3.0, device=device)
    if exponent < 0 and not positive:
        assume(away_from(host(a), [0.0]))
    assert gradcheck(lambda x: x**exponent, a)


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, base=st.sampled_from([2.0, 0.5, np.e, 3]))
def test_pow_scalar_tensor(device, data, shape, base):
    a = leaf(data.draw, shape, device=device)
    assert gradcheck(lambda x: base**x, a)


@devices
@SETTINGS
@given(data=st.data(), shp=pair_shapes, op=st.sampled_from(["maximum", "minimum"]))
def test_maximum_minimum(device, data, shp, op):
    a = leaf(data.draw, shp.input_shapes[0], device=device)
    b = leaf(data.draw, shp.input_shapes[1], device=device)
    assume(bool(np.all(np.abs(host(a) - host(b)) > GAP)))
    assert gradcheck(getattr(engine, op), a, b)


@devices
@SETTINGS
@given(data=st.data(), shp=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_where(device, data, shp):
    cond = engine.tensor(data.draw(hnp.arrays(np.bool_, shp.input_shapes[0])), device=device)
    a = leaf(data.draw, shp.input_shapes[1], device=device)
    b = leaf(data.draw, shp.input_shapes[2], device=device)
    assert gradcheck(lambda x, y: engine.where(cond, x, y), a, b)


# ---- elementwise unary ------------------------------------------------------------------------------

UNARY = {
    # name: (fn, low, high, kinks)
    "neg": (lambda x: -x, -3.0, 3.0, []),
    "exp": (lambda x: x.exp(), -3.0, 3.0, []),
    "log": (lambda x: x.log(), 0.1, 3.0, []),
    "sqrt": (lambda x: x.sqrt(), 0.1, 3.0, []),
    "sigmoid": (lambda x: x.sigmoid(), -6.0, 6.0, []),
    "tanh": (lambda x: x.tanh(), -3.0, 3.0, []),
    "relu": (lambda x: x.relu(), -3.0, 3.0, [0.0]),
    "abs": (lambda x: x.abs(), -3.0, 3.0, [0.0]),
    "leaky_relu": (lambda x: ew.LeakyRelu.apply(x, 0.07), -3.0, 3.0, [0.0]),
    "elu": (lambda x: ew.Elu.apply(x, 1.3), -3.0, 3.0, [0.0]),
    "clamp": (lambda x: x.clamp(-0.5, 1.25), -3.0, 3.0, [-0.5, 1.25]),
    "clamp_min": (lambda x: x.clamp(min=0.25), -3.0, 3.0, [0.25]),
    "clamp_max": (lambda x: x.clamp(max=-0.25), -3.0, 3.0, [-0.25]),
}


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, name=st.sampled_from(sorted(UNARY)))
def test_unary(device, data, shape, name):
    fn, low, high, kinks = UNARY[name]
    a = leaf(data.draw, shape, low=low, high=high, device=device)
    assume(away_from(host(a), kinks))
    assert gradcheck(fn, a)


# ---- reductions ---------------------------------------------------------------------------------------


@st.composite
def dims_of(draw, ndim: int):
    """A set of dims (spelled positive or negative), or None for all."""
    if ndim == 0 or draw(st.booleans()):
        return None
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    spelled = [d - ndim if draw(st.booleans()) else d for d in chosen]
    return spelled[0] if len(spelled) == 1 and draw(st.booleans()) else tuple(spelled)


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, keepdim=st.booleans(), op=st.sampled_from(["sum", "mean"]))
def test_sum_mean(device, data, shape, keepdim, op):
    a = leaf(data.draw, shape, device=device)
    dim = data.draw(dims_of(len(shape)))
    assert gradcheck(lambda x: getattr(x, op)(dim, keepdim=keepdim), a)


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, keepdim=st.booleans(), op=st.sampled_from(["max", "min"]))
def test_max_min(device, data, shape, keepdim, op):
    a = leaf(data.draw, shape, device=device)
    ndim = len(shape)
    dim = None if ndim == 0 or data.draw(st.booleans()) else data.draw(st.integers(-ndim, ndim - 1))
    assume(no_near_ties(host(a), dim))
    if dim is None:
        assert gradcheck(lambda x: getattr(x, op)(), a)
    else:
        assert gradcheck(lambda x: getattr(x, op)(dim, keepdim=keepdim)[0], a)


# ---- matmul -------------------------------------------------------------------------------------------


@devices
@SETTINGS
@given(data=st.data(), n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3),
       kind=st.sampled_from(["vv", "vm", "mv", "mm", "batched"]))
def test_matmul(device, data, n, k, m, kind):
    if kind == "batched":
        batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
        sa = batch.input_shapes[0] + (n, k)
        sb = batch.input_shapes[1] + (k, m)
        if data.draw(st.booleans()):  # a 1-D operand against a batch
            sa, sb = (k,), (*batch.input_shapes[1], k, m)
    else:
        sa = {"vv": (k,), "vm": (k,), "mv": (n, k), "mm": (n, k)}[kind]
        sb = {"vv": (k,), "vm": (k, m), "mv": (k,), "mm": (k, m)}[kind]
    a = leaf(data.draw, sa, device=device)
    b = leaf(data.draw, sb, device=device)
    assert gradcheck(lambda x, y: x @ y, a, b)


# ---- shapes and views ---------------------------------------------------------------------------------


@devices
@SETTINGS
@given(data=st.data(), shape=shapes)
def test_reshape_view_flatten(device, data, shape):
    a = leaf(data.draw, shape, device=device)
    ndim = len(shape)
    assert gradcheck(lambda x: x.reshape(-1), a)
    assert gradcheck(lambda x: x.view(*reversed(shape)) if shape else x.view(1), a)
    if ndim:
        start = data.draw(st.integers(0, ndim - 1))
        end = data.draw(st.integers(start, ndim - 1))
        first = start - ndim if data.draw(st.booleans()) else start
        assert gradcheck(lambda x: x.flatten(first, end), a)


@devices
@SETTINGS
@given(data=st.data(), shape=nonscalar_shapes)
def test_permute_transpose(device, data, shape):
    a = leaf(data.draw, shape, device=device)
    ndim = len(shape)
    order = data.draw(st.permutations(range(ndim)))
    d0, d1 = data.draw(st.integers(-ndim, ndim - 1)), data.draw(st.integers(-ndim, ndim - 1))
    assert gradcheck(lambda x: x.permute(*order) * 1.5, a)
    assert gradcheck(lambda x: x.transpose(d0, d1).exp(), a)
    if ndim <= 2:
        assert gradcheck(lambda x: x.T @ x if ndim == 2 else x.T, a)


@devices
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
def test_squeeze_unsqueeze_expand(device, data, shape):
    a = leaf(data.draw, shape, device=device)
    ndim = len(shape)
    assert gradcheck(lambda x: x.squeeze(), a)
    if ndim:
        d = data.draw(st.integers(-ndim, ndim - 1))
        assert gradcheck(lambda x: x.squeeze(d), a)
    u = data.draw(st.integers(-ndim - 1, ndim))
    assert gradcheck(lambda x: x.unsqueeze(u), a)
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2))
    target = tuple(lead) + tuple(data.draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    assert gradcheck(lambda x: x.expand(*target), a)


# ---- indexing -------------------------------------------------------------------------------------------


@st.composite
def basic_keys(draw, shape):
    """A key of slices (any step), ints (maybe negative), full slices and a None."""
    key = []
    for n in shape[: draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(["slice", "int", "full"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            key.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
        else:
            key.append(slice(None))
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), None)
    return tuple(key)


@devices
@SETTINGS
@given(data=st.data(), shape=nonscalar_shapes)
def test_basic_indexing(device, data, shape):
    a = leaf(data.draw, shape, device=device)
    key = data.draw(basic_keys(shape))
    expected_shape = np.zeros(shape)[key].shape
    assert tuple(a[key].shape) == expected_shape
    assert gradcheck(lambda x: x[key], a)


@devices
@SETTINGS
@given(data=st.data(), shape=nonscalar_shapes)
def test_integer_tensor_indexing_with_repeats(device, data, shape):
    a = leaf(data.draw, shape, device=device)
    n = shape[0]
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
    index = engine.tensor(idx, device=device)
    assert gradcheck(lambda x: x[index], a)
    assert gradcheck(lambda x: x[index, ...] * 2, a)
    if len(shape) > 1:
        m = shape[1]
        columns = engine.tensor(data.draw(st.lists(st.integers(-m, m - 1), min_size=1, max_size=4)), device=device)
        assert gradcheck(lambda x: x[:, columns], a)
        assert gradcheck(lambda x: x[index, -1], a)


# ---- cat, stack, softmax -----------------------------------------------------------------------------------


@devices
@SETTINGS
@given(data=st.data(), shape=nonscalar_shapes, count=st.integers(1, 3))
def test_cat_stack(device, data, shape, count):
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    parts = []
    for _ in range(count):
        s = list(shape)
        s[dim] = data.draw(st.integers(1, 3))
        parts.append(leaf(data.draw, tuple(s), device=device))
    assert gradcheck(lambda *xs: engine.cat(list(xs), dim), *parts)
    same = [leaf(data.draw, shape, device=device) for _ in range(count)]
    sdim = data.draw(st.integers(-ndim - 1, ndim))
    assert gradcheck(lambda *xs: engine.stack(list(xs), sdim), *same)


@devices
@SETTINGS
@given(data=st.data(), shape=nonscalar_shapes, log=st.booleans())
def test_softmax_log_softmax(device, data, shape, log):
    a = leaf(data.draw, shape, device=device)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert gradcheck(lambda x: x.log_softmax(dim) if log else x.softmax(dim), a)


# ---- the fused linear and the losses ----------------------------------------------------------------------


@devices
@SETTINGS
@given(data=st.data(), m=st.integers(1, 4), k=st.integers(1, 3), n=st.integers(1, 3),
       act=st.sampled_from([None, "relu", "sigmoid", "tanh"]), bias=st.booleans())
def test_fused_linear(device, data, m, k, n, act, bias):
    x = leaf(data.draw, (m, k), device=device)
    w = leaf(data.draw, (n, k), device=device)
    b = leaf(data.draw, (n,), device=device) if bias else None
    pre = host(x) @ host(w).T + (host(b) if bias else 0)
    if act == "relu":
        assume(away_from(pre, [0.0]))
    inputs = (x, w, b) if bias else (x, w)
    assert gradcheck(lambda x_, w_, *b_: nn_ops.Linear.apply(x_, w_, b_[0] if b_ else None, act), *inputs)


reductions = st.sampled_from(["mean", "sum", "none"])


@devices
@SETTINGS
@given(data=st.data(), n=st.integers(1, 4), c=st.integers(1, 4), reduction=reductions)
def test_cross_entropy(device, data, n, c, reduction):
    z = leaf(data.draw, (n, c), device=device)
    target = engine.tensor(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), device=device)
    assert gradcheck(lambda z_: nn_ops.CrossEntropy.apply(z_, target, reduction), z)


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, reduction=reductions, logits=st.booleans())
def test_binary_cross_entropy(device, data, shape, reduction, logits):
    y = data.draw(strategies.tensors(shape=shape, elements=values(0.0, 1.0), device=device))
    if logits:
        z = leaf(data.draw, shape, device=device)
        assert gradcheck(lambda z_: nn_ops.BinaryCrossEntropyWithLogits.apply(z_, y, reduction), z)
    else:
        p = leaf(data.draw, shape, low=0.05, high=0.95, device=device)
        assert gradcheck(lambda p_: nn_ops.BinaryCrossEntropy.apply(p_, y, reduction), p)


@devices
@SETTINGS
@given(data=st.data(), shape=shapes, reduction=reductions, loss=st.sampled_from(["mse", "l1"]))
def test_mse_l1(device, data, shape, reduction, loss):
    a = leaf(data.draw, shape, device=device)
    b = leaf(data.draw, shape, device=device)
    if loss == "l1":
        assume(away_from(host(a) - host(b), [0.0]))
    fn = nn_ops.MSE if loss == "mse" else nn_ops.L1
    assert gradcheck(lambda x, y: fn.apply(x, y, reduction), a, b)


# ---- every device computes what numpy computes ------------------------------------------------------------


@SETTINGS
@given(program=strategies.programs(max_steps=8), dtype=st.sampled_from(["float32", "float64"]))
def test_random_programs_agree_on_every_device(program, dtype):
    inputs = [v.astype(dtype) for v in program.input_values]
    report = assert_devices_agree(program.run, *inputs, devices=DEVICES)
    assert {c.device for c in report.comparisons} == set(DEVICES[1:])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_agree_on_every_device(name):
    fn, low, high, kinks = UNARY[name]
    # a grid with the kinks themselves in it: there, every device must make the same one-sided choice
    x = np.append(np.linspace(low, high, 60 - len(kinks)), kinks).reshape(3, 20)
    for dtype in ("float32", "float64"):
        report = assert_devices_agree(fn, x.astype(dtype), devices=DEVICES)
        assert [c.what for c in report.comparisons if c.device == DEVICES[-1]] == ["output 0", "gradient of input 0"]


# ---- gradcheck itself --------------------------------------------------------------------------------------


def test_gradcheck_catches_a_wrong_derivative(monkeypatch):
    from engine.testing import GradcheckError

    # exp with the derivative of x^2/2 (= x): gradcheck must name the input and the element.
    wrong = classmethod(lambda cls, ctx, g: (ctx.backend.binary("mul", g, ctx.x), None))
    monkeypatch.setattr(ew.Exp, "backward", wrong)
    x = engine.tensor([[0.5, 1.0], [2.0, -1.0]], dtype=engine.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 2\)\) element \(0, 0\): analytic .* vs numeric"):
        gradcheck(lambda t: t.exp(), x)
    assert isinstance(GradcheckError("x"), AssertionError) and isinstance(GradcheckError("x"), engine.EngineError)


def test_numerical_grad_of_a_cube():
    from engine.testing import numerical_grad

    x = engine.tensor([1.0, -2.0, 0.5], dtype=engine.float64, requires_grad=True)
    (g,) = numerical_grad(lambda t: (t * t * t).sum(), [x])
    np.testing.assert_allclose(g, 3 * np.array([1.0, -2.0, 0.5]) ** 2, rtol=1e-8)


def test_assert_close():
    from engine.testing import assert_close

    assert_close(engine.tensor([1.0, float("nan")]), np.array([1.0 + 1e-7, np.nan]))
    assert_close(engine.tensor([1, 2]), [1, 2])
    with pytest.raises(AssertionError, match=r"1 of 2 elements differ; first at index \(1,\)"):
        assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_close(np.zeros(2), np.zeros(3))
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan]), np.array([np.nan]), equal_nan=False)


@devices
@SETTINGS
@given(t=strategies.tensors(shape=strategies.shapes(max_dims=2), dtype="float32", requires_grad=True))
def test_public_tensor_strategy(device, t):
    assert t.dtype == engine.float32 and t.requires_grad and t.ndim <= 2
    assert bool(((t >= -3) & (t <= 3)).all())


def test_engine_testing_imports_without_hypothesis():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import engine, engine.testing as T\n"
        "x = engine.tensor([1.0, 2.0], dtype=engine.float64, requires_grad=True)\n"
        "assert T.gradcheck(lambda t: (t * t).exp(), x)\n"
        "try:\n    T.strategies.tensors()\nexcept ImportError:\n    print('needs hypothesis')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "needs hypothesis"


# ---- the same losses through engine.nn.functional (the public spelling), where it exists -------------------


@devices
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_functional_losses(device, reduction):
    F = pytest.importorskip("engine.nn.functional")
    rng = np.random.default_rng(7)

    def make(shape, low=-2.0, high=2.0, grad=True):
        return engine.tensor(rng.uniform(low, high, shape), device=device, requires_grad=grad)

    target = engine.tensor([2, 0, 1, 2], device=device)
    assert gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction), make((4, 3)))
    y = make((4, 3), 0.0, 1.0, grad=False)
    assert gradcheck(lambda p: F.binary_cross_entropy(p, y, reduction=reduction), make((4, 3), 0.05, 0.95))
    assert gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, y, reduction=reduction), make((4, 3)))
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), make((4, 3)), make((4, 3)))
    assert gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction), make((4, 3)), make((4, 3)))


@devices
def test_functional_linear_and_activations(device):
    F = pytest.importorskip("engine.nn.functional")
    rng = np.random.default_rng(3)
    x, w, b = (engine.tensor(rng.uniform(-2, 2, s), device=device, requires_grad=True) for s in [(5, 4), (3, 4), (3,)])
    assert gradcheck(lambda x_, w_, b_: F.linear(x_, w_, b_), x, w, b)
    assert gradcheck(lambda x_: F.softmax(x_, dim=1), x)
    assert gradcheck(lambda x_: F.log_softmax(x_, dim=0), x)
    assert gradcheck(lambda x_: F.leaky_relu(x_, 0.2) + F.elu(x_, 0.7) + F.tanh(x_) + F.sigmoid(x_), x)
