"""Pictures and printouts of the chain rule: ``draw``, ``render``, ``to_json``, ``steps``.

One graph model (:mod:`engine.viz.graph`) sits between the graphs and the outputs: an adapter
turns a ``Value`` graph (:mod:`engine.viz.adapters`) or a tensor's autograd graph
(:mod:`engine.viz.tensor_adapter`, ``draw(loss, params=dict(model.named_parameters()))``) into
it, and the DOT writer (:mod:`engine.viz.dot`) and the JSON writer (:mod:`engine.viz.json_writer`) read only it.
"""

from engine.viz.adapters import DEFAULT_MAX_NODES, from_value, graph_of
from engine.viz.dot import Drawing, draw, render, to_dot
from engine.viz.graph import Edge, Graph, OpNode, ValueNode
from engine.viz.html import backprop_html
from engine.viz.json_writer import dumps, to_json
from engine.viz.renderer import RendererMissingWarning, RenderError, find_renderer
from engine.viz.steps import Step, format_steps, steps
from engine.viz.tensor_adapter import from_tensor

__all__ = [
    "DEFAULT_MAX_NODES",
    "Drawing",
    "Edge",
    "Graph",
    "OpNode",
    "RenderError",
    "RendererMissingWarning",
    "Step",
    "ValueNode",
    "backprop_html",
    "draw",
    "dumps",
    "find_renderer",
    "format_steps",
    "from_tensor",
    "from_value",
    "graph_of",
    "render",
    "steps",
    "to_dot",
    "to_json",
]
