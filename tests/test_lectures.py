"""The lectures' PyTorch programs, run on the engine with only their import lines changed.

Each ``tests/lectures/<name>.py`` was transcribed from a seed lecture and run under torch 2.13.0; its stdout is
``tests/lectures/expected/<name>.txt`` (docs/LECTURES.md says where each comes from). Here the imports are rewritten
(``import torch`` -> ``import engine as torch`` and so on), the program runs in a subprocess, and its stdout is
compared with torch's:

- deterministic programs (no random numbers drawn): the same lines; on each line the numbers agree to rel 1e-4 /
  abs 1e-5 and the text between them is the same once ``torch.`` reads ``engine.``, runs of spaces count as one
  (tensor padding) and a ``grad_fn=<...>`` name is not compared (torch renames them between versions and
  ``1 / t`` is ``MulBackward0`` in torch but a division here);
- programs that draw from ``manual_seed`` (nn.Linear init, rand/randn): the engine does not reproduce torch's
  random stream, so only the structure is compared (the text with every number replaced, whitespace and line
  breaks ignored, since tensor line-wrapping depends on the digits), plus what must hold whatever the draw.

All programs start at once (they are independent processes), so the module takes as long as the slowest one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

LECTURES = Path(__file__).parent / "lectures"
EXPECTED = LECTURES / "expected"
NAMES = sorted(p.stem for p in LECTURES.glob("*.py"))

# Draw random numbers after manual_seed: numbers cannot match torch's generator (docs/LECTURES.md, column RNG).
RANDOM = {
    "linear_regression_1d",
    "multivariate_linear_regression_module",
    "or_network",
    "polynomial_relu",
    "polynomial_sigmoid",
    "simple_nn",
    "softmax_classification",
    "xor_network",
}
# Prints torch's own wording of an error; checked by what it must say instead.
OWN_WORDING = {"tensor_mean_long_error"}

IMPORT_REWRITES = [
    (re.compile(r"^import torch\.nn\.functional as F$", re.M), "import engine.nn.functional as F"),
    (re.compile(r"^import torch\.nn as nn$", re.M), "import engine.nn as nn"),
    (re.compile(r"^import torch\.optim as optim$", re.M), "import engine.optim as optim"),
    (re.compile(r"^from torch\.utils\.data import", re.M), "from engine.utils.data import"),
    (re.compile(r"^import torch$", re.M), "import engine as torch"),
]

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
GRAD_FN = re.compile(r"grad_fn=<\w*>")
TIMEOUT = 120


def rewrite_imports(source: str) -> str:
    """The program with torch's import lines pointing at the engine (nothing else changes)."""
    for pattern, replacement in IMPORT_REWRITES:
        source = pattern.sub(replacement, source)
    return source


def _devices() -> list[str]:
    from engine.backends import c_available

    return ["numpy"] + (["c"] if c_available()[0] else [])


