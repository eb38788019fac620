"""Write the drawing's model as JSON-ready data: plain dicts, lists, strings, numbers and ``None``.

For a web page, a notebook widget or a test that wants the graph's numbers rather than its
picture. Like the DOT writer, it reads only the model (:mod:`engine.viz.graph`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from engine.viz.adapters import DEFAULT_MAX_NODES, graph_of
from engine.viz.graph import Edge, OpNode, ValueNode

FORMAT = "backprop-engine graph"
VERSION = 1


def _number(x: float | None) -> float | str | None:
    """A float as strict JSON holds it: NaN and infinities become the strings ``"nan"``, ``"inf"``, ``"-inf"``."""
    if x is None or math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _node(node: ValueNode | OpNode) -> dict[str, Any]:
    if isinstance(node, ValueNode):
        data = {
            "id": node.id,
            "kind": "value",
            "name": node.name,
            "label": node.label,
            "data": _number(node.data),
            "grad": _number(node.grad),
            "shape": None if node.shape is None else list(node.shape),
            "dtype": node.dtype,
            "grad_norm": _number(node.grad_norm),
        }
        # A small tensor's numbers: keys present only when known, so a Value graph's JSON is as before.
        if node.values is not None:
            data["values"] = [_number(x) for x in node.values]
        if node.grad_values is not None:
            data["grad_values"] = [_number(x) for x in node.grad_values]
        return data
    op = {"id": node.id, "kind": "op", "name": node.name, "output": node.output, "fused": list(node.fused)}
    if node.module is not None:
        op["module"] = node.module
    return op


def _edge(edge: Edge, ops: set[str]) -> dict[str, Any]:
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": "input" if edge.target in ops else "output",
        "local": _number(edge.local),
        "upstream": _number(edge.upstream),
        "contribution": _number(edge.contribution),
    }


def to_json(
    root: object,
    max_nodes: int = DEFAULT_MAX_NODES,
    params: Mapping[str, Any] | None = None,
    collapse: str | None = None,
    model: Any = None,
) -> dict[str, Any]:
    """The graph that produced ``root`` (a ``Value``, a tensor, or a model ``Graph``) as JSON-ready data.

    ``params``, ``collapse`` and ``model`` apply to a tensor graph, as in :func:`engine.viz.draw`.

    ``json.dumps(to_json(f), allow_nan=False)`` works: every number is finite or one of the
    strings ``"nan"``, ``"inf"``, ``"-inf"``. The schema (version 1)::

        {
          "format": "backprop-engine graph", "version": 1,
          "root": "v4",              # id of the output node
          "backward": true,          # the grads are those of a backward pass from the root
          "max_nodes": 300,          # the cap applied (at most this many value nodes)
          "omitted": 0,              # value nodes the cap left out
          "note": null,              # the sentence saying so ("graph capped: ..."), or null
          "nodes": [                 # inputs first (a topological order)
            {"id": "v0", "kind": "value",
             "name": "x",            # how formulas name it: its label, else "n<k>"
             "label": "x",           # the user's label, "" when none
             "data": -2.0, "grad": -4.0,               # a scalar's number and d root / d it
             "shape": null, "dtype": null, "grad_norm": null},  # a tensor's (null for a scalar)
            {"id": "v2op", "kind": "op",
             "name": "+",            # the op: "+", "tanh", ... (a tensor graph: "AddBackward0", ...)
             "output": "v2",         # id of the value it produced (null when not in the graph)
             "fused": []},           # the ops a fused node runs, in order
            ...
          ],
          "edges": [
            {"source": "v2op", "target": "v2", "kind": "output",   # op -> the value it made
             "local": null, "upstream": null, "contribution": null},
            {"source": "v0", "target": "v2op", "kind": "input",    # input -> the op that read it
             "local": 1.0,           # d(op output) / d(input), recorded at forward time
             "upstream": -4.0,       # d root / d(op output); null before backward
             "contribution": -4.0},  # upstream * local; null before backward
            ...
          ]
        }

    Node ids are ``v<k>`` (``k``: the value's place in the topological order of the whole
    graph) and ``v<k>op`` for the op that made ``v<k>``: the same graph gives the same ids
    on every run. An input used twice by one op has two edges.

    A tensor graph's nodes have the same keys (``data`` and ``grad`` null, ``shape``, ``dtype``
    and ``grad_norm`` set; op names such as ``"AddmmBackward0"``); a tensor of at most 16
    elements adds ``"values"`` (its numbers, flattened in row-major order) and, after backward,
    ``"grad_values"``; a box of ``collapse="module"`` (id ``m<i>``) adds ``"module": "0"`` and
    lists the ops it folds in ``fused``.
    """
    graph = graph_of(root, max_nodes, "to_json", params, collapse, model)
    ops = {node.id for node in graph.nodes if isinstance(node, OpNode)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "root": graph.root,
        "backward": graph.backward,
        "max_nodes": graph.max_nodes,
        "omitted": graph.omitted,
        "note": graph.note,
        "nodes": [_node(node) for node in graph.nodes],
        "edges": [_edge(edge, ops) for edge in graph.edges],
    }


def dumps(root: object, max_nodes: int = DEFAULT_MAX_NODES, **tensor_options: Any) -> str:
    """:func:`to_json` as JSON text (indented, UTF-8 labels kept as they are, strict: no NaN)."""
    return json.dumps(to_json(root, max_nodes, **tensor_options), indent=2, ensure_ascii=False, allow_nan=False)

