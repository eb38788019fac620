"""Scalar engine vs micrograd: forward + backward of the same ReLU MLP, in one run.

The network is 2-16-16-1 (ReLU hidden layers, linear output) over 40 points with a
sum-of-squares loss, built the same way in both libraries (a neuron is
``sum(w_i x_i) + b``). Prints the median time per forward+backward and the ratio.

    pip install micrograd && python benchmarks/bench_scalar.py
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time


def _dataset(n: int = 40, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    rng = random.Random(seed)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    return xs, ys


def _engine_step():
    from engine.scalar.nn import MLP
    from engine.scalar.value import Value

    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=1)
    xs, ys = _dataset()

    def step() -> float:
        loss = Value(0.0)
        for x, y in zip(xs, ys):
            loss = loss + (model(x) - y) ** 2
        model.zero_grad()
        loss.backward()
        return loss.data

    return step


def _micrograd_step():
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP

    random.seed(1)
    model = MgMLP(2, [16, 16, 1])  # ReLU hidden layers, linear output
    xs, ys = _dataset()

    def step() -> float:
        loss = MgValue(0.0)
        for x, y in zip(xs, ys):
            loss = loss + (model(x) - y) ** 2
        model.zero_grad()
        loss.backward()
        return loss.data

    return step


def _median_time(step, repeats: int) -> float:
    step()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = [("engine.Value", _median_time(_engine_step(), args.repeats))]
    try:
        rows.append(("micrograd", _median_time(_micrograd_step(), args.repeats)))
    except ImportError:
        print("micrograd is not installed (pip install micrograd): showing engine only")
    print(f"scalar MLP 2-16-16-1, 40 points, forward+backward, median of {args.repeats}")
    print(f"python {platform.python_version()} on {platform.machine()} {platform.processor() or ''}".rstrip())
    print(f"{'library':<14}{'ms/step':>10}{'vs engine':>12}")
    base = rows[0][1]
    for name, t in rows:
        print(f"{name:<14}{t * 1e3:>10.2f}{t / base:>11.2f}x")


if __name__ == "__main__":
    main()
