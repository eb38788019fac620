"""Module-level forms of tensor methods: ``engine.exp(x)``, ``engine.sum(x, dim=1)``..."""

from __future__ import annotations

from engine.core.tensor import Tensor, log_softmax, matmul, maximum, minimum, softmax  # noqa: F401


def _as_tensor(x) -> Tensor:
    from engine.core.tensor import tensor

    return x if isinstance(x, Tensor) else tensor(x)


def exp(x: Tensor) -> Tensor:
    return _as_tensor(x).exp()


def log(x: Tensor) -> Tensor:
    return _as_tensor(x).log()


def sigmoid(x: Tensor) -> Tensor:
    return _as_tensor(x).sigmoid()


def tanh(x: Tensor) -> Tensor:
    return _as_tensor(x).tanh()


def relu(x: Tensor) -> Tensor:
    return _as_tensor(x).relu()


def abs(x: Tensor) -> Tensor:  # noqa: A001
    return _as_tensor(x).abs()


def sqrt(x: Tensor) -> Tensor:
    return _as_tensor(x).sqrt()


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    return _as_tensor(x).sum(dim, keepdim, dtype=dtype)


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    return _as_tensor(x).mean(dim, keepdim, dtype=dtype)


def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _as_tensor(x).max(dim, keepdim)


def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _as_tensor(x).min(dim, keepdim)


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _as_tensor(x).argmax(dim, keepdim)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _as_tensor(x).argmin(dim, keepdim)


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    return _as_tensor(x).clamp(min, max)


clip = clamp


def add(a: Tensor, b) -> Tensor:
    return _as_tensor(a) + b


def mul(a: Tensor, b) -> Tensor:
    return _as_tensor(a) * b


def mm(a: Tensor, b: Tensor) -> Tensor:
    return matmul(a, b)


def reshape(x: Tensor, shape) -> Tensor:
    return x.reshape(shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return x.flatten(start_dim, end_dim)


def squeeze(x: Tensor, dim=None) -> Tensor:
    return x.squeeze(dim)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    return x.unsqueeze(dim)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    return x.transpose(dim0, dim1)


def equal(a: Tensor, b: Tensor) -> bool:
    return _as_tensor(a).equal(b)


def isclose(a: Tensor, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    return _as_tensor(a).isclose(b, rtol, atol, equal_nan)


def allclose(a: Tensor, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return _as_tensor(a).allclose(b, rtol, atol, equal_nan)
