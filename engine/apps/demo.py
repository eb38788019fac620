"""``python -m engine demo``: the lectures' chain-rule examples, drawn, stepped and trained.

Writes into one folder (``./engine-demo/`` by default) and ends by listing what it wrote.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.serialization import PathError, check_output_dir
from engine.scalar.value import Value


def chain_rule_example() -> Value:
    """The lecture's ``f = (x + y) z`` at x=-2, y=5, z=-4, with q = x + y named."""
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return f


def sigmoid_neuron_example() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron ``f = sigmoid(w0 x0 + w1 x1 + w2)`` at w=(2, -3, -3), x=(-1, -2)."""
    inputs = {n: Value(v, label=n) for n, v in (("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0))}
    a = inputs["w0"] * inputs["x0"]
    b = inputs["w1"] * inputs["x1"]
    c = a + b
    s = c + inputs["w2"]
    f = s.sigmoid()
    for node, name in ((a, "a"), (b, "b"), (c, "c"), (s, "s"), (f, "f")):
        node.label = name
    return f, inputs


def _progress():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return lambda it: tqdm(it, desc="scalar XOR", unit="step")


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PathError(f"demo: cannot write {str(path)!r}: {exc.strerror or exc}") from None


def scalar_demo(out: Path) -> list[Path]:
    """The chain-rule graphs and the scalar XOR run; returns the files written."""
    from engine import viz
    from engine.apps import plots
    from engine.scalar.nn import train_xor, xor_accuracy

    written: list[Path] = []
    for name, root in (("chain_rule", chain_rule_example()), ("sigmoid_neuron", sigmoid_neuron_example()[0])):
        root.backward()
        print(f"\n{name}: {root.label} = {root.data:.4g}")
        text = viz.format_steps(root)
        print(text)
        steps_path = out / f"{name}_steps.txt"
        _write_text(steps_path, text + "\n")
        written += [viz.render(root, out / f"{name}.svg"), steps_path]

    print("\nTraining a 2-4-1 scalar MLP (every weight a Value) on XOR:")
    model, losses = train_xor(steps=300, lr=0.5, progress=_progress())
    print(f"final loss {losses[-1]:.4f}, accuracy {xor_accuracy(model):.0%}")
    try:
        written.append(plots.loss_curve(losses, out / "xor_scalar_loss.png", "XOR on scalar Values", xlabel="step"))
    except plots.PlotsUnavailable as exc:
        print(f"no loss plot: {exc}")
    return written


def step_through_pages(out: Path) -> list[Path]:
    """The chain-rule graphs as step-through pages (one self-contained HTML file each); returns the files."""
    from engine import viz

    pages = [("chain_rule", chain_rule_example(), "f = (x + y) z at x=-2, y=5, z=-4"),
             ("sigmoid_neuron", sigmoid_neuron_example()[0], "the neuron f = sigmoid(w0 x0 + w1 x1 + w2)")]
    return [viz.backprop_html(root, out / f"{name}_steps.html", title=f"Backward through {title}, step by step")
            for name, root, title in pages]


def tensor_demo(out: Path, epochs: int = 1000) -> list[Path]:
    """XOR again, on tensors: an nn.Sequential MLP trained by engine.training; loss curve and decision boundary."""
    from engine.apps import plots
    from engine.apps.training import train_xor

    print("\nTraining the same task on tensors (nn.Sequential 2-8-1, BCELoss, SGD lr=1):")
    history = train_xor(epochs=epochs, lr=1.0, device="cpu", log=None)
    print(f"final loss {history['loss'][-1]:.4f}, accuracy {history['accuracy']:.0%}")
    try:
        return [
            plots.loss_curve(history["loss"], out / "xor_tensor_loss.png", "XOR on tensors (nn.Sequential)",
                             xlabel="step"),
            plots.decision_boundary(history["predict"], history["X"], history["y"], out / "xor_tensor_boundary.png",
                                    "XOR: P(1) and the 0.5 boundary"),
        ]
    except plots.PlotsUnavailable as exc:
        print(f"no pictures: {exc}")
        return []


# One line of explanation per picture, shown under it in index.html.
CAPTIONS = {
    "chain_rule.svg": "f = (x + y) z at x=-2, y=5, z=-4: each node shows its value and gradient, each edge the local "
                      "derivative that backward multiplies along the path (df/dx = z * 1 = -4).",
    "sigmoid_neuron.svg": "The lecture's neuron sigmoid(w0 x0 + w1 x1 + w2): the sigmoid's local derivative "
                          "s(1 - s) = 0.197 scales every gradient below it.",
    "xor_scalar_loss.png": "Loss of a 2-4-1 MLP whose every weight is a scalar Value, trained on XOR.",
    "xor_tensor_loss.png": "The same task on tensors: nn.Sequential(Linear, Sigmoid, Linear, Sigmoid), BCELoss, SGD.",
    "xor_tensor_boundary.png": "What the tensor MLP learned: P(class 1) over the plane; the black line is the 0.5 "
                               "boundary that no single straight line could draw.",
    "chain_rule_steps.html": "f = (x + y) z, backward one edge at a time: upstream grad x local derivative = "
                             "contribution, each gradient filled in as it arrives (buttons, slider or arrow keys).",
    "sigmoid_neuron_steps.html": "The sigmoid neuron, stepped the same way.",
}


def write_index(out: Path, pictures: list[Path], pages: list[Path] | tuple[Path, ...] = ()) -> Path:
    """``index.html`` linking every step-through page and showing every picture, each with its one-line caption."""
    import html

    items = []
    if pages:
        links = "".join(f'<li><a href="{html.escape(p.name)}">{html.escape(p.name)}</a>: '
                        f"{html.escape(CAPTIONS.get(p.name, p.stem.replace('_', ' ')))}</li>" for p in pages)
        items.append(f"<h2>Step through backward</h2><ul>{links}</ul>")
    for path in pictures:
        caption = CAPTIONS.get(path.name, path.stem.replace("_", " "))
        items.append(f'<figure><img src="{html.escape(path.name)}" alt="{html.escape(path.stem)}">'
                     f"<figcaption><b>{html.escape(path.name)}</b>: {html.escape(caption)}</figcaption></figure>")
    page = (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>backprop-engine demo</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}img{max-width:100%;border:1px solid #ddd}"
        "figure{margin:2em 0}</style></head><body>\n<h1>backprop-engine demo</h1>\n"
        "<p>The chain rule on scalars, drawn; then XOR learned on scalars and on tensors.</p>\n"
        + "\n".join(items) + "\n</body></html>\n"
    )
    index = out / "index.html"
    _write_text(index, page)
    return index


def run_demo(out: str | Path = "engine-demo") -> list[Path]:
    """Run every part of the demo into ``out`` and print what was written."""
    out = check_output_dir(out, "demo")  # a file or an unwritable place fails here, before any work
    written = scalar_demo(out)
    written += step_through_pages(out)
    written += tensor_demo(out)
    written.append(write_index(out, [p for p in written if p.suffix in (".svg", ".png")],
                               [p for p in written if p.suffix == ".html"]))
    print(f"\nWrote {len(written)} files into {out}/:")
    for path in written:
        print(f"  {path}")
    return written
