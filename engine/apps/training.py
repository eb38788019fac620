"""The lectures' training recipes, shared by ``python -m engine train``, the demo and ``examples/``.

Each ``train_<task>`` builds the lecture's data and model and hands one epoch of the lecture's loop (forward,
loss, ``zero_grad``, ``backward``, ``step``) to :func:`fit`, the loop every recipe shares: it runs the epochs
under a tqdm progress bar, logs a line like the lecture's every tenth of the run, and returns the *history*
dict, which the recipe completes: ``"loss"`` (one float per epoch), ``"model"``, the final metrics, and a
``"predict"`` function from a numpy array of inputs to a numpy array of outputs (what :mod:`engine.plots`
draws). Nothing here draws.

The recipes (data, model, loss, optimizer, learning rate) and where they come from:

    xor          004 XOR network: Sequential(Linear(2,h), Sigmoid, Linear(h,1), Sigmoid), BCELoss, SGD lr=1
    linear       000 linear_regression.py: y = 2x + 3 + noise, Linear(1,1), MSELoss, SGD lr=0.01
    logistic     002 logistic regression: study hours, W and b from zeros, sigmoid + F.binary_cross_entropy, SGD 0.05
    softmax      002 softmax: the grade table, Linear(4,3), F.cross_entropy, SGD lr=1 (the lecture's)
    polynomial   000 neural network: y = 8x^2 + 7x + 3, Linear(1,10)-Sigmoid-Linear(10,6)-Sigmoid-Linear(6,1),
                 L1Loss, SGD lr=0.001 for 5000 epochs (the lecture's; see :func:`train_polynomial`)
    digits       002 "mnist 분류를 DNN으로" on the 8x8 digits: 64-64-10 ReLU MLP, minibatches of 64
                 (DataLoader), F.cross_entropy, Adam lr=0.01
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import engine
import engine.nn.functional as F
from engine import datasets, nn, optim
from engine.errors import EngineValueError

__all__ = [
    "TASKS",
    "Progress",
    "fit",
    "full_batch",
    "step",
    "train_digits",
    "train_linear",
    "train_logistic",
    "train_polynomial",
    "train_softmax",
    "train_xor",
]

History = dict[str, Any]
Log = Callable[[str], None]


class Progress:
    """A tqdm bar over ``range(epochs)`` whose ``write`` prints a log line above the bar.

    Without tqdm (or with ``enabled=False``) it is a plain range and ``write`` is ``print``. The bar goes to
    stderr, so stdout holds only the log.
    """

    def __init__(self, epochs: int, desc: str, enabled: bool = True, log: Log | None = print):
        self.epochs = epochs
        self._log = log
        self._bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=epochs, desc=desc, unit="epoch", leave=False, dynamic_ncols=True)

    def __iter__(self) -> Iterator[int]:
        for epoch in range(self.epochs):
            yield epoch
            if self._bar is not None:
                self._bar.update(1)
        if self._bar is not None:
            self._bar.close()

    def set_loss(self, loss: float) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss {loss:.4g}", refresh=False)

    def write(self, line: str) -> None:
        if self._log is None:
            return
        if self._bar is not None and self._log is print:
            self._bar.write(line)  # keeps the bar below the log instead of tearing it
        else:
            self._log(line)


def _check(epochs: int, lr: float) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise EngineValueError(f"train: epochs must be a positive integer, got {epochs!r}")
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise EngineValueError(f"train: lr must be a positive number, got {lr!r}")


def _every(epochs: int, lines: int = 10) -> int:
    """Log about ``lines`` times over a run (the lectures print every 100 of 1000 epochs)."""
    return max(1, epochs // lines)


def step(optimizer: optim.Optimizer, loss_of: Callable[..., engine.Tensor], *inputs: Any) -> float:
    """One optimizer step on ``loss = loss_of(*inputs)``: ``zero_grad``, forward, ``backward``, ``step``.

    Returns the loss as a float (the value before the step, as the lectures print it).
    """
    optimizer.zero_grad()
    loss = loss_of(*inputs)
    loss.backward()
    optimizer.step()
    return loss.item()


def full_batch(optimizer: optim.Optimizer, loss_of: Callable[[], engine.Tensor]) -> Callable[[], float]:
    """An epoch that is one :func:`step` on the whole data set (what :func:`fit` runs each epoch)."""
    return lambda: step(optimizer, loss_of)


def fit(
    train_epoch: Callable[[], float],
    epochs: int,
    name: str,
    log_line: Callable[[int, float], str],
    *,
    log_at: Callable[[int], bool] | None = None,
    progress: bool = True,
    log: Log | None = print,
) -> History:
    """The training loop every recipe shares.

    Runs ``train_epoch()`` (one epoch: it trains and returns the epoch's loss) ``epochs`` times under a
    progress bar named ``name`` showing the latest loss, and after epoch ``i`` (counted from 0) writes
    ``log_line(i, loss)`` to ``log`` when ``log_at(i)``: by default at the first epoch, every tenth of the run
    and the last. Returns the history ``{"loss": [loss of each epoch]}``, for the recipe to add its metrics.
    """
    if log_at is None:
        every = _every(epochs)
        log_at = lambda i: i % every == 0 or i == epochs - 1
    losses: list[float] = []
    bar = Progress(epochs, name, progress, log)
    for i in bar:
        losses.append(train_epoch())
        bar.set_loss(losses[-1])
        if log_at(i):
            bar.write(log_line(i, losses[-1]))
    return {"loss": losses}


def _predictor(model: nn.Module, device: str, post: Callable[[engine.Tensor], engine.Tensor] | None = None):
    """numpy inputs -> numpy outputs of ``model`` (no graph recorded)."""

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        with engine.no_grad():
            out = model(engine.tensor(x, device=device))
            if post is not None:
                out = post(out)
        return out.cpu().numpy()

    return predict


# ---------------------------------------------------------------------------------------------------------------


def xor_model(hidden: int = 8) -> nn.Sequential:
    """The lecture's XOR network widened to ``hidden`` sigmoid units (2-2-1 can stall on the ln 2 plateau)."""
    return nn.Sequential(nn.Linear(2, hidden), nn.Sigmoid(), nn.Linear(hidden, 1), nn.Sigmoid())


def train_xor(
    epochs: int = 2000, lr: float = 1.0, device: str = "cpu", seed: int = 0, hidden: int = 8,
    progress: bool = True, log: Log | None = print,
) -> History:
    """XOR with an MLP: BCE loss -(y log p + (1 - y) log(1 - p)), SGD, the whole table each step.

    Lecture 004, XOR network: the OR program with a hidden sigmoid layer; prints ``step cost`` every 1/10th.
    """
    _check(epochs, lr)
    engine.manual_seed(seed)
    X_np, Y_np = datasets.xor()
    X, Y = engine.tensor(X_np, device=device), engine.tensor(Y_np, device=device)
    model = xor_model(hidden).to(device)
    criterion = nn.BCELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)

    history = fit(full_batch(optimizer, lambda: criterion(model(X), Y)), epochs, "xor",
                  lambda i, cost: f"{i} {cost}", progress=progress, log=log)

    with engine.no_grad():
        hypothesis = model(X)
        predicted = (hypothesis > 0.5).float()
        accuracy = (predicted == Y).float().mean().item()
    if log:
        log(f"Hypothesis: {np.round(hypothesis.cpu().numpy().ravel(), 4).tolist()}")
        log(f"Correct:    {predicted.cpu().numpy().ravel().tolist()}")
        log(f"Accuracy:   {accuracy}")
    history.update(model=model, accuracy=accuracy, X=X_np, y=Y_np, predict=_predictor(model, device))
    return history


