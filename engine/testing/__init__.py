"""``engine.testing``: check gradients and compare tensors (see ``gradcheck`` and ``strategies``)."""

from engine.testing import strategies  # the module (hypothesis imported only when a strategy is built)
from engine.testing.gradcheck import GradcheckError, assert_close, gradcheck, numerical_grad
from engine.testing.report import ElementMismatch, GradcheckReport, InputReport

__all__ = ["GradcheckError", "assert_close", "gradcheck", "numerical_grad", "strategies"]
__all__ += ["ElementMismatch", "GradcheckReport", "InputReport"]
