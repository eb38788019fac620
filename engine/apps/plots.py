"""Pictures of a training run: the loss curve, a 1-D fit, a 2-D decision boundary, a grid of digits.

Every function takes plain numpy arrays (or lists) and a path, writes one PNG and returns its path. matplotlib is
imported only when a picture is drawn, with the file-only ``Agg`` backend (no window, works over ssh and in CI);
without matplotlib a :class:`PlotsUnavailable` error says how to install it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import EngineError

__all__ = ["PlotsUnavailable", "available", "decision_boundary", "digit_grid", "draw_history", "fit_1d", "loss_curve",
           "predicted_vs_true"]


class PlotsUnavailable(EngineError, ImportError):
    """matplotlib is not installed, so no picture can be drawn."""


def available() -> bool:
    """Whether matplotlib can be imported (the pictures can be drawn)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotsUnavailable(
            "drawing a picture needs matplotlib: pip install matplotlib (or pip install 'backprop-engine[demo]')"
        ) from exc
    # Agg draws into files only: no display needed. Set before pyplot is first imported.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    from engine.core.serialization import PathError, check_output_dir

    plt = _pyplot()
    path = Path(path)
    try:
        check_output_dir(path.parent, "plots")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    except OSError as exc:  # PathError from the check, or the write itself (a folder named like the file)
        if isinstance(exc, PathError):
            raise
        raise PathError(f"plots: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return path


def _finish(fig: Any, ax: Any, path: str | Path, title: str, xlabel: str, ylabel: str, legend: bool = False) -> Path:
    """The plots' common finish: axis names, title, a light grid (and the legend), then save."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def loss_curve(
    losses: Sequence[float], path: str | Path, title: str = "training loss", *, xlabel: str = "epoch",
    ylabel: str = "loss", log_y: bool | None = None,
) -> Path:
    """The loss after each step. ``log_y`` defaults to a log scale when the loss spans more than 100x."""
    plt = _pyplot()
    values = np.asarray(losses, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(np.arange(len(values)), values, color="tab:blue", linewidth=1.5)
    finite = values[np.isfinite(values) & (values > 0)]
    if log_y is None:
        log_y = finite.size > 1 and finite.max() / finite.min() > 100
    if log_y:
        ax.set_yscale("log")
    return _finish(fig, ax, path, title, xlabel, ylabel)


def fit_1d(
    x: np.ndarray, y: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], path: str | Path,
    title: str = "fit", *, truth: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Path:
    """The data as dots and the model's curve ``predict(grid)`` over the data's x range (and the true curve)."""
    plt = _pyplot()
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    grid = np.linspace(x.min(), x.max(), 300)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.scatter(x, y, s=6, alpha=0.35, color="tab:gray", label="data")
    if truth is not None:
        ax.plot(grid, truth(grid), "--", color="tab:green", linewidth=1.2, label="true curve")
    ax.plot(grid, np.asarray(predict(grid)).reshape(-1), color="tab:red", linewidth=2, label="model")
    return _finish(fig, ax, path, title, "x", "y", legend=True)


def decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray, path: str | Path,
    title: str = "decision boundary", *, resolution: int = 200, margin: float = 0.5,
) -> Path:
    """The classes the model gives each point of the plane, shaded, with the data on top.

    ``predict`` maps an ``(n, 2)`` float32 array to ``(n,)`` class indices, or to ``(n,)``/``(n, 1)``
    probabilities of class 1 (then the 0.5 contour is the boundary and the shading is the probability).
    """
    plt = _pyplot()
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y).reshape(-1)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    z = np.asarray(predict(grid), dtype=np.float64).reshape(-1).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5, 4.2))
    is_probability = np.issubdtype(np.asarray(z).dtype, np.floating) and z.min() >= 0 and z.max() <= 1 and \
        not np.all(np.isin(z, (0.0, 1.0)))
    if is_probability:
        shading = ax.contourf(gx, gy, z, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(gx, gy, z, levels=[0.5], colors="k", linewidths=1.5)
        fig.colorbar(shading, ax=ax, label="P(class 1)")
    else:
        classes = int(max(z.max(), labels.max())) + 1
        ax.contourf(gx, gy, z, levels=np.arange(classes + 1) - 0.5, cmap="tab10", alpha=0.35,
                    vmin=0, vmax=9)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="tab10", vmin=0, vmax=9, edgecolors="k", s=40)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title)
    return _save(fig, path)


def digit_grid(
    images: np.ndarray, labels: np.ndarray, predicted: np.ndarray, path: str | Path,
    title: str = "test digits: predicted (true)", *, count: int = 24,
) -> Path:
    """The first ``count`` 8x8 images with their predicted and true labels (mistakes in red)."""
    plt = _pyplot()
    images = np.asarray(images).reshape(-1, 8, 8)[:count]
    cols = 8
    rows = (len(images) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05 + 0.4))
    for i, ax in enumerate(np.asarray(axes).reshape(-1)):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r")
            wrong = int(predicted[i]) != int(labels[i])
            ax.set_title(f"{int(predicted[i])} ({int(labels[i])})", fontsize=8, color="red" if wrong else "black")
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def draw_history(task: str, history: dict, out: str | Path) -> list[Path]:
    """The pictures of one :mod:`engine.training` run into folder ``out``: its loss curve, then the fit (linear,
    polynomial), the decision boundary (xor, logistic) or the test digits (digits). Returns the paths written."""
    out = Path(out)
    written = [loss_curve(history["loss"], out / f"{task}_loss.png", f"{task}: training loss")]
    if task == "linear":
        written.append(fit_1d(history["x"], history["y"], history["predict"], out / "linear_fit.png",
                              f"y = {history['w']:.3f} x + {history['b']:.3f}", truth=lambda x: 2 * x + 3))
    elif task == "polynomial":
        written.append(fit_1d(history["x"], history["y"], history["predict"], out / "polynomial_fit.png",
                              "1-10-6-1 sigmoid net vs y = 8x² + 7x + 3", truth=lambda x: 8 * x**2 + 7 * x + 3))
    elif task in ("xor", "logistic"):
        written.append(decision_boundary(history["predict"], history["X"], history["y"], out / f"{task}_boundary.png",
                                         f"{task}: P(class 1) and the 0.5 boundary"))
    elif task == "digits":
        written.append(digit_grid(history["X_test"], history["y_test"], history["predicted"],
                                  out / "digits_predictions.png"))
    return written


def predicted_vs_true(
    predicted: np.ndarray, true: np.ndarray, path: str | Path, title: str = "predicted vs true"
) -> Path:
    """Each sample as a dot at (true, predicted); a perfect model puts them on the diagonal."""
    plt = _pyplot()
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    t = np.asarray(true, dtype=np.float64).reshape(-1)
    lo, hi = min(p.min(), t.min()), max(p.max(), t.max())
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([lo, hi], [lo, hi], "--", color="tab:green", linewidth=1, label="predicted = true")
    ax.scatter(t, p, color="tab:red", zorder=3, label="samples")
    return _finish(fig, ax, path, title, "true", "predicted", legend=True)
