"""``python -m engine check`` and the property suite behind it (engine.testing.suite).

The suite must pass on the devices here, and it must find bugs: for each op family a wrong
backward is planted in one op, and the family's property (the ``ci`` profile: 100 derandomized
examples) has to fail within that budget, with a message that names the op. A bug planted in one
device's kernel only has to be caught by the comparison with the numpy device.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import engine
from engine.apps.cli import main
from engine.ops import elementwise, linalg, neural, shape
from engine.ops import math as math_ops
from engine.scalar.value import Value
from engine.testing import suite
from engine.testing.cases import FAMILIES, family_names
from engine.testing.strategies import PROFILES

CI_BUDGET = PROFILES["ci"]


@pytest.fixture(autouse=True)
def _drawings_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_CHECK_DIR", str(tmp_path / "drawings"))


def plant(monkeypatch, op: type, which: int = 0, factor: float = 1.5) -> None:
    """Make ``op``'s backward return ``factor`` times the right gradient for input ``which``."""
    original = op.backward

    def wrong(ctx, g):
        grads = list(original(ctx, g))
        if grads[which] is not None:
            grads[which] = ctx.backend.binary("mul", grads[which], factor)
        return tuple(grads)

    monkeypatch.setattr(op, "backward", staticmethod(wrong))


def plant_value_tanh(monkeypatch) -> None:
    """The scalar path's tanh with d/dx = 1 - t (the square forgotten)."""

    def wrong(self):
        t = math.tanh(self.data)
        return Value._result(t, (self,), (1 - t,), "tanh")

    monkeypatch.setattr(Value, "tanh", wrong)


# (family, how to plant, the case names the failure may name)
PLANTS = {
    "expressions": (plant_value_tanh, ("tanh",)),
    "elementwise": (lambda mp: plant(mp, elementwise.Sigmoid), ("sigmoid",)),
    "binary": (lambda mp: plant(mp, elementwise.Div, which=1, factor=-1.0), ("div",)),
    "reductions": (lambda mp: plant(mp, math_ops.Logsumexp), ("logsumexp",)),
    "linalg": (lambda mp: plant(mp, linalg.MatMul, which=1, factor=2.0), ("matmul", "mm", "mm_transposed")),
    "shape": (lambda mp: plant(mp, shape.Cat, which=0, factor=2.0), ("cat", "stack", "roll")),  # roll is cats
    "nn": (lambda mp: plant(mp, neural.Softmax), ("softmax", "log_softmax", "cross_entropy", "nll_loss")),
    "programs": (lambda mp: plant(mp, elementwise.Tanh), ("tanh",)),
}


def test_every_family_has_a_planted_bug():
    assert set(PLANTS) == set(family_names())


@pytest.mark.parametrize("family", family_names())
def test_a_planted_bug_is_caught_within_the_ci_budget(family, monkeypatch):
    how, names = PLANTS[family]
    how(monkeypatch)
    row = suite.check_family(family, "numpy", CI_BUDGET, derandomize=True)
    assert not row.passed, f"{family}: the planted bug survived {row.examples} examples"
    assert 1 <= row.examples <= CI_BUDGET
    first = row.failure.splitlines()[0]
    if family == "expressions":
        assert "Value path" in first and "tanh" in first, first
    elif family == "programs":
        assert "tanh" in row.failure and "central differences" in row.failure, row.failure[:500]
    else:
        assert any(first.startswith(f"{n} on 'numpy'") for n in names), first
        assert "backward disagrees with central differences" in first
        assert "gradcheck:" in row.failure
    # the shrunk example's drawing is written and named in the message
    assert row.drawing and row.drawing in row.failure


@pytest.mark.parametrize("family", family_names())
def test_the_suite_passes_here(family):
    from engine.testing import available_devices

    for device in available_devices():
        row = suite.check_family(family, device, 40, derandomize=True)
        assert row.passed, row.failure
        cases = 1 if family in ("expressions", "programs") else len(FAMILIES[family])
        assert row.examples == max(40, cases)  # the budget, shared by the ops, each at least 1
        assert 0 <= row.worst_numeric < 1e-3
        if device != "numpy" and family != "expressions":
            assert row.worst_reference is not None and row.worst_reference < 1e-4


def test_a_bug_in_one_device_is_caught_by_the_comparison_with_numpy(monkeypatch):
    """Every c unary kernel 0.1% off. For exp the gradient still matches the (wrong) forward,
    since backward reads the saved output: gradcheck on c alone passes, and only the comparison
    with the numpy device sees it. The family's property catches it within the ci budget."""
    from engine.backends.c_backend import CBackend
    from engine.testing import DevicesDisagreeError, assert_devices_agree, gradcheck

    if "c" not in engine.testing.available_devices():
        pytest.skip("the c device is not built here")
    original = CBackend.unary

    def off(self, op, x, alpha=0.0):
        out = original(self, op, x, alpha)
        if out.dtype.kind != "f":
            return out
        return self.from_numpy(np.array(self.to_numpy(out), copy=True) * 1.001)

    monkeypatch.setattr(CBackend, "unary", off)
    x = np.linspace(-2, 2, 7)
    assert gradcheck(lambda t: t.exp(), engine.tensor(x, device="c", requires_grad=True))
    with pytest.raises(DevicesDisagreeError, match=r"output 0 on 'c' differs from 'numpy' at index \(0,\)"):
        assert_devices_agree(lambda t: t.exp(), x, devices=["numpy", "c"])

    row = suite.check_family("elementwise", "c", CI_BUDGET, derandomize=True)
    assert not row.passed and row.examples <= CI_BUDGET
    assert " on 'c' at (" in row.failure.splitlines()[0], row.failure[:600]
    assert suite.check_family("elementwise", "numpy", 30).passed  # numpy itself is fine


