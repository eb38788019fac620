"""Tensor graphs in engine.viz: the adapter's model (names, shapes, gradients), fused nodes,
modules folded into boxes, the cap, and the DOT, SVG and JSON written from them."""

import json
import shutil

import numpy as np
import pytest

import engine
import engine.nn as nn
import engine.nn.functional as F
from engine import viz
from engine.errors import EngineTypeError, EngineValueError
from engine.viz.graph import OpNode, ValueNode


def mlp_and_loss(backward: bool = True, hidden: int = 4):
    """A 2-layer MLP (Linear + ReLU fused by Sequential, then Linear) and its MSE loss on 5 rows."""
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    x, y = engine.randn(5, 2), engine.randn(5, 1)
    loss = F.mse_loss(model(x), y)
    if backward:
        loss.backward()
    return model, x, y, loss


def values(graph):
    return [n for n in graph.nodes if isinstance(n, ValueNode)]


def ops(graph):
    return [n for n in graph.nodes if isinstance(n, OpNode)]


def grad_of(t) -> np.ndarray:
    return t.grad.numpy().astype(np.float64)


def test_mlp_structure_before_backward():
    model, x, y, loss = mlp_and_loss(backward=False)
    graph = viz.from_tensor(loss, params=dict(model.named_parameters()))
    assert [n.name for n in ops(graph)] == ["Linear + ReLU", "AddmmBackward0", "MseLossBackward0"]
    vs = values(graph)
    assert [v.label for v in vs] == ["input", "0.weight", "0.bias", "", "2.weight", "2.bias", "", "input", ""]
    assert [v.shape for v in vs] == [(5, 2), (4, 2), (4,), (5, 4), (1, 4), (1,), (5, 1), (5, 1), ()]
    assert {v.dtype for v in vs} == {"float32"}
    assert len(graph.edges) == 3 + 3 + 2 + 3  # inputs of each op, and each op to its output
    assert graph.root == "v8" and not graph.backward and graph.omitted == 0
    assert all(v.grad_norm is None and v.grad_values is None for v in vs)
    # Small tensors show their numbers; the (5, 4) hidden layer (20 elements) does not.
    assert vs[2].values == pytest.approx(tuple(model[0].bias.detach().numpy()))
    assert vs[8].values == pytest.approx((loss.item(),)) and vs[3].values is None
    by_id = graph.by_id()
    assert [(e.source, e.target) for e in graph.edges if e.target == "v8op"] == [("v6", "v8op"), ("v7", "v8op")]
    assert by_id["v8op"].output == "v8"


def test_gradients_after_backward_match_the_tensors_and_one_backward_pass():
    model, x, y, loss = mlp_and_loss()
    before = {name: grad_of(p) for name, p in model.named_parameters()}
    graph = viz.from_tensor(loss, params=dict(model.named_parameters()))
    assert graph.backward
    by_label = {v.label: v for v in values(graph)}
    for name, p in model.named_parameters():
        assert by_label[name].grad_norm == pytest.approx(float(np.linalg.norm(grad_of(p))), rel=1e-6)
        if p.numel() <= 16:
            assert by_label[name].grad_values == pytest.approx(tuple(grad_of(p).ravel()), rel=1e-6)
    # The prediction's gradient, recomputed on the side: d mean((p - y)^2) / dp = 2 (p - y) / n.
    pred = model(x).detach().numpy().astype(np.float64)
    expected = 2 * (pred - y.numpy()) / pred.size
    v6 = graph.by_id()["v6"]
    assert v6.grad_values == pytest.approx(tuple(expected.ravel()), rel=1e-5)
    assert graph.by_id()["v8"].grad_values == (1.0,)
    assert graph.by_id()["v0"].grad_norm is None  # the input does not require grad
    # Drawing never touches .grad.
    assert all(np.array_equal(before[name], grad_of(p)) for name, p in model.named_parameters())


def test_hidden_gradient_equals_retain_grad():
    engine.manual_seed(1)
    w = engine.randn(3, 2, requires_grad=True)
    x = engine.randn(6, 3)
    h = (x @ w).tanh()
    h.retain_grad()
    loss = (h * h).sum()
    loss.backward()
    graph = viz.from_tensor(loss, params={"w": w, "x": x})
    assert [n.name for n in ops(graph)] == ["MmBackward0", "TanhBackward0", "MulBackward0", "SumBackward0"]
    tanh_out = graph.by_id()["v3"]
    assert tanh_out.shape == (6, 2)
    assert tanh_out.grad_values == pytest.approx(tuple(grad_of(h).ravel()), rel=1e-6)
    # h * h reads h twice: two edges from it into the same op.
    assert [(e.source, e.target) for e in graph.edges if e.target == "v4op"] == [("v3", "v4op"), ("v3", "v4op")]
    assert graph.by_id()["v0"].label == "x" and graph.by_id()["v1"].label == "w"


