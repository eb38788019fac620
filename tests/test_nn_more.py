"""engine.nn beyond the basics, against PyTorch on every device: normalization (BatchNorm with its running
statistics, LayerNorm), Embedding, GELU/Softplus, SmoothL1/Huber/NLL losses, Dropout, the containers
(ModuleList, ModuleDict, Flatten/Unflatten), init, signatures and printing, gradient clipping
(``nn.utils``) and ``utils.data.random_split``/``Subset``."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.nn as nn
import engine.nn.functional as F
from engine.testing import gradcheck, strategies
from engine.utils.data import Subset, TensorDataset, random_split

TOL = {"float64": (1e-10, 1e-12), "float32": (2e-5, 2e-6)}
DTYPES = ["float64", "float32"]


@pytest.fixture(autouse=True)
def _every_device(on_each_device):
    """Every test here runs on each device in turn (numpy, C when built, the opaque test backend)."""
    return on_each_device


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference for these checks; install torch")
    # One thread: on these tiny tensors torch's thread pool costs ~1000x the arithmetic (and a busy
    # machine makes it worse).
    torch.set_num_threads(1)
    return torch


def _host(t) -> np.ndarray:
    return t.detach().to("numpy").numpy() if isinstance(t, engine.Tensor) else t.detach().numpy()


def _close(actual, expected, dtype, what=""):
    rtol, atol = TOL[dtype]
    a, e = _host(actual), _host(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def compare(torch, ours, theirs, arrays, dtype, grad=True, seed=1):
    """``ours(*xs)`` vs ``theirs(*ts)`` on the same float inputs: values, dtype, and the gradient of a fixed
    random projection sum(out * r) for every input (so each output element counts differently)."""
    xs = [engine.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    assert out.dtype.name == str(ref.dtype).removeprefix("torch.")
    _close(out, ref, dtype, "value")
    if grad:
        r = np.random.default_rng(seed).uniform(-1, 1, size=tuple(ref.shape)).astype(dtype)
        (out * engine.tensor(r)).sum().backward()
        (ref * torch.tensor(r)).sum().backward()
        for i, (x, t) in enumerate(zip(xs, ts)):
            expected = t.grad if t.grad is not None else torch.zeros_like(t)
            assert x.grad is not None, f"input {i} got no gradient"
            _close(x.grad, expected, dtype, f"gradient of input {i}")
    return out, ref


def _arrays(shapes, dtype, seed=0, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def _copy_params(torch, ours, theirs):
    """Give the torch module our module's parameters and buffers."""
    theirs.load_state_dict({k: torch.tensor(_host(v)) for k, v in ours.state_dict().items()})


# ---- activations ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(torch, approximate, dtype):
    (x,) = _arrays([(4, 5)], dtype, low=-5, high=5)
    compare(torch, lambda t: F.gelu(t, approximate=approximate),
            lambda t: torch.nn.functional.gelu(t, approximate=approximate), [x], dtype)
    compare(torch, nn.GELU(approximate), torch.nn.GELU(approximate), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 5.0), (0.5, 1.0), (1, 20)])
def test_softplus_matches_torch_on_both_sides_of_the_threshold(torch, beta, threshold, dtype):
    x = np.array([-800.0, -60.0, -3.0, -0.5, 0.0, 0.7, 2.4, 2.6, 9.0, 10.5, 30.0, 800.0], dtype=dtype)
    compare(torch, lambda t: F.softplus(t, beta, threshold), lambda t: torch.nn.functional.softplus(t, beta, threshold),
            [x], dtype)
    compare(torch, nn.Softplus(beta, threshold), torch.nn.Softplus(beta, threshold), [x], dtype)


def test_activation_errors():
    with pytest.raises(engine.EngineValueError, match="approximate"):
        F.gelu(engine.ones(2), approximate="fast")
    with pytest.raises(engine.EngineValueError, match="approximate"):
        nn.GELU("erf")
    with pytest.raises(engine.DTypeError, match="softplus: input must be a floating point tensor"):
        F.softplus(engine.tensor([1, 2]))


