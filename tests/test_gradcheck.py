"""``engine.testing.gradcheck`` as a product: it passes correct ops (tensor and ``Value``), catches
planted wrong backwards (and names the user ``Function`` that holds them), explains failures at a
kink or outside a domain, checks big inputs in fast mode with a handful of evaluations, and picks
its tolerances by the dtype fn computes in.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import Function
from engine.scalar.value import Value
from engine.testing import GradcheckError, GradcheckReport, gradcheck


def leaf(values, dtype=engine.float64):
    return engine.tensor(values, dtype=dtype, requires_grad=True)


class Cube(Function):
    """x^3 with the derivative off by a factor of 2 (6x^2 instead of 3x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 6 * x * x


class GoodCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class TransposedMatMul(Function):
    """a @ b whose gradient for b is transposed: (a^T g)^T instead of a^T g."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g @ b.T, (a.T @ g).T


class Counting:
    """fn wrapped to count its evaluations."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


# ---- correct ops pass ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-2, 2, allow_nan=False, allow_infinity=False), min_size=1, max_size=6))
def test_correct_tensor_ops_pass(xs):
    x = leaf(xs)
    w = leaf(np.linspace(-1, 1, len(xs)))
    assert gradcheck(lambda a, b: (a * b).tanh() + (a - b).exp() * a.sigmoid(), x, w) is True
    assert gradcheck(lambda a: a.softmax(0), x) is True


@settings(max_examples=25, deadline=None)
@given(st.floats(-2, 2, allow_nan=False), st.floats(0.1, 3, allow_nan=False))
def test_correct_value_functions_pass(a, b):
    report = gradcheck(
        lambda x, y, c: (x * y).tanh() + y.log() * x.exp() - x / y * c, Value(a, label="x"), Value(b), 2.0,
        raise_on_failure=False,
    )
    assert report.passed and report.kind == "value" and len(report.inputs) == 2
    assert gradcheck(lambda x: (x**3).sigmoid(), Value(a)) is True


def test_the_old_calls_keep_working():
    x = leaf([[0.5, 1.0], [2.0, -1.0]])
    assert gradcheck(lambda t: t.exp(), x, eps=1e-6, atol=1e-5, rtol=1e-3) is True
    assert x.grad is None  # the user's tensors are never touched: the check runs on copies


def test_a_correct_user_function_passes():
    assert gradcheck(lambda t: GoodCube.apply(t.tanh()).sum(), leaf([[0.5, -1.0], [2.0, 0.3]])) is True


# ---- planted wrong backwards are caught and named ------------------------------------------------------


def test_a_function_off_by_a_factor_is_caught_and_named():
    x = leaf([[0.5, -1.0], [2.0, 0.3]])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda t: Cube.apply(t.tanh()).sum() * 2, x, names=["x"])
    text = str(caught.value)
    assert text.startswith("gradcheck: input 0 'x' (shape (2, 2)) element (0, 0): analytic ")
    assert "4 of 4 elements fail" in text
    assert "the wrong gradient comes from Cube (an engine.autograd.Function)" in text
    report = caught.value.report
    assert report.culprit == "Cube" and not report.passed
    # analytic is twice numeric in every element, and the table lists all four
    worst = report.inputs[0].worst
    assert len(worst) == 4
    for e in worst:
        assert e.analytic == pytest.approx(2 * e.numeric, rel=1e-6)
        assert e.abs_error == pytest.approx(abs(e.numeric), rel=1e-6)
        assert e.rel_error == pytest.approx(1.0, rel=1e-6)
    assert worst[0].abs_error == max(e.abs_error for e in worst)  # worst first


def test_a_transposed_gradient_is_caught_for_that_input_only():
    rng = np.random.default_rng(0)
    a, b = leaf(rng.standard_normal((3, 3))), leaf(rng.standard_normal((3, 3)))
    report = gradcheck(lambda p, q: TransposedMatMul.apply(p, q).exp(), a, b, names=["a", "b"], raise_on_failure=False)
    assert isinstance(report, GradcheckReport) and not report
    assert report.inputs[0].passed and not report.inputs[1].passed
    assert "input 1 'b' (shape (3, 3))" in str(report)
    assert report.culprit == "TransposedMatMul"
    # the gradient is the transpose of the right one: off-diagonal elements swap, the diagonal is right
    failed = {e.index for e in report.inputs[1].worst}
    assert all(i != j for i, j in failed)
    by_index = {e.index: e for e in report.inputs[1].worst}
    for (i, j), e in by_index.items():
        if (j, i) in by_index:
            assert e.analytic == pytest.approx(by_index[(j, i)].numeric, rel=1e-5)


def test_a_wrong_function_deep_in_a_graph_is_named_not_the_last_op():
    x = leaf([0.4, -0.7, 1.1])
    with pytest.raises(GradcheckError, match="comes from Cube") as caught:
        gradcheck(lambda t: (Cube.apply(t * 0.5) + t).tanh().sum(), x)
    assert caught.value.report.last_op == "SumBackward0"


# ---- hints ------------------------------------------------------------------------------------------


