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
