"""The step-through page: ``engine.viz.backprop_html`` (one self-contained HTML file) and ``graph --html``.

The page's JavaScript is driven in a real browser by the browser tests; here we check what the
page holds: the steps (the same chain-rule lines as ``format_steps``), the picture's ids that the
steps point at, the gradient fields, and that nothing is fetched from anywhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from engine import Value, viz
from engine.apps.demo import chain_rule_example
from engine.errors import EngineTypeError, EngineValueError
from engine.viz import html as page
from engine.viz.renderer import find_renderer

LAYOUTS = ["builtin", pytest.param("graphviz", marks=pytest.mark.skipif(
    find_renderer("svg") is None, reason="no Graphviz renderer (dot or graphviz-pure) installed"))]


# The lecture's f = (x + y) z at -2, 5, -4 with q = x + y named: the demo's own graph.
chain_rule = chain_rule_example


class Elements(HTMLParser):
    """Every element's tag and attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.elements if attrs.get("id")}


def parse(text: str) -> tuple[Elements, dict]:
    doc = Elements()
    doc.feed(text)
    data = [json.loads(body) for attrs, body in doc.scripts if attrs.get("id") == "backprop-data"]
    assert len(data) == 1
    return doc, data[0]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_page_steps_through_the_chain_rule(tmp_path, layout):
    f = chain_rule()
    f.backward()
    path = viz.backprop_html(f, tmp_path / "f.html", layout=layout)
    assert path == tmp_path / "f.html"
    doc, data = parse(path.read_text(encoding="utf-8"))

    # The steps are backward's edges in order, with the lecture's chain-rule lines.
    assert [s["text"] for s in data["steps"]] == viz.format_steps(f).splitlines()
    x_step = data["steps"][3]
    assert x_step["text"] == "∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4"
    assert (x_step["upstream"], x_step["local"], x_step["contribution"]) == ("∂f/∂q = -4", "∂q/∂x = 1", "-4")
    # Each step fills in one gradient; at the end every one is backward's.
    final = {s["grad"][0]: s["grad"][1] for s in data["steps"]}
    names = {v["id"]: v["name"] for v in data["values"]}
    assert {names[i]: g for i, g in final.items()} == {"f": "1", "q": "-4", "z": "3", "x": "-4", "y": "-4"}

    # Every step points at an edge of the picture that joins the nodes it names.
    ids = doc.ids()
    assert {"graph", "prev", "next", "slider", "step-index", "step-text", "upstream", "local", "contribution",
            "grads", "note"} <= ids
    graph = viz.graph_of(f)
    for step in data["steps"][1:]:
        assert f"edge-{step['edge']}" in ids and f"edge-{step['out_edge']}" in ids
        edge = graph.edges[step["edge"]]
        assert (edge.source, edge.target) == (step["parent"], step["op"])
        assert graph.edges[step["out_edge"]].target == step["node"]
        assert f"node-{step['parent']}" in ids and f"node-{step['node']}" in ids
    # Each value node has one gradient field in the picture, blank until its step.
    fields = [a for tag, a in doc.elements if tag == "text" and "grad" in (a.get("class") or "").split()]
    assert sorted(a["data-node"] for a in fields) == sorted(v["id"] for v in data["values"])
    assert data["layout"] == layout


@pytest.mark.parametrize("layout", LAYOUTS)
def test_page_is_self_contained(tmp_path, layout):
    text = viz.backprop_html(chain_rule(), tmp_path / "f.html", layout=layout).read_text(encoding="utf-8")
    doc, _ = parse(text)
    for tag, attrs in doc.elements:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
    # The only URLs are XML namespace names, which are never fetched.
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "fetch(" not in text and "XMLHttpRequest" not in text and "import(" not in text


def test_page_works_before_backward_and_leaves_grads_alone(tmp_path):
    before = chain_rule()
    _, data_before = parse(page.backprop_page(before, layout="builtin"))
    assert [v.grad for v in before.nodes()] == [0.0] * 5
    after = chain_rule()
    after.backward()
    _, data_after = parse(page.backprop_page(after, layout="builtin"))
    assert data_before["steps"] == data_after["steps"]
    assert [v.grad for v in after.nodes()] == [-4.0, -4.0, -4.0, 3.0, 1.0]


def test_input_used_twice_has_two_steps_that_add_up():
    a = Value(3.0, label="a")
    g = a * a
    g.label = "g"
    _, data = parse(page.backprop_page(g, layout="builtin"))
    steps = data["steps"]
    assert [s["text"] for s in steps] == viz.format_steps(g).splitlines()
    assert steps[1]["edge"] != steps[2]["edge"]
    assert steps[1]["grad"][1] == "3" and steps[2]["grad"][1] == "6"
    assert steps[2]["text"].startswith("∂g/∂a += ")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_edges_between_the_same_nodes_get_their_own_ids(layout):
    a = Value(3.0, label="a")
    g = a * a
    data = page.page_data(g, layout=layout)
    for step in data["steps"][1:]:
        assert len(re.findall(rf'id="edge-{step["edge"]}"', data["svg"])) == 1


