"""A small neural network built from scalar ``Value``s, for teaching.

Every weight is one ``Value``, so a whole network's backward pass can be drawn and
stepped through. (The tensor API for real training lives in ``engine.nn``.)

    neuron:  out = act(w . x + b)
    layer:   one neuron per output
    MLP:     layers in sequence; the last one is linear unless told otherwise
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from engine.errors import EngineValueError
from engine.scalar.value import Value

_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


class ScalarModule:
    """What every scalar network part has: its parameters and a way to zero their grads."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(ScalarModule):
    """``act(sum_i w_i x_i + b)`` with weights drawn uniformly from [-1, 1]."""

    def __init__(self, nin: int, activation: str = "tanh", rng: random.Random | None = None):
        if activation not in _ACTIVATIONS:
            raise EngineValueError(
                f"Neuron: activation must be one of {', '.join(_ACTIVATIONS)}, got {activation!r}"
            )
        rng = rng or random.Random(0)
        self.w = [Value(rng.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise EngineValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        if self.activation == "linear":
            return act
        return getattr(act, self.activation)()

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer(ScalarModule):
    """``nout`` neurons that each see all ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng: random.Random | None = None):
        rng = rng or random.Random(0)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer([{', '.join(map(repr, self.neurons))}])"


class MLP(ScalarModule):
    """Layers ``nin -> sizes[0] -> ... -> sizes[-1]``; hidden layers use ``activation``.

    The output layer uses ``output_activation`` (``"linear"`` by default, ``"sigmoid"``
    for a probability). ``seed`` makes the initial weights reproducible.
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "linear",
        seed: int = 0,
    ):
        rng = random.Random(seed)
        dims = [nin, *sizes]
        self.layers = [
            Layer(dims[i], dims[i + 1], activation if i < len(sizes) - 1 else output_activation, rng)
            for i in range(len(sizes))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: list = list(x)
        for layer in self.layers:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP([{', '.join(map(repr, self.layers))}])"


XOR_INPUTS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
XOR_TARGETS = (0.0, 1.0, 1.0, 0.0)


def train_xor(steps: int = 200, lr: float = 0.5, seed: int = 0, progress=None) -> tuple[MLP, list[float]]:
    """Train a 2-4-1 tanh/sigmoid MLP on XOR with mean squared error and plain SGD.

    ``progress`` wraps the step range (e.g. ``tqdm.tqdm``). Returns the model and the
    loss after every step.
    """
    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=seed)
    losses: list[float] = []
    steps_iter = progress(range(steps)) if progress else range(steps)
    for _ in steps_iter:
        preds = [model(x) for x in XOR_INPUTS]
        loss = sum(((p - t) ** 2 for p, t in zip(preds, XOR_TARGETS)), Value(0.0)) / len(XOR_TARGETS)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return model, losses


def xor_accuracy(model: MLP) -> float:
    """Fraction of the four XOR cases the model gets right (threshold 0.5)."""
    hits = sum((model(x).data > 0.5) == (t > 0.5) for x, t in zip(XOR_INPUTS, XOR_TARGETS))
    return hits / len(XOR_TARGETS)
