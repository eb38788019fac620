"""In-place changes inside the graph, and ``engine.autograd.Function``, as PyTorch users write them.

In-place ops on tensors that are part of a graph are recorded (the tensor adopts the op's node);
in-place on a leaf that requires grad is refused with PyTorch's message; a tensor saved for
backward and then changed raises at backward with the op's name. Each program runs on every
device and, where PyTorch is installed, is compared with the same program run by PyTorch.
"""

from __future__ import annotations

import pytest
from tensor_helpers import DEVICES, HAS_TORCH

import engine
from engine.testing import assert_close

if HAS_TORCH:
    import torch

devices = pytest.mark.parametrize("device", DEVICES)


def run(program, device):
    """The program's x.grad (and returned values) under the engine on ``device``, and under torch."""
    engine.set_default_device(device)
    try:
        ours = program(engine)
    finally:
        engine.set_default_device("cpu")
    theirs = program(torch) if HAS_TORCH else None
    return ours, theirs


def compare(ours, theirs, expected=None):
    if theirs is not None:
        for a, b in zip(ours, theirs):
            assert_close(a, b, rtol=1e-5, atol=1e-6)
    if expected is not None:
        for a, b in zip(ours, expected):
            assert_close(a, b, rtol=1e-5, atol=1e-6)


def arithmetic(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(3)
    y.sub_(x)
    y.div_(2.0)
    y += x * x
    y *= 0.5
    y.sum().backward()
    return y.detach().tolist(), x.grad.tolist()


def running_totals(lib):
    w = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    avg_cost = 0
    for batch in range(3):
        cost = ((w * (batch + 1)) ** 2).mean()
        avg_cost += cost / 3  # the labs' running average: a number, then a tensor in the graph
    l2_reg = lib.tensor(0.0)
    for p in (w, w * 2):
        l2_reg += (p * p).sum().sqrt()  # a leaf without grad that joins the graph
    (avg_cost + 0.1 * l2_reg).backward()
    return [avg_cost.item(), l2_reg.item()], w.grad.tolist()


def assignments(lib):
    x = lib.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], requires_grad=True)
    v = lib.tensor([10.0, 20.0], requires_grad=True)
    y = x * 3
    y[0, 0] = 7.0
    y[:, 1] = v
    y[y < 0] = 0.0
    z = x.exp()
    z2 = z * 1
    z2.fill_(2.0)
    m = x * 1
    m.copy_(v.reshape(2, 1) * 0.5)
    (y.sum() + (y * y).sum() + z2.sum() + (m * x).sum()).backward()
    return y.detach().tolist(), x.grad.tolist(), v.grad.tolist()


@devices
@pytest.mark.parametrize("program", [arithmetic, running_totals, assignments])
def test_in_place_changes_are_recorded(device, program):
    ours, theirs = run(program, device)
    compare(ours, theirs)


@devices
def test_recorded_values_without_torch(device):
    engine.set_default_device(device)
    try:
        values, grad = arithmetic(engine)
    finally:
        engine.set_default_device("cpu")
    # y = ((2x + 1) 3 - x) / 2, then y + x^2, then y / 2: dy/dx = (5/2 + 2x) / 2
    assert values == [(5.0 * 1 + 3) / 2 / 2 + 0.5, (5.0 * 2 + 3) / 2 / 2 + 2.0, (5.0 * 3 + 3) / 2 / 2 + 4.5]
    assert grad == [(2.5 + 2 * v) / 2 for v in (1.0, 2.0, 3.0)]


@devices
def test_in_place_on_a_leaf_that_requires_grad_is_refused(device):
    p = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    for change in (lambda: p.add_(1), lambda: p.mul_(2), lambda: p.__setitem__(0, 1.0), lambda: p.fill_(0),
                   lambda: p.zero_(), lambda: p.copy_(engine.ones(2, device=device))):
        with pytest.raises(engine.GradError, match="a leaf Variable that requires grad is being used in an in-place"):
            change()
    with engine.no_grad():
        p.add_(1)  # the optimizer's way
    assert p.tolist() == [2.0, 3.0] and p.is_leaf


