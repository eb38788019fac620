"""``engine.testing``: check gradients and compare tensors (see ``gradcheck`` and ``strategies``)."""

from engine.testing.gradcheck import GradcheckError, assert_close, gradcheck, numerical_grad, strategies

__all__ = ["GradcheckError", "assert_close", "gradcheck", "numerical_grad", "strategies"]
