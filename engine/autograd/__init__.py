"""What the scalar and the tensor graphs share: the iterative graph walk, the op node and its
backward driver, and grad mode; and ``Function``, PyTorch's way for users to write an op."""

from engine.autograd.function import Function, FunctionCtx

__all__ = ["Function", "FunctionCtx"]
