"""engine.testing's cross-checks, tested on every device with bugs planted where they would live.

* ``check_paths``: one scalar expression on the ``Value`` path, the tensor path of each device and
  central differences, node by node. A wrong derivative in a ``Value`` method, a wrong ``backward``
  of an ``engine.ops`` Op, or a wrong primitive in one device must each be found, blamed on the
  right path and node, and drawn with that node in red.
* ``assert_devices_agree``: one tensor function on every device (numpy the reference), outputs and
  gradients; it names the device, the array and the element.
* ``strategies.parse_expression``: the text ``check_paths`` reads is the text ``str(expr)`` writes.

The device lists include ``opaque`` (tests/opaque_backend.py): the checks pass there too, so nothing
in them reads a device array directly.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from tensor_helpers import DEVICES

import engine
from engine import Value
from engine.backends.c_backend import CBackend
from engine.errors import DeviceError, DomainError, EngineError, EngineTypeError, EngineValueError, ExpressionError
from engine.ops import elementwise as ew
from engine.testing import (
    AgreementReport,
    DevicesDisagreeError,
    PathReport,
    PathsDisagreeError,
    assert_devices_agree,
    check_paths,
)
from engine.testing import strategies as es
from engine.viz.renderer import find_renderer

needs_c = pytest.mark.skipif("c" not in DEVICES, reason="the C library is not built")
per_device = pytest.mark.parametrize("device", DEVICES)
RENDERER = find_renderer("svg") is not None  # `dot` (or graphviz-pure) draws SVG; else a .dot file is written
LECTURE = {"x": -2.0, "y": 5.0, "z": -4.0}  # (x + y)*z = -12; d/dx = d/dy = z = -4, d/dz = x + y = 3


@pytest.fixture(autouse=True)
def check_dir(tmp_path, monkeypatch):
    """Every drawing of this module goes to a fresh folder (ENGINE_CHECK_DIR), never to /tmp."""
    folder = tmp_path / "engine-check"
    monkeypatch.setenv("ENGINE_CHECK_DIR", str(folder))
    return folder


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def _plant_value_sigmoid(monkeypatch) -> None:
    """The Value path's sigmoid with d/dx = s instead of s (1 - s)."""

    def bad_sigmoid(self):
        s = _sigmoid(self.data)
        return Value._result(s, (self,), (s,), "sigmoid")

    monkeypatch.setattr(Value, "sigmoid", bad_sigmoid)


def _row(report: PathReport, text: str):
    (row,) = [r for r in report.table if r.text == text]
    return row


def _drawn_nodes(svg: str) -> dict[str, bool]:
    """Each node of an SVG drawing, by its first text line: whether it is drawn in the highlight color."""
    nodes = {}
    for block in svg.split("<g id=")[1:]:
        if 'class="node"' not in block.split(">", 1)[0]:
            continue
        labels = re.findall(r">([^<>]+)</text>", block)
        if labels:
            nodes[labels[0]] = "firebrick" in block
    return nodes


# ---- check_paths: what agrees ---------------------------------------------------------------------


def test_the_lecture_graph_agrees_on_every_path():
    report = check_paths("(x + y)*z", devices=DEVICES, **LECTURE)
    assert isinstance(report, PathReport) and report and report.passed and report.failure == ""
    assert report.paths == ["value", *DEVICES] and report.points == 1 and report.numeric_skipped == 0
    assert set(report.worst) == set(report.paths)
    assert all(0 <= err < 1e-8 for err in report.worst.values()), report.worst  # central differences' error
    assert all(type(err) is float for err in report.worst.values())
    assert str(report).startswith(f"check_paths: (x + y)*z: {len(DEVICES) + 1} paths agree at 1 point(s) "
                                  "(worst relative error: value ")
    assert report.table == [] and report.bad_path == "" and report.drawing == ""


@per_device
def test_each_device_alone_and_the_ways_to_give_values(device):
    by_keywords = check_paths("(x + y)*z", devices=[device], **LECTURE)
    by_mapping = check_paths(es.parse_expression("(x + y)*z"), inputs=LECTURE, devices=device)
    for report in (by_keywords, by_mapping):
        assert report.passed and report.paths == ["value", device]
        assert report.worst["value"] == report.worst[device]  # the same float64 arithmetic, the same error


