"""The tensor adapter: a tensor's autograd graph as the drawing's model, with shapes and gradients.

``from_tensor(loss, params=dict(model.named_parameters()))`` is torchviz's ``make_dot`` spelling.
It walks the autograd nodes below ``loss.grad_fn`` the way backward does
(:func:`engine.autograd.graph.topological_order` over each node's ``parents``) and makes:

* one op node per autograd node, named as PyTorch names its node (``AddmmBackward0``,
  ``ReluBackward0``, ``MseLossBackward0``), or ``<Op class>Backward0`` where PyTorch has no
  counterpart; a fused node (``Sequential``'s Linear + activation, one ``Linear`` op with
  ``.act``) is named ``Linear + ReLU`` and lists the PyTorch nodes it stands for;
* one value node per tensor: each leaf the ops read (parameters, named from ``params``; inputs
  and targets, labelled ``input``) and each op's output, with its shape and dtype, its numbers
  when it has at most :data:`SMALL` elements, and once backward has run its gradient's 2-norm
  (and numbers, for a small tensor).

A leaf's gradient is its ``.grad`` (what the user sees). The autograd graph keeps no gradient
for the tensors in between, so theirs are recomputed on the side by one backward pass from a
one-element root (as :mod:`engine.viz.steps` does for Values); ``.grad`` is never touched.

``collapse="module"`` folds each top-level module (``model``'s children, or the first part of
the ``params`` names: ``0.weight`` belongs to ``0``) into one box: the ops that read its
parameters, the parameter-free ops wholly inside it, its parameters and the values that never
leave it. The cap (``max_nodes``) keeps the value nodes nearest the output, as for Values.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any

import numpy as np

from engine.autograd.backward import fit_to_shape
from engine.autograd.graph import topological_order
from engine.autograd.op import TensorBase
from engine.errors import EngineTypeError, EngineValueError
from engine.nn.module import Module
from engine.ops.linalg import MatMul
from engine.ops.neural import Linear as LinearOp
from engine.viz.graph import DEFAULT_MAX_NODES, Edge, Graph, OpNode, ValueNode, display_name

__all__ = ["SMALL", "from_tensor", "op_name"]

SMALL = 16  # a tensor of at most this many elements shows its numbers
COLLAPSE = (None, "module")

# PyTorch's node names where the engine's op class is named otherwise (the rest: <Class>Backward0).
_TORCH_NAMES = {
    "MSE": "MseLossBackward0",
    "L1": "L1LossBackward0",
    "Reshape": "ViewBackward0",
    "PowScalar": "PowBackward0",
    "Pow": "PowBackward1",
    "Cast": "ToCopyBackward0",
    "ToDevice": "ToCopyBackward0",
    "Contiguous": "CloneBackward0",
    "Relu": "ReluBackward0",
}
# The activations Sequential fuses into Linear: (the layer's name, PyTorch's node).
_ACTIVATIONS = {
    "relu": ("ReLU", "ReluBackward0"),
    "sigmoid": ("Sigmoid", "SigmoidBackward0"),
    "tanh": ("Tanh", "TanhBackward0"),
}
_MATMUL_NAMES = {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}
_parents = attrgetter("parents")


def op_name(node: Any) -> tuple[str, tuple[str, ...]]:
    """``(name, fused)`` of an autograd node: its PyTorch-style name and, for a fused node, the
    PyTorch nodes it stands for (``("Linear + ReLU", ("AddmmBackward0", "ReluBackward0"))``)."""
    if isinstance(node, LinearOp):
        base = "MmBackward0" if node.inputs[2] is None else "AddmmBackward0"
        act = getattr(node, "act", None)
        if act in _ACTIVATIONS:
            layer, torch_name = _ACTIVATIONS[act]
            return f"Linear + {layer}", (base, torch_name)
        return base, ()
    if isinstance(node, MatMul):
        ranks = tuple(len(getattr(t, "shape", ())) for t in node.inputs[:2])
        return _MATMUL_NAMES.get(ranks, "MatmulBackward0"), ()
    return _TORCH_NAMES.get(type(node).__name__) or node.name(), ()


def _check_params(params: object, where: str) -> dict[int, str]:
    """``params`` (a dict of name -> tensor) as ``id(tensor) -> name``, or a one-line error."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise EngineTypeError(
            f"{where}: params must be a dict of name -> tensor, such as dict(model.named_parameters()); "
            f"got {type(params).__name__}"
        )
    names = {}
    for name, t in params.items():
        if not isinstance(name, str) or not isinstance(t, TensorBase):
            raise EngineTypeError(
                f"{where}: params must map names (str) to tensors, got {type(name).__name__} -> {type(t).__name__}"
            )
        names.setdefault(id(t), name)  # a tensor listed twice keeps its first name
    return names


