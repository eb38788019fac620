"""CPU benchmarks: engine devices against hand-written numpy and PyTorch, in one run.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/bench_cpu.py [--only mlp,matmul,elementwise]

* ``mlp``: one SGD train step (forward, loss, backward, update) of a ReLU MLP,
  784-256-256-10 with cross-entropy at batch 128 and 2-8-1 with MSE at batch 4, float32.
  "numpy by hand" is the same step written directly in numpy (the floor for framework
  overhead); PyTorch CPU runs when installed.
* ``matmul``: float32/float64 GEMM GFLOP/s for the ``c`` device's kernel against numpy
  (OpenBLAS) at n = 64 ... 2048 (needs the C library), in this process's kernel set.
* ``isa``: the issue-12 table: the GEMM for each kernel set this CPU runs (``ENGINE_ISA``), one and
  two threads, each in a child process against OpenBLAS on its own best kernel, except the avx2 row,
  which meets OpenBLAS held to its Haswell (AVX2) kernels (OpenBLAS picks its kernel when it loads,
  hence the child processes). Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
* ``elementwise``: sigmoid and relu forward + backward on 10^7 elements.

Times are medians over repeats, taken in interleaved rounds (each candidate in turn) so the
shared machine's drift hits every row alike (single-threaded runs; with threads each candidate
runs its repeats in one go); ratios are against the first row of each table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from machine import blas_kernel, cpu_model

import engine


def _multi_threaded() -> bool:
    return any(os.environ.get(v, "") != "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))


def median_times(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3, block: int = 5) -> dict:
    """Median seconds per call of each function, measured in interleaved rounds.

    The machine is shared: its speed drifts over seconds. Taking turns (each function runs
    ``block`` timed calls, after one untimed call that refills its caches, then the next
    function) exposes every candidate to the same drift, so the ratios hold even when the
    absolute times move. With more than one thread each library's idle pool keeps spinning
    for a while after its call and would steal the core from the next candidate, so then
    every function runs all its repeats in one turn instead.
    """
    if _multi_threaded():
        block = repeats
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    while len(next(iter(times.values()))) < repeats:
        for name, fn in fns.items():
            fn()
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t[:repeats]) for name, t in times.items()}


def table(title: str, rows: list[tuple[str, float]], unit: str = "ms") -> None:
    print(f"\n{title}")
    print(f"{'':<26}{unit:>12}{'ratio':>10}")
    base = rows[0][1]
    for name, t in rows:
        scale = 1e3 if unit == "ms" else 1e6
        print(f"{name:<26}{t * scale:>12.3f}{t / base:>9.2f}x")


# ---- MLP train step ------------------------------------------------------------------------------

def _mlp_data(sizes: tuple[int, ...], batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    if sizes[-1] == 1:
        y = rng.standard_normal((batch, 1)).astype(np.float32)
    else:
        y = rng.integers(0, sizes[-1], batch)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                        rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return x, y, weights


def numpy_step(sizes, batch, lr=0.01):
    """The same train step written by hand: forward, loss, backward, SGD, all float32."""
    x, y, weights = _mlp_data(sizes, batch)
    params = [(w.copy(), b.copy()) for w, b in weights]
    classify = sizes[-1] > 1

    def step():
        acts = [x]
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        if classify:
            z = h - h.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(batch), y]).mean()
            g = p
            g[np.arange(batch), y] -= 1
            g /= batch
        else:
            diff = h - y
            loss = (diff * diff).mean()
            g = (2.0 / diff.size) * diff
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            if i < len(params) - 1:
                g = g * (acts[i + 1] > 0)
            gw = g.T @ acts[i]
            gb = g.sum(axis=0)
            if i > 0:
                g = g @ w
            w -= lr * gw
            b -= lr * gb
        return loss

    return step


def engine_step(sizes, batch, device: str, lr=0.01):
    import engine.nn as nn
    import engine.nn.functional as F
    import engine.optim as optim

    x, y, weights = _mlp_data(sizes, batch)
    layers = []
    for i, (w, b) in enumerate(weights):
        lin = nn.Linear(w.shape[1], w.shape[0])
        with engine.no_grad():
            lin.weight.copy_(engine.tensor(w))
            lin.bias.copy_(engine.tensor(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(device)
    opt = optim.SGD(model.parameters(), lr=lr)
    xt = engine.tensor(x, device=device)
    yt = engine.tensor(y, device=device)
    loss_fn = F.cross_entropy if sizes[-1] > 1 else F.mse_loss

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_step(sizes, batch, lr=0.01):
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    x, y, weights = _mlp_data(sizes, batch)
    layers = []
    for i, (w, b) in enumerate(weights):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(np.asarray(y))
    loss_fn = torch.nn.functional.cross_entropy if sizes[-1] > 1 else torch.nn.functional.mse_loss

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def bench_mlp(devices: list[str], repeats: int) -> None:
    try:
        import torch  # noqa: F401

        has_torch = True
    except ImportError:
        has_torch = False
    for sizes, batch in (((784, 256, 256, 10), 128), ((2, 8, 1), 4)):
        n = repeats if sizes[0] > 2 else repeats * 20
        steps = {"numpy by hand": numpy_step(sizes, batch)}
        for device in devices:
            steps[f"engine device={device}"] = engine_step(sizes, batch, device)
        if has_torch:
            steps["PyTorch CPU"] = torch_step(sizes, batch)
        # Turns of a few milliseconds each: long enough that a step runs with warm caches.
        medians = median_times(steps, n, block=5 if sizes[0] > 2 else 50)
        table(f"MLP train step {'-'.join(map(str, sizes))}, batch {batch}, float32 (median of {n})",
              list(medians.items()))


# ---- matmul ---------------------------------------------------------------------------------------

def bench_matmul(repeats: int, sizes: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048)) -> None:
    from engine.backends import get_backend
    from engine.backends.c_backend import isa, num_threads

    c = get_backend("c")
    for dtype in (np.float32, np.float64):
        print(f"\nmatmul {np.dtype(dtype).name}: GFLOP/s (ratio = engine c / numpy); engine kernels {isa()}, "
              f"{num_threads()} thread(s); numpy's BLAS: {blas_kernel()}")
        print(f"{'n':>6}{'numpy':>10}{'engine c':>10}{'ratio':>8}")
        for n in sizes:
            rng = np.random.default_rng(n)
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            reps = max(8, min(repeats * 4, int(2e9 / (2 * n**3)) + 3))
            pair = {"numpy": lambda: a @ b, "c": lambda: c.matmul(a, b)}
            medians = median_times(pair, reps, block=5 if n <= 256 else 2)
            t_np, t_c = medians["numpy"], medians["c"]
            flops = 2 * n**3
            print(f"{n:>6}{flops / t_np / 1e9:>10.1f}{flops / t_c / 1e9:>10.1f}{t_np / t_c:>7.2f}x")


def bench_isa(repeats: int) -> None:
    """The GEMM per kernel set and thread count, each in a child process with its own environment."""
    from engine.backends.c_backend import supported_isas

    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            print(f"note: {name}={os.environ[name]} is set: OpenBLAS is not on its own choice of kernel")
    for threads in (1, 2):
        for kernel_set in reversed(supported_isas()):
            env = {**os.environ, "ENGINE_ISA": kernel_set, "OMP_NUM_THREADS": str(threads),
                   "OPENBLAS_NUM_THREADS": str(threads)}
            if kernel_set == "avx2":  # the AVX2 row meets OpenBLAS's AVX2 (Haswell) kernels
                env["OPENBLAS_CORETYPE"] = "Haswell"
            print(f"\n=== ENGINE_ISA={kernel_set}, {threads} thread(s)"
                  + (", OPENBLAS_CORETYPE=Haswell" if kernel_set == "avx2" else ""), flush=True)
            subprocess.run([sys.executable, __file__, "--only", "matmul", "--sizes", "256,512,1024",
                            "--repeats", str(repeats), "--quiet"], env=env, check=True)


# ---- elementwise -------------------------------------------------------------------------------------

def bench_elementwise(devices: list[str], repeats: int) -> None:
    from engine.backends import get_backend

    x = np.random.default_rng(0).standard_normal(10**7).astype(np.float32)
    gy = np.ones_like(x)
    with np.errstate(over="ignore"):
        s = 1 / (1 + np.exp(-x))  # backward reads the saved forward output, as the engine does
    numpy_ops = {
        "sigmoid fwd": lambda: 1 / (1 + np.exp(-x)),
        "sigmoid bwd": lambda: gy * s * (1 - s),
        "relu fwd": lambda: np.maximum(x, 0),
        "relu bwd": lambda: gy * (x > 0),
    }
    for name, fn in numpy_ops.items():
        op = name.split()[0]
        runs = {"numpy expression": fn}
        for device in devices:
            bk = get_backend(device)
            if name.endswith("fwd"):
                runs[f"engine device={device}"] = lambda bk=bk, op=op: bk.unary(op, x)
            else:  # the op's own backward (engine/ops), from the device's primitives
                ctx = _unary_node(bk, op, x)
                runs[f"engine device={device}"] = lambda ctx=ctx: type(ctx).backward(ctx, gy)
        with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x < -88: the answer 0 is right
            medians = median_times(runs, repeats, block=1)
        table(f"{name}, 10^7 float32 (median of {repeats})", list(medians.items()))


def _unary_node(bk, op: str, x):
    """A graph node of the unary op ``op`` after its forward on ``x``, ready to run backward."""
    from engine.ops import elementwise

    cls = {"sigmoid": elementwise.Sigmoid, "relu": elementwise.Relu}[op]
    ctx = cls.__new__(cls)
    ctx.backend = bk
    cls.forward(ctx, x)
    return ctx




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="mlp,matmul,elementwise")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--devices", default=None, help="comma list; default: numpy and c when built")
    parser.add_argument("--sizes", default="64,128,256,512,1024,2048", help="matmul sizes n (n x n @ n x n)")
    parser.add_argument("--quiet", action="store_true", help="no machine header (child runs of --only isa)")
    args = parser.parse_args()
    from engine.backends import c_available

    devices = args.devices.split(",") if args.devices else ["numpy"] + (["c"] if c_available()[0] else [])
    parts = args.only.split(",")
    if args.quiet:
        bench_matmul(args.repeats, tuple(int(n) for n in args.sizes.split(",")))
        return
    print(f"machine: {cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"numpy {np.__version__}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"numpy's BLAS: {blas_kernel()}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', 'unset')} (unset both to let OpenBLAS choose)")
    if "c" in devices:
        from engine.backends.c_backend import isa, num_threads, supported_isas

        print(f"engine c: kernel set {isa()} (this CPU runs {', '.join(supported_isas())}), {num_threads()} thread(s)")
    if "mlp" in parts:
        bench_mlp(devices, args.repeats)
    if "matmul" in parts and "c" in devices:
        bench_matmul(args.repeats, tuple(int(n) for n in args.sizes.split(",")))
    if "isa" in parts and "c" in devices:
        bench_isa(args.repeats)
    if "elementwise" in parts:
        bench_elementwise(devices, max(3, args.repeats // 4))


if __name__ == "__main__":
    main()
