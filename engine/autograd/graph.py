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
    once every node that consumes it has passed its gradient down. The order depends
    only on the graph's structure and the order of each node's parents, so the same
    program gives the same order (and bit-identical sums of gradients) on every run.
    """
    order: list[N] = []
    seen: set[int] = set()
    # Each stack entry is (node, expanded): a node is pushed once to expand its parents
    # and once more, below them, to be emitted after they are all done (post-order).
    stack: list[tuple[N, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        stack.append((node, True))
        # Reversed so the first parent is expanded first: the order reads left to right.
        parents = parents_of(node)
        for i in range(len(parents) - 1, -1, -1):
            parent = parents[i]
            if id(parent) not in seen:
                stack.append((parent, False))
    return order
