"""Issue 8, command line and drawings: deep expressions, huge constants, names, output paths, max_nodes.

Most cases call ``engine.cli.main`` in-process (fast; any exception other than the one-line
EngineError would fail the test); a few run ``python -m engine`` to check exit code and stderr.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from engine import EngineTypeError, EngineValueError, Value, viz
from engine.apps.cli import main
from engine.errors import ExpressionError
from engine.scalar.expression import parse_assignments, parse_expression


def run_main(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv) -> str:
    """Run the CLI, expect exit code 2 with one line on stderr, nothing on stdout; return that line."""
    code, out, err = run_main(capsys, *argv)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def run_engine(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


# ---- cause 4: deep expressions --------------------------------------------------------------------------------


@pytest.mark.parametrize("terms", [2, 330, 1000, 2500])
def test_long_sums_are_built_without_recursion(capsys, terms):
    code, out, _ = run_main(capsys, "graph", "+".join(["x"] * terms), "x=1", "--steps")
    assert code == 0
    assert f"∂f/∂x = {terms}" in out.splitlines()[1]


@pytest.mark.parametrize(
    "expr, value, expected",
    [
        ("**".join(["x"] * 1500), 1.0, 1.0),  # right-nested powers: 1 ** 1 ** ... ** 1
        ("-" * 900 + "x", 2.0, 2.0),  # 900 minus signs: an even count
        ("*".join(["x"] * 2000), 1.0, 1.0),
        ("-(" * 150 + "x" + ")" * 150, 3.0, 3.0),
    ],
)
def test_other_deep_shapes_build_and_differentiate(expr, value, expected):
    root, inputs = parse_expression(expr, {"x": value})
    root.backward()
    assert root.data == expected
    assert math.isfinite(inputs["x"].grad)


@pytest.mark.parametrize(
    "expr",
    [
        "+".join(["x"] * 20_000),  # ast construction: RecursionError inside ast.parse
        "-" * 20_000 + "x",  # the parser's own stack: MemoryError
        "**".join(["x"] * 20_000),
    ],
)
def test_too_deep_for_pythons_parser_is_one_line(capsys, expr):
    line = refused(capsys, "graph", "--", expr, "x=1")
    assert "nests too deeply for Python's parser (about 3,000 levels at most" in line
    assert len(line) < 400  # the expression is shortened, not echoed whole


def test_too_deep_through_the_real_command():
    result = run_engine("graph", "+".join(["x"] * 10_000), "x=1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "nests too deeply" in result.stderr


def test_deep_graph_backward_draw_and_steps_do_not_recurse():
    # 100,000 levels: far past Python's recursion limit (test_value.py runs backward on 1,000,000).
    x = Value(0.5, label="x")
    y = x
    for _ in range(100_000):
        y = y + x
    y.backward()
    assert x.grad == 100_001.0
    source = viz.draw(y).source
    assert source.count("shape=record") == viz.dot.DEFAULT_MAX_NODES
    steps = viz.steps(y)
    assert next(steps).parent != ""  # a generator: the first step comes without walking recursively


def test_labels_of_big_subexpressions_are_bounded():
    root, _ = parse_expression("+".join(["x"] * 500), {"x": 1.0})
    labels = [node.label for node in root.nodes()]
    assert "x + x" in labels
    assert max(len(label) for label in labels) < 500  # no 500-term label per node (that was quadratic)


# ---- cause 20: huge constants, overflow ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, data, grad",
    [
        ("x + 10**10**10", math.inf, 1.0),
        ("x * 2**10000", math.inf, math.inf),
        ("x + 1e308 * 10", math.inf, 1.0),
        ("x ** 2", math.inf, 2e300),  # x = 1e300
        ("2 ** x", math.inf, math.inf),
        ("exp(x)", math.inf, math.inf),
        ("x - 10**400.0", -math.inf, 1.0),
    ],
)
def test_overflow_in_the_cli_is_inf_not_a_traceback(expr, data, grad):
    root, inputs = parse_expression(expr, {"x": 1e300})
    root.backward()
    assert root.data == data
    assert inputs["x"].grad == grad


def test_ten_to_the_ten_to_the_ten_is_computed_in_floats_quickly(capsys):
    code, out, _ = run_main(capsys, "graph", "x + 10**10**10**10", "x=1")
    assert code == 0 and "= inf" in out.splitlines()[0]


@pytest.mark.parametrize(
    "expr, words",
    [
        ("x + 1" + "0" * 400, "integer constant at column 5 is too large for a float"),
        ("x * 0x" + "f" * 300, "integer constant at column 5 is too large for a float"),
        ("x + 1" + "0" * 5000, "an integer constant has more than 4300 digits"),
        ("x + 1/0", "1 / 0 divides by zero (at column 5)"),
        ("x + (-8)**0.5", "negative base -8 with non-integer power 0.5"),
        ("x + 0**-1", "0 ** -1 divides by zero"),
        ("x + 2 + 3j", "only numbers are allowed as constants"),
    ],
)
def test_bad_constants_are_one_line(capsys, expr, words):
    assert words in refused(capsys, "graph", expr, "x=1")


@pytest.mark.parametrize("value, shown", [("1e999", "inf"), ("-1e999", "-inf"), ("nan", "nan")])
def test_special_input_values_propagate(capsys, value, shown):
    code, out, _ = run_main(capsys, "graph", "x * 2", f"x={value}")
    assert code == 0
    assert out.splitlines()[0].endswith(f"= {shown}")


# ---- cause 22: duplicate, unused and look-alike names -----------------------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["x*y", "x=1", "x=2", "y=3"], "x is given twice (x=1 and x=2)"),
        (["x*y", "x=1", "y=3", "x=1"], "x is given twice"),  # even with the same value
        (["x*y", "x=1", "ｘ=2", "y=3"], "x is given twice (x=1 and ｘ=2); Python reads 'ｘ' as 'x'"),
        (["x*2", "x=1", "y=3"], "y is given a value but not used in 'x*2'"),
        (["x*2", "x=1", "y=3", "z=4"], "y, z are given a value but not used"),
        (["2*3", "x=1"], "x is given a value but not used"),
        (["x*2", "x=1", "ｙ=3"], "y is given a value but not used"),
        (["ｙ*2", "x=2"], "undefined name 'y' (written 'ｙ', which Python reads as 'y'): give it a value as y=NUMBER"),
        (["x*2", "x=1", "if=2"], "'if' is a Python keyword"),
        (["x*2", "x=1", "1x=2"], "expected NAME=NUMBER"),
    ],
)
def test_names_given_twice_unused_or_misspelled(capsys, argv, words):
    assert words in refused(capsys, "graph", *argv)


@pytest.mark.parametrize(
    "expr, assignment",
    [("ｘ*2", "ｘ=2"), ("x*2", "ｘ=2"), ("ｘ*2", "x=2"), ("ﬁ*2", "fi=2"), ("\U0001d431*2", "x=2")],
)
def test_look_alike_names_bind_as_python_reads_them(capsys, expr, assignment):
    code, out, _ = run_main(capsys, "graph", expr, assignment)
    assert code == 0
    assert out.splitlines()[0].endswith("= 4")


def test_parse_assignments_normalises_like_python():
    assert parse_assignments(["ｘ=1", "ﬁ=2"]) == {"x": 1.0, "fi": 2.0}
    with pytest.raises(ExpressionError, match="x is given twice"):
        parse_assignments(["ｘ=1", "x=2"])


# ---- cause 18: output paths -------------------------------------------------------------------------------------


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "afile"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    "target, words",
    [
        (lambda tmp, f: f / "sub" / "g.svg", "cannot create folder"),  # a parent is a file
        (lambda tmp, f: f / "g.dot", "cannot use"),  # the parent itself is a file
        (lambda tmp, f: tmp, "it is a folder; give a file name"),
        (lambda tmp, f: str(tmp) + "/", "it is a folder"),
        (lambda tmp, f: "/proc/engine-no-such/g.svg", "cannot write into folder '/proc'"),
    ],
)
def test_graph_output_path_errors(capsys, tmp_path, a_file, target, words):
    line = refused(capsys, "graph", "x*2", "x=1", "-o", str(target(tmp_path, a_file)))
    assert line.startswith("python -m engine graph: error: -o: ")
    assert words in line


def test_graph_output_into_missing_folders_still_works(capsys, tmp_path):
    target = tmp_path / "new" / "deeper" / "g.dot"
    code, out, _ = run_main(capsys, "graph", "x*2", "x=1", "-o", str(target))
    assert code == 0 and target.read_text(encoding="utf-8").startswith("digraph")


def test_render_library_call_gives_one_line_errors(tmp_path, a_file):
    from engine.core.serialization import PathError

    root = Value(1.0) * 2
    for target in (a_file / "g.svg", tmp_path, a_file / "x" / "g.dot"):
        with pytest.raises(PathError) as info:
            viz.render(root, target)
        assert "\n" not in str(info.value) and str(info.value).startswith("render: ")
    with pytest.raises(OSError):  # PathError is an OSError too
        viz.render(root, tmp_path)


@pytest.mark.parametrize(
    "out, words",
    [
        (lambda tmp, f: f, "--out: cannot use"),
        (lambda tmp, f: f / "sub", "--out: cannot create folder"),
        (lambda tmp, f: "/etc/passwd", "--out: cannot use '/etc/passwd' as a folder: it is a file"),
        (lambda tmp, f: "/proc/engine-no-such", "--out: cannot write into folder '/proc'"),
    ],
)
def test_demo_and_train_out_errors_come_before_any_work(capsys, tmp_path, a_file, out, words):
    target = str(out(tmp_path, a_file))
    assert words in refused(capsys, "demo", "--out", target)
    line = refused(capsys, "train", "xor", "--epochs", "100000000", "--out", target)  # would take hours
    assert words in line


def test_train_out_error_through_the_real_command(tmp_path, a_file):
    result = run_engine("train", "xor", "--out", str(a_file / "sub"))
    assert result.returncode == 2
    assert result.stdout == ""  # not one epoch ran
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "cannot create folder" in result.stderr


def test_demo_library_call_refuses_a_file(a_file):
    from engine.apps.demo import run_demo
    from engine.core.serialization import PathError

    with pytest.raises(PathError, match="demo: cannot use"):
        run_demo(a_file)


# ---- cause 23: viz.draw max_nodes ------------------------------------------------------------------------------


def _chain(n: int) -> Value:
    x = Value(1.0, label="x")
    y = x
    for _ in range(n):
        y = y * 1.0 + 0.5
    return y


@pytest.mark.parametrize("bad, error", [(0, EngineValueError), (-1, EngineValueError), (-300, EngineValueError),
                                        (True, EngineTypeError), (False, EngineTypeError), (2.5, EngineTypeError),
                                        (None, EngineTypeError), ("10", EngineTypeError)])
def test_max_nodes_must_be_a_positive_int(bad, error):
    with pytest.raises(error, match="draw: max_nodes must be a positive int"):
        viz.draw(_chain(3), max_nodes=bad)


@pytest.mark.parametrize("cap", [1, 2, 5])
def test_small_caps_draw_and_say_how_many_were_left_out(cap):
    root = _chain(3)  # x, 3 times (constant 1.0, product, constant 0.5, sum): 13 values
    source = viz.draw(root, max_nodes=cap).source
    total = len(root.nodes())
    assert source.count("shape=record") == cap
    noun = "value" if cap == 1 else "values"
    assert f"showing the {cap} {noun} nearest the output, {total - cap} more not drawn (max_nodes={cap})" in source


def test_twenty_thousand_node_graph_draws_with_the_default_cap():
    root = _chain(5_000)  # 20,001 values
    assert len(root.nodes()) == 20_001
    source = viz.draw(root).source
    assert source.count("shape=record") == viz.dot.DEFAULT_MAX_NODES
    assert "19701 more not drawn" in source


def test_demo_index_written_onto_a_folder_is_one_line(tmp_path):
    from engine.apps.demo import write_index
    from engine.core.serialization import PathError

    (tmp_path / "index.html").mkdir()
    with pytest.raises(PathError, match="demo: cannot write .*index.html"):
        write_index(tmp_path, [])
