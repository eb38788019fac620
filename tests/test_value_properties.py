"""Hypothesis: random expression DAGs, every gradient checked against central differences
(float64) and, when PyTorch is installed, against PyTorch.

A program is a list of steps; each step applies one op to earlier nodes (any of them, so
nodes are reused and diamonds appear) or to a constant on either side. Ops with a
restricted domain get an argument built to lie inside it (``log(a*a + 0.5)``), and draws
that land near a kink of relu/abs/leaky_relu are rejected.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import Value

UNARY = ("neg", "exp", "log", "tanh", "sigmoid", "relu", "leaky_relu", "abs", "pow_int", "pow_frac")
BINARY = ("add", "sub", "mul", "div", "pow_value")
KINKED = ("relu", "leaky_relu", "abs")

finite = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 4))
    inputs = draw(st.lists(finite, min_size=n_inputs, max_size=n_inputs))
    steps = []
    for k in range(draw(st.integers(1, 10))):
        available = n_inputs + k
        if draw(st.booleans()):
            steps.append(("unary", draw(st.sampled_from(UNARY)), draw(st.integers(0, available - 1))))
        else:
            op = draw(st.sampled_from(BINARY))
            left = draw(st.integers(0, available - 1))
            right = draw(st.one_of(st.integers(0, available - 1), finite.map(lambda c: ("const", c))))
            swap = draw(st.booleans())  # a constant may sit on either side
            steps.append(("binary", op, left, right, swap))
    return inputs, steps


class Kink(Exception):
    """The drawn point lies at a non-differentiable spot; the example is rejected."""


def run_program(inputs, steps, lib):
    """Evaluate the program with ``lib`` (``value_lib`` or ``torch_lib``); return all nodes."""
    nodes = list(inputs)
    for step in steps:
        if step[0] == "unary":
            _, op, i = step
            nodes.append(lib.unary(op, nodes[i]))
        else:
            _, op, i, j, swap = step
            a = nodes[i]
            b = j[1] if isinstance(j, tuple) else nodes[j]
            if swap:
                a, b = b, a
            nodes.append(lib.binary(op, a, b))
    # The output sums every node, so every step contributes to the gradient.
    out = nodes[0]
    for node in nodes[1:]:
        out = out + node
    return out


def positive(x):
    return x * x + 0.5  # > 0 for every x: the argument of log, the base of a real power


class value_lib:
    @staticmethod
    def data(x):
        return x.data if isinstance(x, Value) else x

    @staticmethod
    def unary(op, x):
        x = x if isinstance(x, Value) else Value(x)
        if op in KINKED and abs(x.data) < 1e-3:
            raise Kink
        return {
            "neg": lambda: -x,
            "exp": lambda: x.exp(),
            "log": lambda: positive(x).log(),
            "tanh": lambda: x.tanh(),
            "sigmoid": lambda: x.sigmoid(),
            "relu": lambda: x.relu(),
            "leaky_relu": lambda: x.leaky_relu(0.1),
            "abs": lambda: x.abs(),
            "pow_int": lambda: x**3,
            "pow_frac": lambda: positive(x) ** 1.5,
        }[op]()

    @staticmethod
    def binary(op, a, b):
        return {
            "add": lambda: a + b,
            "sub": lambda: a - b,
            "mul": lambda: a * b,
            "div": lambda: a / positive(b),
            "pow_value": lambda: positive(a) ** (b * 0.5),
        }[op]()


def value_grads(inputs, steps):
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(inputs)]
    out = run_program(xs, steps, value_lib)
    out.backward()
    return out.data, [x.grad for x in xs]


def central_differences(inputs, steps, h=1e-6):
    grads = []
    for i in range(len(inputs)):
        up, down = list(inputs), list(inputs)
        up[i] += h
        down[i] -= h
        f_up = run_program([Value(v) for v in up], steps, value_lib).data
        f_down = run_program([Value(v) for v in down], steps, value_lib).data
        grads.append((f_up - f_down) / (2 * h))
    return grads


def evaluate_or_reject(inputs, steps):
    try:
        out, grads = value_grads(inputs, steps)
    except (Kink, OverflowError):
        assume(False)
    assume(math.isfinite(out) and abs(out) < 1e4 and all(math.isfinite(g) and abs(g) < 1e4 for g in grads))
    # Central differences lose digits when an intermediate is huge (exp(exp(x))): keep them moderate.
    root = run_program([Value(x) for x in inputs], steps, value_lib)
    assume(all(abs(node.data) < 1e3 for node in root.nodes()))
    return out, grads


@settings(max_examples=300, deadline=None)
@given(programs())
def test_gradients_match_central_differences(program):
    inputs, steps = program
    _, grads = evaluate_or_reject(inputs, steps)
    try:
        numeric = central_differences(inputs, steps)
    except Kink:  # a perturbed point lands within the kink margin
        assume(False)
    for g, n in zip(grads, numeric):
        assert g == pytest.approx(n, rel=1e-4, abs=1e-5)


def test_program_generator_covers_every_op():
    # Guard against a strategy that silently stops drawing some op.
    seen = set()

    @settings(max_examples=200, deadline=None)
    @given(programs())
    def collect(program):
        for step in program[1]:
            seen.add(step[1])

    collect()
    assert seen == set(UNARY) | set(BINARY)


try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


class torch_lib:
    @staticmethod
    def unary(op, x):
        x = x if torch.is_tensor(x) else torch.tensor(x, dtype=torch.float64)
        return {
            "neg": lambda: -x,
            "exp": lambda: x.exp(),
            "log": lambda: positive(x).log(),
            "tanh": lambda: x.tanh(),
            "sigmoid": lambda: x.sigmoid(),
            "relu": lambda: x.relu(),
            "leaky_relu": lambda: torch.nn.functional.leaky_relu(x, 0.1),
            "abs": lambda: x.abs(),
            "pow_int": lambda: x**3,
            "pow_frac": lambda: positive(x) ** 1.5,
        }[op]()

    @staticmethod
    def binary(op, a, b):
        a = a if torch.is_tensor(a) else torch.tensor(a, dtype=torch.float64)
        return value_lib.binary(op, a, b)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed: pip install torch to add it as an oracle")
@settings(max_examples=150, deadline=None)
@given(programs())
def test_gradients_match_pytorch(program):
    inputs, steps = program
    out, grads = evaluate_or_reject(inputs, steps)
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    t_out = run_program(xs, steps, torch_lib)
    t_out.backward()
    assert out == pytest.approx(t_out.item(), rel=1e-9, abs=1e-12)
    for g, x in zip(grads, xs):
        assert g == pytest.approx(x.grad.item(), rel=1e-8, abs=1e-10)
