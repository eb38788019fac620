"""Checking gradients: central differences against the engine's backward, for any function.

``gradcheck(fn, *inputs)`` is the test every differentiable op passes: for each element
``x_i`` of each input that requires grad, the numeric derivative

    d f / d x_i  ~  (f(x + h e_i) - f(x - h e_i)) / 2h        (error O(h^2): the h^2 f''' / 6 term)

is compared with what ``backward`` computed. A non-scalar output ``out`` is reduced to a
scalar by a fixed random projection ``f = sum(out * R)``, so every output element takes
part with a different weight (a plain ``.sum()`` would hide, say, a softmax bug, whose
gradient of the sum is zero). The arithmetic is float64 throughout.

``strategies.tensors(...)`` gives hypothesis strategies for property tests; hypothesis is
a test extra, imported only when a strategy is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.errors import EngineError

__all__ = ["GradcheckError", "assert_close", "gradcheck", "numerical_grad", "strategies"]


class GradcheckError(EngineError, AssertionError):
    """The analytic gradient of an input element differs from its central difference."""


def _host(x: Any) -> np.ndarray:
    """A numpy array with the values of a tensor, array or number."""
    from engine.core.tensor import Tensor

    if isinstance(x, Tensor):
        return np.asarray(x._backend.to_numpy(x._data))
    return np.asarray(x)


def _projection(shape: tuple) -> np.ndarray:
    """The fixed weights R of ``f = sum(out * R)``; all ones for a one-element output."""
    if int(np.prod(shape)) <= 1:
        return np.ones(shape)
    # Fixed seed: the same R every call, so a failure is reproducible.
    return np.random.default_rng(1234).uniform(0.5, 1.5, size=shape) * np.where(
        np.random.default_rng(4321).random(shape) < 0.5, -1.0, 1.0
    )


def _as_float64_inputs(inputs: Sequence[Any]) -> list:
    """Float64 leaf copies of the floating inputs that require grad; everything else as given."""
    from engine.core.tensor import Tensor, tensor

    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            out.append(tensor(_host(x), dtype="float64", device=x.device, requires_grad=True))
        else:
            out.append(x)
    return out


def _scalar_value(fn: Callable, inputs: list, weights: np.ndarray | None) -> float:
    """sum(fn(*inputs) * R) in float64 on the host, without recording a graph."""
    from engine.autograd.grad_mode import no_grad

    with no_grad():
        out = _host(fn(*inputs)).astype(np.float64)
    if weights is None:
        weights = _projection(out.shape)
    return float(np.sum(out * weights))


def numerical_grad(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6) -> list[np.ndarray | None]:
    """Central-difference gradients of ``sum(fn(*inputs) * R)``, one float64 array per input.

    For every element i of every tensor input that requires grad:
    ``g_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``, whose error is O(eps^2) (the
    first-order terms of the two Taylor expansions cancel). Inputs that do not require grad
    get ``None``. ``R`` is the fixed projection ``gradcheck`` uses (ones for a scalar output).
    """
    from engine.autograd.grad_mode import no_grad
    from engine.core.tensor import Tensor, tensor

    work = _as_float64_inputs(inputs)
    with no_grad():
        weights = _projection(_host(fn(*work)).shape)
    grads: list[np.ndarray | None] = []
    for k, x in enumerate(work):
        if not (isinstance(x, Tensor) and x.requires_grad):
            grads.append(None)
            continue
        base = _host(x).astype(np.float64)
        g = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            values = []
            for step in (eps, -eps):
                moved = base.copy()
                moved[i] += step
                trial = list(work)
                trial[k] = tensor(moved, dtype="float64", device=x.device)
                values.append(_scalar_value(fn, trial, weights))
            g[i] = (values[0] - values[1]) / (2 * eps)
        grads.append(g)
    return grads


def gradcheck(fn: Callable, *inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check ``fn``'s backward against central differences over every element; True or raise.

    Each tensor input with ``requires_grad=True`` is copied to a float64 leaf. The analytic
    gradient is backward of ``f = sum(fn(*inputs) * R)`` (R a fixed random projection, ones
    for a scalar output); the numeric one is ``(f(x + h) - f(x - h)) / 2h`` per element,
    error O(h^2). An element passes when ``|analytic - numeric| <= atol + rtol |numeric|``.

    Raises :class:`GradcheckError` naming the input, the element index and both values.
    """
    from engine.core.tensor import Tensor, tensor

    work = _as_float64_inputs(inputs)
    checked = [k for k, x in enumerate(work) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad; pass tensors made with requires_grad=True")
    out = fn(*work)
    if not isinstance(out, Tensor):
        raise GradcheckError(f"gradcheck: fn must return a tensor, got {type(out).__name__}")
    weights = _projection(tuple(out.shape))
    if out.requires_grad:
        projected = (out * tensor(weights, dtype=out.dtype, device=out.device)).sum()
        projected.backward()
    numeric = numerical_grad(fn, work, eps)
    for k in checked:
        x = work[k]
        analytic = np.zeros(tuple(x.shape)) if x.grad is None else _host(x.grad).astype(np.float64)
        if analytic.shape != numeric[k].shape:
            raise GradcheckError(
                f"gradcheck: input {k} has shape {numeric[k].shape} but its gradient has shape {analytic.shape}"
            )
        bad = ~(np.abs(analytic - numeric[k]) <= atol + rtol * np.abs(numeric[k]))
        if bad.any():
            i = tuple(int(j) for j in np.argwhere(bad)[0])
            a, n = float(analytic[i]), float(numeric[k][i])
            raise GradcheckError(
                f"gradcheck: input {k} (shape {tuple(x.shape)}) element {i}: analytic {a!r} vs numeric {n!r} "
                f"(|diff| {abs(a - n):.3g} > atol {atol} + rtol {rtol} * |numeric|)"
            )
    return True


_DEFAULT_TOLERANCES = {  # (rtol, atol) per dtype, as torch.testing.assert_close uses
    "float64": (1e-7, 1e-7),
    "float32": (1.3e-6, 1e-5),
}


def assert_close(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    check_shape: bool = True,
) -> None:
    """Assert ``|actual - expected| <= atol + rtol |expected|`` elementwise (tensors, arrays, numbers).

    Default tolerances follow the less precise dtype of the two (float64: 1e-7/1e-7,
    float32: 1.3e-6/1e-5, integers and bools: exact). NaNs in the same places are equal
    unless ``equal_nan=False``; infinities must match exactly.
    """
    a, e = _host(actual), _host(expected)
    if check_shape and a.shape != e.shape:
        raise AssertionError(f"assert_close: shapes differ: actual {a.shape} vs expected {e.shape}")
    kinds = {a.dtype.kind, e.dtype.kind}
    if "f" in kinds:
        loosest = "float32" if np.float32 in (a.dtype.type, e.dtype.type) else "float64"
        default_rtol, default_atol = _DEFAULT_TOLERANCES[loosest]
    else:
        default_rtol, default_atol = 0.0, 0.0
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a64, e64 = np.broadcast_arrays(a.astype(np.float64), e.astype(np.float64))
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        i = tuple(int(j) for j in np.argwhere(~close)[0])
        count = int((~close).sum())
        raise AssertionError(
            f"assert_close: {count} of {close.size} elements differ; first at index {i}: "
            f"actual {float(a64[i])!r} vs expected {float(e64[i])!r} (rtol {rtol}, atol {atol})"
        )


class _Strategies:
    """Hypothesis strategies for tensors (``engine.testing.strategies.tensors(...)``).

    hypothesis is imported when a strategy is built, so ``import engine.testing`` works
    without the test extra installed.
    """

    @staticmethod
    def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
        """Shapes (tuples of ints) with ``min_dims..max_dims`` axes of ``min_side..max_side``."""
        from hypothesis.extra import numpy as hnp

        return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)

    @staticmethod
    def tensors(
        shape: Any = None,
        dtype: Any = "float64",
        elements: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ):
        """Tensors of ``shape`` (a tuple or a strategy of tuples; default: 0-3 axes of 1-4).

        ``elements`` is a hypothesis strategy for the values; the default is floats in
        [-3, 3] without NaN or inf (integers in [-10, 10] for int64, booleans for bool).
        """
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp

        from engine.core.dtypes import as_dtype
        from engine.core.tensor import tensor

        dt = as_dtype(dtype)
        if elements is None:
            if dt.is_floating_point:
                width = 32 if dt.name == "float32" else 64
                elements = st.floats(min_value=-3, max_value=3, allow_nan=False, allow_infinity=False, width=width)
            elif dt.name == "bool":
                elements = st.booleans()
            elif dt.name == "uint8":
                elements = st.integers(min_value=0, max_value=255)
            else:
                elements = st.integers(min_value=-10, max_value=10)
        if shape is None:
            shape = _Strategies.shapes()
        wants_grad = requires_grad and dt.is_floating_point
        return hnp.arrays(dt.np, shape, elements=elements).map(
            lambda a: tensor(a, dtype=dt, device=device, requires_grad=wants_grad)
        )


    @staticmethod
    def special_floats(dtype: Any = "float64", finite_range: float = 3.0):
        """Floats that break naive kernels, mixed with ordinary ones: NaN, +-inf, +-0, the smallest
        subnormals, the largest finite values, and floats in [-finite_range, finite_range]."""
        from hypothesis import strategies as st

        from engine.core.dtypes import as_dtype

        info = np.finfo(as_dtype(dtype).np)
        tiny = float(info.smallest_subnormal)
        specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, tiny, -tiny, float(info.tiny), float(info.max),
                    -float(info.max), 1.0, -1.0]
        width = 32 if as_dtype(dtype).name == "float32" else 64
        ordinary = st.floats(-finite_range, finite_range, allow_nan=False, allow_infinity=False, width=width)
        return st.one_of(st.sampled_from(specials), ordinary)

    @staticmethod
    def scalars():
        """Python numbers as users write them next to tensors: bools, small and wrapping ints
        (300 for uint8), negative ints, floats, and numpy scalars."""
        from hypothesis import strategies as st

        return st.one_of(
            st.booleans(),
            st.integers(-300, 300),
            st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
            st.sampled_from([0.5, 1 / 255, -1.0, 2.0, np.float64(0.25), np.int64(3), np.float32(1.5)]),
        )

    @staticmethod
    def foreign_arrays(shape: Any = None, dtype: Any = "float32", elements: Any = None):
        """numpy arrays whose values are ordinary but whose memory is not: a field of a structured
        array (a stride that is no multiple of the item size), reversed, read-only (a view of
        ``bytes``), misaligned (offset by one byte), transposed, sliced with a step, or a broadcast
        (stride 0). What a user may hand to ``engine.tensor``, ``from_numpy`` or ``t.data = ...``;
        the engine must copy or refuse them, never read them as they are."""
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp

        from engine.core.dtypes import as_dtype

        npd = as_dtype(dtype).np
        if elements is None:
            elements = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=npd.itemsize * 8)
        shapes = _Strategies.shapes(min_dims=1, max_dims=3, min_side=1, max_side=4) if shape is None else shape
        layouts = st.sampled_from(
            ["field", "reversed field", "read-only", "misaligned", "transposed", "stepped", "broadcast"]
        )
        return st.tuples(hnp.arrays(npd, shapes, elements=elements), layouts).map(lambda pair: _hostile(*pair))


def _hostile(values: np.ndarray, layout: str) -> np.ndarray:
    """``values`` re-laid in memory as ``layout`` says (see ``strategies.foreign_arrays``)."""
    if layout in ("field", "reversed field"):
        record = np.zeros(values.shape, dtype=[("a", values.dtype), ("pad", "<i2")])
        record["a"] = values[::-1] if layout == "reversed field" else values
        field = record["a"]
        return field[::-1] if layout == "reversed field" else field
    if layout == "read-only":
        return np.frombuffer(values.tobytes(), values.dtype).reshape(values.shape)
    if layout == "misaligned":
        raw = bytearray(values.nbytes + 1)
        out = np.frombuffer(raw, values.dtype, count=values.size, offset=1).reshape(values.shape)
        out[...] = values
        return out
    if layout == "transposed":
        return np.ascontiguousarray(values.T).T
    if layout == "stepped":
        wide = np.zeros(values.shape[:-1] + (values.shape[-1] * 2,), values.dtype)
        wide[..., ::2] = values
        return wide[..., ::2]
    if layout == "broadcast":
        return np.broadcast_to(values[..., :1], values.shape) if values.shape[-1] > 1 else values
    raise ValueError(layout)


strategies = _Strategies()
