"""``engine.optim``: optimizers with PyTorch's names and update rules (``import engine.optim as optim``);
``engine.optim.lr_scheduler`` holds the learning-rate schedules."""

from engine.optim import lr_scheduler
from engine.optim.adagrad import Adagrad
from engine.optim.adam import Adam, AdamW
from engine.optim.optimizer import Optimizer
from engine.optim.rmsprop import RMSprop
from engine.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
