"""Cross-checks: the same computation on every path must agree.

* :func:`assert_devices_agree` runs one tensor function on several devices (numpy is the
  reference) and compares outputs and, after backward of a fixed random projection, every
  input's gradient.
* :func:`check_paths` is the three-way check of a scalar expression: the ``Value`` path (the
  teaching engine), the tensor path on each device, and central differences, node by node.
  The numeric derivative of the output with respect to *every* node ``n`` of the expression,

      d f / d n  ~  (f with n + h  -  f with n - h) / 2h,

  is the arbiter: the first node (walking back from the output) whose gradient a path gets
  wrong sits just below the op whose backward is at fault. On failure the message names that
  node and its consumer, prints the expression and the point, and draws the graph with the
  node in red (an SVG path in the message; under hypothesis, drawn on the final, shrunk
  example only).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError, EngineTypeError, EngineValueError
from engine.testing.devices import check_devices
from engine.testing.gradcheck import _host, _projection

__all__ = [
    "AgreementReport",
    "DevicesDisagreeError",
    "PathReport",
    "PathsDisagreeError",
    "assert_devices_agree",
    "check_paths",
]

# (rtol, atol) for comparing devices, by the dtype compared; atol is scaled by the largest
# magnitude of the reference (a sum of n terms differs by ~n eps |terms| between summation orders).
DEVICE_TOLERANCES = {"float64": (1e-9, 1e-11), "float32": (1e-4, 1e-5), "float16": (1e-2, 1e-3)}


# ---- devices ---------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """One array compared between ``device`` and the reference: an output or an input's gradient."""

    device: str
    what: str  # "output 0", "gradient of input 1"
    ok: bool = True
    max_abs: float = 0.0
    max_rel: float = 0.0  # normwise: max_abs / max(1, max |reference|); inf when a NaN/inf moved
    detail: str = ""  # why it failed, one line


@dataclass
class AgreementReport:
    """What :func:`assert_devices_agree` compared; truthy when every device agreed with the reference."""

    reference: str
    devices: list[str]
    comparisons: list[Comparison] = field(default_factory=list)
    gradients: bool = False  # whether gradients were compared (an output required grad and grads=True)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def __bool__(self) -> bool:
        return self.passed

    def worst_rel_error(self, device: str | None = None) -> float:
        """The largest relative difference found (on ``device``, or any device)."""
        errs = [c.max_rel for c in self.comparisons if device is None or c.device == device]
        return max(errs, default=0.0)

    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]

    def __str__(self) -> str:
        bad = self.failures()
        others = self.devices[1:]
        verb = "agrees" if len(others) == 1 else "agree"
        compared = "outputs and gradients" if self.gradients else "outputs (no gradients: no output requires grad)"
        head = (f"assert_devices_agree: {bad[0].detail}" if bad else
                f"assert_devices_agree: {', '.join(others) or 'no other device'} {verb} with {self.reference!r}: "
                f"{compared}")
        lines = [head]
        for dev in self.devices[1:]:
            mine = [c for c in self.comparisons if c.device == dev]
            fails = [c for c in mine if not c.ok]
            state = "ok" if not fails else f"{len(fails)} of {len(mine)} arrays differ"
            lines.append(f"  {dev}: {state}; worst relative difference {self.worst_rel_error(dev):.3g}")
            lines.extend(f"    {c.detail}" for c in fails[1:4])
        return "\n".join(lines)


class DevicesDisagreeError(EngineError, AssertionError):
    """A device computed a different output or gradient than the reference device; ``.report`` says where."""

    def __init__(self, report: AgreementReport) -> None:
        super().__init__(str(report))
        self.report = report


def _on_device(x: Any, device: str) -> Any:
    """A fresh leaf copy of ``x`` on ``device`` (tensors and numpy arrays; floats require grad)."""
    from engine.core.tensor import Tensor, tensor

    if isinstance(x, Tensor):
        return tensor(_host(x), dtype=x.dtype, device=device, requires_grad=x.requires_grad)
    if isinstance(x, np.ndarray):
        return tensor(x, device=device, requires_grad=x.dtype.kind == "f")
    return x