@settings(max_examples=15, deadline=None)
@given(data=st.data(), approximate=st.sampled_from(["none", "tanh"]), beta=st.sampled_from([0.5, 1.0, 3.0]))
def test_gelu_and_softplus_gradcheck(data, approximate, beta):
    x = data.draw(strategies.tensors(shape=(5,), requires_grad=True))
    assert gradcheck(lambda t: F.gelu(t, approximate=approximate), x)
    # softplus: away from the threshold, where the two branches meet (the numeric derivative spans it)
    y = data.draw(strategies.tensors(shape=(5,), elements=st.floats(-4, 4, allow_nan=False), requires_grad=True))
    assert gradcheck(lambda t: F.softplus(t, beta=beta, threshold=20.0), y)


# ---- batch norm ---------------------------------------------------------------------------------------------------

BN_CASES = [
    (nn.BatchNorm1d, "BatchNorm1d", (6, 3), {}),
    (nn.BatchNorm1d, "BatchNorm1d", (4, 3, 5), {"momentum": 0.3}),
    (nn.BatchNorm1d, "BatchNorm1d", (5, 3), {"momentum": None}),
    (nn.BatchNorm1d, "BatchNorm1d", (5, 3), {"affine": False}),
    (nn.BatchNorm2d, "BatchNorm2d", (3, 2, 4, 5), {}),
    (nn.BatchNorm2d, "BatchNorm2d", (2, 3, 2, 2), {"eps": 1e-3, "bias": False}),
    (nn.BatchNorm1d, "BatchNorm1d", (4, 3), {"track_running_stats": False}),
    (nn.BatchNorm3d, "BatchNorm3d", (2, 2, 2, 3, 2), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make,name,shape,kwargs", BN_CASES, ids=[f"{c[1]}{c[2]}{c[3]}" for c in BN_CASES])
def test_batch_norm_training_and_eval_match_torch(torch, make, name, shape, kwargs, dtype):
    ours = make(shape[1], **kwargs).to(getattr(engine, dtype))
    theirs = getattr(torch.nn, name)(shape[1], **kwargs).to(getattr(torch, dtype))
    if ours.weight is not None:  # non-trivial affine parameters
        with engine.no_grad():
            ours.weight.copy_(engine.tensor(_arrays([(shape[1],)], dtype, seed=5, low=0.5)[0]))
            if ours.bias is not None:
                ours.bias.copy_(engine.tensor(_arrays([(shape[1],)], dtype, seed=6)[0]))
    _copy_params(torch, ours, theirs)
    for step in range(3):  # training: batch statistics, running buffers move
        (x,) = _arrays([shape], dtype, seed=10 + step, low=-3, high=4)
        compare(torch, ours, theirs, [x], dtype, seed=step)
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            if a.dtype.is_floating_point:
                _close(a, b, dtype, key)
            else:
                assert a.item() == b.item(), key
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for p, q in zip(ours.parameters(), theirs.parameters()):
            _close(p.grad, q.grad, dtype, "parameter gradient")
            p.grad, q.grad = None, None
    ours.eval()
    theirs.eval()
    (x,) = _arrays([shape], dtype, seed=99)
    compare(torch, ours, theirs, [x], dtype)


def test_batch_norm_running_stats_are_unbiased_and_buffers_are_not_trained():
    bn = nn.BatchNorm1d(2, momentum=1.0)  # running stats := this batch's
    x = engine.tensor([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    y = bn(x)
    assert bn.running_mean.tolist() == pytest.approx([3.0, 12.0])
    assert bn.running_var.tolist() == pytest.approx([4.0, 12.0])  # divides by n - 1 = 2
    assert y.detach().numpy()[:, 0] == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)], rel=1e-4)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == engine.int64
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert not bn.running_mean.requires_grad
    bn.eval()
    before = bn.running_mean.tolist()
    bn(x)
    assert bn.running_mean.tolist() == before and bn.num_batches_tracked.item() == 1
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]