@devices
def test_a_saved_tensor_changed_in_place_raises_at_backward(device):
    x = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x.sigmoid()
    y.mul_(2)  # sigmoid's backward reads its output
    with pytest.raises(engine.GradError, match="SigmoidBackward0"):
        y.sum().backward()
    a = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    b = a * 1
    c = a * b  # reads b
    b.add_(1)
    with pytest.raises(engine.GradError, match="MulBackward0"):
        c.sum().backward()


@devices
def test_in_place_through_a_view_inside_a_graph_is_one_clear_error(device):
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = x * 2
    part = y[:2]
    for change in (lambda: part.mul_(2), lambda: y.add_(1)):
        with pytest.raises(engine.GradError, match="view inside a graph"):
            change()
    with engine.no_grad():  # outside the graph it is an ordinary write
        (x * 2)[:2].mul_(2)


# ---- engine.autograd.Function ---------------------------------------------------------------


def custom_functions(lib):
    class LeakyClamp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, slope):
            ctx.save_for_backward(x)
            ctx.slope = slope
            return x.clamp(min=0) + x.clamp(max=0) * slope

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * ((x > 0).float() + (x <= 0).float() * ctx.slope), None

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b if ctx.needs_input_grad[0] else None, (g * a).sum() if ctx.needs_input_grad[1] else None

    x = lib.tensor([-1.0, 2.0, -3.0, 0.5], requires_grad=True)
    s = lib.tensor(3.0, requires_grad=True)
    y = Scale.apply(LeakyClamp.apply(x * 2, 0.1), s)
    (y * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return y.detach().tolist(), x.grad.tolist(), s.grad.item()


@devices
def test_custom_functions_as_pytorch_users_write_them(device):
    ours, theirs = run(custom_functions, device)
    compare(ours, theirs)
    assert ours[2] == pytest.approx(-0.2 * 1 + 4.0 * 2 - 0.6 * 3 + 1.0 * 4)


@devices
def test_custom_function_mistakes_are_one_line(device):
    class WrongShape(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    class TooMany(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class Saves(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = engine.tensor([1.0, 2.0], requires_grad=True, device=device)
    with pytest.raises(engine.ShapeError, match="WrongShape.backward: gradient 0 has shape"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(engine.GradError, match="returned 2 gradient"):
        TooMany.apply(x).sum().backward()
    h = x * 1
    y = Saves.apply(h)
    h.add_(1)
    with pytest.raises(engine.GradError, match="SavesBackward"):
        y.sum().backward()
    with pytest.raises(engine.EngineTypeError, match="must return one tensor"):
        type("NoTensor", (engine.autograd.Function,), {"forward": staticmethod(lambda ctx, x: 3.0)}).apply(x)


def unary_in_place(lib):
    x = lib.tensor([-1.0, 2.0, 0.5, 1.5], requires_grad=True)
    y = x * 2
    y.exp_()
    y.clamp_(max=5.0)
    y.sqrt_()
    y.relu_()
    y.sigmoid_()
    y.sum().backward()
    return y.detach().tolist(), x.grad.tolist()


def unary_out_of_place(lib):
    x = lib.tensor([-1.0, 2.0, 0.5, 1.5], requires_grad=True)
    y = (x * 2).exp().clamp(max=5.0).sqrt().relu().sigmoid()
    y.sum().backward()
    return y.detach().tolist(), x.grad.tolist()


@devices
def test_in_place_unary_forms_match_their_out_of_place_program(device):
    engine.set_default_device(device)
    try:
        ours = unary_in_place(engine)
    finally:
        engine.set_default_device("cpu")
    reference = unary_out_of_place(torch) if HAS_TORCH else unary_out_of_place(engine)
    compare(ours, reference)
    ints = engine.tensor([1, 2], device=device)
    with pytest.raises(engine.DTypeError, match="exp_: result type float32 can't be cast"):
        ints.exp_()
    ints.abs_().neg_()
    assert ints.tolist() == [-1, -2]
    y = engine.tensor([1.0, 2.0], requires_grad=True, device=device) * 1
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
