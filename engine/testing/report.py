"""What ``gradcheck`` found, as data and as text: ``GradcheckReport`` and its parts.

A report holds the settings the check ran with (dtype, eps, atol, rtol, mode), one
``InputReport`` per checked input (its worst elements, each an ``ElementMismatch``), the
hints (an input within eps of a kink, or outside an op's domain) and, when a user-written
``engine.autograd.Function`` was found to be wrong on its own, its class name. ``str(report)``
is the text ``GradcheckError`` carries; ``bool(report)`` is whether the check passed.

An element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``; its relative
error is ``|analytic - numeric| / |numeric|`` (inf when numeric is 0 and they differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.errors import EngineError

__all__ = ["ElementMismatch", "GradcheckError", "GradcheckReport", "InputReport"]

KINK_HINT = (
    "within eps of a kink (relu/abs/max/min/clamp...): the one-sided derivatives differ, so the derivative "
    "is not defined there and a central difference averages two slopes; move the input away from the kink"
)
DOMAIN_HINT = (
    "outside an op's domain (log/sqrt of a negative, division by zero...): fn gives NaN or raises there; "
    "draw inputs inside the domain"
)


@dataclass
class ElementMismatch:
    """One element of one input whose analytic and numeric derivatives disagree."""

    index: tuple
    analytic: float
    numeric: float
    hint: str = ""

    @property
    def abs_error(self) -> float:
        """``|analytic - numeric|`` (NaN when either is NaN)."""
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        """``|analytic - numeric| / |numeric|``; inf when numeric is 0 and they differ."""
        err = self.abs_error
        if err == 0:
            return 0.0
        return err / abs(self.numeric) if self.numeric != 0 else math.inf


@dataclass
class InputReport:
    """The result for one input: where it is, how many elements were checked and failed, the worst ones.

    In fast mode ``directional`` holds ``(analytic, numeric)`` of the projection ``v^T J u``
    instead of per-element values, and ``worst`` is empty.
    """

    position: int
    name: str
    shape: tuple
    checked: int = 0
    failed: int = 0
    worst: list[ElementMismatch] = field(default_factory=list)
    first: ElementMismatch | None = None
    directional: tuple[float, float] | None = None
    hints: list[str] = field(default_factory=list)
    max_rel: float = 0.0  # normwise relative error: max |analytic - numeric| / max(max |numeric|, atol)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    @property
    def title(self) -> str:
        """``input 1 'w' (shape (2, 3))``: position, name if any, shape."""
        name = f" {self.name!r}" if self.name else ""
        return f"input {self.position}{name} (shape {self.shape})"


@dataclass
class GradcheckReport:
    """Everything one ``gradcheck`` call found; truthy when the check passed."""

    mode: str  # "full" or "fast"
    kind: str  # "tensor" or "value"
    dtype: str  # the dtype the check computed in ("float64", or "float32" when fn computes in it)
    eps: float
    atol: float
    rtol: float
    inputs: list[InputReport] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    error: str = ""  # fn itself failed (e.g. raised a DomainError at the given inputs)
    culprit: str = ""  # the class of the user Function whose backward is wrong on its own
    culprit_report: GradcheckReport | None = None
    last_op: str = ""  # the node that made fn's output (tensor path)
    evaluations: int = 0  # how many times fn was called

    @property
    def passed(self) -> bool:
        return not self.error and all(r.passed for r in self.inputs)

    @property
    def max_rel_error(self) -> float:
        """The largest normwise relative error ``max|analytic - numeric| / max|numeric|`` over the inputs."""
        return max((r.max_rel for r in self.inputs), default=0.0)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def settings(self) -> str:
        """``mode full, float64, eps 1e-06, atol 1e-05, rtol 0.001``."""
        return f"mode {self.mode}, {self.dtype}, eps {self.eps:g}, atol {self.atol:g}, rtol {self.rtol:g}"

    def headline(self) -> str:
        """The first line of the message: the first failing element (in index order) of the first failing input."""
        if self.error:
            return f"gradcheck: {self.error}"
        for r in self.inputs:
            if r.passed:
                continue
            if r.directional is not None:
                a, n = r.directional
                return (
                    f"gradcheck: {r.title}: directional derivative v^T J u: analytic {a!r} vs numeric {n!r} "
                    f"(|diff| {abs(a - n):.3g} > atol {self.atol:g} + rtol {self.rtol:g} * |numeric|)"
                )
            e = r.first
            return (
                f"gradcheck: {r.title} element {e.index}: analytic {e.analytic!r} vs numeric {e.numeric!r} "
                f"(|diff| {e.abs_error:.3g} > atol {self.atol:g} + rtol {self.rtol:g} * |numeric|); "
                f"{r.failed} of {r.checked} elements fail"
            )
        return f"gradcheck: passed ({self.settings})"

    def __str__(self) -> str:
        plural = "s" if self.evaluations != 1 else ""
        lines = [self.headline(), f"  checked with {self.settings}; {self.evaluations} evaluation{plural} of fn"]
        for r in self.inputs:
            if r.passed:
                lines.append(f"  {r.title}: ok ({r.checked} {'direction' if r.directional else 'elements'})")
                continue
            if r.directional is not None:
                a, n = r.directional
                lines.append(f"  {r.title}: FAILS along a random direction u: analytic {a:.6g} vs numeric {n:.6g}")
                lines.append("    (fast mode checks v^T J u only: rerun with fast=False on a smaller input)")
            else:
                lines.append(f"  {r.title}: {r.failed} of {r.checked} elements FAIL; worst:")
                lines.append(f"    {'index':<16}{'analytic':>14}{'numeric':>14}{'abs err':>11}{'rel err':>11}")
                for e in r.worst:
                    lines.append(
                        f"    {str(e.index):<16}{e.analytic:>14.6g}{e.numeric:>14.6g}"
                        f"{e.abs_error:>11.3g}{e.rel_error:>11.3g}" + (f"  {e.hint}" if e.hint else "")
                    )
            lines.extend(f"    hint: {h}" for h in r.hints)
        lines.extend(f"  hint: {h}" for h in self.hints)
        if self.culprit:
            same = self.culprit_report is not None and self.culprit_report.headline() == self.headline()
            if same:  # fn is that Function alone: its report would repeat this one
                lines.append(f"  the wrong gradient comes from {self.culprit} (an engine.autograd.Function): "
                             "its backward is what was checked here")
            else:
                lines.append(
                    f"  the wrong gradient comes from {self.culprit} (an engine.autograd.Function): checked on its "
                    "own, its backward disagrees with central differences:"
                )
                if self.culprit_report is not None:
                    lines.extend("    " + line for line in str(self.culprit_report).splitlines())
        elif self.last_op and not self.passed:
            lines.append(f"  fn's output was made by {self.last_op}")
        return "\n".join(lines)


class GradcheckError(EngineError, AssertionError):
    """The analytic gradient of an input differs from its central difference; ``.report`` says where."""

    def __init__(self, message: str | GradcheckReport = "", report: GradcheckReport | None = None) -> None:
        if isinstance(message, GradcheckReport):
            report, message = message, str(message)
        super().__init__(message)
        self.report = report
