"""engine.nn: layers, losses and functional ops against PyTorch (values and gradients), Module
bookkeeping, the fused Sequential path, state dicts and their .npz files, init, devices, errors."""

from __future__ import annotations

import math
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.core.serialization
import engine.nn as nn
import engine.nn.functional as F
from engine.backends import c_available

TOL = {"float64": (1e-10, 1e-12), "float32": (2e-5, 2e-6)}
DTYPES = ["float64", "float32"]


@pytest.fixture(autouse=True)
def _every_device(on_each_device):
    """Every test here runs on each device in turn (the numpy reference, then C when built)."""
    return on_each_device


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the reference for these checks; install torch to run them")


def _arrays(shapes, dtype, seed=0, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def _close(actual, expected, dtype, what=""):
    rtol, atol = TOL[dtype]
    a = actual.detach().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    e = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def compare(torch, engine_fn, torch_fn, arrays, dtype, extra=(), grad_inputs=None, seed=1):
    """Run both functions on the same float inputs (+ fixed extras), compare outputs and gradients.

    The gradient is that of a fixed random projection sum(out * r), so every output element
    counts with a different weight.
    """
    grad_inputs = range(len(arrays)) if grad_inputs is None else grad_inputs
    ours = [engine.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(arrays)]
    e_extra = [engine.tensor(x) if isinstance(x, np.ndarray) else x for x in extra]
    t_extra = [torch.tensor(x) if isinstance(x, np.ndarray) else x for x in extra]
    out = engine_fn(*ours, *e_extra)
    ref = torch_fn(*theirs, *t_extra)
    _close(out, ref, dtype, "forward")
    assert out.dtype.name == str(ref.dtype).replace("torch.", "")
    r = np.random.default_rng(seed).uniform(0.5, 1.5, size=tuple(ref.shape)).astype(dtype)
    (out * engine.tensor(r)).sum().backward()
    (ref * torch.tensor(r)).sum().backward()
    for i in grad_inputs:
        _close(ours[i].grad, theirs[i].grad, dtype, f"grad of input {i}")
    return out


# ---- functional: activations and linear -----------------------------------------------------------

ACTIVATIONS = [
    ("relu", lambda F_, x: F_.relu(x)),
    ("sigmoid", lambda F_, x: F_.sigmoid(x)),
    ("tanh", lambda F_, x: F_.tanh(x)),
    ("leaky_relu", lambda F_, x: F_.leaky_relu(x, 0.2)),
    ("leaky_relu_default", lambda F_, x: F_.leaky_relu(x)),
    ("elu", lambda F_, x: F_.elu(x, 0.7)),
    ("softmax0", lambda F_, x: F_.softmax(x, dim=0)),
    ("softmax1", lambda F_, x: F_.softmax(x, dim=1)),
    ("log_softmax", lambda F_, x: F_.log_softmax(x, dim=-1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_functional_activations_match_torch(torch, name, fn, dtype):
    compare(torch, lambda x: fn(F, x), lambda x: fn(torch.nn.functional, x), _arrays([(4, 5)], dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(6, 3), (2, 5, 3), (3,), (2, 2, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear_matches_torch(torch, x_shape, bias, dtype):
    shapes = [x_shape, (4, 3)] + ([(4,)] if bias else [])
    compare(torch, F.linear, torch.nn.functional.linear, _arrays(shapes, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_functional_linear_fused_activation_matches_torch(torch, act, dtype):
    tf = getattr(torch, act)
    compare(torch, lambda x, w, b: F.linear(x, w, b, act), lambda x, w, b: tf(torch.nn.functional.linear(x, w, b)),
            _arrays([(5, 3), (4, 3), (4,)], dtype), dtype)


def test_one_hot_matches_torch(torch):
    labels = np.array([[0, 2], [1, 3]])
    ours = F.one_hot(engine.tensor(labels))
    ref = torch.nn.functional.one_hot(torch.tensor(labels))
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert ours.dtype == engine.int64
    np.testing.assert_array_equal(F.one_hot(engine.tensor([1, 0]), num_classes=4).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor([1, 0]), 4).numpy())


def test_one_hot_errors():
    with pytest.raises(engine.DTypeError, match="int64"):
        F.one_hot(engine.tensor([1.0, 2.0]))
    with pytest.raises(engine.EngineValueError, match="label 5 is out of range for 3 classes"):
        F.one_hot(engine.tensor([0, 5]), num_classes=3)


# ---- functional: losses ---------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((4, 1), (4, 3)), ((4, 3), (3,))])
def test_regression_losses_match_torch(torch, name, reduction, dtype, shapes):
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    arrays = _arrays(shapes, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when mse_loss broadcasts; we broadcast silently
        compare(torch, lambda a, b: ours(a, b, reduction=reduction), lambda a, b: theirs(a, b, reduction=reduction),
                arrays, dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_regression_losses_propagate_nan_like_torch(reduction):
    # The loss is NaN; MSE's gradient is NaN at the NaN item only, L1's is 0 there
    # (PyTorch's sign at NaN), and every other item keeps its ordinary gradient.
    n = 4 if reduction == "mean" else 1
    for loss, nan_grad, ordinary in ((F.mse_loss, math.nan, 2 * 1.5 / n), (F.l1_loss, 0.0, 1.0 / n)):
        a = engine.tensor([1.5, math.nan, 1.5, 1.5], requires_grad=True)
        out = loss(a, engine.zeros(4), reduction=reduction)
        out.backward()
        assert math.isnan(out.item())
        grad = a.grad.tolist()
        assert (math.isnan(grad[1]) if math.isnan(nan_grad) else grad[1] == nan_grad), (loss.__name__, grad)
        assert grad[0] == grad[2] == grad[3] == pytest.approx(ordinary)


def test_losses_over_no_items_are_nan_for_mean_and_zero_for_sum():
    # As PyTorch: the mean of nothing is 0/0 = NaN, the sum of nothing is 0.
    empty = engine.zeros(0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy notes the 0/0
        for loss in (F.mse_loss, F.l1_loss, F.binary_cross_entropy):
            assert math.isnan(loss(empty, empty.detach()).item())
            assert loss(empty, empty.detach(), reduction="sum").item() == 0.0
        assert math.isnan(F.cross_entropy(engine.zeros(0, 3), engine.zeros(0, dtype=engine.int64)).item())
        F.mse_loss(empty, empty.detach()).backward()
    assert empty.grad.shape == (0,)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(torch, reduction, dtype, weighted):
    p, y, w = _arrays([(5, 2), (5, 2), (2,)], dtype, low=0.05, high=0.95)
    extra = (w,) if weighted else ()

    def ours(p, y, *w):
        return F.binary_cross_entropy(p, y, weight=w[0] if w else None, reduction=reduction)

    def theirs(p, y, *w):
        return torch.nn.functional.binary_cross_entropy(p, y, weight=w[0] if w else None, reduction=reduction)

    compare(torch, ours, theirs, [p, y], dtype, extra=extra)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "weight", "pos_weight"])
def test_binary_cross_entropy_with_logits_matches_torch(torch, reduction, dtype, option):
    z, = _arrays([(6, 3)], dtype, low=-30, high=30)  # large logits: the stable formula matters
    y, w = _arrays([(6, 3), (3,)], dtype, seed=3, low=0, high=1)
    kwargs = {"weight": "w"} if option == "weight" else {"pos_weight": "w"} if option == "pos_weight" else {}

    def run(fn):
        def call(z, y, *extra):
            return fn(z, y, reduction=reduction, **{k: extra[0] for k in kwargs})
        return call

    extra = (w + 0.5,) if kwargs else ()
    compare(torch, run(F.binary_cross_entropy_with_logits),
            run(torch.nn.functional.binary_cross_entropy_with_logits), [z, y], dtype, extra=extra)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_int_targets_match_torch(torch, reduction, dtype):
    (z,) = _arrays([(7, 4)], dtype)
    t = np.array([0, 3, 1, 2, 3, 0, 1])
    compare(torch, lambda z, t: F.cross_entropy(z, t, reduction=reduction),
            lambda z, t: torch.nn.functional.cross_entropy(z, t, reduction=reduction), [z], dtype, extra=(t,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"weight": True},
        {"ignore_index": 1},
        {"ignore_index": 1, "weight": True},
        {"label_smoothing": 0.2},
        {"label_smoothing": 0.1, "weight": True, "ignore_index": 3},
    ],
    ids=["weight", "ignore", "weight+ignore", "smoothing", "all"],
)
def test_cross_entropy_options_match_torch(torch, reduction, dtype, kwargs):
    z, w = _arrays([(7, 4), (4,)], dtype, low=0.2, high=2)
    t = np.array([0, 3, 1, 2, 3, 0, 1])

    def make(fn):
        def call(z, t, w):
            kw = dict(kwargs)
            kw["weight"] = w if kw.get("weight") else None
            return fn(z, t, reduction=reduction, **kw)
        return call

    compare(torch, make(F.cross_entropy), make(torch.nn.functional.cross_entropy),
            [z], dtype, extra=(t, w))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_match_torch(torch, reduction, dtype):
    z, y = _arrays([(5, 3), (5, 3)], dtype, low=0.1, high=1)
    y = (y / y.sum(axis=1, keepdims=True)).astype(dtype)
    compare(torch, lambda z, y: F.cross_entropy(z, y, reduction=reduction),
            lambda z, y: torch.nn.functional.cross_entropy(z, y, reduction=reduction), [z, y], dtype, grad_inputs=[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_single_sample_and_spatial_match_torch(torch, dtype):
    (z,) = _arrays([(4,)], dtype)
    compare(torch, F.cross_entropy, torch.nn.functional.cross_entropy, [z], dtype, extra=(np.array(2),))
    (z,) = _arrays([(2, 3, 4, 2)], dtype)
    t = np.random.default_rng(0).integers(0, 3, size=(2, 4, 2))
    for reduction in REDUCTIONS:
        compare(torch, lambda z, t, r=reduction: F.cross_entropy(z, t, reduction=r),
                lambda z, t, r=reduction: torch.nn.functional.cross_entropy(z, t, reduction=r), [z], dtype, extra=(t,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(torch, reduction, dtype):
    (z,) = _arrays([(6, 3)], dtype)
    t = np.array([0, 2, 1, 1, 0, 2])
    compare(torch, lambda z, t: F.nll_loss(F.log_softmax(z, 1), t, reduction=reduction),
            lambda z, t: torch.nn.functional.nll_loss(torch.log_softmax(z, 1), t, reduction=reduction),
            [z], dtype, extra=(t,))


def test_cross_entropy_label_out_of_bounds_names_label_and_classes():
    z = engine.randn(3, 3)
    with pytest.raises(engine.EngineValueError) as err:
        F.cross_entropy(z, engine.tensor([0, 5, 1]))
    assert str(err.value) == "cross_entropy: target 5 is out of bounds for 3 classes (valid: 0 to 2)"
    with pytest.raises(ValueError, match="target -1 is out of bounds"):
        F.cross_entropy(z, engine.tensor([0, -1, 1]))


def test_cross_entropy_target_errors():
    z = engine.randn(4, 3)
    with pytest.raises(engine.ShapeError, match=r"expected target of shape \(4,\).*got target shape \(4, 1\)"):
        F.cross_entropy(z, engine.tensor([[0], [1], [2], [0]]))
    with pytest.raises(engine.DTypeError, match="input float64 and target float32"):
        F.cross_entropy(z.double(), engine.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(engine.ShapeError, match="class probabilities"):
        F.cross_entropy(z, engine.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(engine.DTypeError, match="floating point"):
        F.cross_entropy(engine.tensor([[1, 2]]), engine.tensor([0]))
    with pytest.raises(engine.EngineValueError, match="reduction"):
        F.cross_entropy(z, engine.tensor([0, 1, 2, 0]), reduction="avg")


def test_binary_cross_entropy_checks_range_shape_and_dtype():
    with pytest.raises(engine.EngineValueError, match="binary_cross_entropy: all elements of input should be between"):
        F.binary_cross_entropy(engine.tensor([0.5, 1.5]), engine.tensor([0.0, 1.0]))
    with pytest.raises(engine.EngineValueError, match="between 0 and 1"):
        F.binary_cross_entropy(engine.tensor([float("nan"), 0.5]), engine.tensor([0.0, 1.0]))
    with pytest.raises(engine.ShapeError, match=r"target shape \(4,\) must equal input shape \(4, 1\)"):
        F.binary_cross_entropy(engine.rand(4, 1), engine.rand(4))
    with pytest.raises(engine.DTypeError, match="float32.*int64"):
        F.binary_cross_entropy(engine.rand(4), engine.tensor([0, 1, 1, 0]))


def test_loss_dtype_and_shape_errors_name_both():
    with pytest.raises(engine.DTypeError, match="input float32 and target float64"):
        F.mse_loss(engine.rand(3), engine.rand(3, dtype=engine.float64))
    with pytest.raises(engine.DTypeError, match="int64"):
        F.l1_loss(engine.rand(3), engine.tensor([1, 2, 3]))
    with pytest.raises(engine.ShapeError, match=r"mse_loss: input shape \(4, 3\) and target shape \(2,\)"):
        F.mse_loss(engine.rand(4, 3), engine.rand(2))


def test_linear_errors_name_shapes_and_dtypes():
    w = engine.rand(4, 3)
    with pytest.raises(engine.ShapeError, match=r"input shape \(5, 2\) does not fit weight shape \(4, 3\)"):
        F.linear(engine.rand(5, 2), w)
    with pytest.raises(engine.DTypeError, match="input is float64 but weight is float32"):
        F.linear(engine.rand(5, 3, dtype=engine.float64), w)
    with pytest.raises(engine.DTypeError, match="int64"):
        nn.Linear(3, 1)(engine.tensor([[1, 2, 3]]))


# ---- modules against torch ----------------------------------------------------------------------

def _copy_params(ours: nn.Module, theirs) -> None:
    """Give the torch module the engine module's parameter values (same names, same order)."""
    import torch as real_torch

    t_params = dict(theirs.named_parameters())
    assert list(t_params) == [n for n, _ in ours.named_parameters()]
    with real_torch.no_grad():
        for name, p in ours.named_parameters():
            t_params[name].copy_(real_torch.tensor(p.detach().numpy()))


def _layer_pairs(torch):
    tnn = torch.nn
    return [
        (nn.ReLU(), tnn.ReLU()),
        (nn.Sigmoid(), tnn.Sigmoid()),
        (nn.Tanh(), tnn.Tanh()),
        (nn.LeakyReLU(), tnn.LeakyReLU()),
        (nn.LeakyReLU(0.3), tnn.LeakyReLU(0.3)),
        (nn.ELU(), tnn.ELU()),
        (nn.ELU(alpha=0.5), tnn.ELU(alpha=0.5)),
        (nn.Softmax(dim=1), tnn.Softmax(dim=1)),
        (nn.LogSoftmax(dim=1), tnn.LogSoftmax(dim=1)),
        (nn.Identity(), tnn.Identity()),
        (nn.Flatten(), tnn.Flatten()),
        (nn.Flatten(0, 1), tnn.Flatten(0, 1)),
        (nn.Dropout(0.3), tnn.Dropout(0.3)),
        (nn.Linear(4, 3), tnn.Linear(4, 3)),
        (nn.Linear(4, 2, bias=False), tnn.Linear(4, 2, bias=False)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_match_torch_values_grads_and_repr(torch, dtype):
    for ours, theirs in _layer_pairs(torch):
        assert repr(ours) == repr(theirs)
        ours.to(getattr(engine, dtype))
        theirs.to(getattr(torch, dtype))
        ours.eval()
        theirs.eval()
        if list(ours.parameters()):
            _copy_params(ours, theirs)
        x_shape = (3, 4) if not isinstance(ours, nn.Flatten) else (2, 3, 4)
        (x,) = _arrays([x_shape], dtype)
        compare(torch, ours, theirs, [x], dtype)
        for (name, p), (t_name, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == t_name
            _close(p.grad, tp.grad, dtype, f"{type(ours).__name__}.{name}.grad")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make,criterion_kwargs",
    [
        ("MSELoss", {}), ("L1Loss", {}), ("MSELoss", {"reduction": "sum"}), ("L1Loss", {"reduction": "none"}),
        ("BCELoss", {}), ("BCEWithLogitsLoss", {}), ("BCELoss", {"reduction": "sum"}),
    ],
)
def test_loss_modules_match_torch(torch, make, criterion_kwargs, dtype):
    ours, theirs = getattr(nn, make)(**criterion_kwargs), getattr(torch.nn, make)(**criterion_kwargs)
    assert repr(ours) == repr(theirs)
    a, b = _arrays([(5, 2), (5, 2)], dtype, low=0.05, high=0.95)
    compare(torch, ours, theirs, [a, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll_modules_match_torch(torch, reduction, dtype):
    (z,) = _arrays([(6, 3)], dtype)
    t = np.array([0, 2, 1, 1, 0, 2])
    compare(torch, nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
            [z], dtype, extra=(t,))
    compare(torch, lambda z, t: nn.NLLLoss(reduction=reduction)(nn.LogSoftmax(1)(z), t),
            lambda z, t: torch.nn.NLLLoss(reduction=reduction)(torch.nn.LogSoftmax(1)(z), t), [z], dtype, extra=(t,))
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())


def _mlp(lib, act="Sigmoid"):
    return lib.Sequential(lib.Linear(2, 8), getattr(lib, act)(), lib.Linear(8, 8), lib.ReLU(), lib.Linear(8, 3))


def test_sequential_mlp_repr_matches_torch(torch):
    assert repr(_mlp(nn)) == repr(_mlp(torch.nn))
    head = "Sequential(\n  (0): Linear(in_features=2, out_features=8, bias=True)\n  (1): Sigmoid()\n"
    assert repr(_mlp(nn)).startswith(head)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    t_named = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 3)), ("act", torch.nn.Tanh())]))
    assert repr(named) == repr(t_named)


def _build_net(self, lib, tensors):
    """The same layers for the engine's module and torch's: a body, a head and a bare Parameter."""
    self.body = lib.Sequential(lib.Linear(3, 5), lib.Tanh())
    self.head = lib.Linear(5, 2)
    self.scale = lib.Parameter(tensors.ones(2))


def _net_forward(self, x):
    return self.head(self.body(x)) * self.scale


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        _build_net(self, nn, engine)

    forward = _net_forward


def test_custom_module_names_order_repr_and_training_match_torch(torch):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            _build_net(self, torch.nn, torch)

        forward = _net_forward

    ours, theirs = _Net(), TorchNet()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours).replace("_Net", "TorchNet") == repr(theirs)
    _copy_params(ours, theirs)
    theirs.double()
    ours.double()
    (x,) = _arrays([(4, 3)], "float64")
    compare(torch, ours, theirs, [x], "float64")
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        _close(p.grad, tp.grad, "float64", name)


# ---- Linear init ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fan_in,fan_out", [(1, 1), (3, 7), (64, 10)])
def test_linear_init_shapes_and_range(fan_in, fan_out):
    engine.manual_seed(0)
    layer = nn.Linear(fan_in, fan_out)
    assert tuple(layer.weight.shape) == (fan_out, fan_in) and tuple(layer.bias.shape) == (fan_out,)
    assert layer.weight.dtype == engine.float32 and layer.weight.requires_grad and layer.weight.is_leaf
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
    big = nn.Linear(fan_in, 2000).weight.detach().numpy()
    assert big.min() < -0.9 * bound and big.max() > 0.9 * bound  # the whole range is used
    assert isinstance(layer.weight, nn.Parameter)


def test_linear_init_reproducible_and_options():
    engine.manual_seed(5)
    a = nn.Linear(3, 4)
    engine.manual_seed(5)
    b = nn.Linear(3, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    no_bias = nn.Linear(3, 4, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert nn.Linear(3, 4, dtype=engine.float64).weight.dtype == engine.float64
    with pytest.raises(engine.EngineValueError, match="in_features"):
        nn.Linear(-1, 3)


def test_linear_accepts_leading_dims_and_1d():
    layer = nn.Linear(3, 2)
    assert tuple(layer(engine.rand(4, 5, 3)).shape) == (4, 5, 2)
    assert tuple(layer(engine.rand(3)).shape) == (2,)
    x = engine.rand(6, 3)
    np.testing.assert_allclose(layer(x[::2]).detach().numpy(), layer(x.detach()[::2].contiguous()).detach().numpy())


# ---- fused Sequential -----------------------------------------------------------------------------

def _clone_model(model: nn.Module, layers: list[nn.Module]) -> nn.Sequential:
    copy = nn.Sequential(*layers)
    copy.load_state_dict(model.state_dict())
    return copy


class _Unfused(nn.Sequential):
    """Runs each layer on its own: the reference for the fused path."""

    def forward(self, x):
        for layer in self:
            x = layer(x)
        return x


@settings(max_examples=25, deadline=None)
@given(
    acts=st.lists(st.sampled_from(["ReLU", "Sigmoid", "Tanh", "LeakyReLU", None]), min_size=1, max_size=4),
    batch=st.integers(1, 6),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 1000),
)
def test_fused_sequential_gives_identical_values_and_gradients(acts, batch, dtype, seed):
    engine.manual_seed(seed)
    layers, width = [], 3
    for act in acts:
        layers.append(nn.Linear(width, 4, dtype=getattr(engine, dtype)))
        width = 4
        if act is not None:
            layers.append(getattr(nn, act)())
    fused = nn.Sequential(*layers)
    unfused = _Unfused(*layers)
    x = engine.randn(batch, 3, dtype=getattr(engine, dtype))
    out_fused = fused(x)
    out_unfused = unfused(x)
    np.testing.assert_array_equal(out_fused.detach().numpy(), out_unfused.detach().numpy())
    out_fused.sum().backward()
    grads_fused = [p.grad.numpy().copy() for p in fused.parameters()]
    fused.zero_grad()
    out_unfused.sum().backward()
    for g, p in zip(grads_fused, unfused.parameters()):
        np.testing.assert_array_equal(g, p.grad.numpy())


def test_fused_sequential_really_fuses():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())
    out = model(engine.rand(4, 2, requires_grad=True))
    assert type(out.grad_fn).__name__ == "Linear"  # the sigmoid ran inside the last linear node
    assert out.grad_fn.act == "sigmoid"


def test_subclassed_activation_is_not_fused():
    class DoubledReLU(nn.ReLU):
        def forward(self, x):
            return super().forward(x) * 2

    model = nn.Sequential(nn.Linear(2, 3), DoubledReLU())
    x = engine.rand(4, 2)
    expected = (model[0](x).relu() * 2).detach().numpy()
    np.testing.assert_allclose(model(x).detach().numpy(), expected)


# ---- Module bookkeeping ---------------------------------------------------------------------------

def test_sequential_indexing_len_iteration_and_slices():
    model = _mlp(nn)
    assert len(model) == 5 and isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.Linear)
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear", "ReLU", "Linear"]
    assert len(model[:2]) == 2 and isinstance(model[:2], nn.Sequential)
    with pytest.raises(IndexError):
        model[5]
    assert len(list(model.children())) == 5 and len(list(model.modules())) == 6
    assert len(list(model.parameters())) == 6


def test_shared_submodule_parameters_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_parameter_registration_rules():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(engine.zeros(3))
            self.plain = engine.zeros(2)  # a plain tensor attribute is not a parameter

    m = M()
    assert [n for n, _ in m.named_parameters()] == ["w"]
    with pytest.raises(engine.EngineTypeError, match="cannot assign a Tensor as parameter 'w'"):
        m.w = engine.zeros(3)
    m.w = None
    assert list(m.parameters()) == []

    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(engine.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        getattr(M(), "nope")  # noqa: B009 - the attribute lookup is the test


def test_parameter_wraps_a_tensor_and_prints_like_torch():
    t = engine.zeros(3)
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and isinstance(p, engine.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([0., 0., 0.], requires_grad=True)"
    assert str([p]) == "[Parameter containing:\ntensor([0., 0., 0.], requires_grad=True)]"
    with engine.no_grad():
        p.add_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]  # the same storage, as in PyTorch
    frozen = nn.Parameter(engine.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    with pytest.raises(engine.DTypeError):
        nn.Parameter(engine.tensor([1, 2]))
    assert type(p * 2) is engine.Tensor and type(p.detach()) is engine.Tensor


def test_zero_grad_train_eval_and_requires_grad():
    model = _mlp(nn)
    model(engine.rand(2, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_dropout_train_and_eval():
    engine.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = engine.ones(400, 50)
    y = drop(x).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert 0.2 < (y == 0).mean() < 0.3
    drop.eval()
    assert drop(x) is x


def test_apply_and_init_functions():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
            nn.init.ones_(m.weight)

    model = _mlp(nn).apply(init_weights)
    assert all(p.detach().numpy().tolist() == np.zeros(p.shape).tolist() for n, p in model.named_parameters()
               if n.endswith("bias"))
    assert model[2].weight.detach().numpy().min() == 1.0


# ---- nn.init ----------------------------------------------------------------------------------------

def test_init_gain_and_fans_match_torch(torch):
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    with pytest.raises(engine.EngineValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(engine.zeros(3))
    with pytest.raises(engine.EngineValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize(
    "fn,kwargs,kind,expected",
    [
        ("xavier_uniform_", {}, "uniform", math.sqrt(6 / (200 + 100))),
        ("xavier_uniform_", {"gain": 2.0}, "uniform", 2 * math.sqrt(6 / (200 + 100))),
        ("kaiming_uniform_", {"a": math.sqrt(5)}, "uniform", 1 / math.sqrt(100)),
        ("kaiming_uniform_", {"nonlinearity": "relu"}, "uniform", math.sqrt(6 / 100)),
        ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, "uniform", math.sqrt(6 / 200)),
        ("xavier_normal_", {}, "normal", math.sqrt(2 / (200 + 100))),
        ("kaiming_normal_", {"nonlinearity": "relu"}, "normal", math.sqrt(2 / 100)),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"}, "normal", (5 / 3) / math.sqrt(200)),
    ],
)
def test_init_formulas(fn, kwargs, kind, expected):
    engine.manual_seed(1)
    w = nn.Parameter(engine.empty(200, 100))
    out = getattr(nn.init, fn)(w, **kwargs)
    assert out is w and w.grad_fn is None and w.requires_grad
    values = w.detach().numpy()
    if kind == "uniform":  # expected is the bound
        assert np.abs(values).max() <= expected and np.abs(values).max() > 0.99 * expected
    else:  # expected is the std
        assert values.std() == pytest.approx(expected, rel=0.03)
        assert abs(values.mean()) < 0.05 * expected


def test_init_simple_fills():
    w = nn.Parameter(engine.empty(3, 4))
    nn.init.constant_(w, 0.5)
    assert (w.detach().numpy() == 0.5).all()
    nn.init.uniform_(w, -0.1, 0.1)
    assert np.abs(w.detach().numpy()).max() <= 0.1
    nn.init.normal_(w, mean=3.0, std=1e-6)
    assert np.allclose(w.detach().numpy(), 3.0, atol=1e-4)


# ---- state dicts and files ------------------------------------------------------------------------

def test_state_dict_round_trip_through_npz(tmp_path):
    engine.manual_seed(0)
    model = _mlp(nn).double()
    path = tmp_path / "model.pt"
    engine.core.serialization.save(model.state_dict(), path)
    assert path.exists() and not (tmp_path / "model.pt.npz").exists()  # the path is used as given
    # a plain numpy archive with numeric arrays only: nothing pickled inside
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == list(model.state_dict())
        assert all(archive[k].dtype == np.float64 for k in archive.files)
    with zipfile.ZipFile(path) as z:
        assert all(name.endswith(".npy") for name in z.namelist())
    loaded = engine.core.serialization.load(path)
    assert list(loaded) == list(model.state_dict())
    fresh = _mlp(nn).double()
    fresh.load_state_dict(loaded)
    x = engine.rand(3, 2, dtype=engine.float64)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_module_save_load_and_single_tensor(tmp_path):
    model = _mlp(nn)
    model.save(tmp_path / "w.npz")
    other = _mlp(nn).load(tmp_path / "w.npz")
    for (n, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    t = engine.tensor([[1, 2], [3, 4]])
    engine.core.serialization.save(t, tmp_path / "t.bin")
    back = engine.core.serialization.load(tmp_path / "t.bin")
    assert back.dtype == engine.int64 and back.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(engine.EngineTypeError, match="state_dict"):
        engine.core.serialization.save(model, tmp_path / "m.npz")


def test_state_dict_shares_storage_and_is_detached():
    model = nn.Linear(2, 2)
    sd = model.state_dict()
    assert not sd["weight"].requires_grad
    with engine.no_grad():
        model.weight.fill_(3.0)
    assert (sd["weight"].numpy() == 3.0).all()


def test_load_state_dict_errors_and_non_strict():
    model = _mlp(nn)
    sd = model.state_dict()
    missing = OrderedDict((k, v) for k, v in sd.items() if k != "4.bias")
    with pytest.raises(engine.EngineValueError, match=r"missing keys \['4.bias'\]"):
        model.load_state_dict(missing)
    extra = OrderedDict(sd, **{"9.weight": engine.zeros(1)})
    with pytest.raises(engine.EngineValueError, match=r"unexpected keys \['9.weight'\]"):
        model.load_state_dict(extra)
    wrong = OrderedDict(sd)
    wrong["0.weight"] = engine.zeros(8, 3)
    before = model[0].bias.detach().numpy().copy()
    mismatch = r"0.weight: the checkpoint has shape \(8, 3\), the model has shape \(8, 2\)"
    with pytest.raises(engine.ShapeError, match=mismatch):
        model.load_state_dict(wrong)
    np.testing.assert_array_equal(model[0].bias.detach().numpy(), before)  # nothing half-loaded
    result = model.load_state_dict(OrderedDict(missing, extra=engine.zeros(1)), strict=False)
    assert result.missing_keys == ["4.bias"] and result.unexpected_keys == ["extra"]


def test_load_state_dict_keeps_parameter_objects_and_dtype():
    model = nn.Linear(2, 1)
    weight = model.weight
    model.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": engine.tensor([0.5], dtype=engine.float64)})
    assert model.weight is weight and weight.dtype == engine.float32
    assert weight.detach().tolist() == [[1.0, 2.0]] and model.bias.detach().tolist() == [0.5]


# ---- devices and dtypes ----------------------------------------------------------------------------

def test_module_to_moves_in_place_and_keeps_parameter_objects():
    model = _mlp(nn)
    params = list(model.parameters())
    assert model.to("numpy") is model
    assert all(a is b for a, b in zip(params, model.parameters()))
    assert all(str(p.device) == "numpy" for p in model.parameters())
    model.to(engine.float64)
    assert all(p.dtype == engine.float64 and isinstance(p, nn.Parameter) for p in model.parameters())
    assert all(a is b for a, b in zip(params, model.parameters()))
    model(engine.rand(3, 2, dtype=engine.float64, device="numpy")).sum().backward()
    model.float()
    assert all(p.dtype == engine.float32 and p.grad.dtype == engine.float32 for p in model.parameters())


@pytest.mark.skipif(not c_available()[0], reason="the C device is not built: " + c_available()[1])
def test_module_to_c_device_trains_like_numpy():
    import engine.optim as optim

    engine.manual_seed(0)
    ref = _mlp(nn).to("numpy")
    moved = _mlp(nn).to("numpy")
    moved.load_state_dict(ref.state_dict())
    params = list(moved.parameters())
    moved.to("c")
    assert all(a is b for a, b in zip(params, moved.parameters()))
    assert all(str(p.device) == "c" for p in moved.parameters())
    x, y = engine.randn(8, 2), engine.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    for model, device in ((ref, "numpy"), (moved, "c")):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x.to(device)), y.to(device)).backward()
            opt.step()
    for a, b in zip(ref.parameters(), moved.parameters()):
        np.testing.assert_allclose(b.detach().to("numpy").numpy(), a.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_module_to_unknown_device_is_a_clear_error():
    model = nn.Linear(2, 1)
    with pytest.raises(engine.DeviceError):
        model.to("nonexistent")
