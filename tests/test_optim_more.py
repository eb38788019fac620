"""engine.optim beyond SGD and Adam, against torch.optim on every device: RMSprop, Adagrad, AdamW (and Adam's
amsgrad/maximize/decoupled options) as parameter trajectories, optimizer state dicts (layout, resuming, casting),
printing and signatures, and the learning-rate schedulers (rates, state dicts, warnings)."""

from __future__ import annotations

import copy
import inspect
import math
import warnings

import numpy as np
import pytest

import engine
import engine.nn as nn
import engine.optim as optim
from engine.optim import lr_scheduler


@pytest.fixture(autouse=True)
def _every_device(on_each_device):
    """Every test here runs on each device in turn (numpy, C when built, the opaque test backend)."""
    return on_each_device


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch", reason="torch.optim is the reference for these checks; install torch")
    torch.set_num_threads(1)  # tiny tensors: torch's thread pool would cost more than the arithmetic
    return torch


SHAPES = [(3, 4), (4,), ()]


def _host(t) -> np.ndarray:
    return t.detach().to("numpy").numpy() if isinstance(t, engine.Tensor) else t.detach().numpy()


def _params(torch, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    inits = [np.asarray(rng.normal(size=s), dtype=dtype) for s in SHAPES]
    return [engine.tensor(a, requires_grad=True) for a in inits], [torch.tensor(a, requires_grad=True) for a in inits]


def _feed(torch, ours, theirs, rng, dtype="float64", skip=None, step=0):
    for i, (p, t) in enumerate(zip(ours, theirs)):
        if skip is not None and skip(step, i):
            p.grad, t.grad = None, None  # no gradient this step: both must leave the parameter alone
            continue
        g = np.asarray(rng.normal(size=tuple(p.shape)), dtype=dtype)
        p.grad, t.grad = engine.tensor(g), torch.tensor(g)


def _assert_same(ours, theirs, what="", rtol=1e-10, atol=1e-12):
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(_host(p), _host(t), rtol=rtol, atol=atol, err_msg=what)


def _trajectories(torch, name, config, steps=15, dtype="float64", skip=None, rtol=1e-10, atol=1e-12):
    """Both optimizers from the same start, fed the same gradients; parameters compared after every step."""
    ours, theirs = _params(torch, dtype)
    opt, ref = getattr(optim, name)(ours, **config), getattr(torch.optim, name)(theirs, **config)
    rng = np.random.default_rng(1)
    for step in range(steps):
        _feed(torch, ours, theirs, rng, dtype, skip, step)
        opt.step()
        ref.step()
        _assert_same(ours, theirs, f"{name} {config} step {step}", rtol, atol)
    return opt, ref, ours, theirs


CONFIGS = [
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "weight_decay": 0.05}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.95)}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True, "weight_decay": 0.0}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True, "weight_decay": 0.01}),
]


@pytest.mark.parametrize("name,config", CONFIGS, ids=[f"{n}-{c}" for n, c in CONFIGS])
def test_trajectories_match_torch(torch, name, config):
    _trajectories(torch, name, config)


@pytest.mark.parametrize("name,config", [("RMSprop", {"momentum": 0.5, "centered": True}), ("Adagrad", {}),
                                         ("AdamW", {"amsgrad": True})])
def test_parameters_without_grad_are_skipped_like_torch(torch, name, config):
    _trajectories(torch, name, config, steps=9, skip=lambda step, i: (step + i) % 3 == 0)


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "AdamW"])
def test_float32_stays_float32_and_close(torch, name):
    opt, _, ours, _ = _trajectories(torch, name, {"lr": 0.01}, steps=10, dtype="float32", rtol=2e-5, atol=2e-6)
    assert all(p.dtype == engine.float32 for p in ours)
    tensors = [t for s in opt.state.values() for t in s.values() if isinstance(t, engine.Tensor)]
    assert tensors and all(t.dtype == engine.float32 for t in tensors)


def test_training_a_model_with_each_new_optimizer_matches_torch(torch):
    for name, config in [("RMSprop", {"lr": 0.01, "momentum": 0.9}), ("Adagrad", {"lr": 0.1}),
                         ("AdamW", {"lr": 0.01})]:
        engine.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
        ref = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
        ref.load_state_dict({k: torch.tensor(_host(v)) for k, v in model.state_dict().items()})
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=(16, 3)), rng.integers(0, 2, size=16)
        opt = getattr(optim, name)(model.parameters(), **config)
        ref_opt = getattr(torch.optim, name)(ref.parameters(), **config)
        for _ in range(10):
            for m, o, lib, tensor in ((model, opt, nn, engine.tensor), (ref, ref_opt, torch.nn, torch.tensor)):
                o.zero_grad()
                lib.functional.cross_entropy(m(tensor(x)), tensor(y)).backward()
                o.step()
        _assert_same(list(model.parameters()), list(ref.parameters()), name, rtol=1e-9, atol=1e-11)


