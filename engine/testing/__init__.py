"""``engine.testing``: check gradients, compare devices and paths, and draw test inputs.

* :func:`gradcheck` / :func:`numerical_grad` / :func:`assert_close`: one function against central differences;
* :func:`assert_devices_agree`: one tensor function on every device, outputs and gradients;
* :func:`check_paths`: a scalar expression on the ``Value`` path, the tensor path of each device
  and central differences, node by node;
* :mod:`engine.testing.strategies`: hypothesis strategies (values, expressions, tensors, shapes, programs);
* :mod:`engine.testing.suite`: the property suite ``python -m engine check`` runs.
"""

from engine.testing import strategies  # the module (hypothesis imported only when a strategy is built)
from engine.testing.devices import available_devices
from engine.testing.gradcheck import GradcheckError, assert_close, gradcheck, numerical_grad
from engine.testing.paths import (
    AgreementReport,
    DevicesDisagreeError,
    PathReport,
    PathsDisagreeError,
    assert_devices_agree,
    check_paths,
)
from engine.testing.report import ElementMismatch, GradcheckReport, InputReport

__all__ = ["GradcheckError", "assert_close", "gradcheck", "numerical_grad", "strategies"]
__all__ += ["ElementMismatch", "GradcheckReport", "InputReport"]
__all__ += ["AgreementReport", "DevicesDisagreeError", "PathReport", "PathsDisagreeError", "assert_devices_agree",
            "available_devices", "check_paths"]
