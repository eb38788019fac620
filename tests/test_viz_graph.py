"""The drawing's model (engine.viz.graph), the Value adapter, and the JSON writer."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import pytest

from engine import Value, viz
from engine.apps.demo import chain_rule_example
from engine.errors import EngineTypeError, EngineValueError
from engine.viz.graph import Edge, Graph, OpNode, ValueNode


def lecture_graph(backward: bool = True) -> Value:
    f = chain_rule_example()
    if backward:
        f.backward()
    return f


def test_value_adapter_gives_value_and_op_nodes_with_the_edges_numbers():
    graph = viz.from_value(lecture_graph())
    assert [n.id for n in graph.nodes] == ["v0", "v1", "v2", "v2op", "v3", "v4", "v4op"]
    assert graph.root == "v4" and graph.backward and graph.omitted == 0 and graph.note is None
    nodes = graph.by_id()
    assert nodes["v2"] == ValueNode("v2", "q", "q", 3.0, -4.0)
    assert nodes["v4op"] == OpNode("v4op", "*", output="v4")
    assert graph.edges == [
        Edge("v2op", "v2"),
        Edge("v0", "v2op", local=1.0, upstream=-4.0, contribution=-4.0),
        Edge("v1", "v2op", local=1.0, upstream=-4.0, contribution=-4.0),
        Edge("v4op", "v4"),
        Edge("v2", "v4op", local=-4.0, upstream=1.0, contribution=-4.0),
        Edge("v3", "v4op", local=3.0, upstream=1.0, contribution=3.0),
    ]


def test_before_backward_edges_hold_only_local_derivatives():
    graph = viz.from_value(lecture_graph(backward=False))
    assert not graph.backward
    inputs = [e for e in graph.edges if e.local is not None]
    assert [e.local for e in inputs] == [1.0, 1.0, -4.0, 3.0]
    assert all(e.upstream is None and e.contribution is None for e in inputs)


def test_unlabelled_values_are_named_by_position_and_expressions_get_parentheses():
    a = Value(2.0)
    b = Value(3.0, label="x + y")
    graph = viz.from_value(a * b)
    assert [n.name for n in graph.values] == ["n0", "(x + y)", "n2"]


def test_dot_writer_reads_only_the_model():
    f = lecture_graph()
    graph = viz.from_value(f)
    assert viz.to_dot(graph).source == viz.draw(f).source
    # Change the model, not the Values: the drawing follows the model.
    graph.nodes[0] = ValueNode("v0", "w", "w", -2.0, -4.0)
    source = viz.draw(graph).source
    assert "{ w | data -2 | grad -4 }" in source and "∂q/∂w = 1" in source
    assert viz.draw(f).source != source


def test_json_of_the_lecture_graph():
    data = viz.to_json(lecture_graph())
    assert (data["format"], data["version"], data["root"], data["backward"]) == ("backprop-engine graph", 1, "v4", True)
    assert (data["max_nodes"], data["omitted"], data["note"]) == (viz.DEFAULT_MAX_NODES, 0, None)
    assert data["nodes"][0] == {"id": "v0", "kind": "value", "name": "x", "label": "x", "data": -2.0, "grad": -4.0,
                                "shape": None, "dtype": None, "grad_norm": None}
    assert data["nodes"][3] == {"id": "v2op", "kind": "op", "name": "+", "output": "v2", "fused": []}
    assert data["edges"][0] == {"source": "v2op", "target": "v2", "kind": "output",
                                "local": None, "upstream": None, "contribution": None}
    assert data["edges"][4] == {"source": "v2", "target": "v4op", "kind": "input",
                                "local": -4.0, "upstream": 1.0, "contribution": -4.0}
    assert json.loads(json.dumps(data, allow_nan=False)) == data  # plain dicts, lists, str, float, None


def test_json_ids_are_stable_and_a_reused_input_has_one_edge_per_use():
    def build():
        a = Value(3.0, label="a")
        b = a * a
        b.backward()
        return b

    assert viz.to_json(build()) == viz.to_json(build())
    edges = viz.to_json(build())["edges"]
    assert [(e["source"], e["target"], e["local"], e["contribution"]) for e in edges if e["kind"] == "input"] == [
        ("v0", "v1op", 3.0, 3.0), ("v0", "v1op", 3.0, 3.0)]


def test_json_is_strict_with_nan_and_infinities():
    x = Value(math.inf, label="x")
    y = Value(math.nan, label="y")
    f = x * 2 + y
    f.backward()
    data = viz.to_json(f)
    text = json.dumps(data, allow_nan=False)  # would raise on a float nan/inf
    by_id = {n["id"]: n for n in data["nodes"]}
    assert by_id["v0"]["data"] == "inf" and by_id["v3"]["data"] == "nan"
    assert json.loads(json.dumps(viz.to_json(Value(-math.inf) * 1)))["nodes"][0]["data"] == "-inf"
    assert json.loads(viz.dumps(f)) == json.loads(text)


def test_json_cap_keeps_the_values_nearest_the_output_and_edges_between_them():
    x = Value(1.0, label="x")
    y = x
    for _ in range(10):
        y = y * 2.0
    data = viz.to_json(y, max_nodes=3)
    values = [n for n in data["nodes"] if n["kind"] == "value"]
    assert [n["id"] for n in values] == ["v18", "v19", "v20"]
    assert data["omitted"] == 18
    assert data["note"] == "graph capped: showing the 3 values nearest the output, 18 more not drawn (max_nodes=3)"
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])


@pytest.mark.parametrize("bad, error", [(0, EngineValueError), (True, EngineTypeError), (2.5, EngineTypeError)])
def test_json_max_nodes_must_be_a_positive_int(bad, error):
    with pytest.raises(error, match="to_json: max_nodes must be a positive int"):
        viz.to_json(Value(1.0) * 2, max_nodes=bad)


def test_json_refuses_what_is_not_a_graph():
    with pytest.raises(EngineTypeError,
                       match=r"^to_json: expected a Value or a Tensor \(the root of a graph\), got list$"):
        viz.to_json([1, 2])


def test_json_of_a_deep_graph_does_not_recurse():
    x = Value(0.5, label="x")
    y = x
    for _ in range(100_000):
        y = y + x
    data = viz.to_json(y)
    assert data["omitted"] == 100_001 - viz.DEFAULT_MAX_NODES
    assert sum(n["kind"] == "value" for n in data["nodes"]) == viz.DEFAULT_MAX_NODES


def tensor_like_graph() -> Graph:
    """What issue 13's tensor adapter will make of ``loss = relu(x @ W + b).sum()``: PyTorch-style op
    names, tensors with shape/dtype/grad norm, a fused node, ops whose outputs are not kept."""
    return Graph(
        nodes=[
            ValueNode("t0", "x", "x", shape=(4, 3), dtype="float32"),
            ValueNode("t1", "W", "W", shape=(3, 2), dtype="float32", grad_norm=2.5),
            ValueNode("t2", "b", "b", shape=(2,), dtype="float32", grad_norm=0.75),
            OpNode("g0", "LinearReluBackward", fused=("AddmmBackward0", "ReluBackward0")),
            OpNode("g1", "SumBackward0", output="t3"),
            ValueNode("t3", "loss", "loss", data=1.25, grad=1.0, shape=(), dtype="float32"),
        ],
        edges=[Edge("t0", "g0"), Edge("t1", "g0"), Edge("t2", "g0"), Edge("g0", "g1"), Edge("g1", "t3")],
        root="t3",
        backward=True,
    )


def test_a_tensor_graph_fits_the_model_and_both_writers_draw_it():
    graph = tensor_like_graph()
    source = viz.to_dot(graph).source
    assert "{ W | (3, 2) float32 | ‖grad‖ 2.5 }" in source
    assert "LinearReluBackward\\n(AddmmBackward0 → ReluBackward0)" in source
    assert "g0 -> g1" in source and "g1 -> t3" in source
    data = viz.to_json(graph)
    assert data["nodes"][1]["shape"] == [3, 2] and data["nodes"][1]["grad_norm"] == 2.5
    assert data["nodes"][3]["fused"] == ["AddmmBackward0", "ReluBackward0"] and data["nodes"][3]["output"] is None
    assert [e["kind"] for e in data["edges"]] == ["input", "input", "input", "input", "output"]
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True).stdout
        assert b"SumBackward0" in svg


def test_render_json_and_the_command_line(tmp_path):
    f = lecture_graph()
    written = viz.render(f, tmp_path / "f.json")
    assert json.loads(written.read_text(encoding="utf-8")) == viz.to_json(f)
    out = tmp_path / "g.json"
    result = subprocess.run([sys.executable, "-m", "engine", "graph", "(x + y) * z", "x=-2", "y=5", "z=-4",
                             "-o", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [n["grad"] for n in data["nodes"] if n.get("label") in ("x", "y", "z")] == [-4.0, -4.0, 3.0]


def test_renderer_refuses_to_make_json_from_dot_text(tmp_path):
    from engine.viz import renderer

    with pytest.raises(EngineValueError, match="asks for JSON"):
        renderer.write("digraph {}", tmp_path / "f.json")
