"""One self-contained web page that walks backward one edge at a time: :func:`backprop_html`.

The page holds everything inline (SVG, CSS, JS; nothing is fetched, it opens from ``file://``):
the graph, a chain-rule line per step, and the controls. Step 0 seeds the output's gradient
(``∂f/∂f = 1``); step k (1..N) is the k-th edge of backward in topological order (the order
:func:`engine.viz.steps` prints): the edge lights up, the panel shows *upstream grad ×
local derivative = contribution*, and the input's gradient is filled in (summed over its
uses so far). The picture comes from Graphviz when a renderer is installed
(:mod:`engine.viz.renderer`), else from a simple layered layout drawn here, so the page
works everywhere. A small tensor network steps the same way, one edge into each op at a time; a
tensor op's local derivative is a Jacobian (applied as a vector-Jacobian product, never written
out), so its steps show the gradients themselves: the numbers of a tensor of up to 16 elements,
else the norm.

Stable element ids (the browser tests and the playground use them):

    #graph                  the picture (inline SVG)
    #node-<id>              a node's group in the SVG; <id> is the model's node id (v0, v2op, ...)
    #edge-<k>               an edge's group; k is its index in the model's edge list (Graph.edges)
    svg text.grad[data-node=<id>]   a value node's gradient field in the picture ("grad ?" until reached)
    #grads                  table of the value nodes: td.name, td.data, td.grad[data-node=<id>]
                            (the gradient so far: "?" until reached, then the number, e.g. "-4")
    #prev, #next            buttons (disabled at the ends); #slider: <input type=range> 0..N
                            ArrowLeft / ArrowRight step too (unless typing in a text field)
    #step-index             "step k of N"
    #step-text              the chain-rule line: "∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4"
    #upstream, #local, #contribution   the step's three terms ("∂f/∂q = -4", "∂q/∂x = 1", "-4"; "" at step 0)
    #row-<id>               the table row of a value node (class receiving while its gradient arrives)
    #note                   the cap's note when the graph was too big to draw whole ("" otherwise)
    body[data-step]         the step shown; body[data-steps] the number of steps N;
                            body[data-state="ready"] once the page's script has run
    #backprop-data          <script type="application/json">: the steps (see :func:`page_data`)

Highlights while a step is shown: the edge ``#edge-<k>`` has class ``active``; the op's output
edge class ``upstream``; the node passing the gradient down class ``upstream``; the input
receiving it class ``receiving``.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.core.serialization import PathError, check_output_file
from engine.errors import EngineValueError
from engine.viz import renderer
from engine.viz.adapters import DEFAULT_MAX_NODES, graph_of
from engine.viz.graph import Edge, Graph, OpNode, ValueNode, fmt
from engine.viz.steps import Step

__all__ = ["LAYOUTS", "backprop_html", "backprop_page", "graph_svg", "page_data", "page_steps"]

LAYOUTS = ("auto", "graphviz", "builtin")  # auto: Graphviz when a renderer is installed, else builtin


# ----------------------------------------------------------------------------------------------- the steps


def _is_scalar(graph: Graph, inputs: dict[str, list[int]]) -> bool:
    """Whether every number needed to step ``graph`` is known: scalar values and every local derivative."""
    nodes = graph.by_id()
    if not all(node.data is not None and node.shape is None for node in graph.values):
        return False
    for op_id, edge_ids in inputs.items():
        op = nodes[op_id]
        if op.output is None or op.output not in nodes:
            return False
        if any(graph.edges[i].local is None for i in edge_ids):
            return False
    return True


def _value_field(node: ValueNode, scalar: bool, value: str) -> str:
    """The gradient field of a value node as the picture writes it: ``grad -4`` or ``‖grad‖ 2.5``."""
    return f"grad {value}" if scalar else f"‖grad‖ {value}"


def page_steps(graph: Graph) -> tuple[list[dict[str, Any]], bool]:
    """The steps of backward over ``graph`` and whether they are scalar steps (exact numbers).

    A scalar graph (a ``Value`` graph) is stepped numerically from the recorded local
    derivatives, as :func:`engine.viz.steps` does, so it works before or after ``backward()``
    and the lines are the same as ``format_steps`` prints. A tensor graph's local derivatives
    are Jacobians: its steps name the op and the input and give the gradient (its numbers for a
    small tensor, else its norm) when the model has it, filled in at the input's last use, when
    it is complete.

    Each step is a dict: ``edge`` (index into ``graph.edges``, ``None`` for step 0),
    ``out_edge`` (the op's output edge), ``node`` (the value passing the gradient down),
    ``op``, ``parent`` (the input receiving it), ``text`` (the chain-rule line),
    ``upstream``, ``local``, ``contribution`` (texts for the panel), and ``grad``: ``None``
    or ``[node id, value text, picture field text]`` for the gradient the step fills in.
    """
    nodes = graph.by_id()
    inputs: dict[str, list[int]] = {}
    out_edge: dict[str, int] = {}
    for k, edge in enumerate(graph.edges):
        if isinstance(nodes[edge.target], OpNode):
            inputs.setdefault(edge.target, []).append(k)
        else:
            out_edge[edge.source] = k
    scalar = _is_scalar(graph, inputs)
    root = nodes[graph.root]
    root_name = root.name
    uses: dict[str, int] = {}
    for edge_ids in inputs.values():
        for k in edge_ids:
            uses[graph.edges[k].source] = uses.get(graph.edges[k].source, 0) + 1

    if scalar:
        first_grad = [root.id, "1", _value_field(root, True, "1")]
    elif isinstance(root, ValueNode) and root.grad_norm is not None:
        table = _tensor_value(root.grad_values, root.shape, None) or fmt(root.grad_norm)
        first_grad = [root.id, table, _value_field(root, False, fmt(root.grad_norm))]
    else:
        first_grad = None
    steps: list[dict[str, Any]] = [{
        "edge": None, "out_edge": None, "node": root.id, "op": None, "parent": None,
        "text": f"∂{root_name}/∂{root_name} = 1", "upstream": "", "local": "", "contribution": "",
        "grad": first_grad,
    }]
    running: dict[str, float] = {root.id: 1.0}
    seen: dict[str, int] = {}
    for op in reversed(graph.nodes):
        if not isinstance(op, OpNode):
            continue
        out = nodes.get(op.output) if op.output is not None else None
        for k in inputs.get(op.id, []):
            edge = graph.edges[k]
            parent = nodes[edge.source]
            seen[parent.id] = seen.get(parent.id, 0) + 1
            step: dict[str, Any] = {
                "edge": k, "out_edge": out_edge.get(op.id), "node": out.id if out is not None else None,
                "op": op.id, "parent": parent.id,
            }
            if scalar:
                step.update(_scalar_step(edge, out, parent, root_name, running, seen[parent.id] == 1))
            else:
                step.update(_tensor_step(op, out, parent, root_name, seen[parent.id], uses[parent.id]))
            steps.append(step)
    return steps, scalar


def _scalar_step(edge: Edge, out: ValueNode, parent: ValueNode | OpNode, root: str,
                 running: dict[str, float], first: bool) -> dict[str, Any]:
    """One chain-rule step with its numbers; adds the contribution to ``running[parent]``."""
    upstream = running.get(out.id, 0.0)
    local = edge.local
    contribution = upstream * local
    running[parent.id] = running.get(parent.id, 0.0) + contribution
    line = Step(root=root, node=out.name, parent=parent.name, upstream=upstream, local=local,
                contribution=contribution, parent_grad=running[parent.id], first=first)
    total = fmt(running[parent.id])
    return {
        "text": str(line),
        "upstream": f"∂{root}/∂{out.name} = {fmt(upstream)}",
        "local": f"∂{out.name}/∂{parent.name} = {fmt(local)}",
        "contribution": fmt(contribution) + ("" if first else f" (∂{root}/∂{parent.name} now {total})"),
        "grad": [parent.id, total, _value_field(parent, True, total)],
    }


def _tensor_value(values: tuple[float, ...] | None, shape: tuple[int, ...] | None, norm: float | None) -> str | None:
    """A tensor's numbers folded to its shape (``[[-1.613], [1.057]]``) when the model has them,
    else ``‖·‖ = <norm>``, else ``None``."""
    if values is not None and shape is not None:
        import numpy as np

        array = np.asarray(values, dtype=np.float64).reshape(shape)
        text = np.array2string(array, separator=", ", formatter={"float_kind": fmt}, max_line_width=10**6)
        return text.replace("\n", "")
    return None if norm is None else f"‖·‖ = {fmt(norm)}"


def _tensor_step(op: OpNode, out: ValueNode | None, parent: ValueNode | OpNode, root: str,
                 use: int, uses: int) -> dict[str, Any]:
    """One step of a tensor graph: the gradient flows through ``op`` into ``parent``.

    The local derivative is the op's Jacobian, applied as a vector-Jacobian product (never
    written out); the step shows the gradients it maps between: the numbers of a small tensor
    (up to 16 elements, as the model keeps them), else their norms.
    """
    if out is not None:
        up = _tensor_value(out.grad_values, out.shape, out.grad_norm)
        upstream = f"∂{root}/∂{out.name} = {up}" if up is not None else f"∂{root}/∂{out.name}"
    else:
        upstream = "the gradient of the op's output"
    name = parent.name
    shape = f" {parent.shape}" if isinstance(parent, ValueNode) and parent.shape is not None else ""
    grad = None
    if use < uses:
        got = f"part {use} of {uses} of ∂{root}/∂{name} ({name} is used {uses} times; the parts add up)"
    elif not isinstance(parent, ValueNode):
        got = f"∂{root}/∂(output of {name})"
    elif parent.grad_norm is None:
        got = f"∂{root}/∂{name}: none kept ({name} does not require grad, or backward has not run)"
    else:
        value = _tensor_value(parent.grad_values, parent.shape, parent.grad_norm)
        got = f"∂{root}/∂{name} = {value}" + ("" if uses == 1 else f" (the sum of its {uses} parts)")
        table = value if parent.grad_values is not None else fmt(parent.grad_norm)
        grad = [parent.id, table, _value_field(parent, False, fmt(parent.grad_norm))]
    return {
        "text": f"{op.name} passes the gradient down to {name}{shape}: {got}",
        "upstream": upstream,
        "local": f"the Jacobian of {op.name}, applied as a vector-Jacobian product",
        "contribution": got,
        "grad": grad,
    }


# ----------------------------------------------------------------------------------------------- the picture


def _display_graph(graph: Graph, steps: list[dict[str, Any]], scalar: bool) -> Graph:
    """The graph as the picture draws it: local derivatives on the edges, no contributions, and
    each scalar's final gradient (so the box is as wide as the number it will show)."""
    final = {step["grad"][0]: step["grad"][1] for step in steps if step["grad"] is not None}
    nodes: list[ValueNode | OpNode] = []
    for node in graph.nodes:
        if isinstance(node, ValueNode) and scalar:
            node = replace(node, grad=float(final[node.id]) if node.id in final else 0.0)
        elif isinstance(node, ValueNode):  # a tensor's gradient numbers are shown by the steps, not up front
            node = replace(node, grad_values=None)
        nodes.append(node)
    edges = [replace(edge, upstream=None, contribution=None) for edge in graph.edges]
    return replace(graph, nodes=nodes, edges=edges)


