"""``python -m engine check`` on the cuda device (on a GPU, or under numba's simulator).

Small budgets on purpose: the simulator runs each CUDA thread as a Python thread, so the whole
property suite at the ``dev`` profile takes ~15 minutes there (run by hand:
``NUMBA_ENABLE_CUDASIM=1 python -m engine check --devices numpy,cuda --profile dev``). Here every
family runs a few examples on cuda against central differences and the numpy device, and a bug
planted in one cuda kernel is caught.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.testing import suite
from engine.testing.cases import family_names

pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # the simulator's scalar 1/0


@pytest.fixture(autouse=True)
def _drawings_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_CHECK_DIR", str(tmp_path))


# A few ops of each family (the simulator is slow), chosen to cover different kernels.
OPS = {"elementwise": ["tanh", "log", "relu"], "binary": ["mul", "div"], "reductions": ["sum_dim", "amax"],
       "linalg": ["matmul"], "shape": ["permute", "gather"], "nn": ["cross_entropy", "softmax"],
       "expressions": None, "programs": None}


@pytest.mark.parametrize("family", family_names())
def test_each_family_passes_on_cuda(family):
    ops = OPS[family]
    row = suite.check_family(family, "cuda", 2 if ops is None else len(ops), derandomize=True, ops=ops)
    assert row.passed, row.failure
    assert row.examples == (2 if ops is None else len(ops))
    if family != "expressions":
        assert row.worst_reference is not None and row.worst_reference < 1e-4


def test_a_wrong_cuda_kernel_is_caught(monkeypatch):
    from engine.backends.cuda_backend import CudaBackend

    original = CudaBackend.unary

    def off(self, op, x, alpha=0.0):
        out = original(self, op, x, alpha)
        if op != "tanh":
            return out
        y = np.array(self.to_numpy(out), copy=True) * 1.01  # 1% off everywhere
        return self.from_numpy(y)

    monkeypatch.setattr(CudaBackend, "unary", off)
    row = suite.check_family("elementwise", "cuda", 4, derandomize=True, ops=["sigmoid", "tanh"])
    assert not row.passed
    first = row.failure.splitlines()[0]
    # tanh's backward reads the saved (wrong) output, so central differences see it first
    assert first.startswith("tanh on 'cuda' at ("), first