def train_linear(
    epochs: int = 500, lr: float = 0.01, device: str = "cpu", seed: int = 0, n: int = 1000,
    progress: bool = True, log: Log | None = print,
) -> History:
    """Fit y = w x + b to noisy points on y = 2x + 3 with MSE loss mean((wx + b - y)^2) and SGD.

    Lecture 000, ``linear_regression.py`` (1000 points, x in [-10, 10]); it should find w ~= 2, b ~= 3.
    """
    _check(epochs, lr)
    engine.manual_seed(seed)
    x_np, y_np = datasets.linear(n=n, seed=seed)
    x, y = engine.tensor(x_np, device=device), engine.tensor(y_np, device=device)
    model = nn.Linear(1, 1).to(device)
    loss_func = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)

    def log_line(i: int, loss: float) -> str:
        return f"epoch {i:4d}  loss {loss:.6f}  w {model.weight.item():.4f}  b {model.bias.item():.4f}"

    history = fit(full_batch(optimizer, lambda: loss_func(model(x), y)), epochs, "linear", log_line,
                  progress=progress, log=log)
    w, b = model.weight.item(), model.bias.item()
    if log:
        log(f"learned y = {w:.4f} x + {b:.4f}   (true: y = 2 x + 3)")
    history.update(model=model, w=w, b=b, x=x_np, y=y_np, predict=_predictor(model, device))
    return history