def test_many_points_at_once_and_a_number_broadcast_against_them():
    x = np.linspace(-2.0, 2.0, 41)
    y = np.cos(np.arange(41.0))
    text = "log(x*y + 5)/(y*y + 1) - tanh(x)*sigmoid(y) + (x*x + 1)**(-0.5)"
    report = check_paths(text, devices=DEVICES, x=x, y=list(y))
    assert report.passed and report.points == 41 and report.numeric_skipped == 0
    assert max(report.worst.values()) < 1e-6, report.worst
    assert check_paths("x*y + exp(y)", devices=DEVICES, x=0.5, y=(0.1, -0.2, 0.3)).points == 3


def test_values_for_variables_the_expression_does_not_read_are_ignored():
    # A property test hands x and y to every expression drawn over them; some read only x.
    assert check_paths("x*x", devices=DEVICES, x=0.5, y=1.0).paths == ["value", *DEVICES]
    with pytest.raises(EngineValueError, match=r"^check_paths: x\*y reads x, y; no value for y \(given: x, yy\)$"):
        check_paths("x*y", x=1.0, yy=2.0)  # a misspelt name still fails: the one meant is missing


def test_kink_points_skip_central_differences_but_still_compare_value_and_tensor(monkeypatch):
    report = check_paths("relu(x)*y + abs(y - 1)", devices=DEVICES, x=[0.0, 1.0, -0.5], y=[0.5, 1.0005, 2.0])
    assert report.passed and report.points == 3 and report.numeric_skipped == 2  # relu at x = 0, abs at y ~ 1

    # The tensor relu with d/dx = 1 at x = 0 (Value says 0): only the Value-vs-tensor comparison can see it.
    def relu_backward(ctx, g):
        bk = ctx.backend
        return bk.where(bk.compare("lt", ctx.x, 0), 0.0, g), None

    monkeypatch.setattr(ew.Relu, "backward", staticmethod(relu_backward))
    assert check_paths("relu(x)*y", devices=DEVICES, x=[1.0, -1.0], y=2.0).passed  # right away from the kink
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("relu(x)*y", devices=DEVICES, x=[1.0, 0.0], y=2.0, draw=False)
    r = caught.value.report
    assert r.bad_path == DEVICES[0] and r.bad_node == "x" and r.point == {"x": 0.0, "y": 2.0}
    assert r.failure == (f"check_paths: the tensor path on {DEVICES[0]!r} gets d out/d(x) = 2.0; the Value path gives "
                         "0.0 (the backward of relu(x) is suspect)")
    assert _row(r, "x").numeric is None and "near kink" in str(caught.value)


# ---- check_paths: planted bugs, each blamed where it lives ------------------------------------------


def test_a_wrong_value_derivative_is_blamed_on_the_value_path(monkeypatch):
    _plant_value_sigmoid(monkeypatch)
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("relu(x)*sigmoid(y) + x", devices=DEVICES, x=0.5, y=0.3, draw=False)
    err, r = caught.value, caught.value.report
    assert isinstance(err, AssertionError) and isinstance(err, EngineError) and not r
    assert r.bad_path == "value" and r.bad_node == "y" and r.point == {"x": 0.5, "y": 0.3}
    s = _sigmoid(0.3)
    assert re.fullmatch(r"check_paths: the Value path gets d out/d\(y\) = 0\.287\d+; central differences give "
                        r"0\.122\d+ \(the backward of sigmoid\(y\) is suspect\)", r.failure), r.failure
    y = _row(r, "y")
    assert y.grads["value"] == pytest.approx(0.5 * s)  # relu(0.5) * s: the planted derivative
    for path in DEVICES:  # every device is right, and agrees with central differences
        assert y.grads[path] == pytest.approx(0.5 * s * (1 - s), rel=1e-12)
    assert y.numeric == pytest.approx(0.5 * s * (1 - s), rel=1e-8)
    assert [row.text for row in r.table] == ["x", "relu(x)", "y", "sigmoid(y)", "relu(x)*sigmoid(y)",
                                             "relu(x)*sigmoid(y) + x"]
    lines = str(err).splitlines()
    assert lines[0] == r.failure
    assert lines[1:3] == ["  expression: relu(x)*sigmoid(y) + x", "  at: x=0.5, y=0.3"]
    marked = [line for line in lines if line.endswith(" <-")]
    assert len(marked) == 1 and marked[0].split()[0] == "y"
    assert r.drawing == "" and "drawing:" not in str(err)


