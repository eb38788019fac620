"""Draw a ``Value`` graph with Graphviz: every value, every op, every edge's derivative.

Value nodes are boxes ``label | data | grad``; op nodes are separate ellipses; an edge
from an input to an op carries the local derivative ``∂out/∂in`` and, once backward has
run, the gradient it carried down (``upstream × local``). A value used twice has two edges.
Node names come from the topological order (not ``id()``), so the DOT text is the same on
every run and can be compared in tests.
"""

from __future__ import annotations

import graphviz

from engine.errors import EngineTypeError, EngineValueError
from engine.scalar.value import Value
from engine.viz import renderer
from engine.viz.steps import display_names, fmt

DEFAULT_MAX_NODES = 300


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


def draw(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local_grads: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Drawing:
    """Return a Graphviz drawing of the graph that produced ``root``.

    Args:
        root: the output node.
        rankdir: ``"LR"`` (inputs on the left) or ``"TB"``.
        show_grad: print each node's ``.grad`` and, after backward, each edge's contribution.
        show_local_grads: print ``∂out/∂in`` on each input edge.
        max_nodes: draw at most this many value nodes (those nearest the output) and say
            in the picture how many were left out; a positive int (there is no "no cap":
            pass a large number to draw a big graph whole).
    """
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
        raise EngineTypeError(f"draw: max_nodes must be a positive int, got {type(max_nodes).__name__} {max_nodes!r}")
    if max_nodes < 1:
        # 0 used to turn the cap off (a 20,000-node graph never finished rendering) and a
        # negative number sliced the inputs away: refuse both.
        raise EngineValueError(f"draw: max_nodes must be a positive int (at least 1), got {max_nodes}")
    if not isinstance(root, Value):
        raise EngineTypeError(f"draw: expected a Value, got {type(root).__name__}")
    order = root.nodes()
    names = display_names(order)
    index = {id(node): k for k, node in enumerate(order)}
    shown = order[-max_nodes:] if len(order) > max_nodes else order
    shown_ids = {id(node) for node in shown}
    after_backward = show_grad and root.grad != 0.0

    g = Drawing(name="backprop", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"})
    g.attr("node", fontname="Helvetica", fontsize="11")
    g.attr("edge", fontname="Helvetica", fontsize="9")
    if len(order) > len(shown):
        g.node(
            "note",
            f"graph capped: showing the {len(shown)} value{'s' if len(shown) > 1 else ''} nearest the output, "
            f"{len(order) - len(shown)} more not drawn (max_nodes={max_nodes})",
            shape="note",
            color="firebrick",
        )

    for node in shown:
        k = index[id(node)]
        fields = [_record_text(node.label)] if node.label else []
        fields.append(f"data {fmt(node.data)}")
        if show_grad:
            fields.append(f"grad {fmt(node.grad)}")
        g.node(f"v{k}", "{ " + " | ".join(fields) + " }", shape="record")
        if not node.parents:
            continue
        g.node(f"v{k}op", node.op, shape="ellipse", style="filled", fillcolor="#eef3fb")
        g.edge(f"v{k}op", f"v{k}")
        for parent, local in zip(node.parents, node.local_grads):
            if id(parent) not in shown_ids:
                continue
            label = []
            if show_local_grads:
                label.append(f"∂{names[id(node)]}/∂{names[id(parent)]} = {fmt(local)}")
            if after_backward:
                label.append(f"{fmt(node.grad)} × {fmt(local)} = {fmt(node.grad * local)}")
            g.edge(f"v{index[id(parent)]}", f"v{k}op", label="\\n".join(label))
    return g


def render(root: Value, path: str, **draw_options) -> renderer.Path:
    """Draw ``root``'s graph and write it to ``path`` (``.svg``, ``.png``, ``.pdf`` or ``.dot``).

    Uses the system ``dot`` when present, else ``graphviz-pure``; with neither, writes the
    ``.dot`` file and warns in one line how to install a renderer. Returns the path written.
    """
    return renderer.write(draw(root, **draw_options).source, path)
