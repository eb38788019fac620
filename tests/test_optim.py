"""engine.optim: SGD and Adam trajectories against torch.optim, parameter groups, state, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from tensor_helpers import DEVICES

import engine
import engine.nn as nn
import engine.optim as optim
from engine.testing import assert_devices_agree


@pytest.fixture(autouse=True)
def _every_device(on_each_device):
    """Every test here runs on each device in turn (the numpy reference, then C when built)."""
    return on_each_device


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch.optim is the reference for these trajectories; install torch")


SHAPES = [(3, 4), (4,), ()]


def _trajectories(torch, make_ours, make_theirs, steps=20, dtype="float64", seed=0, skip=None):
    """Run both optimizers from the same initial parameters, feeding both the same gradients each step."""
    rng = np.random.default_rng(seed)
    inits = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    ours = [engine.tensor(a, requires_grad=True) for a in inits]
    theirs = [torch.tensor(a, requires_grad=True) for a in inits]
    opt, ref = make_ours(ours), make_theirs(theirs)
    for step in range(steps):
        grads = [rng.normal(size=s).astype(dtype) for s in SHAPES]
        opt.zero_grad()
        ref.zero_grad()
        for i, (p, t, g) in enumerate(zip(ours, theirs, grads)):
            if skip is not None and skip(step, i):
                continue  # no gradient this step: both optimizers must leave the parameter alone
            p.grad = engine.tensor(g)
            t.grad = torch.tensor(g)
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"step {step}")
    return ours, theirs


SGD_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
    {"lr": 0.02, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
]


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_sgd_trajectory_matches_torch(torch, config):
    _trajectories(torch, lambda ps: optim.SGD(ps, **config), lambda ps: torch.optim.SGD(ps, **config))


ADAM_CONFIGS = [
    {},
    {"lr": 0.01},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
]


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_adam_trajectory_matches_torch(torch, config):
    _trajectories(torch, lambda ps: optim.Adam(ps, **config), lambda ps: torch.optim.Adam(ps, **config))


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_params_without_grad_are_skipped_like_torch(torch, name):
    kwargs = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    _trajectories(
        torch, lambda ps: getattr(optim, name)(ps, **kwargs), lambda ps: getattr(torch.optim, name)(ps, **kwargs),
        skip=lambda step, i: (step + i) % 3 == 0,
    )


def test_float32_adam_stays_float32_and_close(torch):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5,)).astype(np.float32)
    p, t = engine.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    opt, ref = optim.Adam([p], lr=0.01), torch.optim.Adam([t], lr=0.01)
    for _ in range(20):
        g = rng.normal(size=(5,)).astype(np.float32)
        p.grad, t.grad = engine.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    assert p.dtype == engine.float32
    np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_training_a_model_matches_torch_end_to_end(torch):
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    ref = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 3)), rng.integers(0, 2, size=16)
    opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01, weight_decay=0.01)
    for _ in range(20):
        for m, o, lib, tensor in ((model, opt, nn, engine.tensor), (ref, ref_opt, torch.nn, torch.tensor)):
            o.zero_grad()
            loss = lib.functional.cross_entropy(m(tensor(x)), tensor(y))
            loss.backward()
            o.step()
    for (name, a), b in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_param_groups_and_editable_lr(torch):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=3), rng.normal(size=2)
    ours = [engine.tensor(a, requires_grad=True), engine.tensor(b, requires_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    opt = optim.SGD([{"params": [ours[0]]}, {"params": [ours[1]], "lr": 0.5, "momentum": 0.5}], lr=0.1)
    ref = torch.optim.SGD([{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": 0.5, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0
    for step in range(6):
        if step == 3:
            for group in opt.param_groups + ref.param_groups:
                group["lr"] *= 0.1
        for p, t in zip(ours, theirs):
            g = rng.normal(size=tuple(p.shape))
            p.grad, t.grad = engine.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    assert "momentum_buffer" in opt.state[ours[1]] and "momentum_buffer" not in opt.state.get(ours[0], {})


def test_model_parameters_generator_and_lecture_loop():
    # The lecture's pattern: SGD over model.parameters() (a generator), zero_grad, backward, step.
    engine.manual_seed(0)
    x = engine.FloatTensor([[1], [2], [3]])
    y = engine.FloatTensor([[2], [4], [6]])
    model = nn.Linear(1, 1)
    opt = optim.SGD(model.parameters(), lr=0.01)
    first = None
    for _ in range(500):
        loss = nn.functional.mse_loss(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first * 1e-2
    assert isinstance(model.weight, nn.Parameter) and model.weight.is_leaf


def test_zero_grad_modes_and_state():
    w = engine.ones(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * 2).sum().backward()
    opt.step()
    assert opt.state[w]["step"] == 1 and tuple(opt.state[w]["exp_avg"].shape) == (3,)
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None
    before = w.detach().numpy().copy()
    opt.step()  # no gradients: nothing moves
    np.testing.assert_array_equal(w.detach().numpy(), before)


def test_step_with_closure():
    w = engine.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.item() == pytest.approx(1.5)


def test_optimizer_errors():
    w = engine.zeros(2, requires_grad=True)
    with pytest.raises(engine.EngineValueError, match="invalid learning rate lr=-0.1"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(engine.EngineValueError, match="beta parameter at index 1: 1.0"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(engine.EngineValueError, match="betas must be a pair"):
        optim.Adam([w], betas=0.9)
    with pytest.raises(engine.EngineValueError, match="epsilon"):
        optim.Adam([w], eps=-1.0)
    with pytest.raises(engine.EngineValueError, match="Nesterov momentum requires a momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(engine.EngineValueError, match="momentum"):
        optim.SGD([w], lr=0.1, momentum=-1)
    with pytest.raises(engine.EngineValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(engine.EngineValueError, match="empty parameter list"):
        optim.Adam(nn.ReLU().parameters())
    with pytest.raises(engine.EngineTypeError, match="single tensor; wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(engine.GradError, match="parameter 1 .* is not a leaf tensor"):
        optim.SGD([w, w * 2], lr=0.1)
    frozen = engine.zeros(3)  # accepted like PyTorch: it never gets a gradient, so it never moves
    opt = optim.SGD([frozen], lr=0.1)
    opt.step()
    assert frozen.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(engine.EngineTypeError, match="parameter 0 is a list"):
        optim.SGD([[1.0]], lr=0.1)
    with pytest.raises(engine.EngineValueError, match="more than once"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError):  # every error is also the builtin
        optim.SGD([w], lr=-1)


def test_optimizer_repr():
    text = repr(optim.SGD([engine.zeros(1, requires_grad=True)], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text


@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("Adam", {})])
def test_optimizers_on_every_device_match_numpy(name, kwargs):
    def ten_steps(p):
        # The same gradients on every device; the parameter (a leaf on that device) updated in place.
        opt = getattr(optim, name)([p], **kwargs)
        grads = np.random.default_rng(1)
        for _ in range(10):
            p.grad = engine.tensor(grads.normal(size=(4, 3)), device=p.device)
            opt.step()
        return p.detach()

    start = np.random.default_rng(0).normal(size=(4, 3))
    report = assert_devices_agree(ten_steps, start, devices=DEVICES, rtol=1e-12, atol=0, grads=False)
    assert [c.device for c in report.comparisons if c.what == "output 0"] == DEVICES[1:]
