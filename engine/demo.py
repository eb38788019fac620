"""``python -m engine demo``: the lectures' chain-rule examples, drawn, stepped and trained.

Writes into one folder (``./engine-demo/`` by default) and ends by listing what it wrote.
"""

from __future__ import annotations

from pathlib import Path

from engine.value import Value


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


def _plot_losses(losses: list[float], path: Path, title: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the loss plot (pip install 'backprop-engine[demo]')")
        return None
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(losses)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def scalar_demo(out: Path) -> list[Path]:
    """The chain-rule graphs and the scalar XOR run; returns the files written."""
    from engine import viz
    from engine.scalar_nn import train_xor, xor_accuracy

    written: list[Path] = []
    for name, root in (("chain_rule", chain_rule_example()), ("sigmoid_neuron", sigmoid_neuron_example()[0])):
        root.backward()
        print(f"\n{name}: {root.label} = {root.data:.4g}")
        text = viz.format_steps(root)
        print(text)
        steps_path = out / f"{name}_steps.txt"
        steps_path.write_text(text + "\n", encoding="utf-8")
        written += [viz.render(root, out / f"{name}.svg"), steps_path]

    print("\nTraining a 2-4-1 scalar MLP (every weight a Value) on XOR:")
    model, losses = train_xor(steps=300, lr=0.5, progress=_progress())
    print(f"final loss {losses[-1]:.4f}, accuracy {xor_accuracy(model):.0%}")
    plot = _plot_losses(losses, out / "xor_scalar_loss.png", "XOR on scalar Values")
    if plot:
        written.append(plot)
    return written


def run_demo(out: str | Path = "engine-demo") -> list[Path]:
    """Run every part of the demo into ``out`` and print what was written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = scalar_demo(out)
    print(f"\nWrote {len(written)} files into {out}/:")
    for path in written:
        print(f"  {path}")
    return written