def _outputs(result: Any, where: str) -> list:
    from engine.core.tensor import Tensor

    outs = list(result) if isinstance(result, tuple | list) else [result]
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise EngineTypeError(f"{where}: fn must return a tensor or a tuple of tensors; output {k} is "
                                  f"{type(o).__name__}")
    return outs


def _compare(actual: np.ndarray, expected: np.ndarray, dtype: str, device: str, reference: str, what: str,
             rtol: float | None, atol: float | None) -> Comparison:
    """``actual`` (on ``device``) against ``expected`` (on the reference): same shape, same
    NaN/inf places, finite values within ``atol * scale + rtol * |expected|``."""
    c = Comparison(device, what)
    if actual.shape != expected.shape:
        c.ok = False
        c.max_rel = math.inf
        c.detail = f"{what} has shape {actual.shape} on {device!r} but {expected.shape} on {reference!r}"
        return c
    if expected.dtype.kind not in "fc":
        diff = actual != expected
        if diff.any():
            i = tuple(int(j) for j in np.argwhere(diff)[0])
            c.ok, c.max_rel = False, math.inf
            c.detail = (f"{what} on {device!r} differs from {reference!r} at index {i}: {actual[i].item()!r} vs "
                        f"{expected[i].item()!r} (exact dtype {dtype}); {int(diff.sum())} of {diff.size} elements "
                        "differ")
        return c
    d_rtol, d_atol = DEVICE_TOLERANCES.get(dtype, DEVICE_TOLERANCES["float32"])
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    finite = np.isfinite(e)
    scale = max(1.0, float(np.max(np.abs(e[finite]), initial=0.0)))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
        same_special = (np.isnan(a) & np.isnan(e)) | (np.isinf(e) & (a == e))
        ok = same_special | (finite & (diff <= atol * scale + rtol * np.abs(e)))
        both_finite = finite & np.isfinite(a)
    c.max_abs = float(np.max(np.where(both_finite, diff, 0.0), initial=0.0))
    # normwise: the largest difference over the largest magnitude (inf when a special value moved)
    c.max_rel = c.max_abs / scale if bool(np.all(both_finite | same_special)) else math.inf
    if not ok.all():
        i = tuple(int(j) for j in np.argwhere(~ok)[0])
        c.ok = False
        c.detail = (f"{what} on {device!r} differs from {reference!r} at index {i}: {float(a[i])!r} vs "
                    f"{float(e[i])!r} (abs {float(diff[i]):.3g}; allowed {atol:g} * {scale:.3g} + {rtol:g} * "
                    f"|{reference}|, {dtype}); {int((~ok).sum())} of {ok.size} elements differ")
    return c