def test_optimizer_errors():
    w = engine.zeros(2, requires_grad=True)
    for name, kwargs, text in [
        ("RMSprop", {"alpha": -0.1}, "invalid alpha value -0.1"),
        ("RMSprop", {"momentum": -1}, "invalid momentum value -1"),
        ("RMSprop", {"eps": -1e-8}, "invalid eps value"),
        ("Adagrad", {"lr_decay": -1}, "invalid lr_decay value -1"),
        ("Adagrad", {"initial_accumulator_value": -1}, "invalid initial_accumulator_value"),
        ("AdamW", {"weight_decay": -0.1}, "invalid weight_decay value -0.1"),
        ("AdamW", {"betas": (0.9, 1.5)}, "AdamW: invalid beta parameter at index 1: 1.5"),
        ("RMSprop", {"lr": -1.0}, "invalid learning rate lr=-1.0"),
        ("SGD", {"lr": 0.1, "differentiable": True}, "differentiable=True is not supported"),
    ]:
        with pytest.raises(engine.EngineValueError, match=text):
            getattr(optim, name)([w], **kwargs)


# ---- printing and signatures --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,config", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {}), ("AdamW", {}),
                                         ("RMSprop", {"centered": True}), ("Adagrad", {"lr_decay": 0.1})])
def test_optimizers_print_like_torch(torch, name, config):
    ours, theirs = _params(torch)
    opt = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5}], **config)
    ref = getattr(torch.optim, name)([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5}], **config)
    assert repr(opt) == repr(ref)


def _signature(fn) -> list:
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler.StepLR",
                                  "lr_scheduler.MultiStepLR", "lr_scheduler.ExponentialLR",
                                  "lr_scheduler.CosineAnnealingLR", "lr_scheduler.LambdaLR"])
def test_signatures_and_defaults_match_torch(torch, name):
    ours, theirs = optim, torch.optim
    for part in name.split("."):
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    assert _signature(ours.__init__) == _signature(theirs.__init__)


# ---- state dicts --------------------------------------------------------------------------------------------------

def _plain(value):
    """A state dict with every tensor as a (dtype name, nested list) pair, to compare engine's with torch's."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, engine.Tensor):
        return (value.dtype.name, np.round(_host(value), 9).tolist())
    if hasattr(value, "detach"):
        return (str(value.dtype).removeprefix("torch."), np.round(_host(value), 9).tolist())
    return value


@pytest.mark.parametrize("name,config", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("SGD", {"lr": 0.1}),
                                         ("Adam", {"amsgrad": True}), ("AdamW", {}),
                                         ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adagrad", {})])
def test_state_dict_layout_matches_torch(torch, name, config):
    ours, theirs = _params(torch)
    opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.5}], **config)
    ref = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.5}], **config)
    assert _plain(opt.state_dict()) == _plain(ref.state_dict())  # before any step (Adagrad has state already)
    rng = np.random.default_rng(0)
    for step in range(3):
        _feed(torch, ours, theirs, rng, skip=lambda s, i: i == 2 and s == 0, step=step)
        opt.step()
        ref.step()
    assert _plain(opt.state_dict()) == _plain(ref.state_dict())
    sd = opt.state_dict()
    assert sd["param_groups"][1]["params"] == [1, 2] and sd["param_groups"][0]["params"] == [0]
    if "step" in sd["state"].get(0, {}):
        step = sd["state"][0]["step"]  # PyTorch's form: a float32 0-d tensor on the host
        host = engine.tensor(0.0, device="cpu").device
        assert step.dtype == engine.float32 and step.ndim == 0 and step.device == host


def _clone(value):
    """A state dict with every tensor cloned (what saving and loading it gives)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value.clone() if isinstance(value, engine.Tensor) else copy.deepcopy(value)


@pytest.mark.parametrize("name,config", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                         ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01, "amsgrad": True}),
                                         ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.3}),
                                         ("Adagrad", {"lr": 0.1, "lr_decay": 0.1})])
