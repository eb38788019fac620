"""The lectures' data sets, offline, as numpy arrays.

Every function returns plain numpy arrays: features are ``float32``; regression targets are ``float32`` with
shape ``(n, 1)`` (the lectures' column vectors); class labels are ``int64`` with shape ``(n,)`` (what
``F.cross_entropy`` takes), except where a lecture used float 0/1 targets of shape ``(n, 1)`` for
``binary_cross_entropy`` (``xor``, ``study_hours``). Wrap them with ``engine.tensor(...)`` (or ``torch.tensor``).

Random sets are drawn from ``numpy.random.default_rng(seed)``: the same arguments give the same arrays on every
run and platform. Nothing here imports the tensor layer, and nothing is downloaded; ``digits`` reads the copy that
ships inside scikit-learn.

Where the data come from (the seed lectures):
    xor, study_hours, quiz_scores  004 "Tensor Manipulation / Linear & Logistic Regression" and 002 "DNN 기초"
    grades                         002, 3. Softmax
    linear                         000 "Linear Regression & Neural Network", linear_regression.py
    polynomial                     000 (noise on x) and 001 "Forward & Backward Propagation", test.py (noise on y)
    moons, circles, spirals        not in the lectures: the 2-D sets of 000's "Hard cases for a linear classifier"
    digits                         scikit-learn's bundled 8x8 digits (the lectures' MNIST, small enough to ship)
    mnist, MNIST, ToTensor         the same digits upsampled to MNIST's 28x28 uint8 images: an offline stand-in for
                                   ``torchvision.datasets.MNIST`` that the course's MNIST labs (lab-07 to lab-09) run on

``MNIST`` is the one exception to "numpy only": like torchvision's class it hands out tensors, of the engine by default
or of any module with ``tensor`` and ``uint8``/``int64`` (``tensor_module=torch`` makes it a stand-in for PyTorch
programs too); it imports that module only when it is built.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MNIST",
    "MissingDependencyError",
    "ToTensor",
    "circles",
    "digits",
    "grades",
    "linear",
    "mnist",
    "moons",
    "polynomial",
    "quiz_scores",
    "spirals",
    "study_hours",
    "xor",
]

Floats = NDArray[np.float32]
Labels = NDArray[np.int64]
Images = NDArray[np.uint8]


class MissingDependencyError(ModuleNotFoundError):
    """An optional package a data set needs is not installed (the message says which and how to install it)."""


def _check_positive(name: str, value: int, op: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"engine.datasets.{op}: {name} must be a positive int, got {value!r}")


def _check_noise(value: float, op: str) -> None:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"engine.datasets.{op}: noise must be a finite number >= 0, got {value!r}")


def _shuffled(rng: np.random.Generator, X: Floats, y: Labels) -> tuple[Floats, Labels]:
    """Shuffle rows of X and y together (so minibatches mix the classes)."""
    order = rng.permutation(len(y))
    return X[order], y[order]


# ---------------------------------------------------------------------------------------------------------------
# Tables transcribed from the lectures
# ---------------------------------------------------------------------------------------------------------------


def xor() -> tuple[Floats, Floats]:
    """The XOR truth table.

    Lecture 004, "Experimental 1 – XOR Network" (Question 2 table): inputs (0,0) (1,0) (0,1) (1,1) give 0 1 1 0.
    Rows are in the order the OR program uses: (0,0), (0,1), (1,0), (1,1).

    Returns:
        X: float32 ``(4, 2)``; y: float32 ``(4, 1)`` of 0./1. (targets for ``BCELoss``).
    """
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return X, y


def quiz_scores() -> tuple[Floats, Floats]:
    """Three quiz scores and the final score of five students (multivariate linear regression).

    Lecture 004, "Multivariate Linear Regression" (``x_train``/``y_train`` code) and lecture 002, "0. Gradient
    Descent Method, 데이터 로드". Both code listings give row 3 as ``[89, 91, 90]``; the slide's rendered table in
    004 reads ``89 91 80``, taken as a typo: the code is what the lectures ran (its log, cost 29661.800781 at the
    first epoch and 1.564298 at the 100th, is reproduced with 90).

    Returns:
        x: float32 ``(5, 3)`` quiz 1..3; y: float32 ``(5, 1)`` final score.
    """
    x = np.array(
        [
            [73, 80, 75],
            [93, 88, 93],
            [89, 91, 90],
            [96, 98, 100],
            [73, 66, 70],
        ],
        dtype=np.float32,
    )
    y = np.array([[152], [185], [180], [196], [142]], dtype=np.float32)
    return x, y


def study_hours() -> tuple[Floats, Floats]:
    """Hours spent (lecture, code lab) and whether the student passed (logistic regression).

    Lecture 004, "Logistic Regression / Training Data" and lecture 002, "2. Logistic Regression 코드 구현":
    ``x_data = [[1, 2], [2, 3], [3, 1], [4, 3], [5, 3], [6, 2]]``, ``y_data = [[0], [0], [0], [1], [1], [1]]``.
    The first student watched the lecture 1 hour, spent 2 hours in the lab, and failed.

    Returns:
        x: float32 ``(6, 2)``; y: float32 ``(6, 1)`` of 0./1. (targets for ``F.binary_cross_entropy``).
    """
    x = np.array([[1, 2], [2, 3], [3, 1], [4, 3], [5, 3], [6, 2]], dtype=np.float32)
    y = np.array([[0], [0], [0], [1], [1], [1]], dtype=np.float32)
    return x, y


def grades() -> tuple[Floats, Labels]:
    """Four scores per student and a grade class 0/1/2 (softmax classification).

    Lecture 002, "3. Softmax" (``In [9]``): eight rows of four features; ``y_train = [2,2,2,1,1,1,0,0]``.

    Returns:
        x: float32 ``(8, 4)``; y: int64 ``(8,)`` class indices (targets for ``F.cross_entropy``).
    """
    x = np.array(
        [
            [1, 2, 1, 1],
            [2, 1, 3, 2],
            [3, 1, 3, 4],
            [4, 1, 5, 5],
            [1, 7, 5, 5],
            [1, 2, 5, 6],
            [1, 6, 6, 6],
            [1, 7, 7, 7],
        ],
        dtype=np.float32,
    )
    y = np.array([2, 2, 2, 1, 1, 1, 0, 0], dtype=np.int64)
    return x, y


# ---------------------------------------------------------------------------------------------------------------
# Generated regression data, following the lectures' recipes
# ---------------------------------------------------------------------------------------------------------------


def linear(n: int = 100, noise: float = 0.2, seed: int = 0) -> tuple[Floats, Floats]:
    """Points on the line y = 2x + 3 with noise, as lecture 000's ``linear_regression.py`` makes them.

    The lecture: ``x`` uniform in [-10, 10]; ``noise`` normal with std 0.2; ``y_noise = 2 * (x + noise) + 3``
    (the noise is added to x before the line, so y's noise has std ``2 * noise``). The lecture used
    ``num_data = 1000``.

    Args:
        n: number of points.
        noise: standard deviation of the normal noise added to x (0 gives the exact line).
        seed: seed for ``numpy.random.default_rng``.

    Returns:
        x: float32 ``(n, 1)``; y: float32 ``(n, 1)``. A fit should find w ~= 2, b ~= 3.
    """
    _check_positive("n", n, "linear")
    _check_noise(noise, "linear")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-10.0, 10.0, size=(n, 1))
    eps = rng.normal(0.0, 1.0, size=(n, 1)) * noise
    y = 2.0 * (x + eps) + 3.0
    return x.astype(np.float32), y.astype(np.float32)


def polynomial(
    n: int = 1000,
    noise: float = 1.0,
    seed: int = 0,
    noise_on: Literal["y", "x"] = "y",
) -> tuple[Floats, Floats]:
    """Points on the parabola y = 8x^2 + 7x + 3 with noise, x uniform in [-15, 15].

    Two lectures fit this curve with a 1-10-6-1 network (``num_data = 1000``), with different noise:
      - ``noise_on="y"`` (default), lecture 001 ``test.py``: ``y_noise = y + noise``, noise std 1;
      - ``noise_on="x"``, lecture 000: ``x_noise = x + noise`` (std 0.5 there) and
        ``y_noise = 8 * x_noise**2 + 7 * x_noise + 3``.
    Both train on the clean ``x`` against ``y_noise``; that pair is what is returned.

    Args:
        n: number of points.
        noise: standard deviation of the normal noise (on y, or on x before the curve).
        seed: seed for ``numpy.random.default_rng``.
        noise_on: ``"y"`` (lecture 001) or ``"x"`` (lecture 000).

    Returns:
        x: float32 ``(n, 1)`` in [-15, 15]; y: float32 ``(n, 1)``. Without noise y lies in
        [8*(7/16)^2 - 7*7/16 + 3 = 1.46875, 8*15^2 + 7*15 + 3 = 1908].
    """
    _check_positive("n", n, "polynomial")
    _check_noise(noise, "polynomial")
    if noise_on not in ("y", "x"):
        raise ValueError(f"engine.datasets.polynomial: noise_on must be 'y' or 'x', got {noise_on!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-15.0, 15.0, size=(n, 1))
    eps = rng.normal(0.0, 1.0, size=(n, 1)) * noise
    if noise_on == "y":
        y = 8.0 * x**2 + 7.0 * x + 3.0 + eps
    else:
        x_noise = x + eps
        y = 8.0 * x_noise**2 + 7.0 * x_noise + 3.0
    return x.astype(np.float32), y.astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# 2-D toy classification sets (numpy only)
# ---------------------------------------------------------------------------------------------------------------


def _split(n: int, classes: int) -> list[int]:
    """Class sizes that add up to n and differ by at most one (the first classes take the remainder)."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Floats, Labels]:
    """Two interleaving half circles ("moons"), a set no straight line separates.

    Class 0: the upper half of the unit circle, (cos t, sin t) for t in [0, pi]. Class 1: the lower half, shifted,
    (1 - cos t, 0.5 - sin t). Points are evenly spaced in t, then normal noise of std ``noise`` is added to both
    coordinates and the rows are shuffled.

    Returns:
        X: float32 ``(n, 2)``; y: int64 ``(n,)`` with ``n // 2`` or ``n // 2 + 1`` of each class (0 gets the extra).
    """
    _check_positive("n", n, "moons")
    _check_noise(noise, "moons")
    rng = np.random.default_rng(seed)
    n0, n1 = _split(n, 2)
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    return _shuffled(rng, X.astype(np.float32), y)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> tuple[Floats, Labels]:
    """A circle inside a circle: class 0 on the unit circle, class 1 on a circle of radius ``factor``.

    Lecture 000's "hard case" (class 1: 1 <= L2 norm <= 2, class 2: everything else) in its simplest form. Points are
    evenly spaced in angle, normal noise of std ``noise`` is added to both coordinates, and the rows are shuffled.

    Args:
        factor: radius of the inner circle, in (0, 1).

    Returns:
        X: float32 ``(n, 2)``; y: int64 ``(n,)`` with ``n // 2`` or ``n // 2 + 1`` of each class (0 gets the extra).
    """
    _check_positive("n", n, "circles")
    _check_noise(noise, "circles")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"engine.datasets.circles: factor must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_outer, n_inner = _split(n, 2)
    t_outer = np.linspace(0.0, 2.0 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1)
    X = np.concatenate([outer, inner]) + rng.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return _shuffled(rng, X.astype(np.float32), y)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[Floats, Labels]:
    """``classes`` interleaved spiral arms, one per class (a softmax classifier needs a hidden layer for it).

    Arm k: radius r from 0 to 1 and angle t = 4k + 4r (radians) plus normal noise of std ``noise`` on the angle;
    the point is r * (sin t, cos t). The rows are shuffled.

    Returns:
        X: float32 ``(n, 2)`` inside the unit disc; y: int64 ``(n,)`` in ``0..classes-1``, class sizes differing by
        at most one (the first classes get the extra points).
    """
    _check_positive("n", n, "spirals")
    _check_positive("classes", classes, "spirals")
    _check_noise(noise, "spirals")
    rng = np.random.default_rng(seed)
    points = []
    labels = []
    for k, size in enumerate(_split(n, classes)):
        r = np.linspace(0.0, 1.0, size)
        t = 4.0 * k + 4.0 * r + rng.normal(0.0, noise, size=size)
        points.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(size, k, dtype=np.int64))
    X = np.concatenate(points).astype(np.float32)
    return _shuffled(rng, X, np.concatenate(labels))


