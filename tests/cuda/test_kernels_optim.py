"""SGD and Adam update kernels, several steps in place, against numpy implementations of
PyTorch's formulas (float64: to rounding; float32: to float32 tolerance)."""

from __future__ import annotations

import numpy as np
import pytest

cuda = pytest.importorskip("numba").cuda
opt = pytest.importorskip("engine._kernels.optim")

STEPS = 4
N = 37


def sgd_reference(p, grads, lr, momentum, dampening, wd, nesterov):
    p, buf = p.astype(np.float64), None
    for step, g in enumerate(grads):
        d = g + wd * p
        if momentum:
            buf = d.copy() if step == 0 else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p, buf


def adam_reference(p, grads, lr, b1, b2, eps, wd):
    p = p.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - (lr / (1 - b1**t)) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + eps)
    return p, m, v


TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


@pytest.mark.parametrize(
    "momentum,dampening,wd,nesterov",
    [(0.0, 0.0, 0.0, False), (0.0, 0.0, 0.01, False), (0.9, 0.0, 0.0, False), (0.9, 0.1, 0.01, False),
     (0.9, 0.0, 0.01, True)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_steps(momentum, dampening, wd, nesterov, dtype):
    rng = np.random.default_rng(int(momentum * 10) + int(nesterov))
    p0 = rng.standard_normal(N).astype(dtype)
    grads = [rng.standard_normal(N).astype(dtype) for _ in range(STEPS)]
    p = cuda.to_device(p0)
    buf = cuda.device_array(N, dtype) if momentum else None
    for step, g in enumerate(grads):
        opt.sgd(p, cuda.to_device(g), buf, N, 0.1, momentum, dampening, wd, nesterov, step == 0)
    want_p, want_buf = sgd_reference(p0, grads, 0.1, momentum, dampening, wd, nesterov)
    np.testing.assert_allclose(p.copy_to_host(), want_p, **TOL[dtype])
    if momentum:
        np.testing.assert_allclose(buf.copy_to_host(), want_buf, **TOL[dtype])


@pytest.mark.parametrize("wd", [0.0, 0.01])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_steps(wd, dtype):
    rng = np.random.default_rng(int(wd * 100))
    p0 = rng.standard_normal(N).astype(dtype)
    grads = [rng.standard_normal(N).astype(dtype) for _ in range(STEPS)]
    grads[1][0] = 0.0  # a zero gradient: v stays tiny, eps keeps the step finite
    p, m, v = cuda.to_device(p0), cuda.to_device(np.zeros(N, dtype)), cuda.to_device(np.zeros(N, dtype))
    for t, g in enumerate(grads, start=1):
        opt.adam(p, cuda.to_device(g), m, v, N, 1e-2, 0.9, 0.999, 1e-8, wd, t)
    want_p, want_m, want_v = adam_reference(p0, grads, 1e-2, 0.9, 0.999, 1e-8, wd)
    np.testing.assert_allclose(p.copy_to_host(), want_p, **TOL[dtype])
    np.testing.assert_allclose(m.copy_to_host(), want_m, **TOL[dtype])
    np.testing.assert_allclose(v.copy_to_host(), want_v, **TOL[dtype])


def test_adam_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    p0 = rng.standard_normal(N).astype(np.float32)
    grads = [rng.standard_normal(N).astype(np.float32) for _ in range(STEPS)]
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    topt = torch.optim.Adam([tp], lr=1e-2, weight_decay=0.01)
    p, m, v = cuda.to_device(p0), cuda.to_device(np.zeros(N, np.float32)), cuda.to_device(np.zeros(N, np.float32))
    for t, g in enumerate(grads, start=1):
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.adam(p, cuda.to_device(g), m, v, N, 1e-2, 0.9, 0.999, 1e-8, 0.01, t)
    np.testing.assert_allclose(p.copy_to_host(), tp.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_empty_is_a_no_op():
    empty = cuda.device_array(0, np.float32)
    opt.sgd(empty, empty, empty, 0, 0.1, 0.9, 0.0, 0.0, False, True)
    opt.adam(empty, empty, empty, empty, 0, 0.1, 0.9, 0.999, 1e-8, 0.0, 1)