def test_dot_text_says_what_matters():
    model, _, _, loss = mlp_and_loss()
    source = viz.draw(loss, params=dict(model.named_parameters())).source
    assert "Linear + ReLU\\n(AddmmBackward0 → ReluBackward0)" in source  # the fused node says what it fuses
    w = model[0].weight
    assert "{ 0.weight | (4, 2) float32 | data " in source
    assert f"‖grad‖ {float(np.linalg.norm(grad_of(w))):.4g}" in source
    assert "{ 2.bias | (1,) float32 | data " in source and "MseLossBackward0" in source
    assert "v6 -> v8op" in source and "v8op -> v8" in source
    assert viz.draw(loss, params=dict(model.named_parameters()), show_grad=False).source.count("grad") == 0


def test_sigmoid_and_tanh_fusions_are_named():
    engine.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 2), nn.Tanh())
    out = model(engine.randn(2, 3)).sum()
    names = [n.name for n in ops(viz.from_tensor(out))]
    assert names == ["Linear + Sigmoid", "Linear + Tanh", "SumBackward0"]


def deep_model():
    engine.manual_seed(3)
    layers = []
    for _ in range(4):
        layers += [nn.Linear(3, 3), nn.Tanh()]
    model = nn.Sequential(*layers, nn.Linear(3, 1))
    loss = F.mse_loss(model(engine.randn(4, 3)), engine.randn(4, 1))
    loss.backward()
    return model, loss


def test_collapse_module_draws_one_box_per_module():
    model, loss = deep_model()
    full = viz.from_tensor(loss, model=model)
    assert len(ops(full)) == 6
    graph = viz.from_tensor(loss, model=model, collapse="module")
    boxes = [n for n in ops(graph) if n.module is not None]
    assert [b.module for b in boxes] == ["0", "2", "4", "6", "8"]
    assert [b.name for b in boxes][:2] == ["0 (Linear)", "2 (Linear)"]
    assert boxes[0].fused == ("Linear + Tanh",) and boxes[-1].fused == ("AddmmBackward0",)
    assert [n.name for n in ops(graph) if n.module is None] == ["MseLossBackward0"]
    # Left: the input, each box's output, the target and the loss; no parameter is drawn.
    assert [v.label for v in values(graph)] == ["input", "", "", "", "", "", "input", ""]
    ids = {n.id for n in graph.nodes}
    assert all(e.source in ids and e.target in ids for e in graph.edges)
    prediction = next(e.source for e in graph.edges if e.target == graph.nodes[-2].id)  # into the MSE op
    assert {(e.source, e.target) for e in graph.edges} >= {("m0", "v3"), ("v3", "m1"), ("m4", prediction)}
    assert graph.by_id()["m4"].output == prediction
    # Without model=, the params' names give the modules.
    by_params = viz.from_tensor(loss, params=dict(model.named_parameters()), collapse="module")
    assert [n.name for n in ops(by_params)] == ["0", "2", "4", "6", "8", "MseLossBackward0"]
    source = viz.draw(loss, model=model, collapse="module").source
    assert source.count("style=\"rounded,filled\"") == 5 and "0 (Linear)\\n(Linear + Tanh)" in source


def test_collapse_keeps_param_free_ops_inside_a_module():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = nn.Linear(2, 2)

        def forward(self, x):
            return self.b(self.a(x).relu())  # the relu reads no parameter but lives inside

    engine.manual_seed(4)
    model = nn.Sequential(Block(), nn.Linear(2, 1))
    loss = model(engine.randn(3, 2)).sum()
    graph = viz.from_tensor(loss, model=model, collapse="module")
    assert [(n.name, n.fused) for n in ops(graph)] == [
        ("0 (Block)", ("AddmmBackward0", "ReluBackward0", "AddmmBackward0")),
        ("1 (Linear)", ("AddmmBackward0",)),
        ("SumBackward0", ()),
    ]


