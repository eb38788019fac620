"""Convolution and pooling (engine/nn/conv_functional.py, engine/nn/conv.py) against PyTorch on every device.

Values and gradients of conv1d/conv2d, max_pool1d/2d, avg_pool1d/2d and adaptive_avg_pool1d/2d on odd sizes,
strides, paddings, dilations and groups (``check_op``, float32 and float64), the padding modes through the
layers, integer inputs, hypothesis gradchecks on small inputs, the layers' shapes, initialisation and reprs,
and the one-line errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_helpers import DEVICES, FLOAT_DTYPES, HAS_TORCH, check_op, torch

import engine
from engine.errors import DTypeError, EngineError, EngineValueError, ShapeError
from engine.nn import conv as C
from engine.nn import conv_functional as CF
from engine.testing import assert_close, gradcheck, strategies

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is the oracle")
# torch warns that padding='same' with an even kernel pads a copy of the input: true and beside the point here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
TF = torch.nn.functional if HAS_TORCH else None

# (input shape, weight shape, has bias, keyword arguments): odd sizes, every argument off its default somewhere
CONV2D_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), True, {"stride": 2, "padding": 1}),
    ((1, 2, 9, 8), (3, 2, 3, 3), True, {"stride": (1, 2), "padding": (2, 1), "dilation": (2, 1)}),
    ((2, 4, 5, 6), (6, 2, 2, 3), True, {"padding": "same", "groups": 2}),
    ((2, 3, 5, 5), (2, 3, 3, 3), False, {"padding": "valid", "dilation": 2}),
    ((3, 2, 4, 3), (5, 2, 1, 1), True, {}),  # 1x1: the gather is skipped
    ((1, 2, 6, 7), (4, 2, 1, 1), False, {"stride": 3}),  # 1x1 with a stride still gathers
    ((6, 5, 4), (6, 1, 3, 3), True, {"padding": 1, "groups": 6}),  # unbatched, depthwise
    ((2, 1, 3, 4), (2, 1, 3, 4), True, {"padding": (1, 2), "stride": (2, 3)}),
]
CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), True, {"stride": 2, "padding": 1}),
    ((3, 10), (2, 3, 4), False, {"dilation": 3, "padding": "same"}),
    ((1, 4, 7), (6, 2, 2), True, {"groups": 2, "padding": 2, "stride": 3}),
]


def _conv_call(fn, has_bias, kwargs):
    if has_bias:
        return lambda x, w, b: fn(x, w, b, **kwargs)
    return lambda x, w: fn(x, w, **kwargs)


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", range(len(CONV2D_CASES)))
def test_conv2d_matches_torch(case, device, dtype):
    x_shape, w_shape, has_bias, kwargs = CONV2D_CASES[case]
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if has_bias else [])
    check_op(_conv_call(CF.conv2d, has_bias, kwargs), _conv_call(TF.conv2d, has_bias, kwargs), shapes, dtype,
             device, grad="projection")


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", range(len(CONV1D_CASES)))
def test_conv1d_matches_torch(case, device, dtype):
    x_shape, w_shape, has_bias, kwargs = CONV1D_CASES[case]
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if has_bias else [])
    check_op(_conv_call(CF.conv1d, has_bias, kwargs), _conv_call(TF.conv1d, has_bias, kwargs), shapes, dtype,
             device, grad="projection")


# (name, input shape, keyword arguments)
POOL2D_CASES = [
    ("max_pool2d", (2, 3, 8, 8), {"kernel_size": 2}),  # windows side by side: the reshape path
    ("max_pool2d", (2, 3, 7, 9), {"kernel_size": 2, "stride": 2}),  # a row and a column left over
    ("max_pool2d", (2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max_pool2d", (1, 2, 8, 7), {"kernel_size": (2, 3), "stride": (1, 2), "padding": 1, "dilation": (2, 1)}),
    ("max_pool2d", (3, 5, 5), {"kernel_size": 2, "stride": 1}),  # unbatched, overlapping
    ("avg_pool2d", (2, 3, 8, 8), {"kernel_size": 2}),
    ("avg_pool2d", (2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg_pool2d", (2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                  "count_include_pad": False}),
    ("avg_pool2d", (1, 2, 6, 5), {"kernel_size": (3, 2), "stride": 1, "padding": (1, 1), "divisor_override": 5}),
    ("avg_pool2d", (3, 5, 7), {"kernel_size": (2, 3), "stride": (3, 2)}),
    ("adaptive_avg_pool2d", (2, 3, 8, 7), {"output_size": (3, 4)}),
    ("adaptive_avg_pool2d", (2, 3, 4, 5), {"output_size": (7, None)}),  # more outputs than inputs: overlapping
    ("adaptive_avg_pool2d", (3, 5, 6), {"output_size": 1}),
]
POOL1D_CASES = [
    ("max_pool1d", (2, 3, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max_pool1d", (3, 9), {"kernel_size": 2, "dilation": 2}),
    ("avg_pool1d", (2, 3, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                               "count_include_pad": False}),
    ("avg_pool1d", (2, 3, 7), {"kernel_size": 2}),
    ("adaptive_avg_pool1d", (2, 3, 8), {"output_size": 3}),
    ("adaptive_avg_pool1d", (3, 4), {"output_size": 6}),
]


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", POOL2D_CASES + POOL1D_CASES, ids=lambda c: f"{c[0]}{c[1]}{sorted(c[2].items())}")
def test_pooling_matches_torch(case, device, dtype):
    name, shape, kwargs = case
    ours, theirs = getattr(CF, name), getattr(TF, name)
    # distinct values: a max pool's gradient goes to one element per window, so ties would make it ambiguous
    values = np.random.default_rng(1).permutation(math.prod(shape)).reshape(shape).astype(dtype) / 7.0
    check_op(lambda x: ours(x, **kwargs), lambda x: theirs(x, **kwargs), [values], dtype, device,
             grad="projection")


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_return_indices_match_torch(device):
    values = np.random.default_rng(2).permutation(2 * 3 * 8 * 7).reshape(2, 3, 8, 7).astype("float32")
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                   {"kernel_size": (2, 3), "dilation": (2, 1), "padding": 1}):
        out, idx = CF.max_pool2d(engine.tensor(values, device=device), return_indices=True, **kwargs)
        t_out, t_idx = TF.max_pool2d(torch.tensor(values), return_indices=True, **kwargs)
        assert_close(out, t_out.numpy())
        assert idx.dtype == engine.int64 and np.array_equal(idx.numpy(), t_idx.numpy()), kwargs
    out, idx = CF.max_pool1d(engine.tensor(values[0, 0], device=device), 3, return_indices=True)
    _, t_idx = TF.max_pool1d(torch.tensor(values[0, 0]), 3, return_indices=True)
    assert np.array_equal(idx.numpy(), t_idx.numpy())
    module = C.MaxPool2d(2, return_indices=True)
    assert isinstance(module(engine.tensor(values, device=device)), tuple)


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_ties_send_the_gradient_to_the_first_largest_value(device):
    # constant windows: every element ties; PyTorch's kernel keeps the first (row-major) largest one
    x = np.ones((1, 1, 4, 6), dtype="float32")
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        ours = engine.tensor(x, device=device, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        CF.max_pool2d(ours, **kwargs).sum().backward()
        TF.max_pool2d(theirs, **kwargs).sum().backward()
        assert_close(ours.grad, theirs.grad.numpy())


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_integer_inputs_match_torch(device):
    # int64 convolution and pooling; an integer average rounds towards zero, as PyTorch's integer kernel
    rng = np.random.default_rng(3)
    x = rng.integers(-9, 10, size=(2, 3, 6, 5))
    w = rng.integers(-3, 4, size=(4, 3, 2, 2))
    ex, ew, tx, tw = (engine.tensor(x, device=device), engine.tensor(w, device=device), torch.tensor(x),
                      torch.tensor(w))
    for ours, theirs in [
        (CF.conv2d(ex, ew, padding=1, stride=(1, 2)), TF.conv2d(tx, tw, padding=1, stride=(1, 2))),
        (CF.max_pool2d(ex, 2, padding=1), TF.max_pool2d(tx, 2, padding=1)),
        (CF.avg_pool2d(ex, (1, 3), 1, (0, 1)), TF.avg_pool2d(tx, (1, 3), 1, (0, 1))),
        (CF.avg_pool2d(ex, 3, 2, 1, count_include_pad=False), TF.avg_pool2d(tx, 3, 2, 1, count_include_pad=False)),
    ]:
        assert ours.dtype == engine.int64 and np.array_equal(ours.numpy(), theirs.numpy())
    pixels = rng.integers(0, 256, size=(1, 2, 5, 5)).astype(np.uint8)
    got = CF.max_pool2d(engine.tensor(pixels, device=device), 2, padding=1)
    want = TF.max_pool2d(torch.tensor(pixels), 2, padding=1)
    assert got.dtype == engine.uint8 and np.array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_empty_batch_gives_an_empty_output(device):
    x = engine.zeros(0, 2, 5, 5, device=device, requires_grad=True)
    w = engine.ones(3, 2, 3, 3, device=device, requires_grad=True)
    out = CF.conv2d(x, w, padding=1)
    assert tuple(out.shape) == (0, 3, 5, 5)
    out.sum().backward()
    assert tuple(x.grad.shape) == (0, 2, 5, 5) and float(w.grad.abs().sum()) == 0.0
    assert tuple(CF.max_pool2d(x, 2).shape) == (0, 2, 2, 2)
    assert tuple(CF.avg_pool2d(x, 2, padding=1).shape) == (0, 2, 3, 3)


# ---- hypothesis: gradients against central differences, on every device ------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_conv_gradcheck(device, data):
    n, c, groups = data.draw(st.integers(1, 2)), data.draw(st.sampled_from([1, 2])), data.draw(st.sampled_from([1, 2]))
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    stride, dilation = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    padding = data.draw(st.integers(0, 2))
    h = data.draw(st.integers(max(1, dilation * (kh - 1) + 1 - 2 * padding), 5))
    w = data.draw(st.integers(max(1, dilation * (kw - 1) + 1 - 2 * padding), 5))
    values = st.floats(-2, 2, allow_nan=False, allow_infinity=False)
    x = data.draw(strategies.tensors(shape=(n, c * groups, h, w), elements=values, device=device,
                                     requires_grad=True))
    weight = data.draw(strategies.tensors(shape=(2 * groups, c, kh, kw), elements=values, device=device,
                                          requires_grad=True))
    bias = data.draw(strategies.tensors(shape=(2 * groups,), elements=values, device=device, requires_grad=True))
    assert gradcheck(lambda a, b, d: CF.conv2d(a, b, d, stride, padding, dilation, groups), x, weight, bias)
    mode = data.draw(st.sampled_from(["reflect", "replicate", "circular"]))
    if padding < min(h, w):  # reflect needs padding < size (and so do the others here)
        assert gradcheck(lambda a, b: CF._conv("conv2d", 2, a, b, None, stride, padding, dilation, groups, mode),
                         x, weight)


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_pooling_gradcheck(device, data):
    kernel, stride = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    padding = data.draw(st.integers(0, kernel // 2))
    ceil_mode = data.draw(st.booleans())
    h, w = data.draw(st.integers(kernel, 6)), data.draw(st.integers(kernel, 6))
    # distinct values at least 0.05 apart keep the max away from ties (where it has no derivative)
    order = data.draw(st.permutations(range(2 * h * w)))
    x = engine.tensor(np.array(order, dtype=np.float64).reshape(1, 2, h, w) * 0.05 - 1.0, device=device,
                      requires_grad=True)
    assert gradcheck(lambda a: CF.max_pool2d(a, kernel, stride, padding, ceil_mode=ceil_mode), x)
    include = data.draw(st.booleans())
    assert gradcheck(lambda a: CF.avg_pool2d(a, kernel, stride, padding, ceil_mode, count_include_pad=include), x)
    size = (data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7)))
    assert gradcheck(lambda a: CF.adaptive_avg_pool2d(a, size), x)


# ---- the layers -----------------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize(
    "args,kwargs",
    [((1, 32, 3), {"padding": 1}), ((2, 4, (3, 5)), {"stride": 2, "dilation": 2, "groups": 2, "bias": False,
                                                     "padding_mode": "reflect"}),
     ((2, 4, 3), {"padding": "same"}), ((2, 4, 3), {"padding": "valid"}), ((3, 6, 1), {"stride": (2, 1)}),
     ((4, 4, 2), {"padding": (0, 1), "padding_mode": "circular"})],
)
def test_conv2d_layer_shapes_init_and_repr(args, kwargs):
    ours, theirs = C.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for name in ("kernel_size", "stride", "padding", "dilation", "groups", "padding_mode", "output_padding"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape) and p.requires_grad
    # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight and the bias alike
    bound = 1 / math.sqrt(ours.weight[0].numel())
    assert float(ours.weight.abs().max()) <= bound
    assert float(ours.weight.abs().max()) > 0.5 * bound  # drawn, not left at zero
    if ours.bias is not None:
        assert float(ours.bias.abs().max()) <= bound


@needs_torch
def test_layer_reprs_match_torch():
    pairs = [
        (C.Conv1d(2, 4, 3), torch.nn.Conv1d(2, 4, 3)),
        (C.Conv1d(2, 4, 3, stride=2, padding=1, bias=False), torch.nn.Conv1d(2, 4, 3, stride=2, padding=1, bias=False)),
        (C.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (C.MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True),
         torch.nn.MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True)),
        (C.MaxPool2d(kernel_size=3, stride=2, padding=1), torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        (C.MaxPool1d(3), torch.nn.MaxPool1d(3)),
        (C.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (C.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=2),
         torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=2)),
        (C.AvgPool1d(3), torch.nn.AvgPool1d(3)),
        (C.AvgPool1d(4, 2, 1), torch.nn.AvgPool1d(4, 2, 1)),
        (C.AdaptiveAvgPool2d((7, 7)), torch.nn.AdaptiveAvgPool2d((7, 7))),
        (C.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
        (C.AdaptiveAvgPool1d(2), torch.nn.AdaptiveAvgPool1d(2)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def _copy_weights(ours, theirs, device):
    with engine.no_grad():
        ours.weight.copy_(engine.tensor(theirs.weight.detach().numpy(), device=device))
        if ours.bias is not None:
            ours.bias.copy_(engine.tensor(theirs.bias.detach().numpy(), device=device))


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_layers_match_torch_in_every_padding_mode(device, mode):
    x = np.random.default_rng(4).uniform(-1, 1, size=(2, 4, 6, 5)).astype("float32")
    for kwargs in ({"padding": 2}, {"padding": (1, 2), "stride": 2}, {"padding": "same", "dilation": (1, 2)}):
        theirs = torch.nn.Conv2d(4, 6, (3, 2), padding_mode=mode, groups=2, **kwargs)
        ours = C.Conv2d(4, 6, (3, 2), padding_mode=mode, groups=2, **kwargs).to(device)
        _copy_weights(ours, theirs, device)
        ex, tx = engine.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, t_out = ours(ex), theirs(tx)
        assert_close(out, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
        out.sum().backward()
        t_out.sum().backward()
        assert_close(ex.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
        assert_close(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    theirs = torch.nn.Conv1d(4, 3, 3, padding=2, padding_mode=mode)
    ours = C.Conv1d(4, 3, 3, padding=2, padding_mode=mode).to(device)
    _copy_weights(ours, theirs, device)
    rows = x[:, :, 0]  # (N, C, L)
    assert_close(ours(engine.tensor(rows, device=device)), theirs(torch.tensor(rows)).detach().numpy(),
                 rtol=1e-5, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("device", DEVICES)
def test_a_small_cnn_matches_torch_step_for_step(device):
    # the lab's architecture in miniature: two conv-relu-pool blocks and a linear head, trained with Adam
    import engine.nn as nn

    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Conv2d(4, 6, 3, padding=1),
                            m.ReLU(), m.MaxPool2d(2, padding=1), m.Flatten(), m.Linear(6 * 2 * 2, 3))

    ours, theirs = build(_Namespace(nn, C)), build(torch.nn)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        with engine.no_grad():
            p.copy_(engine.tensor(q.detach().numpy()))
    ours.to(device)
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1, size=(5, 1, 6, 6)).astype("float32"), rng.integers(0, 3, size=5)
    opt, t_opt = engine.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        t_opt.zero_grad()
        loss = nn.CrossEntropyLoss()(ours(engine.tensor(x, device=device)), engine.tensor(y, device=device))
        t_loss = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        t_loss.backward()
        opt.step()
        t_opt.step()
        assert abs(loss.item() - t_loss.item()) < 1e-5
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p, q.detach().numpy(), rtol=1e-4, atol=1e-5)


class _Namespace:
    """engine.nn with the conv layers in it (until engine.nn re-exports them)."""

    def __init__(self, *modules):
        for m in modules:
            for name in dir(m):
                if not name.startswith("_"):
                    setattr(self, name, getattr(m, name))


def test_layers_work_on_unbatched_input_and_keep_outputs_contiguous():
    x = engine.randn(3, 8, 8)
    conv = C.Conv2d(3, 5, 3, padding=1)
    out = conv(x)
    assert tuple(out.shape) == (5, 8, 8) and out.is_contiguous()
    assert_close(out, conv(x.unsqueeze(0))[0])
    batched = conv(x.unsqueeze(0))
    assert batched.view(1, -1).shape == (1, 5 * 8 * 8)  # view needs contiguous memory: as PyTorch's output
    assert tuple(C.MaxPool2d(2)(x).shape) == (3, 4, 4)
    assert tuple(C.AvgPool2d(3, stride=1, padding=1)(x).shape) == (3, 8, 8)
    assert tuple(C.AdaptiveAvgPool2d((2, 3))(x).shape) == (3, 2, 3)
    assert tuple(C.Conv1d(3, 2, 3)(x[:, 0]).shape) == (2, 6)


def test_the_layers_train_and_save():
    conv = C.Conv2d(2, 3, 3, bias=False)
    state = conv.state_dict()
    assert list(state) == ["weight"] and tuple(state["weight"].shape) == (3, 2, 3, 3)
    x = engine.randn(4, 2, 5, 5)
    conv(x).pow(2).sum().backward()
    assert conv.weight.grad is not None and tuple(conv.weight.grad.shape) == (3, 2, 3, 3)
    twin = C.Conv2d(2, 3, 3, bias=False)
    twin.load_state_dict(state)
    assert_close(twin(x), conv(x))
    assert C.Conv2d(2, 4, 3, dtype=engine.float64).weight.dtype == engine.float64


# ---- errors: one line, naming the op --------------------------------------------------------------------------

def _z(*shape, dtype="float32"):
    return engine.zeros(*shape, dtype=dtype)


ERRORS = [
    (lambda: CF.conv2d(_z(2, 3, 5, 5), _z(4, 1, 3, 3)), ShapeError, r"conv2d: .*to have 1 channels, but got 3"),
    (lambda: CF.conv2d(_z(2, 3), _z(4, 3, 3, 3)), ShapeError, r"conv2d: expected 3-D \(unbatched\) or 4-D"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3)), ShapeError, r"conv2d: weight must be 4-D"),
    (lambda: CF.conv2d(_z(1, 3, 2, 2), _z(4, 3, 3, 3)), ShapeError, r"conv2d: padded input size .* \(2, 2\)"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5, dtype="float64"), _z(4, 3, 3, 3)), DTypeError,
     r"conv2d: input is float64 but weight float32"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), _z(4, dtype="float64")), DTypeError, r"bias float64"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5, dtype="bool"), _z(4, 3, 3, 3, dtype="bool")), DTypeError,
     r"conv2d: not implemented for bool"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), stride=2, padding="same"), EngineValueError,
     r"padding='same' is not supported for strided"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), padding="full"), EngineValueError, r"invalid padding"),
    (lambda: CF.conv2d(_z(1, 4, 5, 5), _z(3, 2, 3, 3), groups=2), ShapeError, r"groups=2 must divide"),
    (lambda: CF.conv2d(_z(1, 4, 5, 5), _z(4, 3, 3, 3), groups=2), ShapeError, r"to have 6 channels"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), groups=0), EngineValueError, r"groups must be a positive"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), _z(3)), ShapeError, r"bias must have shape \(4,\)"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), stride=0), EngineValueError, r"stride must be positive"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), padding=-1), EngineValueError, r"negative padding"),
    (lambda: CF.conv2d(_z(1, 3, 5, 5), _z(4, 3, 3, 3), dilation=(1, 1, 1)), EngineValueError,
     r"dilation must be an int or a tuple of 2 ints"),
    (lambda: CF.conv2d([[1.0]], _z(4, 3, 3, 3)), EngineError, r"conv2d: input must be a tensor"),
    (lambda: CF.conv1d(_z(1, 3, 5, 5), _z(4, 3, 2)), ShapeError, r"conv1d: expected 2-D \(unbatched\) or 3-D"),
    (lambda: CF._conv("conv2d", 2, _z(1, 3, 5, 5), _z(4, 3, 3, 3), None, 1, 5, 1, 1, "reflect"), EngineValueError,
     r"padding_mode='reflect' needs padding less than the input size"),
    (lambda: CF.max_pool2d(_z(1, 3, 1, 1), 2), ShapeError, r"max_pool2d: .*output size is too small"),
    (lambda: CF.max_pool2d(_z(1, 3, 4, 4), 2, padding=2), EngineValueError, r"max_pool2d: padding must be at most"),
    (lambda: CF.max_pool2d(_z(1, 3, 4, 4), 0), EngineValueError, r"kernel_size must be positive"),
    (lambda: CF.max_pool2d(_z(3, 4), 2), ShapeError, r"max_pool2d: expected 3-D \(unbatched\) or 4-D"),
    (lambda: CF.max_pool2d(_z(1, 3, 4, 4, dtype="bool"), 2), DTypeError, r"max_pool2d: not implemented for bool"),
    (lambda: CF.avg_pool2d(_z(1, 3, 4, 4), 2, padding=2), EngineValueError, r"avg_pool2d: padding must be at most"),
    (lambda: CF.avg_pool2d(_z(1, 3, 4, 4), 2, divisor_override=0), EngineValueError, r"divisor_override must be"),
    (lambda: CF.adaptive_avg_pool2d(_z(1, 3, 4, 4, dtype="int64"), 2), DTypeError,
     r"adaptive_avg_pool2d: not implemented for int64"),
    (lambda: CF.adaptive_avg_pool2d(_z(3, 5), 2), ShapeError, r"adaptive_avg_pool2d: expected 3-D"),
    (lambda: C.Conv2d(3, 4, 3, groups=2), EngineValueError, r"Conv2d: in_channels=3 must be divisible by groups=2"),
    (lambda: C.Conv2d(4, 3, 3, groups=2), EngineValueError, r"out_channels=3 must be divisible"),
    (lambda: C.Conv2d(3, 4, 3, padding_mode="mirror"), EngineValueError, r"Conv2d: padding_mode must be one of"),
    (lambda: C.Conv2d(3, 4, 3, stride=2, padding="same"), EngineValueError, r"'same' is not supported for strided"),
    (lambda: C.Conv2d(3, 4, (3, 3, 3)), EngineValueError, r"Conv2d: kernel_size must be an int or a tuple of 2"),
    (lambda: C.Conv2d(-1, 4, 3), EngineValueError, r"Conv2d: in_channels must be a non-negative int"),
]


@pytest.mark.parametrize("make,error,match", ERRORS)
def test_mistakes_raise_one_line_errors(make, error, match):
    with pytest.raises(error, match=match) as info:
        make()
    assert "\n" not in str(info.value)
