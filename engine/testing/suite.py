"""The property suite behind ``python -m engine check``: every op family on every device.

For each (family, device) hypothesis draws ``examples`` inputs (the profile's budget: dev 20,
ci 100, thorough 1000) and checks each one three ways:

* the gradient: :func:`engine.testing.gradcheck` (central differences over every element, in
  float64) of the op on that device;
* the device: :func:`engine.testing.assert_devices_agree` of the op's outputs and gradients on
  that device against the reference device (numpy), in float64 and in float32;
* for the ``expressions`` family, :func:`engine.testing.check_paths`: the ``Value`` path, the
  tensor path on that device and central differences, node by node.

A failure is shrunk by hypothesis to a small example; its message names the op, the inputs and
what disagreed, and (on the final example only) a drawing of the graph is written. The result
is a table: family x device, examples run, worst relative error against central differences and
against the reference device, pass or FAIL.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineValueError
from engine.testing.cases import FAMILIES, FAMILY_DOCS, Case, family_names
from engine.testing.devices import check_devices

__all__ = ["FamilyResult", "SuiteResult", "check_devices", "check_families", "check_family", "check_ops",
           "row_line", "run_suite", "table_header"]

REFERENCE = "numpy"
_PROGRAM_OPS = ("add", "mul", "sub", "div", "neg", "tanh", "sigmoid", "exp", "log", "sqrt", "sum", "mean",
                "matmul", "transpose", "reshape", "unsqueeze")  # no relu/abs: programs have no kink guard


@dataclass
class FamilyResult:
    """One row of the table: one family on one device."""

    family: str
    device: str
    examples: int = 0  # examples run before the first failure (all of them when it passed)
    worst_numeric: float = 0.0  # worst relative error of backward against central differences
    worst_reference: float | None = None  # worst relative difference from the reference device
    failure: str = ""  # the shrunk failing example's message ("" when passed)
    drawing: str = ""  # the drawing of the failure's graph ("" when none)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failure


@dataclass
class SuiteResult:
    """Every row, and how the suite was run."""

    devices: list[str]
    profile: str
    examples: int
    rows: list[FamilyResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def failures(self) -> list[FamilyResult]:
        return [r for r in self.rows if not r.passed]

    def table(self) -> str:
        """The table ``python -m engine check`` prints."""
        return "\n".join([table_header(), *(row_line(r) for r in self.rows)])

    def summary(self) -> str:
        bad = self.failures()
        if not bad:
            return f"all {len(self.rows)} checks passed in {self.seconds:.1f} s"
        names = ", ".join(f"{r.family} on {r.device}" for r in bad)
        return f"{len(bad)} of {len(self.rows)} checks FAILED ({names}) in {self.seconds:.1f} s"

    def to_html(self) -> str:
        """The same table as one self-contained page, each failure with its message and drawing."""
        rows = []
        for r in self.rows:
            ref = "-" if r.worst_reference is None else f"{r.worst_reference:.1e}"
            fail = f'<td class="fail"><a href="#{_anchor(r)}">FAIL</a></td>'
            state = '<td class="pass">pass</td>' if r.passed else fail
            rows.append(f"<tr><td>{r.family}</td><td>{r.device}</td><td>{r.examples}</td>"
                        f"<td>{r.worst_numeric:.1e}</td><td>{ref}</td>{state}</tr>")
        failures = []
        for r in self.failures():
            picture = ""
            if r.drawing.endswith(".svg") and os.path.exists(r.drawing):
                with open(r.drawing, encoding="utf-8") as f:
                    svg = f.read()
                picture = '<div class="drawing">' + svg[svg.find("<svg"):] + "</div>"
            failures.append(f'<section id="{_anchor(r)}"><h2>{r.family} on {r.device}</h2>'
                            f"<pre>{html.escape(r.failure)}</pre>{picture}</section>")
        docs = "".join(f"<li><b>{name}</b>: {html.escape(text)}</li>" for name, text in FAMILY_DOCS.items())
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>engine check</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
td:first-child, td:nth-child(2), th:first-child, th:nth-child(2) {{ text-align: left; }}
.pass {{ color: #1a7f37; }} .fail {{ color: #b42318; font-weight: bold; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }} .drawing svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>engine check</h1>
<p id="summary">{html.escape(self.summary())}.</p>
<p>Profile {self.profile}: {self.examples} examples per family and device; devices {", ".join(self.devices)}
(reference {REFERENCE}). Each example: the gradient against central differences, and outputs and gradients
against the reference device in float64 and float32.</p>
<table id="results"><tr><th>family</th><th>device</th><th>examples</th><th>worst rel. error vs numeric</th>
<th>vs {REFERENCE}</th><th>result</th></tr>
{"".join(rows)}
</table>
<h2>Families</h2><ul>{docs}</ul>
{"".join(failures)}
</body></html>
"""


