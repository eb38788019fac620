"""Without numba, or without a GPU, ``device="cuda"`` is one line saying which and what to do;
``import engine`` never imports numba."""

from __future__ import annotations

import subprocess
import sys

import pytest

import engine


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_import_engine_does_not_import_numba():
    out = _run("import sys, engine; engine.tensor([1.0]) * 2; print('numba' in sys.modules)")
    assert out.strip() == "False"


def test_without_numba_the_error_names_the_extra():
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import engine\n"
        "print(engine.cuda.is_available())\n"
        "try:\n"
        "    engine.tensor([1.0], device='cuda')\n"
        "except engine.DeviceError as exc:\n"
        "    print('ERROR', exc)\n"
    )
    lines = _run(code).strip().splitlines()
    assert lines[0] == "False"
    assert lines[1].startswith("ERROR device 'cuda' is unavailable: numba is not installed")
    assert "backprop-engine[cuda]" in lines[1] and len(lines) == 2


@pytest.mark.skipif(engine.cuda.is_available(), reason="a GPU (or the simulator) is present here")
def test_without_a_gpu_the_error_says_so():
    with pytest.raises(engine.DeviceError) as exc:
        engine.ones(2, device="cuda")
    message = str(exc.value)
    assert "\n" not in message and "cuda" in message
    assert engine.cuda.why_unavailable() is not None and engine.cuda.device_count() == 0
    assert "cuda: unavailable" in "\n".join(__import__("engine.apps.cli", fromlist=["x"]).device_report())


def test_the_lectures_first_line_falls_back_to_cpu():
    device = "cuda" if engine.cuda.is_available() else "cpu"
    assert engine.tensor([1.0, 2.0], device=device).sum().item() == 3.0


def test_info_lists_every_device():
    out = subprocess.run([sys.executable, "-m", "engine", "info"], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines[1].startswith("numpy: available")
    assert lines[2].startswith("c: ") and lines[3].startswith("cuda: ")
    assert all("\n" not in line for line in lines) and len(lines) == 4