def _numbers(array: Any, backend: Any) -> np.ndarray:
    return np.asarray(backend.to_numpy(array), dtype=np.float64)


def _small(values: np.ndarray) -> tuple[float, ...] | None:
    return tuple(float(x) for x in values.ravel()) if values.size <= SMALL else None


def _side_grads(root: Any, order: list) -> dict:
    """``node -> ∂root/∂(node's output)`` (backend arrays) from one backward pass on the side.

    The driver's loop (engine.autograd.backward.run_backward) without its effects: leaves get
    nothing and ``.grad`` is untouched. Empty when a tensor a node reads changed in place since
    forward (its gradient would be wrong) or a node's backward fails (a user's Function, say):
    the drawing then shows no gradient between the leaves rather than a wrong or no picture.
    """
    for node in order:
        if any(box[0] != version for box, version in node.saved_versions):
            return {}
    bk = root._backend
    grads = {root.grad_fn: bk.full(tuple(root._data.shape), 1.0, root._data.dtype)}
    out = {}
    try:
        for node in reversed(order):
            g = grads.pop(node, None)
            if g is None:
                continue
            out[node] = g
            in_grads = node.backward(node, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for inp, ig, needed, parent in zip(node.inputs, in_grads, node.needs_input_grad, node.input_nodes):
                if ig is None or not needed or parent is None:
                    continue
                shape = inp._data.shape
                if ig.shape != shape:
                    ig = fit_to_shape(inp._backend, ig, shape)
                previous = grads.get(parent)
                grads[parent] = ig if previous is None else inp._backend.binary("add", previous, ig)
    except Exception:  # noqa: BLE001 - a drawing must not fail because an optional side pass did
        return {}
    return out


def _leaf_label(t: Any, names: dict[int, str]) -> str:
    """A leaf's label: its name in ``params``, else ``input`` for data (a tensor that needs no
    gradient), else none (a tensor that requires grad and was not named)."""
    return names.get(id(t)) or ("" if t.requires_grad else "input")


def _value_node(k: int, label: str, t: Any, grad: np.ndarray | None) -> ValueNode:
    data = _numbers(t._data, t._backend)
    return ValueNode(
        f"v{k}",
        display_name(label, k),
        label,
        shape=tuple(int(n) for n in t._data.shape),
        dtype=t.dtype.name,
        grad_norm=None if grad is None else float(np.linalg.norm(grad.ravel())),
        values=_small(data),
        grad_values=None if grad is None else _small(grad),
    )


def _module_of(
    names: dict[int, str], model: Module | None
) -> tuple[dict[int, str], dict[str, str]]:
    """``id(tensor) -> top-level module`` for the named tensors, and each module's title (``0 (Linear)``)."""
    titles: dict[str, str] = {}
    owner: dict[int, str] = {}
    if model is not None:
        for name, child in model.named_children():
            titles[name] = f"{name} ({type(child).__name__})"
        for name, p in model.named_parameters():
            if "." in name:
                owner[id(p)] = name.split(".", 1)[0]
    for key, name in names.items():
        if key not in owner and "." in name:
            owner[key] = name.split(".", 1)[0]
    for module in owner.values():
        titles.setdefault(module, module)
    return owner, titles


def from_tensor(
    root: Any,
    params: Mapping[str, Any] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    collapse: str | None = None,
    model: Module | None = None,
    where: str = "draw",
) -> Graph:
    """The model of the autograd graph that produced tensor ``root`` (see the module docstring).

    Args:
        root: the output tensor (a loss, usually).
        params: names for tensors, ``dict(model.named_parameters())``; any tensor may be named
            (``{"x": x, **dict(model.named_parameters())}``). With ``model`` and no ``params``,
            the model's parameters are named.
        max_nodes: keep at most this many value nodes, those nearest the output.
        collapse: ``None`` (every op) or ``"module"`` (one box per top-level module).
        model: the module that made ``root``: names the boxes of ``collapse="module"``
            (``0 (Linear)``) and its parameters.
        where: the function named in errors.

    Ids are ``v<k>`` (``k``: the value's place in the topological order of the whole graph,
    leaves before the ops that read them) and ``v<k>op`` for the op that made ``v<k>``;
    a collapsed module is ``m<i>`` (``i``: the order modules first appear in).
    """
    if collapse not in COLLAPSE:
        raise EngineValueError(f"{where}: collapse must be None or 'module', got {collapse!r}")
    if model is not None and not isinstance(model, Module):
        raise EngineTypeError(f"{where}: model must be an nn.Module, got {type(model).__name__}")
    names = _check_params(params, where)
    if model is not None and params is None:
        names = {id(p): name for name, p in model.named_parameters()}
    if collapse == "module" and not names:
        raise EngineValueError(
            f"{where}: collapse='module' needs to know the modules: pass params=dict(model.named_parameters()) "
            "or model=model"
        )

    fn = root.grad_fn
    if fn is None:  # not made by an op: the tensor alone
        grad = None if root.grad is None else _numbers(root.grad._data, root.grad._backend)
        node = _value_node(0, _leaf_label(root, names), root, grad)
        return Graph([node], [], root="v0", backward=grad is not None, max_nodes=max_nodes)

    order = topological_order(fn, _parents)
    # The tensor each node made: the root's node made the root; any other node's output is an
    # input of a node that used it (input_nodes holds, per input, the node that made it then).
    made: dict[Any, Any] = {fn: root}
    for node in order:
        for t, parent in zip(node.inputs, node.input_nodes):
            if parent is not None:
                made.setdefault(parent, t)

    leaves: dict[int, int] = {}  # id(leaf tensor) -> k
    outputs: dict[Any, int] = {}  # node -> k of its output
    sequence: list[tuple[Any, Any]] = []  # (tensor, node that made it or None), k = position
    for node in order:
        for t, parent in zip(node.inputs, node.input_nodes):
            if isinstance(t, TensorBase) and parent is None and id(t) not in leaves:
                leaves[id(t)] = len(sequence)
                sequence.append((t, None))
        outputs[node] = len(sequence)
        sequence.append((made[node], node))

    leaf_tensors = [t for t, node in sequence if node is None]
    backward = any(t.requires_grad and t.grad is not None for t in leaf_tensors)
    side = _side_grads(root, order) if backward and root.numel() == 1 else {}

    nodes: list[ValueNode | OpNode] = []
    edges: list[Edge] = []
    op_ids: dict[Any, str] = {}
    for k, (t, node) in enumerate(sequence):
        value_id = f"v{k}"
        if node is None:
            label = _leaf_label(t, names)
            grad = None if t.grad is None else _numbers(t.grad._data, t.grad._backend)
            nodes.append(_value_node(k, label, t, grad))
            continue
        op_id = op_ids[node] = f"v{k}op"
        name, fused = op_name(node)
        nodes.append(OpNode(op_id, name, output=value_id, fused=fused))
        for inp, parent in zip(node.inputs, node.input_nodes):
            if isinstance(inp, TensorBase):
                source = leaves[id(inp)] if parent is None else outputs[parent]
                edges.append(Edge(f"v{source}", op_id))
        g = side.get(node)
        grad = None if g is None else _numbers(g, t._backend)
        nodes.append(_value_node(k, names.get(id(t), ""), t, grad))
        edges.append(Edge(op_id, value_id))

    root_id = f"v{len(sequence) - 1}"
    if collapse == "module":
        owner, titles = _module_of(names, model)
        op_module = _assign_ops(order, op_ids, outputs, leaves, sequence, owner)
        param_module = {f"v{k}": owner[id(t)] for k, (t, node) in enumerate(sequence)
                        if node is None and id(t) in owner}
        nodes, edges = _collapse(nodes, edges, op_module, param_module, titles, root_id)
    nodes, edges, omitted = cap(nodes, edges, max_nodes)
    return Graph(nodes, edges, root=root_id, backward=backward, omitted=omitted, max_nodes=max_nodes)


def _assign_ops(order: list, op_ids: dict, outputs: dict, leaves: dict, sequence: list, owner: dict) -> dict:
    """``op id -> module`` for the ops inside a top-level module: those that read parameters of
    exactly one module, then the parameter-free ops whose inputs all come from that module's ops
    and whose output only that module's ops read (an activation between two of its layers)."""
    module: dict[Any, str] = {}
    for node in order:
        owners = {owner[id(t)] for t, parent in zip(node.inputs, node.input_nodes)
                  if isinstance(t, TensorBase) and parent is None and id(t) in owner}
        if len(owners) == 1:
            module[node] = owners.pop()
    consumers: dict[Any, list] = {node: [] for node in order}
    for node in order:
        for parent in node.input_nodes:
            if parent is not None:
                consumers[parent].append(node)
    for node in order:
        if node in module:
            continue
        made_by = {module.get(parent) for parent in node.input_nodes if parent is not None}
        used_by = {module.get(c) for c in consumers[node]}
        if len(made_by) == 1 and made_by == used_by and None not in made_by:
            module[node] = made_by.pop()
    return {op_ids[node]: m for node, m in module.items()}


def _collapse(
    nodes: list, edges: list[Edge], op_module: dict[str, str], param_module: dict[str, str],
    titles: dict[str, str], root_id: str,
) -> tuple[list, list[Edge]]:
    """Fold each module's ops into one box (``m<i>``): the values that never leave the module
    (its parameters, its intermediate results) go, edges into it from outside join the box
    (one per outside value), and the values it hands on come out of the box."""
    producer: dict[str, str] = {}
    consumers: dict[str, list[str]] = {}
    op_ids = {n.id for n in nodes if isinstance(n, OpNode)}
    for e in edges:
        if e.source in op_ids:
            producer[e.target] = e.source
        else:
            consumers.setdefault(e.source, []).append(e.target)

    def home(value_id: str) -> str | None:
        """The module a value never leaves, if any."""
        if value_id == root_id:
            return None
        made_in = param_module.get(value_id) or op_module.get(producer.get(value_id, ""))
        uses = consumers.get(value_id, [])
        if made_in is not None and uses and all(op_module.get(c) == made_in for c in uses):
            return made_in
        return None

    hidden = {n.id for n in nodes if isinstance(n, ValueNode) and home(n.id) is not None}
    boxes: dict[str, str] = {}  # module -> box id, in order of first appearance
    members: dict[str, list[str]] = {}
    for n in nodes:
        m = op_module.get(n.id)
        if m is not None:
            boxes.setdefault(m, f"m{len(boxes)}")
            members.setdefault(m, []).append(n.name)
    box_of = {op: boxes[m] for op, m in op_module.items()}
    box_module = {box: m for m, box in boxes.items()}

    new_edges: list[Edge] = []
    seen: set[tuple[str, str]] = set()
    last_output: dict[str, str] = {}
    for e in edges:
        if e.source in hidden or e.target in hidden:
            continue
        source, target = box_of.get(e.source, e.source), box_of.get(e.target, e.target)
        if source == target:
            continue
        if source in box_module:
            last_output[source] = target
        if target in box_module or source in box_module:
            if (source, target) in seen:
                continue
            seen.add((source, target))
        new_edges.append(Edge(source, target, e.local, e.upstream, e.contribution))

    new_nodes: list = []
    placed: set[str] = set()
    for n in nodes:
        if n.id in hidden or n.id in op_module:
            continue
        made_by = box_of.get(producer.get(n.id, ""))
        if made_by is not None and made_by not in placed:
            placed.add(made_by)
            m = box_module[made_by]
            new_nodes.append(OpNode(made_by, titles.get(m, m), output=last_output.get(made_by),
                                    fused=tuple(members[m]), module=m))
        new_nodes.append(n)
    return new_nodes, new_edges


def cap(nodes: list, edges: list[Edge], max_nodes: int) -> tuple[list, list[Edge], int]:
    """Keep the ``max_nodes`` value nodes nearest the output (the end of ``nodes``), the ops that
    made them and the edges between what is kept; also return how many value nodes went."""
    values = [n.id for n in nodes if isinstance(n, ValueNode)]
    omitted = max(0, len(values) - max_nodes)
    if not omitted:
        return nodes, edges, 0
    kept = set(values[omitted:])
    ops = {n.id for n in nodes if isinstance(n, OpNode)}
    kept |= {e.source for e in edges if e.source in ops and e.target in kept}
    return ([n for n in nodes if n.id in kept], [e for e in edges if e.source in kept and e.target in kept], omitted)
