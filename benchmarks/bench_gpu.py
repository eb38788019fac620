"""GPU benchmarks: the ``cuda`` device against PyTorch (cuBLAS, its own kernels) on the same GPU, in one run.

    python benchmarks/bench_gpu.py [--only matmul,elementwise,mlp,overhead,allocator] [--repeats 20]

* ``matmul``: fp32 GEMM TFLOP/s at 1024..4096 for our tiled kernel, our naive reference and
  PyTorch's cuBLAS with TF32 off (so both compute in fp32). Target: >= 0.6x cuBLAS at 4096^2.
* ``elementwise``: sigmoid and relu forward and backward on 64M float32, GB/s moved, against
  PyTorch's. Target: >= 0.9x of PyTorch's bandwidth.
* ``mlp``: one SGD train step of 1024-4096-4096-10 at batch 1024 (cross-entropy), ours against
  PyTorch's. Target: <= 1.5x PyTorch's time.
* ``overhead``: the 2-8-1 MLP step (tiny tensors: launch and Python cost only), per op.
* ``allocator``: the 2-8-1 and 1024 MLP steps with the caching allocator on and off
  (ENGINE_CUDA_CACHING=0), each in its own process since the allocator is chosen once.

Times are medians over repeats, with ``cuda.synchronize()`` before every clock read. Without a GPU
the script says so and exits 0 (under numba's simulator timings mean nothing, so it refuses too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import engine


def gpu_or_reason() -> str | None:
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return "numba's simulator is on (NUMBA_ENABLE_CUDASIM=1): its timings mean nothing"
    return engine.cuda.why_unavailable()


def timed(fn, repeats: int, warmup: int = 3) -> float:
    """Median seconds of fn(), each call fenced by cuda.synchronize()."""
    for _ in range(warmup):
        fn()
    engine.cuda.synchronize()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        engine.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_sync():
    import torch

    torch.cuda.synchronize()


def torch_timed(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    torch_sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        torch_sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def table(title: str, header: str, rows: list[tuple[str, float, str]]) -> None:
    print(f"\n{title}\n{'':<34}{header:>14}{'vs PyTorch':>14}")
    for name, value, ratio in rows:
        print(f"{name:<34}{value:>14.3f}{ratio:>14}")


def bench_matmul(repeats: int) -> None:
    import torch
    from engine._kernels import matmul as mm
    from numba import cuda

    torch.backends.cuda.matmul.allow_tf32 = False
    for n in (1024, 2048, 4096):
        a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
        ours_a, ours_b = engine.tensor(a, device="cuda"), engine.tensor(b, device="cuda")
        ta, tb = torch.tensor(a, device="cuda"), torch.tensor(b, device="cuda")
        flops = 2 * n**3
        t_ours = timed(lambda: ours_a @ ours_b, repeats)
        t_torch = torch_timed(lambda: ta @ tb, repeats)
        rows = [("engine tiled kernel", flops / t_ours / 1e12, f"{t_torch / t_ours:.2f}x"),
                ("PyTorch cuBLAS (TF32 off)", flops / t_torch / 1e12, "1.00x")]
        if n <= 2048:
            out = cuda.device_array(n * n, np.float32)
            av, bv = ours_a._data.view, ours_b._data.view
            t_naive = timed(lambda: mm.matmul_naive(av, bv, (n, n), (n, n), False, False, out), max(3, repeats // 4))
            rows.append(("engine naive reference", flops / t_naive / 1e12, f"{t_torch / t_naive:.2f}x"))
        table(f"matmul fp32 {n}x{n} (median of {repeats})", "TFLOP/s", rows)


def bench_elementwise(repeats: int) -> None:
    import torch

    n = 64 * 1024 * 1024
    x = engine.randn(n, device="cuda")
    g = engine.randn(n, device="cuda")
    tx, tg = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
    ts = tx.sigmoid()
    from engine.ops import elementwise as ops

    def node(cls):
        ctx = cls.__new__(cls)
        ctx.backend = x._backend
        cls.forward(ctx, x._data)
        return ctx

    sig, relu = node(ops.Sigmoid), node(ops.Relu)
    cases = {
        "sigmoid fwd": (lambda: x.sigmoid(), lambda: tx.sigmoid(), 2),
        "sigmoid bwd": (lambda: ops.Sigmoid.backward(sig, g._data), lambda: tg * ts * (1 - ts), 3),
        "relu fwd": (lambda: x.relu(), lambda: tx.relu(), 2),
        "relu bwd": (lambda: ops.Relu.backward(relu, g._data), lambda: torch.where(tx <= 0, 0.0, tg), 3),
    }
    for name, (ours, theirs, arrays) in cases.items():
        moved = arrays * n * 4
        t_ours, t_torch = timed(ours, repeats), torch_timed(theirs, repeats)
        table(f"{name}, 64M float32 (median of {repeats})", "GB/s",
              [("engine", moved / t_ours / 1e9, f"{t_torch / t_ours:.2f}x"),
               ("PyTorch", moved / t_torch / 1e9, "1.00x")])


def _mlp_step(lib, sizes, batch, device):
    nn, F = lib.nn, lib.nn.functional
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x = lib.randn(batch, sizes[0], device=device)
    if sizes[-1] > 1:
        y = lib.randint(0, sizes[-1], (batch,), device=device)
        loss_of = lambda: F.cross_entropy(model(x), y)  # noqa: E731
    else:
        y = lib.randn(batch, 1, device=device)
        loss_of = lambda: F.mse_loss(model(x), y)  # noqa: E731

    def step():
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        opt.step()

    return step


def bench_mlp(repeats: int) -> None:
    import torch

    for sizes, batch in (((1024, 4096, 4096, 10), 1024), ((2, 8, 1), 4)):
        ours = _mlp_step(engine, sizes, batch, "cuda")
        theirs = _mlp_step(torch, sizes, batch, "cuda")
        t_ours, t_torch = timed(ours, repeats), torch_timed(theirs, repeats)
        table(f"MLP train step {'-'.join(map(str, sizes))}, batch {batch} (median of {repeats})", "ms",
              [("engine", t_ours * 1e3, f"{t_ours / t_torch:.2f}x"), ("PyTorch", t_torch * 1e3, "1.00x")])


def bench_overhead(repeats: int) -> None:
    import torch

    x, tx = engine.randn(4, 8, device="cuda"), torch.randn(4, 8, device="cuda")
    ops = {"add": (lambda: x + x, lambda: tx + tx), "sigmoid": (lambda: x.sigmoid(), lambda: tx.sigmoid()),
           "matmul 4x8x8": (lambda: x @ x.T, lambda: tx @ tx.T), "sum": (lambda: x.sum(), lambda: tx.sum())}
    rows = []
    for name, (ours, theirs) in ops.items():
        t_ours, t_torch = timed(ours, repeats * 10), torch_timed(theirs, repeats * 10)
        rows.append((name, t_ours * 1e6, f"{t_ours / t_torch:.2f}x (torch {t_torch * 1e6:.1f})"))
    table("per-op cost on tiny tensors (launch + Python), microseconds", "us", rows)


def bench_allocator(repeats: int) -> None:
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import bench_gpu, engine;"
        f"s = bench_gpu._mlp_step(engine, (2, 8, 1), 4, 'cuda'); t = bench_gpu.timed(s, {repeats * 5});"
        f"b = bench_gpu._mlp_step(engine, (1024, 4096, 4096, 10), 1024, 'cuda'); u = bench_gpu.timed(b, {repeats});"
        "print(t * 1e3, u * 1e3, engine.cuda.memory_stats())"
    )
    results = {}
    for mode in ("1", "0"):
        env = dict(os.environ, ENGINE_CUDA_CACHING=mode)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
        small, big, stats = out.split(" ", 2)
        results[mode] = (float(small), float(big), stats.strip())
    print("\ncaching allocator: MLP step ms with the pool on / off")
    print(f"  2-8-1:             {results['1'][0]:.3f} / {results['0'][0]:.3f}")
    print(f"  1024-4096-4096-10: {results['1'][1]:.3f} / {results['0'][1]:.3f}")
    print(f"  pool counts (on):  {results['1'][2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="matmul,elementwise,mlp,overhead,allocator")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    reason = gpu_or_reason()
    if reason is not None:
        print(f"no GPU benchmark: {reason}")
        return
    import numba
    import torch

    major, minor = engine.cuda.get_device_capability()
    print(f"GPU: {engine.cuda.get_device_name()} (compute capability {major}.{minor}); numba {numba.__version__}; "
          f"PyTorch {torch.__version__} (CUDA {torch.version.cuda})")
    parts = args.only.split(",")
    for name in ("matmul", "elementwise", "mlp", "overhead", "allocator"):
        if name in parts:
            globals()[f"bench_{name}"](args.repeats)


if __name__ == "__main__":
    main()