def test_batch_norm_errors():
    with pytest.raises(engine.ShapeError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(engine.ones(2, 3, 4, 5))
    with pytest.raises(engine.ShapeError, match=r"BatchNorm2d: expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(engine.ones(2, 3))
    with pytest.raises(engine.EngineValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(engine.ones(1, 3))
    nn.BatchNorm1d(3).eval()(engine.ones(1, 3))  # one sample is fine in eval
    with pytest.raises(engine.ShapeError, match=r"weight must have shape \(3,\)"):
        F.batch_norm(engine.ones(2, 3), None, None, weight=engine.ones(4), training=True)
    with pytest.raises(engine.EngineValueError, match="running_mean and running_var must be given"):
        F.batch_norm(engine.ones(2, 3), None, None)
    with pytest.raises(engine.DTypeError, match="floating point"):
        nn.BatchNorm1d(3)(engine.ones(2, 3, dtype=engine.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_matches_torch(torch, training, dtype):
    x, w, b = _arrays([(5, 3, 4), (3,), (3,)], dtype)
    rm, rv = _arrays([(3,), (3,)], dtype, seed=2, low=0.1, high=2.0)
    ours_stats = [engine.tensor(rm), engine.tensor(rv)]
    their_stats = [torch.tensor(rm), torch.tensor(rv)]
    compare(torch, lambda t, ww, bb: F.batch_norm(t, *ours_stats, ww, bb, training, 0.2, 1e-4),
            lambda t, ww, bb: torch.nn.functional.batch_norm(t, *their_stats, ww, bb, training, 0.2, 1e-4),
            [x, w, b], dtype)
    for a, e in zip(ours_stats, their_stats):
        _close(a, e, dtype, "running statistics")


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_batch_norm_and_layer_norm_gradcheck(data):
    # spread-out values so the variance is well away from 0 (where 1/sqrt(var) is steep)
    values = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 0.05)
    x = data.draw(strategies.tensors(shape=(4, 2, 3), elements=values, requires_grad=True))
    w = data.draw(strategies.tensors(shape=(2,), requires_grad=True))
    b = data.draw(strategies.tensors(shape=(2,), requires_grad=True))
    assert gradcheck(lambda t, ww, bb: F.batch_norm(t, None, None, ww, bb, training=True, eps=1e-1), x, w, b)
    lw = data.draw(strategies.tensors(shape=(3,), requires_grad=True))
    assert gradcheck(lambda t, ww, bb: F.layer_norm(t, (3,), ww, bb, eps=1e-1), x, lw, b[:1].expand(3))


# ---- layer norm ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape,normalized,kwargs",
    [((4, 6), 6, {}), ((2, 3, 4), (3, 4), {}), ((2, 3, 4), [4], {"elementwise_affine": False}),
     ((3, 5), (5,), {"bias": False, "eps": 1e-2}), ((2, 2, 3), (2, 2, 3), {})],
)
def test_layer_norm_matches_torch(torch, shape, normalized, kwargs, dtype):
    ours = nn.LayerNorm(normalized, **kwargs).to(getattr(engine, dtype))
    theirs = torch.nn.LayerNorm(normalized, **kwargs).to(getattr(torch, dtype))
    if ours.weight is not None:
        with engine.no_grad():
            ours.weight.copy_(engine.tensor(_arrays([tuple(ours.weight.shape)], dtype, seed=3)[0]))
    _copy_params(torch, ours, theirs)
    (x,) = _arrays([shape], dtype, seed=4)
    compare(torch, ours, theirs, [x], dtype)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        _close(p.grad, q.grad, dtype, "parameter gradient")
    w, b = _arrays([shape[-1:], shape[-1:]], dtype, seed=7)
    compare(torch, lambda t, ww, bb: F.layer_norm(t, shape[-1:], ww, bb),
            lambda t, ww, bb: torch.nn.functional.layer_norm(t, shape[-1:], ww, bb), [x, w, b], dtype)


def test_layer_norm_errors():
    with pytest.raises(engine.ShapeError, match=r"given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        nn.LayerNorm(5)(engine.ones(2, 4))
    with pytest.raises(engine.ShapeError, match="weight must have shape"):
        F.layer_norm(engine.ones(2, 4), (4,), weight=engine.ones(3))
    with pytest.raises(engine.EngineValueError, match="normalized_shape"):
        nn.LayerNorm("4")


# ---- embedding ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_values_and_gradients_match_torch(torch, padding_idx, dtype):
    (table,) = _arrays([(6, 3)], dtype)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    w, tw = engine.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    out = F.embedding(engine.tensor(idx), w, padding_idx=padding_idx)
    ref = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=padding_idx)
    _close(out, ref, dtype, "value")  # the padding row is looked up as stored
    r = np.random.default_rng(0).uniform(-1, 1, size=ref.shape).astype(dtype)
    (out * engine.tensor(r)).sum().backward()
    (ref * torch.tensor(r)).sum().backward()
    _close(w.grad, tw.grad, dtype, "gradient (repeated indices add up; the padding row gets none)")


def test_embedding_module_init_repr_and_from_pretrained(torch):
    engine.manual_seed(0)
    emb = nn.Embedding(10, 4, padding_idx=0)
    assert emb.weight[0].tolist() == [0.0] * 4 and emb.weight.requires_grad
    assert 0.5 < float(emb.weight[1:].detach().numpy().std()) < 1.5  # N(0, 1)
    assert str(emb) == str(torch.nn.Embedding(10, 4, padding_idx=0)) == "Embedding(10, 4, padding_idx=0)"
    assert nn.Embedding(5, 2, padding_idx=-2).padding_idx == 3
    out = emb(engine.tensor([[1, 0], [9, 9]]))
    assert tuple(out.shape) == (2, 2, 4)
    out.sum().backward()
    assert emb.weight.grad[0].tolist() == [0.0] * 4 and emb.weight.grad[9].tolist() == [2.0] * 4
    table = engine.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen(engine.tensor([1])).tolist()[0] == pytest.approx([4.0, 5.1, 6.3])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    pretrained = nn.Embedding.from_pretrained(table, padding_idx=1)
    assert pretrained.weight[1].tolist() == pytest.approx([4.0, 5.1, 6.3])  # not zeroed, as in PyTorch


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_embedding_max_norm_renormalizes_looked_up_rows_like_torch(torch, norm_type):
    table = _arrays([(5, 3)], "float64", low=-3, high=3)[0]
    ours = nn.Embedding.from_pretrained(engine.tensor(table), freeze=False, max_norm=1.5, norm_type=norm_type)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, max_norm=1.5, norm_type=norm_type)
    idx = np.array([0, 3, 3])
    _close(ours(engine.tensor(idx)), theirs(torch.tensor(idx)), "float64", "output")
    _close(ours.weight, theirs.weight, "float64", "weight after renorm (rows 1, 2, 4 untouched)")


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_embedding_gradcheck(data):
    # (padding_idx is left out: its row's zero gradient is a choice, not the derivative; it is
    # checked against PyTorch above)
    w = data.draw(strategies.tensors(shape=(4, 3), requires_grad=True))
    idx = engine.tensor(data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=6)))
    assert gradcheck(lambda t: F.embedding(idx, t), w)


