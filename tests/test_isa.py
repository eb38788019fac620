"""Kernel sets (issue 12): the C library carries portable, AVX2 and AVX-512 kernels and picks one at run time.

``ENGINE_ISA=generic|avx2|avx512`` forces a set; an unknown or unsupported name is one line naming the valid ones.
The main test run uses the best set the CPU has; here the c device's own suites run again under every other set
this CPU supports, each in a fresh interpreter (the set is read when the library loads), and must agree with the
numpy device exactly as they do under the best set. The C unit tests (``make -C csrc test``) loop over every set
themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.backends import c_available

pytestmark = pytest.mark.skipif(not c_available()[0], reason=f"the C library is not built: {c_available()[1]}")

TESTS = Path(__file__).parent
# The suites that hold the c device to the numpy reference and to PyTorch (special values, edge shapes, gradients):
# the conformance suite of the backend contract, the c device's own tests and its hostile-input tests.
SUITES = ["backends/test_conformance.py", "test_c_device.py", "test_hostile_c.py"]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "ENGINE_ISA"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120)


def test_default_is_the_best_set_and_every_set_is_named():
    from engine.backends.c_backend import ISA_NAMES, isa, supported_isas

    assert ISA_NAMES == ("generic", "avx2", "avx512")
    assert supported_isas()[0] == "generic"
    if "ENGINE_ISA" not in os.environ:
        assert isa() == supported_isas()[-1]


@pytest.mark.parametrize("value", ["avx3", "AVX2", "sse", " avx2"])
def test_unknown_set_is_one_line(value):
    proc = run_python("import engine\nengine.tensor([1.0])", ENGINE_ISA=value)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (f"engine.errors.DeviceError: device 'cpu': ENGINE_ISA={value!r} is not a kernel set; valid: "
                    "generic, avx2, avx512 (or unset for the best)")


def test_unknown_set_names_the_c_device_and_leaves_numpy_alone():
    code = ("import engine\nprint(engine.tensor([1.0], device='numpy').device)\n"
            "try:\n    engine.tensor([1.0], device='c')\nexcept engine.DeviceError as e:\n    print(e)\n")
    proc = run_python(code, ENGINE_ISA="avx1024")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "numpy",
        "device 'c': ENGINE_ISA='avx1024' is not a kernel set; valid: generic, avx2, avx512 (or unset for the best)",
    ]


def test_unsupported_set_is_one_line():
    from engine.backends.c_backend import ISA_NAMES, supported_isas

    missing = [name for name in ISA_NAMES if name not in supported_isas()]
    if not missing:
        pytest.skip("this CPU runs every kernel set, so none can be refused as unsupported")
    proc = run_python("import engine\nengine.tensor([1.0])", ENGINE_ISA=missing[-1])
    assert proc.stderr.strip().splitlines()[-1] == (
        f"engine.errors.DeviceError: device 'cpu': ENGINE_ISA={missing[-1]!r}: this CPU does not support it; it runs "
        f"{', '.join(supported_isas())} (unset ENGINE_ISA for the best)")


@pytest.mark.parametrize("kernel_set", ["generic", "avx2", "avx512"])
def test_forced_set_is_the_one_in_use(kernel_set):
    from engine.backends.c_backend import supported_isas

    if kernel_set not in supported_isas():
        pytest.skip(f"this CPU does not run {kernel_set}")
    proc = run_python("from engine.backends import get_backend\nfrom engine.backends.c_backend import isa\n"
                      "print(isa()); print(get_backend('c').build_info)", ENGINE_ISA=kernel_set)
    assert proc.returncode == 0, proc.stderr
    name, info = proc.stdout.splitlines()
    assert name == kernel_set and info.startswith(f"kernels: {kernel_set} ")
    info_cli = subprocess.run([sys.executable, "-m", "engine", "info"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "ENGINE_ISA": kernel_set})
    assert f"c: available: kernels: {kernel_set} " in info_cli.stdout


def test_set_isa_switches_and_results_agree():
    """In one process: the same float32/float64 work under each set agrees with numpy (matmul to rounding)."""
    from engine.backends import get_backend
    from engine.backends.c_backend import isa, set_isa, supported_isas

    c = get_backend("c")
    rng = np.random.default_rng(12)
    before = isa()
    try:
        for kernel_set in supported_isas():
            set_isa(kernel_set)
            assert isa() == kernel_set
            for dtype, tol in ((np.float32, 2e-5), (np.float64, 1e-12)):
                for m, k, n in ((1, 1, 1), (7, 13, 5), (65, 257, 33), (300, 70, 129)):
                    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
                    np.testing.assert_allclose(c.matmul(a, b), a.astype(np.float64) @ b, rtol=tol, atol=tol * k)
                x = rng.standard_normal(1001).astype(dtype) * 30
                with np.errstate(over="ignore"):  # the reference rounded to dtype: float32 overflows past 88.7
                    x64 = x.astype(np.float64)
                    np.testing.assert_allclose(c.unary("sigmoid", x), (1 / (1 + np.exp(-x64))).astype(dtype),
                                               rtol=tol * 10, atol=0)
                    np.testing.assert_allclose(c.unary("exp", x), np.exp(x64).astype(dtype), rtol=tol * 10)
                    np.testing.assert_allclose(c.unary("tanh", x), np.tanh(x64).astype(dtype), rtol=tol * 10,
                                               atol=tol)
        with pytest.raises(Exception, match="is not a kernel set this CPU runs"):
            set_isa("avx3")
    finally:
        set_isa(before)


@pytest.mark.parametrize("kernel_set", ["generic", "avx2", "avx512"])
def test_c_device_suites_pass_under_each_set(kernel_set):
    from engine.backends.c_backend import supported_isas

    if kernel_set not in supported_isas():
        pytest.skip(f"this CPU does not run {kernel_set}")
    if kernel_set == supported_isas()[-1] and "ENGINE_ISA" not in os.environ:
        pytest.skip(f"{kernel_set} is the default set: the main run already ran these suites under it")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *SUITES]
    proc = subprocess.run(cmd, cwd=TESTS, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "ENGINE_ISA": kernel_set})
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]
    assert proc.returncode == 0, f"under ENGINE_ISA={kernel_set}: {tail}\n{proc.stdout[-4000:]}"
    assert " passed" in tail and "failed" not in tail