def test_ops_choose_the_cases_and_share_the_budget():
    row = suite.check_family("elementwise", "numpy", 9, ops=["tanh", "exp", "abs"])
    assert row.passed and row.examples == 9
    assert suite.check_family("shape", "numpy", 1, ops=["cat", "gather"]).examples == 2  # each op at least 1
    with pytest.raises(engine.EngineError, match="check: the shape family has no op tanh; its ops: transpose"):
        suite.check_family("shape", "numpy", 5, ops=["tanh"])


def test_every_case_runs_on_numpy():
    """Each op case's strategy draws valid input the op accepts (a case that always errors would
    hide behind sampled_from)."""
    from hypothesis import find, settings

    for family in family_names():
        if family in ("expressions", "programs"):
            continue
        for case in FAMILIES[family]:
            args, kwargs = find(case.draw(), lambda _: True, settings=settings(database=None, max_examples=50))
            out = case.call(*suite._tensors(args, "numpy", case.fixed), **kwargs)
            assert np.all(np.isfinite(out.detach().numpy())), case


def test_cli_prints_the_table_and_exits_0(capsys, tmp_path):
    page = tmp_path / "report.html"
    rc = main(["check", "--devices", "numpy", "--families", "elementwise,linalg", "--examples", "5",
               "--html", str(page)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "profile ci, 5 examples per family and device; devices numpy" in out
    # 5 examples shared by each family's ops, each op at least 1
    n_elementwise, n_linalg = len(FAMILIES["elementwise"]), 5
    assert re.search(rf"^elementwise\s+numpy\s+{n_elementwise}\s+\S+\s+-\s+pass$", out, re.M), out
    assert re.search(rf"^linalg\s+numpy\s+{n_linalg}\s+\S+\s+-\s+pass$", out, re.M), out
    assert "all 2 checks passed" in out
    html = page.read_text()
    assert 'id="results"' in html and html.count('class="pass"') == 2 and "FAIL" not in html


def test_cli_exits_1_and_draws_the_failure(capsys, tmp_path, monkeypatch):
    plant(monkeypatch, elementwise.Sigmoid)
    page = tmp_path / "report.html"
    rc = main(["check", "--devices", "numpy", "--families", "elementwise,shape", "--html", str(page)])
    out = capsys.readouterr().out
    assert rc == 1
    assert re.search(r"^elementwise\s+numpy\s+\d+\s+\S+\s+-\s+FAIL$", out, re.M), out
    assert re.search(r"^shape\s+numpy\s+100\s+\S+\s+-\s+pass$", out, re.M), out
    assert "1 of 2 checks FAILED (elementwise on numpy)" in out
    assert "sigmoid on 'numpy'" in out
    html = page.read_text()
    assert 'href="#fail-elementwise-numpy"' in html and 'id="fail-elementwise-numpy"' in html
    assert "sigmoid on &#x27;numpy&#x27;" in html or "sigmoid on 'numpy'" in html
    if "<svg" in html:  # a renderer is installed: the failure's graph is inline
        assert "firebrick" in html or "SigmoidBackward0" in html


def test_cli_ops_keep_the_families_that_hold_them(capsys):
    rc = main(["check", "--devices", "numpy", "--ops", "tanh,matmul,softmax", "--examples", "6"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "families elementwise, linalg, nn" in out
    rows = [line.split()[0] for line in out.splitlines() if line.endswith("pass")]
    assert rows == ["elementwise", "linalg", "nn"]
    assert re.search(r"^elementwise\s+numpy\s+6\s", out, re.M), out


@pytest.mark.parametrize("argv, message", [
    (["--ops", "gather,tanh,nope"], "check: no op named tanh, nope in the families shape; the ops: transpose,"),
    (["--devices", "tpu"], "check: device: unknown device 'tpu'"),
    (["--families", "elementwise,nope"], "check: unknown op family nope; choose from expressions"),
    (["--examples", "0"], "check: --examples must be a positive int, got 0"),
    (["--html", "{tmp}/a-file/x.html"], "--html: "),
    (["--html", "{tmp}"], "it is a folder"),
])
def test_cli_bad_arguments_are_one_line_errors(capsys, tmp_path, argv, message):
    (tmp_path / "a-file").write_text("not a folder")
    rc = main(["check", "--examples", "1", "--families", "shape", *(a.format(tmp=tmp_path) for a in argv)])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_run_suite_arguments_are_checked():
    with pytest.raises(engine.EngineError, match="unknown profile 'fast'; choose from dev, ci, thorough"):
        suite.run_suite(profile="fast")
    with pytest.raises(engine.EngineError, match="examples must be a positive int"):
        suite.run_suite(examples=-3)
    with pytest.raises(engine.EngineError, match="unknown op family"):
        suite.run_suite(families=["matrices"])
