"""``python -m engine``: the graph command, its refusals, and the demo."""

import subprocess
import sys

import pytest


def run_engine(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_graph_prints_grads_and_writes_drawing(tmp_path):
    result = run_engine("graph", "(x + y) * z", "x=-2", "y=5", "z=-4", "-o", str(tmp_path / "f.dot"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "f = (x + y) * z = -12"
    assert "∂f/∂x = -4" in lines[1] and "∂f/∂y = -4" in lines[2] and "∂f/∂z = 3" in lines[3]
    assert (tmp_path / "f.dot").read_text(encoding="utf-8").startswith("digraph")


def test_graph_steps_flag_prints_the_chain_rule():
    result = run_engine("graph", "(x + y) * z", "x=-2", "y=5", "z=-4", "--steps")
    assert result.returncode == 0, result.stderr
    assert "∂f/∂x = ∂f/∂(x + y) · ∂(x + y)/∂x = -4 · 1 = -4" in result.stdout


def test_graph_functions_and_constants():
    result = run_engine("graph", "sigmoid(w0*x0 + w1*x1 + w2)", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
    assert result.returncode == 0, result.stderr
    assert "∂f/∂x1 = -0.5898" in result.stdout


@pytest.mark.parametrize(
    "expr, assignments, message",
    [
        ("x.__class__", ["x=1"], "attribute access is not allowed"),
        ('__import__("os").system("echo hacked")', [], "system\" is not allowed"),
        ("open('f')", [], "call of 'open' is not allowed"),
        ("x + w", ["x=1"], "undefined name 'w': give it a value as w=NUMBER"),
        ("x[0]", ["x=1"], "indexing is not allowed"),
        ("(lambda: 1)()", [], "call of"),
        ("x +", ["x=1"], "cannot parse"),
        ("log(x)", ["x=-1"], "log is defined for x > 0"),
        ("x / y", ["x=1", "y=0"], "divides by zero"),
        ("x", ["x=abc"], "'abc' is not a number"),
        ("x", ["x"], "expected NAME=NUMBER"),
    ],
)
def test_graph_refuses_with_one_line_and_no_traceback(expr, assignments, message):
    result = run_engine("graph", expr, *assignments)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert "hacked" not in result.stdout + result.stderr


def test_demo_writes_graphs_steps_and_xor_run(tmp_path):
    result = run_engine("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "engine-demo"
    steps = (out / "chain_rule_steps.txt").read_text(encoding="utf-8")
    assert "∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4" in steps
    assert "accuracy 100%" in result.stdout
    assert "Wrote" in result.stdout and "chain_rule_steps.txt" in result.stdout
    drawings = list(out.glob("chain_rule.*"))
    assert any(p.suffix in (".svg", ".dot") for p in drawings)
