"""Pictures and printouts of the chain rule: ``draw``, ``render``, ``to_json``, ``steps``.

One graph model (:mod:`engine.viz.graph`) sits between the graphs and the outputs: an adapter
turns a ``Value`` graph into it (:mod:`engine.viz.adapters`), and the DOT writer
(:mod:`engine.viz.dot`) and the JSON writer (:mod:`engine.viz.json_writer`) read only it.
"""

from engine.viz.adapters import DEFAULT_MAX_NODES, from_value, graph_of
from engine.viz.dot import Drawing, draw, render, to_dot
from engine.viz.graph import Edge, Graph, OpNode, ValueNode
from engine.viz.json_writer import dumps, to_json
from engine.viz.renderer import RendererMissingWarning, RenderError, find_renderer
from engine.viz.steps import Step, format_steps, steps

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
    "draw",
    "dumps",
    "find_renderer",
    "format_steps",
    "from_value",
    "graph_of",
    "render",
    "steps",
    "to_dot",
    "to_json",
]
