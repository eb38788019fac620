"""docs/COMPATIBILITY.md stays true: what it calls available exists, what it calls missing does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine

DOC = Path(__file__).resolve().parent.parent / "docs" / "COMPATIBILITY.md"
ROW = re.compile(r"^\| ([A-Za-z_][\w.]*) \| (yes|differs|partial|missing) \|")


def rows() -> list[tuple[str, str]]:
    found = [ROW.match(line) for line in DOC.read_text(encoding="utf-8").splitlines()]
    return [(m.group(1), m.group(2)) for m in found if m]


def resolve(name: str):
    """The engine object a PyTorch name stands for, or None."""
    if name.startswith("torchvision.datasets."):
        name = "datasets." + name.rsplit(".", 1)[1]
    roots = {"torch": engine, "Tensor": engine.Tensor, "nn": engine.nn, "F": engine.nn.functional,
             "optim": engine.optim, "lr_scheduler": engine.optim.lr_scheduler, "utils": engine.utils,
             "Optimizer": engine.optim.Optimizer, "datasets": engine.datasets}
    head, *rest = name.split(".")
    obj = roots[head]
    for part in rest:
        if part.startswith("__") and part.endswith("__"):
            return getattr(obj, part, None)
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def test_the_page_has_rows_of_every_kind():
    kinds = {status for _, status in rows()}
    assert kinds == {"yes", "differs", "partial", "missing"} and len(rows()) > 80


@pytest.mark.parametrize("name, status", rows())
def test_each_row_is_true(name, status):
    if name.startswith("torch.cuda."):
        found = getattr(engine.cuda, name.rsplit(".", 1)[1], None)
    elif name.startswith("torch.autograd."):
        found = getattr(engine.autograd, name.rsplit(".", 1)[1], None)
    elif name.startswith("torch.") and name.count(".") == 1 and name[6:] in ("float32", "float16", "int32"):
        found = getattr(engine, name[6:], None)
    else:
        found = resolve(name)
    if status == "missing":
        assert found is None, f"{name} exists now: update docs/COMPATIBILITY.md"
    else:
        assert found is not None, f"docs/COMPATIBILITY.md says {name} exists ({status}), but it does not"
