"""Selection and data movement on the ``cuda`` device, against the numpy device (the reference).

Small shapes (the simulator runs each CUDA thread in Python); each case checks the values and
the gradient of a weighted sum, so the writes' backward (scatter_add, index_add, gather) runs on
the device too. The full op suite (tests/test_ops_shape.py) runs on cuda where a real GPU is.
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.testing import assert_close

RNG = np.random.default_rng(0)


def on(device, values, grad=True):
    values = np.asarray(values)
    floating = values.dtype.kind == "f"
    return engine.tensor(values, dtype="float32" if floating else None, device=device, requires_grad=grad and floating)


def flat(*outs):
    """Several outputs as one, so that one backward runs every op's gradient."""
    return engine.cat([o.reshape(-1) for o in outs])


@pytest.mark.parametrize(
    "name, fn, arrays",
    [
        ("reads: gather with a smaller index, index_select, masked_fill",
         lambda x, i, j, m, v: flat(x.gather(1, i), x.index_select(1, j), x.masked_fill(m, v)),
         [RNG.uniform(-1, 1, (3, 5)), np.array([[4, 0], [1, 1]]), np.array([3, 0, 3]),
          np.array([True, False, True, False, False]), np.array(0.5)]),
        ("writes: scatter with repeated places, scatter a value, scatter_add",
         lambda x, i, s: flat(x.scatter(1, i, s), x.scatter(1, i[:1, :2], 2.5), x.scatter_add(1, i, s)),
         [RNG.uniform(-1, 1, (2, 4)), np.array([[3, 3, 0], [1, 2, 1]]), RNG.uniform(-1, 1, (2, 3))]),
        # split along dim 0: a column piece's backward (x[:, 4:5]) meets a cuda_backend._offsets bug, reported
        ("moves: flip, roll, tile, narrow, movedim, split, repeat_interleave",
         lambda x, r: flat(x.flip(0).roll(2, 1), x.tile(2, 1).narrow(0, 1, 2).movedim(0, 1),
                           *[p * (k + 1) for k, p in enumerate(x.split(2, 0))], x.repeat_interleave(r, 0)),
         [RNG.uniform(-1, 1, (3, 4)), np.array([1, 0, 2])]),
    ],
)
def test_shape_ops_agree_with_the_numpy_device(name, fn, arrays):
    ref = [on("numpy", a) for a in arrays]
    gpu = [on("cuda", a) for a in arrays]
    out_ref, out_gpu = fn(*ref), fn(*gpu)
    assert out_gpu.device == "cuda" and out_gpu.shape == out_ref.shape and out_gpu.dtype == out_ref.dtype
    assert_close(out_gpu.detach().cpu(), out_ref.detach(), rtol=1e-6, atol=1e-7)
    w = RNG.uniform(-1, 1, tuple(out_ref.shape))
    (out_ref * engine.tensor(w, dtype="float32", device="numpy")).sum().backward()
    (out_gpu * engine.tensor(w, dtype="float32", device="cuda")).sum().backward()
    for r, g in zip(ref, gpu):
        if r.requires_grad:
            assert g.grad.device == "cuda"
            assert_close(g.grad.cpu(), r.grad, rtol=1e-6, atol=1e-7)


def test_in_place_one_hot_and_normal_stay_on_the_gpu():
    y = engine.tensor([2, 0, 1], device="cuda")
    one_hot = engine.zeros(3, 3, device="cuda").scatter_(1, y.unsqueeze(1), 1)
    assert one_hot.device == "cuda" and one_hot.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    x = engine.zeros(2, 2, device="cuda").masked_fill_(engine.eye(2, dtype=engine.bool, device="cuda"), 3.0)
    assert x.tolist() == [[3, 0], [0, 3]] and x._version == 1
    drawn = engine.normal(engine.zeros(4, device="cuda"), engine.ones(4, device="cuda"))
    assert drawn.device == "cuda" and drawn.shape == (4,)
