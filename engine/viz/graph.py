"""The drawing's model: a computation graph as plain records, whatever made it.

A graph the user holds (a ``Value`` graph, or a tensor's autograd graph) is turned into this
model by an adapter (:mod:`engine.viz.adapters`, :mod:`engine.viz.tensor_adapter`); the
writers (DOT in :mod:`engine.viz.dot`, JSON in :mod:`engine.viz.json_writer`) read only the
model. So a new kind of graph needs only an adapter, and both writers draw it.

The model has two kinds of node and one kind of edge:

* a :class:`ValueNode` is a number or a tensor (a box): its name, and what is known of it
  (``data`` and ``grad`` for a scalar; ``shape``, ``dtype`` and ``grad_norm`` for a tensor);
* an :class:`OpNode` is an op (an ellipse): ``"+"`` or ``"tanh"`` for a Value, PyTorch's
  names such as ``"AddBackward0"`` for a tensor, and for a fused node the ops it stands for;
* an :class:`Edge` joins an input to the op that read it, carrying the local derivative
  ``∂out/∂in`` recorded at forward time and, after backward, what the chain rule sent down
  it (``upstream × local``); or joins an op to the value it produced (no numbers).

A graph too big to draw keeps the nodes nearest its output and says how many it left out
(:attr:`Graph.omitted`, :attr:`Graph.note`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_NODES = 300  # the cap every adapter applies unless told otherwise


def display_name(label: str, position: int) -> str:
    """How formulas name a node: its label, else ``n<position>`` (its place in the topological order).

    A label that is not a plain name (``x + y``) is wrapped in parentheses, so that
    ``∂f/∂(x + y)`` reads unambiguously.
    """
    name = label or f"n{position}"
    return name if name.isidentifier() or name.startswith("(") else f"({name})"


def fmt(x: float) -> str:
    """A number as a person writes it, in every drawing and printout: ``-4``, ``0.7311``, ``1.5e+06``."""
    return f"{x:.4g}"


@dataclass(frozen=True)
class ValueNode:
    """A value in the graph: a scalar or a tensor.

    Attributes:
        id: the node's name in the output (``"v0"``...), stable from run to run.
        name: how formulas refer to it (``∂f/∂x``): its label, else a made-up ``n<k>``.
        label: the label the user gave (``""``: none).
        data: the number a scalar holds (``None`` for a tensor).
        grad: ``∂root/∂this`` for a scalar (``None`` when unknown).
        shape: a tensor's shape (``None`` for a scalar).
        dtype: a tensor's dtype name, such as ``"float32"`` (``None`` for a scalar).
        grad_norm: the 2-norm of a tensor's gradient (``None`` when it has none).
        values: a small tensor's numbers, flattened in row-major order (``None``: a scalar, or
            a tensor too big to print; ``shape`` says how to fold them).
        grad_values: a small tensor's gradient, flattened likewise (``None`` when not shown).
    """

    id: str
    name: str
    label: str = ""
    data: float | None = None
    grad: float | None = None
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    grad_norm: float | None = None
    values: tuple[float, ...] | None = None
    grad_values: tuple[float, ...] | None = None


@dataclass(frozen=True)
class OpNode:
    """An op in the graph.

    Attributes:
        id: the node's name in the output (``"v2op"``...), stable from run to run.
        name: the op (``"+"``, ``"tanh"``, ``"AddBackward0"``).
        output: the id of the value node the op produced, ``None`` when that value is not in
            the graph (a tensor graph keeps only the ops between the leaves and the output).
        fused: for one node that runs several ops, their names in order (``("linear", "relu")``);
            for a collapsed module, the ops folded into it.
        module: for a box standing for a whole module (``collapse="module"``), the module's
            name (``"0"``); ``None`` for an op.
    """

    id: str
    name: str
    output: str | None = None
    fused: tuple[str, ...] = ()
    module: str | None = None


@dataclass(frozen=True)
class Edge:
    """An edge from ``source`` to ``target`` (node ids).

    Into an op (an input edge): ``local`` is ``∂(op output)/∂(source)`` as recorded at forward
    time; after backward, ``upstream`` is ``∂root/∂(op output)`` and ``contribution`` is
    ``upstream × local``, the share of ``∂root/∂source`` this edge carried. Each is ``None``
    when not known (before backward; for a tensor, whose local derivative is a Jacobian, not
    a number). An input used twice by one op has two edges.

    Out of an op into the value it made (an output edge): no numbers.
    """

    source: str
    target: str
    local: float | None = None
    upstream: float | None = None
    contribution: float | None = None


@dataclass
class Graph:
    """A computation graph ready to write.

    Attributes:
        nodes: value and op nodes, inputs first (a topological order; the writers keep it).
        edges: every edge between two nodes of ``nodes``, in a stable order.
        root: the id of the output node.
        backward: whether the gradients are those of a backward pass from ``root``.
        omitted: how many value nodes the cap left out (0: the whole graph is here).
        max_nodes: the cap the adapter applied (at most this many value nodes).
    """

    nodes: list[ValueNode | OpNode]
    edges: list[Edge]
    root: str
    backward: bool = False
    omitted: int = 0
    max_nodes: int | None = None

    def by_id(self) -> dict[str, ValueNode | OpNode]:
        """Every node, keyed by its id."""
        return {node.id: node for node in self.nodes}

    @property
    def values(self) -> list[ValueNode]:
        """The value nodes, in order."""
        return [node for node in self.nodes if isinstance(node, ValueNode)]

    @property
    def note(self) -> str | None:
        """The sentence that says the graph was capped, or ``None`` when nothing was left out."""
        if not self.omitted:
            return None
        shown = len(self.values)
        return (
            f"graph capped: showing the {shown} value{'s' if shown > 1 else ''} nearest the output, "
            f"{self.omitted} more not drawn (max_nodes={self.max_nodes})"
        )