def test_a_big_graph_is_capped_and_says_so():
    x = engine.randn(3, requires_grad=True)
    y = x
    for _ in range(60):
        y = y * 1.01
    loss = y.sum()
    graph = viz.from_tensor(loss, max_nodes=10)
    assert len(values(graph)) == 10 and graph.omitted == 62 - 10
    assert graph.root == "v61" and values(graph)[-1].id == "v61"
    ids = {n.id for n in graph.nodes}
    assert all(e.source in ids and e.target in ids for e in graph.edges)
    source = viz.draw(loss, max_nodes=10).source
    assert "graph capped: showing the 10 values nearest the output, 52 more not drawn (max_nodes=10)" in source
    assert viz.to_json(loss, max_nodes=10)["omitted"] == 52


def test_a_tensor_outside_any_graph_is_one_box():
    t = engine.tensor([1.0, 2.0, 3.0])
    graph = viz.from_tensor(t)
    assert len(graph.nodes) == 1 and graph.edges == [] and graph.root == "v0"
    assert graph.nodes[0].values == (1.0, 2.0, 3.0) and graph.nodes[0].label == "input"
    assert "{ input | (3,) float32 | data [1, 2, 3] }" in viz.draw(t).source
    leaf = engine.tensor([[1.0, 2.0]], requires_grad=True)
    assert "{ w | (1, 2) float32 | data [[1, 2]] }" in viz.draw(leaf, params={"w": leaf}).source


def test_bad_arguments_are_one_line_errors():
    model, _, _, loss = mlp_and_loss(backward=False)
    with pytest.raises(EngineTypeError, match=r"^draw: params must be a dict of name -> tensor, such as dict\("):
        viz.draw(loss, params=list(model.parameters()))
    with pytest.raises(EngineTypeError, match="^draw: params must map names"):
        viz.draw(loss, params={"w": 3})
    with pytest.raises(EngineValueError, match="^draw: collapse must be None or 'module', got 'layer'$"):
        viz.draw(loss, collapse="layer")
    with pytest.raises(EngineValueError, match="^to_json: collapse='module' needs to know the modules"):
        viz.to_json(loss, collapse="module")
    with pytest.raises(EngineTypeError, match="^draw: model must be an nn.Module, got dict$"):
        viz.draw(loss, model={})
    with pytest.raises(EngineTypeError, match="^draw: params= applies to a tensor graph"):
        viz.draw(engine.Value(1.0), params={})


def test_json_of_a_tensor_graph():
    model, _, _, loss = mlp_and_loss()
    data = viz.to_json(loss, params=dict(model.named_parameters()))
    json.dumps(data, allow_nan=False)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["v1"]["label"] == "0.weight" and nodes["v1"]["shape"] == [4, 2] and nodes["v1"]["dtype"] == "float32"
    assert nodes["v1"]["grad_values"] == pytest.approx(list(grad_of(model[0].weight).ravel()), rel=1e-6)
    assert "values" not in nodes["v3"] and nodes["v3"]["grad_norm"] > 0
    assert nodes["v3op"]["fused"] == ["AddmmBackward0", "ReluBackward0"] and "module" not in nodes["v3op"]
    boxes = viz.to_json(loss, model=model, collapse="module")["nodes"]
    assert [n["module"] for n in boxes if "module" in n] == ["0", "2"]
    # A Value graph's JSON has no tensor-only keys.
    v = viz.to_json(engine.Value(2.0) * 3)
    assert all("values" not in n and "module" not in n for n in v["nodes"])


def test_render_writes_json_and_svg(tmp_path):
    model, _, _, loss = mlp_and_loss()
    params = dict(model.named_parameters())
    written = viz.render(loss, tmp_path / "g.json", params=params)
    assert json.loads(written.read_text(encoding="utf-8")) == viz.to_json(loss, params=params)
    dot = viz.render(loss, tmp_path / "g.dot", params=params)
    assert dot.read_text(encoding="utf-8") == viz.draw(loss, params=params).source
    if not shutil.which("dot"):
        pytest.skip("the system Graphviz `dot` is not installed; the SVG check needs it")
    svg = viz.render(loss, tmp_path / "g.svg", params=params).read_text(encoding="utf-8")
    assert "MseLossBackward0" in svg and "0.weight" in svg and "Linear + ReLU" in svg
    # Jupyter shows the Drawing through the same renderer.
    assert "AddmmBackward0" in viz.draw(loss, params=params)._repr_image_svg_xml()
