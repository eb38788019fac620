"""Checking gradients: central differences against the engine's backward, for any function.

``gradcheck(fn, *inputs)`` is the test every differentiable op passes. ``fn`` takes tensors
(and returns a tensor) or takes ``Value`` scalars (and returns a ``Value``). Its output is
reduced to a scalar by a fixed random projection ``f = sum(out * R)`` (``R = 1`` for one
element), so every output element takes part with a different weight (a plain ``.sum()``
would hide, say, a softmax bug, whose gradient of the sum is zero). Then:

* full mode: for each element ``x_i`` of each input that requires grad,

      d f / d x_i  ~  (f(x + h e_i) - f(x - h e_i)) / 2h     (error O(h^2): the h^2 f''' / 6 term)

  is compared with what ``backward`` computed: 2 evaluations of ``fn`` per element;
* fast mode (``fast=True``, after PyTorch's fast gradcheck): for each input a random unit
  direction ``u``, and ``R^T J u ~ (f(x + h u) - f(x - h u)) / 2h`` is compared with the
  analytic ``sum(grad * u)``: 2 evaluations per input, whatever its size.

An element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``. Inputs are
checked in float64 copies; when ``fn`` computes in float32 anyway (or refuses float64),
the defaults loosen to float32's (see ``DEFAULTS``). On failure the report
(:class:`engine.testing.report.GradcheckReport`) names the input, the worst elements, a hint
when an input sits on a kink or outside a domain, and the user ``Function`` whose backward
is wrong when checking each one on its own finds it.

Hypothesis strategies for property tests live in :mod:`engine.testing.strategies`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.errors import DomainError
from engine.testing.report import (
    DOMAIN_HINT,
    KINK_HINT,
    ElementMismatch,
    GradcheckError,
    GradcheckReport,
    InputReport,
)

__all__ = ["DEFAULTS", "GradcheckError", "GradcheckReport", "assert_close", "gradcheck", "numerical_grad"]

# (eps, atol, rtol) per dtype the check computes in. float64: the long-standing defaults.
# float32: the step near eps32^(1/3) (rounding error ~ 1e-7 |f| / h against truncation ~ h^2),
# tolerances to match.
DEFAULTS = {"float64": (1e-6, 1e-5, 1e-3), "float32": (1e-3, 1e-2, 1e-2)}
WORST = 5  # how many elements a report lists per input
FAST_SEED = 20240


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


class _Problem:
    """``f = sum(fn(*inputs) * R)`` as a function of the checked inputs' values, and its analytic gradient.

    ``base[k]`` is the float64 value of checked input ``k``; ``evaluate({k: array})`` is f with
    input k replaced (NaN when fn raises a DomainError there); ``analytic[k]`` is backward's
    gradient. ``calls`` counts evaluations of fn.
    """

    kind = ""
    dtype = "float64"
    checked: list[int]
    base: dict[int, np.ndarray]
    analytic: dict[int, np.ndarray]
    names: dict[int, str]
    error = ""
    nonfinite = ""  # where fn's output is NaN or inf at the given inputs
    last_op = ""
    out_node: Any = None

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.calls = 0
        self.raised: list[str] = []

    def evaluate(self, replace: dict[int, np.ndarray]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class _ValueProblem(_Problem):
    """fn takes ``Value`` scalars (numbers pass through unchanged) and returns a ``Value``."""

    kind = "value"

    def __init__(self, fn: Callable, inputs: Sequence[Any], names: Sequence[str] | None) -> None:
        from engine.scalar.value import Value

        super().__init__(fn)
        self.inputs = list(inputs)
        self.checked = [k for k, x in enumerate(inputs) if isinstance(x, Value)]
        self.base = {k: np.array(inputs[k].data, dtype=np.float64) for k in self.checked}
        self.names = {k: (names[k] if names and k < len(names) else inputs[k].label) for k in self.checked}
        self.analytic = {}
        leaves = self._fresh({})
        try:
            out = self._call(leaves)
        except DomainError as e:
            self.error = f"fn raised {type(e).__name__} at the given inputs: {e}"
            return
        if isinstance(out, Value):
            out.backward()
            self.f0 = float(out.data)
        else:
            self.f0 = float(out)
        for k in self.checked:
            self.analytic[k] = np.array(leaves[k].grad, dtype=np.float64)

    def _fresh(self, replace: dict[int, np.ndarray]) -> list:
        from engine.scalar.value import Value

        args = list(self.inputs)
        for k in self.checked:
            data = float(replace[k]) if k in replace else float(self.base[k])
            args[k] = Value(data, label=self.inputs[k].label)
        return args

    def _call(self, args: list) -> Any:
        from engine.scalar.value import Value

        self.calls += 1
        out = self.fn(*args)
        if not isinstance(out, Value | int | float) or isinstance(out, bool):
            raise GradcheckError(f"gradcheck: fn must return a Value (it takes Values), got {type(out).__name__}")
        return out

    def evaluate(self, replace: dict[int, np.ndarray]) -> float:
        try:
            out = self._call(self._fresh(replace))
        except DomainError as e:
            self.raised.append(f"{type(e).__name__}: {e}")
            return math.nan
        return float(getattr(out, "data", out))


class _TensorProblem(_Problem):
    """fn takes tensors (the checked ones: those with requires_grad) and returns a tensor."""

    kind = "tensor"

    def __init__(self, fn: Callable, inputs: Sequence[Any], names: Sequence[str] | None) -> None:
        from engine.core.tensor import Tensor

        super().__init__(fn)
        self.checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
        if not self.checked:
            raise GradcheckError("gradcheck: no input requires grad; pass tensors made with requires_grad=True")
        self.names = {k: (names[k] if names and k < len(names) else "") for k in self.checked}
        try:
            out = self._setup(inputs, "float64")
        except DomainError as e:
            self.error = f"fn raised {type(e).__name__} at the given inputs: {e}"
            return
        except Exception:
            # fn refuses float64 copies (it mixes them with float32 tensors of its own, say):
            # check in the inputs' own dtypes, with that dtype's tolerances.
            out = self._setup(inputs, None)
        dtypes = {self.work[k].dtype.name for k in self.checked} | {out.dtype.name}
        self.dtype = "float64" if dtypes == {"float64"} else "float32"
        self.weights = _projection(tuple(out.shape))
        if out.grad_fn is not None:
            self.out_node = out.grad_fn
            self.last_op = out.grad_fn.name()
        if out.requires_grad:
            from engine.core.tensor import tensor

            (out * tensor(self.weights, dtype=out.dtype, device=out.device)).sum().backward()
        values = _host(out).astype(np.float64)
        self.f0 = float(np.sum(values * self.weights))
        bad_out = np.argwhere(~np.isfinite(values))
        if bad_out.size:
            i = tuple(int(j) for j in bad_out[0])
            self.nonfinite = f" (output element {i} is {values[i]}, {len(bad_out)} of {values.size} not finite)"
        self.base = {k: _host(self.work[k]).astype(np.float64) for k in self.checked}
        self.analytic = {}
        for k in self.checked:
            x = self.work[k]
            grad = np.zeros(tuple(x.shape)) if x.grad is None else _host(x.grad).astype(np.float64)
            if grad.shape != self.base[k].shape:
                raise GradcheckError(
                    f"gradcheck: input {k} has shape {self.base[k].shape} but its gradient has shape {grad.shape}"
                )
            self.analytic[k] = grad

    def _setup(self, inputs: Sequence[Any], dtype: str | None):
        """Leaf copies of the checked inputs (in ``dtype``, or their own), and fn's output on them."""
        from engine.core.tensor import Tensor, tensor

        self.work = list(inputs)
        for k in self.checked:
            x = inputs[k]
            self.work[k] = tensor(_host(x), dtype=dtype or x.dtype, device=x.device, requires_grad=True)
        self.calls += 1
        out = self.fn(*self.work)
        if not isinstance(out, Tensor):
            raise GradcheckError(f"gradcheck: fn must return a tensor, got {type(out).__name__}")
        return out

    def evaluate(self, replace: dict[int, np.ndarray]) -> float:
        from engine.autograd.grad_mode import no_grad
        from engine.core.tensor import tensor

        trial = list(self.work)
        for k, values in replace.items():
            x = self.work[k]
            trial[k] = tensor(values, dtype=x.dtype, device=x.device)
        self.calls += 1
        try:
            with no_grad():
                out = _host(self.fn(*trial)).astype(np.float64)
        except DomainError as e:
            self.raised.append(f"{type(e).__name__}: {e}")
            return math.nan
        return float(np.sum(out * self.weights))


