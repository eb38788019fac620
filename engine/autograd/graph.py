"""What the scalar and tensor graphs share: an iterative topological order.

Both ``Value`` and ``Tensor`` graphs are DAGs whose nodes know their parents. Backward
visits nodes so that every node comes after all nodes that use it; we build that order
with an explicit stack (never recursion), so a 1,000,000-node chain works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

N = TypeVar("N")


def topological_order(root: N, parents_of: Callable[[N], Sequence[N]]) -> list[N]:
    """Return every node reachable from ``root``, each listed after all of its parents.

    Reversed, the list is the order backward runs in: the root first, then each node
    once every node that consumes it has passed its gradient down. The order is a
    depth-first post-order that takes each node's parents left to right, so it depends
    only on the graph's structure: the same program gives the same order (and
    bit-identical sums of gradients) on every run.

    Nodes are kept in a set, so they must hash by identity (``object``'s default hash,
    which ``Value`` and the autograd nodes have; a class that defines ``__eq__`` for
    something else, as ``Tensor`` does, keeps ``__hash__ = object.__hash__``).
    """
    # Depth-first search with an explicit stack instead of recursion. Each entry is a node
    # and an iterator over its parents that remembers how far we got: the top entry
    # descends into its next unseen parent, and once its iterator is spent the node is
    # done (all its parents are in ``order``) and is appended. The set holds the nodes
    # themselves rather than their id(): identity hashing runs in C, a call to id() per
    # edge does not, and this loop is most of the time a scalar backward takes.
    order: list[N] = []
    seen = {root}
    stack = [(root, iter(parents_of(root)))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parents_of(parent))))
                break  # descend; this node's iterator resumes when the parent is done
        else:
            stack.pop()
            order.append(node)
    return order