def test_the_lecture_graph_with_a_wrong_value_product_rule(monkeypatch):
    # d(a*b)/db = b instead of a: at the lecture's point d out/dz comes out -4 instead of x + y = 3.
    def bad_mul(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value._result(self.data * other.data, (self, other), (other.data, other.data), "*")

    monkeypatch.setattr(Value, "__mul__", bad_mul)
    report = check_paths("(x + y)*z", devices=DEVICES, draw=False, raise_on_failure=False, **LECTURE)
    assert not report and report.bad_path == "value" and report.bad_node == "z"
    assert report.failure == ("check_paths: the Value path gets d out/d(z) = -4.0; central differences give "
                              f"{_row(report, 'z').numeric!r} (the backward of (x + y)*z is suspect)")
    assert _row(report, "z").numeric == pytest.approx(3.0)
    assert all(_row(report, "z").grads[d] == 3.0 for d in DEVICES)


@per_device
def test_a_wrong_tensor_backward_is_blamed_on_the_device_and_the_node(device, monkeypatch):
    # tanh's backward as g * y instead of g * (1 - y^2), for every device (engine/ops is shared).
    monkeypatch.setattr(ew.Tanh, "backward", staticmethod(lambda ctx, g: (ctx.backend.binary("mul", g, ctx.y), None)))
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("tanh(x*y) + y", devices=[device], x=0.5, y=0.3, draw=False)
    r = caught.value.report
    assert r.bad_path == device and r.bad_node == "x*y"
    assert r.failure.startswith(f"check_paths: the tensor path on {device!r} gets d out/d(x*y) = ")
    assert r.failure.endswith("(the backward of tanh(x*y) is suspect)")
    row = _row(r, "x*y")
    assert row.grads[device] == pytest.approx(math.tanh(0.15), rel=1e-12)
    assert row.grads["value"] == pytest.approx(1 - math.tanh(0.15) ** 2, rel=1e-12)
    assert row.numeric == pytest.approx(row.grads["value"], rel=1e-8)


@per_device
def test_a_wrong_product_rule_in_the_tensor_op(device, monkeypatch):
    # Mul's backward with d/da = 1 instead of b: the lecture graph's x + y gets 1 instead of z = -4.
    def mul_backward(ctx, g):
        return g, ctx.backend.binary("mul", g, ctx.a)

    monkeypatch.setattr(ew.Mul, "backward", staticmethod(mul_backward))
    report = check_paths("(x + y)*z", devices=[device], draw=False, raise_on_failure=False, **LECTURE)
    assert not report and report.bad_path == device and report.bad_node == "x + y"
    assert report.failure == (f"check_paths: the tensor path on {device!r} gets d out/d(x + y) = 1.0; central "
                              f"differences give {_row(report, 'x + y').numeric!r} (the backward of (x + y)*z is "
                              "suspect)")
    assert _row(report, "z").grads[device] == 3.0  # d/db was left right, and z is right


def _plant_c_exp(monkeypatch, factor: float = 1.5) -> None:
    """The c backend's exp, off by ``factor`` at element 1 of arrays of more than one element."""
    unary = CBackend.unary

    def bad_unary(self, op, x, alpha=0.0):
        out = unary(self, op, x, alpha)
        if op == "exp" and out.size > 1:
            out = out.copy()
            out.reshape(-1)[1] *= factor
        return out

    monkeypatch.setattr(CBackend, "unary", bad_unary)


@needs_c
def test_a_bug_in_one_device_is_blamed_on_that_device(monkeypatch):
    _plant_c_exp(monkeypatch)
    x, y = [0.5, 1.0, -1.0], [0.3, 2.0, 1.0]
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("exp(x)*y", devices=DEVICES, x=x, y=y, draw=False)
    r = caught.value.report
    assert r.bad_path == "c" and r.bad_node == "exp(x)" and r.point == {"x": 1.0, "y": 2.0}  # element 1
    computed = re.fullmatch(r"check_paths: the tensor path on 'c' computes exp\(x\) = (\S+), the float evaluation "
                            + re.escape(repr(math.e)), r.failure)
    assert computed and float(computed[1]) == pytest.approx(1.5 * math.e, rel=1e-15), r.failure
    x_row = _row(r, "x")
    assert x_row.grads["numpy"] == pytest.approx(2 * math.e) and x_row.grads["c"] == pytest.approx(2 * 1.5 * math.e)
    # The same device, the same bug, through assert_devices_agree: the device, the array and the element.
    with pytest.raises(DevicesDisagreeError) as caught:
        assert_devices_agree(lambda t: t.exp() * 2, np.array(x), devices=DEVICES)
    report = caught.value.report
    first = str(caught.value).splitlines()[0]
    assert first.startswith("assert_devices_agree: output 0 on 'c' differs from 'numpy' at index (1,): ")
    assert first.endswith("1 of 3 elements differ")
    assert {c.device for c in report.failures()} == {"c"}
    assert [c.what for c in report.failures()] == ["output 0", "gradient of input 0"]
    assert report.worst_rel_error("c") == pytest.approx(0.5)
    assert all(report.worst_rel_error(d) == 0.0 for d in DEVICES if d != "c")
    assert "  c: 2 of 2 arrays differ; worst relative difference 0.5" in str(caught.value)


@needs_c
def test_a_gradient_only_bug_in_one_device(monkeypatch):
    # c's multiply 1% off at element 0: exp's forward is right, its backward (g * y) is not.
    binary = CBackend.binary

    def bad_binary(self, op, a, b):
        out = binary(self, op, a, b)
        if op == "mul" and out.size > 1:
            out = out.copy()
            out.reshape(-1)[0] *= 1.01
        return out

    monkeypatch.setattr(CBackend, "binary", bad_binary)
    with pytest.raises(DevicesDisagreeError) as caught:
        assert_devices_agree(lambda t: t.exp(), np.array([0.25, -0.5, 1.0]), devices=DEVICES)
    fails = caught.value.report.failures()
    assert [(c.device, c.what) for c in fails] == [("c", "gradient of input 0")]
    assert "gradient of input 0 on 'c' differs from 'numpy' at index (0,)" in fails[0].detail
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("exp(x) + y", devices=DEVICES, x=[0.25, -0.5], y=[1.0, 2.0], draw=False)
    assert caught.value.report.bad_path == "c" and caught.value.report.bad_node == "x"
    assert "(the backward of exp(x) is suspect)" in caught.value.report.failure


@needs_c
def test_tolerances_are_the_callers_to_loosen(monkeypatch):
    _plant_c_exp(monkeypatch, factor=1 + 1e-7)  # a float32-sized error in a float64 result
    x = np.array([0.5, 1.0, -1.0])
    assert not assert_devices_agree(lambda t: t.exp(), x, devices=DEVICES, raise_on_failure=False)
    loose = assert_devices_agree(lambda t: t.exp(), x, devices=DEVICES, rtol=1e-6)
    assert isinstance(loose, AgreementReport) and loose and 5e-8 < loose.worst_rel_error("c") < 2e-7
    assert not check_paths("exp(x)", devices=DEVICES, x=x, draw=False, raise_on_failure=False)
    assert check_paths("exp(x)", devices=DEVICES, x=x, rtol=1e-6)


# ---- the drawing -------------------------------------------------------------------------------------


def test_the_failure_is_drawn_with_the_bad_node_in_red(monkeypatch, check_dir):
    _plant_value_sigmoid(monkeypatch)
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("relu(x)*sigmoid(y) + x", devices=DEVICES, x=0.5, y=0.3)
    drawing = caught.value.report.drawing
    files = list(check_dir.iterdir())
    assert [str(f) for f in files] == [drawing] and drawing.startswith(str(check_dir))
    assert drawing.endswith(".svg" if RENDERER else ".dot")
    assert str(caught.value).splitlines()[-1] == f"  drawing: {drawing} (the node in red)"
    text = files[0].read_text()
    assert "firebrick" in text and "the backward of sigmoid(y) is suspect" in text  # the title says why
    if RENDERER:
        nodes = _drawn_nodes(text)
        assert nodes["y"] and nodes["sigmoid"]  # the bad node and the op whose backward is suspect
        assert not any(nodes[n] for n in ("x", "relu", "relu(x)", "sigmoid(y)", "*", "+")), nodes
    # The same failure again: the same file (named by expression, point and path), not a second one.
    with pytest.raises(PathsDisagreeError):
        check_paths("relu(x)*sigmoid(y) + x", devices=DEVICES, x=0.5, y=0.3)
    assert [str(f) for f in check_dir.iterdir()] == [drawing]


def test_without_a_renderer_the_dot_text_is_written(monkeypatch, check_dir):
    _plant_value_sigmoid(monkeypatch)
    monkeypatch.setattr("engine.viz.renderer.find_renderer", lambda fmt="svg": None)
    with pytest.raises(PathsDisagreeError) as caught:
        check_paths("sigmoid(y)*x", devices=["numpy"], x=0.5, y=0.3)
    drawing = caught.value.report.drawing
    assert drawing.endswith(".dot") and [str(f) for f in check_dir.iterdir()] == [drawing]
    source = open(drawing).read()
    assert source.lstrip().startswith("digraph") and "firebrick" in source


def test_draw_false_writes_nothing_and_draw_a_path_writes_there(monkeypatch, check_dir, tmp_path):
    _plant_value_sigmoid(monkeypatch)
    report = check_paths("sigmoid(x)", devices=DEVICES, x=0.3, draw=False, raise_on_failure=False)
    assert not report and report.drawing == "" and not check_dir.exists()
    target = tmp_path / "pictures" / "path.svg"
    report = check_paths("sigmoid(x)", devices=DEVICES, x=0.3, draw=target, raise_on_failure=False)
    assert report.drawing == str(target if RENDERER else target.with_suffix(".dot"))
    assert "firebrick" in open(report.drawing).read() and not check_dir.exists()
    assert check_paths("sigmoid(x)", devices=DEVICES, x=0.3, draw=tmp_path / "again.svg",
                       raise_on_failure=False).drawing  # a failure: drawn
    monkeypatch.undo()  # the bug gone: a check that passes draws nothing
    assert check_paths("sigmoid(x)", devices=DEVICES, x=0.3, draw=tmp_path / "passed.svg")
    assert not (tmp_path / "passed.svg").exists() and not (tmp_path / "passed.dot").exists()


def test_under_hypothesis_the_shrunk_expression_is_reported_and_drawn_once(monkeypatch, check_dir):
    _plant_value_sigmoid(monkeypatch)
    failing = []  # every failing example hypothesis ran, while searching, shrinking and at the end

    @settings(max_examples=100, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(expr=es.expressions(), x=es.floats(), y=es.floats())
    def paths_agree(expr, x, y):
        try:
            check_paths(expr, devices=DEVICES, x=x, y=y)
        except PathsDisagreeError as e:
            failing.append((e.report.expression, tuple(e.report.point.items())))
            raise

    with pytest.raises(PathsDisagreeError) as caught:
        paths_agree()
    r = caught.value.report
    assert r.expression in ("sigmoid(x)", "sigmoid(y)"), r.expression  # shrunk to the op at fault
    assert f"  expression: {r.expression}" in str(caught.value).splitlines()
    assert r.bad_path == "value" and r.bad_node == r.expression[len("sigmoid("):-1]
    assert len(set(failing)) > 2 and failing[-1] == (r.expression, tuple(r.point.items()))  # shrank through many...
    assert [str(f) for f in check_dir.iterdir()] == [r.drawing]  # ...and drew only the final one


# ---- check_paths: arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_paths("x*y", devices=["tpu"], x=1, y=2), DeviceError, r"^check_paths: .*'tpu'"),
    (lambda: check_paths("x*y", devices=[], x=1, y=2), EngineValueError, r"^check_paths: no device named"),
    (lambda: check_paths("x*y", x=1), EngineValueError, r"^check_paths: x\*y reads x, y; no value for y \(given: x\)"),
    (lambda: check_paths("x*y", {"x": 1, "y": 2}, y=2), EngineTypeError, r"as inputs=\{\.\.\.\} or as keywords, not"),
    (lambda: check_paths("x*y", [("x", 1)]), EngineTypeError, r"^check_paths: inputs must map variable names"),
    (lambda: check_paths("x*y", x=math.nan, y=2), EngineValueError, r"^check_paths: the inputs must be finite$"),
    (lambda: check_paths("x*y", x=[1, 2], y=[1, 2, 3]), EngineValueError, r"1-D sequences of one length, got x \(2,\)"),
    (lambda: check_paths("x*y", x=[[1, 2]], y=1), EngineValueError, r"a number or a non-empty 1-D sequence"),
    (lambda: check_paths("x*y", x=[], y=[]), EngineValueError, r"a number or a non-empty 1-D sequence"),
    (lambda: check_paths("x*y", x="one", y=2), EngineValueError, r"a number or a 1-D sequence of numbers, got x='one'"),
    (lambda: check_paths(3.0, x=1), EngineTypeError, r"^check_paths: expr must be an Expression or its text"),
    (lambda: check_paths("x +", x=1), ExpressionError, r"^parse_expression: 'x \+' is not an expression"),
    (lambda: check_paths("log(x)", x=-1.0), DomainError, r"^check_paths: log\(x\) is not defined at x=-1\.0"),
    (lambda: check_paths("1/x", x=[1.0, 0.0]), DomainError, r"^check_paths: 1/x is not defined at x=0\.0"),
    (lambda: check_paths("exp(exp(x))", x=7.0), DomainError, r"not defined at x=7\.0 \(math range error\)"),
    (lambda: check_paths("x**0.5", x=-1.0), DomainError, r"not defined at x=-1\.0 \(a complex number\)"),
], ids=["unknown device", "no device", "missing variable", "inputs and keywords", "inputs not a mapping", "nan",
        "ragged", "2-d", "empty", "a string", "not an expression", "unparsable text", "log of a negative",
        "division by zero", "overflow", "complex power"])