def assert_devices_agree(
    fn: Callable,
    *inputs: Any,
    devices: Sequence[str] | str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    grads: bool = True,
    raise_on_failure: bool = True,
) -> AgreementReport:
    """Run ``fn(*inputs)`` on every device and assert the outputs and gradients agree.

    Each tensor or numpy array in ``inputs`` is copied as a leaf onto each device (floating
    ones require grad, a tensor keeps its ``requires_grad``); other arguments (ints for dims,
    floats) pass through. The first device (default: every device available here, numpy
    first) is the reference. Compared, per device: each output's shape, dtype and values
    (NaN and inf in the same places; integers exactly; floats within
    ``atol * max(1, max|ref|) + rtol * |ref|``, by dtype from ``DEVICE_TOLERANCES`` unless
    given), then, when ``grads`` and an output requires grad, the gradient of every input
    after backward of ``sum(out_k * R_k)`` (``R_k`` a fixed random projection, so every output
    element counts with its own weight).

    Raises :class:`DevicesDisagreeError` naming the device, the array and the first element
    that differs (``raise_on_failure=False``: returns the falsy report instead). Returns the
    :class:`AgreementReport` (its ``worst_rel_error(device)`` is the largest difference seen).
    """
    where = "assert_devices_agree"
    if not callable(fn):
        raise EngineTypeError(f"{where}: fn must be callable, got {type(fn).__name__}")
    names = check_devices(devices, where)
    report = AgreementReport(names[0], names)
    ref_out: list[np.ndarray] = []
    ref_grads: list[np.ndarray | None] = []
    ref_dtypes: list[str] = []
    for n, device in enumerate(names):
        args = [_on_device(x, device) for x in inputs]
        try:
            outs = _outputs(fn(*args), where)
        except EngineError as e:
            if n == 0:
                raise
            c = Comparison(device, "fn", ok=False, max_rel=math.inf,
                           detail=f"fn raised {type(e).__name__} on {device!r} but not on {names[0]!r}: {e}")
            report.comparisons.append(c)
            continue
        hosts = [_host(o) for o in outs]
        dtypes = [o.dtype.name for o in outs]
        if grads and any(o.requires_grad for o in outs):
            from engine.core.tensor import tensor

            report.gradients = True
            total = None
            for o in outs:
                if o.requires_grad:
                    term = (o * tensor(_projection(tuple(o.shape)), dtype=o.dtype, device=device)).sum()
                    total = term if total is None else total + term
            total.backward()
        g = [_host(a.grad) if report.gradients and getattr(a, "grad", None) is not None else None for a in args]
        if n == 0:
            ref_out, ref_grads, ref_dtypes = hosts, g, dtypes
            continue
        if len(hosts) != len(ref_out):
            report.comparisons.append(Comparison(device, "outputs", False, 0.0, math.inf,
                                                 f"fn returned {len(hosts)} outputs on {device!r} but "
                                                 f"{len(ref_out)} on {names[0]!r}"))
            continue
        for k, (h, ref) in enumerate(zip(hosts, ref_out)):
            if dtypes[k] != ref_dtypes[k]:
                report.comparisons.append(Comparison(device, f"output {k}", False, 0.0, math.inf,
                                                     f"output {k} has dtype {dtypes[k]} on {device!r} but "
                                                     f"{ref_dtypes[k]} on {names[0]!r}"))
                continue
            report.comparisons.append(_compare(h, ref, dtypes[k], device, names[0], f"output {k}", rtol, atol))
        for k, (gk, ref) in enumerate(zip(g, ref_grads)):
            what = f"gradient of input {k}"
            if gk is None and ref is None:
                continue
            if gk is None or ref is None:
                has, lacks = (device, names[0]) if ref is None else (names[0], device)
                report.comparisons.append(Comparison(device, what, False, 0.0, math.inf,
                                                     f"{what} exists on {has!r} but is None on {lacks!r}"))
                continue
            report.comparisons.append(_compare(gk, ref, str(args[k].dtype.name), device, names[0], what, rtol, atol))
    if raise_on_failure and not report.passed:
        raise DevicesDisagreeError(report)
    return report


# ---- three paths of one expression -------------------------------------------------------------------

# Value path vs tensor path: the same float64 arithmetic by two implementations (math vs numpy/C
# vector code, a few ulp apart), amplified at most by the expression's conditioning.
PATH_TOLERANCES = (1e-9, 1e-10)  # (rtol, atol * scale)
# Central differences with a relative step h: error ~ h^2 |f'''| + 1e-16 |f| / h.
NUMERIC_TOLERANCES = (1e-5, 1e-6)  # (rtol, atol * scale)
KINK_CLEARANCE = 1e-3  # a point whose relu/abs argument is this close to 0 gets no numeric check


@dataclass
class NodeRow:
    """One node of the expression at one point: its text, value and gradient on each path."""

    text: str
    value: float
    grads: dict[str, float]  # path name -> d out / d node ("value", "numpy", "c", ...)
    numeric: float | None  # central difference (None near a kink)


