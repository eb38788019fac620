"""The op families the property suite checks: each op as a function and a strategy for its inputs.

A :class:`Case` is one public op (``tanh``, ``matmul``, ``cross_entropy``...) with a hypothesis
strategy that draws valid arguments for it: float arrays (the differentiable inputs), integer
arrays (targets, indices) and plain numbers (dims, slopes). Inputs are drawn inside the op's
domain and away from its kinks (relu/abs at 0, max at ties, clamp at its bounds) by more than
``CLEARANCE``, because there the derivative is not defined and a central difference averages two
slopes: a check there would fail through no fault of backward.

``FAMILIES`` maps each family name to its cases; :mod:`engine.testing.suite` runs them.
Hypothesis is imported when a strategy is built, never at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CLEARANCE", "FAMILIES", "FAMILY_DOCS", "Case", "family_names"]

CLEARANCE = 1e-2  # inputs stay this far from a kink (central differences use steps of 1e-6)


@dataclass(frozen=True)
class Case:
    """One op: ``call(*args, **kwargs)`` on tensors, and ``draw`` a strategy of ``(args, kwargs)``.

    In ``args``, float64 numpy arrays become the differentiable tensor inputs (except at the
    positions in ``fixed``: targets, which are data), integer arrays become int64 tensors, and
    anything else (dims, constants) is passed as it is.
    """

    family: str
    name: str
    call: Callable[..., Any]
    draw: Callable[[], Any]
    fixed: tuple[int, ...] = ()

    def __repr__(self) -> str:  # hypothesis prints the case in a falsifying example
        return f"{self.family}.{self.name}"


# ---- input strategies -----------------------------------------------------------------------------


def _floats(lo: float, hi: float, away: tuple[float, ...] = ()):
    from engine.testing.strategies import floats

    f = floats(lo, hi)
    if away:
        f = f.filter(lambda v: all(abs(v - k) > CLEARANCE for k in away))
    return f


def _shape(min_dims: int = 0, max_dims: int = 3, max_side: int = 4):
    from engine.testing.strategies import shapes

    return shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def _array(shape: Any, lo: float = -3.0, hi: float = 3.0, away: tuple[float, ...] = ()):
    """Float64 arrays of ``shape`` (a tuple or a strategy) with elements in [lo, hi], away from ``away``."""
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(np.float64, shape, elements=_floats(lo, hi, away))


def _distinct(x: np.ndarray) -> bool:
    """No two elements within CLEARANCE (max/min/sort/pooling have a kink at ties)."""
    flat = np.sort(x.ravel())
    return flat.size < 2 or float(np.min(np.diff(flat))) > CLEARANCE


def _one(lo: float = -3.0, hi: float = 3.0, away: tuple[float, ...] = (), min_dims: int = 0, max_dims: int = 3):
    """A strategy of ``((x,), {})``: one array."""
    return _array(_shape(min_dims, max_dims), lo, hi, away).map(lambda x: ((x,), {}))


def _with_dim(lo: float = -3.0, hi: float = 3.0, keepdim: bool = True, distinct: bool = False,
              away: tuple[float, ...] = (), min_len: int = 1):
    """``((x, dim), {"keepdim": bool})`` or ``((x, dim), {})``: an array of 1-3 axes and one of its
    axes, at least ``min_len`` long (var needs two: one element has no unbiased variance)."""
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        x = draw(_array(_shape(1, 3), lo, hi, away))
        if distinct:
            from hypothesis import assume

            assume(_distinct(x))
        dim = draw(st.integers(-x.ndim, x.ndim - 1))
        if x.shape[dim] < min_len:
            from hypothesis import assume

            assume(False)
        kwargs = {"keepdim": draw(st.booleans())} if keepdim else {}
        return (x, dim), kwargs

    return draw()


def _two(lo_a: float = -3.0, hi_a: float = 3.0, lo_b: float = -3.0, hi_b: float = 3.0,
         min_abs_b: float = 0.0, apart: bool = False):
    """``((a, b), {})`` with mutually broadcastable shapes; ``|b| >= min_abs_b``; ``apart``: a and b
    never within CLEARANCE."""
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    @st.composite
    def draw(draw):
        sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)).input_shapes
        a, b = draw(_array(sa, lo_a, hi_a)), draw(_array(sb, lo_b, hi_b))
        b = np.where(np.abs(b) < min_abs_b, np.copysign(min_abs_b, b), b)
        if apart:
            assume(bool(np.all(np.abs(a - b) > CLEARANCE)))
        return (a, b), {}

    return draw()


# ---- the families -------------------------------------------------------------------------------

def _elementwise() -> list[Case]:
    import engine.nn.functional as F

    def unary(name: str, call: Callable, lo: float = -3.0, hi: float = 3.0, away: tuple[float, ...] = ()) -> Case:
        return Case("elementwise", name, call, lambda: _one(lo, hi, away))

    return [
        unary("exp", lambda x: x.exp()),
        unary("log", lambda x: x.log(), 0.2, 4.0),
        unary("sqrt", lambda x: x.sqrt(), 0.2, 4.0),
        unary("tanh", lambda x: x.tanh()),
        unary("sigmoid", lambda x: x.sigmoid()),
        unary("relu", lambda x: x.relu(), away=(0.0,)),
        unary("abs", lambda x: x.abs(), away=(0.0,)),
        unary("neg", lambda x: -x),
        unary("sin", lambda x: x.sin()),
        unary("cos", lambda x: x.cos()),
        unary("square", lambda x: x.square()),
        unary("pow", lambda x: x**3),
        unary("pow_fractional", lambda x: x**1.5, 0.2, 4.0),
        unary("reciprocal", lambda x: x.reciprocal(), 0.3, 3.0),
        unary("rsqrt", lambda x: x.rsqrt(), 0.3, 3.0),
        unary("log1p", lambda x: x.log1p(), -0.5, 3.0),
        unary("expm1", lambda x: x.expm1()),
        unary("erf", lambda x: x.erf()),
        unary("atan", lambda x: x.atan()),
        unary("asinh", lambda x: x.asinh()),
        unary("clamp", lambda x: x.clamp(-1.0, 1.0), away=(-1.0, 1.0)),
        unary("softplus", lambda x: F.softplus(x)),
        unary("gelu", lambda x: F.gelu(x)),
        unary("elu", lambda x: F.elu(x), away=(0.0,)),
        unary("leaky_relu", lambda x: F.leaky_relu(x, 0.1), away=(0.0,)),
    ]


def _binary() -> list[Case]:
    from engine.core import math_functions, tensor

    def binary(name: str, call: Callable, **bounds: Any) -> Case:
        return Case("binary", name, call, lambda: _two(**bounds))

    return [
        binary("add", lambda a, b: a + b),
        binary("sub", lambda a, b: a - b),
        binary("mul", lambda a, b: a * b),
        binary("div", lambda a, b: a / b, min_abs_b=0.5),
        binary("pow", lambda a, b: a**b, lo_a=0.3, hi_a=3.0, lo_b=-2.0, hi_b=2.0),
        binary("maximum", lambda a, b: tensor.maximum(a, b), apart=True),
        binary("minimum", lambda a, b: tensor.minimum(a, b), apart=True),
        binary("atan2", lambda a, b: math_functions.atan2(a, b), lo_b=0.5, hi_b=3.0),
        binary("lerp", lambda a, b: a.lerp(b, 0.3)),
    ]


def _reductions() -> list[Case]:
    def reduce(name: str, call: Callable, **options: Any) -> Case:
        return Case("reductions", name, call, lambda: _with_dim(**options))

    def whole(name: str, call: Callable, lo: float = -3.0, hi: float = 3.0, away: tuple[float, ...] = ()) -> Case:
        return Case("reductions", name, call, lambda: _one(lo, hi, away, min_dims=1))

    return [
        whole("sum", lambda x: x.sum()),
        reduce("sum_dim", lambda x, d, **k: x.sum(dim=d, **k)),
        reduce("mean_dim", lambda x, d, **k: x.mean(dim=d, **k)),
        whole("prod", lambda x: x.prod(), 0.5, 1.5),
        reduce("amax", lambda x, d, **k: x.amax(dim=d, **k), distinct=True),
        reduce("max_dim", lambda x, d, **k: x.max(dim=d, **k)[0], distinct=True),
        reduce("logsumexp", lambda x, d, **k: x.logsumexp(dim=d, **k)),
        reduce("var", lambda x, d, **k: x.var(dim=d, **k), min_len=2),
        whole("norm", lambda x: x.norm(), 0.2, 3.0),
        reduce("cumsum", lambda x, d: x.cumsum(dim=d), keepdim=False),
        reduce("cumprod", lambda x, d: x.cumprod(dim=d), lo=0.5, hi=1.5, keepdim=False),
    ]


def _linalg() -> list[Case]:
    from hypothesis import strategies as st

    import engine.nn.functional as F

    def matmul_inputs():
        from engine.testing.strategies import matmul_shapes

        return matmul_shapes().flatmap(lambda ab: st.tuples(_array(ab[0]), _array(ab[1]))).map(lambda t: (t, {}))

    @st.composite
    def linear_inputs(draw):
        n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
        return (draw(_array((n, k))), draw(_array((m, k))), draw(_array((m,)))), {}

    @st.composite
    def mm_inputs(draw):
        n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
        return (draw(_array((n, k))), draw(_array((k, m)))), {}

    return [
        Case("linalg", "matmul", lambda a, b: a @ b, matmul_inputs),
        Case("linalg", "mm", lambda a, b: a.mm(b), mm_inputs),
        Case("linalg", "mm_transposed", lambda a, b: (b.T @ a.T).T, mm_inputs),
        Case("linalg", "linear", lambda x, w, b: F.linear(x, w, b), linear_inputs),
    ]


def _shape_ops() -> list[Case]:
    from hypothesis import strategies as st

    from engine.core import tensor

    @st.composite
    def two_axes(draw):
        x = draw(_array(_shape(2, 3)))
        return (x, draw(st.integers(0, x.ndim - 1)), draw(st.integers(0, x.ndim - 1))), {}

    @st.composite
    def permutation(draw):
        x = draw(_array(_shape(1, 3)))
        return (x, tuple(draw(st.permutations(range(x.ndim))))), {}

    @st.composite
    def axis(draw, insert: bool = False):
        x = draw(_array(_shape(1, 3)))
        return (x, draw(st.integers(0, x.ndim if insert else x.ndim - 1))), {}

    @st.composite
    def pair_along_axis(draw):
        x = draw(_array(_shape(1, 3)))
        d = draw(st.integers(0, x.ndim - 1))
        other = list(x.shape)
        other[d] = draw(st.integers(1, 3))
        return (x, draw(_array(tuple(other))), d), {}

    @st.composite
    def same_shape_pair(draw):
        x = draw(_array(_shape(0, 3)))
        return (x, draw(_array(x.shape)), draw(st.integers(0, x.ndim))), {}

    @st.composite
    def gather_inputs(draw):
        x = draw(_array(_shape(1, 3)))
        d = draw(st.integers(0, x.ndim - 1))
        idx_shape = tuple(draw(st.integers(1, 3)) if i == d else s for i, s in enumerate(x.shape))
        index = draw(st.lists(st.integers(0, x.shape[d] - 1), min_size=int(np.prod(idx_shape)),
                              max_size=int(np.prod(idx_shape))))
        return (x, d, np.asarray(index, dtype=np.int64).reshape(idx_shape)), {}

    @st.composite
    def slicing(draw):
        x = draw(_array(_shape(1, 3)))
        start, step = draw(st.integers(0, x.shape[0] - 1)), draw(st.integers(1, 2))
        return (x, start, step), {}

    @st.composite
    def expand_inputs(draw):
        x = draw(_array(_shape(1, 2, 3).map(lambda s: tuple(1 if i % 2 == 0 else v for i, v in enumerate(s)))))
        return (x, tuple(3 if s == 1 else s for s in x.shape)), {}

    return [
        Case("shape", "transpose", lambda x, a, b: x.transpose(a, b), two_axes),
        Case("shape", "permute", lambda x, p: x.permute(*p), permutation),
        Case("shape", "reshape", lambda x: x.reshape(-1) * 1.5, lambda: _one(min_dims=1)),
        Case("shape", "unsqueeze", lambda x, d: x.unsqueeze(d), lambda: axis(insert=True)),
        Case("shape", "flip", lambda x, d: x.flip(d), axis),
        Case("shape", "roll", lambda x, d: x.roll(1, d), axis),
        Case("shape", "cat", lambda a, b, d: tensor.cat([a, b], dim=d), pair_along_axis),
        Case("shape", "stack", lambda a, b, d: tensor.stack([a, b], dim=d), same_shape_pair),
        Case("shape", "gather", lambda x, d, i: x.gather(d, i), gather_inputs),
        Case("shape", "slice", lambda x, s, k: x[s::k] * 2.0, slicing),
        Case("shape", "expand", lambda x, s: x.expand(*s), expand_inputs),
        Case("shape", "repeat", lambda x: x.repeat(2, 1), lambda: _one(min_dims=2, max_dims=2)),
    ]


def _nn() -> list[Case]:
    from hypothesis import assume
    from hypothesis import strategies as st

    import engine.nn.functional as F

    @st.composite
    def logits_and_targets(draw):
        n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
        target = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
        return (draw(_array((n, c))), np.asarray(target, dtype=np.int64)), {}

    @st.composite
    def pair_same_shape(draw, lo: float = -3.0, hi: float = 3.0, t_lo: float = -3.0, t_hi: float = 3.0,
                        kink: float | None = None):
        x = draw(_array(_shape(1, 2), lo, hi))
        t = draw(_array(x.shape, t_lo, t_hi))
        if kink is not None:
            assume(bool(np.all(np.abs(np.abs(x - t) - kink) > CLEARANCE)))
        return (x, t), {}

    @st.composite
    def conv_inputs(draw):
        n, cin, cout, length = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), \
            draw(st.integers(3, 6))
        k = draw(st.integers(1, 3))
        stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
        return (draw(_array((n, cin, length))), draw(_array((cout, cin, k))), draw(_array((cout,))), stride,
                padding), {}

    @st.composite
    def pool_inputs(draw):
        x = draw(_array((draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(2, 6)))))
        assume(_distinct(x))
        return (x, draw(st.integers(1, min(3, x.shape[-1])))), {}

    @st.composite
    def layer_norm_inputs(draw):
        x = draw(_array((draw(st.integers(1, 3)), draw(st.integers(2, 4)))))
        assume(float(np.min(np.std(x, axis=-1))) > 0.1)  # a near-constant row makes 1/std explode
        return (x, draw(_array((x.shape[-1],))), draw(_array((x.shape[-1],)))), {}

    def softmax_like(name: str, call: Callable) -> Case:
        return Case("nn", name, call, lambda: _with_dim(keepdim=False))

    return [
        softmax_like("softmax", lambda x, d: F.softmax(x, dim=d)),
        softmax_like("log_softmax", lambda x, d: F.log_softmax(x, dim=d)),
        Case("nn", "cross_entropy", lambda x, t: F.cross_entropy(x, t), logits_and_targets),
        Case("nn", "nll_loss", lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t), logits_and_targets),
        Case("nn", "mse_loss", lambda x, t: F.mse_loss(x, t), pair_same_shape),
        Case("nn", "binary_cross_entropy", lambda x, t: F.binary_cross_entropy(x, t),
             lambda: pair_same_shape(0.05, 0.95, 0.0, 1.0), fixed=(1,)),
        Case("nn", "bce_with_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t),
             lambda: pair_same_shape(t_lo=0.0, t_hi=1.0), fixed=(1,)),
        Case("nn", "smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t), lambda: pair_same_shape(kink=1.0)),
        Case("nn", "layer_norm", lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b), layer_norm_inputs),
        Case("nn", "conv1d", lambda x, w, b, s, p: F.conv1d(x, w, b, stride=s, padding=p), conv_inputs),
        Case("nn", "max_pool1d", lambda x, k: F.max_pool1d(x, k), pool_inputs),
        Case("nn", "avg_pool1d", lambda x, k: F.avg_pool1d(x, k), pool_inputs),
    ]


FAMILY_DOCS = {
    "expressions": "random scalar expression DAGs: Value path vs tensor path vs central differences, node by node",
    "elementwise": "unary math and activations (exp, log, tanh, sigmoid, relu, gelu, clamp...)",
    "binary": "broadcasting binary ops (+ - * / **, maximum, atan2, lerp)",
    "reductions": "sum, mean, prod, amax/max, logsumexp, var, norm, cumsum, cumprod over a dim",
    "linalg": "matmul (vectors, batches), mm, linear",
    "shape": "transpose, permute, reshape, unsqueeze, flip, roll, cat, stack, gather, slicing, expand, repeat",
    "nn": "softmax, log_softmax, losses, layer_norm, conv1d, pooling",
    "programs": "random straight-line programs over the public tensor ops",
}

_BUILDERS: dict[str, Callable[[], list[Case]]] = {
    "elementwise": _elementwise, "binary": _binary, "reductions": _reductions, "linalg": _linalg,
    "shape": _shape_ops, "nn": _nn,
}


class _Families(dict):
    """``FAMILIES[name]``: the cases of a tensor family, built on first use (they import nn and hypothesis)."""

    def __missing__(self, name: str) -> list[Case]:
        if name not in _BUILDERS:
            raise KeyError(name)
        self[name] = _BUILDERS[name]()
        return self[name]


FAMILIES: dict[str, list[Case]] = _Families()


def family_names() -> list[str]:
    """Every family, in the order the suite runs them."""
    return list(FAMILY_DOCS)