# ---------------------------------------------------------------------------------------------------------------
# 8x8 digits (scikit-learn's bundled copy)
# ---------------------------------------------------------------------------------------------------------------


def digits(test_fraction: float = 0.2, seed: int = 0) -> tuple[Floats, Labels, Floats, Labels]:
    """The 1,797 8x8 handwritten digits, split into train and test sets.

    Read from the copy bundled with scikit-learn (``sklearn.datasets.load_digits``: no download), pixel values
    0..16 scaled to [0, 1], rows shuffled with ``default_rng(seed)`` and the last ``round(1797 * test_fraction)``
    rows kept as the test set. The lectures' "mnist 분류를 DNN으로" at a size that trains in seconds.

    Returns:
        X_train: float32 ``(n_train, 64)``; y_train: int64 ``(n_train,)`` in 0..9;
        X_test: float32 ``(n_test, 64)``; y_test: int64 ``(n_test,)``.
        With the default 0.2: 1,438 train rows and 359 test rows.

    Raises:
        MissingDependencyError: scikit-learn is not installed (a ``ModuleNotFoundError``).
    """
    images, y = _load_digits("digits", test_fraction)
    X = images.reshape(len(y), 64).astype(np.float32) / np.float32(16.0)
    return _shuffled_split("digits", X, y, test_fraction, seed)


