"""The scalar ``Neuron``/``Layer``/``MLP`` moved to ``engine.scalar.nn``; this name keeps old imports working."""

from engine.scalar.nn import MLP, Layer, Neuron, ScalarModule, train_xor, xor_accuracy  # noqa: F401