def table_header() -> str:
    """The table's two header lines: the columns and a rule."""
    head = f"{'family':<13}{'device':<8}{'examples':>9}{'vs numeric':>13}{'vs ' + REFERENCE:>11}  result"
    return head + "\n" + "-" * len(head)


def row_line(r: FamilyResult) -> str:
    """One row: examples run, worst normwise relative error against central differences and against
    the reference device, pass or FAIL."""
    ref = "-" if r.worst_reference is None else f"{r.worst_reference:.1e}"
    return (f"{r.family:<13}{r.device:<8}{r.examples:>9}{r.worst_numeric:>13.1e}{ref:>11}  "
            + ("pass" if r.passed else "FAIL"))


def _anchor(r: FamilyResult) -> str:
    return f"fail-{r.family}-{r.device}"


class CaseFailure(AssertionError):
    """One drawn example failed; the message says which op, inputs and check."""


# ---- one example ------------------------------------------------------------------------------------


def _describe(args: Sequence[Any], kwargs: dict) -> str:
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            if a.size <= 12:
                parts.append(np.array2string(a, precision=6, separator=", ").replace("\n", ""))
            else:
                parts.append(f"<{a.dtype} array of shape {a.shape}>")
        else:
            parts.append(repr(a))
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _tensors(args: Sequence[Any], device: str, fixed: Sequence[int] = (), dtype: str = "float64") -> list:
    """The case's arguments on ``device``: float arrays as ``dtype`` leaves that require grad
    (except at ``fixed`` positions), integer arrays as int64, the rest as they are."""
    from engine.core.tensor import tensor

    out = []
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray):
            floating = a.dtype.kind == "f"
            out.append(tensor(a, dtype=dtype if floating else "int64", device=device,
                              requires_grad=floating and k not in fixed))
        else:
            out.append(a)
    return out


def _check_case(case: Case, drawn: tuple, device: str, row: FamilyResult) -> None:
    from engine.testing.gradcheck import gradcheck
    from engine.testing.paths import DevicesDisagreeError, assert_devices_agree

    args, kwargs = drawn

    def fn(*xs: Any) -> Any:
        return case.call(*xs, **kwargs)

    where = f"{case.name} on {device!r} at ({_describe(args, kwargs)})"
    report = gradcheck(fn, *_tensors(args, device, case.fixed), raise_on_failure=False)
    row.worst_numeric = max(row.worst_numeric, report.max_rel_error)
    if not report.passed:
        raise CaseFailure(f"{where}: backward disagrees with central differences\n{report}"
                          + _draw_case(case, args, kwargs, device, row))
    if device == REFERENCE:
        return
    for dtype in ("float64", "float32"):
        typed = _tensors(args, REFERENCE, case.fixed, dtype)  # assert_devices_agree copies them to each device
        try:
            agreement = assert_devices_agree(fn, *typed, devices=[REFERENCE, device])
        except DevicesDisagreeError as e:
            raise CaseFailure(f"{where}, {dtype}: {e}" + _draw_case(case, args, kwargs, device, row)) from None
        worst = agreement.worst_rel_error(device)
        row.worst_reference = max(row.worst_reference or 0.0, worst)


def _draw_case(case: Case, args: Sequence[Any], kwargs: dict, device: str, row: FamilyResult) -> str:
    """Draw the failing example's tensor graph after backward (final example only); the message's last line."""
    inputs = _tensors(args, device, case.fixed)
    return _draw_graph(lambda: case.call(*inputs, **kwargs), inputs, f"{case.name} on {device}",
                       f"{case.family}-{case.name}", f"{device}|{_describe(args, kwargs)}", row)