def _load_digits(op: str, test_fraction: float) -> tuple[NDArray[np.float64], Labels]:
    """scikit-learn's 1,797 digits as ``(n, 8, 8)`` pixel values 0..16 and int64 labels (no download).

    The arrays are shared between calls (read-only): callers build new arrays from them.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"engine.datasets.{op}: test_fraction must be in (0, 1), got {test_fraction!r}")
    if importlib.util.find_spec("sklearn") is None:
        raise MissingDependencyError(
            f"engine.datasets.{op} needs scikit-learn: pip install scikit-learn", name="sklearn"
        )
    return _digits_table()


@functools.lru_cache(maxsize=1)
def _digits_table() -> tuple[NDArray[np.float64], Labels]:
    """Read the digits once per process.

    ``load_digits`` reads ``sklearn/datasets/data/digits.csv.gz`` (64 pixel columns, then the label); reading that
    file directly gives the same arrays without importing scikit-learn (about a second). If the file is not where
    this scikit-learn keeps it, ``load_digits`` is used.
    """
    spec = importlib.util.find_spec("sklearn")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    bundled = [Path(folder) / "datasets" / "data" / "digits.csv.gz" for folder in folders]
    if bundled and bundled[0].is_file():
        table = np.loadtxt(bundled[0], delimiter=",")
        images, labels = table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)
    else:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, labels = np.asarray(bunch.images, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _shuffled_split(op: str, X: np.ndarray, y: Labels, test_fraction: float, seed: int) -> tuple:
    """Rows shuffled with ``default_rng(seed)``; the last ``round(n * test_fraction)`` of them are the test set."""
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    n_test = int(round(len(y) * test_fraction))
    if n_test == 0 or n_test == len(y):
        raise ValueError(
            f"engine.datasets.{op}: test_fraction={test_fraction!r} leaves an empty train or test set "
            f"for {len(y)} rows"
        )
    n_train = len(y) - n_test
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


# ---------------------------------------------------------------------------------------------------------------
# MNIST-shaped digits: an offline stand-in for torchvision.datasets.MNIST
# ---------------------------------------------------------------------------------------------------------------

MNIST_SIZE = 28  # MNIST's images are 28x28 ...
_MNIST_BOX = 20  # ... with the digit scaled into a 20x20 box and centred (LeCun et al.'s preprocessing)


def _interpolation_matrix(size_out: int, size_in: int) -> NDArray[np.float64]:
    """The ``(size_out, size_in)`` matrix of 1-D linear interpolation with the end pixels' centres aligned.

    Output pixel i sits at input position p = i * (size_in - 1) / (size_out - 1); it takes ``1 - f`` of input pixel
    ``floor(p)`` and ``f`` of the next one, f = p - floor(p). Each row sums to 1, so a flat image stays flat.
    """
    pos = np.arange(size_out) * (size_in - 1) / (size_out - 1)
    left = np.minimum(np.floor(pos).astype(np.int64), size_in - 2)
    frac = pos - left
    A = np.zeros((size_out, size_in))
    A[np.arange(size_out), left] = 1.0 - frac
    A[np.arange(size_out), left + 1] = frac
    return A


def mnist(test_fraction: float = 0.2, seed: int = 0) -> tuple[Images, Labels, Images, Labels]:
    """scikit-learn's 8x8 digits made MNIST-shaped: 28x28 uint8 images (0 = background, 255 = ink), 10 classes.

    Each 8x8 image (pixel values 0..16) is upsampled bilinearly to 20x20 (``A @ image @ A.T`` with A the 20x8
    interpolation matrix), scaled by 255/16, rounded, and centred in a 28x28 black frame (4 pixels on every side),
    as MNIST's digits sit in a 20x20 box inside 28x28. Rows are shuffled with ``default_rng(seed)`` and split as in
    :func:`digits` (the same split for the same ``seed`` and ``test_fraction``).

    MNIST has 60,000 + 10,000 images; this set has 1,797 (1,438 + 359 with the default split), so a lab's epoch
    takes a second rather than minutes. Models reach about 90-97% test accuracy on it, as on MNIST.

    Returns:
        X_train: uint8 ``(n_train, 28, 28)``; y_train: int64 ``(n_train,)`` in 0..9;
        X_test: uint8 ``(n_test, 28, 28)``; y_test: int64 ``(n_test,)``.

    Raises:
        MissingDependencyError: scikit-learn is not installed (a ``ModuleNotFoundError``).
    """
    small, y = _load_digits("mnist", test_fraction)
    A = _interpolation_matrix(_MNIST_BOX, 8)
    box = np.einsum("ij,njk,lk->nil", A, small, A) * (255.0 / 16.0)
    images = np.zeros((len(y), MNIST_SIZE, MNIST_SIZE), dtype=np.uint8)
    pad = (MNIST_SIZE - _MNIST_BOX) // 2
    images[:, pad : pad + _MNIST_BOX, pad : pad + _MNIST_BOX] = np.clip(np.rint(box), 0, 255).astype(np.uint8)
    return _shuffled_split("mnist", images, y, test_fraction, seed)


class MNIST:
    """``torchvision.datasets.MNIST`` offline: the :func:`mnist` digits, as the course's MNIST labs load them.

    ``MNIST(root='MNIST_data/', train=True, transform=ToTensor(), download=True)`` works as in the labs: ``root``
    and ``download`` are accepted and ignored (nothing is read or fetched). Like torchvision's class it has

    - ``data``: uint8 ``(n, 28, 28)`` and ``targets``: int64 ``(n,)`` tensors (``train_data``/``test_data`` and
      ``train_labels``/``test_labels`` are the older names the labs use);
    - items ``(image, label)``: ``label`` a Python int; ``image`` passed through ``transform`` (``ToTensor()`` gives
      a float32 ``(1, 28, 28)`` tensor in [0, 1]) and ``label`` through ``target_transform``.

    One difference: without a transform the image is a uint8 ``(28, 28)`` tensor, not a PIL image.

    Args:
        tensor_module: where the tensors come from: ``engine`` (the default) or ``torch`` (any module with ``tensor``,
            ``uint8`` and ``int64``), so one program can run on either.
        test_fraction, seed: the split, as in :func:`mnist`; ``train`` picks its side.
    """

    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]

    def __init__(
        self,
        root: str | None = None,
        train: bool = True,
        transform: Any = None,
        target_transform: Any = None,
        download: bool = False,
        *,
        tensor_module: Any = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> None:
        if tensor_module is None:
            tensor_module = _engine_tensors()
        X_train, y_train, X_test, y_test = mnist(test_fraction=test_fraction, seed=seed)
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self._images, self._labels = (X_train, y_train) if self.train else (X_test, y_test)
        self._module = tensor_module
        self.data = tensor_module.tensor(self._images, dtype=tensor_module.uint8)
        self.targets = tensor_module.tensor(self._labels, dtype=tensor_module.int64)

    # torchvision's older names, which the labs use (``mnist_test.test_data.view(-1, 28 * 28)``)
    train_data = property(lambda self: self.data)
    test_data = property(lambda self: self.data)
    train_labels = property(lambda self: self.targets)
    test_labels = property(lambda self: self.targets)

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = self._module.tensor(self._images[index], dtype=self._module.uint8)
        label = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return f"Dataset MNIST (offline stand-in)\n    Number of datapoints: {len(self)}\n    Split: {split}"


def _engine_tensors() -> Any:
    """The engine's tensor factory and dtypes, under the names torch has (``tensor``, ``uint8``...).
    Taken from engine.core, the layer below this one (the package root sits above it)."""
    from types import SimpleNamespace

    from engine.core import dtypes
    from engine.core.tensor import tensor

    return SimpleNamespace(tensor=tensor, uint8=dtypes.uint8, int64=dtypes.int64, float32=dtypes.float32)


class ToTensor:
    """``torchvision.transforms.ToTensor`` for the :class:`MNIST` stand-in: a uint8 image becomes float32 in [0, 1].

    ``(H, W)`` gains a channel dimension, ``(1, H, W)``; uint8 values are divided by 255 (other dtypes are only
    converted to float32, as torchvision does). It takes a tensor of any module with ``float``/``unsqueeze`` (the
    engine's or PyTorch's, so the result is of the same kind) or a numpy ``(H, W)`` / ``(H, W, C)`` array (made an
    engine tensor, channels first).
    """

    def __call__(self, pic: Any) -> Any:
        if isinstance(pic, np.ndarray):
            engine = _engine_tensors()
            array = pic[:, :, None] if pic.ndim == 2 else pic
            if array.ndim != 3:
                raise ValueError(f"ToTensor: a numpy image must be (H, W) or (H, W, C), got shape {pic.shape}")
            scaled = array.astype(np.float32) / np.float32(255.0) if array.dtype == np.uint8 else array
            return engine.tensor(np.ascontiguousarray(scaled.transpose(2, 0, 1)), dtype=engine.float32)
        if pic.ndim != 2:
            raise ValueError(f"ToTensor: a tensor image must be (H, W), got shape {tuple(pic.shape)}")
        is_byte = str(pic.dtype).rsplit(".", 1)[-1] == "uint8"
        image = pic.float().unsqueeze(0)
        return image / 255.0 if is_byte else image

    def __repr__(self) -> str:
        return "ToTensor()"
