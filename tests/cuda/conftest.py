"""The CUDA suite: kernels and the ``cuda`` device.

It runs where numba can reach a GPU, or under numba's simulator (``NUMBA_ENABLE_CUDASIM=1``, set
before numba is imported: ``tests/test_cuda_simulator.py`` starts this folder in its own pytest
process that way). In a plain process without a GPU every test here is skipped with that reason.
"""

from __future__ import annotations

import os
import sys

import pytest

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def _why_not() -> str | None:
    try:
        from numba import cuda
    except ImportError:
        return "numba is not installed (pip install 'backprop-engine[cuda]')"
    if SIMULATOR:
        return None
    try:
        if cuda.is_available():
            return None
    except Exception as exc:  # a broken driver: say so, never crash collection
        return f"numba cannot use CUDA here: {exc}"
    return "no CUDA GPU here; tests/test_cuda_simulator.py runs this folder under numba's simulator"


REASON = _why_not()


def pytest_collection_modifyitems(config, items):
    if REASON is None:
        return
    skip = pytest.mark.skip(reason=REASON)
    for item in items:
        if "tests/cuda" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _quick_thread_switches():
    """The simulator's barriers wait on Python thread switches (every 5 ms by default); switching
    more often makes barrier-heavy kernels several times faster there."""
    if not SIMULATOR:
        yield
        return
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture(autouse=True)
def _one_warp_launches_on_the_simulator(request, monkeypatch):
    """Device-level tests (test_cuda_*.py) run the whole engine through the kernels. Under the
    simulator every CUDA thread is a Python thread, so they use one-warp launch shapes there: the
    same code paths (each kernel family's own tests also run its production shapes)."""
    if not SIMULATOR or not request.module.__name__.split(".")[-1].startswith("test_cuda_"):
        return
    from engine._kernels import matmul, neural, reduce

    monkeypatch.setattr(matmul, "TILE", matmul.Tile(32, 64, 8, 8, 8))
    for name, value in {"ROW_THREADS": 32, "SUM_THREADS": 32, "SUM_BLOCKS": 4, "COLUMN_ROWS": 16}.items():
        monkeypatch.setattr(neural, name, value)
    monkeypatch.setattr(reduce, "THREADS", 32)
