"""Printing tensors the way PyTorch does, so the lectures' printed output reads the same.

    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)

Floats: 4 decimals, or ``1.`` style when every value is whole, or scientific notation when
the magnitudes span too much; one width for all elements; long tensors summarised with ``...``.
"""

from __future__ import annotations

import numpy as np

SUMMARY_THRESHOLD = 1000
EDGE_ITEMS = 3
LINE_WIDTH = 80


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    absolute = np.abs(finite)
    whole = bool(np.all(finite == np.round(finite)))
    nonzero = absolute[absolute != 0]
    big, small = (float(nonzero.max()), float(nonzero.min())) if nonzero.size else (0.0, 0.0)
    if whole:
        # PyTorch's int mode: scientific when the magnitudes span over 1000x or pass 1e8.
        if nonzero.size and (big / small > 1000.0 or big > 1e8):
            return lambda v: _special(v) or f"{v:.4e}"
        return lambda v: _special(v) or f"{v:.0f}."
    if nonzero.size and (big / small > 1000.0 or big > 1e8 or small < 1e-4):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v: float) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _formatter(array: np.ndarray):
    if array.dtype == np.bool_:
        return lambda v: "True" if v else "False"
    if array.dtype.kind in "iu":
        return lambda v: str(int(v))
    return _float_formatter(array.astype(np.float64).ravel())


def _summarised(array: np.ndarray) -> np.ndarray:
    """The elements that will be printed (edges only for big tensors)."""
    if array.size <= SUMMARY_THRESHOLD or array.ndim == 0:
        return array.ravel()
    parts = []

    def walk(a):
        if a.ndim == 1:
            short = a.shape[0] <= 2 * EDGE_ITEMS
            parts.append(a if short else np.concatenate([a[:EDGE_ITEMS], a[-EDGE_ITEMS:]]))
            return
        n = a.shape[0]
        rows = range(n) if n <= 2 * EDGE_ITEMS else [*range(EDGE_ITEMS), *range(n - EDGE_ITEMS, n)]
        for i in rows:
            walk(a[i])

    walk(array)
    return np.concatenate(parts) if parts else array.ravel()


def format_array(array: np.ndarray, indent: int) -> str:
    """The bracketed body of a tensor's repr; ``indent`` is the column of the first ``[``."""
    fmt = _formatter(array)
    shown = _summarised(array)
    if array.dtype.kind == "f":
        # PyTorch sizes float cells by the nonzero finite values only: zeros, inf and nan may
        # be wider (``-0.``, ``inf``) and are then printed unpadded.
        picked = shown[np.isfinite(shown) & (shown != 0)]
        width = max((len(fmt(v)) for v in picked.tolist()), default=1)
    else:
        width = max((len(fmt(v)) for v in shown.tolist()), default=1)
    summarise = array.size > SUMMARY_THRESHOLD

    def cell(v) -> str:
        return fmt(v).rjust(width)

    def rec(a: np.ndarray, depth: int) -> str:
        if a.ndim == 0:
            return fmt(a.item())
        if a.ndim == 1:
            items = [cell(v) for v in a.tolist()] if not (summarise and a.shape[0] > 2 * EDGE_ITEMS) else [
                *(cell(v) for v in a[:EDGE_ITEMS].tolist()), " ...", *(cell(v) for v in a[-EDGE_ITEMS:].tolist())
            ]
            # PyTorch: floor((linewidth - indent) / (width + len(", "))) elements per line.
            per_line = max(1, (LINE_WIDTH - indent - depth) // (width + 2))
            lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
            return "[" + (",\n" + " " * (indent + depth + 1)).join(lines) + "]"
        if summarise and a.shape[0] > 2 * EDGE_ITEMS:
            rows = [rec(a[i], depth + 1) for i in range(EDGE_ITEMS)] + ["..."] + [
                rec(a[i], depth + 1) for i in range(a.shape[0] - EDGE_ITEMS, a.shape[0])
            ]
        else:
            rows = [rec(a[i], depth + 1) for i in range(a.shape[0])]
        sep = "," + "\n" * (a.ndim - 1) + " " * (indent + depth + 1)
        return "[" + sep.join(rows) + "]"

    return rec(array, 0)


def tensor_repr(t) -> str:
    array = np.asarray(t._backend.to_numpy(t._data))
    prefix = "tensor("
    if array.size == 0 and array.ndim == 1:
        body = "[]"
    elif array.size == 0:
        body = "[]"
    else:
        body = format_array(array, len(prefix))
    suffix = []
    if array.size == 0 and array.shape != (0,):
        suffix.append(f"size={tuple(array.shape)}")
    from engine.backends import default_device_name

    if t._device.type != default_device_name():  # as PyTorch omits its default "cpu"
        suffix.append(f"device='{t._device}'")  # str gives 'cuda:0' for the GPU, as PyTorch
    if array.dtype in (np.float64, np.uint8):
        suffix.append(f"dtype=engine.{array.dtype.name}")
    elif array.size == 0 and array.dtype == np.int64:
        suffix.append("dtype=engine.int64")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return prefix + _with_suffixes(body, suffix, len(prefix)) + ")"


LINE_WIDTH = 80


def _with_suffixes(body: str, suffixes: list[str], indent: int) -> str:
    """``body`` followed by ``, suffix`` each; a suffix that would take the last line past 80
    characters goes on a line of its own, indented to the opening bracket (PyTorch's layout)."""
    out = [body]
    # Counted as PyTorch counts it (torch/_tensor_str.py, _add_suffixes), one more than the characters.
    last_line = len(body) - body.rfind("\n") + 1 if "\n" in body else len(body) + indent + 2
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > LINE_WIDTH:
            out.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(out)