def test_bad_arguments_to_check_paths_are_one_line_errors(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert isinstance(caught.value, EngineError) and "\n" not in str(caught.value)


# ---- assert_devices_agree -------------------------------------------------------------------------------


def _others(t) -> bool:
    """Whether ``t`` lives on a device other than the reference (numpy): where a test plants a difference."""
    return str(t.device) != "numpy"


def test_devices_agree_on_outputs_and_gradients_with_extra_arguments():
    a = np.random.default_rng(0).standard_normal((3, 4))
    b = np.random.default_rng(1).standard_normal((4, 2))
    report = assert_devices_agree(lambda p, q, dim: ((p @ q).tanh().sum(dim), p.softmax(dim)), a, b, 1,
                                  devices=DEVICES)
    assert report and report.reference == "numpy" and report.devices == DEVICES
    whats = [c.what for c in report.comparisons if c.device == DEVICES[-1]]
    assert whats == ["output 0", "output 1", "gradient of input 0", "gradient of input 1"]
    assert all(report.worst_rel_error(d) < 1e-12 for d in DEVICES)
    assert str(report).startswith(f"assert_devices_agree: {', '.join(DEVICES[1:])} agree with 'numpy'")
    # A tensor input keeps its requires_grad: no gradient to compare; float32 compared at float32 tolerances.
    t = engine.tensor(a, dtype=engine.float32)
    report = assert_devices_agree(lambda p: p.exp().sum(0), t, devices=DEVICES)
    assert [c.what for c in report.comparisons if c.device == DEVICES[-1]] == ["output 0"]


def test_nan_and_inf_agree_in_the_same_places_only():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    with np.errstate(all="ignore"):
        same = assert_devices_agree(lambda t: t.log(), x, devices=DEVICES)  # nan, -inf, 0, log 2; grads to inf
        assert same and all(same.worst_rel_error(d) == 0.0 for d in DEVICES)
        moved = assert_devices_agree(lambda t: (t.abs() if _others(t) else t).log(), x, devices=DEVICES,
                                     grads=False, raise_on_failure=False)
    assert not moved
    assert moved.failures()[0].detail.startswith(f"output 0 on {DEVICES[1]!r} differs from 'numpy' at index (0,): "
                                                 "0.0 vs nan")
    with np.errstate(all="ignore"):
        flipped = assert_devices_agree(lambda t: (-t if _others(t) else t) / engine.zeros_like(t),
                                       np.array([1.0, -2.0, 0.0]), devices=DEVICES, grads=False,
                                       raise_on_failure=False)
    assert "at index (0,): -inf vs inf" in flipped.failures()[0].detail
    assert "2 of 3 elements differ" in flipped.failures()[0].detail  # nan at 0/0 on both: agreed


def test_integer_outputs_are_compared_exactly():
    big = np.array([10**12, 5, -3], dtype=np.int64)
    report = assert_devices_agree(lambda t: t * 3 - 7, big, devices=DEVICES)
    assert report and [c.what for c in report.comparisons if c.device == DEVICES[-1]] == ["output 0"]
    with pytest.raises(DevicesDisagreeError) as caught:  # one in 3e12: inside any float tolerance, still wrong
        assert_devices_agree(lambda t: t * 3 + (1 if _others(t) else 0), big, devices=DEVICES)
    assert str(caught.value).splitlines()[0] == (
        f"assert_devices_agree: output 0 on {DEVICES[1]!r} differs from 'numpy' at index (0,): 3000000000001 vs "
        "3000000000000 (exact dtype int64); 3 of 3 elements differ")
    bools = assert_devices_agree(lambda t: t > 0.5, np.array([0.2, 0.7]), devices=DEVICES)
    assert bools.passed


@pytest.mark.parametrize("fn, detail", [
    (lambda t: t.float() if _others(t) else t, "output 0 has dtype float32 on {d!r} but float64 on 'numpy'"),
    (lambda t: t.sum(0) if _others(t) else t.sum(0, keepdim=True),
     "output 0 has shape (3,) on {d!r} but (1, 3) on 'numpy'"),
    (lambda t: t if _others(t) else (t, t * 2), "fn returned 1 outputs on {d!r} but 2 on 'numpy'"),
    (lambda t: t.reshape(7) if _others(t) else t, "fn raised ShapeError on {d!r} but not on 'numpy': "),
    (lambda t: (t * t if _others(t) else t * 2).detach() * t, None),
], ids=["dtype", "shape", "number of outputs", "raises on one device", "values and gradients"])
def test_what_else_can_differ_between_devices(fn, detail):
    x = np.arange(6.0).reshape(2, 3) / 7
    report = assert_devices_agree(fn, x, devices=DEVICES, raise_on_failure=False)
    d = DEVICES[1]
    assert not report and {c.device for c in report.failures()} == set(DEVICES[1:])
    if detail is not None:
        assert report.failures()[0].detail.startswith(detail.format(d=d)), report.failures()[0].detail
    else:  # outputs and gradients both differ; the first named is the output
        assert [c.what for c in report.failures() if c.device == d] == ["output 0", "gradient of input 0"]


def test_a_gradient_on_one_device_only_is_named():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    report = assert_devices_agree(lambda p, q: p * q if _others(p) else p * 2, a, b, devices=DEVICES,
                                  raise_on_failure=False)
    details = [c.detail for c in report.failures() if c.device == DEVICES[1]]
    assert f"gradient of input 1 exists on {DEVICES[1]!r} but is None on 'numpy'" in details


def test_an_error_on_the_reference_device_is_raised_as_it_is():
    with pytest.raises(engine.ShapeError):
        assert_devices_agree(lambda t: t.reshape(7), np.zeros(3), devices=DEVICES)


@pytest.mark.parametrize("call, error, message", [
    (lambda: assert_devices_agree(3, np.zeros(2)), EngineTypeError, r"^assert_devices_agree: fn must be callable, got"),
    (lambda: assert_devices_agree(lambda t: 1.0, np.zeros(2)), EngineTypeError,
     r"^assert_devices_agree: fn must return a tensor or a tuple of tensors; output 0 is float$"),
    (lambda: assert_devices_agree(lambda t: t, np.zeros(2), devices=["numpy", "tpu"]), DeviceError,
     r"^assert_devices_agree: .*'tpu'"),
    (lambda: assert_devices_agree(lambda t: t, np.zeros(2), devices=""), EngineValueError,
     r"^assert_devices_agree: no device named"),
    (lambda: assert_devices_agree(lambda t: t, np.zeros(2), devices=3), EngineTypeError,
     r"^assert_devices_agree: devices must be a list of device names, got int$"),
], ids=["fn not callable", "output not a tensor", "unknown device", "no device", "devices not a list"])
def test_bad_arguments_to_assert_devices_agree_are_one_line_errors(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


# ---- parse_expression ------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=es.expressions(variables=("x", "y", "z"), max_nodes=10, max_depth=5), x=es.floats(), y=es.floats(),
       z=es.floats())
def test_parse_expression_reads_back_what_str_writes(expr, x, y, z):
    again = es.parse_expression(str(expr))
    assert str(again) == str(expr) and again.variables == expr.variables
    env = {k: v for k, v in {"x": x, "y": y, "z": z}.items() if k in expr.variables}
    assert again(**env) == expr(**env)  # the same operations in the same order: the same float
    assert again.interval == pytest.approx(expr.interval, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("text, written, at, value", [
    ("(x + y)*z", "(x + y)*z", {"x": -2, "y": 5, "z": -4}, -12.0),
    ("-x**2", "-x**2", {"x": 3}, -9.0),  # Python's precedence: -(x**2)
    ("(-x)**2", "(-x)**2", {"x": 3}, 9.0),
    ("x - (y - x)", "x - (y - x)", {"x": 1, "y": 5}, -3.0),
    ("x/(y*2)", "x/(y*2)", {"x": 1, "y": 2}, 0.25),
    ("x ** -1 + +y", "x**(-1) + y", {"x": 4, "y": 1}, 1.25),
    ("log(x*y + 5) - sqrt(abs(x))", "log(x*y + 5) - sqrt(abs(x))", {"x": -4, "y": 1}, -2.0),
    ("relu(x) * sigmoid(0*y)", "relu(x)*sigmoid(0*y)", {"x": 3, "y": 1}, 1.5),
])
def test_parse_expression_follows_python_and_writes_it_back(text, written, at, value):
    expr = es.parse_expression(text)
    assert str(expr) == written and expr(**{k: float(v) for k, v in at.items()}) == pytest.approx(value)
    assert es.parse_expression(written)(**{k: float(v) for k, v in at.items()}) == pytest.approx(value)


def test_parse_expression_shares_variables_and_computes_intervals():
    expr = es.parse_expression("x*x + log(y + 3)", min_value=-1.0, max_value=2.0)
    xs = [n for n in expr.nodes() if n.op == "var" and n.name == "x"]
    assert len(xs) == 1  # one node for x: its gradient gathers from both uses
    # Interval arithmetic on [-1, 2]: x*x is taken as a product of two independent factors, x**2 is not.
    assert expr.interval == pytest.approx((-2.0 + math.log(2.0), 4.0 + math.log(5.0)))
    square = es.parse_expression("x**2 + log(y + 3)", min_value=-1.0, max_value=2.0)
    assert square.interval == pytest.approx((0.0 + math.log(2.0), 4.0 + math.log(5.0)))
    assert es.parse_expression("log(x)").interval == (-math.inf, math.inf)  # log of [-2, 2]: outside its domain


@pytest.mark.parametrize("text, message", [
    ("", r"expected the text of an expression"),
    ("x" * 2001, r"at most 2000 characters"),
    ("x +", r"'x \+' is not an expression: "),
    ("x**y", r"an exponent must be a number"),
    ("__import__('os').system('true')", r"is not allowed; use variables, numbers"),
    ("x.real", r"'x.real' in 'x.real' is not allowed"),
    ("exp(x, y)", r"is not allowed"),
    ("exp(x=1)", r"is not allowed"),
    ("x if y else 1", r"is not allowed"),
    ("x + True", r"'True' in 'x \+ True' is not allowed"),
    ("2 + 3", r"has no variable to differentiate"),
    ("x*1e400", r"holds a number too large for a float"),
    ("-" * 1990 + "x", r"is nested too deeply"),
])
def test_parse_expression_refuses_what_is_not_an_expression(text, message):
    with pytest.raises(ExpressionError, match=r"^parse_expression: .*" + message) as caught:
        es.parse_expression(text)
    assert isinstance(caught.value, ValueError) and "\n" not in str(caught.value)
    with pytest.raises(ValueError):
        es.parse_expression(42)


def test_nodes_without_central_differences_are_counted():
    """sqrt at 0: its derivative is inf on every path and a central difference would step out of the
    domain, so that node is compared between paths only, and the report says so."""
    report = check_paths("sqrt(x) + x", x=[0.0, 1.0])
    assert report.numeric_missing == 1 and report.numeric_skipped == 0
    assert str(report).endswith("no central differences at 1 node value(s) at a domain edge")
    near = check_paths("relu(x) + x", x=[0.0, 1.0, -1.0])
    assert near.numeric_skipped == 1 and near.numeric_missing == 0
    assert str(near).endswith("no central differences at 1 point(s) near a kink")
    assert "no central differences" not in str(check_paths("(x + y)*z", x=-2, y=5, z=-4))
