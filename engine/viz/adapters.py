"""Adapters: turn a graph the user holds into the drawing's model (:class:`engine.viz.graph.Graph`).

``from_value`` adapts a scalar ``Value`` graph, :func:`engine.viz.tensor_adapter.from_tensor`
a tensor's autograd graph (op nodes named like PyTorch's ``AddmmBackward0``, value nodes with
shape, dtype and gradient norm, fused nodes); :func:`graph_of` picks the adapter by the root's
type, so ``draw`` and ``to_json`` take whatever the user has.
"""

from __future__ import annotations

from typing import Any

from engine.errors import EngineTypeError, EngineValueError
from engine.scalar.value import Value
from engine.viz.graph import DEFAULT_MAX_NODES, Edge, Graph, OpNode, ValueNode, display_name

__all__ = ["DEFAULT_MAX_NODES", "check_max_nodes", "display_name", "display_names", "from_value", "graph_of"]


def display_names(order: list[Value]) -> dict[int, str]:
    """:func:`display_name` of every node of ``order`` (a topological order), keyed by ``id``."""
    return {id(node): display_name(node.label, k) for k, node in enumerate(order)}


def check_max_nodes(max_nodes: object, where: str) -> int:
    """``max_nodes`` if it is a positive int, else a one-line error naming ``where``."""
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
        raise EngineTypeError(
            f"{where}: max_nodes must be a positive int, got {type(max_nodes).__name__} {max_nodes!r}"
        )
    if max_nodes < 1:
        # 0 used to turn the cap off (a 20,000-node graph never finished rendering) and a
        # negative number sliced the inputs away: refuse both.
        raise EngineValueError(f"{where}: max_nodes must be a positive int (at least 1), got {max_nodes}")
    return max_nodes


def from_value(root: Value, max_nodes: int = DEFAULT_MAX_NODES) -> Graph:
    """The model of the graph that produced ``root``, capped at ``max_nodes`` value nodes.

    Every Value is a value node ``v<k>``, ``k`` its place in the topological order (inputs
    first; the same on every run, so outputs can be compared). A Value made by an op also
    gets the op node ``v<k>op``, an edge from it, and one edge into it per use of each input
    (``a * a`` has two), with the local derivative the op recorded. When ``root.grad`` is
    not 0 (backward ran) each input edge also carries ``upstream = ∂root/∂(op output)`` (that
    value's ``.grad``) and the contribution ``upstream × local``.

    The cap keeps the ``max_nodes`` values nearest the output (the end of the order) and the
    edges between them; only the graph's order is walked, never the values left out.
    """
    order = root.nodes()
    start = max(0, len(order) - max_nodes)
    shown = order[start:]
    position = {id(node): k for k, node in enumerate(shown, start)}
    backward = root.grad != 0.0

    nodes: list[ValueNode | OpNode] = []
    edges: list[Edge] = []
    for k, node in enumerate(shown, start):
        value_id = f"v{k}"
        nodes.append(ValueNode(value_id, display_name(node.label, k), node.label, node.data, node.grad))
        if not node.parents:
            continue
        op_id = f"v{k}op"
        nodes.append(OpNode(op_id, node.op, output=value_id))
        edges.append(Edge(op_id, value_id))
        upstream = node.grad if backward else None
        for parent, local in zip(node.parents, node.local_grads):
            p = position.get(id(parent))
            if p is None:  # left out by the cap
                continue
            contribution = upstream * local if backward else None
            edges.append(Edge(f"v{p}", op_id, local, upstream, contribution))
    return Graph(nodes, edges, root=f"v{len(order) - 1}", backward=backward, omitted=start, max_nodes=max_nodes)


def graph_of(
    root: object,
    max_nodes: int = DEFAULT_MAX_NODES,
    where: str = "draw",
    params: Any = None,
    collapse: str | None = None,
    model: Any = None,
) -> Graph:
    """The model of ``root``'s graph: a ``Value`` or a tensor is adapted, a :class:`Graph` is returned as it is.

    ``params``, ``collapse`` and ``model`` apply to a tensor graph only (see
    :func:`engine.viz.tensor_adapter.from_tensor`). ``max_nodes`` is checked first (a positive
    int); errors are one line naming ``where``.
    """
    check_max_nodes(max_nodes, where)
    if isinstance(root, Graph):
        return root
    from engine.core.tensor import Tensor  # (the tensor adapter pulls in nn; only tensor users pay)

    if isinstance(root, Tensor):
        from engine.viz.tensor_adapter import from_tensor

        return from_tensor(root, params, max_nodes, collapse, model, where)
    if not isinstance(root, Value):
        raise EngineTypeError(f"{where}: expected a Value or a Tensor (the root of a graph), got {type(root).__name__}")
    for option, given in (("params", params), ("collapse", collapse), ("model", model)):
        if given is not None:
            raise EngineTypeError(
                f"{where}: {option}= applies to a tensor graph, and the root is a Value; leave it out"
            )
    return from_value(root, max_nodes)
