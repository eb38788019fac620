"""On the cuda device too, special values are answers, not warnings (tests/test_ieee_quiet.py's cases).

Under numba's simulator the kernels run as Python on numpy scalars, which warn on 1/0 and 0/0; a
GPU is silent, and the device installs a warnings filter for the simulator's kernels when it is
first used (engine/backends/cuda_backend.py). pytest resets the warnings filters around every test,
so the check runs as a user's program would: a fresh interpreter with RuntimeWarnings as errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent

PROGRAM = """
import math
import numpy as np
import engine
from test_ieee_quiet import CASES

for name, (fn, values, expected) in CASES.items():
    for dtype in ("float32", "float64"):
        out = fn(engine.tensor(values, dtype=dtype, device="cuda")).cpu().numpy().astype(np.float64)
        want = np.asarray(expected, dtype=dtype).astype(np.float64)
        np.testing.assert_array_equal(out, want, err_msg=f"{name} {dtype}")
        number = ~np.isnan(want)
        assert list(np.signbit(out[number])) == list(np.signbit(want[number])), (name, dtype)
print("quiet", len(CASES))
"""


def test_special_values_propagate_without_warnings_on_cuda():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", PROGRAM], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == ["quiet", "10"]