def _make_problem(fn: Callable, inputs: Sequence[Any], names: Sequence[str] | None) -> _Problem:
    from engine.scalar.value import Value

    if any(isinstance(x, Value) for x in inputs):
        from engine.core.tensor import Tensor

        if any(isinstance(x, Tensor) for x in inputs):
            raise GradcheckError("gradcheck: inputs mix Values and tensors; check a Value function or a tensor one")
        return _ValueProblem(fn, inputs, names)
    return _TensorProblem(fn, inputs, names)


def _element_hint(f0: float, plus: float, minus: float, eps: float, atol: float, rtol: float) -> str:
    """Why an element may fail through no fault of backward: a domain edge or a kink within eps."""
    if math.isnan(f0) or math.isinf(f0):
        return "domain: fn is not finite here"
    if not (math.isfinite(plus) and math.isfinite(minus)):
        return "domain: fn is not finite at x +- eps"
    right, left = (plus - f0) / eps, (f0 - minus) / eps
    # A kink within eps shows as one-sided slopes that differ (relu at 0: 0 on the left, 1 on the
    # right); an input merely near 0 of a smooth function (sigmoid at 0) gets no hint.
    if abs(right - left) > 10 * (atol + rtol * max(abs(right), abs(left))):
        return f"kink: left slope {left:.3g}, right slope {right:.3g}"
    return ""


