"""The ``c`` device as a device: build info, availability, the message when it is missing."""

import subprocess
import sys

import pytest

import engine
from engine.backends import c_available

needs_c = pytest.mark.skipif(not c_available()[0], reason="the C library is not built: " + c_available()[1])


@needs_c
def test_cpu_means_the_c_library_when_built():
    assert str(engine.tensor([1.0], device="cpu").device) == "c"
    assert engine.device("cpu") == "c"


@needs_c
def test_build_info_names_the_gemm_kernel_and_threads():
    from engine.backends import get_backend
    from engine.backends.c_backend import num_threads

    info = get_backend("c").build_info
    assert "gemm" in info and "openmp" in info
    assert num_threads() >= 1


def test_missing_c_library_is_one_clear_line():
    # A fresh interpreter where the compiled module cannot be imported (as after an install
    # without a C compiler): the numpy device works, device="c" names the reason.
    code = (
        "import sys; sys.modules['engine._cengine'] = None\n"
        "import engine\n"
        "print(engine.tensor([1.0, 2.0]).device)\n"
        "try:\n"
        "    engine.tensor([1.0], device='c')\n"
        "except engine.DeviceError as exc:\n"
        "    print('ERROR', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines[0] == "numpy"  # "cpu", the default, falls back to the numpy reference
    assert lines[1].startswith("ERROR device 'c' is unavailable: the C library engine._cengine is not built")
    assert "pip install -e ." in lines[1] and len(lines) == 2


@needs_c
def test_fused_kernels_refuse_shapes_they_would_overrun():
    # The backend guards its own C calls, not only the user-facing functions above it.
    import numpy as np

    from engine.backends import get_backend

    c = get_backend("c")
    x, w = np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32)
    with pytest.raises(engine.ShapeError, match=r"linear: shapes x \(2, 3\), weight \(4, 5\)"):
        c.linear_forward(x, w, None, None)
    w = np.zeros((4, 3), np.float32)
    with pytest.raises(engine.ShapeError, match=r"bias \(3,\)"):
        c.linear_forward(x, w, np.zeros(3, np.float32), "relu")
    with pytest.raises(engine.ShapeError, match=r"output \(2, 5\)"):
        c.linear_backward(x, w, np.zeros((2, 5), np.float32), np.zeros((2, 5), np.float32), None)
    p = np.zeros((3, 4), np.float32)
    with pytest.raises(engine.ShapeError, match=r"sgd update: state of shape \(3,\)"):
        c.sgd_update(p, p.copy(), np.zeros(3, np.float32), 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(engine.ShapeError, match=r"adam update: .* dtype float64 for a parameter of shape \(3, 4\)"):
        c.adam_update(p, p.copy(), np.zeros((3, 4)), np.zeros((3, 4), np.float32), 0.1, 0.9, 0.99, 1e-8, 0.0, 1)
