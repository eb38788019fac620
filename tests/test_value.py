"""The scalar engine on the lectures' worked examples, its semantics and its errors."""

import math

import pytest

from engine import DivisionByZeroError, DomainError, EngineTypeError, Value
from engine.apps.demo import chain_rule_example, sigmoid_neuron_example


def test_lecture_chain_rule_f_equals_x_plus_y_times_z():
    f = chain_rule_example()
    f.backward()
    x, y, z = (n for n in f.nodes() if n.label in "xyz")
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def test_lecture_sigmoid_neuron_gradients():
    f, v = sigmoid_neuron_example()
    f.backward()
    assert f.data == pytest.approx(0.7311, abs=1e-4)
    got = [round(v[n].grad, 2) for n in ("w0", "x0", "w1", "x1", "w2")]
    assert got == [-0.20, 0.39, -0.39, -0.59, 0.20]


def test_lecture_z_equals_2w_squared_plus_5():
    w = Value(2.0, label="w")
    z = 2 * w**2 + 5
    z.backward()
    assert z.data == 13.0
    assert w.grad == 8.0


def test_reused_input_has_one_edge_per_use():
    a = Value(3.0)
    b = a + a
    assert b.parents == (a, a)
    b.backward()
    assert a.grad == 2.0
    c = Value(3.0)
    d = c * c  # d/dc c^2 = 2c
    d.backward()
    assert c.grad == 6.0


def test_numbers_on_either_side():
    x = Value(4.0)
    cases = {
        "2+x": (2 + x, 1.0), "x+2": (x + 2, 1.0), "2-x": (2 - x, -1.0), "x-2": (x - 2, 1.0),
        "2*x": (2 * x, 2.0), "x*2": (x * 2, 2.0), "2/x": (2 / x, -2 / 16), "x/2": (x / 2, 0.5),
        "x**3": (x**3, 48.0), "2**x": (2**x, 16 * math.log(2)), "-x": (-x, -1.0),
    }
    for name, (out, expected) in cases.items():
        x.grad = 0.0
        out.backward()
        assert x.grad == pytest.approx(expected), name


def test_value_pow_value_and_unary_ops():
    a, b = Value(2.0), Value(3.0)
    out = a**b
    out.backward()
    assert out.data == 8.0
    assert a.grad == pytest.approx(3 * 4.0)
    assert b.grad == pytest.approx(8 * math.log(2))
    for method, x, value, slope in [
        ("exp", 1.0, math.e, math.e), ("log", 2.0, math.log(2), 0.5),
        ("tanh", 0.5, math.tanh(0.5), 1 - math.tanh(0.5) ** 2),
        ("sigmoid", 0.0, 0.5, 0.25), ("relu", -1.0, 0.0, 0.0), ("relu", 2.0, 2.0, 1.0),
        ("leaky_relu", -2.0, -0.02, 0.01), ("abs", -3.0, 3.0, -1.0), ("abs", 0.0, 0.0, 0.0),
    ]:
        v = Value(x)
        out = getattr(v, method)()
        out.backward()
        assert out.data == pytest.approx(value), method
        assert v.grad == pytest.approx(slope), method


def test_backward_accumulates_like_pytorch_and_zero_grad_resets():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    f.backward()
    assert (x.grad, q.grad, f.grad) == (-8.0, -8.0, 2.0)  # each pass adds exactly one pass
    f.zero_grad()
    assert all(n.grad == 0.0 for n in f.nodes())
    f.backward()
    assert x.grad == -4.0


def test_million_node_chain_backward_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert y.data == 1_000_001.0
    assert x.grad == 1.0


def test_same_program_same_gradients_bitwise():
    def run():
        xs = [Value(0.1 * i - 0.3) for i in range(7)]
        acc = Value(0.0)
        for i, a in enumerate(xs):
            for b in xs[i:]:
                acc = acc + (a * b).tanh() + a.sigmoid() * b
        acc.backward()
        return [v.grad for v in xs]

    assert run() == run()


def test_sigmoid_and_exp_do_not_overflow():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).exp().data == math.inf


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: Value("3"), EngineTypeError, "got str '3'"),
        (lambda: Value(None), TypeError, "NoneType"),
        (lambda: Value(1.0) + "a", TypeError, "str"),
        (lambda: Value(0.0).log(), DomainError, "x = 0"),
        (lambda: Value(-1.0).log(), ValueError, "log is defined for x > 0"),
        (lambda: Value(1.0) / 0, DivisionByZeroError, "1 / 0"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, "divides by zero"),
        (lambda: Value(-8.0) ** 0.5, DomainError, "negative base -8 with non-integer power 0.5"),
        (lambda: Value(0.0) ** -1, DivisionByZeroError, "0 ** -1"),
        (lambda: Value(-2.0) ** Value(2.0), DomainError, "base must be positive"),
    ],
)
def test_bad_input_names_the_op_and_value(make, error, words):
    with pytest.raises(error, match=None) as info:
        make()
    assert words in str(info.value)
    assert "math domain error" not in str(info.value)


def test_negative_base_integer_power_is_fine():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert (y.data, x.grad) == (-8.0, 12.0)


def test_repr_shows_label_data_grad():
    assert repr(Value(2.5, label="w")) == "Value(label='w', data=2.5, grad=0)"
