"""``engine.optim``: optimizers with PyTorch's names and update rules (``import engine.optim as optim``)."""

from engine.optim.adam import Adam
from engine.optim.optimizer import Optimizer
from engine.optim.sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer"]