@dataclass
class PathReport:
    """What :func:`check_paths` found; truthy when every path agreed everywhere."""

    expression: str
    paths: list[str]  # "value", then each device
    points: int = 0
    numeric_skipped: int = 0  # points too close to a kink for central differences
    numeric_missing: int = 0  # (point, node) pairs whose central difference left the domain (sqrt at 0)
    worst: dict[str, float] = field(default_factory=dict)  # path -> worst relative error seen
    failure: str = ""  # the first line of the message ("" when passed)
    table: list[NodeRow] = field(default_factory=list)  # the failing point, node by node
    point: dict[str, float] = field(default_factory=dict)  # where it failed
    bad_path: str = ""
    bad_node: str = ""
    drawing: str = ""  # the SVG (or .dot) written, "" when not drawn

    @property
    def passed(self) -> bool:
        return not self.failure

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            worst = ", ".join(f"{p} {e:.2g}" for p, e in self.worst.items())
            unchecked = []
            if self.numeric_skipped:
                unchecked.append(f"{self.numeric_skipped} point(s) near a kink")
            if self.numeric_missing:
                unchecked.append(f"{self.numeric_missing} node value(s) at a domain edge")
            note = f"; no central differences at {' and '.join(unchecked)}" if unchecked else ""
            return (f"check_paths: {self.expression}: {len(self.paths)} paths agree at {self.points} point(s) "
                    f"(worst relative error: {worst}){note}")
        at = ", ".join(f"{k}={v!r}" for k, v in self.point.items())
        lines = [self.failure, f"  expression: {self.expression}", f"  at: {at}",
                 "  d out / d node on each path (numeric: central differences):"]
        width = min(36, max(len("node"), *(len(r.text) for r in self.table)))
        columns = "".join(f"{'Value' if p == 'value' else p:>14}" for p in self.paths)
        head = f"    {'node':<{width}}{'value':>13}{columns}{'numeric':>14}"
        lines.append(head)
        for r in self.table:
            text = r.text if len(r.text) <= width else r.text[: width - 1] + "…"
            mark = " <-" if r.text == self.bad_node else ""
            num = "near kink" if r.numeric is None else f"{r.numeric:.7g}"
            lines.append(f"    {text:<{width}}{r.value:>13.6g}" + "".join(f"{r.grads[p]:>14.7g}" for p in self.paths)
                         + f"{num:>14}{mark}")
        if self.drawing:
            lines.append(f"  drawing: {self.drawing} (the node in red)")
        return "\n".join(lines)


class PathsDisagreeError(EngineError, AssertionError):
    """Two paths (Value, tensor on a device, central differences) disagree; ``.report`` says where."""

    def __init__(self, report: PathReport) -> None:
        super().__init__(str(report))
        self.report = report


def _as_expression(expr: Any) -> Any:
    """An :class:`~engine.testing.strategies.Expression`, or the parsed text of one (``"(x + y)*z"``)."""
    from engine.testing.strategies import Expression, parse_expression

    if isinstance(expr, Expression):
        return expr
    if isinstance(expr, str):
        return parse_expression(expr)
    raise EngineTypeError(f"check_paths: expr must be an Expression or its text such as '(x + y)*z', "
                          f"got {type(expr).__name__}")


def _points(expr: Any, inputs: Mapping[str, Any]) -> tuple[list[str], np.ndarray]:
    """The variables and a (points, variables) float64 array of the values to check at.

    Values for names the expression does not read are ignored: a property test passes ``x`` and
    ``y`` to every expression drawn over them, some of which read only one (a misspelt name
    still fails, as the variable it was meant for is then missing)."""
    names = list(expr.variables)
    missing = [n for n in names if n not in inputs]
    if missing:
        raise EngineValueError(f"check_paths: {expr} reads {', '.join(names)}; no value for {', '.join(missing)} "
                               f"(given: {', '.join(map(str, inputs)) or 'none'})")
    try:
        cols = [np.atleast_1d(np.asarray(inputs[n], dtype=np.float64)) for n in names]
    except (TypeError, ValueError):
        raise EngineValueError("check_paths: each input must be a number or a 1-D sequence of numbers, got "
                               + ", ".join(f"{n}={inputs[n]!r:.40}" for n in names)) from None
    try:
        cols = np.broadcast_arrays(*cols)
    except ValueError:
        raise EngineValueError("check_paths: the inputs must be numbers or 1-D sequences of one length, got "
                               + ", ".join(f"{n} {np.shape(inputs[n])}" for n in names)) from None
    if any(c.ndim != 1 for c in cols) or cols[0].size == 0:
        raise EngineValueError("check_paths: each input must be a number or a non-empty 1-D sequence")
    pts = np.stack(cols, axis=1)
    if not np.isfinite(pts).all():
        raise EngineValueError("check_paths: the inputs must be finite")
    return names, pts


def _float_path(nodes: list, env: dict[str, float], moved: int | None = None, delta: float = 0.0) -> list[float]:
    """Every node's value with plain floats; node ``moved`` shifted by ``delta`` (for d out/d node)."""
    from engine.testing.strategies import _apply

    done: dict[int, float] = {}
    out = []
    for k, node in enumerate(nodes):
        v = _apply(node, [done[id(a)] for a in node.args], env)
        if k == moved:
            v = v + delta
        done[id(node)] = v
        out.append(float(v))
    return out


