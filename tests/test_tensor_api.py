"""The PyTorch-style tensor API: creation, dtypes, properties, autograd bookkeeping, repr."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tensor_helpers import DEVICES, torch

import engine
from engine.backends import c_available, default_device_name
from engine.testing import assert_close

devices = pytest.mark.parametrize("device", DEVICES)


# ---- creation and dtypes ------------------------------------------------------------------------------


@devices
def test_default_dtypes_follow_pytorch(device):
    assert engine.tensor([1.0, 2.0], device=device).dtype == engine.float32
    assert engine.tensor([1, 2], device=device).dtype == engine.int64
    assert engine.tensor([1, 2.5], device=device).dtype == engine.float32
    assert engine.tensor(np.array([1.0, 2.0]), device=device).dtype == engine.float64
    assert engine.tensor(np.array([1.0], np.float32), device=device).dtype == engine.float32
    assert engine.tensor([True, False], device=device).dtype == engine.bool
    assert engine.tensor(3, device=device).dtype == engine.int64
    assert engine.tensor([1, 2], dtype=engine.float64, device=device).dtype == engine.float64
    assert engine.tensor([1.7, -2.7], dtype=engine.long, device=device).tolist() == [1, -2]  # truncation
    assert engine.from_numpy(np.zeros(2)).dtype == engine.float64
    assert engine.FloatTensor([[1, 2]]).dtype == engine.float32
    assert engine.LongTensor([1, 2]).dtype == engine.int64
    assert engine.ByteTensor([1, 0]).dtype == engine.uint8  # the dtype its repr names
    assert engine.tensor([3, 4], dtype=engine.uint8, device=device).tolist() == [3, 4]


@devices
def test_creation_functions(device):
    assert engine.zeros(2, 3, device=device).tolist() == [[0.0] * 3] * 2
    assert engine.ones((2,), device=device).tolist() == [1.0, 1.0]
    assert engine.full((2,), 7, device=device).dtype == engine.int64
    assert engine.full((2,), 7.0, device=device).tolist() == [7.0, 7.0]
    assert engine.arange(4, device=device).tolist() == [0, 1, 2, 3]
    assert engine.arange(0, 1, 0.25, device=device).dtype == engine.float32
    assert_close(engine.linspace(0, 1, 5, device=device), np.linspace(0, 1, 5))
    assert engine.eye(2, device=device).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = engine.randn(3, 4, device=device)
    assert tuple(x.shape) == (3, 4) and x.device == device and x.dtype == engine.float32
    assert engine.zeros_like(x).shape == x.shape and engine.ones_like(x, dtype=engine.float64).dtype == engine.float64
    engine.manual_seed(5)
    a = engine.rand(3, device=device).tolist()
    engine.manual_seed(5)
    assert engine.rand(3, device=device).tolist() == a


@devices
def test_properties(device):
    x = engine.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device, requires_grad=True)
    assert x.shape == (2, 3) and x.shape == engine.Size([2, 3]) and repr(x.shape) == "engine.Size([2, 3])"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6
    assert x.dtype == engine.float32 and x.device == device and x.device.type == device
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    assert x.sum().item() == 21.0 and isinstance(x.sum().item(), float)
    assert engine.tensor(3, device=device).item() == 3 and isinstance(engine.tensor(3).item(), int)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert engine.tensor(2.5).tolist() == 2.5
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert isinstance(d.numpy(), np.ndarray)


@devices
def test_conversions(device):
    x = engine.tensor([1.5, -2.5], device=device)
    assert x.long().tolist() == [1, -2] and x.long().dtype == engine.int64
    assert x.long().float().dtype == engine.float32
    assert x.double().dtype == engine.float64 and x.to(engine.float64).dtype == engine.float64
    assert x.to(device) is x  # no copy when nothing changes
    assert x.to(dtype=engine.float32) is x
    assert x.to("numpy").device == "numpy"
    cpu = x.cpu()
    assert cpu.device == "cpu" and cpu.tolist() == x.tolist()
    c = x.clone()
    assert c is not x and c.tolist() == x.tolist()
    c.add_(1)
    assert x.tolist() == [1.5, -2.5]  # clone owns its storage
    t = engine.zeros(3, 4, device=device).T
    assert not t.is_contiguous() and t.contiguous().is_contiguous()
    k = engine.zeros(2, device=device)
    assert k.contiguous() is k


@devices
def test_to_keeps_the_graph(device):
    x = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x.to(engine.float64) * 3
    y.sum().backward()
    assert x.grad.dtype == engine.float32 and x.grad.tolist() == [3.0, 3.0]
    z = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    (z.to("numpy") * z.to("numpy")).sum().backward()
    assert z.grad.tolist() == [2.0, 4.0] and z.grad.device == device


# ---- autograd bookkeeping ---------------------------------------------------------------------------------


@devices
def test_backward_accumulates(device):
    x = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    y.backward()  # a second backward adds, as in PyTorch
    assert x.grad.tolist() == [4.0, 8.0]
    x.grad.zero_()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


@devices
def test_backward_with_gradient(device):
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = x * x
    y.backward(gradient=engine.tensor([1.0, 0.5, -1.0], device=device))
    assert x.grad.tolist() == [2.0, 2.0, -6.0]
    x2 = engine.tensor([[1.0]], requires_grad=True, device=device)
    (x2 * 4).backward()  # a one-element tensor needs no gradient argument
    assert x2.grad.tolist() == [[4.0]]


@devices
def test_retain_grad_and_leaf_grads(device):
    x = engine.tensor([1.0, -2.0], requires_grad=True, device=device)
    h = x * 3
    h.retain_grad()
    out = (h * h).sum()
    out.backward()
    assert h.grad.tolist() == [6.0, -12.0]
    assert x.grad.tolist() == [18.0, -36.0]
    g = x * 2
    (g * 1).sum().backward()
    assert g.grad is None  # non-leaves keep no grad unless asked


@devices
def test_requires_grad_(device):
    x = engine.tensor([1.0], device=device)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(engine.DTypeError, match="floating point"):
        engine.tensor([1, 2], device=device).requires_grad_()


@devices
def test_no_grad(device):
    x = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    with engine.no_grad():
        y = x * 2
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @engine.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with engine.no_grad():
        with engine.enable_grad():
            assert (x * 2).requires_grad


@devices
def test_in_place_ops(device):
    w = engine.tensor([1.0, 2.0], device=device)
    w.mul_(3)
    assert w.tolist() == [3.0, 6.0]
    w.add_(engine.tensor([1.0, 1.0], device=device))
    assert w.tolist() == [4.0, 7.0]
    w -= 1
    assert w.tolist() == [3.0, 6.0]
    w.add_(engine.ones(2, device=device), alpha=-2)
    assert w.tolist() == [1.0, 4.0]
    ref = w
    w *= 2
    assert w is ref and w.tolist() == [2.0, 8.0]
    w.zero_()
    assert w.tolist() == [0.0, 0.0]
    p = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    with pytest.raises(engine.GradError, match="leaf Variable that requires grad is being used in an in-place"):
        p.mul_(2)
    with pytest.raises(RuntimeError):
        p -= 1
    with engine.no_grad():  # the optimizer's way
        p -= 0.5 * engine.ones(2, device=device)
    assert p.tolist() == [0.5, 1.5] and p.requires_grad


@devices
def test_comparisons_give_bool_tensors(device):
    x = engine.tensor([1.0, 2.0, 3.0], device=device)
    for out, expected in [
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
        (x == engine.tensor([1.0, 0.0, 3.0], device=device), [True, False, True]),
    ]:
        assert out.dtype == engine.bool and out.tolist() == expected
    assert (x > 1).sum().item() == 2 and (x > 1).sum().dtype == engine.int64
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]


@devices
def test_max_min_arg_with_dim(device):
    x = engine.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], device=device)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0] and indices.dtype == engine.int64
    out = x.min(0, keepdim=True)
    assert out.values.tolist() == [[1.0, 0.0, 2.0]] and out.indices.tolist() == [[0, 1, 0]]
    assert x.max().item() == 7.0 and x.min().item() == 0.0
    assert x.argmax().item() == 3 and x.argmin().item() == 4
    assert x.argmax(dim=1).tolist() == [1, 0] and x.argmin(1, keepdim=True).tolist() == [[0], [1]]
    if torch is not None and device == default_device_name():  # other devices add device='...' to the repr
        t = torch.tensor(x.tolist())
        assert repr(x.max(1)) == repr(t.max(1)).replace("torch.", "engine.")


@devices
def test_view_reshape_t_squeeze(device):
    x = engine.arange(6.0, device=device)
    v = x.view(2, 3)
    assert v.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x.view(-1, 2).shape == (3, 2) and x.reshape(3, -1).shape == (3, 2)
    t = v.T
    assert t.shape == (3, 2) and t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert t.reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    with pytest.raises(engine.ShapeError, match="reshape"):
        t.view(6)
    assert v.t().shape == (3, 2) and x.T.shape == (6,)
    s = engine.zeros(2, 1, 3, 1, device=device)
    assert s.squeeze().shape == (2, 3) and s.squeeze(1).shape == (2, 3, 1) and s.squeeze(0).shape == s.shape
    assert s.unsqueeze(0).shape == (1, 2, 1, 3, 1) and s.unsqueeze(-1).shape == (2, 1, 3, 1, 1)
    assert engine.tensor(1.0).unsqueeze(0).shape == (1,)
    assert x.view(2, 3).flatten().shape == (6,) and engine.tensor(2.0).flatten().shape == (1,)


@devices
def test_indexing_and_setitem(device):
    x = engine.arange(12.0, device=device).reshape(3, 4)
    assert x[1].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert x[-1, -1].item() == 11.0
    assert x[:, 1].tolist() == [1.0, 5.0, 9.0]
    assert x[engine.tensor([2, 0, 2], device=device)].shape == (3, 4)
    assert x[x > 9].tolist() == [10.0, 11.0]
    assert x[None, 1:, ::2].shape == (1, 2, 2)
    x[0, 0] = 100.0
    x[1] = engine.zeros(4, device=device)
    assert x[0, 0].item() == 100.0 and x[1].tolist() == [0.0] * 4


# ---- repr, exactly as PyTorch prints --------------------------------------------------------------------

_REPR_CASES = {
    "whole": lambda L: L.tensor([1.0, 2.0, 3.0]),
    "negative_whole": lambda L: L.tensor([-1.0, 2.0]),
    "decimals": lambda L: L.tensor([1.5, -2.25, 3.125]),
    "scientific_small": lambda L: L.tensor([1e-5, 1.0, 12345.0]),
    "scientific_big": lambda L: L.tensor([1e10, 1.0]),
    "whole_wide_range": lambda L: L.tensor([0.0, 1.0, 1000.0, 1001.0]),
    "zeros": lambda L: L.zeros(2, 2),
    "negative_zero": lambda L: L.tensor([-0.0, 1.0]),
    "nan_inf": lambda L: L.tensor([float("nan"), float("inf"), -1.5]),
    "int": lambda L: L.tensor([1, -20, 300]),
    "int_2d": lambda L: L.tensor([[1, -2], [300, 4]]),
    "bool": lambda L: L.tensor([True, False]),
    "bool_2d": lambda L: L.tensor([[True, False], [False, True]]),
    "zero_d": lambda L: L.tensor(3.5),
    "zero_d_int": lambda L: L.tensor(7),
    "zero_d_bool": lambda L: L.tensor(True),
    "two_d": lambda L: L.tensor([[1.0, 2.5], [-3.0, 4.0]]),
    "three_d": lambda L: L.arange(12.0).reshape(2, 3, 2),
    "requires_grad": lambda L: L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
    "requires_grad_0d": lambda L: L.tensor(2.0, requires_grad=True),
    "grad_fn_mul": lambda L: L.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_sum": lambda L: L.tensor([[1.0, 2.0]], requires_grad=True).sum(),
    "float64": lambda L: L.tensor([1.5, 2.0], dtype=L.float64),
    "float64_0d": lambda L: L.tensor(1.5, dtype=L.float64),
    "float64_grad_fn": lambda L: L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True) + 1,
    "long_1d_wraps": lambda L: L.linspace(-1, 1, 30),
    "long_int_wraps": lambda L: L.arange(-50, 50) * 1000,
    "summarised_1d": lambda L: L.arange(2000.0),
    "summarised_2d": lambda L: L.arange(3000.0).reshape(60, 50),
    "summarised_3d": lambda L: L.arange(3000.0).reshape(10, 15, 20),
    "summarised_int": lambda L: L.arange(3000).reshape(30, 100),
    "summarised_decimals": lambda L: L.linspace(0, 1, 1200),
    "empty": lambda L: L.tensor([]),
    "empty_2d": lambda L: L.zeros(0, 3),
    "empty_int": lambda L: L.zeros(0, dtype=L.int64),
}


@pytest.mark.skipif(torch is None, reason="needs PyTorch to compare with")
@pytest.mark.parametrize("name", list(_REPR_CASES))
def test_repr_matches_pytorch(name):
    make = _REPR_CASES[name]
    expected = repr(make(torch)).replace("torch.", "engine.")
    assert repr(make(engine)) == expected
    assert str(make(engine)) == expected


def test_repr_of_random_values_matches_pytorch():
    if torch is None:
        pytest.skip("needs PyTorch")
    rng = np.random.default_rng(0)
    for scale in (1e-6, 1e-2, 1.0, 50.0, 1e5, 1e9):
        data = (rng.standard_normal((3, 4)) * scale).astype(np.float32)
        assert repr(engine.tensor(data)) == repr(torch.tensor(data)).replace("torch.", "engine.")


def test_repr_grad_fn_structure_where_names_differ():
    x = engine.tensor([[1.0, 2.0]], requires_grad=True)
    for y in (x.exp(), x @ x.T, x.softmax(1), x[0], x.reshape(2)):
        text = repr(y)
        assert text.startswith("tensor(") and text.endswith(">)")
        assert ", grad_fn=<" in text and "Backward" in text and "requires_grad" not in text


@pytest.mark.skipif(len(DEVICES) < 2, reason="only one device")
def test_repr_names_a_non_default_device():
    # As PyTorch leaves out its default "cpu": only a device other than the default is printed.
    other = "numpy" if default_device_name() != "numpy" else "c"
    if other == "c" and not c_available()[0]:
        pytest.skip("needs a second device: the C library is not built")
    assert repr(engine.tensor([1.0], device=other)) == f"tensor([1.], device='{other}')"
    assert repr(engine.tensor([1.0])) == "tensor([1.])"


def test_item_and_math():
    x = engine.tensor([0.5])
    assert float(x) == 0.5 and math.isclose(float(x.exp()), math.exp(0.5), rel_tol=1e-6)
    assert f"{engine.tensor(1.23456):.2f}" == "1.23"
