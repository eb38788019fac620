"""The ``cuda`` device as a user meets it, against the numpy device (the reference).

Runs on a GPU, or under numba's simulator (see conftest.py): shapes are small but cross the
kernels' block edges (1, 17, 33x65, a reduction over 2000), and views (transposed, sliced,
reversed, expanded) are read in place.
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.testing import assert_close

RNG = np.random.default_rng(0)


def both(values, dtype="float32", grad=True):
    """The same leaf on the numpy device and on cuda."""
    a = engine.tensor(values, dtype=dtype, device="numpy", requires_grad=grad)
    b = engine.tensor(values, dtype=dtype, device="cuda", requires_grad=grad)
    return a, b


def agree(fn, *arrays, dtype="float32", rtol=1e-5, atol=1e-6):
    """fn on both devices: same values, and the same gradient of a weighted sum of the output."""
    ref = [engine.tensor(a, dtype=dtype, device="numpy", requires_grad=np.asarray(a).dtype.kind == "f")
           for a in arrays]
    gpu = [engine.tensor(a, dtype=dtype, device="cuda", requires_grad=np.asarray(a).dtype.kind == "f")
           for a in arrays]
    out_ref, out_gpu = fn(*ref), fn(*gpu)
    assert out_gpu.device == "cuda" and out_gpu.shape == out_ref.shape and out_gpu.dtype == out_ref.dtype
    assert_close(out_gpu.detach().cpu(), out_ref.detach(), rtol=rtol, atol=atol)
    if out_ref.requires_grad:
        w = RNG.uniform(-1, 1, tuple(out_ref.shape))
        (out_ref * engine.tensor(w, dtype=dtype, device="numpy")).sum().backward()
        (out_gpu * engine.tensor(w, dtype=dtype, device="cuda")).sum().backward()
        for r, g in zip(ref, gpu):
            if r.requires_grad:
                assert g.grad.device == "cuda"
                assert_close(g.grad.cpu(), r.grad, rtol=rtol, atol=atol)


def test_the_device_as_a_user_meets_it():
    assert engine.cuda.is_available() and engine.cuda.device_count() == 1
    device = "cuda" if engine.cuda.is_available() else "cpu"  # the lectures' first line
    t = engine.tensor([[1.0, 2.0]], device=device)
    assert t.is_cuda and str(t.device) == "cuda:0" and repr(t.device) == "device(type='cuda', index=0)"
    assert "device='cuda:0'" in repr(t)
    assert t.cpu().device != "cuda" and t.cuda().device == "cuda" and t.to("cuda") is t
    assert t.tolist() == [[1.0, 2.0]] and t.numpy().tolist() == [[1.0, 2.0]] and t.sum().item() == 3.0
    engine.cuda.manual_seed(777)
    engine.cuda.manual_seed_all(777)
    engine.cuda.synchronize()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, fn, shapes",
    [
        ("add broadcast", lambda a, b: a + b, [(17, 1), (1, 13)]),
        ("mul", lambda a, b: a * b, [(33, 5), (33, 5)]),
        ("div", lambda a, b: a / (b.abs() + 1), [(7, 3), (3,)]),
        ("sub scalar", lambda a: 2.0 - a * 3, [(17,)]),
        ("pow", lambda a: (a.abs() + 0.5) ** 1.5, [(5, 4)]),
        ("sigmoid tanh exp", lambda a: a.sigmoid() + a.tanh() + (a * 0.1).exp(), [(33, 3)]),
        ("relu log", lambda a: a.relu() + (a.abs() + 1).log(), [(17, 2)]),
        ("maximum", lambda a, b: engine.maximum(a, b), [(9, 4), (9, 4)]),
        ("where clamp", lambda a: engine.where(a > 0, a, a * 0.1).clamp(-0.5, 0.7), [(19,)]),
        ("sum dim", lambda a: a.sum(dim=1), [(33, 65)]),
        ("sum long", lambda a: a.sum(), [(2000,)]),
        ("mean keepdim", lambda a: a.mean(dim=0, keepdim=True), [(17, 5)]),
        ("max dim", lambda a: a.max(dim=1)[0], [(13, 7)]),
        ("max all", lambda a: a.max(), [(5, 6)]),
        ("matmul", lambda a, b: a @ b, [(17, 33), (33, 9)]),  # tile edges; 33x65 runs in test_kernels_matmul
        ("matmul batched", lambda a, b: a @ b, [(2, 5, 7), (7, 3)]),
        ("matmul transposed views", lambda a, b: a.T @ b.T, [(7, 5), (3, 7)]),
        ("softmax", lambda a: a.softmax(dim=1), [(5, 17)]),
        ("log_softmax dim 0", lambda a: a.log_softmax(dim=0), [(17, 5)]),
        ("views", lambda a: a.T[1:, ::-1].reshape(-1) * 2, [(5, 7)]),
        ("expand", lambda a: a.expand(4, 3, 5) * 1.0, [(3, 1)]),
        ("index", lambda a: a[[0, 2, 2], 1:], [(4, 5)]),
        ("cat", lambda a, b: engine.cat([a, b], dim=1).sum(dim=0), [(3, 4), (3, 2)]),
        ("stack", lambda a, b: engine.stack([a, b]).mean(dim=0), [(3, 4), (3, 4)]),
        ("linear", lambda x, w, b: F.linear(x, w, b), [(6, 5), (4, 5), (4,)]),
        ("mse", lambda a, b: F.mse_loss(a, b), [(7, 3), (7, 3)]),
        ("l1", lambda a, b: F.l1_loss(a, b), [(7, 3), (7, 3)]),
    ],
)
def test_ops_agree_with_the_numpy_device(dtype, name, fn, shapes):
    arrays = [RNG.uniform(-2, 2, s) for s in shapes]
    tight = dtype == "float64"
    agree(fn, *arrays, dtype=dtype, rtol=1e-9 if tight else 1e-4, atol=1e-9 if tight else 1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_and_bce(dtype):
    logits = RNG.uniform(-3, 3, (9, 5))
    target = RNG.integers(0, 5, 9)
    ref, gpu = both(logits, dtype)
    loss_r = F.cross_entropy(ref, engine.tensor(target, device="numpy"))
    loss_g = F.cross_entropy(gpu, engine.tensor(target, device="cuda"))
    assert_close(loss_g.cpu(), loss_r.detach(), rtol=1e-5)
    loss_r.backward()
    loss_g.backward()
    assert_close(gpu.grad.cpu(), ref.grad, rtol=1e-4, atol=1e-6)
    p_r, p_g = both(RNG.uniform(0.05, 0.95, (6,)), dtype)
    y = RNG.integers(0, 2, 6).astype(dtype)
    assert_close(F.binary_cross_entropy(p_g, engine.tensor(y, device="cuda")).cpu().detach(),
                 F.binary_cross_entropy(p_r, engine.tensor(y, device="numpy")).detach(), rtol=1e-5)


def test_setitem_and_in_place_ops_stay_on_the_gpu():
    x = engine.zeros(3, 4, device="cuda")
    x[1] = 5.0
    x[:, 2] = engine.tensor([1.0, 2.0, 3.0], device="cuda")
    x[[0, 2], 0] = 7.0
    x.add_(1.0)
    expected = np.ones((3, 4))
    expected[1] = 6
    expected[:, 2] = [2, 3, 4]
    expected[[0, 2], 0] = 8
    assert_close(x.cpu(), expected)
    assert x.device == "cuda" and x._version == 4


def test_a_short_training_loop_matches_the_numpy_device():
    def train(device):
        engine.manual_seed(3)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid()).to(device)
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        x = engine.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], device=device)
        y = engine.tensor([[0.0], [1.0], [1.0], [0.0]], device=device)
        for _ in range(4):  # few steps: the simulator runs each CUDA thread in Python
            opt.zero_grad()
            loss = F.binary_cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return [p.detach().cpu().numpy() for p in model.parameters()], loss.item()

    ref_params, ref_loss = train("numpy")
    gpu_params, gpu_loss = train("cuda")
    assert abs(gpu_loss - ref_loss) < 1e-5
    for r, g in zip(ref_params, gpu_params):
        assert_close(g, r, rtol=1e-4, atol=1e-5)


def test_adam_steps_match_the_numpy_device():
    values = RNG.uniform(-1, 1, (5, 3))
    params = {}
    for device in ("numpy", "cuda"):
        p = engine.tensor(values, device=device, requires_grad=True)
        opt = optim.Adam([p], lr=0.1, weight_decay=0.01)
        for _ in range(4):
            opt.zero_grad()
            ((p * p).sum() + p.sum()).backward()
            opt.step()
        params[device] = p.detach().cpu().numpy()
    assert_close(params["cuda"], params["numpy"], rtol=1e-5, atol=1e-6)


def test_zero_copy_interop_through_the_cuda_array_interface():
    x = engine.tensor(np.arange(12.0).reshape(3, 4), device="cuda")
    view = x.T[1:]  # a strided view: the interface carries its strides
    wrapped = engine.as_tensor(_Holder(view.__cuda_array_interface__))
    assert wrapped.device == "cuda" and wrapped.tolist() == view.tolist()
    x.mul_(10)  # same memory: the wrapped tensor sees it
    assert wrapped.tolist() == (view).tolist()
    with pytest.raises(AttributeError):
        _ = engine.tensor([1.0], device="numpy").__cuda_array_interface__
    with pytest.raises(engine.GradError):
        _ = engine.ones(2, device="cuda", requires_grad=True).__cuda_array_interface__


class _Holder:
    """An object that only exposes memory through the interface (as a CuPy or PyTorch tensor does)."""

    def __init__(self, interface: dict) -> None:
        self.__cuda_array_interface__ = interface


def test_mixing_devices_is_an_error():
    with pytest.raises(engine.DeviceError, match="different devices"):
        engine.ones(2, device="cuda") + engine.ones(2, device="numpy")
