"""Special values are answers, not warnings: inf and NaN propagate silently on every device, as in PyTorch.

The numpy device used to emit numpy's RuntimeWarnings ("divide by zero encountered in divide")
for ``1/0``, ``log(0)``, ``exp(1000)`` and, inside ``atan2``, for any ``y == 0``; under numba's
simulator the cuda device raised OverflowError for ``exp(1000)`` and ``sigmoid(-1000)`` (Python's
math.exp; a GPU gives inf): tests/cuda/test_cuda_ieee_quiet.py runs these cases there.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from tensor_helpers import DEVICES

import engine

CASES = {
    "div_by_zero": (lambda a: a / 0.0, [1.0, 0.0, -1.0], [math.inf, math.nan, -math.inf]),
    "div_tensor": (lambda a: a / engine.zeros_like(a), [2.0, -0.0, -3.0], [math.inf, math.nan, -math.inf]),
    "log_zero_negative": (lambda a: a.log(), [0.0, -1.0, 1.0], [-math.inf, math.nan, 0.0]),
    "exp_overflow": (lambda a: a.exp(), [1000.0, -1000.0, 0.0], [math.inf, 0.0, 1.0]),
    "exp_specials": (lambda a: a.exp(), [math.inf, -math.inf, math.nan], [math.inf, 0.0, math.nan]),
    "sigmoid_extremes": (lambda a: a.sigmoid(), [-1000.0, 1000.0, math.nan], [0.0, 1.0, math.nan]),
    "sigmoid_infinities": (lambda a: a.sigmoid(), [-math.inf, math.inf, 0.0], [0.0, 1.0, 0.5]),
    "atan2_zero_y": (lambda a: engine.atan2(a, engine.ones_like(a)), [0.0, -0.0, 1.0], [0.0, -0.0, math.pi / 4]),
    "pow_zero_negative": (lambda a: a ** -1.0, [0.0, 2.0, -0.0], [math.inf, 0.5, -math.inf]),
    "reciprocal_zero": (lambda a: a.reciprocal(), [0.0, 4.0, -0.0], [math.inf, 0.25, -math.inf]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_special_values_propagate_without_warnings(device, dtype, name):
    fn, values, expected = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        out = fn(engine.tensor(values, dtype=dtype, device=device)).numpy().astype(np.float64)
    want = np.asarray(expected, dtype=dtype).astype(np.float64)
    np.testing.assert_array_equal(out, want)
    # signed zeros keep their sign (atan2(-0, 1) = -0); a NaN's sign bit is not specified
    number = ~np.isnan(want)
    assert list(np.signbit(out[number])) == list(np.signbit(want[number]))


@pytest.mark.parametrize("device", DEVICES)
def test_backward_through_special_values_is_quiet(device):
    x = engine.tensor([0.0, 1.0, -2.0], dtype="float64", device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x.log() + 1.0 / x).sum().backward()  # d/dx = 1/x - 1/x^2: NaN/inf at 0, as IEEE says
    g = x.grad.numpy()
    assert math.isnan(g[0]) or math.isinf(g[0])
    np.testing.assert_allclose(g[1:], [0.0, -0.5 - 0.25])
