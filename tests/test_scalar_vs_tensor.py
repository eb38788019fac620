"""The scalar path (``engine.Value``) and the tensor path compute the same values and gradients.

The same expression is built once from Values, element by element, and once from float64
tensors; forward values and every gradient agree to ~1e-12.
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

TOL = 1e-12
devices = pytest.mark.parametrize("device", DEVICES)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


# One expression, written so it runs unchanged on a Value or on a tensor (elementwise).
EXPRESSIONS = {
    "polynomial": lambda x, y: x * x * y + 3 * x - y / 2 + 1,
    "division": lambda x, y: (x + 4) / (y * y + 1) - 2 / (x * x + 1),
    "exp_log": lambda x, y: (x.exp() + (y * y + 0.5).log()) * x,
    "tanh_sigmoid": lambda x, y: (x * y).tanh() + (x - y).sigmoid() * 2,
    "relu_abs": lambda x, y: (x - 0.3).relu() * y + (y + 0.1).abs(),
    "powers": lambda x, y: (x * x + 1) ** 1.5 + (y * y + 2) ** -0.5 + 2 ** x,
    "pow_tensor": lambda x, y: (x * x + 1) ** (y * 0.5),
    "neuron": lambda x, y: (0.7 * x - 1.3 * y + 0.2).tanh(),
    "reuse": lambda x, y: (x * x * x - x) * (x + y) + x,
}


def _leaky(v, slope):
    return v.leaky_relu(slope) if isinstance(v, Value) else ew.LeakyRelu.apply(v, slope)


EXPRESSIONS["leaky_relu"] = lambda x, y: _leaky(x - 0.2, 0.05) + _leaky(y * x, 0.1)

pairs = st.lists(
    st.tuples(st.floats(-2, 2, allow_nan=False), st.floats(-2, 2, allow_nan=False)), min_size=1, max_size=6
)


@devices
@pytest.mark.parametrize("name", list(EXPRESSIONS))
@settings(max_examples=20, deadline=None)
@given(points=pairs)
def test_elementwise_expression(device, name, points):
    f = EXPRESSIONS[name]
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    # Stay clear of relu/abs/leaky kinks, where one-sided conventions could legitimately differ.
    if name in ("relu_abs", "leaky_relu"):
        kinks = np.concatenate([xs - 0.3, ys + 0.1, xs - 0.2, ys * xs])
        if np.any(np.abs(kinks) < 1e-9):
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


def _value_matmul(a: list[list[Value]], b: list[list[Value]]) -> list[list[Value]]:
    return [[sum((a[i][k] * b[k][j] for k in range(len(b))), Value(0.0)) for j in range(len(b[0]))]
            for i in range(len(a))]


@devices
@pytest.mark.parametrize("shapes", [(1, 1, 1), (2, 3, 2), (3, 2, 4), (4, 4, 1)])
def test_small_matmul_mlp_layer(device, shapes):
    n, k, m = shapes
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    a0, b0, c0 = rng.standard_normal((n, k)), rng.standard_normal((k, m)), rng.standard_normal(m)

    # Tensor path: tanh(A @ B + c), weighted sum of the outputs.
    weights = rng.standard_normal((n, m))
    ta = engine.tensor(a0, device=device, requires_grad=True)
    tb = engine.tensor(b0, device=device, requires_grad=True)
    tc = engine.tensor(c0, device=device, requires_grad=True)
    out = (ta @ tb + tc).tanh()
    (out * engine.tensor(weights, device=device)).sum().backward()

    # Scalar path: the same numbers, one Value per entry.
    va = [[Value(float(v)) for v in row] for row in a0]
    vb = [[Value(float(v)) for v in row] for row in b0]
    vc = [Value(float(v)) for v in c0]
    prod = _value_matmul(va, vb)
    vout = [[(prod[i][j] + vc[j]).tanh() for j in range(m)] for i in range(n)]
    loss = sum((vout[i][j] * float(weights[i, j]) for i in range(n) for j in range(m)), Value(0.0))
    loss.backward()

    for i in range(n):
        for j in range(m):
            assert close(vout[i][j].data, out[i, j].item())
    np.testing.assert_allclose(ta.grad.numpy(), [[v.grad for v in row] for row in va], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(tb.grad.numpy(), [[v.grad for v in row] for row in vb], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(tc.grad.numpy(), [v.grad for v in vc], rtol=TOL, atol=TOL)


@devices
def test_lecture_expression(device):
    # The chain-rule lecture's f = (x + y) * z, on both paths.
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    t = engine.tensor([-2.0, 5.0, -4.0], dtype=engine.float64, device=device, requires_grad=True)
    g = (t[0] + t[1]) * t[2]
    g.backward()
    assert g.item() == f.data == -12.0
    assert t.grad.tolist() == [x.grad, y.grad, z.grad] == [-4.0, -4.0, 3.0]