def train_logistic(
    epochs: int = 1000, lr: float = 0.05, device: str = "cpu", progress: bool = True, log: Log | None = print,
) -> History:
    """Logistic regression on the study-hours table, written out as the lecture does.

    H(x) = sigmoid(x W + b), cost = BCE = -mean(y log H + (1 - y) log(1 - H)); W and b start at zero, SGD lr=0.05
    (lecture 002, "2. Logistic Regression 코드 구현": its log shows cost 0.3568 at epoch 375 of 1000).
    Nothing is random, so the printed costs are the lecture's.
    """
    _check(epochs, lr)
    x_np, y_np = datasets.study_hours()
    x_train, y_train = engine.tensor(x_np, device=device), engine.tensor(y_np, device=device)
    W = engine.zeros((2, 1), requires_grad=True, device=device)
    b = engine.zeros(1, requires_grad=True, device=device)
    optimizer = optim.SGD([W, b], lr=lr)

    def bce() -> engine.Tensor:
        hypothesis = engine.sigmoid(x_train.matmul(W) + b)
        return F.binary_cross_entropy(hypothesis, y_train)

    every = _every(epochs)
    # The lecture counts epochs from 1 and prints epoch 1 and every `every`-th (so not always the last).
    history = fit(full_batch(optimizer, bce), epochs, "logistic",
                  lambda epoch, cost: f"Epochs : {epoch + 1}/{epochs} Cost : {cost}",
                  log_at=lambda epoch: (epoch + 1) % every == 0 or epoch == 0, progress=progress, log=log)

    with engine.no_grad():
        probability = engine.sigmoid(x_train.matmul(W) + b)
        accuracy = ((probability > 0.5).float() == y_train).float().mean().item()
    if log:
        log(f"hypothesis: {np.round(probability.cpu().numpy().ravel(), 4).tolist()}")
        log(f"y_train:    {y_np.ravel().tolist()}")
        log(f"accuracy {accuracy:.0%}")

    def predict(x: np.ndarray) -> np.ndarray:
        with engine.no_grad():
            return engine.sigmoid(engine.tensor(np.asarray(x, dtype=np.float32), device=device).matmul(W) + b) \
                .cpu().numpy()

    history.update(W=W.detach().cpu().numpy(), b=b.detach().cpu().numpy(), accuracy=accuracy, X=x_np, y=y_np,
                   predict=predict)
    return history


def train_softmax(
    epochs: int = 1000, lr: float = 1.0, device: str = "cpu", seed: int = 1, progress: bool = True,
    log: Log | None = print,
) -> History:
    """Softmax classification of the grade table: Linear(4, 3) logits, F.cross_entropy, SGD lr=1.

    cross_entropy(z, k) = -log softmax(z)_k = logsumexp(z) - z_k; its gradient in z is softmax(z) - onehot(k).
    Lecture 002, "3. Softmax" (seed 1 as its logistic section; with lr=1 the cost jumps before it settles).
    """
    _check(epochs, lr)
    engine.manual_seed(seed)
    x_np, y_np = datasets.grades()
    x_train, y_train = engine.tensor(x_np, device=device), engine.tensor(y_np, device=device)
    model = nn.Linear(4, 3).to(device)
    optimizer = optim.SGD(model.parameters(), lr=lr)

    history = fit(full_batch(optimizer, lambda: F.cross_entropy(model(x_train), y_train)), epochs, "softmax",
                  lambda epoch, cost: f"Epoch {epoch}/{epochs} , Cost : {cost}", progress=progress, log=log)

    with engine.no_grad():
        predicted = model(x_train).argmax(dim=1)
        accuracy = (predicted == y_train).float().mean().item()
    if log:
        log(f"predicted: {predicted.cpu().numpy().tolist()}")
        log(f"y_train:   {y_np.tolist()}")
        log(f"accuracy {accuracy:.0%}")
    history.update(model=model, accuracy=accuracy, X=x_np, y=y_np, predicted=predicted.cpu().numpy(),
                   predict=_predictor(model, device, lambda z: z.argmax(dim=1)))
    return history


def polynomial_model() -> nn.Sequential:
    """Lecture 000's network for y = 8x^2 + 7x + 3: 1-10-6-1 with sigmoids."""
    return nn.Sequential(
        nn.Linear(1, 10),
        nn.Sigmoid(),
        nn.Linear(10, 6),
        nn.Sigmoid(),
        nn.Linear(6, 1),
    )


