"""Forward values and gradients of every tensor op against PyTorch (float32 and float64).

Also: NaN/inf propagation, 0-d and empty tensors, non-contiguous inputs. Every test runs
on each device in ``DEVICES``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tensor_helpers import DEVICES, FLOAT_DTYPES, check_op, torch

import engine
from engine.ops import elementwise as ew
from engine.ops import neural as nn_ops
from engine.testing import assert_close

F = torch.nn.functional if torch is not None else None

POS = {"low": 0.5, "high": 2.5}  # inside the domain of log, pow and division

# name -> (engine fn, torch fn, input shapes, check_op keywords)
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (3, 4)], {}),
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [(2, 3, 4), (3, 1)], {}),
    "radd_scalar": (lambda a: 2.5 + a, lambda a: 2.5 + a, [(3, 4)], {}),
    "sub_broadcast": (lambda a, b: a - b, lambda a, b: a - b, [(4, 1), (1, 5)], {}),
    "rsub_scalar": (lambda a: 1 - a, lambda a: 1 - a, [(3,)], {}),
    "mul_broadcast": (lambda a, b: a * b, lambda a, b: a * b, [(2, 3, 4), (4,)], {}),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 4)], POS),
    "div_broadcast": (lambda a, b: a / b, lambda a, b: a / b, [(3, 1), (1, 4)], POS),
    "rdiv_scalar": (lambda a: 2 / a, lambda a: 2 / a, [(5,)], POS),
    "pow_scalar": (lambda a: a**3, lambda a: a**3, [(3, 4)], {}),
    "pow_square": (lambda a: a**2, lambda a: a**2, [(3, 4)], {}),
    "pow_fraction": (lambda a: a**0.5, lambda a: a**0.5, [(3, 4)], POS),
    "pow_negative": (lambda a: a**-1.5, lambda a: a**-1.5, [(3, 4)], POS),
    "pow_tensor": (lambda a, b: a**b, lambda a, b: a**b, [(3, 4), (3, 4)], POS),
    "rpow_scalar": (lambda a: 2.0**a, lambda a: 2.0**a, [(3, 4)], {}),
    "neg": (lambda a: -a, lambda a: -a, [(3, 4)], {}),
    "exp": (lambda a: a.exp(), lambda a: a.exp(), [(3, 4)], {}),
    "log": (lambda a: a.log(), lambda a: a.log(), [(3, 4)], POS),
    "sqrt": (lambda a: a.sqrt(), lambda a: a.sqrt(), [(3, 4)], POS),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: a.sigmoid(), [(3, 4)], {"low": -8, "high": 8}),
    "tanh": (lambda a: a.tanh(), lambda a: a.tanh(), [(3, 4)], {}),
    "relu": (lambda a: a.relu(), lambda a: a.relu(), [(3, 4)], {}),
    "leaky_relu": (lambda a: ew.LeakyRelu.apply(a, 0.1), lambda a: F.leaky_relu(a, 0.1), [(3, 4)], {}),
    "elu": (lambda a: ew.Elu.apply(a, 1.0), lambda a: F.elu(a, 1.0), [(3, 4)], {}),
    "abs": (lambda a: a.abs(), lambda a: a.abs(), [(3, 4)], {}),
    "maximum": (engine.maximum, torch.maximum if torch else None, [(3, 4), (4,)], {}),
    "minimum": (engine.minimum, torch.minimum if torch else None, [(3, 4), (3, 1)], {}),
    "clamp": (lambda a: a.clamp(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [(3, 4)], {}),
    "clamp_min": (lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), [(3, 4)], {}),
    "where": (
        lambda a, b: engine.where(a > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        [(3, 4), (4,)],
        {},
    ),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [(3, 4, 5)], {}),
    "sum_dim": (lambda a: a.sum(1), lambda a: a.sum(1), [(3, 4, 5)], {}),
    "sum_dims_keep": (lambda a: a.sum((0, 2), keepdim=True), lambda a: a.sum((0, 2), keepdim=True), [(3, 4, 5)], {}),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [(3, 4, 5)], {}),
    "mean_dim_keep": (lambda a: a.mean(-1, keepdim=True), lambda a: a.mean(-1, keepdim=True), [(3, 4, 5)], {}),
    "max_all": (lambda a: a.max(), lambda a: a.max(), [(3, 4)], {}),
    "max_dim": (lambda a: a.max(1), lambda a: a.max(1), [(3, 4)], {}),
    "min_dim_keep": (lambda a: a.min(0, keepdim=True), lambda a: a.min(0, keepdim=True), [(3, 4)], {}),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)], {}),
    "matmul_vec_mat": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 5)], {}),
    "matmul_mat_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], {}),
    "matmul_dot": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4,)], {}),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], {}),
    "matmul_batch_broadcast": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)], {}),
    "reshape": (lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), [(2, 3, 4)], {}),
    "view": (lambda a: a.view(6, 4), lambda a: a.view(6, 4), [(2, 3, 4)], {}),
    "permute": (lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)], {}),
    "transpose": (lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [(2, 3, 4)], {}),
    "T": (lambda a: a.T, lambda a: a.T, [(3, 4)], {}),
    "squeeze": (lambda a: a.squeeze(), lambda a: a.squeeze(), [(3, 1, 4, 1)], {}),
    "squeeze_dim": (lambda a: a.squeeze(1), lambda a: a.squeeze(1), [(3, 1, 4)], {}),
    "unsqueeze": (lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [(3, 4)], {}),
    "flatten": (lambda a: a.flatten(1), lambda a: a.flatten(1), [(2, 3, 4)], {}),
    "expand": (lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), [(3, 1)], {}),
    "index_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(4, 5)], {}),
    "index_negative": (lambda a: a[-1, :, None], lambda a: a[-1, :, None], [(4, 5)], {}),
    "cat": (lambda a, b: engine.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), [(2, 3), (2, 5)], {}),
    "stack": (lambda a, b: engine.stack([a, b], -1), lambda a, b: torch.stack([a, b], -1), [(2, 3), (2, 3)], {}),
    "softmax": (lambda a: a.softmax(1), lambda a: a.softmax(1), [(3, 5)], {"grad": "projection"}),
    "log_softmax": (lambda a: a.log_softmax(0), lambda a: a.log_softmax(0), [(3, 5)], {"grad": "projection"}),
    "mse": (lambda a, b: nn_ops.MSE.apply(a, b), F.mse_loss if F else None, [(4, 3), (4, 3)], {}),
    "l1": (
        lambda a, b: nn_ops.L1.apply(a, b, "sum"),
        lambda a, b: F.l1_loss(a, b, reduction="sum"),
        [(4, 3), (4, 3)],
        {},
    ),
    "bce_logits": (
        lambda a, b: nn_ops.BinaryCrossEntropyWithLogits.apply(a, b.detach().sigmoid()),
        lambda a, b: F.binary_cross_entropy_with_logits(a, b.detach().sigmoid()),
        [(4, 3), (4, 3)],
        {},
    ),
    "bce": (
        lambda a, b: nn_ops.BinaryCrossEntropy.apply(a.sigmoid(), b.detach().sigmoid(), "sum"),
        lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.detach().sigmoid(), reduction="sum"),
        [(4, 3), (4, 3)],
        {},
    ),
}

ACTIVATIONS = [None, "relu", "sigmoid", "tanh"]
_TORCH_ACT = {None: lambda y: y, "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(OPS))
def test_op_matches_torch(name, dtype, device):
    engine_fn, torch_fn, shapes, kwargs = OPS[name]
    check_op(engine_fn, torch_fn, shapes, dtype, device, **kwargs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear_matches_torch(act, bias, dtype, device):
    def torch_fn(x, w, *b):
        y = F.linear(x, w, b[0] if b else None)
        return y if act is None else getattr(torch, act)(y)

    shapes = [(5, 4), (3, 4)] + ([(3,)] if bias else [])
    check_op(
        lambda x, w, *b: nn_ops.Linear.apply(x, w, b[0] if b else None, act),
        torch_fn, shapes, dtype, device, grad="projection",
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(reduction, dtype, device):
    target = np.array([0, 3, 1, 3, 2])
    check_op(
        lambda z, t: nn_ops.CrossEntropy.apply(z, t, reduction),
        lambda z, t: F.cross_entropy(z, t, reduction=reduction),
        [(5, 4), target], dtype, device, grad="projection",
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_integer_index_tensor_with_repeats(dtype, device):
    index = np.array([2, 0, 2, -1])
    check_op(lambda a, i: a[i], lambda a, i: a[i], [(4, 3), index], dtype, device)
    check_op(lambda a, i: a[:, i[:2]], lambda a, i: a[:, i[:2]], [(4, 3), index], dtype, device)


# ---- NaN and inf propagate as IEEE arithmetic -----------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_exp_and_log_at_the_edges(device):
    x = engine.tensor([math.inf, -math.inf, 0.0], device=device)
    assert x.exp().tolist() == [math.inf, 0.0, 1.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = engine.tensor([0.0, -1.0, math.inf], device=device).log().tolist()
    assert logs[0] == -math.inf and math.isnan(logs[1]) and logs[2] == math.inf


def _named(name, fn):
    fn.__name__ = name
    return fn


_NAN_OPS = {
    name: _named(name, fn)
    for name, fn in {
        "add": lambda t: t + 1,
        "mul": lambda t: t * 2,
        "sum": lambda t: t.sum(0),
        "max": lambda t: t.max(0)[0],
        "relu": lambda t: t.relu(),
        "sigmoid": lambda t: t.sigmoid(),
        "tanh": lambda t: t.tanh(),
        "matmul": lambda t: t @ engine.ones(3, 2, dtype=t.dtype, device=t.device),
    }.items()
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", list(_NAN_OPS.values()), ids=list(_NAN_OPS))
def test_nan_propagates(op, device):
    rows = [[1.0, math.nan, 2.0], [0.5, 1.0, -1.0]]
    out = op(engine.tensor(rows, device=device)).numpy()
    # NaN reaches exactly the outputs that depend on it: the same places as in IEEE/numpy.
    reference = np.array(rows, dtype=np.float32)
    expected = op(engine.tensor(reference, device="numpy")).numpy() if torch is None else None
    if torch is not None:
        ref = torch.tensor(rows)
        expected = {
            "add": ref + 1, "mul": ref * 2, "sum": ref.sum(0), "max": ref.max(0)[0], "relu": ref.relu(),
            "sigmoid": ref.sigmoid(), "tanh": ref.tanh(), "matmul": ref @ torch.ones(3, 2),
        }[op.__name__].numpy()
    assert np.isnan(out).any()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    assert_close(out, expected)


@pytest.mark.parametrize("device", DEVICES)
def test_nan_max_is_nan_like_torch(device):
    t = engine.tensor([1.0, math.nan, 3.0], device=device)
    assert math.isnan(t.max().item())
    assert math.isnan(t.sum().item())


# ---- 0-d, empty and non-contiguous tensors ----------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_zero_dim_tensors(dtype, device):
    check_op(lambda a, b: a * b + a.exp(), lambda a, b: a * b + a.exp(), [(), ()], dtype, device)
    check_op(lambda a, b: a * b, lambda a, b: a * b, [(), (3,)], dtype, device)
    check_op(lambda a: a.sum(), lambda a: a.sum(), [()], dtype, device)
    x = engine.tensor(2.5, device=device)
    assert x.shape == () and x.dim() == 0 and x.item() == 2.5 and x.numel() == 1


@pytest.mark.parametrize("device", DEVICES)
def test_empty_tensors(device):
    e = engine.zeros(0, 3, device=device, requires_grad=True)
    assert tuple((e + 1).shape) == (0, 3)
    assert tuple(e.sum(0).shape) == (3,)
    assert e.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert e.sum().item() == 0.0
    out = e @ engine.ones(3, 2, device=device)
    assert tuple(out.shape) == (0, 2)
    loss = (e * 2).sum()
    loss.backward()
    assert tuple(e.grad.shape) == (0, 3)
    assert tuple(engine.cat([e, engine.ones(2, 3, device=device)]).shape) == (2, 3)
    with np.errstate(invalid="ignore"):  # 0/0: numpy warns where PyTorch is silent
        assert math.isnan(engine.zeros(0, device=device).mean().item())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_non_contiguous_inputs(dtype, device):
    # Transposed and strided views as inputs of every kind of op.
    check_op(lambda a, b: a.T @ b, lambda a, b: a.T @ b, [(4, 3), (4, 5)], dtype, device)
    check_op(lambda a, b: a @ b.T, lambda a, b: a @ b.T, [(3, 4), (5, 4)], dtype, device)
    check_op(lambda a: a[:, ::2].exp().sum(0), lambda a: a[:, ::2].exp().sum(0), [(3, 6)], dtype, device)
    check_op(lambda a: a.T.reshape(-1), lambda a: a.T.reshape(-1), [(3, 4)], dtype, device)
    check_op(lambda a: a.T.softmax(1), lambda a: a.T.softmax(1), [(3, 4)], dtype, device, grad="projection")
    check_op(lambda a: a.T.contiguous(), lambda a: a.T.contiguous(), [(3, 4)], dtype, device)
    check_op(
        lambda a, b: nn_ops.Linear.apply(a.T, b[::2], None, "tanh"),
        lambda a, b: torch.tanh(F.linear(a.T, b[::2])),
        [(4, 5), (6, 4)], dtype, device, grad="projection",
    )
    check_op(
        lambda a: nn_ops.CrossEntropy.apply(a.T, engine.tensor([1, 0, 2], device=device)),
        lambda a: F.cross_entropy(a.T, torch.tensor([1, 0, 2])),
        [(4, 3)], dtype, device,
    )
    check_op(lambda a: a.permute(1, 0, 2)[1:].max(2)[0], lambda a: a.permute(1, 0, 2)[1:].max(2)[0],
             [(2, 3, 4)], dtype, device)


@pytest.mark.parametrize("device", DEVICES)
def test_non_contiguous_values_directly(device):
    base = engine.arange(12.0, device=device).reshape(3, 4)
    t = base.T
    assert not t.is_contiguous()
    assert t.contiguous().is_contiguous()
    assert_close(t, np.arange(12.0).reshape(3, 4).T)
    assert_close(t[1:, 1] * 2, np.arange(12.0).reshape(3, 4).T[1:, 1] * 2)
    assert_close(t.sum(1), np.arange(12.0).reshape(3, 4).T.sum(1))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_reused_input_gradients_add(dtype, device):
    check_op(lambda a: a * a + a.exp() * a, lambda a: a * a + a.exp() * a, [(3, 4)], dtype, device)
    check_op(lambda a, b: (a @ b) @ b.T + a, lambda a, b: (a @ b) @ b.T + a, [(3, 4), (4, 4)], dtype, device)


# ---- regressions: semantics that once differed from PyTorch ---------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_max_min_ties(dtype, device):
    ties = np.array([[1.0, 1.0, 0.0], [2.0, 5.0, 5.0]], dtype)
    # Along a dim the gradient goes to the returned index; over everything it is split evenly.
    check_op(lambda a: a.max(1)[0], lambda a: a.max(1)[0], [ties], dtype, device)
    check_op(lambda a: a.min(1, keepdim=True)[0], lambda a: a.min(1, keepdim=True)[0], [ties], dtype, device)
    check_op(lambda a: a.max(), lambda a: a.max(), [ties], dtype, device)
    check_op(lambda a: engine.maximum(a, a[:, :1]), lambda a: torch.maximum(a, a[:, :1]), [ties], dtype, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_pow_at_zero_base(dtype, device):
    base = np.array([0.0, 2.0, 0.0, 1.5], dtype)
    exponent = np.array([2.0, 3.0, 0.0, 0.0], dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        check_op(lambda a, b: a**b, lambda a, b: a**b, [base, exponent], dtype, device)
        check_op(lambda b: 0.0**b, lambda b: 0.0**b, [exponent[:2]], dtype, device)


@pytest.mark.parametrize("device", DEVICES)
def test_int_tensors_meet_float_numbers(device):
    x = engine.tensor([-1, 1, 3], device=device)
    assert x.clamp(0.5, 2).dtype == engine.float32 and x.clamp(0.5, 2).tolist() == [0.5, 1.0, 2.0]
    assert x.clamp(0, 2).dtype == engine.int64
    w = engine.where(x > 0, x, 0.5)
    assert w.dtype == engine.float32 and w.tolist() == [0.5, 1.0, 3.0]
    assert engine.where(x > 0, x, 0).dtype == engine.int64
    assert (x / 2).dtype == engine.float32 and (x + 0.5).dtype == engine.float32
