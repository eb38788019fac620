"""Runs the CUDA suite (tests/cuda) under numba's simulator, in its own pytest process.

CI has no GPU. The simulator runs the same kernels on the CPU, one Python thread per CUDA
thread, but only when ``NUMBA_ENABLE_CUDASIM=1`` is set before numba is imported: hence a
process of its own. On a machine with a GPU, tests/cuda runs in the main suite on the GPU
itself and this test is skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _numba_state() -> str | None:
    """None when the simulator run makes sense here, else why it is skipped."""
    probe = "import numba, numba.cuda; print(int(numba.cuda.is_available()))"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return "numba is not installed (the test extra installs it): the CUDA suite can't run"
    if result.stdout.strip() == "1":
        return "a real GPU is present: tests/cuda runs on it in the main suite"
    return None


@pytest.mark.skipif(_numba_state() is not None, reason=str(_numba_state()))
def test_the_cuda_suite_passes_on_numbas_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", str(ROOT / "tests" / "cuda")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"the CUDA suite failed under the simulator:\n{tail}"
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1], tail
