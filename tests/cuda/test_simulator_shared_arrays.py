"""The simulator's shared arrays are one per call site for every thread of a block, even when a
thread switch falls inside the allocation (conftest.py makes that atomic).

Regression: a block's threads could get two different arrays from one ``cuda.shared.array`` line
when the interpreter switched threads between the simulator's cache miss and its store; a thread
left with the private array read uninitialised memory. The device tests' a.T @ b.T gradient came
back as 23 of 35 values like -1.6e175 once in ~6 suite runs.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
                                reason="checks numba's simulator (NUMBA_ENABLE_CUDASIM=1)")


def _allocate(shared, dtype):
    return shared.array(8, dtype)  # one call site for both threads, as in a kernel


class _DtypeThatPauses:
    """A dtype numpy resolves through its ``.dtype`` attribute: read during the allocation, i.e.
    after the cache lookup missed and before the array is stored: it holds its thread there until
    the other thread has allocated too (or a second has passed: the other thread is waiting)."""

    def __init__(self, inside: threading.Event, other_done: threading.Event) -> None:
        self.inside, self.other_done = inside, other_done

    @property
    def dtype(self):
        self.inside.set()
        self.other_done.wait(timeout=1.0)
        return np.dtype(np.float64)


def test_two_threads_at_one_call_site_get_the_same_shared_array():
    from numba.cuda.simulator.kernelapi import FakeCUDAShared

    shared = FakeCUDAShared(0)  # what one launch's blocks allocate from
    inside, other_done = threading.Event(), threading.Event()
    got = {}

    def first():
        got["first"] = _allocate(shared, _DtypeThatPauses(inside, other_done))

    def second():
        assert inside.wait(timeout=5.0)
        got["second"] = _allocate(shared, np.float64)
        other_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10.0)
    assert set(got) == {"first", "second"}
    assert got["first"] is got["second"], "one call site gave a block two shared arrays"
    assert _allocate(shared, np.float64) is got["first"]


def test_call_sites_still_get_their_own_arrays():
    from numba.cuda.simulator.kernelapi import FakeCUDAShared

    shared = FakeCUDAShared(0)
    a = shared.array(4, np.float32)
    b = shared.array(4, np.float32)
    assert a is not b and a.dtype == np.float32 and a.shape == (4,)
    assert all(_allocate(shared, np.float64) is _allocate(shared, np.float64) for _ in range(2))
