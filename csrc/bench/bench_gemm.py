"""Benchmark eng_matmul_{f32,f64} against numpy (OpenBLAS) at square sizes.

Usage (from the repository root):
    make -C csrc lib                      # builds csrc/build/libengine.so
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python csrc/bench/bench_gemm.py
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python csrc/bench/bench_gemm.py 1024 2048

Prints GFLOP/s (2*n^3 / best time) for the engine kernel and for numpy, in the same run.
"""
import ctypes
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.environ.get("ENGINE_LIB", os.path.join(HERE, "..", "build", "libengine.so"))


def load():
    lib = ctypes.CDLL(LIB)
    i64, p = ctypes.c_int64, ctypes.c_void_p
    for name, ct in (("eng_matmul_f32", ctypes.c_float), ("eng_matmul_f64", ctypes.c_double)):
        f = getattr(lib, name)
        f.argtypes = [i64, i64, i64, i64, p, i64, i64, ctypes.c_int, p, i64, i64, ctypes.c_int,
                      p, i64, i64, ct]
        f.restype = None
    lib.eng_build_info.restype = ctypes.c_char_p
    return lib


def best_time(fn, n):
    reps = max(3, min(200, int(2e9 / (2 * n**3))))
    fn()
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def main():
    lib = load()
    sizes = [int(a) for a in sys.argv[1:]] or [64, 128, 256, 512, 1024, 2048]
    print(lib.eng_build_info().decode(), "| OMP_NUM_THREADS =", os.environ.get("OMP_NUM_THREADS"),
          "| OPENBLAS_NUM_THREADS =", os.environ.get("OPENBLAS_NUM_THREADS"))
    print(f"{'n':>6} {'dtype':>6} {'engine GF/s':>12} {'numpy GF/s':>11} {'ratio':>6} {'max rel err':>12}")
    rng = np.random.default_rng(0)
    for n in sizes:
        for dt, fn in ((np.float32, lib.eng_matmul_f32), (np.float64, lib.eng_matmul_f64)):
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            c = np.empty((n, n), dt)
            pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data

            def ours():
                fn(1, n, n, n, pa, n, 0, 0, pb, n, 0, 0, pc, n, 0, 0.0)

            out = np.empty_like(c)
            t_eng = best_time(ours, n)
            t_np = best_time(lambda: np.matmul(a, b, out=out), n)
            err = np.abs(c - out).max() / max(np.abs(out).max(), 1e-30)
            fl = 2.0 * n**3
            print(f"{n:>6} {np.dtype(dt).name:>6} {fl / t_eng / 1e9:>12.1f} {fl / t_np / 1e9:>11.1f}"
                  f" {t_np / t_eng:>6.2f} {err:>12.2e}")


if __name__ == "__main__":
    main()
