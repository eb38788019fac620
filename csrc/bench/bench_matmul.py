"""GEMM GFLOP/s of the ``c`` device, through the tensor API users run, against numpy's OpenBLAS.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \\
        python csrc/bench/bench_matmul.py [--sizes 256,512,1024] [--dtypes float32,float64] [--rounds 7]
        [--clock wall|cpu]
    ENGINE_ISA=avx2 OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python csrc/bench/bench_matmul.py

C = A @ B for square n x n operands already on each device (``engine.tensor(a, device='c') @ ...``
against ``a @ b`` in numpy).  The two take turns: each round times a few calls of one, then of the
other, so the shared machine's drift hits both alike; the figures are medians over rounds, and the
ratio is the median of the per-round ratios.  ``--clock cpu`` times with the calling thread's CPU
time instead of the wall clock: on a shared machine it leaves out the time the thread waited for a
core (single-threaded runs only; with threads the work is on other threads).  With more than one
thread each turn starts after a 0.3 s pause: OpenBLAS's idle workers keep spinning for about 0.1 s
after a call (and OpenMP's for a shorter while) and would take a core from whoever runs next.
Prints the kernel set, the thread counts and the kernel OpenBLAS chose (threadpoolctl).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

import engine
from engine.backends import c_backend


def blas_kernel() -> str:
    """OpenBLAS's version and the kernel set it chose, from threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return f"{pool.get('internal_api')} {pool.get('version')}, {pool.get('architecture')} kernels"
    return "none found"


def per_call(fn: Callable[[], object], calls: int, clock: Callable[[], float]) -> float:
    """Seconds per call over `calls` back-to-back calls."""
    t0 = clock()
    for _ in range(calls):
        fn()
    return (clock() - t0) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    threaded = any(os.environ.get(v, "") != "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    pause = 0.3 if threaded else 0.0
    env = {v: os.environ.get(v, "-") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE")}
    print(f"engine kernel set: {c_backend.isa()} | numpy: {blas_kernel()} | {env} | clock: {args.clock}")
    print(f"{'n':>6} {'dtype':>8} {'engine c GF/s':>14} {'OpenBLAS GF/s':>14} {'ratio':>7}")
    for dt in args.dtypes.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            rng = np.random.default_rng(n)
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            ta, tb = engine.tensor(a, device="c"), engine.tensor(b, device="c")
            err = np.abs((ta @ tb).numpy() - a @ b).max() / np.abs(a @ b).max()
            flops = 2.0 * n**3
            calls = max(2, min(50, int(0.05 * 100e9 / flops)))   # about 50 ms per turn
            fns = {"c": lambda: ta @ tb, "numpy": lambda: a @ b}
            for fn in fns.values():
                fn()
            times: dict[str, list[float]] = {k: [] for k in fns}
            for _ in range(args.rounds):
                for k, fn in fns.items():
                    time.sleep(pause)
                    times[k].append(per_call(fn, calls, clock))
            ratio = statistics.median(tn / tc for tc, tn in zip(times["c"], times["numpy"]))
            gc = flops / statistics.median(times["c"]) / 1e9
            gn = flops / statistics.median(times["numpy"]) / 1e9
            print(f"{n:>6} {dt:>8} {gc:>14.1f} {gn:>14.1f} {ratio:>6.2f}x   (rel err {err:.1e})")


if __name__ == "__main__":
    main()
