"""examples/*.ipynb run top to bottom in a real Jupyter kernel and print the lectures' numbers;
the committed files carry no outputs.

The kernel is ipykernel on this interpreter (a ``python3`` kernel spec written to a temporary
``JUPYTER_PATH``, so a stale spec elsewhere cannot pick another Python), importing ``engine`` from
this checkout. Without nbclient or ipykernel the execution tests skip and say so.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_notebook_is_tested():
    assert {p.stem for p in NOTEBOOKS} == {"chain_rule", "xor"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    # Plain JSON, so this holds without nbformat installed.
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    for i, cell in enumerate(code):
        assert cell["outputs"] == [], f"{path.name}: code cell {i} has outputs (strip them before committing)"
        assert cell["execution_count"] is None, f"{path.name}: code cell {i} has an execution count"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A ``python3`` kernel spec running this interpreter, and ``engine`` from this checkout."""
    pytest.importorskip("nbclient", reason="nbclient is not installed: pip install -e '.[test]'")
    pytest.importorskip("nbformat", reason="nbformat is not installed: pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed: pip install -e '.[test]'")
    share = tmp_path_factory.mktemp("jupyter")
    spec = share / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (this interpreter)",
        "language": "python",
    }), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [str(share), os.environ.get("JUPYTER_PATH")])))
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield


def execute(name: str, cwd: Path) -> list[list[dict]]:
    """Run examples/<name>.ipynb in a fresh kernel (working directory ``cwd``); each code cell's outputs."""
    import nbclient
    import nbformat

    nb = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return [cell.outputs for cell in nb.cells if cell.cell_type == "code"]


def printed(outputs: list[list[dict]]) -> str:
    return "".join(out["text"] for cell in outputs for out in cell if out["output_type"] == "stream")


def rich(outputs: list[list[dict]], mime: str) -> list[str]:
    return [out["data"][mime] for cell in outputs for out in cell
            if out["output_type"] in ("display_data", "execute_result") and mime in out["data"]]


def test_chain_rule_notebook(kernel_env, tmp_path):
    outputs = execute("chain_rule", tmp_path)
    text = printed(outputs)
    assert "q = 3.0, f = -12.0" in text
    assert "df/dx = -4.0, df/dy = -4.0, df/dz = 3.0" in text
    # The step-through, in backward's order, both as Step fields and as the lectures' chain-rule lines.
    assert "f -> q: upstream 1.0 x local -4.0 = -4.0\nf -> z: upstream 1.0 x local 3.0 = 3.0\n" \
           "q -> x: upstream -4.0 x local 1.0 = -4.0\nq -> y: upstream -4.0 x local 1.0 = -4.0" in text
    assert "∂f/∂f = 1\n∂f/∂q = ∂f/∂f · ∂f/∂q = 1 · -4 = -4\n∂f/∂z = ∂f/∂f · ∂f/∂z = 1 · 3 = 3\n" \
           "∂f/∂x = ∂f/∂q · ∂q/∂x = -4 · 1 = -4\n∂f/∂y = ∂f/∂q · ∂q/∂y = -4 · 1 = -4" in text
    # viz.draw(f) shows inline as SVG, drawn with the gradients.
    (svg,) = rich(outputs, "image/svg+xml")
    words = [t.text for t in ElementTree.fromstring(svg.encode("utf-8")).iter("{http://www.w3.org/2000/svg}text")]
    for label in ("data -2", "data 5", "data -4", "data -12", "grad -4", "grad 3", "grad 1"):
        assert label in words, f"the inline drawing lacks {label!r}: {words}"
    assert words.count("grad -4") == 3  # x, y and q


def test_xor_notebook(kernel_env, tmp_path):
    outputs = execute("xor", tmp_path)
    text = printed(outputs)
    log = [(int(step), float(cost)) for step, cost in re.findall(r"^(\d+) (\d\.\d+(?:e-?\d+)?)$", text, re.M)]
    assert [step for step, _ in log] == list(range(0, 1001, 100))
    assert log[0][1] > 0.6  # chance level, ln 2
    assert log[-1][1] < 0.05
    assert "Correct:  [0. 1. 1. 0.]" in text
    assert "Accuracy:  1.0" in text
    hypothesis = [float(p) for p in re.search(r"Hypothesis:  \[([^\]]*)\]", text).group(1).split()]
    assert len(hypothesis) == 4
    assert [p > 0.5 for p in hypothesis] == [False, True, True, False]
    # The loss curve, shown inline by matplotlib.
    (png,) = rich(outputs, "image/png")
    assert base64.b64decode(png)[:8] == PNG_SIGNATURE