def test_embedding_errors():
    w = engine.ones(4, 2)
    with pytest.raises(engine.EngineValueError, match=r"index 4 is out of range for 4 embeddings \(valid: 0 to 3\)"):
        F.embedding(engine.tensor([0, 4]), w)
    with pytest.raises(engine.EngineValueError, match="index -1 is out of range"):
        F.embedding(engine.tensor([-1]), w)
    with pytest.raises(engine.DTypeError, match="must be an int64"):
        F.embedding(engine.tensor([0.0]), w)
    with pytest.raises(engine.EngineValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(engine.ShapeError, match="2-D"):
        nn.Embedding.from_pretrained(engine.ones(3))
    with pytest.raises(engine.EngineValueError, match="scale_grad_by_freq"):
        F.embedding(engine.tensor([0]), w, scale_grad_by_freq=True)


# ---- losses -------------------------------------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                         ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}),
                                         ("huber_loss", {"delta": 0.3}), ("huber_loss", {"delta": 2.5})])
def test_robust_losses_match_torch(torch, name, kwargs, reduction, dtype):
    x, y = _arrays([(5, 4), (5, 4)], dtype, low=-3, high=3)
    compare(torch, lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kwargs),
            lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **kwargs), [x, y], dtype)
    module = {"smooth_l1_loss": "SmoothL1Loss", "huber_loss": "HuberLoss"}[name]
    compare(torch, getattr(nn, module)(reduction=reduction, **kwargs),
            getattr(torch.nn, module)(reduction=reduction, **kwargs), [x, y], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_weight_and_broadcast_warning_match_torch(torch, reduction):
    x, y, w = _arrays([(3, 4), (3, 4), (3, 4)], "float64")
    compare(torch, lambda a, b, c: F.huber_loss(a, b, reduction=reduction, weight=c),
            lambda a, b, c: torch.nn.functional.huber_loss(a, b, reduction=reduction, weight=c), [x, y, w], "float64")
    with pytest.warns(UserWarning, match="Using a target size"):
        F.smooth_l1_loss(engine.ones(3, 1), engine.ones(3))
    with pytest.raises(engine.EngineValueError, match="negative values for beta"):
        F.smooth_l1_loss(engine.ones(3), engine.ones(3), beta=-1.0)
    with pytest.raises(engine.EngineValueError, match="non-positive values for delta"):
        nn.HuberLoss(delta=0.0)(engine.ones(3), engine.ones(3))


def test_legacy_size_average_and_reduce_arguments_warn_and_map_like_torch():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.SmoothL1Loss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.MSELoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        assert nn.CrossEntropyLoss(None, True).reduction == "mean"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_nll_loss_options_on_spatial_input_match_torch(torch, weighted, ignore_index, reduction, dtype):
    z, w = _arrays([(3, 4, 2, 2), (4,)], dtype, low=0.2)
    target = np.random.default_rng(3).integers(0, 4, size=(3, 2, 2))
    kwargs = {"reduction": reduction, "ignore_index": ignore_index}
    ours = nn.NLLLoss(weight=engine.tensor(w) if weighted else None, **kwargs)
    theirs = torch.nn.NLLLoss(weight=torch.tensor(w) if weighted else None, **kwargs)
    compare(torch, lambda t: ours(F.log_softmax(t, 1), engine.tensor(target)),
            lambda t: theirs(torch.nn.functional.log_softmax(t, 1), torch.tensor(target)), [z], dtype)


@settings(max_examples=15, deadline=None)
@given(data=st.data(), beta=st.sampled_from([0.5, 1.0, 2.0]))
def test_robust_losses_gradcheck(data, beta):
    # |x - y| kept away from beta/delta, where the two pieces meet, and from 0 (|d| has a kink there)
    away = st.floats(-3, 3, allow_nan=False).filter(lambda v: 0.05 < abs(v) and abs(abs(v) - beta) > 0.05)
    x = data.draw(strategies.tensors(shape=(4,), elements=away, requires_grad=True))
    y = engine.zeros(4, dtype=engine.float64)
    assert gradcheck(lambda a: F.smooth_l1_loss(a, y, beta=beta), x)
    assert gradcheck(lambda a: F.huber_loss(a, y, reduction="sum", delta=beta), x)


# ---- dropout and simple layers ------------------------------------------------------------------------------------

def test_dropout_train_eval_and_edge_probabilities():
    engine.manual_seed(0)
    x = engine.ones(200, 50, requires_grad=True)
    y = nn.Dropout(0.4)(x)
    kept = y.detach().numpy() != 0
    assert 0.55 < kept.mean() < 0.65
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.6, rtol=1e-6)
    y.sum().backward()  # d/dx = mask / (1 - p)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.6, 0.0), rtol=1e-6)
    assert nn.Dropout(0.0)(x) is x  # p = 0 and eval: the input itself
    drop = nn.Dropout(0.9).eval()
    assert drop(x) is x and not drop.training
    assert (nn.Dropout(1.0)(x).detach().numpy() == 0).all()
    with pytest.raises(engine.EngineValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(engine.EngineValueError, match="between 0 and 1"):
        F.dropout(x, p=-0.1)


def test_flatten_unflatten_and_identity(torch):
    x = engine.arange(60.0).reshape(3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (3, 20) and tuple(nn.Flatten(0, 1)(x).shape) == (12, 5)
    assert tuple(nn.Unflatten(1, (2, 2))(x).shape) == (3, 2, 2, 5)
    assert tuple(nn.Unflatten(-1, (5, -1))(x).shape) == (3, 4, 5, 1)
    assert nn.Unflatten(2, [5, 1])(x).tolist() == torch.nn.Unflatten(2, [5, 1])(torch.tensor(x.tolist())).tolist()
    assert nn.Identity(54, unused="x")(x) is x
    with pytest.raises(engine.EngineTypeError, match="unflattened_size"):
        nn.Unflatten(1, 4)
    with pytest.raises(IndexError, match="out of range"):
        nn.Unflatten(3, (1, 1))(x)


# ---- containers ---------------------------------------------------------------------------------------------------

def test_module_list_operations_match_a_python_list(torch):
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    layers += [nn.Identity()]
    layers.insert(1, nn.ELU())
    assert [type(m).__name__ for m in layers] == ["Linear", "ELU", "ReLU", "Tanh", "Sigmoid", "Identity"]
    assert list(dict(layers.named_children())) == ["0", "1", "2", "3", "4", "5"]
    assert isinstance(layers[-1], nn.Identity) and isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[1]
    assert list(dict(layers.named_children())) == ["0", "1", "2", "3", "4"]  # renumbered
    assert isinstance(layers.pop(1), nn.ReLU) and len(layers) == 4
    layers[0] = nn.Linear(3, 3)
    assert tuple(layers[0].weight.shape) == (3, 3) and len(list(layers.parameters())) == 2
    both = layers + nn.ModuleList([nn.ReLU()])
    assert len(both) == 5 and len(layers) == 4
    with pytest.raises(IndexError, match="out of range"):
        layers[10]
    with pytest.raises(engine.EngineTypeError, match="iterable"):
        layers.extend(5)
    ours = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.Linear(2, 2), nn.Linear(2, 2)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()] +
                                 [torch.nn.Linear(2, 2) for _ in range(2)])
    assert str(ours) == str(theirs)  # identical runs are folded: "(0-2): 3 x Linear(...)"
    assert str(nn.ModuleList()) == "ModuleList()"