def _input_hints(hints: list[str]) -> list[str]:
    out = []
    if any(h.startswith("kink") for h in hints):
        out.append("an element lies " + KINK_HINT)
    if any(h.startswith("domain") for h in hints):
        out.append("an element lies within eps of the edge of, or " + DOMAIN_HINT)
    return out


def _check_full(p: _Problem, k: int, eps: float, atol: float, rtol: float) -> InputReport:
    base, analytic = p.base[k], p.analytic[k]
    numeric, plus, minus = np.zeros_like(base), np.zeros_like(base), np.zeros_like(base)
    for i in np.ndindex(base.shape):
        for step, store in ((eps, plus), (-eps, minus)):
            moved = base.copy()
            moved[i] += step
            store[i] = p.evaluate({k: moved})
        numeric[i] = (plus[i] - minus[i]) / (2 * eps)
    tol = atol + rtol * np.abs(numeric)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(analytic - numeric)
        bad = ~(diff <= tol)
        score = np.where(np.isnan(diff), np.inf, diff / tol)
    report = InputReport(k, p.names[k], tuple(base.shape), checked=int(base.size), failed=int(bad.sum()))
    # normwise: max |analytic - numeric| / max |numeric| (a tiny element's own ratio says nothing)
    worst_diff = float(np.max(np.where(np.isnan(diff), np.inf, diff), initial=0.0))
    report.max_rel = worst_diff / max(float(np.max(np.abs(numeric), initial=0.0)), atol)
    if not report.failed:
        return report

    def mismatch(i: tuple) -> ElementMismatch:
        hint = _element_hint(p.f0, float(plus[i]), float(minus[i]), eps, atol, rtol)
        return ElementMismatch(i, float(analytic[i]), float(numeric[i]), hint)

    bad_idx = [tuple(int(j) for j in i) for i in np.argwhere(bad)]
    report.first = mismatch(bad_idx[0])
    worst = sorted(bad_idx, key=lambda i: -score[i])[:WORST]
    report.worst = [mismatch(i) for i in worst]
    report.hints = _input_hints([e.hint for e in [report.first, *report.worst]])
    return report


def _check_fast(p: _Problem, k: int, eps: float, atol: float, rtol: float, seed: int) -> InputReport:
    base = p.base[k]
    u = np.random.default_rng(seed + k).standard_normal(base.shape)
    norm = float(np.sqrt(np.sum(u * u)))
    u = u / norm if norm > 0 else u
    plus, minus = p.evaluate({k: base + eps * u}), p.evaluate({k: base - eps * u})
    numeric = (plus - minus) / (2 * eps)
    analytic = float(np.sum(p.analytic[k] * u))
    ok = abs(analytic - numeric) <= atol + rtol * abs(numeric)
    report = InputReport(k, p.names[k], tuple(base.shape), checked=1, failed=0 if ok else 1)
    report.directional = (analytic, numeric)
    diff = abs(analytic - numeric)
    report.max_rel = diff / max(abs(numeric), atol) if math.isfinite(diff) else math.inf
    if not ok:
        hint = _element_hint(p.f0, plus, minus, eps, atol, rtol)
        report.hints = _input_hints([hint])
    return report


def _localise(
    p: _TensorProblem, eps: float, atol: float, rtol: float, fast: bool
) -> tuple[str, GradcheckReport] | None:
    """Check each user ``Function`` node of fn's graph on its own, inputs first; the first that fails."""
    from engine.autograd.function import _CustomOp
    from engine.autograd.graph import topological_order
    from engine.autograd.op import TensorBase
    from engine.core.tensor import tensor

    if p.out_node is None:
        return None
    for node in topological_order(p.out_node, lambda n: n.parents):
        if not isinstance(node, _CustomOp):
            continue
        args = [
            tensor(_host(a), dtype=a.dtype, device=a.device, requires_grad=True)
            if isinstance(a, TensorBase) and node.needs_input_grad[i]
            else a
            for i, a in enumerate(node.inputs)
        ]
        big = sum(int(np.prod(a.shape)) for a in args if isinstance(a, TensorBase)) > 2000
        try:
            sub = _run(node.user.apply, args, eps, atol, rtol, fast or big, None, localise=False)
        except Exception:  # the node can't be replayed on its own (kwargs, in-place changes): skip it
            continue
        if not sub.passed:
            return node.user.__name__, sub
    return None


