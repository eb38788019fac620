"""engine.datasets: shapes, dtypes, determinism, the lectures' tables, and the digits dependency message."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from engine import datasets

HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None

TOY_SETS = {
    "moons": (datasets.moons, 200, 2),
    "circles": (datasets.circles, 200, 2),
    "spirals": (datasets.spirals, 300, 3),
}


# --- tables transcribed from the lectures -----------------------------------------------------------------------


def test_xor_truth_table():
    X, y = datasets.xor()
    assert X.shape == (4, 2) and X.dtype == np.float32
    assert y.shape == (4, 1) and y.dtype == np.float32
    expected = np.logical_xor(X[:, 0] > 0.5, X[:, 1] > 0.5).astype(np.float32)
    np.testing.assert_array_equal(y[:, 0], expected)
    assert {tuple(row) for row in X.tolist()} == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_quiz_scores_match_the_lecture():
    x, y = datasets.quiz_scores()
    assert x.shape == (5, 3) and x.dtype == np.float32
    assert y.shape == (5, 1) and y.dtype == np.float32
    # seed 004 / 002: x_train = [[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]]
    np.testing.assert_array_equal(x[0], [73, 80, 75])
    np.testing.assert_array_equal(x[2], [89, 91, 90])
    np.testing.assert_array_equal(x[3], [96, 98, 100])
    np.testing.assert_array_equal(x[4], [73, 66, 70])
    np.testing.assert_array_equal(y[:, 0], [152, 185, 180, 196, 142])


def test_quiz_scores_reproduce_the_lectures_first_cost():
    # With W = b = 0 the first logged cost is mean(y ** 2) = 29661.800781 (seed 002, "Epoch 1/100").
    _, y = datasets.quiz_scores()
    assert float(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(29661.8, abs=1e-6)


def test_study_hours_match_the_lecture():
    x, y = datasets.study_hours()
    assert x.shape == (6, 2) and x.dtype == np.float32
    assert y.shape == (6, 1) and y.dtype == np.float32
    # seed 004: x_data = [[1, 2], [2, 3], [3, 1], [4, 3], [5, 3], [6, 2]]; y_data = [[0], [0], [0], [1], [1], [1]]
    np.testing.assert_array_equal(x, [[1, 2], [2, 3], [3, 1], [4, 3], [5, 3], [6, 2]])
    np.testing.assert_array_equal(y[:, 0], [0, 0, 0, 1, 1, 1])


def test_grades_match_the_lecture():
    x, y = datasets.grades()
    assert x.shape == (8, 4) and x.dtype == np.float32
    assert y.shape == (8,) and y.dtype == np.int64
    # seed 002, 3. Softmax: first row [1,2,1,1], fifth [1,7,5,5], last [1,7,7,7]; y_train = [2,2,2,1,1,1,0,0]
    np.testing.assert_array_equal(x[0], [1, 2, 1, 1])
    np.testing.assert_array_equal(x[4], [1, 7, 5, 5])
    np.testing.assert_array_equal(x[7], [1, 7, 7, 7])
    np.testing.assert_array_equal(y, [2, 2, 2, 1, 1, 1, 0, 0])


def test_tables_are_fresh_copies():
    x, _ = datasets.quiz_scores()
    x[0, 0] = -1
    assert datasets.quiz_scores()[0][0, 0] == 73


# --- generated regression data ----------------------------------------------------------------------------------


def test_linear_shapes_dtypes_and_line():
    x, y = datasets.linear(n=500, seed=3)
    assert x.shape == (500, 1) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.min() >= -10 and x.max() <= 10
    w, b = np.polyfit(x[:, 0].astype(np.float64), y[:, 0].astype(np.float64), 1)
    assert w == pytest.approx(2.0, abs=0.05) and b == pytest.approx(3.0, abs=0.1)


def test_linear_without_noise_is_exact():
    x, y = datasets.linear(n=50, noise=0.0)
    np.testing.assert_allclose(y, 2 * x + 3, rtol=1e-6, atol=1e-5)


def test_polynomial_range_and_curve():
    x, y = datasets.polynomial()
    assert x.shape == (1000, 1) and y.shape == (1000, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.min() >= -15 and x.max() <= 15
    assert x.min() < -14 and x.max() > 14  # the draw covers the lecture's range
    residual = y - (8 * x**2 + 7 * x + 3)
    assert abs(float(residual.mean())) < 0.2 and float(residual.std()) == pytest.approx(1.0, abs=0.1)


def test_polynomial_without_noise_stays_in_the_curves_range():
    x, y = datasets.polynomial(n=2000, noise=0.0)
    np.testing.assert_allclose(y, 8 * x**2 + 7 * x + 3, rtol=1e-5, atol=1e-3)
    assert y.min() >= 1.46875 - 1e-3 and y.max() <= 1908 + 1e-3


def test_polynomial_noise_on_x_follows_lecture_000():
    x, y = datasets.polynomial(n=300, noise=0.5, noise_on="x", seed=1)
    assert x.shape == (300, 1) and y.shape == (300, 1)
    # y lies exactly on the curve at some x_noise near x: 8 u^2 + 7 u + 3 - y = 0 has a real root close to x.
    disc = 49 - 32 * (3 - y[:, 0].astype(np.float64))
    assert np.all(disc >= -1e-3)
    roots = np.stack([(-7 + np.sqrt(np.maximum(disc, 0))) / 16, (-7 - np.sqrt(np.maximum(disc, 0))) / 16])
    nearest = np.min(np.abs(roots - x[:, 0]), axis=0)
    assert float(nearest.max()) < 0.5 * 6  # within six standard deviations


def test_polynomial_rejects_unknown_noise_on():
    with pytest.raises(ValueError, match="noise_on"):
        datasets.polynomial(noise_on="z")  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [datasets.linear, datasets.polynomial])
def test_regression_sets_are_deterministic(make):
    a = make(n=64, seed=7)
    b = make(n=64, seed=7)
    c = make(n=64, seed=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


# --- 2-D toy classification sets --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_set_shapes_dtypes_and_balance(name):
    make, n, classes = TOY_SETS[name]
    X, y = make()
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes
    assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_set_balance_with_odd_n(name):
    make, _, classes = TOY_SETS[name]
    X, y = make(n=101)
    counts = np.bincount(y, minlength=classes)
    assert counts.sum() == 101 and counts.max() - counts.min() <= 1
    assert X.shape == (101, 2)


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_sets_are_deterministic_and_seeded(name):
    make, _, _ = TOY_SETS[name]
    X1, y1 = make(seed=5)
    X2, y2 = make(seed=5)
    X3, _ = make(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_sets_are_shuffled(name):
    make, _, _ = TOY_SETS[name]
    _, y = make()
    assert not np.all(np.diff(y) >= 0)


def test_circles_radii():
    X, y = datasets.circles(n=400, noise=0.0, factor=0.3)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-5)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-5)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = datasets.moons(n=100, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-5)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


def test_spirals_classes_and_radius():
    X, y = datasets.spirals(n=200, classes=4, noise=0.0)
    assert set(np.unique(y).tolist()) == {0, 1, 2, 3}
    assert float(np.linalg.norm(X, axis=1).max()) <= 1.0 + 1e-6


@pytest.mark.parametrize(
    "call",
    [
        lambda: datasets.moons(n=0),
        lambda: datasets.circles(factor=1.5),
        lambda: datasets.spirals(classes=0),
        lambda: datasets.linear(noise=-1.0),
        lambda: datasets.polynomial(n=-3),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_function(call):
    with pytest.raises(ValueError, match=r"engine\.datasets\."):
        call()


# --- digits -----------------------------------------------------------------------------------------------------


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    for name in list(sys.modules):
        if name == "sklearn" or name.startswith("sklearn."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn...` raise ImportError
    with pytest.raises(ModuleNotFoundError) as info:
        datasets.digits()
    assert isinstance(info.value, datasets.MissingDependencyError)
    message = str(info.value)
    assert "engine.datasets.digits needs scikit-learn" in message
    assert "pip install scikit-learn" in message
    assert "\n" not in message


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn is not installed (pip install scikit-learn)")
def test_digits_loads_scaled_split():
    X_train, y_train, X_test, y_test = datasets.digits()
    assert X_train.shape == (1438, 64) and X_test.shape == (359, 64)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    assert X_train.min() >= 0.0 and X_train.max() <= 1.0 and X_train.max() == 1.0
    assert set(np.unique(y_train).tolist()) == set(range(10))
    again = datasets.digits()
    np.testing.assert_array_equal(X_train, again[0])
    np.testing.assert_array_equal(y_test, again[3])
    other = datasets.digits(seed=1)
    assert not np.array_equal(y_train, other[1])


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn is not installed (pip install scikit-learn)")
def test_digits_test_fraction():
    X_train, _, X_test, _ = datasets.digits(test_fraction=0.5)
    assert len(X_train) + len(X_test) == 1797
    assert abs(len(X_test) - 898.5) <= 1
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.digits(test_fraction=1.0)
