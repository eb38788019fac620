"""Shared command-line flags of the example scripts (``--device``, ``--epochs``, ``--out``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_args(doc: str, epochs: int, name: str) -> argparse.Namespace:
    """The three flags every example takes; ``--out`` defaults to ``examples-out/<name>/``."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default), numpy, c or cuda")
    parser.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    parser.add_argument("--out", type=Path, default=Path("examples-out") / name, help="folder for the pictures")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def report(paths: list[Path]) -> None:
    print("\nwrote:")
    for path in paths:
        print(f"  {path}")
