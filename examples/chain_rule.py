"""The chain rule on scalars: f = (x + y) z and a sigmoid neuron, each drawn as a graph.

Follows lectures 000 "Linear Regression & Neural Network" and 001 "Forward & Backward Propagation" (the worked
examples f = (x + y) z at x=-2, y=5, z=-4, and f = sigmoid(w0 x0 + w1 x1 + w2) at w=(2,-3,-3), x=(-1,-2)), which
compute every local derivative by hand. Here engine.Value records them in the forward pass and ``backward()``
multiplies them along each path:  df/dx = df/dq * dq/dx = z * 1 = -4.

Then it learns with those gradients: gradient descent on the neuron's weights for ``--epochs`` steps, toward a
target output of 0.9, with a loss curve saved beside the graphs.

    python examples/chain_rule.py [--epochs 100] [--out examples-out/chain_rule]
"""

from __future__ import annotations

from _common import parse_args, report
from tqdm import tqdm

from engine import Value, plots, viz


def main() -> None:
    args = parse_args(__doc__, epochs=100, name="chain_rule")  # --device is accepted; scalars run in Python
    written = []

    # f = (x + y) z: q = x + y is the intermediate node of the lecture's figure.
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    print(f"q = {q.data}, f = {f.data}")
    print(f"df/dx = {x.grad}, df/dy = {y.grad}, df/dz = {z.grad}   (lecture: -4, -4, 3)")
    print(viz.format_steps(f))
    written.append(viz.render(f, args.out / "chain_rule.svg"))

    # The sigmoid neuron: d sigmoid(s)/ds = sigmoid(s) (1 - sigmoid(s)) = 0.73 * 0.27 = 0.20 at s = 1.
    w0, x0, w1, x1, w2 = (Value(v, label=n) for n, v in
                          (("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)))
    neuron = (w0 * x0 + w1 * x1 + w2).sigmoid()
    neuron.label = "f"
    neuron.backward()
    print(f"\nsigmoid neuron: f = {neuron.data:.4f}")
    print(f"df/dw0 = {w0.grad:.4f}, df/dx0 = {x0.grad:.4f}, df/dw1 = {w1.grad:.4f}, df/dx1 = {x1.grad:.4f}, "
          f"df/dw2 = {w2.grad:.4f}   (lecture: -0.20, 0.39, -0.39, -0.59, 0.20)")
    written.append(viz.render(neuron, args.out / "sigmoid_neuron.svg"))

    # Gradient descent on the weights: loss = (f - 0.9)^2, each weight moves against its gradient.
    weights = [w0, w1, w2]
    losses = []
    for step in tqdm(range(args.epochs), desc="gradient descent", unit="step"):
        out = (weights[0] * x0.data + weights[1] * x1.data + weights[2]).sigmoid()
        loss = (out - 0.9) ** 2
        for w in weights:
            w.grad = 0.0
        loss.backward()
        for w in weights:
            w.data -= 1.0 * w.grad
        losses.append(loss.data)
        if step % max(1, args.epochs // 5) == 0 or step == args.epochs - 1:
            tqdm.write(f"step {step:3d}  f = {out.data:.4f}  loss = {loss.data:.6f}")
    try:
        written.append(plots.loss_curve(losses, args.out / "chain_rule_loss.png", "neuron output toward 0.9",
                                        xlabel="step"))
    except plots.PlotsUnavailable as exc:
        print(exc)
    report(written)


if __name__ == "__main__":
    main()
