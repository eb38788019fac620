"""Backward, one edge at a time, printed the way the lectures write the chain rule.

    ∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4

``steps(root)`` recomputes one backward pass on the side (it never touches ``.grad``), so
it can be called before or after ``root.backward()`` and always shows a single pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from engine.scalar.value import Value
from engine.viz.adapters import display_names
from engine.viz.graph import fmt


@dataclass(frozen=True)
class Step:
    """One use of the chain rule: the gradient ``node`` passes down one edge to ``parent``."""

    root: str
    node: str
    parent: str
    upstream: float  # ∂root/∂node, complete by the time this step runs
    local: float  # ∂node/∂parent, recorded at forward time
    contribution: float  # upstream · local
    parent_grad: float  # ∂root/∂parent summed over the edges seen so far
    first: bool  # the first edge into parent (later ones add to it)

    def __str__(self) -> str:
        r, n, p = self.root, self.node, self.parent
        rule = f"∂{r}/∂{n} · ∂{n}/∂{p} = {fmt(self.upstream)} · {fmt(self.local)} = {fmt(self.contribution)}"
        if self.first:
            return f"∂{r}/∂{p} = {rule}"
        return f"∂{r}/∂{p} += {rule}   (now {fmt(self.parent_grad)})"


def steps(root: Value) -> Iterator[Step]:
    """Yield every edge of ``root``'s backward pass, in the order backward visits them."""
    order = root.nodes()
    names = display_names(order)
    grads = {id(node): 0.0 for node in order}
    seen: set[int] = set()
    grads[id(root)] = 1.0
    root_name = names[id(root)]
    for node in reversed(order):
        upstream = grads[id(node)]
        for parent, local in zip(node.parents, node.local_grads):
            key = id(parent)
            contribution = upstream * local
            grads[key] += contribution
            yield Step(
                root=root_name,
                node=names[id(node)],
                parent=names[key],
                upstream=upstream,
                local=local,
                contribution=contribution,
                parent_grad=grads[key],
                first=key not in seen,
            )
            seen.add(key)


def format_steps(root: Value) -> str:
    """The whole backward pass as text, one chain-rule line per edge."""
    name = display_names(root.nodes())[id(root)]
    lines = [f"∂{name}/∂{name} = 1"]
    lines.extend(str(step) for step in steps(root))
    return "\n".join(lines)