def _run(
    fn: Callable,
    inputs: Sequence[Any],
    eps: float | None,
    atol: float | None,
    rtol: float | None,
    fast: bool,
    names: Sequence[str] | None,
    localise: bool = True,
    seed: int = FAST_SEED,
) -> GradcheckReport:
    p = _make_problem(fn, inputs, names)
    d_eps, d_atol, d_rtol = DEFAULTS[p.dtype]
    eps, atol, rtol = (d_eps if eps is None else eps), (d_atol if atol is None else atol), (
        d_rtol if rtol is None else rtol
    )
    report = GradcheckReport("fast" if fast else "full", p.kind, p.dtype, eps, atol, rtol, last_op=p.last_op)
    if p.error:
        report.error = p.error
        report.hints.append("an input is " + DOMAIN_HINT)
        report.evaluations = p.calls
        return report
    for k in p.checked:
        report.inputs.append(_check_fast(p, k, eps, atol, rtol, seed) if fast else _check_full(p, k, eps, atol, rtol))
    if not math.isfinite(p.f0):
        report.hints.append(f"fn's output is not finite at the given inputs{p.nonfinite}: an input is " + DOMAIN_HINT)
    if p.raised:
        report.hints.append(f"fn raised at x +- eps ({p.raised[0]}): an input lies within eps of a domain's edge")
    report.evaluations = p.calls
    if not report.passed and localise and isinstance(p, _TensorProblem):
        found = _localise(p, eps, atol, rtol, fast)
        if found is not None:
            report.culprit, report.culprit_report = found
    return report


def gradcheck(
    fn: Callable,
    *inputs: Any,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    fast: bool = False,
    raise_on_failure: bool = True,
    names: Sequence[str] | None = None,
    seed: int = FAST_SEED,
) -> bool | GradcheckReport:
    """Check ``fn``'s backward against central differences; True (or a passing report) or raise.

    ``fn`` takes tensors and returns a tensor (the inputs with ``requires_grad=True`` are
    checked, as float64 leaf copies), or takes ``Value`` scalars and returns a ``Value`` (every
    Value input is checked). With ``f = sum(fn(*inputs) * R)`` (R a fixed random projection,
    ones for a scalar output), the analytic gradient is backward of f and the numeric one:

    * ``fast=False``: ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`` for every element i (error
      O(eps^2)); 2 evaluations of fn per element;
    * ``fast=True``: ``R^T J u ~ (f(x + eps u) - f(x - eps u)) / 2 eps`` along one random unit
      direction u per input, against the analytic ``sum(grad * u)``; 2 evaluations per input.

    A value passes when ``|analytic - numeric| <= atol + rtol |numeric|``. ``eps``, ``atol`` and
    ``rtol`` default by the dtype fn computes in (``DEFAULTS``: float64 1e-6/1e-5/1e-3; float32,
    when fn computes in it anyway, 1e-3/1e-2/1e-2); the report says which were used.
    ``names[k]`` names input k in the report (a Value's label is used otherwise).

    On failure raises :class:`GradcheckError` (its ``.report`` is the
    :class:`GradcheckReport`), or with ``raise_on_failure=False`` returns the report, which is
    falsy. On success returns True (``raise_on_failure=False``: the truthy report).
    """
    if not callable(fn):
        raise GradcheckError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
    report = _run(fn, inputs, eps, atol, rtol, fast, names, seed=seed)
    if not raise_on_failure:
        return report
    if not report.passed:
        raise GradcheckError(report)
    return True


def numerical_grad(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6) -> list[np.ndarray | None]:
    """Central-difference gradients of ``sum(fn(*inputs) * R)``, one float64 array per input.

    For every element i of every checked input (a tensor that requires grad, or a ``Value``):
    ``g_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``, whose error is O(eps^2) (the
    first-order terms of the two Taylor expansions cancel). Other inputs get ``None``. ``R``
    is the fixed projection ``gradcheck`` uses (ones for a scalar output).
    """
    p = _make_problem(fn, inputs, None)
    if p.error:
        raise GradcheckError(f"numerical_grad: {p.error}")
    grads: list[np.ndarray | None] = [None] * len(inputs)
    for k in p.checked:
        base = p.base[k]
        g = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            values = []
            for step in (eps, -eps):
                moved = base.copy()
                moved[i] += step
                values.append(p.evaluate({k: moved}))
            g[i] = (values[0] - values[1]) / (2 * eps)
        grads[k] = g
    return grads


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