def _numeric(nodes: list, env: dict[str, float], values: list[float], eps: float) -> list[float | None]:
    """Central differences of the output with respect to each node (None for constants)."""
    grads: list[float | None] = []
    for k, node in enumerate(nodes):
        if node.op == "const":
            grads.append(None)
            continue
        h = eps * max(1.0, abs(values[k]))
        try:
            plus = _float_path(nodes, env, k, h)[-1]
            minus = _float_path(nodes, env, k, -h)[-1]
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):  # a step left the domain
            grads.append(None)
            continue
        grads.append((plus - minus) / (2 * h))
    return grads


def _value_path(nodes: list, env: dict[str, float]) -> tuple[list, list[float], list[float]]:
    """The expression built from ``engine.Value`` leaves: (Values, node values, node grads)."""
    from engine.scalar.value import Value
    from engine.testing.strategies import _apply

    done: dict[int, Any] = {}
    made = []
    for node in nodes:
        if node.op == "var":
            v = Value(env[node.name], label=node.name)
        else:
            v = _apply(node, [done[id(a)] for a in node.args], env)
            if not isinstance(v, Value):  # a constant
                v = Value(float(v), label=str(node))
        done[id(node)] = v
        made.append(v)
    made[-1].backward()
    return made, [v.data for v in made], [v.grad for v in made]