@pytest.fixture(scope="module", params=_devices())
def runs(request, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Start every lecture program at once on one default device, then wait for all of them.

    The programs create tensors without naming a device, as the lectures do; each runs once with the
    numpy reference and once with the C library as the default device (``ENGINE_DEFAULT_DEVICE``).
    """
    folder = tmp_path_factory.mktemp(f"lectures-{request.param}")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "ENGINE_DEFAULT_DEVICE": request.param}
    procs = {}
    for name in NAMES:
        script = folder / f"{name}.py"
        script.write_text(rewrite_imports((LECTURES / f"{name}.py").read_text(encoding="utf-8")), encoding="utf-8")
        procs[name] = subprocess.Popen(
            [sys.executable, str(script)], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8",
        )
    results = {"device": request.param}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n(timed out after {TIMEOUT} s)"
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return results


def run_ok(runs, name: str) -> str:
    result = runs[name]
    assert result.returncode == 0, f"{name}.py failed on the engine:\n{result.stderr[-3000:]}"
    return result.stdout


def expected(name: str) -> str:
    return (EXPECTED / f"{name}.txt").read_text(encoding="utf-8")


def text_of(line: str) -> str:
    """The words of a line: numbers replaced by '#', torch. read as engine., spaces collapsed, grad_fn names dropped."""
    line = GRAD_FN.sub("grad_fn=<>", line.replace("torch.", "engine."))
    return " ".join(NUMBER.sub("#", line).split())


def numbers_of(line: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(GRAD_FN.sub("", line))]


def close(a: float, b: float, rel: float = 1e-4, abs_: float = 1e-5) -> bool:
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def assert_same_output(got: str, want: str, name: str) -> None:
    got_lines, want_lines = got.splitlines(), want.splitlines()
    assert len(got_lines) == len(want_lines), (
        f"{name}: {len(got_lines)} lines printed, torch printed {len(want_lines)}\n--- engine:\n{got}"
    )
    for i, (g, w) in enumerate(zip(got_lines, want_lines), start=1):
        assert text_of(g) == text_of(w), f"{name} line {i}: text differs\n engine: {g}\n  torch: {w}"
        gn, wn = numbers_of(g), numbers_of(w)
        assert len(gn) == len(wn) and all(close(a, b) for a, b in zip(gn, wn)), (
            f"{name} line {i}: numbers differ\n engine: {g}\n  torch: {w}"
        )


def skeleton(text: str) -> str:
    """The text with every number replaced and all whitespace (line wrapping included) removed."""
    return "".join(text_of(text).split())


def number_after(text: str, prefix: str) -> float:
    """The first number on the line that starts with ``prefix``."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return numbers_of(line[len(prefix):])[0]
    raise AssertionError(f"no line starting with {prefix!r} in:\n{text}")


def test_every_program_has_its_expected_output():
    assert NAMES, "no lecture programs found"
    missing = [n for n in NAMES if not (EXPECTED / f"{n}.txt").exists()]
    assert not missing


def test_rewrite_imports_changes_only_the_imports():
    source = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport torch.optim as optim\n" \
             "from torch.utils.data import DataLoader\nx = torch.zeros(1)  # torch.nn stays\n"
    assert rewrite_imports(source).splitlines() == [
        "import engine as torch", "import engine.nn as nn", "import engine.nn.functional as F",
        "import engine.optim as optim", "from engine.utils.data import DataLoader",
        "x = torch.zeros(1)  # torch.nn stays",
    ]


# Engine features these programs need that are missing today (the test shows when they arrive).
MISSING: dict[str, str] = {}  # lecture program -> why the engine cannot run it yet (none today)


def _marked(name: str):
    return pytest.param(name, marks=pytest.mark.xfail(reason=MISSING[name])) if name in MISSING else name


@pytest.mark.parametrize("name", [_marked(n) for n in NAMES if n not in RANDOM | OWN_WORDING])
def test_deterministic_program_prints_what_torch_printed(runs, name):
    assert_same_output(run_ok(runs, name), expected(name), name)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_program_prints_the_same_structure(runs, name):
    # Numbers differ by design (the engine's generator is not torch's); the printed structure must not.
    got = run_ok(runs, name)
    assert skeleton(got) == skeleton(expected(name)), f"{name}: structure differs\n--- engine:\n{got}"


def test_mean_of_long_tensor_is_refused_with_one_line(runs):
    got = run_ok(runs, "tensor_mean_long_error").strip().splitlines()
    assert len(got) == 1 and got[0].startswith("mean()") and "floating point" in got[0], got


# ---- the numbers the issue names, checked one by one ----------------------------------------------------------


def test_multivariate_regression_costs(runs):
    out = run_ok(runs, "multivariate_linear_regression")
    lines = out.splitlines()
    assert lines[0].startswith("Epoch    1/100") and lines[0].endswith("Cost : 29661.800781")
    # torch (and the lecture) print 1.564298; the engine's float32 matmul/sum round in another order, and 100 SGD
    # steps carry those last-bit differences along: the numpy reference prints 1.564299 (compared to 2e-6), the C
    # library's FMA GEMM 1.564306 (compared to 1e-5, i.e. 6e-6 relative: float32 agreement).
    tolerance = 2e-6 if runs["device"] == "numpy" else 1e-5
    assert lines[-1].startswith("Epoch  100/100")
    assert abs(float(lines[-1].rsplit("Cost : ", 1)[1]) - 1.564298) < tolerance


def test_logistic_regression_costs_at_epochs_375_to_378(runs):
    out = run_ok(runs, "logistic_regression")
    lecture = {375: 0.35680938, 376: 0.35652605, 377: 0.35624304, 378: 0.35596052}  # the lecture's log, rounded
    for epoch, cost in lecture.items():
        assert abs(number_after(out, f"Epochs : {epoch}/1000 Cost : ") - cost) < 2e-7, epoch


@pytest.mark.parametrize(
    "name, snippets",
    [
        ("tensor_mean_sum_max", [
            "tensor(1.5000)", "tensor(2.5000)", "tensor([2., 3.])", "tensor([1.5000, 3.5000])",
            "tensor(10.)", "tensor([4., 6.])", "tensor([3., 7.])", "tensor(4.)",
            "values=tensor([3., 4.]),\nindices=tensor([1, 1]))", "Max:  tensor([3., 4.])", "Argmax:  tensor([1, 1])",
            "values=tensor([2., 4.]),\nindices=tensor([1, 1]))",
        ]),
        ("tensor_view_squeeze", [
            "Size([2, 2, 3])", "Size([4, 3])", "Size([4, 1, 3])",
            "tensor([[[ 0.,  1.,  2.]],\n\n        [[ 3.,  4.,  5.]],",
            "tensor([0., 1., 2.])\nengine.Size([3])", "tensor([[0., 1., 2.]])\nengine.Size([1, 3])",
            "tensor([[0.],\n        [1.],\n        [2.]])\nengine.Size([3, 1])",
        ]),
        ("tensor_cat_stack_inplace", [
            "tensor([[1., 2.],\n        [3., 4.],\n        [5., 6.],\n        [7., 8.]])",
            "tensor([[1., 2., 5., 6.],\n        [3., 4., 7., 8.]])",
            "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])",
            "tensor([[1., 2., 3.],\n        [4., 5., 6.]])",
            "tensor([[2., 4.],\n        [6., 8.]])\ntensor([[1., 2.],\n        [3., 4.]])",  # mul: x unchanged
            "tensor([[2., 4.],\n        [6., 8.]])\ntensor([[2., 4.],\n        [6., 8.]])",  # mul_: x changed
        ]),
        ("tensor_broadcast_matmul", [
            "tensor([[5., 5.]])", "tensor([[4., 5.]])", "tensor([[4., 5.],\n        [5., 6.]])",
            "tensor([[ 5.],\n        [11.]])", "tensor([[1., 2.],\n        [6., 8.]])",
        ]),
        ("tensor_1d_2d", ["tensor([0., 1., 2., 3., 4., 5., 6.])", "tensor(0.) tensor(1.) tensor(6.)",
                          "tensor([ 2.,  5.,  8., 11.])"]),
        ("tensor_type_casting", ["tensor([1, 2, 3, 4])", "tensor([1., 2., 3., 4.])",
                                 "tensor([1, 0, 0, 1], dtype=engine.uint8)", "tensor([1., 0., 0., 1.])"]),
        ("autograd_basic", ["수식을 w로 미분한 값 : 8.0"]),
    ],
)
def test_tensor_manipulation_numbers(runs, name, snippets):
    out = run_ok(runs, name)
    for snippet in snippets:
        assert snippet in out, f"{name}: {snippet!r} not printed\n--- engine:\n{out}"


# ---- what the random programs must show whatever the draw ------------------------------------------------------


def test_or_network_learns_or(runs):
    # OR is linearly separable: any reasonable init reaches it in 1000 steps of lr=1.
    out = run_ok(runs, "or_network")
    assert "Accuracy:  1.0" in out


def test_linear_regression_1d_finds_the_line(runs):
    # y = 2x + 3 with noise: the fitted weight and bias land near 2 and 3 whatever the init.
    w, b = numbers_of(run_ok(runs, "linear_regression_1d").strip().splitlines()[-1])
    assert abs(w - 2.0) < 0.05 and abs(b - 3.0) < 0.1


def test_softmax_classification_rows_sum_to_one(runs):
    # lr=1 makes the cost jump around whatever the init (torch too); the softmax rows must still each sum to 1.
    out = run_ok(runs, "softmax_classification")
    row_sums = numbers_of(out[out.rindex("tensor(["):])
    assert len(row_sums) == 8 and all(close(s, 1.0) for s in row_sums), out
