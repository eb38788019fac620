"""Draw a computation graph with Graphviz: every value, every op, every edge's derivative.

Value nodes are boxes ``label | data | grad`` (a tensor: ``label | shape dtype | ‖grad‖``, and
for a small tensor its numbers and its gradient's); op nodes are separate ellipses, a module
folded by ``collapse="module"`` a rounded box; an edge from an input to an op carries the local
derivative ``∂out/∂in`` and, once backward has run, the gradient it carried down
(``upstream × local``). A value used twice has two edges. The writer reads only the model
(:mod:`engine.viz.graph`); node names come from the topological order (not ``id()``), so
the DOT text is the same on every run and can be compared in tests.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Any

import graphviz

from engine.errors import EngineValueError
from engine.viz import renderer
from engine.viz.adapters import DEFAULT_MAX_NODES, graph_of
from engine.viz.graph import Edge, Graph, OpNode, ValueNode, fmt
from engine.viz.json_writer import dumps

__all__ = ["DEFAULT_MAX_NODES", "Drawing", "draw", "render", "to_dot"]


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that displays inline in Jupyter through our renderer chain
    (the system ``dot`` or ``graphviz-pure``), so notebooks work without system Graphviz."""

    def _repr_image_svg_xml(self) -> str:
        return renderer.pipe(self.source, "svg").decode("utf-8")