def test_relu_at_zero_gets_a_kink_hint():
    x = engine.tensor([0.0, 1.0, -2.0], dtype=engine.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda t: t.relu(), x)
    text = str(caught.value)
    assert "input 0 (shape (3,)) element (0,)" in text
    assert "kink" in text and "relu/abs/max/min/clamp" in text
    (first,) = caught.value.report.inputs[0].worst
    assert first.index == (0,) and first.analytic == 0.0
    assert first.hint.startswith("kink: left slope 0, right slope")
    # away from the kink it passes
    assert gradcheck(lambda t: t.relu(), leaf([0.5, 1.0, -2.0])) is True


def test_value_relu_and_leaky_relu_at_zero_get_a_kink_hint():
    for fn in (lambda v: v.relu(), lambda v: v.leaky_relu(0.1)):
        report = gradcheck(fn, Value(0.0), raise_on_failure=False)
        assert not report and "kink" in str(report)
    # abs at 0: the central difference averages -1 and 1 to 0, the slope abs takes there: it passes
    assert gradcheck(lambda v: v.abs(), Value(0.0)) is True


def test_log_of_a_negative_tensor_gets_a_domain_hint():
    report = gradcheck(lambda t: t.log(), leaf([-1.0, 2.0]), raise_on_failure=False)
    assert not report
    text = str(report)
    assert "output element (0,) is nan" in text
    assert "outside an op's domain (log/sqrt of a negative" in text


def test_log_of_a_negative_value_gets_a_domain_hint():
    report = gradcheck(lambda v: v.log(), Value(-1.0), raise_on_failure=False)
    assert not report and report.error.startswith("fn raised DomainError")
    assert "outside an op's domain" in str(report)
    with pytest.raises(GradcheckError, match="log is defined for x > 0"):
        gradcheck(lambda v: v.log(), Value(-1.0))


def test_a_value_within_eps_of_a_domain_edge_is_explained():
    report = gradcheck(lambda v: v.log(), Value(1e-7), raise_on_failure=False)
    assert not report and "within eps of a domain's edge" in str(report)


# ---- fast mode ---------------------------------------------------------------------------------------


def test_fast_mode_catches_a_wrong_backward_on_a_big_input_with_few_evaluations():
    rng = np.random.default_rng(1)
    x = leaf(rng.uniform(-1, 1, (200, 200)))
    fn = Counting(lambda t: Cube.apply(t))
    with pytest.raises(GradcheckError, match="directional derivative") as caught:
        gradcheck(fn, x, fast=True)
    report = caught.value.report
    assert report.mode == "fast" and report.culprit == "Cube"
    analytic, numeric = report.inputs[0].directional
    assert analytic == pytest.approx(2 * numeric, rel=1e-4)
    # one analytic pass and two evaluations per input; full mode needs two per element
    assert fn.calls == report.evaluations == 3 < 2 * x.numel()
    good = Counting(lambda t: GoodCube.apply(t).tanh())
    assert gradcheck(good, x, fast=True) is True and good.calls == 3


def test_full_mode_evaluates_fn_twice_per_element():
    fn = Counting(lambda a, b: a * b)
    report = gradcheck(fn, leaf(np.ones((2, 3))), leaf(np.ones(3)), raise_on_failure=False)
    assert report and fn.calls == report.evaluations == 1 + 2 * (6 + 3)


def test_fast_mode_on_values():
    assert gradcheck(lambda x, y: (x * y).tanh(), Value(0.3), Value(-0.8), fast=True) is True
    report = gradcheck(lambda x: x.relu(), Value(0.0), fast=True, raise_on_failure=False)
    assert not report and "kink" in str(report)


# ---- dtype-aware defaults --------------------------------------------------------------------------------


def test_float32_inputs_are_checked_in_float64():
    x = engine.tensor([0.3, -1.2, 2.0], requires_grad=True)  # float32
    report = gradcheck(lambda t: (t * t).sin(), x, raise_on_failure=False)
    assert report and (report.dtype, report.eps, report.atol, report.rtol) == ("float64", 1e-6, 1e-5, 1e-3)
    assert "float64, eps 1e-06, atol 1e-05, rtol 0.001" in str(report)


def test_a_function_that_computes_in_float32_gets_float32_defaults():
    x = engine.tensor([0.3, -1.2, 2.0], requires_grad=True)
    fn = lambda t: (t.float() * t.float()).sin()  # noqa: E731
    report = gradcheck(fn, x, raise_on_failure=False)
    assert report and (report.dtype, report.eps, report.atol, report.rtol) == ("float32", 1e-3, 1e-2, 1e-2)
    # with float64's step the float32 rounding swamps the difference: the default is what makes it pass
    assert not gradcheck(fn, x, eps=1e-6, atol=1e-5, rtol=1e-3, raise_on_failure=False)


# ---- bad input is one line ---------------------------------------------------------------------------------


def test_bad_calls_are_one_line_errors():
    with pytest.raises(GradcheckError, match="no input requires grad"):
        gradcheck(lambda t: t, engine.tensor([1.0]))
    with pytest.raises(GradcheckError, match="fn must return a tensor"):
        gradcheck(lambda t: 1.0, leaf([1.0]))
    with pytest.raises(GradcheckError, match="mix Values and tensors"):
        gradcheck(lambda v, t: v, Value(1.0), leaf([1.0]))
    with pytest.raises(GradcheckError, match="fn must return a Value"):
        gradcheck(lambda v: "x", Value(1.0))