def test_resuming_from_a_state_dict_continues_the_trajectory(torch, name, config):
    ours, theirs = _params(torch)
    opt = getattr(optim, name)(ours, **config)
    ref = getattr(torch.optim, name)(theirs, **config)
    rng = np.random.default_rng(0)
    for step in range(4):
        _feed(torch, ours, theirs, rng, step=step)
        opt.step()
        ref.step()
    saved = _clone(opt.state_dict())
    # a fresh optimizer over copies of the parameters, with a different learning rate that the load replaces
    resumed = [engine.tensor(_host(p), requires_grad=True) for p in ours]
    opt2 = getattr(optim, name)(resumed, lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == config["lr"] and opt2.param_groups[0]["params"][0] is resumed[0]
    for step in range(4, 8):
        _feed(torch, resumed, theirs, rng, step=step)
        opt2.step()
        ref.step()
        _assert_same(resumed, theirs, f"{name} resumed, step {step}")


def test_load_state_dict_casts_state_to_each_parameter_and_checks_layout():
    p64 = engine.ones(3, dtype=engine.float64, requires_grad=True)
    opt = optim.Adam([p64], lr=0.1)
    p64.grad = engine.ones(3, dtype=engine.float64)
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["exp_avg"] is opt.state[p64]["exp_avg"]  # references, as in PyTorch
    target = engine.zeros(3, dtype=engine.float32, device="numpy", requires_grad=True)
    opt32 = optim.Adam([target])
    opt32.load_state_dict(sd)
    state = opt32.state[target]
    assert state["step"] == 1 and state["exp_avg"].dtype == engine.float32 and state["exp_avg"].device == target.device
    np.testing.assert_allclose(state["exp_avg"].numpy(), 0.1, rtol=1e-6)
    with pytest.raises(engine.EngineValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [target]}, {"params": [engine.zeros(1, requires_grad=True)]}]).load_state_dict(sd)
    with pytest.raises(engine.EngineValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam([target, engine.zeros(1, requires_grad=True)]).load_state_dict(sd)
    with pytest.raises(engine.EngineValueError, match=r"has shape \(3,\), but the parameter has shape \(2,\)"):
        optim.Adam([engine.zeros(2, requires_grad=True)]).load_state_dict(sd)
    with pytest.raises(engine.EngineValueError, match="'state' and 'param_groups'"):
        opt32.load_state_dict({"state": {}})


def test_state_is_a_defaultdict_and_sgd_without_momentum_keeps_none():
    w = engine.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = engine.ones(2)
    opt.step()
    assert opt.state_dict()["state"] == {} and dict(opt.state) == {}
    assert opt.state[w] == {}  # reading creates an empty entry, as PyTorch's defaultdict does
    opt.step()
    assert dict(opt.state) == {w: {}}


# ---- learning-rate schedulers -------------------------------------------------------------------------------------

SCHEDULES = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 2, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 6}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.01}),
]


def _optimizers(torch, name="SGD"):
    ours, theirs = _params(torch)
    groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}]  # noqa: E731
    return getattr(optim, name)(groups(ours), lr=0.1), getattr(torch.optim, name)(groups(theirs), lr=0.1)


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[f"{n}-{k}" for n, k in SCHEDULES])
def test_schedules_match_torch_exactly(torch, name, kwargs):
    opt, ref = _optimizers(torch)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr() == [0.1, 0.3]
    for epoch in range(20):
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), f"epoch {epoch}"  # to the last bit
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref.param_groups]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]
    state = ours.state_dict()
    assert state == theirs.state_dict() and "optimizer" not in state
    # closed form when an epoch is given (deprecated in PyTorch, with its warning)
    with pytest.warns(UserWarning, match="epoch parameter"):
        ours.step(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.step(7)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)


def test_scheduler_state_dict_resumes_and_lambda_lr(torch):
    opt, ref = _optimizers(torch)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        opt.step()
        sched.step()
    saved = sched.state_dict()
    fresh_opt, _ = _optimizers(torch)
    fresh_opt.load_state_dict(opt.state_dict())
    resumed = lr_scheduler.CosineAnnealingLR(fresh_opt, T_max=10)
    resumed.load_state_dict(saved)
    for _ in range(3):
        opt.step()
        sched.step()
        fresh_opt.step()
        resumed.step()
        assert resumed.get_last_lr() == sched.get_last_lr()
    ours = lr_scheduler.LambdaLR(opt, lambda epoch: 0.5**epoch)
    theirs = torch.optim.lr_scheduler.LambdaLR(ref, lambda epoch: 0.5**epoch)
    for _ in range(4):
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
    assert ours.state_dict()["lr_lambdas"] == [None, None]
    with pytest.raises(engine.EngineValueError, match="expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])


def test_scheduler_warnings_and_errors(torch):
    opt, _ = _optimizers(torch)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # the right order: no warning
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    with pytest.raises(engine.EngineTypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    fresh, _ = _optimizers(torch)
    with pytest.raises(engine.EngineValueError, match="initial_lr"):
        lr_scheduler.ExponentialLR(fresh, gamma=0.9, last_epoch=3)
    assert math.isclose(opt.param_groups[0]["lr"], 0.1 * 0.1**2)
