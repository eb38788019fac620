"""Shared helpers for the tensor tests: the device list and ``check_op`` against PyTorch.

``check_op`` follows tinygrad's ``helper_test_op``: build the same random inputs for the
engine and for PyTorch, run the op in both, compare forward values, shapes and dtypes,
then the gradient of every input (of ``.sum()`` or of a fixed random projection of the
output), with tolerances per dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import engine
from engine.backends import register_backend
from engine.testing import assert_close, available_devices

try:
    import torch
except ImportError:  # the torch comparison is skipped; the engine side still runs
    torch = None

# "opaque" is a test-only backend whose arrays hide everything but shape and dtype
# (tests/opaque_backend.py): the op, nn and optim suites running on it prove that nothing above
# the backend line reaches into an array.
register_backend("opaque", "opaque_backend:OpaqueBackend")


def _devices() -> list[str]:
    """The devices engine.testing covers here (numpy; c when built; cuda on a real GPU, never numba's
    simulator, far too slow for the whole suite: tests/cuda covers the cuda device there), then opaque.
    ENGINE_TEST_CUDA=0 leaves cuda out on a GPU machine."""
    import os

    names = [d for d in available_devices() if d != "cuda" or os.environ.get("ENGINE_TEST_CUDA") != "0"]
    return names + ["opaque"]


DEVICES = _devices()  # every suite parametrised by DEVICES runs on each (cuda too, on a GPU machine)
FLOAT_DTYPES = ["float32", "float64"]
HAS_TORCH = torch is not None


def tolerances(dtype: str, n: int = 1) -> tuple[float, float]:
    """(rtol, atol) for comparing with PyTorch; float32 loosens with the reduction length n.

    Rounding error of a sum of n float32 terms grows like sqrt(n) eps for random signs;
    we allow a little more since the two libraries may sum in different orders.
    """
    if dtype == "float64":
        return 1e-10, 1e-12 * max(1.0, np.sqrt(n))
    scale = max(1.0, float(np.sqrt(n)))
    return 1e-5 * scale, 1e-6 * scale


def make_inputs(
    shapes: Sequence[Any], dtype: str, low: float = -2, high: float = 2, seed: int = 0
) -> list[np.ndarray]:
    """Random arrays for each entry of ``shapes``; an entry that is already an array is kept as is."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if isinstance(s, np.ndarray):
            out.append(s)
        else:
            out.append(rng.uniform(low, high, size=tuple(s)).astype(dtype))
    return out


def _outputs(result: Any) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def check_op(
    engine_fn: Callable,
    torch_fn: Callable | None,
    shapes: Sequence[Any],
    dtype: str = "float32",
    device: str = "numpy",
    low: float = -2,
    high: float = 2,
    grad: str | None = "sum",
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> list:
    """Compare ``engine_fn(*xs)`` with ``torch_fn(*ts)`` on the same random inputs.

    ``shapes`` lists one shape per input (or a ready numpy array, e.g. integer indices).
    Checks forward values, shapes and dtypes, then (``grad="sum"`` or ``"projection"``)
    the gradient of every floating input. Returns the engine's outputs.
    """
    arrays = make_inputs(shapes, dtype, low, high, seed)
    n = max((a.size for a in arrays), default=1)
    default_rtol, default_atol = tolerances(dtype, n)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol

    def grads_wanted(a: np.ndarray) -> bool:
        return grad is not None and a.dtype.kind == "f"

    xs = [engine.tensor(a, dtype=str(a.dtype), device=device, requires_grad=grads_wanted(a)) for a in arrays]
    outs = _outputs(engine_fn(*xs))
    for o in outs:
        assert o.device == device, f"output on {o.device}, expected {device}"
    if torch_fn is not None and torch is not None:
        ts = [torch.tensor(a, requires_grad=grads_wanted(a)) for a in arrays]
        touts = _outputs(torch_fn(*ts))
        assert len(outs) == len(touts)
        for o, t in zip(outs, touts):
            assert tuple(o.shape) == tuple(t.shape), f"shape {tuple(o.shape)} vs torch {tuple(t.shape)}"
            assert o.dtype.name == str(t.dtype).removeprefix("torch."), f"dtype {o.dtype} vs torch {t.dtype}"
            assert_close(o.detach(), t.detach().numpy(), rtol=rtol, atol=atol)
    else:
        touts, ts = None, None
    if grad is None or not any(x.requires_grad for x in xs):
        return outs
    weights = None
    if grad == "projection":
        weights = np.random.default_rng(seed + 1).uniform(-1, 1, size=tuple(outs[0].shape)).astype(dtype)
        loss = (outs[0] * engine.tensor(weights, dtype=dtype, device=device)).sum()
    else:
        loss = outs[0].sum()
    loss.backward()
    if touts is not None:
        tloss = (touts[0] * torch.tensor(weights)).sum() if weights is not None else touts[0].sum()
        tloss.backward()
        for k, (x, t) in enumerate(zip(xs, ts)):
            if not x.requires_grad:
                continue
            expected = t.grad.numpy() if t.grad is not None else np.zeros(t.shape, dtype)
            actual = x.grad if x.grad is not None else np.zeros(tuple(x.shape), dtype)
            try:
                assert_close(actual, expected, rtol=rtol, atol=atol)
            except AssertionError as exc:
                raise AssertionError(f"gradient of input {k}: {exc}") from None
    return outs