def _tensor_path(nodes: list, names: list[str], pts: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    """The expression on float64 tensors over all points at once, every intermediate retained:
    (node values, node grads), each of shape (nodes, points)."""
    from engine.core.tensor import Tensor, tensor
    from engine.testing.strategies import _apply

    leaves = {n: tensor(pts[:, j], dtype="float64", device=device, requires_grad=True) for j, n in enumerate(names)}
    done: dict[int, Any] = {}
    made = []
    for node in nodes:
        t = _apply(node, [done[id(a)] for a in node.args], leaves)
        if not isinstance(t, Tensor):  # a constant
            t = tensor(np.full(len(pts), float(t)), dtype="float64", device=device)
        elif t.grad_fn is not None:
            t.retain_grad()
        done[id(node)] = t
        made.append(t)
    made[-1].sum().backward()
    values = np.stack([np.broadcast_to(_host(t).astype(np.float64), (len(pts),)) for t in made])
    grads = np.stack([np.zeros(len(pts)) if t.grad is None else np.broadcast_to(_host(t.grad), (len(pts),))
                      for t in made])
    return values, grads


def _defined(nodes: list, env: dict[str, float], text: str) -> list[float]:
    """Every node's float value at ``env``, or a one-line error when the point is outside the
    expression's domain (log of a negative, a division by zero, exp overflowing): a wrong input,
    not a disagreement between paths."""
    from engine.errors import DomainError

    try:
        values = _float_path(nodes, env)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
        at = ", ".join(f"{k}={v!r}" for k, v in env.items())
        why = "a complex number" if isinstance(e, TypeError) else str(e)  # (-1) ** 0.5 in Python floats
        raise DomainError(f"check_paths: {text} is not defined at {at} ({why})") from None
    if not all(math.isfinite(v) for v in values):
        at = ", ".join(f"{k}={v!r}" for k, v in env.items())
        raise DomainError(f"check_paths: {text} is not finite at {at}")
    return values


def _differs(a: float, b: float, rtol: float, atol: float, scale: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return not (math.isnan(a) and math.isnan(b))
    return abs(a - b) > atol * scale + rtol * abs(b)


def _rel(a: float, b: float, atol: float) -> float:
    return abs(a - b) / max(abs(b), atol) if math.isfinite(a) and math.isfinite(b) else math.inf


def should_draw() -> bool:
    """Not while hypothesis is still searching or shrinking: only on its final, reported run."""
    try:
        from hypothesis.control import current_build_context, currently_in_test_context
    except ModuleNotFoundError:
        return True
    return not currently_in_test_context() or current_build_context().is_final


def check_paths(
    expr: Any,
    inputs: Mapping[str, Any] | None = None,
    devices: Sequence[str] | str | None = None,
    *,
    eps: float = 1e-6,
    rtol: float | None = None,
    atol: float | None = None,
    draw: bool | str | os.PathLike = True,
    raise_on_failure: bool = True,
    **values: Any,
) -> PathReport:
    """The three-way check of a scalar expression: ``Value`` path, tensor path per device, numeric.

    ``expr`` is an :class:`~engine.testing.strategies.Expression` (``strategies.expressions()``
    draws them) or its text (``"(x + y)*z"``). The values come as ``inputs={"x": ...}`` or as
    keywords (``check_paths(expr, x=-2, y=5, z=-4)``): a number each, or 1-D sequences of one
    length (points; the tensor path computes them all at once, elementwise). Values for names
    the expression does not read are ignored (an expression drawn over x and y may read only x).

    At each point, for every node ``n`` of the expression:

    * its value on every path equals the float evaluation (``rtol``/``atol``, default
      ``PATH_TOLERANCES``: the paths run the same float64 arithmetic);
    * ``d out / d n`` from backward on the Value path and on each device's tensor path (every
      intermediate retained) agree with each other to the same tolerance, and with the central
      difference ``(f(n + h) - f(n - h)) / 2h`` (``h = eps * max(1, |n|)``) within
      ``NUMERIC_TOLERANCES``. Points within ``KINK_CLEARANCE`` of a relu/abs kink skip the
      numeric check (counted in the report). A point outside the expression's domain
      (``log`` of a negative, a division by zero) is a :class:`~engine.errors.DomainError`.

    On failure raises :class:`PathsDisagreeError` (``raise_on_failure=False``: returns the falsy
    report): which path, the first node walking back from the output whose gradient is wrong
    (the op that consumes it has the wrong backward), a node-by-node table of every path, and
    the Value graph drawn with that node in red. ``draw``: True writes the SVG under
    ``$ENGINE_CHECK_DIR`` (default: a temp folder), a path names the file, False draws nothing.
    Under hypothesis the drawing is made on the final (shrunk) example only.
    """
    expr = _as_expression(expr)
    if inputs is not None and values:
        raise EngineTypeError("check_paths: give the values as inputs={...} or as keywords, not both")
    if inputs is not None and not isinstance(inputs, Mapping):
        raise EngineTypeError(f"check_paths: inputs must map variable names to values, such as {{'x': 0.5}}; "
                              f"got {type(inputs).__name__}")
    names, pts = _points(expr, dict(inputs if inputs is not None else values))
    devs = check_devices(devices, "check_paths")
    p_rtol, p_atol = PATH_TOLERANCES
    rtol = p_rtol if rtol is None else rtol
    atol = p_atol if atol is None else atol
    n_rtol, n_atol = NUMERIC_TOLERANCES
    nodes = expr.nodes()
    texts = [str(n) for n in nodes]
    paths = ["value", *devs]
    report = PathReport(str(expr), paths, points=len(pts), worst={p: 0.0 for p in paths})
    truths = [_defined(nodes, dict(zip(names, (float(v) for v in row))), str(expr)) for row in pts]
    tensor_runs = {d: _tensor_path(nodes, names, pts, d) for d in devs}

    for i, row in enumerate(pts):
        env = dict(zip(names, (float(v) for v in row)))
        truth = truths[i]
        scale = max(1.0, *(abs(v) for v in truth))
        near_kink = expr.kink_distance(**env) < KINK_CLEARANCE
        numeric = [None] * len(nodes) if near_kink else _numeric(nodes, env, truth, eps)
        report.numeric_skipped += near_kink
        if not near_kink:
            report.numeric_missing += sum(1 for k, n in enumerate(nodes) if n.op != "const" and numeric[k] is None)
        made, v_values, v_grads = _value_path(nodes, env)
        # .tolist(): Python floats, so the message reads 0.25, not np.float64(0.25)
        path_values = {"value": v_values, **{d: tensor_runs[d][0][:, i].tolist() for d in devs}}
        path_grads = {"value": v_grads, **{d: tensor_runs[d][1][:, i].tolist() for d in devs}}
        gscale = max(1.0, *(abs(g) for g in v_grads))

        failure = ""
        bad_k, bad_path = -1, ""
        for k in range(len(nodes)):  # forward: the first node whose value is off
            for p in paths:
                report.worst[p] = max(report.worst[p], _rel(path_values[p][k], truth[k], atol * scale))
                if not failure and _differs(path_values[p][k], truth[k], rtol, atol, scale):
                    failure = (f"check_paths: the {_path_name(p)} computes {texts[k]} = {path_values[p][k]!r}, "
                               f"the float evaluation {truth[k]!r}")
                    bad_k, bad_path = k, p
        if not failure:
            for k in reversed(range(len(nodes))):  # backward: the first node whose gradient is off
                if nodes[k].op == "const":
                    continue
                ref = numeric[k]
                for p in paths:
                    g = path_grads[p][k]
                    if ref is not None:
                        report.worst[p] = max(report.worst[p], _rel(g, ref, n_atol * gscale))
                    wrong = ref is not None and _differs(g, ref, n_rtol, n_atol, gscale)
                    if p != "value" and not wrong:
                        wrong = _differs(g, v_grads[k], rtol, atol, gscale)
                    if wrong and not failure:
                        users = [texts[j] for j, n in enumerate(nodes) if any(a is nodes[k] for a in n.args)]
                        against = (f"central differences give {ref!r}" if ref is not None
                                   else f"the Value path gives {v_grads[k]!r}")
                        failure = (f"check_paths: the {_path_name(p)} gets d out/d({texts[k]}) = {g!r}; {against}"
                                   + (f" (the backward of {' and '.join(users)} is suspect)" if users else ""))
                        bad_k, bad_path = k, p
                if failure:
                    break
        if failure and not report.failure:
            report.failure = failure
            report.point = env
            report.bad_path, report.bad_node = bad_path, texts[bad_k]
            report.table = [NodeRow(texts[k], truth[k], {p: path_grads[p][k] for p in paths}, numeric[k])
                            for k in range(len(nodes)) if nodes[k].op != "const"]
            if draw and should_draw():
                report.drawing = _draw_failure(made, bad_k, nodes, report, draw)
            break

    if raise_on_failure and not report.passed:
        raise PathsDisagreeError(report)
    return report


def _path_name(p: str) -> str:
    return "Value path" if p == "value" else f"tensor path on {p!r}"


def _draw_failure(made: list, bad_k: int, nodes: list, report: PathReport, draw: Any) -> str:
    """Draw the Value graph of the failing point with the bad node (and the ops using it) in red."""
    try:
        from engine import viz
        from engine.viz.adapters import from_value
    except ModuleNotFoundError:  # graphviz's Python package is absent: no drawing
        return ""
    root = made[-1]
    for k, v in enumerate(made):  # name the intermediates by their text, as the table does
        if not v.label and len(str(nodes[k])) <= 12:
            v.label = str(nodes[k])
    graph = from_value(root, max_nodes=500)
    order = root.nodes()
    position = {id(v): k for k, v in enumerate(order)}
    bad = made[bad_k]
    ids = {f"v{position[id(bad)]}"}
    ids.update(f"v{position[id(v)]}op" for v in order if any(p is bad for p in v.parents))
    title = f"{report.failure.removeprefix('check_paths: ')}"
    drawing = viz.to_dot(graph, highlight=ids, title=title)
    key = f"{report.expression}|{sorted(report.point.items())}|{report.bad_path}"
    return write_drawing(drawing.source, drawing_path("paths", key, draw))


def drawing_path(kind: str, key: str, draw: Any = True) -> str:
    """Where a failure's drawing goes: ``draw`` when it is a path, else
    ``$ENGINE_CHECK_DIR/<kind>-<hash of key>.svg`` (default folder: ``<tempdir>/engine-check``)."""
    if isinstance(draw, str | os.PathLike) and not isinstance(draw, bool):
        return os.fspath(draw)
    folder = os.environ.get("ENGINE_CHECK_DIR") or os.path.join(tempfile.gettempdir(), "engine-check")
    return os.path.join(folder, f"{kind}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.svg")


def write_drawing(dot_source: str, path: str) -> str:
    """Render DOT to ``path`` (SVG by its suffix; the .dot itself when no renderer is installed)."""
    import warnings

    from engine.viz import renderer

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no renderer: the .dot is written instead, and named
        written = renderer.write(dot_source, path)
    return os.fspath(written)