def _draw_graph(run: Callable[[], Any], inputs: Sequence[Any], title: str, kind: str, key: str,
                row: FamilyResult) -> str:
    """Run, backward of the fixed projection, draw the graph (inputs named input0...) on the final
    hypothesis example only; returns the message's line naming the drawing ("" when none)."""
    from engine.testing.paths import drawing_path, should_draw, write_drawing

    if not should_draw():
        return ""
    try:
        from engine import viz
        from engine.core.tensor import tensor
        from engine.testing.gradcheck import _projection

        out = run()
        if out.requires_grad:
            (out * tensor(_projection(tuple(out.shape)), dtype=out.dtype, device=out.device)).sum().backward()
        names = {f"input{k}": t for k, t in enumerate(inputs) if hasattr(t, "requires_grad")}
        drawing = viz.draw(out, params=names, max_nodes=60, title=title)
        row.drawing = write_drawing(drawing.source, drawing_path(kind, key))
    except Exception:  # noqa: BLE001 - a drawing is a help, never a second failure
        return ""
    return f"\n  drawing: {row.drawing}"


def _check_expression(drawn: tuple, device: str, row: FamilyResult) -> None:
    from engine.testing.paths import PathsDisagreeError, check_paths

    expr, points = drawn
    values = {v: [p["xyz".index(v)] for p in points] for v in expr.variables}
    try:
        report = check_paths(expr, values, devices=[device])
    except PathsDisagreeError as e:
        row.drawing = e.report.drawing
        row.worst_numeric = max(row.worst_numeric, *e.report.worst.values())
        raise CaseFailure(str(e)) from None
    row.worst_numeric = max(row.worst_numeric, *report.worst.values())


def _check_program(program: Any, device: str, row: FamilyResult) -> None:
    from engine.testing.gradcheck import gradcheck
    from engine.testing.paths import DevicesDisagreeError, assert_devices_agree

    def fn(*xs: Any) -> Any:
        return program.run(*xs)

    where = f"the program\n{program}\non {device!r} with inputs ({_describe(program.input_values, {})})"
    report = gradcheck(fn, *program.inputs(device=device), raise_on_failure=False)
    row.worst_numeric = max(row.worst_numeric, report.max_rel_error)
    if not report.passed:
        inputs = program.inputs(device=device)
        picture = _draw_graph(lambda: program.run(*inputs), inputs, f"program on {device}", "programs",
                              f"{device}|{program}|{_describe(program.input_values, {})}", row)
        raise CaseFailure(f"{where}: backward disagrees with central differences\n{report}{picture}")
    if device != REFERENCE:
        try:
            agreement = assert_devices_agree(fn, *program.input_values, devices=[REFERENCE, device])
        except DevicesDisagreeError as e:
            raise CaseFailure(f"{where}: {e}") from None
        row.worst_reference = max(row.worst_reference or 0.0, agreement.worst_rel_error(device))


# ---- one family on one device ----------------------------------------------------------------------


def _properties(family: str, examples: int, ops: Sequence[str] | None = None
                ) -> list[tuple[Any, Callable[[Any, str, FamilyResult], None], int]]:
    """(strategy, check, examples) for each property of ``family``: one for expressions and for
    programs; one per op otherwise (those named in ``ops``, else all), the budget shared evenly
    (each op at least 1 example), so every op is exercised however the draws fall."""
    from hypothesis import strategies as st

    from engine.testing import strategies as es

    if family == "expressions":
        point = st.tuples(es.floats(-2, 2), es.floats(-2, 2), es.floats(-2, 2))
        drawn = st.tuples(es.expressions(variables=("x", "y", "z"), max_nodes=8),
                          st.lists(point, min_size=1, max_size=4))
        return [(drawn, _check_expression, examples)]
    if family == "programs":
        return [(es.programs(ops=_PROGRAM_OPS), _check_program, examples)]
    known = [c.name for c in FAMILIES[family]]
    unknown = [o for o in (ops or ()) if o not in known]
    if unknown:
        raise EngineValueError(f"check: the {family} family has no op {', '.join(map(str, unknown))}; its ops: "
                               f"{', '.join(known)}")
    cases = [c for c in FAMILIES[family] if ops is None or c.name in ops]
    share, extra = divmod(examples, max(1, len(cases)))
    out = []
    for k, case in enumerate(cases):
        n = max(1, share + (1 if k < extra else 0))

        def check(drawn: Any, device: str, row: FamilyResult, case: Case = case) -> None:
            _check_case(case, drawn, device, row)

        out.append((case.draw(), check, n))
    return out


