"""The package's layers: imports point down, never up, and no two modules import each other.

The layers, bottom to top (docs/ARCHITECTURE.md draws them):

    0 errors                               the error family
    1 backends, _cengine, _kernels         devices: primitives only, no calculus (C library, CUDA kernels)
    2 autograd                             the graph walk, the op node, the backward driver, grad mode
    3 scalar                               Value, its nn, the expression parser
    4 ops                                  every derivative
    5 core                                 Tensor, dtypes, creation, printing, random, checkpoints
    6 nn, optim, utils, datasets, cuda     PyTorch's names
    7 viz, testing                         drawing, gradient checking
    8 apps, the package root (``import engine``, the public names the apps use like any user),
      and the old scalar_nn alias          command line, demo, training, plots
    9 __main__                             ``python -m engine``

Every import statement in engine/ counts, including those inside functions (a lazy import
that points up is still a dependency the wrong way).
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
KERNELS = ENGINE.parent / "kernels"  # installed as engine._kernels

LAYERS = {
    "engine.errors": 0,
    "engine._cengine": 1,
    "engine._kernels": 1,
    "engine.backends": 1,
    "engine.autograd": 2,
    "engine.scalar": 3,
    "engine.ops": 4,
    "engine.core": 5,
    "engine.nn": 6,
    "engine.optim": 6,
    "engine.utils": 6,
    "engine.datasets": 6,
    "engine.cuda": 6,
    "engine.viz": 7,
    "engine.testing": 7,
    "engine.apps": 8,
    "engine.scalar_nn": 8,
    "engine.__main__": 9,
    "engine": 8,
}


def _module_name(path: Path) -> str:
    if path.is_relative_to(KERNELS):
        parts = ["engine", "_kernels", *path.relative_to(KERNELS).with_suffix("").parts]
    else:
        parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    files = list(ENGINE.rglob("*.py")) + list(KERNELS.rglob("*.py"))
    return {_module_name(p): p for p in files}


def _resolve(name: str, modules: dict) -> str:
    """The engine module an import names (``engine.core.tensor.Tensor`` -> ``engine.core.tensor``)."""
    if name == "engine._cengine" or name.startswith("engine._cengine."):
        return "engine._cengine"
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def import_graph() -> dict[str, set[str]]:
    """module -> the engine modules it imports (anywhere in the file)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if name == "engine" or name.startswith("engine."):
                    targets.add(_resolve(name, modules))
        targets.discard(module)
        graph[module] = targets
    return graph


def layer(module: str) -> int:
    best = None
    for prefix, rank in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, rank)
    assert best is not None, f"{module} is in no layer: add it to LAYERS (and to docs/ARCHITECTURE.md)"
    return best[1]


def test_every_module_is_in_a_layer():
    for module in _modules():
        layer(module)


def test_imports_point_down():
    upward = [
        f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = import_graph()
    # Tarjan's strongly connected components, iteratively (no recursion anywhere, as elsewhere).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_checker_sees_a_planted_upward_import(tmp_path, monkeypatch):
    # The test must be able to fail: an ops module importing the tensor core is caught.
    assert layer("engine.ops.elementwise") < layer("engine.core.tensor")
    graph = import_graph()
    graph["engine.ops.elementwise"] = graph["engine.ops.elementwise"] | {"engine.core.tensor"}
    upward = [(m, t) for m, ts in graph.items() for t in ts if layer(t) > layer(m)]
    assert ("engine.ops.elementwise", "engine.core.tensor") in upward