_GROUP = re.compile(r'<g id="(node|edge)\d+" class="(?:node|edge)">\s*<title>(.*?)</title>(.*?)</g>', re.S)
_TEXT = re.compile(r"<text([^>]*)>(.*?)</text>", re.S)


def _graphviz_svg(graph: Graph, steps: list[dict[str, Any]], scalar: bool) -> str:
    """Graphviz's SVG of ``graph`` with our ids: ``node-<id>``, ``edge-<k>``, gradient fields marked."""
    from engine.viz.dot import to_dot

    shown = _display_graph(graph, steps, scalar)
    # A tensor's box lists shape and numbers: stacked (top to bottom) it stays narrow enough to read.
    svg = renderer.pipe(to_dot(shown, rankdir="LR" if scalar else "TB").source, "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    nodes = shown.by_id()
    # Graphviz titles an edge "a->b"; an input used twice by one op has two such edges, which
    # Graphviz numbers in the order they were written, the same order as in the model.
    pairs: dict[tuple[str, str], list[int]] = {}
    for k, edge in enumerate(graph.edges):
        pairs.setdefault((edge.source, edge.target), []).append(k)
    groups = [(m.group(1), html.unescape(m.group(2)), int(re.match(r'<g id="\w+?(\d+)"', m.group(0)).group(1)))
              for m in _GROUP.finditer(svg)]
    edge_ids: dict[int, int] = {}
    taken: dict[tuple[str, str], int] = {}
    for kind, title, number in sorted(groups, key=lambda g: g[2]):
        if kind == "edge":
            source, _, target = title.partition("->")
            ks = pairs.get((source, target), [])
            used = taken.get((source, target), 0)
            if used < len(ks):
                edge_ids[number] = ks[used]
                taken[(source, target)] = used + 1

    def rewrite(m: re.Match) -> str:
        kind, title, body = m.group(1), html.unescape(m.group(2)), m.group(3)
        number = int(re.match(r'<g id="\w+?(\d+)"', m.group(0)).group(1))
        if kind == "edge":
            k = edge_ids.get(number)
            group_id = f"edge-{k}" if k is not None else f"edge-x{number}"
            return f'<g id="{group_id}" class="edge">{m.group(0)[m.group(0).index("<title>"):]}'
        node = nodes.get(title)
        if isinstance(node, ValueNode):
            body = _mark_grad_field(body, node, scalar)
        return f'<g id="node-{html.escape(title)}" class="node" data-node="{html.escape(title)}">' \
               f"<title>{m.group(2)}</title>{body}</g>"

    return _GROUP.sub(rewrite, svg)


def _mark_grad_field(body: str, node: ValueNode, scalar: bool) -> str:
    """Mark the gradient's ``<text>`` in a node's group (class ``grad``) and blank its number."""
    wanted = _value_field(node, scalar, fmt(node.grad) if scalar else fmt(node.grad_norm or 0.0))
    prefix = "grad " if scalar else "‖grad‖ "
    found = [m for m in _TEXT.finditer(body) if html.unescape(m.group(2)) == wanted] or [
        m for m in _TEXT.finditer(body) if html.unescape(m.group(2)).startswith(prefix)]
    if not found:
        return body
    m = found[-1]
    text = f'<text class="grad" data-node="{html.escape(node.id)}"{m.group(1)}>{html.escape(prefix)}?</text>'
    return body[:m.start()] + text + body[m.end():]


def _layers(graph: Graph) -> dict[str, int]:
    """Each node's column: the longest path from an input; an input sits just left of its first reader."""
    ids = [node.id for node in graph.nodes]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for edge in graph.edges:
        preds[edge.target].append(edge.source)
        succs[edge.source].append(edge.target)
    # Kahn's algorithm: the model lists an op after its output value, so its order is not the drawing's.
    waiting = {i: len(preds[i]) for i in ids}
    ready = [i for i in ids if waiting[i] == 0]
    layer = dict.fromkeys(ids, 0)
    order: list[str] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j in succs[i]:
            layer[j] = max(layer[j], layer[i] + 1)
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
    for i in ids:
        if not preds[i] and succs[i]:
            layer[i] = max(0, min(layer[j] for j in succs[i]) - 1)
    return layer


_CHAR_W = 6.6  # average width of a character at font-size 11, in px
_ROW_H = 17


def _builtin_svg(graph: Graph, steps: list[dict[str, Any]], scalar: bool) -> str:
    """A left-to-right layered drawing of ``graph`` made here, for when Graphviz is not installed."""
    shown = _display_graph(graph, steps, scalar)
    layer = _layers(shown)
    boxes: dict[str, tuple[list[str], bool]] = {}  # id -> (text rows, is a value)
    for node in shown.nodes:
        if isinstance(node, ValueNode):
            rows = [node.label] if node.label else []
            if node.data is not None:
                rows.append(f"data {fmt(node.data)}")
            if node.shape is not None:
                rows.append(f"{node.shape} {node.dtype or ''}".rstrip())
            if scalar or node.grad_norm is not None:
                rows.append(_value_field(node, scalar, fmt(node.grad) if scalar else fmt(node.grad_norm)))
            boxes[node.id] = (rows or [node.name], True)
        else:
            rows = [node.name] + ([f"({' → '.join(node.fused)})"] if node.fused else [])
            boxes[node.id] = (rows, False)

    size = {i: (max(len(r) for r in rows) * _CHAR_W + (18 if value else 30), len(rows) * _ROW_H + 10)
            for i, (rows, value) in boxes.items()}
    columns: dict[int, list[str]] = {}
    for node in shown.nodes:
        columns.setdefault(layer[node.id], []).append(node.id)
    gap_x, gap_y, margin = 110.0, 22.0, 20.0
    heights = {c: sum(size[i][1] for i in ids) + gap_y * (len(ids) - 1) for c, ids in columns.items()}
    total_h = max(heights.values()) + 2 * margin
    pos: dict[str, tuple[float, float]] = {}  # id -> (left x, centre y)
    x = margin
    for c in sorted(columns):
        width = max(size[i][0] for i in columns[c])
        y = (total_h - heights[c]) / 2
        for i in columns[c]:
            pos[i] = (x + (width - size[i][0]) / 2, y + size[i][1] / 2)
            y += size[i][1] + gap_y
        x += width + gap_x
    total_w = x - gap_x + margin
    note_h = 24.0 if shown.note else 0.0

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="builtin-layout" width="{total_w:.0f}" '
           f'height="{total_h + note_h:.0f}" viewBox="0 0 {total_w:.0f} {total_h + note_h:.0f}" '
           'font-family="Helvetica,Arial,sans-serif">']
    if shown.note:
        out.append(f'<text x="{margin}" y="{total_h + 12:.0f}" font-size="11" fill="firebrick">'
                   f"{html.escape(shown.note)}</text>")
    nodes = shown.by_id()
    # Spread the ends of the edges at each node, so that parallel edges (a * a) stay apart.
    ends: dict[tuple[str, int], float] = {}
    for key in ("source", "target"):
        at: dict[str, list[int]] = {}
        for k, edge in enumerate(shown.edges):
            at.setdefault(getattr(edge, key), []).append(k)
        for node_id, ks in at.items():
            other = "target" if key == "source" else "source"
            ks.sort(key=lambda k: (pos[getattr(shown.edges[k], other)][1], k))
            spread = min(11.0, size[node_id][1] / (len(ks) + 1))
            for r, k in enumerate(ks):
                ends[(key, k)] = pos[node_id][1] + (r - (len(ks) - 1) / 2) * spread
    for k, edge in enumerate(shown.edges):
        sy, ty = ends[("source", k)], ends[("target", k)]
        x1, x2 = pos[edge.source][0] + size[edge.source][0], pos[edge.target][0] - 1
        mid = (x1 + x2) / 2
        out.append(f'<g id="edge-{k}" class="edge"><path fill="none" stroke="black" '
                   f'd="M{x1:.1f},{sy:.1f} C{mid:.1f},{sy:.1f} {mid:.1f},{ty:.1f} {x2 - 8:.1f},{ty:.1f}"/>'
                   f'<polygon fill="black" stroke="black" points="{x2:.1f},{ty:.1f} {x2 - 9:.1f},{ty - 3.5:.1f} '
                   f'{x2 - 9:.1f},{ty + 3.5:.1f}"/>')
        op = nodes[edge.target]
        if isinstance(op, OpNode) and edge.local is not None and op.output in nodes:
            # The label sits just after the input's box, above its edge, where no other edge runs yet.
            label = f"∂{nodes[op.output].name}/∂{nodes[edge.source].name} = {fmt(edge.local)}"
            up = -4 if sy <= ty else 11
            out.append(f'<text text-anchor="start" x="{x1 + 6:.1f}" y="{sy + up:.1f}" font-size="9">'
                       f"{html.escape(label)}</text>")
        out.append("</g>")
    for node in shown.nodes:
        (x0, cy), (w, h) = pos[node.id], size[node.id]
        rows, value = boxes[node.id]
        nid = html.escape(node.id)
        out.append(f'<g id="node-{nid}" class="node" data-node="{nid}"><title>{nid}</title>')
        if value:
            out.append(f'<polygon fill="white" stroke="black" points="{x0:.1f},{cy - h / 2:.1f} '
                       f'{x0 + w:.1f},{cy - h / 2:.1f} {x0 + w:.1f},{cy + h / 2:.1f} {x0:.1f},{cy + h / 2:.1f}"/>')
        else:
            out.append(f'<ellipse fill="#eef3fb" stroke="black" cx="{x0 + w / 2:.1f}" cy="{cy:.1f}" '
                       f'rx="{w / 2:.1f}" ry="{h / 2:.1f}"/>')
        top = cy - (len(rows) * _ROW_H) / 2
        for r, row in enumerate(rows):
            ty = top + _ROW_H * (r + 0.72)
            is_grad = value and r == len(rows) - 1 and (row.startswith("grad ") or row.startswith("‖grad‖ "))
            if is_grad:
                row = row[:row.index(" ") + 1] + "?"
                attrs = f' class="grad" data-node="{nid}"'
            else:
                attrs = ""
            out.append(f'<text{attrs} text-anchor="middle" x="{x0 + w / 2:.1f}" y="{ty:.1f}" '
                       f'font-size="11">{html.escape(row)}</text>')
            if value and r:
                out.append(f'<polyline fill="none" stroke="#999" points="{x0:.1f},{top + _ROW_H * r:.1f} '
                           f'{x0 + w:.1f},{top + _ROW_H * r:.1f}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def graph_svg(graph: Graph, steps: list[dict[str, Any]], scalar: bool, layout: str = "auto") -> tuple[str, str]:
    """The picture of ``graph`` as inline SVG with the page's ids, and which layout drew it.

    ``layout``: ``"graphviz"`` (the renderer chain; an error when none is installed),
    ``"builtin"`` (drawn here), or ``"auto"`` (Graphviz when installed and working, else builtin).
    """
    if layout not in LAYOUTS:
        raise EngineValueError(f"backprop_html: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "graphviz" or (layout == "auto" and renderer.find_renderer("svg") is not None):
        try:
            return _graphviz_svg(graph, steps, scalar), "graphviz"
        except renderer.RenderError:
            if layout == "graphviz":
                raise
    return _builtin_svg(graph, steps, scalar), "builtin"


# ----------------------------------------------------------------------------------------------- the page


def page_data(root: object, max_nodes: int = DEFAULT_MAX_NODES, layout: str = "auto",
              where: str = "backprop_html", params: Any = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data: ``svg`` (the picture), ``steps`` (see
    :func:`page_steps`), ``values`` (one entry per value node: ``id``, ``name``, ``data`` text,
    ``blank``: its gradient field before it is reached), ``root``, ``note`` (the cap's note or
    ``None``), ``scalar`` and ``layout`` (which layout drew the picture)."""
    if layout not in LAYOUTS:  # checked before any work
        raise EngineValueError(f"{where}: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    # params names a tensor graph's tensors (torchviz's spelling); a Value graph takes none.
    graph = graph_of(root, max_nodes, where) if params is None else graph_of(root, max_nodes, where, params=params)
    steps, scalar = page_steps(graph)
    svg, used = graph_svg(graph, steps, scalar, layout)
    values = []
    for node in graph.values:
        data = fmt(node.data) if node.data is not None else (
            f"{node.shape} {node.dtype or ''}".rstrip() if node.shape is not None else "")
        values.append({"id": node.id, "name": node.name, "data": data,
                       "blank": _value_field(node, scalar, "?")})
    return {"svg": svg, "steps": steps, "values": values, "root": graph.root, "note": graph.note,
            "scalar": scalar, "layout": used}


def script_json(data: object) -> str:
    """``data`` as JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` in the text."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


STEPPER_CSS = """
#graph { overflow: auto; max-height: 68vh; border: 1px solid #ddd; padding: 6px; background: #fff; }
#graph svg { max-width: 100%; height: auto; }
#graph .edge.active path { stroke: #d62728; stroke-width: 3; }
#graph .edge.active polygon { fill: #d62728; stroke: #d62728; }
#graph .edge.active text { fill: #d62728; font-weight: bold; }
#graph .edge.upstream path { stroke: #ff7f0e; stroke-width: 2.5; }
#graph .edge.upstream polygon { fill: #ff7f0e; stroke: #ff7f0e; }
#graph .node.upstream polygon, #graph .node.upstream ellipse { fill: #ffe9cc; }
#graph .node.receiving polygon, #graph .node.receiving ellipse { fill: #fdd; stroke: #d62728; stroke-width: 2; }
#graph text.grad { fill: #999; }
#graph text.grad.known { fill: #1a7f37; font-weight: bold; }
#controls { display: flex; align-items: center; gap: 10px; margin: 10px 0; flex-wrap: wrap; }
#slider { flex: 1; min-width: 160px; }
#step-index { font-variant-numeric: tabular-nums; min-width: 7em; }
#step-text { font-size: 1.15em; font-family: "DejaVu Sans Mono", Menlo, monospace; margin: 8px 0; min-height: 1.4em; }
#formula { display: flex; gap: 8px; align-items: stretch; flex-wrap: wrap; margin: 8px 0; }
#formula .term { border: 1px solid #ccc; border-radius: 6px; padding: 4px 10px; background: #fafafa; }
#formula .term small { display: block; color: #666; font-size: 0.8em; }
#formula .op { align-self: center; font-size: 1.3em; }
#grads { border-collapse: collapse; margin-top: 10px; }
#grads td, #grads th { border: 1px solid #ddd; padding: 2px 10px; text-align: right; }
#grads td.name { text-align: left; }
#grads tr.receiving td { background: #fdd; }
#grads td.grad.known { color: #1a7f37; font-weight: bold; }
#note { color: firebrick; }
"""

STEPPER_HTML = """
<div id="graph"></div>
<p id="note"></p>
<div id="controls">
  <button id="prev" type="button" title="previous step (←)">&larr; previous</button>
  <input id="slider" type="range" min="0" max="0" value="0" step="1" aria-label="step">
  <button id="next" type="button" title="next step (→)">next &rarr;</button>
  <span id="step-index"></span>
</div>
<div id="step-text"></div>
<div id="formula">
  <div class="term"><small>upstream grad</small><span id="upstream"></span></div><div class="op">&times;</div>
  <div class="term"><small>local derivative</small><span id="local"></span></div><div class="op">=</div>
  <div class="term"><small>contribution</small><span id="contribution"></span></div>
</div>
<table id="grads"><thead><tr><th>value</th><th>data</th><th>grad</th></tr></thead><tbody></tbody></table>
"""

# The stepper: window.backpropStepper.load(data) shows a graph (data from page_data), show(k) a step.
STEPPER_JS = r"""
(function () {
  "use strict";
  var state = { steps: [], values: [], k: 0 };
  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) { el.textContent = text; } }
  function mark(selector, cls) {
    if (selector === null || selector === undefined) { return; }
    var el = document.getElementById(selector);
    if (el) { el.classList.add(cls); }
  }
  function show(k) {
    var steps = state.steps, n = steps.length - 1;
    if (n < 0) {  // nothing loaded (the playground after a bad expression)
      ["step-index", "step-text", "upstream", "local", "contribution"].forEach(function (id) { setText(id, ""); });
      $("prev").disabled = true;
      $("next").disabled = true;
      $("slider").max = "0";
      document.body.setAttribute("data-step", "0");
      document.body.setAttribute("data-steps", "0");
      return;
    }
    k = Math.max(0, Math.min(n, Number(k) || 0));
    state.k = k;
    var grads = {}, i, s;
    for (i = 0; i <= k; i++) { s = steps[i]; if (s.grad) { grads[s.grad[0]] = s.grad; } }
    ["active", "upstream", "receiving"].forEach(function (cls) {
      document.querySelectorAll("#graph ." + cls + ", #grads ." + cls).forEach(function (el) {
        el.classList.remove(cls);
      });
    });
    s = steps[k];
    if (s.edge !== null) { mark("edge-" + s.edge, "active"); }
    if (s.out_edge !== null) { mark("edge-" + s.out_edge, "upstream"); }
    if (s.node !== null && s.parent !== null) { mark("node-" + s.node, "upstream"); }
    if (s.parent !== null) { mark("node-" + s.parent, "receiving"); mark("row-" + s.parent, "receiving"); }
    state.values.forEach(function (v) {
      var g = grads[v.id];
      document.querySelectorAll('#graph text.grad[data-node="' + v.id + '"]').forEach(function (el) {
        el.textContent = g ? g[2] : v.blank;
        el.classList.toggle("known", !!g);
      });
      var cell = document.querySelector('#grads td.grad[data-node="' + v.id + '"]');
      if (cell) { cell.textContent = g ? g[1] : "?"; cell.classList.toggle("known", !!g); }
    });
    setText("step-index", "step " + k + " of " + n);
    setText("step-text", s.text);
    setText("upstream", s.upstream);
    setText("local", s.local);
    setText("contribution", s.contribution);
    var slider = $("slider");
    slider.max = String(n);
    slider.value = String(k);
    $("prev").disabled = k === 0;
    $("next").disabled = k === n;
    document.body.setAttribute("data-step", String(k));
    document.body.setAttribute("data-steps", String(n));
  }
  function load(data) {
    if (data.svg !== undefined) { $("graph").innerHTML = data.svg; }
    state.steps = data.steps;
    state.values = data.values;
    setText("note", data.note || "");
    var body = document.querySelector("#grads tbody");
    body.textContent = "";
    data.values.forEach(function (v) {
      var tr = document.createElement("tr");
      tr.id = "row-" + v.id;
      [["name", v.name], ["data", v.data], ["grad", "?"]].forEach(function (cell) {
        var td = document.createElement("td");
        td.className = cell[0];
        td.textContent = cell[1];
        if (cell[0] === "grad") { td.setAttribute("data-node", v.id); }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    show(0);
  }
  function wire() {
    $("prev").addEventListener("click", function () { show(state.k - 1); });
    $("next").addEventListener("click", function () { show(state.k + 1); });
    $("slider").addEventListener("input", function (e) { show(e.target.value); });
    document.addEventListener("keydown", function (e) {
      var tag = e.target && e.target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.altKey || e.ctrlKey || e.metaKey) { return; }
      if (!state.steps.length) { return; }
      if (e.key === "ArrowRight") { show(state.k + 1); e.preventDefault(); }
      else if (e.key === "ArrowLeft") { show(state.k - 1); e.preventDefault(); }
    });
  }
  window.backpropStepper = { load: load, show: show, wire: wire, state: state };
})();
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.5em auto; max-width: 1100px;
       padding: 0 1em; color: #222; }}
h1 {{ font-size: 1.4em; }}
.hint {{ color: #666; }}
{css}
</style></head>
<body data-step="0">
<h1>{title}</h1>
<p class="hint">Backward, one edge at a time, in topological order: each step multiplies the gradient arriving
from above (upstream) by the edge's local derivative and adds the product to the input's gradient.
Use the buttons, the slider or the arrow keys.</p>
{stepper}
<script type="application/json" id="backprop-data">{data}</script>
<script>{js}
(function () {{
  var data = JSON.parse(document.getElementById("backprop-data").textContent);
  window.backpropStepper.wire();
  window.backpropStepper.load(data);
  document.body.setAttribute("data-state", "ready");
}})();
</script>
</body></html>
"""


def backprop_page(root: object, *, params: Any = None, title: str | None = None,
                  max_nodes: int = DEFAULT_MAX_NODES, layout: str = "auto") -> str:
    """The step-through page of ``root``'s graph as HTML text (see :func:`backprop_html`)."""
    data = page_data(root, max_nodes, layout, params=params)
    svg = data.pop("svg")
    if title is None:
        names = {node["id"]: node["name"] for node in data["values"]}
        title = f"Backward through {names.get(data['root'], 'the graph')}, step by step"
    stepper = STEPPER_HTML.replace('<div id="graph"></div>', f'<div id="graph">{svg}</div>')
    return _PAGE.format(title=html.escape(title), css=STEPPER_CSS, stepper=stepper,
                        data=script_json(data), js=STEPPER_JS)


def backprop_html(root: object, path: str | os.PathLike, *, params: Any = None, title: str | None = None,
                  max_nodes: int = DEFAULT_MAX_NODES, layout: str = "auto") -> Path:
    """Write one self-contained HTML page that steps through backward on ``root``'s graph.

    Args:
        root: the output: a ``Value``, a tensor (a small network's loss), or a model
            :class:`~engine.viz.graph.Graph`. Backward need not have run for a ``Value``: its
            graph is stepped from the local derivatives recorded at forward time. A tensor's
            steps show its gradients (numbers up to 16 elements, else norms) after ``backward()``.
        path: the ``.html`` file to write (its folder is made; a folder as ``path`` is a one-line error).
        params: names for a tensor graph's tensors, ``dict(model.named_parameters())`` (as ``draw``).
        title: the page's heading (default: "Backward through f, step by step").
        max_nodes: at most this many value nodes (those nearest the output), as in ``draw``.
        layout: ``"auto"`` (Graphviz when installed, else a layout drawn here), ``"graphviz"``
            or ``"builtin"``.

    The page needs no network and no server: open it from disk. Returns the path written.
    """
    path = check_output_file(path, "backprop_html")  # a folder or an unwritable place fails before any work
    text = backprop_page(root, params=params, title=title, max_nodes=max_nodes, layout=layout)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PathError(f"backprop_html: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path