def check_family(family: str, device: str, examples: int, derandomize: bool = True, seed: int | None = None,
                 ops: Sequence[str] | None = None) -> FamilyResult:
    """Run one family's properties on one device, ``examples`` drawn examples in all (shared evenly
    by the family's ops, or those named in ``ops``, each at least 1); the row of the table. Stops at
    the first failure, which hypothesis has shrunk."""
    row = FamilyResult(family, device)
    start = time.perf_counter()
    for strategy, check, n in _properties(family, examples, ops):
        try:
            _hypothesis_property(strategy, check, n, device, row, derandomize, seed)()
        except Exception as e:  # noqa: BLE001 - any failure of the property is the row's result
            message = str(e) if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"
            row.failure = message or type(e).__name__
            break
    row.seconds = time.perf_counter() - start
    return row


def _hypothesis_property(strategy: Any, check: Callable, n: int, device: str, row: FamilyResult,
                         derandomize: bool, seed: int | None) -> Callable[[], None]:
    """``check`` under ``@given(strategy)`` for ``n`` examples; counts the examples run before the
    first failure into ``row.examples``. No example database (nothing is written where it runs)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    failed = []

    @settings(max_examples=n, deadline=None, database=None, derandomize=derandomize and seed is None,
              suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.generate, Phase.shrink),
              report_multiple_bugs=False)
    @given(strategy)
    def prop(drawn: Any) -> None:
        if not failed:
            row.examples += 1
        try:
            check(drawn, device, row)
        except Exception:
            failed.append(True)
            raise

    return prop if seed is None else hypothesis_seed(seed)(prop)


def check_families(families: Sequence[str] | str | None) -> list[str]:
    """``families`` as a list of known names (None: every family), or a one-line error."""
    known = family_names()
    if families is None:
        return known
    names = [f.strip() for f in families.split(",")] if isinstance(families, str) else list(families)
    unknown = [f for f in names if f not in known]
    if unknown or not names:
        raise EngineValueError(f"check: unknown op family {', '.join(map(str, unknown)) or '(none given)'}; "
                               f"choose from {', '.join(known)}")
    return names


def check_ops(ops: Sequence[str] | str | None, families: Sequence[str]) -> dict[str, list[str]] | None:
    """``ops`` sorted by family (None: no choice), or a one-line error naming an op no family has."""
    if ops is None:
        return None
    names = [o.strip() for o in ops.split(",") if o.strip()] if isinstance(ops, str) else list(ops)
    chosen = {f: [c.name for c in FAMILIES[f] if c.name in names]
              for f in families if f not in ("expressions", "programs")}
    found = {n for picked in chosen.values() for n in picked}
    unknown = [n for n in names if n not in found]
    if unknown or not names:
        every = ", ".join(c.name for f in chosen for c in FAMILIES[f])
        raise EngineValueError(f"check: no op named {', '.join(map(str, unknown)) or '(none given)'} in the "
                               f"families {', '.join(families)}; the ops: {every}")
    return chosen


def run_suite(
    devices: Sequence[str] | str | None = None,
    families: Sequence[str] | str | None = None,
    examples: int | None = None,
    profile: str = "ci",
    seed: int | None = None,
    progress: Callable[[FamilyResult], None] | None = None,
    ops: Sequence[str] | str | None = None,
) -> SuiteResult:
    """Check every family on every device; ``progress(row)`` is called after each row.

    ``ops`` (names such as ``tanh``, ``matmul``; see ``engine.testing.cases.FAMILIES``) keeps only
    those ops, and only the families that hold one of them.

    ``examples`` per (family, device) defaults to the profile's budget
    (:data:`engine.testing.strategies.PROFILES`: dev 20, ci 100, thorough 1000). ``ci`` draws the
    same examples on every run of the same program (derandomized; hypothesis also mixes in literal
    constants of the modules the process has loaded); ``dev`` and ``thorough`` draw new ones, or
    those of ``seed``.
    """
    from engine.testing.strategies import PROFILES

    if profile not in PROFILES:
        raise EngineValueError(f"check: unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    if examples is None:
        examples = PROFILES[profile]
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise EngineValueError(f"check: examples must be a positive int, got {examples!r}")
    devs = check_devices(devices, "check")
    if REFERENCE not in devs:  # the other devices are compared with it
        check_devices([REFERENCE], "check")
    names = check_families(families)
    chosen = check_ops(ops, names)
    if chosen is not None:
        names = [f for f in names if chosen.get(f)]
    result = SuiteResult(devs, profile, examples)
    start = time.perf_counter()
    for family in names:
        for device in devs:
            row = check_family(family, device, examples, derandomize=profile == "ci", seed=seed,
                               ops=None if chosen is None else chosen[family])
            result.rows.append(row)
            if progress is not None:
                progress(row)
    result.seconds = time.perf_counter() - start
    return result
