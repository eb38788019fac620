"""``python -m engine train TASK``: logs, final metrics, pictures, and one-line refusals."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# task -> (epochs, lines the log must contain, pictures)
CASES = {
    "xor": (1000, ["Accuracy:   1.0", "accuracy 100.00%"], ["xor_loss.png", "xor_boundary.png"]),
    "linear": (300, ["learned y = "], ["linear_loss.png", "linear_fit.png"]),
    "polynomial": (300, ["Adam (lr=0.1)", "final L1 loss"], ["polynomial_loss.png", "polynomial_fit.png"]),
    "logistic": (1000, ["Epochs : 1/1000 Cost : 0.693147", "accuracy 100%"],
                 ["logistic_loss.png", "logistic_boundary.png"]),
    "softmax": (300, ["Epoch 0/300 , Cost :", "y_train:   [2, 2, 2, 1, 1, 1, 0, 0]"], ["softmax_loss.png"]),
    "digits": (10, ["held-out accuracy"], ["digits_loss.png", "digits_predictions.png"]),
}


def engine_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine", *args]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    procs = {}
    for task, (epochs, _, _) in CASES.items():
        out = root / task
        procs[task] = (out, subprocess.Popen(
            engine_cmd("train", task, "--epochs", str(epochs), "--out", str(out)),
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        ))
    results = {}
    for task, (out, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        results[task] = (out, proc.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("task", sorted(CASES))
def test_train_task_logs_and_draws(runs, task):
    out, rc, stdout, stderr = runs[task]
    assert rc == 0, stderr[-3000:]
    assert stdout.splitlines()[-len(CASES[task][2]) - 1].startswith(f"Wrote {len(CASES[task][2])} files into")
    for line in CASES[task][1]:
        assert line in stdout, f"{task}: {line!r} not in the log\n{stdout[-3000:]}"
    assert "final loss" in stdout
    for name in CASES[task][2]:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
        assert stdout.rstrip().splitlines()[-len(CASES[task][2]):].count(f"  {out / name}") == 1
    assert "%|" in stderr  # tqdm's bar


def test_digits_reaches_95_percent(runs):
    accuracy = float(re.search(r"accuracy ([\d.]+)%", runs["digits"][2].split("final loss")[1]).group(1))
    assert accuracy >= 95.0


def test_default_out_folder(tmp_path):
    result = subprocess.run(engine_cmd("train", "logistic", "--epochs", "5", "--device", "numpy"),
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "engine-train" / "logistic" / "logistic_loss.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "mnist"], "unknown task 'mnist'; choose one of xor, linear, polynomial, logistic, softmax, digits"),
        (["train", "xor", "--device", "tpu"], "unknown device 'tpu'"),
        (["train", "xor", "--epochs", "0"], "epochs must be a positive integer"),
        (["train", "xor", "--lr", "-1"], "lr must be a positive number"),
    ],
)
def test_train_refuses_with_one_line(args, message, tmp_path):
    result = subprocess.run(engine_cmd(*args), cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not Path(tmp_path / "engine-train").exists()
