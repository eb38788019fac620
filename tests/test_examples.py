"""examples/*.py: each runs (few epochs, in a temporary folder), prints its log and saves valid PNGs.

The scripts start together (independent processes), so the module takes about as long as the slowest.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# name -> (epochs, lines the log must contain, files written)
CASES = {
    "chain_rule": (20, ["q = 3.0, f = -12.0", "df/dx = -4.0, df/dy = -4.0, df/dz = 3.0", "df/dx1 = -0.5898"],
                   ["chain_rule.svg", "sigmoid_neuron.svg", "chain_rule_loss.png"]),
    "linear_regression": (300, ["learned y = "], ["linear_regression_loss.png", "linear_regression_fit.png"]),
    "multivariate_regression": (100, ["Epoch    1/100 hypothesis: tensor([0., 0., 0., 0., 0.]",
                                      "Cost : 29661.800781", "Epoch  100/100"],
                                ["multivariate_regression_loss.png", "multivariate_regression_fit.png"]),
    "logistic_regression": (400, ["Epochs : 375/400 Cost : 0.35680", "accuracy"],
                            ["logistic_regression_loss.png", "logistic_regression_boundary.png"]),
    "softmax_classification": (300, ["Epoch 0/300 , Cost :", "predicted"],
                               ["softmax_classification_loss.png", "softmax_classification_fit.png"]),
    "xor_mlp": (1000, ["Accuracy:  1.0"], ["xor_mlp_loss.png", "xor_mlp_boundary.png"]),
    "polynomial_fit": (200, ["optimizer: SGD lr=0.001 (the lecture)", "final L1 loss"],
                       ["polynomial_fit_loss.png", "polynomial_fit_fit.png"]),
    "digits_mlp": (10, ["held-out accuracy"], ["digits_mlp_loss.png", "digits_mlp_predictions.png"]),
}


def test_every_example_is_tested():
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(CASES)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("examples")
    procs = {}
    for name, (epochs, _, _) in CASES.items():
        out = root / name
        procs[name] = (out, subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), "--epochs", str(epochs), "--out", str(out)],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        ))
    results = {}
    for name, (out, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        results[name] = (out, proc.returncode, stdout, stderr)
    return results


def assert_png(path: Path) -> None:
    assert path.exists(), f"{path} was not written"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, f"{path} is not a PNG picture"


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_logs_and_draws(runs, name):
    out, rc, stdout, stderr = runs[name]
    assert rc == 0, stderr[-3000:]
    for line in CASES[name][1]:
        assert line in stdout, f"{name}: {line!r} not in the log\n{stdout[-3000:]}"
    for file in CASES[name][2]:
        if file.endswith(".png"):
            assert_png(out / file)
        else:
            assert (out / file).read_text(encoding="utf-8").lstrip().startswith(("<", "digraph"))
        assert str(out / file) in stdout  # the script lists what it wrote
    assert "%|" in stderr  # the tqdm bar (on stderr, so the log stays clean)


def test_digits_reaches_95_percent(runs):
    stdout = runs["digits_mlp"][2]
    accuracy = float(re.search(r"held-out accuracy: ([\d.]+)%", stdout).group(1))
    assert accuracy >= 95.0, stdout


def test_linear_regression_finds_2_and_3(runs):
    w, b = map(float, re.search(r"learned y = ([-\d.]+) x \+ ([-\d.]+)", runs["linear_regression"][2]).groups())
    assert abs(w - 2) < 0.02 and abs(b - 3) < 0.05


def test_example_refuses_bad_epochs(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / "xor_mlp.py"), "--epochs", "0", "--out", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "--epochs must be at least 1" in result.stderr