def test_module_dict_matches_torch(torch):
    ours = nn.ModuleDict({"conv": nn.Linear(3, 2), "act": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"conv": torch.nn.Linear(3, 2), "act": torch.nn.ReLU()})
    ours.update([("out", nn.Linear(2, 1))])
    theirs.update([("out", torch.nn.Linear(2, 1))])
    assert str(ours) == str(theirs)
    assert list(ours.keys()) == ["conv", "act", "out"] and "act" in ours and len(ours) == 3
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(iter(ours)) == list(ours) == ["conv", "act", "out"]
    assert isinstance(ours.pop("act"), nn.ReLU) and list(ours) == ["conv", "out"]
    ours["act"] = nn.Tanh()
    del ours["conv"]
    assert list(ours.keys()) == ["out", "act"] and [type(v).__name__ for v in ours.values()] == ["Linear", "Tanh"]
    ours.clear()
    assert len(ours) == 0 and str(ours) == "ModuleDict()"
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        nn.ModuleDict({"train": nn.ReLU()})
    with pytest.raises(KeyError, match="contain"):
        nn.ModuleDict({"a.b": nn.ReLU()})
    with pytest.raises(engine.EngineValueError, match="has length 3; 2 is required"):
        nn.ModuleDict([("a", nn.ReLU(), 1)])
    with pytest.raises(engine.EngineTypeError, match="must be an nn.Module"):
        nn.ModuleDict({"a": 3})