def test_capped_graph_steps_the_shown_part_with_exact_numbers():
    x = Value(0.5, label="x")
    h = x
    for _ in range(6):
        h = h.tanh()
    _, full = parse(page.backprop_page(h, layout="builtin"))
    _, capped = parse(page.backprop_page(h, max_nodes=3, layout="builtin"))
    assert capped["note"] and "4 more not drawn" in capped["note"]
    assert len(capped["steps"]) == 1 + 2
    # The values nearest the output get the same gradients as in the whole graph.
    def numbers(steps):
        return [(s["text"], s["grad"]) for s in steps]

    assert numbers(capped["steps"]) == numbers(full["steps"][:3])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_small_tensor_network_steps_with_its_gradients(layout):
    import numpy as np

    import engine
    import engine.nn as nn

    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = engine.tensor([[1.0, 2.0], [0.5, -1.0]])
    y = engine.tensor([[1.0], [0.0]])
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    graph = viz.graph_of(loss, params=dict(model.named_parameters()))
    _, data = parse(page.backprop_page(loss, params=dict(model.named_parameters()), layout=layout))
    inputs = [e for e in graph.edges if isinstance(graph.by_id()[e.target], viz.OpNode)]
    assert len(data["steps"]) == 1 + len(inputs)  # one step per edge into an op
    # Each parameter's gradient is filled in, with the numbers of its .grad.
    filled = {s["grad"][0]: s["grad"] for s in data["steps"] if s["grad"]}
    labels = {node.label: node.id for node in graph.values}
    for name, p in model.named_parameters():
        shown = np.array(json.loads(filled[labels[name]][1]))  # "[[-0.5441, -1.866], ...]", 4 digits
        np.testing.assert_allclose(shown, p.grad.cpu().numpy(), rtol=1e-3, atol=1e-6, err_msg=name)
        assert filled[labels[name]][2] == f"‖grad‖ {viz.graph.fmt(float(np.linalg.norm(p.grad.cpu().numpy())))}"
    # A value used twice (the square's two inputs) is complete only at its second step.
    twice = [s for s in data["steps"][1:] if "part 1 of 2" in s["text"]]
    assert len(twice) == 1 and twice[0]["grad"] is None
    # Every step's edge is in the picture, and every step-filled gradient has its field there.
    text = page.backprop_page(loss, params=dict(model.named_parameters()), layout=layout)
    for step in data["steps"][1:]:
        assert f'id="edge-{step["edge"]}"' in text
    for node_id in filled:
        assert f'class="grad" data-node="{node_id}"' in text


def test_labels_cannot_break_out_of_the_page():
    x = Value(2.0, label="</script><script>alert(1)</script>")
    f = x * 3
    f.label = "f & <b>"
    text = page.backprop_page(f, layout="builtin")
    assert "<script>alert" not in text and "<b>" not in text
    _, data = parse(text)
    assert "</script><script>alert(1)</script>" in [v["name"].strip("()") for v in data["values"]]


def test_a_model_graph_is_accepted_as_it_is():
    graph = viz.graph_of(chain_rule())
    _, data = parse(page.backprop_page(graph, layout="builtin"))
    assert len(data["steps"]) == 5


def test_bad_arguments_are_one_line_errors(tmp_path):
    with pytest.raises(EngineTypeError, match="backprop_html: expected a Value"):
        viz.backprop_html("f", tmp_path / "f.html")
    with pytest.raises(EngineValueError, match="layout must be one of auto, graphviz, builtin, got 'svg'"):
        viz.backprop_html(chain_rule(), tmp_path / "f.html", layout="svg")
    with pytest.raises(EngineValueError, match="max_nodes must be a positive int"):
        viz.backprop_html(chain_rule(), tmp_path / "f.html", max_nodes=0)
    with pytest.raises(OSError) as info:
        viz.backprop_html(chain_rule(), tmp_path)  # a folder
    assert "\n" not in str(info.value)


def test_builtin_layout_places_every_node_inside_the_picture():
    f = chain_rule()
    data = page.page_data(f, layout="builtin")
    svg = data["svg"]
    width, height = (float(v) for v in re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
    for x, y in re.findall(r'<text[^>]* x="([-\d.]+)" y="([-\d.]+)"', svg):
        assert 0 <= float(x) <= width and 0 <= float(y) <= height
    assert data["layout"] == "builtin"


def test_auto_layout_without_a_renderer_draws_its_own(monkeypatch):
    monkeypatch.setenv("ENGINE_RENDERER", "none")
    assert page.page_data(chain_rule())["layout"] == "builtin"


def test_graph_command_writes_the_page(tmp_path):
    out = tmp_path / "f.html"
    result = subprocess.run([sys.executable, "-m", "engine", "graph", "(x + y) * z", "x=-2", "y=5", "z=-4",
                             "--html", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    _, data = parse(out.read_text(encoding="utf-8"))
    assert data["steps"][3]["text"] == "∂f/∂x = ∂f/∂(x + y) · ∂(x + y)/∂x = -4 · 1 = -4"


def test_graph_command_refuses_a_bad_html_path_before_any_work(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engine", "graph", "x * y", "x=1", "y=2", "--html",
                             str(tmp_path)], capture_output=True, text=True, check=False)  # a folder
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--html: cannot write" in result.stderr and "it is a folder" in result.stderr


def test_demo_index_links_the_step_through_page(tmp_path):
    from engine.apps import demo

    written = demo.step_through_pages(tmp_path)
    assert [p.name for p in written] == ["chain_rule_steps.html", "sigmoid_neuron_steps.html"]
    _, data = parse(written[0].read_text(encoding="utf-8"))
    assert data["steps"][3]["text"] == "∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4"
    index = demo.write_index(tmp_path, [], written).read_text(encoding="utf-8")
    assert '<a href="chain_rule_steps.html">' in index and '<a href="sigmoid_neuron_steps.html">' in index
