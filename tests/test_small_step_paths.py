"""The hot paths of a small train step (issue 12) agree with the general paths they shortcut.

A 2-8-1 MLP step is mostly Python between the kernels, so the c device's fused kernels
(linear forward/backward, the difference losses, the SGD update), ``F.linear``, ``F.mse_loss`` and
``SGD.step`` check the common case inline and hand anything else to the general path. These
tests pin down that both routes give the same numbers, bit for bit, and that the shortcuts still
refuse what the C code must never be handed (shapes that do not fit, read-only or mismatched
optimizer state): the inline checks guard C memory as the general ones do.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensor_helpers import DEVICES, FLOAT_DTYPES

import engine
import engine.nn.functional as F
import engine.optim as optim
from engine.backends import get_backend

needs_c = pytest.mark.skipif("c" not in DEVICES, reason="the C library is not built")
ACTS = (None, "relu", "sigmoid", "tanh")


def _misaligned(values: np.ndarray) -> np.ndarray:
    """``values`` in a writable buffer that starts one byte after an aligned address."""
    out = np.frombuffer(bytearray(b"\x00" + values.tobytes()), values.dtype, count=values.size, offset=1)
    return out.reshape(values.shape)


def _layouts(values: np.ndarray) -> dict:
    """The same numbers compact (the inline path) and in layouts only the general path takes."""
    return {
        "compact": values,
        "column-major": np.asfortranarray(values),
        "every other row": np.repeat(values, 2, axis=0)[::2],
        "misaligned": _misaligned(values),
    }


@needs_c
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("act", ACTS)
def test_c_linear_inline_and_general_paths_give_the_same_bits(dtype, act):
    c = get_backend("c")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(dtype)
    w = rng.standard_normal((4, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    y = c.linear_forward(x, w, b, act)
    gy = rng.standard_normal(y.shape).astype(dtype)
    want = c.linear_backward(x, w, y, gy, act, True, True)
    for name, xv in _layouts(x).items():
        for wname, wv in _layouts(w).items():
            what = f"x {name}, w {wname}"
            np.testing.assert_array_equal(c.linear_forward(xv, wv, b, act), y, err_msg=what)
            got = c.linear_backward(xv, wv, _layouts(y)[name], _layouts(gy)[wname], act, True, True)
            for g, e, part in zip(got, want, ("gx", "gw", "gb")):
                np.testing.assert_array_equal(g, e, err_msg=f"{part}: {what}")
    # A 0-d upstream gradient (a summed output) is expanded; gradients not asked for are None.
    gx, gw, gb = c.linear_backward(x, w, y, np.asarray(1.0, dtype), act, False, False)
    assert gx is None and gb is None
    np.testing.assert_array_equal(gw, c.linear_backward(x, w, y, np.ones_like(y), act, True, True)[1])


@needs_c
def test_c_inline_paths_refuse_what_does_not_fit():
    c = get_backend("c")
    x, w, b = np.ones((4, 3), np.float32), np.ones((8, 3), np.float32), np.ones(8, np.float32)
    y = np.ones((4, 8), np.float32)
    for bad in ((x, np.ones((8, 2), np.float32), b), (x, w, np.ones(7, np.float32)), (np.ones(3, np.float32), w, b)):
        with pytest.raises(engine.ShapeError, match=r"^linear: shapes"):
            c.linear_forward(*bad, "relu")
    for bad_y in (np.ones((4, 7), np.float32), np.ones((5, 8), np.float32)):
        with pytest.raises(engine.ShapeError, match=r"^linear: shapes"):
            c.linear_backward(x, w, bad_y, bad_y, "relu", True, True)
    # An activation without a kernel: forward composes it, backward leaves it to the op.
    assert c.linear_backward(x, w, y, y, "elu", True, True) is NotImplemented
    # Mixed dtypes are not fused (the op's own derivative runs, from the primitives).
    assert c.linear_backward(x, w.astype(np.float64), y, y, None, True, True) is NotImplemented
    p, g = np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)
    with pytest.raises(engine.ShapeError, match=r"^sgd update: state of shape \(3,\)"):
        c.sgd_update(p, g, np.ones(3, np.float32), 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(engine.ShapeError, match=r"^sgd update: state of shape \(2, 3\) and dtype float64"):
        c.sgd_update(p, g, np.ones((2, 3)), 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(engine.DTypeError, match=r"^optimizer update: parameter is float32 but its gradient"):
        c.sgd_update(p, g.astype(np.float64), None, 0.1, 0.0, 0.0, 0.0, False, True)
    np.testing.assert_array_equal(p, 1)  # refused before anything was written


@needs_c
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_c_sgd_and_losses_take_any_layout_like_a_compact_one(dtype):
    c = get_backend("c")
    rng = np.random.default_rng(1)
    start, grad, mom = (rng.standard_normal((3, 4)).astype(dtype) for _ in range(3))
    for momentum, nesterov in ((0.0, False), (0.9, False), (0.9, True)):
        want_p, want_buf = start.copy(), mom.copy()
        c.sgd_update(want_p, grad, want_buf, 0.1, momentum, 0.0, 0.01, nesterov, False)
        for name, g in _layouts(grad).items():
            # A gradient that broadcasts (one row for every row) goes through the general path too.
            for gname, gv in ((name, g), ("broadcast row", grad[:1])):
                p, buf = start.copy(), mom.copy()
                c.sgd_update(p, gv, buf, 0.1, momentum, 0.0, 0.01, nesterov, False)
                if gname == "broadcast row":
                    want_p2, want_buf2 = start.copy(), mom.copy()
                    c.sgd_update(want_p2, np.repeat(grad[:1], 3, axis=0), want_buf2, 0.1, momentum, 0.0, 0.01,
                                 nesterov, False)
                    np.testing.assert_array_equal(p, want_p2, err_msg=gname)
                    continue
                np.testing.assert_array_equal(p, want_p, err_msg=f"sgd p, gradient {gname}")
                np.testing.assert_array_equal(buf, want_buf, err_msg=f"sgd buf, gradient {gname}")
    a, b = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)
    for kind in ("squared", "abs"):
        for mean in (True, False):
            diff, loss = c.difference_loss(kind, a, b, mean)
            ga = c.difference_loss_backward(kind, diff, np.asarray(0.5, dtype), mean)
            for name, av in _layouts(a).items():
                d2, l2 = c.difference_loss(kind, av, _layouts(b)[name], mean)
                np.testing.assert_array_equal(d2, diff, err_msg=f"{kind} diff, {name}")
                np.testing.assert_array_equal(l2, loss, err_msg=f"{kind} loss, {name}")
                g2 = c.difference_loss_backward(kind, _layouts(diff)[name], _misaligned(np.asarray(0.5, dtype)), mean)
                np.testing.assert_array_equal(g2, ga, err_msg=f"{kind} backward, {name}")


@pytest.mark.parametrize("device", DEVICES)
def test_linear_of_a_non_contiguous_input_matches_a_compact_one(device):
    # F.linear's shortcut leaves the layout to the backend (each compacts what its kernel reads).
    rng = np.random.default_rng(2)
    base = rng.standard_normal((3, 5)).astype(np.float32)
    w = engine.tensor(rng.standard_normal((4, 3)).astype(np.float32), device=device, requires_grad=True)
    b = engine.tensor(rng.standard_normal(4).astype(np.float32), device=device, requires_grad=True)
    results = []
    for make in (lambda t: t.t(), lambda t: t.t().contiguous()):
        x = engine.tensor(base, device=device, requires_grad=True)
        w.grad, b.grad = None, None
        out = F.linear(make(x), w, b, "tanh")
        (out * out).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for got, want, what in zip(results[0], results[1], ("out", "x.grad", "w.grad", "b.grad")):
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_shortcut_matches_the_definition(device, reduction):
    rng = np.random.default_rng(3)
    a, t = rng.standard_normal((4, 1)), rng.standard_normal((4, 1))
    x = engine.tensor(a, device=device, requires_grad=True)
    loss = F.mse_loss(x, engine.tensor(t, device=device), reduction=reduction)
    scale = 1 / a.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(loss.item(), ((a - t) ** 2).sum() * scale, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (a - t) * scale, rtol=1e-12)
    # What the shortcut does not take still gets the full checks.
    with pytest.raises(engine.EngineValueError, match=r"^mse_loss: reduction='avg' is not valid"):
        F.mse_loss(x, x.detach(), reduction="avg")
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, engine.tensor(t[:, 0], device=device))


@pytest.mark.parametrize("device", DEVICES)
def test_sgd_step_reads_each_group_and_checks_each_gradient(device):
    # SGD reads a group's hyperparameters once per step: a change between steps still applies.
    w = engine.tensor([1.0, 2.0], device=device, requires_grad=True)
    v = engine.tensor([3.0], device=device, requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": [v], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    for lr in (0.1, 0.2):
        opt.param_groups[0]["lr"] = lr
        before_w, before_v = w.detach().numpy().copy(), v.detach().numpy().copy()
        opt.zero_grad()
        ((w * w).sum() + (v * v).sum()).backward()
        opt.step()
        np.testing.assert_allclose(w.detach().numpy(), before_w - lr * 2 * before_w, rtol=1e-6)
        assert v.detach().numpy()[0] < before_v[0]
    assert len(opt.state) == 1 and "momentum_buffer" in opt.state[v]  # none kept for the momentum-free group
    w.data = engine.zeros(3, device=device)  # the parameter changed shape under its gradient
    with pytest.raises(engine.GradError, match=r"^SGD: the gradient of a parameter of shape \(3,\)"):
        opt.step()
