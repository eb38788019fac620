"""The math unary kernels, the scan and sort kernels, and the math ops on the ``cuda`` device,
against the numpy device (the reference).

Small on purpose (the simulator runs every CUDA thread as a Python thread): one launch per unary
op and dtype over the special values (NaN, +-inf, +-0, domain edges, halves, overflow points),
the scan and sort kernels on strided views with NaN and ties, and a few ops end to end with
gradients.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine.backends import base, get_backend
from engine.testing import assert_close

pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")

MATH = base.UNARY[base.UNARY.index("sin"):]
SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1.0, -1.0, 2.0, -2.0, 1e-8, 0.3,
           -0.7, 100.0, -100.0, 709.9, 710.6, -711.0, 1024.5, 8388609.5, 4.5e15 + 0.5, 1e300, -3e38, 0.49999997]


def _same(got: np.ndarray, want: np.ndarray, rtol: float) -> np.ndarray:
    """Equal to a few ulp with the sign of zero, or both NaN."""
    same = np.isclose(got, want, rtol=rtol, atol=0) & (np.signbit(got) == np.signbit(want))
    return same | (np.isnan(got) & np.isnan(want))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_math_unary_kernels_match_the_reference(dtype):
    """Each op's kernel over the special values, launched with one warp (the simulator runs each
    thread in Python; the backend's own launch is checked below)."""
    from engine._kernels import elementwise as ew
    from numba import cuda

    with np.errstate(all="ignore"):
        values = np.array(SPECIAL, dtype)
    ref = get_backend("numpy")
    x = cuda.to_device(values)
    for op in MATH:
        out = cuda.device_array(values.size, dtype)
        ew._unary_kernel(op, np.dtype(dtype))[1, 32](x, 0, (1,), (values.size,), out, dtype(0))
        got, want = out.copy_to_host(), ref.unary(op, values)
        same = _same(got, want, 1e-6 if dtype == np.float32 else 1e-14)
        assert same.all(), (op, [(values[k], got[k], want[k]) for k in np.flatnonzero(~same)])


def test_a_math_unary_op_reads_a_strided_view():
    gpu, ref = get_backend("cuda"), get_backend("numpy")
    values = np.array(SPECIAL[:12], np.float32)
    x = gpu.getitem(gpu.permute(gpu.from_numpy(values[::-1].reshape(1, -1).copy()), (1, 0)), (slice(None, None, -1), 0))
    assert _same(gpu.to_numpy(gpu.unary("round", x)), ref.unary("round", values), 0).all()


def _inputs(dtype) -> np.ndarray:
    rng = np.random.default_rng(2)
    x = (rng.integers(-2, 3, (4, 6)) * 0.5).astype(dtype)  # ties everywhere: the sort must be stable
    if np.dtype(dtype).kind == "f":
        x[0, 1] = x[3, 4] = x[3, 5] = np.nan
        x[1, 0], x[2, 5] = -np.inf, np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_sort_and_scan_kernels_match_the_reference(dtype):
    gpu, ref = get_backend("cuda"), get_backend("numpy")
    values = _inputs(dtype)
    transposed = gpu.permute(gpu.from_numpy(values.T.copy()), (1, 0))  # read in place through its strides
    for axis, descending in ((0, False), (1, True), (1, False)):
        v, i = gpu.sort(transposed, axis, descending)
        want_v, want_i = ref.sort(values, axis, descending)
        np.testing.assert_array_equal(gpu.to_numpy(i), want_i, err_msg=f"{axis} {descending}")
        np.testing.assert_array_equal(gpu.to_numpy(v), want_v)
    for op, axis in (("sum", 1), ("prod", 0)):
        np.testing.assert_array_equal(gpu.to_numpy(gpu.scan(op, transposed, axis)), ref.scan(op, values, axis))
    flags = values > 0
    v, i = gpu.sort(gpu.from_numpy(flags), 1, True)
    np.testing.assert_array_equal(gpu.to_numpy(i), ref.sort(flags, 1, True)[1])
    scalar = gpu.from_numpy(np.asarray(values[0, 0]))
    assert gpu.to_numpy(gpu.scan("sum", scalar, 0)).shape == () and gpu.to_numpy(gpu.sort(scalar, 0)[1]) == 0


def test_math_ops_agree_with_the_numpy_device():
    """A few ops end to end, forward and backward, on both devices: the rules at zeros (prod,
    cumprod) and the gathered values of topk (every other op is built from the same primitives)."""
    values = np.array([[0.5, 0.0, -1.5], [2.0, -0.5, 1.0]])
    out = {}
    for device in ("numpy", "cuda"):
        x = engine.tensor(values, dtype="float64", device=device, requires_grad=True)
        y = x.cumprod(1).sum() + x.prod(1).sum() + x.topk(2, dim=1).values.sum()
        y.backward()
        assert y.device == device and x.grad.device == device
        out[device] = (y.detach().cpu().numpy(), x.grad.cpu().numpy())
    for a, b in zip(out["cuda"], out["numpy"]):
        assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_unique_on_the_device():
    x = engine.tensor([[3, 1, 3], [2, 1, 0]], device="cuda")
    values, counts = x.unique(return_counts=True)
    assert values.device == "cuda" and values.tolist() == [0, 1, 2, 3] and counts.tolist() == [1, 2, 1, 2]
