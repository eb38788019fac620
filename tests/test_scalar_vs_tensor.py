"""The scalar path (``engine.Value``) and the tensor path compute the same values and gradients.

Expressions the checker can read are written as text and handed to ``engine.testing.check_paths``:
the expression is built from Values, point by point, and from float64 tensors on each device, all
points at once, and every node's value and ``d out / d node`` must agree to ~1e-12 between the two
paths (and with central differences, away from relu/abs kinks). What its parser does not take (a
tensor exponent, a Python number raised to a tensor, leaky_relu) keeps a comparison of the leaves'
gradients written here; the matmul layer compares the Value path with numpy and the devices with
``assert_devices_agree``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_helpers import DEVICES

import engine
from engine import Value
from engine.ops import elementwise as ew
from engine.testing import assert_devices_agree, check_paths

TOL = 1e-12
devices = pytest.mark.parametrize("device", DEVICES)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


# Expressions in check_paths's language (strategies.parse_expression reads them).
EXPRESSIONS = {
    "polynomial": "x*x*y + 3*x - y/2 + 1",
    "division": "(x + 4)/(y*y + 1) - 2/(x*x + 1)",
    "exp_log": "(exp(x) + log(y*y + 0.5))*x",
    "tanh_sigmoid": "tanh(x*y) + sigmoid(x - y)*2",
    "relu_abs": "relu(x - 0.3)*y + abs(y + 0.1)",  # kinks: Value vs tensor still compared there
    "powers": "(x*x + 1)**1.5 + (y*y + 2)**(-0.5)",
    "neuron": "tanh(0.7*x - 1.3*y + 0.2)",
    "reuse": "(x*x*x - x)*(x + y) + x",
}


def _leaky(v, slope):
    return v.leaky_relu(slope) if isinstance(v, Value) else ew.LeakyRelu.apply(v, slope)


# The rest, written so it runs unchanged on a Value or on a tensor (elementwise).
BY_HAND = {
    "pow_tensor": lambda x, y: (x * x + 1) ** (y * 0.5),
    "pow_number_tensor": lambda x, y: 2**x + 0.5 ** (y * y),
    "leaky_relu": lambda x, y: _leaky(x - 0.2, 0.05) + _leaky(y * x, 0.1),
}

pairs = st.lists(
    st.tuples(st.floats(-2, 2, allow_nan=False), st.floats(-2, 2, allow_nan=False)), min_size=1, max_size=6
)


@devices
@pytest.mark.parametrize("name", list(EXPRESSIONS))
@settings(max_examples=20, deadline=None)
@given(points=pairs)
def test_elementwise_expression(device, name, points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    report = check_paths(EXPRESSIONS[name], devices=[device], x=xs, y=ys, rtol=TOL, atol=TOL)
    assert report.points == len(points) and report.paths == ["value", device]


@devices
@pytest.mark.parametrize("name", list(BY_HAND))
@settings(max_examples=20, deadline=None)
@given(points=pairs)
def test_elementwise_expression_outside_the_parser(device, name, points):
    f = BY_HAND[name]
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    # Stay clear of leaky_relu's kinks, where one-sided conventions could legitimately differ.
    if name == "leaky_relu" and np.any(np.abs(np.concatenate([xs - 0.2, ys * xs])) < 1e-9):
        return

    tx = engine.tensor(xs, dtype=engine.float64, device=device, requires_grad=True)
    ty = engine.tensor(ys, dtype=engine.float64, device=device, requires_grad=True)
    out = f(tx, ty)
    out.sum().backward()

    for i, (x0, y0) in enumerate(points):
        vx, vy = Value(x0), Value(y0)
        v = f(vx, vy)
        v.backward()
        assert close(v.data, out[i].item()), (v.data, out[i].item())
        assert close(vx.grad, tx.grad[i].item()), (vx.grad, tx.grad[i].item())
        assert close(vy.grad, ty.grad[i].item()), (vy.grad, ty.grad[i].item())


def test_the_expressions_are_checked_against_central_differences_too():
    # check_paths compares each path with central differences as well, away from kinks: a point
    # on relu_abs's kink (y = -0.1) skips that part and still compares Value with the tensors.
    report = check_paths(EXPRESSIONS["relu_abs"], devices=DEVICES, x=[1.0, 0.0], y=[-0.1, 0.5])
    assert report.passed and report.numeric_skipped == 1
    for text in EXPRESSIONS.values():
        assert check_paths(text, devices=DEVICES, x=[-1.5, 0.25, 1.75], y=[0.6, -1.2, 1.9]).numeric_skipped == 0


def _value_matmul(a: list[list[Value]], b: list[list[Value]]) -> list[list[Value]]:
    return [[sum((a[i][k] * b[k][j] for k in range(len(b))), Value(0.0)) for j in range(len(b[0]))]
            for i in range(len(a))]


def _layer(a, b, c):
    return (a @ b + c).tanh()


@pytest.mark.parametrize("shapes", [(1, 1, 1), (2, 3, 2), (3, 2, 4), (4, 4, 1)])
def test_small_matmul_mlp_layer(shapes):
    n, k, m = shapes
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    a0, b0, c0 = rng.standard_normal((n, k)), rng.standard_normal((k, m)), rng.standard_normal(m)

    # Tensor path on numpy: tanh(A @ B + c), weighted sum of the outputs.
    weights = rng.standard_normal((n, m))
    ta, tb, tc = (engine.tensor(v, device="numpy", requires_grad=True) for v in (a0, b0, c0))
    out = _layer(ta, tb, tc)
    (out * engine.tensor(weights, device="numpy")).sum().backward()

    # Scalar path: the same numbers, one Value per entry.
    va = [[Value(float(v)) for v in row] for row in a0]
    vb = [[Value(float(v)) for v in row] for row in b0]
    vc = [Value(float(v)) for v in c0]
    prod = _value_matmul(va, vb)
    vout = [[(prod[i][j] + vc[j]).tanh() for j in range(m)] for i in range(n)]
    loss = sum((vout[i][j] * float(weights[i, j]) for i in range(n) for j in range(m)), Value(0.0))
    loss.backward()

    np.testing.assert_allclose(out.detach().numpy(), [[v.data for v in row] for row in vout], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(ta.grad.numpy(), [[v.grad for v in row] for row in va], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(tb.grad.numpy(), [[v.grad for v in row] for row in vb], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(tc.grad.numpy(), [v.grad for v in vc], rtol=TOL, atol=TOL)

    # Every other device: the same outputs and gradients as numpy.
    report = assert_devices_agree(_layer, a0, b0, c0, devices=DEVICES, rtol=TOL, atol=TOL)
    assert len(report.comparisons) == 4 * (len(DEVICES) - 1)  # the output and three gradients, per device


@devices
def test_lecture_expression(device):
    # The chain-rule lecture's f = (x + y) * z, on both paths, the tensor one indexing a single leaf.
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    t = engine.tensor([-2.0, 5.0, -4.0], dtype=engine.float64, device=device, requires_grad=True)
    g = (t[0] + t[1]) * t[2]
    g.backward()
    assert g.item() == f.data == -12.0
    assert t.grad.tolist() == [x.grad, y.grad, z.grad] == [-4.0, -4.0, 3.0]