# ---- printing and signatures --------------------------------------------------------------------------------------

REPRS = [
    ("BatchNorm1d", (10,), {}), ("BatchNorm2d", (3,), {"affine": False, "track_running_stats": False}),
    ("BatchNorm2d", (4,), {"momentum": None, "eps": 1e-3}), ("BatchNorm3d", (2,), {"bias": False}),
    ("LayerNorm", (10,), {}), ("LayerNorm", ([2, 3],), {"elementwise_affine": False, "bias": False}),
    ("Embedding", (10, 3), {}), ("Embedding", (10, 3), {"padding_idx": 0, "max_norm": 1.0, "norm_type": 1.0}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}),
    ("SmoothL1Loss", (), {"beta": 0.5}), ("HuberLoss", (), {}), ("NLLLoss", (), {}), ("Unflatten", (1, (2, 5)), {}),
    ("Flatten", (), {}), ("Identity", (), {}), ("Dropout", (0.2,), {}), ("LogSoftmax", (1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=[f"{r[0]}{r[1]}{r[2]}" for r in REPRS])
def test_modules_print_like_torch(torch, name, args, kwargs):
    assert str(getattr(nn, name)(*args, **kwargs)) == str(getattr(torch.nn, name)(*args, **kwargs))


def _signature(fn) -> list:
    params = inspect.signature(fn).parameters.values()
    return [(p.name, p.default, p.kind) for p in params if p.name not in ("self", "generator")]


SIGNATURES = [
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "GELU", "Softplus", "SmoothL1Loss", "HuberLoss",
    "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "Dropout", "Unflatten",
    "ModuleList", "ModuleDict", "functional.batch_norm", "functional.layer_norm", "functional.embedding",
    "functional.smooth_l1_loss", "functional.huber_loss", "functional.dropout", "init.calculate_gain",
    "init.xavier_uniform_", "init.xavier_normal_", "init.kaiming_uniform_", "init.kaiming_normal_",
    "init.uniform_", "init.normal_", "init.constant_", "init.zeros_", "init.ones_", "init.trunc_normal_",
    "init.eye_", "utils.clip_grad_norm_", "utils.clip_grad_value_", "utils.get_total_norm",
    "utils.parameters_to_vector", "utils.vector_to_parameters",
]


@pytest.mark.parametrize("path", SIGNATURES)
def test_signatures_and_defaults_match_torch(torch, path):
    ours, theirs = nn, torch.nn
    for part in path.split("."):
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    if isinstance(ours, type):
        ours, theirs = ours.__init__, theirs.__init__
    assert _signature(ours) == _signature(theirs)


def test_embedding_from_pretrained_signature_matches_torch(torch):
    assert _signature(nn.Embedding.from_pretrained) == _signature(torch.nn.Embedding.from_pretrained)


# ---- init ---------------------------------------------------------------------------------------------------------

def test_init_functions_fill_in_place_with_the_right_spread(torch):
    engine.manual_seed(0)
    w = nn.Parameter(engine.empty(300, 200))
    assert nn.init.trunc_normal_(w, std=0.5, a=-0.4, b=0.6) is w and w.requires_grad and w.grad_fn is None
    values = w.detach().numpy()
    assert values.min() >= -0.4 and values.max() <= 0.6 and values.min() < -0.39 and values.max() > 0.59
    eye = nn.init.eye_(engine.empty(3, 5))
    assert eye.tolist() == torch.nn.init.eye_(torch.empty(3, 5)).tolist()
    with pytest.raises(engine.EngineValueError, match="2 dimensions"):
        nn.init.eye_(engine.empty(3))
    with pytest.warns(UserWarning, match="zero-element"):
        nn.init.kaiming_uniform_(engine.empty(0, 3))
    for name, param in [("selu", None), ("leaky_relu", 0.3), ("conv2d", None), ("tanh", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


# ---- gradient clipping --------------------------------------------------------------------------------------------

def _grads_pair(torch, dtype="float64", seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), ()]
    values = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [np.asarray(scale * rng.normal(size=s), dtype=dtype) for s in shapes]
    ours = [engine.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = engine.tensor(g), torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm, dtype):
    ours, theirs = _grads_pair(torch, dtype)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=float(norm_type))
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    assert isinstance(total, engine.Tensor) and total.ndim == 0 and total.dtype.name == dtype
    _close(total, ref, dtype, "total norm")
    for p, t in zip(ours, theirs):
        _close(p.grad, t.grad, dtype, "clipped gradient")


@settings(max_examples=20, deadline=None)
@given(data=st.data(), max_norm=st.floats(0.01, 10.0), norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clip_grad_norm_leaves_a_norm_of_at_most_max_norm(data, max_norm, norm_type):
    params = [engine.zeros(*shape, dtype=engine.float64, requires_grad=True) for shape in [(3,), (2, 2)]]
    for p in params:
        p.grad = data.draw(strategies.tensors(shape=tuple(p.shape)))
    before = [p.grad.numpy().copy() for p in params]
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type).item()
    flat = np.concatenate([b.ravel() for b in before])
    assert total == pytest.approx(np.linalg.norm(flat, ord=norm_type), rel=1e-12, abs=1e-300)
    after = nn.utils.get_total_norm([p.grad for p in params], norm_type).item()
    assert after <= max_norm * (1 + 1e-9)
    assert after == pytest.approx(total * min(1.0, max_norm / (total + 1e-6)), rel=1e-9, abs=1e-300)


def test_clip_grad_value_and_edge_cases(torch):
    ours, theirs = _grads_pair(torch)
    ours.append(engine.zeros(2, requires_grad=True))  # no gradient: skipped
    assert nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        _close(p.grad, t.grad, "float64", "clamped gradient")
    w = engine.ones(3, requires_grad=True)
    w.grad = engine.tensor([3.0, 4.0, 0.0])
    assert nn.utils.clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)  # a single tensor works too
    assert w.grad.tolist() == pytest.approx([0.6, 0.8, 0.0], rel=1e-5)
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    w.grad = engine.tensor([math.inf, 1.0, 0.0])
    with pytest.raises(engine.GradError, match="non-finite"):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_and_back(torch):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert tuple(vec.shape) == (11,)
    nn.utils.vector_to_parameters(engine.arange(11.0), model.parameters())
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and model[1].bias.tolist() == [10.0]
    with pytest.raises(engine.ShapeError, match="11 elements"):
        nn.utils.vector_to_parameters(engine.ones(3), model.parameters())