def train_polynomial(
    epochs: int = 5000, lr: float = 0.001, optimizer: str = "sgd", device: str = "cpu", seed: int = 1,
    n: int = 1000, progress: bool = True, log: Log | None = print,
) -> History:
    """Fit y = 8x^2 + 7x + 3 (noise on x, std 0.5) with lecture 000's 1-10-6-1 sigmoid net and L1 loss.

    L1 loss = mean |f(x) - y|; its gradient in each output is sign(f(x) - y) / n. The lecture's recipe is full-batch
    ``optim.SGD(lr=0.001)`` for 5000 epochs. With targets up to ~1900 and sigmoid features in (0, 1), each SGD step
    moves the output by at most about lr * (1 + 6) = 0.007, so that recipe leaves the loss near 580 (real torch
    does the same: 600 -> 582). ``optimizer="adam"`` with ``lr=0.1`` (per-weight step sizes) fits the curve.
    """
    _check(epochs, lr)
    if optimizer not in ("sgd", "adam"):
        raise EngineValueError(f"train polynomial: optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    engine.manual_seed(seed)
    x_np, y_np = datasets.polynomial(n=n, noise=0.5, noise_on="x", seed=seed)
    x, label = engine.tensor(x_np, device=device), engine.tensor(y_np, device=device)
    model = polynomial_model().to(device)
    loss_func = nn.L1Loss()
    opt = optim.SGD(model.parameters(), lr=lr) if optimizer == "sgd" else optim.Adam(model.parameters(), lr=lr)

    history = fit(full_batch(opt, lambda: loss_func(model(x), label)), epochs, "polynomial",
                  lambda i, loss: f"epoch {i:5d}  L1 loss {loss:.4f}", progress=progress, log=log)
    if log:
        log(f"final L1 loss {history['loss'][-1]:.4f} (mean |y| = {float(np.abs(y_np).mean()):.1f})")
    history.update(model=model, x=x_np, y=y_np, predict=_predictor(model, device))
    return history


def digits_model(hidden: int = 64) -> nn.Sequential:
    """64 pixels -> ``hidden`` ReLU units -> 10 class scores (logits)."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def train_digits(
    epochs: int = 20, lr: float = 0.01, device: str = "cpu", seed: int = 0, batch_size: int = 64, hidden: int = 64,
    progress: bool = True, log: Log | None = print,
) -> History:
    """Classify the 8x8 digits with an MLP: minibatch Adam on F.cross_entropy, accuracy on a held-out 20%.

    The lectures' MNIST DNN at a size that trains in seconds (engine.datasets.digits: 1438 train, 359 test).
    """
    from engine.utils.data import DataLoader, TensorDataset

    _check(epochs, lr)
    engine.manual_seed(seed)
    X_train, y_train, X_test, y_test = datasets.digits(seed=seed)
    train_set = TensorDataset(engine.tensor(X_train, device=device), engine.tensor(y_train, device=device))
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    x_test, t_test = engine.tensor(X_test, device=device), engine.tensor(y_test, device=device)
    model = digits_model(hidden).to(device)
    optimizer = optim.Adam(model.parameters(), lr=lr)

    def batch_cost(xb: engine.Tensor, yb: engine.Tensor) -> engine.Tensor:
        return F.cross_entropy(model(xb), yb)

    test_accuracy: list[float] = []

    def train_epoch() -> float:
        """One pass over the minibatches; returns the mean cost per sample and measures the held-out accuracy."""
        model.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            total += step(optimizer, batch_cost, xb, yb) * len(yb)
            count += len(yb)
        model.eval()
        with engine.no_grad():
            test_accuracy.append((model(x_test).argmax(dim=1) == t_test).float().mean().item())
        return total / count

    def log_line(epoch: int, cost: float) -> str:
        return f"Epoch {epoch + 1:3d}/{epochs}  cost {cost:.6f}  test accuracy {test_accuracy[-1]:.2%}"

    history = fit(train_epoch, epochs, "digits", log_line, log_at=lambda epoch: True, progress=progress, log=log)

    with engine.no_grad():
        predicted = model(x_test).argmax(dim=1).cpu().numpy()
    if log:
        log(f"held-out accuracy {test_accuracy[-1]:.2%} on {len(y_test)} digits")
    history.update(test_accuracy=test_accuracy, accuracy=test_accuracy[-1], model=model, X_test=X_test,
                   y_test=y_test, predicted=predicted, predict=_predictor(model, device, lambda z: z.argmax(dim=1)))
    return history


TASKS: dict[str, Callable[..., History]] = {
    "xor": train_xor,
    "linear": train_linear,
    "polynomial": train_polynomial,
    "logistic": train_logistic,
    "softmax": train_softmax,
    "digits": train_digits,
}