def _record_text(text: str) -> str:
    """Escape the characters that mean something inside a Graphviz record label."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def fmt_array(values: tuple[float, ...], shape: tuple[int, ...] | None) -> str:
    """Flattened ``values`` folded to ``shape`` as a person writes them: ``[[1, 2], [3, 4]]``, ``0.25``."""
    if not shape:
        return fmt(values[0]) if len(values) == 1 else "[" + ", ".join(fmt(v) for v in values) + "]"
    if len(shape) == 1:
        return "[" + ", ".join(fmt(v) for v in values) + "]"
    step = len(values) // shape[0] if shape[0] else 0
    return "[" + ", ".join(fmt_array(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])) + "]"


def _value_label(node: ValueNode, show_grad: bool) -> str:
    """The record ``{ label | data 3 | grad -4 }`` (a tensor: ``{ W | (3, 1) float32 | ‖grad‖ 2.5 }``,
    and a small tensor's numbers: ``{ b | (2,) float32 | data [0.1, -0.2] | ‖grad‖ 0.5 | grad [0.3, 0.4] }``)."""
    fields = [_record_text(node.label)] if node.label else []
    if node.data is not None:
        fields.append(f"data {fmt(node.data)}")
    if node.shape is not None:
        fields.append(_record_text(f"{node.shape} {node.dtype or ''}".rstrip()))
    if node.values is not None:
        fields.append(_record_text(f"data {fmt_array(node.values, node.shape)}"))
    if show_grad and node.grad is not None:
        fields.append(f"grad {fmt(node.grad)}")
    if show_grad and node.grad_norm is not None:
        fields.append(f"‖grad‖ {fmt(node.grad_norm)}")
    if show_grad and node.grad_values is not None:
        fields.append(_record_text(f"grad {fmt_array(node.grad_values, node.shape)}"))
    return "{ " + " | ".join(fields) + " }"


def _op_label(node: OpNode) -> str:
    """The op's name; a fused node also lists the ops it runs."""
    return f"{node.name}\\n({' → '.join(node.fused)})" if node.fused else node.name


def _edge_label(edge: Edge, nodes: dict, show_grad: bool, show_local_grads: bool) -> str:
    """``∂q/∂x = 1`` and, after backward, ``-4 × 1 = -4``, one per line."""
    lines = []
    op = nodes[edge.target]
    if show_local_grads and edge.local is not None and op.output is not None:
        lines.append(f"∂{nodes[op.output].name}/∂{nodes[edge.source].name} = {fmt(edge.local)}")
    if show_grad and edge.contribution is not None:
        lines.append(f"{fmt(edge.upstream)} × {fmt(edge.local)} = {fmt(edge.contribution)}")
    return "\\n".join(lines)


_HIGHLIGHT = {"color": "firebrick", "penwidth": "2.5", "style": "filled", "fillcolor": "#f9d6d5"}


def to_dot(
    graph: Graph,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local_grads: bool = True,
    highlight: Collection[str] = (),
    title: str | None = None,
) -> Drawing:
    """Write the model ``graph`` as a Graphviz drawing (see :func:`draw` for the options).

    Nodes are written in the model's order, each edge right after the later of its two ends,
    and the note saying what the cap left out (if anything) first. Nodes whose id is in
    ``highlight`` are drawn red; ``title`` is printed above the graph.
    """
    attrs = {"rankdir": rankdir, "fontname": "Helvetica"}
    if title:
        attrs.update(label=title, labelloc="t", fontcolor="firebrick")
    g = Drawing(name="backprop", graph_attr=attrs)
    g.attr("node", fontname="Helvetica", fontsize="11")
    g.attr("edge", fontname="Helvetica", fontsize="9")
    if graph.note:
        g.node("note", graph.note, shape="note", color="firebrick")

    nodes = graph.by_id()
    position = {node.id: k for k, node in enumerate(graph.nodes)}
    edges_after: list[list[Edge]] = [[] for _ in graph.nodes]
    for edge in graph.edges:
        edges_after[max(position[edge.source], position[edge.target])].append(edge)

    for node, edges in zip(graph.nodes, edges_after):
        marked = _HIGHLIGHT if node.id in highlight else {}
        if isinstance(node, ValueNode):
            g.node(node.id, _value_label(node, show_grad), shape="record", **marked)
        elif node.module is not None:  # a whole module, folded by collapse="module"
            g.node(node.id, _op_label(node), **{"shape": "box", "style": "rounded,filled", "fillcolor": "#fdf1dc",
                                                **marked})
        else:
            g.node(node.id, _op_label(node), **{"shape": "ellipse", "style": "filled", "fillcolor": "#eef3fb",
                                                **marked})
        for edge in edges:
            if isinstance(nodes[edge.target], OpNode):  # an input edge carries the calculus
                g.edge(edge.source, edge.target, label=_edge_label(edge, nodes, show_grad, show_local_grads))
            else:
                g.edge(edge.source, edge.target)
    return g


def draw(
    root: object,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local_grads: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    params: Mapping[str, Any] | None = None,
    collapse: str | None = None,
    model: Any = None,
    highlight: Collection[Any] = (),
    title: str | None = None,
) -> Drawing:
    """Return a Graphviz drawing of the graph that produced ``root``.

    ``draw(loss, params=dict(model.named_parameters()))`` draws a tensor graph (torchviz's
    ``make_dot`` spelling): PyTorch's node names, each tensor's shape and dtype and, after
    backward, its gradient's norm (and numbers, for up to 16 elements).

    Args:
        root: the output node (a ``Value`` or a tensor), or a model :class:`~engine.viz.graph.Graph`.
        rankdir: ``"LR"`` (inputs on the left) or ``"TB"``.
        show_grad: print each node's ``.grad`` and, after backward, each edge's contribution.
        show_local_grads: print ``∂out/∂in`` on each input edge.
        max_nodes: draw at most this many value nodes (those nearest the output) and say
            in the picture how many were left out; a positive int (there is no "no cap":
            pass a large number to draw a big graph whole).
        params: a tensor graph's names for its tensors, ``dict(model.named_parameters())``
            (``0.weight``); any tensor may be named (``{"x": x, **params}``).
        collapse: ``"module"`` draws one box per top-level module (known from ``model`` or the
            ``params`` names' first part); ``None`` draws every op.
        model: the module that made a tensor ``root``: names the boxes (``0 (Linear)``) and,
            without ``params``, the parameters.
        highlight: nodes to draw in red: ``Value`` objects of ``root``'s graph, or node ids
            of the model (``"v3"``, ``"v3op"``); a Value's op is marked with it.
        title: a line printed above the graph (what the red marks mean, say).
    """
    graph = graph_of(root, max_nodes, "draw", params, collapse, model)
    return to_dot(graph, rankdir, show_grad, show_local_grads, _highlight_ids(root, graph, highlight), title)


def _highlight_ids(root: object, graph: Graph, highlight: Collection[Any]) -> set[str]:
    """The model ids of ``highlight``: ids pass through; a Value of ``root``'s graph is ``v<k>`` (and its op)."""
    ids: set[str] = set()
    wanted = [h for h in highlight if not isinstance(h, str)]
    ids.update(h for h in highlight if isinstance(h, str))
    if wanted:
        order = root.nodes() if hasattr(root, "nodes") and callable(root.nodes) else []
        where = {id(node): k for k, node in enumerate(order)}
        for h in wanted:
            if id(h) not in where:
                raise EngineValueError(f"draw: highlight: {h!r} is not a Value of this graph")
            ids.update((f"v{where[id(h)]}", f"v{where[id(h)]}op"))
    known = set(graph.by_id())
    return ids & known


def render(root: object, path: str | os.PathLike, **draw_options) -> renderer.Path:
    """Draw ``root``'s graph and write it to ``path`` (``.svg``, ``.png``, ``.pdf``, ``.dot`` or ``.json``).

    Uses the system ``dot`` when present, else ``graphviz-pure``; with neither, writes the
    ``.dot`` file and warns in one line how to install a renderer. ``.json`` writes
    :func:`engine.viz.to_json` (of the options, ``max_nodes``, ``params``, ``collapse`` and
    ``model`` apply to it). Returns the path written.
    """
    if os.fspath(path).lower().endswith(".json"):
        tensor_options = {k: draw_options.get(k) for k in ("params", "collapse", "model")}
        graph = graph_of(root, draw_options.get("max_nodes", DEFAULT_MAX_NODES), "render", **tensor_options)
        return renderer.write_text(dumps(graph) + "\n", path)
    return renderer.write(draw(root, **draw_options).source, path)