# ---- random_split and Subset --------------------------------------------------------------------------------------

def _dataset(n):
    return TensorDataset(engine.arange(float(n)).reshape(n, 1), engine.arange(n))


@pytest.mark.parametrize("n,lengths", [(10, [0.3, 0.7]), (11, [0.5, 0.25, 0.25]), (3, [0.5, 0.5]),
                                       (7, [1.0, 0.0]), (5, [2, 3]), (10, [1, 0])])
def test_random_split_lengths_match_torch(torch, n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty split warns, in both
        ours = random_split(_dataset(n), lengths)
        theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    seen = sorted(int(s[i][1].item()) for s in ours for i in range(len(s)))
    assert seen == list(range(n))  # a permutation: every item exactly once


def test_random_split_generator_errors_and_subset_semantics():
    engine.manual_seed(3)
    a = [s.indices for s in random_split(_dataset(8), [4, 4])]
    engine.manual_seed(3)
    assert [s.indices for s in random_split(_dataset(8), [4, 4])] == a  # the global seed decides
    b = [s.indices for s in random_split(_dataset(8), [4, 4], generator=np.random.default_rng(1))]
    c = [s.indices for s in random_split(_dataset(8), [4, 4], generator=np.random.default_rng(1))]
    assert b == c
    with pytest.raises(engine.EngineValueError, match="Sum of input lengths does not equal the length"):
        random_split(_dataset(5), [2, 2])
    with pytest.raises(engine.EngineValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(_dataset(5), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(_dataset(4), [1.0, 0.0])
    sub = Subset(_dataset(6), [5, 0, 3])
    assert len(sub) == 3 and sub[0][1].item() == 5 and sub[-1][1].item() == 3
    assert sub[[0, 2]][1].tolist() == [5, 3]  # a list of positions is passed on to the dataset at once
    assert [item[1].item() for item in sub.__getitems__([0, 2])] == [5, 3]
