"""The scalar teaching network trains XOR."""

import pytest

from engine.errors import EngineValueError
from engine.scalar.nn import MLP, Neuron, train_xor, xor_accuracy


def test_xor_trains_to_full_accuracy():
    model, losses = train_xor(steps=300, lr=0.5, seed=0)
    assert xor_accuracy(model) == 1.0
    assert losses[-1] < 0.1 < losses[0]


def test_mlp_structure_and_parameters():
    model = MLP(2, [4, 1], seed=3)
    assert len(model.parameters()) == (2 * 4 + 4) + (4 + 1)
    out = model([0.5, -1.0])
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_seed_makes_init_reproducible():
    assert [p.data for p in MLP(2, [3, 1], seed=7).parameters()] == [
        p.data for p in MLP(2, [3, 1], seed=7).parameters()
    ]


def test_bad_activation_and_input_length():
    with pytest.raises(EngineValueError, match="activation must be one of"):
        Neuron(2, activation="softmax")
    with pytest.raises(EngineValueError, match="expected 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])
