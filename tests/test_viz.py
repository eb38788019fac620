"""Drawings, renderers and the step-by-step printout of the chain rule."""

import re
import shutil
from pathlib import Path

import pytest

from engine import Value, viz
from engine.apps.demo import chain_rule_example
from engine.viz import renderer

GOLDEN = Path(__file__).parent / "golden"


def lecture_graph():
    f = chain_rule_example()
    f.backward()
    return f


def test_lecture_graph_matches_golden_dot():
    assert viz.draw(lecture_graph()).source == (GOLDEN / "chain_rule.dot").read_text(encoding="utf-8")


def test_dot_text_is_deterministic_across_builds():
    assert viz.draw(lecture_graph()).source == viz.draw(lecture_graph()).source


def test_edges_show_local_derivative_and_contribution():
    source = viz.draw(lecture_graph()).source
    assert "∂q/∂x = 1\\n-4 × 1 = -4" in source
    assert "∂f/∂z = 3\\n1 × 3 = 3" in source
    before = chain_rule_example()
    assert "× " not in viz.draw(before).source  # no contributions before backward
    assert "∂" not in viz.draw(lecture_graph(), show_local_grads=False, show_grad=False).source


def test_reused_value_draws_one_edge_per_use():
    a = Value(2.0, label="a")
    b = a * a
    b.backward()
    source = viz.draw(b).source
    assert source.count("v0 -> v1op") == 2


def test_large_graph_is_capped_with_a_note():
    x = Value(1.0, label="x")
    y = x
    for _ in range(1000):
        y = y * 1.0001
    source = viz.draw(y, max_nodes=50).source
    assert "graph capped: showing the 50 values nearest the output" in source
    assert source.count("shape=record") == 50


def test_steps_print_like_the_lecture():
    lines = viz.format_steps(lecture_graph()).splitlines()
    assert lines[0] == "∂f/∂f = 1"
    assert "∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4" in lines
    assert "∂f/∂z = ∂f/∂f · ∂f/∂z = 1 · 3 = 3" in lines


def test_steps_accumulate_over_reused_values_and_leave_grads_alone():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    steps = list(viz.steps(b))
    assert [s.first for s in steps] == [True, False]
    assert steps[-1].parent_grad == 6.0
    assert "+=" in str(steps[-1])
    assert a.grad == 0.0


def _render_all(tmp_path):
    f = lecture_graph()
    svg = viz.render(f, tmp_path / "f.svg")
    png = viz.render(f, tmp_path / "f.png")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert re.search(r"data (-|&#45;)12", svg.read_text(encoding="utf-8"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="system Graphviz `dot` is not installed")
def test_render_with_system_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_RENDERER", "dot")
    assert renderer.find_renderer("svg") == [shutil.which("dot")]
    _render_all(tmp_path)
    pdf = viz.render(lecture_graph(), tmp_path / "f.pdf")
    assert pdf.read_bytes()[:4] == b"%PDF"


@pytest.mark.skipif(renderer._which("graphviz-pure") is None, reason="graphviz-pure is not installed")
def test_render_with_graphviz_pure(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_RENDERER", "graphviz-pure")
    assert Path(renderer.find_renderer("svg")[0]).name == "graphviz-pure"
    _render_all(tmp_path)


def test_render_falls_back_to_dot_file_with_one_line_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_RENDERER", "none")
    with pytest.warns(viz.RendererMissingWarning, match=r"pip install 'backprop-engine\[render\]'") as record:
        written = viz.render(lecture_graph(), tmp_path / "f.svg")
    assert written == tmp_path / "f.dot"
    assert written.read_text(encoding="utf-8") == (GOLDEN / "chain_rule.dot").read_text(encoding="utf-8")
    assert "\n" not in str(record[0].message)


def test_render_dot_extension_and_bad_extension(tmp_path):
    written = viz.render(lecture_graph(), tmp_path / "g.dot")
    assert written.read_text(encoding="utf-8").startswith("digraph backprop {")
    with pytest.raises(ValueError, match=r"cannot tell the format from 'g.txt'; use one of \.svg"):
        viz.render(lecture_graph(), tmp_path / "g.txt")


@pytest.mark.skipif(viz.find_renderer("svg") is None, reason="no Graphviz renderer installed")
def test_drawing_shows_inline_in_jupyter():
    bundle = viz.draw(lecture_graph())._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
