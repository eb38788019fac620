"""The CUDA suite: kernels and the ``cuda`` device.

It runs where numba can reach a GPU, or under numba's simulator (``NUMBA_ENABLE_CUDASIM=1``, set
before numba is imported: ``tests/test_cuda_simulator.py`` starts this folder in its own pytest
process that way). In a plain process without a GPU every test here is skipped with that reason.
"""

from __future__ import annotations

import os
import sys
import threading

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


def _thread_safe_simulator_shared_arrays() -> None:
    """Make the simulator's ``cuda.shared.array`` get-or-create atomic.

    The simulator runs each CUDA thread as a Python thread and gives a block one shared array per
    call site by caching it in a dict (``FakeCUDAShared.array``): look the site up, on a miss
    ``np.empty`` a new array, store it. Nothing makes those steps atomic, so a thread switch right
    after a miss lets two threads of a block each make their own array; the one stored last is what
    the later threads get, and the other thread works on a private copy. Its stores are then lost to
    the block and it reads uninitialised memory (values like 1e175, or zeros, only in the outputs
    that depend on it): a wrong result with no race in the kernel. Rare at the default switch
    interval, it shows under the short one below (seen once in the device tests' matmul).

    Same semantics, under a lock: one array per (file, line) of the call per launch, uninitialised
    (np.empty, so a kernel that reads shared memory before writing it still fails). Dynamic shared
    memory (size 0) is one preallocated buffer and needs no cache: it stays the simulator's own.
    ``test_simulator_shared_arrays.py`` checks the interleaving that broke."""
    from numba.cuda.simulator import kernelapi

    shared = kernelapi.FakeCUDAShared
    if not isinstance(getattr(shared(0), "_allocations", None), dict):
        return  # another simulator layout: the regression test says whether it still races
    original = shared.array
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if alignment is not None or (not isinstance(shape, tuple) and shape == 0):
            return original(self, shape, dtype, alignment)  # the simulator's error, or dynamic memory
        if isinstance(dtype, kernelapi.types.Type):
            dtype = kernelapi.numpy_support.as_dtype(dtype)
        caller = sys._getframe(1)
        site = (caller.f_code.co_filename, caller.f_lineno)  # the simulator's own key
        with lock:
            found = self._allocations.get(site)
            if found is None:
                found = self._allocations[site] = kernelapi.np.empty(shape, dtype)
        return found

    array.thread_safe = True
    shared.array = array


if REASON is None and SIMULATOR:
    _thread_safe_simulator_shared_arrays()


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
