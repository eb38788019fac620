"""engine.autograd.graph.topological_order: the walk Value and Tensor backward share."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.autograd.graph import topological_order


class Node:
    def __init__(self, name: int, parents: tuple = ()):
        self.name = name
        self.parents = parents


class ArrayLike(Node):
    """Compares elementwise like a tensor (``==`` is not a bool) but hashes by identity, as Tensor does."""

    def __eq__(self, other):
        return [self.name == getattr(other, "name", None)]

    __hash__ = object.__hash__


def parents_of(node: Node) -> tuple:
    return node.parents


def reference_order(root: Node) -> list[Node]:
    """The definition: depth-first post-order, each node's parents taken left to right (recursive:
    fine for the small graphs here, which is why the library does not do it this way)."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order


@st.composite
def dags(draw, node_type=Node):
    """A random DAG: node k's parents are drawn from nodes 0..k-1, repeats allowed; the root is the last node."""
    n = draw(st.integers(1, 30))
    nodes: list[Node] = []
    for k in range(n):
        picks = draw(st.lists(st.integers(0, k - 1), max_size=4)) if k else []
        nodes.append(node_type(k, tuple(nodes[i] for i in picks)))
    return nodes[-1]


@given(dags())
def test_order_is_the_depth_first_post_order(root):
    order = topological_order(root, parents_of)
    assert [n.name for n in order] == [n.name for n in reference_order(root)]
    position = {id(n): k for k, n in enumerate(order)}
    assert len(position) == len(order)  # each node once
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)  # parents first


@given(dags(ArrayLike))
def test_nodes_that_compare_elementwise_are_kept_apart_by_identity(root):
    assert [n.name for n in topological_order(root, parents_of)] == [n.name for n in reference_order(root)]


def test_a_deep_chain_and_a_wide_fan_in_do_not_recurse():
    node = Node(0)
    for k in range(1, 200_000):
        node = Node(k, (node, node))
    order = topological_order(node, parents_of)
    assert [n.name for n in order[:3]] == [0, 1, 2] and len(order) == 200_000
    leaves = [Node(k) for k in range(1000)]
    assert topological_order(Node(-1, tuple(leaves)), parents_of)[:1000] == leaves
