"""Scalar engine vs micrograd: forward and backward of the same ReLU MLP, timed apart, in one run.

The network is 2-16-16-1 (ReLU hidden layers, linear output) over 40 points with a
sum-of-squares loss, built the same way in both libraries (a neuron is
``sum(w_i x_i) + b``). Each round times, for each library in turn (the order alternates
from round to round, so drift on a shared machine hits both alike):

* forward: building the loss graph from the model and the data;
* backward: ``loss.backward()`` (the topological order plus the chain-rule loop);

with ``zero_grad`` run untimed between them. A full collection runs before each step,
untimed, so every step starts from the same heap. ``--gc-off`` also switches the cyclic
garbage collector off while the steps run: micrograd's nodes hold closures that refer back
to them (a reference cycle per node), so with the collector on its time includes the
collections its garbage triggers. Prints the median of each phase, the ratio engine /
micrograd (below 1: the engine is faster) and the time per graph node.

    pip install micrograd && python benchmarks/bench_scalar.py --gc-off
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from importlib import metadata

from machine import cpu_model

PHASES = ("forward", "backward", "forward+backward")


def _dataset(n: int = 40, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    rng = random.Random(seed)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    return xs, ys


def _loss_builder(model, value_cls) -> Callable:
    """``forward()``: the sum of squared errors of ``model`` over the dataset, as a graph."""
    xs, ys = _dataset()

    def forward():
        loss = value_cls(0.0)
        for x, y in zip(xs, ys):
            loss = loss + (model(x) - y) ** 2
        return loss

    return forward


def _engine() -> tuple[Callable, Callable, Callable]:
    from engine.scalar.nn import MLP
    from engine.scalar.value import Value

    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
    return _loss_builder(model, Value), model.zero_grad, lambda loss: len(loss.nodes())


def _micrograd() -> tuple[Callable, Callable, Callable]:
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP

    random.seed(1)
    model = MgMLP(2, [16, 16, 1])  # ReLU hidden layers, linear output

    def count(loss) -> int:  # micrograd keeps parents in a set `_prev`; count the nodes without recursion
        seen, stack = {loss}, [loss]
        while stack:
            for parent in stack.pop()._prev:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return len(seen)

    return _loss_builder(model, MgValue), model.zero_grad, count


def _time_step(forward: Callable, zero_grad: Callable, gc_off: bool) -> tuple[float, float]:
    """One untimed collection, then (forward seconds, backward seconds) of one step."""
    gc.collect()
    if gc_off:
        gc.disable()
    try:
        t0 = time.perf_counter()
        loss = forward()
        t1 = time.perf_counter()
        zero_grad()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
    finally:
        gc.enable()
    return t1 - t0, t3 - t2



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed rounds (default 21)")
    parser.add_argument("--gc-off", action="store_true", help="switch the garbage collector off while timing")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    libraries = {"engine": _engine()}
    try:
        libraries["micrograd"] = _micrograd()
    except ImportError:
        print("micrograd is not installed (pip install micrograd): showing engine only")
    nodes = {name: count(forward()) for name, (forward, _, count) in libraries.items()}
    for forward, zero_grad, _ in libraries.values():  # warm up
        _time_step(forward, zero_grad, args.gc_off)

    times: dict[str, dict[str, list[float]]] = {name: {p: [] for p in PHASES} for name in libraries}
    names = list(libraries)
    for round_ in range(args.repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            forward, zero_grad, _ = libraries[name]
            fwd, bwd = _time_step(forward, zero_grad, args.gc_off)
            for phase, t in zip(PHASES, (fwd, bwd, fwd + bwd)):
                times[name][phase].append(t)

    median = {name: {p: statistics.median(ts) for p, ts in phases.items()} for name, phases in times.items()}
    version = {"engine": "", "micrograd": ""}
    try:
        version["micrograd"] = " " + metadata.version("micrograd")
    except metadata.PackageNotFoundError:
        pass
    print(f"scalar MLP 2-16-16-1, 40 points, sum of squares; median of {args.repeats} interleaved rounds; "
          f"garbage collector {'off' if args.gc_off else 'on'} while timing")
    print(f"{cpu_model()} ({os.cpu_count()} cores), python {platform.python_version()}")
    print("nodes: " + ", ".join(f"{name}{version[name]} {n:,}" for name, n in nodes.items()))
    header = f"{'phase':<18}" + "".join(f"{name + ' ms':>15}" for name in names)
    if "micrograd" in median:
        header += f"{'engine/micrograd':>18}"
    print(header)
    for phase in PHASES:
        row = f"{phase:<18}" + "".join(f"{median[name][phase] * 1e3:>15.2f}" for name in names)
        if "micrograd" in median:
            row += f"{median['engine'][phase] / median['micrograd'][phase]:>17.2f}x"
        print(row)
    print(f"{'backward ns/node':<18}"
          + "".join(f"{median[name]['backward'] / nodes[name] * 1e9:>15.0f}" for name in names))


if __name__ == "__main__":
    main()
