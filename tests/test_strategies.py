"""``engine.testing.strategies`` draws valid inputs, and the pytest plugin gives any suite its profiles
and the ``device`` fixture.

The tests here take ``device`` from the plugin itself (no parametrize): the project tests its product.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import engine
from engine import Value
from engine.testing import assert_close, check_paths
from engine.testing import strategies as es

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BOX = (-2.0, 2.0)


def test_the_old_names_still_work():
    # What tests/ used from the old ``strategies`` object, now the module's functions.
    import engine.testing

    assert engine.testing.strategies is es
    for name in ("shapes", "tensors", "special_floats", "scalars", "foreign_arrays"):
        assert callable(getattr(es, name)), name
    assert isinstance(find(es.foreign_arrays(dtype="float64"), lambda a: a.size > 1), np.ndarray)
    assert math.isnan(find(es.special_floats(), lambda x: isinstance(x, float) and math.isnan(x)))


@SETTINGS
@given(v=es.values(min_value=-1.5, max_value=0.25))
def test_values_are_leaves_in_range(v):
    assert isinstance(v, Value) and v.parents == () and v.grad == 0.0
    assert -1.5 <= v.data <= 0.25


@SETTINGS
@given(data=st.data())
def test_tensors_have_the_asked_shape_dtype_device_and_elements(device, data):
    dtype = data.draw(st.sampled_from(["float32", "float64", "int64", "bool"]))
    shape = data.draw(es.shapes(max_dims=3))
    t = data.draw(es.tensors(shape=shape, dtype=dtype, device=device, requires_grad=True))
    assert tuple(t.shape) == shape and t.dtype.name == dtype and t.device.type == device
    assert t.requires_grad == (dtype.startswith("float"))
    if dtype.startswith("float"):
        assert np.all(np.abs(t.detach().numpy()) <= 3)
    u = data.draw(es.tensors(shape=(2, 2), elements=st.floats(0.5, 1.0), device=device))
    assert np.all((u.numpy() >= 0.5) & (u.numpy() <= 1.0))


@SETTINGS
@given(shapes=es.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(device, shapes):
    assert len(shapes) == 3
    expected = np.broadcast_shapes(*shapes)
    a, b, c = (engine.ones(*s, device=device) if s else engine.tensor(1.0, device=device) for s in shapes)
    assert tuple((a + b * c).shape) == expected


@SETTINGS
@given(pair=es.matmul_shapes())
def test_matmul_shapes_multiply(device, pair):
    a_shape, b_shape = pair
    a, b = np.ones(a_shape), np.ones(b_shape)
    expected = np.matmul(a, b).shape  # numpy's rules are PyTorch's here
    out = engine.tensor(a, device=device) @ engine.tensor(b, device=device)
    assert tuple(out.shape) == expected


def test_matmul_shapes_cover_vectors_and_batches():
    find(es.matmul_shapes(), lambda p: len(p[0]) == 1 and len(p[1]) == 1)
    find(es.matmul_shapes(), lambda p: len(p[0]) == 1 and len(p[1]) == 2)
    find(es.matmul_shapes(), lambda p: len(p[0]) >= 3 and len(p[1]) >= 3 and p[0][:-2] != p[1][:-2])


# ---- expressions ----------------------------------------------------------------------------------

NAMESPACE = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh, "abs": abs,
             "sigmoid": lambda t: 1.0 / (1.0 + math.exp(-t)), "relu": lambda t: max(t, 0.0)}


@settings(max_examples=150, deadline=None)
@given(expr=es.expressions(min_value=BOX[0], max_value=BOX[1]), x=es.floats(*BOX), y=es.floats(*BOX))
def test_expressions_are_finite_in_their_box_and_read_as_python(expr, x, y):
    value = expr(x=x, y=y)
    lo, hi = expr.interval
    assert math.isfinite(value) and lo - 1e-9 * (1 + abs(lo)) <= value <= hi + 1e-9 * (1 + abs(hi))
    assert abs(value) <= es.LIMIT
    # str(expr) is the expression: Python reads it back to the same number.
    again = eval(str(expr), dict(NAMESPACE), {"x": x, "y": y})  # noqa: S307 (our own text)
    assert math.isclose(again, value, rel_tol=1e-12, abs_tol=1e-12), str(expr)


@SETTINGS
@given(expr=es.expressions(), points=st.lists(st.tuples(es.floats(*BOX), es.floats(*BOX)), min_size=1, max_size=4))
def test_expressions_agree_on_the_value_and_tensor_paths(device, expr, points):
    # engine.testing.check_paths: every node's value and d out/d node on the Value path and on the
    # device's tensor path (all points at once), and central differences away from relu/abs kinks.
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    report = check_paths(expr, devices=[device], x=xs, y=ys)
    assert report.points == len(points) and report.paths == ["value", device]
    for x, y in points:  # the domain guards keep every derivative finite too, not only the values
        v, leaves = expr.value_graph(x=x, y=y)
        v.backward()
        assert all(math.isfinite(leaf.grad) for leaf in leaves.values()), str(expr)


@SETTINGS
@given(expr=es.expressions(variables=("a", "b", "c"), max_depth=2, max_nodes=5))
def test_expressions_respect_variables_and_depth(expr):
    assert set(expr.variables) <= {"a", "b", "c"}
    assert max(n.depth for n in expr.nodes()) <= 2
    assert expr.size <= 5 + 5  # each step adds at most one node and one shift


def test_expressions_reuse_subexpressions_and_use_every_op():
    reused = find(es.expressions(), lambda e: e.reuses)
    assert reused.reuses and reused.size <= 3, str(reused)
    for op in es.EXPRESSION_OPS:
        find(es.expressions(), lambda e, op=op: any(n.op == op for n in e.nodes()))


def test_domain_guards_shift_log_sqrt_and_denominators():
    for op in ("log", "sqrt", "div"):
        e = find(es.expressions(ops=(op,)), lambda e, op=op: any(n.op == op for n in e.nodes()))
        guarded = [n.args[-1] for n in e.nodes() if n.op == op]
        for arg in guarded:
            lo, hi = arg.interval
            assert lo >= 0.5 or hi <= -0.5, (str(e), arg.interval)
    assert str(find(es.expressions(ops=("log",)), lambda e: e.op == "log")) == "log(x + 3)"


def test_a_planted_bug_shrinks_to_a_small_expression(monkeypatch):
    # Plant a wrong derivative in the scalar path: d/dx sigmoid = s instead of s (1 - s).
    def bad_sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data))
        return Value._result(s, (self,), (s,), "sigmoid")

    monkeypatch.setattr(Value, "sigmoid", bad_sigmoid)

    def paths_disagree(expr) -> bool:
        report = check_paths(expr, devices=["numpy"], x=0.3, y=-0.7, draw=False, raise_on_failure=False)
        return not report and report.bad_path == "value"

    # Derandomized: find() draws the same examples on every run, so the shrunk result is the same too.
    found = find(es.expressions(), paths_disagree,
                 settings=settings(max_examples=500, database=None, derandomize=True))
    assert str(found) in ("sigmoid(x)", "sigmoid(y)"), str(found)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="identifiers"):
        es.expressions(variables=["1x"])
    with pytest.raises(ValueError, match="unknown op"):
        es.expressions(ops=("sin",))
    with pytest.raises(ValueError, match="min_value <= max_value"):
        es.values(min_value=1.0, max_value=0.0)
    with pytest.raises(ValueError, match="at least 1"):
        es.broadcastable_shapes(0)
    e = find(es.expressions(), lambda e: "y" in e.variables)
    with pytest.raises(ValueError, match="no value for variable"):
        e(x=1.0)


# ---- programs ---------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=es.programs())
def test_programs_run_finite_and_match_numpy(device, program):
    out = program.run(device=device)
    reference = program.run(*program.input_values)
    assert tuple(out.shape) == np.shape(reference)
    assert np.all(np.isfinite(reference))
    assert_close(out.detach().numpy(), np.asarray(reference), rtol=1e-9, atol=1e-9)
    text = str(program)
    assert len(text.splitlines()) == len(program.input_shapes) + len(program.steps)
    if out.requires_grad:
        inputs = program.inputs(device=device)
        program.run(*inputs).sum().backward()
        for t in inputs:
            assert t.grad is None or np.all(np.isfinite(t.grad.numpy()))


def test_programs_cover_the_ops_and_read_well():
    for op in es.PROGRAM_OPS:
        find(es.programs(), lambda p, op=op: any(s[0] == op for s in p.steps))
    p = find(es.programs(), lambda p: any(s[0] == "matmul" for s in p.steps))
    assert "@" in str(p) and str(p).startswith("t0: input of shape")


# ---- profiles and the plugin ----------------------------------------------------------------------


def test_profiles_are_registered():
    for name, examples in es.PROFILES.items():
        assert settings.get_profile(name).max_examples == examples
    assert settings.get_profile("ci").derandomize


def _pytest(tmp_path, body: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_a_user_suite_gets_the_plugin(tmp_path):
    # No conftest: the fixture and the profiles come from the installed entry point.
    body = """
        from hypothesis import settings

        def test_device(device):
            assert device in ("numpy", "c", "cuda")

        def test_profile():
            assert settings.default.max_examples == 100 and settings.default.derandomize
    """
    listed = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert "device [session scope]" in listed.stdout
    run = _pytest(tmp_path, body, "-q", "--hypothesis-profile", "ci", "--engine-devices", "numpy")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    run = _pytest(tmp_path, body, "--hypothesis-profile", "ci", "-v")
    assert "test_device[numpy]" in run.stdout and run.returncode == 0, run.stdout
    from engine.backends import c_available

    assert ("test_device[c]" in run.stdout) == c_available()[0]


def test_import_engine_does_not_import_hypothesis():
    code = ("import sys, engine, engine.testing, engine.testing.strategies\n"
            "assert 'hypothesis' not in sys.modules, 'hypothesis imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
